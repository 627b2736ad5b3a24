// Inner (tunnelled) packets of one flow, and a signature of each that survives NAT, TTL
// decrement, MSS clamping and the switch between binary decoding and tcpdump's printed text.

import type { Packet, TcpInfo } from '../protocols/packet.ts';
import type { Rec, Side } from './prepare.ts';
import { innerLength } from './prepare.ts';

export interface Tuple {
  proto: string;
  src: string;
  dst: string;
  sport?: number;
  dport?: number;
}

const FWD = 1, USED = 2, ICMP_ERR = 4, NO_REL = 8;
/** fold() keeps 21 bits of its second lane below the first lane's 32. */
const SIG_LO = 2097152;

/**
 * One inner packet of the traced flow. A whole bulk transfer makes a million of these, so the
 * numbers are kept as small integers (no boxed doubles) and the flags share one field.
 */
export class Inner {
  /** The host's side (on the prototype of the side's own subclass, see innerClassOf). */
  declare readonly side: Side;
  /** Position of the carrier that took it out or brought it in on this host, once associated; -1 before. */
  carI = -1;
  private readonly sh: number;
  /** The signature's low 21 bits, with the flags above them (one field fewer per packet). */
  private f: number;
  private readonly rs: number;
  constructor(
    /** Record position on its side. */
    readonly ri: number,
    fwd: boolean,
    sig: number,
    relSeq: number,
    /** L4 payload length. */
    readonly plen: number,
    /** IP total length (estimated for text). */
    readonly ilen: number,
    icmpErr: boolean,
  ) {
    this.sh = Math.floor(sig / SIG_LO) | 0;
    this.f = ((fwd ? FWD : 0) | (icmpErr ? ICMP_ERR : 0) | (relSeq < 0 ? NO_REL : 0)) * SIG_LO + (sig % SIG_LO);
    this.rs = relSeq | 0;
  }
  /** The packet's record (made on each read: compare with `is`). */
  get rec(): Rec { return this.side.rec(this.ri); }
  /** Time on A's clock. */
  get tc(): number { return this.side.tm.tc[this.ri]!; }
  get car(): Rec | null { return this.carI < 0 ? null : this.side.rec(this.carI); }
  /** true when the packet goes from the tuple's src to its dst. */
  get fwd(): boolean { return (this.f & FWD * SIG_LO) !== 0; }
  /** NAT-proof signature (see signature()). */
  get sig(): number { return (this.sh >>> 0) * SIG_LO + (this.f & (SIG_LO - 1)); }
  /** TCP sequence relative to the connection's base (tcpdump's numbering), -1 when unknown. */
  get relSeq(): number { return (this.f & NO_REL * SIG_LO) !== 0 ? -1 : this.rs >>> 0; }
  get used(): boolean { return (this.f & USED * SIG_LO) !== 0; }
  set used(v: boolean) { this.f = v ? this.f | USED * SIG_LO : this.f & ~(USED * SIG_LO); }
  /** An ICMP error about the flow rather than a packet of it. */
  get icmpErr(): boolean { return (this.f & ICMP_ERR * SIG_LO) !== 0; }
}

/** ICMP destination-unreachable (v4 type 3, v6 type 1) that quotes the flow, or is sent to its source. */
export function isIcmpErrorAbout(p: Packet, t: Tuple): boolean {
  const ic = p.icmp!;
  if (!(ic.v === 4 ? ic.type === 3 || ic.type === 11 : ic.type === 1 || ic.type === 3)) return false;
  const o = ic.orig;
  if (o !== undefined) {
    return o.src === t.src && o.dst === t.dst && (o.sport === undefined || t.sport === undefined || o.sport === t.sport) &&
      (o.dport === undefined || t.dport === undefined || o.dport === t.dport);
  }
  return p.dst === t.src;
}

export function l4Proto(p: Packet): string {
  if (p.tcp !== undefined) return 'tcp';
  if (p.udp !== undefined) return 'udp';
  if (p.icmp !== undefined) return 'icmp';
  return p.proto;
}

/** Port equality where a port missing from a (hand-edited or truncated) text line matches any port. */
function eq(x: number | undefined, y: number | undefined): boolean {
  return y === undefined || x === undefined || x === y;
}

/** 1 forward, -1 reverse, 0 not this flow. */
export function tupleDir(p: Packet, t: Tuple): number {
  const src = p.src, dst = p.dst;
  if (src === undefined || dst === undefined) return 0;
  // Addresses first: they rule out most packets without looking at the layer-4 fields.
  let d = 0;
  if (src === t.src && dst === t.dst && eq(p.sport, t.sport) && eq(p.dport, t.dport)) d = 1;
  else if (src === t.dst && dst === t.src && eq(p.dport, t.sport) && eq(p.sport, t.dport)) d = -1;
  if (d !== 0 && t.proto !== 'any' && l4Proto(p) !== t.proto) return 0;
  return d;
}

function flagBits(f: string): number {
  let b = 0;
  for (let i = 0; i < f.length; i++) {
    const c = f.charCodeAt(i);
    if (c === 83) b |= 1; else if (c === 70) b |= 2; else if (c === 82) b |= 4; else if (c === 80) b |= 8; else if (c === 46) b |= 16;
  }
  return b;
}

/** tcpdump's per-connection numbering bases; `known` once the first ACK-bearing packet was seen. */
interface ConnState { known: boolean; f: number; r: number }

// Scratch results of tcpRel (no allocation per packet).
let relSeqOut = 0;
let relAckOut = 0;

/**
 * Relative numbering as tcpdump prints it: the first ACK-bearing packet of a connection fixes
 * both directions' bases (its own seq, and ack − 1 for the other side); a SYN alone is seq 0.
 * Text input already carries these numbers after that first packet.
 */
function tcpRel(p: Packet, t: TcpInfo, st: ConnState, fwd: boolean): void {
  const bits = flagBits(t.flags);
  if ((bits & 16) === 0) {
    relSeqOut = (bits & 1) !== 0 ? 0 : st.known ? (t.seq - (fwd ? st.f : st.r)) >>> 0 : t.seq;
    relAckOut = 0;
    return;
  }
  if (!st.known) {
    st.known = true;
    if (fwd) { st.f = t.seq; st.r = (t.ack - 1) >>> 0; } else { st.r = t.seq; st.f = (t.ack - 1) >>> 0; }
    relSeqOut = 0; relAckOut = 1;
    return;
  }
  if (p.origin === 'text' && t.relative === true) { relSeqOut = t.seq; relAckOut = t.ack; return; }
  relSeqOut = (t.seq - (fwd ? st.f : st.r)) >>> 0;
  relAckOut = (t.ack - (fwd ? st.r : st.f)) >>> 0;
}

function mixIn(h: number, v: number): number {
  h = Math.imul(h ^ (v | 0), 0x9e3779b1);
  return h ^ (h >>> 15);
}

/** Two 32-bit lanes folded into one exact double (53 bits): a Map key without string building. */
function fold(a: number, b: number, c: number, d: number, e: number, f: number): number {
  let h1 = 0x811c9dc5 | 0, h2 = 0x2545f491 | 0;
  h1 = mixIn(h1, a); h2 = mixIn(h2 ^ 0x5bd1e995, a + 0x632be5ab);
  h1 = mixIn(h1, b); h2 = mixIn(h2 ^ 0x5bd1e995, b + 0x632be5ab);
  h1 = mixIn(h1, c); h2 = mixIn(h2 ^ 0x5bd1e995, c + 0x632be5ab);
  h1 = mixIn(h1, d); h2 = mixIn(h2 ^ 0x5bd1e995, d + 0x632be5ab);
  h1 = mixIn(h1, e); h2 = mixIn(h2 ^ 0x5bd1e995, e + 0x632be5ab);
  h1 = mixIn(h1, f); h2 = mixIn(h2 ^ 0x5bd1e995, f + 0x632be5ab);
  return (h1 >>> 0) * 2097152 + ((h2 >>> 0) & 0x1fffff);
}

/**
 * Signature of an inner packet from fields NAT, TTL and MSS rewriting leave alone and that
 * tcpdump text also prints: TCP flags, relative seq (where tcpdump shows it), payload length and
 * timestamps (or the relative ack when there are none); ICMP type/code/id/seq; UDP length.
 */
export function signature(p: Packet, hasRel: boolean, tcp: TcpInfo | undefined = p.tcp): number {
  if (tcp !== undefined) {
    const t = tcp;
    const b = flagBits(t.flags);
    // tcpdump omits seq on bare ACKs; leave it out so text and binary agree.
    const showSeq = t.len > 0 || (b & 7) !== 0;
    const seq = showSeq && hasRel ? relSeqOut : -1;
    if (t.tsval !== undefined) return fold(1, b & 31, seq, t.len, t.tsval, t.tsecr ?? -1);
    return fold(2, b & 31, seq, t.len, hasRel && (b & 16) !== 0 ? relAckOut : -1, 0);
  }
  if (p.icmp !== undefined) return fold(3, p.icmp.type, p.icmp.code, p.icmp.id ?? -1, p.icmp.seq ?? -1, 0);
  const udp = p.udp;
  if (udp !== undefined) return fold(4, udp.len, 0, 0, 0, 0);
  let h = 0;
  for (let i = 0; i < p.proto.length; i++) h = mixIn(h, p.proto.charCodeAt(i));
  return fold(5, innerLength(p), h, 0, 0, 0);
}

const innerClasses = new WeakMap<Side, typeof Inner>();

/** The side's own Inner subclass, which holds the side on its prototype (one field fewer per packet). */
function innerClassOf(side: Side): typeof Inner {
  let C = innerClasses.get(side);
  if (C === undefined) {
    class SideInner extends Inner {}
    Object.defineProperty(SideInner.prototype, 'side', { value: side });
    C = SideInner;
    innerClasses.set(side, C);
  }
  return C;
}

/** All inner packets of `side` that belong to `tuple` (either direction), time order. */
export function collectFlow(side: Side, tuple: Tuple): Inner[] {
  const out: Inner[] = [];
  const st: ConnState = { known: false, f: 0, r: 0 };
  const C = innerClassOf(side);
  const bits = side.tm.bits;
  for (let i = 0; i < side.recs.length; i++) {
    if ((bits[i]! & 12) !== 0) continue;
    const p = side.rec(i).p;
    let d = tupleDir(p, tuple);
    // An ICMP error about the flow is the flow's answer too (a reject, an unreachable).
    const err = d === 0 && p.icmp !== undefined && isIcmpErrorAbout(p, tuple);
    if (err) d = -1;
    if (d === 0) continue;
    // Read once: packets may be views that build the object on every read.
    const tcp = p.tcp;
    const isTcp = tcp !== undefined;
    if (isTcp) tcpRel(p, tcp, st, d === 1);
    out.push(new C(i, d === 1, signature(p, isTcp, tcp), isTcp ? relSeqOut : -1, tcp?.len ?? p.udp?.len ?? 0, innerLength(p), err));
  }
  return out;
}

/**
 * Signature → first list position, open addressing over two typed arrays: a bulk flow has
 * hundreds of thousands of distinct signatures, which a Map would hold as boxed keys.
 */
class SigTable {
  private readonly keys: Float64Array;
  private readonly vals: Int32Array;
  private readonly mask: number;
  constructor(n: number) {
    let cap = 16;
    while (cap < n * 2) cap *= 2;
    this.keys = new Float64Array(cap).fill(NaN);
    this.vals = new Int32Array(cap);
    this.mask = cap - 1;
  }
  private slot(sig: number): number {
    // Signatures are hashes already (non-negative integers below 2^53): mix both halves.
    let h = ((sig % SIG_LO) ^ Math.imul((sig / SIG_LO) | 0, 0x9e3779b1)) & this.mask;
    for (;;) {
      const k = this.keys[h]!;
      if (k === sig || k !== k) return h;
      h = (h + 1) & this.mask;
    }
  }
  get(sig: number): number {
    const h = this.slot(sig);
    return this.keys[h] === sig ? this.vals[h]! : -1;
  }
  set(sig: number, v: number): void {
    const h = this.slot(sig);
    this.keys[h] = sig;
    this.vals[h] = v;
  }
}

/** Signature index over a subset, for repeated lookups in time order (one table entry per signature). */
export class SigIndex {
  private head: SigTable;
  private nxt: Int32Array;
  private taken: Uint8Array;
  constructor(private readonly items: Inner[]) {
    const n = items.length;
    this.head = new SigTable(n);
    this.nxt = new Int32Array(n);
    this.taken = new Uint8Array(n);
    for (let i = n - 1; i >= 0; i--) {
      const s = items[i]!.sig;
      this.nxt[i] = this.head.get(s);
      this.head.set(s, i);
    }
  }
  /** First not-yet-taken item with this signature at or after `t` (times already on one clock). */
  take(sig: number, t: number, tBefore = Infinity, mark = true, tol = 0): Inner | null {
    let i = this.head.get(sig);
    // Skip the taken prefix for good, so long runs of one signature stay cheap.
    while (i >= 0 && this.taken[i] === 1) i = this.nxt[i]!;
    if (i >= 0) this.head.set(sig, i);
    for (; i >= 0; i = this.nxt[i]!) {
      if (this.taken[i] === 1) continue;
      const x = this.items[i]!;
      const tc = x.tc;
      if (tc < t - tol) continue;
      if (tc > tBefore) return null;
      if (mark) { this.taken[i] = 1; x.used = true; }
      return x;
    }
    return null;
  }
  /** Whether items[i] was taken. */
  isTaken(i: number): boolean { return this.taken[i] === 1; }
}
