// Which capture is the initiating host? The answer must come from the data, never from the order
// the user gave the files in: a swapped pair otherwise gets a confident verdict that blames the
// wrong host. Direction inference elsewhere in the engine leans on the roles, so the roles are
// decided first, from signals that need neither direction flags nor aligned clocks:
//
//  - direction flags, where the capture has them (pcapng epb_flags, SLL2 packet type, text In/Out):
//    who sends the handshake initiation / the IKE initiator's messages / the first SYN into a tunnel;
//  - TTL of the same datagram seen in both captures: the sender's copy was captured before any
//    router decremented it (matched by WireGuard sender index or IKE SPI + message id + flags);
//  - order within one capture (WireGuard): the test packet enters the initiator's tunnel before
//    the handshake it triggers, while the responder decrypts it only after the handshake.
//
// Signals are read from a bounded prefix of each capture, so a million-packet pair costs little.

import type { FlowFields, Packet, PacketList, TunnelIds } from '../protocols/packet.ts';
import { newFlowFields } from './inner.ts';
import { newPacketRows } from './prepare.ts';
import type { CaptureInput } from './types.ts';
import { proseData } from '../util/shell.ts';

/** Packets read per capture: the test connection is near the start of a troubleshooting capture. */
const SCAN = 200_000;
/** Raw-IP link types: an interface without a link layer, as a tunnel interface is. */
const RAW_LINKTYPES = new Set([12, 14, 101, 228, 229]);
const TUNNEL_NAME = /^(wg|tun|ipsec|vti|xfrm|utun|nordlynx|wt\d|ppp|gre)/i;
const TUNNEL_HATYPES = new Set([65534, 65535, 768, 769, 776, 778, 823, 512]);

export type RoleSignal = 'direction' | 'ttl' | 'order';

export interface RoleDecision {
  /** True when the data says the second capture is the initiating host. */
  swap: boolean;
  /** The signals that agreed, for the sentence that explains the swap. */
  signals: RoleSignal[];
  /** What the decisive evidence was, in words (e.g. "it sends the handshake initiation"). */
  reason: string | null;
  /** Signals disagreed: the roles stay as given and the result says it could not tell. */
  conflict: boolean;
}

interface Votes { a: number; b: number; why: string[]; signals: Set<RoleSignal> }

function isWgInit(p: Packet): boolean {
  if (p.outer !== undefined) return false;
  if (p.wg !== undefined) return p.wg.type === 1;
  // Text captures print WireGuard as plain UDP: the initiation is the only 148-byte message.
  return p.origin === 'text' && p.udp !== undefined && p.tcp === undefined && p.udp.len === 148 &&
    p.sport !== 500 && p.dport !== 500 && p.sport !== 4500 && p.dport !== 4500 && p.sport !== 53 && p.dport !== 53;
}

/** True/false when the IKE message was sent by the original initiator; null when it cannot be told. */
function ikeFromInitiator(p: Packet, firstIke: boolean): boolean | null {
  const k = p.ike;
  if (k === undefined) return null;
  if (k.version === 2 && k.flags !== undefined) return (k.flags & 0x08) !== 0;
  // IKEv1 has no initiator flag: only the initiator's first message carries a zero responder cookie.
  if (k.version === 1 && k.rspi === '0000000000000000') return true;
  // Without flags, the first IKE_SA_INIT in a capture is the initiator's request (a response cannot precede it).
  // (tcpdump text prints no message id: -1.)
  if (firstIke && k.version === 2 && k.exchange === 34 && k.msgid <= 0 && k.rspi === '0000000000000000') return true;
  return null;
}

function isTunnelPacket(p: Packet): boolean {
  if (p.hatype !== undefined) return TUNNEL_HATYPES.has(p.hatype);
  if (p.iface !== '' && TUNNEL_NAME.test(p.iface)) return true;
  return p.origin !== 'text' && RAW_LINKTYPES.has(p.linktype);
}

function isSynOnly(p: Packet): boolean {
  return p.tcp !== undefined && p.tcp.flags.includes('S') && !p.tcp.flags.includes('.');
}

interface Scan {
  /** First WireGuard initiation: its direction, sender index, TTL and position. */
  wgInit: { dir: Packet['dir']; sender?: number; ttl?: number; pos: number; t: number } | null;
  /** IKE messages from the initiator, by key "ispi|msgid|flags", with direction and TTL. */
  ike: Map<string, { dir: Packet['dir']; ttl?: number; fromInit: boolean }>;
  firstIkeFromInit: { dir: Packet['dir']; fromInit: boolean; ttl?: number } | null;
  /** First inner SYN on a tunnel interface. */
  tunnelSyn: { dir: Packet['dir']; pos: number; t: number } | null;
}

/** Whether TCP row i may be a SYN without ACK (its flags read without building the packet when the list offers them). */
function synRow(list: PacketList, i: number, ff: FlowFields): boolean {
  return list.flowFieldsAt === undefined || !list.flowFieldsAt(i, ff) || !ff.tcp || (ff.flags.includes('S') && !ff.flags.includes('.'));
}

/** Packets per bulk read of rows in scan. */
const ROWS = 4096;

function scan(list: PacketList): Scan {
  const s: Scan = { wgInit: null, ike: new Map(), firstIkeFromInit: null, tunnelSyn: null };
  const n = Math.min(list.length, SCAN);
  const seen = { ike: false };
  // A list that reads its rows in bulk: a row it holds as columns has no IKE, tunnel layer or text
  // (PacketRows), so it matters only as a WireGuard initiation until the first one, or as TCP until
  // the first SYN; the packet is built for those alone.
  const rows = list.readRows !== undefined ? newPacketRows(Math.min(n, ROWS)) : null;
  const ff = rows !== null ? newFlowFields() : null;
  // Once the initiation and the SYN are found, only packets the list keeps whole can add anything
  // (IKE): tunnelIdsAt says which those are row by row, cheaper than reading every row's columns.
  const ids: TunnelIds | null = list.tunnelIdsAt !== undefined ? { wgType: 0, wgSender: -1, wgReceiver: -1, wgCounter: -1, espSpi: -1, espSeq: -1 } : null;
  for (let c0 = 0; c0 < n; c0 += ROWS) {
    const c1 = Math.min(n, c0 + ROWS);
    if (ids !== null && s.wgInit !== null && s.tunnelSyn !== null) {
      for (let i = c0; i < c1; i++) if (!list.tunnelIdsAt!(i, ids)) visit(list, i, s, seen);
      continue;
    }
    if (rows !== null) list.readRows!(c0, c1, rows);
    for (let i = c0; i < c1; i++) {
      if (rows !== null && rows.held[i - c0] === 1 &&
        !((s.wgInit === null && rows.wgType[i - c0] === 1) || (s.tunnelSyn === null && rows.l4[i - c0] === 1 && synRow(list, i, ff!)))) continue;
      visit(list, i, s, seen);
    }
  }
  return s;
}

/** scan's test of packet i (`seen.ike`: an IKE packet came before). */
function visit(list: PacketList, i: number, s: Scan, seen: { ike: boolean }): void {
  const p = list.at(i);
  if (p === undefined) return;
  const t = p.tsSec + p.tsNsec * 1e-9;
  if (s.wgInit === null && isWgInit(p)) {
    s.wgInit = { dir: p.dir, pos: i, t, ...(p.wg?.sender !== undefined ? { sender: p.wg.sender } : {}), ...(p.ip !== undefined && p.origin !== 'text' ? { ttl: p.ip.ttl } : {}) };
  } else if (p.ike !== undefined && p.outer === undefined) {
    const fromInit = ikeFromInitiator(p, !seen.ike);
    seen.ike = true;
    if (fromInit !== null) {
      if (s.firstIkeFromInit === null) s.firstIkeFromInit = { dir: p.dir, fromInit, ...(p.ip !== undefined && p.origin !== 'text' ? { ttl: p.ip.ttl } : {}) };
      const key = `${p.ike.ispi}|${p.ike.msgid}|${p.ike.flags ?? '?'}|${p.ike.exchange}`;
      if (!s.ike.has(key)) s.ike.set(key, { dir: p.dir, fromInit, ...(p.ip !== undefined && p.origin !== 'text' ? { ttl: p.ip.ttl } : {}) });
    }
  } else if (s.tunnelSyn === null && p.outer === undefined && isSynOnly(p) && isTunnelPacket(p)) {
    s.tunnelSyn = { dir: p.dir, pos: i, t };
  }
}

/** +1 to the capture that the evidence makes the initiator. */
function vote(v: Votes, initiatorIsA: boolean, signal: RoleSignal, why: string): void {
  if (initiatorIsA) v.a++; else v.b++;
  v.signals.add(signal);
  v.why.push(why);
}

function directionVotes(x: Scan, isA: boolean, name: string, v: Votes): void {
  const sent = (d: Packet['dir']): boolean | null => (d === 'out' ? true : d === 'in' ? false : null);
  const w = x.wgInit !== null ? sent(x.wgInit.dir) : null;
  if (w !== null) vote(v, w === isA, 'direction', `${name} ${w ? 'sends' : 'receives'} the handshake initiation`);
  const k = x.firstIkeFromInit !== null ? sent(x.firstIkeFromInit.dir) : null;
  if (k !== null && x.firstIkeFromInit!.fromInit) vote(v, k === isA, 'direction', `${name} ${k ? 'sends' : 'receives'} the IKE initiator's first message`);
  if (w === null && k === null && x.tunnelSyn !== null) {
    const d = sent(x.tunnelSyn.dir);
    if (d !== null) vote(v, d === isA, 'direction', `the first SYN ${d ? 'leaves' : 'arrives'} through ${name}'s tunnel interface`);
  }
}

function ttlVotes(a: Scan, b: Scan, names: [string, string], v: Votes): void {
  // The same initiation on both ends: the higher TTL is the sender's (routers between them decrement it).
  if (a.wgInit?.ttl !== undefined && b.wgInit?.ttl !== undefined && a.wgInit.sender !== undefined && a.wgInit.sender === b.wgInit.sender &&
    a.wgInit.ttl !== b.wgInit.ttl) {
    const hi = a.wgInit.ttl > b.wgInit.ttl;
    vote(v, hi, 'ttl', `${names[hi ? 0 : 1]}'s copy of the handshake initiation has the higher TTL (${Math.max(a.wgInit.ttl, b.wgInit.ttl)} against ${Math.min(a.wgInit.ttl, b.wgInit.ttl)}): it was sent there`);
  }
  let ikeDone = false;
  for (const [key, x] of a.ike) {
    if (ikeDone) break;
    const y = b.ike.get(key);
    if (y === undefined || x.ttl === undefined || y.ttl === undefined || x.ttl === y.ttl) continue;
    // The capture with the higher TTL sent it; a message from the initiator makes that capture the initiator.
    const aSent = x.ttl > y.ttl;
    vote(v, aSent === x.fromInit, 'ttl', `${names[aSent ? 0 : 1]}'s copy of an IKE ${x.fromInit ? 'initiator' : 'responder'} message has the higher TTL: it was sent there`);
    ikeDone = true;
  }
}

const INITIAL_TTLS = new Set([64, 128, 255]);

/**
 * Only one capture holds the initiator's first message (it never reached the other end): a copy
 * with an operating system's initial TTL was captured where it was sent. Weak (a sender one link
 * away arrives undecremented), so it is asked only when nothing else spoke.
 */
function loneTtlVotes(a: Scan, b: Scan, names: [string, string], v: Votes): void {
  const first = (x: Scan): { ttl?: number; what: string } | null =>
    x.wgInit !== null ? { ...(x.wgInit.ttl !== undefined ? { ttl: x.wgInit.ttl } : {}), what: 'handshake initiation' }
      : x.firstIkeFromInit?.fromInit === true ? { ...(x.firstIkeFromInit.ttl !== undefined ? { ttl: x.firstIkeFromInit.ttl } : {}), what: 'IKE initiator message' } : null;
  const fa = first(a), fb = first(b);
  if ((fa === null) === (fb === null)) return;
  const x = (fa ?? fb)!;
  if (x.ttl === undefined || !INITIAL_TTLS.has(x.ttl)) return;
  const isA = fa !== null;
  vote(v, isA, 'ttl', `only ${names[isA ? 0 : 1]} holds the ${x.what}, with an initial TTL of ${x.ttl}: it was sent there`);
}

function orderVotes(a: Scan, b: Scan, names: [string, string], v: Votes): void {
  // The test packet triggers the handshake on the initiator; on the responder it comes out of the tunnel after it.
  const before = (x: Scan): boolean | null =>
    x.wgInit !== null && x.tunnelSyn !== null && Math.abs(x.tunnelSyn.t - x.wgInit.t) < 10 ? x.tunnelSyn.pos < x.wgInit.pos : null;
  const ba = before(a), bb = before(b);
  if (ba !== null && bb !== null && ba !== bb) vote(v, ba, 'order', `the test packet enters ${names[ba ? 0 : 1]}'s tunnel before the handshake it triggers`);
}

/** Decides from the data whether the captures were given in each other's place. */
export function decideRoles(a: CaptureInput, b: CaptureInput): RoleDecision {
  const sa = scan(a.packets), sb = scan(b.packets);
  const v: Votes = { a: 0, b: 0, why: [], signals: new Set() };
  // Capture names (file names) are data: the reason is shown as prose.
  const names: [string, string] = [proseData(a.name), proseData(b.name)];
  directionVotes(sa, true, names[0], v);
  directionVotes(sb, false, names[1], v);
  ttlVotes(sa, sb, names, v);
  if (v.a === 0 && v.b === 0) orderVotes(sa, sb, names, v);
  if (v.a === 0 && v.b === 0) loneTtlVotes(sa, sb, names, v);
  const signals = [...v.signals];
  if (v.a > 0 && v.b > 0) return { swap: false, signals, reason: null, conflict: true };
  if (v.b > 0) return { swap: true, signals, reason: v.why[0] ?? null, conflict: false };
  return { swap: false, signals, reason: null, conflict: false };
}
