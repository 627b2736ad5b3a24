// Live capture through the privileged helper, checked against tcpdump on the same veth, inside
// network namespaces created (and always deleted) by the test.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { CaptureHelper } from '../../../electron/capture/client.ts';
import { CaptureError, validateFilter, type CaptureSummary } from '../../../electron/capture/session.ts';
import { cliScript, createLab, helperScript, readBack, repoRoot, skipReason, sleep, startTcpdump, type Lab } from './lab.ts';

const skip = skipReason({ tcpdump: true });
if (skip) console.log(`# skipping live capture tests: ${skip}`);

function helperIn(lab: Lab, ns: string) {
  return { wrapper: ['ip', 'netns', 'exec', ns], helperPath: helperScript };
}

function started(h: CaptureHelper): Promise<void> {
  return new Promise((resolve, reject) => {
    const t = setInterval(() => { if (h.interfaces.length) { clearInterval(t); resolve(); } }, 20);
    h.done.catch((e) => { clearInterval(t); reject(e); });
  });
}

const sum = (a: number[]) => a.reduce((x, y) => x + y, 0);

test('helper capture on a veth matches tcpdump on the same interface, packet for packet', { skip: skip ?? false, timeout: 60_000 }, async () => {
  const lab = createLab();
  try {
    const spool = join(lab.dir, 'spool.pcapng');
    const ref = join(lab.dir, 'ref.pcap');
    const filter = 'udp and (port 5555 or port 5556)';
    const td = await startTcpdump(lab, lab.nsA, lab.ifA, ref, [filter]);
    let streamed = 0, streamedBytes = 0;
    const h = new CaptureHelper({ interfaces: [lab.ifA], filter, spoolPath: spool },
      { onBatch: (b) => { streamed += b.packets.length; streamedBytes += sum(b.packets.map((p) => p.len)); } }, helperIn(lab, lab.nsA));
    await started(h);
    // Both directions: B → A arrives on the veth, A → B leaves by it.
    await Promise.all([lab.sendUdp(lab.nsB, lab.addrA, 5555, 300, 2), lab.sendUdp(lab.nsA, lab.addrB, 5556, 200, 3)]);
    await sleep(400);
    const summary: CaptureSummary = await h.stop();
    await td.stop();

    const tdRead = await readBack(readFileSync(ref));
    const ours = await readBack(readFileSync(spool));
    assert.equal(tdRead.frames.length, 500, 'tcpdump saw every datagram sent');
    assert.equal(summary.packets, tdRead.frames.length);
    assert.equal(summary.bytes, sum(tdRead.frames.map((f) => f.len)));
    assert.equal(ours.complete, true, ours.problems.join('; '));
    assert.equal(ours.frames.length, tdRead.frames.length);
    assert.equal(sum(ours.frames.map((f) => f.len)), sum(tdRead.frames.map((f) => f.len)));
    assert.equal(sum(ours.frames.map((f) => f.caplen)), sum(tdRead.frames.map((f) => f.caplen)));
    // Same bytes in the same order as the reference capture, per direction: two packet sockets may
    // see an incoming and an outgoing frame that cross on different CPUs in either order.
    const dportOf = (f: { data: Uint8Array }) => (f.data[36]! << 8) | f.data[37]!;
    for (const port of [5555, 5556]) {
      const mine = ours.frames.filter((f) => dportOf(f) === port), theirs = tdRead.frames.filter((f) => dportOf(f) === port);
      assert.equal(mine.length, theirs.length, `datagrams to port ${port}`);
      for (let i = 0; i < mine.length; i++) assert.deepEqual(mine[i]!.data, theirs[i]!.data, `frame ${i + 1} to port ${port} differs`);
    }
    assert.deepEqual(ours.interfaces.map((i) => [i.name, i.linktype]), [[lab.ifA, 1]]);
    // Direction (epb_flags) recovered from the veth's MAC: B → A datagrams (port 5555) in, A → B (5556) out.
    assert.ok(ours.frames.every((f) => f.epbFlags === (dportOf(f) === 5555 ? 1 : 2)));
    // What was streamed to the parent is what is on disk.
    assert.equal(streamed, ours.frames.length);
    assert.equal(streamedBytes, summary.bytes);
    // Timestamps: ours are taken in user space after the kernel's; they must stay close to tcpdump's.
    const lag = ours.frames.map((f, i) => (f.tsSec - tdRead.frames[i]!.tsSec) * 1e3 + (f.tsNsec - tdRead.frames[i]!.tsNsec) / 1e6);
    lag.sort((a, b) => a - b);
    const median = lag[lag.length >> 1]!;
    console.log(`# timestamp lag vs tcpdump (kernel): median ${median.toFixed(3)} ms, max ${lag[lag.length - 1]!.toFixed(3)} ms`);
    assert.ok(Math.abs(median) < 50, `median timestamp difference ${median} ms`);
  } finally { lab.cleanup(); }
});

test('CLI captures on a veth and on any at once, stops after -c N, one named interface block each', { skip: skip ?? false, timeout: 60_000 }, async () => {
  const lab = createLab();
  try {
    const file = join(lab.dir, 'cli.pcapng');
    const cli = spawn('ip', ['netns', 'exec', lab.nsA, process.execPath, '--import', 'tsx', cliScript, '-i', lab.ifA, '-i', 'any', '-c', '40', '-w', file, 'udp', 'port', '5557'],
      { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    cli.stderr.on('data', (d) => { err += d; });
    const exit = new Promise<number | null>((r) => cli.on('close', (c) => r(c)));
    for (let i = 0; i < 100 && !/capturing on/.test(err); i++) await sleep(50);
    assert.match(err, /capturing on/);
    await lab.sendUdp(lab.nsB, lab.addrA, 5557, 20, 5);
    assert.equal(await exit, 0, err);
    assert.match(err, /40 packets captured .*packet limit reached/);
    const r = await readBack(readFileSync(file));
    assert.equal(r.frames.length, 40);
    // libpcap's "any" device delivers Linux cooked (SLL, 113) frames.
    assert.deepEqual(r.interfaces.map((i) => [i.name, i.linktype]), [[lab.ifA, 1], ['any', 113]]);
    assert.equal(r.frames.filter((f) => f.ifaceId === 0).length, 20);
    assert.equal(r.frames.filter((f) => f.ifaceId === 1).length, 20);
  } finally { lab.cleanup(); }
});

test('a SIGKILLed helper leaves a readable spool holding every packet it reported', { skip: skip ?? false, timeout: 60_000 }, async () => {
  const lab = createLab();
  try {
    const spool = join(lab.dir, 'killed.pcapng');
    const h = new CaptureHelper({ interfaces: [lab.ifA], filter: 'udp port 5558', spoolPath: spool, flushIntervalMs: 50 }, {}, helperIn(lab, lab.nsA));
    await started(h);
    const sending = lab.sendUdp(lab.nsB, lab.addrA, 5558, 3000, 1, 2);
    while (h.received < 300) await sleep(10);
    h.child.kill('SIGKILL');
    await assert.rejects(h.done, (e: Error) => e instanceof CaptureError && /killed by SIGKILL/.test(e.message));
    const reported = h.received;
    await sending;
    const r = await readBack(readFileSync(spool));
    console.log(`# helper reported ${reported} packets before SIGKILL; spool holds ${r.frames.length}`);
    assert.equal(r.complete, true, r.problems.join('; '));
    assert.ok(r.frames.length >= reported, `spool holds ${r.frames.length} < ${reported} reported`);
    assert.deepEqual(r.interfaces.map((i) => i.name), [lab.ifA]);
  } finally { lab.cleanup(); }
});

test('a bad capture filter is refused before capture with libpcap\'s compiler message', { skip: skip ?? false }, () => {
  const bad = validateFilter('udp port 5555 and (', 'lo');
  assert.ok(bad instanceof CaptureError);
  assert.equal(bad.kind, 'filter');
  assert.match(bad.message, /^The capture filter "udp port 5555 and \(" is invalid: .*syntax error/);
  const port = validateFilter('tcp port nosuchservice', 'lo');
  assert.equal(port?.kind, 'filter');
  assert.match(port!.message, /unknown port 'nosuchservice'/);
  assert.equal(validateFilter('udp port 51820 or host 192.168.200.22', 'lo'), null);
  const iface = validateFilter('udp', 'tdmcap-none0');
  assert.equal(iface?.kind, 'interface');
});

test('without CAP_NET_RAW the helper says so in one sentence with the commands to grant and revoke', { skip: skip ?? false, timeout: 30_000 }, async () => {
  const lab = createLab();
  try {
    const h = new CaptureHelper({ interfaces: [lab.ifA], spoolPath: join(lab.dir, 'x.pcapng') }, {},
      { wrapper: ['setpriv', '--bounding-set=-net_raw,-net_admin', '--inh-caps=-net_raw,-net_admin', 'ip', 'netns', 'exec', lab.nsA], helperPath: helperScript });
    await assert.rejects(h.done, (e: Error) => {
      assert.ok(e instanceof CaptureError);
      assert.equal(e.kind, 'privilege');
      assert.match(e.message, /lacks CAP_NET_RAW and CAP_NET_ADMIN/);
      // The fix gives the rights to the dedicated runtime only (privileges.ts), and says how to undo it.
      assert.match(e.message, /sudo setcap cap_net_raw,cap_net_admin=eip \/usr\/local\/lib\/tandem\/capture-node/);
      assert.match(e.message, /undo with `sudo rm -f \/usr\/local\/lib\/tandem\/capture-node/);
      return true;
    });
  } finally { lab.cleanup(); }
});

// Paced, the packets reach the file over several batches; flooded, most arrive in one batch larger than the disk.
for (const [pace, interval] of [['paced', 1], ['flooded', 0]] as const) test(`a full disk stops the capture with one sentence, keeping every packet that fit (${pace})`, { skip: skip ?? false, timeout: 30_000 }, async () => {
  const lab = createLab();
  try {
    // A 64 KiB tmpfs in a private mount namespace stands in for a full disk.
    const mnt = join(lab.dir, 'small');
    const script = `mkdir -p ${mnt} && mount -t tmpfs -o size=64k tdmcap ${mnt} && "$0" --import tsx ${cliScript} -i ${lab.ifA} -w ${mnt}/f.pcapng udp port 5562; s=$?; ` +
      `cp ${mnt}/f.pcapng ${lab.dir}/kept.pcapng; exit $s`;
    const cli = spawn('ip', ['netns', 'exec', lab.nsA, 'unshare', '-m', 'sh', '-c', script, process.execPath], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    cli.stderr.on('data', (d) => { err += d; });
    const exit = new Promise<number | null>((r) => cli.on('close', (c) => r(c)));
    // Starting the CLI under tsx can take seconds on a loaded machine: send only once it listens.
    for (let i = 0; i < 400 && !/capturing on/.test(err); i++) await sleep(50);
    assert.match(err, /capturing on/, 'the CLI did not start capturing');
    await lab.sendUdp(lab.nsB, lab.addrA, 5562, 200, interval);
    assert.equal(await exit, 1, err);
    assert.match(err, /error: Writing the capture file .*f\.pcapng failed: .*ENOSPC/);
    const kept = await readBack(readFileSync(join(lab.dir, 'kept.pcapng')));
    // However the load split the packets into batches, every packet block that fit is kept (the file is
    // cut back only to the last whole block, not the last whole batch), and the file ends on a block.
    assert.equal(kept.complete, true, kept.problems.join('; '));
    const size = statSync(join(lab.dir, 'kept.pcapng')).size;
    assert.ok(size > 65536 - 1500, `only ${size} bytes kept of a 64 KiB disk`);
    assert.ok(kept.frames.length > 0, 'no frames kept');
    // They are the first datagrams sent, in order (the sender cycles its payload sizes; 42 bytes of headers).
    assert.deepEqual(kept.frames.map((f) => f.len - 42), kept.frames.map((_, i) => 1 + ((i * 97) % 1400)));
  } finally { lab.cleanup(); }
});
