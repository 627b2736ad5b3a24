// Walks every pcap/pcapng of tcpdump's test corpus (many files are fuzzer finds): no exception, no file
// slower than 10 s, and the same frame count as Wireshark's capinfos wherever capinfos reads the file.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, createReadStream } from 'node:fs';
import { readCapture } from '../../../shared/capture-file/index.ts';
import { CORPUS, HAVE_CAPINFOS, run } from './helpers.ts';

const files = readdirSync(CORPUS).filter((f) => /\.pcap(ng)?$/.test(f)).sort();

async function count(source: Uint8Array | AsyncIterable<Uint8Array>, batchSize?: number) {
  const g = readCapture(source, batchSize ? { batchSize } : {});
  let n = 0;
  let r = await g.next();
  while (!r.done) {
    n += r.value.frames.length;
    for (const f of r.value.frames) assert.ok(f.data.length === f.caplen);
    r = await g.next();
  }
  return { n, summary: r.value };
}

test('every corpus capture reads without an exception, each in under 10 s', async () => {
  assert.ok(files.length > 800, `corpus has ${files.length} capture files`);
  let incomplete = 0;
  let frames = 0;
  let slowest = 0;
  for (const f of files) {
    const t0 = performance.now();
    const { n, summary } = await count(new Uint8Array(readFileSync(CORPUS + f)));
    const ms = performance.now() - t0;
    slowest = Math.max(slowest, ms);
    assert.ok(ms < 10_000, `${f} took ${ms} ms`);
    assert.equal(summary.frameCount, n);
    if (!summary.complete) {
      incomplete++;
      const fatal = summary.problems.filter((p) => p.fatal);
      assert.equal(fatal.length, 1, `${f}: one fatal problem`);
      assert.ok(Number.isInteger(fatal[0]!.offset) && fatal[0]!.offset >= 0);
    }
    frames += n;
  }
  console.log(`${files.length} files, ${frames} frames, ${incomplete} damaged, slowest ${slowest.toFixed(1)} ms`);
});

test('streamed in small pieces, every corpus file gives the same frames as read at once', async () => {
  for (const f of files) {
    const whole = await count(new Uint8Array(readFileSync(CORPUS + f)));
    // 997-byte pieces split records and block headers at every possible place over the corpus.
    const streamed = await count(createReadStream(CORPUS + f, { highWaterMark: 997 }), 7);
    assert.equal(streamed.n, whole.n, f);
    assert.deepEqual(streamed.summary.problems, whole.summary.problems, f);
  }
});

test('frame counts agree with capinfos', { skip: HAVE_CAPINFOS ? false : 'capinfos is not installed (wireshark-common): no reference counts' }, async () => {
  // One capinfos process for the whole corpus; it names the files it cannot read on stderr.
  const out = run('capinfos', ['-T', '-r', '-c', '-M', ...files.map((f) => CORPUS + f)]).stdout;
  const ref = new Map<string, number>();
  for (const line of out.split('\n')) {
    const [name, n] = line.split('\t');
    if (name && n !== undefined) ref.set(name.slice(name.lastIndexOf('/') + 1), Number(n));
  }
  let agree = 0;
  const differ: string[] = [];
  for (const [f, n] of ref) {
    const ours = await count(new Uint8Array(readFileSync(CORPUS + f)));
    if (ours.n === n) agree++;
    else differ.push(`${f}: ours ${ours.n}, capinfos ${n}`);
  }
  const pct = (100 * agree) / ref.size;
  console.log(`frame counts: ${agree}/${ref.size} files agree with capinfos (${pct.toFixed(2)} %)`);
  for (const d of differ) console.log(`  differs: ${d}`);
  assert.ok(ref.size > 780, `capinfos read ${ref.size} files`);
  assert.ok(pct >= 99.9, `${pct} % agreement`);
});

test('mutated captures (flipped bytes, cuts, spliced blocks) never throw and always finish', async () => {
  // A fixed-seed generator keeps failures reproducible.
  let seed = 0x5eed;
  const rnd = (n: number) => { seed = (Math.imul(seed, 1103515245) + 12345) >>> 0; return seed % n; };
  const bases = ['afs.pcap', 'OSPFv2_Capture_FINAL.pcapng', 'tcp-handshake-nano.pcap', 'nhrp.pcapng', 'print-flags.pcap'];
  let runs = 0;
  for (const name of bases) {
    const orig = new Uint8Array(readFileSync(CORPUS + name));
    for (let k = 0; k < 60; k++) {
      const b = orig.slice(0, Math.max(4, orig.length - rnd(orig.length)));
      const flips = 1 + rnd(8);
      // Keep the magic so the binary parser, not the format check, meets the damage.
      for (let i = 0; i < flips; i++) b[4 + rnd(b.length - 4)] = rnd(256);
      const t0 = performance.now();
      const { n, summary } = await count(b);
      assert.ok(performance.now() - t0 < 10_000);
      assert.equal(summary.frameCount, n);
      assert.ok(summary.problems.filter((p) => p.fatal).length <= 1);
      runs++;
    }
  }
  assert.equal(runs, 300);
});
