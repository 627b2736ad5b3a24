// The session worker's checkpoint labels (renderer/src/workers/checkpoint-labels.ts): read once,
// read again whenever the stored analysis record is replaced, deleted or belongs to another session.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkpointLabelCache, type LabelSource, type LabelStore } from '../../../renderer/src/workers/checkpoint-labels.ts';

/** An in-memory analyses table with its updatedAt index, counting full reads. */
function fakeStore() {
  const rows = new Map<number, LabelSource>();
  const counts = { read: 0, stamped: 0 };
  const store: LabelStore = {
    read(id) {
      counts.read++;
      return Promise.resolve(rows.get(id));
    },
    stamped(at) {
      counts.stamped++;
      return Promise.resolve([...rows].filter(([, r]) => r.updatedAt === at).map(([id]) => id));
    },
  };
  return { rows, counts, store };
}

const rec = (updatedAt: number, checkpoints: Array<[ 'A' | 'B', number, string]>): LabelSource => ({
  updatedAt,
  result: { checkpoints: checkpoints.map(([capture, frame, label]) => ({ capture, frame, label })) },
});

const labelsOf = (m: Map<number, { checkpoint: string }>) => [...m].map(([f, c]) => `${f}=${c.checkpoint}`);

test('labels by host and frame; the second filter reads only the index', async () => {
  const { rows, counts, store } = fakeStore();
  rows.set(1, rec(100, [['A', 3, 'A1'], ['B', 7, 'B1'], ['A', 9, 'A2']]));
  const cache = checkpointLabelCache(store);
  const first = await cache.get(1);
  assert.equal(first.at, 100);
  assert.deepEqual(labelsOf(first.ctxs.A), ['3=A1', '9=A2']);
  assert.deepEqual(labelsOf(first.ctxs.B), ['7=B1']);
  const second = await cache.get(1);
  assert.equal(second, first);
  assert.deepEqual(counts, { read: 1, stamped: 1 });
});

test('a replaced analysis (new updatedAt) is read again', async () => {
  const { rows, counts, store } = fakeStore();
  rows.set(1, rec(100, [['A', 3, 'A1']]));
  const cache = checkpointLabelCache(store);
  await cache.get(1);
  rows.set(1, rec(200, [['B', 4, 'B2']]));
  const next = await cache.get(1);
  assert.equal(next.at, 200);
  assert.deepEqual(labelsOf(next.ctxs.A), []);
  assert.deepEqual(labelsOf(next.ctxs.B), ['4=B2']);
  assert.equal(counts.read, 2);
});

test('another session with the same stamp does not keep a deleted analysis alive', async () => {
  const { rows, store } = fakeStore();
  rows.set(1, rec(100, [['A', 3, 'A1']]));
  rows.set(2, rec(100, [['A', 5, 'X']]));
  const cache = checkpointLabelCache(store);
  await cache.get(1);
  rows.delete(1);
  const gone = await cache.get(1);
  assert.equal(gone.at, undefined);
  assert.equal(gone.ctxs.A.size + gone.ctxs.B.size, 0);
});

test('switching sessions reads the other session, not the kept labels', async () => {
  const { rows, store } = fakeStore();
  rows.set(1, rec(100, [['A', 3, 'A1']]));
  rows.set(2, rec(100, [['B', 8, 'B8']]));
  const cache = checkpointLabelCache(store);
  await cache.get(1);
  const other = await cache.get(2);
  assert.deepEqual(labelsOf(other.ctxs.B), ['8=B8']);
  assert.equal(other.ctxs.A.size, 0);
});

test('no stored analysis is asked again each time: one written later is seen', async () => {
  const { rows, counts, store } = fakeStore();
  const cache = checkpointLabelCache(store);
  assert.equal((await cache.get(1)).at, undefined);
  rows.set(1, rec(100, [['A', 1, 'A0']]));
  assert.deepEqual(labelsOf((await cache.get(1)).ctxs.A), ['1=A0']);
  assert.equal(counts.read, 2);
  assert.equal(counts.stamped, 0);
});

test('drop() forces a full read even when the stamp is unchanged; a failed analysis has no labels', async () => {
  const { rows, counts, store } = fakeStore();
  rows.set(1, { updatedAt: 100 });
  const cache = checkpointLabelCache(store);
  const none = await cache.get(1);
  assert.equal(none.at, 100);
  assert.equal(none.ctxs.A.size + none.ctxs.B.size, 0);
  cache.drop();
  await cache.get(1);
  assert.deepEqual(counts, { read: 2, stamped: 0 });
});
