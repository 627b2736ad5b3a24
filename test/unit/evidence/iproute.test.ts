import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lookupTable, ownerOf, parseIpAddr, parseIpRoute, parseIpRule, parseRouteGet, routeLookup } from '../../../shared/evidence/iproute.ts';
import { fx, SCENARIOS } from './helpers.ts';

const routesOf = (s: string, h: string) => {
  const r = parseIpRoute(fx(`wg/${s}/${h}/ip-o-route-all.txt`));
  assert.deepEqual(r.problems, []);
  return r.facts;
};
const rulesOf = (s: string, h: string) => {
  const r = parseIpRule(fx(`wg/${s}/${h}/ip-rule.txt`));
  assert.deepEqual(r.problems, []);
  return r.facts;
};

test('ip -o route show table all: tables, types, both families (real output)', () => {
  const r = routesOf('healthy', 'B');
  assert.equal(r.length, 37);
  assert.equal(r.filter((x) => x.table === '100').length, 3);
  const localLines = fx('wg/healthy/B/ip-o-route-all.txt').split('\n').filter((l) => l.startsWith('local ')).length;
  assert.ok(localLines >= 9);
  assert.equal(r.filter((x) => x.table === 'local' && x.type === 'local').length, localLines);
  const def6 = r.filter((x) => x.dst.family === 6 && x.table === 'main');
  assert.equal(def6.length, 6);
  assert.ok(def6.every((x) => x.metric === 256));
  const d = r.find((x) => x.table === '100' && x.dst.len === 0)!;
  assert.equal(d.via, '203.0.113.1');
  assert.equal(d.dst.family, 4);
});

test('route lookup agrees with the kernel\'s own `ip route get` answer in every scenario', () => {
  for (const s of SCENARIOS) {
    // A sends the test packet itself.
    const ga = parseRouteGet(fx(`wg/${s}/A/ip-route-get.txt`)).facts[0]!;
    const a = routeLookup(routesOf(s, 'A'), rulesOf(s, 'A'), { dst: '192.168.200.22' });
    assert.equal(a.outcome, 'route', s);
    assert.equal(a.route!.dev, ga.dev, `${s}: A's device`);
    assert.equal(a.route!.metric, 50, `${s}: the lower metric of the two /24 routes`);
    // B forwards it, arriving on wg0 from A's tunnel address.
    const gb = parseRouteGet(fx(`wg/${s}/B/ip-route-get.txt`)).facts[0]!;
    const b = routeLookup(routesOf(s, 'B'), rulesOf(s, 'B'), { dst: '192.168.200.22', src: '10.0.0.1', iif: 'wg0' });
    if (gb.error) {
      // Forwarding is off: the kernel refuses a forwarded lookup; the tables still hold the route.
      assert.equal(s, 'no-forward');
      assert.match(gb.error, /No route to host/);
      assert.equal(b.outcome, 'route');
      continue;
    }
    assert.equal(b.outcome, 'route', s);
    assert.equal(b.route!.dev, gb.dev, `${s}: B's device`);
    assert.equal(b.route!.via, gb.via, `${s}: B's gateway`);
    assert.equal(b.table, gb.table, `${s}: B's table`);
    assert.equal(b.rule?.pref, 1000, `${s}: the policy rule for the tunnel's source`);
  }
});

test('policy-route: table 100 lacks the LAN, so the forwarded packet leaves by the default route', () => {
  const b = routeLookup(routesOf('policy-route', 'B'), rulesOf('policy-route', 'B'), { dst: '192.168.200.22', src: '10.0.0.1', iif: 'wg0' });
  assert.equal(b.route!.dev, 'eth0');
  assert.equal(b.route!.text, 'default via 203.0.113.1 dev eth0 table 100');
  // Without the `from` selector (B's own traffic) main still routes to the LAN.
  const own = routeLookup(routesOf('policy-route', 'B'), rulesOf('policy-route', 'B'), { dst: '192.168.200.22', src: '192.168.200.2' });
  assert.equal(own.route!.dev, 'eth1');
  assert.equal(own.table, 'main');
});

test('IPv6 lookup agrees with `ip -6 route get`', () => {
  const routes = [...parseIpRoute(fx('wg/healthy/B/ip-6-route.txt')).facts];
  const g = parseRouteGet(fx('wg/healthy/B/ip-6-route-get.txt')).facts[0]!;
  const r = routeLookup(routes, parseIpRule(fx('wg/healthy/B/ip-6-rule.txt')).facts, { dst: 'fd00:200::22' });
  assert.equal(r.route!.dev, g.dev);
  assert.equal(r.route!.dst.family, 6);
  // Also from the table-all listing, where IPv6 and IPv4 are mixed.
  const all = routeLookup(routesOf('healthy', 'A'), null, { dst: 'fd00:200::22' });
  assert.equal(all.route!.dev, 'wg0');
  assert.equal(all.route!.metric, 1024);
});

test('local delivery, no route, blackhole and unreachable outcomes', () => {
  const r = routesOf('healthy', 'B');
  assert.equal(routeLookup(r, null, { dst: '192.168.200.2' }).outcome, 'local');
  // No default route in main on B: an address outside every table.
  const none = routeLookup(r, [], { dst: '198.18.0.1' });
  assert.equal(none.outcome, 'no-route');
  assert.match(none.steps.join('\n'), /no rule found a route/);
  const extra = parseIpRoute('blackhole 10.9.0.0/16\nunreachable 10.8.0.0/16 metric 5\nthrow 10.7.0.0/16 table 100\n').facts;
  assert.equal(routeLookup([...r, ...extra], null, { dst: '10.9.1.1' }).outcome, 'blackhole');
  assert.equal(routeLookup([...r, ...extra], null, { dst: '10.8.1.1' }).outcome, 'unreachable');
});

test('wg-quick rules: fwmark, not, suppress_prefixlength (hand-written in `ip rule` format)', () => {
  const rules = parseIpRule([
    '0:\tfrom all lookup local',
    '32764:\tfrom all lookup main suppress_prefixlength 0',
    '32765:\tnot from all fwmark 0xca6c lookup 51820',
    '32766:\tfrom all lookup main',
    '32767:\tfrom all lookup default',
  ].join('\n'));
  assert.deepEqual(rules.problems, []);
  const routes = parseIpRoute([
    'default via 192.168.1.1 dev wlan0 proto dhcp metric 600',
    '192.168.1.0/24 dev wlan0 proto kernel scope link src 192.168.1.11',
    'default dev wg0 table 51820 scope link',
  ].join('\n')).facts;
  // An ordinary packet: main's default is suppressed (/0), the tunnel table takes it.
  const p = routeLookup(routes, rules.facts, { dst: '93.184.216.34' });
  assert.equal(p.route!.dev, 'wg0');
  assert.equal(p.table, '51820');
  // WireGuard's own encrypted packets carry the fwmark and go out the uplink.
  const w = routeLookup(routes, rules.facts, { dst: '203.0.113.2', mark: 0xca6c });
  assert.equal(w.route!.dev, 'wlan0');
  // The LAN keeps its more specific route in main.
  assert.equal(routeLookup(routes, rules.facts, { dst: '192.168.1.1' }).route!.dev, 'wlan0');
});

test('ip -o addr and ownership of an address; the multi-line form too', () => {
  const a = parseIpAddr(fx('wg/healthy/B/ip-o-addr.txt'));
  assert.deepEqual(a.problems, []);
  assert.equal(a.facts.length, 11);
  assert.equal(ownerOf(a.facts, '10.0.0.2')?.dev, 'wg0');
  assert.equal(ownerOf(a.facts, 'fd00:200:0::2')?.dev, 'eth1');
  assert.equal(ownerOf(a.facts, '10.0.0.1'), null);
  const multi = parseIpAddr([
    '3: eth1@if2: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP group default qlen 1000',
    '    link/ether 92:c5:91:df:2c:ba brd ff:ff:ff:ff:ff:ff link-netnsid 1',
    '    inet 192.168.200.2/24 scope global eth1',
    '       valid_lft forever preferred_lft forever',
    '    inet6 fd00:200::2/64 scope global nodad',
  ].join('\n'));
  assert.deepEqual(multi.problems, []);
  assert.deepEqual(multi.facts.map((x) => `${x.dev} ${x.addr}`), ['eth1 192.168.200.2', 'eth1 fd00:200::2']);
});

test('pasted with prompts; the echoed command sets family and table; bad lines are named', () => {
  const six = parseIpRoute('user@host:~$ ip -6 route show table 7\ndefault dev wg0 metric 5\n').facts;
  assert.equal(six[0]!.dst.family, 6);
  assert.equal(six[0]!.table, '7');
  const bad = parseIpRoute('10.0.0.0/24 dev wg0\nnot/a/route dev x\n');
  assert.deepEqual(bad.problems.map((p) => p.line), [2]);
  assert.equal(bad.facts.length, 1);
  const rb = parseIpRule('0:\tfrom all lookup local\nwhat is this\n1: from all frobnicate 3 lookup main\n');
  assert.deepEqual(rb.problems.map((p) => p.line), [2, 3]);
  assert.equal(lookupTable(parseIpRoute('10.0.0.0/8 dev a\n10.1.0.0/16 dev b metric 9\n10.1.0.0/16 dev c metric 3\n').facts, 'main', '10.1.2.3')!.dev, 'c');
});

test('IPv6 policy routing: a from-selector rule, a v6 default in its table, metrics (hand-written in iproute2\'s format)', () => {
  const rules = parseIpRule('root@b:~# ip -6 rule\n0:\tfrom all lookup local\n900:\tfrom fd10::/64 lookup 200\n32766:\tfrom all lookup main\n').facts;
  assert.ok(rules.every((r) => r.family === 6));
  const routes = parseIpRoute([
    'fd00:200::/64 dev eth1 proto kernel metric 256 pref medium',
    'default via fe80::1 dev eth0 proto ra metric 1024 expires 1790sec pref medium',
    'default dev wg0 table 200 metric 1024 pref medium',
    'fd00:200::/64 dev eth1 table 200 metric 300 pref medium',
    'fd00:200::/64 dev eth2 table 200 metric 100 pref medium',
  ].join('\n')).facts;
  assert.ok(routes.every((r) => r.dst.family === 6));
  assert.equal(routeLookup(routes, rules, { dst: 'fd00:200::22', src: 'fd10::1', iif: 'wg0' }).route!.dev, 'eth2', 'table 200, lower metric');
  assert.equal(routeLookup(routes, rules, { dst: '2001:db8::1', src: 'fd10::1', iif: 'wg0' }).route!.dev, 'wg0');
  assert.equal(routeLookup(routes, rules, { dst: '2001:db8::1', src: 'fd00:200::22', iif: 'eth1' }).route!.via, 'fe80::1');
  // The IPv4 rules never apply to IPv6 and the other way round.
  assert.equal(routeLookup(routes, rules, { dst: '10.0.0.1' }).outcome, 'no-route');
});

test('an echoed `ip -o route show table all` keeps main\'s routes in main; `show table 100` puts its lines in 100', () => {
  const text = fx('wg/healthy/B/ip-o-route-all.txt');
  const plain = parseIpRoute(text).facts;
  for (const echo of ['ip -o route show table all', '$ ip -o route show table all', 'root@b:~# ip route show table 0']) {
    const got = parseIpRoute(`${echo}\n${text}`).facts;
    assert.deepEqual(got.map((x) => x.table), plain.map((x) => x.table), echo);
    assert.ok(got.filter((x) => x.table === 'main').length >= 9, echo);
  }
  const t100 = parseIpRoute('# ip route show table 100\ndefault via 203.0.113.1 dev eth0\n10.0.0.0/24 dev wg0 scope link\n').facts;
  assert.deepEqual(t100.map((x) => x.table), ['100', '100']);
});
