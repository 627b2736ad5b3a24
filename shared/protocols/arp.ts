// ARP (ethertype 0x0806) for IPv4 over Ethernet-like hardware; other hardware/protocol pairs keep the raw header.

import { registerEthertype, type Ctx } from './registry.ts';
import { ipv4, mac } from './fields.ts';

function dissectArp(c: Ctx, off: number, end: number): boolean {
  const p = c.p;
  p.proto = 'arp';
  c.fam = 'ARP';
  if (end - off < 8) {
    c.trunc('ARP');
    return true;
  }
  const hrd = c.u16(off);
  const pro = c.u16(off + 2);
  const hln = c.u8(off + 4);
  const pln = c.u8(off + 5);
  const op = c.u16(off + 6);
  const t = c.t;
  const total = 8 + 2 * hln + 2 * pln;
  if (t) {
    t.layer('arp', 'Address Resolution Protocol (' + (op === 1 ? 'request' : op === 2 ? 'reply' : op) + ')', off, Math.min(total, end - off));
    t.add('arp.hw.type', 'Hardware type: ' + hrd, hrd, off, 2);
    t.add('arp.proto.type', 'Protocol type: 0x' + pro.toString(16).padStart(4, '0'), pro, off + 2, 2);
    t.add('arp.hw.size', 'Hardware size: ' + hln, hln, off + 4, 1);
    t.add('arp.proto.size', 'Protocol size: ' + pln, pln, off + 5, 1);
    t.add('arp.opcode', 'Opcode: ' + op, op, off + 6, 2);
  }
  // ATM ARP (hardware type 19) lays its addresses out differently.
  if (pro !== 0x0800 || pln !== 4 || hrd === 19) {
    c.info = 'arp-#' + op + ' for proto #' + pro + ' (' + pln + ') hardware #' + hrd + ' (' + hln + '), length ' + (end - off);
    return true;
  }
  if (end - off < total) {
    c.trunc('ARP');
    return true;
  }
  const d = c.d;
  const sha = off + 8;
  const spa = sha + hln;
  const tha = spa + 4;
  const tpa = tha + hln;
  const a: NonNullable<typeof p.arp> = { op, spa: ipv4(d, spa), tpa: ipv4(d, tpa) };
  if (hln > 0) {
    a.sha = mac(d, sha, hln);
    a.tha = mac(d, tha, hln);
  }
  p.arp = a;
  // ARP's protocol addresses are the packet's addresses (as the text reader has them; see README.md).
  p.src = a.spa;
  p.dst = a.tpa;
  if (t) {
    if (hln > 0) t.add('arp.src.hw_mac', 'Sender MAC address: ' + a.sha, a.sha, sha, hln);
    t.add('arp.src.proto_ipv4', 'Sender IP address: ' + a.spa, a.spa, spa, 4);
    if (hln > 0) t.add('arp.dst.hw_mac', 'Target MAC address: ' + a.tha, a.tha, tha, hln);
    t.add('arp.dst.proto_ipv4', 'Target IP address: ' + a.tpa, a.tpa, tpa, 4);
  }
  const len = end - off;
  if (op === 1) c.info = 'Request who-has ' + a.tpa + ' tell ' + a.spa + ', length ' + len;
  else if (op === 2) c.info = 'Reply ' + a.spa + ' is-at ' + (a.sha ?? '') + ', length ' + len;
  else c.info = 'opcode ' + op + ', length ' + len;
  return true;
}

registerEthertype(0x0806, dissectArp);
