// Linux cooked capture headers: SLL (linktype 113) and SLL2 (276, written by `tcpdump -i any`).
// SLL2 carries the interface index, mapped to a name through DecodeOptions.linkNames.

import { byEthertype, registerLinktype, type Ctx } from './registry.ts';
import { mac, sllDirection } from './fields.ts';

const PKTTYPE = ['Unicast to us', 'Broadcast', 'Multicast', 'Unicast to another host', 'Sent by us'];

function setDir(c: Ctx, pkttype: number): void {
  c.p.dir = sllDirection(pkttype);
}

/** Cooked headers name a few non-Ethernet protocol values; everything else is an ethertype. */
function next(c: Ctx, proto: number, off: number, end: number): void {
  if (!byEthertype(c, proto, off, end)) c.info = 'ethertype 0x' + proto.toString(16).padStart(4, '0') + ', length ' + (end - off);
}

function dissectSll(c: Ctx, off: number, end: number): boolean {
  const p = c.p;
  p.proto = 'sll';
  if (end - off < 16) {
    c.trunc('SLL');
    return true;
  }
  const pkttype = c.u16(off);
  const halen = c.u16(off + 4);
  const proto = c.u16(off + 14);
  setDir(c, pkttype);
  const t = c.t;
  if (t) {
    t.layer('sll', 'Linux cooked capture v1', off, 16);
    t.add('sll.pkttype', 'Packet type: ' + (PKTTYPE[pkttype] ?? pkttype), pkttype, off, 2);
    t.add('sll.hatype', 'Link-layer address type: ' + c.u16(off + 2), c.u16(off + 2), off + 2, 2);
    t.add('sll.halen', 'Link-layer address length: ' + halen, halen, off + 4, 2);
    if (halen > 0) t.add('sll.src', 'Source: ' + mac(c.d, off + 6, Math.min(halen, 8)), mac(c.d, off + 6, Math.min(halen, 8)), off + 6, 8);
    t.add('sll.etype', 'Protocol: 0x' + proto.toString(16).padStart(4, '0'), proto, off + 14, 2);
  }
  next(c, proto, off + 16, end);
  return true;
}

function dissectSll2(c: Ctx, off: number, end: number): boolean {
  const p = c.p;
  p.proto = 'sll';
  if (end - off < 20) {
    c.trunc('SLL2');
    return true;
  }
  const proto = c.u16(off);
  const ifindex = c.u32(off + 4);
  const hatype = c.u16(off + 8);
  const pkttype = c.u8(off + 10);
  const halen = c.u8(off + 11);
  setDir(c, pkttype);
  p.ifindex = ifindex;
  // Without interface names the link type is what tells a tunnel from an Ethernet interface.
  p.hatype = hatype;
  const name = c.opts?.linkNames?.get(ifindex);
  if (name !== undefined) p.iface = name;
  const t = c.t;
  if (t) {
    t.layer('sll', 'Linux cooked capture v2, interface ' + (name ?? ifindex), off, 20);
    t.add('sll.etype', 'Protocol: 0x' + proto.toString(16).padStart(4, '0'), proto, off, 2);
    t.add('sll.ifindex', 'Interface index: ' + ifindex + (name !== undefined ? ' (' + name + ')' : ''), ifindex, off + 4, 4);
    t.add('sll.hatype', 'Link-layer address type: ' + hatype, hatype, off + 8, 2);
    t.add('sll.pkttype', 'Packet type: ' + (PKTTYPE[pkttype] ?? pkttype), pkttype, off + 10, 1);
    t.add('sll.halen', 'Link-layer address length: ' + halen, halen, off + 11, 1);
    if (halen > 0) t.add('sll.src', 'Source: ' + mac(c.d, off + 12, Math.min(halen, 8)), mac(c.d, off + 12, Math.min(halen, 8)), off + 12, 8);
  }
  next(c, proto, off + 20, end);
  return true;
}

registerLinktype(113, dissectSll);
registerLinktype(276, dissectSll2);
