// The main process's capture manager, driven with the real capture helper inside a network
// namespace: events reach only the window that started the capture, stop is refused to any other
// window, batches add up to what the spool file holds, and failures come back as one sentence.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { CaptureManager, deliverCaptureEvent, findHelperNode, spoolFileName, type EventTarget } from '../../../electron/main/capture-manager.ts';
import { eventChannelOf, type CaptureEvent } from '../../../shared/ipc/contract.ts';
import { createLab, helperScript, readBack, skipReason, sleep } from '../../integration/capture/lab.ts';

const skip = skipReason();
if (skip) console.log(`# skipping live capture-manager tests: ${skip}`);

function collector() {
  const events: Array<{ owner: number; ev: CaptureEvent }> = [];
  return { events, send: (owner: number, ev: CaptureEvent) => events.push({ owner, ev }) };
}

test('a capture streams to its owner only, refuses a foreign stop, and matches its spool', { skip: skip ?? false, timeout: 60_000 }, async () => {
  const lab = createLab();
  try {
    const { events, send } = collector();
    const manager = new CaptureManager({ spoolDir: `${lab.dir}/spool`, launch: { helperPath: helperScript, wrapper: ['ip', 'netns', 'exec', lab.nsA] }, send });
    const { id } = await manager.start(7, { interfaces: [lab.ifA], filter: 'udp port 5555', snaplen: 65535, promiscuous: true, maxSeconds: 30 });
    assert.deepEqual(manager.list(7), [id]);
    assert.deepEqual(manager.list(8), []);
    await lab.sendUdp(lab.nsB, lab.addrA, 5555, 120, 1);
    await sleep(400);
    await assert.rejects(manager.stop(8, id), /not running in this window/);
    const summary = await manager.stop(7, id);
    await sleep(50);

    assert.equal(summary.reason, 'stopped');
    assert.equal(summary.packets, 120);
    assert.ok(events.every((e) => e.owner === 7 && e.ev.id === id), 'every event went to the owner, tagged with its id');
    assert.equal(events[0]!.ev.type, 'started');
    assert.equal(events.at(-1)!.ev.type, 'end');
    const batches = events.map((e) => e.ev).filter((e): e is Extract<CaptureEvent, { type: 'batch' }> => e.type === 'batch');
    const frames = batches.flatMap((b) => b.packets);
    assert.equal(frames.length, 120);
    // Counters in each batch are cumulative and end at the summary's totals.
    assert.equal(batches.at(-1)!.stats.packets, 120);
    assert.equal(batches.at(-1)!.stats.bytes, summary.bytes);
    // libpcap's drop counters reach the window: a quiet veth drops nothing, and the interface's own
    // counter is known for a promiscuous handle on a named interface.
    assert.equal(summary.drops, 0);
    assert.equal(summary.ifDrops, 0);

    const spool = await readBack(readFileSync(summary.spoolPath));
    assert.equal(spool.complete, true);
    assert.equal(spool.frames.length, 120);
    assert.deepEqual(spool.interfaces.map((i) => i.name), [lab.ifA]);
    for (let i = 0; i < frames.length; i++) {
      assert.deepEqual(new Uint8Array(frames[i]!.data), spool.frames[i]!.data, `frame ${i + 1}`);
      assert.equal(frames[i]!.len, spool.frames[i]!.len);
    }
    assert.deepEqual(manager.list(), []);
  } finally {
    lab.cleanup();
  }
});

test('a bad filter and missing capabilities are start errors in one sentence', { skip: skip ?? false, timeout: 60_000 }, async () => {
  const lab = createLab();
  try {
    const { events, send } = collector();
    const inNs = new CaptureManager({ spoolDir: `${lab.dir}/spool`, launch: { helperPath: helperScript, wrapper: ['ip', 'netns', 'exec', lab.nsA] }, send });
    const req = { interfaces: [lab.ifA], filter: 'udp port', snaplen: 65535, promiscuous: true };
    await assert.rejects(inNs.start(1, req), (e: Error) => {
      assert.match(e.message, /^The capture filter "udp port" is invalid: /);
      assert.ok(!e.message.includes('\n'));
      return true;
    });
    // Root without CAP_NET_RAW/CAP_NET_ADMIN (setpriv drops them from the bounding set).
    const unprivileged = new CaptureManager({
      spoolDir: `${lab.dir}/spool`,
      launch: { helperPath: helperScript, wrapper: ['ip', 'netns', 'exec', lab.nsA, 'setpriv', '--bounding-set', '-net_raw,-net_admin', '--inh-caps=-net_raw,-net_admin'] },
      send,
    });
    await assert.rejects(unprivileged.start(1, { ...req, filter: '' }), (e: Error) => {
      assert.match(e.message, /^Packet capture is not permitted: .*CAP_NET_RAW/);
      assert.match(e.message, /`sudo groupadd -f tandem-capture && .* && sudo setcap cap_net_raw,cap_net_admin=eip \/usr\/local\/lib\/tandem\/capture-node && .*`/);
      assert.match(e.message, /`sudo rm -f \/usr\/local\/lib\/tandem\/capture-node && .*`/);
      return true;
    });
    assert.deepEqual(events, [], 'a capture that never started sends no events');
    const devices = await inNs.devices();
    const veth = devices.find((d) => d.name === lab.ifA);
    assert.ok(veth, `the helper lists ${lab.ifA}`);
    assert.equal(veth.up, true);
    assert.deepEqual(veth.addresses.map((a) => a.addr), [lab.addrA]);
  } finally {
    lab.cleanup();
  }
});

test('events are delivered only to a live window that still shows the app', () => {
  const sent: string[] = [];
  const target = (url: string, destroyed = false): EventTarget => ({
    isDestroyed: () => destroyed,
    getURL: () => url,
    send: (channel, ev) => sent.push(`${channel} ${ev.type} ${url}`),
  });
  const ev: CaptureEvent = { type: 'stats', id: 'x', stats: { packets: 1, bytes: 60, drops: null, elapsedMs: 5 } };
  assert.equal(deliverCaptureEvent(target('app://tandem/index.html'), ev), true);
  assert.equal(deliverCaptureEvent(target('https://example.com/'), ev), false);
  assert.equal(deliverCaptureEvent(target('app://tandem/index.html', true), ev), false);
  assert.equal(deliverCaptureEvent(undefined, ev), false);
  assert.deepEqual(sent, [`${eventChannelOf('capture')} stats app://tandem/index.html`]);
  assert.equal(eventChannelOf('capture'), 'tandem:event:capture');
});

test('the helper runtime is a real node found on absolute PATH entries, and spool names sort by time', () => {
  const found = findHelperNode({ PATH: `relative/bin:${process.env.PATH ?? ''}` });
  if (found === undefined) console.log('# no node on PATH: the app falls back to Electron as Node');
  else assert.match(found, /\/node[^/]*$/);
  assert.equal(findHelperNode({ PATH: 'bin:./x' }), undefined);
  assert.equal(findHelperNode({ PATH: '', TANDEM_CAPTURE_NODE: process.execPath }), process.execPath);
  assert.equal(findHelperNode({ PATH: '', TANDEM_CAPTURE_NODE: 'node' }), undefined, 'a relative override is ignored');
  assert.equal(spoolFileName('0123456789abcdef', new Date(Date.UTC(2026, 10, 22, 3, 10, 5, 123))), '2026-11-22T03-10-05Z-01234567.pcapng');
});
