// The two-host workbench in Debian's Chromium against the built renderer, real IndexedDB, real
// captures: import both ends → verdict → click A1 → its twin B4 is highlighted → ladder → note →
// reload → notes and labels persist → filter narrows both panes → the HTML export carries the note.
//
// Expected values come from outside the app:
//  - seed captures: ../shared/reference/seed-captures/*.checkpoints.tsv (A1 = A#1, B4 = B#4, all 14
//    checkpoints present: a healthy exchange); packet counts: grep -c '^[0-9][0-9]:' (23 and 33);
//    inner packets of 192.168.200.22: grep '^[0-9]' FILE | grep -c 192.168.200.22 (10 and 20).
//  - lab pairs (test/e2e/fixtures, copied from the lab's runs): run.json says curl got its page
//    (healthy) or timed out (b-no-forward, where B has IP forwarding off: the decrypted packet B4
//    is seen, the forwarded one B5 is not).
//  - A-any.pcap (tcpdump -i any, SLL2): tshark -T fields -e sll.ifindex gives 3 for frame 1;
//    A-links.txt (`ip -o link` of that host) names index 3 "wg0".

import { expect, test, type Locator, type Page } from '@playwright/test';
import { mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

const SEEDS = resolve(process.cwd(), '../shared/reference/seed-captures');
const FIXTURES = resolve(process.cwd(), 'test/e2e/fixtures');
const SHOTS = resolve(process.cwd(), 'test-results/screens');
mkdirSync(SHOTS, { recursive: true });

async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: join(SHOTS, `${name}.png`) });
}

function row(page: Page, host: 'A' | 'B', frame: number): Locator {
  return page.locator(`[data-testid="trace-row"][data-host="${host}"][data-frame="${frame}"]`);
}

async function newSessionWith(page: Page, files: string[]): Promise<void> {
  await page.goto('/');
  await expect(page.getByTestId('app')).toBeVisible();
  const before = await page.getByTestId('session-item').count();
  await page.getByTestId(before === 0 ? 'create-first-session' : 'new-session').click();
  await expect(page.getByTestId('empty-session')).toBeVisible();
  await page.getByTestId('file-input').setInputFiles(files);
  await expect
    .poll(async () => page.locator('[data-testid="import-job"][data-state="done"]').count(), { timeout: 30_000 })
    .toBe(files.length);
  await expect(page.getByTestId('workbench')).toBeVisible();
}

function collectErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(`console: ${m.text()}`);
  });
  return errors;
}

test('workbench journey on the reference captures of both ends', async ({ page }) => {
  const errors = collectErrors(page);
  await newSessionWith(page, [join(SEEDS, 'endpoint-a.txt'), join(SEEDS, 'host-beta.txt')]);

  // Verdict first: the reference exchange passes every checkpoint.
  await expect(page.getByTestId('verdict')).toHaveAttribute('data-status', 'ok', { timeout: 20_000 });
  await expect(page.getByTestId('pane-count-A')).toHaveText('23 packets');
  await expect(page.getByTestId('pane-count-B')).toHaveText('33 packets');
  for (const label of ['A1', 'A2', 'A3', 'A4', 'A5', 'A6', 'B1', 'B2', 'B3', 'B4', 'B5', 'B6', 'B7', 'B8']) {
    await expect(page.locator(`[data-testid="cp-chip"][data-label="${label}"]`)).toBeEnabled();
  }
  // Badges on the rows the ground truth names.
  await expect(row(page, 'A', 1)).toHaveAttribute('data-checkpoints', /\bA1\b/);
  await expect(row(page, 'B', 4)).toHaveAttribute('data-checkpoints', /\bB4\b/);
  // The session library shows hosts, counts and the verdict.
  await expect(page.getByTestId('session-item-verdict')).toHaveText('OK');
  await expect(page.getByTestId('session-item')).toContainText('endpoint-a.txt');
  await expect(page.getByTestId('session-item')).toContainText('host-beta.txt');
  await shot(page, 'wb-00-library-open');
  // Fold the library into a rail: the two lists get the width.
  await page.getByTestId('collapse-sidebar').click();
  await expect(page.getByTestId('sidebar-rail')).toBeVisible();

  // Click A1: selected on the left, its twin B4 highlighted on the right.
  await page.locator('[data-testid="cp-chip"][data-label="A1"]').click();
  await expect(row(page, 'A', 1)).toHaveAttribute('aria-selected', 'true');
  await expect(row(page, 'B', 4)).toHaveAttribute('data-twin', 'true');
  await expect(page.getByTestId('twin-ref')).toHaveText('B#4');
  await shot(page, 'wb-01-workbench-a1-twin-b4');

  // Keyboard: ] steps to the next checkpoint in path order (A1 → A2), [ back.
  await page.getByTestId('trace-list-A').focus();
  await page.keyboard.press(']');
  await expect(page.locator('[data-testid="cp-chip"][data-label="A2"]')).toHaveClass(/current/);
  await page.keyboard.press('[');
  await expect(page.locator('[data-testid="cp-chip"][data-label="A1"]')).toHaveClass(/current/);
  // Arrow keys move the selection in the focused list.
  await page.keyboard.press('ArrowDown');
  await expect(row(page, 'A', 2)).toHaveAttribute('aria-selected', 'true');
  await page.locator('[data-testid="cp-chip"][data-label="A1"]').click();

  // Packet detail of the selection.
  await page.getByTestId('tab-detail').click();
  await expect(page.getByTestId('detail-panel')).toHaveAttribute('data-ref', 'A#1');
  await shot(page, 'wb-02-detail');

  // Findings: verdict first, evidence links jump to packets.
  await page.getByTestId('tab-findings').click();
  await expect(page.getByTestId('findings')).toBeVisible();
  const evidence = page.getByTestId('findings').getByTestId('ref-link').first();
  const ref = (await evidence.getAttribute('data-ref'))!;
  await evidence.click();
  await expect(page.getByTestId('selection-info')).toContainText(ref);
  await shot(page, 'wb-03-findings');

  // The ladder: hops hover to a packet summary and click to select.
  await page.getByTestId('tab-ladder').click();
  await expect(page.getByTestId('ladder')).toBeVisible();
  await page.getByTestId('panel-size').click();
  const b4hop = page.locator('[data-testid="ladder-hop"][data-checkpoint="B4"]').first();
  await expect(b4hop).toBeVisible();
  await b4hop.locator('circle.hit').hover();
  await expect(page.getByTestId('ladder-hover')).toContainText('B#4');
  await shot(page, 'wb-04-ladder');
  await b4hop.locator('circle.hit').click();
  await expect(row(page, 'B', 4)).toHaveAttribute('aria-selected', 'true');
  await expect(row(page, 'A', 1)).toHaveAttribute('data-twin', 'true');
  await page.getByTestId('panel-size').click();

  // Clock panel.
  await page.getByTestId('tab-clock').click();
  await expect(page.getByTestId('clock-panel')).toBeVisible();
  await shot(page, 'wb-05-clock');
  // A manual offset re-runs the analysis with it; "use the estimate" goes back.
  const estimated = await page.getByTestId('clock-method').textContent();
  expect(estimated).not.toBe('override');
  await page.getByTestId('clock-override-offset').fill('0.5');
  await page.getByTestId('clock-override-apply').click();
  await expect(page.getByTestId('clock-method')).toHaveText('override', { timeout: 20_000 });
  await expect(page.getByTestId('clock-offset')).toHaveText('500.0 µs');
  await page.getByRole('button', { name: 'Use the estimate' }).click();
  await expect(page.getByTestId('clock-method')).toHaveText(estimated!, { timeout: 20_000 });

  // Notes: one on the selected packet (B#4), one on its checkpoint, one on the session.
  await page.getByTestId('tab-notes').click();
  await page.getByTestId('note-target').selectOption({ label: 'packet B#4' });
  await page.getByTestId('note-text').fill('SYN arrives decrypted on wg0 — tunnel is fine');
  await page.getByTestId('note-add').click();
  await page.getByTestId('note-target').selectOption({ label: 'checkpoint B4' });
  await page.getByTestId('note-text').fill('B4 within 1 ms of A1');
  await page.getByTestId('note-add').click();
  await page.getByTestId('note-target').selectOption({ label: 'session' });
  await page.getByTestId('note-text').fill('Ticket 4711: reference run');
  await page.getByTestId('note-add').click();
  await expect(page.getByTestId('note')).toHaveCount(3);
  await shot(page, 'wb-06-notes');

  // Reload: notes, labels and the verdict come back from IndexedDB.
  await page.reload();
  await expect(page.getByTestId('verdict')).toHaveAttribute('data-status', 'ok');
  await expect(row(page, 'A', 1)).toHaveAttribute('data-checkpoints', /\bA1\b/);
  await expect(row(page, 'B', 4)).toHaveAttribute('data-checkpoints', /\bB4\b/);
  await page.getByTestId('tab-notes').click();
  await expect(page.getByTestId('note')).toHaveCount(3);
  await expect(page.locator('[data-testid="note"][data-target="packet:B:4"]')).toContainText('SYN arrives decrypted on wg0');
  await expect(page.locator('[data-testid="note"][data-target="checkpoint:B4"]')).toContainText('B4 within 1 ms of A1');
  await expect(page.locator('[data-testid="cp-chip"][data-label="B4"]')).toHaveClass(/noted/);
  await expect(row(page, 'B', 4).locator('.note-mark')).toBeVisible();
  // Search the library by note text.
  await page.getByTestId('expand-sidebar').click();
  await page.getByTestId('session-search').fill('ticket 4711');
  await expect(page.getByTestId('session-item')).toHaveCount(1);
  await page.getByTestId('session-search').fill('no such words');
  await expect(page.getByTestId('session-item')).toHaveCount(0);
  await page.getByTestId('session-search').fill('');

  // Display filter: a bad one says where; a good one narrows both panes.
  await page.getByTestId('filter-input').fill('ip.addr == ');
  await expect(page.getByTestId('filter-error')).toBeVisible();
  await expect(page.getByTestId('filter-error')).toContainText('at ');
  await shot(page, 'wb-07-filter-error');
  await page.getByTestId('filter-input').fill('ip.addr == 192.168.200.22');
  await expect(page.getByTestId('pane-count-A')).toHaveText('10 of 23 packets');
  await expect(page.getByTestId('pane-count-B')).toHaveText('20 of 33 packets');
  await page.getByTestId('filter-input').fill('checkpoint');
  await expect(page.getByTestId('pane-count-A')).toHaveText('6 of 23 packets');
  await expect(page.getByTestId('pane-count-B')).toHaveText('8 of 33 packets');
  await shot(page, 'wb-08-filtered');
  await page.getByTestId('filter-input').fill('');
  await expect(page.getByTestId('pane-count-A')).toHaveText('23 packets');

  // Exports run in the worker and download: HTML and Markdown carry the notes.
  for (const [format, ext] of [['html', '.html'], ['md', '.md'], ['json', '.json']] as const) {
    await page.getByTestId('export').click();
    const download = page.waitForEvent('download');
    await page.getByTestId(`export-${format}`).click();
    const d = await download;
    expect(d.suggestedFilename().endsWith(ext)).toBe(true);
    const text = readFileSync((await d.path())!, 'utf8');
    expect(text).toContain('Ticket 4711: reference run');
    expect(text).toContain('SYN arrives decrypted on wg0');
    expect(text).toContain('B4 within 1 ms of A1');
  }

  // Dark theme of the same view.
  await page.getByTestId('theme').selectOption('dark');
  await page.getByTestId('tab-findings').click();
  await shot(page, 'wb-09-dark');
  await page.getByTestId('theme').selectOption('system');
  expect(errors).toEqual([]);
});

test('a failing lab pair: verdict names the missing checkpoint, the ladder draws it, pcapng export', async ({ page }) => {
  const errors = collectErrors(page);
  const dir = join(FIXTURES, 'lab-b-no-forward');
  expect(JSON.parse(readFileSync(join(dir, 'run.json'), 'utf8')).curl_exit).not.toBe(0);
  await newSessionWith(page, [join(dir, 'A.pcapng'), join(dir, 'B.pcapng')]);
  await expect(page.getByTestId('verdict')).toHaveAttribute('data-status', 'fail', { timeout: 20_000 });
  await expect(page.locator('[data-testid="cp-chip"][data-label="B4"]')).toBeEnabled();
  await expect(page.locator('[data-testid="cp-chip"][data-label="B5"]')).toHaveClass(/first-missing/);
  await expect(page.getByTestId('verdict')).toContainText('B5');
  await shot(page, 'wb-10-fail-workbench');
  await page.getByTestId('tab-ladder').click();
  await expect(page.getByTestId('ladder-miss').filter({ hasText: 'B5' }).first()).toBeVisible();
  await shot(page, 'wb-11-fail-ladder');

  // A note on the first finding goes into the annotated pcapng as a comment.
  await page.getByTestId('tab-findings').click();
  await page.getByTestId('finding').first().getByTitle('Add a note to this finding').click();
  await expect(page.getByTestId('note-target').locator('option:checked')).toHaveText('finding 1');
  await page.getByTestId('note-text').fill('ip_forward was 0 on B');
  await page.getByTestId('note-add').click();
  await page.getByTestId('export').click();
  const download = page.waitForEvent('download');
  await page.getByTestId('export-pcapng').click();
  const d = await download;
  const bytes = readFileSync((await d.path())!);
  expect(bytes.readUInt32LE(0)).toBe(0x0a0d0d0a); // pcapng section header block
  expect(bytes.includes(Buffer.from('ip_forward was 0 on B'))).toBe(true);
  // One host only, on request.
  await page.getByTestId('export').click();
  const single = page.waitForEvent('download');
  await page.getByTestId('export-pcapng-B').click();
  const s = await single;
  expect(s.suggestedFilename()).toMatch(/-host-B\.pcapng$/);

  // Healthy pair in a second session: verdict ok, both sessions listed with their verdicts.
  const healthy = join(FIXTURES, 'lab-healthy');
  expect(JSON.parse(readFileSync(join(healthy, 'run.json'), 'utf8')).curl_exit).toBe(0);
  await newSessionWith(page, [join(healthy, 'A.pcapng'), join(healthy, 'B.pcapng')]);
  await expect(page.getByTestId('verdict')).toHaveAttribute('data-status', 'ok', { timeout: 20_000 });
  await expect(page.getByTestId('session-item-verdict')).toHaveText(['OK', 'FAIL']);

  // Duplicate keeps captures and notes; delete removes the copy.
  await page.getByTestId('session-item').nth(1).click();
  await page.getByTestId('duplicate-session').click();
  await expect(page.getByTestId('session-item')).toHaveCount(3);
  await expect(page.getByTestId('session-title')).toContainText('(copy)');
  await expect(page.getByTestId('verdict')).toHaveAttribute('data-status', 'fail', { timeout: 20_000 });
  await page.getByTestId('tab-notes').click();
  await expect(page.getByTestId('note')).toHaveCount(1);
  await shot(page, 'wb-12-library');
  await page.getByTestId('delete-session').click();
  await page.getByTestId('confirm-delete-yes').click();
  await expect(page.getByTestId('session-item')).toHaveCount(2);
  expect(errors).toEqual([]);
});

test('interface names: an SLL2 capture gets its names from ip -o link', async ({ page }) => {
  const dir = join(FIXTURES, 'lab-healthy');
  // With one end imported, the other pane says what to capture there.
  await newSessionWith(page, [join(dir, 'A-any.pcap')]);
  await expect(page.getByTestId('pane-B')).toContainText('tcpdump -ni any');
  await expect(page.getByTestId('verdict')).toHaveAttribute('data-status', 'pending');
  await shot(page, 'wb-14-one-end-only');
  await page.getByTestId('delete-session').click();
  await page.getByTestId('confirm-delete-yes').click();
  await newSessionWith(page, [join(dir, 'A-any.pcap'), join(dir, 'B.pcapng')]);
  await expect(row(page, 'A', 1).locator('.col-iface')).toHaveText(/^if3\b/);
  await expect(page.getByTestId('links-hint')).toContainText('Host A');
  await page.getByTestId('links-hint').getByRole('button').click();
  await page.getByTestId('link-text').fill(readFileSync(join(dir, 'A-links.txt'), 'utf8'));
  await expect(page.getByTestId('link-parsed')).toContainText('3 → wg0');
  await shot(page, 'wb-13-link-names');
  await page.getByTestId('link-apply').click();
  await expect(row(page, 'A', 1).locator('.col-iface')).toHaveText(/^wg0\b/, { timeout: 20_000 });
  await expect(page.getByTestId('links-hint')).toHaveCount(0);
  await expect(page.getByTestId('verdict')).toHaveAttribute('data-status', 'ok', { timeout: 20_000 });
});

test('schema upgrade: a v1 database (before the workbench) opens with its sessions and notes intact', async ({ page }) => {
  // Build the v1 layout by hand with raw IndexedDB (Dexie stores version n as n × 10), as the
  // first renderer release left it: one session with a note and no analyses/settings stores.
  await page.goto('/');
  await expect(page.getByTestId('app')).toBeVisible();
  await page.evaluate(
    () =>
      new Promise<void>((resolve, reject) => {
        const g = globalThis as unknown as { indexedDB: { deleteDatabase(n: string): { onsuccess: () => void }; open(n: string, v: number): OpenReq } };
        interface Store { createIndex(n: string, k: string): void; add(v: unknown): void }
        interface Db { createObjectStore(n: string, o: { keyPath: string | string[]; autoIncrement?: boolean }): Store; close(): void; transaction(s: string[], m: string): { objectStore(n: string): Store; oncomplete: () => void } }
        interface OpenReq { result: Db; onupgradeneeded: () => void; onsuccess: () => void; onerror: () => void; error: unknown }
        const del = g.indexedDB.deleteDatabase('tandem');
        del.onsuccess = () => {
          const open = g.indexedDB.open('tandem', 10);
          open.onupgradeneeded = () => {
            const db = open.result;
            db.createObjectStore('sessions', { keyPath: 'id', autoIncrement: true }).createIndex('updatedAt', 'updatedAt');
            db.createObjectStore('captures', { keyPath: 'id', autoIncrement: true }).createIndex('sessionId', 'sessionId');
            db.createObjectStore('packetChunks', { keyPath: ['captureId', 'chunk'] });
            db.createObjectStore('frameChunks', { keyPath: ['captureId', 'chunk'] });
            db.createObjectStore('notes', { keyPath: 'id', autoIncrement: true }).createIndex('sessionId', 'sessionId');
          };
          open.onerror = () => reject(open.error);
          open.onsuccess = () => {
            const db = open.result;
            const tx = db.transaction(['sessions', 'notes'], 'readwrite');
            tx.objectStore('sessions').add({ id: 7, name: 'Old v1 session', createdAt: 1, updatedAt: 1 });
            tx.objectStore('notes').add({ sessionId: 7, target: 'session', text: 'written before v2', createdAt: 1 });
            tx.oncomplete = () => {
              db.close();
              resolve();
            };
          };
        };
      }),
  );
  await page.reload();
  await expect(page.getByTestId('session-item-name')).toHaveText('Old v1 session');
  await page.getByTestId('session-search').fill('before v2');
  await expect(page.getByTestId('session-item')).toHaveCount(1);
  const after = await page.evaluate(
    () =>
      new Promise<{ version: number; stores: string[] }>((resolve) => {
        const g = globalThis as unknown as { indexedDB: { open(n: string): { result: { version: number; objectStoreNames: ArrayLike<string>; close(): void }; onsuccess: () => void } } };
        const open = g.indexedDB.open('tandem');
        open.onsuccess = () => {
          const r = { version: open.result.version, stores: Array.from(open.result.objectStoreNames).sort() };
          open.result.close();
          resolve(r);
        };
      }),
  );
  expect(after.version).toBe(20);
  expect(after.stores).toEqual(['analyses', 'captures', 'frameChunks', 'notes', 'packetChunks', 'sessions', 'settings']);
});
