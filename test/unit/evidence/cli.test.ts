// `tandem analyze A B --a-evidence … --b-evidence …` on the lab fixtures: both ends' captures of
// the test and each host's command outputs from the same run. The evidence must name the item
// that is wrong and settle the verdict's class; the healthy run stays ok.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { EVID, SCENARIOS } from './helpers.ts';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const ENTRY = "import { main } from './bin/cli/main.ts'; process.exitCode = await main(process.argv.slice(1));";

function tandem(args: string[]): { code: number | null; out: string; err: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', ENTRY, '--', ...args], { cwd: ROOT, encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

function analyzeScenario(s: string, evidence = true) {
  const d = `${EVID}wg/${s}/`;
  const fw = s === 'ipt-drop' ? 'iptables' : 'nft';
  const ev = (h: 'A' | 'B') => {
    if (!evidence) return [];
    const files = ['wg-dump-after.txt', 'ip-o-addr.txt', 'ip-o-route-all.txt', 'ip-rule.txt', 'sysctl.txt', 'before-ip-s-link.txt', 'after-ip-s-link.txt'];
    if (h === 'B') files.push(`before-${fw}.txt`, `after-${fw}.txt`);
    return files.flatMap((f) => [`--${h.toLowerCase()}-evidence`, `${d}${h}/${f}`]);
  };
  const r = tandem(['analyze', `${d}A/capture.pcap`, `${d}B/capture.pcap`, '--a-links', `${d}A/ip-o-link.txt`, '--b-links', `${d}B/ip-o-link.txt`,
    '--flow', 'tcp 192.168.200.22:80', '--json', '-', ...ev('A'), ...ev('B')]);
  assert.equal(r.code, 0, r.err);
  return JSON.parse(r.out) as { verdict: { status: string; class: string; host: string }; findings: Array<{ rule?: string; severity: string; class: string; title: string; host_evidence?: Array<{ host: string; source: string; text: string }> }> };
}

const EXPECT: Record<string, { rule: string; cls: string; quote: RegExp } | null> = {
  healthy: null,
  'fw-drop': { rule: 'evidence-fw-drop', cls: 'firewall', quote: /chain from_tunnel: ip daddr @blocked tcp dport \{ 80, 443 \} counter packets \d+ bytes \d+ drop # handle 11/ },
  'ipt-drop': { rule: 'evidence-fw-drop', cls: 'firewall', quote: /-A FROM_TUNNEL -d 192\.168\.200\.22\/32 -p tcp -m multiport --dports 80,443 -j DROP/ },
  allowedips: { rule: 'evidence-wg-allowedips', cls: 'wireguard-config', quote: /allowed-ips 10\.0\.0\.99\/32/ },
  'no-forward': { rule: 'evidence-forwarding-off', cls: 'routing', quote: /^net\.ipv4\.ip_forward = 0$/ },
  'wrong-port': { rule: 'evidence-wg-endpoint-port', cls: 'wireguard-config', quote: /endpoint 203\.0\.113\.2:51823/ },
  'policy-route': { rule: 'evidence-route-missing', cls: 'routing', quote: /^default via 203\.0\.113\.1 dev eth0 table 100$/ },
};

for (const s of SCENARIOS) {
  test(`analyze with host evidence: ${s}`, () => {
    const r = analyzeScenario(s);
    const want = EXPECT[s]!;
    if (want === null) {
      assert.equal(r.verdict.status, 'ok');
      assert.ok(!r.findings.some((f) => f.rule?.startsWith('evidence-')), JSON.stringify(r.findings.map((f) => f.rule)));
      return;
    }
    assert.equal(r.verdict.status, 'fail');
    assert.equal(r.verdict.class, want.cls, 'the evidence settles the class (no "-or-")');
    const f = r.findings.find((x) => x.rule === want.rule && x.severity === 'error');
    assert.ok(f, `an error finding from ${want.rule}: ${JSON.stringify(r.findings.map((x) => `${x.rule}:${x.severity}`))}`);
    assert.ok(f.host_evidence?.some((q) => want.quote.test(q.text)), JSON.stringify(f.host_evidence));
  });
}

test('without evidence the same captures keep the generic reading (what the evidence adds)', () => {
  const r = analyzeScenario('fw-drop', false);
  assert.equal(r.verdict.status, 'fail');
  assert.ok(!r.findings.some((f) => f.host_evidence !== undefined && f.host_evidence.length > 0));
});

test('usage errors: an evidence file no parser knows, a missing value; the text output quotes the evidence', () => {
  const d = `${EVID}wg/fw-drop/`;
  const base = ['analyze', `${d}A/capture.pcap`, `${d}B/capture.pcap`, '--a-links', `${d}A/ip-o-link.txt`, '--b-links', `${d}B/ip-o-link.txt`];
  const bad = tandem([...base, '--b-evidence', `${d}../../ipsec/hand/README.md`]);
  assert.equal(bad.code, 2);
  assert.match(bad.err, /--b-evidence README\.md: not the output of a command Tandem reads \(line 1:/);
  const none = tandem([...base, '--a-evidence']);
  assert.equal(none.code, 2);
  assert.match(none.err, /--a-evidence needs a value/);
  const txt = tandem([...base, '--flow', 'tcp 192.168.200.22:80', `--b-evidence=${d}B/after-nft.txt`, '--b-evidence', `${d}B/before-nft.txt`]);
  assert.equal(txt.code, 0, txt.err);
  assert.match(txt.out, /\n {4}B after-nft\.txt line \d+: table inet filter chain from_tunnel: .*# handle 11\n/);
});

test('IPsec lab capture (selector-missing) with swanctl --list-sas of both gateways: the child SA is quoted', () => {
  const cap = `${ROOT}test/lab/ipsec/captures/selector-missing/`, ev = `${EVID}ipsec/selector-missing/`;
  const r = tandem(['analyze', `${cap}A.pcapng`, `${cap}B.pcapng`, '--flow', 'tcp 10.2.1.22:80', '--json', '-', '--a-evidence', `${ev}A-sas.txt`, '--b-evidence', `${ev}B-sas.txt`]);
  assert.equal(r.code, 0, r.err);
  const j = JSON.parse(r.out) as { verdict: { status: string; class: string }; findings: Array<{ rule?: string; severity: string; host: string; host_evidence?: Array<{ text: string }> }> };
  assert.equal(j.verdict.status, 'fail');
  assert.equal(j.verdict.class, 'ipsec-config');
  const f = j.findings.find((x) => x.rule === 'evidence-ipsec-ts' && x.host === 'A');
  assert.ok(f && f.severity === 'error', JSON.stringify(j.findings.map((x) => x.rule)));
  assert.match(f.host_evidence![0]!.text, /remote 10\.2\.0\.0\/24$/);
  // The neighbouring subnet that the selectors do cover: no evidence finding.
  const ok = tandem(['analyze', `${cap}A.pcapng`, `${cap}B.pcapng`, '--flow', 'tcp 10.2.0.22:80', '--json', '-', '--a-evidence', `${ev}A-sas.txt`, '--b-evidence', `${ev}B-sas.txt`]);
  assert.equal(ok.code, 0, ok.err);
  assert.ok(!(JSON.parse(ok.out) as { findings: Array<{ rule?: string }> }).findings.some((x) => x.rule?.startsWith('evidence-')));
});
