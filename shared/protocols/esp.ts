// ESP (IP protocol 50; also reached from NAT-T on UDP 4500): SPI and sequence number are the
// clear-text keys that follow one datagram across hosts.

import { registerIpProto, type Ctx } from './registry.ts';

function dissectEsp(c: Ctx, off: number, end: number): boolean {
  const p = c.p;
  p.proto = 'esp';
  const avail = end - off;
  const encap = c.info.startsWith('UDP') ? 'UDP-encap: ' : '';
  if (avail < 8) {
    c.info = encap + (avail >= 4 ? 'ESP(spi=0x' + c.u32(off).toString(16).padStart(8, '0') : 'ESP');
    c.trunc('ESP');
    return true;
  }
  const spi = c.u32(off);
  const seq = c.u32(off + 4);
  p.esp = { spi, seq };
  if (c.payStart < 0) { c.payStart = off; c.payEnd = end; }
  const t = c.t;
  if (t) {
    t.layer('esp', 'Encapsulating Security Payload', off, avail);
    t.add('esp.spi', 'ESP SPI: 0x' + spi.toString(16).padStart(8, '0') + ' (' + spi + ')', spi, off, 4);
    t.add('esp.sequence', 'ESP Sequence: ' + seq, seq, off + 4, 4);
  }
  // The whole IP payload length, as tcpdump reports it.
  const len = c.l3End - off;
  c.info = encap + espText(spi, seq, len > 0 ? len : avail);
  return true;
}

/** The summary text of an ESP header, tcpdump's wording (`len`: the IP payload's length). Shared with the bulk import's fast path. */
export function espText(spi: number, seq: number, len: number): string {
  return 'ESP(spi=0x' + spi.toString(16).padStart(8, '0') + ',seq=0x' + seq.toString(16) + '), length ' + len;
}

registerIpProto(50, dissectEsp);
