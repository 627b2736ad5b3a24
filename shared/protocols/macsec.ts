// MACsec SecTAG (ethertype 0x88e5). Only frames sent in the clear (E bit unset) have a readable payload.

import { byEthertype, registerEthertype, type Ctx } from './registry.ts';

function dissectMacsec(c: Ctx, off: number, end: number): boolean {
  const p = c.p;
  p.proto = 'macsec';
  if (end - off < 6) {
    c.trunc('MACsec');
    return true;
  }
  const tci = c.d[off]!;
  const hl = tci & 0x20 ? 14 : 6;
  const pn = c.u32(off + 2);
  if (c.t) {
    c.t.layer('macsec', 'MACsec, PN: ' + pn, off, Math.min(hl, end - off));
    c.t.add('macsec.TCI', 'TCI: 0x' + tci.toString(16).padStart(2, '0'), tci, off, 1);
    c.t.add('macsec.PN', 'Packet number: ' + pn, pn, off + 2, 4);
  }
  c.info = 'MACsec, pn ' + pn;
  if (end - off < hl + 2) {
    c.trunc('MACsec');
    return true;
  }
  // Encrypted (E) or modified (C) payloads hide the inner ethertype.
  if (tci & 0x0c) return true;
  const type = c.u16(off + hl);
  byEthertype(c, type, off + hl + 2, end);
  return true;
}

registerEthertype(0x88e5, dissectMacsec);
