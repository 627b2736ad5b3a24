// Records move into time order in place (prepare.ts): the result must be the gather a copy would give,
// for every shape of permutation (identity, one long cycle, swaps, fixed points, random).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { permuteInPlace } from '../../../shared/analysis/prepare.ts';

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => { s = (Math.imul(s, 1664525) + 1013904223) >>> 0; return s / 4294967296; };
}

test('permuteInPlace gives a[j] = old a[perm[j]] for every array, like a copy would', () => {
  const r = rng(7);
  const shapes: Array<(n: number) => Int32Array> = [
    (n) => Int32Array.from({ length: n }, (_, i) => i),
    (n) => Int32Array.from({ length: n }, (_, i) => (i + 1) % n),
    // Neighbours swapped in pairs; with an odd count the last one stays.
    (n) => Int32Array.from({ length: n }, (_, i) => (i % 2 === 0 ? (i + 1 < n ? i + 1 : i) : i - 1)),
    (n) => { const p = Int32Array.from({ length: n }, (_, i) => i); for (let i = n - 1; i > 0; i--) { const j = Math.floor(r() * (i + 1)); [p[i], p[j]] = [p[j]!, p[i]!]; } return p; },
  ];
  for (const n of [1, 2, 3, 10, 1000]) {
    for (const make of shapes) {
      const perm = make(n);
      assert.deepEqual([...perm].sort((x, y) => x - y), Array.from({ length: n }, (_, i) => i), 'not a permutation');
      const t = Float64Array.from({ length: n }, () => r() * 1e6);
      const o = Int32Array.from({ length: n }, () => Math.floor(r() * 1e9) - 5e8);
      const b = Uint16Array.from({ length: n }, () => Math.floor(r() * 65536));
      const want = [t, o, b].map((a) => Array.from(perm, (x) => a[x]!));
      permuteInPlace(perm, [t, o, b]);
      assert.deepEqual([Array.from(t), Array.from(o), Array.from(b)], want, `n=${n}`);
    }
  }
});
