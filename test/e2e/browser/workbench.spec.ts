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
  // Two files: the import shows which becomes A and which B, and starts on confirmation.
  if (files.length > 1) await page.getByTestId('import-plan-start').click();
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
  // The finding names its rule, and its commands read as code, not as text between backticks.
  await expect(page.getByTestId('finding').first().getByTestId('finding-rule')).toHaveText('missing-b5');
  await expect(page.getByTestId('finding').first().locator('.next-steps code').first()).toHaveText(/^sysctl net\.ipv4\.ip_forward$/);
  await expect(page.getByTestId('finding').first().locator('.next-steps')).not.toContainText('`');
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

// IPsec site-to-site lab pair (test/lab/ipsec/captures/healthy: run.json says curl got its page).
// `bin/tandem analyze A.pcapng B.pcapng --json -` labels A0 = A#9 and A7 = A#10 besides the 14
// usual checkpoints; README-ipsec.md gives the path order with A0 first and A7 last.
const IPSEC = resolve(process.cwd(), 'test/lab/ipsec/captures');
const IPSEC_PATH = ['A0', 'A1', 'A2', 'B1', 'B2', 'A3', 'A4', 'B3', 'B4', 'B5', 'B6', 'B7', 'B8', 'A5', 'A6', 'A7'];

test('IPsec gateway: A0 and A7 in the checkpoint strip, on the packets and in [ ] stepping', async ({ page }) => {
  const errors = collectErrors(page);
  const dir = join(IPSEC, 'healthy');
  expect(JSON.parse(readFileSync(join(dir, 'run.json'), 'utf8')).curl_exit).toBe(0);
  await newSessionWith(page, [join(dir, 'A.pcapng'), join(dir, 'B.pcapng')]);
  await expect(page.getByTestId('verdict')).toHaveAttribute('data-status', 'ok', { timeout: 20_000 });
  const chips = page.getByTestId('checkpoint-strip').getByTestId('cp-chip');
  await expect(chips).toHaveText(IPSEC_PATH);
  for (const label of IPSEC_PATH) await expect(chips.filter({ hasText: label })).toBeEnabled();
  await expect(row(page, 'A', 9)).toHaveAttribute('data-checkpoints', 'A0');
  await expect(row(page, 'A', 10)).toHaveAttribute('data-checkpoints', 'A7');
  await expect(row(page, 'A', 9).locator('.cp-badge')).toHaveText('A0');
  await expect(row(page, 'A', 10).locator('.cp-badge')).toHaveText('A7');

  const chip = (label: string) => page.locator(`[data-testid="cp-chip"][data-label="${label}"]`);
  await chip('A0').click();
  await expect(row(page, 'A', 9)).toHaveAttribute('aria-selected', 'true');
  await expect(page.getByTestId('selection-info')).toContainText('A#9 (A0)');
  await page.getByTestId('trace-list-A').focus();
  await page.keyboard.press(']');
  await expect(chip('A1')).toHaveClass(/current/);
  await page.keyboard.press('[');
  await expect(chip('A0')).toHaveClass(/current/);
  // Backwards from the first label wraps to the last one, A7, and on to A6.
  await page.keyboard.press('[');
  await expect(chip('A7')).toHaveClass(/current/);
  await expect(row(page, 'A', 10)).toHaveAttribute('aria-selected', 'true');
  await page.keyboard.press('[');
  await expect(chip('A6')).toHaveClass(/current/);
  await page.keyboard.press(']');
  await expect(chip('A7')).toHaveClass(/current/);
  await shot(page, 'wb-15-ipsec-a0-a7');

  // A gateway pair that fails before the reply: A0 seen, A7 never expected to be reached → not shown.
  const broken = join(IPSEC, 'return-route-missing');
  await newSessionWith(page, [join(broken, 'A.pcapng'), join(broken, 'B.pcapng')]);
  await expect(page.getByTestId('verdict')).toHaveAttribute('data-status', 'fail', { timeout: 20_000 });
  await expect(chip('A0')).toBeEnabled();
  await expect(chip('A7')).toHaveCount(0);
  await expect(chip('B6')).toHaveClass(/first-missing/);
  expect(errors).toEqual([]);
});

test('layout at 1280×800 with the library open: the Info column keeps its room', async ({ page }) => {
  const dir = join(FIXTURES, 'lab-healthy');
  await newSessionWith(page, [join(dir, 'A.pcapng'), join(dir, 'B.pcapng')]);
  await expect(page.getByTestId('verdict')).toHaveAttribute('data-status', 'ok', { timeout: 20_000 });
  expect(page.viewportSize()).toEqual({ width: 1280, height: 800 });
  await expect(page.getByTestId('collapse-sidebar')).toBeVisible();

  const measure = async () => {
    const out: Record<string, { list: number; listRight: number; scrollW: number; clientW: number; cellLeft: number; cellRight: number; cellW: number }> = {};
    for (const host of ['A', 'B'] as const) {
      const list = page.getByTestId(`trace-list-${host}`);
      const cell = row(page, host, 1).locator('.col-info');
      await expect(cell).toBeVisible();
      const m = await list.evaluate((el, sel) => {
        const c = el.querySelector(sel)!.getBoundingClientRect();
        const r = el.getBoundingClientRect();
        return {
          list: r.width, listRight: r.left + el.clientLeft + el.clientWidth, scrollW: el.scrollWidth, clientW: el.clientWidth,
          cellLeft: c.left, cellRight: c.right, cellW: c.width,
        };
      }, `[data-frame="1"] .col-info`);
      out[host] = m;
    }
    return out;
  };

  const open = await measure();
  for (const host of ['A', 'B'] as const) {
    const m = open[host]!;
    // The whole Info cell lies inside the visible part of the list, no sideways scrolling needed.
    expect(m.cellRight, `host ${host} Info right edge`).toBeLessThanOrEqual(m.listRight + 0.5);
    expect(m.scrollW, `host ${host} list scrolls sideways`).toBeLessThanOrEqual(m.clientW);
    expect(m.cellW, `host ${host} Info width`).toBeGreaterThanOrEqual(150);
  }
  // A long summary is cut with an ellipsis and given whole on hover.
  const info = row(page, 'A', 1).locator('.col-info');
  await expect(info).toHaveCSS('text-overflow', 'ellipsis');
  expect((await info.getAttribute('title'))!.length).toBeGreaterThan(0);
  await shot(page, 'wb-16-layout-library-open');

  // Folded, the Info column only gains.
  await page.getByTestId('collapse-sidebar').click();
  await expect(page.getByTestId('sidebar-rail')).toBeVisible();
  const folded = await measure();
  for (const host of ['A', 'B'] as const) {
    expect(folded[host]!.cellW).toBeGreaterThan(open[host]!.cellW);
    expect(folded[host]!.cellRight).toBeLessThanOrEqual(folded[host]!.listRight + 0.5);
  }
  await shot(page, 'wb-17-layout-library-folded');
  await page.getByTestId('expand-sidebar').click();
});

// Frame A#1 of lab-healthy is a raw IPv4 + TCP SYN on wg0; tshark -x shows its bytes:
// 0000 45 00 00 3c 78 4a 40 00 40 06 2f b2 0a 00 00 01 / 0010 c0 a8 c8 16 9b 66 00 50 …,
// source address at bytes 12–15, destination 16–19, TCP source port 20–21, destination port 22–23.
test('hex view: byte cursor with the keyboard, tied to the layer tree', async ({ page }) => {
  const errors = collectErrors(page);
  const dir = join(FIXTURES, 'lab-healthy');
  await newSessionWith(page, [join(dir, 'A.pcapng'), join(dir, 'B.pcapng')]);
  await expect(page.getByTestId('verdict')).toHaveAttribute('data-status', 'ok', { timeout: 20_000 });
  await page.locator('[data-testid="cp-chip"][data-label="A1"]').click();
  await page.getByTestId('tab-detail').click();
  await expect(page.getByTestId('detail-panel')).toHaveAttribute('data-ref', 'A#1');
  const hex = page.getByTestId('hex-view');
  await expect(hex.getByTestId('hex-byte').first()).toBeVisible();
  await expect(hex).toHaveAttribute('role', 'grid');
  await expect(hex).toHaveAttribute('tabindex', '0');
  // The tree came from the dissect worker, not from decoding on the UI thread.
  expect(page.workers().map((w) => w.url()).some((u) => /dissect\.worker/.test(u))).toBe(true);

  const field = (name: string) => page.locator(`[data-testid="detail-field"][data-name="${name}"]`);
  /** The byte the grid names as its active descendant: offset and spoken label. */
  const active = async () =>
    hex.evaluate((el) => {
      const id = el.getAttribute('aria-activedescendant');
      const cell = id ? el.ownerDocument.getElementById(id) : null;
      return cell ? { offset: Number(cell.dataset['offset']), role: cell.getAttribute('role'), label: cell.getAttribute('aria-label'), text: cell.textContent } : null;
    });
  const expectCursor = async (offset: number, fieldName: string) => {
    await expect(hex).toHaveAttribute('data-cursor', String(offset));
    await expect.poll(async () => (await active())?.offset).toBe(offset);
    await expect(field(fieldName)).toHaveAttribute('aria-selected', 'true');
  };

  // Selecting a layer in the tree puts the cursor on its first byte.
  await field('tcp').click();
  await expectCursor(20, 'tcp');
  expect(await active()).toEqual({ offset: 20, role: 'gridcell', label: 'offset 0x14 (20): 0x9b, decimal 155', text: '9b' });

  // Tab from the tree into the bytes; keys move the cursor, the tree follows.
  await page.keyboard.press('Tab');
  await expect(hex).toBeFocused();
  await page.keyboard.press('Home');
  await expectCursor(16, 'ip.dst');
  await page.keyboard.press('ArrowLeft');
  await expectCursor(15, 'ip.src');
  await page.keyboard.press('ArrowDown');
  await expect(hex).toHaveAttribute('data-cursor', '31');
  await page.keyboard.press('ArrowUp');
  await expectCursor(15, 'ip.src');
  await page.keyboard.press('Home');
  await expectCursor(0, 'ip.version');
  expect((await active())!.label).toBe('offset 0x0 (0): 0x45, decimal 69, character E');
  await page.keyboard.press('ArrowUp');
  await expectCursor(0, 'ip.version');
  await page.keyboard.press('End');
  await expectCursor(15, 'ip.src');
  await page.keyboard.press('ArrowRight');
  await page.keyboard.press('ArrowRight');
  await page.keyboard.press('ArrowRight');
  await page.keyboard.press('ArrowRight');
  await page.keyboard.press('ArrowRight');
  await expectCursor(20, 'tcp.srcport');
  await expect(page.getByTestId('hex-status')).toContainText('0x9b = 155');
  await expect(page.getByTestId('hex-status')).toContainText('Source Port');
  await expect(hex.getByTestId('hex-byte-selected')).toHaveCount(2);
  // With the tree opened up to the TCP fields, the bytes stay on screen and the page itself never scrolls.
  await expect(hex.locator('[data-offset="20"].hex-byte')).toBeInViewport();
  await expect(field('tcp.srcport')).toBeInViewport();
  expect(await hex.evaluate((el) => el.ownerDocument.scrollingElement!.scrollTop)).toBe(0);
  await shot(page, 'wb-18-hex-cursor');

  // Moving in the tree moves the cursor: down from the source port is the destination port (byte 22).
  await field('tcp.srcport').click();
  await page.keyboard.press('ArrowDown');
  await expectCursor(22, 'tcp.dstport');
  // A click on a byte places the cursor there.
  await hex.locator('[data-testid^="hex-byte"][data-offset="13"]').click();
  await expectCursor(13, 'ip.src');
  await expect(hex).toBeFocused();
  expect(errors).toEqual([]);
});
