// Ethernet II / 802.3 framing (linktype 1), also used for Ethernet carried in GRE (0x6558) and VXLAN.

import { byEthertype, registerEthertype, registerIpProto, registerLinktype, type Ctx } from './registry.ts';
import { mac } from './fields.ts';

function dissectEthernet(c: Ctx, off: number, end: number): boolean {
  const p = c.p;
  if (end - off < 14) {
    p.proto = 'eth';
    c.trunc('Ethernet');
    return true;
  }
  const d = c.d;
  let type = c.u16(off + 12);
  const t = c.t;
  if (t) {
    t.layer('eth', 'Ethernet II, Src: ' + mac(d, off + 6) + ', Dst: ' + mac(d, off), off, 14);
    t.add('eth.dst', 'Destination: ' + mac(d, off), mac(d, off), off, 6);
    t.add('eth.src', 'Source: ' + mac(d, off + 6), mac(d, off + 6), off + 6, 6);
  }
  p.proto = 'eth';
  let next = off + 14;
  if (type <= 1500) {
    // 802.3 length field: only SNAP-encapsulated ethertypes lead anywhere we care about.
    if (t) t.add('eth.len', 'Length: ' + type, type, off + 12, 2);
    const llcEnd = Math.min(end, next + type);
    if (llcEnd - next >= 8 && d[next] === 0xaa && d[next + 1] === 0xaa && d[next + 2] === 0x03) {
      type = c.u16(next + 6);
      if (t) t.add('llc.type', 'SNAP type: 0x' + type.toString(16).padStart(4, '0'), type, next + 6, 2);
      next += 8;
      end = llcEnd;
    } else {
      p.proto = 'llc';
      c.info = '802.3, length ' + type;
      return true;
    }
  } else if (t) {
    t.add('eth.type', 'Type: 0x' + type.toString(16).padStart(4, '0'), type, off + 12, 2);
  }
  if (!byEthertype(c, type, next, end)) {
    c.info = 'ethertype 0x' + type.toString(16).padStart(4, '0') + ', length ' + (end - off);
  }
  return true;
}

registerLinktype(1, dissectEthernet);
registerEthertype(0x6558, dissectEthernet);
// SRv6 can carry a whole Ethernet frame as IPv6 next header 143.
registerIpProto(143, (c, off, end) => c.beginInner('srv6') && dissectEthernet(c, off, end));
