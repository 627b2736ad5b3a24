// The engine keeps some per-packet numbers in narrower columns than a double while the values
// allow it (lengths in 16 bits, carrier ordinals in 32, group numbers in 8) and widens a column
// when a value does not fit. These tests feed values on purpose at and past each edge, on
// purpose-made captures, and check that every value comes back whole and every pairing stays
// the one the wide form gives.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadAll } from '../../../shared/ingest/load-capture.ts';
import type { CaptureInput } from '../../../shared/analysis/index.ts';
import type { Packet } from '../../../shared/protocols/packet.ts';
import { captureStats, dirAt, kindAt, prepareCapture, preparePair, resolveDirections, sideOf, type Side } from '../../../shared/analysis/prepare.ts';
import { collectFlow, type InnerList, type Tuple } from '../../../shared/analysis/inner.ts';
import { AssocRoom, associateDecap, associateEncap, pairCarriers } from '../../../shared/analysis/carriers.ts';
import { parseText } from './helpers.ts';
import { synthBulk } from './synth.ts';

/** A classic pcap (microsecond, little-endian) of the frames given; `len` is each frame's original length. */
function pcap(linktype: number, frames: Array<{ bytes: number[]; len: number }>): Uint8Array {
  const out: number[] = [];
  const u32 = (v: number): void => { out.push(v & 255, (v >>> 8) & 255, (v >>> 16) & 255, (v >>> 24) & 255); };
  const u16 = (v: number): void => { out.push(v & 255, (v >>> 8) & 255); };
  u32(0xa1b2c3d4); u16(2); u16(4); u32(0); u32(0); u32(262144); u32(linktype);
  frames.forEach((f, i) => { u32(1_700_000_000); u32(i * 1000); u32(f.bytes.length); u32(f.len); out.push(...f.bytes); });
  return new Uint8Array(out);
}
const be16 = (v: number): number[] => [(v >>> 8) & 255, v & 255];
const be32 = (v: number): number[] => [...be16(v >>> 16), ...be16(v & 0xffff)];
/** A TCP header (PSH+ACK, no options). */
const tcpHdr = (seq: number): number[] => [...be16(40000), ...be16(80), ...be32(seq), ...be32(1), 0x50, 0x18, ...be16(500), 0, 0, 0, 0];
/** An IPv4 packet of total length `total`, captured up to its TCP header (the rest cut by the snap length). */
const v4 = (total: number, seq: number): { bytes: number[]; len: number } =>
  ({ bytes: [0x45, 0, ...be16(total), 0, 1, 0x40, 0, 64, 6, 0, 0, 10, 0, 0, 1, 192, 168, 200, 22, ...tcpHdr(seq)], len: total });
/** An IPv6 packet with payload length `plen` (total plen + 40), captured up to its TCP header. */
const v6 = (plen: number, seq: number): { bytes: number[]; len: number } => {
  const addr = (x: number): number[] => [0xfd, 0, ...Array<number>(13).fill(0), x];
  return { bytes: [0x60, 0, 0, 0, ...be16(plen), 6, 64, ...addr(1), ...addr(2), ...tcpHdr(seq)], len: plen + 40 };
};

/** Side A of a capture (B empty), prepared as the engine prepares it. */
function sideA(input: CaptureInput): Side {
  const b: CaptureInput = { name: 'b', packets: [] };
  const [pa, pb] = preparePair(input, b);
  const A = sideOf('A', input, pa);
  resolveDirections(A, sideOf('B', b, pb));
  return A;
}

function lengths(l: InnerList): Array<[number, number]> {
  return [...l].map((x) => [x.plen, x.ilen]);
}

test('lengths up to 65535 stay in 16-bit columns, whole', async () => {
  const r = await loadAll(pcap(101, [v4(40, 1), v4(65535, 1), v4(1500, 65496), v4(65534, 66956)]), {});
  const A = sideA({ name: 'a', packets: r.packets });
  const f = collectFlow(A, { proto: 'tcp', src: '10.0.0.1', dst: '192.168.200.22', sport: 40000, dport: 80 });
  assert.deepEqual(lengths(f), [[0, 40], [65495, 65535], [1460, 1500], [65494, 65534]]);
  assert.ok(f.fc.plen instanceof Uint16Array && f.fc.ilen instanceof Uint16Array, 'no value needed more than 16 bits');
});

test('an IPv6 total past 65535 widens the IP length column and keeps the values before it', async () => {
  // Payload length 65535 makes a total of 65575; small packets before and after it.
  const r = await loadAll(pcap(101, [v6(20, 1), v6(65535, 1), v6(20, 65516), v6(65515, 65516)]), {});
  const A = sideA({ name: 'a', packets: r.packets });
  const f = collectFlow(A, { proto: 'tcp', src: 'fd00::1', dst: 'fd00::2', sport: 40000, dport: 80 });
  assert.deepEqual(lengths(f), [[0, 60], [65515, 65575], [0, 60], [65495, 65555]]);
  assert.ok(f.fc.ilen instanceof Int32Array, 'the IP length column widened');
  assert.ok(f.fc.plen instanceof Uint16Array, 'the payload length column did not need to');
});

test('tcpdump text lengths past 16 bits (offloaded super-frames, estimates) widen both columns', () => {
  const lines = [
    '12:00:00.000001 IP 10.0.0.1.40000 > 192.168.200.22.80: Flags [S], seq 1000, win 500, length 0',
    '12:00:00.000002 IP 192.168.200.22.80 > 10.0.0.1.40000: Flags [S.], seq 5000, ack 1001, win 500, length 0',
    '12:00:00.000003 IP 10.0.0.1.40000 > 192.168.200.22.80: Flags [P.], seq 1:70001, ack 1, win 500, length 70000',
    '12:00:00.000004 IP 10.0.0.1.40000 > 192.168.200.22.80: Flags [P.], seq 70001:70101, ack 1, win 500, length 100',
    '12:00:00.000005 IP 10.0.0.1.40000 > 192.168.200.22.80: Flags [P.], seq 70101:135636, ack 1, win 500, length 65535',
  ];
  const A = sideA({ name: 'a.txt', packets: parseText(lines.join('\n')) });
  const t: Tuple = { proto: 'tcp', src: '10.0.0.1', dst: '192.168.200.22', sport: 40000, dport: 80 };
  const f = collectFlow(A, t);
  // What the packets say (the text reader's estimate of the IP length), read back unchanged.
  const want = [...A.recs].map((r) => [r.p.tcp!.len, r.p.ip!.len]);
  assert.deepEqual(lengths(f), want);
  assert.deepEqual(lengths(f).map((x) => x[0]), [0, 0, 70000, 100, 65535]);
  assert.ok(f.fc.plen instanceof Int32Array && f.fc.ilen instanceof Int32Array);
  // The sequence coverage reads the widened column: the 70000-byte segment's range is whole.
  const fwd = f.filterAt((d) => d);
  assert.deepEqual(fwd.coveredRanges(), [[1, 135636]]);
});

test('a widened length column stays wide, whole, when the flow\'s columns are cut to size', () => {
  // Another connection's packets between the flow's: the columns start with room for both and are
  // cut down (copied) once collected, the widened ones as 32 bits.
  const lines: string[] = [];
  let seq = 1;
  for (let i = 0; i < 300; i++) {
    const len = i === 250 ? 100000 : 1 + (i % 7) * 9000;
    const ts = (k: number): string => `12:00:00.${String(2 * i + k + 10).padStart(6, '0')}`;
    lines.push(`${ts(0)} IP 10.0.0.1.40000 > 192.168.200.22.80: Flags [P.], seq ${seq}:${seq + len}, ack 1, win 500, length ${len}`);
    lines.push(`${ts(1)} IP 10.0.0.1.40001 > 192.168.200.22.80: Flags [P.], seq ${seq}:${seq + 10}, ack 1, win 500, length 10`);
    seq += len;
  }
  const A = sideA({ name: 'a.txt', packets: parseText(lines.join('\n')) });
  const f = collectFlow(A, { proto: 'tcp', src: '10.0.0.1', dst: '192.168.200.22', sport: 40000, dport: 80 });
  assert.equal(f.length, 300);
  assert.equal(f.fc.ri.length, 300, 'cut to size');
  assert.deepEqual(lengths(f), [...A.recs].filter((r) => r.p.sport === 40000).map((r) => [r.p.tcp!.len, r.p.ip!.len]));
  assert.equal(f.at(250)!.plen, 100000);
  assert.ok(f.fc.plen instanceof Int32Array);
});

/** Every carrier of A with its partner on B, as frame numbers (null: none). */
function pairing(a: Packet[], b: Packet[]): { links: Array<[number, number | null]>; keyed: number } {
  const ia: CaptureInput = { name: 'a', packets: a }, ib: CaptureInput = { name: 'b', packets: b };
  const [pa, pb] = preparePair(ia, ib);
  const A = sideOf('A', ia, pa), B = sideOf('B', ib, pb);
  resolveDirections(A, B);
  const cp = pairCarriers(A, B, 0, 0.05, 1);
  const links: Array<[number, number | null]> = [];
  for (const r of A.outer) links.push([r.p.frame, cp.aToB.get(r.i)?.p.frame ?? null]);
  // The other way round must agree; records that are no carriers have no partner.
  for (const r of B.outer) {
    const x = cp.bToA.get(r.i);
    if (x !== undefined) assert.equal(cp.aToB.get(x.i)?.p.frame, r.p.frame);
  }
  for (const s of [A, B]) for (const r of s.recs) if (r.outer === null) assert.equal((s === A ? cp.aToB : cp.bToA).get(r.i), undefined);
  return { links, keyed: cp.keyed };
}

/** The two captures of a bulk download with each transport counter and receiver index rewritten. */
function rewritten(change: (counter: number, receiver: number) => { counter: bigint; receiver: number }): { a: Packet[]; b: Packet[] } {
  const { a, b } = synthBulk({ rounds: 400, period: 0.002, wgFields: true, offset: 0, skewPpm: 0, seed: 11 });
  for (const p of [...a, ...b]) {
    const w = p.wg;
    if (w?.type !== 4 || w.counter === undefined) continue;
    const x = change(Number(w.counter), w.receiver!);
    w.counter = String(x.counter);
    w.receiver = x.receiver;
  }
  return { a, b };
}

test('carrier counters past 32 bits pair as they are, not as their low 32 bits', () => {
  const base = rewritten((c, r) => ({ counter: BigInt(c), receiver: r }));
  const want = pairing(base.a, base.b);
  assert.ok(want.keyed > 1000, `keyed ${want.keyed}`);
  // Every counter a multiple of 2^32: cut to 32 bits they would all be 0, and all but one pair would be lost.
  const big = rewritten((c, r) => ({ counter: BigInt(c) << 32n, receiver: r }));
  assert.deepEqual(pairing(big.a, big.b), want);
  // Counters at the 32-bit edge, below and above it.
  const edge = rewritten((c, r) => ({ counter: 0xffffff00n + BigInt(c), receiver: r }));
  assert.deepEqual(pairing(edge.a, edge.b), want);
});

test('carriers spread over more than 255 identifier groups pair as in one group', () => {
  const base = rewritten((c, r) => ({ counter: BigInt(c), receiver: r }));
  const want = pairing(base.a, base.b);
  // 300 receiver indexes (one group each), counters numbered within each: group numbers pass a byte.
  for (const groups of [2, 255, 256, 300]) {
    const many = rewritten((c) => ({ counter: BigInt(Math.floor(c / groups)), receiver: 1000 + (c % groups) }));
    assert.deepEqual(pairing(many.a, many.b), want, `${groups} groups`);
  }
  // B's capture starts late: the first carrier B receives is in group 261 (numbered while A's were
  // read), and the ones after it in others, so the receiving side's group numbers start past a byte.
  const late = (b: Packet[]): Packet[] => {
    let n = 0;
    return b.filter((p) => !(p.dir === 'in' && p.wg !== undefined && (p.wg.type === 1 || (p.wg.type === 4 && n++ < 260))));
  };
  const baseLate = rewritten((c, r) => ({ counter: BigInt(c), receiver: r }));
  const wantLate = pairing(baseLate.a, late(baseLate.b));
  assert.ok(wantLate.keyed > 500, `keyed ${wantLate.keyed}`);
  const manyLate = rewritten((c) => ({ counter: BigInt(Math.floor(c / 300)), receiver: 1000 + (c % 300) }));
  assert.deepEqual(pairing(manyLate.a, late(manyLate.b)), wantLate);
});

test('associations sharing one working room pick the carriers that separate arrays pick', () => {
  // The room is sized by the first list, grown by a larger one and reused by a smaller one after it.
  const { a, b } = synthBulk({ rounds: 300, period: 0.002, wgFields: true, offset: 0, skewPpm: 0, seed: 4 });
  const ia: CaptureInput = { name: 'a', packets: a }, ib: CaptureInput = { name: 'b', packets: b };
  const t: Tuple = { proto: 'tcp', src: '10.0.0.1', dst: '192.168.200.22', sport: 45734, dport: 80 };
  const run = (room: AssocRoom | undefined): Int32Array[] => {
    const [pa, pb] = preparePair(ia, ib);
    const A = sideOf('A', ia, pa), B = sideOf('B', ib, pb);
    resolveDirections(A, B);
    const fA = collectFlow(A, t), fB = collectFlow(B, t);
    const tun = (s: Side, fwd: boolean, not: 'in' | 'out') => (f: boolean, i: number): boolean => f === fwd && kindAt(s.tm, i) === 'tunnel' && dirAt(s.tm, i) !== not;
    associateDecap(A, fA.filterAt(tun(A, false, 'out')).filterAt((_, __, k) => k % 3 === 0), room);
    associateEncap(A, fA.filterAt(tun(A, true, 'in')), room);
    associateEncap(B, fB.filterAt(tun(B, false, 'in')), room);
    associateDecap(B, fB.filterAt(tun(B, true, 'out')), room);
    room?.release();
    return [fA.fc.car.slice(0, fA.length), fB.fc.car.slice(0, fB.length)];
  };
  const want = run(undefined);
  assert.ok(want.every((c) => c.filter((x) => x >= 0).length > 200), 'carriers were associated');
  assert.deepEqual(run(new AssocRoom()), want);
});

test('filterAt with a limit gives the first matching members, as without one', () => {
  const lines: string[] = [];
  for (let i = 0; i < 200; i++) {
    const port = i % 3 === 0 ? 40001 : 40000;
    lines.push(`12:00:00.${String(i + 10).padStart(6, '0')} IP 10.0.0.1.${port} > 192.168.200.22.80: Flags [P.], seq ${i * 10 + 1}:${i * 10 + 11}, ack 1, win 500, length 10`);
  }
  const A = sideA({ name: 'a.txt', packets: parseText(lines.join('\n')) });
  const f = collectFlow(A, { proto: 'tcp', src: '10.0.0.1', dst: '192.168.200.22', dport: 80 });
  assert.equal(f.length, 200);
  const odd = (_: boolean, ri: number): boolean => ri % 2 === 1;
  const all = [...f.filterAt(odd)].map((x) => x.k);
  assert.equal(all.length, 100);
  for (const limit of [0, 1, 2.5, 50, 99, 100, 101, 199, 200, 250, -3]) {
    const got = f.filterAt(odd, limit);
    const want = all.slice(0, Math.max(0, Math.ceil(limit)));
    assert.deepEqual([...got].map((x) => x.k), want, `limit ${limit}`);
    assert.equal(got.length, want.length);
  }
});

test('more interfaces than 16 bits hold (one SLL2 ifindex per packet) keep their own ids in the preparation', async () => {
  // 70,000 unnamed interfaces: past 65,535 the per-record interface ids widen (those past 0xffff are
  // also past the column store's ifindex column, so they come as plain packets: both kinds of row).
  const n = 70_000;
  const frames = Array.from({ length: n }, (_, i) => {
    const sll2 = [...be16(0x0800), 0, 0, ...be32(i + 1), ...be16(1), 0, 6, 2, 0, 0, 0, 0, 1, 0, 0];
    return { bytes: [...sll2, ...v4(40, i).bytes], len: 60 };
  });
  const { packets } = await loadAll(pcap(276, frames));
  assert.equal(packets.length, n);
  const st = captureStats(packets);
  const prep = prepareCapture(packets, st, st.ports);
  assert.equal(prep.ifaces.length, n);
  for (const i of [0, 65_534, 65_535, 65_536, 65_537, n - 1]) {
    assert.deepStrictEqual(prep.ifaces[i], { key: `#if${i + 1}`, name: `if${i + 1}`, kind: 'lan', count: 1 }, `interface ${i}`);
  }
});
