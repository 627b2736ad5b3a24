// Cisco MetaData (ethertype 0x8909, seen inside GRE): an 8-byte tag with the security group tag,
// then the real ethertype.

import { byEthertype, registerEthertype, type Ctx } from './registry.ts';

function dissectCmd(c: Ctx, off: number, end: number): boolean {
  if (end - off < 8) {
    c.trunc('CMD');
    return true;
  }
  const sgt = c.u16(off + 4);
  const type = c.u16(off + 6);
  if (c.d[off] !== 1) return false;
  if (c.t) {
    c.t.layer('cmd', 'Cisco MetaData, SGT: ' + sgt, off, 8);
    c.t.add('cmd.sgt', 'SGT: ' + sgt, sgt, off + 4, 2);
    c.t.add('cmd.type', 'Type: 0x' + type.toString(16).padStart(4, '0'), type, off + 6, 2);
  }
  if (!byEthertype(c, type, off + 8, end)) c.info += ', CMD sgt ' + sgt + ', ethertype 0x' + type.toString(16);
  return true;
}

registerEthertype(0x8909, dissectCmd);
