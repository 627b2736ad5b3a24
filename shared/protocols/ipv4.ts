// IPv4 (ethertype 0x0800; IP protocol 4 when tunnelled in IP).

import { byEthertype, byIpProto, registerEthertype, registerIpProto, type Ctx } from './registry.ts';
import { ipProtoName, ipv4 } from './fields.ts';
import type { IpInfo } from './packet.ts';

function dissectIpv4(c: Ctx, off: number, end: number): boolean {
  const p = c.p;
  p.proto = 'ip';
  c.fam = 'IP';
  const avail = end - off;
  const d = c.d;
  if (avail < 20) {
    c.fam = '';
    c.info = 'IP';
    c.trunc('IP');
    return true;
  }
  const vhl = d[off]!;
  // Like tshark, an IPv6 packet where IPv4 was expected is decoded as IPv6; other versions stop here.
  if (vhl >> 4 === 6) return byEthertype(c, 0x86dd, off, end);
  if (vhl >> 4 !== 4) {
    c.fam = '';
    c.info = 'IP' + (vhl >> 4);
    return true;
  }
  const hl = (vhl & 15) * 4;
  const totlen = c.u16(off + 2);
  const id = c.u16(off + 4);
  const fo = c.u16(off + 6);
  const ttl = d[off + 8]!;
  const proto = d[off + 9]!;
  p.src = ipv4(d, off + 12);
  p.dst = ipv4(d, off + 16);
  const ip: IpInfo = { v: 4, id, ttl, len: totlen, df: (fo & 0x4000) !== 0, proto };
  const fragOff = (fo & 0x1fff) * 8;
  const more = (fo & 0x2000) !== 0;
  if (fragOff !== 0 || more) ip.frag = { offset: fragOff, more };
  p.ip = ip;
  const t = c.t;
  if (t) {
    t.layer('ip', 'Internet Protocol Version 4, Src: ' + p.src + ', Dst: ' + p.dst, off, Math.min(hl, avail));
    t.add('ip.version', 'Version: ' + (vhl >> 4), vhl >> 4, off, 1);
    t.add('ip.hdr_len', 'Header Length: ' + hl + ' bytes', hl, off, 1);
    t.add('ip.dsfield', 'Differentiated Services Field: 0x' + d[off + 1]!.toString(16).padStart(2, '0'), d[off + 1], off + 1, 1);
    t.add('ip.len', 'Total Length: ' + totlen, totlen, off + 2, 2);
    t.add('ip.id', 'Identification: 0x' + id.toString(16).padStart(4, '0') + ' (' + id + ')', id, off + 4, 2);
    t.add('ip.flags.df', "Don't fragment: " + (ip.df ? 'Set' : 'Not set'), ip.df, off + 6, 1);
    t.add('ip.flags.mf', 'More fragments: ' + (more ? 'Set' : 'Not set'), more, off + 6, 1);
    t.add('ip.frag_offset', 'Fragment Offset: ' + fragOff, fragOff, off + 6, 2);
    t.add('ip.ttl', 'Time to Live: ' + ttl, ttl, off + 8, 1);
    t.add('ip.proto', 'Protocol: ' + ipProtoName(proto) + ' (' + proto + ')', proto, off + 9, 1);
    t.add('ip.checksum', 'Header Checksum: 0x' + c.u16(off + 10).toString(16).padStart(4, '0'), c.u16(off + 10), off + 10, 2);
    t.add('ip.src', 'Source Address: ' + p.src, p.src, off + 12, 4);
    t.add('ip.dst', 'Destination Address: ' + p.dst, p.dst, off + 16, 4);
  }
  if (hl < 20) {
    c.info = 'bad-hlen ' + hl;
    return true;
  }
  if (avail < hl) {
    c.info = ipProtoName(proto);
    c.trunc('IP');
    return true;
  }
  if (t && hl > 20) ipOptions(c, off + 20, off + hl);
  // Total length 0 is what segmentation offload leaves in captured super-frames: trust the capture then.
  if (totlen !== 0) {
    if (totlen < hl) {
      c.info = 'bad-len ' + totlen;
      return true;
    }
    if (off + totlen < end) end = off + totlen;
    // A total length beyond the frame's wire length is a lie: the wire length bounds the payload.
    c.l3End = off + totlen < c.wireEnd ? off + totlen : c.wireEnd;
  } else c.l3End = end;
  if (fragOff !== 0) {
    // Only the first fragment holds the upper-layer header.
    c.info = 'ip-proto-' + proto;
    return true;
  }
  if (!byIpProto(c, proto, off + hl, end)) {
    c.info = ipProtoName(proto) + ', length ' + (end - off - hl);
  }
  return true;
}

const OPT_NAMES: Record<number, string> = { 0: 'EOL', 1: 'NOP', 7: 'RR', 68: 'TS', 130: 'SECURITY', 131: 'LSRR', 137: 'SSRR', 148: 'RA' };

function ipOptions(c: Ctx, o: number, end: number): void {
  const t = c.t!;
  const d = c.d;
  const opts = t.add('ip.options', 'Options: (' + (end - o) + ' bytes)', undefined, o, end - o);
  t.push(opts);
  while (o < end) {
    const kind = d[o]!;
    if (kind === 0 || kind === 1) {
      t.add('ip.opt.type', OPT_NAMES[kind]!, kind, o, 1);
      o++;
      if (kind === 0) break;
      continue;
    }
    const len = o + 1 < end ? d[o + 1]! : 0;
    if (len < 2 || o + len > end) {
      t.add('ip.opt.bad', 'Option ' + kind + ': bad length ' + len, kind, o, end - o);
      break;
    }
    t.add('ip.opt.type', (OPT_NAMES[kind] ?? 'Option ' + kind) + ' (' + len + ' bytes)', kind, o, len);
    o += len;
  }
  t.pop();
}

registerEthertype(0x0800, dissectIpv4);
registerIpProto(4, (c, off, end) => {
  if (!c.beginInner('ipip')) return false;
  return dissectIpv4(c, off, end);
});
