// GRE (IP protocol 47), versions 0 and 1 (PPTP): optional checksum, key and sequence,
// then the inner packet by ethertype (0x6558 carries a whole Ethernet frame).

import { byEthertype, hasEthertype, registerIpProto, type Ctx } from './registry.ts';

function dissectGre(c: Ctx, off: number, end: number): boolean {
  const p = c.p;
  p.proto = 'gre';
  const avail = end - off;
  if (avail < 4) {
    c.info = 'GRE';
    c.trunc('GRE');
    return true;
  }
  const flags = c.u16(off);
  const proto = c.u16(off + 2);
  const ver = flags & 7;
  let o = off + 4;
  const hasCsum = (flags & 0xc000) !== 0;
  const hasKey = (flags & 0x2000) !== 0;
  const hasSeq = (flags & 0x1000) !== 0;
  const hasAck = ver === 1 && (flags & 0x0080) !== 0;
  const hl = 4 + (hasCsum ? 4 : 0) + (hasKey ? 4 : 0) + (hasSeq ? 4 : 0) + (hasAck ? 4 : 0);
  const gre: NonNullable<typeof p.gre> = { proto };
  p.gre = gre;
  const t = c.t;
  if (t) {
    t.layer('gre', 'Generic Routing Encapsulation (0x' + proto.toString(16).padStart(4, '0') + ')', off, Math.min(hl, avail));
    t.add('gre.flags_and_version', 'Flags and Version: 0x' + flags.toString(16).padStart(4, '0'), flags, off, 2);
    t.add('gre.proto', 'Protocol Type: 0x' + proto.toString(16).padStart(4, '0'), proto, off + 2, 2);
  }
  let s = 'GREv' + ver;
  if (avail < hl) {
    c.info = s;
    c.trunc('GRE');
    return true;
  }
  if (hasCsum) {
    if (t) t.add('gre.checksum', 'Checksum: 0x' + c.u16(o).toString(16).padStart(4, '0'), c.u16(o), o, 2);
    o += 4;
  }
  if (hasKey) {
    gre.key = c.u32(o);
    if (t) t.add('gre.key', 'Key: 0x' + gre.key.toString(16).padStart(8, '0'), gre.key, o, 4);
    // Version 1 splits the key into payload length (high half) and call ID (low half).
    s += ver === 1 ? ', call ' + (gre.key & 0xffff) : ', key=0x' + gre.key.toString(16);
    o += 4;
  }
  if (hasSeq) {
    gre.seq = c.u32(o);
    if (t) t.add('gre.sequence_number', 'Sequence Number: ' + gre.seq, gre.seq, o, 4);
    s += ', seq ' + gre.seq;
    o += 4;
  }
  if (hasAck) {
    gre.ack = c.u32(o);
    if (t) t.add('gre.ack_number', 'Acknowledgment Number: ' + gre.ack, gre.ack, o, 4);
    s += ', ack ' + gre.ack;
    o += 4;
  }
  // PPTP acknowledgments travel alone: tcpdump says so.
  c.info = s + (ver === 1 && o >= end ? ', no-payload' : '') + ', length ' + avail;
  let inner = proto;
  // WCCP redirection: an optional 4-byte redirect header, then IPv4 (no header when IPv4 follows at once).
  if (proto === 0x883e) {
    inner = 0x0800;
    if (o < end && c.d[o]! >> 4 !== 4) o += 4;
  }
  // Cisco MetaData inside GRE puts the inner ethertype first, then version, length, options and SGT.
  if (proto === 0x8909 && end - o >= 8) {
    inner = c.u16(o);
    o += 8;
  }
  // ERSPAN mirrors whole Ethernet frames: type I has no header (no GRE sequence), type II 8 bytes,
  // type III 12 bytes plus an optional 8-byte platform sub-header.
  if (proto === 0x88be) {
    inner = 0x6558;
    if (hasSeq) o += 8;
  } else if (proto === 0x22eb && end - o >= 12) {
    inner = 0x6558;
    o += 12 + (c.d[o + 11]! & 1 ? 8 : 0);
  }
  if (ver === 1 && proto === 0x880b) {
    // PPTP: PPP follows, and PPP decides whether an inner packet (and so a tunnel) begins.
    const head = c.info;
    const depth = c.depth;
    if (o < end && byEthertype(c, 0x880b, o, end) && c.depth === depth) c.info = head + ': ' + c.info;
  } else if (ver === 0 && hasEthertype(inner) && c.beginInner('gre')) {
    if (!byEthertype(c, inner, o, end)) c.info = 'proto 0x' + proto.toString(16);
  } else {
    c.info += ', proto 0x' + proto.toString(16).padStart(4, '0');
  }
  return true;
}

registerIpProto(47, dissectGre);
