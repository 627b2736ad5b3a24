// LINKTYPE_ENC (109): what OpenBSD and FreeBSD (pfSense, OPNsense) capture on the enc0 interface —
// IPsec traffic before encryption or after decryption, behind a 12-byte header: address family,
// SPI and flags. The family and flags are in the byte order of the host that captured (the SPI is
// in network order); a family number never needs more than 16 bits, which tells the two orders apart.

import { byEthertype, registerLinktype, type Ctx } from './registry.ts';

const M_CONF = 0x0400;
const M_AUTH = 0x0800;

function dissectEnc(c: Ctx, off: number, end: number): boolean {
  const p = c.p;
  p.proto = 'enc';
  if (end - off < 12) {
    c.trunc('ENC');
    return true;
  }
  let af = c.u32(off);
  let flags = c.u32(off + 8);
  if (af > 0xffff) {
    af = c.u32le(off);
    flags = c.u32le(off + 8);
  }
  const spi = c.u32(off + 4);
  p.enc = { spi, flags };
  const t = c.t;
  if (t) {
    t.layer('enc', 'OpenBSD Encapsulating device, SPI 0x' + spi.toString(16).padStart(8, '0'), off, 12);
    t.add('enc.af', 'Address Family: ' + af, af, off, 4);
    t.add('enc.spi', 'SPI: 0x' + spi.toString(16).padStart(8, '0'), spi, off + 4, 4);
    t.add('enc.flags', 'Flags: 0x' + flags.toString(16).padStart(8, '0') +
      ((flags & M_AUTH) !== 0 ? ', authentic' : '') + ((flags & M_CONF) !== 0 ? ', confidential' : ''), flags, off + 8, 4);
  }
  // tcpdump's form: "(authentic,confidential): SPI 0x…: " before the packet.
  const kinds: string[] = [];
  if ((flags & M_AUTH) !== 0) kinds.push('authentic');
  if ((flags & M_CONF) !== 0) kinds.push('confidential');
  c.prefix += '(' + (kinds.length === 0 ? 'unprotected' : kinds.join(',')) + '): SPI 0x' + spi.toString(16).padStart(8, '0') + ': ';
  const o = off + 12;
  // AF_INET is 2 everywhere; AF_INET6 is 24 (OpenBSD), 28 (FreeBSD), 30 (macOS) or 10 (Linux).
  let type = af === 2 ? 0x0800 : af === 24 || af === 28 || af === 30 || af === 10 ? 0x86dd : 0;
  if (type === 0 && o < end) type = c.d[o]! >> 4 === 4 ? 0x0800 : c.d[o]! >> 4 === 6 ? 0x86dd : 0;
  if (type === 0 || !byEthertype(c, type, o, end)) c.info = 'AF ' + af + ', length ' + (end - o);
  return true;
}

registerLinktype(109, dissectEnc);
