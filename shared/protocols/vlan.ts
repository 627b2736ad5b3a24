// IEEE 802.1Q VLAN tags and 802.1ad/QinQ service tags (0x8100, 0x88a8 and the pre-standard 0x9100).

import { byEthertype, registerEthertype, type Ctx } from './registry.ts';

function dissectVlan(c: Ctx, off: number, end: number): boolean {
  const p = c.p;
  if (end - off < 4) {
    c.trunc('802.1Q');
    return true;
  }
  const tci = c.u16(off);
  const type = c.u16(off + 2);
  const id = tci & 0x0fff;
  (p.vlan ??= []).push(id);
  const t = c.t;
  if (t) {
    t.layer('vlan', '802.1Q Virtual LAN, PRI: ' + (tci >> 13) + ', DEI: ' + ((tci >> 12) & 1) + ', ID: ' + id, off, 4);
    t.add('vlan.priority', 'Priority: ' + (tci >> 13), tci >> 13, off, 2);
    t.add('vlan.dei', 'DEI: ' + ((tci >> 12) & 1), (tci >> 12) & 1, off, 2);
    t.add('vlan.id', 'ID: ' + id, id, off, 2);
    t.add('vlan.etype', 'Type: 0x' + type.toString(16).padStart(4, '0'), type, off + 2, 2);
  }
  if (!byEthertype(c, type, off + 4, end)) {
    c.info = 'vlan ' + id + ', ethertype 0x' + type.toString(16).padStart(4, '0');
  }
  return true;
}

registerEthertype(0x8100, dissectVlan);
registerEthertype(0x88a8, dissectVlan);
registerEthertype(0x9100, dissectVlan);
