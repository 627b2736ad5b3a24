import { test } from 'node:test';
import assert from 'node:assert/strict';
import { forwardingEnabled, parseSysctl, rpFilter } from '../../../shared/evidence/sysctl.ts';
import { linkDelta, parseIpSLink } from '../../../shared/evidence/links.ts';
import { fx } from './helpers.ts';

test('sysctl: forwarding and rp_filter (real output), /proc paths and prompts', () => {
  const on = parseSysctl(fx('wg/healthy/B/sysctl.txt')).facts;
  const off = parseSysctl(fx('wg/no-forward/B/sysctl.txt')).facts;
  assert.equal(forwardingEnabled(on, 4), true);
  assert.equal(forwardingEnabled(off, 4), false);
  assert.equal(forwardingEnabled(off, 6), true);
  assert.deepEqual(rpFilter(on, 'eth1'), { mode: 1, key: 'net.ipv4.conf.all.rp_filter' });
  const p = parseSysctl('root@b:~# sysctl net.ipv4.conf.eth1.rp_filter\nnet.ipv4.conf.eth1.rp_filter = 2\n/proc/sys/net/ipv4/ip_forward: 1\nsysctl: cannot stat /proc/sys/net/foo: No such file or directory\ngarbage\n');
  assert.deepEqual(p.problems.map((x) => x.line), [5]);
  assert.equal(forwardingEnabled(p.facts, 4), true);
  assert.deepEqual(rpFilter(p.facts, 'eth1'), { mode: 2, key: 'net.ipv4.conf.eth1.rp_filter' });
  assert.equal(rpFilter(p.facts, 'eth0'), null);
  assert.equal(forwardingEnabled(parseSysctl('kernel.hostname = b').facts, 4), null);
});

test('ip -s link before/after: the test\'s packets on each interface (real output)', () => {
  const b = parseIpSLink(fx('wg/fw-drop/B/before-ip-s-link.txt'));
  const a = parseIpSLink(fx('wg/fw-drop/B/after-ip-s-link.txt'));
  assert.deepEqual(a.problems, []);
  assert.deepEqual(a.facts.map((x) => x.dev), ['lo', 'eth0', 'eth1', 'wg0']);
  const d = linkDelta(b.facts, a.facts);
  const wg = d.find((x) => x.dev === 'wg0')!, eth1 = d.find((x) => x.dev === 'eth1')!;
  assert.ok(wg.rx.packets! > 0, 'the SYNs arrived decrypted on wg0');
  assert.equal(eth1.tx.packets, 0, 'and none left towards the LAN: dropped in between');
  const h = linkDelta(parseIpSLink(fx('wg/healthy/B/before-ip-s-link.txt')).facts, parseIpSLink(fx('wg/healthy/B/after-ip-s-link.txt')).facts);
  assert.ok(h.find((x) => x.dev === 'eth1')!.tx.packets! > 0, 'healthy: forwarded to the LAN');
  // The one-line form.
  const o = parseIpSLink('4: wg0: <POINTOPOINT,NOARP,UP,LOWER_UP> mtu 1420 qdisc noqueue state UNKNOWN mode DEFAULT group default qlen 1000\\    link/none \\    RX:  bytes packets errors dropped  missed   mcast           \\           300       5      0       0       0       0 \\    TX:  bytes packets errors dropped carrier collsns           \\             0       0      0       0       0       0 ');
  assert.equal(o.facts[0]!.rx.packets, 5);
  assert.equal(o.facts[0]!.tx.bytes, 0);
});
