// A `tcpdump -i any` capture imported without `ip -o link` names its interfaces "ifN". Host evidence
// names them "wg0", "eth1": the checks must not read the difference as a wrong route or an unmatched
// `iifname` rule. The host's own `ip -o addr` (or `ip -s link`) maps index N to its name.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { EVID } from './helpers.ts';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const ENTRY = "import { main } from './bin/cli/main.ts'; process.exitCode = await main(process.argv.slice(1));";
const D = `${EVID}wg/fw-drop/`;

type Out = { verdict: { class: string }; findings: Array<{ rule?: string; title: string; host_evidence?: Array<{ text: string }> }> };
function analyze(bFiles: string[], extra: string[] = []): Out {
  const args = ['analyze', `${D}A/capture.pcap`, `${D}B/capture.pcap`, '--json', '-', ...extra, ...bFiles.flatMap((f) => ['--b-evidence', `${D}B/${f}`])];
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', ENTRY, '--', ...args], { cwd: ROOT, encoding: 'utf8', timeout: 120_000 });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as Out;
}
const rules = (o: Out): string[] => o.findings.map((f) => f.rule ?? '');

test('routes alone on an unnamed capture: no invented "wrong interface" finding', () => {
  const o = analyze(['ip-o-route-all.txt']);
  assert.ok(!rules(o).includes('evidence-route-missing'), JSON.stringify(o.findings.map((f) => f.title)));
  assert.equal(o.verdict.class, 'firewall-or-routing');
});

test('the host\'s ip -o addr names the indexes: the drop rule behind `iifname "wg0"` is found, as with ip -o link', () => {
  for (const extra of [[], ['--b-links', `${D}B/ip-o-link.txt`]]) {
    const o = analyze(['ip-o-route-all.txt', 'ip-o-addr.txt', 'before-nft.txt', 'after-nft.txt'], extra);
    assert.equal(o.verdict.class, 'firewall');
    const fw = o.findings.find((f) => f.rule === 'evidence-fw-drop');
    assert.ok(fw, JSON.stringify(o.findings.map((f) => f.title)));
    assert.match(fw.host_evidence![0]!.text, /drop # handle 11$/);
    assert.ok(!rules(o).includes('evidence-route-missing'));
  }
});

test('ip -s link alone maps the indexes too', () => {
  const o = analyze(['ip-o-route-all.txt', 'before-ip-s-link.txt', 'after-ip-s-link.txt', 'before-nft.txt', 'after-nft.txt']);
  assert.match(o.findings.find((f) => f.rule === 'evidence-fw-drop')?.host_evidence?.[0]?.text ?? '', /# handle 11$/);
});
