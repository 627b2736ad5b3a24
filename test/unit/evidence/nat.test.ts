// NAT in the host evidence (shared/evidence/nat.ts) on real tool output: the wg/ lab scenarios
// made by make-wg-fixtures.sh (no-masquerade, no-masquerade-ipt, snat-instead, dnat-port, with both
// ends' captures) and the rulesets of nat/make-nat-fixtures.sh in nft text, nft -j and
// iptables-save form. Each sign is tested with its neighbours: the masquerade present (directly, in
// a jumped-to chain, in an inet table, as SNAT to B's own address), an exemption, another port.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { addEvidence, detectAndParse, emptyEvidence, evaluateNat, type FwPacket, type FwRuleset, type HostEvidence } from '../../../shared/evidence/index.ts';
import { runChecks, type Issue, type TestFlow } from '../../../shared/evidence/checks.ts';
import { EVID, fx, hostOf } from './helpers.ts';

const FLOW: TestFlow = { proto: 'tcp', src: '10.0.0.1', dst: '192.168.200.22', sport: 40000, dport: 80 };
const ids = (xs: Issue[]): string[] => xs.map((x) => `${x.id}@${x.host}`).sort();
const nat = (xs: Issue[]): Issue[] => xs.filter((x) => x.id.startsWith('evidence-nat-'));

/** B of a scenario with its ruleset files (before and after the test) in the form the scenario used. */
function bOf(scenario: string): HostEvidence {
  const ipt = scenario.endsWith('-ipt') || scenario === 'ipt-drop';
  const h = hostOf(scenario, 'B', false);
  for (const f of ipt ? ['before-iptables.txt', 'after-iptables.txt'] : ['before-nft.txt', 'after-nft.txt']) addEvidence(h, detectAndParse(fx(`wg/${scenario}/B/${f}`), f));
  return h;
}

/** Healthy B's wg, addresses, routes and rules with the firewall replaced by one nat/ fixture. */
function bWith(natFile: string): HostEvidence {
  const h = hostOf('healthy', 'B', false);
  addEvidence(h, detectAndParse(fx(`nat/${natFile}`), natFile));
  return h;
}

const FORWARDED: FwPacket = { family: 4, proto: 'tcp', src: '10.0.0.1', dst: '192.168.200.22', sport: 40000, dport: 80, iif: 'wg0', oif: 'eth1', ctstate: 'new' };

test('the three forms read the NAT statement: masquerade, SNAT/DNAT with address and port, redirect, ranges', () => {
  const ruleOf = (file: string, chain: string, i = 0) => {
    const rs = detectAndParse(fx(`nat/${file}`), file);
    assert.deepEqual(rs.problems, [], file);
    const fw = (rs as unknown as { facts: FwRuleset }).facts;
    return fw.tables.flatMap((t) => t.chains).find((c) => c.name === chain)!.rules.filter((r) => r.verdict?.kind === 'nat')[i]!;
  };
  for (const form of ['nft.txt', 'nft.json']) {
    assert.deepEqual(ruleOf(`redirect.${form}`, 'prerouting').nat, { type: 'redirect', addr: null, port: '51999' }, form);
    assert.deepEqual(ruleOf(`snat-foreign.${form}`, 'postrouting').nat, { type: 'snat', addr: '192.168.200.99', port: null }, form);
    assert.deepEqual(ruleOf(`masq-inet.${form}`, 'postrouting').nat, { type: 'masquerade', addr: null, port: null }, form);
    assert.deepEqual(ruleOf(`endpoint-range.${form}`, 'postrouting').nat, { type: 'snat', addr: '203.0.113.9-203.0.113.10', port: '1024-2000' }, form);
    assert.deepEqual(ruleOf(`dnat-other.${form}`, 'prerouting').nat, { type: 'dnat', addr: '192.168.200.22', port: '80' }, form);
  }
  // The JSON form rebuilds the rule text with its target.
  assert.match(ruleOf('endpoint-range.nft.json', 'postrouting').text, /snat to 203\.0\.113\.9-203\.0\.113\.10:1024-2000/);
  assert.deepEqual(ruleOf('dnat-listen.iptables.txt', 'PREROUTING').nat, { type: 'dnat', addr: '192.168.200.50', port: '51822' });
  assert.deepEqual(ruleOf('snat-own.iptables.txt', 'POSTROUTING').nat, { type: 'snat', addr: '192.168.200.2', port: null });
  assert.deepEqual(ruleOf('masq-chain.iptables.txt', 'LAN_OUT').nat, { type: 'masquerade', addr: null, port: null });
  // The dnat-port scenario's own ruleset, as nft printed it with -a and counters.
  assert.deepEqual(ruleOf('../wg/dnat-port/B/after-nft.txt', 'pre').nat, { type: 'dnat', addr: '192.168.200.50', port: '51822' });
});

test('evaluateNat walks the nat chains: the matching rule, jumps, an exemption, other families and hooks', () => {
  const fwOf = (h: HostEvidence) => h.firewall!;
  const healthy = evaluateNat(fwOf(bOf('healthy')), 'postrouting', FORWARDED);
  assert.equal(healthy.action, 'masquerade');
  assert.equal(healthy.decidedBy?.rule.handle, 2);
  assert.equal(evaluateNat(fwOf(bOf('ipt-drop')), 'postrouting', FORWARDED).decidedBy?.rule.text, '[0:0] -A POSTROUTING -o eth1 -j MASQUERADE');
  const none = evaluateNat(fwOf(bOf('no-masquerade')), 'postrouting', FORWARDED);
  assert.equal(none.action, 'none');
  assert.equal(none.chains.length, 1, 'the post chain was walked');
  assert.equal(evaluateNat(fwOf(bWith('masq-jump.nft.txt')), 'postrouting', FORWARDED).decidedBy?.chain.name, 'lan_out');
  assert.equal(evaluateNat(fwOf(bWith('masq-chain.iptables.txt')), 'postrouting', FORWARDED).decidedBy?.chain.name, 'LAN_OUT');
  assert.equal(evaluateNat(fwOf(bWith('masq-jump-other.nft.json')), 'postrouting', FORWARDED).action, 'none');
  assert.equal(evaluateNat(fwOf(bWith('exempt.nft.txt')), 'postrouting', FORWARDED).action, 'none');
  assert.equal(evaluateNat(fwOf(bWith('exempt.iptables.txt')), 'postrouting', FORWARDED).action, 'none');
  // The inet table masquerades IPv4; the ip-family table of the lab never sees IPv6.
  assert.equal(evaluateNat(fwOf(bWith('masq-inet.nft.txt')), 'postrouting', FORWARDED).action, 'masquerade');
  const v6: FwPacket = { ...FORWARDED, family: 6, src: 'fd10::1', dst: 'fd00:200::22' };
  assert.equal(evaluateNat(fwOf(bOf('healthy')), 'postrouting', v6).chains.length, 0);
  // The same packet at prerouting meets no postrouting rule.
  assert.equal(evaluateNat(fwOf(bOf('healthy')), 'prerouting', FORWARDED).action, 'none');
});

test('no masquerade: named with the near-miss rule only when the captures show B6 missing', () => {
  for (const s of ['no-masquerade', 'no-masquerade-ipt']) {
    const b = bOf(s);
    const out = nat(runChecks(hostOf(s, 'A', false), b, FLOW, { tunnel: 'wireguard', firstMissing: 'B6', b5Src: '10.0.0.1' }));
    assert.deepEqual(ids(out), ['evidence-nat-no-masquerade@B'], s);
    const f = out[0]!;
    assert.equal(f.class, 'routing');
    assert.match(f.title, /10\.0\.0\.1 onto eth1 without masquerade: 192\.168\.200\.22 must route 10\.0\.0\.0\/24 back via B/);
    assert.match(f.quotes[0]!.text, s.endsWith('ipt') ? /^\*nat \[0:0\] -A POSTROUTING -o eth0 -j MASQUERADE$/ : /chain post: oifname "eth0" counter packets 0 bytes 0 masquerade # handle 2$/);
    assert.match(f.detail, /does not cover it: oifname "?eth0"?|-o eth0/);
    assert.match(f.detail, /Its counter did not move during the test/);
    assert.match(f.next_steps[0]!, s.endsWith('ipt') ? /`iptables -t nat -A POSTROUTING -s 10\.0\.0\.0\/24 -o eth1 -j MASQUERADE`/ : /`nft add rule ip nat post oifname eth1 ip saddr 10\.0\.0\.0\/24 masquerade`/);
    assert.match(f.next_steps[1]!, /`ip route add 10\.0\.0\.0\/24 via 192\.168\.200\.2`/);
    // Routing the tunnel subnet back is a valid design: nothing without B6 missing.
    assert.deepEqual(nat(runChecks(hostOf(s, 'A', false), b, FLOW, { tunnel: 'wireguard' })), [], `${s}: a finding with no symptom`);
    // B5 captured with another source: something did NAT it; the evidence is from another moment.
    assert.deepEqual(nat(runChecks(hostOf(s, 'A', false), b, FLOW, { tunnel: 'wireguard', firstMissing: 'B6', b5Src: '192.168.200.2' })), []);
  }
  // The neighbours where the masquerade (or an SNAT to B's own address) is there: no NAT finding, in every form.
  for (const file of ['healthy', 'ipt-drop', 'snat-instead']) {
    assert.deepEqual(nat(runChecks(hostOf(file, 'A', false), bOf(file), FLOW, { tunnel: 'wireguard', firstMissing: 'B6' })), [], file);
  }
  for (const file of ['masq-inet.nft.txt', 'masq-inet.nft.json', 'masq-jump.nft.txt', 'masq-jump.nft.json', 'masq-chain.iptables.txt', 'snat-own.iptables.txt']) {
    assert.deepEqual(ids(nat(runChecks(hostOf('healthy', 'A', false), bWith(file), FLOW, { tunnel: 'wireguard', firstMissing: 'B6' }))), [], file);
  }
  // Un-masqueraded by a jumped-to chain for another subnet: the existing chain gets the new rule.
  for (const file of ['masq-jump-other.nft.txt', 'masq-jump-other.nft.json']) {
    const out = nat(runChecks(hostOf('healthy', 'A', false), bWith(file), FLOW, { tunnel: 'wireguard', firstMissing: 'B6' }));
    assert.deepEqual(ids(out), ['evidence-nat-no-masquerade@B'], file);
    assert.match(out[0]!.next_steps[0]!, /`nft add rule ip nat postrouting oifname eth1 ip saddr 10\.0\.0\.0\/24 masquerade`/, file);
  }
  // Un-masqueraded by an exemption first: it is named and quoted, and the fix goes before it (appending would never be reached).
  for (const file of ['exempt.nft.txt', 'exempt.nft.json', 'exempt.iptables.txt']) {
    const out = nat(runChecks(hostOf('healthy', 'A', false), bWith(file), FLOW, { tunnel: 'wireguard', firstMissing: 'B6' }));
    assert.deepEqual(ids(out), ['evidence-nat-no-masquerade@B'], file);
    assert.match(out[0]!.detail, /exempts it from NAT \((accept|return)\) before any masquerade/, file);
    assert.match(out[0]!.quotes[0]!.text, /ip saddr 10\.0\.0\.0\/24 ip daddr 192\.168\.200\.0\/24 .*accept|-s 10\.0\.0\.0\/24 -d 192\.168\.200\.0\/24 -j RETURN/, file);
    assert.match(out[0]!.next_steps[0]!, file.includes('iptables')
      ? /`iptables -t nat -I POSTROUTING 1 -s 10\.0\.0\.0\/24 -o eth1 -j MASQUERADE`/
      : /`nft insert rule ip nat postrouting position \d+ oifname eth1 ip saddr 10\.0\.0\.0\/24 masquerade`/, file);
  }
  // No nat table at all: the three commands that create one.
  const bare = hostOf('healthy', 'B', false);
  addEvidence(bare, detectAndParse(fx('wg/healthy/B/nft-plain.txt').replace(/table ip nat \{[\s\S]*$/, ''), 'nft-no-nat.txt'));
  const created = nat(runChecks(hostOf('healthy', 'A', false), bare, FLOW, { tunnel: 'wireguard', firstMissing: 'B6' }));
  assert.deepEqual(ids(created), ['evidence-nat-no-masquerade@B']);
  assert.match(created[0]!.detail, /no IPv4 nat chain on the postrouting hook/);
  // The IPv6 test flow through the lab's ip-family nat table: nothing NATs IPv6 there.
  const v6 = nat(runChecks(hostOf('no-masquerade', 'A', false), bOf('no-masquerade'), { proto: 'tcp', src: 'fd10::1', dst: 'fd00:200::22', sport: 40000, dport: 80 }, { tunnel: 'wireguard', firstMissing: 'B6' }));
  assert.deepEqual(ids(v6), ['evidence-nat-no-masquerade@B']);
  assert.match(v6[0]!.detail, /no IPv6 nat chain/);
  assert.match(v6[0]!.next_steps[0]!, /`nft add rule ip6 nat postrouting oifname eth1 ip6 saddr fd10::\/64 masquerade`/);
  assert.match(v6[0]!.next_steps[1]!, /`ip route add fd10::\/64 via fd00:200::2`/);
  assert.match(created[0]!.next_steps[0]!, /`nft add table ip nat`, then `nft 'add chain ip nat postrouting \{ type nat hook postrouting priority srcnat; \}'`/);
});

test('each NAT lab scenario yields exactly its fault, from nft -a text and from nft -j alike', () => {
  const want: Record<string, string[]> = {
    'no-masquerade': ['evidence-nat-no-masquerade@B B6'], 'no-masquerade-ipt': ['evidence-nat-no-masquerade@B B6'],
    'snat-instead': [], 'dnat-port': ['evidence-nat-dnat-listen@B B2'],
  };
  for (const [s, exp] of Object.entries(want)) {
    const all = runChecks(hostOf(s, 'A'), bOf(s), FLOW, { tunnel: 'wireguard', firstMissing: s === 'dnat-port' ? 'B2' : 'B6' });
    assert.deepEqual(all.map((x) => `${x.id}@${x.host} ${x.explains.join()}`), exp, s);
    if (s.endsWith('-ipt')) continue;
    // The JSON form (taken before the test: no counter delta, the same rule by handle).
    const j = hostOf(s, 'B', false);
    addEvidence(j, detectAndParse(fx(`wg/${s}/B/nft.json`), 'nft.json'));
    const jo = nat(runChecks(hostOf(s, 'A', false), j, FLOW, { tunnel: 'wireguard', firstMissing: s === 'dnat-port' ? 'B2' : 'B6' }));
    assert.deepEqual(jo.map((x) => `${x.id}@${x.host} ${x.explains.join()}`), exp, `${s} (nft -j)`);
    if (s === 'dnat-port') assert.match(jo[0]!.quotes[0]!.text, /dnat to 192\.168\.200\.50:51822 # handle 4$/);
  }
});

test('an SNAT to an address B does not own; an SNAT to B\'s own address is fine', () => {
  for (const file of ['snat-foreign.nft.txt', 'snat-foreign.nft.json', 'snat-foreign.iptables.txt']) {
    const out = nat(runChecks(hostOf('healthy', 'A', false), bWith(file), FLOW, { tunnel: 'wireguard', firstMissing: 'B6' }));
    assert.deepEqual(ids(out), ['evidence-nat-snat-foreign@B'], file);
    assert.equal(out[0]!.class, 'nat');
    assert.match(out[0]!.title, /source to 192\.168\.200\.99, an address B does not have/);
    assert.match(out[0]!.quotes[0]!.text, /snat to 192\.168\.200\.99|--to-source 192\.168\.200\.99/);
  }
});

test('DNAT or redirect of WireGuard\'s listen port: the lab scenario and its neighbours', () => {
  const out = nat(runChecks(hostOf('dnat-port', 'A', false), bOf('dnat-port'), FLOW, { tunnel: 'wireguard' }));
  assert.deepEqual(ids(out), ['evidence-nat-dnat-listen@B']);
  const f = out[0]!;
  assert.equal(f.class, 'nat');
  assert.deepEqual(f.explains, ['B2']);
  assert.match(f.title, /DNAT to 192\.168\.200\.50:51822 sends A's handshakes \(udp port 51822\) away from WireGuard/);
  assert.match(f.quotes[0]!.text, /chain pre: iifname "eth0" udp dport 51822 counter packets 1 bytes \d+ dnat to 192\.168\.200\.50:51822 # handle 4$/);
  assert.match(f.detail, /Its counter rose by 1 packet during the test/);
  assert.match(f.next_steps[0]!, /`nft delete rule ip nat pre handle 4`/);
  for (const file of ['redirect.nft.txt', 'redirect.nft.json', 'dnat-listen.iptables.txt']) {
    assert.deepEqual(ids(nat(runChecks(hostOf('healthy', 'A', false), bWith(file), FLOW, { tunnel: 'wireguard' }))), ['evidence-nat-dnat-listen@B'], file);
  }
  assert.match(nat(runChecks(hostOf('healthy', 'A', false), bWith('dnat-listen.iptables.txt'), FLOW, { tunnel: 'wireguard' }))[0]!.next_steps[0]!, /`iptables -t nat -D PREROUTING 1`/);
  // A DNAT through a map first (not modelled): the port forward is still named, and the map rule said to be unsure.
  for (const file of ['dnat-map.nft.txt', 'dnat-map.nft.json']) {
    const m = nat(runChecks(hostOf('healthy', 'A', false), bWith(file), FLOW, { tunnel: 'wireguard' }));
    assert.deepEqual(ids(m), ['evidence-nat-dnat-listen@B'], file);
    assert.match(m[0]!.detail, /1 earlier rule could not be evaluated \("dnat to (ip saddr map|\(a map\))/, file);
  }
  // A port forward of another port, and the IPsec tunnel (no WireGuard port): nothing.
  assert.deepEqual(nat(runChecks(hostOf('healthy', 'A', false), bWith('dnat-other.nft.txt'), FLOW, { tunnel: 'wireguard' })), []);
  assert.deepEqual(nat(runChecks(hostOf('dnat-port', 'A', false), bOf('dnat-port'), FLOW, { tunnel: 'ipsec' })), []);
});

test('a source NAT that rewrites WireGuard\'s own answers (address, or port out of range); an exemption first is fine', () => {
  for (const file of ['endpoint-snat.nft.txt', 'endpoint-snat.nft.json', 'endpoint-snat.iptables.txt', 'endpoint-range.nft.txt', 'endpoint-range.nft.json']) {
    const out = nat(runChecks(hostOf('healthy', 'A', false), bWith(file), FLOW, { tunnel: 'wireguard' }));
    assert.deepEqual(ids(out), ['evidence-nat-endpoint@B'], file);
    assert.match(out[0]!.title, file.includes('range') ? /from 203\.0\.113\.9-203\.0\.113\.10:\(1024-2000\) instead of 203\.0\.113\.2:51822/ : /from 203\.0\.113\.9:51822 instead of 203\.0\.113\.2:51822/, file);
    assert.deepEqual(out[0]!.explains, ['A3', 'A5']);
  }
  assert.deepEqual(nat(runChecks(hostOf('healthy', 'A', false), bWith('endpoint-exempt.nft.txt'), FLOW, { tunnel: 'wireguard' })), []);
});

test('hostile names in a NAT rule are shown escaped and quoted in the commands', () => {
  // B's LAN interface renamed, in every file that names it, to a name with a bidi override and shell syntax.
  const odd = 'eth1\u202e;id';
  const b: HostEvidence = hostOf('healthy', 'B', false);
  const re = (t: string) => t.replace(/\beth1\b/g, odd);
  const fresh = { ...b, addrs: undefined, routes: undefined, firewall: undefined } as HostEvidence;
  for (const f of ['ip-o-addr.txt', 'ip-o-route-all.txt']) addEvidence(fresh, detectAndParse(re(fx(`wg/healthy/B/${f}`)), f));
  addEvidence(fresh, detectAndParse(fx('wg/no-masquerade/B/after-nft.txt'), 'nft.txt'));
  const out = nat(runChecks(hostOf('healthy', 'A', false), fresh, FLOW, { tunnel: 'wireguard', firstMissing: 'B6' }));
  assert.deepEqual(ids(out), ['evidence-nat-no-masquerade@B']);
  const x = out[0]!;
  assert.ok(!/\u202e/.test(x.title + x.detail + x.next_steps.join('')), 'a raw bidi override');
  assert.match(x.title, /onto eth1\\u202e;id without masquerade/);
  assert.match(x.next_steps[0]!, /`nft add rule ip nat post oifname 'eth1\\u202e;id' ip saddr 10\.0\.0\.0\/24 masquerade`/);
});

test('hostile or odd NAT statements: read without a throw, an unreadable target makes the rule unsure, never a wrong claim', () => {
  const text = [
    'table ip nat {',
    '\tchain pre {',
    '\t\ttype nat hook prerouting priority dstnat; policy accept;',
    '\t\tudp dport 51822 dnat to "x;reboot" # handle 3',
    '\t\tudp dport 51822 dnat to [::1 # handle 4',
    '\t\tudp dport 51822 dnat # handle 5',
    '\t}',
    '}',
  ].join('\n');
  const t = detectAndParse(text, 'odd.txt') as unknown as { facts: FwRuleset };
  const rules = t.facts.tables[0]!.chains[0]!.rules;
  assert.deepEqual(rules.map((r) => r.nat), [{ type: 'dnat', addr: null, port: null }, { type: 'dnat', addr: null, port: null }, { type: 'dnat', addr: null, port: null }]);
  assert.ok(rules[0]!.matches.some((m) => m.key === 'unknown'), 'a target that is no address makes the rule unsure');
  const b = hostOf('healthy', 'B', false);
  addEvidence(b, detectAndParse(text, 'odd.txt'));
  // No claim that the port is taken elsewhere: the only rule with a plain target (handle 5) names no address.
  assert.deepEqual(nat(runChecks(hostOf('healthy', 'A', false), b, FLOW, { tunnel: 'wireguard' })), []);
  const json = JSON.stringify({ nftables: [
    { table: { family: 'ip', name: 'nat', handle: 1 } },
    { chain: { family: 'ip', table: 'nat', name: 'pre', handle: 1, type: 'nat', hook: 'prerouting', prio: -100, policy: 'accept' } },
    { rule: { family: 'ip', table: 'nat', chain: 'pre', handle: 2, expr: [{ snat: { addr: { map: { key: { payload: { protocol: 'ip', field: 'saddr' } }, data: '@m' } } } }] } },
    { rule: { family: 'ip', table: 'nat', chain: 'pre', handle: 3, expr: [{ dnat: 'nonsense' }] } },
  ] });
  const j = detectAndParse(json, 'odd.json') as unknown as { facts: FwRuleset };
  assert.deepEqual(j.facts.tables[0]!.chains[0]!.rules.map((r) => [r.nat, r.text]), [
    [{ type: 'snat', addr: null, port: null }, 'snat to (a map) # handle 2'], [{ type: 'dnat', addr: null, port: null }, 'dnat # handle 3'],
  ]);
  const ipt = detectAndParse('*nat\n:PREROUTING ACCEPT [0:0]\n-A PREROUTING -p udp --dport 51822 -j DNAT --to-destination\n-A PREROUTING -j SNAT --to-source 1.2.3.4:x\nCOMMIT\n', 'odd-ipt.txt') as unknown as { facts: FwRuleset };
  assert.deepEqual(ipt.facts.tables[0]!.chains[0]!.rules.map((r) => r.nat), [{ type: 'dnat', addr: null, port: null }, { type: 'snat', addr: null, port: null }]);
});

test('IPsec gateway A: a source NAT that also catches LAN traffic for the tunnel (the lab\'s tunnel-nat), every form, and its exemptions', () => {
  // As the captures give it: the tunnel-side source is already A's NAT result; A0 (10.1.0.11) only when known.
  const flow: TestFlow = { proto: 'tcp', src: '192.168.1.2', dst: '10.2.0.22', sport: 51680, dport: 80 };
  const aWith = (file: string, sas = true): HostEvidence => {
    const fresh = emptyEvidence();
    if (sas) addEvidence(fresh, detectAndParse(fx('ipsec/tunnel-nat/A-sas.txt'), 'A-sas.txt'));
    addEvidence(fresh, detectAndParse(fx(`nat/${file}`), file));
    return fresh;
  };
  for (const file of ['ipsec-tunnel-nat.nft.txt', 'ipsec-tunnel-nat.nft.json', 'ipsec-tunnel-nat.iptables.txt']) {
    for (const a0Src of ['10.1.0.11', undefined]) {
      const all = runChecks(aWith(file), undefined, flow, { tunnel: 'ipsec', tunA: 'ipsec0', ...(a0Src ? { a0Src } : {}) });
      // The selectors "not covering" 192.168.1.2 are the NAT's echo: only the NAT issue is left.
      assert.deepEqual(all.map((x) => `${x.id}@${x.host}`), ['evidence-nat-tunnel@A'], `${file} a0=${a0Src}`);
      const x = all[0]!;
      assert.equal(x.class, 'nat');
      assert.match(x.title, a0Src ? /rewrites LAN traffic for the tunnel: 10\.1\.0\.11 → 192\.168\.1\.2$/ : /: 10\.1\.0\.0\/24 \(e\.g\. 10\.1\.0\.1\) → 192\.168\.1\.2$/);
      assert.match(x.detail, /The local traffic selector \(s2s\/net: 10\.1\.0\.0\/24 === 10\.2\.0\.0\/24 10\.2\.1\.0\/24\) covers .* but not 192\.168\.1\.2/);
      assert.match(x.quotes[0]!.text, /snat to 192\.168\.1\.2|--to-source 192\.168\.1\.2/);
      assert.match(x.next_steps[0]!, file.includes('iptables') ? /`iptables -t nat -I POSTROUTING 1 -m policy --dir out --pol ipsec -j ACCEPT`/ : /`nft insert rule ip lab post position 2 ip daddr 10\.2\.0\.22 accept`/);
    }
  }
  // Without the SA list the rewrite of the LAN's own address is still named (when A0 says which it was).
  assert.deepEqual(ids(nat(runChecks(aWith('ipsec-tunnel-nat.nft.txt', false), undefined, flow, { tunnel: 'ipsec', tunA: 'ipsec0', a0Src: '10.1.0.11' }))), ['evidence-nat-tunnel@A']);
  // The site-to-site exemption first (evaluated), or one the evaluator cannot judge (-m policy): nothing.
  for (const file of ['ipsec-exempt.nft.txt', 'ipsec-exempt.nft.json', 'ipsec-policy-exempt.iptables.txt']) {
    assert.deepEqual(nat(runChecks(aWith(file), undefined, flow, { tunnel: 'ipsec', tunA: 'ipsec0', a0Src: '10.1.0.11' })), [], file);
  }
  // The uplink masquerade of a WireGuard lab is not IPsec: no tunnel-NAT reading there.
  assert.deepEqual(nat(runChecks(aWith('ipsec-tunnel-nat.nft.txt'), undefined, flow, { tunnel: 'wireguard', tunA: 'ipsec0' })), []);
});

// The CLI on the lab scenarios: both captures plus B's evidence settle the verdict.
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const ENTRY = "import { main } from './bin/cli/main.ts'; process.exitCode = await main(process.argv.slice(1));";
interface Out { verdict: { status: string; class: string; host: string }; findings: Array<{ rule?: string; severity: string; class: string; host: string; title: string; host_evidence?: Array<{ text: string }> }> }

function analyze(s: string, evidence: boolean): Out {
  const d = `${EVID}wg/${s}/`;
  const fw = s.endsWith('-ipt') ? 'iptables' : 'nft';
  const ev = !evidence ? [] : ['A', 'B'].flatMap((h) => [
    'wg-dump-after.txt', 'ip-o-addr.txt', 'ip-o-route-all.txt', 'ip-rule.txt', 'sysctl.txt', ...(h === 'B' ? [`before-${fw}.txt`, `after-${fw}.txt`] : []),
  ].flatMap((f) => [`--${h.toLowerCase()}-evidence`, `${d}${h}/${f}`]));
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', ENTRY, '--', 'analyze', `${d}A/capture.pcap`, `${d}B/capture.pcap`,
    '--a-links', `${d}A/ip-o-link.txt`, '--b-links', `${d}B/ip-o-link.txt`, '--flow', 'tcp 192.168.200.22:80', '--json', '-', ...ev], { cwd: ROOT, encoding: 'utf8', timeout: 120_000 });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as Out;
}

test('tandem analyze on the lab captures: the NAT evidence names the rule and settles class and host', { timeout: 120_000 }, () => {
  for (const s of ['no-masquerade', 'no-masquerade-ipt']) {
    const bare = analyze(s, false);
    assert.equal(bare.verdict.host, 'siteB', `${s}: without evidence the fix could be on B or in site B`);
    const r = analyze(s, true);
    assert.equal(r.verdict.status, 'fail');
    assert.equal(r.verdict.class, 'routing');
    assert.equal(r.verdict.host, 'B');
    const f = r.findings.find((x) => x.rule === 'evidence-nat-no-masquerade' && x.severity === 'error');
    assert.ok(f, JSON.stringify(r.findings.map((x) => `${x.rule}:${x.severity}`)));
    assert.ok(!r.findings.some((x) => x.rule === 'missing-b6' && x.severity === 'error'), 'the evidence replaces the generic reading');
    assert.ok(f.host_evidence?.some((q) => /eth0.*(masquerade|MASQUERADE)/.test(q.text)));
  }
  const bare = analyze('dnat-port', false);
  assert.match(bare.verdict.class, /-or-/, 'without evidence B2 missing is "wireguard-config-or-firewall"');
  const d = analyze('dnat-port', true);
  assert.equal(d.verdict.class, 'nat', 'the evidence drops the "-or-"');
  assert.ok(d.findings.some((x) => x.rule === 'evidence-nat-dnat-listen' && x.severity === 'error' && x.host_evidence?.some((q) => /dnat to 192\.168\.200\.50:51822 # handle 4/.test(q.text))));
  // The IPsec lab's tunnel-nat captures with gateway A's SA list and ruleset: the rule is named beside the captures' own finding.
  const cap = `${ROOT}test/lab/ipsec/captures/tunnel-nat/`;
  const ip = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', ENTRY, '--', 'analyze', `${cap}A.pcapng`, `${cap}B.pcapng`, '--flow', 'tcp 10.2.0.22:80', '--json', '-',
    '--a-evidence', `${EVID}ipsec/tunnel-nat/A-sas.txt`, '--a-evidence', `${EVID}nat/ipsec-tunnel-nat.nft.txt`], { cwd: ROOT, encoding: 'utf8', timeout: 120_000 });
  assert.equal(ip.status, 0, ip.stderr);
  const ipj = JSON.parse(ip.stdout) as Out;
  assert.equal(ipj.verdict.class, 'nat');
  assert.ok(ipj.findings.some((x) => x.rule === 'evidence-nat-tunnel' && x.host_evidence?.some((q) => /snat to 192\.168\.1\.2 # handle 2/.test(q.text))), JSON.stringify(ipj.findings.map((x) => x.rule)));
  assert.ok(!ipj.findings.some((x) => x.rule === 'evidence-ipsec-ts'), 'the selectors are not blamed for the NAT\'s result');
  // SNAT in place of masquerade: the healthy path stays ok with no evidence finding.
  const ok = analyze('snat-instead', true);
  assert.equal(ok.verdict.status, 'ok');
  assert.ok(!ok.findings.some((x) => x.rule?.startsWith('evidence-')), JSON.stringify(ok.findings.map((x) => x.rule)));
});
