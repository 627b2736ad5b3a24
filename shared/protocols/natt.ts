// UDP 4500 (IPsec NAT traversal, RFC 3948): one 0xff byte is a keepalive, a zero 4-byte
// marker precedes IKE, anything else is ESP. Hands on through the registry, not by import.

import { byIpProto, byUdpPortOnly, registerUdpPort, type Ctx } from './registry.ts';

function dissectNatt(c: Ctx, off: number, end: number): boolean {
  const p = c.p;
  const avail = end - off;
  if (c.plen === 1 && avail >= 1 && c.d[off] === 0xff) {
    p.proto = 'nat-keepalive';
    p.nattKeepalive = true;
    c.info = 'isakmp-nat-keep-alive';
    if (c.t) c.t.layer('udpencap', 'UDP Encapsulation of IPsec Packets, NAT-keepalive', off, 1);
    return true;
  }
  if (avail < 4) return false;
  if (c.u32(off) === 0) {
    if (c.t) c.t.layer('udpencap', 'UDP Encapsulation of IPsec Packets, Non-ESP Marker', off, 4);
    const ok = byUdpPortOnly(c, 500, off + 4, end);
    if (ok) c.info = 'NONESP-encap: ' + c.info;
    if (ok && p.ike) p.ike.nonEspMarker = true;
    return ok;
  }
  return byIpProto(c, 50, off, end);
}

registerUdpPort(4500, dissectNatt);
