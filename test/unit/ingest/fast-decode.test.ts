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
import { be32, ip4, labFiles, le32, neighbours, parseLinks, seq, SHAPES, tcp, udp, wgData } from './built-frames.ts';

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
  const files = labFiles(LAB);
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


test('built frames, every cut length and every single-byte header change: the same store either way', () => {
  let frames = 0, hits = 0;
  for (const [label, linktype, bytes] of SHAPES) {
    const iface: CaptureInterface = { id: 0, name: 'eth0', linktype, snaplen: 262144, section: 0 };
    for (const [names, hash] of [[undefined, 'all'], [new Map([[3, 'wg0'], [2, 'eth0']]), 'all'], [undefined, 'udp']] as const) {
      const pair = new Pair(names, hash);
      for (const f of neighbours(bytes)) pair.add(f, iface);
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
