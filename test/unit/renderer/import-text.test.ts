// What the import tells the user, from what the shared reader really returns for real inputs:
// unreadable files (PNG, empty, text without a packet line, a pcap cut in its first record) are
// refused with the next step, damaged files that kept packets are partial, valid empty captures
// are kept, and capture text is made visible before it reaches the screen.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { loadAll } from '../../../shared/ingest/load-capture.ts';
import { describeOutcome, isQuotaError, skippedSummary, storageFailure } from '../../../renderer/src/features/import/import-text.ts';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const AFS = `${root}../shared/corpus/tcpdump-tests/afs.pcap`;
const EMPTY_PCAPNG = `${root}../shared/corpus/tcpdump-tests/empty.pcapng`;
const PNG = `${root}build/icon.png`;
const A = `${root}test/e2e/fixtures/lab-healthy/A.pcapng`;

async function outcome(name: string, bytes: Uint8Array) {
  const r = await loadAll(bytes);
  return { ...describeOutcome(name, r.summary, r.packets.length), packets: r.packets.length };
}

test('unreadable inputs are refused with one sentence and a next step', async () => {
  const png = await outcome('icon.png', readFileSync(PNG));
  assert.equal(png.status, 'unreadable');
  assert.match(png.problem!, /^icon\.png could not be read: not a pcap, pcapng or tcpdump text file at byte 0, so nothing was stored\.$/);
  assert.match(png.next!, /Wireshark/);

  const empty = await outcome('e.pcap', new Uint8Array(0));
  assert.equal(empty.status, 'unreadable');
  assert.match(empty.problem!, /empty file at byte 0/);
  assert.match(empty.next!, /Ctrl-C/);

  for (const [name, bytes] of [['t.txt', Buffer.from('hello\nworld\n')], ['t.txt.gz', gzipSync(Buffer.from('hello\n'))]] as const) {
    const t = await outcome(name, bytes);
    assert.equal(t.status, 'unreadable', name);
    assert.equal(t.problem, `${name} could not be read: no tcpdump packet line was recognised, so nothing was stored.`);
    assert.match(t.next!, /tcpdump -n/);
  }

  const cutFirst = await outcome('c.pcap', readFileSync(AFS).subarray(0, 60));
  assert.equal(cutFirst.status, 'unreadable');
  assert.match(cutFirst.problem!, /^c\.pcap could not be read: .+ at byte 24, so nothing was stored\.$/);
});

test('damaged files that kept packets are partial; a valid empty capture is kept', async () => {
  const cut = await outcome('afs-cut.pcap', readFileSync(AFS).subarray(0, 100_000));
  assert.equal(cut.status, 'partial');
  assert.equal(cut.packets, 174);
  assert.match(cut.problem!, /^afs-cut\.pcap: .+ at byte \d+$/);

  const a = readFileSync(A);
  const cutNg = await outcome('A-cut.pcapng', a.subarray(0, a.length - 100));
  assert.equal(cutNg.status, 'partial');
  assert.ok(cutNg.packets > 0);

  const emptyNg = await outcome('empty.pcapng', readFileSync(EMPTY_PCAPNG));
  assert.deepEqual({ status: emptyNg.status, packets: emptyNg.packets }, { status: 'complete', packets: 0 });

  const whole = await outcome('A.pcapng', a);
  assert.deepEqual(whole, { status: 'complete', packets: whole.packets });
});

test('file names and skipped lines are made visible, never raw control bytes', async () => {
  const name = 'x\u001b]0;owned\u0007.png';
  const png = await outcome(name, readFileSync(PNG));
  assert.ok(![...png.problem!].some((c) => c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f), png.problem);
  assert.match(png.problem!, /^x\\x1b\]0;owned\\x07\.png could not/);

  const s = skippedSummary({ count: 3, examples: [{ line: 2, text: 'a\u001b[2Jb' }, { line: 5, text: 'y'.repeat(500) }] })!;
  assert.equal(s.head, '3 lines not understood');
  assert.equal(s.examples[0], 'line 2: a\\x1b[2Jb');
  assert.ok(s.examples[1]!.length < 200);
  assert.equal(skippedSummary({ count: 0, examples: [] }), null);
  assert.equal(skippedSummary(undefined), null);
});

test('a quota error is named as full storage, also when wrapped the way Dexie wraps it', () => {
  const dom = new DOMException('The quota has been exceeded.', 'QuotaExceededError');
  assert.equal(isQuotaError(dom), true);
  assert.equal(isQuotaError({ name: 'AbortError', inner: dom }), true);
  assert.equal(isQuotaError(new Error('boom')), false);
  const f = storageFailure('a.pcap', { name: 'AbortError', inner: dom }, 4000);
  assert.equal(f.status, 'failed');
  assert.equal(f.problem, "a.pcap could not be stored: the browser's storage for Tandem is full after 4,000 packets, so nothing was kept.");
  assert.match(f.next!, /Delete sessions/);
  const other = storageFailure('a.pcap', new Error('disk on fire'), 0);
  assert.match(other.problem!, /the database refused the write \(disk on fire\)/);
});
