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
import { preparePair } from '../../../shared/analysis/prepare.ts';
import { analyze } from '../../../shared/analysis/index.ts';
import type { CaptureInput } from '../../../shared/analysis/types.ts';

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

test('loadFiles: packets, interfaces and kept frame bytes arrive intact from the worker', { skip: scenarios.length === 0 ? `no lab captures in ${LAB}` : false }, async () => {
  const d = join(LAB, 'healthy');
  const reqs = [
    { file: join(d, 'A.pcapng'), keepBytes: true },
    { file: join(d, 'B-any.pcap'), keepBytes: true, linkNames: new Map([[1, 'lo'], [2, 'eth0']]) },
  ];
  const [s1, s2] = await loadFiles(reqs, 1);
  // Each capture once through the worker and once on this thread.
  const [w1, h2] = await loadFiles(reqs, 2, 1);
  const [h1, w2] = await loadFiles(reqs, 2, 0);
  for (const [w, s] of [[w1!, s1!], [w2!, s2!], [h1!, s1!], [h2!, s2!]] as const) {
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

/**
 * A classic pcap of SLL2 frames (`tcpdump -i any`) with UDP ports renumbered by `map`: the far
 * host's capture as a NAT between them would show it (other ports on each side).
 */
function renumberUdpPorts(pcap: Buffer, map: Map<number, number>): Buffer {
  const out = Buffer.from(pcap);
  assert.equal(out.readUInt32LE(0), 0xa1b2c3d4, 'little-endian microsecond pcap');
  assert.equal(out.readUInt32LE(20), 276, 'SLL2');
  let changed = 0;
  for (let o = 24; o + 16 <= out.length;) {
    const cap = out.readUInt32LE(o + 8), f = o + 16;
    o = f + cap;
    if (cap < 20 + 28 || out.readUInt16BE(f) !== 0x0800) continue;
    const ip = f + 20, udp = ip + (out[ip]! & 15) * 4;
    if (out[ip + 9] !== 17 || udp + 4 > o) continue;
    for (const at of [udp, udp + 2]) {
      const to = map.get(out.readUInt16BE(at));
      if (to !== undefined) { out.writeUInt16BE(to, at); changed++; }
    }
  }
  assert.ok(changed > 0, 'ports renumbered');
  return out;
}

test('the two threads prepare each capture with the other capture\'s WireGuard ports, as the analysis would on one thread, and it takes them', { skip: scenarios.length === 0 ? `no lab captures in ${LAB}` : false }, async () => {
  let pairs = 0;
  const tmp = mkdtempSync(join(tmpdir(), 'tandem-prep-'));
  // The lab's hosts see the same WireGuard ports; behind a NAT each sees its own: then a worker
  // given its own ports instead of the other's prepares differently.
  const natB = join(tmp, 'B-nat.pcap');
  writeFileSync(natB, renumberUdpPorts(readFileSync(join(LAB, 'healthy', 'B-any.pcap')), new Map([[51821, 41821], [51822, 41822]])));
  const cases: Array<[string, string, string]> = [['healthy (B behind NAT)', join(LAB, 'healthy', 'A-any.pcap'), natB]];
  for (const sc of ['healthy', 'b-wrong-key', 'clock-base', 'mtu-blackhole'].filter((x) => scenarios.includes(x))) {
    for (const [fa, fb] of [['A-any.pcap', 'B-any.pcap'], ['A.pcapng', 'B.pcapng'], ['A.txt', 'B.txt']] as const) {
      if (existsSync(join(LAB, sc, fa))) cases.push([sc, join(LAB, sc, fa), join(LAB, sc, fb)]);
    }
  }
  try {
    // Either capture may be the one read on this thread (by default the larger): the NAT case both ways, the others in turn.
    const runs = [...cases.map((c, k) => [c, k % 2] as const), [cases[0]!, 1] as const];
    for (const [[sc, fa, fb], here] of runs) {
      const [wa, wb] = await loadFiles([{ file: fa, keepBytes: false, prepare: true }, { file: fb, keepBytes: false, prepare: true }], 2, here);
      assert.ok(wa!.prepared !== undefined && wb!.prepared !== undefined, `${sc}/${fa}: prepared beside the load`);
      const a: CaptureInput = { name: fa, packets: wa!.packets, interfaces: wa!.interfaces };
      const b: CaptureInput = { name: fb, packets: wb!.packets, interfaces: wb!.interfaces };
      // Each got the other's ports, not its own: the same preparation this thread makes.
      const [ha, hb] = preparePair(a, b);
      assert.deepStrictEqual(wa!.prepared, ha, `${sc}/${fa} (here ${here}): A prepared the same on its thread`);
      assert.deepStrictEqual(wb!.prepared, hb, `${sc}/${fb} (here ${here}): B prepared the same on its thread`);
      const pa: CaptureInput = { ...a, prepared: wa!.prepared }, pb: CaptureInput = { ...b, prepared: wb!.prepared };
      const [ua, ub] = preparePair(pa, pb);
      assert.equal(ua, wa!.prepared, 'taken as they are');
      assert.equal(ub, wb!.prepared);
      // One made for a partner with other ports is not used.
      const [xa] = preparePair({ ...a, prepared: { ...wa!.prepared!, otherPorts: [...wa!.prepared!.otherPorts, 65535] } }, pb);
      assert.notEqual(xa, wa!.prepared);
      assert.deepStrictEqual(xa, ha);
      // The same analysis with and without them, again from the same preparations (the analysis
      // does not change them), and given the other way round (roles swap; they follow their captures).
      const plain = JSON.stringify(analyze(a, b));
      assert.equal(JSON.stringify(analyze(pa, pb)), plain, `${sc}/${fa}`);
      assert.equal(JSON.stringify(analyze(pa, pb)), plain, `${sc}/${fa}: analysed a second time`);
      assert.equal(JSON.stringify(analyze(pb, pa)), JSON.stringify(analyze(b, a)), `${sc}/${fa}: given B first`);
      pairs++;
    }
  } finally { rmSync(tmp, { recursive: true, force: true }); }
  assert.ok(pairs >= 7, `${pairs} pairs compared`);
});

test('loadFiles: a capture that fails in the worker ends the load with its error, also while this thread waits for its ports', { skip: scenarios.length === 0 ? `no lab captures in ${LAB}` : false }, async () => {
  const tmp = mkdtempSync(join(tmpdir(), 'tandem-fail-'));
  try {
    const d = join(LAB, 'healthy');
    for (const prepare of [true, false]) {
      const gone = join(tmp, `gone-${prepare}.pcap`);
      writeFileSync(gone, readFileSync(join(d, 'B-any.pcap')));
      const p = loadFiles([{ file: join(d, 'A-any.pcap'), keepBytes: false, prepare }, { file: gone, keepBytes: false, prepare }], 2, 0);
      // Passed the up-front check, removed before the worker (still starting) opens it.
      rmSync(gone);
      await assert.rejects(p, (e: Error) => e instanceof UsageError && /gone-\w+\.pcap: cannot open \(ENOENT\)|no such file/.test(e.message), `prepare ${prepare}`);
    }
    // Missing before the load: refused at once, the same error as on one thread.
    const missing = join(tmp, 'missing.pcap');
    const one = await loadFiles([{ file: join(d, 'A-any.pcap'), keepBytes: false }, { file: missing, keepBytes: false }], 1).then(() => null, (e: Error) => e);
    const two = await loadFiles([{ file: join(d, 'A-any.pcap'), keepBytes: false }, { file: missing, keepBytes: false }], 2).then(() => null, (e: Error) => e);
    assert.ok(one instanceof UsageError && two instanceof UsageError);
    assert.equal(two.message, one.message);
  } finally { rmSync(tmp, { recursive: true, force: true }); }
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
    // loadHere hashes UDP payloads only (all the analysis compares).
    const want = (await loadAll(new Uint8Array(bytes), { summary: false, payloadHash: 'udp' })).packets;
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
