// IPv6 (ethertype 0x86dd; IP protocol 41 when tunnelled) with its extension-header chain:
// hop-by-hop, routing, destination options and fragment are walked here so that ip.proto names
// the real upper layer (AH has its own module, ah.ts, which does the same for what it protects).

import { byIpProto, MAX_NEST, registerEthertype, registerIpProto, type Ctx } from './registry.ts';
import { ipProtoName, ipv6 } from './fields.ts';
import type { IpInfo } from './packet.ts';

const EXT_NAMES: Record<number, string> = { 0: 'Hop-by-Hop Options', 43: 'Routing', 44: 'Fragment', 60: 'Destination Options' };

function dissectIpv6(c: Ctx, off: number, end: number): boolean {
  const p = c.p;
  p.proto = 'ipv6';
  c.fam = 'IP6';
  const d = c.d;
  const avail = end - off;
  if (avail < 40) {
    // Keep whatever made it into the capture.
    if (avail >= 8) p.ip = { v: 6, ttl: d[off + 7]!, len: c.u16(off + 4) + 40, proto: d[off + 6]! };
    if (avail >= 24) p.src = ipv6(d, off + 8);
    c.fam = '';
    c.info = 'IP6';
    c.trunc('IPv6');
    return true;
  }
  if (d[off]! >> 4 !== 6) {
    c.fam = '';
    c.info = 'IP6, wrong link-layer encapsulation (version ' + (d[off]! >> 4) + ')';
    return true;
  }
  const plen = c.u16(off + 4);
  let nh = d[off + 6]!;
  const hlim = d[off + 7]!;
  p.src = ipv6(d, off + 8);
  p.dst = ipv6(d, off + 24);
  const ip: IpInfo = { v: 6, ttl: hlim, len: plen + 40, proto: nh };
  p.ip = ip;
  const t = c.t;
  if (t) {
    const w0 = c.u32(off);
    t.layer('ipv6', 'Internet Protocol Version 6, Src: ' + p.src + ', Dst: ' + p.dst, off, 40);
    t.add('ipv6.version', 'Version: ' + (w0 >>> 28), w0 >>> 28, off, 1);
    t.add('ipv6.tclass', 'Traffic Class: 0x' + ((w0 >>> 20) & 0xff).toString(16).padStart(2, '0'), (w0 >>> 20) & 0xff, off, 2);
    t.add('ipv6.flow', 'Flow Label: 0x' + (w0 & 0xfffff).toString(16).padStart(5, '0'), w0 & 0xfffff, off + 1, 3);
    t.add('ipv6.plen', 'Payload Length: ' + plen, plen, off + 4, 2);
    t.add('ipv6.nxt', 'Next Header: ' + ipProtoName(nh) + ' (' + nh + ')', nh, off + 6, 1);
    t.add('ipv6.hlim', 'Hop Limit: ' + hlim, hlim, off + 7, 1);
    t.add('ipv6.src', 'Source Address: ' + p.src, p.src, off + 8, 16);
    t.add('ipv6.dst', 'Destination Address: ' + p.dst, p.dst, off + 24, 16);
  }
  // Payload length 0 is a jumbogram or an offloaded super-frame: the captured length rules then.
  if (plen !== 0 && off + 40 + plen < end) end = off + 40 + plen;
  c.l3End = plen !== 0 ? Math.min(off + 40 + plen, c.wireEnd) : end;
  let o = off + 40;
  let fragOff = 0;
  const hbh = nh === 0;
  for (let n = 0; ; n++) {
    if (nh !== 0 && nh !== 43 && nh !== 60 && nh !== 44) break;
    if (n >= MAX_NEST) {
      ip.proto = nh;
      c.info = ipProtoName(nh);
      c.tooDeep();
      return true;
    }
    if (end - o < (nh === 44 ? 8 : 2)) {
      ip.proto = nh;
      c.info = ipProtoName(nh);
      c.trunc('IPv6 extension');
      return true;
    }
    const len = nh === 44 ? 8 : (d[o + 1]! + 1) * 8;
    if (t) {
      t.layer('ipv6.ext', 'IPv6 ' + EXT_NAMES[nh] + ' header, next: ' + ipProtoName(d[o]!), o, Math.min(len, end - o));
      t.add('ipv6.ext.nxt', 'Next Header: ' + d[o], d[o], o, 1);
      t.add('ipv6.ext.len', 'Length: ' + len + ' bytes', len, o + 1, 1);
    }
    if (nh === 44) {
      const fo = c.u16(o + 2);
      fragOff = fo & 0xfff8;
      const more = (fo & 1) !== 0;
      ip.id = c.u32(o + 4);
      ip.frag = { offset: fragOff, more };
      if (t) {
        t.add('ipv6.fragment.offset', 'Offset: ' + fragOff, fragOff, o + 2, 2);
        t.add('ipv6.fragment.more', 'More Fragments: ' + (more ? 'Yes' : 'No'), more, o + 3, 1);
        t.add('ipv6.fragment.id', 'Identification: 0x' + ip.id.toString(16).padStart(8, '0'), ip.id, o + 4, 4);
      }
    } else if (nh === 43 && t && len >= 4 && o + 4 <= end) {
      t.add('ipv6.routing.type', 'Type: ' + d[o + 2], d[o + 2], o + 2, 1);
      t.add('ipv6.routing.segleft', 'Segments Left: ' + d[o + 3], d[o + 3], o + 3, 1);
    }
    nh = d[o]!;
    if (end - o < len) {
      ip.proto = nh;
      c.info = ipProtoName(nh);
      c.trunc('IPv6 extension');
      return true;
    }
    o += len;
  }
  ip.proto = nh;
  if (ip.frag) {
    const fragLen = c.l3End - o;
    if (fragOff !== 0) {
      c.info = 'frag (' + fragOff + '|' + fragLen + ')';
      return true;
    }
    c.prefix += 'IP6 ' + p.src + ' > ' + p.dst + ': frag (0|' + fragLen + ') ';
    // tcpdump prints the first fragment's ports after the fragment note: the inner summary carries them.
    c.fam = 'FRAG6';
  }
  if (nh === 59) {
    c.info = 'no next header';
    return true;
  }
  const depth = c.depth;
  if (!byIpProto(c, nh, o, end)) c.info = ipProtoName(nh) + ', length ' + (end - o);
  // tcpdump names a hop-by-hop header before the upper layer's text.
  if (hbh && c.depth === depth) c.info = 'HBH ' + c.info;
  return true;
}

/**
 * An IPv6 packet may go on with destination options or routing headers after AH (RFC 4302 §3.1.1);
 * AH hands them on through the protocol table, and they are skipped here like the chain above.
 * IPv4 has no such headers: there the numbers stay unknown protocols.
 */
function laterExtension(c: Ctx, off: number, end: number): boolean {
  const ip = c.p.ip;
  if (ip === undefined || ip.v !== 6 || end - off < 2) return false;
  const d = c.d;
  const nh = d[off]!;
  const len = (d[off + 1]! + 1) * 8;
  if (c.t) c.t.layer('ipv6.ext', 'IPv6 ' + EXT_NAMES[ip.proto] + ' header, next: ' + ipProtoName(nh), off, Math.min(len, end - off));
  ip.proto = nh;
  if (end - off < len) {
    c.info = ipProtoName(nh);
    c.trunc('IPv6 extension');
    return true;
  }
  if (!byIpProto(c, nh, off + len, end)) c.info = ipProtoName(nh) + ', length ' + (end - off - len);
  return true;
}

registerEthertype(0x86dd, dissectIpv6);
registerIpProto(60, laterExtension);
registerIpProto(43, laterExtension);
registerIpProto(41, (c, off, end) => {
  if (!c.beginInner('ipip')) return false;
  return dissectIpv6(c, off, end);
});
