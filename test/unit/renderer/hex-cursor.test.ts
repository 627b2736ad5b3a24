// The hex view's byte cursor moves (detail-model.ts moveCursor) on a 60-byte frame: four rows, the
// last one 12 bytes long (offsets 48–59).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { moveCursor } from '../../../renderer/src/features/detail/detail-model.ts';

const N = 60;

test('left/right step one byte and stop at the ends', () => {
  assert.equal(moveCursor(5, 'ArrowRight', N), 6);
  assert.equal(moveCursor(5, 'ArrowLeft', N), 4);
  assert.equal(moveCursor(0, 'ArrowLeft', N), 0);
  assert.equal(moveCursor(59, 'ArrowRight', N), 59);
  // Row boundaries are crossed: 15 → 16.
  assert.equal(moveCursor(15, 'ArrowRight', N), 16);
});

test('up/down move a row of 16 in the same column', () => {
  assert.equal(moveCursor(15, 'ArrowDown', N), 31);
  assert.equal(moveCursor(31, 'ArrowUp', N), 15);
  assert.equal(moveCursor(3, 'ArrowUp', N), 3);
  assert.equal(moveCursor(50, 'ArrowDown', N), 50);
  // Column 14 has no byte in the short last row: the cursor lands on the frame's last byte.
  assert.equal(moveCursor(46, 'ArrowDown', N), 59);
  assert.equal(moveCursor(40, 'ArrowDown', N), 56);
});

test('Home/End go to the row ends, with Ctrl to the frame ends', () => {
  assert.equal(moveCursor(21, 'Home', N), 16);
  assert.equal(moveCursor(21, 'End', N), 31);
  assert.equal(moveCursor(50, 'End', N), 59);
  assert.equal(moveCursor(21, 'Home', N, { ctrl: true }), 0);
  assert.equal(moveCursor(21, 'End', N, { ctrl: true }), 59);
});

test('page keys move several rows; no cursor yet starts at 0; other keys are not ours', () => {
  assert.equal(moveCursor(2, 'PageDown', N, { page: 2 }), 34);
  assert.equal(moveCursor(34, 'PageUp', N, { page: 2 }), 2);
  assert.equal(moveCursor(20, 'PageUp', N, { page: 2 }), 4);
  assert.equal(moveCursor(null, 'ArrowDown', N), 0);
  assert.equal(moveCursor(null, 'End', N), 15);
  assert.equal(moveCursor(3, 'a', N), null);
  assert.equal(moveCursor(0, 'ArrowRight', 0), null);
});
