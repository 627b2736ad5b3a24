// IPsec Authentication Header (IP protocol 51, RFC 4302): SPI and sequence number, then the layer
// it protects (ESP, TCP, UDP, IP in tunnel mode …) is decoded as if AH were not there.

import { byIpProto, registerIpProto, type Ctx } from './registry.ts';
import { hexBytes, ipProtoName } from './fields.ts';

function dissectAh(c: Ctx, off: number, end: number): boolean {
  const p = c.p;
  p.proto = 'ah';
  const avail = end - off;
  if (avail < 12) {
    // tcpdump's form for a cut header: "AH(spi=0x…, [|ah]".
    c.info = avail >= 8 ? 'AH(spi=0x' + c.u32(off + 4).toString(16).padStart(8, '0') + ',' : 'AH';
    c.trunc('AH');
    return true;
  }
  const d = c.d;
  const next = d[off]!;
  // The length field counts 32-bit words minus 2 (RFC 4302 §2.2).
  const len = (d[off + 1]! + 2) * 4;
  const spi = c.u32(off + 4);
  const seq = c.u32(off + 8);
  p.ah = { spi, seq, next };
  const t = c.t;
  if (t) {
    t.layer('ah', 'Authentication Header, SPI: 0x' + spi.toString(16).padStart(8, '0'), off, Math.min(len, avail));
    t.add('ah.next_header', 'Next header: ' + ipProtoName(next) + ' (' + next + ')', next, off, 1);
    t.add('ah.length', 'Length: ' + len + ' bytes', d[off + 1]!, off + 1, 1);
    t.add('ah.spi', 'AH SPI: 0x' + spi.toString(16).padStart(8, '0'), spi, off + 4, 4);
    t.add('ah.sequence', 'AH Sequence: ' + seq, seq, off + 8, 4);
    if (len > 12 && avail >= len) t.add('ah.icv', 'AH ICV: ' + (len - 12) + ' bytes', undefined, off + 12, len - 12);
  }
  let head = 'AH(spi=0x' + spi.toString(16).padStart(8, '0') + ',seq=0x' + seq.toString(16);
  if (len < 12) {
    c.info = head + '): bad length ' + len;
    return true;
  }
  if (avail < len) {
    c.info = head + ',';
    c.trunc('AH');
    return true;
  }
  // tcpdump prints the ICV too: keeping its form lets a pasted line and the capture read alike.
  if (c.sum && len > 12) head += ',icv=0x' + hexBytes(d, off + 12, len - 12);
  head += ')';
  c.info = head;
  // Like the IPv6 extension headers it sits among, AH makes ip.proto name the protected layer there.
  if (p.ip !== undefined && p.ip.v === 6) p.ip.proto = next;
  const depth = c.depth;
  if (!byIpProto(c, next, off + len, end)) c.info = ipProtoName(next) + ', length ' + (end - off - len);
  // A tunnel (IP in AH) carried `head` into its prefix already; otherwise the protected layer's text follows it.
  if (c.depth === depth) c.info = head + ': ' + c.info;
  return true;
}

registerIpProto(51, dissectAh);
