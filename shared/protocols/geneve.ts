// Geneve (UDP 6081): 8-byte header plus options, then the inner packet by ethertype
// (0x6558 for Ethernet, as cloud overlays use it).

import { byEthertype, hasEthertype, registerUdpPort, type Ctx } from './registry.ts';

function dissectGeneve(c: Ctx, off: number, end: number): boolean {
  const avail = end - off;
  if (avail < 8) return false;
  const d = c.d;
  if (d[off]! >> 6 !== 0) return false;
  const hl = 8 + (d[off]! & 0x3f) * 4;
  const proto = c.u16(off + 2);
  const vni = c.u32(off + 4) >>> 8;
  const p = c.p;
  p.proto = 'geneve';
  if (c.t) {
    c.t.layer('geneve', 'Generic Network Virtualization Encapsulation, VNI: 0x' + vni.toString(16).padStart(6, '0'), off, Math.min(hl, avail));
    c.t.add('geneve.proto_type', 'Protocol Type: 0x' + proto.toString(16).padStart(4, '0'), proto, off + 2, 2);
    c.t.add('geneve.vni', 'Virtual Network Identifier (VNI): ' + vni, vni, off + 4, 3);
  }
  c.info = 'Geneve, vni 0x' + vni.toString(16) + ', proto 0x' + proto.toString(16).padStart(4, '0');
  if (avail < hl) {
    c.trunc('Geneve');
    return true;
  }
  if (hasEthertype(proto) && c.beginInner('geneve')) byEthertype(c, proto, off + hl, end);
  return true;
}

registerUdpPort(6081, dissectGeneve);
