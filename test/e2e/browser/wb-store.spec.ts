// How packets are stored (issue 17): new imports write column chunks (shared/ingest/packet-columns.ts)
// and a reopen reads them back into the same rows, verdict and filter results; sessions stored
// before, with Packet objects in their chunks (schema v2), still open, are analysed and filter alike.
// Expected counts come from the captures decoded here in Node with the ordinary decoder, and the
// filter evaluated on those plain objects; the verdict of the lab pair is ok (run.json: curl got its page).

import { expect, test, type Page } from '@playwright/test';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';
import { loadAll } from '../../../shared/ingest/load-capture.ts';
import { compileFilter } from '../../../shared/filter/index.ts';
import type { Packet } from '../../../shared/protocols/packet.ts';
import { readCapture } from '../../../shared/capture-file/reader.ts';
import { chunkForms, storedFrameHashes } from './stored.ts';

/** FNV-1a over bytes, to compare frames without moving them across the page boundary. */
function fnv(b: Uint8Array): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < b.length; i++) h = Math.imul(h ^ b[i]!, 0x01000193) >>> 0;
  return h;
}

/** Length and hash of every frame, as the ordinary reader sees the file. */
async function frameHashes(bytes: Uint8Array): Promise<string[]> {
  const out: string[] = [];
  const it = readCapture(bytes);
  for (;;) {
    const step = await it.next();
    if (step.done) return out;
    for (const f of step.value.frames) out.push(`${f.data.length}:${fnv(f.data)}`);
  }
}

/** A pcap (Ethernet) of frames with the given sizes and pseudo-random content. */
function pcapOf(sizes: number[]): Buffer {
  const parts = [Buffer.from('d4c3b2a1020004000000000000000000ffff000001000000', 'hex')];
  let seed = 7;
  sizes.forEach((n, i) => {
    const h = Buffer.alloc(16);
    h.writeUInt32LE(1_700_000_000 + i, 0);
    h.writeUInt32LE(n, 8);
    h.writeUInt32LE(n, 12);
    const d = Buffer.alloc(n);
    for (let j = 0; j < n; j++) d[j] = (seed = (seed * 1103515245 + 12345) >>> 0) >>> 24;
    parts.push(h, d);
  });
  return Buffer.concat(parts);
}

const LAB = resolve(process.cwd(), 'test/e2e/fixtures/lab-healthy');
const FILES = { A: join(LAB, 'A.pcapng'), B: join(LAB, 'B.pcapng') };
const FILTER = 'udp && frame.len > 100';

async function decoded(host: 'A' | 'B') {
  return loadAll(new Uint8Array(readFileSync(FILES[host])), { keepBytes: true });
}

function expectedCount(packets: Packet[]): number {
  const f = compileFilter(FILTER);
  if (!f.ok) throw new Error(f.error);
  return packets.filter((p) => f.predicate(p, {})).length;
}

function collectErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(`console: ${m.text()}`);
  });
  return errors;
}

async function applyFilter(page: Page, text: string): Promise<void> {
  await page.getByTestId('filter-input').fill(text);
  await page.getByTestId('filter-input').press('Enter');
  // An empty filter shows every packet and no filter time.
  if (text === '') await expect(page.getByTestId('filter-ms')).toHaveCount(0, { timeout: 20_000 });
  else await expect(page.getByTestId('filter-ms')).toBeVisible({ timeout: 20_000 });
}

test('a new import stores column chunks, and a reopen shows the same rows, verdict and filter counts', async ({ page }) => {
  const errors = collectErrors(page);
  const [a, b] = await Promise.all([decoded('A'), decoded('B')]);
  await page.goto('/');
  await page.getByTestId('create-first-session').click();
  await page.getByTestId('file-input').setInputFiles([FILES.A, FILES.B]);
  await page.getByTestId('import-plan-start').click();
  await expect.poll(() => page.locator('[data-testid="import-job"][data-state="done"]').count(), { timeout: 30_000 }).toBe(2);
  await expect(page.getByTestId('verdict')).toHaveAttribute('data-status', 'ok', { timeout: 20_000 });
  // One column chunk per 2000 packets per capture, no Packet objects.
  const forms = await chunkForms(page);
  expect(forms.sort()).toEqual([`cols:${a.packets.length}`, `cols:${b.packets.length}`].sort());

  for (const pass of ['imported', 'reopened']) {
    if (pass === 'reopened') {
      await page.reload();
      await expect(page.getByTestId('verdict')).toHaveAttribute('data-status', 'ok', { timeout: 20_000 });
    }
    await expect(page.getByTestId('pane-count-A')).toHaveText(`${a.packets.length} packets`);
    await expect(page.getByTestId('pane-count-B')).toHaveText(`${b.packets.length} packets`);
    // Row text as the list shows it: frame 1 of A and the last frame of B.
    const first = page.locator('[data-testid="trace-row"][data-host="A"][data-frame="1"]');
    await expect(first.locator('[data-col="src"]')).toContainText(a.packets[0]!.src ?? '');
    await applyFilter(page, FILTER);
    await expect(page.getByTestId('pane-count-A')).toHaveText(`${expectedCount(a.packets)} of ${a.packets.length} packets`);
    await expect(page.getByTestId('pane-count-B')).toHaveText(`${expectedCount(b.packets)} of ${b.packets.length} packets`);
    await applyFilter(page, '');
  }
  expect(errors).toEqual([]);
});

test('schema v2: a session stored with Packet objects in its chunks opens, is analysed and filters as before', async ({ page }) => {
  const errors = collectErrors(page);
  const [a, b] = await Promise.all([decoded('A'), decoded('B')]);
  // Chunks of 2000 as the v2 import worker wrote them: `packets` (plain objects) and the raw frames.
  const chunksOf = (d: Awaited<ReturnType<typeof decoded>>) => {
    const out: Array<{ packets: Packet[]; bytes: number[]; offsets: number[] }> = [];
    for (let i = 0; i < d.packets.length; i += 2000) {
      const frames = d.frames.slice(i, i + 2000);
      const offsets = [0];
      for (const f of frames) offsets.push(offsets[offsets.length - 1]! + f.length);
      out.push({ packets: d.packets.slice(i, i + 2000), bytes: frames.flatMap((f) => [...f]), offsets });
    }
    return out;
  };
  const input = {
    A: { chunks: chunksOf(a), interfaces: a.interfaces, count: a.packets.length, first: a.packets[0]!, last: a.packets[a.packets.length - 1]! },
    B: { chunks: chunksOf(b), interfaces: b.interfaces, count: b.packets.length, first: b.packets[0]!, last: b.packets[b.packets.length - 1]! },
  };
  await page.goto('/');
  await expect(page.getByTestId('app')).toBeVisible();
  await page.evaluate(
    (inp) =>
      new Promise<void>((resolve, reject) => {
        const g = globalThis as any;
        const del = g.indexedDB.deleteDatabase('tandem');
        del.onsuccess = () => {
          // Dexie stores version n as n × 10: the v2 layout, written by hand.
          const open = g.indexedDB.open('tandem', 20);
          open.onupgradeneeded = () => {
            const db = open.result;
            db.createObjectStore('sessions', { keyPath: 'id', autoIncrement: true }).createIndex('updatedAt', 'updatedAt');
            db.createObjectStore('captures', { keyPath: 'id', autoIncrement: true }).createIndex('sessionId', 'sessionId');
            db.createObjectStore('packetChunks', { keyPath: ['captureId', 'chunk'] });
            db.createObjectStore('frameChunks', { keyPath: ['captureId', 'chunk'] });
            db.createObjectStore('notes', { keyPath: 'id', autoIncrement: true }).createIndex('sessionId', 'sessionId');
            db.createObjectStore('analyses', { keyPath: 'sessionId' }).createIndex('updatedAt', 'updatedAt');
            db.createObjectStore('settings', { keyPath: 'sessionId' });
          };
          open.onerror = () => reject(open.error);
          open.onsuccess = () => {
            const db = open.result;
            const tx = db.transaction(['sessions', 'captures', 'packetChunks', 'frameChunks', 'settings'], 'readwrite');
            tx.objectStore('sessions').add({ id: 3, name: 'Stored by v2', createdAt: 1, updatedAt: 1 });
            tx.objectStore('settings').add({ sessionId: 3, options: {} });
            for (const [n, host] of [[11, 'A'], [12, 'B']] as const) {
              const h = inp[host];
              tx.objectStore('captures').add({
                id: n, sessionId: 3, host, fileName: `${host}.pcapng`, format: 'pcapng', interfaces: h.interfaces, packetCount: h.count,
                bytes: 1, status: 'complete', firstTs: { sec: h.first.tsSec, nsec: h.first.tsNsec }, lastTs: { sec: h.last.tsSec, nsec: h.last.tsNsec }, importedAt: 1,
              });
              h.chunks.forEach((c, i) => {
                tx.objectStore('packetChunks').add({ captureId: n, chunk: i, packets: c.packets });
                tx.objectStore('frameChunks').add({ captureId: n, chunk: i, bytes: new Uint8Array(c.bytes).buffer, offsets: new Uint32Array(c.offsets) });
              });
            }
            tx.oncomplete = () => {
              db.close();
              resolve();
            };
            tx.onerror = () => reject(tx.error);
          };
        };
      }),
    input,
  );
  await page.reload();
  await page.getByTestId('session-item').click();
  // No stored analysis: the worker reads the old chunks and analyses them.
  await expect(page.getByTestId('verdict')).toHaveAttribute('data-status', 'ok', { timeout: 30_000 });
  await expect(page.getByTestId('pane-count-A')).toHaveText(`${a.packets.length} packets`);
  await expect(page.locator('[data-testid="trace-row"][data-host="B"][data-frame="1"] [data-col="src"]')).toContainText(b.packets[0]!.src ?? '');
  await applyFilter(page, FILTER);
  await expect(page.getByTestId('pane-count-A')).toHaveText(`${expectedCount(a.packets)} of ${a.packets.length} packets`);
  await expect(page.getByTestId('pane-count-B')).toHaveText(`${expectedCount(b.packets)} of ${b.packets.length} packets`);
  // The old chunks stay as they were (read, never rewritten behind the user's back).
  expect((await chunkForms(page)).every((f) => f.startsWith('packets:'))).toBe(true);
  expect(errors).toEqual([]);
});

test('raw frames are stored byte for byte: pcapng, gzip\'d pcapng, and frames larger than a chunk buffer', async ({ page }) => {
  const errors = collectErrors(page);
  const lab = readFileSync(FILES.A);
  // 60 kB frames: five of them outgrow the import's first 256 kB chunk buffer.
  const big = pcapOf([60, 60_000, 65_535, 60_000, 60_000, 60_000, 100]);
  const cases = [
    { name: 'A.pcapng', bytes: lab },
    { name: 'A.pcapng.gz', bytes: gzipSync(lab) },
    { name: 'big-frames.pcap', bytes: big },
  ];
  await page.goto('/');
  await page.getByTestId('create-first-session').click();
  for (const c of cases) {
    const want = await frameHashes(new Uint8Array(c.name.endsWith('.gz') ? lab : c.bytes));
    await page.getByTestId('file-input').setInputFiles({ name: c.name, mimeType: 'application/octet-stream', buffer: c.bytes });
    await expect.poll(() => page.locator('[data-testid="import-job"][data-state="done"]').count(), { timeout: 30_000 }).toBe(1);
    const got = await storedFrameHashes(page, c.name);
    expect(got, c.name).toEqual(want);
    await page.getByRole('button', { name: 'Dismiss' }).first().click().catch(() => undefined);
    await expect(page.locator('[data-testid="import-job"][data-state="done"]')).toHaveCount(0);
  }
  expect(errors).toEqual([]);
});
