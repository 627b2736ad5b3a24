import { test } from 'node:test';
import assert from 'node:assert/strict';
import { addEvidence, detectAndParse, detectFormat, emptyEvidence, EvidenceFormatError, gatherEvidence } from '../../../shared/evidence/detect.ts';
import { fx, hostOf, SCENARIOS } from './helpers.ts';

const EXPECT: Record<string, string> = {
  'wg-dump.txt': 'wg-dump', 'wg-dump-after.txt': 'wg-dump', 'before-wg-transfer.txt': 'wg-transfer', 'ip-o-addr.txt': 'ip-addr',
  'ip-o-route-all.txt': 'ip-route', 'ip-route.txt': 'ip-route', 'ip-6-route.txt': 'ip-route', 'ip-rule.txt': 'ip-rule', 'ip-6-rule.txt': 'ip-rule',
  'ip-route-get.txt': 'ip-route-get', 'ip-6-route-get.txt': 'ip-route-get', 'sysctl.txt': 'sysctl', 'before-ip-s-link.txt': 'ip-s-link',
  'nft.json': 'nft-json', 'nft-plain.txt': 'nft-text', 'after-nft.txt': 'nft-text', 'iptables-save.txt': 'iptables-save',
};

test('every real fixture is recognised by its content alone', () => {
  let n = 0;
  for (const s of SCENARIOS) {
    for (const h of ['A', 'B']) {
      for (const [f, fmt] of Object.entries(EXPECT)) {
        let text: string;
        try { text = fx(`wg/${s}/${h}/${f}`); } catch { continue; }
        if (text.trim() === '') continue;
        assert.equal(detectFormat(text), fmt, `${s}/${h}/${f}`);
        n++;
      }
    }
  }
  assert.ok(n > 100, `${n} files`);
  for (const [f, fmt] of [
    ['ipsec/healthy/A-sas.txt', 'swanctl'], ['ipsec/healthy/charon-a.log', 'ipsec-log'], ['ipsec/xfrm-policy.txt', 'xfrm-policy'],
    ['ipsec/xfrm-state.txt', 'xfrm-state'], ['ipsec/hand/ipsec-statusall.txt', 'ipsec-status'], ['ipsec/hand/swanctl-list-conns.txt', 'swanctl'],
    ['ipsec/hand/pluto-auth.log', 'ipsec-log'], ['ipsec/hand/openswan-id.log', 'ipsec-log'], ['ipsec/hand/charon-a-ts-unacceptable.log', 'ipsec-log'],
  ] as const) assert.equal(detectFormat(fx(f)), fmt, f);
});

test('an echoed command decides ambiguous pastes; prompts of several shells', () => {
  assert.equal(detectFormat('root@b:~# sudo nft -j list ruleset\n{"nftables": []}\n'), 'nft-json');
  assert.equal(detectFormat('[root@gw ~]# ip -6 route\ndefault via fe80::1 dev eth0 proto ra metric 1024 pref medium\n'), 'ip-route');
  assert.equal(detectFormat('gw# wg show all transfer\n'), 'wg-transfer');
  assert.equal(detectFormat('$ journalctl -u strongswan --since "5 min ago"\nDec 03 03:40:11 gw charon-systemd[9]: 07[IKE] x\n'), 'ipsec-log');
});

test('text no parser knows: one line naming the file and its first line', () => {
  assert.throws(() => detectAndParse('hello world\nsecond line\n', 'notes.txt'), (e: unknown) => e instanceof EvidenceFormatError && /^notes\.txt: .*line 1: "hello world"/.test((e as Error).message));
  assert.throws(() => detectAndParse('\n\n', 'empty.txt'), /empty\.txt: .*\(empty\)/);
  const g = gatherEvidence([{ name: 'x.txt', text: 'nothing here' }, { name: 'sysctl.txt', text: 'net.ipv4.ip_forward = 0' }]);
  assert.equal(g.errors.length, 1);
  assert.equal(g.evidence.sysctl!.values['net.ipv4.ip_forward'], '0');
});

test('a host bundle: counters before/after by name or by order; routes of both families merge', () => {
  const h = hostOf('fw-drop', 'B');
  assert.ok(h.firewall && h.firewallBefore && h.links && h.linksBefore && h.wgTransfer && h.wgBefore);
  assert.equal(h.sources.find((s) => s.name === 'before-nft.txt')!.when, 'before');
  // Without names: the second reading is "after".
  const two = addEvidence(addEvidence({ sources: [], from: {} }, detectAndParse(fx('wg/fw-drop/B/before-nft.txt'), 'paste 1')), detectAndParse(fx('wg/fw-drop/B/after-nft.txt'), 'paste 2'));
  assert.equal(two.from.firewall, 'paste 2');
  assert.equal(two.sources[1]!.when, 'after');
  const r = addEvidence(addEvidence({ sources: [], from: {} }, detectAndParse(fx('wg/healthy/B/ip-route.txt'), 'r4')), detectAndParse(fx('wg/healthy/B/ip-6-route.txt'), 'r6'));
  assert.deepEqual([...new Set(r.routes!.map((x) => x.dst.family))], [4, 6]);
  // The bundle is plain data: it survives JSON (reports, IPC, storage).
  assert.doesNotThrow(() => JSON.stringify(h));
});

test('before/after slots: an unnamed reading followed by one named "after", and the reverse order by name', () => {
  const a = emptyEvidence();
  addEvidence(a, detectAndParse(fx('wg/fw-drop/B/wg-dump.txt'), 'wg-dump.txt'));
  addEvidence(a, detectAndParse(fx('wg/fw-drop/B/wg-dump-after.txt'), 'wg-dump-after.txt'));
  assert.ok(a.wgBefore && a.wg);
  assert.equal(a.from['wg-dump'], 'wg-dump-after.txt');
  const r = emptyEvidence();
  addEvidence(r, detectAndParse(fx('wg/fw-drop/B/after-ip-s-link.txt'), 'after-ip-s-link.txt'));
  addEvidence(r, detectAndParse(fx('wg/fw-drop/B/before-ip-s-link.txt'), 'before-ip-s-link.txt'));
  const wg0 = (x: typeof r.links) => x!.find((l) => l.dev === 'wg0')!.rx.packets!;
  assert.ok(wg0(r.links) > wg0(r.linksBefore), 'the "after" reading stays the current one');
});
