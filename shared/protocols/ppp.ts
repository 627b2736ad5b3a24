// PPP frames: in GRE version 1 (PPTP, protocol 0x880b), in PPPoE sessions (ethertype 0x8864) and on
// PPP links (linktype 9 PPP, 50 PPP in HDLC framing). Address/control bytes and the one-byte protocol field are both optional (ACFC, PFC).
// IPv4/IPv6 payloads are followed into; control protocols are named.

import { byEthertype, registerEthertype, registerLinktype, type Ctx } from './registry.ts';

const NAMES: Record<number, string> = {
  0x0021: 'IP', 0x0057: 'IP6', 0x0281: 'MPLS', 0x0283: 'MPLS multicast', 0x00fd: 'compressed datagram', 0x002d: 'VJ compressed', 0x002f: 'VJ uncompressed',
  0xc021: 'LCP', 0x8021: 'IPCP', 0x8057: 'IP6CP', 0xc023: 'PAP', 0xc223: 'CHAP', 0x80fd: 'CCP', 0xc025: 'LQR',
  0x8281: 'MPLSCP', 0xc227: 'EAP', 0x003d: 'MLPPP', 0x80fb: 'compression on single link',
};

const CODES = ['', 'Conf-Request', 'Conf-Ack', 'Conf-Nak', 'Conf-Reject', 'Term-Request', 'Term-Ack', 'Code-Reject', 'Prot-Reject', 'Echo-Request', 'Echo-Reply', 'Discard-Request'];
const AUTH_CODES: Record<number, string[]> = {
  0xc223: ['', 'Challenge', 'Response', 'Success', 'Failure'],
  0xc023: ['', 'Auth-Req', 'Auth-ACK', 'Auth-NACK'],
};

function dissectPpp(c: Ctx, off: number, end: number, tunnel: string | null, hdlc = false): boolean {
  const p = c.p;
  p.proto = 'ppp';
  const d = c.d;
  let o = off;
  // Address and control bytes (0xff 0x03) may be left out; in HDLC framing (linktype 50) a leading 0xff
  // is taken as the address whatever follows it, as tshark and tcpdump do.
  if (end - o >= 2 && d[o] === 0xff && (hdlc || d[o + 1] === 0x03)) o += 2;
  if (end - o < 1) {
    c.info = 'PPP';
    c.trunc('PPP');
    return true;
  }
  let proto = d[o]!;
  const pfStart = o;
  // An odd first byte is a compressed one-byte protocol field (RFC 1661 §6.5).
  if ((proto & 1) === 1) o += 1;
  else {
    if (end - o < 2) {
      c.info = 'PPP';
      c.trunc('PPP');
      return true;
    }
    proto = c.u16(o);
    o += 2;
  }
  p.ppp = { proto };
  const name = NAMES[proto];
  const t = c.t;
  if (t) {
    t.layer('ppp', 'Point-to-Point Protocol, ' + (name ?? 'protocol 0x' + proto.toString(16).padStart(4, '0')), off, o - off);
    t.add('ppp.protocol', 'Protocol: ' + (name ?? 'unknown') + ' (0x' + proto.toString(16).padStart(4, '0') + ')', proto, pfStart, o - pfStart);
  }
  if (proto === 0x0021 || proto === 0x0057) {
    // Over PPTP the PPP payload is the tunnel's inner packet; on a PPP link it is the packet itself.
    if (tunnel !== null && !c.beginInner(tunnel)) return true;
    if (!byEthertype(c, proto === 0x0021 ? 0x0800 : 0x86dd, o, end)) c.info = name! + ', length ' + (end - o);
    return true;
  }
  // MPLS over PPP (unicast, multicast) continues as the ethertypes do.
  if ((proto === 0x0281 || proto === 0x0283) && byEthertype(c, proto === 0x0281 ? 0x8847 : 0x8848, o, end)) return true;
  // 0x8000 and up are network- and link-control protocols, all framed as code, id, length.
  if (proto >= 0x8000) {
    control(c, proto, name, o, end, end - pfStart);
    return true;
  }
  c.info = (name ?? 'unknown PPP protocol (0x' + proto.toString(16).padStart(4, '0') + ')') + ', length ' + (end - o);
  return true;
}

/** LCP-style control packets: code, identifier, length (RFC 1661 §5). */
function control(c: Ctx, proto: number, known: string | undefined, o: number, end: number, pppLen: number): void {
  const p = c.p;
  const name = known ?? 'PPP control protocol 0x' + proto.toString(16).padStart(4, '0');
  if (known !== undefined) p.proto = known.toLowerCase();
  if (end - o < 4) {
    c.info = name;
    c.trunc(name);
    return;
  }
  const code = c.d[o]!;
  const id = c.d[o + 1]!;
  const len = c.u16(o + 2);
  const codeName = (AUTH_CODES[proto] ?? CODES)[code];
  if (c.t) {
    c.t.add('ppp.code', 'Code: ' + (codeName ?? 'unknown') + ' (' + code + ')', code, o, 1);
    c.t.add('ppp.identifier', 'Identifier: ' + id, id, o + 1, 1);
    c.t.add('ppp.length', 'Length: ' + len, len, o + 2, 2);
  }
  // tcpdump's form: the length counted from the PPP protocol field; none for the authentication protocols.
  c.info = name + ', ' + (codeName !== undefined && codeName !== '' ? codeName + ' (0x' + code.toString(16).padStart(2, '0') + ')' : 'unknown code ' + code) +
    ', id ' + id + (AUTH_CODES[proto] !== undefined ? '' : ', length ' + pppLen);
}

// 0x880b is PPP's number in GRE's protocol field only (PPTP); as an Ethernet type it means nothing.
registerEthertype(0x880b, (c, off, end) => c.p.gre?.proto === 0x880b && dissectPpp(c, off, end, 'gre'));
// PPPoE session stage (RFC 2516): version/type, code, session id, length, then a PPP protocol field.
registerEthertype(0x8864, (c, off, end) => {
  const p = c.p;
  p.proto = 'pppoe';
  if (end - off < 6) {
    c.trunc('PPPoE');
    return true;
  }
  const sid = c.u16(off + 2);
  const len = c.u16(off + 4);
  if (c.t) {
    c.t.layer('pppoes', 'PPP-over-Ethernet Session, session 0x' + sid.toString(16).padStart(4, '0'), off, 6);
    c.t.add('pppoe.session_id', 'Session ID: 0x' + sid.toString(16).padStart(4, '0'), sid, off + 2, 2);
    c.t.add('pppoe.payload_length', 'Payload Length: ' + len, len, off + 4, 2);
  }
  c.prefix += 'PPPoE  [ses 0x' + sid.toString(16) + '] ';
  const stop = off + 6 + len < end ? off + 6 + len : end;
  return dissectPpp(c, off + 6, stop, null);
});
registerLinktype(9, (c, off, end) => dissectPpp(c, off, end, null));
registerLinktype(50, (c, off, end) => dissectPpp(c, off, end, null, true));
