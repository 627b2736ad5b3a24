// Issue 16 acceptance, WireGuard: `bin/tandem probe` run on A (a network namespace with its own
// /run, so `wg show all` is A's alone) against B over a real sshd, on each fault of wg-lab.ts. The
// probe must name the responsible item (the nft rule with its handle and a counter that rose, the
// iptables rule, the peer and its AllowedIPs, the sysctl line, the endpoint port against B's
// ListenPort, the policy rule and the route line) and say ok on the healthy path, exit 0 / 3.
// Then `bin/tandem analyze` on the probe's own files, host evidence imported from them, must give
// the same verdict and findings. Neighbours: the drop in the base chain instead of a jumped-to one,
// on the reply instead of the request, over IPv6, reject instead of drop, iptables (nft backend and
// legacy), an HTTP test, a ping the TCP-only drop does not touch (ok), A reached over ssh, and B's
// capture seeing nothing (one clear failure line, never ok).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { which, whyNot } from './hosts.ts';
import { WgLab, B_ADDR, SSH_PORT, A_SSH_PORT, TARGET, TARGET6, type WgFault } from './wg-lab.ts';
import { allOf, ensureCli, essence, explain, wrongSources, finding, haveProbeCli, quotes, replay, runProbe, type ProbeRun } from './run.ts';

const why = whyNot(['ip', 'nft', 'wg', 'wireguard-go', 'tcpdump', 'busybox', 'curl', 'nsenter', 'ssh', 'ssh-keygen', '/usr/sbin/sshd', '/dev/net/tun'])
  ?? (haveProbeCli() ? null : 'bin/cli/probe.ts is not in this tree yet');
const skip = why === null ? false : `probe WireGuard lab skipped: ${why}`;
if (skip) process.stdout.write(`# ${skip}\n`);

let lab: WgLab | undefined;
before(async () => {
  if (skip) return;
  ensureCli();
  lab = new WgLab();
  await lab.build();
}, { timeout: 60_000 });
after(() => lab?.cleanup());

/** The flow a user would name for a test. */
const flowOf = (t: string, target = TARGET): string => {
  const h = target.includes(':') ? `[${target}]` : target;
  return t === 'ping' ? `icmp ${target}` : `tcp ${h}:${t.split(':')[1]}`;
};

interface Case {
  title: string;
  fault: WgFault;
  test?: string;
  /** Default TARGET (IPv4). */
  target?: string;
  /** A tool only this case needs. */
  needs?: string;
  /** The fault does not touch this test: the path is ok. */
  passes?: boolean;
  /** A reached over ssh (its own sshd on 127.0.0.1) instead of `--a local`. */
  aOverSsh?: boolean;
  check: (r: ProbeRun, l: WgLab) => void;
}

/** The probe on the current fault, the exit code and verdict status checked, and the replay compared. */
async function probe(c: Case): Promise<ProbeRun> {
  const l = lab!;
  l.set(c.fault);
  const out = join(l.lab.dir, `out-${c.title.replace(/\W+/g, '-')}`);
  const a = c.aOverSsh ? ['--a', `root@127.0.0.1:${A_SSH_PORT}`] : ['--a', 'local'];
  const r = await runProbe(l.a, [...a, '--b', `root@${B_ADDR}:${SSH_PORT}`, '--key', l.lab.key, '--known-hosts', l.lab.knownHosts,
    '--target', c.target ?? TARGET, '--test', c.test ?? 'tcp:80', '--settle', '0.5', '--timeout', '3'], out);
  process.stdout.write(`# probe ${c.title}: exit ${r.code} in ${r.ms} ms, verdict ${r.analysis?.verdict.status}/${r.analysis?.verdict.class}\n`);
  assert.ok(r.analysis, `no analysis.json\n${explain(r)}`);
  const healthy = c.fault === 'healthy' || c.passes === true;
  assert.equal(r.analysis.verdict.status, healthy ? 'ok' : 'fail', explain(r));
  assert.equal(r.code, healthy ? 0 : 3, explain(r));
  return r;
}

/** Evidence alone (the probe's files imported, no SSH) gives what the probe gave. */
function sameAsReplay(r: ProbeRun, test: string, target?: string): void {
  const again = replay(r, flowOf(test, target));
  assert.deepEqual(essence(again), essence(r.analysis!), `analyze on the probe's files differs from the probe\n${explain(r)}`);
}

const errorsOf = (r: ProbeRun) => r.analysis!.findings.filter((f) => f.severity === 'error');

function dropRule(r: ProbeRun, l: WgLab, chain: string, verb: RegExp): void {
  const f = finding(r, 'evidence-fw-drop');
  assert.equal(f.severity, 'error', explain(r));
  assert.deepEqual([f.class, f.host, r.analysis!.verdict.class, r.analysis!.verdict.host], ['firewall', 'B', 'firewall', 'B'], explain(r));
  const h = l.dropHandle();
  assert.ok(h, 'the lab has no drop rule to find');
  assert.equal(h.chain, chain);
  // The rule as B's nft prints it, with its handle, in the chain it sits in.
  assert.ok(quotes(f).some((q) => q.startsWith('B ') && q.includes(`chain ${chain}:`) && q.includes(`# handle ${h.handle}`) && verb.test(q)), `the quote lacks handle ${h.handle} in ${chain}\n${explain(r)}`);
  assert.ok(f.detail?.includes(`handle ${h.handle}`) || f.title.includes(`handle ${h.handle}`), explain(r));
  assert.match(f.detail ?? '', /counter rose by [1-9]\d* packets?/, explain(r));
}

const CASES: Case[] = [
  {
    title: 'healthy', fault: 'healthy',
    check: (r) => {
      assert.deepEqual(errorsOf(r).map((f) => f.rule), [], explain(r));
      // Nothing is misconfigured here: no host-evidence finding at all, not even a warning.
      assert.deepEqual(r.analysis!.findings.filter((f) => f.rule?.startsWith('evidence-')).map((f) => f.title), [], explain(r));
      assert.equal(r.analysis!.verdict.first_missing, null);
      assert.ok(r.probe?.test?.ok === true, `the test connection itself should succeed\n${explain(r)}`);
    },
  },
  { title: 'fw-drop', fault: 'fw-drop', check: (r, l) => dropRule(r, l, 'from_tunnel', /\bdrop\b/) },
  {
    title: 'healthy over IPv6', fault: 'healthy', target: TARGET6,
    check: (r) => {
      assert.deepEqual(errorsOf(r).map((f) => f.rule), [], explain(r));
      assert.deepEqual(r.analysis!.findings.filter((f) => f.rule?.startsWith('evidence-')).map((f) => f.title), [], explain(r));
    },
  },
  { title: 'fw-drop over IPv6', fault: 'fw-drop6', target: TARGET6, check: (r, l) => dropRule(r, l, 'from_tunnel', /\bdrop\b/) },
  { title: 'fw-drop in the base chain', fault: 'fw-drop-forward', check: (r, l) => dropRule(r, l, 'forward', /\bdrop\b/) },
  { title: 'fw-drop on the reply', fault: 'fw-drop-reply', check: (r, l) => dropRule(r, l, 'forward', /\bdrop\b/) },
  {
    title: 'fw-drop, ping test (the rule drops TCP only)', fault: 'fw-drop', test: 'ping', passes: true,
    check: (r) => {
      // The drop rule exists but does not match ICMP: nothing may blame it.
      assert.equal(r.analysis!.findings.find((f) => f.rule === 'evidence-fw-drop'), undefined, explain(r));
      assert.deepEqual(errorsOf(r).map((f) => f.rule), [], explain(r));
    },
  },
  { title: 'nft reject', fault: 'nft-reject', check: (r, l) => dropRule(r, l, 'from_tunnel', /\breject\b/) },
  { title: 'fw-drop, HTTP test', fault: 'fw-drop', test: 'http:80', check: (r, l) => dropRule(r, l, 'from_tunnel', /\bdrop\b/) },
  {
    title: 'ipt-drop (iptables, nft backend)', fault: 'ipt-drop', needs: 'iptables',
    check: (r) => {
      const f = finding(r, 'evidence-fw-drop');
      assert.deepEqual([f.severity, f.class, f.host], ['error', 'firewall', 'B'], explain(r));
      // The rule the admin wrote, whichever way the host printed it: chain FROM_TUNNEL, the target, DROP.
      assert.ok(quotes(f).some((q) => /FROM_TUNNEL/.test(q) && q.includes(TARGET) && /\bdrop\b/i.test(q)), explain(r));
      assert.match(f.detail ?? '', /counter rose by [1-9]\d* packets?/, explain(r));
    },
  },
  {
    title: 'ipt-reject (iptables-legacy)', fault: 'ipt-reject', needs: 'iptables-legacy',
    check: (r) => {
      // A legacy-iptables host: `nft list ruleset` is empty and succeeds; the rules are only in iptables-save.
      const f = finding(r, 'evidence-fw-drop');
      assert.deepEqual([f.severity, f.class, f.host], ['error', 'firewall', 'B'], explain(r));
      assert.ok(quotes(f).some((q) => q.includes('-A FROM_TUNNEL') && q.includes(`-d ${TARGET}/32`) && q.includes('-j REJECT')), explain(r));
    },
  },
  {
    title: 'allowedips', fault: 'allowedips',
    check: (r, l) => {
      const f = finding(r, 'evidence-wg-allowedips');
      assert.deepEqual([f.severity, f.class, f.host, r.analysis!.verdict.class], ['error', 'wireguard-config', 'B', 'wireguard-config'], explain(r));
      // The peer (A's public key) and what it allows, as B's dump says; the missing address named.
      assert.ok(quotes(f).some((q) => q.startsWith('B ') && q.includes(`peer ${l.pubA}`) && q.includes('allowed-ips 10.0.0.99/32')), explain(r));
      assert.match(`${f.title} ${f.detail}`, /10\.0\.0\.1\b/, explain(r));
    },
  },
  {
    title: 'allowedips, A over ssh', fault: 'allowedips', aOverSsh: true,
    check: (r, l) => {
      const f = finding(r, 'evidence-wg-allowedips');
      assert.deepEqual([f.severity, f.host], ['error', 'B'], explain(r));
      assert.ok(quotes(f).some((q) => q.includes(`peer ${l.pubA}`) && q.includes('allowed-ips 10.0.0.99/32')), explain(r));
    },
  },
  {
    title: 'allowedips on A (the destination left out)', fault: 'allowedips-a',
    check: (r, l) => {
      const f = finding(r, 'evidence-wg-allowedips');
      assert.deepEqual([f.severity, f.class, f.host, r.analysis!.verdict.class], ['error', 'wireguard-config', 'A', 'wireguard-config'], explain(r));
      assert.ok(quotes(f).some((q) => q.startsWith('A ') && q.includes(`peer ${l.pubB}`) && !q.includes('192.168.200.0/24')), explain(r));
      assert.match(`${f.title} ${f.detail}`, /192\.168\.200\.22\b/, explain(r));
    },
  },
  {
    title: 'no-forward', fault: 'no-forward',
    check: (r) => {
      const f = finding(r, 'evidence-forwarding-off');
      assert.deepEqual([f.severity, f.class, f.host, r.analysis!.verdict.class], ['error', 'routing', 'B', 'routing'], explain(r));
      assert.ok(quotes(f).includes('B net.ipv4.ip_forward = 0'), explain(r));
    },
  },
  {
    title: 'wrong-port', fault: 'wrong-port',
    check: (r) => {
      const f = finding(r, 'evidence-wg-endpoint-port');
      assert.deepEqual([f.severity, f.class, f.host], ['error', 'wireguard-config', 'A'], explain(r));
      const q = quotes(f);
      assert.ok(q.some((x) => x.startsWith('A ') && x.includes(`endpoint ${B_ADDR}:51823`)), explain(r));
      assert.ok(q.some((x) => x.startsWith('B ') && x.includes('listen-port 51822')), explain(r));
    },
  },
  {
    title: 'policy-route', fault: 'policy-route',
    check: (r) => {
      const f = finding(r, 'evidence-route-missing');
      assert.deepEqual([f.severity, f.class, f.host, r.analysis!.verdict.class], ['error', 'routing', 'B', 'routing'], explain(r));
      const q = quotes(f);
      assert.ok(q.some((x) => x === 'B 1000: from 10.0.0.0/24 lookup 100'), explain(r));
      assert.ok(q.some((x) => x.startsWith('B default via 203.0.113.1 dev eth0') && x.includes('table 100')), explain(r));
    },
  },
  {
    title: 'policy-route, A over ssh, HTTP', fault: 'policy-route', aOverSsh: true, test: 'http:80',
    check: (r) => {
      const f = finding(r, 'evidence-route-missing');
      assert.deepEqual([f.severity, f.host], ['error', 'B'], explain(r));
      assert.ok(quotes(f).some((x) => x === 'B 1000: from 10.0.0.0/24 lookup 100'), explain(r));
    },
  },
];

const runs: ProbeRun[] = [];

for (const c of CASES) {
  const own = skip || (c.needs !== undefined && !which(c.needs) ? `probe WireGuard ${c.title} skipped: no ${c.needs}` : false);
  if (own && !skip) process.stdout.write(`# ${own}\n`);
  test(`probe WireGuard ${c.title}: ${c.fault === 'healthy' || c.passes ? 'ok, exit 0' : 'names the responsible item, exit 3'}; evidence alone agrees`, { skip: own, timeout: 90_000 }, async () => {
    const r = await probe(c);
    runs.push(r);
    // The named item, and evidence alone agreeing, are checked and reported apart.
    allOf(() => c.check(r, lab!), () => sameAsReplay(r, c.test ?? 'tcp:80', c.target));
  });
}

test('probe WireGuard, B captures nothing (--b-iface lo): A\'s files are kept and the failure is one clear line, never "ok"', { skip, timeout: 90_000 }, async () => {
  const l = lab!;
  l.set('healthy');
  const out = join(l.lab.dir, 'out-b-empty');
  const r = await runProbe(l.a, ['--a', 'local', '--b', `root@${B_ADDR}:${SSH_PORT}`, '--b-iface', 'lo', '--key', l.lab.key, '--known-hosts', l.lab.knownHosts,
    '--target', TARGET, '--test', 'tcp:80', '--settle', '0.5', '--timeout', '3'], out);
  process.stdout.write(`# probe B-empty: exit ${r.code} in ${r.ms} ms, failed ${JSON.stringify(r.probe?.failed)}\n`);
  // B saw none of the test: the path cannot be called ok.
  assert.notEqual(r.code, 0, explain(r));
  assert.ok(r.probe, `no probe.json\n${explain(r)}`);
  assert.ok(r.probe.files.A.capture !== '' && existsSync(r.probe.files.A.capture), `A's capture is not kept\n${explain(r)}`);
  if (r.probe.failed) {
    // A step failure names B and says why in words, not as a system error code.
    assert.equal(r.probe.failed.host, 'B', explain(r));
    assert.doesNotMatch(r.probe.failed.message, /ENOENT|no such file|EACCES|at .*\.ts:\d+/, explain(r));
  } else {
    assert.ok(r.analysis && r.analysis.verdict.status !== 'ok', explain(r));
  }
  assert.doesNotMatch(r.stderr, /ENOENT|\n\s+at /, explain(r));
});

test('probe WireGuard: every quote names the file and line it came from', { skip }, () => {
  assert.ok(runs.length > 0, 'no probe ran');
  assert.deepEqual(runs.flatMap((r) => wrongSources(r).map((x) => `${r.outDir}: ${x}`)), []);
});

test('probe WireGuard lab: cleanup leaves no namespace, daemon, sshd or folder behind', { skip }, async () => {
  const l = lab!;
  l.cleanup();
  assert.deepEqual(await l.lab.leftovers(), []);
});
