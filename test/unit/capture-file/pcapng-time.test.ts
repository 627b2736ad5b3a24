// The pcapng reader's per-packet time conversion takes a one-division shortcut for counts below 2^52;
// it must give exactly what the long division (unitsToTime) gives, for every decimal resolution.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { unitsToTime, unitsToTimeFast } from '../../../shared/capture-file/pcapng.ts';

test('unitsToTimeFast equals unitsToTime at every decimal resolution, around the shortcut bound and the divisor', () => {
  let checked = 0;
  // A fixed pseudo-random sequence: reproducible, no dependency on Math.random.
  let x = 0x12345678;
  const next = (): number => { x ^= x << 13; x ^= x >>> 17; x ^= x << 5; return x >>> 0; };
  for (let dec = 0; dec <= 9; dec++) {
    const u = { dec, bin: -1, div: 10 ** dec };
    const his = [0, 1, 0x5f5e1, 0x3b9ac, 0xfffff, 0x100000, 0x100001, 0x1fffff, 0x200000, 0xffffffff];
    const los = [0, 1, 0xffffffff, 0x80000000, u.div - 1, u.div, u.div + 1, 999999, 1000000, 123456789];
    const cases: Array<[number, number]> = [];
    for (const hi of his) for (const lo of los) cases.push([hi, lo >>> 0]);
    for (let i = 0; i < 20000; i++) cases.push([next() % 0x100000, next()]);
    // Counts that are multiples of the divisor, and one either side (where a rounded quotient can be off by one).
    for (let i = 0; i < 2000; i++) {
      const v = Math.floor((next() * 2 ** 20 + (next() & 0xfffff)) / u.div) * u.div;
      for (const dv of [-1, 0, 1]) {
        const w = v + dv;
        if (w < 0 || w >= 2 ** 52) continue;
        cases.push([Math.floor(w / 2 ** 32), w % 2 ** 32]);
      }
    }
    for (const [hi, lo] of cases) {
      assert.deepStrictEqual(unitsToTimeFast(hi, lo, u), unitsToTime(hi, lo, u), `dec ${dec} hi ${hi} lo ${lo}`);
      checked++;
    }
  }
  // Binary resolutions go the BigInt way in both.
  for (const bin of [0, 10, 20, 30, 32, 40, 63]) {
    const u = { dec: -1, bin, div: 0 };
    for (const [hi, lo] of [[0, 0], [1, 2], [0x12345, 0x6789abcd], [0xffffffff, 0xffffffff]] as const) {
      assert.deepStrictEqual(unitsToTimeFast(hi, lo, u), unitsToTime(hi, lo, u));
      checked++;
    }
  }
  assert.ok(checked > 200000, `${checked}`);
});
