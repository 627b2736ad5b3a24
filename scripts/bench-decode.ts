// In-process read+decode throughput on one file (no output formatting): `npx tsx scripts/bench-decode.ts FILE`.
// Prints one JSON line: frames, seconds, frames/s, peak RSS in MiB.
import { createReadStream } from 'node:fs';
import { loadCapture } from '../shared/ingest/load-capture.ts';

const file = process.argv[2];
if (!file) { console.error('usage: bench-decode.ts FILE'); process.exit(2); }
const t0 = performance.now();
let frames = 0;
let sink = 0;
const it = loadCapture(createReadStream(file, { highWaterMark: 1 << 20 }));
for (;;) {
  const step = await it.next();
  if (step.done) break;
  frames += step.value.packets.length;
  for (const p of step.value.packets) sink += p.len;
}
const s = (performance.now() - t0) / 1000;
console.log(JSON.stringify({ frames, seconds: s, rate: frames / s, rssMiB: process.resourceUsage().maxRSS / 1024, sink }));
