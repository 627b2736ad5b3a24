// What our cap patch adds (patches/cap+0.2.1.patch), checked on a veth inside test namespaces:
// promiscuous mode really off or on (the kernel's promiscuity counter of the interface), and
// libpcap's drop counter reaching the live counters, the end summary and the CLI's last line.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadCap } from '../../../electron/capture/cap-binding.ts';
import { CaptureHelper } from '../../../electron/capture/client.ts';
import type { CaptureStats } from '../../../electron/capture/session.ts';
import { cliScript, createLab, helperScript, readBack, repoRoot, skipReason, sleep, type Lab } from './lab.ts';

function patchMissing(): string | null {
  const cap = loadCap();
  if (cap instanceof Error) return null; // skipReason() reports it
  return typeof cap.Cap.prototype.stats === 'function' ? null : 'the installed cap lacks our patch (run npm install, which applies patches/cap+0.2.1.patch)';
}

const skip = skipReason() ?? patchMissing();
if (skip) console.log(`# skipping promiscuous/drop-count tests: ${skip}`);

const helperIn = (lab: Lab) => ({ wrapper: ['ip', 'netns', 'exec', lab.nsA], helperPath: helperScript });

async function started(h: CaptureHelper): Promise<void> {
  // Reject at once if the helper fails before it reports its interfaces.
  let failed: unknown;
  h.done.catch((e: unknown) => { failed = e ?? new Error('helper ended'); });
  while (!h.interfaces.length) {
    if (failed) throw failed;
    await sleep(20);
  }
}

/** The kernel's promiscuity counter of the lab's interface in namespace A (`ip -d link`). */
function promiscuity(lab: Lab): number {
  const out = lab.exec(lab.nsA, ['ip', '-d', 'link', 'show', 'dev', lab.ifA]);
  const m = /promiscuity (\d+)/.exec(out);
  assert.ok(m, `no promiscuity in: ${out}`);
  return Number(m[1]);
}

test('promiscuous:false leaves the interface out of promiscuous mode, promiscuous:true puts it in', { skip: skip ?? false, timeout: 30_000 }, async () => {
  const lab = createLab();
  try {
    assert.equal(promiscuity(lab), 0, 'nothing holds the fresh veth promiscuous');
    for (const promiscuous of [false, true]) {
      let warnings: string[] = [];
      const h = new CaptureHelper({ interfaces: [lab.ifA], filter: 'udp port 5600', spoolPath: join(lab.dir, `p-${promiscuous}.pcapng`), promiscuous },
        { onStarted: (_i, w) => { warnings = w; } }, helperIn(lab));
      await started(h);
      const during = promiscuity(lab);
      await lab.sendUdp(lab.nsB, lab.addrA, 5600, 10, 1);
      await sleep(200);
      const summary = await h.stop();
      console.log(`# promiscuous:${promiscuous} → promiscuity ${during} while capturing, ${promiscuity(lab)} after`);
      if (promiscuous) assert.ok(during >= 1, `promiscuity ${during} with promiscuous:true`);
      else assert.equal(during, 0, 'promiscuous:false must not raise the promiscuity counter');
      assert.equal(promiscuity(lab), 0, 'closing the handle gives promiscuous mode back');
      assert.deepEqual(warnings, [], 'no warning when the binding honours the setting');
      assert.equal(summary.packets, 10);
      assert.equal(summary.drops, 0);
      // libpcap keeps the interface's own drop counter only for promiscuous handles.
      if (promiscuous) assert.equal(typeof summary.ifDrops, 'number');
      else assert.equal(summary.ifDrops, null);
    }
  } finally { lab.cleanup(); }
});

test('a flood into a one-slot buffer: libpcap drops are counted live and in the summary, captured + dropped = sent', { skip: skip ?? false, timeout: 60_000 }, async () => {
  const lab = createLab();
  try {
    const SENT = 20_000;
    const spool = join(lab.dir, 'tiny.pcapng');
    const live: CaptureStats[] = [];
    // libpcap rounds the ring up to one frame (64 KiB on a veth, which offloads); 1 byte asks for that minimum.
    const h = new CaptureHelper({ interfaces: [lab.ifA], filter: 'udp port 5601', spoolPath: spool, bufferSize: 1 },
      { onStats: (s) => live.push(s) }, helperIn(lab));
    await started(h);
    await lab.sendUdp(lab.nsB, lab.addrA, 5601, SENT, 0);
    // Let at least one stats message (every 500 ms) arrive after the flood.
    const before = live.length;
    while (live.length < before + 2) await sleep(50);
    const summary = await h.stop();
    const last = live[live.length - 1]!;
    const onDisk = (await readBack(readFileSync(spool))).frames.length;
    console.log(`# sent ${SENT}: captured ${summary.packets}, dropped by the kernel ${summary.drops} ` +
      `(sum ${summary.packets + (summary.drops ?? 0)}); last live count ${last.drops} dropped`);
    assert.equal(typeof last.drops, 'number', 'live counters carry the drop count');
    assert.ok(last.drops! > 0, 'drops visible in the live counters');
    assert.ok(last.drops! <= summary.drops!, 'the counter only grows');
    assert.equal(typeof summary.drops, 'number');
    assert.ok(summary.drops! > 0, 'a one-slot ring cannot keep up with the flood');
    assert.deepEqual(summary.perInterface.map((p) => p.drops), [summary.drops]);
    assert.equal(onDisk, summary.packets);
    // On Linux ps_drop counts every packet that passed the filter and found the ring full; whatever
    // is still in the ring at close is neither captured nor dropped (one slot here). Packets lost
    // before the tap (the veth's backlog) are in neither count, hence the 5 % allowance.
    const accounted = summary.packets + summary.drops!;
    assert.ok(accounted <= SENT, `captured + dropped = ${accounted} > ${SENT} sent`);
    assert.ok(accounted >= 0.95 * SENT, `captured + dropped = ${accounted}, under 95 % of ${SENT} sent`);
  } finally { lab.cleanup(); }
});

test('the CLI ends with the kernel drop count', { skip: skip ?? false, timeout: 60_000 }, async () => {
  const lab = createLab();
  try {
    const SENT = 5000;
    const file = join(lab.dir, 'cli-drops.pcapng');
    const cli = spawn('ip', ['netns', 'exec', lab.nsA, process.execPath, '--import', 'tsx', cliScript, '-i', lab.ifA, '--no-promisc', '--buffer-size', '1',
      '-w', file, 'udp', 'port', '5602'], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    cli.stderr.on('data', (d) => { err += d; });
    const exit = new Promise<number | null>((r) => cli.on('close', (c) => r(c)));
    for (let i = 0; i < 100 && !/capturing on/.test(err); i++) await sleep(50);
    assert.match(err, /capturing on/);
    assert.doesNotMatch(err, /warning: promiscuous/);
    await lab.sendUdp(lab.nsB, lab.addrA, 5602, SENT, 0);
    await sleep(300);
    cli.kill('SIGINT');
    assert.equal(await exit, 0, err);
    const m = /(\d+) packets captured.*\(stopped\); (\d+) dropped by the kernel because the capture buffer was full/.exec(err);
    assert.ok(m, `no drop count in: ${err}`);
    const captured = Number(m[1]), dropped = Number(m[2]);
    console.log(`# CLI: sent ${SENT}, ${captured} captured, ${dropped} dropped`);
    assert.ok(dropped > 0);
    assert.ok(captured + dropped <= SENT && captured + dropped >= 0.95 * SENT, `captured ${captured} + dropped ${dropped} vs ${SENT} sent`);
    // --no-promisc: the interface's own drop counter is unknown and must not be claimed.
    assert.doesNotMatch(err, /interface itself dropped/);
  } finally { lab.cleanup(); }
});
