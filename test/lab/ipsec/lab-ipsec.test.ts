// The real IPsec test network: lab-ipsec.sh builds two strongSwan gateways (IKEv2, PSK, userspace
// ESP over TUN, NAT-T through a NAT router) in network namespaces, breaks the path the way each
// scenario of scenarios.json says, and captures both gateways. `tandem analyze` must name the first
// missing checkpoint, class and host the domain rules prescribe, from each input form the WireGuard
// lab checks too: pcapng, SLL2 + `ip -o link`, A pcapng + B live `tcpdump -n -i any` text, text on both ends.
//
// TANDEM_IPSEC_LAB_DIR=/some/dir reuses captures made by `test/lab/ipsec/lab-ipsec.sh --out /some/dir all`
// (then neither root nor strongSwan is needed); otherwise a fresh set goes to a temp dir.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { analyzeJson, assertMentions, assertRun, assertVerdict, context, missingTools, setUpLab, show, type AnalyzeResult, type LabScenario } from '../harness.ts';

const here = fileURLToPath(new URL('.', import.meta.url));

interface Scenario extends LabScenario { flow: string; present: string[] }
/** A scenario's captures given the other way round: gateway B's files in A's place. */
interface Swapped extends LabScenario { of: string }
const table = JSON.parse(readFileSync(join(here, 'scenarios.json'), 'utf8')) as { scenarios: Scenario[]; swapped: Swapped[] };
const scenarios = table.scenarios;

const haveCaptures = (dir: string): boolean => scenarios.every((s) => existsSync(join(dir, s.name, 'run.json')) && existsSync(join(dir, s.name, 'B.txt')));

const lab = setUpLab({
  name: 'IPsec lab',
  subject: 'the IPsec lab',
  reuseEnv: 'TANDEM_IPSEC_LAB_DIR',
  haveCaptures,
  whyNotFresh: () => {
    const missing = missingTools(['ip', 'nft', 'tcpdump', 'dumpcap', 'curl', 'swanctl', '/usr/lib/ipsec/charon']);
    if (missing.length) return `the IPsec lab needs ${missing.join(', ')} (Debian: strongswan-charon strongswan-swanctl libcharon-extra-plugins)`;
    if (!existsSync('/usr/lib/ipsec/plugins/libstrongswan-kernel-libipsec.so')) return 'the IPsec lab needs the kernel-libipsec plugin (libcharon-extra-plugins)';
    if (!existsSync('/dev/net/tun')) return 'the IPsec lab needs /dev/net/tun';
    return null;
  },
  script: join(here, 'lab-ipsec.sh'),
  tempPrefix: 'tandem-ipsec-lab-',
  timeoutMs: 240_000,
  scenarioCount: scenarios.length,
});
const skip = lab.skip;
const haveTshark = missingTools(['tshark']).length === 0;

interface Result extends AnalyzeResult {
  lineage: { direction: string; hops: { capture: string; frame: number; checkpoint: string | null; iface: string }[] }[];
  variant: { tunnel: string };
}

/** The input forms, as in lab.test.ts: files for A and B, and whether SLL2 needs the `ip -o link` names. */
const FORMS = [
  { title: 'pcapng', a: 'A.pcapng', b: 'B.pcapng', links: false },
  { title: 'SLL2 -i any with ip -o link', a: 'A-any.pcap', b: 'B-any.pcap', links: true },
  // The far gateway often offers only a terminal: B as live `tcpdump -n -i any` text (no date, no -v).
  { title: 'A pcapng + B tcpdump text', a: 'A.pcapng', b: 'B.txt', links: false },
  { title: 'tcpdump text on both ends', a: 'A.txt', b: 'B.txt', links: false },
] as const;
type Form = (typeof FORMS)[number];

function analyze(dir: string, flow: string, form: Form = FORMS[0]): Result {
  const args = ['analyze', join(dir, form.a), join(dir, form.b)];
  if (form.links) args.push('--a-links', join(dir, 'A-links.txt'), '--b-links', join(dir, 'B-links.txt'));
  args.push('--flow', flow);
  return analyzeJson<Result>(args);
}

/** tshark's reading of one frame's ESP header: [spi, sequence]. */
function tsharkEsp(file: string, frame: number): [string, string] {
  const r = spawnSync('tshark', ['-r', file, '-Y', `frame.number == ${frame}`, '-T', 'fields', '-e', 'esp.spi', '-e', 'esp.sequence'], { encoding: 'utf8' });
  const [spi = '', seq = ''] = r.stdout.trim().split('\t');
  return [spi, seq];
}

for (const s of scenarios) {
  test(`IPsec lab ${s.name}: the captures show the fault`, { skip }, () => {
    assertRun(s, join(lab.dir(), s.name), ['A.pcapng', 'B.pcapng', 'A-any.pcap', 'B-any.pcap', 'A-links.txt', 'B-links.txt', 'A.txt', 'B.txt']);
  });
  for (const form of FORMS) {
    test(`IPsec lab ${s.name}: verdict from ${form.title}`, { skip }, () => {
      const r = analyze(join(lab.dir(), s.name), s.flow, form);
      assert.equal(r.variant.tunnel, 'ipsec', context(s, r));
      assertVerdict(s, r);
      assertMentions(s, r);
      // Gateway A initiates in every scenario (IKE Initiator flag, first SYN): the order given is right.
      assert.notEqual(r.captures.A.role_swapped, true, `${s.name}: A is the initiator, nothing to swap; ${show(r)}`);
      const got = new Set(r.checkpoints.map((c) => c.label));
      assert.deepEqual(s.present.filter((l) => !got.has(l)), [], `${s.name}: checkpoints the captures show are missing; ${show(r)}`);
    });
  }
}

// Roles come from the data (IKE Initiator flag, first main-mode message, first SYN): B's files given
// as A must give the unswapped verdict with the swap reported, or "inconclusive" about the roles.
for (const w of table.swapped) {
  const of = scenarios.find((s) => s.name === w.of)!;
  for (const form of FORMS) {
    test(`IPsec lab ${w.name}: ${w.of} with A and B given the other way round, ${form.title}`, { skip }, () => {
      const dir = join(lab.dir(), w.of);
      const args = ['analyze', join(dir, form.b), join(dir, form.a)];
      if (form.links) args.push('--a-links', join(dir, 'B-links.txt'), '--b-links', join(dir, 'A-links.txt'));
      args.push('--flow', of.flow);
      const r = analyzeJson<Result>(args);
      if (r.verdict.status === 'inconclusive') {
        assert.match(r.verdict.summary, /role|swap|order|initiat/i, `${w.name}: an inconclusive answer must say it is about the roles; ${show(r)}`);
        return;
      }
      assertVerdict(w, r);
      assert.equal(r.captures.A.role_swapped, true, `${w.name}: the swap must be reported (captures.A.role_swapped); ${show(r)}`);
    });
  }
}

test('IPsec lab healthy: lineage follows the SYN from A\'s LAN side through ESP to B\'s LAN, ESP paired by SPI + sequence', { skip }, () => {
  const dir = join(lab.dir(), 'healthy');
  const r = analyze(dir, scenarios[0]!.flow);
  const req = r.lineage.find((l) => l.direction === 'request');
  assert.ok(req !== undefined, show(r));
  const labels = req.hops.map((h) => h.checkpoint);
  for (const l of ['A1', 'A4', 'B3', 'B4', 'B5']) assert.ok(labels.includes(l), `request lineage lacks ${l}: ${JSON.stringify(req.hops)}`);
  const cp = (l: string) => r.checkpoints.find((c) => c.label === l)!;
  assert.equal(cp('A0').iface, 'lan0');
  assert.equal(cp('A7').iface, 'lan0');
  assert.equal(cp('A1').iface, 'ipsec0');
  assert.equal(cp('B5').iface, 'eth1');
  if (!haveTshark) { console.log('# skip ESP cross-check: tshark not installed'); return; }
  // The ESP pair the engine chose is the same datagram on both gateways according to tshark.
  for (const [a, b] of [['A4', 'B3'], ['B8', 'A5']] as const) {
    const ea = tsharkEsp(join(dir, cp(a).capture === 'A' ? 'A.pcapng' : 'B.pcapng'), cp(a).frame);
    const eb = tsharkEsp(join(dir, cp(b).capture === 'A' ? 'A.pcapng' : 'B.pcapng'), cp(b).frame);
    assert.ok(ea[0] !== '' && ea[1] !== '', `${a}: tshark sees no ESP in frame ${cp(a).frame}`);
    assert.deepEqual(eb, ea, `${a} and ${b} should be the same ESP datagram (SPI, sequence)`);
  }
});
