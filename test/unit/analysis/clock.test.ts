// Clock alignment: B's timestamps shifted by a known offset and skew; the estimate must find them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { analyze, fitClock, type CaptureInput } from '../../../shared/analysis/index.ts';
import type { Packet } from '../../../shared/protocols/packet.ts';
import { groundTruth, seedInput } from './helpers.ts';
import { synthBulk } from './synth.ts';

/** B' = B + offset + skew·(B − B's first timestamp), applied to the packets' own timestamps. */
function shiftClock(packets: Packet[], offset: number, skewPpm: number): Packet[] {
  if (packets.length === 0) return packets;
  return packets.map((p) => {
    const rel = (p.tsSec - packets[0]!.tsSec) + (p.tsNsec - packets[0]!.tsNsec) * 1e-9;
    const shifted = rel + offset + skewPpm * 1e-6 * rel;
    const whole = Math.floor(shifted);
    let ns = Math.round((shifted - whole) * 1e9 + packets[0]!.tsNsec);
    let sec = packets[0]!.tsSec + whole;
    while (ns >= 1e9) { ns -= 1e9; sec++; }
    return { ...p, tsSec: sec, tsNsec: ns };
  });
}

test('seed with B shifted by +3.2 s and 40 ppm: same labels, offset within 100 µs, uncertainty reported', () => {
  const a = seedInput('endpoint-a.txt');
  const b0 = seedInput('host-beta.txt');
  const b: CaptureInput = { ...b0, packets: shiftClock([...b0.packets], 3.2, 40) };
  const r = analyze(a, b);
  assert.deepEqual(new Map(r.checkpoints.filter((c) => c.capture === 'B').map((c) => [c.label, c.frame])), groundTruth('host-beta.checkpoints.tsv'));
  assert.equal(r.verdict.status, 'ok');
  // The seed's two hosts share a clock, so the truth is exactly the applied shift (B starts 0.6 ms after A).
  const truth = 3.2 + 40e-6 * ((0.751416 - 0.752059));
  assert.ok(Math.abs(r.clock.offset_s - truth) < 100e-6, `offset ${r.clock.offset_s}`);
  assert.ok(r.clock.uncertainty_s !== null && r.clock.uncertainty_s > 0 && r.clock.uncertainty_s < 1e-3);
  assert.ok(r.clock.pairs >= 10);
  // After correction every request hop is later than the previous one (up to the uncertainty).
  for (const h of r.lineage[0]!.hops.slice(1)) assert.ok(h.latency_s! > -r.clock.uncertainty_s!);
  // A user-supplied clock replaces the estimate.
  const o = analyze(a, b, { clockOverride: { offset_s: 3.2 } });
  assert.equal(o.clock.method, 'override');
  assert.equal(o.clock.offset_s, 3.2);
  assert.deepEqual(o.checkpoints, r.checkpoints.map((c) => ({ ...c, t_s: o.checkpoints.find((x) => x.label === c.label)!.t_s })));
});

for (const wgFields of [true, false]) {
  test(`60 s synthetic download, B at +3.2 s and 40 ppm (${wgFields ? 'WireGuard fields' : 'sizes only, like tcpdump text'}): within 100 µs and 5 ppm`, () => {
    const { a, b } = synthBulk({ rounds: 3000, period: 0.02, wgFields, offset: 3.2, skewPpm: 40, seed: 7 });
    const r = analyze({ name: 'a', packets: a }, { name: 'b', packets: b });
    assert.ok(Math.abs(r.clock.offset_s - 3.2) < 100e-6, `offset ${r.clock.offset_s}`);
    assert.ok(Math.abs(r.clock.skew_ppm - 40) < 5, `skew ${r.clock.skew_ppm}`);
    assert.equal(r.clock.method, 'envelope');
    assert.ok(r.clock.pairs_a_to_b > 1000 && r.clock.pairs_b_to_a > 1000);
    assert.equal(r.verdict.status, 'ok', r.verdict.summary);
    assert.deepEqual(r.checkpoints.map((c) => c.label), ['A1', 'A2', 'A3', 'A4', 'A5', 'A6', 'B1', 'B2', 'B3', 'B4', 'B5', 'B6', 'B7', 'B8']);
    console.log(`# ${wgFields ? 'fields' : 'sizes'}: offset error ${((r.clock.offset_s - 3.2) * 1e6).toFixed(1)} µs, skew error ${(r.clock.skew_ppm - 40).toFixed(2)} ppm, ±${(r.clock.uncertainty_s! * 1e6).toFixed(1)} µs, ${r.clock.pairs} pairs`);
  });
}

test('fitClock: a handful of pairs, seconds apart, still bound the offset; one direction gives a one-sided bound', () => {
  const pairs = [
    // True offset 5 s; one-way delays 200–400 µs.
    { a: 0.0, b: 5.0003, aToB: true }, { a: 0.001, b: 5.0007, aToB: false },
    { a: 1.0, b: 6.0004, aToB: true }, { a: 1.002, b: 6.0018, aToB: false },
  ];
  const f = fitClock(pairs, 0);
  assert.equal(f.method, 'envelope');
  assert.ok(f.offset >= 4.9998 && f.offset <= 5.0003, String(f.offset));
  assert.ok(Math.abs(f.offset - 5) <= f.uncertainty! + 1e-12);
  assert.ok(f.uncertainty !== null && f.uncertainty < 0.0004);
  const g = fitClock(pairs.filter((p) => p.aToB), 0);
  assert.equal(g.method, 'one-way');
  assert.equal(g.uncertainty, null);
  assert.ok(Math.abs(g.offset - 5.0003) < 1e-9);
});
