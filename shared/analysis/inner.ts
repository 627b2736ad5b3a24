// Inner (tunnelled) packets of one flow, and a signature of each that survives NAT, TTL
// decrement, MSS clamping and the switch between binary decoding and tcpdump's printed text.

import type { FlowFields, Packet, TcpInfo } from '../protocols/packet.ts';
import type { Rec, Side } from './prepare.ts';
import { innerLength, outerAt } from './prepare.ts';

export interface Tuple {
  proto: string;
  src: string;
  dst: string;
  sport?: number;
  dport?: number;
}

const FWD = 1, USED = 2, ICMP_ERR = 4, NO_REL = 8, ICMP_PKT = 16;
/** fold() keeps 21 bits of its second lane below the first lane's 32. */
const SIG_LO = 2097152;

const NO_TUPLE: Tuple = { proto: 'any', src: '', dst: '' };

/** A length column: 16 bits a value while every value fits (IP lengths do), 32 once one does not. */
export type LenColumn = Uint16Array | Int32Array;

/** Whether `v` is stored unchanged in a 16-bit column (an integer 0..65535). */
const fits16 = (v: number): boolean => (v & 0xffff) === v;

/**
 * The inner packets of one flow on one host, as columns (a whole bulk transfer makes a million of
 * them): record position, signature, relative sequence, lengths, flags and associated carrier.
 */
export class FlowCols {
  n = 0;
  ri: Int32Array;
  sig: Float64Array;
  rs: Uint32Array;
  /**
   * Payload and IP lengths: 16 bits each (IPv4's length field) until a value does not fit (an IPv6
   * total, a jumbogram, an offloaded super-frame, a text line's estimate), then 32 bits, holding
   * what an Int32Array holds.
   */
  plen: LenColumn;
  ilen: LenColumn;
  fl: Uint8Array;
  /** Record position of the associated carrier, -1 before association. */
  car: Int32Array;
  /**
   * `cap`: room to start with (the most entries expected: then nothing is copied while collecting).
   * `tuple`: the flow's, as collectFlow was given it.
   */
  constructor(readonly side: Side, cap = 64, readonly tuple: Tuple = NO_TUPLE) {
    cap = Math.max(1, cap);
    this.ri = new Int32Array(cap); this.sig = new Float64Array(cap); this.rs = new Uint32Array(cap);
    this.plen = new Uint16Array(cap); this.ilen = new Uint16Array(cap); this.fl = new Uint8Array(cap); this.car = new Int32Array(cap);
  }
  push(ri: number, fwd: boolean, sig: number, relSeq: number, plen: number, ilen: number, icmpErr: boolean, icmp: boolean): void {
    if (this.n === this.ri.length) this.grow(this.n * 2);
    if (!fits16(plen) && this.plen instanceof Uint16Array) this.plen = widen(this.plen);
    if (!fits16(ilen) && this.ilen instanceof Uint16Array) this.ilen = widen(this.ilen);
    const k = this.n++;
    this.ri[k] = ri; this.sig[k] = sig; this.rs[k] = relSeq < 0 ? 0 : relSeq; this.plen[k] = plen; this.ilen[k] = ilen;
    this.fl[k] = (fwd ? FWD : 0) | (icmpErr ? ICMP_ERR : 0) | (relSeq < 0 ? NO_REL : 0) | (icmp ? ICMP_PKT : 0);
    this.car[k] = -1;
  }
  /**
   * Done collecting: columns more than a sixteenth empty are cut to size (a copy). The flow lives to
   * the end of the analysis, where the memory peaks; the copy is made early, while memory is lower.
   */
  trim(): void {
    if (this.n < this.ri.length - (this.ri.length >> 4)) this.grow(this.n);
  }
  /** Resizes every column to `cap` entries (growing while collecting, trimming at the end). */
  grow(cap: number): void {
    const fit = <T extends Int32Array | Float64Array | Uint32Array | Uint16Array | Uint8Array>(a: T, make: (n: number) => T): T => {
      const b = make(cap);
      b.set(a.subarray(0, Math.min(this.n, cap)));
      return b;
    };
    const len = (a: LenColumn): LenColumn => (a instanceof Uint16Array ? fit(a, (c) => new Uint16Array(c)) : fit(a, (c) => new Int32Array(c)));
    this.ri = fit(this.ri, (c) => new Int32Array(c)); this.sig = fit(this.sig, (c) => new Float64Array(c));
    this.rs = fit(this.rs, (c) => new Uint32Array(c)); this.plen = len(this.plen);
    this.ilen = len(this.ilen); this.fl = fit(this.fl, (c) => new Uint8Array(c));
    this.car = fit(this.car, (c) => new Int32Array(c));
  }
}

/** A 16-bit column as a 32-bit one of the same length (a value that needs more arrived). */
function widen(a: Uint16Array): Int32Array {
  const b = new Int32Array(a.length);
  b.set(a);
  return b;
}

/**
 * One inner packet of the traced flow: a position in its flow's columns, made on each read and
 * not kept (two of the same packet are different objects; compare `k`, or `rec.is`).
 */
export class Inner {
  constructor(readonly fc: FlowCols, readonly k: number) {}
  get side(): Side { return this.fc.side; }
  /** Record position on its side. */
  get ri(): number { return this.fc.ri[this.k]!; }
  /** The packet's record (made on each read: compare with `is`). */
  get rec(): Rec { return this.fc.side.rec(this.fc.ri[this.k]!); }
  /** Time on A's clock. */
  get tc(): number { return this.fc.side.tm.tc[this.fc.ri[this.k]!]!; }
  /** Position of the carrier that took it out or brought it in on this host, once associated; -1 before. */
  get carI(): number { return this.fc.car[this.k]!; }
  set carI(v: number) { this.fc.car[this.k] = v; }
  get car(): Rec | null { const c = this.fc.car[this.k]!; return c < 0 ? null : this.fc.side.rec(c); }
  /** true when the packet goes from the tuple's src to its dst. */
  get fwd(): boolean { return (this.fc.fl[this.k]! & FWD) !== 0; }
  /** NAT-proof signature (see signature()). */
  get sig(): number { return this.fc.sig[this.k]!; }
  /** TCP sequence relative to the connection's base (tcpdump's numbering), -1 when unknown. */
  get relSeq(): number { return (this.fc.fl[this.k]! & NO_REL) !== 0 ? -1 : this.fc.rs[this.k]!; }
  /** L4 payload length. */
  get plen(): number { return this.fc.plen[this.k]!; }
  /** IP total length (estimated for text). */
  get ilen(): number { return this.fc.ilen[this.k]!; }
  get used(): boolean { return (this.fc.fl[this.k]! & USED) !== 0; }
  set used(v: boolean) { const f = this.fc.fl; f[this.k] = v ? f[this.k]! | USED : f[this.k]! & ~USED; }
  /** An ICMP error about the flow rather than a packet of it. */
  get icmpErr(): boolean { return (this.fc.fl[this.k]! & ICMP_ERR) !== 0; }
}

/** Inner packets of one flow, all or a subset (time order); items are made as they are read. */
export class InnerList implements Iterable<Inner> {
  constructor(
    readonly fc: FlowCols,
    /** Flow positions of the members, or null for all of the flow. */
    private readonly idx: Int32Array | null,
    readonly length: number,
  ) {}
  /** Flow position of member j. */
  pos(j: number): number { return this.idx === null ? j : this.idx[j]!; }
  at(j: number): Inner | undefined { return j >= 0 && j < this.length ? new Inner(this.fc, this.pos(j)) : undefined; }
  [Symbol.iterator](): Iterator<Inner> {
    // A plain iterator, not a generator: loops over a whole bulk flow run several times faster.
    let j = 0;
    return {
      next: (): IteratorResult<Inner> => (j < this.length ? { value: new Inner(this.fc, this.pos(j++)), done: false } : { value: undefined, done: true }),
    };
  }
  find(pred: (x: Inner) => boolean): Inner | undefined {
    for (let j = 0; j < this.length; j++) { const x = new Inner(this.fc, this.pos(j)); if (pred(x)) return x; }
    return undefined;
  }
  some(pred: (x: Inner) => boolean): boolean { return this.find(pred) !== undefined; }
  /** Members matching `pred`, as a list of their own: positions only (filterAt tests the columns without an object each). */
  filter(pred: (x: Inner) => boolean): InnerList {
    const out = new Int32Array(this.length);
    let n = 0;
    for (let j = 0; j < this.length; j++) { const k = this.pos(j); if (pred(new Inner(this.fc, k))) out[n++] = k; }
    return new InnerList(this.fc, n === out.length ? out : out.slice(0, n), n);
  }
  /**
   * Members whose direction, record position and flow position pass `pred(fwd, ri, k)` (tests on
   * the side's arrays and the flow's columns), as a list of their own: no object per member, and the
   * result sized exactly (a byte per member marks the hits) rather than cut down from full length.
   */
  filterAt(pred: (fwd: boolean, ri: number, k: number) => boolean, limit = Infinity): InnerList {
    const fc = this.fc, fl = fc.fl, ri = fc.ri;
    if (limit < this.length) {
      // At most `limit` hits: positions straight into an array of that size (no byte per member).
      const out = new Int32Array(Math.max(0, Math.ceil(limit)));
      let m = 0;
      for (let j = 0; j < this.length && m < limit; j++) {
        const k = this.pos(j);
        if (pred((fl[k]! & FWD) !== 0, ri[k]!, k)) out[m++] = k;
      }
      return new InnerList(fc, m === out.length ? out : out.slice(0, m), m);
    }
    const hit = new Uint8Array(this.length);
    let n = 0;
    for (let j = 0; j < this.length && n < limit; j++) {
      const k = this.pos(j);
      if (pred((fl[k]! & FWD) !== 0, ri[k]!, k)) { hit[j] = 1; n++; }
    }
    const out = new Int32Array(n);
    for (let j = 0, m = 0; m < n; j++) if (hit[j] === 1) out[m++] = this.pos(j);
    return new InnerList(fc, out, n);
  }
  /** The first member whose direction, record position and flow position pass `pred(fwd, ri, k)` (read from the columns). */
  findAt(pred: (fwd: boolean, ri: number, k: number) => boolean): Inner | undefined {
    const { fl, ri } = this.fc;
    for (let j = 0; j < this.length; j++) { const k = this.pos(j); if (pred((fl[k]! & FWD) !== 0, ri[k]!, k)) return new Inner(this.fc, k); }
    return undefined;
  }
  /** `fn(fwd, ri, k)` for every member, from the columns (no object per member). */
  forEachAt(fn: (fwd: boolean, ri: number, k: number) => void): void {
    const { fl, ri } = this.fc;
    for (let j = 0; j < this.length; j++) { const k = this.pos(j); fn((fl[k]! & FWD) !== 0, ri[k]!, k); }
  }
  /** Every member marked not used (again). */
  clearUsed(): void {
    const fl = this.fc.fl;
    for (let j = 0; j < this.length; j++) { const k = this.pos(j); fl[k] = fl[k]! & ~USED; }
  }
  /** Members with signature `sig`, read from the signature column (no object per member). */
  withSig(sig: number | undefined): InnerList {
    const sigs = this.fc.sig;
    return this.filterAt((_, __, k) => sigs[k] === sig);
  }
  /**
   * The union of the sequence ranges [relSeq, relSeq + plen) of the members that carry data at a
   * known relative sequence, as sorted disjoint [start, end) pairs
   * (touching ranges joined). Read in one pass: a bulk flow's segments come in sequence order but
   * for retransmissions, so the ranges in order merge as they come, and only those out of order are
   * kept apart (sorted and merged in at the end) instead of two columns over the whole flow.
   */
  coveredRanges(): Array<[number, number]> {
    const { fl, rs, plen } = this.fc;
    const m: Array<[number, number]> = [];
    // Out-of-order ranges, starts and ends apart.
    const rs0: number[] = [], re0: number[] = [];
    let last = -Infinity, from = 0, to = -Infinity;
    for (let j = 0; j < this.length; j++) {
      const k = this.pos(j);
      if ((fl[k]! & NO_REL) !== 0 || plen[k]! <= 0) continue;
      const a = rs[k]!, e = a + plen[k]!;
      if (a < last) { rs0.push(a); re0.push(e); continue; }
      last = a;
      if (a <= to) { if (e > to) to = e; continue; }
      if (to !== -Infinity) m.push([from, to]);
      from = a; to = e;
    }
    if (to !== -Infinity) m.push([from, to]);
    if (rs0.length === 0) return m;
    // The stragglers' own union (starts and ends sorted apart, a start before an equal end: touching joins)…
    const S = sortAscending(Float64Array.from(rs0)), E = sortAscending(Float64Array.from(re0));
    const r: Array<[number, number]> = [];
    let depth = 0, f0 = 0;
    for (let i = 0, j = 0; j < E.length;) {
      if (i < S.length && S[i]! <= E[j]!) { if (depth++ === 0) f0 = S[i]!; i++; } else { if (--depth === 0) r.push([f0, E[j]!]); j++; }
    }
    // …merged with the in-order union, both sorted by start.
    const out: Array<[number, number]> = [];
    for (let i = 0, j = 0; i < m.length || j < r.length;) {
      const x = j >= r.length || (i < m.length && m[i]![0] <= r[j]![0]) ? m[i++]! : r[j++]!;
      const top = out[out.length - 1];
      if (top !== undefined && x[0] <= top[1]) { if (x[1] > top[1]) top[1] = x[1]; } else out.push([x[0], x[1]]);
    }
    return out;
  }
  /** Members from..to-1 as plain objects (for short excerpts). */
  slice(from: number, to = this.length): Inner[] {
    const out: Inner[] = [];
    for (let j = Math.max(0, from); j < Math.min(to, this.length); j++) out.push(new Inner(this.fc, this.pos(j)));
    return out;
  }
}

/**
 * `a` in ascending order, in place. A bulk transfer's segments come mostly in order (retransmissions
 * are the exceptions): the ascending run stays where it is, and only the values out of order are
 * sorted apart and merged back in.
 */
export function sortAscending(a: Float64Array): Float64Array {
  const n = a.length;
  let rest: Float64Array | null = null;
  let m = 0, q = 0;
  for (let i = 0; i < n; i++) {
    const v = a[i]!;
    if (m === 0 || v >= a[m - 1]!) a[m++] = v;
    else (rest ??= new Float64Array(n - i))[q++] = v;
  }
  if (rest === null) return a;
  const r = rest.subarray(0, q).sort();
  // Merge from the back: the run's tail moves only into room the out-of-order values left.
  for (let i = m - 1, j = q - 1, w = n - 1; j >= 0; w--) a[w] = i >= 0 && a[i]! > r[j]! ? a[i--]! : r[j--]!;
  return a;
}

/** A flow with no packets (no flow under test). */
export function emptyFlow(side: Side): InnerList { return new InnerList(new FlowCols(side), null, 0); }

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

export function l4Proto(p: Packet): string { return l4ProtoOf(p, p.tcp); }

/** l4Proto with the packet's TCP header already read (`tcp`: what p.tcp gave). */
function l4ProtoOf(p: Packet, tcp: TcpInfo | undefined): string {
  if (tcp !== undefined) return 'tcp';
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
  const d = addressDir(p, t);
  if (d !== 0 && t.proto !== 'any' && l4Proto(p) !== t.proto) return 0;
  return d;
}

/** tupleDir by addresses and ports alone (the protocol not checked). */
function addressDir(p: Pick<Packet, 'src' | 'dst' | 'sport' | 'dport'>, t: Tuple): number {
  const src = p.src, dst = p.dst;
  if (src === undefined || dst === undefined) return 0;
  // Addresses first: they rule out most packets without looking at the layer-4 fields.
  if (src === t.src && dst === t.dst && eq(p.sport, t.sport) && eq(p.dport, t.dport)) return 1;
  if (src === t.dst && dst === t.src && eq(p.dport, t.sport) && eq(p.sport, t.dport)) return -1;
  return 0;
}

// The last flag text and its bits: consecutive packets of a flow mostly share their flags.
let lastFlags = '', lastBits = 0;

function flagBits(f: string): number {
  if (f === lastFlags) return lastBits;
  let b = 0;
  for (let i = 0; i < f.length; i++) {
    const c = f.charCodeAt(i);
    if (c === 83) b |= 1; else if (c === 70) b |= 2; else if (c === 82) b |= 4; else if (c === 80) b |= 8; else if (c === 46) b |= 16;
  }
  lastFlags = f; lastBits = b;
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
  tcpRelOf(flagBits(t.flags), t.seq, t.ack, p.origin === 'text' && t.relative === true, st, fwd);
}

/** tcpRel from the numbers: flag bits (flagBits), seq, ack, and whether they are tcpdump's relative ones already. */
function tcpRelOf(bits: number, seq: number, ack: number, textRelative: boolean, st: ConnState, fwd: boolean): void {
  if ((bits & 16) === 0) {
    relSeqOut = (bits & 1) !== 0 ? 0 : st.known ? (seq - (fwd ? st.f : st.r)) >>> 0 : seq;
    relAckOut = 0;
    return;
  }
  if (!st.known) {
    st.known = true;
    if (fwd) { st.f = seq; st.r = (ack - 1) >>> 0; } else { st.r = seq; st.f = (ack - 1) >>> 0; }
    relSeqOut = 0; relAckOut = 1;
    return;
  }
  if (textRelative) { relSeqOut = seq; relAckOut = ack; return; }
  relSeqOut = (seq - (fwd ? st.f : st.r)) >>> 0;
  relAckOut = (ack - (fwd ? st.r : st.f)) >>> 0;
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
  if (tcp !== undefined) return tcpSignature(flagBits(tcp.flags), tcp.len, tcp.tsval, tcp.tsecr, hasRel);
  if (p.icmp !== undefined) return fold(3, p.icmp.type, p.icmp.code, p.icmp.id ?? -1, p.icmp.seq ?? -1, 0);
  const udp = p.udp;
  if (udp !== undefined) return udpSignature(udp.len);
  let h = 0;
  for (let i = 0; i < p.proto.length; i++) h = mixIn(h, p.proto.charCodeAt(i));
  return fold(5, innerLength(p), h, 0, 0, 0);
}

function udpSignature(len: number): number { return fold(4, len, 0, 0, 0, 0); }

/** A FlowFields to fill (its shape fixed from the start). */
export function newFlowFields(): FlowFields {
  return { src: '', dst: '', sport: 0, dport: 0, ipLen: 0, tcp: false, len: 0, flags: '', seq: 0, ack: 0, ts: false, tsval: 0, tsecr: 0 };
}

/** signature() of a TCP packet from its numbers: flag bits (flagBits), payload length, timestamps. */
function tcpSignature(b: number, len: number, tsval: number | undefined, tsecr: number | undefined, hasRel: boolean): number {
  // tcpdump omits seq on bare ACKs; leave it out so text and binary agree.
  const showSeq = len > 0 || (b & 7) !== 0;
  const seq = showSeq && hasRel ? relSeqOut : -1;
  if (tsval !== undefined) return fold(1, b & 31, seq, len, tsval, tsecr ?? -1);
  return fold(2, b & 31, seq, len, hasRel && (b & 16) !== 0 ? relAckOut : -1, 0);
}

/** Whether tuples `x` and `y` join the same two addresses (either way round). */
function sameAddresses(x: Tuple, y: Tuple): boolean {
  return (x.src === y.src && x.dst === y.dst) || (x.src === y.dst && x.dst === y.src);
}

/**
 * All inner packets of `side` that belong to `tuple` (either direction), time order.
 * `known`: a flow already collected on this side. When its addresses differ from `tuple`'s, its
 * members cannot belong to this flow (a member's two addresses are `known`'s), except ICMP packets,
 * which may be errors about it: those members are skipped unread, the bulk of a second pass.
 */
export function collectFlow(side: Side, tuple: Tuple, known: InnerList | null = null): InnerList {
  const tm = side.tm, perm = tm.perm, packets = tm.packets;
  // Skipped members of `known`, as a sorted walk over its record positions (a flow is in record order).
  const skip = known !== null && known.fc.side === side && known.length > 0 && !sameAddresses(known.fc.tuple, tuple) ? known : null;
  let sj = 0;
  const nextSkip = (): number => {
    // The next member of `known` that cannot be in this flow (not an ICMP packet), or past the end.
    while (sj < skip!.length) {
      const k = skip!.pos(sj);
      if ((skip!.fc.fl[k]! & ICMP_PKT) === 0) return skip!.fc.ri[k]!;
      sj++;
    }
    return side.recs.length;
  };
  let skipAt = skip !== null ? nextSkip() : side.recs.length;
  // At most every packet that is neither a carrier nor skipped belongs to the flow: start with that much room.
  const fc = new FlowCols(side, side.recs.length - side.outer.length - (skip !== null ? countPlain(skip) : 0), tuple);
  const st: ConnState = { known: false, f: 0, r: 0 };
  // A list that offers its packets' numbers (a column store) is read without building each packet.
  const ff: FlowFields | null = packets.flowFieldsAt !== undefined ? newFlowFields() : null;
  for (let i = 0; i < side.recs.length; i++) {
    if (i === skipAt) { sj++; skipAt = nextSkip(); continue; }
    if (outerAt(tm, i) !== null) continue;
    const j = perm === null ? i : perm[i]!;
    if (ff !== null && packets.flowFieldsAt!(j, ff)) {
      // What the lines below do for a TCP or UDP packet without ICMP or text numbering (see flowFieldsAt).
      let d = addressDir(ff, tuple);
      if (d !== 0 && tuple.proto !== 'any' && (ff.tcp ? 'tcp' : 'udp') !== tuple.proto) d = 0;
      if (d === 0) continue;
      if (ff.tcp) {
        const bits = flagBits(ff.flags);
        tcpRelOf(bits, ff.seq, ff.ack, false, st, d === 1);
        fc.push(i, d === 1, tcpSignature(bits, ff.len, ff.ts ? ff.tsval : undefined, ff.tsecr, true), relSeqOut, ff.len, ff.ipLen, false, false);
      } else {
        fc.push(i, d === 1, udpSignature(ff.len), -1, ff.len, ff.ipLen, false, false);
      }
      continue;
    }
    // The packet straight from the list (what side.rec(i).p reads), without a record object per packet.
    const p = packets.at(j)!;
    let d = addressDir(p, tuple);
    // Read once, and only for the flow's packets: packets may be views that build the object on every read.
    let tcp = d !== 0 ? p.tcp : undefined;
    if (d !== 0 && tuple.proto !== 'any' && l4ProtoOf(p, tcp) !== tuple.proto) d = 0;
    // An ICMP error about the flow is the flow's answer too (a reject, an unreachable).
    const icmp = p.icmp !== undefined;
    const err = d === 0 && icmp && isIcmpErrorAbout(p, tuple);
    if (err) { d = -1; tcp = p.tcp; }
    if (d === 0) continue;
    const isTcp = tcp !== undefined;
    if (tcp !== undefined) tcpRel(p, tcp, st, d === 1);
    fc.push(i, d === 1, signature(p, isTcp, tcp), isTcp ? relSeqOut : -1, tcp?.len ?? p.udp?.len ?? 0, innerLength(p, tcp), err, icmp);
  }
  fc.trim();
  return new InnerList(fc, null, fc.n);
}

/** Members of `l` that are not ICMP packets. */
function countPlain(l: InnerList): number {
  let n = 0;
  for (let j = 0; j < l.length; j++) if ((l.fc.fl[l.pos(j)]! & ICMP_PKT) === 0) n++;
  return n;
}

/**
 * Signature → a list position, open addressing over one typed array: a bulk flow has hundreds of
 * thousands of distinct signatures, which a Map would hold as boxed keys. A slot holds a position
 * only (-1 empty); its key is that member's signature, read from the flow's column, so a slot costs
 * 4 bytes instead of 12. Every position stored under a signature must have that signature.
 */
export class SigTable {
  private readonly vals: Int32Array;
  private readonly mask: number;
  constructor(n: number, private readonly items: InnerList) {
    let cap = 16;
    // At most three quarters full: probes stay short at a third less memory than half full.
    while (cap < n * 4 / 3) cap *= 2;
    this.vals = new Int32Array(cap).fill(-1);
    this.mask = cap - 1;
  }
  private slot(sig: number): number {
    const sigs = this.items.fc.sig, vals = this.vals;
    // Signatures are hashes already (non-negative integers below 2^53): mix both halves.
    let h = ((sig % SIG_LO) ^ Math.imul((sig / SIG_LO) | 0, 0x9e3779b1)) & this.mask;
    for (;;) {
      const v = vals[h]!;
      if (v < 0 || sigs[this.items.pos(v)] === sig) return h;
      h = (h + 1) & this.mask;
    }
  }
  /** The position stored under `sig`, -1 when none. */
  get(sig: number): number { return this.vals[this.slot(sig)]!; }
  /** Stores position `v` (a member with signature `sig`) under `sig`. */
  set(sig: number, v: number): void { this.vals[this.slot(sig)] = v; }
  /** set(), returning what get() gave before (one probe instead of two). */
  replace(sig: number, v: number): number {
    const h = this.slot(sig);
    const old = this.vals[h]!;
    this.vals[h] = v;
    return old;
  }
}

/** Signature index over a subset, for repeated lookups in time order (one table entry per signature). */
export class SigIndex {
  private head: SigTable;
  private nxt: Int32Array;
  private taken: Uint8Array;
  constructor(private readonly items: InnerList) {
    const n = items.length;
    this.head = new SigTable(n, items);
    this.nxt = new Int32Array(n);
    this.taken = new Uint8Array(n);
    const sigs = items.fc.sig;
    for (let i = n - 1; i >= 0; i--) this.nxt[i] = this.head.replace(sigs[items.pos(i)]!, i);
  }
  /** First not-yet-taken item with this signature at or after `t` (times already on one clock). */
  take(sig: number, t: number, tBefore = Infinity, mark = true, tol = 0): Inner | null {
    let i = this.head.get(sig);
    // Skip the taken prefix for good, so long runs of one signature stay cheap.
    while (i >= 0 && this.taken[i] === 1) i = this.nxt[i]!;
    if (i >= 0) this.head.set(sig, i);
    for (; i >= 0; i = this.nxt[i]!) {
      if (this.taken[i] === 1) continue;
      const x = this.items.at(i)!;
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
