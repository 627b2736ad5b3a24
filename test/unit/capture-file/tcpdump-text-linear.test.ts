// The text reader runs in time linear in its input (issue 13 item 5). For each shape that used to be
// super-linear (prompt stripping, the ICMP quoted header, a long line streamed in small chunks, many
// interface names) and for a few neighbours, the time for size 4n is compared with the time for n:
// linear code gives ~4, quadratic ~16, cubic ~64. Ratios, not wall-clock bounds, so a slow or busy
// machine does not fail it. Also: the line-length limit and bounded memory for one 64 MiB line.
// The full-size cases of the issue are in test/fixtures/text/stress.ts (prints time and peak RSS).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readCapture } from '../../../shared/capture-file/reader.ts';
import { MAX_LINE } from '../../../shared/capture-file/text/lines.ts';

const enc = new TextEncoder();

async function* pieces(b: Uint8Array, size: number): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < b.length; i += size) yield b.subarray(i, Math.min(b.length, i + size));
}

async function parse(input: Uint8Array, chunk = 64 * 1024) {
  const g = readCapture(pieces(input, chunk));
  let packets = 0;
  let r = await g.next();
  while (!r.done) { packets += r.value.packets?.length ?? 0; r = await g.next(); }
  return { packets, summary: r.value };
}

/**
 * Times n and 4n alternately, best of five each: a burst of other work on the machine then slows
 * both sizes alike instead of one of them.
 */
async function ratio(small: Uint8Array, large: Uint8Array, chunk?: number): Promise<{ t1: number; t4: number }> {
  let t1 = Infinity, t4 = Infinity;
  for (let i = 0; i < 5; i++) {
    let t0 = performance.now();
    await parse(small, chunk);
    t1 = Math.min(t1, performance.now() - t0);
    t0 = performance.now();
    await parse(large, chunk);
    t4 = Math.min(t4, performance.now() - t0);
  }
  return { t1, t4 };
}

const PKT = '12:00:00.000000 IP 192.0.2.1.1 > 192.0.2.2.2: UDP, length 1';
/** The same line `copies` times, so each size takes long enough to time (the per-line cost is what grows). */
const COPIES = 200;
const lines = (line: string, copies: number) => enc.encode((line + '\n').repeat(copies) + PKT + '\n');

interface Shape { name: string; make: (n: number) => Uint8Array; n: number; chunk?: number }

const SHAPES: Shape[] = [
  // Quadratic before: the prompt expression backtracked over every '@' of the first word.
  { name: 'prompt-like first word', n: 15000, make: (n) => lines('@'.repeat(n) + ' tcpdump -n', COPIES) },
  { name: 'prompt-like, ":" and "$" runs', n: 15000, make: (n) => lines(':$'.repeat(n / 2) + 'x tcpdump', COPIES) },
  // Cubic before: ICMP error words followed by many unclosed quoted-header starts.
  { name: 'ICMP error with unclosed quoted headers', n: 15000, make: (n) => lines('12:00:00.000000 IP 192.0.2.1 > 192.0.2.2: ICMP ' + 'unreachable IP ( ('.repeat(n / 18), COPIES) },
  { name: 'ICMP error with closed headers and no endpoints', n: 15000, make: (n) => lines('12:00:00.000000 IP 192.0.2.1 > 192.0.2.2: ICMP host 192.0.2.9 unreachable' + ' IP (x) y'.repeat(n / 9), COPIES) },
  { name: 'IKE notify starts without types', n: 15000, make: (n) => lines('12:00:00.000000 IP 192.0.2.1.500 > 192.0.2.2.500: isakmp: parent_sa ikev2_init[R]: ' + '(n: '.repeat(n / 4), COPIES) },
  { name: 'long endpoint-like tokens', n: 15000, make: (n) => lines('12:00:00.000000 IP ' + 'a'.repeat(n / 2) + ' > ' + 'b:'.repeat(n / 4) + ' UDP, length 1', COPIES) },
  { name: 'long continuation blocks', n: 2000, make: (n) => enc.encode((PKT + '\n' + '    (t: #1 type=encr id=aes)\n'.repeat(n)).repeat(20)) },
  { name: 'indentation runs', n: 15000, make: (n) => lines(' \t>'.repeat(n / 3) + 'x', COPIES) },
  // Quadratic before: a line spread over many chunks was re-joined and re-split for every chunk.
  { name: 'long lines in 16-byte chunks', n: 15000, chunk: 16, make: (n) => enc.encode((PKT + ' ' + 'q'.repeat(n) + '\n').repeat(20)) },
  // Quadratic before: every packet searched the interface list.
  { name: 'distinct interface names', n: 5000, make: (n) => enc.encode(Array.from({ length: n }, (_, i) => `12:00:00.000000 if${i} In  IP 192.0.2.1.1 > 192.0.2.2.2: UDP, length 1\n`).join('')) },
];

for (const s of SHAPES) {
  test(`linear time: ${s.name}`, async () => {
    const small = s.make(s.n), large = s.make(4 * s.n);
    // Warm the JIT first, so the first timed run is not the slow one.
    await parse(small, s.chunk);
    // Both sizes stay under the line limit: the parser itself is timed, not the skipping of long lines.
    const { summary } = await parse(large, s.chunk);
    assert.ok(!summary.problems.some((p) => p.message.includes('longer than')), `${s.name}: 4n hits the line limit`);
    // Linear code gives ~4, quadratic ~16. A busy machine can inflate one measurement, never make
    // quadratic code look linear: up to three measurements, one under 10 passes.
    const seen: string[] = [];
    for (let attempt = 0; attempt < 3; attempt++) {
      const { t1, t4 } = await ratio(small, large, s.chunk);
      const r = t4 / Math.max(t1, 0.5);
      seen.push(`${t1.toFixed(1)} → ${t4.toFixed(1)} ms (×${r.toFixed(1)})`);
      if (r < 10 || t4 < 20) break;
    }
    console.log(`${s.name}: ${seen.join('; ')}`);
    const last = seen[seen.length - 1]!;
    assert.ok(seen.length < 3 || Number(/×([\d.]+)/.exec(last)![1]) < 10, `${s.name}: ${seen.join('; ')}`);
  });
}

test('a line past the limit is skipped with a clear non-fatal problem; the packets around it are kept', async () => {
  const long = 'x'.repeat(MAX_LINE + 10);
  const { packets, summary } = await parse(enc.encode(`${PKT}\n${long}\n${PKT}\n`), 4096);
  assert.equal(packets, 2);
  assert.equal(summary.skipped?.count, 1);
  assert.equal(summary.skipped?.examples[0]?.line, 2);
  assert.equal(summary.skipped?.examples[0]?.text, 'x'.repeat(200) + '…');
  const p = summary.problems.find((x) => x.message.includes('longer than'))!;
  assert.equal(p.fatal, false);
  assert.equal(p.offset, PKT.length + 1, 'offset of the long line');
  assert.match(p.message, new RegExp(`^text line 2 is longer than ${MAX_LINE} characters \\(${MAX_LINE + 10} bytes\\); skipped$`));
  // Exactly at the limit is still a line: the packet text is read, its tail kept in the summary.
  const atLimit = PKT + ' ' + 'y'.repeat(MAX_LINE - PKT.length - 1);
  const r2 = await parse(enc.encode(atLimit + '\n'), 1000);
  assert.equal(r2.packets, 1);
  assert.equal(r2.summary.skipped?.count, 0);
});

test('one 64 MiB line without a newline: read in bounded memory, reported, fatal only because nothing else is there', async () => {
  const size = 64 * 1024 * 1024;
  const block = enc.encode('z'.repeat(64 * 1024));
  async function* src(): AsyncGenerator<Uint8Array> { for (let i = 0; i < size; i += block.length) yield block; }
  const before = process.memoryUsage().rss;
  let peak = before;
  const g = readCapture(src());
  let r = await g.next();
  while (!r.done) { peak = Math.max(peak, process.memoryUsage().rss); r = await g.next(); }
  peak = Math.max(peak, process.memoryUsage().rss);
  const s = r.value;
  assert.equal(s.skipped?.count, 1);
  assert.match(s.problems.find((p) => !p.fatal)!.message, new RegExp(`\\(${size} bytes\\); skipped$`));
  assert.match(s.problems.find((p) => p.fatal)!.message, /^no tcpdump packet line recognised; first lines not read: line 1: "z{80}…"$/);
  // The line is never held: growth stays far below its 64 MiB (128 MiB as UTF-16).
  assert.ok(peak - before < 48 * 1024 * 1024, `rss grew by ${((peak - before) / 1048576).toFixed(0)} MiB`);
});

test('Cancel works during a long text import: the abort is seen between chunks', async () => {
  const ctl = new AbortController();
  const block = enc.encode((PKT + '\n').repeat(2000));
  let sent = 0;
  async function* src(): AsyncGenerator<Uint8Array> {
    for (;;) { sent++; if (sent === 20) ctl.abort(new Error('cancelled by test')); yield block; }
  }
  await assert.rejects(async () => { for await (const _ of readCapture(src(), { signal: ctl.signal })) { /* read */ } }, /cancelled by test/);
  assert.ok(sent < 25, `read stopped after ${sent} chunks`);
});
