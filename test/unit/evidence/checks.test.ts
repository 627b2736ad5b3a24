import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runChecks, type Issue, type TestFlow } from '../../../shared/evidence/checks.ts';
import { addEvidence, detectAndParse, emptyEvidence } from '../../../shared/evidence/detect.ts';
import { fx, hostOf } from './helpers.ts';

const FLOW: TestFlow = { proto: 'tcp', src: '10.0.0.1', dst: '192.168.200.22', sport: 40000, dport: 80 };
const run = (s: string, withCounters = true): Issue[] => runChecks(hostOf(s, 'A', withCounters), hostOf(s, 'B', withCounters), FLOW, { tunnel: 'wireguard' });
const ids = (xs: Issue[]): string[] => xs.map((x) => `${x.id}@${x.host}`);

test('each WireGuard lab scenario yields exactly its fault; the healthy network none', () => {
  assert.deepEqual(ids(run('healthy')), []);
  assert.deepEqual(ids(run('fw-drop')), ['evidence-fw-drop@B']);
  assert.deepEqual(ids(run('ipt-drop')), ['evidence-fw-drop@B']);
  assert.deepEqual(ids(run('allowedips')), ['evidence-wg-allowedips@B']);
  assert.deepEqual(ids(run('no-forward')), ['evidence-forwarding-off@B']);
  assert.deepEqual(ids(run('wrong-port')), ['evidence-wg-endpoint-port@A']);
  assert.deepEqual(ids(run('policy-route')), ['evidence-route-missing@B']);
});

test('findings quote the host\'s own line: the rule and handle with its counter, the peer, the sysctl, the route', () => {
  const fw = run('fw-drop')[0]!;
  assert.deepEqual(fw.explains, ['B5']);
  assert.equal(fw.class, 'firewall');
  assert.match(fw.quotes[0]!.text, /^table inet filter chain from_tunnel: ip daddr @blocked tcp dport \{ 80, 443 \} counter packets \d+ bytes \d+ drop # handle 11$/);
  assert.match(fw.quotes[0]!.source, /^after-nft\.txt line \d+$/);
  assert.match(fw.detail, /counter rose by [1-9]\d* packets? during the test/);
  assert.match(fw.next_steps[0]!, /`nft delete rule inet filter from_tunnel handle 11`/);
  // Without before/after readings the rule is still named, without the counter sentence.
  const plain = runChecks(hostOf('fw-drop', 'A', false), addEvidence(hostOf('fw-drop', 'B', false), detectAndParse(fx('wg/fw-drop/B/nft.json'), 'nft.json')), FLOW, { tunnel: 'wireguard' })[0]!;
  assert.match(plain.quotes[0]!.text, /# handle 11$/);
  assert.doesNotMatch(plain.detail, /counter/);
  const ipt = run('ipt-drop')[0]!;
  assert.match(ipt.quotes[0]!.text, /-A FROM_TUNNEL -d 192\.168\.200\.22\/32 -p tcp -m multiport --dports 80,443 -j DROP$/);
  assert.match(ipt.next_steps[0]!, /`iptables -t filter -D FROM_TUNNEL 2`/);
  const al = run('allowedips')[0]!;
  assert.deepEqual(al.explains, ['B4']);
  assert.match(al.quotes[0]!.text, /allowed-ips 10\.0\.0\.99\/32/);
  assert.match(al.title, /does not allow A's tunnel address 10\.0\.0\.1/);
  assert.match(run('no-forward')[0]!.quotes[0]!.text, /^net\.ipv4\.ip_forward = 0$/);
  // The before/after counters confirm the loss inside B: in on wg0, nothing out on eth1.
  for (const s of ['fw-drop', 'ipt-drop', 'no-forward']) {
    assert.match(run(s)[0]!.quotes.at(-1)!.text, /^wg0 RX \+[1-9]\d* packets, eth1 TX \+0 packets between the two readings$/, s);
  }
  assert.match(al.quotes[1]!.text, /^peer \S+ received [1-9]\d* bytes, sent \d+ bytes during the test$/);
  assert.equal(run('no-forward', false)[0]!.quotes.length, 1, 'no counter quote without two readings');
  const pr = run('policy-route')[0]!;
  assert.deepEqual(pr.quotes.slice(0, 2).map((q) => q.text), ['1000: from 10.0.0.0/24 lookup 100', 'default via 203.0.113.1 dev eth0 table 100']);
  assert.match(pr.title, /out eth0 instead of eth1/);
});

test('neighbours: keys of another network, the same fault in IPv6, the reply dropped, NAT without keepalive', () => {
  const keys = runChecks(hostOf('healthy', 'A'), hostOf('fw-drop', 'B'), FLOW, { tunnel: 'wireguard' });
  assert.ok(ids(keys).includes('evidence-wg-keys@B'));
  // IPv6 test flow: B's peer allows fd10::1/128 (healthy) but not in the allowedips scenario.
  const v6: TestFlow = { proto: 'tcp', src: 'fd10::1', dst: 'fd00:200::22', sport: 40000, dport: 80 };
  assert.deepEqual(ids(runChecks(hostOf('healthy', 'A'), hostOf('healthy', 'B'), v6, { tunnel: 'wireguard' })), []);
  assert.deepEqual(ids(runChecks(hostOf('allowedips', 'A'), hostOf('allowedips', 'B'), v6, { tunnel: 'wireguard' })), ['evidence-wg-allowedips@B']);
  // The set rule is IPv4-only: the IPv6 flow passes B's forward chain in fw-drop.
  assert.deepEqual(ids(runChecks(hostOf('fw-drop', 'A'), hostOf('fw-drop', 'B'), v6, { tunnel: 'wireguard' })), []);
  // A forward chain that drops the established reply (the lab's b-drop-established-reply fault).
  const b = hostOf('healthy', 'B', false);
  const plain = fx('wg/healthy/B/nft-plain.txt');
  const broken = plain.replace(/iifname "eth1" oifname "wg0" counter packets 0 bytes 0 accept/, 'iifname "eth1" oifname "wg0" ct state established counter packets 0 bytes 0 drop').replace(/\n\s*ct state established,related counter packets \d+ bytes \d+ accept/, '');
  assert.notEqual(broken, plain);
  addEvidence(b, detectAndParse(broken, 'nft.txt'));
  const rep = runChecks(hostOf('healthy', 'A', false), b, FLOW, { tunnel: 'wireguard' });
  assert.deepEqual(rep.map((x) => `${x.id} ${x.explains.join()}`), ['evidence-fw-drop B7']);
  // A behind NAT: B sees A's handshakes from 198.51.100.1, an address A does not own, and A has no keepalive.
  const a = emptyEvidence();
  addEvidence(a, detectAndParse(fx('wg/healthy/A/wg-dump-after.txt').replace(/\t25\n/, '\toff\n'), 'wg.txt'));
  addEvidence(a, detectAndParse(fx('wg/healthy/A/ip-o-addr.txt'), 'addr.txt'));
  const bn = emptyEvidence();
  addEvidence(bn, detectAndParse(fx('wg/healthy/B/wg-dump-after.txt').replace('203.0.113.1:51821', '198.51.100.1:40112'), 'wg.txt'));
  const ka = runChecks(a, bn, FLOW, { tunnel: 'wireguard' });
  assert.deepEqual(ids(ka), ['evidence-wg-keepalive@A']);
  assert.match(ka[0]!.next_steps[0]!, /persistent-keepalive 25/);
  // Without NAT (B sees A's own address) no keepalive advice.
  const a2 = emptyEvidence();
  addEvidence(a2, detectAndParse(fx('wg/healthy/A/wg-dump-after.txt').replace(/\t25\n/, '\toff\n'), 'wg.txt'));
  addEvidence(a2, detectAndParse(fx('wg/healthy/A/ip-o-addr.txt'), 'addr.txt'));
  assert.deepEqual(ids(runChecks(a2, hostOf('healthy', 'B'), FLOW, { tunnel: 'wireguard' })), []);
});

test('strict rp_filter with the route back through another interface', () => {
  const b = hostOf('healthy', 'B', false);
  // The route back to A's tunnel address leaves by eth0 (a more specific route someone added).
  addEvidence(b, detectAndParse('10.0.0.1 via 203.0.113.1 dev eth0\n', 'extra-route.txt'));
  const out = runChecks(hostOf('healthy', 'A', false), b, FLOW, { tunnel: 'wireguard' });
  assert.ok(ids(out).includes('evidence-rp-filter@B'));
  const rp = out.find((x) => x.id === 'evidence-rp-filter')!;
  assert.equal(rp.class, 'asymmetric-routing');
  assert.equal(rp.quotes[0]!.text, 'net.ipv4.conf.all.rp_filter = 1');
  // Loose mode: no issue.
  addEvidence(b, detectAndParse('net.ipv4.conf.all.rp_filter = 2\n', 'sysctl2.txt'));
  assert.ok(!ids(runChecks(hostOf('healthy', 'A', false), b, FLOW, { tunnel: 'wireguard' })).includes('evidence-rp-filter@B'));
});

test('IPsec: selectors from swanctl, xfrm policies, and the log lines', () => {
  const flow: TestFlow = { proto: 'tcp', src: '10.1.0.22', dst: '10.2.1.22', sport: 40000, dport: 80 };
  const host = (...files: string[]) => { const h = emptyEvidence(); for (const f of files) addEvidence(h, detectAndParse(fx(f), f)); return h; };
  const miss = runChecks(host('ipsec/selector-missing/A-sas.txt'), host('ipsec/selector-missing/B-sas.txt'), flow, { tunnel: 'ipsec' });
  assert.deepEqual(ids(miss), ['evidence-ipsec-ts@A', 'evidence-ipsec-ts@B']);
  assert.match(miss[0]!.quotes[0]!.text, /^net: #1, reqid 1, INSTALLED.* \| local {2}10\.1\.0\.0\/24 \| remote 10\.2\.0\.0\/24$/);
  assert.deepEqual(ids(runChecks(host('ipsec/healthy/A-sas.txt', 'ipsec/healthy/charon-a.log'), host('ipsec/healthy/B-sas.txt', 'ipsec/healthy/charon-b.log'), flow, { tunnel: 'ipsec' })), []);
  assert.deepEqual(ids(runChecks(host('ipsec/xfrm-policy.txt'), undefined, { ...flow, dst: '10.2.0.9' }, { tunnel: 'ipsec' })), []);
  assert.deepEqual(ids(runChecks(host('ipsec/xfrm-policy.txt'), undefined, flow, { tunnel: 'ipsec' })), ['evidence-ipsec-ts@A']);
  const psk = runChecks(host('ipsec/hand/charon-a-psk-mismatch.log'), host('ipsec/hand/charon-b-psk-mismatch.log'), { ...flow, dst: '10.2.0.22' }, { tunnel: 'ipsec' });
  assert.deepEqual(ids(psk), ['evidence-ipsec-auth@B', 'evidence-ipsec-auth@B']);
  assert.match(psk[1]!.title, /pre-shared keys differ/);
  assert.match(psk[1]!.quotes[0]!.text, /MAC mismatched/);
  const prop = runChecks(undefined, host('ipsec/hand/charon-b-no-proposal.log'), { ...flow, dst: '10.2.0.22' }, { tunnel: 'ipsec' });
  assert.deepEqual(ids(prop), ['evidence-ipsec-proposal@B']);
  assert.equal(prop[0]!.quotes.length, 3);
  assert.match(prop[0]!.detail, /MODP_4096/);
  const ts = runChecks(host('ipsec/hand/charon-a-ts-unacceptable.log'), undefined, { ...flow, dst: '10.2.0.22' }, { tunnel: 'ipsec' });
  assert.deepEqual(ids(ts), ['evidence-ipsec-ts@B']);
  const id = runChecks(undefined, host('ipsec/hand/openswan-id.log'), { ...flow, dst: '10.2.0.22' }, { tunnel: 'ipsec' });
  assert.match(id[0]!.title, /identity is not accepted/);
});

test('hostile text from a host is made visible in titles and quoted in commands', () => {
  const nft = emptyEvidence();
  addEvidence(nft, detectAndParse('table inet f {\n\tchain fw\u001b]0;pwned\u0007 {\n\t\ttype filter hook forward priority 0; policy accept;\n\t\tip daddr 192.168.200.22 drop # handle 4\n\t}\n}\n', 'nft.txt'));
  const d = runChecks(undefined, nft, FLOW, { tunnel: 'wireguard', tunB: 'wg0', lanB: 'eth1' })[0]!;
  // eslint-disable-next-line no-control-regex
  assert.ok(!/[\u001b\u0007]/.test(d.title + d.detail + d.next_steps.join('')), 'no raw control byte');
  assert.match(d.title, /chain fw\\x1b\]0;pwned\\x07/, 'shown escaped');
  assert.match(d.next_steps[0]!, /`nft delete rule inet f 'fw\\x1b\]0;pwned\\x07' handle 4`/, 'one quoted shell word');
});

test('routing neighbours: A sends the test outside the tunnel; B has no route at all', () => {
  const a = emptyEvidence();
  addEvidence(a, detectAndParse(fx('wg/healthy/A/wg-dump-after.txt'), 'wg.txt'));
  addEvidence(a, detectAndParse(fx('wg/healthy/A/ip-o-route-all.txt').replace(/^192\.168\.200\.0\/24 dev wg0 .*\n/m, ''), 'routes.txt'));
  const out = runChecks(a, undefined, FLOW, { tunnel: 'wireguard' });
  assert.deepEqual(ids(out), ['evidence-route-missing@A']);
  assert.deepEqual(out[0]!.explains, ['A1']);
  assert.match(out[0]!.title, /out eth0 instead of wg0/);
  assert.equal(out[0]!.quotes.at(-1)!.text, '192.168.200.0/24 via 203.0.113.2 dev eth0 metric 200');
  const b = emptyEvidence();
  addEvidence(b, detectAndParse(fx('wg/healthy/B/wg-dump-after.txt'), 'wg.txt'));
  addEvidence(b, detectAndParse(fx('wg/healthy/B/ip-o-route-all.txt').split('\n').filter((l) => !l.includes('192.168.200.0/24')).join('\n'), 'routes.txt'));
  addEvidence(b, detectAndParse(fx('wg/healthy/B/ip-rule.txt'), 'rules.txt'));
  // Without B's addresses (or the capture's LAN interface) nothing says which interface is right.
  assert.deepEqual(ids(runChecks(undefined, b, FLOW, { tunnel: 'wireguard' })), []);
  addEvidence(b, detectAndParse(fx('wg/healthy/B/ip-o-addr.txt'), 'addr.txt'));
  const nb = runChecks(undefined, b, FLOW, { tunnel: 'wireguard' });
  // Table 100's default route still catches it (out eth0): a wrong interface rather than none.
  assert.match(nb.find((x) => x.id === 'evidence-route-missing')!.title, /out eth0/);
  const b2 = emptyEvidence();
  addEvidence(b2, detectAndParse(fx('wg/healthy/B/ip-o-route-all.txt').split('\n').filter((l) => !l.includes('192.168.200.0/24') && !l.startsWith('default')).join('\n'), 'routes.txt'));
  const none = runChecks(undefined, b2, FLOW, { tunnel: 'wireguard', tunB: 'wg0' });
  assert.match(none.find((x) => x.id === 'evidence-route-missing')!.title, /has no route for the decrypted packet \(192\.168\.200\.22\)/);
});

test('the carrier through the input chains: A drops B\'s answers (the lab\'s a-input-drop), B drops A\'s handshakes', () => {
  const a = hostOf('healthy', 'A', false);
  addEvidence(a, detectAndParse('table ip lab { # handle 1\n\tchain input { # handle 1\n\t\ttype filter hook input priority filter; policy accept;\n\t\tudp sport 51822 counter packets 9 bytes 1104 drop # handle 2\n\t}\n}\n', 'a-nft.txt'));
  const out = runChecks(a, hostOf('healthy', 'B', false), FLOW, { tunnel: 'wireguard' });
  assert.deepEqual(ids(out), ['evidence-fw-drop@A']);
  assert.deepEqual(out[0]!.explains, ['A3', 'A5']);
  assert.match(out[0]!.title, /drops B's answers: the rule with handle 2 in chain input/);
  const b = hostOf('healthy', 'B', false);
  addEvidence(b, detectAndParse(fx('wg/healthy/B/nft-plain.txt').replace(/udp dport 51822 counter packets \d+ bytes \d+ accept/, 'udp dport 51822 counter packets 0 bytes 0 drop'), 'nft.txt'));
  const ob = runChecks(hostOf('healthy', 'A', false), b, FLOW, { tunnel: 'wireguard' });
  assert.deepEqual(ob.map((x) => `${x.id}@${x.host} ${x.explains.join()}`), ['evidence-fw-drop@B B2']);
  // Another port on B's input chain: not WireGuard's, no finding.
  const b3 = hostOf('healthy', 'B', false);
  addEvidence(b3, detectAndParse(fx('wg/healthy/B/nft-plain.txt').replace(/udp dport 51822 counter packets \d+ bytes \d+ accept/, 'udp dport 51999 drop'), 'nft.txt'));
  assert.deepEqual(ids(runChecks(hostOf('healthy', 'A', false), b3, FLOW, { tunnel: 'wireguard' })), []);
});

test('iptables: a drop by the chain policy is confirmed by the policy counter on the chain line', () => {
  const before = fx('wg/ipt-drop/B/before-iptables.txt').replace(/^\[\d+:\d+\] -A FROM_TUNNEL -d .*\n/m, '').replace(':FORWARD DROP [0:0]', ':FORWARD DROP [3:180]');
  const after = fx('wg/ipt-drop/B/after-iptables.txt').replace(/^\[\d+:\d+\] -A FROM_TUNNEL -d .*\n/m, '').replace(/^\[\d+:\d+\] -A FROM_TUNNEL -p tcp -m tcp --dport 80 -j ACCEPT\n/m, '').replace(':FORWARD DROP [0:0]', ':FORWARD DROP [8:480]');
  const b = hostOf('ipt-drop', 'B', false);
  addEvidence(b, detectAndParse(before, 'before-iptables.txt'));
  addEvidence(b, detectAndParse(after, 'after-iptables.txt'));
  const out = runChecks(hostOf('ipt-drop', 'A', false), b, FLOW, { tunnel: 'wireguard' });
  assert.deepEqual(ids(out), ['evidence-fw-drop@B']);
  assert.match(out[0]!.title, /the FORWARD chain's policy/);
  assert.equal(out[0]!.quotes[0]!.text, '*filter :FORWARD DROP [8:480]');
  assert.match(out[0]!.detail, /The policy's counter rose by 5 packets during the test\./);
});

test('forwarding is judged per family: an IPv6 flow with IPv6 forwarding off, IPv4 forwarding on', () => {
  const b = hostOf('healthy', 'B', false);
  addEvidence(b, detectAndParse('net.ipv6.conf.all.forwarding = 0\n', 'sysctl6.txt'));
  const v6: TestFlow = { proto: 'tcp', src: 'fd10::1', dst: 'fd00:200::22', sport: 40000, dport: 80 };
  const out = runChecks(hostOf('healthy', 'A', false), b, v6, { tunnel: 'wireguard' });
  assert.deepEqual(ids(out), ['evidence-forwarding-off@B']);
  assert.equal(out[0]!.quotes[0]!.text, 'net.ipv6.conf.all.forwarding = 0');
  assert.deepEqual(ids(runChecks(hostOf('healthy', 'A', false), b, FLOW, { tunnel: 'wireguard' })), []);
});

test('a target on B itself: no forwarding or LAN-route finding; B\'s input chain is judged instead', () => {
  const toB = (dst: string): TestFlow => ({ ...FLOW, dst });
  // Forwarding off does not matter to a packet B delivers to itself (its tunnel address, its LAN address).
  for (const dst of ['10.0.0.2', '192.168.200.2']) {
    assert.deepEqual(ids(runChecks(hostOf('no-forward', 'A'), hostOf('no-forward', 'B'), toB(dst), { tunnel: 'wireguard' })), [], dst);
  }
  // The same host with a drop rule in its input chain for the test port: that rule is the finding.
  const b = addEvidence(emptyEvidence(), detectAndParse(fx('wg/healthy/B/ip-o-addr.txt'), 'ip-o-addr.txt'));
  addEvidence(b, detectAndParse(fx('wg/healthy/B/sysctl.txt'), 'sysctl.txt'));
  addEvidence(b, detectAndParse([
    'table inet filter {',
    '\tchain input {',
    '\t\ttype filter hook input priority filter; policy accept;',
    '\t\ttcp dport 80 counter packets 3 bytes 180 drop # handle 7',
    '\t}',
    '}',
  ].join('\n'), 'nft.txt'));
  const got = runChecks(hostOf('healthy', 'A'), b, toB('10.0.0.2'), { tunnel: 'wireguard' });
  assert.deepEqual(ids(got), ['evidence-fw-drop@B']);
  assert.match(got[0]!.quotes[0]!.text, /drop # handle 7$/);
  assert.deepEqual(got[0]!.explains, ['B5']);
  // A target behind B is still judged in the forward chain (the input rule does not apply to it).
  assert.deepEqual(ids(runChecks(hostOf('healthy', 'A'), b, FLOW, { tunnel: 'wireguard' })), []);
});

test('a server whose input chain drops the handshake never learns A\'s endpoint: the rule is found from the captured handshake', () => {
  // B as the dump shows it when no handshake got through: the peer has no endpoint and no traffic.
  const dump = fx('wg/healthy/B/wg-dump-after.txt').split('\n').map((l, i) => {
    if (i !== 1) return l;
    const f = l.split('\t'); f[3] = '(none)'; f[5] = '0'; f[6] = '0'; f[7] = '0';
    return f.join('\t');
  }).join('\n');
  const nft = ['table inet filter {', '\tchain input {', '\t\ttype filter hook input priority filter; policy accept;',
    '\t\tudp dport 51822 counter packets 4 bytes 592 drop # handle 9', '\t}', '}'].join('\n');
  const b = emptyEvidence();
  for (const [name, text] of [['wg-dump.txt', dump], ['ip-o-addr.txt', fx('wg/healthy/B/ip-o-addr.txt')], ['ip-o-route-all.txt', fx('wg/healthy/B/ip-o-route-all.txt')], ['nft.txt', nft]] as const) {
    addEvidence(b, detectAndParse(text, name));
  }
  const carrier = { src: '198.51.100.1', dst: '203.0.113.2', sport: 51821, dport: 51822 };
  const withCarrier = runChecks(undefined, b, FLOW, { tunnel: 'wireguard', bCarrier: carrier });
  const fw = withCarrier.find((x) => x.id === 'evidence-fw-drop');
  assert.ok(fw, JSON.stringify(withCarrier.map((x) => x.title)));
  assert.deepEqual(fw.explains, ['B2']);
  assert.match(fw.quotes[0]!.text, /drop # handle 9$/);
  // Without the captured handshake there is nothing to judge the chain with: no guess.
  assert.ok(!runChecks(undefined, b, FLOW, { tunnel: 'wireguard' }).some((x) => x.id === 'evidence-fw-drop'));
  // A handshake to another port is not this peer's: the rule on 51822 is not blamed for it.
  assert.ok(!runChecks(undefined, b, FLOW, { tunnel: 'wireguard', bCarrier: { ...carrier, dport: 4500 } }).some((x) => x.id === 'evidence-fw-drop'));
});

test('merged route and rule files: each quote names the file its line is in, not the last file of that kind', () => {
  const b = hostOf('policy-route', 'B');
  // An engineer also pastes the IPv6 listings, after the IPv4 ones.
  addEvidence(b, detectAndParse(fx('wg/policy-route/B/ip-6-rule.txt'), 'ip-6-rule.txt'));
  addEvidence(b, detectAndParse(fx('wg/policy-route/B/ip-6-route.txt'), 'ip-6-route.txt'));
  const pr = runChecks(hostOf('policy-route', 'A'), b, FLOW, { tunnel: 'wireguard' }).find((x) => x.id === 'evidence-route-missing')!;
  assert.equal(pr.quotes[0]!.text, '1000: from 10.0.0.0/24 lookup 100');
  assert.match(pr.quotes[0]!.source, /^ip-rule\.txt line \d+$/);
  assert.match(pr.quotes[1]!.source, /^ip-o-route-all\.txt line \d+$/);
  const lines = fx('wg/policy-route/B/ip-rule.txt').split('\n');
  assert.equal(lines[Number(/line (\d+)/.exec(pr.quotes[0]!.source)![1]) - 1]!.replace(/\s+/g, ' ').trim(), pr.quotes[0]!.text);
});
