// Traffic a host sends by itself, whatever the user is testing: link-local and multicast chatter,
// neighbour discovery, address configuration, local name resolution. None of it is ever the
// connection under test, so the flow finder passes over it (unless the user names it).

import type { Packet } from '../protocols/packet.ts';

/** UDP ports of host housekeeping: DHCP, DHCPv6, mDNS, LLMNR, NetBIOS, SSDP, DNS, NTP. */
const HOUSEKEEPING_UDP = new Set([67, 68, 546, 547, 5353, 5355, 137, 138, 1900, 53, 123]);

function ipv4(s: string): number[] | null {
  const m = /^(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(s);
  return m === null ? null : [Number(m[1]), Number(m[2]), Number(m[3]), Number(m[4])];
}

/** Link-local, multicast, broadcast or unspecified: an address that never crosses a router. */
export function isLocalScope(addr: string): boolean {
  const v4 = ipv4(addr);
  if (v4 !== null) {
    const [a, b] = v4 as [number, number, number, number];
    return a === 0 || (a === 169 && b === 254) || a >= 224 || addr === '255.255.255.255';
  }
  const x = addr.toLowerCase();
  if (x === '::' || x === '::1') return true;
  // fe80::/10 link-local, ff00::/8 multicast.
  return /^fe[89ab][0-9a-f]?:/.test(x) || x.startsWith('ff');
}

/** ICMPv6 messages of neighbour discovery, router discovery and multicast listener discovery (130–143, 148–153). */
function isNdOrMld(p: Packet): boolean {
  const ic = p.icmp;
  if (ic === undefined || ic.v !== 6) return false;
  return (ic.type >= 130 && ic.type <= 143) || (ic.type >= 148 && ic.type <= 153);
}

/** True for a packet that cannot be the connection under test unless the user asks for it by name. */
export function isBackgroundNoise(p: Packet): boolean {
  if (p.src !== undefined && isLocalScope(p.src)) return true;
  if (p.dst !== undefined && isLocalScope(p.dst)) return true;
  if (isNdOrMld(p)) return true;
  if (p.ip?.proto === 2) return true; // IGMP
  if (p.udp !== undefined && p.tcp === undefined &&
    ((p.dport !== undefined && HOUSEKEEPING_UDP.has(p.dport)) || (p.sport !== undefined && HOUSEKEEPING_UDP.has(p.sport)))) return true;
  return false;
}
