// In-process read+decode throughput on one file (no output formatting): `npx tsx scripts/bench-decode.ts FILE [MODE]`.
// MODE: 'packets' (default: loadCapture's packets), 'chunks' (the app import's stored chunks, FrameChunker:
// common shapes from their bytes) or 'chunks-decoded' (the same chunks from decodeFrame's packets, encodeChunk).
// Prints one JSON line: frames, seconds, frames/s, peak RSS in MiB.
import { createReadStream } from 'node:fs';
import { readCapture } from '../shared/capture-file/reader.ts';
import { loadCapture } from '../shared/ingest/load-capture.ts';
import { FrameChunker } from '../shared/ingest/frame-chunks.ts';
import { encodeChunk } from '../shared/ingest/packet-columns.ts';
import { decodeFrame, type Packet } from '../shared/protocols/index.ts';

const [file, mode = 'packets'] = process.argv.slice(2);
if (!file || !['packets', 'chunks', 'chunks-decoded'].includes(mode)) { console.error('usage: bench-decode.ts FILE [packets|chunks|chunks-decoded]'); process.exit(2); }
const input = () => createReadStream(file, { highWaterMark: 1 << 20 });
const t0 = performance.now();
let frames = 0;
let sink = 0;
if (mode === 'packets') {
  const it = loadCapture(input());
  for (;;) {
    const step = await it.next();
    if (step.done) break;
    frames += step.value.packets.length;
    for (const p of step.value.packets) sink += p.len;
  }
} else {
  // The import worker's chunk size (renderer/src/db/schema.ts CHUNK_SIZE).
  const ROWS = 2000;
  const chunker = new FrameChunker(ROWS);
  let packets: Packet[] = [];
  const it = readCapture(input(), { batchSize: ROWS });
  for (;;) {
    const step = await it.next();
    if (step.done) break;
    const { frames: batch, interfaces } = step.value;
    frames += batch.length;
    for (const f of batch) {
      if (mode === 'chunks') {
        chunker.addFrame(f, interfaces[f.ifaceId]!);
        if (chunker.length === ROWS) sink += chunker.take().chunk.sum.length;
      } else {
        packets.push(decodeFrame(f, interfaces[f.ifaceId]!));
        if (packets.length === ROWS) { sink += encodeChunk(packets).chunk.sum.length; packets = []; }
      }
    }
  }
  sink += mode === 'chunks' ? chunker.take().chunk.sum.length : encodeChunk(packets).chunk.sum.length;
}
const s = (performance.now() - t0) / 1000;
console.log(JSON.stringify({ frames, seconds: s, rate: frames / s, rssMiB: process.resourceUsage().maxRSS / 1024, sink }));
