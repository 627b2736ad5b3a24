// UDP (IP protocol 17): ports, then the port table (lower port first) and the heuristics.

import { byUdpPort, registerIpProto, type Ctx } from './registry.ts';

function dissectUdp(c: Ctx, off: number, end: number): boolean {
  const p = c.p;
  p.proto = 'udp';
  const avail = end - off;
  if (avail < 4) {
    c.info = '';
    c.trunc('UDP');
    return true;
  }
  const sport = c.u16(off);
  const dport = c.u16(off + 2);
  p.sport = sport;
  p.dport = dport;
  if (avail < 8) {
    c.info = '';
    c.trunc('UDP');
    return true;
  }
  const ulen = c.u16(off + 4);
  // A length below the header size (0 in jumbograms and offloaded frames) defers to the IP length.
  let plen = ulen >= 8 ? ulen - 8 : c.l3End - off - 8;
  if (plen < 0) plen = 0;
  p.udp = { len: plen };
  const t = c.t;
  if (t) {
    t.layer('udp', 'User Datagram Protocol, Src Port: ' + sport + ', Dst Port: ' + dport, off, 8);
    t.add('udp.srcport', 'Source Port: ' + sport, sport, off, 2);
    t.add('udp.dstport', 'Destination Port: ' + dport, dport, off + 2, 2);
    t.add('udp.length', 'Length: ' + ulen, ulen, off + 4, 2);
    t.add('udp.checksum', 'Checksum: 0x' + c.u16(off + 6).toString(16).padStart(4, '0'), c.u16(off + 6), off + 6, 2);
  }
  const pstart = off + 8;
  let pend = pstart + plen;
  if (pend > end) pend = end;
  if (c.sum) c.info = udpText(plen);
  if (pend > pstart) {
    c.payStart = pstart;
    c.payEnd = pend;
  }
  c.plen = plen;
  byUdpPort(c, sport, dport, pstart, pend);
  return true;
}

/** The summary text of a UDP datagram (`plen`: its payload length). Shared with the bulk import's fast path. */
export function udpText(plen: number): string {
  return 'UDP, length ' + plen;
}

registerIpProto(17, dissectUdp);
