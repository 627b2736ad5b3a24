// Files built to attack the readers, read through readCapture directly: each attack in both byte
// orders, at the start and after good packets, whole and streamed in odd-sized pieces. The read must
// end (no throw, no hang) with everything before the damage kept and one fatal problem at its offset.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import { readAll, type ReadResult } from './helpers.ts';
import * as g from './hostile-gen.ts';
import { MAX_COMMENT_BYTES, MAX_INTERFACES, MAX_TIME_SEC } from '../../../shared/capture-file/pcapng.ts';

async function* pieces(b: Uint8Array, size: number): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < b.length; i += size) yield b.subarray(i, Math.min(b.length, i + size));
}

/**
 * Reads whole and in odd-sized pieces (7 bytes for small files); all must agree, and that one result
 * is returned. `agree: false` for damaged gzip, where the inflater drops what it buffered when it fails.
 */
async function read(b: Buffer, agree = true): Promise<ReadResult> {
  const whole = await readAll(new Uint8Array(b));
  if (!agree) return whole;
  for (const size of b.length < 1 << 20 ? [7, 4096] : [4093, 65536]) {
    const r = await readAll(pieces(new Uint8Array(b), size));
    assert.equal(r.frames.length + r.packets.length, whole.frames.length + whole.packets.length, `pieces of ${size}: same count`);
    assert.deepEqual(r.summary.problems, whole.summary.problems, `pieces of ${size}: same problems`);
  }
  return whole;
}

function fatal(r: ReadResult) {
  const f = r.summary.problems.filter((p) => p.fatal);
  assert.equal(f.length, 1, `exactly one fatal problem: ${JSON.stringify(r.summary.problems)}`);
  assert.equal(r.summary.complete, false);
  return f[0]!;
}

function sameSeq(r: ReadResult, n: number): void {
  assert.equal(r.frames.length, n);
  r.frames.forEach((f, i) => { assert.equal(f.frame, i + 1); assert.equal(f.caplen, 32); });
}

const ORDERS = [true, false] as const;
const bo = (le: boolean) => (le ? 'LE' : 'BE');

test('pcapng block lengths that lie: huge, below the header, unaligned, trailer mismatch (both orders, after 0 and 3 packets)', async () => {
  for (const le of ORDERS) for (const good of [0, 3]) {
    const head = g.section(good, le);
    const at = head.length;
    const bad = (f: (b: Buffer) => void) => { const b = Buffer.from(g.epb(le)); f(b); return Buffer.concat([head, b, ...g.epbs(3, le, 10)]); };
    const w = (b: Buffer, o: number, v: number) => (le ? b.writeUInt32LE(v, o) : b.writeUInt32BE(v, o));
    const cases: Array<[Buffer, RegExp]> = [
      [bad((b) => w(b, 4, 0x7ffffff0)), /^bad block length 2147483632 \(block type 0x6\)$/],
      [bad((b) => w(b, 4, 0xffffffff)), /^bad block length 4294967295/],
      [bad((b) => w(b, 4, 8)), /^bad block length 8 /],
      [bad((b) => w(b, 4, 0)), /^bad block length 0 /],
      [bad((b) => w(b, 4, b.length - 2)), /^bad block length 62 /],
      [bad((b) => w(b, b.length - 4, 999)), /^block length 64 does not match its trailing copy 999$/],
      // Plausible length, far past the end of the file: waited for, then reported as truncated.
      [bad((b) => w(b, 4, 100 * 1024 * 1024)), /^truncated block \(needs 104857600 bytes, \d+ left\)$/],
    ];
    for (const [file, msg] of cases) {
      const r = await read(file);
      const p = fatal(r);
      assert.match(p.message, msg, `${bo(le)} after ${good}`);
      assert.equal(p.offset, at);
      sameSeq(r, good);
    }
  }
});

test('pcapng options: one running past its block, 100k in one IDB; EPB naming a missing interface; SPB before any IDB', async () => {
  for (const le of ORDERS) {
    const over = Buffer.from(g.opt(2, Buffer.from('eth0'), le));
    if (le) over.writeUInt16LE(0xffff, 2); else over.writeUInt16BE(0xffff, 2);
    let r = await read(Buffer.concat([g.shb(le), g.idb(le, [over]), ...g.epbs(3, le)]));
    assert.equal(r.summary.complete, true);
    sameSeq(r, 3);
    assert.equal(r.interfaces[0]!.name, '');

    const t0 = performance.now();
    r = await readAll(new Uint8Array(Buffer.concat([g.shb(le), g.idb(le, Array(100_000).fill(g.opt(2, Buffer.from('eth0'), le))), ...g.epbs(3, le)])));
    assert.ok(performance.now() - t0 < 5000, '100k options read in linear time');
    assert.equal(r.summary.complete, true);
    assert.equal(r.interfaces[0]!.name, 'eth0');
    sameSeq(r, 3);

    for (const good of [0, 2]) {
      const head = Buffer.concat([g.section(good, le)]);
      r = await read(Buffer.concat([head, g.epb(le, 7), ...g.epbs(2, le)]));
      const p = fatal(r);
      assert.equal(p.message, 'packet for undefined interface 7');
      assert.equal(p.offset, head.length);
      sameSeq(r, good);
    }
    r = await read(Buffer.concat([g.shb(le), g.spb(le), g.idb(le), ...g.epbs(2, le)]));
    assert.deepEqual(fatal(r), { fatal: true, offset: 28, message: 'simple packet block before any interface description' });
    assert.equal(r.frames.length, 0);
  }
});

test('pcapng interface flood: past MAX_INTERFACES IDBs the file is refused there, packets before kept (alone and interleaved)', async () => {
  const n = MAX_INTERFACES + 50;
  for (const le of ORDERS) {
    const idb = g.idb(le);
    // All IDBs first, then packets: nothing to keep, the refusal names the first IDB too many.
    let file = Buffer.concat([g.shb(le), ...Array(n).fill(idb), ...g.epbs(2, le)]);
    let t0 = performance.now();
    let r = await readAll(new Uint8Array(file));
    let p = fatal(r);
    assert.match(p.message, /^more than 10000 interface descriptions/);
    assert.equal(p.offset, 28 + MAX_INTERFACES * idb.length);
    assert.equal(r.summary.interfaces.length, MAX_INTERFACES);
    assert.equal(r.frames.length, 0);
    // Each IDB followed by a packet on it: every batch sees a new interface (the quadratic path).
    const parts: Buffer[] = [g.shb(le)];
    for (let i = 0; i < n; i++) parts.push(idb, g.epb(le, i, 1_700_000_000_000_000 + i, g.udp(i)));
    file = Buffer.concat(parts);
    t0 = performance.now();
    r = await readAll(new Uint8Array(file), { batchSize: 50 });
    const ms = performance.now() - t0;
    p = fatal(r);
    assert.equal(r.frames.length, MAX_INTERFACES);
    assert.equal(r.frames.at(-1)!.ifaceId, MAX_INTERFACES - 1);
    assert.ok(ms < 10_000, `interleaved flood took ${ms.toFixed(0)} ms`);
  }
});

test('pcapng sections in both byte orders mid-file keep their own numbering; a section-local id that does not exist is damage', async () => {
  for (const le of ORDERS) {
    const a = g.section(3, le), b = g.section(3, !le, 3);
    let r = await read(Buffer.concat([a, b, g.section(2, le, 6)]));
    assert.equal(r.summary.complete, true);
    sameSeq(r, 8);
    assert.deepEqual(r.frames.map((f) => f.ifaceId), [0, 0, 0, 1, 1, 1, 2, 2]);
    assert.deepEqual(r.interfaces.map((i) => i.section), [0, 1, 2]);
    // Interface 1 exists in the file, but not in the second section.
    r = await read(Buffer.concat([a, b, g.epb(!le, 1)]));
    assert.deepEqual(fatal(r), { fatal: true, offset: a.length + b.length, message: 'packet for undefined interface 1' });
    sameSeq(r, 6);
  }
});

test('pcapng section header mid-file with a broken byte-order mark or another major version ends the read there', async () => {
  for (const le of ORDERS) {
    const a = g.section(4, le);
    const badBom = Buffer.from(g.shb(!le));
    badBom.writeUInt32LE(0x11223344, 8);
    let r = await read(Buffer.concat([a, badBom, g.idb(!le), ...g.epbs(2, !le)]));
    assert.deepEqual(fatal(r), { fatal: true, offset: a.length, message: 'section header block with an unknown byte-order mark' });
    sameSeq(r, 4);
    const v2 = Buffer.from(g.shb(!le));
    if (!le) v2.writeUInt16LE(2, 12); else v2.writeUInt16BE(2, 12);
    r = await read(Buffer.concat([a, v2, g.idb(!le), ...g.epbs(2, !le)]));
    assert.deepEqual(fatal(r), { fatal: true, offset: a.length, message: 'unsupported pcapng version 2.0' });
    sameSeq(r, 4);
  }
});

test('pcapng comments: megabytes of opt_comment on an SHB and on an EPB are kept to MAX_COMMENT_BYTES per block, with one note', async () => {
  const many = Array(40).fill(g.opt(1, Buffer.alloc(65532, 0x61)));
  for (const le of ORDERS) {
    const r = await read(Buffer.concat([g.shb(le, many.map(() => g.opt(1, Buffer.alloc(65532, 0x61), le))), g.idb(le),
      g.epb(le, 0, 1_700_000_000_000_000, g.udp(), many.map(() => g.opt(1, Buffer.alloc(65532, 0x62), le))), ...g.epbs(2, le, 1)]));
    assert.equal(r.summary.complete, true);
    assert.equal(r.frames.length, 3);
    const shbText = r.summary.sectionComments.join('');
    assert.equal(shbText.length, MAX_COMMENT_BYTES);
    assert.equal(r.frames[0]!.comments!.join('').length, MAX_COMMENT_BYTES);
    assert.match(r.frames[0]!.comments![0]!, /^b+$/);
    assert.equal(r.frames[1]!.comments, undefined);
    const notes = r.summary.problems.filter((p) => /comments past/.test(p.message));
    assert.equal(notes.length, 1);
    assert.equal(notes[0]!.fatal, false);
    assert.equal(notes[0]!.offset, 0);
  }
});

test('pcapng hostile if_tsresol and if_tsoffset: every time is finite and in range, or 0 with one note', async () => {
  const TOP = 2 ** 64 - 2 ** 12; // a stamp near the top of 64 bits (exactly representable)
  const resols = [0xff /* 2^-127 */, 0x80 /* 2^0 */, 0x9e /* 2^-30 */, 20 /* 10^-20 */, 0x7f /* 10^-127 */, 0 /* 10^0 */, 9, 6];
  for (const le of ORDERS) for (const res of resols) for (const ts of [0, 1, 2 ** 32 + 5, TOP]) {
    const r = await read(Buffer.concat([g.shb(le), g.idb(le, [g.opt(9, Buffer.from([res]), le)]), g.epb(le, 0, ts), ...g.epbs(1, le)]));
    assert.equal(r.frames.length, 2);
    for (const f of r.frames) {
      assert.ok(Number.isFinite(f.tsSec) && Math.abs(f.tsSec) <= MAX_TIME_SEC, `res ${res} ts ${ts}: ${f.tsSec}`);
      assert.ok(Number.isInteger(f.tsNsec) && f.tsNsec >= 0 && f.tsNsec < 1e9, `res ${res} ts ${ts}: nsec ${f.tsNsec}`);
    }
    // Exact expectation in integers: which of the two stamps lands past a Date's range at this resolution.
    const secs = (units: bigint) => (res & 0x80 ? units >> BigInt(res & 0x7f) : units / 10n ** BigInt(res));
    const far = [BigInt(ts), 1_700_000_000_000_000n].map((u) => secs(u) > BigInt(MAX_TIME_SEC));
    far.forEach((f, i) => { if (f) assert.deepEqual([r.frames[i]!.tsSec, r.frames[i]!.tsNsec], [0, 0]); });
    const notes = r.summary.problems.filter((p) => /time out of range/.test(p.message));
    assert.equal(notes.length, far.some(Boolean) ? 1 : 0, `res ${res} ts ${ts}: ${JSON.stringify(r.summary.problems)}`);
    assert.equal(r.summary.complete, true);
  }
  for (const le of ORDERS) for (const off of [9_000_000_000_000_000_000n, -9_000_000_000_000_000_000n, 2n ** 63n - 1n, -(2n ** 63n)]) {
    const r = await read(Buffer.concat([g.shb(le), g.idb(le, [g.opt(14, g.i64(off, le), le)]), ...g.epbs(3, le)]));
    assert.equal(r.frames.length, 3);
    assert.ok(r.frames.every((f) => f.tsSec === 0 && f.tsNsec === 0));
    const notes = r.summary.problems.filter((p) => /time out of range/.test(p.message));
    assert.equal(notes.length, 1);
    assert.match(notes[0]!.message, /^time out of range on frame 1 \(interface 0: -?9\.\d+e\+18 s from 1970\); such times are shown as 0$/);
  }
  // A sane offset still applies exactly, in both directions.
  for (const off of [3600n, -3600n]) {
    const r = await read(Buffer.concat([g.shb(), g.idb(true, [g.opt(14, g.i64(off))]), ...g.epbs(2)]));
    assert.deepEqual(r.frames.map((f) => [f.tsSec, f.tsNsec]), [[1_700_000_000 + Number(off), 0], [1_700_000_000 + Number(off), 1000]]);
    assert.equal(r.summary.problems.length, 0);
  }
});

test('pcapng obsolete packet blocks (PB) get the same checks: missing interface, hostile time', async () => {
  for (const le of ORDERS) {
    const pb = (iface: number, ts: number) => {
      const b = Buffer.alloc(20);
      if (le) { b.writeUInt16LE(iface, 0); b.writeUInt32LE(Math.floor(ts / 2 ** 32), 4); b.writeUInt32LE(ts % 2 ** 32, 8); b.writeUInt32LE(32, 12); b.writeUInt32LE(32, 16); }
      else { b.writeUInt16BE(iface, 0); b.writeUInt32BE(Math.floor(ts / 2 ** 32), 4); b.writeUInt32BE(ts % 2 ** 32, 8); b.writeUInt32BE(32, 12); b.writeUInt32BE(32, 16); }
      return g.block(2, Buffer.concat([b, g.udp()]), le);
    };
    const head = Buffer.concat([g.shb(le), g.idb(le, [g.opt(14, g.i64(-(2n ** 62n), le), le)])]);
    let r = await read(Buffer.concat([head, pb(0, 5), pb(0, 6)]));
    assert.deepEqual(r.frames.map((f) => [f.tsSec, f.tsNsec]), [[0, 0], [0, 0]]);
    assert.equal(r.summary.problems.length, 1);
    assert.equal(r.summary.complete, true);
    r = await read(Buffer.concat([head, pb(0, 5), pb(3, 6)]));
    assert.deepEqual(fatal(r), { fatal: true, offset: head.length + 64, message: 'packet for undefined interface 3' });
    assert.equal(r.frames.length, 1);
  }
});

test('pcapng big blocks nobody reads (DSB, ISB, custom, unknown) are dropped as they stream by: packets, offsets, damage', async () => {
  for (const le of ORDERS) for (const type of [0x0a, 0x00000bad, 0x40000bad, 5]) for (const size of [70_000, 3 * 1024 * 1024 + 4]) {
    const head = g.section(3, le);
    const big = g.block(type, Buffer.alloc(size, 0x41), le);
    const tail = Buffer.concat(g.epbs(3, le, 3));
    const file = Buffer.concat([head, big, tail]);
    const r = await read(file);
    assert.equal(r.summary.complete, true, `type 0x${type.toString(16)}`);
    sameSeq(r, 6);
    assert.deepEqual(r.frames.slice(3).map((f) => f.offset), [0, 1, 2].map((i) => head.length + big.length + i * 64));
    assert.deepEqual(r.frames.slice(3).map((f) => f.data), g.epbs(3, le, 3).map((b) => new Uint8Array(b.subarray(28, 60))));
    // A batch full just before the big block: the reader hands it out first, then skips.
    for (const batchSize of [1, 3]) {
      const b = await readAll(pieces(new Uint8Array(file), 4096), { batchSize });
      assert.deepEqual(b.frames, r.frames);
    }
    // Big frames fill a batch by bytes (4 MiB) in the same pass that meets the big block.
    const fat = Array.from({ length: 5 }, (_, i) => g.epb(le, 0, 1_700_000_000_000_000 + i, Buffer.alloc(1 << 20, i)));
    const f2 = await readAll(pieces(new Uint8Array(Buffer.concat([head, ...fat, big, tail])), 1 << 16));
    assert.equal(f2.summary.complete, true);
    assert.deepEqual(f2.frames.map((f) => f.caplen), [32, 32, 32, 1 << 20, 1 << 20, 1 << 20, 1 << 20, 1 << 20, 32, 32, 32]);
    // Damage inside or after the skipped body: a wrong trailing length, the file ending in the body or before the trailer.
    const w = (b: Buffer, o: number, v: number) => (le ? b.writeUInt32LE(v, o) : b.writeUInt32BE(v, o));
    const badTrailer = Buffer.from(file);
    w(badTrailer, head.length + big.length - 4, 12);
    let d = await read(badTrailer);
    assert.deepEqual(fatal(d), { fatal: true, offset: head.length, message: `block length ${big.length} does not match its trailing copy 12` });
    sameSeq(d, 3);
    for (const cut of [1000, big.length - 4, big.length - 1]) {
      d = await read(file.subarray(0, head.length + cut));
      assert.deepEqual(fatal(d), { fatal: true, offset: head.length, message: `truncated block (needs ${big.length} bytes, ${cut} left)` });
      sameSeq(d, 3);
    }
  }
});

test('pcap record headers that lie: caplen huge, caplen > len, len 0, snaplen 0 and 2^32-1, unknown link type, header cut at EOF', async () => {
  for (const le of ORDERS) for (const nano of [false, true]) for (const good of [0, 4]) {
    const head = Buffer.concat([g.pcapHeader(le, nano), ...g.records(good, le)]);
    const tail = Buffer.concat(g.records(3, le, 50));
    const at = head.length;
    let r = await read(Buffer.concat([head, g.record(le, 1_700_000_000, 0, g.udp(), 300_000, 300_000), tail]));
    let p = fatal(r);
    assert.equal(p.offset, at);
    assert.equal(p.message, 'bad packet record: caplen 300000 is larger than any plausible snapshot length');
    sameSeq(r, good);

    r = await read(Buffer.concat([head, g.record(le, 1_700_000_000, 0, g.udp(), 32, 10), g.record(le, 1_700_000_000, 0, g.udp(), 32, 0), tail]));
    assert.equal(r.summary.complete, true);
    sameSeq(r, good + 5);
    assert.deepEqual(r.summary.problems.map((x) => [x.fatal, x.offset]), [[false, at]]);
    assert.deepEqual([r.frames[good]!.len, r.frames[good + 1]!.len], [10, 0]);

    // The record header cut in half, and a record's data cut short.
    for (const cut of [1, 8, 15]) {
      r = await read(Buffer.concat([head, g.record(le).subarray(0, cut)]));
      p = fatal(r);
      assert.deepEqual(p, { fatal: true, offset: at, message: `truncated packet record header (${cut} of 16 bytes)` });
      sameSeq(r, good);
    }
    r = await read(Buffer.concat([head, g.record(le).subarray(0, 30)]));
    assert.deepEqual(fatal(r), { fatal: true, offset: at, message: 'truncated packet record (needs 32 bytes of data, 14 left)' });
    sameSeq(r, good);
  }
  for (const le of ORDERS) {
    // snaplen 0 (some writers leave it unset) and 2^32-1: ordinary records still read; a 2 GiB claim does not.
    let r = await read(Buffer.concat([g.pcapHeader(le, false, 0), ...g.records(3, le)]));
    assert.equal(r.summary.complete, true);
    sameSeq(r, 3);
    r = await read(Buffer.concat([g.pcapHeader(le, true, 0xffffffff), ...g.records(3, le), g.record(le, 1, 0, Buffer.alloc(0), 0x7fffffff, 0x7fffffff)]));
    assert.equal(fatal(r).message, 'bad packet record: caplen 2147483647 is larger than any plausible snapshot length');
    sameSeq(r, 3);
    // 1 MiB declared (allowed by that snaplen) but the file ends first: waited for, then truncated.
    r = await read(Buffer.concat([g.pcapHeader(le, true, 0xffffffff), ...g.records(3, le), g.record(le, 1, 0, Buffer.alloc(100), 1 << 20, 1 << 20)]));
    assert.equal(fatal(r).message, 'truncated packet record (needs 1048576 bytes of data, 100 left)');
    sameSeq(r, 3);
    r = await read(Buffer.concat([g.pcapHeader(le, false, 65535, 0xfff0), ...g.records(3, le)]));
    assert.equal(r.summary.complete, true);
    assert.equal(r.interfaces[0]!.linktype, 0xfff0);
    sameSeq(r, 3);
  }
});

test('gzip: concatenated members read as one; damaged, truncated, doubly-compressed members end with one line', async () => {
  const plain = Buffer.concat([g.pcapHeader(), ...g.records(3000)]);
  const cut = [0, 40_000, 90_000, plain.length];
  const members = cut.slice(1).map((e, i) => gzipSync(plain.subarray(cut[i], e)));
  const ref = await readAll(new Uint8Array(plain));
  const framesIn = (bytes: number) => Math.floor((bytes - 24) / 48);

  let r = await read(Buffer.concat(members));
  assert.equal(r.summary.complete, true);
  assert.equal(r.summary.compressed, true);
  assert.deepEqual(r.frames, ref.frames);

  // Zero padding after the last member (preallocated or block-padded copies) is ignored, as gzip -d does.
  r = await read(Buffer.concat([...members, Buffer.alloc(4096)]));
  assert.deepEqual(r.frames, ref.frames);

  const badCrc = Buffer.from(members[1]!);
  badCrc[badCrc.length - 8]! ^= 1;
  r = await read(Buffer.concat([members[0]!, badCrc, members[2]!]), false);
  let p = fatal(r);
  assert.match(p.message, /^compressed data ends early or is corrupt \(/);
  assert.ok(r.frames.length >= framesIn(cut[1]!), `kept ${r.frames.length}`);
  assert.ok(r.frames.length <= framesIn(cut[2]!));
  assert.deepEqual(r.frames, ref.frames.slice(0, r.frames.length));

  for (const keep of [10, members[1]!.length - 9, members[1]!.length - 1]) {
    r = await read(Buffer.concat([members[0]!, members[1]!.subarray(0, keep)]), false);
    p = fatal(r);
    assert.match(p.message, /^compressed data ends early or is corrupt \(/);
    assert.ok(r.frames.length >= framesIn(cut[1]!));
    assert.deepEqual(r.frames, ref.frames.slice(0, r.frames.length));
  }

  for (const inner of [gzipSync(plain), gzipSync(Buffer.concat(members))]) {
    r = await read(gzipSync(inner));
    assert.deepEqual(fatal(r), { fatal: true, offset: 0, message: 'gzip inside gzip (compressed twice): gunzip it once, then open the result' });
    assert.equal(r.frames.length, 0);
  }
});

test('text: a 10 MB line, NUL bytes, invalid UTF-8, a million blank lines between good lines', async () => {
  const good = g.textLines(50);
  let r = await read(Buffer.concat([Buffer.from(good), Buffer.alloc(10 << 20, 0x62), Buffer.from('\n' + g.textLines(50, 50))]));
  assert.equal(r.packets.length, 100);
  assert.equal(r.summary.skipped!.count, 1);
  assert.equal(r.summary.skipped!.examples[0]!.line, 51);
  assert.equal(r.summary.complete, true);

  // A stray NUL, at the very start and in the middle: only its line is lost.
  for (const file of [Buffer.from('\0' + good + 'a\0b\n' + good), Buffer.from(good + '\0\0\0\n' + good)]) {
    r = await read(file);
    assert.equal(r.summary.format, 'tcpdump-text');
    assert.ok(r.packets.length >= 99, `kept ${r.packets.length}`);
    assert.equal(r.summary.complete, true);
  }
  // Binary made of NULs and bytes is still not text.
  r = await read(Buffer.concat([Buffer.alloc(100), Buffer.from(good)]));
  assert.equal(fatal(r).message, 'not a pcap, pcapng or tcpdump text file');

  r = await read(Buffer.concat([Buffer.from(good), Buffer.from([0xff, 0xfe, 0xc3, 0x28, 0x0a, 0xed, 0xa0, 0x80, 0x0a]), Buffer.from(g.textLines(50, 50))]));
  assert.equal(r.packets.length, 100);
  assert.equal(r.summary.skipped!.count, 2);

  const t0 = performance.now();
  r = await readAll(new Uint8Array(Buffer.from(good + '\n'.repeat(1_000_000) + '\r\n'.repeat(100_000) + g.textLines(50, 50))));
  assert.ok(performance.now() - t0 < 10_000);
  assert.equal(r.packets.length, 100);
  assert.equal(r.summary.complete, true);
});

test('text: CR-only line ends (and CR, LF, CRLF mixed, a CR on a chunk boundary) split lines like LF', async () => {
  const lf = g.textLines(40);
  const ref = await readAll(new Uint8Array(Buffer.from(lf)));
  const lines = lf.split('\n').slice(0, -1);
  const crOnly = lines.join('\r') + '\r';
  const mixed = lines.map((l, i) => l + ['\r', '\n', '\r\n'][i % 3]).join('');
  for (const text of [crOnly, mixed, crOnly.slice(0, -1)]) {
    const b = Buffer.from(text);
    for (const size of [1, 2, 3, 61, 62, 63, 1 << 20]) {
      const r = await readAll(pieces(new Uint8Array(b), size));
      assert.equal(r.packets.length, 40, `piece ${size}`);
      assert.deepEqual(r.packets.map((p) => [p.tsSec, p.tsNsec, p.summary]), ref.packets.map((p) => [p.tsSec, p.tsNsec, p.summary]));
      assert.equal(r.summary.skipped!.count, 0);
    }
  }
});

test('text: 20 MB without a newline ends with one line in linear time and small memory', async () => {
  for (const byte of [0x61, 0x20]) {
    const t0 = performance.now();
    const r = await readAll(pieces(new Uint8Array(Buffer.alloc(20 << 20, byte)), 64 * 1024));
    const ms = performance.now() - t0;
    assert.ok(ms < 10_000, `${ms} ms`);
    assert.equal(r.packets.length, 0);
    if (byte === 0x61) assert.match(fatal(r).message, /^no tcpdump packet line recognised/);
    else assert.equal(r.summary.skipped?.count ?? 0, 1);
  }
});
