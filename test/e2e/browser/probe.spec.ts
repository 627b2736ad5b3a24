// "Run a test" (issue 16 §2) end to end in Chromium with real IndexedDB, the real import and evidence
// workers and the real session analysis.
//
// Why a stand-in bridge: no Electron binary exists on this machine, so the preload that defines
// `window.tandem` cannot run (see capture.spec.ts). The stand-in plays the main process's part of
// the contract: it answers probe.start, pushes progress events, and at the end lists the files a real
// test collected and serves their bytes through probe.file. The files are REAL: both ends of the
// WireGuard lab's fw-drop run (test/fixtures/evidence/wg/fw-drop, made by make-wg-fixtures.sh: the
// two `tcpdump -i any` captures, `ip -o link`, and every command output of the hosts). The main
// process side (validation, the per-test folder, the file allowlist, the engine) runs under Node in
// test/unit/electron/probe-ipc.test.ts.
//
// Expected values come from outside the app: `bin/tandem analyze` on the same files with the same
// evidence says "FAIL — first missing B5 (firewall, fix on B)" and quotes B's nft rule with handle 11.

import { expect, test, type Page } from '@playwright/test';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { PROBE_STEP_NAMES } from '../../../shared/ipc/contract.ts';

const FIXTURE = resolve(process.cwd(), 'test/fixtures/evidence/wg/fw-drop');
const SHOTS = resolve(process.cwd(), 'test-results/screens');
mkdirSync(SHOTS, { recursive: true });

interface HostFiles { capture: string; links: string; evidence: string[] }
interface Served {
  files: Record<string, string>;
  A: HostFiles;
  B: HostFiles;
  /** A real probe's events and end, replayed as they came (see the last test). */
  recorded?: { events: any[]; outcome: any; target: string; port: number; engine: { status: string; class: string; host: string | null; first_missing: string | null; rules: string[] } };
}

/** The fixture as a test's folder: every non-empty file, by "A/name", as base64. */
function loadServed(): Served {
  const files: Record<string, string> = {};
  const host = (h: 'A' | 'B'): HostFiles => {
    const out: HostFiles = { capture: '', links: '', evidence: [] };
    for (const f of readdirSync(join(FIXTURE, h)).sort()) {
      const bytes = readFileSync(join(FIXTURE, h, f));
      // The engine keeps no empty outputs (a host without nft prints nothing).
      if (bytes.length === 0) continue;
      const name = `${h}/${f}`;
      files[name] = bytes.toString('base64');
      if (f === 'capture.pcap') out.capture = name;
      else if (f === 'ip-o-link.txt') out.links = name;
      else out.evidence.push(name);
    }
    return out;
  };
  return { files, A: host('A'), B: host('B') };
}

/**
 * Runs in the page before the app. B's host name picks the stand-in's behaviour:
 * gw-b.example runs every step (it waits at 'test' until the page says go), nocap.example fails at
 * capture-start on B, slow.example stops at 'test' until cancelled, slowfile.example ends fine but
 * takes 4 s to hand over each capture. 203.0.113.9 as target is refused the way main refuses.
 */
function installStandIn(served: Served): void {
  const g = globalThis as any;
  const bytesOf = (b64: string) => {
    const bin = g.atob(b64) as string;
    const out = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out;
  };
  const listeners = new Set<(e: unknown) => void>();
  const emit = (e: unknown) => listeners.forEach((l) => l(e));
  const calls: unknown[] = [];
  g.__probeCalls = calls;
  let serial = 0;
  let release: (() => void) | null = null;
  g.__probeGo = () => release?.();
  const cancelled = new Set<string>();
  const ended = new Set<string>();
  const evidenceBefore = (h: 'A' | 'B') => served[h].evidence.filter((n: string) => !/after/.test(n));
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
  const end = (probeId: string, outcome: unknown) => {
    ended.add(probeId);
    emit({ type: 'end', probeId, outcome });
  };
  const play = async (probeId: string, b: string) => {
    if (served.recorded) {
      for (const ev of served.recorded.events) {
        await sleep(15);
        emit({ ...ev, probeId });
      }
      end(probeId, served.recorded.outcome);
      return;
    }
    const step = async (s: string, host: 'A' | 'B' | undefined, state: string, detail?: string) => {
      await sleep(40);
      emit({ type: 'progress', probeId, progress: { step: s, state, ...(host ? { host } : {}), ...(detail ? { detail } : {}) } });
    };
    const both = async (s: string, detail?: (h: string) => string) => {
      await step(s, 'A', 'running');
      await step(s, 'B', 'running');
      await step(s, 'A', 'done', detail?.('A'));
      await step(s, 'B', 'done', detail?.('B'));
    };
    await both('connect', (h) => `${h === 'A' ? 'this machine' : 'ops@gw-b'}: tcpdump 4.99.3, sudo not needed`);
    await both('evidence-before', (h) => `${evidenceBefore(h as 'A' | 'B').length} outputs saved`);
    if (b === 'nocap.example') {
      await step('capture-start', 'A', 'running');
      await step('capture-start', 'B', 'running');
      await step('capture-start', 'A', 'done', 'tcpdump on any');
      // Worded as tcpdump words it; control characters already made visible by the engine.
      // A far end's text is data: markup in it must stay text.
      const message = 'tcpdump: eth9<img src=x onerror="globalThis.__pwned=1">: No such device exists (SIOCGIFHWADDR: No such device)';
      await step('capture-start', 'B', 'failed', message);
      end(probeId, {
        files: { A: { capture: '', links: served.A.links, evidence: evidenceBefore('A') }, B: { capture: '', links: served.B.links, evidence: evidenceBefore('B') } },
        failed: { step: 'capture-start', host: 'B', message },
      });
      return;
    }
    await both('capture-start');
    await step('test', 'A', 'running', 'curl -sS -m 10 -o /dev/null telnet://192.168.200.22:80');
    if (b === 'slow.example' || b === 'gw-b.example') {
      await new Promise<void>((r) => {
        release = r;
        const t = setInterval(() => {
          if (cancelled.has(probeId)) {
            clearInterval(t);
            r();
          }
        }, 20);
      });
    }
    if (cancelled.has(probeId)) {
      await step('test', 'A', 'failed', 'cancelled');
      end(probeId, { files: { A: { capture: '', links: served.A.links, evidence: evidenceBefore('A') }, B: { capture: '', links: served.B.links, evidence: evidenceBefore('B') } }, cancelled: true });
      return;
    }
    await step('test', 'A', 'done', 'connection timed out (exit 28)');
    await step('settle', undefined, 'running');
    await step('settle', undefined, 'done');
    await both('capture-stop', (h) => `${h === 'A' ? 14 : 15} packets captured`);
    await both('evidence-after');
    await step('analyze', undefined, 'running');
    await step('analyze', undefined, 'done', 'fail: firewall on B');
    end(probeId, {
      files: { A: served.A, B: served.B },
      test: { command: 'curl -sS -m 10 -o /dev/null telnet://192.168.200.22:80', exitCode: 28, ok: false, output: 'curl: (28) Connection timed out after 10001 milliseconds' },
    });
  };
  const behaviour = new Map<string, string>();
  g.tandem = {
    'probe.start': async (req: any) => {
      calls.push({ op: 'probe.start', req });
      if (req.target === '203.0.113.9') throw new Error('Invalid request: probe.start: b.host is not a host name or IP address');
      const probeId = `probe-${++serial}`;
      behaviour.set(probeId, req.b.host);
      void play(probeId, req.b.host);
      return { probeId };
    },
    'probe.cancel': async (probeId: string) => {
      calls.push({ op: 'probe.cancel', probeId });
      cancelled.add(probeId);
    },
    'probe.file': async (probeId: string, name: string) => {
      calls.push({ op: 'probe.file', probeId, name });
      if (!ended.has(probeId)) throw new Error('The test has not ended yet.');
      const b64 = served.files[name];
      if (b64 === undefined) throw new Error(`The test did not collect a file named "${name}".`);
      if (behaviour.get(probeId) === 'slowfile.example' && name.endsWith('.pcap')) await sleep(4000);
      return bytesOf(b64);
    },
    // Exports go through the shell's save dialog in the desktop app: keep what was saved.
    'file.save': async (req: { suggestedName: string; data: Uint8Array }) => {
      g.__saved = { name: req.suggestedName, text: new g.TextDecoder().decode(req.data) };
      return { saved: true, path: `/home/ops/Downloads/${req.suggestedName}` };
    },
    onProbeEvent: (l: (e: unknown) => void) => {
      listeners.add(l);
      return () => listeners.delete(l);
    },
  };
}

async function open(page: Page, errors: string[], served: Served = loadServed()): Promise<void> {
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(`console: ${m.text()}`);
  });
  await page.addInitScript(installStandIn, served);
  await page.goto('/');
  await page.getByTestId('create-first-session').click();
  await expect(page.getByTestId('empty-session')).toBeVisible();
}

const calls = (page: Page) => page.evaluate(() => (globalThis as any).__probeCalls as any[]);
const stepRow = (page: Page, step: string) => page.locator(`[data-testid="probe-step"][data-step="${step}"]`);

async function fill(page: Page, b: string, target = '192.168.200.22'): Promise<void> {
  const dialog = page.getByTestId('probe-dialog');
  await dialog.getByTestId('probe-a-local').check();
  await dialog.getByTestId('probe-b').fill(b);
  await dialog.getByTestId('probe-key').fill('/home/ops/.ssh/id_ed25519');
  await dialog.getByTestId('probe-target').fill(target);
  await dialog.getByTestId('probe-test').selectOption('tcp');
  await dialog.getByTestId('probe-port').fill('80');
}

test('the form refuses hostile destinations and targets with one line each, and remembers what started', async ({ page }) => {
  const errors: string[] = [];
  await open(page, errors);
  await page.getByTestId('probe-open').click();
  const dialog = page.getByTestId('probe-dialog');
  const problems = dialog.getByTestId('probe-field-error');
  // A fresh profile: the defaults.
  await expect(dialog.getByTestId('probe-a-local')).toBeChecked();
  await expect(dialog.getByTestId('probe-snaplen')).toHaveValue('256');

  await dialog.getByTestId('probe-a-ssh').check();
  await dialog.getByTestId('probe-a').fill('root@a`id`.example');
  await dialog.getByTestId('probe-b').fill('-oProxyCommand=touch /tmp/x');
  await dialog.getByTestId('probe-key').fill('id_ed25519');
  await dialog.getByTestId('probe-target').fill('192.168.200.22; reboot');
  await dialog.getByTestId('probe-port').fill('70000');
  await dialog.getByTestId('probe-start').click();
  await expect(problems).toHaveText([
    'The host is not a host name or IP address.',
    'The host must not start with "-".',
    'The key file must be an absolute path.',
    'The target must be an IPv4 or IPv6 address (the host behind B to test).',
    'The port must be a whole number from 1 to 65535.',
  ]);
  for (const p of await problems.all()) expect((await p.innerText()).split('\n')).toHaveLength(1);

  // Neighbours: a host name, command substitution, a leading zero, a zone, a bad user, an IPv6 bracket with a bad port.
  for (const [target, ok] of [['gw.example', false], ['$(reboot)', false], ['192.168.200.022', false], ['fe80::1%eth0', false], ['2001:db8::22', true], ['::ffff:192.0.2.1', true]] as const) {
    await dialog.getByTestId('probe-target').fill(target);
    await expect(dialog.locator('[data-field="target"]')).toHaveCount(ok ? 0 : 1);
  }
  await dialog.getByTestId('probe-b').fill('ops;id@gw-b.example');
  await expect(dialog.locator('[data-field="b"]')).toContainText('The user must be a user name');
  await dialog.getByTestId('probe-b').fill('ops@[2001:db8::2]:99999');
  await expect(dialog.locator('[data-field="b"]')).toHaveText('The port must be from 1 to 65535.');
  // ping needs no port; the port's complaint goes with it.
  await dialog.getByTestId('probe-test').selectOption('ping');
  await expect(dialog.getByTestId('probe-port')).toHaveCount(0);
  await expect(dialog.locator('[data-field="port"]')).toHaveCount(0);
  expect(await calls(page)).toEqual([]);
  await page.screenshot({ path: join(SHOTS, 'probe-form-refused.png') });

  // What main refuses is shown as its one line, and nothing is remembered from it.
  await dialog.getByTestId('probe-a-local').check();
  await dialog.getByTestId('probe-b').fill('ops@gw-b.example:2222');
  await dialog.getByTestId('probe-key').fill('/home/ops/.ssh/id_ed25519');
  await dialog.getByTestId('probe-target').fill('203.0.113.9');
  await dialog.getByTestId('probe-start').click();
  await expect(dialog.getByTestId('probe-start-error')).toHaveText('Invalid request: probe.start: b.host is not a host name or IP address');
  expect((await calls(page)).map((c) => c.op)).toEqual(['probe.start']);

  // A good start: exactly the request main validates, then the values come back after a reload.
  await dialog.getByTestId('probe-b-sudo').check();
  await dialog.getByTestId('probe-target').fill('192.168.200.22');
  await dialog.getByTestId('probe-test').selectOption('http');
  await dialog.getByTestId('probe-port').fill('8080');
  await dialog.getByTestId('probe-settle').fill('5');
  await dialog.getByTestId('probe-start').click();
  await expect(dialog).toHaveCount(0);
  expect((await calls(page)).at(-1)).toEqual({
    op: 'probe.start',
    req: {
      a: { kind: 'local', sudo: false },
      b: { kind: 'ssh', host: 'gw-b.example', user: 'ops', port: 2222, sudo: true },
      identityFile: '/home/ops/.ssh/id_ed25519',
      target: '192.168.200.22',
      test: 'http',
      port: 8080,
      snaplen: 256,
      settleSec: 5,
    },
  });
  await expect(page.getByTestId('probe-open')).toBeDisabled();
  await page.reload();
  await expect(page.getByTestId('session-item')).toHaveCount(1);
  await page.getByTestId('probe-open').click();
  await expect(dialog.getByTestId('probe-b')).toHaveValue('ops@gw-b.example:2222');
  await expect(dialog.getByTestId('probe-key')).toHaveValue('/home/ops/.ssh/id_ed25519');
  await expect(dialog.getByTestId('probe-target')).toHaveValue('192.168.200.22');
  await expect(dialog.getByTestId('probe-test')).toHaveValue('http');
  await expect(dialog.getByTestId('probe-port')).toHaveValue('8080');
  await expect(dialog.getByTestId('probe-b-sudo')).toBeChecked();
  await expect(dialog.getByTestId('probe-a-sudo')).not.toBeChecked();
  await expect(dialog.getByTestId('probe-settle')).toHaveValue('5');
  expect(errors).toEqual([]);
});

test('a run: progress per step and host in order, then both captures and the evidence in the session and the firewall verdict with the rule', async ({ page }) => {
  const errors: string[] = [];
  const served = loadServed();
  await open(page, errors);
  await page.getByTestId('probe-open').click();
  await fill(page, 'ops@gw-b.example:2222');
  await page.getByTestId('probe-start').click();
  const panel = page.getByTestId('probe-panel');
  await expect(panel).toHaveAttribute('data-state', 'running');
  await expect(panel.getByTestId('probe-step')).toHaveCount(PROBE_STEP_NAMES.length);
  expect(await panel.getByTestId('probe-step').evaluateAll((els) => els.map((e) => e.getAttribute('data-step')))).toEqual([...PROBE_STEP_NAMES]);

  // The stand-in holds at the test: what came before is done on both hosts, the test runs on A, the rest waits.
  await expect(stepRow(page, 'test')).toHaveAttribute('data-state', 'running');
  expect(await panel.getByTestId('probe-step').evaluateAll((els) => els.map((e) => e.getAttribute('data-state')))).toEqual(['done', 'done', 'done', 'running', 'pending', 'pending', 'pending', 'pending']);
  for (const s of ['connect', 'evidence-before', 'capture-start']) {
    await expect(stepRow(page, s).getByTestId('probe-step-host')).toHaveCount(2);
    await expect(stepRow(page, s).locator('[data-host="A"][data-testid="probe-step-host"]')).toHaveAttribute('data-state', 'done');
    await expect(stepRow(page, s).locator('[data-host="B"][data-testid="probe-step-host"]')).toHaveAttribute('data-state', 'done');
  }
  await expect(stepRow(page, 'test').getByTestId('probe-step-host')).toHaveAttribute('data-host', 'A');
  await expect(stepRow(page, 'test').getByTestId('probe-step-detail')).toHaveText('curl -sS -m 10 -o /dev/null telnet://192.168.200.22:80');
  await expect(page.getByTestId('probe-open')).toBeDisabled();
  // One line per step, label and host states side by side (a broken grid wraps them into columns).
  const heights = await panel.getByTestId('probe-step').evaluateAll((els) => els.map((e) => e.getBoundingClientRect().height));
  for (const h of heights) expect(h).toBeLessThan(30);
  const nameLeft = await panel.locator('.probe-step-name').evaluateAll((els) => [...new Set(els.map((e) => Math.round(e.getBoundingClientRect().left)))]);
  expect(nameLeft).toHaveLength(1);
  await page.screenshot({ path: join(SHOTS, 'probe-running.png') });
  await page.evaluate(() => (globalThis as any).__probeGo());

  // The end: every step done, the files fetched by the names the end listed, and nothing else.
  await expect(panel).toHaveAttribute('data-state', 'done', { timeout: 20_000 });
  await expect(panel).toHaveAttribute('data-ending', 'ok');
  expect(await panel.getByTestId('probe-step').evaluateAll((els) => els.map((e) => e.getAttribute('data-state')))).toEqual(PROBE_STEP_NAMES.map(() => 'done'));
  await expect(panel.getByTestId('probe-test-result')).toHaveAttribute('data-ok', 'false');
  await expect(panel.getByTestId('probe-test-result')).toHaveText('The test failed (exit 28).');
  const evidenceCount = served.A.evidence.length + served.B.evidence.length;
  await expect(panel.getByTestId('probe-imported')).toHaveAttribute('data-captures', 'AB');
  await expect(panel.getByTestId('probe-imported')).toHaveAttribute('data-evidence', String(evidenceCount));
  await expect(panel.getByTestId('probe-problems')).toHaveCount(0);
  const fetched = (await calls(page)).filter((c) => c.op === 'probe.file').map((c) => c.name).sort();
  expect(fetched).toEqual(Object.keys(served.files).sort());

  // The workbench: the verdict the CLI gives on the same files, with B's drop rule quoted beside the finding.
  const verdict = page.getByTestId('verdict');
  await expect(verdict).toHaveAttribute('data-status', 'fail', { timeout: 30_000 });
  await page.getByTestId('tab-findings').click();
  // The evidence settles the class: "firewall", not the packets-only "firewall-or-routing".
  await expect(verdict).toContainText('firewall · fix on B');
  await expect(verdict).not.toContainText('firewall-or-routing');
  const finding = page.getByTestId('finding').filter({ has: page.locator('[data-testid="finding-rule"]', { hasText: /^evidence-fw-drop$/ }) });
  await expect(finding).toHaveCount(1);
  await expect(finding).toContainText('firewall · fix on B');
  const quote = finding.getByTestId('host-evidence-quote').filter({ hasText: 'drop # handle 11' }).first();
  await expect(quote).toContainText('ip daddr @blocked tcp dport { 80, 443 }');
  await expect(quote.getByTestId('host-evidence-source')).toContainText('host B');
  // The exports carry it too (Markdown shown here; evidence.spec.ts checks every format).
  await page.getByTestId('export').click();
  await page.getByTestId('export-md').click();
  await expect.poll(() => page.evaluate(() => (globalThis as any).__saved?.name ?? '')).toMatch(/\.md$/);
  const md = await page.evaluate(() => (globalThis as any).__saved.text as string);
  expect(md).toContain('drop # handle 11');
  expect(md).toContain('test B: ');
  // The flow under test is the session's Flow, as the engine analysed it.
  await expect(page.getByTestId('flow-input')).toHaveValue('tcp 192.168.200.22:80');
  // The hosts' `ip -o link` named the interfaces of both `-i any` captures: the SYN on wg0 on each side.
  await expect(panel.getByTestId('probe-imported')).toHaveAttribute('data-links', 'AB');
  await expect(page.locator('[data-testid="trace-row"][data-host="A"][data-frame="2"]')).toContainText('wg0', { timeout: 20_000 });
  await expect(page.locator('[data-testid="trace-row"][data-host="B"][data-frame="9"]')).toContainText('wg0', { timeout: 20_000 });

  // Both captures were imported through the normal path, as the test's files.
  await page.getByTestId('view-captures').click();
  const tabs = page.getByTestId('capture-tab');
  await expect(tabs).toHaveCount(2);
  await expect(tabs.nth(0)).toHaveAttribute('data-host', 'A');
  await expect(tabs.nth(0)).toContainText('test-A-capture.pcap');
  await expect(tabs.nth(1)).toHaveAttribute('data-host', 'B');
  await expect(tabs.nth(1)).toContainText('test-B-capture.pcap');
  await expect(tabs.nth(0)).toHaveAttribute('data-status', 'complete');
  await expect(tabs.nth(1)).toHaveAttribute('data-status', 'complete');
  await page.getByTestId('view-workbench').click();
  // The longer toolbar wraps instead of pushing the page sideways.
  expect(await page.evaluate(() => (globalThis as any).document.scrollingElement.scrollWidth <= (globalThis as any).innerWidth)).toBe(true);
  await page.screenshot({ path: join(SHOTS, 'probe-verdict.png') });

  // A second run replaces the first one's captures and its evidence (no doubled counters).
  await panel.getByTestId('probe-dismiss').click();
  await expect(panel).toHaveCount(0);
  await page.getByTestId('probe-open').click();
  await page.getByTestId('probe-start').click();
  await expect(page.getByTestId('probe-panel')).toHaveAttribute('data-state', 'running');
  await expect(stepRow(page, 'test')).toHaveAttribute('data-state', 'running');
  await page.evaluate(() => (globalThis as any).__probeGo());
  await expect(page.getByTestId('probe-panel')).toHaveAttribute('data-state', 'done', { timeout: 20_000 });
  const stored = await page.evaluate(async () => {
    const req = (globalThis as any).indexedDB.open('tandem');
    const db: any = await new Promise((res, rej) => {
      req.onsuccess = () => res(req.result);
      req.onerror = () => rej(req.error);
    });
    const get = (store: string, key?: number) => new Promise<any>((res) => {
      const os = db.transaction(store).objectStore(store);
      const r = key === undefined ? os.getAll() : os.get(key);
      r.onsuccess = () => res(r.result);
    });
    const settings = await get('settings', 1);
    const captures = await get('captures');
    db.close();
    return { A: settings.evidence.A.length, B: settings.evidence.B.length, captures: captures.map((c: any) => `${c.host}:${c.fileName}`).sort() };
  });
  expect(stored.A).toBe(served.A.evidence.length);
  expect(stored.B).toBe(served.B.evidence.length);
  await expect.poll(async () => (await page.getByTestId('verdict').getAttribute('data-status')), { timeout: 30_000 }).toBe('fail');
  await page.getByTestId('view-captures').click();
  await expect(page.getByTestId('capture-tab')).toHaveCount(2);
  expect(errors).toEqual([]);
});

test('a failure at capture-start on B: step, host and reason stay visible, and what was collected is kept', async ({ page }) => {
  const errors: string[] = [];
  const served = loadServed();
  await open(page, errors);
  await page.getByTestId('probe-open').click();
  await fill(page, 'ops@nocap.example');
  await page.getByTestId('probe-start').click();
  const panel = page.getByTestId('probe-panel');
  await expect(panel).toHaveAttribute('data-state', 'done', { timeout: 20_000 });
  await expect(panel).toHaveAttribute('data-ending', 'failed');
  const failure = panel.getByTestId('probe-failure');
  await expect(failure).toHaveAttribute('data-step', 'capture-start');
  await expect(failure).toHaveAttribute('data-host', 'B');
  await expect(failure).toHaveText('Failed at “Start both captures” on B: tcpdump: eth9<img src=x onerror="globalThis.__pwned=1">: No such device exists (SIOCGIFHWADDR: No such device)');
  await expect(panel.locator('img')).toHaveCount(0);
  expect(await page.evaluate(() => (globalThis as any).__pwned)).toBeUndefined();
  const row = stepRow(page, 'capture-start');
  await expect(row).toHaveAttribute('data-state', 'failed');
  await expect(row.locator('[data-testid="probe-step-host"][data-host="A"]')).toHaveAttribute('data-state', 'done');
  await expect(row.locator('[data-testid="probe-step-host"][data-host="B"]')).toHaveAttribute('data-state', 'failed');
  await expect(row.getByTestId('probe-step-detail')).toContainText('No such device');
  expect(await panel.getByTestId('probe-step').evaluateAll((els) => els.map((e) => e.getAttribute('data-state')))).toEqual(['done', 'done', 'failed', 'pending', 'pending', 'pending', 'pending', 'pending']);
  // The evidence collected before the failure is in the session; no capture was taken, none imported.
  const before = served.A.evidence.filter((n) => !/after/.test(n)).length + served.B.evidence.filter((n) => !/after/.test(n)).length;
  await expect(panel.getByTestId('probe-imported')).toHaveAttribute('data-evidence', String(before));
  await expect(panel.getByTestId('probe-imported')).toHaveAttribute('data-captures', '');
  await expect(page.getByTestId('empty-session')).toBeVisible();
  // Interface names came without a capture to name: they are not kept (they would mislabel another capture).
  const settings = await page.evaluate(async () => {
    const req = (globalThis as any).indexedDB.open('tandem');
    const db: any = await new Promise((res) => {
      req.onsuccess = () => res(req.result);
    });
    const row = await new Promise<any>((res) => {
      const r = db.transaction('settings').objectStore('settings').get(1);
      r.onsuccess = () => res(r.result);
    });
    db.close();
    return { links: row?.links ?? null, evidence: { A: row?.evidence?.A?.length ?? 0, B: row?.evidence?.B?.length ?? 0 }, flow: row?.options?.flow ?? null };
  });
  expect(settings).toEqual({
    links: null,
    evidence: { A: served.A.evidence.filter((n) => !/after/.test(n)).length, B: served.B.evidence.filter((n) => !/after/.test(n)).length },
    flow: null,
  });
  await page.screenshot({ path: join(SHOTS, 'probe-failed.png') });
  // The failure stays until dismissed, and a new test may start.
  await page.waitForTimeout(500);
  await expect(failure).toBeVisible();
  await expect(page.getByTestId('probe-open')).toBeEnabled();
  expect(errors).toEqual([]);
});

test('Cancel stops the test on both hosts, says so, and keeps only what was collected; during the import it keeps nothing half-imported', async ({ page }) => {
  const errors: string[] = [];
  const served = loadServed();
  await open(page, errors);
  await page.getByTestId('probe-open').click();
  await fill(page, 'ops@slow.example');
  await page.getByTestId('probe-start').click();
  const panel = page.getByTestId('probe-panel');
  await expect(stepRow(page, 'test')).toHaveAttribute('data-state', 'running');
  await panel.getByTestId('probe-cancel').click();
  await expect(panel).toHaveAttribute('data-state', 'done', { timeout: 20_000 });
  await expect(panel).toHaveAttribute('data-ending', 'cancelled');
  await expect(panel.getByTestId('probe-summary')).toContainText('Cancelled.');
  const cancels = (await calls(page)).filter((c) => c.op === 'probe.cancel');
  expect(cancels).toEqual([{ op: 'probe.cancel', probeId: 'probe-1' }]);
  const before = served.A.evidence.filter((n) => !/after/.test(n)).length + served.B.evidence.filter((n) => !/after/.test(n)).length;
  await expect(panel.getByTestId('probe-imported')).toHaveAttribute('data-evidence', String(before));
  await expect(page.getByTestId('empty-session')).toBeVisible();
  await expect(page.getByTestId('capture-tab')).toHaveCount(0);

  // Cancel while the captures are being handed over: no capture reaches the session, no call to main.
  await panel.getByTestId('probe-dismiss').click();
  await page.getByTestId('probe-open').click();
  await fill(page, 'ops@slowfile.example');
  await page.getByTestId('probe-start').click();
  await expect(page.getByTestId('probe-panel')).toHaveAttribute('data-state', 'importing', { timeout: 20_000 });
  await page.getByTestId('probe-cancel').click();
  await expect(page.getByTestId('probe-panel')).toHaveAttribute('data-state', 'done', { timeout: 20_000 });
  await expect(page.getByTestId('probe-imported')).toHaveText('Import stopped; nothing half-imported was kept.');
  expect((await calls(page)).filter((c) => c.op === 'probe.cancel')).toHaveLength(1);
  await page.waitForTimeout(4500);
  await expect(page.getByTestId('empty-session')).toBeVisible();
  const captures = await page.evaluate(async () => {
    const req = (globalThis as any).indexedDB.open('tandem');
    const db: any = await new Promise((res) => {
      req.onsuccess = () => res(req.result);
    });
    const n = await new Promise<number>((res) => {
      const r = db.transaction('captures').objectStore('captures').count();
      r.onsuccess = () => res(r.result);
    });
    db.close();
    return n;
  });
  expect(captures).toBe(0);
  await page.screenshot({ path: join(SHOTS, 'probe-cancelled.png') });
  expect(errors).toEqual([]);
});

test('deleting the session while its test runs cancels the test and brings nothing in', async ({ page }) => {
  const errors: string[] = [];
  await open(page, errors);
  await page.getByTestId('probe-open').click();
  await fill(page, 'ops@gw-b.example');
  await page.getByTestId('probe-start').click();
  await expect(stepRow(page, 'test')).toHaveAttribute('data-state', 'running');
  await page.getByTestId('delete-session').click();
  await page.getByTestId('confirm-delete-yes').click();
  await expect(page.getByTestId('session-item')).toHaveCount(0);
  await expect.poll(async () => (await calls(page)).filter((c) => c.op === 'probe.cancel').length).toBe(1);
  // Whatever the end lists, nothing is fetched for a session that is gone, and nothing is stored.
  await page.waitForTimeout(1000);
  expect((await calls(page)).filter((c) => c.op === 'probe.file')).toEqual([]);
  const rows = await page.evaluate(async () => {
    const req = (globalThis as any).indexedDB.open('tandem');
    const db: any = await new Promise((res) => {
      req.onsuccess = () => res(req.result);
    });
    const all = (store: string) => new Promise<any[]>((res) => {
      const r = db.transaction(store).objectStore(store).getAll();
      r.onsuccess = () => res(r.result);
    });
    const out = { captures: (await all('captures')).length, settings: (await all('settings')).map((s: any) => s.sessionId) };
    db.close();
    return out;
  });
  expect(rows.captures).toBe(0);
  expect(rows.settings).toEqual([0]);
  // A new session can run a test at once.
  await page.getByTestId('create-first-session').click();
  await expect(page.getByTestId('probe-open')).toBeEnabled();
  expect(errors).toEqual([]);
});

test('no Run-a-test button without the desktop shell, or with a shell that has no guided test', async ({ page }) => {
  await page.goto('/');
  await page.getByTestId('create-first-session').click();
  await expect(page.getByTestId('empty-session')).toBeVisible();
  await expect(page.getByTestId('open-capture')).toBeVisible();
  await expect(page.getByTestId('probe-open')).toHaveCount(0);
  // An older shell: file operations only.
  await page.addInitScript(() => {
    (globalThis as any).tandem = { 'app.info': async () => ({ name: 'Tandem' }), 'file.save': async () => ({ saved: false }) };
  });
  await page.reload();
  await expect(page.getByTestId('empty-session')).toBeVisible();
  await expect(page.getByTestId('probe-open')).toHaveCount(0);
});

/**
 * Runs the real engine once through the main process's ProbeManager (test/unit/electron/probe-ipc.test.ts
 * in driver mode, inside namespace A of the probe lab: A here, B over ssh with a WireGuard tunnel and a
 * listener behind it) and returns what crossed IPC: the events, the end, and the served files.
 */
async function recordRealProbe(dropOnB = false): Promise<Served | string> {
  const { labSkip, startProbeLab } = await import('../../unit/probe/lab.ts');
  const why = labSkip();
  if (why) return why;
  const p = await startProbeLab(8080);
  if (dropOnB) p.lab.exec(p.lab.nsB, ['nft', '-f', '-'], { input: `table inet p4e2e {\n chain input {\n  type filter hook input priority 0; policy accept;\n  tcp dport ${p.port} counter drop\n }\n}\n` });
  const tempRoot = mkdtempSync(join(tmpdir(), 'p4-e2e-'));
  const copyTo = mkdtempSync(join(tmpdir(), 'p4-e2e-copy-'));
  try {
    const req = {
      a: { kind: 'local', sudo: false },
      b: { kind: 'ssh', host: p.lab.addrB, user: 'root', port: p.sshd.port, sudo: false },
      identityFile: p.sshd.key, target: p.wg.innerB, test: 'tcp', port: p.port, settleSec: 1,
    };
    const job = { req, knownHosts: p.sshd.knownHosts, tempRoot, copyTo };
    const driver = resolve(process.cwd(), 'test/unit/electron/probe-ipc.test.ts');
    const r = spawnSync('ip', ['netns', 'exec', p.lab.nsA, process.execPath, '--import', 'tsx', driver], {
      cwd: process.cwd(), env: { ...process.env, P4_PROBE_DRIVER: JSON.stringify(job) }, encoding: 'utf8', timeout: 180_000,
    });
    const lines = r.stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));
    const events = lines.filter((l) => l.ev?.type === 'progress').map((l) => l.ev);
    const outcome = lines.find((l) => l.ev?.type === 'end')?.ev.outcome;
    const engine = lines.find((l) => l.engine)?.engine;
    if (!outcome || !engine) throw new Error(`the real probe gave no end or no analysis (exit ${r.status}): ${r.stderr.slice(-1500)}`);
    const files: Record<string, string> = {};
    for (const h of ['A', 'B'] as const) {
      for (const name of [outcome.files[h].capture, outcome.files[h].links, ...outcome.files[h].evidence].filter(Boolean)) {
        files[name] = readFileSync(join(copyTo, name)).toString('base64');
      }
    }
    return { files, A: outcome.files.A, B: outcome.files.B, recorded: { events, outcome, target: req.target, port: req.port, engine } };
  } finally {
    p.cleanup();
    rmSync(tempRoot, { recursive: true, force: true });
    rmSync(copyTo, { recursive: true, force: true });
  }
}

for (const fault of [false, true]) {
  test(`a real probe (lab: WireGuard, sshd in B, listener behind B${fault ? ', a drop rule on B' : ''}) replayed into the app: every file taken, the engine's verdict and findings`, async ({ page }) => {
    test.setTimeout(240_000);
    const served = await recordRealProbe(fault);
    test.skip(typeof served === 'string', typeof served === 'string' ? served : '');
    if (typeof served === 'string') return;
    const rec = served.recorded!;
    const errors: string[] = [];
    await open(page, errors, served);
    await page.getByTestId('probe-open').click();
    // The form says what was tested (the flow the app analyses comes from it), as the real run did.
    await fill(page, 'ops@gw-b.example', rec.target);
    await page.getByTestId('probe-port').fill(String(rec.port));
    await page.getByTestId('probe-start').click();
    const panel = page.getByTestId('probe-panel');
    await expect(panel).toHaveAttribute('data-state', 'done', { timeout: 30_000 });
    await expect(panel).toHaveAttribute('data-ending', 'ok');
    await expect(panel.getByTestId('probe-test-result')).toHaveAttribute('data-ok', fault ? 'false' : 'true');
    // Every file the engine listed is taken by the app: no evidence refused, both captures, both hosts' names.
    await expect(panel.getByTestId('probe-problems')).toHaveCount(0);
    await expect(panel.getByTestId('probe-imported')).toHaveAttribute('data-captures', 'AB');
    await expect(panel.getByTestId('probe-imported')).toHaveAttribute('data-evidence', String(served.A.evidence.length + served.B.evidence.length));
    await expect(panel.getByTestId('probe-imported')).toHaveAttribute('data-links', (served.A.links ? 'A' : '') + (served.B.links ? 'B' : ''));
    expect(await panel.getByTestId('probe-step').evaluateAll((els) => els.map((e) => e.getAttribute('data-state')))).toEqual(PROBE_STEP_NAMES.map(() => 'done'));
    await expect(page.getByTestId('flow-input')).toHaveValue(`tcp ${rec.target}:${rec.port}`);
    // The app's own analysis of the same files, evidence and flow says what the engine said.
    expect(rec.engine.status).toBe(fault ? 'fail' : 'ok');
    await expect(page.getByTestId('verdict')).toHaveAttribute('data-status', rec.engine.status, { timeout: 30_000 });
    if (rec.engine.status !== 'ok') await expect(page.getByTestId('verdict')).toContainText(`${rec.engine.class} · fix on ${rec.engine.host}`);
    await page.getByTestId('tab-findings').click();
    await expect.poll(async () => (await page.getByTestId('finding-rule').allInnerTexts()).sort()).toEqual([...rec.engine.rules].filter(Boolean).sort());
    // Where the engine quotes the drop rule, the app quotes it too. (On this lab the listener is on B
    // itself, so the drop is in B's input hook; the analysis currently blames forwarding instead.)
    if (rec.engine.rules.includes('evidence-fw-drop')) await expect(page.getByTestId('host-evidence-quote').filter({ hasText: 'drop' }).first()).toContainText(`dport ${rec.port}`);
    await page.screenshot({ path: join(SHOTS, `probe-real-lab${fault ? '-drop' : ''}.png`) });
    expect(errors).toEqual([]);
  });
}
