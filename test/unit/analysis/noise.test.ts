// Host housekeeping is never the flow under test: IPv6 link-local chatter, neighbour and router
// discovery, MLD, multicast, DHCP, mDNS/LLMNR ahead of the real SYN must not take its place.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { analyze, type CaptureInput } from '../../../shared/analysis/index.ts';
import { isBackgroundNoise, isLocalScope } from '../../../shared/analysis/noise.ts';
import type { Packet } from '../../../shared/protocols/packet.ts';
import { seedInput } from './helpers.ts';

test('local-scope addresses', () => {
  for (const x of ['fe80::1', 'FE80::abcd:1', 'febf::1', 'ff02::1', 'ff02::16', '224.0.0.251', '239.255.255.250', '169.254.10.1', '255.255.255.255', '0.0.0.0', '::']) assert.ok(isLocalScope(x), x);
  for (const x of ['10.0.0.1', '192.168.200.22', '2001:db8::1', 'fd00::1', 'fec0::1', '203.0.113.2']) assert.ok(!isLocalScope(x), x);
});

function pkt(extra: Partial<Packet>): Packet {
  return { frame: 1, tsSec: 0, tsNsec: 0, iface: 'wg0', ifaceId: 0, dir: 'out', linktype: 101, caplen: 0, len: 0, proto: 'udp', summary: '', ...extra };
}

test('housekeeping packets are noise, a test connection is not', () => {
  const icmp6 = (type: number): Packet => pkt({ src: '2001:db8::1', dst: '2001:db8::2', proto: 'icmp6', icmp: { v: 6, type, code: 0 } });
  for (const t of [130, 131, 133, 134, 135, 136, 143]) assert.ok(isBackgroundNoise(icmp6(t)), `icmp6 ${t}`);
  assert.ok(!isBackgroundNoise(icmp6(128)), 'echo request is a test');
  const udp = (sport: number, dport: number, dst = '10.0.0.2'): Packet => pkt({ src: '10.0.0.1', dst, sport, dport, udp: { len: 30 } });
  for (const [s, d] of [[68, 67], [546, 547], [5353, 5353], [50000, 5355], [40000, 53]]) assert.ok(isBackgroundNoise(udp(s!, d!)), `${s}->${d}`);
  assert.ok(!isBackgroundNoise(udp(40000, 51820)));
  assert.ok(isBackgroundNoise(pkt({ src: '10.0.0.1', dst: '224.0.0.22', ip: { v: 4, ttl: 1, len: 40, proto: 2 } })), 'IGMP');
  assert.ok(!isBackgroundNoise(pkt({ src: '10.0.0.1', dst: '192.168.200.22', sport: 4000, dport: 80, proto: 'tcp', tcp: { flags: 'S', seq: 0, ack: 0, win: 1, len: 0 } })));
});

/** The seed captures with IPv6 link-local chatter put on A's tunnel interface ahead of everything (and again later). */
function withChatter(c: CaptureInput): CaptureInput {
  const ps = [...c.packets];
  const first = ps[0]!;
  const at = (dt: number, extra: Partial<Packet>): Packet => ({ ...pkt(extra), tsSec: first.tsSec, tsNsec: Math.max(0, first.tsNsec - dt), iface: 'wg0', origin: first.origin ?? 'file' } as Packet);
  const chatter = [
    at(3e6, { src: 'fe80::1', dst: 'ff02::2', proto: 'icmp6', icmp: { v: 6, type: 133, code: 0 } }),
    at(2e6, { src: '::', dst: 'ff02::16', proto: 'icmp6', icmp: { v: 6, type: 143, code: 0 } }),
    at(1e6, { src: 'fe80::1', dst: 'ff02::fb', sport: 5353, dport: 5353, udp: { len: 40 } }),
  ];
  const all = [...chatter, ...ps].map((p, i) => ({ ...p, frame: i + 1 }));
  return { ...c, packets: all };
}

test('IPv6 link-local chatter before the SYN on the tunnel: the flow under test is still the SYN', () => {
  const a = seedInput('endpoint-a.txt'), b = seedInput('host-beta.txt');
  const plain = analyze(a, b);
  const noisy = analyze(withChatter(a), b);
  assert.deepEqual(noisy.flow, plain.flow);
  assert.equal(noisy.flow?.proto, 'tcp');
  assert.equal(noisy.verdict.status, plain.verdict.status);
  assert.deepEqual(noisy.checkpoints.map((c) => c.label), plain.checkpoints.map((c) => c.label));
  // The user may still ask for the chatter by name.
  const asked = analyze(withChatter(a), b, { flow: 'udp [ff02::fb]:5353' });
  assert.equal(asked.flow?.dst, 'ff02::fb');
});
