// Speed on large inputs: a synthetic bulk download of ≥ 500 000 packets per side.
// Times are printed, not asserted (the machine is shared); the result must still be right.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { analyze } from '../../../shared/analysis/index.ts';
import { synthBulk } from './synth.ts';

for (const wgFields of [true, false]) {
  test(`500 000+ packets per side (${wgFields ? 'WireGuard fields' : 'sizes only'}): analyze() time`, () => {
    const { a, b } = synthBulk({ rounds: 84000, period: 0.0002, wgFields, offset: 0.75, skewPpm: 20, seed: 3 });
    assert.ok(a.length >= 500000 && b.length >= 500000);
    const t0 = performance.now();
    const r = analyze({ name: 'a', packets: a }, { name: 'b', packets: b });
    const ms = performance.now() - t0;
    const heap = process.memoryUsage().heapUsed / 1048576;
    console.log(`# analyze(): A ${a.length} + B ${b.length} packets in ${ms.toFixed(0)} ms; heap ${heap.toFixed(0)} MB; ${r.lineage_total} lineages`);
    assert.equal(r.verdict.status, 'ok', r.verdict.summary);
    assert.equal(r.checkpoints.length, 14);
    assert.ok(Math.abs(r.clock.offset_s - 0.75) < 100e-6);
    assert.ok(r.lineage.length <= 200);
  });
}
