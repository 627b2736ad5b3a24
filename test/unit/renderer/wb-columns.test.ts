// The workbench's column arithmetic (renderer/src/features/workbench/columns.ts): numbers and times
// sized to be whole, narrow panes giving way on the address columns first, never on a number or a
// column the user dragged; "filter on this value" quoting text from a capture safely.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compileFilter } from '../../../shared/filter/index.ts';
import type { Packet } from '../../../shared/protocols/packet.ts';
import { autoWidths, COLUMNS, filterFor, fitWidths, gridTemplate, totalWidth, type ColumnKey } from '../../../renderer/src/features/workbench/columns.ts';

const CHAR = 6.95;

test('No., Time and Len are wide enough for the longest value they will show', () => {
  const w = autoWidths(1_300_000, 12_345.5, 65535, 'origin', true);
  assert.ok(w.no! >= 7 * CHAR, `no ${w.no}`);
  // "-12345.123456": 13 characters.
  assert.ok(w.time! >= 13 * CHAR, `time ${w.time}`);
  assert.ok(w.len! >= 5 * CHAR, `len ${w.len}`);
  const utc = autoWidths(10, 1, 60, 'utc', false);
  assert.ok(utc.time! >= 15 * CHAR, `utc ${utc.time}`);
  // Small captures keep the defaults (the headers must fit).
  const small = autoWidths(9, 0.5, 60, 'origin', false);
  assert.equal(small.no, COLUMNS.find((c) => c.key === 'no')!.width);
});

test('a narrow pane narrows Protocol and Iface after the flexible columns; numbers and user widths stay', () => {
  const natural = { ...Object.fromEntries(COLUMNS.map((c) => [c.key, c.width])), ...autoWidths(100_000, 20, 1514, 'origin', false) };
  const full = totalWidth(natural);
  const fitted = fitWidths(natural, full - 30, new Set());
  assert.equal(totalWidth(fitted), full - 30);
  assert.equal(fitted.no, natural.no);
  assert.equal(fitted.time, natural.time);
  assert.equal(fitted.src, natural['src']);
  const tight = fitWidths(natural, 300, new Set());
  assert.ok(tight.proto! >= 40 && tight.iface! >= 36 && tight.info! >= 150);
  const kept = fitWidths({ ...natural, proto: 120 }, full - 30, new Set<ColumnKey>(['proto']));
  assert.equal(kept.proto, 120);
  // Flexible columns grow with the pane unless the user sized them.
  assert.match(gridTemplate(natural), /minmax\(60px, 1fr\) minmax\(60px, 1fr\).*minmax\(150px, 2.5fr\)$/);
  assert.match(gridTemplate(natural, { src: 200 }), /^\S+ \S+ \S+ \S+ 60px minmax/);
});

test('"filter on this value" writes a filter that compiles and selects the packet, for hostile interface names too', () => {
  const p: Packet = {
    frame: 7, tsSec: 0, tsNsec: 0, iface: 'wg"0\\x', ifaceId: 0, dir: 'out', linktype: 1, caplen: 190, len: 190, proto: 'wireguard',
    src: '192.168.1.11', dst: '203.0.113.2', sport: 51821, dport: 51822, udp: { len: 148 }, wg: { type: 1, sender: 0x0805b746 }, summary: 'x',
  };
  for (const col of ['cp', 'no', 'time', 'iface', 'src', 'dst', 'proto', 'len', 'info'] as const) {
    const expr = filterFor(p, col, ['A2']);
    const f = compileFilter(expr);
    assert.ok(f.ok, `${col}: ${expr}`);
    if (f.ok) assert.equal(f.predicate(p, { checkpoint: 'A2' }), true, `${col}: ${expr}`);
  }
});
