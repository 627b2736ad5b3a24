// The IKE negotiation as stages, from both ends' captures: which exchange ran, which one failed,
// whether the failing message reached the other gateway, and what followed it. IKE_AUTH and
// IKEv1's third main-mode pair are encrypted, so they are judged by what follows them.
//
// Roles: A is the initiating host (the engine's orientation). IKEv2 direction comes from the
// header flags (Initiator 0x08, Response 0x20) when the capture has them, else from the capture's
// own in/out; never from a zero responder SPI alone (a refusal carries one too).

import type { Packet } from '../../protocols/packet.ts';
import type { Rec, Side } from '../prepare.ts';

export const IKE_SA_INIT = 34, IKE_AUTH = 35, CREATE_CHILD_SA = 36, INFORMATIONAL = 37;
export const V1_MAIN = 2, V1_AGGRESSIVE = 4, V1_INFO = 5, V1_QUICK = 32;
export const N_NO_PROPOSAL_CHOSEN = 14, N_INVALID_KE_PAYLOAD = 17, N_AUTHENTICATION_FAILED = 24,
  N_TS_UNACCEPTABLE = 38, N_COOKIE = 16390, N_INVALID_ID_INFORMATION = 18;

export const NOTIFY_NAME: Record<number, string> = {
  [N_NO_PROPOSAL_CHOSEN]: 'NO_PROPOSAL_CHOSEN', [N_INVALID_KE_PAYLOAD]: 'INVALID_KE_PAYLOAD', [N_AUTHENTICATION_FAILED]: 'AUTHENTICATION_FAILED',
  [N_TS_UNACCEPTABLE]: 'TS_UNACCEPTABLE', [N_COOKIE]: 'COOKIE', [N_INVALID_ID_INFORMATION]: 'INVALID_ID_INFORMATION',
  7: 'INVALID_SYNTAX', 4: 'INVALID_IKE_SPI', 9: 'INVALID_MESSAGE_ID', 11: 'INVALID_SPI', 43: 'TEMPORARY_FAILURE',
  44: 'CHILD_SA_NOT_FOUND', 36: 'INTERNAL_ADDRESS_FAILURE', 37: 'FAILED_CP_REQUIRED', 39: 'INVALID_SELECTORS',
};

/** One IKE message seen on one side. */
export interface IkeMsg {
  side: Side;
  r: Rec;
  p: Packet;
  /** Sent by A (the initiating host) or by B. */
  fromA: boolean;
  version: 1 | 2;
  exchange: number;
  msgid: number;
  /** IKEv2: a response (flag, or the other party's message in an exchange A started); IKEv1: sent by B. */
  response: boolean;
  encrypted: boolean;
  notify: number[];
  port: number | undefined;
  /** IKE message length (UDP payload without the non-ESP marker), -1 unknown. */
  len: number;
  tc: number;
}

export interface IkeModel {
  version: 1 | 2 | null;
  a: IkeMsg[];
  b: IkeMsg[];
}

const models = new WeakMap<Side, IkeModel>();

function ikeLen(p: Packet): number {
  const u = p.udp?.len;
  if (u === undefined || u <= 0) return -1;
  return u - (p.ike?.nonEspMarker === true || p.sport === 4500 || p.dport === 4500 ? 4 : 0);
}

function messagesOf(side: Side, isA: boolean): IkeMsg[] {
  const out: IkeMsg[] = [];
  for (const r of side.hs) {
    if (r.outer !== 'ike') continue;
    const p = r.p;
    const k = p.ike;
    if (k === undefined) continue;
    const dir = r.dir;
    // A's own capture: out = sent by A. B's: in = sent by A.
    let fromA: boolean | null = dir === null ? null : (isA ? dir === 'out' : dir === 'in');
    if (k.version === 2 && k.flags !== undefined) {
      const byInit = (k.flags & 0x08) !== 0, resp = (k.flags & 0x20) !== 0;
      // For exchanges the initiator starts, the flags alone say who sent it.
      if (fromA === null) fromA = byInit;
      out.push({
        side, r, p, fromA, version: 2, exchange: k.exchange, msgid: k.msgid, response: resp, encrypted: k.exchange !== IKE_SA_INIT,
        notify: k.notify ?? [], port: p.dport, len: ikeLen(p), tc: r.tc,
      });
      continue;
    }
    if (fromA === null) continue;
    const encrypted = k.version === 1 ? (k.flags ?? 0) & 0x01 ? true : false : k.exchange !== IKE_SA_INIT;
    out.push({
      side, r, p, fromA, version: k.version, exchange: k.exchange, msgid: k.msgid,
      // Without flags: A starts the exchanges it negotiates, so B's messages answer them.
      response: !fromA, encrypted, notify: k.notify ?? [], port: p.dport, len: ikeLen(p), tc: r.tc,
    });
  }
  // Short tcpdump text may lack the flags: in main mode, the messages after B's second answer
  // are the encrypted pair (MI3/MR3), whatever the text printed.
  let fromB = 0;
  for (const x of out) {
    if (x.version !== 1 || x.exchange !== V1_MAIN) continue;
    if (x.p.ike?.flags === undefined && fromB >= 2) x.encrypted = true;
    if (!x.fromA) fromB++;
  }
  return out;
}

/** The IKE messages of both captures, oriented (A = initiating host). Computed once per pair of sides. */
export function ikeModel(A: Side, B: Side): IkeModel {
  let m = models.get(A);
  if (m !== undefined && (m.b.length === 0 || m.b[0]!.side === B)) return m;
  const a = messagesOf(A, true), b = messagesOf(B, false);
  const first = a[0] ?? b[0];
  m = { version: first?.version ?? null, a, b };
  models.set(A, m);
  return m;
}

/** Whether `x` (seen on one side) also shows on the other side's list: same exchange and direction, close in kind. */
export function arrived(x: IkeMsg, other: IkeMsg[]): IkeMsg | undefined {
  return other.find((y) => y.fromA === x.fromA && y.exchange === x.exchange && y.response === x.response && y.encrypted === x.encrypted &&
    (x.msgid < 0 || y.msgid < 0 || x.msgid === y.msgid) && (x.len < 0 || y.len < 0 || x.len === y.len));
}

/** A message that looks like an answer holding only a notify (IKE length ≤ 96: header + one short encrypted or plain notify). */
export function notifyOnly(x: IkeMsg): boolean {
  return x.len > 0 && x.len <= 96;
}
