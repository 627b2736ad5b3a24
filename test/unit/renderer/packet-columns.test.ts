// The app stores packets in column chunks (shared/ingest/packet-columns.ts): every packet must read
// back exactly as decoded, through a real structured clone (what IndexedDB and postMessage do),
// whatever the chunk size, and old chunks of Packet objects must read the same way.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadAll } from '../../../shared/ingest/load-capture.ts';
import { ChunkPackets, COLUMN_BYTES_PER_ROW, encodeChunk, fromStoredChunk, LoadedChunk, plainPacket } from '../../../shared/ingest/packet-columns.ts';
import type { Packet } from '../../../shared/protocols/packet.ts';

const CORPUS = fileURLToPath(new URL('../../../../shared/corpus/tcpdump-tests/', import.meta.url));
const LAB = process.env['TANDEM_LAB_DIR'] ?? fileURLToPath(new URL('../../../out/lab/', import.meta.url));

function inputs(): string[] {
  const out = readdirSync(CORPUS).filter((f) => /\.(pcap|pcapng)$/.test(f)).sort().map((f) => join(CORPUS, f));
  if (existsSync(LAB)) {
    for (const run of readdirSync(LAB).sort()) {
      for (const f of ['A.pcapng', 'B-any.pcap', 'A.txt']) if (existsSync(join(LAB, run, f))) out.push(join(LAB, run, f));
    }
  } else console.log(`# ${LAB} missing: corpus only (run test/lab/lab.sh for the lab captures)`);
  return out;
}

/** Encodes `packets` in chunks of `size`, clones each as IndexedDB would, and loads them back. */
function roundTrip(packets: Packet[], size: number): ChunkPackets {
  const chunks: LoadedChunk[] = [];
  for (let i = 0; i < packets.length; i += size) {
    const { chunk } = encodeChunk(packets.slice(i, i + size));
    chunks.push(fromStoredChunk(structuredClone({ cols: chunk })));
  }
  return new ChunkPackets(chunks);
}

test('every packet of the corpus and the lab captures reads back exactly from column chunks', async () => {
  let packets = 0, viewed = 0, files = 0, sack = 0, wg = 0, lead = 0;
  for (const file of inputs()) {
    const { packets: want } = await loadAll(new Uint8Array(readFileSync(file)));
    if (want.length === 0) continue;
    files++;
    // 2000 is the app's chunk; 7 puts chunk edges everywhere.
    for (const size of [2000, 7]) {
      const got = roundTrip(want, size);
      assert.equal(got.length, want.length, file);
      for (let i = 0; i < want.length; i++) {
        const v = got.at(i)!;
        const w = want[i]!;
        assert.deepStrictEqual(plainPacket(v), w, `${file} #${i + 1} (chunks of ${size})`);
        // Field reads through the view agree too (analysis and filters read them this way).
        assert.equal(v.summary, w.summary);
        assert.deepEqual(v.tcp, w.tcp);
        assert.deepEqual(v.wg, w.wg);
        assert.deepStrictEqual(JSON.parse(JSON.stringify(v)), JSON.parse(JSON.stringify(w)));
        if (size === 2000 && v.constructor !== Object) {
          viewed++;
          if (w.tcp?.sack) sack++;
          if (w.wg) wg++;
        }
      }
      assert.deepStrictEqual([...got].map((p) => p.frame), want.map((p) => p.frame));
      if (size === 2000) for (const c of got.chunks) lead += c.cols.sumLead.reduce((a, x) => a + x, 0);
      assert.equal(got.at(-1), undefined);
      assert.equal(got.at(want.length), undefined);
    }
    packets += want.length;
  }
  console.log(`# ${packets} packets in ${files} files; ${viewed} held as columns (${sack} with SACK, ${wg} WireGuard, ${lead} summaries stored without their lead-in)`);
  // The lead-in is rebuilt for nearly every column row (the stored text is that much shorter).
  assert.ok(lead > viewed * 0.9, `${lead} of ${viewed}`);
  assert.ok(viewed > packets / 4, 'the common shapes go to columns');
  assert.ok(sack > 0 && (!existsSync(LAB) || wg > 0), 'SACK and WireGuard rows go to columns too');
});

test('old chunks of Packet objects (schema v1/v2 sessions) read the same as new ones', async () => {
  const file = join(CORPUS, readdirSync(CORPUS).filter((f) => f.endsWith('.pcap')).sort()[0]!);
  const { packets } = await loadAll(new Uint8Array(readFileSync(file)));
  const old = fromStoredChunk(structuredClone({ packets: packets.slice(0, 2000) }));
  for (let k = 0; k < old.length; k++) assert.deepStrictEqual(plainPacket(old.at(k)!), packets[k]);
});

test('values the columns cannot hold exactly stay the decoder objects', () => {
  const base: Packet = {
    frame: 1, tsSec: 1_700_000_000, tsNsec: 5, iface: 'eth0', ifaceId: 0, dir: 'out', linktype: 1, caplen: 60, len: 60,
    src: '10.0.0.1', dst: '10.0.0.2', proto: 'udp', sport: 1, dport: 2, ip: { v: 4, id: 1, ttl: 64, len: 40, df: true, proto: 17 },
    udp: { len: 20 }, summary: 'x',
  };
  const odd: Packet[] = [
    { ...base, frame: 2 ** 32 },
    { ...base, tsSec: -1 },
    { ...base, tsSec: 1.5 },
    { ...base, ifindex: 70_000 },
    { ...base, wg: { type: 4, counter: '18446744073709551615' } },
    { ...base, wg: { type: 4, counter: '007' } },
    { ...base, ip: { ...base.ip!, id: undefined } },
    { ...base, dir: 'sideways' as Packet['dir'] },
    { ...base, proto: 'tcp', udp: undefined, tcp: { flags: 'S', seq: 2 ** 32, ack: 0, win: 1, len: 0 } },
  ];
  const { chunk } = encodeChunk([base, ...odd]);
  const back = new LoadedChunk(structuredClone(chunk));
  assert.equal(back.at(0)!.constructor === Object, false, 'the ordinary row is a view');
  for (let i = 0; i < odd.length; i++) {
    assert.equal(back.at(i + 1)!.constructor, Object, `odd row ${i} kept as its own object`);
    assert.deepStrictEqual(back.at(i + 1), odd[i]);
  }
  assert.deepStrictEqual(plainPacket(back.at(0)!), base);
  assert.equal(chunk.buf.byteLength, COLUMN_BYTES_PER_ROW * (odd.length + 1));
});

test('chunks of uneven size (live capture, old sessions) are found by position', async () => {
  const { packets } = await loadAll(new Uint8Array(readFileSync(join(CORPUS, 'afs.pcap'))));
  assert.ok(packets.length > 20);
  const sizes = [3, 10, 1, packets.length - 14];
  const chunks: LoadedChunk[] = [];
  let at = 0;
  for (const s of sizes) {
    chunks.push(new LoadedChunk(encodeChunk(packets.slice(at, at + s)).chunk));
    at += s;
  }
  const list = new ChunkPackets(chunks);
  for (let i = 0; i < packets.length; i++) assert.equal(list.at(i)!.frame, packets[i]!.frame);
});

test('a chunk from a newer format is refused with one clear line', () => {
  const { chunk } = encodeChunk([]);
  assert.throws(() => new LoadedChunk({ ...chunk, v: 2 as 1 }), /packet chunk format 2 is newer than this version of Tandem/);
});

test('a summary loses its lead-in exactly when it starts with it, near misses included', () => {
  const v4: Packet = {
    frame: 1, tsSec: 1_700_000_000, tsNsec: 5, iface: 'eth0', ifaceId: 0, dir: 'out', linktype: 1, caplen: 60, len: 60,
    src: '10.0.0.1', dst: '10.0.0.2', proto: 'udp', sport: 1, dport: 2, ip: { v: 4, id: 1, ttl: 64, len: 40, df: true, proto: 17 },
    udp: { len: 20 }, summary: '',
  };
  const v6: Packet = { ...v4, src: 'fe80::1', dst: 'fe80::a', ip: { v: 6, ttl: 64, len: 40, proto: 17 } };
  const { sport: _s, dport: _d, udp: _u, ...noPorts } = v4;
  const esp: Packet = { ...noPorts, proto: 'esp', ip: { ...v4.ip!, proto: 50 }, esp: { spi: 7, seq: 1 } };
  const rows: Packet[] = [
    { ...v4, summary: 'IP 10.0.0.1.1 > 10.0.0.2.2: UDP, length 12' },
    { ...v4, summary: 'IP 10.0.0.1.1 > 10.0.0.2.2: ' },
    { ...v4, summary: 'IP 10.0.0.1.1 > 10.0.0.2.2:' },
    { ...v4, summary: 'IP 10.0.0.1.1 > 10.0.0.2.2' },
    { ...v4, summary: 'IP 10.0.0.1.1 > 10.0' },
    { ...v4, summary: 'IP 10.0.0.1' },
    { ...v4, summary: '' },
    { ...v4, summary: 'IP 10.0.0.1.10 > 10.0.0.2.2: x' },
    { ...v4, summary: 'IP 10.0.0.1.01 > 10.0.0.2.2: x' },
    { ...v4, summary: 'IP 10.0.0.1.1 > 10.0.0.2.20: x' },
    { ...v4, summary: 'IP 10.0.0.10.1 > 10.0.0.2.2: x' },
    { ...v4, summary: 'IP 10.0.0.1 > 10.0.0.2: x' },
    { ...v4, summary: 'IP6 10.0.0.1.1 > 10.0.0.2.2: x' },
    { ...v4, sport: 0, dport: 65535, summary: 'IP 10.0.0.1.0 > 10.0.0.2.65535: x' },
    { ...v4, sport: 0, dport: 65535, summary: 'IP 10.0.0.1.0 > 10.0.0.2.6553: x' },
    { ...v4, sport: 9, dport: 10, summary: 'IP 10.0.0.1.9 > 10.0.0.2.10: x' },
    { ...v4, sport: 9, dport: 10, summary: 'IP 10.0.0.1.9 > 10.0.0.2.11: x' },
    { ...v4, sport: 9, dport: 10, summary: 'IP 10.0.0.1.9 > 10.0.0.2.20: x' },
    { ...v4, sport: 9, dport: 10, summary: 'IP 10.0.0.1.8 > 10.0.0.2.10: x' },
    { ...v6, summary: 'IP6 fe80::1.1 > fe80::a.2: x' },
    { ...v6, summary: 'IP fe80::1.1 > fe80::a.2: x' },
    { ...v6, summary: 'IP6 fe80::1.1 > fe80::a.2 x' },
    { ...esp, summary: 'IP 10.0.0.1 > 10.0.0.2: ESP(spi=0x00000007,seq=0x1), length 20' },
    { ...esp, summary: 'IP 10.0.0.1.1 > 10.0.0.2.2: ESP' },
  ];
  // The lead-in as the decoder writes it, built whole: what the encoder must find in place.
  const leadOf = (p: Packet): string =>
    `${p.ip!.v === 6 ? 'IP6' : 'IP'} ${p.src}${p.sport !== undefined ? `.${p.sport}` : ''} > ${p.dst}${p.dport !== undefined ? `.${p.dport}` : ''}: `;
  const { chunk } = encodeChunk(rows);
  const back = new LoadedChunk(structuredClone(chunk));
  let cut = 0;
  rows.forEach((p, k) => {
    const want = p.summary.startsWith(leadOf(p));
    assert.equal(back.cols.sumLead[k], want ? 1 : 0, `row ${k}: ${p.summary}`);
    assert.equal(chunk.sum.slice(chunk.sumOff[k], chunk.sumOff[k + 1]), want ? p.summary.slice(leadOf(p).length) : p.summary, `row ${k}`);
    assert.equal(back.summaryAt(k), p.summary, `row ${k}`);
    assert.deepStrictEqual(plainPacket(back.at(k)!), p, `row ${k}`);
    if (want) cut++;
  });
  assert.equal(cut, 6, 'the rows that start with their lead-in');
});
