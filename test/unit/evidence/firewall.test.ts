import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  counterDelta, evaluateFirewall, parseIptablesSave, parseNftJson, parseNftText, quoteRule, type FwPacket, type FwRuleset,
} from '../../../shared/evidence/firewall.ts';
import { fx } from './helpers.ts';

const SYN: FwPacket = { family: 4, proto: 'tcp', src: '10.0.0.1', dst: '192.168.200.22', sport: 45734, dport: 80, iif: 'wg0', oif: 'eth1', ctstate: 'new' };
const ok = (r: { facts: FwRuleset; problems: unknown[] }): FwRuleset => { assert.deepEqual(r.problems, []); return r.facts; };

test('nft text (-a, counters), nft -j and plain nft text read into the same chains (real output)', () => {
  const a = ok(parseNftText(fx('wg/fw-drop/B/after-nft.txt')));
  const j = ok(parseNftJson(fx('wg/fw-drop/B/nft.json')));
  const p = ok(parseNftText(fx('wg/fw-drop/B/nft-plain.txt')));
  for (const rs of [a, j, p]) {
    const t = rs.tables.find((x) => x.name === 'filter')!;
    assert.equal(t.family, 'inet');
    assert.deepEqual(t.chains.map((c) => `${c.name}:${c.hook ?? '-'}:${c.policy ?? '-'}:${c.rules.length}`), ['forward:forward:drop:4', 'from_tunnel:-:-:5', 'input:input:accept:1']);
    assert.deepEqual(t.sets.blocked, ['192.168.200.22', '198.18.0.0/15']);
    const nat = rs.tables.find((x) => x.name === 'nat')!;
    assert.equal(nat.chains[0]!.priority, 100);
  }
  assert.equal(a.tables[0]!.chains[1]!.rules[1]!.handle, 11);
  assert.equal(j.tables[0]!.chains[1]!.rules[1]!.handle, 11);
  assert.equal(p.tables[0]!.chains[1]!.rules[1]!.handle, null, 'without -a no handles');
});

test('fw-drop: the test SYN is dropped by the set rule in the jumped-to chain, and its counter rose', () => {
  const before = ok(parseNftText(fx('wg/fw-drop/B/before-nft.txt')));
  for (const [name, rs] of [['text', ok(parseNftText(fx('wg/fw-drop/B/after-nft.txt')))], ['json', ok(parseNftJson(fx('wg/fw-drop/B/nft.json')))]] as const) {
    const d = evaluateFirewall(rs, 'forward', SYN);
    assert.equal(d.verdict, 'drop', name);
    assert.equal(d.decidedBy!.chain.name, 'from_tunnel', name);
    assert.equal(d.decidedBy!.rule.handle, 11, name);
    assert.deepEqual(d.trace.map((t) => t.rule.handle), [6, 11], `${name}: the jump, then the drop`);
    assert.deepEqual(d.uncertain, []);
    if (name === 'text') {
      assert.ok(counterDelta(before, d.decidedBy!)! >= 1, 'the drop rule counted the test packets');
      assert.equal(quoteRule(d.decidedBy!, 'nft'), 'table inet filter chain from_tunnel: ip daddr @blocked tcp dport { 80, 443 } counter packets 5 bytes 300 drop # handle 11');
    }
  }
});

test('neighbours of the drop: another port, an address in the set\'s interval, another source, the reply, IPv6, an unknown interface', () => {
  const rs = ok(parseNftText(fx('wg/fw-drop/B/after-nft.txt')));
  assert.equal(evaluateFirewall(rs, 'forward', { ...SYN, dport: 22 }).verdict, 'drop', 'no accept for 22: falls through the chain to the policy');
  const p22 = evaluateFirewall(rs, 'forward', { ...SYN, dport: 22 });
  assert.equal(p22.decidedBy, null);
  assert.equal(p22.policyChain!.chain.name, 'forward');
  assert.equal(evaluateFirewall(rs, 'forward', { ...SYN, dst: '198.19.255.1' }).decidedBy!.rule.handle, 11, 'inside 198.18.0.0/15');
  assert.equal(evaluateFirewall(rs, 'forward', { ...SYN, dst: '198.20.0.1' }).decidedBy!.rule.handle, 13, 'outside the interval');
  assert.equal(evaluateFirewall(rs, 'forward', { ...SYN, src: '10.9.9.9' }).decidedBy!.rule.handle, 9, 'ip saddr != 10.0.0.0/24 drop');
  const reply = evaluateFirewall(rs, 'forward', { ...SYN, src: '192.168.200.22', dst: '10.0.0.1', sport: 80, dport: 45734, iif: 'eth1', oif: 'wg0', ctstate: 'established' });
  assert.equal(reply.verdict, 'accept');
  assert.equal(reply.decidedBy!.rule.handle, 5);
  const v6 = evaluateFirewall(rs, 'forward', { ...SYN, family: 6, src: 'fd10::1', dst: 'fd00:200::22' });
  // `ip saddr != …` and `ip daddr @blocked` imply IPv4: an IPv6 packet passes both, and `tcp dport 80` accepts it.
  assert.equal(v6.decidedBy!.rule.handle, 13);
  assert.equal(v6.verdict, 'accept');
});

test('healthy: accepted by `tcp dport 80 accept`; ICMP by the l4proto rule; input accepts WireGuard', () => {
  const rs = ok(parseNftText(fx('wg/healthy/B/after-nft.txt')));
  const before = ok(parseNftText(fx('wg/healthy/B/before-nft.txt')));
  const d = evaluateFirewall(rs, 'forward', SYN);
  assert.equal(d.verdict, 'accept');
  assert.match(d.decidedBy!.rule.text, /^tcp dport 80 counter packets \d+ bytes \d+ accept # handle \d+$/);
  assert.ok(counterDelta(before, d.decidedBy!)! >= 1);
  assert.match(evaluateFirewall(rs, 'forward', { ...SYN, proto: 'icmp', sport: undefined, dport: undefined }).decidedBy!.rule.text, /^meta l4proto icmp/);
  assert.equal(evaluateFirewall(rs, 'input', { family: 4, proto: 'udp', src: '203.0.113.1', dst: '203.0.113.2', sport: 51821, dport: 51822, iif: 'eth0' }).decidedBy!.rule.text.startsWith('udp dport 51822'), true);
});

test('iptables-save -c: the same fault, found with its counter', () => {
  const before = ok(parseIptablesSave(fx('wg/ipt-drop/B/before-iptables.txt')));
  const after = ok(parseIptablesSave(fx('wg/ipt-drop/B/after-iptables.txt')));
  const d = evaluateFirewall(after, 'forward', SYN);
  assert.equal(d.verdict, 'drop');
  assert.equal(d.decidedBy!.chain.name, 'FROM_TUNNEL');
  assert.equal(d.decidedBy!.rule.text, `[${d.decidedBy!.rule.counter!.packets}:${d.decidedBy!.rule.counter!.bytes}] -A FROM_TUNNEL -d 192.168.200.22/32 -p tcp -m multiport --dports 80,443 -j DROP`);
  assert.ok(counterDelta(before, d.decidedBy!)! >= 1);
  assert.equal(evaluateFirewall(after, 'forward', { ...SYN, src: '10.9.9.9' }).decidedBy!.rule.index, 1, '! -s 10.0.0.0/24 -j DROP');
  assert.equal(evaluateFirewall(after, 'forward', { ...SYN, dport: 8080 }).verdict, 'drop');
  assert.equal(evaluateFirewall(after, 'forward', { ...SYN, dport: 8080 }).policyChain!.chain.name, 'FORWARD');
  assert.equal(evaluateFirewall(after, 'forward', { ...SYN, ctstate: 'established' }).decidedBy!.rule.index, 1);
  const nat = after.tables.find((t) => t.name === 'nat')!;
  assert.equal(nat.chains.find((c) => c.name === 'POSTROUTING')!.rules.length, 1);
});

test('goto, return, named sets in JSON, interface wildcards, and a rule we cannot evaluate', () => {
  const rs = ok(parseNftText(`table ip t {
	set ports { type inet_service; elements = { 22, 8000-8100 } }
	chain fwd {
		type filter hook forward priority filter; policy accept;
		iifname "wg*" goto tun
		oifname "eth1" drop
	}
	chain tun {
		tcp dport @ports counter packets 0 bytes 0 return
		ip daddr 192.168.200.0/24 tcp dport 8200 reject with tcp reset
		limit rate 10/second drop
	}
}`));
  const d1 = evaluateFirewall(rs, 'forward', { ...SYN, dport: 8050 });
  // return from a goto'd chain ends the base chain: the policy (accept) decides, the oifname drop is never reached.
  assert.equal(d1.verdict, 'accept');
  assert.equal(d1.decidedBy, null);
  assert.equal(evaluateFirewall(rs, 'forward', { ...SYN, dport: 8200 }).verdict, 'reject');
  assert.equal(evaluateFirewall(rs, 'forward', { ...SYN, dport: 8200, dst: '192.168.201.1' }).uncertain.length, 1);
  const d3 = evaluateFirewall(rs, 'forward', { ...SYN, dport: 9999 });
  assert.equal(d3.uncertain.length, 1, 'the rate limit is not modelled and is reported');
  assert.match(d3.uncertain[0]!.rule.text, /^limit rate/);
  assert.equal(evaluateFirewall(rs, 'forward', { ...SYN, iif: 'eth0', dport: 9999 }).verdict, 'drop', 'not wg*: the oifname rule drops');
});

test('cut pastes keep what was read and say so; hostile JSON is one clear problem', () => {
  const full = fx('wg/fw-drop/B/after-nft.txt');
  const cut = parseNftText(full.slice(0, full.indexOf('meta l4proto icmp')));
  assert.equal(cut.problems.length, 1);
  assert.match(cut.problems[0]!.message, /ends inside an open block/);
  assert.equal(evaluateFirewall(cut.facts, 'forward', SYN).decidedBy!.rule.handle, 11);
  const j = parseNftJson(fx('wg/fw-drop/B/nft.json').slice(0, 900));
  assert.equal(j.facts.tables.length, 0);
  assert.match(j.problems[0]!.message, /not valid JSON/);
  assert.match(parseNftJson('{"foo": 1}').problems[0]!.message, /"nftables"/);
  const ipt = parseIptablesSave(fx('wg/ipt-drop/B/after-iptables.txt').split('COMMIT')[0]!);
  assert.match(ipt.problems[0]!.message, /no COMMIT/);
  assert.equal(ipt.facts.tables[0]!.chains.length, 4);
});

test('a distribution ruleset: verdict maps on ct state and on the input interface, iif lo, protocol sets (text and JSON agree)', () => {
  const t = ok(parseNftText(fx('nft/distro-nft.txt')));
  const j = ok(parseNftJson(fx('nft/distro-nft.json')));
  const v6: FwPacket = { family: 6, proto: 'tcp', src: 'fd10::1', dst: 'fd00:200::22', sport: 40000, dport: 80, iif: 'wg0', oif: 'eth1', ctstate: 'new' };
  for (const [name, rs] of [['text', t], ['json', j]] as const) {
    const a = evaluateFirewall(rs, 'forward', v6);
    assert.equal(a.verdict, 'accept', name);
    assert.equal(a.decidedBy!.rule.handle, 18, name);
    assert.deepEqual(a.trace.map((x) => x.rule.handle), [16, 18], `${name}: through the iifname vmap's jump`);
    // IPv4 from the tunnel to the LAN: the ip6 rule does not apply, the ip saddr rule accepts.
    assert.equal(evaluateFirewall(rs, 'forward', { ...SYN }).decidedBy!.rule.handle, 19, name);
    // From the tunnel to anything else: the counted reject at the end of from_wg.
    const rej = evaluateFirewall(rs, 'forward', { ...SYN, oif: 'eth0' });
    assert.equal(rej.verdict, 'reject', name);
    assert.equal(rej.decidedBy!.rule.handle, 20, name);
    // The reply: the ct state map accepts it before anything else.
    const rep = evaluateFirewall(rs, 'forward', { ...SYN, iif: 'eth1', oif: 'wg0', ctstate: 'established' });
    assert.equal(rep.decidedBy!.rule.handle, 14, name);
    assert.equal(evaluateFirewall(rs, 'forward', { ...SYN, ctstate: 'invalid' }).verdict, 'drop', name);
    // An interface the map does not list: no verdict from the map, the chain's policy drops.
    const other = evaluateFirewall(rs, 'forward', { ...SYN, iif: 'eth9' });
    assert.equal(other.decidedBy, null, name);
    assert.equal(other.policyChain!.chain.name, 'forward', name);
    // Input: WireGuard's port, DNS over either protocol, loopback.
    assert.equal(evaluateFirewall(rs, 'input', { family: 4, proto: 'udp', src: '203.0.113.1', dst: '203.0.113.2', sport: 51821, dport: 51820, iif: 'eth0', ctstate: 'new' }).decidedBy!.rule.handle, 10, name);
    assert.equal(evaluateFirewall(rs, 'input', { family: 4, proto: 'tcp', src: '203.0.113.1', dst: '203.0.113.2', sport: 5000, dport: 53, iif: 'eth0', ctstate: 'new' }).decidedBy!.rule.handle, 9, name);
    assert.equal(evaluateFirewall(rs, 'input', { family: 4, proto: 'tcp', src: '127.0.0.1', dst: '127.0.0.1', sport: 5000, dport: 9, iif: 'lo', ctstate: 'new' }).decidedBy!.rule.handle, 7, name);
    assert.equal(evaluateFirewall(rs, 'input', { family: 4, proto: 'tcp', src: '203.0.113.1', dst: '203.0.113.2', sport: 5000, dport: 9, iif: 'eth0', ctstate: 'new' }).verdict, 'drop', name);
  }
  assert.match(j.tables[0]!.chains[1]!.rules[1]!.text, /^iifname vmap \{ wg0 : jump from_wg, eth1 : jump from_lan \} # handle 16$/);
});

test('ip6tables-save: wildcard interface, IPv6 source, comment with spaces, REJECT with its option', () => {
  const rs = ok(parseIptablesSave(fx('nft/distro-ip6tables.txt')));
  assert.equal(rs.tables[0]!.family, 'ip6');
  const p: FwPacket = { family: 6, proto: 'tcp', src: 'fd10::1', dst: 'fd00:200::22', sport: 40000, dport: 80, iif: 'wg0', oif: 'eth1', ctstate: 'new' };
  const a = evaluateFirewall(rs, 'forward', p);
  assert.equal(a.decidedBy!.rule.index, 2);
  assert.equal(a.decidedBy!.rule.comment, 'web from the tunnel');
  assert.equal(evaluateFirewall(rs, 'forward', { ...p, dport: 22 }).verdict, 'reject');
  assert.equal(evaluateFirewall(rs, 'forward', { ...p, iif: 'eth1', dport: 22 }).policyChain!.chain.name, 'FORWARD');
  assert.equal(baseChainsCount(rs, 4), 0, 'an ip6tables ruleset never judges IPv4');
});

function baseChainsCount(rs: FwRuleset, fam: 4 | 6): number {
  return evaluateFirewall(rs, 'forward', { ...SYN, family: fam }).policyChain === null && evaluateFirewall(rs, 'forward', { ...SYN, family: fam }).decidedBy === null ? 0 : 1;
}

test('what the evaluator does not model is said, never guessed: concatenations, a jump loop, a missing chain', () => {
  const rs = ok(parseNftText(`table inet t {
	set allow { type ipv4_addr . inet_service; elements = { 192.168.200.22 . 80 } }
	chain fwd {
		type filter hook forward priority filter; policy drop;
		ip daddr . tcp dport @allow accept
		jump nowhere
		jump a
	}
	chain a {
		jump b
	}
	chain b {
		jump a
	}
}`));
  const d = evaluateFirewall(rs, 'forward', SYN);
  assert.equal(d.verdict, 'drop');
  assert.equal(d.decidedBy, null, 'the policy decides');
  assert.equal(d.uncertain.length, 1, 'the concatenation match is reported as not evaluated');
  assert.match(d.uncertain[0]!.rule.text, /^ip daddr \. tcp dport @allow accept$/);
});
