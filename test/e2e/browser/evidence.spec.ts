// Host evidence in the app (issue 16 §1), in Debian's Chromium against the built renderer with real
// IndexedDB and the real lab fixtures of test/fixtures/evidence/wg/fw-drop: both ends' `tcpdump -i
// any` captures of one test connection and each host's command outputs from the same run.
//
// Expected values come from outside the app: run.json says the test connection timed out; the
// CLI on the same files (`bin/tandem analyze A/capture.pcap B/capture.pcap --a-links … --b-links …`)
// says B5 missing, "firewall-or-routing, fix on B" without evidence and "firewall" with B's
// after-nft.txt, quoting `… drop # handle 11` (the rule the fixture script put in chain from_tunnel).

import { expect, test, type Page } from '@playwright/test';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

const DIR = resolve(process.cwd(), 'test/fixtures/evidence/wg/fw-drop');
const A = join(DIR, 'A');
const B = join(DIR, 'B');
/** B's files given through the file input; after-nft.txt is pasted. */
const B_FILES = ['wg-dump-after.txt', 'ip-o-addr.txt', 'ip-o-route-all.txt', 'ip-rule.txt', 'sysctl.txt', 'before-nft.txt'];
const DROP_RULE = /ip daddr @blocked tcp dport \{ 80, 443 \} counter packets \d+ bytes \d+ drop # handle 11/;

function collectErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(`console: ${m.text()}`);
  });
  // A hostile text that ran would most likely show itself this way.
  page.on('dialog', (d) => {
    errors.push(`dialog: ${d.message()}`);
    void d.dismiss();
  });
  return errors;
}

async function newSessionWith(page: Page, files: string[]): Promise<void> {
  await page.goto('/');
  await expect(page.getByTestId('app')).toBeVisible();
  await page.getByTestId('create-first-session').click();
  await expect(page.getByTestId('empty-session')).toBeVisible();
  await page.getByTestId('file-input').setInputFiles(files);
  await page.getByTestId('import-plan-start').click();
  await expect.poll(async () => page.locator('[data-testid="import-job"][data-state="done"]').count(), { timeout: 30_000 }).toBe(2);
  await expect(page.getByTestId('workbench')).toBeVisible();
}

/** `ip -o link` of the host whose capture is stored as `host`: the captures are `tcpdump -i any` (interface numbers only). */
async function applyLinks(page: Page, host: 'A' | 'B', dir: string): Promise<void> {
  await page.getByTestId('link-names').click();
  await page.getByTestId('link-dialog').locator('select').selectOption(host);
  await page.getByTestId('link-text').fill(readFileSync(join(dir, 'ip-o-link.txt'), 'utf8'));
  await page.getByTestId('link-apply').click();
  await expect(page.getByTestId('link-dialog')).toHaveCount(0);
  await expect(page.getByTestId('task-bar')).toHaveCount(0, { timeout: 30_000 });
}

async function openEvidence(page: Page, host: 'A' | 'B'): Promise<void> {
  await page.getByTestId('evidence-open').click();
  await expect(page.getByTestId('evidence-dialog')).toBeVisible();
  await page.getByTestId(`evidence-host-${host}`).click();
  await expect(page.getByTestId('evidence-list')).toHaveAttribute('data-host', host);
}

async function paste(page: Page, name: string, text: string): Promise<void> {
  await page.getByTestId('evidence-paste-name').fill(name);
  await page.getByTestId('evidence-paste').fill(text);
  await page.getByTestId('evidence-paste-add').click();
  await expect(page.getByTestId('evidence-busy')).toHaveCount(0);
}

/** Whether the right-to-left override or the bell from the hostile text is there raw. */
const raw = (s: string): boolean => s.includes('\u202E') || s.includes('\u0007');

const verdict = (page: Page) => page.getByTestId('verdict');
const dropFinding = (page: Page) => page.getByTestId('finding').filter({ has: page.locator('[data-testid="finding-rule"]', { hasText: /^evidence-fw-drop$/ }) });

async function exportText(page: Page, format: 'html' | 'md' | 'json'): Promise<string> {
  await expect(page.getByTestId('export')).toBeEnabled({ timeout: 20_000 });
  await page.getByTestId('export').click();
  const download = page.waitForEvent('download');
  await page.getByTestId(`export-${format}`).click();
  const d = await download;
  return readFileSync((await d.path())!, 'utf8');
}

test('evidence of B turns firewall-or-routing into firewall with the drop rule quoted; removal, reload, exports', async ({ page }) => {
  const errors = collectErrors(page);
  expect(JSON.parse(readFileSync(join(DIR, 'run.json'), 'utf8')).test_exit).not.toBe(0);
  await newSessionWith(page, [join(A, 'capture.pcap'), join(B, 'capture.pcap')]);
  await applyLinks(page, 'A', A);
  await applyLinks(page, 'B', B);
  await expect(verdict(page)).toHaveAttribute('data-status', 'fail', { timeout: 30_000 });
  await expect(verdict(page)).toContainText('firewall-or-routing · fix on B');
  await page.getByTestId('tab-findings').click();
  await expect(page.getByTestId('host-evidence')).toHaveCount(0);

  // B's files through the file input (several at once), after-nft.txt pasted as an engineer would.
  await openEvidence(page, 'B');
  await page.getByTestId('evidence-file-input').setInputFiles(B_FILES.map((f) => join(B, f)));
  await expect(page.getByTestId('evidence-item')).toHaveCount(B_FILES.length, { timeout: 20_000 });
  await expect(page.getByTestId('evidence-name')).toHaveText(B_FILES);
  await expect(page.getByTestId('evidence-format')).toHaveText(['wg show all dump', 'ip -o addr', 'ip route', 'ip rule', 'sysctl', 'nft list ruleset']);
  // The dump's private key is not stored (the parsers never use it); its public key is.
  const [, privateKey, publicKey] = readFileSync(join(B, 'wg-dump-after.txt'), 'utf8').split('\t');
  const dump = page.getByTestId('evidence-item').first();
  await expect(dump.getByTestId('evidence-secrets')).toHaveText('1 key not kept');
  await dump.locator('summary').click();
  await expect(dump.getByTestId('evidence-preview')).toContainText(publicKey!);
  await expect(dump.getByTestId('evidence-preview')).not.toContainText(privateKey!);
  await dump.locator('summary').click();
  await paste(page, 'after nft', `root@beta:~# nft -a list ruleset\n${readFileSync(join(B, 'after-nft.txt'), 'utf8')}`);
  await expect(page.getByTestId('evidence-item')).toHaveCount(B_FILES.length + 1);
  await expect(page.getByTestId('evidence-item').last()).toHaveAttribute('data-format', 'nft-text');
  await expect(page.getByTestId('evidence-error')).toHaveCount(0);
  await page.screenshot({ path: 'test-results/screens/evidence-dialog.png' });
  // Host A has none of it.
  await page.getByTestId('evidence-host-A').click();
  await expect(page.getByTestId('evidence-item')).toHaveCount(0);
  await page.getByTestId('evidence-close').click();
  await expect(page.getByTestId('evidence-count')).toHaveText(String(B_FILES.length + 1));

  // The analysis ran again with it: the class loses its "-or-", the finding quotes the rule and names the item.
  await expect(verdict(page)).toContainText('firewall · fix on B', { timeout: 30_000 });
  await expect(dropFinding(page)).toHaveCount(1);
  const quote = dropFinding(page).getByTestId('host-evidence-quote').filter({ hasText: DROP_RULE });
  await expect(quote).toHaveCount(1);
  await expect(quote.getByTestId('host-evidence-source')).toHaveText(/^host B · after nft line \d+$/);
  await page.screenshot({ path: 'test-results/screens/evidence-finding.png' });

  // Reload: the evidence and the analysis made with it are kept.
  await page.reload();
  await expect(verdict(page)).toContainText('firewall · fix on B', { timeout: 30_000 });
  await expect(page.getByTestId('evidence-count')).toHaveText(String(B_FILES.length + 1));
  await page.getByTestId('tab-findings').click();
  await expect(dropFinding(page).getByTestId('host-evidence-quote').filter({ hasText: DROP_RULE })).toHaveCount(1);

  // Exports through the app's path carry the quoted rule and its source.
  const md = await exportText(page, 'md');
  expect(md).toMatch(/host evidence \(B, after nft line \d+\): .*`table inet filter chain from_tunnel: ip daddr @blocked tcp dport \{ 80, 443 \} counter packets \d+ bytes \d+ drop # handle 11`/);
  const html = await exportText(page, 'html');
  expect(html).toMatch(/host B · after nft line \d+<pre>table inet filter chain from_tunnel: ip daddr @blocked tcp dport \{ 80, 443 \} counter packets \d+ bytes \d+ drop # handle 11<\/pre>/);
  const json = JSON.parse(await exportText(page, 'json')) as { analysis?: { findings: Array<{ rule?: string; host_evidence?: Array<{ source: string; text: string }> }> }; findings?: Array<{ rule?: string; host_evidence?: Array<{ source: string; text: string }> }> };
  const findings = json.analysis?.findings ?? json.findings ?? [];
  expect(findings.find((f) => f.rule === 'evidence-fw-drop')?.host_evidence?.some((q) => DROP_RULE.test(q.text) && /^after nft line \d+$/.test(q.source))).toBe(true);

  // Remove the pasted ruleset: back to the reading the packets alone give (before-nft.txt is no "after" reading).
  await openEvidence(page, 'B');
  await page.getByTestId('evidence-item').filter({ hasText: 'after nft' }).getByTestId('evidence-remove').click();
  await expect(page.getByTestId('evidence-item')).toHaveCount(B_FILES.length);
  await page.getByTestId('evidence-close').click();
  await expect(verdict(page)).toContainText('firewall-or-routing · fix on B', { timeout: 30_000 });
  await page.getByTestId('tab-findings').click();
  await expect(dropFinding(page)).toHaveCount(0);
  expect(errors).toEqual([]);
});

test('captures given the other way round: the evidence stays with its host and still names the rule', async ({ page }) => {
  const errors = collectErrors(page);
  // B's capture first: it is stored as "A" until the analysis swaps the roles from the packets.
  await newSessionWith(page, [join(B, 'capture.pcap'), join(A, 'capture.pcap')]);
  await expect(verdict(page)).toHaveAttribute('data-status', 'fail', { timeout: 30_000 });
  await openEvidence(page, 'A');
  await page.getByTestId('evidence-file-input').setInputFiles(['before-nft.txt', 'after-nft.txt', 'ip-o-route-all.txt'].map((f) => join(B, f)));
  await expect(page.getByTestId('evidence-item')).toHaveCount(3, { timeout: 20_000 });
  // Interface numbers only (tcpdump -i any, no names yet): said, since iifname/dev matches cannot be checked.
  await expect(page.getByTestId('evidence-no-names')).toBeVisible();
  await page.getByTestId('evidence-close').click();
  await applyLinks(page, 'A', B);
  await applyLinks(page, 'B', A);
  await openEvidence(page, 'A');
  await expect(page.getByTestId('evidence-item')).toHaveCount(3);
  await expect(page.getByTestId('evidence-no-names')).toHaveCount(0);
  await page.getByTestId('evidence-close').click();
  await expect(verdict(page)).toContainText('firewall · fix on B', { timeout: 30_000 });
  await page.getByTestId('tab-findings').click();
  await expect(page.getByTestId('finding').filter({ has: page.locator('[data-testid="finding-rule"]', { hasText: /^roles-swapped$/ }) })).toHaveCount(1);
  await expect(dropFinding(page).getByTestId('host-evidence-source').filter({ hasText: /^host B · after-nft\.txt line \d+$/ })).toHaveCount(1);
  expect(errors).toEqual([]);
});

test('unknown, empty, wrong-kind and hostile texts: one line each, shown inert, never run; a drop on the dialog is evidence, not a capture', async ({ page }) => {
  const errors = collectErrors(page);
  await newSessionWith(page, [join(A, 'capture.pcap'), join(B, 'capture.pcap')]);
  await openEvidence(page, 'B');

  // Text no parser knows: not stored, one line naming the item and its first line.
  await paste(page, 'my notes', '\n  \nI restarted wireguard twice\nstill nothing\n');
  await expect(page.getByTestId('evidence-error')).toHaveText('my notes: not the output of a command Tandem reads (line 3: "I restarted wireguard twice")');
  await expect(page.getByTestId('evidence-item')).toHaveCount(0);
  // An empty file and `ip -o link` (which belongs under Interface names) from the file input, at once.
  await page.getByTestId('evidence-file-input').setInputFiles([join(A, 'after-nft.txt'), join(B, 'ip-o-link.txt')]);
  await expect(page.getByTestId('evidence-error')).toHaveCount(2, { timeout: 20_000 });
  await expect(page.getByTestId('evidence-error').nth(0)).toHaveText('after-nft.txt: empty, nothing to read');
  await expect(page.getByTestId('evidence-error').nth(1)).toHaveText(/^ip-o-link\.txt: not the output of a command Tandem reads \(line 1: .*\); it looks like `ip -o link`: interface names for the capture, not evidence$/);
  await expect(page.getByTestId('evidence-links-offer')).toContainText('ip-o-link.txt lists this host\'s interfaces');
  // Over the 16 MiB limit: refused from its size, before it is read.
  await page.getByTestId('evidence-file-input').setInputFiles({ name: 'huge.log', mimeType: 'text/plain', buffer: Buffer.alloc(16 * 1024 * 1024 + 1, 'a') });
  await expect(page.getByTestId('evidence-error')).toHaveText(['huge.log: 16777217 bytes is over the 16.0 MiB limit for host evidence; keep the lines around the test and try again']);
  await expect(page.getByTestId('evidence-item')).toHaveCount(0);

  // A hostile ruleset: markup, a right-to-left override and a bell in the drop rule's comment and in
  // a line the parser cannot read, under a hostile name. Stored, shown as escapes, and nothing runs.
  const nft = readFileSync(join(B, 'after-nft.txt'), 'utf8')
    .replace('drop # handle 11', 'drop comment "<img src=x onerror=alert(1)>\u202Eevil\u0007" # handle 11')
    .replace('\tchain from_tunnel {', '\t<script>alert(2)</script>\u202Ebad\u0007\n\tchain from_tunnel {');
  const name = '<img src=y onerror=alert(3)>after\u202Enft';
  await paste(page, name, nft);
  const item = page.getByTestId('evidence-item');
  await expect(item).toHaveCount(1);
  await expect(item.getByTestId('evidence-name')).toHaveText('<img src=y onerror=alert(3)>after\\u202enft');
  await expect(item.getByTestId('evidence-problem-count')).toHaveText('1 line not understood');
  await expect(item.getByTestId('evidence-problems')).toContainText('<script>alert(2)</script>\\u202ebad\\x07');
  await item.locator('summary').click();
  await expect(item.getByTestId('evidence-preview')).toContainText('\\u202eevil\\x07" # handle 11');
  expect(await page.getByTestId('evidence-dialog').locator('img, script').count()).toBe(0);
  expect(raw(await page.getByTestId('evidence-dialog').innerText())).toBe(false);
  await page.screenshot({ path: 'test-results/screens/evidence-hostile.png' });

  // A file dropped on the dialog is host evidence (the session's drop zone would import a capture).
  const jobs = await page.getByTestId('import-job').count();
  const dt = await page.evaluateHandle((text) => {
    // This file is typed without the DOM lib.
    const g = globalThis as unknown as { DataTransfer: new () => { items: { add(f: unknown): void } }; File: new (parts: string[], name: string, o: { type: string }) => unknown };
    const d = new g.DataTransfer();
    d.items.add(new g.File([text], 'sysctl-dropped.txt', { type: 'text/plain' }));
    return d;
  }, readFileSync(join(B, 'sysctl.txt'), 'utf8'));
  for (const type of ['dragenter', 'dragover', 'drop']) await page.getByTestId('evidence-drop').dispatchEvent(type, { dataTransfer: dt });
  await expect(item).toHaveCount(2, { timeout: 20_000 });
  await expect(item.last().getByTestId('evidence-format')).toHaveText('sysctl');
  expect(await page.getByTestId('import-job').count()).toBe(jobs);
  // The `ip -o link` given earlier names B's interfaces with one click (as Interface names… would).
  await page.getByTestId('evidence-use-links').click();
  await expect(page.getByTestId('evidence-links-offer')).toHaveCount(0);
  await expect(page.getByTestId('evidence-no-names')).toHaveCount(0);
  await page.getByTestId('evidence-close').click();
  await expect(page.getByTestId('task-bar')).toHaveCount(0, { timeout: 30_000 });
  await page.getByTestId('link-names').click();
  await page.getByTestId('link-dialog').locator('select').selectOption('B');
  await expect(page.getByTestId('link-text')).toHaveValue(readFileSync(join(B, 'ip-o-link.txt'), 'utf8'));
  await page.getByTestId('link-dialog').getByRole('button', { name: 'Cancel' }).click();

  // The finding quotes the hostile rule inert in the app and in every export.
  await applyLinks(page, 'A', A);
  await expect(verdict(page)).toContainText('firewall · fix on B', { timeout: 30_000 });
  await page.getByTestId('tab-findings').click();
  const quote = dropFinding(page).getByTestId('host-evidence-quote').filter({ hasText: 'handle 11' });
  await expect(quote).toContainText('comment "<img src=x onerror=alert(1)>\\u202eevil\\x07" # handle 11');
  await expect(quote.getByTestId('host-evidence-source')).toHaveText(/^host B · <img src=y onerror=alert\(3\)>after\\u202enft line \d+$/);
  expect(await page.getByTestId('findings').locator('img, script').count()).toBe(0);
  expect(raw(await page.getByTestId('findings').innerText())).toBe(false);

  const html = await exportText(page, 'html');
  expect(html).toContain('comment &quot;&lt;img src=x onerror=alert(1)&gt;\\u202eevil\\x07&quot; # handle 11');
  expect(html).not.toMatch(/<img src=[xy]/);
  expect(raw(html)).toBe(false);
  const md = await exportText(page, 'md');
  expect(md).toContain('comment "<img src=x onerror=alert(1)>\\u202eevil\\x07" # handle 11`');
  expect(raw(md)).toBe(false);
  const jsonText = await exportText(page, 'json');
  expect(raw(jsonText)).toBe(false);
  expect(jsonText).toContain('onerror=alert(1)>\\u202eevil\\u0007');
  expect(errors).toEqual([]);
});

test('IPsec (strongSwan lab, selector-missing): swanctl --list-sas of both gateways names the child SA; the covered subnet stays quiet', async ({ page }) => {
  const errors = collectErrors(page);
  // Made by test/lab/ipsec/lab-ipsec.sh: the child SA covers 10.2.0.0/24, the test also went to 10.2.1.22.
  const cap = resolve(process.cwd(), 'test/lab/ipsec/captures/selector-missing');
  const ev = resolve(process.cwd(), 'test/fixtures/evidence/ipsec/selector-missing');
  await newSessionWith(page, [join(cap, 'A.pcapng'), join(cap, 'B.pcapng')]);
  const flow = async (f: string) => {
    await page.getByTestId('flow-input').fill(f);
    await page.getByTestId('flow-input').press('Enter');
  };
  await flow('tcp 10.2.1.22:80');
  await expect(verdict(page)).toContainText('ipsec-config · fix on A', { timeout: 30_000 });
  await openEvidence(page, 'A');
  await page.getByTestId('evidence-file-input').setInputFiles([join(ev, 'A-sas.txt'), join(ev, 'charon-a.log')]);
  await expect(page.getByTestId('evidence-format')).toHaveText(['swanctl --list-conns/--list-sas', 'IKE daemon log'], { timeout: 20_000 });
  await page.getByTestId('evidence-host-B').click();
  await paste(page, 'swanctl on B', readFileSync(join(ev, 'B-sas.txt'), 'utf8'));
  await expect(page.getByTestId('evidence-item')).toHaveCount(1);
  await page.getByTestId('evidence-close').click();
  await page.getByTestId('tab-findings').click();
  const ts = page.getByTestId('finding').filter({ has: page.locator('[data-testid="finding-rule"]', { hasText: /^evidence-ipsec-ts$/ }) });
  await expect(ts.first()).toBeVisible({ timeout: 30_000 });
  await expect(ts.getByTestId('host-evidence-quote').filter({ hasText: /remote 10\.2\.0\.0\/24$/ }).getByTestId('host-evidence-source').first()).toHaveText(/^host A · A-sas\.txt line \d+$/);
  // B's pasted listing is quoted for B's side of the same selectors.
  await expect(ts.getByTestId('host-evidence-source').filter({ hasText: /^host B · swanctl on B line \d+$/ })).not.toHaveCount(0);
  // The neighbouring subnet the selectors do cover: the same evidence accuses nothing.
  await flow('tcp 10.2.0.22:80');
  await expect(verdict(page)).toHaveAttribute('data-status', 'ok', { timeout: 30_000 });
  await expect(page.getByTestId('finding-rule').filter({ hasText: /^evidence-/ })).toHaveCount(0);
  expect(errors).toEqual([]);
});

test('evidence first, captures after: kept for the host and used by the first analysis', async ({ page }) => {
  const errors = collectErrors(page);
  await page.goto('/');
  await page.getByTestId('create-first-session').click();
  await expect(page.getByTestId('empty-session')).toBeVisible();
  await openEvidence(page, 'B');
  await expect(page.getByTestId('evidence-host-B')).toContainText('no capture yet');
  await page.getByTestId('evidence-file-input').setInputFiles(['after-nft.txt', 'before-nft.txt', 'wg-dump-after.txt'].map((f) => join(B, f)));
  await expect(page.getByTestId('evidence-item')).toHaveCount(3, { timeout: 20_000 });
  await page.getByTestId('evidence-close').click();
  await page.getByTestId('file-input').setInputFiles([join(A, 'capture.pcap'), join(B, 'capture.pcap')]);
  await page.getByTestId('import-plan-start').click();
  await expect(page.getByTestId('workbench')).toBeVisible({ timeout: 30_000 });
  await applyLinks(page, 'A', A);
  await applyLinks(page, 'B', B);
  // after-nft.txt came first, before-nft.txt second: the names, not the order, say which reading is which.
  await expect(verdict(page)).toContainText('firewall · fix on B', { timeout: 30_000 });
  await page.getByTestId('tab-findings').click();
  await expect(dropFinding(page).getByTestId('host-evidence-quote').filter({ hasText: DROP_RULE }).getByTestId('host-evidence-source')).toHaveText(/^host B · after-nft\.txt line \d+$/);
  expect(errors).toEqual([]);
});
