// Capture on this host and the far end (SSH) from the capture dialog, end to end in Chromium with
// real IndexedDB and the real live workers.
//
// Why a stand-in bridge: no Electron binary exists on this machine, so the preload that defines
// `window.tandem` cannot run (see capture.spec.ts). The test installs an object shaped like
// TandemBridge before the app loads and feeds it REAL frames: both ends of the lab's healthy
// WireGuard run (test/e2e/fixtures/lab-healthy, A.pcapng on the initiator and B.pcapng on the
// receiver), read here with the shared reader. Everything after the event boundary is the app's own
// code. The main-process side (ssh, tcpdump, spools) runs for real under Node in
// test/unit/electron/paired-capture.test.ts.
//
// Expected values come from outside the app: tshark on the fixture files gives 28 frames for A and
// 42 for B; A frame 1 is 10.0.0.1 → 192.168.200.22 on wg0, 60 bytes; B frame 1 is a 42-byte ARP
// frame on eth0. run.json records that curl got its page, so the workbench verdict is "ok".

import { expect, test, type Page } from '@playwright/test';
import { mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { readCapture } from '../../../shared/capture-file/reader.ts';

const FIXTURE = resolve(process.cwd(), 'test/e2e/fixtures/lab-healthy');
const SHOTS = resolve(process.cwd(), 'test-results/screens');
mkdirSync(SHOTS, { recursive: true });

interface FrameMeta { ifaceId: number; tsSec: number; tsNsec: number; caplen: number; len: number }
interface HostFeed { b64: string; meta: FrameMeta[]; interfaces: { id: number; name: string; linktype: number; snaplen: number }[] }
interface Feeds { A: HostFeed; B: HostFeed; batch: number; everyMs: number }

async function loadFeed(file: string): Promise<HostFeed> {
  const gen = readCapture(new Uint8Array(readFileSync(file)));
  const parts: Uint8Array[] = [];
  const meta: FrameMeta[] = [];
  let interfaces: HostFeed['interfaces'] = [];
  for (;;) {
    const step = await gen.next();
    if (step.done) break;
    interfaces = step.value.interfaces.map((i) => ({ id: i.id, name: i.name, linktype: i.linktype, snaplen: i.snaplen }));
    for (const f of step.value.frames) {
      parts.push(new Uint8Array(f.data));
      meta.push({ ifaceId: f.ifaceId, tsSec: f.tsSec, tsNsec: f.tsNsec, caplen: f.caplen, len: f.len });
    }
  }
  return { b64: Buffer.concat(parts).toString('base64'), meta, interfaces };
}

/**
 * Runs in the page before the app: the capture operations of the preload, answering
 * capture.startPaired like the main process does (far-end failures in the answer, the local capture
 * running on) and streaming A's frames as the local capture and B's as the far end's.
 */
function installStandIn(feeds: Feeds): void {
  const g = globalThis as any;
  const bytesOf = (b64: string) => {
    const bin = g.atob(b64) as string;
    const out = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out;
  };
  const data = { A: bytesOf(feeds.A.b64), B: bytesOf(feeds.B.b64) };
  const listeners = new Set<(e: unknown) => void>();
  const emit = (e: unknown) => listeners.forEach((l) => l(e));
  const calls: unknown[] = [];
  g.__captureCalls = calls;
  interface Run { id: string; host: 'A' | 'B'; timer: any; sent: number; offset: number; bytes: number; started: number; partner?: string; over: boolean }
  const runs = new Map<string, Run>();
  let serial = 0;
  const counters = (r: Run) => ({ packets: r.sent, bytes: r.bytes, drops: r.host === 'A' ? 0 : null, elapsedMs: Date.now() - r.started });
  const launch = (host: 'A' | 'B'): Run => {
    const id = `${host === 'A' ? 'local' : 'far'}-${++serial}`;
    const feed = feeds[host];
    const r: Run = { id, host, timer: null, sent: 0, offset: 0, bytes: 0, started: Date.now(), over: false };
    runs.set(id, r);
    emit({ type: 'started', id, interfaces: host === 'A' ? feed.interfaces : [], warnings: [], spoolPath: `/home/u/.config/Tandem/captures/${id}.pcapng` });
    r.timer = setInterval(() => {
      const packets = [];
      while (packets.length < feeds.batch && r.sent < feed.meta.length) {
        const m = feed.meta[r.sent]!;
        packets.push({ ifaceId: m.ifaceId, tsSec: m.tsSec, tsNsec: m.tsNsec, caplen: m.caplen, len: m.len, data: data[host].slice(r.offset, r.offset + m.caplen), dir: 0 });
        r.offset += m.caplen;
        r.sent++;
        r.bytes += m.len;
      }
      if (packets.length) emit({ type: 'batch', id, interfaces: feed.interfaces, packets, stats: counters(r) });
    }, feeds.everyMs);
    return r;
  };
  const end = (r: Run) => {
    if (r.over) return null;
    r.over = true;
    clearInterval(r.timer);
    const summary: any = { ...counters(r), reason: 'stopped', spoolPath: `/home/u/.config/Tandem/captures/${r.id}.pcapng`, spoolBytes: 4096 + r.bytes, warnings: [] };
    if (r.host === 'B') {
      summary.drops = 0;
      summary.farEnd = { tcpdump: { captured: r.sent, receivedByFilter: r.sent, droppedByKernel: 0 }, links: '1: lo: <LOOPBACK,UP> mtu 65536\n2: eth0: <BROADCAST,UP> mtu 1500' };
    }
    setTimeout(() => emit({ type: 'end', id: r.id, summary }), 10);
    return summary;
  };
  g.tandem = {
    'capture.devices': async () => [
      { name: 'wg0', addresses: [{ addr: '10.0.0.1' }], loopback: false, up: true, running: true },
      { name: 'eth0', addresses: [{ addr: '172.30.0.2', netmask: '255.255.0.0' }], loopback: false, up: true, running: true },
    ],
    'capture.start': async (req: unknown) => {
      calls.push({ op: 'capture.start', req });
      return { id: launch('A').id };
    },
    'capture.startPaired': async (req: { remote: { host: string } }) => {
      calls.push({ op: 'capture.startPaired', req });
      const a = launch('A');
      // Worded as electron/capture/remote.ts words an authentication failure.
      if (req.remote.host === 'locked.example') {
        return { id: a.id, remoteError: { kind: 'auth', message: 'SSH authentication to ops@locked.example failed: check the user name and that the key is in its authorized_keys (ops@locked.example: Permission denied (publickey).).' } };
      }
      const b = launch('B');
      a.partner = b.id;
      b.partner = a.id;
      return { id: a.id, remoteId: b.id };
    },
    'capture.stop': async (id: string) => {
      const r = runs.get(id);
      if (!r || r.over) throw new Error('That capture is not running in this window.');
      const summary = end(r);
      const p = r.partner ? runs.get(r.partner) : undefined;
      if (p) end(p);
      return summary;
    },
    onCaptureEvent: (l: (e: unknown) => void) => {
      listeners.add(l);
      return () => listeners.delete(l);
    },
  };
}

const bar = (page: Page, host: 'A' | 'B') => page.locator(`[data-testid="live-capture"][data-host="${host}"]`);
const count = async (page: Page, host: 'A' | 'B') => Number((await bar(page, host).getByTestId('live-packets').innerText()).replace(/\D/g, ''));

test('far end over SSH: one start runs A here and B there, one stop ends both, the far end is remembered', async ({ page }) => {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(`console: ${m.text()}`);
  });
  const feeds: Feeds = { A: await loadFeed(join(FIXTURE, 'A.pcapng')), B: await loadFeed(join(FIXTURE, 'B.pcapng')), batch: 3, everyMs: 80 };
  expect([feeds.A.meta.length, feeds.B.meta.length]).toEqual([28, 42]);
  await page.addInitScript(installStandIn, feeds);
  await page.goto('/');
  await page.getByTestId('create-first-session').click();
  await expect(page.getByTestId('empty-session')).toBeVisible();

  // A fresh profile: the far end is off and empty.
  await page.getByTestId('capture-open').click();
  const dialog = page.getByTestId('capture-dialog');
  await expect(dialog.getByTestId('far-end-enabled')).not.toBeChecked();
  await expect(dialog.getByTestId('far-end-recent')).toHaveCount(0);
  await dialog.getByTestId('capture-filter').fill('udp or icmp or tcp');
  await dialog.getByTestId('far-end-enabled').check();
  await expect(dialog.getByTestId('capture-host-paired')).toContainText('host A (this host) and host B (the far end)');
  await expect(dialog.getByTestId('far-end-auth-note')).toContainText('never asks for a password or passphrase');
  // The far end's filter follows the local one until edited.
  await expect(dialog.getByTestId('far-end-filter')).toHaveValue('udp or icmp or tcp');
  await expect(dialog.getByTestId('far-end-filter-follows')).toBeVisible();

  // What ssh must never see is refused in the form already: an option as host, a relative key.
  await dialog.getByTestId('far-end-destination').fill('-oProxyCommand=touch /tmp/x');
  await dialog.getByTestId('far-end-key').fill('id_ed25519');
  await dialog.getByTestId('start-capture').click();
  await expect(dialog.getByTestId('far-end-field-error')).toHaveText(['The host must not start with "-".', 'The key file must be an absolute path.']);
  await dialog.getByTestId('far-end-destination').fill('ops@gw-b.example:70000');
  await expect(dialog.getByTestId('far-end-field-error').first()).toHaveText('The port must be from 1 to 65535.');
  expect(await page.evaluate(() => (globalThis as any).__captureCalls.length)).toBe(0);

  // A far end that refuses the key: the sentence is shown on the bar and this host's capture runs on.
  await dialog.getByTestId('far-end-destination').fill('ops@locked.example');
  await dialog.getByTestId('far-end-key').fill('/home/ops/.ssh/id_ed25519');
  await dialog.getByTestId('start-capture').click();
  await expect(dialog).toHaveCount(0);
  const failure = bar(page, 'A').getByTestId('far-end-error');
  await expect(failure).toHaveAttribute('data-kind', 'auth');
  await expect(failure).toContainText('The SSH login was refused.');
  await expect(failure).toContainText('Permission denied (publickey)');
  await expect(failure).toContainText("This host's capture keeps running");
  await expect(bar(page, 'A')).toHaveAttribute('data-state', 'running');
  await expect(bar(page, 'B')).toHaveCount(0);
  await expect.poll(() => count(page, 'A')).toBeGreaterThan(0);
  await page.screenshot({ path: join(SHOTS, 'far-end-auth-failure.png') });
  await bar(page, 'A').getByTestId('stop-capture').click();
  await expect(bar(page, 'A')).toHaveAttribute('data-state', 'done');

  // The real start: both bars, counters moving on both while they run.
  await page.getByTestId('capture-open').click();
  await expect(dialog.getByTestId('far-end-enabled')).not.toBeChecked(); // nothing was remembered from the failed try
  await dialog.getByTestId('capture-filter').fill('udp or icmp or tcp or arp');
  await dialog.getByTestId('far-end-enabled').check();
  await dialog.getByTestId('far-end-destination').fill('ops@gw-b.example:2222');
  await dialog.getByTestId('far-end-key').fill('/home/ops/.ssh/id_ed25519');
  await dialog.getByTestId('far-end-iface').fill('eth0');
  await dialog.getByTestId('far-end-sudo').check();
  await dialog.getByTestId('start-capture').click();
  await expect(dialog).toHaveCount(0);
  await expect(bar(page, 'A')).toHaveAttribute('data-state', 'running');
  await expect(bar(page, 'B')).toHaveAttribute('data-state', 'running');
  await expect(bar(page, 'B')).toHaveAttribute('data-far-end', 'true');
  await expect(bar(page, 'B').getByTestId('live-label')).toHaveText('far end ops@gw-b.example:2222 · eth0');
  const calls = await page.evaluate(() => (globalThis as any).__captureCalls);
  expect(calls.at(-1)).toEqual({
    op: 'capture.startPaired',
    req: {
      local: { interfaces: ['wg0'], filter: 'udp or icmp or tcp or arp', snaplen: 262144, promiscuous: true },
      remote: { host: 'gw-b.example', user: 'ops', port: 2222, identityFile: '/home/ops/.ssh/id_ed25519', interface: 'eth0', filter: 'udp or icmp or tcp or arp', sudo: true },
    },
  });
  await expect.poll(() => count(page, 'A')).toBeGreaterThan(0);
  await expect.poll(() => count(page, 'B')).toBeGreaterThan(0);
  await expect(bar(page, 'B').getByTestId('live-drops')).toContainText('at stop');
  await page.screenshot({ path: join(SHOTS, 'far-end-running.png') });

  // All fed; one Stop (on A's bar) ends both, and B shows tcpdump's own counters.
  await expect.poll(() => count(page, 'A'), { timeout: 15_000 }).toBe(28);
  await expect.poll(() => count(page, 'B'), { timeout: 15_000 }).toBe(42);
  await bar(page, 'A').getByTestId('stop-capture').click();
  await expect(bar(page, 'A')).toHaveAttribute('data-state', 'done', { timeout: 10_000 });
  await expect(bar(page, 'B')).toHaveAttribute('data-state', 'done', { timeout: 10_000 });
  await expect(bar(page, 'B').getByTestId('far-end-counters')).toHaveText('tcpdump there: 42 captured, 42 received by filter, 0 dropped by kernel');
  await expect(bar(page, 'B').getByTestId('live-drops')).toContainText('0');
  await page.screenshot({ path: join(SHOTS, 'far-end-done.png') });

  // One session, A from here and B from the far end, both complete with their real frames.
  await page.getByTestId('view-captures').click();
  const tabs = page.getByTestId('capture-tab');
  await expect(tabs).toHaveCount(2);
  await expect(tabs.nth(0)).toHaveAttribute('data-host', 'A');
  await expect(tabs.nth(1)).toHaveAttribute('data-host', 'B');
  await expect(tabs.nth(0)).toHaveAttribute('data-status', 'complete');
  await expect(tabs.nth(1)).toHaveAttribute('data-status', 'complete');
  await expect(tabs.nth(1)).toContainText('far-');
  await expect(page.getByTestId('packet-count')).toHaveText('28 packets');
  await tabs.nth(1).click();
  await expect(page.getByTestId('packet-count')).toHaveText('42 packets');

  // The workbench takes both at once: the healthy run's verdict.
  await page.getByTestId('view-workbench').click();
  await expect(page.getByTestId('verdict')).toHaveAttribute('data-status', 'ok', { timeout: 20_000 });
  await expect(page.locator('[data-testid="trace-row"][data-host="A"][data-frame="1"]')).toBeVisible();
  await expect(page.locator('[data-testid="trace-row"][data-host="B"][data-frame="1"]')).toBeVisible();
  await page.screenshot({ path: join(SHOTS, 'far-end-workbench.png') });

  // After a reload the far end comes back prefilled from IndexedDB, and in the recent list.
  await page.reload();
  await expect(page.getByTestId('session-item')).toHaveCount(1);
  await page.getByTestId('capture-open').click();
  await expect(dialog.getByTestId('far-end-enabled')).toBeChecked();
  await expect(dialog.getByTestId('far-end-destination')).toHaveValue('ops@gw-b.example:2222');
  await expect(dialog.getByTestId('far-end-key')).toHaveValue('/home/ops/.ssh/id_ed25519');
  await expect(dialog.getByTestId('far-end-iface')).toHaveValue('eth0');
  await expect(dialog.getByTestId('far-end-sudo')).toBeChecked();
  await expect(dialog.getByTestId('far-end-filter-follows')).toBeVisible();
  await expect(dialog.getByTestId('far-end-recent').locator('option')).toHaveText(['Recent…', 'ops@gw-b.example:2222 (eth0)']);
  // Nothing secret was stored: the remembered row holds the connection fields only.
  const stored = await page.evaluate(async () => {
    // No DOM types in the Node tsconfig that checks these specs: reach IndexedDB untyped.
    const open = (globalThis as any).indexedDB.open('tandem');
    const db: any = await new Promise((res, rej) => {
      open.onsuccess = () => res(open.result);
      open.onerror = () => rej(open.error);
    });
    const row = await new Promise<any>((res) => {
      const get = db.transaction('settings').objectStore('settings').get(0);
      get.onsuccess = () => res(get.result);
    });
    db.close();
    return row;
  });
  expect(Object.keys(stored.farEnd.recent[0]).sort()).toEqual(['destination', 'filter', 'identityFile', 'interface', 'sudo', 'usedAt']);
  expect(stored.farEnd.recent).toHaveLength(1);
  await page.screenshot({ path: join(SHOTS, 'far-end-prefilled.png') });
  expect(errors).toEqual([]);
});
