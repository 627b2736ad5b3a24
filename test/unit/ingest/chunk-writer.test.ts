// The app's import writes stored column chunks through FrameChunker (shared/ingest/frame-chunks.ts):
// the common shapes go from their bytes straight into the columns with their summaries. Each chunk
// must be the one encodeChunk makes of decodeFrame's packets, byte for byte (columns, string table,
// summaries, SACK lists, plain packets), over the tcpdump corpus, the lab captures and built frames
// with all their neighbours; and what a reader gets back (rows, summaries) must be the same too.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readCapture } from '../../../shared/capture-file/reader.ts';
import type { CaptureInterface, RawFrame } from '../../../shared/capture-file/types.ts';
import { FrameChunker } from '../../../shared/ingest/frame-chunks.ts';
import { encodeChunk, LoadedChunk, plainPacket, type ColumnChunk } from '../../../shared/ingest/packet-columns.ts';
import { decodeFrame } from '../../../shared/protocols/index.ts';
import type { Packet } from '../../../shared/protocols/packet.ts';
import { be32, labFiles, neighbours, SHAPES } from './built-frames.ts';

const CORPUS = fileURLToPath(new URL('../../../../shared/corpus/tcpdump-tests/', import.meta.url));
const LAB = process.env.TANDEM_LAB_DIR ?? fileURLToPath(new URL('../../../out/lab/', import.meta.url));

/** Both ways over the same frames, `rows` per chunk: encodeChunk of decoded packets, and FrameChunker. */
class Both {
  readonly ref: ColumnChunk[] = [];
  readonly fast: ColumnChunk[] = [];
  /** The decoded packets of each chunk. */
  readonly decoded: Packet[][] = [];
  private packets: Packet[] = [];
  private readonly chunker: FrameChunker;
  frames = 0;
  constructor(private readonly rows: number) {
    this.chunker = new FrameChunker(rows);
  }
  addFrame(f: RawFrame, iface: CaptureInterface): void {
    this.frames++;
    this.packets.push(decodeFrame(f, iface));
    this.chunker.addFrame(f, iface);
    if (this.packets.length === this.rows) this.flush();
  }
  addPacket(p: Packet): void {
    this.packets.push(p);
    this.chunker.addPacket(p);
    if (this.packets.length === this.rows) this.flush();
  }
  flush(): void {
    assert.equal(this.chunker.length, this.packets.length);
    if (this.packets.length === 0) return;
    this.ref.push(encodeChunk(this.packets).chunk);
    this.fast.push(this.chunker.take().chunk);
    this.decoded.push(this.packets);
    this.packets = [];
  }
}

/** Rows of a chunk held as columns (not plain packets). */
function columnRows(c: ColumnChunk): number {
  return c.n - (c.plainRows?.length ?? 0);
}

function sameChunks(b: Both, label: string): void {
  b.flush();
  assert.equal(b.fast.length, b.ref.length, `${label}: chunks`);
  for (let j = 0; j < b.ref.length; j++) {
    const r = b.ref[j]!, f = b.fast[j]!;
    const where = `${label} chunk ${j}`;
    assert.equal(f.n, r.n, `${where}: rows`);
    assert.deepStrictEqual(f.strs, r.strs, `${where}: strings`);
    assert.equal(f.buf.byteLength, r.buf.byteLength, `${where}: column bytes`);
    const fb = new Uint8Array(f.buf), rb = new Uint8Array(r.buf);
    for (let i = 0; i < rb.length; i++) if (fb[i] !== rb[i]) assert.fail(`${where}: column byte ${i}: ${fb[i]} != ${rb[i]}`);
    if (f.sum !== r.sum) {
      const lr = new LoadedChunk(r), lf = new LoadedChunk(f);
      for (let k = 0; k < r.n; k++) assert.equal(lf.summaryAt(k), lr.summaryAt(k), `${where} row ${k}: summary`);
    }
    assert.equal(f.sum, r.sum, `${where}: summaries`);
    assert.deepStrictEqual(f.sumOff, r.sumOff, `${where}: summary offsets`);
    assert.deepStrictEqual(f.sack, r.sack, `${where}: SACK`);
    assert.deepStrictEqual(f.plainRows, r.plainRows, `${where}: plain rows`);
    assert.deepStrictEqual(f.plain, r.plain, `${where}: plain packets`);
    // And read back as stored (structured clone): every row is the decoded packet, summary included.
    const lf = new LoadedChunk(structuredClone(f));
    for (let k = 0; k < f.n; k++) assert.deepStrictEqual(plainPacket(lf.at(k)!), b.decoded[j]![k], `${where} row ${k}`);
  }
}

async function readInto(bytes: Uint8Array, b: Both): Promise<void> {
  const g = readCapture(bytes, { batchSize: 700 });
  for (;;) {
    const s = await g.next();
    if (s.done) return;
    for (const f of s.value.frames) b.addFrame(f, s.value.interfaces[f.ifaceId]!);
    for (const p of s.value.packets ?? []) b.addPacket(p);
  }
}

test('corpus: chunks written from the bytes are the chunks encoded from decoded packets, byte for byte', async () => {
  const files = readdirSync(CORPUS).filter((f) => /\.(pcap|pcapng)$/.test(f)).sort();
  assert.ok(files.length > 800, `corpus has ${files.length} capture files`);
  let frames = 0, columns = 0;
  for (const f of files) {
    // A small chunk size, so that chunks start and end (and tables restart) all through the files.
    const b = new Both(97);
    await readInto(new Uint8Array(readFileSync(join(CORPUS, f))), b);
    sameChunks(b, f);
    frames += b.frames;
    for (const c of b.fast) columns += columnRows(c);
  }
  console.log(`# corpus: ${frames} frames, ${columns} column rows`);
  assert.ok(columns > 1000, `${columns} column rows`);
});

test('lab captures: the same chunks either way, also at the app\'s chunk size', async (t) => {
  const files = labFiles(LAB);
  if (files.length === 0) { t.skip(`no lab captures at ${LAB} (set TANDEM_LAB_DIR)`); return; }
  let frames = 0, columns = 0;
  for (const [i, file] of files.entries()) {
    const b = new Both(i % 2 === 0 ? 2000 : 333);
    await readInto(new Uint8Array(readFileSync(file)), b);
    sameChunks(b, file);
    frames += b.frames;
    for (const c of b.fast) columns += columnRows(c);
  }
  console.log(`# lab: ${frames} frames in ${files.length} files, ${columns} column rows`);
  assert.ok(columns > 0.9 * frames, `${columns} of ${frames}`);
});

test('built frames and all their neighbours (cut lengths, byte changes, odd frame fields): the same chunks either way', () => {
  let frames = 0;
  for (const [label, linktype, bytes] of SHAPES) {
    const iface: CaptureInterface = { id: 0, name: 'eth0', linktype, snaplen: 262144, section: 0 };
    const b = new Both(64);
    for (const f of neighbours(bytes)) b.addFrame(f, iface);
    sameChunks(b, label);
    frames += b.frames;
  }
  assert.ok(frames > 10000, `${frames} frames`);
});

test('TCP options of every kind, cut at every length and broken, word the same summary', () => {
  // The option list is the one part of a summary worded from a variable run of bytes: EOL, NOP, each
  // kind with its own length, unknown kinds, a length below 2, a length past the header.
  const lists: number[][] = [
    [2, 4, 5, 0xb4, 4, 2, 8, 10, ...be32(1), ...be32(0), 1, 3, 3, 7],
    [1, 1, 5, 10, ...be32(100), ...be32(200), 1, 1],
    [5, 34, ...Array.from({ length: 32 }, (_, i) => i * 7)],
    [19, 18, ...new Array(16).fill(0xaa)],
    [29, 4, 1, 2, 30, 4, 0, 1, 34, 2, 1, 1, 99, 2],
    [0, 2, 4, 5, 0xb4],
    [1, 1, 1, 2, 1, 0, 0, 0],
    [2, 0, 0, 0],
    [3, 3, 14, 8, 10, 0, 0],
  ];
  const iface: CaptureInterface = { id: 0, name: 'eth0', linktype: 101, snaplen: 262144, section: 0 };
  const b = new Both(50);
  let no = 0;
  for (const opts of lists) {
    const padded = [...opts, ...new Array((4 - (opts.length % 4)) % 4).fill(1)].slice(0, 40);
    const doff = 20 + padded.length;
    const segment = [0x9c, 0x40, 0, 80, ...be32(7), ...be32(9), (doff / 4) << 4, 0x3a, 1, 0, 0, 0, 0, 5, ...padded, 1, 2, 3];
    const ip = [0x45, 0, 0, 20 + segment.length, 0, 1, 0x40, 0, 64, 6, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2, ...segment];
    for (let cut = 20; cut <= ip.length; cut++) {
      const data = Uint8Array.from(ip.slice(0, cut));
      b.addFrame({ frame: ++no, offset: 0, ifaceId: 0, tsSec: 1, tsNsec: no, caplen: data.length, len: ip.length, data }, iface);
    }
  }
  sameChunks(b, 'options');
  const summaries = b.fast.flatMap((c) => { const l = new LoadedChunk(c); return Array.from({ length: c.n }, (_, k) => plainPacket(l.at(k)!).summary); });
  // The fast path took the whole headers and worded every kind (urgent pointer, EOL, unknown, a bad length too).
  for (const part of ['urg 5', 'mss 1460,sackOK,TS val 1 ecr 0,nop,wscale 7', 'sack 4 ', 'md5', 'tcp-ao,mptcp,tfo,nop,nop,unknown-99', 'eol', 'bad opt']) {
    assert.ok(summaries.some((s) => s.includes(part)), `a summary has "${part}"`);
  }
});

test('real frames with seeded random changes (several bytes of their headers, a cut): the same chunks either way', async () => {
  // Neighbours the built shapes do not reach: real frames of every link type in the corpus and the
  // lab. Each file's first 100 frames are changed 8 times each, at 1 to 4 random places in their first
  // 80 bytes; a quarter of the changed frames are cut short too.
  let seed = 0x2545f491;
  const rand = (n: number): number => {
    seed ^= seed << 13; seed ^= seed >>> 17; seed ^= seed << 5;
    return (seed >>> 0) % n;
  };
  const files = [...readdirSync(CORPUS).filter((f) => /\.(pcap|pcapng)$/.test(f)).sort().map((f) => join(CORPUS, f)), ...labFiles(LAB)];
  let frames = 0, columns = 0;
  for (const file of files) {
    const b = new Both(211);
    const g = readCapture(new Uint8Array(readFileSync(file)), { batchSize: 256 });
    for (let seen = 0; seen < 100;) {
      const s = await g.next();
      if (s.done) break;
      for (const f of s.value.frames) {
        if (seen++ >= 100) break;
        for (let v = 0; v < 8; v++) {
          const data = Uint8Array.from(f.data);
          for (let c = 1 + rand(4); c > 0 && data.length > 0; c--) data[rand(Math.min(80, data.length))] = rand(256);
          const cut = rand(4) === 0 ? rand(data.length + 1) : data.length;
          const bytes = data.subarray(0, cut);
          b.addFrame({ ...f, data: bytes, caplen: bytes.length }, s.value.interfaces[f.ifaceId]!);
        }
      }
    }
    sameChunks(b, file);
    frames += b.frames;
    for (const c of b.fast) columns += columnRows(c);
  }
  console.log(`# changed frames: ${frames}, ${columns} kept as column rows`);
  assert.ok(frames > 60000 && columns > 20000, `${frames} frames, ${columns} column rows`);
});
