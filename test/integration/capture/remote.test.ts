// Remote capture over SSH against Debian's OpenSSH server running in namespace B (key auth, own
// config and port), with the local helper capturing the other end of the same veth at the same time.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CaptureHelper } from '../../../electron/capture/client.ts';
import { RemoteCapture, RemoteCaptureError, type RemoteCaptureOptions } from '../../../electron/capture/remote.ts';
import { spawn } from 'node:child_process';
import { cliScript, createLab, hasSshd, helperScript, readBack, repoRoot, skipReason, sleep, startSshd, type Lab, type Sshd } from './lab.ts';

const skip = skipReason({ tcpdump: true }) ?? (hasSshd() ? null : 'openssh-server (/usr/sbin/sshd) or the ssh client is not installed');
if (skip) console.log(`# skipping remote capture tests: ${skip}`);

function remoteOpts(lab: Lab, sshd: Sshd, extra: Partial<RemoteCaptureOptions>): RemoteCaptureOptions {
  return {
    host: lab.addrB, user: 'root', port: sshd.port, identityFile: sshd.key, knownHostsFile: sshd.knownHosts,
    interface: lab.ifB, spoolPath: join(lab.dir, 'remote.pcapng'), ssh: ['ip', 'netns', 'exec', lab.nsA, 'ssh'], ...extra,
  };
}

test('remote tcpdump over SSH and the local helper capture both ends of one flow', { skip: skip ?? false, timeout: 60_000 }, async () => {
  const lab = createLab();
  const sshd = await startSshd(lab, lab.nsB, lab.addrB);
  try {
    const filter = 'udp port 5560';
    let streamed = 0;
    const remote = new RemoteCapture(remoteOpts(lab, sshd, { filter, onBatch: (b) => { streamed += b.packets.length; } }));
    const local = new CaptureHelper({ interfaces: [lab.ifA], filter, spoolPath: join(lab.dir, 'local.pcapng') }, {},
      { wrapper: ['ip', 'netns', 'exec', lab.nsA], helperPath: helperScript });
    await remote.started;
    while (!local.interfaces.length) await sleep(20);
    await lab.sendUdp(lab.nsA, lab.addrB, 5560, 120, 2);
    await sleep(500);
    const [rs, ls] = await Promise.all([remote.stop(), local.stop()]);
    assert.equal(ls.packets, 120);
    assert.equal(rs.packets, 120);
    assert.equal(streamed, 120);
    assert.deepEqual(rs.remote, { captured: 120, receivedByFilter: 120, droppedByKernel: 0 });
    assert.equal(rs.drops, 0);
    const a = await readBack(readFileSync(join(lab.dir, 'local.pcapng')));
    const b = await readBack(readFileSync(join(lab.dir, 'remote.pcapng')));
    assert.equal(b.complete, true, b.problems.join('; '));
    assert.deepEqual(b.interfaces.map((i) => [i.name, i.linktype]), [[lab.ifB, 1]]);
    // The two ends of a veth see the very same frames.
    assert.equal(b.frames.length, a.frames.length);
    b.frames.forEach((f, i) => assert.deepEqual(f.data, a.frames[i]!.data, `frame ${i + 1}`));
    // Both clocks are this host's: the far end's kernel stamps follow the local ones closely.
    const skew = b.frames.map((f, i) => Math.abs((f.tsSec - a.frames[i]!.tsSec) * 1e3 + (f.tsNsec - a.frames[i]!.tsNsec) / 1e6));
    assert.ok(Math.max(...skew) < 100, `timestamps differ by up to ${Math.max(...skew)} ms`);
  } finally { sshd.stop(); lab.cleanup(); }
});

test('remote capture failures are named: auth, unreachable, host key, no tcpdump, bad filter, bad interface, no permission', { skip: skip ?? false, timeout: 60_000 }, async () => {
  const lab = createLab();
  const sshd = await startSshd(lab, lab.nsB, lab.addrB);
  try {
    const expectKind = async (extra: Partial<RemoteCaptureOptions>, kind: string, re: RegExp) => {
      const r = new RemoteCapture(remoteOpts(lab, sshd, extra));
      await assert.rejects(r.started, (e: Error) => {
        assert.ok(e instanceof RemoteCaptureError, String(e));
        assert.equal(e.kind, kind, e.message);
        assert.match(e.message, re);
        return true;
      });
      await assert.rejects(r.done);
    };
    await expectKind({ identityFile: sshd.wrongKey }, 'auth', /authentication to root@10\.99\.\d+\.2 failed.*Permission denied/);
    await expectKind({ port: sshd.port + 1 }, 'unreachable', /cannot be reached over SSH \(.*Connection refused/);
    await expectKind({ knownHostsFile: join(lab.dir, 'empty_known_hosts'), hostKeyPolicy: 'yes' }, 'host-key', /host key/);
    await expectKind({ tcpdump: '/nonexistent/tcpdump' }, 'no-tcpdump', /tcpdump is not installed/);
    await expectKind({ filter: 'udp port 5560 and (' }, 'filter', /capture filter "udp port 5560 and \(" was rejected.*syntax error/);
    await expectKind({ interface: 'nosuch0' }, 'interface', /no usable interface "nosuch0"/);
    // A far end whose tcpdump lacks the capture capabilities (what an unprivileged account gets).
    const unprivileged = join(lab.dir, 'tcpdump-unprivileged');
    writeFileSync(unprivileged, '#!/bin/sh\nexec setpriv --bounding-set=-net_raw,-net_admin --inh-caps=-net_raw,-net_admin tcpdump "$@"\n', { mode: 0o755 });
    await expectKind({ tcpdump: unprivileged }, 'permission', /may not capture on .*grant tcpdump CAP_NET_RAW/);
  } finally { sshd.stop(); lab.cleanup(); }
});

test('one `tandem capture` command records both ends (local helper code + remote tcpdump) and stops both', { skip: skip ?? false, timeout: 60_000 }, async () => {
  const lab = createLab();
  const sshd = await startSshd(lab, lab.nsB, lab.addrB);
  try {
    const local = join(lab.dir, 'a.pcapng'), far = join(lab.dir, 'b.pcapng');
    const cli = spawn('ip', ['netns', 'exec', lab.nsA, process.execPath, '--import', 'tsx', cliScript, '-i', lab.ifA, '-f', 'udp port 5561', '-w', local, '-c', '30',
      '--remote', `root@${lab.addrB}:${sshd.port}`, '--remote-iface', lab.ifB, '--remote-write', far, '--remote-key', sshd.key, '--remote-known-hosts', sshd.knownHosts],
    { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    cli.stderr.on('data', (d) => { err += d; });
    const exit = new Promise<number | null>((r) => cli.on('close', (c) => r(c)));
    for (let i = 0; i < 200 && !/capturing on/.test(err); i++) await sleep(50);
    assert.match(err, new RegExp(`capturing on ${lab.ifA} .* and on ${lab.addrB.replace(/\./g, '\\.')}:${lab.ifB}`));
    await lab.sendUdp(lab.nsB, lab.addrA, 5561, 30, 3);
    assert.equal(await exit, 0, err);
    assert.match(err, /30 packets captured/);
    assert.match(err, new RegExp(`${lab.addrB.replace(/\./g, '\\.')}: 30 packets captured on ${lab.ifB}.*0 dropped by the kernel there`));
    const a = await readBack(readFileSync(local)), b = await readBack(readFileSync(far));
    assert.equal(a.frames.length, 30);
    assert.equal(b.frames.length, 30);
    assert.deepEqual([a.interfaces[0]!.name, b.interfaces[0]!.name], [lab.ifA, lab.ifB]);
  } finally { sshd.stop(); lab.cleanup(); }
});
