// ICMP for IPv4 (IP protocol 1): echo, errors with the quoted original header, and the
// "fragmentation needed" next-hop MTU that path-MTU troubleshooting hinges on.

import { registerIpProto, type Ctx } from './registry.ts';
import { ipProtoName, quotedIp } from './fields.ts';
import type { IcmpInfo } from './packet.ts';

const UNREACH = ['net', 'host', 'protocol', 'port', 'need to frag', 'source route failed', 'net unknown', 'host unknown',
  'source host isolated', 'net prohibited', 'host prohibited', 'net tos', 'host tos', 'admin prohibited filter',
  'host precedence violation', 'precedence cutoff'];

function dissectIcmp(c: Ctx, off: number, end: number): boolean {
  const p = c.p;
  p.proto = 'icmp';
  const len = end - off;
  if (len < 4) {
    c.info = 'ICMP';
    c.trunc('ICMP');
    return true;
  }
  const d = c.d;
  const type = d[off]!;
  const code = d[off + 1]!;
  const icmp: IcmpInfo = { v: 4, type, code };
  p.icmp = icmp;
  const t = c.t;
  if (t) {
    t.layer('icmp', 'Internet Control Message Protocol', off, len);
    t.add('icmp.type', 'Type: ' + type, type, off, 1);
    t.add('icmp.code', 'Code: ' + code, code, off + 1, 1);
    t.add('icmp.checksum', 'Checksum: 0x' + c.u16(off + 2).toString(16).padStart(4, '0'), c.u16(off + 2), off + 2, 2);
  }
  const isEcho = type === 0 || type === 8 || type === 13 || type === 14;
  const isError = type === 3 || type === 4 || type === 5 || type === 11 || type === 12;
  if ((isEcho || isError) && len < 8) {
    c.info = 'ICMP type ' + type;
    c.trunc('ICMP');
    return true;
  }
  if (isEcho) {
    icmp.id = c.u16(off + 4);
    icmp.seq = c.u16(off + 6);
    if (t) {
      t.add('icmp.ident', 'Identifier: ' + icmp.id, icmp.id, off + 4, 2);
      t.add('icmp.seq', 'Sequence Number: ' + icmp.seq, icmp.seq, off + 6, 2);
    }
    if (end > off + 8) { c.payStart = off + 8; c.payEnd = end; }
    const what = type === 8 ? 'echo request' : type === 0 ? 'echo reply' : type === 13 ? 'time stamp query' : 'time stamp reply';
    c.info = 'ICMP ' + what + ', id ' + icmp.id + ', seq ' + icmp.seq + ', length ' + len;
    return true;
  }
  if (!isError) {
    c.info = 'ICMP type-#' + type + ', length ' + len;
    return true;
  }
  if (type === 3 && code === 4) {
    icmp.mtu = c.u16(off + 6);
    if (t) t.add('icmp.mtu', 'MTU of next hop: ' + icmp.mtu, icmp.mtu, off + 6, 2);
  }
  const orig = quotedIp(d, off + 8, end);
  if (orig) {
    icmp.orig = orig;
    if (t) {
      const f = t.add('icmp.orig', 'Original datagram: ' + orig.src + ' > ' + orig.dst + ' ' + ipProtoName(orig.proto) +
        (orig.sport !== undefined ? ' ' + orig.sport + ' > ' + orig.dport : ''), undefined, off + 8, end - off - 8);
      t.push(f);
      t.add('icmp.orig.src', 'Source: ' + orig.src, orig.src, off + 8, 0);
      t.add('icmp.orig.dst', 'Destination: ' + orig.dst, orig.dst, off + 8, 0);
      t.pop();
    }
  }
  const od = orig ? orig.dst : '?';
  let what: string;
  if (type === 3) {
    if (code === 4) what = od + ' unreachable - need to frag (mtu ' + icmp.mtu + ')';
    else if (code === 3 && orig) what = od + ' ' + ipProtoName(orig.proto) + ' port ' + (orig.dport ?? '?') + ' unreachable';
    else if (code === 2 && orig) what = od + ' protocol ' + orig.proto + ' unreachable';
    else if (code <= 1) what = UNREACH[code] + ' ' + od + ' unreachable';
    else what = od + ' unreachable - ' + (UNREACH[code] ?? 'code ' + code);
  } else if (type === 11) what = code === 0 ? 'time exceeded in-transit' : 'ip reassembly time exceeded';
  else if (type === 5) what = 'redirect ' + od;
  else if (type === 4) what = 'source quench';
  else what = 'parameter problem';
  c.info = 'ICMP ' + what + ', length ' + len;
  if (end - off - 8 < 20 && !orig) c.trunc('ICMP quoted IP');
  return true;
}

registerIpProto(1, dissectIcmp);
