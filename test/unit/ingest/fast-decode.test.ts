// The bulk load's fast path (shared/ingest/fast-decode.ts) must fill the column store exactly as the
// full decoder followed by PacketStore.push does: same columns, tables, SACK lists and plain packets,
// byte for byte, over the tcpdump corpus, the lab captures, and frames built here together with every
// cut length and single-byte change of their headers (the neighbours of each shape it takes).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readCapture, type CaptureSummary } from '../../../shared/capture-file/reader.ts';
import type { CaptureInterface, RawFrame } from '../../../shared/capture-file/types.ts';
import { decodeFrame } from '../../../shared/protocols/index.ts';
import { isTunnelCarrier } from '../../../shared/protocols/packet.ts';
import { FastDecoder } from '../../../shared/ingest/fast-decode.ts';
import { loadCompact } from '../../../shared/ingest/load-capture.ts';
import { PacketStore, toPlainPacket, type PacketStoreImage } from '../../../shared/ingest/packet-store.ts';

const CORPUS = fileURLToPath(new URL('../../../../shared/corpus/tcpdump-tests/', import.meta.url));
const LAB = process.env.TANDEM_LAB_DIR ?? fileURLToPath(new URL('../../../out/lab/', import.meta.url));

/** Both paths over the same frames: the reference (decode, push) and the fast one (tryPush, else decode, push). */
class Pair {
  readonly ref = new PacketStore();
  readonly fast = new PacketStore();
  readonly dec: FastDecoder;
  hits = 0;
  frames = 0;
  constructor(private readonly linkNames?: Map<number, string>, private readonly payloadHash: 'all' | 'udp' = 'all') {
    this.dec = new FastDecoder(this.fast, linkNames, payloadHash);
  }
  add(f: RawFrame, iface: CaptureInterface): void {
    const opts = { linkNames: this.linkNames, summary: false, payloadHash: this.payloadHash };
    this.frames++;
    this.ref.push(decodeFrame(f, iface, opts));
    if (this.dec.tryPush(f, iface)) this.hits++;
    else this.fast.push(decodeFrame(f, iface, opts));
  }
}

function sameImage(a: PacketStoreImage, b: PacketStoreImage, label: string): void {
  assert.equal(b.length, a.length, `${label}: length`);
  assert.deepStrictEqual(b.tables, a.tables, `${label}: tables`);
  assert.equal(b.pages.length, a.pages.length, `${label}: pages`);
  for (let j = 0; j < a.pages.length; j++) {
    const pa = a.pages[j]!, pb = b.pages[j]!;
    const where = `${label} page ${j}`;
    assert.equal(pb.n, pa.n, `${where}: rows`);
    assert.equal(pb.frame0, pa.frame0, `${where}: frame0`);
    assert.deepStrictEqual(pb.one, pa.one, `${where}: single-value columns`);
    assert.deepStrictEqual(Object.keys(pb.cols).sort(), Object.keys(pa.cols).sort(), `${where}: column set`);
    for (const [name, col] of Object.entries(pa.cols)) {
      const other = pb.cols[name as keyof typeof pb.cols]!;
      assert.equal(other.constructor, col!.constructor, `${where}: ${name} type`);
      // Rows past n are never read, and a page's unused rows are zero in both.
      for (let k = 0; k < col!.length; k++) if (other[k] !== col![k]) assert.fail(`${where}: column ${name} row ${k}: ${other[k]} != ${col![k]}`);
    }
    assert.deepStrictEqual(pb.sack, pa.sack, `${where}: SACK`);
    assert.deepStrictEqual(pb.summaries, pa.summaries, `${where}: summaries`);
    assert.deepStrictEqual(pb.plain, pa.plain, `${where}: plain packets`);
    assert.deepStrictEqual(pb.trunc, pa.trunc, `${where}: rows with a cut TCP header`);
  }
}

function check(p: Pair, label: string): void {
  sameImage(p.ref.toImage().image, p.fast.toImage().image, label);
}

/** Reads into both stores of `pair`; returns a copy of every frame's bytes, and the reader's summary. */
async function readInto(bytes: Uint8Array, pair: Pair): Promise<Uint8Array[] & { summary?: CaptureSummary }> {
  const g = readCapture(bytes, { batchSize: 512 });
  const raw: Uint8Array[] & { summary?: CaptureSummary } = [];
  for (;;) {
    const s = await g.next();
    if (s.done) { raw.summary = s.value; return raw; }
    for (const f of s.value.frames) { pair.add(f, s.value.interfaces[f.ifaceId]!); raw.push(Uint8Array.from(f.data)); }
    for (const p of s.value.packets ?? []) { pair.ref.push(p); pair.fast.push(p); }
  }
}

async function* pieces(bytes: Uint8Array, n: number): AsyncGenerator<Uint8Array> {
  for (let o = 0; o < bytes.length; o += n) yield bytes.slice(o, o + n);
}

test('corpus: the fast path fills the store exactly as decode and push do', async () => {
  const files = readdirSync(CORPUS).filter((f) => /\.(pcap|pcapng)$/.test(f)).sort();
  assert.ok(files.length > 800, `corpus has ${files.length} capture files`);
  let frames = 0, hits = 0, kept = 0;
  for (const f of files) {
    const bytes = new Uint8Array(readFileSync(join(CORPUS, f)));
    const pair = new Pair();
    const raw = await readInto(bytes, pair);
    frames += pair.frames; hits += pair.hits;
    // loadCompact takes pcap records from the reader's buffer (no RawFrame): here in small pieces, so
    // records straddle buffers, with a small batch, and with the frame bytes kept.
    const via = await loadCompact(pieces(bytes, 777), { summary: false, batchSize: 5, keepBytes: true });
    assert.equal(via.frames.length, raw.length, `${f}: kept frames`);
    for (let i = 0; i < raw.length; i++) assert.deepStrictEqual(Uint8Array.from(via.frames[i]!), raw[i], `${f}: bytes of frame ${i + 1}`);
    kept += raw.length;
    // The same reading: frame count, problems (a damaged file's fatal one at the same offset), interfaces.
    assert.deepStrictEqual(via.summary, raw.summary, `${f}: summary`);
    const refImage = pair.ref.toImage().image;
    sameImage(refImage, pair.fast.toImage().image, f);
    sameImage(refImage, via.packets.toImage().image, `${f} (loadCompact)`);
  }
  assert.ok(kept === frames);
  console.log(`# corpus: ${hits} of ${frames} frames took the fast path`);
  // The corpus is mostly other protocols, yet plain TCP/UDP over IPv4/IPv6 is common in it.
  assert.ok(hits > 1000, `${hits} fast frames`);
});

test('lab captures: the fast path takes nearly every frame and agrees with decode and push, also through loadCompact', async (t) => {
  if (!existsSync(LAB)) { t.skip(`no lab captures at ${LAB} (set TANDEM_LAB_DIR)`); return; }
  const files: string[] = [];
  for (const s of readdirSync(LAB).sort()) {
    for (const f of ['A-any.pcap', 'B-any.pcap', 'A.pcapng', 'B.pcapng']) if (existsSync(join(LAB, s, f))) files.push(join(LAB, s, f));
  }
  if (files.length === 0) { t.skip(`no lab captures under ${LAB}`); return; }
  let frames = 0, hits = 0;
  for (const file of files) {
    const bytes = new Uint8Array(readFileSync(file));
    const linkFile = file.replace(/[AB](-any\.pcap|\.pcapng)$/, (m) => m[0] + '-links.txt');
    // Names from `ip -o link` replace SLL2 interface indexes: the fast path must apply them the same way.
    const linkNames = existsSync(linkFile) ? parseLinks(readFileSync(linkFile, 'utf8')) : new Map([[1, 'lo'], [2, 'eth0'], [3, 'wg0']]);
    for (const names of [undefined, linkNames]) {
      const pair = new Pair(names);
      await readInto(bytes, pair);
      frames += pair.frames; hits += pair.hits;
      const via = await loadCompact(bytes, { summary: false, linkNames: names, batchSize: 128 });
      const refImage = pair.ref.toImage().image;
      sameImage(refImage, pair.fast.toImage().image, file);
      sameImage(refImage, via.packets.toImage().image, `${file} (loadCompact)`);
    }
  }
  console.log(`# lab: ${hits} of ${frames} frames took the fast path (${files.length} files)`);
  assert.ok(hits > 0.9 * frames, `${hits} of ${frames}`);
});

test("payloadHash 'udp': both paths hash plain UDP datagrams' payloads as before and nothing else (no TCP, ESP or tunnel carrier), every other field unchanged", async (t) => {
  // Corpus files with each kind of payload (TCP, UDP, WireGuard, ESP, NAT-T, ICMP, IPv6) and the lab's bulk captures.
  const files = readdirSync(CORPUS).filter((f) => /\.(pcap|pcapng)$/.test(f)).sort().map((f) => join(CORPUS, f));
  for (const s of existsSync(LAB) ? readdirSync(LAB).sort().slice(0, 4) : []) if (existsSync(join(LAB, s, 'B-any.pcap'))) files.push(join(LAB, s, 'B-any.pcap'));
  if (!existsSync(LAB)) t.diagnostic(`no lab captures at ${LAB}: corpus only`);
  let udp = 0, dropped = 0, none = 0, carriers = 0;
  for (const file of files) {
    const bytes = new Uint8Array(readFileSync(file));
    const all = new Pair(), only = new Pair(undefined, 'udp');
    await readInto(bytes, all);
    await readInto(bytes, only);
    check(only, `${file} (udp)`);
    const via = await loadCompact(bytes, { summary: false, payloadHash: 'udp' });
    sameImage(only.ref.toImage().image, via.packets.toImage().image, `${file} (udp, loadCompact)`);
    for (let i = 0; i < all.ref.length; i++) {
      const { payloadHash: h, ...rest } = toPlainPacket(all.ref.at(i)!);
      const { payloadHash: g, ...rest2 } = toPlainPacket(only.ref.at(i)!);
      assert.deepStrictEqual(rest2, rest, `${file} frame ${rest.frame}`);
      // A tunnel's carrier is matched by its tunnel's numbers, never by payload: its hash is left out too.
      const carrier = isTunnelCarrier(rest);
      if (h === undefined) { assert.equal(g, undefined); none++; } else if (rest.udp !== undefined && !carrier) { assert.equal(g, h, `${file} frame ${rest.frame}: UDP hash`); udp++; } else {
        assert.equal(g, undefined, `${file} frame ${rest.frame}`);
        if (rest.udp !== undefined) carriers++; else dropped++;
      }
    }
  }
  console.log(`# payloadHash udp: ${udp} UDP hashes kept, ${dropped} other hashes left out (TCP, ESP, ...), ${carriers} UDP tunnel carriers' left out, ${none} packets without payload`);
  assert.ok(udp > 1000 && dropped > 500 && carriers > 50, `${udp} kept, ${dropped} + ${carriers} left out`);
});

function parseLinks(text: string): Map<number, string> {
  const m = new Map<number, string>();
  for (const line of text.split('\n')) {
    const x = /^(\d+):\s+([^:@\s]+)/.exec(line);
    if (x) m.set(Number(x[1]), x[2]!);
  }
  return m;
}

// Frames built here: one of each shape the fast path takes, and shapes next to them that it must refuse.
const be16 = (v: number): number[] => [(v >> 8) & 255, v & 255];
const be32 = (v: number): number[] => [(v >>> 24) & 255, (v >>> 16) & 255, (v >>> 8) & 255, v & 255];
const le32 = (v: number): number[] => be32(v).reverse();
const zeros = (n: number): number[] => new Array<number>(n).fill(0);
const seq = (n: number, from = 1): number[] => Array.from({ length: n }, (_, i) => (from + i * 37) & 255);

function ip4(proto: number, payload: number[], extra: { fo?: number; hl?: number; totlen?: number } = {}): number[] {
  const hl = extra.hl ?? 20;
  const opts = zeros(hl - 20).map((_, i) => (i === hl - 21 ? 0 : 1));
  const len = extra.totlen ?? hl + payload.length;
  return [0x40 | (hl / 4), 0, ...be16(len), 0x12, 0x34, ...be16(extra.fo ?? 0x4000), 64, proto, 0, 0, 10, 1, 0, 5, 192, 168, 200, 22, ...opts, ...payload];
}
function ip6(nh: number, payload: number[], plen = payload.length): number[] {
  const a = [0x20, 0x01, 0x0d, 0xb8, ...zeros(11), 1], b = [0xfe, 0x80, ...zeros(13), 0x22];
  return [0x60, 0, 0, 0, ...be16(plen), nh, 63, ...a, ...b, ...payload];
}
function tcp(options: number[], payload: number[], flags = 0x18): number[] {
  const doff = 20 + options.length;
  return [...be16(40000), ...be16(80), ...be32(0x89abcdef), ...be32(0x01020304), (doff / 4) << 4, flags, ...be16(502), 0, 0, 0, 0, ...options, ...payload];
}
function udp(sport: number, dport: number, payload: number[], ulen = payload.length + 8): number[] {
  return [...be16(sport), ...be16(dport), ...be16(ulen), 0, 0, ...payload];
}
const wgInit = (): number[] => [1, 0, 0, 0, ...le32(0xdeadbeef), ...seq(140)];
const wgResp = (): number[] => [2, 0, 0, 0, ...le32(0x11223344), ...le32(0xdeadbeef), ...seq(80)];
const wgCookie = (): number[] => [3, 0, 0, 0, ...le32(0xdeadbeef), ...seq(56)];
const wgData = (hi: number, n = 48): number[] => [4, 0, 0, 0, ...le32(0xcafef00d), ...le32(0x87654321), ...le32(hi), ...seq(n - 16)];
const sll2 = (proto: number, ifindex: number, pkttype: number, hatype = 1): number[] =>
  [...be16(proto), 0, 0, ...be32(ifindex), ...be16(hatype), pkttype, 6, 2, 0, 0, 0, 0, 1, 0, 0];
const sll1 = (proto: number, pkttype: number): number[] => [...be16(pkttype), 0, 1, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0, ...be16(proto)];
const eth = (type: number): number[] => [2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, ...be16(type)];

const tcpOpts = [2, 4, 5, 0xb4, 1, 3, 3, 7, 4, 2, 8, 10, ...be32(0x80000001), ...be32(12345), 5, 18, ...be32(1000), ...be32(2000), ...be32(0xfffffff0), ...be32(0xffffffff)];

const SHAPES: Array<[string, number, number[]]> = [
  ['sll2 v4 tcp', 276, [...sll2(0x0800, 3, 4), ...ip4(6, tcp([1, 1, 8, 10, ...be32(7), ...be32(9)], seq(60)))]],
  ['sll2 v4 tcp options', 276, [...sll2(0x0800, 2, 0), ...ip4(6, tcp(tcpOpts, seq(10), 0x12))]],
  ['sll2 v4 wg init', 276, [...sll2(0x0800, 2, 4), ...ip4(17, udp(51820, 51820, wgInit()))]],
  ['sll2 v4 wg response', 276, [...sll2(0x0800, 2, 0), ...ip4(17, udp(51820, 40000, wgResp()))]],
  ['sll2 v4 wg cookie', 276, [...sll2(0x0800, 2, 0), ...ip4(17, udp(51820, 40000, wgCookie()))]],
  ['sll2 v4 wg data', 276, [...sll2(0x0800, 2, 1, 1), ...ip4(17, udp(40000, 51820, wgData(1)))]],
  ['sll2 v4 wg data, 2^53 counter', 276, [...sll2(0x0800, 2, 1), ...ip4(17, udp(40000, 51820, wgData(0x200000)))]],
  ['sll2 v4 wg keepalive', 276, [...sll2(0x0800, 3, 4, 65534), ...ip4(17, udp(40000, 51820, wgData(0, 32)))]],
  ['sll2 v6 udp', 276, [...sll2(0x86dd, 70000, 3), ...ip6(17, udp(1234, 5678, seq(30)))]],
  ['sll1 v4 udp', 113, [...sll1(0x0800, 4), ...ip4(17, udp(123, 40000, seq(48)))]],
  ['sll1 v4 natt esp', 113, [...sll1(0x0800, 0), ...ip4(17, udp(4500, 4500, [...be32(0xc0ffee), ...be32(7), ...seq(40)]))]],
  ['eth v6 tcp', 1, [...eth(0x86dd), ...ip6(6, tcp(tcpOpts, seq(100)))]],
  ['eth v4 tcp ip options', 1, [...eth(0x0800), ...ip4(6, tcp([], seq(20)), { hl: 28 })]],
  ['eth v4 udp dns', 1, [...eth(0x0800), ...ip4(17, udp(40000, 53, seq(30)))]],
  ['eth v4 fragment', 1, [...eth(0x0800), ...ip4(17, udp(1, 2, seq(30)), { fo: 0x2000 })]],
  ['eth vlan', 1, [...eth(0x8100), 0, 5, ...be16(0x0800), ...ip4(6, tcp([], []))]],
  ['eth v6 fragment header', 1, [...eth(0x86dd), ...ip6(44, [17, 0, 0, 1, ...be32(99), ...udp(1, 2, seq(8))])]],
  ['raw v4 esp', 101, ip4(50, [...be32(0x1234), ...be32(0x80000000), ...seq(64)])],
  ['raw v6 esp', 101, ip6(50, [...be32(0x1234), ...be32(1), ...seq(64)])],
  ['raw v4 icmp', 101, ip4(1, [8, 0, 0, 0, 0, 1, 0, 1, ...seq(8)])],
  ['ipv4 linktype, offloaded tcp', 228, ip4(6, tcp([], seq(40)), { totlen: 0 })],
  ['ipv6 linktype, jumbo udp', 229, ip6(17, udp(9, 10, seq(20), 0), 0)],
  ['null loopback', 0, [2, 0, 0, 0, ...ip4(6, tcp([], []))]],
];

test('built frames, every cut length and every single-byte header change: the same store either way', () => {
  let frames = 0, hits = 0;
  const VALUES = [0, 1, 4, 6, 0x11, 0x45, 0x60, 0x80, 0xff];
  for (const [label, linktype, bytes] of SHAPES) {
    const iface: CaptureInterface = { id: 0, name: 'eth0', linktype, snaplen: 262144, section: 0 };
    for (const [names, hash] of [[undefined, 'all'], [new Map([[3, 'wg0'], [2, 'eth0']]), 'all'], [undefined, 'udp']] as const) {
      const pair = new Pair(names, hash);
      let no = 0;
      const add = (data: number[], extra: Partial<RawFrame> = {}): void => {
        const u = Uint8Array.from(data);
        pair.add({ frame: ++no, offset: 0, ifaceId: 0, tsSec: 1700000000 + no, tsNsec: no * 1000, caplen: u.length, len: u.length, data: u, ...extra }, iface);
      };
      add(bytes);
      // Cut by the snap length (the wire length stays), and frames shorter than their IP header says.
      for (let cut = 0; cut < bytes.length; cut++) add(bytes.slice(0, cut), { len: bytes.length });
      for (let cut = 0; cut < bytes.length; cut++) add(bytes.slice(0, cut));
      for (let pos = 0; pos < Math.min(bytes.length, 96); pos++) {
        for (const v of [...VALUES, bytes[pos]! ^ 0x01, bytes[pos]! ^ 0x80]) {
          if (v === bytes[pos]) continue;
          const m = bytes.slice();
          m[pos] = v;
          add(m);
        }
      }
      // Frame fields: directions from pcapng flags, comments, odd numbers and times, caplen below the bytes held.
      for (const epbFlags of [0, 1, 2, 3, 7]) add(bytes, { epbFlags });
      add(bytes, { comments: ['a note'] });
      add(bytes, { comments: [] });
      add(bytes, { tsSec: 2 ** 32 });
      add(bytes, { tsSec: -1 });
      add(bytes, { tsSec: 1.5 });
      add(bytes, { frame: 2 ** 32 + 5 });
      add(bytes, { ifaceId: 0x10000 });
      add(bytes, { len: 2 ** 32 });
      add(bytes, { len: 10 });
      add(bytes, { caplen: bytes.length - 4 });
      check(pair, label);
      frames += pair.frames; hits += pair.hits;
    }
  }
  console.log(`# built: ${hits} of ${frames} frames took the fast path`);
  assert.ok(hits > frames / 4 && hits < frames, `${hits} of ${frames}`);
});

test('a pcap of several MiB read in pieces of every kind of size: loadCompact (records from the reader\'s buffers) agrees', async () => {
  // Every built shape and its cut forms, again and again with changing addresses: a file large enough
  // that the reader gathers input many times over (its buffers reused while records go to the sink).
  const recs: number[][] = [];
  for (let rep = 0; rep < 240; rep++) {
    for (const [, linktype, bytes] of SHAPES) {
      if (linktype !== 276) continue;
      for (let cut = 20; cut <= bytes.length; cut += 7) {
        const b = bytes.slice(0, cut);
        if (b.length > 35) b[35] = rep;
        recs.push(b);
      }
    }
  }
  const parts: number[] = [0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, ...le32(262144), ...le32(276)];
  recs.forEach((r, i) => parts.push(...le32(1700000000 + (i >> 10)), ...le32((i * 997) % 1000000), ...le32(r.length), ...le32(r.length + (i % 3) * 100), ...r));
  const file = Uint8Array.from(parts);
  assert.ok(file.length > 2 * 1024 * 1024, `${file.length} bytes`);
  const pair = new Pair();
  await readInto(file, pair);
  const ref = pair.ref.toImage().image;
  for (const n of [65536, 4096, 1000, 300000]) {
    const via = await loadCompact(pieces(file, n), { summary: false, batchSize: 128 });
    assert.equal(via.summary.frameCount, recs.length);
    sameImage(ref, via.packets.toImage().image, `pieces of ${n}`);
  }
});

test('interning stays in push order when fast and decoded rows mix, also past a page and with a table full', () => {
  const iface: CaptureInterface = { id: 0, name: 'eth0', linktype: 101, snaplen: 65535, section: 0 };
  const pair = new Pair();
  let no = 0;
  const add = (data: number[]): void => {
    const u = Uint8Array.from(data);
    pair.add({ frame: ++no, offset: 0, ifaceId: 0, tsSec: 1, tsNsec: 0, caplen: u.length, len: u.length, data: u }, iface);
  };
  // Addresses change often so the address column widens; rows cross a 32 768-row page.
  // Midway, made-up protocol names (as a hostile text import has them) fill the protocol table past
  // its column's 256 ids: WireGuard rows, new after that, stay plain on both paths; TCP, UDP and
  // ESP rows, named before, stay columns.
  for (let i = 0; i < 40000; i++) {
    if (i === 30000) {
      const p = decodeFrame({ frame: ++no, offset: 0, ifaceId: 0, tsSec: 1, tsNsec: 0, caplen: 40, len: 40, data: Uint8Array.from(ip4(6, tcp([], []))) }, iface, { summary: false });
      for (let j = 0; j < 300; j++) { const q = { ...p, proto: `made-up-${j}` }; pair.ref.push(q); pair.fast.push(q); }
    }
    const x = ip4(i % 5 === 0 ? 6 : i % 5 === 1 ? 17 : i % 5 === 2 ? 50 : i % 5 === 3 ? 1 : 47,
      i % 5 === 0 ? tcp([], seq(i % 50)) : i % 5 === 1 ? udp(1000 + (i % 300), 2000, i >= 30000 && i % 2 === 0 ? wgData(0, 32 + (i % 40)) : seq(i % 40)) : [...be32(i), ...be32(i * 7), ...seq(8)]);
    x[15] = i & 255; x[14] = (i >> 8) & 255;
    add(x);
  }
  check(pair, 'mixed');
  assert.ok(pair.hits > 15000 && pair.hits < 30000, `${pair.hits}`);
  // Loop step i sits at row i + 300 from step 30 000 on (after the made-up packets).
  const wg = pair.fast.at(39996 + 300)!, plainUdp = pair.fast.at(39991 + 300)!;
  assert.equal(wg.proto, 'wireguard');
  assert.equal(wg.constructor, Object, 'a WireGuard row after the table filled stays plain');
  assert.notEqual(plainUdp.constructor, Object, 'a UDP row after it is still a column row');
});
