// The probe's far-end scripts and their output, without hosts: the scripts run for real under bash,
// dash and fish as the login shell (as sshd runs `$SHELL -c COMMAND`), the splitter against forged
// markers and odd chunking, the secrets blanked, the filter compiled by the real tcpdump.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  EVIDENCE_AFTER, EVIDENCE_BEFORE, SectionSplitter, blankWgDump, blankXfrmKeys, buildFilter, checkOptions, checkTarget, evidenceAfterScript,
  evidenceBeforeScript, evidenceInput, flowFor, logOffsets, parseDestination, parseSshConnection, parseTestOutput, remoteCommandFor, stderrBySection,
  testInput, testScript, ProbeInputError,
} from '../../../electron/probe/script.ts';
import { onlyOwnInterfaces } from '../../../electron/probe/index.ts';
import { commandFor } from '../../../electron/probe/host.ts';
import { parseProbeArgs } from '../../../bin/cli/probe.ts';
import { UsageError } from '../../../bin/cli/io.ts';
import { detectAndParse, parseWgDump, parseXfrmState } from '../../../shared/evidence/index.ts';
import { parseFlowSpec } from '../../../shared/analysis/index.ts';

const SHELLS = ['/usr/bin/bash', '/usr/bin/dash', '/usr/bin/fish'].filter((s) => existsSync(s));
const MARK = 'TDM0123456789abcdef';

/**
 * Runs `script` as ssh would on a far end whose login shell is `shell`: `$SHELL -c "exec sh -c '…'"`, in a
 * process group of its own (the script ends its group when its stdin closes: that is how cancel works), with
 * stdin left open until it exits, as the probe does.
 */
function viaShell(shell: string, script: string, input: string, cwd?: string, endInput = false): Promise<{ stdout: string; stderr: string; status: number | null }> {
  return new Promise((res) => {
    const c = spawn(shell, ['-c', remoteCommandFor(script)], { detached: true, ...(cwd && { cwd }) });
    let stdout = '', stderr = '';
    c.stdout.setEncoding('latin1').on('data', (d: string) => { stdout += d; });
    c.stderr.setEncoding('latin1').on('data', (d: string) => { stderr += d; });
    c.stdin.write(input);
    if (endInput) c.stdin.end();
    const t = setTimeout(() => { try { process.kill(-c.pid!, 'SIGKILL'); } catch { /* gone */ } }, 60_000);
    c.on('close', (status) => { clearTimeout(t); c.stdin.destroy(); res({ stdout, stderr, status }); });
  });
}

function split(stdout: string, marker = MARK) {
  const s = new SectionSplitter(marker);
  s.push(Buffer.from(stdout, 'latin1'));
  return s.end();
}

test('the far-end scripts hold no quote, backslash or newline (they travel inside exec sh -c \'…\')', () => {
  for (const s of [evidenceBeforeScript(), evidenceAfterScript(), testScript('tcp'), testScript('http'), testScript('ping'), testScript('udp')]) {
    assert.doesNotMatch(s, /['\\\n]/);
    // dash and bash parse it.
    for (const sh of ['dash', 'bash']) {
      const r = spawnSync(sh, ['-n', '-c', s], { encoding: 'utf8' });
      assert.equal(r.status, 0, `${sh}: ${r.stderr}`);
    }
  }
});

test(`evidence scripts run alike under ${SHELLS.map((s) => s.split('/').pop()).join(', ')} login shells: one framed section per command, tools found or said missing`, async () => {
  assert.ok(SHELLS.length >= 2, 'bash and dash at least');
  let reference: string[] | undefined;
  for (const sh of SHELLS) {
    const r = await viaShell(sh, evidenceBeforeScript(), evidenceInput(MARK, false, 4, 0));
    assert.equal(r.status, 0, `${sh}: ${r.stderr}`);
    const sections = split(r.stdout);
    const ids = sections.map((s) => s.id);
    // Every command ran or was skipped in a section of its own; nft or its iptables fallback, one of them.
    for (const c of EVIDENCE_BEFORE.filter((c) => !/ip6?tables|ipsec-status/.test(c.file))) assert.ok(ids.includes(c.id), `${sh}: section ${c.id} (${c.command}) missing`);
    const link = sections.find((s) => s.id === EVIDENCE_BEFORE.find((c) => c.file === 'ip-link.txt')!.id)!;
    assert.equal(link.status, 0);
    assert.match(link.text.toString(), /^1: lo: /);
    const addr = sections.find((s) => s.id === EVIDENCE_BEFORE.find((c) => c.file === 'ip-addr.txt')!.id)!;
    assert.doesNotThrow(() => detectAndParse(addr.text.toString(), 'ip-addr.txt'));
    const names = sections.map((s) => `${s.id}:${s.status === 127 ? 'missing' : 'ran'}`);
    reference ??= names;
    assert.deepEqual(names, reference, `${sh} ran other commands than ${SHELLS[0]}`);
    // Each command's stderr is attributed to its section.
    assert.ok(stderrBySection(r.stderr, MARK) instanceof Map);
  }
  const after = await viaShell(SHELLS[0]!, evidenceAfterScript(), evidenceInput(MARK, false, 6, Math.floor(Date.now() / 1000)));
  assert.equal(after.status, 0, after.stderr);
  assert.ok(split(after.stdout).some((s) => s.id === EVIDENCE_AFTER.find((c) => c.file === 'ip-s-link.after.txt')!.id && s.status === 0));
});

test('input cut short is refused; closing stdin (cancel) ends the script\'s whole process group at once', async () => {
  const cut = await viaShell('/usr/bin/dash', testScript('tcp'), testInput(MARK, '127.0.0.1', 9, 30, 4).replace(/\n$/, ''), undefined, true);
  assert.equal(cut.status, 125, 'a value without its line end is not used');
  if (process.getuid?.() !== 0) { console.log('# not root: the cancel half needs a network namespace'); return; }
  // A TCP connect that would wait 30 s: in a namespace of its own whose default route leads into a veth nobody answers on.
  const setup = 'ip link add v0 type veth peer name v1 && ip link set v0 up && ip link set v1 up && ip addr add 10.9.9.1/24 dev v0 && ' +
    'ip neigh add 10.9.9.2 lladdr 02:00:00:00:00:02 dev v0 nud permanent && ip route add default via 10.9.9.2 && exec "$0" -c "$1"';
  const c = spawn('unshare', ['-n', 'sh', '-c', setup, '/usr/bin/dash', remoteCommandFor(testScript('tcp'))], { detached: true });
  const closed = new Promise<void>((r) => c.on('close', () => r()));
  c.stdin.write(testInput(MARK, '192.0.2.1', 9, 30, 4));
  await new Promise((r) => setTimeout(r, 1000));
  assert.equal(c.exitCode, null, 'the connect is still waiting');
  const t0 = Date.now();
  c.stdin.end();
  await closed;
  assert.ok(Date.now() - t0 < 3000, `the script took ${Date.now() - t0} ms to end`);
  // Nothing of that group is left running (members may linger a moment as zombies until reaped).
  const alive = () => spawnSync('ps', ['-o', 'pid=,stat=,comm=', '-g', String(c.pid)], { encoding: 'utf8' }).stdout.split('\n').filter((l) => l.trim() && !/\sZ/.test(l));
  for (let i = 0; i < 40 && alive().length > 0; i++) await new Promise((r) => setTimeout(r, 50));
  assert.deepEqual(alive(), []);
});

test(`test commands under each login shell: TCP connect succeeds to a listener, fails on a closed port; values reach the tools as data`, async () => {
  const server = createServer((s) => s.end());
  await new Promise<void>((res) => server.listen(0, '127.0.0.1', () => res()));
  const port = (server.address() as { port: number }).port;
  const dir = mkdtempSync(join(tmpdir(), 'tdmprobe-'));
  try {
    for (const sh of SHELLS) {
      const run = async (kind: 'tcp' | 'udp' | 'http', p: number) => parseTestOutput((await viaShell(sh, testScript(kind), testInput(MARK, '127.0.0.1', p, 5, 4), dir)).stdout, MARK);
      const ok = await run('tcp', port);
      assert.equal(ok.status, 0, `${sh}: ${JSON.stringify(ok)}`);
      assert.notEqual(ok.form, '');
      const closed = await run('tcp', 1);
      assert.notEqual(closed.status, 0, `${sh}: closed port reported as open`);
      const udp = await run('udp', port);
      assert.equal(udp.status, 0, `${sh}: UDP datagram not sent: ${JSON.stringify(udp)}`);
    }
  } finally { server.close(); rmSync(dir, { recursive: true, force: true }); }
  // Hostile targets never reach a script.
  for (const t of ['example.com', '10.0.0.1;id', '$(id)', '10.0.0.1\n127.0.0.1', 'fe80::1%eth0', '', ' -x']) {
    assert.throws(() => testInput(MARK, t, 80, 5, 4), ProbeInputError, JSON.stringify(t));
  }
});

test('section splitter: forged markers inside an output stay text; any chunking gives the same sections; the cap drops and counts', () => {
  const out = [
    `${MARK} B 1`, 'line one', `${MARK} E 2 0`, 'TDMffffffffffffffffff E 1 0', ` ${MARK} E 1 0`, `${MARK} B 7`, 'last', '',
    `${MARK} E 1 0`,
    `${MARK} B 2`, 'no newline at end', `${MARK} E 2 3`,
    'stray shell text',
    `${MARK} B 3`, '', `${MARK} E 3 127`,
    `${MARK} B 4`, 'cut off here',
  ].join('\n');
  const want = [
    { id: 1, status: 0, text: ['line one', `${MARK} E 2 0`, 'TDMffffffffffffffffff E 1 0', ` ${MARK} E 1 0`, `${MARK} B 7`, 'last', ''].join('\n') },
    { id: 2, status: 3, text: 'no newline at end' },
    { id: 3, status: 127, text: '' },
    { id: 4, status: null, text: 'cut off here' },
  ];
  const norm = (ss: ReturnType<typeof split>) => ss.map((s) => ({ id: s.id, status: s.status, text: s.text.toString('latin1') }));
  assert.deepEqual(norm(split(out)), want);
  // Byte by byte and in odd chunks.
  for (const size of [1, 2, 3, 7, 19, 64]) {
    const s = new SectionSplitter(MARK);
    const b = Buffer.from(out, 'latin1');
    for (let i = 0; i < b.length; i += size) s.push(b.subarray(i, i + size));
    assert.deepEqual(norm(s.end()), want, `chunks of ${size}`);
  }
  // A marker with another nonce frames nothing.
  assert.deepEqual(split(out, 'TDMffffffffffffffffff'), []);
  const capped = new SectionSplitter(MARK, 10);
  capped.push(Buffer.from(`${MARK} B 1\n${'x'.repeat(1000)}\n${MARK} E 1 0\n`));
  const [c] = capped.end();
  assert.equal(c!.text.length, 10);
  assert.equal(c!.dropped, 990);
  assert.equal(c!.status, 0);
});

const KEYS = {
  privA: 'yAnz5TF+lXXJte14tji3zlMNq+hd2rYUIgJBgB3fBmk=', pubA: 'xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=',
  pubB: 'TrMvSoP4jYQlY6RIzBgbssQqY3vxI2Pi+y71lOWWXX0=', psk: 'FpCyhws9cxwWoV4xELtfJvjJN+zQVRPISllRWgeopVE=',
};

test('wg dump: private and preshared keys are gone, the reader still gets interfaces and peers (all and one-interface forms)', () => {
  const all = [
    `wg0\t${KEYS.privA}\t${KEYS.pubA}\t51820\toff`,
    `wg0\t${KEYS.pubB}\t${KEYS.psk}\t192.0.2.2:51820\t10.0.0.2/32,192.168.200.0/24\t1700000000\t100\t200\t25`,
    `wg1\t${KEYS.privA}\t${KEYS.pubA}\t51821\t0xca6c`,
    `wg1\t${KEYS.pubB}\t(none)\t(none)\t(none)\t0\t0\t0\toff`, '',
  ].join('\n');
  const one = [`${KEYS.privA}\t${KEYS.pubA}\t51820\toff`, `${KEYS.pubB}\t${KEYS.psk}\t192.0.2.2:51820\t10.0.0.2/32\t0\t0\t0\toff`].join('\r\n');
  for (const text of [all, one, `$ wg show all dump\n${all}`]) {
    const b = blankWgDump(text);
    assert.ok(!b.includes(KEYS.privA) && !b.includes(KEYS.psk), b);
    assert.ok(b.includes(KEYS.pubA) && b.includes(KEYS.pubB), 'public keys stay');
    const d = parseWgDump(b);
    assert.deepEqual(d.problems, []);
    assert.ok(d.facts.interfaces.every((i) => i.publicKey === KEYS.pubA));
    assert.ok(d.facts.peers.every((p) => p.publicKey === KEYS.pubB));
    assert.equal(d.facts.peers[0]!.hasPresharedKey, true);
  }
  // A line of an unknown shape loses every key-shaped field.
  assert.equal(blankWgDump(`x\t${KEYS.privA}\ty`), 'x\t(hidden)\ty');
  // Another namespace's devices (shared /var/run/wireguard) are left out.
  assert.equal(onlyOwnInterfaces(all, new Set(['wg1', 'lo'])).split('\n').filter((l) => l.startsWith('wg0')).length, 0);
});

test('ip xfrm state: keys are replaced, algorithms and ICV lengths kept, the reader still reads the SAs', () => {
  const text = [
    'src 192.0.2.1 dst 198.51.100.2',
    '\tproto esp spi 0xc1a5b2e3 reqid 1 mode tunnel',
    '\treplay-window 0 flag af-unspec',
    '\tauth-trunc hmac(sha256) 0x8e1c2b7a4d5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9 128',
    '\tenc cbc(aes) 0x00112233445566778899aabbccddeeff',
    '\tencap type espinudp sport 4500 dport 4500 addr 0.0.0.0',
    'src 198.51.100.2 dst 192.0.2.1',
    '\tproto esp spi 0x0badf00d reqid 1 mode tunnel',
    '\taead rfc4106(gcm(aes)) 0xdeadbeefcafebabe0123456789abcdef01234567 128',
    '\tcomp deflate',
  ].join('\n');
  const b = blankXfrmKeys(text);
  assert.doesNotMatch(b, /0x8e1c|0x0011|0xdeadbeef/);
  assert.match(b, /auth-trunc hmac\(sha256\) \(hidden\) 128/);
  assert.match(b, /\tcomp deflate/);
  assert.match(b, /spi 0xc1a5b2e3/, 'SPIs are not keys');
  const p = parseXfrmState(b);
  assert.deepEqual(p.facts.map((s) => s.algorithms), [['auth-trunc hmac(sha256)', 'enc cbc(aes)'], ['aead rfc4106(gcm(aes))', 'comp deflate']]);
});

test('capture filter: target, test port, WireGuard ports, IKE/ESP/AH, ICMP errors, minus our ssh sessions; the real tcpdump compiles every form', () => {
  const hasTcpdump = spawnSync('tcpdump', ['--version']).status === 0;
  const forms = [
    buildFilter({ target: '192.168.200.22', test: 'tcp', port: 80, wgPorts: [51820, 51821, 51820, 0, 70000], sshSessions: [{ client: '10.0.0.1', server: '10.0.0.2', port: 22 }] }),
    buildFilter({ target: '2001:db8::22', test: 'udp', port: 53, wgPorts: [], sshSessions: [{ client: '2001:db8::1', server: '2001:db8::2', port: 2222 }, { client: 'bogus', server: '1.2.3.4', port: 22 }] }),
    buildFilter({ target: '10.1.1.1', test: 'ping', wgPorts: [4500], sshSessions: [] }),
  ];
  assert.match(forms[0]!, /^\(host 192\.168\.200\.22 or tcp port 80 or udp port 51820 or udp port 51821 or udp port 500 or udp port 4500 or ip proto 50/);
  assert.doesNotMatch(forms[0]!, /70000|port 0\b/);
  assert.match(forms[0]!, /and not \(tcp and host 10\.0\.0\.1 and host 10\.0\.0\.2 and port 22\)$/);
  assert.match(forms[1]!, /udp port 53 or udp port 51820/, 'default WireGuard port without a dump');
  assert.doesNotMatch(forms[1]!, /bogus/);
  assert.doesNotMatch(forms[2]!, /tcp port|udp port 0/);
  for (const f of forms) {
    if (!hasTcpdump) continue;
    const r = spawnSync('tcpdump', ['-d', '-y', 'EN10MB', '-r', '/dev/null', '--', f], { encoding: 'utf8' });
    // -r /dev/null is not a capture: compile against the link type with -d alone when that fails.
    const r2 = r.status === 0 ? r : spawnSync('tcpdump', ['-i', 'lo', '-d', '--', f], { encoding: 'utf8' });
    assert.equal(r2.status, 0, `${f}: ${r2.stderr}`);
  }
  assert.throws(() => buildFilter({ target: 'host 1.2.3.4 or', test: 'tcp', port: 1, wgPorts: [], sshSessions: [] }), ProbeInputError);
});

test('inputs: destinations, targets and options are refused with one line naming the field; good forms pass', () => {
  assert.deepEqual(parseDestination('root@192.0.2.1:2222'), { user: 'root', host: '192.0.2.1', port: 2222 });
  assert.deepEqual(parseDestination('ops@[2001:db8::1]:22'), { user: 'ops', host: '2001:db8::1', port: 22 });
  assert.deepEqual(parseDestination('gw.example.net'), { host: 'gw.example.net' });
  for (const bad of ['-oProxyCommand=id', 'root@-oProxyCommand=id', 'ro ot@h', 'root@h;id', 'root@$(id)', 'root@h:0', 'root@h:99999', '@h', 'root@', 'a@b@c', 'root@h\nx']) {
    assert.throws(() => parseDestination(bad), (e: Error) => e instanceof ProbeInputError && !e.message.includes('\n'), JSON.stringify(bad));
  }
  assert.deepEqual(checkTarget('192.0.2.7'), { addr: '192.0.2.7', family: 4 });
  assert.deepEqual(checkTarget('2001:DB8::7'), { addr: '2001:db8::7', family: 6 });
  const base = { a: { kind: 'local' as const }, b: { kind: 'ssh' as const, destination: 'root@192.0.2.1' }, target: '192.0.2.7', test: 'tcp' as const, port: 80, outDir: '/tmp/x' };
  assert.doesNotThrow(() => checkOptions(base));
  for (const [patch, re] of [
    [{ port: 0 }, /port/], [{ port: 65536 }, /port/], [{ test: 'smtp' }, /tcp, http, ping or udp/], [{ target: 'gw' }, /IPv4 or IPv6/],
    [{ b: { kind: 'ssh', destination: 'root@192.0.2.1', iface: 'eth0 ; id' } }, /interface/], [{ a: { kind: 'local', iface: '-w' } }, /interface/],
    [{ b: { kind: 'local' } }, /both be this host/], [{ b: { kind: 'ssh' } }, /USER@HOST/],
    [{ b: { kind: 'ssh', destination: 'root@192.0.2.1', identityFile: '-oProxyCommand=x' } }, /key file/], [{ snaplen: 10 }, /snaplen/],
  ] as const) {
    assert.throws(() => checkOptions({ ...base, ...patch } as never), (e: Error) => e instanceof ProbeInputError && re.test(e.message), JSON.stringify(patch));
  }
  for (const [k, t, p] of [['tcp', '192.0.2.7', 80], ['udp', '2001:db8::7', 53], ['ping', '192.0.2.7', undefined], ['http', '2001:db8::7', 8080]] as const) {
    assert.doesNotThrow(() => parseFlowSpec(flowFor(k, t, p)), flowFor(k, t, p));
  }
  assert.deepEqual(parseSshConnection('10.0.0.1 51234 10.0.0.2 22\n'), { client: '10.0.0.1', server: '10.0.0.2', port: 22 });
  for (const bad of ['', '10.0.0.1 1 10.0.0.2', 'fe80::1%eth0 1 fe80::2%eth0 22', '$(id) 1 2 3']) assert.equal(parseSshConnection(bad), null);
});

test('ssh command line: the capture\'s options (BatchMode, key only, "--" before the destination) and our fixed far command', () => {
  const argv = commandFor({ kind: 'ssh', destination: 'root@192.0.2.1:2222', identityFile: '/k', knownHostsFile: '/kh' }, 'echo x', { connectTimeoutSec: 7 });
  assert.equal(argv[0], 'ssh');
  assert.ok(argv.includes('BatchMode=yes') && argv.includes('ConnectTimeout=7') && argv.includes('UserKnownHostsFile=/kh'));
  assert.deepEqual(argv.slice(-3), ['--', 'root@192.0.2.1', 'exec sh -c \'echo x\'']);
  assert.deepEqual(argv.slice(argv.indexOf('-p'), argv.indexOf('-p') + 2), ['-p', '2222']);
  assert.deepEqual(commandFor({ kind: 'local' }, 'echo x'), ['sh', '-c', 'echo x']);
});

test('CLI arguments: forms accepted, usage errors are one line', () => {
  const now = new Date(2026, 0, 2, 3, 4, 5);
  const r = parseProbeArgs(['--a', 'local', '--b', 'root@192.0.2.1:2222', '--target', '192.0.2.7', '--test', 'http:8080', '--key', '/k', '--sudo-b', '--b-iface', 'eth1', '--settle', '0.5', '--snaplen', '512'], now);
  assert.notEqual(r, 'help');
  if (r === 'help') return;
  assert.equal(r.options.outDir, 'tandem-probe-20260102-030405');
  assert.deepEqual(r.options.b, { kind: 'ssh', destination: 'root@192.0.2.1:2222', identityFile: '/k', sudo: true, iface: 'eth1' });
  assert.deepEqual(r.options.a, { kind: 'local' });
  assert.equal(r.options.settleMs, 500);
  assert.equal(r.options.port, 8080);
  assert.equal(r.options.test, 'http');
  assert.equal(parseProbeArgs(['--help']), 'help');
  for (const bad of [[], ['--a', 'local'], ['--a', 'local', '--b', 'x@y', '--target', '1.2.3.4', '--test', 'tcp'], ['--a', 'local', '--b', 'x@y', '--target', '1.2.3.4', '--test', 'ping', '--bogus'],
    ['--a', 'local', '--b', 'x@y', '--target', '1.2.3.4', '--test', 'ping', '--settle', 'soon'], ['--a', 'local', '--a', 'local']]) {
    assert.throws(() => parseProbeArgs(bad), (e: Error) => e instanceof UsageError && !e.message.includes('\n'), JSON.stringify(bad));
  }
});

test('saved evidence with its echoed command line is read as the right format', () => {
  // What collect() writes: `$ command` then the output, for the formats that are echoed.
  const samples: Array<[string, string, string]> = [
    ['ip -o addr', '1: lo    inet 127.0.0.1/8 scope host lo\\       valid_lft forever preferred_lft forever', 'ip-addr'],
    ['ip rule', '0:\tfrom all lookup local\n32766:\tfrom all lookup main\n32767:\tfrom all lookup default', 'ip-rule'],
    ['ip -6 rule', '0:\tfrom all lookup local\n32766:\tfrom all lookup main', 'ip-rule'],
    ['sysctl net.ipv4.ip_forward net.ipv4.conf.all.rp_filter', 'net.ipv4.ip_forward = 1\nnet.ipv4.conf.all.rp_filter = 2', 'sysctl'],
    ['wg show all transfer', `wg0\t${KEYS.pubB}\t100\t200`, 'wg-transfer'],
    ['iptables-save -c', '*filter\n:INPUT ACCEPT [0:0]\n[3:180] -A INPUT -p udp --dport 51820 -j DROP\nCOMMIT', 'iptables-save'],
  ];
  for (const [command, out, format] of samples) {
    const c = [...EVIDENCE_BEFORE, ...EVIDENCE_AFTER].find((x) => x.command.startsWith(command.split(' ').slice(0, 2).join(' ')));
    assert.ok(c, command);
    assert.equal(detectAndParse(`$ ${command}\n${out}\n`, 'x.txt').format, format, command);
  }
  // Routes are written without the echo (see EVIDENCE_BEFORE): the output alone reads as routes.
  assert.equal(EVIDENCE_BEFORE.find((c) => c.file === 'ip-route.txt')!.echo, false);
  const routes = '10.0.0.0/24 dev wg0 proto kernel scope link src 10.0.0.1\nlocal 10.0.0.1 dev wg0 table local proto kernel scope host src 10.0.0.1';
  assert.equal(detectAndParse(routes, 'ip-route.txt').format, 'ip-route');
});

test('each fallback form of the test works on its own: bash /dev/tcp, busybox nc, curl telnet; curl, wget, busybox wget; bash /dev/udp', async () => {
  const server = createServer((s) => { s.on('error', () => undefined); s.on('data', () => s.end('HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n')); });
  await new Promise<void>((res) => server.listen(0, '127.0.0.1', () => res()));
  const port = (server.address() as { port: number }).port;
  const dir = mkdtempSync(join(tmpdir(), 'tdmprobe-path-'));
  const which = (t: string) => ['/usr/bin', '/bin', '/usr/sbin'].map((d) => join(d, t)).find((f) => existsSync(f));
  try {
    const cases: Array<[string, 'tcp' | 'http' | 'udp', string[], RegExp]> = [
      ['bash', 'tcp', ['bash', 'timeout', 'grep'], /^bash -c exec 3<>\/dev\/tcp\//],
      ['busybox nc', 'tcp', ['busybox', 'grep', 'true'], /^busybox nc -w 5 127\.0\.0\.1 \d+ -e true$/],
      ['curl telnet', 'tcp', ['curl', 'grep'], /^curl telnet:\/\/127\.0\.0\.1:/],
      ['curl', 'http', ['curl'], /^curl -sS -g -m 5 -o \/dev\/null -w %\{http_code\} http:\/\/127\.0\.0\.1:\d+\/$/],
      ['wget', 'http', ['wget'], /^wget -q -T 5 -O \/dev\/null http:\/\/127\.0\.0\.1:\d+\/$/],
      ['busybox wget', 'http', ['busybox'], /^busybox wget /],
      ['bash udp', 'udp', ['bash', 'grep'], /^bash -c echo tandem-probe >\/dev\/udp\/127\.0\.0\.1\//],
    ];
    for (const [name, kind, tools, form] of cases) {
      const missing = tools.filter((t) => !which(t));
      if (missing.length) { console.log(`# ${name}: ${missing.join(', ')} not installed, form not checked`); continue; }
      const bin = join(dir, name.replace(/\s/g, '-'));
      spawnSync('mkdir', ['-p', bin]);
      // Only these tools (and sh) on the PATH; the script adds the sbin folders, which hold none of them.
      for (const t of [...tools, 'sh']) spawnSync('ln', ['-sf', which(t)!, join(bin, t)]);
      const run = (p: number) => new Promise<ReturnType<typeof parseTestOutput>>((res) => {
        const c = spawn(join(bin, 'sh'), ['-c', remoteCommandFor(testScript(kind))], { detached: true, env: { PATH: bin } });
        let out = '';
        c.stdout.on('data', (d) => { out += d; });
        c.stdin.write(testInput(MARK, '127.0.0.1', p, 5, 4));
        c.on('close', () => { c.stdin.destroy(); res(parseTestOutput(out, MARK)); });
      });
      const ok = await run(port);
      assert.match(ok.form, form, `${name}: ${JSON.stringify(ok)}`);
      assert.equal(ok.status, 0, `${name}: ${JSON.stringify(ok)}`);
      if (kind !== 'udp') {
        const closed = await run(1);
        assert.notEqual(closed.status, 0, `${name}: a closed port passed: ${JSON.stringify(closed)}`);
      }
    }
  } finally { server.close(); rmSync(dir, { recursive: true, force: true }); }
});

test('IKE log lines: with no journal, the log files are read from where they ended before the test (older lines stay out)', async () => {
  if (process.getuid?.() !== 0 || !existsSync('/usr/bin/nsenter')) { console.log('# needs root and nsenter (a private /var/log in a mount namespace)'); return; }
  // A mount namespace whose /var/log is a fresh tmpfs: the machine's own logs are neither read nor touched.
  const holder = spawn('unshare', ['-m', '--propagation', 'private', 'sh', '-c', 'mount -t tmpfs tdmlogs /var/log && echo ready && exec sleep 300'], { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    await new Promise((res) => holder.stdout!.once('data', res));
    const inNs = (cmd: string[], input?: string) => spawnSync('nsenter', ['-t', String(holder.pid), '-m', '--', ...cmd], { encoding: 'utf8', ...(input !== undefined && { input }) });
    const append = (file: string, text: string) => inNs(['sh', '-c', 'cat >> "$0"', file], text);
    append('/var/log/charon.log', 'Dec  3 04:00:00 gw charon: 09[IKE] received AUTHENTICATION_FAILED notify error (yesterday)\n');
    append('/var/log/syslog', 'Dec  3 04:00:01 gw kernel: unrelated\n');
    // The before script runs (through a shell whose stdin stays open, as the probe's ssh session does).
    const run = (script: string, input: string) => new Promise<string>((res) => {
      const c = spawn('nsenter', ['-t', String(holder.pid), '-m', '--', '/usr/bin/dash', '-c', remoteCommandFor(script)], { detached: true });
      let out = '';
      c.stdout.setEncoding('latin1').on('data', (d: string) => { out += d; });
      c.stdin.write(input);
      c.on('close', () => { c.stdin.destroy(); res(out); });
    });
    const before = split(await run(evidenceBeforeScript(), evidenceInput(MARK, false, 4, 0)));
    const sizes = logOffsets(before.find((s) => s.id === EVIDENCE_BEFORE.find((c) => c.file === 'log-sizes.txt')!.id)?.text.toString());
    assert.deepEqual(sizes.slice(0, 3), [inNs(['stat', '-c', '%s', '/var/log/charon.log']).stdout.trim(), inNs(['stat', '-c', '%s', '/var/log/syslog']).stdout.trim(), '0'].map(Number));
    // During the test: new lines, one of them in a file that did not exist before.
    append('/var/log/charon.log', 'Dec  3 05:00:00 gw charon: 10[IKE] received NO_PROPOSAL_CHOSEN notify error\n');
    append('/var/log/auth.log', 'Dec  3 05:00:01 gw charon: 11[IKE] peer authentication failed\n');
    // charon's own filelog: its lines name no daemon (strongSwan's `filelog` default format).
    append('/var/log/charon.log', "Dec  3 05:00:02 12[IKE] tried 1 shared key for 'gwb.lab' - 'gwa.lab', but MAC mismatched\n");
    const after = split(await run(evidenceAfterScript(), evidenceInput(MARK, false, 4, Math.floor(Date.now() / 1000) - 5, sizes)));
    const hasJournal = after.some((s) => s.id === EVIDENCE_AFTER.find((c) => c.file === 'ike-log.after.txt')!.id);
    const files = after.find((s) => s.id === EVIDENCE_AFTER.find((c) => c.file === 'ike-log-files.after.txt')!.id);
    if (hasJournal) { console.log('# this machine has journal lines for charon: the file fallback is not used'); return; }
    const text = files!.text.toString();
    assert.match(text, /NO_PROPOSAL_CHOSEN/);
    assert.match(text, /peer authentication failed/);
    assert.match(text, /but MAC mismatched/);
    assert.doesNotMatch(text, /yesterday|unrelated/);
    assert.equal(detectAndParse(`$ tail /var/log/charon.log\n${text}`, 'ike-log-files.after.txt').format, 'ipsec-log');
    // Unknown offsets (-1) read nothing rather than old lines.
    const blind = split(await run(evidenceAfterScript(), evidenceInput(MARK, false, 4, 0)));
    const none = blind.find((s) => s.id === EVIDENCE_AFTER.find((c) => c.file === 'ike-log-files.after.txt')!.id);
    assert.equal(none?.text.toString().trim() ?? '', '');
  } finally { holder.kill('SIGTERM'); }
});
