// gzip'd captures (detected by content) and damaged input: everything before the damage is kept, the
// read ends with one fatal problem at the right byte offset, and nothing throws.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, createReadStream, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readCapture } from '../../../shared/capture-file/index.ts';
import { CORPUS, SEEDS, readAll } from './helpers.ts';

const PCAP = CORPUS + 'afs.pcap';
const PCAPNG = CORPUS + 'OSPFv2_Capture_FINAL.pcapng';

test('gzip pcap and pcapng read back identically to the plain files (whole and streamed)', async () => {
  const tmp = mkdtempSync(join(tmpdir(), 'tandem-gz-'));
  for (const file of [PCAP, PCAPNG]) {
    const plain = await readAll(new Uint8Array(readFileSync(file)));
    const gz = gzipSync(readFileSync(file));
    const whole = await readAll(new Uint8Array(gz));
    // The name says nothing: detection is by content.
    const path = join(tmp, 'capture.bin');
    writeFileSync(path, gz);
    const streamed = await readAll(createReadStream(path, { highWaterMark: 4096 }));
    for (const r of [whole, streamed]) {
      assert.equal(r.summary.compressed, true);
      assert.equal(r.summary.complete, true);
      assert.equal(r.summary.format, plain.summary.format);
      assert.deepEqual(r.frames, plain.frames);
      assert.deepEqual(r.interfaces, plain.interfaces);
    }
    assert.equal(plain.summary.compressed, false);
    assert.ok(plain.frames.length > 20);
  }
  rmSync(tmp, { recursive: true, force: true });
});

test('a web ReadableStream without async iteration (older browsers) reads too', async () => {
  const gz = gzipSync(readFileSync(PCAPNG));
  const stream = new Blob([gz]).stream();
  // Only getReader(), as File.stream() offers in browsers without ReadableStream async iteration.
  const readerOnly = { getReader: () => stream.getReader() } as unknown as ReadableStream<Uint8Array>;
  const r = await readAll(readerOnly);
  const plain = await readAll(new Uint8Array(readFileSync(PCAPNG)));
  assert.deepEqual(r.frames, plain.frames);
  assert.equal(r.summary.compressed, true);
});

test('bytesRead counts compressed input and grows to the file size', async () => {
  const gz = gzipSync(readFileSync(PCAP));
  let last = 0;
  for await (const c of readCapture(new Uint8Array(gz), { batchSize: 50 })) {
    assert.ok(c.bytesRead >= last);
    last = c.bytesRead;
  }
  assert.equal(last, gz.length);
});

test('truncated gzip keeps the frames that decompressed, then reports a fatal problem', async () => {
  const raw = readFileSync(PCAP);
  const gz = gzipSync(raw);
  const cut = gz.subarray(0, Math.floor(gz.length / 2));
  const plain = await readAll(new Uint8Array(raw));
  const r = await readAll(new Uint8Array(cut));
  assert.equal(r.summary.complete, false);
  assert.ok(r.frames.length > 10 && r.frames.length < plain.frames.length, `${r.frames.length} frames kept`);
  assert.deepEqual(r.frames, plain.frames.slice(0, r.frames.length));
  const fatal = r.summary.problems.filter((p) => p.fatal);
  assert.equal(fatal.length, 1);
  assert.match(fatal[0]!.message, /compressed/);
  // The problem points at the first record that did not arrive whole (or the end of what decompressed).
  const next = plain.frames[r.frames.length]!;
  assert.ok(fatal[0]!.offset === next.offset || fatal[0]!.offset > r.frames.at(-1)!.offset);
});

test('pcap truncated inside a record: frames before it kept, fatal problem at the record offset', async () => {
  const raw = new Uint8Array(readFileSync(PCAP));
  const plain = await readAll(raw);
  const victim = plain.frames[100]!;
  for (const cut of [victim.offset + 5, victim.offset + 16 + 3, victim.offset + 16 + victim.caplen - 1]) {
    const r = await readAll(raw.subarray(0, cut));
    assert.equal(r.frames.length, 100);
    assert.deepEqual(r.frames, plain.frames.slice(0, 100));
    assert.equal(r.summary.complete, false);
    assert.deepEqual(r.summary.problems.map((p) => [p.fatal, p.offset]), [[true, victim.offset]]);
  }
  // A cut exactly between records is a complete (shorter) file.
  const r = await readAll(raw.subarray(0, victim.offset));
  assert.equal(r.summary.complete, true);
  assert.equal(r.frames.length, 100);
});

test('pcapng truncated inside a block and a block with a corrupt length', async () => {
  const raw = new Uint8Array(readFileSync(PCAPNG));
  const plain = await readAll(raw);
  const victim = plain.frames[10]!;
  const cut = await readAll(raw.subarray(0, victim.offset + 30));
  assert.deepEqual(cut.frames, plain.frames.slice(0, 10));
  assert.deepEqual(cut.summary.problems.map((p) => [p.fatal, p.offset]), [[true, victim.offset]]);
  // Overwrite the block's total length with an impossible value (not a multiple of 4).
  const bad = raw.slice();
  new DataView(bad.buffer).setUint32(victim.offset + 4, 0x12345, true);
  const r = await readAll(bad);
  assert.deepEqual(r.frames, plain.frames.slice(0, 10));
  assert.equal(r.summary.complete, false);
  assert.deepEqual(r.summary.problems.map((p) => [p.fatal, p.offset]), [[true, victim.offset]]);
  // A huge caplen in a pcap record header is damage too, found without waiting for the bytes.
  const pcap = new Uint8Array(readFileSync(PCAP));
  const p2 = await readAll(pcap);
  const v = p2.frames[3]!;
  const broken = pcap.slice();
  new DataView(broken.buffer).setUint32(v.offset + 8, 0x7fffffff, true);
  const r2 = await readAll(broken);
  assert.equal(r2.frames.length, 3);
  assert.deepEqual(r2.summary.problems.map((p) => [p.fatal, p.offset]), [[true, v.offset]]);
});

test('garbage, empty and binary non-capture input give a fatal problem, never an exception', async () => {
  for (const bytes of [new Uint8Array(0), Uint8Array.of(1, 2), new Uint8Array(1000).fill(0xff), Uint8Array.of(0x1f, 0x8b, 8, 0, 1, 2, 3)]) {
    const r = await readAll(bytes);
    assert.equal(r.summary.complete, false);
    assert.equal(r.summary.problems.filter((p) => p.fatal).length, 1);
    assert.equal(r.frames.length, 0);
  }
  // Random bytes after a valid pcapng section header.
  const seedText = readFileSync(SEEDS + 'endpoint-a.txt');
  const head = new Uint8Array(readFileSync(PCAPNG)).subarray(0, 200);
  const mixed = new Uint8Array(head.length + seedText.length);
  mixed.set(head); mixed.set(seedText, head.length);
  const r = await readAll(mixed);
  assert.equal(r.summary.complete, false);
});

test('an abort signal stops the read with the abort reason', async () => {
  const ac = new AbortController();
  const g = readCapture(new Uint8Array(readFileSync(PCAP)), { signal: ac.signal, batchSize: 10 });
  await g.next();
  ac.abort(new Error('user cancelled'));
  await assert.rejects(g.next(), /user cancelled/);
});
