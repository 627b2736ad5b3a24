// `tandem analyze` decodes both captures in worker threads (bin/cli/parallel-load.ts) or on one
// thread: the two paths must print the same thing for the same input, damaged and refused inputs
// included, from the TypeScript sources (tsx) and from the built bundle (bin/tandem).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { loadFiles, loadHere, loadThreads, packFrames, readChunks, unpackFrames } from '../../../bin/cli/parallel-load.ts';
import { UsageError } from '../../../bin/cli/io.ts';
import { loadAll } from '../../../shared/ingest/load-capture.ts';
import { toPlainPacket } from '../../../shared/ingest/packet-store.ts';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const LAB = process.env.TANDEM_LAB_DIR ?? join(ROOT, 'out', 'lab');
const ENTRY = "import { main } from './bin/cli/main.ts'; process.exitCode = await main(process.argv.slice(1));";

type Run = { code: number | null; out: string; err: string };

/** The CLI from the sources (as the tests run it) or from the bundle, with TANDEM_THREADS set. */
function tandem(args: string[], threads: string, built = false): Run {
  const argv = built ? [join(ROOT, 'bin', 'tandem'), ...args] : ['--import', 'tsx', '--input-type=module', '-e', ENTRY, '--', ...args];
  const r = spawnSync(process.execPath, argv, { cwd: ROOT, encoding: 'utf8', timeout: 120_000, env: { ...process.env, TANDEM_THREADS: threads } });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

/** Both paths, same input: same exit status, same stdout, same stderr. */
function same(args: string[], built = false): Run {
  const one = tandem(args, '1', built);
  const two = tandem(args, '2', built);
  assert.equal(two.code, one.code, `exit status for ${args.join(' ')}: ${two.err}`);
  assert.equal(two.out, one.out, `stdout for ${args.join(' ')}`);
  assert.equal(two.err, one.err, `stderr for ${args.join(' ')}`);
  return two;
}

const scenarios = existsSync(LAB) ? readdirSync(LAB).filter((d) => existsSync(join(LAB, d, 'A-any.pcap'))).sort() : [];

test('workers and one thread give the same analysis of lab captures (SLL2 with names, pcapng, tcpdump text)', { skip: scenarios.length === 0 ? `no lab captures in ${LAB}` : false }, () => {
  let verdicts = 0;
  for (const sc of ['healthy', 'mtu-blackhole', 'b-wrong-key', 'path-drop-udp'].filter((s) => scenarios.includes(s))) {
    const d = join(LAB, sc);
    const any = same(['analyze', join(d, 'A-any.pcap'), join(d, 'B-any.pcap'), '--a-links', join(d, 'A-links.txt'), '--b-links', join(d, 'B-links.txt'), '--json', '-']);
    assert.equal(any.code, 0, any.err);
    assert.ok(JSON.parse(any.out).verdict.status.length > 0);
    verdicts++;
    if (existsSync(join(d, 'A.pcapng'))) same(['analyze', join(d, 'A.pcapng'), join(d, 'B.pcapng')]);
    if (existsSync(join(d, 'A.txt'))) same(['analyze', join(d, 'A.txt'), join(d, 'B.txt')]);
  }
  assert.ok(verdicts >= 2, `${verdicts} scenarios compared`);
});

test('damaged, missing and refused inputs give the same one line through a worker', { skip: scenarios.length === 0 ? `no lab captures in ${LAB}` : false }, () => {
  const tmp = mkdtempSync(join(tmpdir(), 'tandem-par-'));
  try {
    const d = join(LAB, 'healthy');
    const a = readFileSync(join(d, 'A-any.pcap'));
    // Cut inside the last record: every packet before it is kept and analysed, with a warning.
    const cut = join(tmp, 'A-cut.pcap');
    writeFileSync(cut, a.subarray(0, a.length - 7));
    const r1 = same(['analyze', cut, join(d, 'B-any.pcap')]);
    assert.match(r1.err, /^warning: A-cut\.pcap: .* at byte \d+ \(analysing the \d+ packets before it\)$/m);
    assert.equal(r1.err.includes('    at '), false, 'no stack trace');
    // The second file damaged the same way (the other worker).
    const r2 = same(['analyze', join(d, 'A-any.pcap'), cut]);
    assert.match(r2.err, /warning: A-cut\.pcap:/);
    // Not there at all: a usage error, one line.
    const r3 = same(['analyze', join(d, 'A-any.pcap'), join(tmp, 'nope.pcap')]);
    assert.equal(r3.code, 2);
    assert.match(r3.err, /^error: .*nope\.pcap: cannot open \(no such file\)\n$/);
    // Not a capture.
    const junk = join(tmp, 'junk.pcap');
    writeFileSync(junk, 'this is not a capture file\n'.repeat(20));
    const r4 = same(['analyze', junk, join(d, 'B-any.pcap')]);
    assert.match(r4.err, /^warning: junk\.pcap: no tcpdump packet line recognised; .* at byte 0 \(analysing the 0 packets before it\)$/m);
    assert.equal(r4.err.split('\n').filter((l) => l !== '').length, 1, 'one line');
    // A gzip'd capture past the inflate bound the user set: refused, exit 1, nothing analysed.
    const gz = join(tmp, 'A.pcap.gz');
    writeFileSync(gz, gzipSync(a));
    const r5 = same(['analyze', gz, join(d, 'B-any.pcap'), '--max-inflate', '1K']);
    assert.equal(r5.code, 1);
    assert.match(r5.err, /^error: A\.pcap\.gz: .*use --max-inflate SIZE to allow more\n$/);
    assert.equal(r5.out, '');
  } finally { rmSync(tmp, { recursive: true, force: true }); }
});

test('the built CLI starts its worker from beside the bundle', { skip: scenarios.length === 0 ? `no lab captures in ${LAB}` : false }, () => {
  const bundle = join(ROOT, 'out', 'cli', 'tandem.mjs'), worker = join(ROOT, 'out', 'cli', 'decode-worker.mjs');
  const newest = (dir: string): number => readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts')).reduce((m, e) => Math.max(m, statSync(join(e.parentPath, e.name)).mtimeMs), 0);
  const src = Math.max(newest(join(ROOT, 'bin', 'cli')), newest(join(ROOT, 'shared')));
  if (!existsSync(worker) || !existsSync(bundle) || statSync(worker).mtimeMs < src || statSync(bundle).mtimeMs < src) {
    const b = spawnSync('flock', ['/tmp/tandem-build.lock', process.execPath, 'scripts/build-node.mjs'], { cwd: ROOT, encoding: 'utf8' });
    assert.equal(b.status, 0, b.stderr);
  }
  assert.ok(existsSync(worker), 'scripts/build-node.mjs bundles the worker');
  const d = join(LAB, 'healthy');
  const r = same(['analyze', join(d, 'A-any.pcap'), join(d, 'B-any.pcap'), '--json', '-'], true);
  assert.equal(r.code, 0, r.err);
  // And the bundle agrees with the sources.
  assert.equal(r.out, tandem(['analyze', join(d, 'A-any.pcap'), join(d, 'B-any.pcap'), '--json', '-'], '2').out);
});

test('exports that need the raw frames (annotated pcapng, per host) come out byte for byte the same through workers', { skip: scenarios.length === 0 ? `no lab captures in ${LAB}` : false }, () => {
  const tmp = mkdtempSync(join(tmpdir(), 'tandem-par-'));
  try {
    let compared = 0;
    for (const sc of ['healthy', 'mtu-blackhole'].filter((x) => scenarios.includes(x))) {
      const d = join(LAB, sc);
      // A gzip'd: the worker inflates it too.
      const gz = join(tmp, `${sc}-A.pcapng.gz`);
      writeFileSync(gz, gzipSync(readFileSync(join(d, 'A.pcapng'))));
      const outs: Record<string, Buffer[]> = {};
      for (const th of ['1', '2']) {
        const f = join(tmp, `${sc}-${th}.pcapng`), html = join(tmp, `${sc}-${th}.html`);
        const r = tandem(['analyze', gz, join(d, 'B-any.pcap'), '--b-links', join(d, 'B-links.txt'), '--pcapng', f, '--per-host', '--html', html], th);
        assert.equal(r.code, 0, r.err);
        // The export's own creation time is the one thing allowed to differ (same length, so blocks keep their sizes).
        const stamp = (x: Buffer): Buffer => Buffer.from(x.toString('latin1').replace(/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z/g, '2000-01-01T00:00:00.000Z'), 'latin1');
        outs[th] = [f, f.replace(/\.pcapng$/, '-A.pcapng'), f.replace(/\.pcapng$/, '-B.pcapng'), html].map((x) => stamp(readFileSync(x)));
      }
      outs['1']!.forEach((b, i) => assert.ok(b.equals(outs['2']![i]!), `${sc} output ${i} differs between one thread and workers`));
      assert.ok(outs['2']![0]!.length > 1000);
      compared++;
    }
    assert.ok(compared >= 1);
  } finally { rmSync(tmp, { recursive: true, force: true }); }
});

test('loadFiles: packets, interfaces and kept frame bytes arrive intact from the workers', { skip: scenarios.length === 0 ? `no lab captures in ${LAB}` : false }, async () => {
  const d = join(LAB, 'healthy');
  const reqs = [
    { file: join(d, 'A.pcapng'), keepBytes: true },
    { file: join(d, 'B-any.pcap'), keepBytes: true, linkNames: new Map([[1, 'lo'], [2, 'eth0']]) },
  ];
  const [w1, w2] = await loadFiles(reqs, 2);
  const [s1, s2] = await loadFiles(reqs, 1);
  for (const [w, s] of [[w1!, s1!], [w2!, s2!]] as const) {
    assert.equal(w.packets.length, s.packets.length);
    for (let i = 0; i < s.packets.length; i++) assert.deepStrictEqual(toPlainPacket(w.packets.at(i)!), toPlainPacket(s.packets.at(i)!));
    assert.deepStrictEqual(w.interfaces, s.interfaces);
    assert.deepStrictEqual(w.summary, s.summary);
    assert.equal(w.frames.length, s.frames.length);
    for (let i = 0; i < s.frames.length; i++) assert.deepStrictEqual(Buffer.from(w.frames[i]!), Buffer.from(s.frames[i]!));
  }
  // Packing keeps empty frames and order.
  const fr = [new Uint8Array([1, 2]), new Uint8Array(0), new Uint8Array([3])];
  assert.deepStrictEqual(unpackFrames(packFrames(fr)).map((x) => [...x]), [[1, 2], [], [3]]);
});

test('loadThreads: TANDEM_THREADS wins; small inputs stay on one thread', () => {
  const small = join(LAB, 'healthy', 'A-any.pcap');
  assert.equal(loadThreads([small, small], { TANDEM_THREADS: '1' }), 1);
  assert.equal(loadThreads([small, small], { TANDEM_THREADS: '2' }), 2);
  assert.equal(loadThreads([small, small], {}), 1, 'a few KiB: not worth a worker');
  assert.equal(loadThreads([small, small], { TANDEM_THREADS: 'x' }), 1);
  assert.equal(loadThreads(['/nonexistent/a', '/nonexistent/b'], {}), 1);
});

test('readChunks gives the file byte for byte in pieces; records torn across pieces decode as from one buffer', { skip: scenarios.length === 0 ? `no lab captures in ${LAB}` : false }, async () => {
  const d = join(LAB, 'healthy');
  for (const f of ['A-any.pcap', 'B.pcapng', 'A.txt']) {
    const file = join(d, f);
    if (!existsSync(file)) continue;
    const bytes = readFileSync(file);
    // Odd piece sizes: nearly every record (and the file header) crosses a boundary somewhere.
    for (const size of [7, 1000, 4096, 1 << 16]) {
      const parts: Uint8Array[] = [];
      for await (const c of readChunks(file, size)) { assert.ok(c.length <= size && c.length > 0); parts.push(c); }
      assert.ok(Buffer.concat(parts).equals(bytes), `${f} in ${size}-byte pieces`);
    }
    const want = (await loadAll(new Uint8Array(bytes), { summary: false })).packets;
    for (const size of [1000, 1 << 16]) {
      const got = (await loadHere({ file, keepBytes: false }, size)).packets;
      assert.equal(got.length, want.length, `${f}: packets in ${size}-byte pieces`);
      for (let i = 0; i < want.length; i++) assert.deepStrictEqual(toPlainPacket(got.at(i)!), want[i], `${f} #${i + 1} in ${size}-byte pieces`);
    }
  }
  // Missing, a directory, an empty file: one line, as the stream reader says it (the empty file is the reader's problem, not an error).
  const tmp = mkdtempSync(join(tmpdir(), 'tandem-chunks-'));
  try {
    assert.throws(() => readChunks(join(tmp, 'nope.pcap')), (e: unknown) => e instanceof UsageError && /nope\.pcap: cannot open \(no such file\)$/.test(e.message));
    assert.throws(() => readChunks(tmp), (e: unknown) => e instanceof UsageError && /: not a regular file$/.test(e.message));
    writeFileSync(join(tmp, 'empty.pcap'), '');
    const empty = await loadHere({ file: join(tmp, 'empty.pcap'), keepBytes: false });
    assert.equal(empty.packets.length, 0);
    assert.match(empty.summary.problems[0]?.message ?? '', /empty file/);
  } finally { rmSync(tmp, { recursive: true, force: true }); }
});
