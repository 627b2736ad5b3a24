// ISAKMP/IKE header (UDP 500, and 4500 behind the non-ESP marker): SPIs, version, exchange, message id.

import { registerUdpPort, type Ctx } from './registry.ts';
import { hexBytes } from './fields.ts';

const EXCH_V1: Record<number, string> = { 1: 'base', 2: 'ident', 3: 'auth', 4: 'agg', 5: 'inf', 32: 'oakley-quick', 33: 'oakley-newgroup' };
const EXCH_V2: Record<number, string> = { 34: 'ikev2_init', 35: 'ikev2_auth', 36: 'child_sa', 37: 'inf2', 38: 'ikev2_session_resume' };

function dissectIke(c: Ctx, off: number, end: number): boolean {
  const p = c.p;
  p.proto = 'isakmp';
  const avail = end - off;
  if (avail < 28) {
    c.info = 'isakmp';
    c.trunc('ISAKMP');
    return true;
  }
  const d = c.d;
  const ver = d[off + 17]!;
  const major = ver >> 4;
  const exchange = d[off + 18]!;
  const flags = d[off + 19]!;
  const msgid = c.u32(off + 20);
  const ispi = hexBytes(d, off, 8);
  const rspi = hexBytes(d, off + 8, 8);
  const t = c.t;
  if (t) {
    t.layer('isakmp', 'Internet Security Association and Key Management Protocol', off, Math.min(avail, c.u32(off + 24)) || avail);
    t.add('isakmp.ispi', 'Initiator SPI: ' + ispi, ispi, off, 8);
    t.add('isakmp.rspi', 'Responder SPI: ' + rspi, rspi, off + 8, 8);
    t.add('isakmp.nextpayload', 'Next payload: ' + d[off + 16], d[off + 16], off + 16, 1);
    t.add('isakmp.version', 'Version: ' + major + '.' + (ver & 15), major + '.' + (ver & 15), off + 17, 1);
    t.add('isakmp.exchtype', 'Exchange type: ' + exchange, exchange, off + 18, 1);
    t.add('isakmp.flags', 'Flags: 0x' + flags.toString(16).padStart(2, '0'), flags, off + 19, 1);
    t.add('isakmp.messageid', 'Message ID: 0x' + msgid.toString(16).padStart(8, '0'), msgid, off + 20, 4);
    t.add('isakmp.length', 'Length: ' + c.u32(off + 24), c.u32(off + 24), off + 24, 4);
  }
  if (c.u32(off + 24) < 28) {
    c.info = 'isakmp: bad length ' + c.u32(off + 24);
    return true;
  }
  if (major !== 1 && major !== 2) {
    c.info = 'isakmp ' + major + '.' + (ver & 15) + ' msg';
    return true;
  }
  p.ike = { ispi, rspi, version: major as 1 | 2, exchange, msgid };
  if (major === 2) {
    c.info = 'isakmp: ' + (msgid === 0 ? 'parent_sa ' : 'child_sa  ') + (EXCH_V2[exchange] ?? 'exchange ' + exchange) +
      '[' + (flags & 0x08 ? 'I' : '') + (flags & 0x10 ? 'V' : '') + (flags & 0x20 ? 'R' : '') + ']';
  } else {
    // Version 1 has no role flag; only a zero responder cookie tells for sure that the initiator sent it.
    const initiator = rspi === '0000000000000000';
    c.info = 'isakmp: phase ' + (msgid === 0 ? '1' : '2/others') + ' ' + (initiator ? 'I ' : '') +
      (EXCH_V1[exchange] ?? 'exchange ' + exchange) + (flags & 0x01 ? '[E]' : '');
  }
  return true;
}

registerUdpPort(500, dissectIke);
