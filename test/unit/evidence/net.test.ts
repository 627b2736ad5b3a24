import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatAddr, formatPrefix, parseAddr, parsePrefix, prefixContains, prefixCovers } from '../../../shared/evidence/net.ts';

test('IPv4 and IPv6 addresses parse and print back canonically', () => {
  assert.equal(formatAddr(4, parseAddr('192.168.200.22')!.addr), '192.168.200.22');
  assert.equal(formatAddr(6, parseAddr('fd00:200:0:0:0:0:0:22')!.addr), 'fd00:200::22');
  assert.equal(formatAddr(6, parseAddr('::')!.addr), '::');
  assert.equal(formatAddr(6, parseAddr('::ffff:10.0.0.1')!.addr), '::ffff:a00:1');
  assert.equal(parseAddr('fe80::1%eth0')?.family, 6);
  for (const bad of ['256.1.1.1', '1.2.3', '1::2::3', 'fd00::g', '', '10.0.0.1/24', '1:2:3:4:5:6:7:8:9']) assert.equal(parseAddr(bad), null, bad);
});

test('prefixes: host bits cleared, netmask form, default, containment in both families', () => {
  const p = parsePrefix('10.0.0.77/24')!;
  assert.equal(formatPrefix(p), '10.0.0.0/24');
  assert.equal(parsePrefix('10.0.0.0/255.255.255.0')!.len, 24);
  assert.equal(parsePrefix('10.0.0.0/255.0.255.0'), null);
  assert.equal(parsePrefix('10.0.0.0/33'), null);
  assert.ok(prefixContains(p, '10.0.0.1'));
  assert.ok(!prefixContains(p, '10.0.1.1'));
  assert.ok(!prefixContains(p, 'fd10::1'), 'no cross-family match');
  const d6 = parsePrefix('default', 6)!;
  assert.ok(prefixContains(d6, 'fd00:200::22') && !prefixContains(d6, '10.0.0.1'));
  assert.ok(prefixContains(parsePrefix('fd10::/64')!, 'fd10::1'));
  assert.ok(!prefixContains(parsePrefix('fd10::/64')!, 'fd10:0:0:1::1'));
  assert.ok(prefixCovers(parsePrefix('10.0.0.0/16')!, parsePrefix('10.0.3.0/24')!));
  assert.ok(!prefixCovers(parsePrefix('10.0.3.0/24')!, parsePrefix('10.0.0.0/16')!));
});
