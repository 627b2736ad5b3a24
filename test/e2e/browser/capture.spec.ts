// Live capture in the renderer, end to end in Chromium with real IndexedDB and the real workers.
//
// Why a stand-in: there is no Electron binary on this machine, so the preload that defines
// `window.tandem` cannot run. The test injects an object with the same shape (TandemBridge's
// capture operations and onCaptureEvent) before the app loads, and feeds it REAL frames: the
// bytes of a corpus capture read here with node:fs and the shared reader. Everything after the
// event boundary (live worker, decoding, chunk storage, packet list, persistence) is the app's own
// code. The main-process side is covered under Node in test/unit/electron/capture-manager.test.ts.
//
// Expected row values come from tshark on the same file:
//   tshark -r afs.pcap -T fields -e frame.number -e ip.src -e udp.srcport -e ip.dst -e udp.dstport -e frame.len
//   → frame 1: 131.151.32.21 7001 → 131.151.1.59 7000, 86 bytes; frame 2: 190 bytes; 601 frames.

import { expect, test, type Locator, type Page } from '@playwright/test';
import { mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { readCapture } from '../../../shared/capture-file/reader.ts';
import { privilegeMessage } from '../../../electron/capture/privileges.ts';
import { chunkForms } from './stored.ts';

const AFS = join(resolve(process.cwd(), '../shared/corpus/tcpdump-tests'), 'afs.pcap');
const SHOTS = resolve(process.cwd(), 'test-results/screens');
mkdirSync(SHOTS, { recursive: true });

interface FeedMeta { tsSec: number; tsNsec: number; caplen: number; len: number }
interface Feed { b64: string; meta: FeedMeta[]; linktype: number; privilege: string; batch: number; everyMs: number }

/** The corpus file's frames: one concatenated byte string (base64) and per-frame headers. */
async function loadFeed(): Promise<Omit<Feed, 'privilege' | 'batch' | 'everyMs'>> {
  const gen = readCapture(new Uint8Array(readFileSync(AFS)));
  const parts: Uint8Array[] = [];
  const meta: FeedMeta[] = [];
  let linktype = 0;
  for (;;) {
    const step = await gen.next();
    if (step.done) break;
    linktype = step.value.interfaces[0]!.linktype;
    for (const f of step.value.frames) {
      parts.push(new Uint8Array(f.data));
      meta.push({ tsSec: f.tsSec, tsNsec: f.tsNsec, caplen: f.caplen, len: f.len });
    }
  }
  return { b64: Buffer.concat(parts).toString('base64'), meta, linktype };
}

/** Runs in the page before the app: a capture API shaped like the preload's, fed from `feed`. */
function installStandIn(feed: Feed): void {
  const g = globalThis as any;
  const bin = g.atob(feed.b64) as string;
  const all = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) all[i] = bin.charCodeAt(i);
  const listeners = new Set<(e: unknown) => void>();
  const emit = (e: unknown) => listeners.forEach((l) => l(e));
  const calls: unknown[] = [];
  g.__captureCalls = calls;
  let running: { id: string; timer: any; sent: number; bytes: number; started: number } | null = null;
  const iface = { id: 0, name: 'eth0', linktype: feed.linktype, snaplen: 262144 };
  // Drop figures as the helper reports them: libpcap's (filtered traffic) and the interface's own.
  const counters = () => ({
    packets: running!.sent, bytes: running!.bytes, drops: Math.floor(running!.sent / 100), ifDrops: running!.sent >= 300 ? 2 : 0,
    elapsedMs: Date.now() - running!.started,
  });
  let offset = 0;
  g.tandem = {
    'capture.devices': async () => [
      { name: 'eth0', addresses: [{ addr: '131.151.32.21', netmask: '255.255.0.0' }], loopback: false, up: true, running: true },
      { name: 'lo', addresses: [{ addr: '127.0.0.1' }], loopback: true, up: true, running: true },
      { name: 'any', description: 'Pseudo-device that captures on all interfaces', addresses: [], loopback: false },
    ],
    'capture.start': async (req: { interfaces: string[]; filter: string }) => {
      calls.push(req);
      if (req.filter === 'needs root') throw new Error(feed.privilege);
      // Worded as the capture engine words a libpcap compile error (see session.ts).
      if (req.filter === 'udp port') throw new Error('The capture filter "udp port" is invalid: syntax error.');
      const id = `cap-${calls.length}`;
      running = { id, timer: null, sent: 0, bytes: 0, started: Date.now() };
      // 'started' before start answers, as a fast helper does: the app must not lose it.
      emit({ type: 'started', id, interfaces: [iface], warnings: [], spoolPath: `/home/u/.config/Tandem/captures/${id}.pcapng` });
      const r = running;
      r.timer = setInterval(() => {
        const packets = [];
        while (packets.length < feed.batch && r.sent < feed.meta.length) {
          const m = feed.meta[r.sent]!;
          packets.push({ ifaceId: 0, tsSec: m.tsSec, tsNsec: m.tsNsec, caplen: m.caplen, len: m.len, data: all.slice(offset, offset + m.caplen), dir: 0 });
          offset += m.caplen;
          r.sent++;
          r.bytes += m.len;
        }
        if (packets.length) emit({ type: 'batch', id, interfaces: [iface], packets, stats: counters() });
        else emit({ type: 'stats', id, stats: counters() });
      }, feed.everyMs);
      return { id };
    },
    'capture.stop': async (id: string) => {
      if (!running || running.id !== id) throw new Error('That capture is not running in this window.');
      clearInterval(running.timer);
      const summary = { ...counters(), reason: 'stopped', spoolPath: `/home/u/.config/Tandem/captures/${id}.pcapng`, spoolBytes: 123456, warnings: [] };
      running = null;
      setTimeout(() => emit({ type: 'end', id, summary }), 10);
      return summary;
    },
    onCaptureEvent: (l: (e: unknown) => void) => {
      listeners.add(l);
      return () => listeners.delete(l);
    },
  };
}

function cell(page: Page, frame: number, col: string): Locator {
  return page.locator(`[data-testid="packet-row"][data-frame="${frame}"]`).locator(`[data-col="${col}"]`);
}

test('live capture: errors with the fix command, rows while capturing, counters, stop, and it persists', async ({ page }) => {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(`console: ${m.text()}`);
  });
  const privilege = privilegeMessage(['cap_net_raw', 'cap_net_admin']);
  const feed: Feed = { ...(await loadFeed()), privilege, batch: 40, everyMs: 120 };
  expect(feed.meta.length).toBe(601);
  await page.addInitScript(installStandIn, feed);
  await page.goto('/');
  await page.getByTestId('create-first-session').click();
  await expect(page.getByTestId('empty-session')).toBeVisible();

  // The dialog lists the interfaces with addresses and state.
  await page.getByTestId('capture-open').click();
  const dialog = page.getByTestId('capture-dialog');
  await expect(dialog.getByTestId('capture-iface')).toHaveCount(3);
  await expect(dialog.getByTestId('capture-iface').first()).toContainText('eth0');
  await expect(dialog.getByTestId('capture-iface').first()).toContainText('131.151.32.21');
  await expect(dialog.getByTestId('capture-iface').first()).toContainText('up');

  // A refused start shows the sentence and both commands as copyable blocks; nothing is created.
  await page.getByTestId('capture-filter').fill('needs root');
  await page.getByTestId('start-capture').click();
  await expect(dialog.getByTestId('capture-error')).toContainText('Packet capture is not permitted');
  const commands = dialog.getByTestId('capture-command');
  await expect(commands).toHaveCount(2);
  // The grant sets up the dedicated capture runtime (a group-only copy of Node with the capabilities), never the shared node.
  await expect(commands.nth(0)).toHaveText(/^sudo groupadd -f tandem-capture && .* && sudo setcap cap_net_raw,cap_net_admin=eip \/usr\/local\/lib\/tandem\/capture-node && sudo usermod -aG tandem-capture \S+$/);
  await expect(commands.nth(1)).toHaveText(/^sudo rm -f \/usr\/local\/lib\/tandem\/capture-node && /);
  await page.screenshot({ path: join(SHOTS, 'capture-privilege-error.png') });
  await expect(page.getByTestId('empty-session')).toBeVisible();

  // A filter the compiler refuses marks the field and shows its message; editing clears it.
  await page.getByTestId('capture-filter').fill('udp port');
  await page.getByTestId('start-capture').click();
  await expect(dialog.getByTestId('capture-error')).toHaveText('The capture filter "udp port" is invalid: syntax error.');
  await expect(page.getByTestId('capture-filter')).toHaveClass(/invalid/);
  await expect(dialog.getByTestId('capture-command')).toHaveCount(0);

  // A real start, with no stop condition (the user stops it).
  await page.getByTestId('capture-filter').fill('udp');
  await expect(page.getByTestId('capture-filter')).not.toHaveClass(/invalid/);
  await page.getByTestId('capture-snaplen').fill('65535');
  await page.getByTestId('start-capture').click();
  await expect(dialog).toHaveCount(0);
  const bar = page.getByTestId('live-capture');
  await expect(bar).toHaveAttribute('data-state', 'running');
  const calls = await page.evaluate(() => (globalThis as any).__captureCalls);
  expect(calls.at(-1)).toEqual({ interfaces: ['eth0'], filter: 'udp', snaplen: 65535, promiscuous: true });

  // Counters move while packets arrive, and rows appear in the session while it still runs.
  const packetsText = async () => Number((await bar.getByTestId('live-packets').innerText()).replace(/\D/g, ''));
  await expect.poll(packetsText, { timeout: 10_000 }).toBeGreaterThan(0);
  const early = await packetsText();
  await expect.poll(packetsText, { timeout: 10_000 }).toBeGreaterThan(early);
  await page.getByTestId('view-captures').click();
  await expect(cell(page, 1, 'src')).toHaveText('131.151.32.21:7001');
  await expect(cell(page, 1, 'dst')).toHaveText('131.151.1.59:7000');
  await expect(cell(page, 1, 'len')).toHaveText('86');
  await expect(cell(page, 2, 'len')).toHaveText('190');
  await expect(page.getByTestId('capture-status')).toHaveText('importing…');
  await page.screenshot({ path: join(SHOTS, 'capture-live.png') });
  await expect(bar).toHaveAttribute('data-state', 'running');

  // Everything fed: the counters say so, then Stop closes the capture.
  await expect.poll(packetsText, { timeout: 15_000 }).toBe(601);
  await expect(bar.getByTestId('live-elapsed')).toHaveText(/^\d+:\d\d$/);
  await expect(bar.getByTestId('live-drops')).toHaveText('drops 6');
  await expect(bar.getByTestId('live-ifdrops')).toHaveText('interface drops 2');
  await page.getByTestId('stop-capture').click();
  await expect(bar).toHaveAttribute('data-state', 'done', { timeout: 10_000 });
  await expect(bar.getByTestId('live-spool')).toContainText('.pcapng');
  // The final figures are the summary's.
  await expect(bar.getByTestId('live-drops')).toHaveText('drops 6');
  await expect(bar.getByTestId('live-ifdrops')).toHaveText('interface drops 2');
  await expect(page.getByTestId('capture-status')).toHaveText('complete');
  await expect(page.getByTestId('packet-count')).toHaveText('601 packets');
  await expect(page.getByTestId('capture-tab')).toHaveCount(1);
  await expect(page.getByTestId('capture-tab')).toContainText(`cap-${calls.length}.pcapng`);
  // Stored as a file import stores its packets: column chunks, no Packet objects (one chunk: 601 < 2000 rows).
  expect(await chunkForms(page)).toEqual(['cols:601']);

  // All of it is in IndexedDB: after a reload the session, the capture and its rows are back.
  await page.reload();
  await expect(page.getByTestId('session-item')).toHaveCount(1);
  await page.getByTestId('view-captures').click();
  await expect(page.getByTestId('capture-status')).toHaveText('complete');
  await expect(page.getByTestId('packet-count')).toHaveText('601 packets');
  await expect(cell(page, 1, 'src')).toHaveText('131.151.32.21:7001');
  await expect(cell(page, 2, 'len')).toHaveText('190');
  expect(errors).toEqual([]);
});

test('without the desktop shell there is no Capture button', async ({ page }) => {
  await page.goto('/');
  await page.getByTestId('create-first-session').click();
  await expect(page.getByTestId('open-capture')).toBeVisible();
  await expect(page.getByTestId('capture-open')).toHaveCount(0);
});
