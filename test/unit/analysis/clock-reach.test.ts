// An honest clock estimate: when the matched pairs sit in a narrow stretch of a long capture the
// skew cannot be observed, and the offset's uncertainty must grow with distance from the pairs
// instead of claiming the band's width everywhere.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { analyze } from '../../../shared/analysis/index.ts';
import { ASSUMED_MAX_SKEW, fitClock, uncertaintyAt, type ClockPair } from '../../../shared/analysis/clock.ts';
import type { Packet } from '../../../shared/protocols/packet.ts';
import { synthBulk } from './synth.ts';

/** A lone ARP request at `t` seconds after the packet `base`, so the capture reaches that far. */
function lateArp(base: Packet, t: number, frame: number): Packet {
  const x = base.tsSec + base.tsNsec * 1e-9 + t;
  const sec = Math.floor(x);
  return {
    frame, tsSec: sec, tsNsec: Math.round((x - sec) * 1e9), iface: 'eth0', ifaceId: 0, dir: 'out', linktype: 276,
    caplen: 42, len: 42, proto: 'arp', summary: '', arp: { op: 1, spa: '192.0.2.1', tpa: '192.0.2.2' },
  };
}

test('pairs only in the first 15 ms of a 10 s capture, B drifting 40 ppm: skew unobservable, uncertainty reaches the drift', () => {
  const { a, b } = synthBulk({ rounds: 5, period: 0.003, wgFields: true, offset: 1.5, skewPpm: 40, seed: 3 });
  a.push(lateArp(a[0]!, 10, a.length + 1));
  b.push(lateArp(b[0]!, 10, b.length + 1));
  const r = analyze({ name: 'a', packets: a }, { name: 'b', packets: b });
  const c = r.clock;
  assert.equal(c.skew_observable, false);
  assert.equal(c.skew_ppm, 0, 'an unobservable skew is not invented');
  assert.ok(c.pairs > 0 && c.pairs_from_s !== undefined && c.pairs_to_s !== undefined);
  assert.ok(c.pairs_to_s! - c.pairs_from_s! < 0.05, `pairs span ${c.pairs_to_s! - c.pairs_from_s!}`);
  // The true error at the capture's end is 40 ppm × 10 s = 400 µs: the estimate must admit at least that.
  assert.ok(c.uncertainty_max_s !== undefined && c.uncertainty_max_s >= 400e-6, `max ${c.uncertainty_max_s}`);
  assert.ok(c.uncertainty_max_s! - c.uncertainty_s >= 0.9 * 40e-6 * 9.9, `the band alone (±${c.uncertainty_s}) would not admit the drift`);
  assert.equal(c.drift_per_s, ASSUMED_MAX_SKEW);
  assert.equal(r.verdict.status, 'ok', r.verdict.summary);
});

test('the same download spread over 60 s: skew observable, far-end uncertainty stays near the band', () => {
  const { a, b } = synthBulk({ rounds: 3000, period: 0.02, wgFields: true, offset: 1.5, skewPpm: 40, seed: 3 });
  const r = analyze({ name: 'a', packets: a }, { name: 'b', packets: b });
  assert.equal(r.clock.skew_observable, true);
  assert.ok(Math.abs(r.clock.skew_ppm - 40) < 5);
  // Pairs cover the whole capture: the far end adds (almost) nothing to the band.
  assert.ok(r.clock.uncertainty_max_s! - r.clock.uncertainty_s < 5e-6, `max ${r.clock.uncertainty_max_s} vs ±${r.clock.uncertainty_s}`);
});

test('uncertaintyAt grows linearly outside the pairs and is flat inside', () => {
  const pairs: ClockPair[] = [];
  for (let i = 0; i < 6; i++) {
    pairs.push({ a: 100 + i * 0.002, b: 105 + i * 0.002 + 0.0003, aToB: true });
    pairs.push({ a: 100.001 + i * 0.002, b: 105.001 + i * 0.002 - 0.0003, aToB: false });
  }
  const f = fitClock(pairs, 100);
  assert.equal(f.skewObservable, false);
  const u = f.uncertainty!;
  assert.ok(Math.abs(uncertaintyAt(f, 0.005) - u) < 1e-12);
  assert.ok(Math.abs(uncertaintyAt(f, f.to + 10) - (u + 10 * ASSUMED_MAX_SKEW)) < 1e-9);
  assert.ok(Math.abs(uncertaintyAt(f, f.from - 2) - (u + 2 * ASSUMED_MAX_SKEW)) < 1e-9);
  assert.equal(fitClock([], 0).skewObservable, false);
});
