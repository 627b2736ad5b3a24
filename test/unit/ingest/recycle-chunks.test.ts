// A recycling source (readCapture's RecyclingSource, what `tandem analyze` reads files through)
// refills its last chunk's buffer on the next read once the reader says so. The reader must then
// keep no chunk past the next read: a source here overwrites the previous chunk with junk before
// handing out the next, and the store must come out the same as from the whole file at once, for
// pcap (recycled) in pieces of many sizes with records torn across them, records larger than the
// reader's gather size, and pcapng, gzip and text (not recycled: the flag must stay off).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import type { RecyclingSource } from '../../../shared/capture-file/reader.ts';
import { loadCompact } from '../../../shared/ingest/load-capture.ts';
import type { PacketStore } from '../../../shared/ingest/packet-store.ts';

const LAB = process.env.TANDEM_LAB_DIR ?? '/tmp/tandem-lab';
const scenarios = existsSync(LAB) ? readdirSync(LAB).filter((s) => existsSync(join(LAB, s, 'A-any.pcap'))).sort() : [];
const skipLab = scenarios.length > 0 ? false : `no lab captures in ${LAB} (set TANDEM_LAB_DIR)`;
if (skipLab) console.log(`# skip recycle-chunks lab cases: ${skipLab}`);

/** `bytes` in pieces of the sizes given (cycled) through one buffer, junk written over the last piece once recycling. */
function poisoning(bytes: Uint8Array, sizes: number[]): RecyclingSource & { recycled: number } {
  const src = {
    recycle: false, recycled: 0,
    [Symbol.asyncIterator]: async function* () {
      const max = Math.max(...sizes);
      let last: Uint8Array | null = null;
      for (let o = 0, k = 0; o < bytes.length; k++) {
        const n = Math.min(sizes[k % sizes.length]!, bytes.length - o);
        let b: Uint8Array;
        if (src.recycle && last !== null) { last.fill(0xa5); b = last; src.recycled++; } else b = new Uint8Array(max);
        last = b;
        b.set(bytes.subarray(o, o + n));
        o += n;
        yield b.subarray(0, n);
      }
    },
  };
  return src;
}

async function image(source: Uint8Array | RecyclingSource): Promise<unknown> {
  const r = await loadCompact(source, { summary: false, keepBytes: true });
  const { image } = (r.packets as PacketStore).toImage();
  return { image, frames: r.frames.map((f) => Array.from(f)), summary: r.summary };
}

/** A classic pcap (Ethernet) with records of the given lengths, each a UDP datagram of that size. */
function pcapWith(lengths: number[]): Uint8Array {
  const parts: number[] = [];
  const le32 = (v: number): number[] => [v & 255, (v >>> 8) & 255, (v >>> 16) & 255, (v >>> 24) & 255];
  parts.push(...le32(0xa1b2c3d4), 2, 0, 4, 0, ...le32(0), ...le32(0), ...le32(1 << 20), ...le32(1));
  const out: Uint8Array[] = [Uint8Array.from(parts)];
  lengths.forEach((len, i) => {
    const f = new Uint8Array(16 + len);
    f.set([...le32(1_700_000_000 + i), ...le32(i), ...le32(len), ...le32(len)]);
    const ip = 14, udp = ip + 20, ipLen = len - 14;
    f.set([2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 8, 0], 16);
    f.set([0x45, 0, ipLen >>> 8, ipLen & 255, 0, i & 255, 0x40, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2], 16 + ip);
    f.set([0x9c, 0x40, 0xca, 0x6c, (ipLen - 20) >>> 8, (ipLen - 20) & 255, 0, 0], 16 + udp);
    for (let j = 16 + udp + 8; j < f.length; j++) f[j] = (j * 7 + i) & 255;
    out.push(f);
  });
  const all = new Uint8Array(out.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of out) { all.set(p, o); o += p.length; }
  return all;
}

test('pcap through a recycling source: the same store, frames and summary as from one buffer, in pieces of many sizes', { skip: skipLab }, async () => {
  let recycled = 0, files = 0;
  for (const s of scenarios) {
    for (const f of ['A-any.pcap', 'B-any.pcap']) {
      const bytes = new Uint8Array(readFileSync(join(LAB, s, f)));
      const want = await image(bytes);
      // Byte by byte on the first file only (a million chunks a file otherwise).
      for (const sizes of files === 0 ? [[1], [7, 300, 13], [64], [1500, 3], [65536]] : [[7, 300, 13], [1500, 3], [65536]]) {
        const src = poisoning(bytes, sizes);
        assert.deepStrictEqual(await image(src), want, `${s}/${f} in pieces of ${sizes.join('/')}`);
        assert.equal(src.recycle, true, `${s}/${f}: a pcap read with a sink recycles`);
        recycled += src.recycled;
      }
      files++;
    }
  }
  console.log(`# ${files} pcap files, ${recycled} chunks refilled`);
  assert.ok(recycled > 1000, `${recycled} chunks refilled`);
});

test('records longer than the reader gathers at once (300 KB, 1 MB) among small ones, torn across pieces', async () => {
  const bytes = pcapWith([100, 300_000, 60, 1_048_000, 1514, 70, 262_200, 90]);
  const want = await image(bytes);
  for (const sizes of [[4096], [65536], [100_000, 7], [3]]) {
    const src = poisoning(bytes, sizes);
    assert.deepStrictEqual(await image(src), want, `pieces of ${sizes.join('/')}`);
    assert.ok(src.recycled > 0, 'chunks were refilled');
  }
  const r = await loadCompact(bytes, { summary: false });
  assert.equal(r.packets.length, 8, 'every record read');
  assert.equal(r.summary.complete, true, 'no problem');
});

test('pcapng, gzip and text are read without recycling (their frames or lines may point into a chunk)', { skip: skipLab }, async () => {
  const s = scenarios[0]!;
  const cases: Array<[string, Uint8Array]> = [
    ['pcapng', new Uint8Array(readFileSync(join(LAB, s, 'A.pcapng')))],
    ['gzip pcap', new Uint8Array(gzipSync(readFileSync(join(LAB, s, 'A-any.pcap'))))],
  ];
  if (existsSync(join(LAB, s, 'A.txt'))) cases.push(['text', new Uint8Array(readFileSync(join(LAB, s, 'A.txt')))]);
  for (const [what, bytes] of cases) {
    const src = poisoning(bytes, [100]);
    const want = await image(bytes);
    assert.deepStrictEqual(await image(src), want, `${what}: same as from one buffer`);
    assert.equal(src.recycle, false, `${what}: not recycled`);
    assert.equal(src.recycled, 0, `${what}: no chunk refilled`);
  }
});
