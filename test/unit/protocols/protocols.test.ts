// Per-protocol checks on real captures. Expected values were read from tshark 4.0 and tcpdump 4.99
// on the same files (an independent decoder), not from this code.
// Fixtures: wg-sll2.pcap (real WireGuard between two namespaces, `tcpdump -i any`, see make-wg-capture.sh)
// and pmtu.pcap (real ICMP frag-needed / packet-too-big and fragments, see make-pmtu-capture.sh).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { decodeFrame, dissectFrame, type Field } from '../../../shared/protocols/index.ts';
import type { Packet } from '../../../shared/protocols/packet.ts';
import { parseIpLink } from '../../../shared/capture-file/links.ts';
import { CORPUS, FIXTURES, load, type Loaded } from './corpus.ts';
import { be32 } from '../ingest/built-frames.ts';

const cache = new Map<string, Loaded>();
async function packets(path: string, linkNames?: Map<number, string>): Promise<Map<number, Packet>> {
  let l = cache.get(path);
  if (!l) cache.set(path, (l = await load(path)));
  const out = new Map<number, Packet>();
  for (const fr of l.frames) out.set(fr.frame, decodeFrame(fr, l.interfaces[fr.ifaceId]!, { linkNames }));
  return out;
}

const WG = FIXTURES + 'wg-sll2.pcap';
const links = () => parseIpLink(readFileSync(FIXTURES + 'wg-sll2.ip-link.txt', 'utf8'));

test('SLL2: interface index, names from ip -o link, direction from packet type', async () => {
  const named = await packets(WG, links());
  assert.equal(named.get(13)!.ifindex, 2);
  assert.equal(named.get(13)!.iface, 'h2va');
  assert.equal(named.get(13)!.dir, 'out');
  assert.equal(named.get(14)!.dir, 'in');
  assert.equal(named.get(10)!.iface, 'h2wg0a');
  assert.equal(named.get(10)!.ifindex, 3);
  const unnamed = await packets(WG);
  assert.equal(unnamed.get(13)!.iface, '', 'no ip-link text: the file carries no name');
});

test('WireGuard: all message fields, on non-default ports', async () => {
  const p = await packets(WG);
  const init = p.get(13)!;
  assert.equal(init.proto, 'wireguard');
  assert.deepEqual(init.wg, { type: 1, sender: 0x537ca571 });
  assert.equal(init.udp!.len, 148);
  assert.equal(init.src, '192.168.1.11');
  assert.equal(init.sport, 51821);
  assert.equal(init.summary, 'IP 192.168.1.11.51821 > 192.168.1.2.51822: UDP, length 148');
  assert.deepEqual(p.get(14)!.wg, { type: 2, sender: 0x4b6468f3, receiver: 0x537ca571 });
  assert.equal(p.get(14)!.udp!.len, 92);
  assert.deepEqual(p.get(15)!.wg, { type: 4, receiver: 0x4b6468f3, counter: '0' });
  assert.deepEqual(p.get(16)!.wg, { type: 4, receiver: 0x537ca571, counter: '0' });
  assert.equal(p.get(19)!.wg!.counter, '1');
  // A full-MTU transport packet is not a multiple of 16 bytes and is still WireGuard (tshark agrees).
  assert.equal(p.get(49)!.udp!.len, 1452);
  assert.equal(p.get(49)!.wg!.type, 4);
});

test('TCP: flags, sequence numbers and options as tcpdump prints them', async () => {
  const p = await packets(WG);
  const syn = [...p.values()].find((x) => x.tcp?.flags === 'S')!;
  assert.equal(syn.summary, 'IP 10.0.0.1.59630 > 10.0.0.2.80: Flags [S], seq 1240416183, win 64860, options [mss 1380,sackOK,TS val 3915262148 ecr 0,nop,wscale 10], length 0');
  assert.deepEqual(syn.tcp, { flags: 'S', seq: 1240416183, ack: 0, win: 64860, len: 0, mss: 1380, sackOk: true, tsval: 3915262148, tsecr: 0, wscale: 10 });
  assert.equal(syn.payloadHash, undefined);
  const synack = [...p.values()].find((x) => x.tcp?.flags === 'S.')!;
  assert.equal(synack.tcp!.seq, 1158010579);
  assert.equal(synack.tcp!.ack, 1240416184);
  const get = [...p.values()].find((x) => x.tcp?.flags === 'P.' && x.sport === 59630)!;
  assert.equal(get.tcp!.len, 112);
  assert.ok(get.summary.startsWith('IP 10.0.0.1.59630 > 10.0.0.2.80: Flags [P.], seq 1240416184:1240416296, ack 1158010580, win 64, options [nop,nop,TS val 3915262157 ecr 1043742116], length 112'));
  assert.equal(typeof get.payloadHash, 'number');
  // SACK blocks (tcpdump -S on ssh.pcap #48: sack 1 {4082238970:4082238971}).
  const ssh = await packets(CORPUS + 'ssh.pcap');
  assert.deepEqual(ssh.get(48)!.tcp!.sack, [[4082238970, 4082238971]]);
});

test('ICMP echo: id, seq, and the payload hash survives the round trip', async () => {
  const p = await packets(WG);
  const req = p.get(10)!;
  const rep = p.get(17)!;
  assert.deepEqual([req.icmp!.type, req.icmp!.id, req.icmp!.seq], [8, 16962, 1]);
  assert.deepEqual([rep.icmp!.type, rep.icmp!.id, rep.icmp!.seq], [0, 16962, 1]);
  assert.equal(req.payloadHash, rep.payloadHash, 'an echo reply carries the request data');
  // The 56-byte pings carry other data than the 1000-byte ones.
  const small = [...p.values()].find((x) => x.icmp?.type === 8 && x.icmp.seq === 4)!;
  assert.notEqual(req.payloadHash, small.payloadHash);
});

test('ICMP fragmentation needed, packet too big, and fragments (pmtu.pcap)', async () => {
  const p = await packets(FIXTURES + 'pmtu.pcap');
  assert.equal(p.get(8)!.ip!.df, true);
  const fn = p.get(9)!;
  assert.equal(fn.summary, 'IP 10.77.1.1 > 10.77.1.2: ICMP 10.77.2.2 unreachable - need to frag (mtu 1280), length 556');
  assert.deepEqual(fn.icmp, { v: 4, type: 3, code: 4, mtu: 1280, orig: { src: '10.77.1.2', dst: '10.77.2.2', proto: 17, sport: 46048, dport: 40000, id: 0, len: 1428 } });
  assert.deepEqual(p.get(10)!.ip!.frag, { offset: 0, more: true });
  assert.equal(p.get(10)!.ip!.id, 0xbe72);
  assert.equal(p.get(10)!.dport, 40001);
  assert.deepEqual(p.get(11)!.ip!.frag, { offset: 157 * 8, more: true });
  assert.equal(p.get(11)!.sport, undefined, 'a non-first fragment has no transport header');
  assert.equal(p.get(11)!.proto, 'ip');
  assert.deepEqual(p.get(12)!.ip!.frag, { offset: 314 * 8, more: false });
  const ptb = p.get(18)!;
  assert.equal(ptb.summary, 'IP6 fd77:1::1 > fd77:1::2: ICMP6, packet too big, mtu 1280, length 1240');
  assert.equal(ptb.icmp!.mtu, 1280);
  assert.deepEqual([ptb.icmp!.orig!.src, ptb.icmp!.orig!.dst, ptb.icmp!.orig!.dport], ['fd77:1::2', 'fd77:2::2', 40002]);
  assert.deepEqual(p.get(19)!.ip!.frag, { offset: 0, more: true });
  assert.equal(p.get(19)!.ip!.id, 0x8d0ab5c5);
  assert.equal(p.get(19)!.dport, 40003);
  assert.deepEqual(p.get(20)!.ip!.frag, { offset: 154 * 8, more: false });
  assert.equal(p.get(20)!.dport, undefined);
  assert.equal(p.get(21)!.icmp!.type, 1);
});

test('ESP: SPI and sequence in IP and in UDP 4500', async () => {
  const esp = await packets(CORPUS + '02-sunrise-sunset-esp.pcap');
  assert.equal(esp.get(1)!.proto, 'esp');
  assert.deepEqual(esp.get(1)!.esp, { spi: 0x12345678, seq: 1 });
  assert.equal(esp.get(3)!.esp!.seq, 3);
  const udp = await packets(CORPUS + 'espudp1.pcap');
  assert.equal(udp.get(1)!.sport, 4500);
  assert.deepEqual(udp.get(2)!.esp, { spi: 0x12345678, seq: 2 });
});

test('IKE on 500 and behind the non-ESP marker on 4500, NAT-T keepalive, ESP-in-UDP', async () => {
  const p = await packets(CORPUS + 'isakmp4500.pcap');
  const ike = p.get(7)!;
  assert.equal(ike.proto, 'isakmp');
  assert.equal(ike.ike!.ispi, '9e89f2388f90bc1e');
  assert.equal(ike.ike!.exchange, 2);
  assert.equal(ike.ike!.version, 1);
  assert.equal(ike.ike!.nonEspMarker, true);
  assert.deepEqual(p.get(12)!.esp, { spi: 0xf4dc0ae5, seq: 1 });
  assert.equal(p.get(12)!.summary, 'IP 192.1.2.254.4500 > 192.1.2.23.4500: UDP-encap: ESP(spi=0xf4dc0ae5,seq=0x1), length 132');
  assert.equal(p.get(18)!.nattKeepalive, true);
  assert.equal(p.get(18)!.summary, 'IP 192.1.2.254.4500 > 192.1.2.23.4500: isakmp-nat-keep-alive');
  assert.equal(p.get(3)!.ike!.nonEspMarker, undefined);
  // IKEv2 over BSD loopback (null link type).
  const v2 = await packets(CORPUS + 'ikev2four.pcap');
  assert.deepEqual(v2.get(4)!.ike, {
    ispi: 'a88875a8198992a6', rspi: '71be8358efae7663', version: 2, exchange: 34, msgid: 0, flags: 0x20, payloads: [33, 34, 40, 41, 41], notify: [16388, 16389],
  });
  assert.equal(v2.get(5)!.ike!.exchange, 35);
  assert.equal(v2.get(5)!.ike!.msgid, 1);
});

test('Ethernet QinQ, ARP, Linux SLL v1, raw IP link types', async () => {
  const q = await packets(CORPUS + '802.1ad_QinQ.pcap');
  assert.deepEqual(q.get(1)!.vlan, [200, 2001]);
  assert.deepEqual(q.get(1)!.arp, { op: 1, spa: '172.21.79.97', tpa: '172.21.79.100', sha: '00:20:d2:5a:fb:3f', tha: '00:00:00:00:00:00' });
  assert.equal(q.get(1)!.summary, 'ARP, Request who-has 172.21.79.100 tell 172.21.79.97, length 42');
  const arp = await packets(CORPUS + 'isakmp4500.pcap');
  assert.equal(arp.get(2)!.summary, 'ARP, Reply 192.1.2.23 is-at 10:00:00:64:64:23, length 28');
  const sll = await packets(CORPUS + 'tcp-handshake-nano.pcap');
  assert.equal(sll.get(1)!.dir, 'out');
  assert.equal(sll.get(1)!.tcp!.mss, 1360);
  assert.equal(sll.get(2)!.dir, 'in');
  assert.equal(sll.get(2)!.tcp!.flags, 'S.');
  const v6 = await packets(CORPUS + 'LINKTYPE_IPV6.pcap');
  assert.deepEqual([v6.get(1)!.src, v6.get(1)!.dst, v6.get(1)!.dport], ['2001:db8::1', '2620:fe::9', 53]);
  const v4 = await packets(CORPUS + 'LINKTYPE_IPV4.pcap');
  assert.deepEqual([v4.get(1)!.src, v4.get(1)!.dst, v4.get(1)!.dport], ['192.168.1.100', '9.9.9.9', 53]);
});

test('IPv6 extension headers lead to the real upper layer', async () => {
  const rt = await packets(CORPUS + 'ipv6-routing-header.pcap');
  assert.equal(rt.get(1)!.ip!.proto, 58);
  assert.equal(rt.get(1)!.icmp!.type, 128);
  assert.equal(rt.get(3)!.dport, 5642);
  const hbh = await packets(CORPUS + 'bigtcp-ipv6-hbh.pcap');
  assert.equal(hbh.get(1)!.ip!.proto, 6);
  assert.equal(hbh.get(1)!.sport, 41851);
  assert.equal(hbh.get(1)!.src, '2604:1380:4091:ce00::d');
});

test('Tunnels: GRE with key, VXLAN; the innermost packet owns the main fields', async () => {
  const gre = await packets(CORPUS + 'various_gre.pcap');
  const g = gre.get(25)!;
  assert.equal(g.gre!.key, 0x28);
  assert.deepEqual(g.outer, [{ proto: 'gre', src: '10.172.64.6', dst: '10.172.64.7' }]);
  assert.deepEqual([g.src, g.dst, g.proto, g.icmp!.type], ['172.17.1.54', '172.17.1.55', 'icmp', 8]);
  const vx = await packets(CORPUS + 'vxlan.pcap');
  const v = vx.get(1)!;
  assert.deepEqual(v.vxlan, { vni: 100 });
  assert.deepEqual(v.outer, [{ proto: 'vxlan', src: '192.168.203.1', dst: '192.168.202.1' }]);
  assert.deepEqual([v.src, v.dst, v.icmp!.seq], ['192.168.203.3', '192.168.203.5', 1]);
  assert.equal(v.sport, undefined, 'the outer UDP ports are not the inner packet\'s');
});

test('dissectFrame: layer tree whose byte ranges hold the decoded values', async () => {
  const l = await load(WG);
  const fr = l.frames.find((f) => f.frame === 13)!;
  const tree = dissectFrame(fr, l.interfaces[0]!, { linkNames: links() });
  assert.deepEqual(tree.map((f) => f.name), ['frame', 'sll', 'ip', 'udp', 'wg']);
  const find = (name: string): Field => findField(tree, name);
  const dv = new DataView(fr.data.buffer, fr.data.byteOffset, fr.data.byteLength);
  const sender = find('wg.sender');
  assert.equal(sender.length, 4);
  assert.equal(dv.getUint32(sender.start, true), 0x537ca571);
  const sport = find('udp.srcport');
  assert.equal(dv.getUint16(sport.start), 51821);
  const src = find('ip.src');
  assert.deepEqual([...fr.data.subarray(src.start, src.start + 4)], [192, 168, 1, 11]);
  assert.match(find('sll.ifindex').label, /h2va/);
  // The fast path and the tree path see the same packet.
  const p = decodeFrame(fr, l.interfaces[0]!);
  assert.equal(find('frame.summary').label, p.summary);
});

test('dissectFrame: TCP options in the tree, one entry per option with its bytes, worded as the summary lists them', () => {
  // mss 1460, sackOK, TS, NOP, wscale 7, SACK 1 block, an unknown kind 99, then a length past the header.
  const opts = [2, 4, 5, 0xb4, 4, 2, 8, 10, ...be32(7), ...be32(9), 1, 3, 3, 7, 5, 10, ...be32(100), ...be32(200), 99, 2, 1, 19, 30, 0];
  const doff = 20 + opts.length;
  const tcp = [0x9c, 0x40, 0, 80, ...be32(1), ...be32(2), (doff / 4) << 4, 0x12, 0xfa, 0xf0, 0, 0, 0, 0, ...opts];
  const data = Uint8Array.from([0x45, 0, 0, 20 + tcp.length, 0, 1, 0x40, 0, 64, 6, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2, ...tcp]);
  const frame = { frame: 1, offset: 0, ifaceId: 0, tsSec: 1, tsNsec: 0, caplen: data.length, len: data.length, data };
  const iface = { id: 0, name: 'eth0', linktype: 101, snaplen: 65535, section: 0 };
  const tree = dissectFrame(frame, iface);
  const tcpLayer = tree.find((f) => f.name === 'tcp')!;
  const list = tcpLayer.children!.find((f) => f.name === 'tcp.options')!;
  const entries = list.children!.map((f) => [f.label, f.start, f.length, f.value]);
  const at = 40;
  assert.deepEqual(entries, [
    ['mss 1460 (kind 2, length 4)', at, 4, 2],
    ['sackOK (kind 4, length 2)', at + 4, 2, 4],
    ['TS val 7 ecr 9 (kind 8, length 10)', at + 6, 10, 8],
    ['No-Operation (NOP)', at + 16, 1, 1],
    ['wscale 7 (kind 3, length 3)', at + 17, 3, 3],
    ['sack 1 {100:200} (kind 5, length 10)', at + 20, 10, 5],
    ['unknown-99 (kind 99, length 2)', at + 30, 2, 99],
    ['No-Operation (NOP)', at + 32, 1, 1],
  ]);
  const p = decodeFrame(frame, iface);
  assert.equal(p.summary, 'IP 10.0.0.1.40000 > 10.0.0.2.80: Flags [S.], seq 1, ack 2, win 64240, options [mss 1460,sackOK,TS val 7 ecr 9,nop,wscale 7,sack 1 {100:200},unknown-99,nop,[|tcp]], length 0');
  assert.deepEqual([p.tcp!.mss, p.tcp!.sackOk, p.tcp!.tsval, p.tcp!.tsecr, p.tcp!.wscale, p.tcp!.sack], [1460, true, 7, 9, 7, [[100, 200]]]);
  assert.equal(findField(tree, 'frame.summary').label, p.summary);
});

/** The first field named `name` anywhere in the tree. */
function findField(tree: Field[], name: string): Field {
  const stack = [...tree];
  for (let f = stack.pop(); f; f = stack.pop()) {
    if (f.name === name) return f;
    stack.push(...(f.children ?? []));
  }
  throw new Error('no field ' + name);
}
