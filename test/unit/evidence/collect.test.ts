// shared/evidence/collect.ts: the named texts the app stores (and the CLI reads from files) turned
// into the bundles the analysis takes. Real lab fixtures: both ends' `tcpdump -i any` captures of
// the test and each host's command outputs from the same run (test/fixtures/evidence/wg/).
// Neighbours: other firewall (iptables), other order, unnamed pastes, noise around the evidence,
// files given the other way round (role swap), an unknown text among known ones.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { openCapture } from '../../../bin/cli/io.ts';
import { analyze, type CaptureInput } from '../../../shared/analysis/index.ts';
import { parseIpLink } from '../../../shared/capture-file/links.ts';
import { loadCompact } from '../../../shared/ingest/load-capture.ts';
import {
  EVIDENCE_FORMAT_LABEL, evidenceFromTexts, evidenceSizeError, hostsEvidence, MAX_EVIDENCE_BYTES, MAX_KEPT_PROBLEMS, readEvidenceText, REMOVED_WG_KEY,
  withoutSecrets, type EvidenceText,
} from '../../../shared/evidence/collect.ts';
import { detectAndParse } from '../../../shared/evidence/detect.ts';
import { EVID, fx, hostOf } from './helpers.ts';

const texts = (scenario: string, host: 'A' | 'B', files: string[]): EvidenceText[] =>
  files.map((f) => ({ name: f, text: fx(`wg/${scenario}/${host}/${f}`) }));

const B_FILES = ['wg-dump-after.txt', 'ip-o-addr.txt', 'ip-o-route-all.txt', 'ip-rule.txt', 'sysctl.txt', 'before-nft.txt', 'after-nft.txt'];

async function capture(scenario: string, host: 'A' | 'B'): Promise<CaptureInput> {
  const d = `${EVID}wg/${scenario}/${host}/`;
  const r = await loadCompact(openCapture(`${d}capture.pcap`), { summary: false, linkNames: parseIpLink(fx(`wg/${scenario}/${host}/ip-o-link.txt`)) });
  return { name: `${scenario}-${host}.pcap`, packets: r.packets, interfaces: r.interfaces };
}

test('every fixture text is read with the format its command prints, and a label for it', () => {
  for (const scenario of ['fw-drop', 'ipt-drop']) {
    for (const host of ['A', 'B'] as const) {
      for (const f of readdirSync(`${EVID}wg/${scenario}/${host}`).filter((x) => x.endsWith('.txt') || x.endsWith('.json'))) {
        const text = fx(`wg/${scenario}/${host}/${f}`);
        const r = readEvidenceText(f, text);
        // `ip -o link` names interfaces (the Interface names dialog, --a-links): no host evidence.
        if (f === 'ip-o-link.txt') {
          assert.equal(r.format, null);
          continue;
        }
        if (text.trim() === '') {
          assert.equal(r.format, null, f);
          assert.match(r.error!, new RegExp(`^${f.replace('.', '\\.')}: not the output of a command Tandem reads \\(empty\\)$`));
          continue;
        }
        assert.notEqual(r.format, null, `${scenario}/${host}/${f}: ${r.error}`);
        assert.equal(typeof EVIDENCE_FORMAT_LABEL[r.format!], 'string');
        if (f.includes('nft') && !f.endsWith('.json') && scenario === 'fw-drop') assert.equal(r.format, 'nft-text', f);
        if (f === 'nft.json') assert.equal(r.format, 'nft-json');
        if (f.startsWith('wg-dump')) assert.equal(r.format, 'wg-dump');
        if (scenario === 'ipt-drop' && host === 'B' && f.includes('iptables')) assert.equal(r.format, 'iptables-save', f);
      }
    }
  }
});

test('the bundle from texts is the one addEvidence builds file by file (the CLI and the app agree)', () => {
  const files = ['wg-dump-after.txt', 'ip-o-addr.txt', 'ip-o-route-all.txt', 'ip-rule.txt', 'sysctl.txt', 'before-nft.txt', 'after-nft.txt',
    'before-ip-s-link.txt', 'after-ip-s-link.txt', 'before-wg-transfer.txt', 'after-wg-transfer.txt'];
  const { evidence, readings } = evidenceFromTexts(texts('fw-drop', 'B', files));
  assert.deepEqual(evidence, hostOf('fw-drop', 'B'));
  assert.deepEqual(readings.map((r) => r.name), files);
  assert.ok(readings.every((r) => r.error === undefined));
  assert.equal(evidence!.from.firewall, 'after-nft.txt');
  assert.deepEqual(evidence!.sources.filter((s) => s.format === 'nft-text').map((s) => s.when), ['before', 'after']);
});

test('an unknown text among known ones: named with its line, the others kept; a host with only unknown texts has no bundle', () => {
  const mixed = [{ name: 'notes.md', text: '\n\n# what I tried\nrestarted wg\n' }, ...texts('fw-drop', 'B', ['sysctl.txt'])];
  const r = evidenceFromTexts(mixed);
  assert.equal(r.readings[0]!.format, null);
  assert.equal(r.readings[0]!.error, 'notes.md: not the output of a command Tandem reads (line 3: "# what I tried")');
  assert.equal(r.readings[1]!.format, 'sysctl');
  assert.deepEqual(r.evidence!.sources.map((s) => s.name), ['sysctl.txt']);
  assert.equal(evidenceFromTexts([mixed[0]!]).evidence, undefined);
  assert.equal(evidenceFromTexts([]).evidence, undefined);
  const both = hostsEvidence({ A: [mixed[0]!], B: [] });
  assert.equal(both.evidence, undefined, 'nothing recognised: the analysis gets no evidence option at all');
  assert.equal(both.readings.A.length, 1);
});

test('lines not understood: kept with the line as given (CRLF counted right), at most MAX_KEPT_PROBLEMS, the total said', () => {
  const sysctl = 'net.ipv4.ip_forward = 1\r\nthis is no sysctl line <b>\u202e\r\nnet.ipv4.conf.all.rp_filter = 2\r\n';
  const r = readEvidenceText('sysctl paste', sysctl);
  assert.equal(r.format, 'sysctl');
  assert.equal(r.problemCount, 1);
  assert.equal(r.problems[0]!.line, 2);
  assert.equal(r.problems[0]!.text, 'this is no sysctl line <b>\u202e', 'the raw line: escaping is the display\'s job');
  // An nft ruleset with a few hundred lines nobody understands inside a table.
  const junk = Array.from({ length: 250 }, (_, i) => `    what is this ${i}`).join('\n');
  const nft = `table inet filter {\n  chain forward {\n    type filter hook forward priority filter; policy accept;\n  }\n${junk}\n}\n`;
  const n = readEvidenceText('nft.txt', nft);
  assert.equal(n.format, 'nft-text');
  assert.ok(n.problemCount >= 250, String(n.problemCount));
  assert.equal(n.problems.length, MAX_KEPT_PROBLEMS);
  assert.equal(n.problems[0]!.line, 5);
  assert.equal(n.problems[0]!.text, '    what is this 0');
  const long = readEvidenceText('nft.txt', nft.replace('what is this 0', 'x'.repeat(500)));
  assert.ok(long.problems[0]!.text!.length <= 201 && long.problems[0]!.text!.endsWith('…'));
});

test('size limit: 16 MiB accepted, one byte more refused with one line naming the item', () => {
  assert.equal(evidenceSizeError('a.txt', MAX_EVIDENCE_BYTES), null);
  assert.equal(evidenceSizeError('a.txt', 0), null);
  const m = evidenceSizeError('big.txt', MAX_EVIDENCE_BYTES + 1);
  assert.match(m!, /^big\.txt: 16777217 bytes is over the 16\.0 MiB limit for host evidence; /);
  assert.doesNotMatch(m!, /\n/);
  assert.match(evidenceSizeError('huge.log', 200 * 1048576)!, /^huge\.log: 200\.0 MiB is over/);
});

// ---- through the analysis, as the app's session worker and the CLI call it

test('fw-drop: texts → analysis quotes the drop rule and settles the class; without them firewall-or-routing', async () => {
  const [a, b] = await Promise.all([capture('fw-drop', 'A'), capture('fw-drop', 'B')]);
  const flow = 'tcp 192.168.200.22:80';
  const plain = analyze(a, b, { flow });
  assert.equal(plain.verdict.class, 'firewall-or-routing');
  const ev = hostsEvidence({ B: texts('fw-drop', 'B', B_FILES) }).evidence!;
  const r = analyze(a, b, { flow, evidence: ev });
  assert.equal(r.verdict.class, 'firewall');
  const f = r.findings.find((x) => x.rule === 'evidence-fw-drop' && x.severity === 'error');
  assert.ok(f, JSON.stringify(r.findings.map((x) => x.rule)));
  const q = f.host_evidence!.find((x) => /# handle 11$/.test(x.text));
  assert.ok(q, JSON.stringify(f.host_evidence));
  assert.equal(q.host, 'B');
  assert.match(q.source, /^after-nft\.txt line \d+$/);

  // Neighbours: the after reading first (names decide), unnamed pastes in test order, noise around it.
  const reordered = hostsEvidence({ B: texts('fw-drop', 'B', [...B_FILES].reverse()) }).evidence!;
  assert.equal(analyze(a, b, { flow, evidence: reordered }).verdict.class, 'firewall');
  const pasted = texts('fw-drop', 'B', B_FILES).map((t, i) => ({ name: `pasted ${i + 1}`, text: `root@beta:~# cat x\n${t.text}` }));
  const rp = analyze(a, b, { flow, evidence: hostsEvidence({ B: pasted }).evidence! });
  assert.equal(rp.verdict.class, 'firewall');
  assert.ok(rp.findings.some((x) => x.host_evidence?.some((h) => /^pasted 7 line \d+$/.test(h.source) && /# handle 11$/.test(h.text))));
  const noisy = hostsEvidence({ A: texts('fw-drop', 'A', ['wg-dump-after.txt', 'ip-o-route-all.txt', 'after-nft.txt']), B: [{ name: 'junk', text: 'hello' }, ...texts('fw-drop', 'B', B_FILES)] });
  assert.equal(noisy.readings.A[2]!.format, null, 'A\'s empty nft file is named, not fatal');
  assert.equal(analyze(a, b, { flow, evidence: noisy.evidence! }).verdict.class, 'firewall');
});

test('role swap: evidence follows its host when the captures are given the other way round', async () => {
  const [a, b] = await Promise.all([capture('fw-drop', 'A'), capture('fw-drop', 'B')]);
  const flow = 'tcp 192.168.200.22:80';
  // The receiving host's capture given first: its evidence is keyed A, as the app stores it.
  const ev = hostsEvidence({ A: texts('fw-drop', 'B', B_FILES), B: texts('fw-drop', 'A', ['wg-dump-after.txt', 'ip-o-route-all.txt']) }).evidence!;
  const r = analyze(b, a, { flow, evidence: ev });
  assert.equal(r.captures.A.role_swapped, true);
  assert.equal(r.verdict.class, 'firewall');
  assert.equal(r.verdict.host, 'B');
  const f = r.findings.find((x) => x.rule === 'evidence-fw-drop');
  assert.ok(f?.host_evidence?.some((q) => q.host === 'B' && /# handle 11$/.test(q.text)), JSON.stringify(f?.host_evidence));
  // Kept as given, the receiver's evidence sits with the initiator's role and settles nothing.
  const kept = analyze(b, a, { flow, evidence: ev, keepGivenRoles: true });
  assert.ok(!kept.findings.some((x) => x.rule === 'evidence-fw-drop'));
});

test('ipt-drop (iptables-save -c instead of nft): the same path quotes the iptables rule', async () => {
  const [a, b] = await Promise.all([capture('ipt-drop', 'A'), capture('ipt-drop', 'B')]);
  const files = B_FILES.map((f) => f.replace('nft', 'iptables'));
  const r = analyze(a, b, { flow: 'tcp 192.168.200.22:80', evidence: hostsEvidence({ B: texts('ipt-drop', 'B', files) }).evidence! });
  assert.equal(r.verdict.class, 'firewall');
  assert.ok(r.findings.some((x) => x.host_evidence?.some((q) => /-A FROM_TUNNEL -d 192\.168\.200\.22\/32 -p tcp -m multiport --dports 80,443 -j DROP/.test(q.text))));
});

// ---- secrets are not kept: what the parsers never use is taken out before a text is stored

const facts = (name: string, text: string) => detectAndParse(text, name).facts;

test('wg show all dump: private and preshared keys replaced, public keys and every fact unchanged, in both dump forms', () => {
  const dump = fx('wg/fw-drop/B/wg-dump-after.txt');
  const priv = dump.split('\t')[1]!;
  const r = withoutSecrets('wg-dump', dump);
  assert.equal(r.removed, 1, 'one interface line; the peer has no preshared key');
  assert.ok(!r.text.includes(priv));
  assert.ok(r.text.includes(REMOVED_WG_KEY));
  assert.deepEqual(facts('d', r.text), facts('d', dump));
  assert.equal(readEvidenceText('d', r.text).format, 'wg-dump');
  // A peer with a preshared key, `wg show wg0 dump` (no interface column), spaces instead of tabs, CRLF, a prompt.
  const k = (c: string) => c.repeat(42) + 'A=';
  const psk = k('p'), pk = k('q');
  const one = `root@b:~# wg show wg0 dump\r\n${pk}  ${k('P')}  51820  off\r\n${k('Q')}  ${psk}  203.0.113.1:51821  10.0.0.1/32  0  0  0  25\r\n`;
  const r1 = withoutSecrets('wg-dump', one);
  assert.equal(r1.removed, 2);
  assert.ok(!r1.text.includes(psk) && !r1.text.includes(pk));
  assert.ok(r1.text.includes(k('P')) && r1.text.includes(k('Q')), 'public keys stay');
  assert.equal(r1.text.split('\r\n').length, one.split('\r\n').length);
  assert.deepEqual(facts('d', r1.text), facts('d', one));
  assert.equal((facts('d', r1.text) as { peers: Array<{ hasPresharedKey: boolean }> }).peers[0]!.hasPresharedKey, true);
  assert.deepEqual(withoutSecrets('wg-dump', r1.text), { text: r1.text, removed: 0 }, 'a second pass finds nothing');
  // Not a dump: nothing touched, even a key-shaped token.
  assert.deepEqual(withoutSecrets('wg-transfer', fx('wg/fw-drop/B/after-wg-transfer.txt')).removed, 0);
});

test('ip xfrm state: ESP keys replaced, algorithms and the facts unchanged', () => {
  const x = fx('ipsec/xfrm-state.txt');
  const r = withoutSecrets('xfrm-state', x);
  assert.equal(r.removed, 4);
  assert.doesNotMatch(r.text, /0x5f0c1d9e|0x0f1e2d3c|0x8899aabb|0xffeeddcc/);
  assert.match(r.text, /auth-trunc hmac\(sha256\) \(removed-by-Tandem\) 128/);
  assert.match(r.text, /proto esp spi 0x8ec4633e/, 'SPIs are no secret and stay');
  assert.deepEqual(facts('x', r.text), facts('x', x));
});
