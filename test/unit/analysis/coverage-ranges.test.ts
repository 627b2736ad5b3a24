// InnerList.coveredRanges (the MTU rule's sequence coverage, read in one pass) against the union
// written the slow, obvious way: every data range as a pair, sorted by start, merged when they
// overlap or touch. On the lab captures' flows (TANDEM_LAB_DIR) and on purpose-made orders:
// in order, retransmitted, reordered, reversed, overlapping, touching, near 2^32.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadAll } from '../../../shared/ingest/load-capture.ts';
import type { CaptureInput } from '../../../shared/analysis/index.ts';
import { preparePair, resolveDirections, sideOf, type Side } from '../../../shared/analysis/prepare.ts';
import { collectFlow, type InnerList } from '../../../shared/analysis/inner.ts';
import { innerTuples, parseText } from './helpers.ts';
import { mulberry32 } from './synth.ts';

function reference(l: InnerList): Array<[number, number]> {
  const r: Array<[number, number]> = [];
  for (const x of l) if (x.relSeq >= 0 && x.plen > 0) r.push([x.relSeq, x.relSeq + x.plen]);
  r.sort((p, q) => p[0] - q[0]);
  const out: Array<[number, number]> = [];
  for (const [a, e] of r) {
    const top = out[out.length - 1];
    if (top !== undefined && a <= top[1]) top[1] = Math.max(top[1], e); else out.push([a, e]);
  }
  return out;
}

function sideOfText(lines: string[]): Side {
  const a: CaptureInput = { name: 'a.txt', packets: parseText(lines.join('\n')) }, b: CaptureInput = { name: 'b', packets: [] };
  const [pa, pb] = preparePair(a, b);
  const A = sideOf('A', a, pa);
  resolveDirections(A, sideOf('B', b, pb));
  return A;
}

/** A connection's data segments as tcpdump prints them, in the order given ([relative start, length]). */
function segments(segs: Array<[number, number]>): InnerList {
  const lines = [
    '12:00:00.000001 IP 10.0.0.1.40000 > 192.168.200.22.80: Flags [S], seq 1000, win 500, length 0',
    '12:00:00.000002 IP 192.168.200.22.80 > 10.0.0.1.40000: Flags [S.], seq 5000, ack 1001, win 500, length 0',
  ];
  segs.forEach(([s, n], i) => {
    lines.push(`12:00:01.${String(i).padStart(6, '0')} IP 10.0.0.1.40000 > 192.168.200.22.80: Flags [P.], seq ${s}:${s + n}, ack 1, win 500, length ${n}`);
  });
  const f = collectFlow(sideOfText(lines), { proto: 'tcp', src: '10.0.0.1', dst: '192.168.200.22', sport: 40000, dport: 80 });
  return f.filterAt((fwd) => fwd);
}

test('coveredRanges is the union of the data ranges, whatever their order', () => {
  const inOrder: Array<[number, number]> = [];
  for (let s = 1; s < 200000; s += 1448) inOrder.push([s, 1448]);
  const rnd = mulberry32(5);
  const cases: Record<string, Array<[number, number]>> = {
    empty: [],
    one: [[1, 100]],
    inOrder,
    // A gap every 37th segment, filled late by a retransmission (out of order).
    retransmitted: inOrder.flatMap((x, i) => (i % 37 === 5 ? [] : i % 37 === 9 ? [x, inOrder[i - 4]!] : [x])),
    // A hole never filled.
    lost: inOrder.filter((_, i) => i !== 50 && i !== 51),
    reversed: [...inOrder].reverse(),
    shuffled: [...inOrder].sort(() => rnd() - 0.5),
    // Overlapping re-segmentation, and ranges that only touch.
    overlapping: [[1, 3000], [1001, 500], [2501, 4000], [9000, 10], [6501, 2499], [9010, 5]],
    touching: [[101, 100], [1, 100], [201, 50], [251, 1], [400, 10]],
    // Relative sequence numbers near the 32-bit end (ranges end past it).
    high: [[4294960000, 1448], [4294961448, 1448], [4294950000, 1448], [4294962896, 65535]],
  };
  for (const [name, segs] of Object.entries(cases)) {
    const l = segments(segs);
    assert.equal(l.length, segs.length + 1, name); // and the SYN
    assert.deepEqual(l.coveredRanges(), reference(l), name);
  }
});

const dir = process.env.TANDEM_LAB_DIR ?? '/tmp/tandem-lab';
const scenarios = existsSync(dir) ? readdirSync(dir).filter((s) => existsSync(join(dir, s, 'A-any.pcap'))).sort() : [];
const skip = scenarios.length > 0 ? false : `no lab captures in ${dir} (run test/lab/lab.sh --out ${dir} all, or set TANDEM_LAB_DIR)`;
if (skip) console.log(`# skip coverage-ranges lab: ${skip}`);

test('coveredRanges agrees with the obvious union on every lab flow, both directions', { skip }, async () => {
  let compared = 0, multi = 0;
  for (const name of scenarios) {
    for (const h of ['A', 'B']) {
      const file = join(dir, name, `${h}-any.pcap`);
      const r = await loadAll(new Uint8Array(readFileSync(file)), {});
      const a: CaptureInput = { name: file, packets: r.packets }, b: CaptureInput = { name: 'b', packets: [] };
      const [pa, pb] = preparePair(a, b);
      const side = sideOf('A', a, pa);
      resolveDirections(side, sideOf('B', b, pb));
      for (const t of innerTuples(side).filter((x) => x.proto === 'tcp')) {
        const f = collectFlow(side, t);
        for (const fwd of [true, false]) {
          const l = f.filterAt((d) => d === fwd);
          const want = reference(l);
          assert.deepEqual(l.coveredRanges(), want, `${name} ${h} ${JSON.stringify(t)} ${fwd}`);
          compared++;
          if (want.length > 1) multi++;
        }
      }
    }
  }
  assert.ok(compared > 50, `compared ${compared}`);
  console.log(`coverage compared on ${compared} lab flow directions (${multi} with gaps)`);
});
