// DNS (UDP 53) and mDNS (UDP 5353): only recognised and named, so a name lookup reads as "dns" from a
// capture file as it does from tcpdump's text; the message itself is not decoded.

import { registerUdpPort, type Ctx } from './registry.ts';

function dissectDns(c: Ctx, off: number, end: number): boolean {
  // A DNS message starts with a 12-byte header; anything shorter is left to UDP.
  if (end - off < 12) return false;
  const flags = (c.d[off + 2]! << 8) | c.d[off + 3]!;
  c.p.proto = 'dns';
  if (c.t) {
    const id = (c.d[off]! << 8) | c.d[off + 1]!;
    const qd = (c.d[off + 4]! << 8) | c.d[off + 5]!;
    c.t.layer('dns', `Domain Name System (${flags & 0x8000 ? 'response' : 'query'})`, off, end - off);
    c.t.add('dns.id', 'Transaction ID: 0x' + id.toString(16).padStart(4, '0'), id, off, 2);
    c.t.add('dns.flags', 'Flags: 0x' + flags.toString(16).padStart(4, '0'), flags, off + 2, 2);
    c.t.add('dns.count.queries', 'Questions: ' + qd, qd, off + 4, 2);
  }
  return true;
}

registerUdpPort(53, dissectDns);
registerUdpPort(5353, dissectDns);
