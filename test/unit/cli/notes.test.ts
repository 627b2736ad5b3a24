// What the reader repaired or could not show is said on stderr as `note:` lines naming the file and
// the byte (a fraction of a second past one second, a text line whose protocol is unknown), the
// first three of them and then a count; every packet is still listed and the status stays 0.
// tcpdump's own test captures, and a pasted text written here.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const corpus = fileURLToPath(new URL('../../../../shared/corpus/tcpdump-tests/', import.meta.url));
const lab = fileURLToPath(new URL('../../e2e/fixtures/lab-healthy/', import.meta.url));
const built = existsSync(root + 'out/cli/tandem.mjs');
const skip = !built ? 'out/cli/tandem.mjs not built (npm run build:node)' : false;

function tandem(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [root + 'bin/tandem', ...args], { encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** tcpdump text of `n` packet lines whose protocol the reader does not know: each is kept as is, with a note. */
function unknownLines(n: number): string {
  return Array.from({ length: n }, (_, i) => `12:00:00.00000${i + 1} IEEE 802.15.4 Data packet ${i + 1}\n`).join('');
}

test('inspect: a repaired time is a note with file and byte; the packets are all listed, status 0', { skip }, () => {
  const r = tandem(['inspect', corpus + 'timestamp_invalid_micro.pcap']);
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(r.stderr.trimEnd().split('\n'), ['note: timestamp_invalid_micro.pcap: invalid fraction of a second 1000000 (frame 2); carried into the seconds at byte 116']);
  assert.ok(r.stdout.trimEnd().split('\n').length >= 2, 'frame 2 is listed too');
});

test('inspect and analyze: the first three notes, then how many more; nothing on stdout changes', { skip }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'tandem-notes-'));
  try {
    const f = join(dir, 'pasted.txt');
    writeFileSync(f, unknownLines(5));
    const r = tandem(['inspect', f]);
    assert.equal(r.status, 0, r.stderr);
    const lines = r.stderr.trimEnd().split('\n');
    assert.equal(lines.length, 4, r.stderr);
    const at = [0, 1, 2].map((i) => unknownLines(i).length);
    lines.slice(0, 3).forEach((l, i) => assert.equal(l, `note: pasted.txt: text line ${i + 1} not understood; kept as is at byte ${at[i]}`));
    assert.equal(lines[3], 'note: pasted.txt: 2 more like these');
    assert.equal(r.stdout.trimEnd().split('\n').length, 5);
    // analyze says the same for the capture it reads, beside its verdict.
    const a = tandem(['analyze', join(lab, 'A.pcapng'), f, '--keep-order']);
    assert.ok(a.status === 0 || a.status === 3 || a.status === 4, a.stderr);
    assert.equal(a.stderr.split('\n').filter((l) => l.startsWith('note: pasted.txt: ')).length, 4, a.stderr);
    assert.match(a.stdout, /^verdict: /m);
  } finally { rmSync(dir, { recursive: true, force: true }); }
});

test('a clean capture gets no note', { skip }, () => {
  const r = tandem(['inspect', join(lab, 'B.pcapng')]);
  assert.equal(r.status, 0);
  assert.equal(r.stderr, '');
});
