// ISAKMP/IKE header (UDP 500, and 4500 behind the non-ESP marker): SPIs, version, exchange, message id,
// the header flags, the clear-text payload chain and the notify types readable without keys.

import { registerUdpPort, type Ctx } from './registry.ts';
import { hexBytes } from './fields.ts';

const EXCH_V1: Record<number, string> = { 1: 'base', 2: 'ident', 3: 'auth', 4: 'agg', 5: 'inf', 32: 'oakley-quick', 33: 'oakley-newgroup' };
const EXCH_V2: Record<number, string> = { 34: 'ikev2_init', 35: 'ikev2_auth', 36: 'child_sa', 37: 'inf2', 38: 'ikev2_session_resume' };

/** Notify types worth naming in the summary line (RFC 7296 §3.10.1, RFC 2408 §3.14.1). */
const NOTIFY_NAMES: Record<number, string> = {
  1: 'unsupported_critical_payload', 4: 'invalid_ike_spi', 5: 'invalid_major_version', 7: 'invalid_syntax',
  9: 'invalid_message_id', 11: 'invalid_spi', 14: 'no_proposal_chosen', 17: 'invalid_ke_payload',
  18: 'invalid_id_information', 24: 'authentication_failed', 34: 'single_pair_required', 35: 'no_additional_sas',
  36: 'internal_address_failure', 37: 'failed_cp_required', 38: 'ts_unacceptable', 39: 'invalid_selectors',
  43: 'temporary_failure', 44: 'child_sa_not_found',
  16390: 'cookie', 16388: 'nat_detection_source_ip', 16389: 'nat_detection_destination_ip',
};

/** Payload types that carry a notify: IKEv2 N (41) and IKEv1 Notification (11). */
const NOTIFY_V2 = 41, NOTIFY_V1 = 11;
/** IKEv2 Encrypted (SK, 46) and Encrypted Fragment (SKF, 53): everything after it is ciphertext. */
const SK = 46, SKF = 53;
/** A payload chain longer than this is not a real IKE message; stop reading it. */
const MAX_PAYLOADS = 64;

/**
 * Walks the generic payload headers (next payload, flags, length) from `first`, within the message.
 * Stops at the encrypted payload, at a length that does not fit, or when the header says encrypted (v1).
 */
function payloadChain(c: Ctx, first: number, start: number, end: number, version: 1 | 2):
  { payloads: number[]; notify: number[] } {
  const d = c.d;
  const payloads: number[] = [];
  const notify: number[] = [];
  let next = first;
  let off = start;
  while (next !== 0 && payloads.length < MAX_PAYLOADS) {
    payloads.push(next);
    if (version === 2 && (next === SK || next === SKF)) break;
    if (off + 4 > end) break;
    const plen = (d[off + 2]! << 8) | d[off + 3]!;
    if (plen < 4 || off + plen > end) break;
    if (version === 2 && next === NOTIFY_V2 && plen >= 8) notify.push((d[off + 6]! << 8) | d[off + 7]!);
    if (version === 1 && next === NOTIFY_V1 && plen >= 12) notify.push((d[off + 10]! << 8) | d[off + 11]!);
    next = d[off]!;
    off += plen;
  }
  return { payloads, notify };
}

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
  const mlen = c.u32(off + 24);
  const t = c.t;
  if (t) {
    t.layer('isakmp', 'Internet Security Association and Key Management Protocol', off, Math.min(avail, mlen) || avail);
    t.add('isakmp.ispi', 'Initiator SPI: ' + ispi, ispi, off, 8);
    t.add('isakmp.rspi', 'Responder SPI: ' + rspi, rspi, off + 8, 8);
    t.add('isakmp.nextpayload', 'Next payload: ' + d[off + 16], d[off + 16], off + 16, 1);
    t.add('isakmp.version', 'Version: ' + major + '.' + (ver & 15), major + '.' + (ver & 15), off + 17, 1);
    t.add('isakmp.exchtype', 'Exchange type: ' + exchange, exchange, off + 18, 1);
    t.add('isakmp.flags', 'Flags: 0x' + flags.toString(16).padStart(2, '0'), flags, off + 19, 1);
    t.add('isakmp.messageid', 'Message ID: 0x' + msgid.toString(16).padStart(8, '0'), msgid, off + 20, 4);
    t.add('isakmp.length', 'Length: ' + mlen, mlen, off + 24, 4);
  }
  if (mlen < 28) {
    c.info = 'isakmp: bad length ' + mlen;
    return true;
  }
  if (major !== 1 && major !== 2) {
    c.info = 'isakmp ' + major + '.' + (ver & 15) + ' msg';
    return true;
  }
  const version = major as 1 | 2;
  // A v1 message with the E flag is ciphertext after the header: no chain to read.
  const encrypted = version === 1 && (flags & 0x01) !== 0;
  const chain = encrypted ? { payloads: [d[off + 16]!], notify: [] } : payloadChain(c, d[off + 16]!, off + 28, Math.min(end, off + mlen), version);
  p.ike = { ispi, rspi, version, exchange, msgid, flags, payloads: chain.payloads };
  if (chain.notify.length > 0) p.ike.notify = chain.notify;
  if (t && chain.notify.length > 0) t.add('isakmp.notify', 'Notify: ' + chain.notify.map((n) => NOTIFY_NAMES[n] ?? String(n)).join(', '), chain.notify.join(','), off + 28, Math.max(0, Math.min(avail, mlen) - 28));
  // The summary stays what `tcpdump -n` prints (no notifies without -v), so text and binary read alike.
  if (version === 2) {
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
