// Capture rights on a dedicated runtime (electron/capture/privileges.ts), tried for real: as root the
// test copies Node into a temporary directory the way the printed setup does (0750 root:<group>,
// setcap), creates a throw-away group and user, and runs the helper as that user. Users, group and
// files are removed afterwards, also when an assertion fails.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CaptureHelper } from '../../../electron/capture/client.ts';
import { CaptureError } from '../../../electron/capture/session.ts';
import { CAPTURE_GROUP, CAPTURE_RUNTIME, captureRuntimeEnv, dedicatedRuntime, fixCommands, setupSteps } from '../../../electron/capture/privileges.ts';
import { CaptureManager, findHelperNode } from '../../../electron/main/capture-manager.ts';
import type { CaptureEvent } from '../../../shared/ipc/contract.ts';
import { parseCaptureArgs, setupPrivilegesText } from '../../../bin/cli/capture.ts';
import { cliScript, createLab, helperScript, readBack, repoRoot, skipReason, sleep } from './lab.ts';

const tool = (name: string) => ['/usr/sbin', '/sbin', '/usr/bin', '/bin'].map((d) => join(d, name)).find((f) => existsSync(f));

function rightsSkipReason(): string | null {
  const base = skipReason();
  if (base) return base;
  if (!tool('setcap') || !tool('getcap')) return 'setcap/getcap are not installed (Debian package libcap2-bin)';
  for (const t of ['useradd', 'userdel', 'groupadd', 'groupdel', 'setpriv']) if (!tool(t)) return `${t} is not installed`;
  return null;
}

const skip = rightsSkipReason();
if (skip) console.log(`# skipping capture-rights tests: ${skip}`);

const PREFIX = 'tdmrt';
const run = (cmd: string, args: string[]) => execFileSync(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
const quiet = (cmd: string, args: string[]) => { try { run(cmd, args); } catch { /* already gone */ } };

/** Users and groups left by an earlier run killed before its cleanup: our prefix, and a test process that is gone. */
function removeLeftovers(): void {
  const gone = (pid: number) => { try { process.kill(pid, 0); return false; } catch (e) { return (e as NodeJS.ErrnoException).code === 'ESRCH'; } };
  for (const [db, suffix, del] of [['passwd', 'u', 'userdel'], ['group', 'g', 'groupdel']] as const) {
    for (const line of run('getent', [db]).split('\n')) {
      const name = line.split(':')[0]!;
      const m = new RegExp(`^${PREFIX}(\\d+)${suffix}$`).exec(name);
      if (m && gone(Number(m[1]))) quiet(del, [name]);
    }
  }
}

interface Rights {
  dir: string;
  runtime: string;
  group: string;
  user: string;
  uid: number;
  /** Runs argv as `who` (the test user by default) with its groups, optionally in a namespace. */
  as(argv: string[], opts?: { who?: string; ns?: string; env?: NodeJS.ProcessEnv }): { status: number | null; stdout: string; stderr: string };
  /** Wrapper words for the helper launch: namespace, then drop to the test user with its groups. */
  wrapper(ns: string): string[];
  cleanup(): void;
}

/** The dedicated runtime exactly as the printed setup makes it, but in a temporary directory and for a temporary group. */
function setUpRights(): Rights {
  removeLeftovers();
  const group = `${PREFIX}${process.pid}g`, user = `${PREFIX}${process.pid}u`;
  const dir = mkdtempSync(join(tmpdir(), 'tdmrt-'));
  const runtime = join(dir, 'capture-node');
  const cleanup = () => {
    quiet('userdel', [user]);
    quiet('groupdel', [group]);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    chmodSync(dir, 0o755);
    run('groupadd', [group]);
    run('useradd', ['--no-create-home', '--home-dir', '/nonexistent', '--shell', '/usr/sbin/nologin', '--gid', 'nogroup', '--groups', group, user]);
    const uid = Number(run('id', ['-u', user]).trim());
    copyFileSync(process.execPath, runtime);
    run('chown', [`root:${group}`, runtime]);
    chmodSync(runtime, 0o750);
    run('setcap', ['cap_net_raw,cap_net_admin=eip', runtime]);
    // A spool folder the test user may write to.
    mkdirSync(join(dir, 'spool'), { mode: 0o700 });
    chownSync(join(dir, 'spool'), uid, 65534);
    // setpriv still holds root's capabilities when it execs the program (they go at that exec), so
    // its own exec would pass any permission check: a shell in between execs as the plain user.
    const drop = (who: string) => ['setpriv', '--reuid', who, '--regid', 'nogroup', '--init-groups', '--', '/bin/sh', '-c', 'exec "$@"', 'as-user'];
    return {
      dir, runtime, group, user, uid, cleanup,
      wrapper: (ns) => ['ip', 'netns', 'exec', ns, ...drop(user)],
      as: (argv, o = {}) => {
        const words = [...(o.ns ? ['ip', 'netns', 'exec', o.ns] : []), ...drop(o.who ?? user), ...argv];
        const r = spawnSync(words[0]!, words.slice(1), { cwd: dir, env: o.env ?? captureRuntimeEnv(), encoding: 'utf8', timeout: 20_000 });
        return { status: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
      },
    };
  } catch (e) {
    cleanup();
    throw e;
  }
}

/** Prints the effective capability mask of the process that runs it. */
const CAPS_PROBE = `console.log('CapEff=' + /CapEff:\\s*(\\S+)/.exec(require('fs').readFileSync('/proc/self/status', 'utf8'))[1])`;
const NET_BITS = (1n << 12n) | (1n << 13n);
const capEff = (out: string) => BigInt('0x' + (/CapEff=([0-9a-f]+)/.exec(out)?.[1] ?? '0'));

function collector() {
  const events: CaptureEvent[] = [];
  return { events, send: (_owner: number, ev: CaptureEvent) => events.push(ev) };
}

test('with the dedicated runtime an unprivileged group member captures on a veth; others may not even run it', { skip: skip ?? false, timeout: 90_000 }, async (t) => {
  const rights = setUpRights();
  const lab = createLab();
  try {
    assert.match(run('getcap', [rights.runtime]), /cap_net_admin,cap_net_raw=eip/);
    const st = statSync(rights.runtime);
    assert.equal(st.mode & 0o7777, 0o750);
    assert.equal(st.uid, 0);
    const probe = rights.as([rights.runtime, '-e', CAPS_PROBE]);
    assert.equal(probe.status, 0, probe.stderr);
    if ((capEff(probe.stdout) & NET_BITS) !== NET_BITS) {
      t.skip(`file capabilities have no effect in ${rights.dir} (nosuid mount?): ${probe.stdout.trim()}`);
      return;
    }
    // Someone outside the group cannot execute the copy at all: that is the whole access control.
    const outsider = rights.as([rights.runtime, '-e', '1'], { who: 'nobody' });
    assert.notEqual(outsider.status, 0);
    assert.match(outsider.stderr, /Permission denied/);
    // Plain Node as the same user has no capabilities.
    assert.equal(capEff(rights.as([process.execPath, '-e', CAPS_PROBE]).stdout) & NET_BITS, 0n);

    // The app's choice: the dedicated runtime comes after an explicit override and before PATH.
    assert.equal(findHelperNode({ PATH: '/usr/bin:/bin' }, rights.runtime), rights.runtime);
    assert.equal(findHelperNode({ PATH: '/usr/bin:/bin', TANDEM_CAPTURE_NODE: process.execPath }, rights.runtime), process.execPath);
    assert.notEqual(findHelperNode({ PATH: '/usr/bin:/bin' }, join(rights.dir, 'missing')), rights.runtime);

    const { events, send } = collector();
    const spoolDir = join(rights.dir, 'spool');
    const manager = new CaptureManager({ spoolDir, launch: { helperPath: helperScript, node: findHelperNode({}, rights.runtime)!, wrapper: rights.wrapper(lab.nsA) }, send });
    const { id } = await manager.start(1, { interfaces: [lab.ifA], filter: 'udp port 5571', snaplen: 65535, promiscuous: true, maxSeconds: 30 });
    await lab.sendUdp(lab.nsB, lab.addrA, 5571, 150, 1);
    await sleep(400);
    const summary = await manager.stop(1, id);
    assert.equal(summary.reason, 'stopped');
    assert.equal(summary.packets, 150);
    const started = events.find((e) => e.type === 'started');
    assert.ok(started && started.type === 'started');
    // The spool was written by the unprivileged user, not by root.
    assert.equal(statSync(started.spoolPath).uid, rights.uid);
    const back = await readBack(readFileSync(started.spoolPath));
    assert.equal(back.frames.length, 150);
    assert.equal(back.complete, true);
  } finally {
    lab.cleanup();
    rights.cleanup();
  }
  assert.equal(run('getent', ['passwd']).includes(rights.user + ':'), false, 'the test user is gone');
  assert.equal(existsSync(rights.dir), false);
});

test('without the dedicated runtime the start fails with one sentence naming the capabilities and the grant/revoke commands', { skip: skip ?? false, timeout: 60_000 }, async () => {
  const rights = setUpRights();
  const lab = createLab();
  try {
    const { events, send } = collector();
    // Plain Node (no file capabilities) as the unprivileged user.
    const manager = new CaptureManager({ spoolDir: join(rights.dir, 'spool'), launch: { helperPath: helperScript, node: process.execPath, wrapper: rights.wrapper(lab.nsA) }, send });
    await assert.rejects(manager.start(1, { interfaces: [lab.ifA], filter: '', snaplen: 65535, promiscuous: true }), (e: Error) => {
      assert.match(e.message, /^Packet capture is not permitted: the capture process lacks CAP_NET_RAW and CAP_NET_ADMIN; /);
      assert.ok(!e.message.includes('\n'), 'one line');
      // Exactly two code spans, which the app shows as two copyable commands: grant, then revoke.
      const spans = [...e.message.matchAll(/`([^`]+)`/g)].map((m) => m[1]!);
      assert.equal(spans.length, 2);
      const [grant, revoke] = spans as [string, string];
      assert.deepEqual(grant.split(' && '), [
        `sudo groupadd -f ${CAPTURE_GROUP}`,
        'sudo install -d -o root -g root -m 0755 /usr/local/lib/tandem',
        `sudo install -o root -g ${CAPTURE_GROUP} -m 0750 ${run('readlink', ['-f', process.execPath]).trim()} ${CAPTURE_RUNTIME}`,
        `sudo setcap cap_net_raw,cap_net_admin=eip ${CAPTURE_RUNTIME}`,
        // The helper ran as the test user, so the group membership is for that user.
        `sudo usermod -aG ${CAPTURE_GROUP} ${rights.user}`,
      ]);
      assert.equal(revoke, `sudo rm -f ${CAPTURE_RUNTIME} && sudo rmdir /usr/local/lib/tandem && sudo groupdel ${CAPTURE_GROUP}`);
      assert.match(e.message, /log out and back in/);
      assert.doesNotMatch(e.message, /setcap [^`]*\/usr\/bin\/node/, 'the shared node is never the target');
      return true;
    });
    assert.deepEqual(events, []);
  } finally {
    lab.cleanup();
    rights.cleanup();
  }
});

test('NODE_OPTIONS and NODE_PATH do not reach a capability-bearing runtime, but its command line does', { skip: skip ?? false, timeout: 60_000 }, (t) => {
  const rights = setUpRights();
  try {
    const marker = join(rights.dir, 'spool', 'ran');
    const evil = join(rights.dir, 'evil.js');
    writeFileSync(evil, `require('fs').writeFileSync(${JSON.stringify(marker)}, 'x');\n`);
    mkdirSync(join(rights.dir, 'np', 'evilmod'), { recursive: true });
    writeFileSync(join(rights.dir, 'np', 'evilmod', 'index.js'), `require('fs').writeFileSync(${JSON.stringify(marker)}, 'x');\n`);
    execFileSync('chmod', ['-R', 'a+rX', evil, join(rights.dir, 'np')]);
    const main = `${CAPS_PROBE}; try { require('evilmod'); console.log('NODE_PATH honoured'); } catch { console.log('NODE_PATH ignored'); }`;
    const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', NODE_OPTIONS: `--require=${evil}`, NODE_PATH: join(rights.dir, 'np') };

    // Control: plain Node honours both (so the probe itself works).
    const plain = rights.as([process.execPath, '-e', main], { env });
    assert.equal(plain.status, 0, plain.stderr);
    assert.match(plain.stdout, /NODE_PATH honoured/);
    assert.ok(existsSync(marker), 'plain node ran the NODE_OPTIONS script');
    rmSync(marker);

    // The capability-bearing copy runs AT_SECURE: Node ignores both variables.
    const secure = rights.as([rights.runtime, '-e', main], { env });
    assert.equal(secure.status, 0, secure.stderr);
    if ((capEff(secure.stdout) & NET_BITS) !== NET_BITS) { t.skip('file capabilities have no effect here (nosuid mount?)'); return; }
    assert.match(secure.stdout, /NODE_PATH ignored/);
    assert.equal(existsSync(marker), false, 'NODE_OPTIONS was ignored under AT_SECURE');

    // The honest limit: the command line is the caller's, so a group member can run any code with the rights.
    const direct = rights.as([rights.runtime, `--require=${evil}`, '-e', CAPS_PROBE], { env: { PATH: env.PATH } });
    assert.equal(direct.status, 0, direct.stderr);
    assert.ok(existsSync(marker), 'a --require on the command line runs');
    assert.equal(capEff(direct.stdout) & NET_BITS, NET_BITS, '...and holds the capture capabilities');
  } finally {
    rights.cleanup();
  }
});

test('the launcher drops NODE_OPTIONS and friends before starting the helper, and the helper takes only its options', { skip: skip ?? false, timeout: 60_000 }, async () => {
  const lab = createLab();
  const saved = { ...process.env };
  try {
    const marker = join(lab.dir, 'ran');
    const evil = join(lab.dir, 'evil.cjs');
    writeFileSync(evil, `require('fs').writeFileSync(${JSON.stringify(marker)}, 'x');\n`);
    assert.deepEqual(Object.keys(captureRuntimeEnv({ NODE_OPTIONS: 'x', NODE_PATH: 'x', LD_PRELOAD: 'x', ELECTRON_NO_ASAR: '1', OPENSSL_CONF: 'x', PATH: '/bin', LANG: 'C' })), ['PATH', 'LANG']);
    // Root's plain Node does not run AT_SECURE: only the launcher stands between NODE_OPTIONS and the helper here.
    process.env.NODE_OPTIONS = `--require=${evil}`;
    process.env.LD_PRELOAD = join(lab.dir, 'missing.so');
    const h = new CaptureHelper({ interfaces: [lab.ifA], filter: 'udp port 5572', spoolPath: join(lab.dir, 'c.pcapng'), maxPackets: 5 }, {},
      { helperPath: helperScript, wrapper: ['ip', 'netns', 'exec', lab.nsA] });
    // The helper is spawned by now; the rest of the test (the UDP sender too) runs with a clean environment.
    for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
    for (let i = 0; i < 100 && !h.interfaces.length; i++) await sleep(20);
    await lab.sendUdp(lab.nsB, lab.addrA, 5572, 5, 1);
    const summary = await h.done;
    assert.equal(summary.packets, 5);
    assert.equal(existsSync(marker), false, 'NODE_OPTIONS from our environment did not reach the helper');

    // Options with anything but the known fields are refused before anything is opened.
    const odd = new CaptureHelper({ interfaces: [lab.ifA], spoolPath: join(lab.dir, 'd.pcapng'), require: evil } as never, {},
      { helperPath: helperScript, wrapper: ['ip', 'netns', 'exec', lab.nsA] });
    await assert.rejects(odd.done, (e: Error) => {
      assert.ok(e instanceof CaptureError);
      assert.equal(e.kind, 'options');
      assert.match(e.message, /refused its options: unknown option "require"/);
      return true;
    });
    const extra = spawnSync(process.execPath, ['--import', 'tsx', helperScript, '--list', '--require'], { cwd: repoRoot, encoding: 'buffer' });
    assert.equal(extra.status, 1);
    assert.match(extra.stdout.toString('latin1'), /takes nothing after --list/);
    assert.equal(existsSync(marker), false);
  } finally {
    for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
    Object.assign(process.env, saved);
    lab.cleanup();
  }
});

test('a dedicated runtime that is missing, not root\'s or writable by others is never used', { skip: skip ?? false }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'tdmrt-'));
  try {
    chmodSync(dir, 0o755);
    const file = join(dir, 'capture-node');
    assert.equal(dedicatedRuntime(file), undefined, 'missing');
    copyFileSync(process.execPath, file);
    chmodSync(file, 0o750);
    assert.equal(dedicatedRuntime(file), file);
    assert.equal(dedicatedRuntime('relative/capture-node'), undefined);
    chmodSync(file, 0o770);
    assert.equal(dedicatedRuntime(file), undefined, 'group-writable');
    chmodSync(file, 0o750);
    chownSync(file, 65534, 0);
    assert.equal(dedicatedRuntime(file), undefined, 'not owned by root');
    chownSync(file, 0, 0);
    chmodSync(dir, 0o777);
    assert.equal(dedicatedRuntime(file), undefined, 'in a directory others may write');
    chmodSync(dir, 0o755);
    assert.equal(findHelperNode({ PATH: '' }, file), file);
    // The printed steps put setcap after every ownership change (chown clears file capabilities).
    const { grant } = setupSteps();
    assert.ok(grant.findIndex((s) => s.includes('setcap')) > grant.findIndex((s) => s.includes(`install -o root -g ${CAPTURE_GROUP}`)));
    assert.equal(fixCommands().grant, grant.join(' && '));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the CLI starts itself again on the capture runtime when it lacks the rights, as an unprivileged user', { skip: skip ?? false, timeout: 60_000 }, async (t) => {
  const rights = setUpRights();
  const lab = createLab();
  try {
    if ((capEff(rights.as([rights.runtime, '-e', CAPS_PROBE]).stdout) & NET_BITS) !== NET_BITS) { t.skip('file capabilities have no effect here'); return; }
    const out = join(rights.dir, 'spool', 'cli.pcapng');
    const run = (env: NodeJS.ProcessEnv) => new Promise<{ code: number | null; err: string }>((resolve) => {
      const words = [...rights.wrapper(lab.nsA), process.execPath, '--import', 'tsx', cliScript, '-i', lab.ifA, '-w', out, '-c', '40', 'udp', 'port', '5573'];
      const p = spawn(words[0]!, words.slice(1), { cwd: repoRoot, env, stdio: ['ignore', 'ignore', 'pipe'] });
      let err = '';
      p.stderr.on('data', (d) => { err += d; });
      p.on('close', (code) => resolve({ code, err }));
      void (async () => {
        for (let i = 0; i < 200 && !/capturing on|error:/.test(err); i++) await sleep(50);
        if (/capturing on/.test(err)) await lab.sendUdp(lab.nsB, lab.addrA, 5573, 40, 1);
      })();
    });
    // No runtime to move to: the in-process capture refuses with the setup sentence.
    const refused = await run({ ...captureRuntimeEnv(), TANDEM_CAPTURE_NODE: join(rights.dir, 'missing') });
    assert.equal(refused.code, 1, refused.err);
    assert.match(refused.err, /^error: Packet capture is not permitted: the capture process lacks CAP_NET_RAW and CAP_NET_ADMIN; .*sudo setcap cap_net_raw,cap_net_admin=eip \/usr\/local\/lib\/tandem\/capture-node/m);
    // With it (TANDEM_CAPTURE_NODE stands in for the fixed path here), the same command captures.
    const ok = await run({ ...captureRuntimeEnv(), TANDEM_CAPTURE_NODE: rights.runtime });
    assert.equal(ok.code, 0, ok.err);
    assert.match(ok.err, /40 packets captured/);
    assert.equal(statSync(out).uid, rights.uid);
    assert.equal((await readBack(readFileSync(out))).frames.length, 40);
  } finally {
    lab.cleanup();
    rights.cleanup();
  }
});

test('tandem capture --setup-privileges prints the grant steps and, commented out, the revoke steps', () => {
  assert.equal(parseCaptureArgs(['--setup-privileges']).setupPrivileges, true);
  const text = setupPrivilegesText();
  const { grant, revoke } = setupSteps();
  const lines = text.trimEnd().split('\n');
  // The only uncommented lines are the grant commands, in order: the output is a script one can read first.
  assert.deepEqual(lines.filter((l) => !l.startsWith('#')), grant);
  for (const r of revoke) assert.ok(lines.includes(`#   ${r}`), r);
  assert.match(text, /log out and back in/);
  assert.match(text, /can run any script with those rights/);
});
