// SACK blocks go into a store row through a scratch list of edges (no pair objects per packet): the
// fast path's option walk and push's copy of a decoded packet's blocks must keep the same edges,
// for one to four blocks, two SACK options in one header (the last one counts, as in tcp.ts), a
// malformed length, and (push only, as text imports give them) more blocks than a header holds.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { CaptureInterface } from '../../../shared/capture-file/types.ts';
import { decodeFrame } from '../../../shared/protocols/index.ts';
import type { Packet } from '../../../shared/protocols/packet.ts';
import { FastDecoder } from '../../../shared/ingest/fast-decode.ts';
import { PacketStore, toPlainPacket } from '../../../shared/ingest/packet-store.ts';

const be16 = (v: number): number[] => [(v >>> 8) & 255, v & 255];
const be32 = (v: number): number[] => [(v >>> 24) & 255, (v >>> 16) & 255, (v >>> 8) & 255, v & 255];
const sackOpt = (edges: number[]): number[] => [5, 2 + 4 * edges.length, ...edges.flatMap(be32)];

/** Ethernet, IPv4, TCP with `opts` (padded with NOPs to a multiple of 4) and a short payload. */
function frame(opts: number[]): Uint8Array {
  const o = [...opts];
  while (o.length % 4 !== 0) o.unshift(1);
  const payload = [1, 2, 3, 4, 5, 6, 7, 8];
  const tcp = [...be16(443), ...be16(40001), ...be32(7), ...be32(0xfffffff0), ((20 + o.length) / 4) << 4, 0x10, ...be16(500), 0, 0, 0, 0, ...o, ...payload];
  const ip = [0x45, 0, ...be16(20 + tcp.length), 0, 1, 0x40, 0, 64, 6, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2, ...tcp];
  return Uint8Array.from([2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 8, 0, ...ip]);
}

const iface: CaptureInterface = { id: 0, name: 'eth0', linktype: 1, snaplen: 262144, section: 0 };

test('SACK edges: the fast path and push keep the same blocks, the last SACK option of a header counting', () => {
  const cases: Array<[string, number[]]> = [
    ['one block', sackOpt([100, 200])],
    ['two blocks, top of the range', sackOpt([0xfffffff0, 0xffffffff, 1, 2])],
    ['four blocks (a full header)', sackOpt([1, 2, 3, 4, 5, 6, 7, 8])],
    ['two SACK options: the second counts', [...sackOpt([9, 10]), ...sackOpt([11, 12, 13, 14])]],
    ['a SACK option of odd length is not one', [5, 7, 0, 0, 0, 1, 0]],
    ['timestamps and SACK', [1, 1, 8, 10, ...be32(5), ...be32(6), ...sackOpt([300, 400, 500, 600])]],
    ['none', []],
  ];
  const ref = new PacketStore(), fast = new PacketStore();
  const dec = new FastDecoder(fast);
  let taken = 0;
  const decoded: Packet[] = [];
  cases.forEach(([, opts], i) => {
    const data = frame(opts);
    const f = { frame: i + 1, offset: 0, ifaceId: 0, tsSec: 1_700_000_000, tsNsec: i, caplen: data.length, len: data.length, data };
    const p = decodeFrame(f, iface, { summary: false });
    decoded.push(p);
    ref.push(p);
    if (dec.tryPush(f, iface)) taken++; else fast.push(p);
  });
  assert.equal(taken, cases.length, 'every case is a shape the fast path takes');
  cases.forEach(([label], i) => {
    const want = toPlainPacket(decoded[i]!);
    assert.deepStrictEqual(toPlainPacket(ref.at(i)!), want, `${label}: push`);
    assert.deepStrictEqual(toPlainPacket(fast.at(i)!), want, `${label}: fast path`);
  });
  assert.deepStrictEqual(fast.at(3)!.tcp!.sack, [[11, 12], [13, 14]], 'the later option wins');
  assert.equal(fast.at(4)!.tcp!.sack, undefined, 'odd length: no blocks');
  assert.deepStrictEqual(fast.toImage().image.pages[0]!.sack, ref.toImage().image.pages[0]!.sack, 'the same SACK lists in the image');
});

test('SACK edges: push takes a block list longer than any header holds (text imports), and rows after it keep their own', () => {
  const data = frame([]);
  const base = decodeFrame({ frame: 1, offset: 0, ifaceId: 0, tsSec: 1_700_000_000, tsNsec: 0, caplen: data.length, len: data.length, data }, iface, { summary: false });
  const store = new PacketStore();
  const want: Packet[] = [];
  for (const n of [9, 1, 0, 6, 2]) {
    const blocks: Array<[number, number]> = Array.from({ length: n }, (_, k) => [1000 * n + 2 * k, 1000 * n + 2 * k + 1]);
    const p: Packet = { ...base, frame: want.length + 1, tcp: { ...base.tcp!, ...(n > 0 ? { sack: blocks } : {}) } };
    want.push(toPlainPacket(p));
    store.push(p);
  }
  want.forEach((w, i) => {
    assert.notEqual(store.at(i)!.constructor, Object, `row ${i} is held as columns`);
    assert.deepStrictEqual(toPlainPacket(store.at(i)!), w, `row ${i}`);
  });
  const back = PacketStore.fromImage(structuredClone(store.toImage().image));
  want.forEach((w, i) => assert.deepStrictEqual(toPlainPacket(back.at(i)!), w, `row ${i} through an image`));
});

test('SACK edges are 32-bit columns: a larger edge (a text line can say one) keeps its packet whole; full pages hold their lists cut to size', () => {
  const data = frame([]);
  const base = decodeFrame({ frame: 1, offset: 0, ifaceId: 0, tsSec: 1_700_000_000, tsNsec: 0, caplen: data.length, len: data.length, data }, iface, { summary: false });
  const store = new PacketStore();
  const want: Packet[] = [];
  // Past one 32 768-row page: every third row has blocks; rows 5 and 40 000 have an edge a column cannot hold.
  for (let i = 0; i < 40_010; i++) {
    const edge = i === 5 || i === 40_000 ? 2 ** 32 + i : i === 7 ? 1.5 : 0xfffffff0 + (i % 15);
    const blocks: Array<[number, number]> = i % 3 === 0 || i === 5 || i === 7 || i === 40_000 ? [[edge, 0xffffffff], [i, i + 1]] : [];
    const p: Packet = { ...base, frame: i + 1, tcp: { ...base.tcp!, ...(blocks.length > 0 ? { sack: blocks } : {}) } };
    if (i < 10 || i >= 40_000) want[i] = toPlainPacket(p);
    store.push(p);
  }
  for (const i of [0, 3, 4, 5, 6, 7, 9, 40_000, 40_002, 40_003]) {
    const held = store.at(i)!;
    assert.equal(held.constructor === Object, i === 5 || i === 7 || i === 40_000, `row ${i}: kept whole only for an edge past 32 bits or a fraction`);
    assert.deepStrictEqual(toPlainPacket(held), want[i], `row ${i}`);
  }
  const img = store.toImage().image;
  const [p0, p1] = img.pages;
  assert.ok(p0!.sack!.edges instanceof Uint32Array && p1!.sack!.edges instanceof Uint32Array, '32-bit edges');
  // The full page's lists hold what they list (no doubling slack), the image's the same.
  const full = (store as unknown as { pages: Array<{ sackRows: Uint16Array; sackN: number; sackEdges: Uint32Array; edgeN: number }> }).pages[0]!;
  assert.equal(full.sackRows.length, full.sackN);
  assert.equal(full.sackEdges.length, full.edgeN);
  assert.equal(p0!.sack!.rows.length, Math.ceil(32_768 / 3), 'every third row (those kept whole are not among them)');
});

test('SACK edges: an image written with 64-bit edges (before they were 32-bit) reads back, and its last page takes more rows', () => {
  const data = frame([]);
  const base = decodeFrame({ frame: 1, offset: 0, ifaceId: 0, tsSec: 1_700_000_000, tsNsec: 0, caplen: data.length, len: data.length, data }, iface, { summary: false });
  const rows = (from: number, n: number): Packet[] => Array.from({ length: n }, (_, k) => ({ ...base, frame: from + k, tcp: { ...base.tcp!, sack: [[from + k, 0xffffffff], [7, 8]] as Array<[number, number]> } }));
  const store = new PacketStore();
  const first = rows(1, 300);
  for (const p of first) store.push(p);
  const image = structuredClone(store.toImage().image);
  const s = image.pages[0]!.sack!;
  image.pages[0]!.sack = { ...s, edges: Float64Array.from(s.edges) };
  const back = PacketStore.fromImage(image);
  const more = rows(301, 2000);
  for (const p of more) back.push(p);
  [...first, ...more].forEach((p, i) => { if (i % 97 === 0 || i >= 2290) assert.deepStrictEqual(toPlainPacket(back.at(i)!), toPlainPacket(p), `row ${i}`); });
});
