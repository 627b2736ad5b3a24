// VXLAN (UDP 4789): 8-byte header with the VNI, then a whole Ethernet frame.

import { byEthertype, registerUdpPort, type Ctx } from './registry.ts';

function dissectVxlan(c: Ctx, off: number, end: number): boolean {
  const p = c.p;
  const avail = end - off;
  if (avail < 8) return false;
  const flags = c.d[off]!;
  const vni = c.u32(off + 4) >>> 8;
  p.proto = 'vxlan';
  p.vxlan = { vni };
  if (c.t) {
    c.t.layer('vxlan', 'Virtual eXtensible Local Area Network, VNI: ' + vni, off, 8);
    c.t.add('vxlan.flags', 'Flags: 0x' + flags.toString(16).padStart(2, '0'), flags, off, 1);
    c.t.add('vxlan.vni', 'VXLAN Network Identifier (VNI): ' + vni, vni, off + 4, 3);
  }
  c.info = 'VXLAN, flags [' + (flags & 0x08 ? 'I' : '.') + '] (0x' + flags.toString(16).padStart(2, '0') + '), vni ' + vni;
  if (c.beginInner('vxlan')) byEthertype(c, 0x6558, off + 8, end);
  return true;
}

registerUdpPort(4789, dissectVxlan);
