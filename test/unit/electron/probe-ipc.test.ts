// "Run a test" on the main-process side: the IPC validators of probe.start / probe.cancel /
// probe.file, the ProbeManager's folder and file allowlist, and the whole request → runProbe path
// against a real probe: two network namespaces joined by a veth with a WireGuard tunnel, Debian's
// sshd in B and a TCP listener behind B's tunnel address (test/unit/probe/lab.ts). Host A is "this
// machine", so that part runs in a child Node inside namespace A (this same file in driver mode)
// and reports what crossed the IPC boundary as JSON lines.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  isIpv4Address,
  isIpv6Address,
  PROBE_STEP_NAMES,
  validateProbeFileName,
  validateProbeId,
  validateProbeStart,
  validators,
  IpcValidationError,
  type ProbeEvent,
  type ProbeStartRequest,
} from '../../../shared/ipc/contract.ts';
import { dispatch, type Handlers } from '../../../electron/main/ipc-dispatch.ts';
import { deliverProbeEvent, destinationOf, fileNameIn, outcomeOf, ProbeManager, probeOptionsFor, type ProbeRunner } from '../../../electron/main/probe.ts';
import type { ProbeOptions, ProbeResult } from '../../../electron/probe/types.ts';

const SELF = fileURLToPath(import.meta.url);
const REPO = fileURLToPath(new URL('../../../', import.meta.url));
const TRUSTED = { url: 'app://tandem/index.html', topLevel: true };

interface Ctx { owner: number }

/** The three probe handlers exactly as electron/main/handlers.ts wires them, behind the real gate. */
function probeHandlers(m: ProbeManager): Handlers<Ctx> {
  return {
    'probe.start': (ctx: Ctx, req: ProbeStartRequest) => m.start(ctx.owner, req),
    'probe.cancel': (ctx: Ctx, id: string) => m.cancel(ctx.owner, id),
    'probe.file': (ctx: Ctx, id: string, name: string) => m.readFile(ctx.owner, id, name),
  } as unknown as Handlers<Ctx>;
}

const GOOD: ProbeStartRequest = {
  a: { kind: 'local', sudo: false },
  b: { kind: 'ssh', host: 'gw-b.example', user: 'ops', port: 2222, sudo: true },
  identityFile: '/home/ops/.ssh/id_ed25519',
  target: '192.168.200.22',
  test: 'tcp',
  port: 80,
  snaplen: 256,
  settleSec: 3,
};

function refused(v: unknown, pattern: RegExp): void {
  assert.throws(() => validateProbeStart(v), (e: unknown) => e instanceof IpcValidationError && pattern.test(e.message), `expected ${pattern} for ${JSON.stringify(v)}`);
}

if (process.env.P4_PROBE_DRIVER) {
  await driver(JSON.parse(process.env.P4_PROBE_DRIVER) as DriverJob);
} else {
  test('probe.start: a full request passes unchanged; every field is checked like the far-end capture', () => {
    assert.deepEqual(validateProbeStart(structuredClone(GOOD)), GOOD);
    assert.deepEqual(validateProbeStart({ a: { kind: 'ssh', host: 'fe80::1', sudo: false }, b: { kind: 'ssh', host: 'b', sudo: false }, target: '2001:db8::22', test: 'ping' }),
      { a: { kind: 'ssh', host: 'fe80::1', sudo: false }, b: { kind: 'ssh', host: 'b', sudo: false }, target: '2001:db8::22', test: 'ping' });
    refused(null, /request must be an object/);
    refused([], /request must be an object/);
    refused({ ...GOOD, outDir: '/tmp/x' }, /unexpected field "outDir"/);
    refused({ ...GOOD, b: { kind: 'local', sudo: false } }, /b must be a host over SSH/);
    refused({ ...GOOD, a: { kind: 'agent', sudo: false } }, /a\.kind must be "local" or "ssh"/);
    refused({ ...GOOD, a: { kind: 'local', sudo: false, host: 'x' } }, /unexpected field "host"/);
    refused({ ...GOOD, a: { kind: 'local' } }, /a\.sudo must be a boolean/);
    refused({ ...GOOD, b: { ...GOOD.b, host: '-oProxyCommand=touch /tmp/pwned' } }, /b\.host must not start with "-"/);
    refused({ ...GOOD, b: { ...GOOD.b, host: 'gw`id`' } }, /b\.host is not a host name or IP address/);
    refused({ ...GOOD, b: { ...GOOD.b, host: 'gw b' } }, /b\.host is not a host name/);
    refused({ ...GOOD, b: { ...GOOD.b, user: 'ops;id' } }, /b\.user must be a user name/);
    refused({ ...GOOD, b: { ...GOOD.b, user: '-l' } }, /b\.user must be a user name/);
    refused({ ...GOOD, b: { ...GOOD.b, port: 0 } }, /b\.port must be a whole number from 1 to 65535/);
    refused({ ...GOOD, b: { ...GOOD.b, port: '22' } }, /b\.port must be a whole number/);
    refused({ ...GOOD, identityFile: 'id_ed25519' }, /identityFile must be an absolute path/);
    refused({ ...GOOD, identityFile: '/home/ops/../root/.ssh/id' }, /must not contain "\.\." segments/);
    refused({ ...GOOD, identityFile: '/home/ops/.ssh/id\n-oProxyCommand=x' }, /must not contain control characters/);
    refused({ ...GOOD, test: 'dns' }, /test must be one of tcp, http, ping, udp/);
    refused({ ...GOOD, port: undefined }, /port must be a whole number from 1 to 65535/);
    refused({ ...GOOD, port: 65536 }, /port must be a whole number/);
    refused({ ...GOOD, test: 'ping', port: 80 }, /port is not used by a ping test/);
    refused({ ...GOOD, snaplen: 63 }, /snaplen must be from 64 to 262144/);
    refused({ ...GOOD, snaplen: 262145 }, /snaplen must be a whole number/);
    refused({ ...GOOD, settleSec: 0 }, /settleSec must be a whole number from 1 to 120/);
    refused({ ...GOOD, settleSec: 1.5 }, /settleSec must be a whole number/);
    // The target becomes an argument of the test command on A: an address and nothing else.
    for (const t of ['gw.example', '192.168.200.22; reboot', '$(reboot)', '192.168.200.022', '192.168.200', '256.1.1.1', 'fe80::1%eth0', '1::2::3', ' 10.0.0.1', '', 7]) {
      refused({ ...GOOD, target: t }, /target must be an IPv4 or IPv6 address/);
    }
  });

  test('address checks: the forms an engineer types, and their near misses', () => {
    for (const s of ['0.0.0.0', '10.0.0.1', '255.255.255.255']) assert.equal(isIpv4Address(s), true, s);
    for (const s of ['1.2.3', '1.2.3.4.5', '01.2.3.4', '1.2.3.256', '1.2.3.-4', '1.2.3.4 ', 'a.b.c.d', '1..3.4']) assert.equal(isIpv4Address(s), false, s);
    for (const s of ['::', '::1', '2001:db8::', '2001:db8::22', '1:2:3:4:5:6:7:8', '::ffff:192.0.2.1', '1:2:3:4:5:6:1.2.3.4', 'FE80::A']) assert.equal(isIpv6Address(s), true, s);
    for (const s of ['1:2:3:4:5:6:7:8:9', '1:2:3:4:5:6:7', '1::2::3', ':1', '1:', '12345::1', '1:2:3:4:5:6:7:1.2.3.4', '::1.2.3', 'fe80::1%eth0', '[::1]', 'g::1']) assert.equal(isIpv6Address(s), false, s);
  });

  test('probe.cancel and probe.file: ids and names that could reach the file system are refused', () => {
    assert.equal(validateProbeId('0b8f3c1e-5d2a-4c11-9e7b-2f1d0c9a8b7e'), '0b8f3c1e-5d2a-4c11-9e7b-2f1d0c9a8b7e');
    for (const id of ['', '../x', 'a/b', 'x'.repeat(65), 3]) assert.throws(() => validateProbeId(id), IpcValidationError);
    for (const n of ['A/capture.pcapng', 'B/before-nft.txt', 'probe.json', 'A/ip-o-link.txt']) assert.equal(validateProbeFileName(n), n);
    for (const n of ['', '../etc/passwd', 'A/../../etc/passwd', '/etc/passwd', 'A/B/c.txt', '.hidden', 'A/.', 'A/..', 'A\\x', 'A/x\u0000', 'A/ x', 'A//x', 5]) {
      assert.throws(() => validateProbeFileName(n), IpcValidationError, String(n));
    }
    assert.throws(() => validators['probe.file'](['id']), /expected 2 argument/);
    assert.throws(() => validators['probe.cancel']([]), /expected 1 argument/);
    assert.throws(() => validators['probe.start']([GOOD, GOOD]), /expected 1 argument/);
  });

  test('request → engine options: destinations as the engine parses them, the folder, the settle time in ms', () => {
    assert.equal(destinationOf({ host: 'gw-b.example', user: 'ops', port: 2222 }), 'ops@gw-b.example:2222');
    assert.equal(destinationOf({ host: '2001:db8::2' }), '[2001:db8::2]');
    assert.equal(destinationOf({ host: '2001:db8::2', user: 'root', port: 22 }), 'root@[2001:db8::2]:22');
    const o = probeOptionsFor(GOOD, '/tmp/tandem-probe-x', { ssh: { knownHostsFile: '/tmp/kh', connectTimeoutSec: 4 }, testTimeoutSec: 9 });
    assert.deepEqual(o, {
      a: { kind: 'local', sudo: false },
      b: { kind: 'ssh', destination: 'ops@gw-b.example:2222', identityFile: '/home/ops/.ssh/id_ed25519', knownHostsFile: '/tmp/kh', sudo: true },
      target: '192.168.200.22', test: 'tcp', port: 80, outDir: '/tmp/tandem-probe-x', snaplen: 256, settleMs: 3000, connectTimeoutSec: 4, testTimeoutSec: 9,
    });
  });

  test('the end as the renderer sees it: names inside the folder only, one-line texts, no analysis or paths', () => {
    const dir = '/tmp/tandem-probe-abc';
    assert.equal(fileNameIn(dir, `${dir}/A/capture.pcapng`), 'A/capture.pcapng');
    assert.equal(fileNameIn(dir, 'B/wg-dump.txt'), 'B/wg-dump.txt');
    assert.equal(fileNameIn(dir, '/etc/passwd'), '');
    assert.equal(fileNameIn(dir, `${dir}/A/../../etc/passwd`), '');
    assert.equal(fileNameIn(dir, `${dir}/A/deep/er.txt`), '');
    const r: ProbeResult = {
      outDir: dir,
      files: { A: { capture: `${dir}/A/capture.pcapng`, links: `${dir}/A/ip-o-link.txt`, evidence: [`${dir}/A/wg-dump.txt`, '/root/.ssh/id_ed25519'] }, B: { capture: '', links: '', evidence: [] } },
      test: { command: 'nc -z -w 10 192.168.200.22 80', exitCode: 1, ok: false, output: 'refused\u001b[31m\nsecond line' },
      failed: { step: 'test', host: 'A', message: 'the connection was refused\u202e\nand more' },
      analysis: { verdict: { status: 'fail' } } as unknown as ProbeResult['analysis'],
    };
    const o = outcomeOf(dir, r);
    assert.deepEqual(o.files, { A: { capture: 'A/capture.pcapng', links: 'A/ip-o-link.txt', evidence: ['A/wg-dump.txt'] }, B: { capture: '', links: '', evidence: [] } });
    assert.equal(o.failed?.message, 'the connection was refused\\u202e');
    assert.equal(o.test?.output, 'refused\\x1b[31m\nsecond line');
    assert.equal('analysis' in o || 'outDir' in o, false);
    assert.equal(JSON.stringify(o).includes(dir), false);
  });

  test('ProbeManager: one test at a time, only its window may cancel or read, only listed files inside its folder', async (t) => {
    const root = mkdtempSync(path.join(tmpdir(), 'p4-probe-'));
    t.after(() => rmSync(root, { recursive: true, force: true }));
    const secret = path.join(root, 'secret.txt');
    writeFileSync(secret, 'not for the renderer');
    const sent: Array<{ owner: number; ev: ProbeEvent }> = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => { release = r; });
    // Planted files: what an engine might leave behind, including a symlink out of the folder.
    const run: ProbeRunner = async (o: ProbeOptions, hooks) => {
      const A = path.join(o.outDir, 'A');
      mkdirSync(A);
      writeFileSync(path.join(A, 'capture.pcap'), Buffer.from([0xd4, 0xc3, 0xb2, 0xa1, 1, 2, 3]));
      writeFileSync(path.join(A, 'sysctl.txt'), 'net.ipv4.ip_forward = 1\n');
      writeFileSync(path.join(A, 'unlisted.txt'), 'x');
      symlinkSync(secret, path.join(A, 'link.txt'));
      mkdirSync(path.join(A, 'dir.txt'));
      hooks.onProgress?.({ step: 'connect', host: 'A', state: 'running', detail: 'this host\u001b]0;title\u0007' });
      await gate;
      hooks.onProgress?.({ step: 'connect', host: 'A', state: 'done' });
      return { outDir: o.outDir, files: { A: { capture: path.join(A, 'capture.pcap'), links: '', evidence: [path.join(A, 'sysctl.txt'), path.join(A, 'link.txt'), path.join(A, 'dir.txt')] }, B: { capture: '', links: '', evidence: [] } } };
    };
    const m = new ProbeManager({ run, send: (owner, ev) => sent.push({ owner, ev }), tempRoot: root });
    const h = probeHandlers(m);
    const call = (op: 'probe.start' | 'probe.cancel' | 'probe.file', owner: number, ...args: unknown[]) => dispatch(op, TRUSTED, args, h, { owner });

    const started = await call('probe.start', 1, GOOD);
    assert.equal(started.ok, true);
    const id = (started as { value: { probeId: string } }).value.probeId;
    assert.match(id, /^[0-9a-f-]{36}$/);
    // A second test while one runs is refused, from any window.
    assert.deepEqual(await call('probe.start', 2, GOOD), { ok: false, error: 'A test is already running; cancel it or wait for it to end first.' });
    // Untrusted senders and other windows get nothing.
    assert.equal((await dispatch('probe.start', { url: 'https://evil.example/', topLevel: true }, [GOOD], h, { owner: 1 })).ok, false);
    assert.deepEqual(await call('probe.cancel', 2, id), { ok: false, error: 'That test was not started in this window.' });
    assert.deepEqual(await call('probe.file', 1, id, 'A/capture.pcap'), { ok: false, error: 'The test has not ended yet.' });
    release();
    await m.settled(id);
    assert.deepEqual(sent.map((s) => [s.owner, s.ev.type]), [[1, 'progress'], [1, 'progress'], [1, 'end']]);
    const first = sent[0]!.ev;
    assert.equal(first.type === 'progress' && first.progress.detail, 'this host\\x1b]0;title\\x07');
    const end = sent[2]!.ev;
    assert.ok(end.type === 'end');
    assert.deepEqual(end.outcome.files.A, { capture: 'A/capture.pcap', links: '', evidence: ['A/sysctl.txt', 'A/link.txt', 'A/dir.txt'] });

    const bytes = await call('probe.file', 1, id, 'A/capture.pcap');
    assert.ok(bytes.ok);
    assert.deepEqual([...(bytes as { value: Uint8Array }).value], [0xd4, 0xc3, 0xb2, 0xa1, 1, 2, 3]);
    assert.equal((bytes as { value: Uint8Array }).value.buffer.byteLength, 7, 'exactly the file crosses IPC, not a pooled buffer');
    assert.deepEqual(await call('probe.file', 2, id, 'A/capture.pcap'), { ok: false, error: 'That test was not started in this window.' });
    assert.deepEqual(await call('probe.file', 1, id, 'A/unlisted.txt'), { ok: false, error: 'The test did not collect a file named "A/unlisted.txt".' });
    assert.deepEqual(await call('probe.file', 1, id, 'A/link.txt'), { ok: false, error: 'A/link.txt is not inside the test\'s folder.' });
    assert.deepEqual(await call('probe.file', 1, id, 'A/dir.txt'), { ok: false, error: 'A/dir.txt is not a regular file.' });
    assert.match((await call('probe.file', 1, id, '../secret.txt') as { error: string }).error, /^Invalid request: probe\.file: name is not a file of the test/);
    // Cancelling an ended test is harmless; a new test removes the old one's folder.
    assert.deepEqual(await call('probe.cancel', 1, id), { ok: true, value: undefined });
    const dirs = () => readdirSync(root).filter((n) => n.startsWith('tandem-probe-'));
    assert.equal(dirs().length, 1);
    const again = await call('probe.start', 1, GOOD);
    assert.ok(again.ok);
    release();
    await m.settled((again as { value: { probeId: string } }).value.probeId);
    assert.equal(dirs().length, 1);
    assert.deepEqual(await call('probe.file', 1, id, 'A/capture.pcap'), { ok: false, error: 'That test was not started in this window.' });
    // Two starts in the same tick (a double click) make one test.
    const both = await Promise.all([call('probe.start', 1, GOOD), call('probe.start', 1, GOOD)]);
    assert.deepEqual(both.map((r) => r.ok), [true, false]);
    release();
    await m.settled((both[0] as { value: { probeId: string } }).value.probeId);
    await m.disposeAll();
    assert.deepEqual(dirs(), []);
    assert.equal(readFileSync(secret, 'utf8'), 'not for the renderer');
  });

  test('ProbeManager: the engine refuses options before a folder exists; a closed window cancels and cleans up', async (t) => {
    const root = mkdtempSync(path.join(tmpdir(), 'p4-probe-'));
    t.after(() => rmSync(root, { recursive: true, force: true }));
    const sent: ProbeEvent[] = [];
    let aborted = false;
    let gone: (() => void) | undefined;
    let unwatched = 0;
    const run: ProbeRunner = (o, hooks) => new Promise((resolve) => {
      hooks.signal?.addEventListener('abort', () => {
        aborted = true;
        resolve({ outDir: o.outDir, files: { A: { capture: '', links: '', evidence: [] }, B: { capture: '', links: '', evidence: [] } }, cancelled: true });
      });
    });
    const m = new ProbeManager({
      run,
      check: (o) => {
        if (o.target === '192.0.2.99') throw new Error('the target must be an IPv4 or IPv6 address (got "x\u001b[2J")\nsecond line');
      },
      send: (_o, ev) => sent.push(ev),
      tempRoot: root,
      watchOwner: (_owner, g) => {
        gone = g;
        return () => { unwatched++; };
      },
    });
    await assert.rejects(m.start(1, { ...GOOD, target: '192.0.2.99' }), { message: 'the target must be an IPv4 or IPv6 address (got "x\\x1b[2J")' });
    assert.deepEqual(readdirSync(root), []);
    const { probeId } = await m.start(1, GOOD);
    assert.equal(readdirSync(root).length, 1);
    gone!();
    await m.settled(probeId);
    assert.equal(aborted, true);
    assert.equal(unwatched, 1);
    // Nobody is left to tell: no event goes out, and the folder is removed.
    assert.equal(sent.length, 0);
    await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(readdirSync(root), []);
    assert.equal(m.current(), undefined);
    // An engine that throws instead of answering still ends the test, naming the step it was in.
    const thrower = new ProbeManager({
      run: async (_o, hooks) => {
        hooks.onProgress?.({ step: 'capture-start', host: 'B', state: 'running' });
        throw new Error('spawn tcpdump ENOENT\n    at stack line');
      },
      send: (_o, ev) => sent.push(ev),
      tempRoot: root,
    });
    const r2 = await thrower.start(3, GOOD);
    await thrower.settled(r2.probeId);
    const end = sent.at(-1)!;
    assert.ok(end.type === 'end');
    assert.deepEqual(end.outcome.failed, { step: 'capture-start', host: 'B', message: 'spawn tcpdump ENOENT' });
    await thrower.disposeAll();
  });

  test('probe events go only to a live window that still shows our page', () => {
    const got: string[] = [];
    const target = (url: string, destroyed = false) => ({ isDestroyed: () => destroyed, getURL: () => url, send: (ch: string) => got.push(ch) });
    const ev: ProbeEvent = { type: 'progress', probeId: 'p', progress: { step: 'connect', state: 'running' } };
    assert.equal(deliverProbeEvent(target('app://tandem/index.html'), ev), true);
    assert.equal(deliverProbeEvent(target('https://evil.example/'), ev), false);
    assert.equal(deliverProbeEvent(target('app://tandem/index.html', true), ev), false);
    assert.equal(deliverProbeEvent(undefined, ev), false);
    assert.deepEqual(got, ['tandem:event:probe']);
  });

  test('the form (renderer): what the user types becomes exactly the request main accepts, or one line per field', async () => {
    const { DEFAULT_PROBE_FORM, flowOf, probeRequest, testLabel } = await import('../../../renderer/src/features/probe/probe-form.ts');
    const form = { ...DEFAULT_PROBE_FORM, b: ' ops@gw-b.example:2222 ', bSudo: true, identityFile: '/home/ops/.ssh/id_ed25519', target: '192.168.200.22', port: '80', settle: '3' };
    const ok = probeRequest(form);
    assert.ok('request' in ok, JSON.stringify(ok));
    assert.deepEqual(ok.request, { ...GOOD, a: { kind: 'local', sudo: false } });
    // Whatever the form lets through, main's validator accepts unchanged.
    assert.deepEqual(validateProbeStart(structuredClone(ok.request)), ok.request);
    const v6 = probeRequest({ ...form, aKind: 'ssh', a: 'root@[2001:db8::1]:22', b: '2001:db8::2', identityFile: '', target: '2001:DB8::22', test: 'udp', port: '53' });
    assert.ok('request' in v6);
    assert.deepEqual(v6.request.a, { kind: 'ssh', host: '2001:db8::1', user: 'root', port: 22, sudo: false });
    assert.deepEqual(v6.request.b, { kind: 'ssh', host: '2001:db8::2', sudo: true });
    assert.equal('identityFile' in v6.request, false);
    assert.deepEqual(validateProbeStart(structuredClone(v6.request)), v6.request);
    assert.equal(flowOf(v6.request), 'udp [2001:db8::22]:53');
    assert.equal(testLabel(v6.request), 'UDP datagram to [2001:DB8::22]:53');
    assert.equal(flowOf({ test: 'ping', target: '10.0.0.2' }), 'icmp 10.0.0.2');
    assert.equal(flowOf({ test: 'http', target: '10.0.0.2', port: 8080 }), 'tcp 10.0.0.2:8080');
    const ping = probeRequest({ ...form, test: 'ping', port: 'not used' });
    assert.ok('request' in ping);
    assert.equal('port' in ping.request, false);
    const bad = probeRequest({ ...form, aKind: 'ssh', a: '', b: '-oProxyCommand=x', identityFile: 'key', target: '10.0.0.1 ', port: '0', snaplen: '63', settle: '121' });
    assert.ok('problems' in bad);
    assert.deepEqual(Object.keys(bad.problems).sort(), ['a', 'b', 'identityFile', 'port', 'settle', 'snaplen']);
    // The target is trimmed, as typed into a text field; inner spaces or a command are not.
    for (const t of ['10.0.0.1 2', '10.0.0.1;id', 'host.example', '']) {
      const r = probeRequest({ ...form, target: t });
      assert.ok('problems' in r && r.problems.target, t);
    }
    for (const text of Object.values(bad.problems)) assert.equal(text!.includes('\n'), false);
  });

  test('the step rows (renderer): per host, worst state wins, order fixed by the engine', async () => {
    const { applyProgress, emptySteps } = await import('../../../renderer/src/features/probe/steps.ts');
    let rows = emptySteps();
    assert.deepEqual(rows.map((r) => r.step), [...PROBE_STEP_NAMES]);
    const step = (s: string) => rows.find((r) => r.step === s)!;
    rows = applyProgress(rows, { step: 'connect', host: 'A', state: 'running' });
    rows = applyProgress(rows, { step: 'connect', host: 'B', state: 'running' });
    rows = applyProgress(rows, { step: 'connect', host: 'A', state: 'done', detail: 'this host' });
    assert.equal(step('connect').state, 'running');
    rows = applyProgress(rows, { step: 'connect', host: 'B', state: 'done' });
    assert.equal(step('connect').state, 'done');
    assert.equal(step('connect').detail, 'this host');
    rows = applyProgress(rows, { step: 'evidence-before', host: 'A', state: 'skipped' });
    assert.equal(step('evidence-before').state, 'skipped');
    rows = applyProgress(rows, { step: 'evidence-before', host: 'B', state: 'done' });
    assert.equal(step('evidence-before').state, 'done');
    rows = applyProgress(rows, { step: 'capture-start', host: 'B', state: 'failed', detail: 'no tcpdump' });
    rows = applyProgress(rows, { step: 'capture-start', host: 'A', state: 'done' });
    assert.equal(step('capture-start').state, 'failed');
    assert.deepEqual(step('capture-start').hosts, { B: { state: 'failed', detail: 'no tcpdump' }, A: { state: 'done' } });
    rows = applyProgress(rows, { step: 'settle', state: 'running' });
    rows = applyProgress(rows, { step: 'settle', state: 'done' });
    assert.equal(step('settle').state, 'done');
    assert.deepEqual(step('settle').hosts, {});
    assert.deepEqual(rows.map((r) => r.state), ['done', 'done', 'failed', 'pending', 'done', 'pending', 'pending', 'pending']);
  });

  labTests();
}

// ---------------------------------------------------------------------------------------------
// The real probe.

interface DriverJob {
  req: ProbeStartRequest;
  knownHosts: string;
  tempRoot: string;
  /** Cancel once this step is done on every host that reports it. */
  cancelAfter?: string;
  /** Where fetched files are copied for the parent to read. */
  copyTo: string;
}

function out(o: unknown): void {
  process.stdout.write(`${JSON.stringify(o)}\n`);
}

async function driver(job: DriverJob): Promise<void> {
  const { runProbe } = await import('../../../electron/probe/index.ts');
  const { checkOptions } = await import('../../../electron/probe/script.ts');
  let onEnd!: (ev: Extract<ProbeEvent, { type: 'end' }>) => void;
  const ended = new Promise<Extract<ProbeEvent, { type: 'end' }>>((r) => { onEnd = r; });
  let probeId = '';
  const doneHosts = new Set<string>();
  const m: ProbeManager = new ProbeManager({
    // The engine's own verdict is not for the renderer; it is printed here so tests can compare the app's with it.
    run: async (o, hooks) => {
      const r = await runProbe(o, hooks);
      const a = r.analysis;
      if (a) out({ engine: { status: a.verdict.status, class: a.verdict.class, host: a.verdict.host, first_missing: a.verdict.first_missing, rules: a.findings.map((f) => f.rule ?? '') } });
      return r;
    },
    check: checkOptions,
    tempRoot: job.tempRoot,
    ssh: { knownHostsFile: job.knownHosts, connectTimeoutSec: 5 },
    send: (owner, ev) => {
      out({ owner, ev });
      if (ev.type === 'end') onEnd(ev);
      if (job.cancelAfter && ev.type === 'progress' && ev.progress.step === job.cancelAfter && ev.progress.state === 'done') {
        doneHosts.add(ev.progress.host ?? '');
        if (doneHosts.size === 2) void dispatch('probe.cancel', TRUSTED, [probeId], probeHandlers(m), { owner: 7 }).then((r) => out({ cancel: r }));
      }
    },
  });
  const h = probeHandlers(m);
  const started = await dispatch('probe.start', TRUSTED, [job.req], h, { owner: 7 });
  out({ started });
  if (!started.ok) return;
  probeId = (started.value as { probeId: string }).probeId;
  const end = await ended;
  const dir = readdirSync(job.tempRoot).find((n) => n.startsWith('tandem-probe-'))!;
  const names = [end.outcome.files.A, end.outcome.files.B].flatMap((f) => [f.capture, f.links, ...f.evidence]).filter(Boolean);
  for (const name of names) {
    const r = await dispatch('probe.file', TRUSTED, [probeId, name], h, { owner: 7 });
    if (!r.ok) {
      out({ file: name, error: r.error });
      continue;
    }
    const bytes = r.value as Uint8Array;
    const disk = readFileSync(path.join(job.tempRoot, dir, ...name.split('/')));
    const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
    mkdirSync(path.join(job.copyTo, path.dirname(name)), { recursive: true });
    writeFileSync(path.join(job.copyTo, name), bytes);
    out({ file: name, size: bytes.byteLength, same: sha(bytes) === sha(disk) });
  }
  // What the renderer might try beyond the list: the engine's own record and another window.
  out({ probeJson: await dispatch('probe.file', TRUSTED, [probeId, 'probe.json'], h, { owner: 7 }), otherWindow: names[0] ? await dispatch('probe.file', TRUSTED, [probeId, names[0]], h, { owner: 8 }) : null });
  await m.disposeAll();
  out({ removed: !existsSync(path.join(job.tempRoot, dir)) });
}

function labTests(): void {
  // Imported lazily: the lab module checks for root, namespaces, sshd and wireguard-go.
  test('the real probe through the IPC path: A here, B over ssh, both captures and the evidence served by name', { timeout: 300_000 }, async (t) => {
    const { labSkip, startProbeLab } = await import('../probe/lab.ts');
    const why = labSkip();
    if (why) {
      t.skip(why);
      return;
    }
    const p = await startProbeLab(8080);
    t.after(() => p.cleanup());
    const base: ProbeStartRequest = {
      a: { kind: 'local', sudo: false },
      b: { kind: 'ssh', host: p.lab.addrB, user: 'root', port: p.sshd.port, sudo: false },
      identityFile: p.sshd.key,
      target: p.wg.innerB,
      test: 'tcp',
      port: p.port,
      settleSec: 1,
    };
    const drive = (req: ProbeStartRequest, extra: Partial<DriverJob> = {}) => new Promise<{ lines: any[]; copyTo: string; stderr: string }>((resolve, reject) => {
      const tempRoot = mkdtempSync(path.join(tmpdir(), 'p4-lab-'));
      const copyTo = mkdtempSync(path.join(tmpdir(), 'p4-copy-'));
      t.after(() => {
        rmSync(tempRoot, { recursive: true, force: true });
        rmSync(copyTo, { recursive: true, force: true });
      });
      const job: DriverJob = { req, knownHosts: p.sshd.knownHosts, tempRoot, copyTo, ...extra };
      const child = spawn('ip', ['netns', 'exec', p.lab.nsA, process.execPath, '--import', 'tsx', SELF], { cwd: REPO, env: { ...process.env, P4_PROBE_DRIVER: JSON.stringify(job) }, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '', stderr = '';
      child.stdout.on('data', (d) => { stdout += d; });
      child.stderr.on('data', (d) => { stderr += d; });
      const timer = setTimeout(() => child.kill('SIGKILL'), 180_000);
      child.on('close', (code) => {
        clearTimeout(timer);
        const lines = stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));
        if (code !== 0) reject(new Error(`driver exited ${code}: ${stderr.slice(-2000)}`));
        else resolve({ lines, copyTo, stderr });
      });
    });
    const endOf = (lines: any[]) => lines.find((l) => l.ev?.type === 'end')?.ev.outcome;
    const progressOf = (lines: any[]) => lines.filter((l) => l.ev?.type === 'progress').map((l) => l.ev.progress);

    await t.test('a healthy run: every step in order, the test succeeds, every listed file is served as it is on disk', async (st) => {
      const { lines, copyTo } = await drive(base);
      const started = lines.find((l) => l.started)?.started;
      assert.equal(started?.ok, true, JSON.stringify(started));
      assert.ok(lines.every((l) => l.owner === undefined || l.owner === 7), 'events go to the starting window only');
      const prog = progressOf(lines);
      const firstSeen = [...new Set(prog.map((q: any) => q.step))];
      assert.deepEqual(firstSeen, PROBE_STEP_NAMES.filter((s) => firstSeen.includes(s)), 'steps are reported in order');
      assert.deepEqual(prog.filter((q: any) => q.state === 'failed'), []);
      const outcome = endOf(lines);
      assert.equal(outcome.failed, undefined, JSON.stringify(outcome.failed));
      assert.equal(outcome.test?.ok, true, JSON.stringify(outcome));
      for (const h of ['A', 'B']) {
        assert.match(outcome.files[h].capture, new RegExp(`^${h}/[\\w.-]+\\.pcap(ng)?$`));
        assert.ok(outcome.files[h].evidence.length > 3, `${h} evidence: ${outcome.files[h].evidence}`);
      }
      const files = lines.filter((l) => l.file);
      assert.ok(files.length > 8);
      for (const f of files) assert.equal(f.same, true, JSON.stringify(f));
      // The served captures are real captures of the test: the SYN to the listener on both ends.
      const { readCapture } = await import('../../../shared/capture-file/reader.ts');
      for (const h of ['A', 'B'] as const) {
        const bytes = new Uint8Array(readFileSync(path.join(copyTo, outcome.files[h].capture)));
        let frames = 0;
        for await (const batch of readCapture(bytes)) frames += batch.frames.length;
        assert.ok(frames >= 3, `${h}: ${frames} frames`);
        st.diagnostic(`${h}: ${frames} frames, ${outcome.files[h].evidence.length} evidence files (${outcome.files[h].evidence.join(' ')})`);
      }
      const tail = lines.at(-2);
      assert.match(tail.probeJson.error, /did not collect a file named "probe\.json"/);
      assert.equal(tail.otherWindow.error, 'That test was not started in this window.');
      assert.equal(lines.at(-1).removed, true);
      // No key material crossed: the wg dump's private key field is blanked before it is served.
      const dump = outcome.files.B.evidence.find((n: string) => /wg-dump/.test(n));
      if (dump) {
        const privB = p.lab.exec(p.lab.nsB, ['wg', 'show', p.wg.ifB, 'private-key']).trim();
        assert.equal(readFileSync(path.join(copyTo, dump), 'utf8').includes(privB), false);
      }
    });

    await t.test('a drop rule on B: the test fails, the probe still ends with both captures, and the rule is in what B served', async () => {
      p.lab.exec(p.lab.nsB, ['nft', '-f', '-'], { input: `table inet p4probe {\n chain input {\n  type filter hook input priority 0; policy accept;\n  tcp dport ${p.port} counter drop\n }\n}\n` });
      try {
        const { lines, copyTo } = await drive(base);
        const outcome = endOf(lines);
        assert.equal(outcome.cancelled, undefined);
        assert.equal(outcome.test?.ok, false, JSON.stringify(outcome.test));
        assert.ok(outcome.files.A.capture && outcome.files.B.capture, JSON.stringify(outcome.files));
        const nft = outcome.files.B.evidence.filter((n: string) => /nft/.test(n));
        assert.ok(nft.length > 0, JSON.stringify(outcome.files.B.evidence));
        const texts = nft.map((n: string) => readFileSync(path.join(copyTo, n), 'utf8'));
        assert.ok(texts.some((x: string) => x.includes('p4probe') && x.includes(String(p.port)) && x.includes('drop')), texts.join('\n---\n').slice(0, 2000));
      } finally {
        p.lab.exec(p.lab.nsB, ['nft', 'delete', 'table', 'inet', 'p4probe']);
      }
    });

    await t.test('B unreachable: the end names connect, host B and why, in one line', async () => {
      const { lines } = await drive({ ...base, b: { ...base.b, kind: 'ssh', host: p.lab.addrB, port: p.sshd.port + 1 } as ProbeStartRequest['b'] });
      const outcome = endOf(lines);
      assert.equal(outcome.failed?.step, 'connect', JSON.stringify(outcome));
      assert.equal(outcome.failed?.host, 'B');
      assert.match(outcome.failed.message, /refused|reach|connect/i);
      assert.equal(outcome.failed.message.includes('\n'), false);
      assert.equal(outcome.files.B.capture, '');
    });

    await t.test('Cancel after both captures started: the test ends cancelled, no tcpdump is left on B, files kept until the folder goes', async () => {
      const { lines } = await drive(base, { cancelAfter: 'capture-start' });
      assert.equal(lines.find((l) => l.cancel)?.cancel.ok, true);
      const outcome = endOf(lines);
      assert.equal(outcome.cancelled, true, JSON.stringify(outcome));
      // Processes share one PID namespace here: B's are the ones in its network namespace.
      const tcpdumpsInB = () => spawnSync('ip', ['netns', 'pids', p.lab.nsB], { encoding: 'utf8' }).stdout.split('\n').filter((pid) => {
        try {
          return readFileSync(`/proc/${pid.trim()}/comm`, 'utf8').trim() === 'tcpdump';
        } catch {
          return false;
        }
      });
      for (let i = 0; i < 30 && tcpdumpsInB().length > 0; i++) await new Promise((r) => setTimeout(r, 100));
      assert.deepEqual(tcpdumpsInB(), [], 'tcpdump still runs on B');
      assert.equal(lines.at(-1).removed, true);
    });
  });
}
