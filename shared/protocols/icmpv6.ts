// ICMPv6 (IP protocol 58): echo, errors with the quoted original header, "packet too big"
// with its MTU, and neighbour discovery targets.

import { registerIpProto, type Ctx } from './registry.ts';
import { ipProtoName, ipv6, quotedIp } from './fields.ts';
import type { IcmpInfo } from './packet.ts';

const UNREACH6 = ['no route', 'admin prohibited', 'beyond scope', 'unreachable address', 'unreachable port', 'source address failed policy', 'reject route'];
const ND: Record<number, string> = { 130: 'multicast listener query', 131: 'multicast listener report', 132: 'multicast listener done',
  133: 'router solicitation', 134: 'router advertisement', 135: 'neighbor solicitation', 136: 'neighbor advertisement', 137: 'redirect',
  143: 'multicast listener report v2' };

function dissectIcmpv6(c: Ctx, off: number, end: number): boolean {
  const p = c.p;
  // 'icmpv6' like the filter's icmpv6.* fields and the text reader.
  p.proto = 'icmpv6';
  const len = end - off;
  if (len < 4) {
    c.info = 'ICMP6';
    c.trunc('ICMPv6');
    return true;
  }
  const d = c.d;
  const type = d[off]!;
  const code = d[off + 1]!;
  const icmp: IcmpInfo = { v: 6, type, code };
  p.icmp = icmp;
  const t = c.t;
  if (t) {
    t.layer('icmpv6', 'Internet Control Message Protocol v6', off, len);
    t.add('icmpv6.type', 'Type: ' + type, type, off, 1);
    t.add('icmpv6.code', 'Code: ' + code, code, off + 1, 1);
    t.add('icmpv6.checksum', 'Checksum: 0x' + c.u16(off + 2).toString(16).padStart(4, '0'), c.u16(off + 2), off + 2, 2);
  }
  const isEcho = type === 128 || type === 129;
  const isError = type >= 1 && type <= 4;
  if ((isEcho || isError) && len < 8) {
    c.info = 'ICMP6, type ' + type;
    c.trunc('ICMPv6');
    return true;
  }
  if (isEcho) {
    icmp.id = c.u16(off + 4);
    icmp.seq = c.u16(off + 6);
    if (t) {
      t.add('icmpv6.echo.identifier', 'Identifier: ' + icmp.id, icmp.id, off + 4, 2);
      t.add('icmpv6.echo.sequence_number', 'Sequence: ' + icmp.seq, icmp.seq, off + 6, 2);
    }
    if (end > off + 8) { c.payStart = off + 8; c.payEnd = end; }
    c.info = 'ICMP6, echo ' + (type === 128 ? 'request' : 'reply') + ', id ' + icmp.id + ', seq ' + icmp.seq + ', length ' + len;
    return true;
  }
  if (isError) {
    if (type === 2) {
      icmp.mtu = c.u32(off + 4);
      if (t) t.add('icmpv6.mtu', 'MTU: ' + icmp.mtu, icmp.mtu, off + 4, 4);
    }
    const orig = quotedIp(d, off + 8, end);
    if (orig) {
      icmp.orig = orig;
      if (t) t.add('icmpv6.orig', 'Original datagram: ' + orig.src + ' > ' + orig.dst + ' ' + ipProtoName(orig.proto) +
        (orig.sport !== undefined ? ' ' + orig.sport + ' > ' + orig.dport : ''), undefined, off + 8, end - off - 8);
    }
    let what: string;
    if (type === 1) {
      what = 'destination unreachable, ' + (UNREACH6[code] ?? 'code ' + code);
      if (orig) what += ', ' + orig.dst + (code === 4 && orig.dport !== undefined ? ' ' + ipProtoName(orig.proto) + ' port ' + orig.dport : '');
    } else if (type === 2) what = 'packet too big, mtu ' + icmp.mtu;
    else if (type === 3) what = code === 0 ? 'time exceeded in-transit' : 'reassembly time exceeded';
    else what = 'parameter problem, code ' + code + ', pointer ' + c.u32(off + 4);
    c.info = 'ICMP6, ' + what + ', length ' + len;
    return true;
  }
  const nd = ND[type];
  if ((type === 135 || type === 136) && len >= 24) {
    const target = ipv6(d, off + 8);
    if (t) t.add('icmpv6.nd.target', 'Target Address: ' + target, target, off + 8, 16);
    c.info = 'ICMP6, ' + nd + (type === 135 ? ', who has ' : ', tgt is ') + target + ', length ' + len;
    return true;
  }
  if (type === 143 && len >= 8) {
    c.info = 'ICMP6, ' + nd + ', ' + c.u16(off + 6) + ' group record(s), length ' + len;
    return true;
  }
  c.info = 'ICMP6, ' + (nd ?? 'type ' + type) + ', length ' + len;
  return true;
}

registerIpProto(58, dissectIcmpv6);
