// The browser journey against the built renderer (out/renderer) in Debian's Chromium, with real
// IndexedDB: create a session, import real captures, check rows against what tshark prints for
// the same frames, reload, rename, delete. Also a damaged file, cancel, and the import speed.
//
// Expected field values below were read from tshark/tcpdump output for the fixed corpus files:
//   tshark -r afs.pcap -c 2 -T fields -e ip.src -e udp.srcport -e ip.dst -e udp.dstport -e frame.len -e frame.time_relative
//   tshark -r dhcp-option-108.pcapng -c 1 -T fields -e frame.interface_name -e ip.src -e udp.srcport -e ip.dst -e udp.dstport -e frame.len
//   tshark -r afs-cut.pcap (first 100000 bytes of afs.pcap): 174 packets, then "cut short in the middle of a packet"

import { expect, test, type Locator, type Page } from '@playwright/test';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';

const CORPUS = resolve(process.cwd(), '../shared/corpus/tcpdump-tests');
const AFS = join(CORPUS, 'afs.pcap');
const DHCP_PCAPNG = join(CORPUS, 'dhcp-option-108.pcapng');
const ARP = join(CORPUS, 'arp-oobr.pcap');
const SEEDS = resolve(process.cwd(), '../shared/reference/seed-captures');
const SHOTS = resolve(process.cwd(), 'test-results/screens');

mkdirSync(SHOTS, { recursive: true });

async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: join(SHOTS, `${name}.png`) });
}

function row(page: Page, frame: number): Locator {
  return page.locator(`[data-testid="packet-row"][data-frame="${frame}"]`);
}

function cell(page: Page, frame: number, col: string): Locator {
  return row(page, frame).locator(`[data-col="${col}"]`);
}

async function createSession(page: Page): Promise<void> {
  const before = await page.getByTestId('session-item').count();
  await page.getByTestId(before === 0 ? 'create-first-session' : 'new-session').click();
  await expect(page.getByTestId('session-item')).toHaveCount(before + 1);
  await expect(page.getByTestId('empty-session')).toBeVisible();
}

async function dismissJobs(page: Page): Promise<void> {
  const dismiss = page.getByRole('button', { name: 'Dismiss' });
  // A clean import's bar also goes away by itself, so a click may find nothing left to click.
  while ((await dismiss.count()) > 0) await dismiss.first().click({ timeout: 2000 }).catch(() => undefined);
}

/** Imports files through the hidden file input and waits until every one of them has finished. */
async function importFiles(page: Page, files: Parameters<Locator['setInputFiles']>[0]): Promise<number> {
  await dismissJobs(page);
  const expected = Array.isArray(files) ? files.length : 1;
  const started = Date.now();
  await page.getByTestId('file-input').setInputFiles(files);
  // Two files are shown as "A ← first, B ← second" and start on confirmation.
  if (expected > 1) {
    await expect(page.getByTestId('plan-A')).toBeVisible();
    await page.getByTestId('import-plan-start').click();
  }
  // Jobs appear one after another; count the finished ones until all files are there.
  await expect
    .poll(async () => page.locator('[data-testid="import-job"][data-state="done"]').count(), { timeout: 45_000, intervals: [50, 100, 200] })
    .toBe(expected);
  const ms = Date.now() - started;
  await showCaptures(page);
  return ms;
}

/** These tests read one capture at a time: the Captures view (the workbench is covered in workbench.spec.ts). */
async function showCaptures(page: Page): Promise<void> {
  await page.getByTestId('view-captures').click();
}

// The minimal IndexedDB surface used inside page.evaluate (this file is typed without the DOM lib).
interface IdbRequest<T> { result: T; error: unknown; onsuccess: (() => void) | null; onerror: (() => void) | null }
interface IdbStore { count(): IdbRequest<number> }
interface IdbDatabase { transaction(s: string, mode: 'readonly'): { objectStore(s: string): IdbStore }; close(): void }
interface IdbFactory { open(name: string): IdbRequest<IdbDatabase> }

/** Counts the records of one object store straight from IndexedDB, bypassing the app. */
async function countIdb(page: Page, store: string): Promise<number> {
  return page.evaluate(
    (s) =>
      new Promise<number>((res, rej) => {
        const open = (globalThis as unknown as { indexedDB: IdbFactory }).indexedDB.open('tandem');
        open.onerror = () => rej(open.error);
        open.onsuccess = () => {
          const req = open.result.transaction(s, 'readonly').objectStore(s).count();
          req.onsuccess = () => {
            res(req.result);
            open.result.close();
          };
          req.onerror = () => rej(req.error);
        };
      }),
    store,
  );
}

test('session journey: create, import A and B, reload, rename, delete', async ({ page }) => {
  // Any script error or CSP violation (they are logged as console errors) fails the journey.
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(`console: ${m.text()}`);
  });
  await page.goto('/');
  await expect(page.getByTestId('empty-app')).toBeVisible();
  await shot(page, '01-first-start');

  await createSession(page);
  await shot(page, '02-empty-session');

  // Host A: a classic pcap with 601 UDP packets.
  await importFiles(page, AFS);
  await expect(page.locator('[data-testid="import-job"]').first()).toHaveAttribute('data-status', 'complete');
  await expect(page.getByTestId('packet-count')).toHaveText('601 packets');
  await expect(page.getByTestId('capture-status')).toHaveText('complete');
  await expect(row(page, 1)).toBeVisible();
  await expect(cell(page, 1, 'no')).toHaveText('1');
  await expect(cell(page, 1, 'src')).toHaveText('131.151.32.21:7001');
  await expect(cell(page, 1, 'dst')).toHaveText('131.151.1.59:7000');
  await expect(cell(page, 1, 'proto')).toHaveText('UDP'); // tshark: ip.proto 17 (it goes on to name RX, which we do not decode)
  await expect(cell(page, 1, 'len')).toHaveText('86');
  await expect(cell(page, 1, 'time')).toHaveText('00:00:00.000000000');
  await expect(cell(page, 2, 'time')).toHaveText('00:00:00.019872000');
  await expect(cell(page, 2, 'src')).toHaveText('131.151.1.59:7000');
  await expect(cell(page, 2, 'len')).toHaveText('190');
  await page.getByTestId('time-mode').selectOption('absolute');
  await expect(cell(page, 1, 'time')).toHaveText('21:46:16.463334000'); // tcpdump -nr afs.pcap (TZ=UTC)
  await page.getByTestId('time-mode').selectOption('relative');
  await shot(page, '03-host-a-imported');

  // The virtual list renders only what is on screen: scroll to the end and find the last frame.
  await page.getByTestId('packet-list').focus();
  await page.keyboard.press('End');
  await expect(row(page, 601)).toBeVisible();
  await expect(cell(page, 601, 'time')).toHaveText('00:02:09.429532000'); // tshark frame.time_relative 129.429532
  expect(await page.locator('[data-testid="packet-row"]').count()).toBeLessThan(150);

  // Host B is assigned automatically to the second file: a pcapng with a named interface.
  await expect(page.getByTestId('host-select')).toHaveValue('B');
  await importFiles(page, DHCP_PCAPNG);
  await expect(page.getByTestId('capture-tab')).toHaveCount(2);
  await expect(page.locator('[data-testid="capture-tab"][data-host="B"]')).toHaveAttribute('aria-selected', 'true');
  await expect(page.getByTestId('packet-count')).toHaveText('2 packets');
  await expect(cell(page, 1, 'iface')).toHaveText('en0');
  await expect(cell(page, 1, 'src')).toHaveText('0.0.0.0:68');
  await expect(cell(page, 1, 'dst')).toHaveText('255.255.255.255:67');
  await expect(cell(page, 1, 'len')).toHaveText('342');
  await expect(page.getByTestId('capture-interfaces')).toContainText('en0');
  await shot(page, '04-host-b-imported');

  // Everything is in IndexedDB: a reload shows the same session, both captures and their rows.
  await page.reload();
  await expect(page.getByTestId('session-item')).toHaveCount(1);
  await showCaptures(page);
  await expect(page.getByTestId('capture-tab')).toHaveCount(2);
  await page.locator('[data-testid="capture-tab"][data-host="A"]').click();
  await expect(page.getByTestId('packet-count')).toHaveText('601 packets');
  await expect(cell(page, 1, 'src')).toHaveText('131.151.32.21:7001');
  await expect(cell(page, 1, 'len')).toHaveText('86');
  await page.locator('[data-testid="capture-tab"][data-host="B"]').click();
  await expect(cell(page, 1, 'iface')).toHaveText('en0');
  expect(await countIdb(page, 'packetChunks')).toBe(2);

  // Rename inline; the new name survives a reload.
  await page.getByTestId('rename-session').click();
  await page.getByTestId('session-name-input').fill('WG client ↔ gateway');
  await page.getByTestId('session-name-input').press('Enter');
  await expect(page.getByTestId('session-title')).toHaveText('WG client ↔ gateway');
  await expect(page.getByTestId('session-item-name')).toHaveText('WG client ↔ gateway');
  await page.reload();
  await expect(page.getByTestId('session-title')).toHaveText('WG client ↔ gateway');
  // Also in place in the sidebar (double-click); Escape abandons an edit.
  await page.getByTestId('session-item').dblclick();
  await page.getByTestId('session-item-input').fill('never saved');
  await page.getByTestId('session-item-input').press('Escape');
  await expect(page.getByTestId('session-item-name')).toHaveText('WG client ↔ gateway');
  await page.getByTestId('session-item').dblclick();
  await page.getByTestId('session-item-input').fill('WG lab run 1');
  await page.getByTestId('session-item-input').press('Enter');
  await expect(page.getByTestId('session-item-name')).toHaveText('WG lab run 1');
  await expect(page.getByTestId('session-title')).toHaveText('WG lab run 1');
  await page.reload();
  await expect(page.getByTestId('session-item-name')).toHaveText('WG lab run 1');
  await shot(page, '05-renamed-after-reload');
  await page.emulateMedia({ colorScheme: 'dark' });
  await shot(page, '05b-dark');
  await page.emulateMedia({ colorScheme: 'light' });

  // Delete asks first, then removes the session, its captures and every stored chunk.
  await page.getByTestId('delete-session').click();
  await expect(page.getByTestId('confirm-delete')).toBeVisible();
  await shot(page, '06-confirm-delete');
  await page.getByTestId('confirm-delete-yes').click();
  await expect(page.getByTestId('session-item')).toHaveCount(0);
  await expect(page.getByTestId('empty-app')).toBeVisible();
  await page.reload();
  await expect(page.getByTestId('empty-app')).toBeVisible();
  expect(await countIdb(page, 'sessions')).toBe(0);
  expect(await countIdb(page, 'captures')).toBe(0);
  expect(await countIdb(page, 'packetChunks')).toBe(0);
  expect(await countIdb(page, 'frameChunks')).toBe(0);
  expect(errors).toEqual([]);
});

test('a damaged file shows its one-line problem and keeps the good packets', async ({ page }) => {
  await page.goto('/');
  await createSession(page);
  const cut = readFileSync(AFS).subarray(0, 100_000);
  await importFiles(page, { name: 'afs-cut.pcap', mimeType: 'application/vnd.tcpdump.pcap', buffer: cut });
  await expect(page.getByTestId('capture-status')).toHaveText('partial');
  await expect(page.getByTestId('packet-count')).toHaveText('174 packets');
  const problem = page.getByTestId('capture-problem');
  await expect(problem).toHaveText(/^afs-cut\.pcap: .+ at byte \d+$/);
  expect((await problem.textContent())!.split('\n')).toHaveLength(1);
  await expect(cell(page, 1, 'src')).toHaveText('131.151.32.21:7001');
  await shot(page, '07-damaged-file');
  await page.reload();
  await showCaptures(page);
  await expect(page.getByTestId('capture-problem')).toHaveText(/^afs-cut\.pcap: .+ at byte \d+$/);
  await expect(page.getByTestId('packet-count')).toHaveText('174 packets');
});

test('two files at once: tcpdump text of both ends become hosts A and B; gzip is read too', async ({ page }) => {
  await page.goto('/');
  await createSession(page);
  // Values read from the first packet lines of the two reference outputs themselves.
  await importFiles(page, [join(SEEDS, 'endpoint-a.txt'), join(SEEDS, 'host-beta.txt')]);
  await expect(page.getByTestId('capture-tab')).toHaveCount(2);
  await page.locator('[data-testid="capture-tab"][data-host="A"]').click();
  await expect(page.locator('[data-testid="capture-tab"][data-host="A"]')).toContainText('endpoint-a.txt');
  await expect(page.getByTestId('packet-count')).toHaveText('23 packets'); // grep -c '^[0-9][0-9]:' endpoint-a.txt
  await expect(cell(page, 1, 'iface')).toHaveText('wg0');
  await expect(cell(page, 1, 'dir')).toHaveText('out');
  await expect(cell(page, 1, 'src')).toHaveText('10.0.0.1:45734');
  await expect(cell(page, 1, 'dst')).toHaveText('192.168.200.22:80');
  await expect(cell(page, 1, 'proto')).toHaveText('TCP');
  await page.getByTestId('time-mode').selectOption('absolute');
  await expect(cell(page, 1, 'time')).toHaveText('19:47:20.751416000');
  await page.locator('[data-testid="capture-tab"][data-host="B"]').click();
  await expect(page.getByTestId('packet-count')).toHaveText('33 packets');
  await expect(cell(page, 1, 'iface')).toHaveText('eth0');
  await expect(cell(page, 1, 'dir')).toHaveText('in');
  await expect(cell(page, 1, 'src')).toHaveText('198.51.100.1:51821');
  await shot(page, '10-text-imports');

  // A gzip'd pcap replaces host A and reads exactly like the plain file.
  await page.getByTestId('host-select').selectOption('A');
  await importFiles(page, { name: 'afs.pcap.gz', mimeType: 'application/gzip', buffer: gzipSync(readFileSync(AFS)) });
  await expect(page.getByTestId('capture-tab')).toHaveCount(2);
  await page.locator('[data-testid="capture-tab"][data-host="A"]').click();
  await expect(page.getByTestId('capture-status')).toHaveText('complete');
  await expect(page.getByTestId('packet-count')).toHaveText('601 packets');
  await expect(cell(page, 1, 'src')).toHaveText('131.151.32.21:7001');
  await expect(cell(page, 1, 'len')).toHaveText('86');
});

test('import speed and cancel on a large capture', async ({ page }, testInfo) => {
  await page.goto('/');
  await createSession(page);

  // The corpus file with the most packets.
  const arpPackets = 2282; // capinfos -c arp-oobr.pcap
  const ms = await importFiles(page, ARP);
  await expect(page.getByTestId('packet-count')).toHaveText(`${arpPackets.toLocaleString('en-US')} packets`);
  const rate = Math.round(arpPackets / (ms / 1000));
  console.log(`import speed: arp-oobr.pcap ${arpPackets} packets, ${statSync(ARP).size} bytes in ${ms} ms = ${rate} packets/s (wall clock, incl. UI)`);
  await expect(page.getByTestId('import-rate')).toBeVisible();

  // A bigger file made of the same real packets, to see the sustained rate and to cancel mid-way.
  const big = testInfo.outputPath('arp-x60.pcap');
  try {
    execFileSync('mergecap', ['-a', '-F', 'pcap', '-w', big, ...Array<string>(60).fill(ARP)]);
  } catch (err) {
    console.log(`skip: large-file import speed and cancel need mergecap (${(err as Error).message.split('\n')[0]})`);
    return;
  }
  expect(existsSync(big)).toBe(true);
  const bigPackets = arpPackets * 60;
  await page.getByTestId('host-select').selectOption('B');
  const bigMs = await importFiles(page, big);
  await expect(page.getByTestId('packet-count')).toHaveText(`${bigPackets.toLocaleString('en-US')} packets`);
  console.log(`import speed: arp-oobr.pcap x60 ${bigPackets} packets, ${statSync(big).size} bytes in ${bigMs} ms = ${Math.round(bigPackets / (bigMs / 1000))} packets/s`);
  await page.getByTestId('packet-list').focus();
  await page.keyboard.press('End');
  await expect(row(page, bigPackets)).toBeVisible();
  await shot(page, '08-large-capture');

  // Cancel an import into host B (a file big enough to still be running when Cancel is clicked):
  // it stops at once, offers to keep what was read, and keeps the complete capture it was meant to
  // replace until then. Here the user keeps it: B becomes the partial capture with its reason.
  const bigger = testInfo.outputPath('arp-x240.pcap');
  execFileSync('mergecap', ['-a', '-F', 'pcap', '-w', bigger, ...Array<string>(4).fill(big)]);
  const biggerPackets = bigPackets * 4;
  await page.getByTestId('host-select').selectOption('B');
  await dismissJobs(page);
  await page.getByTestId('file-input').setInputFiles(bigger);
  const cancel = page.getByTestId('cancel-import');
  await expect(page.getByTestId('import-progress')).not.toHaveAttribute('aria-valuenow', '0');
  await cancel.click();
  await expect(page.locator('[data-testid="import-job"]').first()).toHaveAttribute('data-status', 'cancelled', { timeout: 20_000 });
  // Still the complete x60 capture in B's tab until the user decides.
  await page.locator('[data-testid="capture-tab"][data-host="B"][data-status="complete"]').click();
  await expect(page.getByTestId('packet-count')).toHaveText(`${bigPackets.toLocaleString('en-US')} packets`);
  const keep = page.getByTestId('keep-partial');
  const kept = Number((await keep.textContent())!.replace(/\D/g, ''));
  expect(kept).toBeGreaterThan(0);
  expect(kept).toBeLessThan(biggerPackets);
  await keep.click();
  await expect(page.locator('[data-testid="capture-tab"][data-host="B"]')).toHaveCount(1);
  await page.locator('[data-testid="capture-tab"][data-host="B"]').click();
  await expect(page.getByTestId('capture-status')).toHaveText('partial');
  await expect(page.getByTestId('packet-count')).toHaveText(`${kept.toLocaleString('en-US')} packets`);
  await expect(page.getByTestId('capture-problem')).toHaveText(/^arp-x240\.pcap: import cancelled at byte \d+; the [\d,]+ packets read before it are kept$/);
  console.log(`cancel: kept ${kept} of ${biggerPackets} packets`);
  await shot(page, '09-cancelled');
});
