// Inner (tunnelled) packets of one flow, and a signature of each that survives NAT, TTL
// decrement, MSS clamping and the switch between binary decoding and tcpdump's printed text.

import type { FlowFields, Packet, PacketList, TcpInfo } from '../protocols/packet.ts';
import type { Rec, Side } from './prepare.ts';
import { innerLength, ownBits, RECORD_BITS, tcAt } from './prepare.ts';

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
  /** The carrier column (see `car`), null until first asked for. */
  private cars: Int32Array | null = null;
  /**
   * `cap`: room to start with (the most entries expected: then nothing is copied while collecting).
   * `tuple`: the flow's, as collectFlow was given it.
   */
  constructor(readonly side: Side, cap = 64, readonly tuple: Tuple = NO_TUPLE) {
    cap = Math.max(1, cap);
    this.ri = new Int32Array(cap); this.sig = new Float64Array(cap); this.rs = new Uint32Array(cap);
    this.plen = new Uint16Array(cap); this.ilen = new Uint16Array(cap); this.fl = new Uint8Array(cap);
  }
  push(ri: number, fwd: boolean, sig: number, relSeq: number, plen: number, ilen: number, icmpErr: boolean, icmp: boolean): void {
    if (this.n === this.ri.length) this.grow(this.n * 2);
    if (!fits16(plen) && this.plen instanceof Uint16Array) this.plen = widen(this.plen);
    if (!fits16(ilen) && this.ilen instanceof Uint16Array) this.ilen = widen(this.ilen);
    const k = this.n++;
    this.ri[k] = ri; this.sig[k] = sig; this.rs[k] = relSeq < 0 ? 0 : relSeq; this.plen[k] = plen; this.ilen[k] = ilen;
    this.fl[k] = (fwd ? FWD : 0) | (icmpErr ? ICMP_ERR : 0) | (relSeq < 0 ? NO_REL : 0) | (icmp ? ICMP_PKT : 0);
  }
  /**
   * Record position of each member's associated carrier, -1 before association: made on first use,
   * once the members are collected (a flow that is never associated, B's LAN side, has none).
   */
  get car(): Int32Array {
    const c = this.cars;
    if (c !== null && c.length >= this.n) return c;
    const d = new Int32Array(Math.max(1, this.n)).fill(-1);
    if (c !== null) d.set(c);
    return (this.cars = d);
  }
  /** Member k's associated carrier record position, -1 when none (without making the column). */
  carAt(k: number): number { const c = this.cars; return c === null ? -1 : c[k]!; }
  /** Member k's TCP sequence relative to the connection's base, -1 when unknown (Inner.relSeq). */
  relSeq(k: number): number { return (this.fl[k]! & NO_REL) !== 0 ? -1 : this.rs[k]!; }
  /**
   * Done collecting: columns at least half empty are cut to size. The copy is new memory the size of
   * the members (and memory freed stays with the process for its later arrays), so it is made only
   * when it is no larger than the room it gives back; the upper bound collectFlow starts with (every
   * inner packet of the side) is mostly close.
   */
  trim(): void {
    if (this.n <= this.ri.length >> 1) this.grow(this.n);
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
    if (this.cars !== null && this.cars.length > cap) this.cars = this.cars.slice(0, cap);
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
  get tc(): number { return tcAt(this.fc.side.tm, this.fc.ri[this.k]!); }
  /** Position of the carrier that took it out or brought it in on this host, once associated; -1 before. */
  get carI(): number { return this.fc.carAt(this.k); }
  set carI(v: number) { this.fc.car[this.k] = v; }
  get car(): Rec | null { const c = this.carI; return c < 0 ? null : this.fc.side.rec(c); }
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
    /** Flow positions of the members, or null for all of the flow (for loops over the columns). */
    readonly idx: Int32Array | null,
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
  /**
   * The members going each way whose record passes a test of interface kind and direction, split in
   * one pass over the columns (no object or call per member): forward ones with a kind of 'tunnel'
   * when `tunnel` (any other kind when not) and a direction other than the opposite of `fwdDir`
   * (just `fwdDir` when `strict`), and reverse ones alike with the directions swapped. `off`: flow
   * position of the first forward member whose kind fails the test, -1 when none. `scratch`: bytes
   * the pass may use while it runs (a byte per member), instead of an array of its own.
   */
  ways(tunnel: boolean, fwdDir: 'in' | 'out', strict: boolean, scratch?: Uint8Array): { fwd: InnerList; rev: InnerList; off: number } {
    const fc = this.fc, fl = fc.fl, ri = fc.ri, bits = fc.side.tm.bits, idx = this.idx, n = this.length;
    const bits0 = RECORD_BITS, { kindMask, dirMask } = bits0, tun = bits0.tunnel;
    // Direction codes: forward members' own and the reverse members' own.
    const dF = fwdDir === 'in' ? bits0.dIn : bits0.dOut, dR = fwdDir === 'in' ? bits0.dOut : bits0.dIn;
    // A byte per member (from the caller's scratch when it has room: zeroed here).
    const hit = scratch !== undefined && scratch.length >= n ? scratch.subarray(0, n).fill(0) : new Uint8Array(n), got = new Int32Array(3);
    markWays(hit, got, fl, ri, bits, idx, tunnel, kindMask, tun, dirMask, dF, dR, strict);
    const nf = got[0]!, nr = got[1]!, off = got[2]!;
    const of = new Int32Array(nf), or = new Int32Array(nr);
    fillWays(hit, idx, of, or);
    return { fwd: new InnerList(fc, of, nf), rev: new InnerList(fc, or, nr), off };
  }
  /**
   * The first `limit` members going forward (`fwd`) or back whose record is on a tunnel interface
   * (`tunnel`) or on any other (filterAt's list for that test, read from the bits without a call per member).
   */
  firstOnKind(fwd: boolean, tunnel: boolean, limit: number): InnerList {
    const fc = this.fc, L = RECORD_BITS;
    const out = new Int32Array(Math.max(0, Math.min(this.length, limit)));
    const m = firstKind(out, fc.fl, fc.ri, fc.side.tm.bits, this.idx, this.length, fwd, tunnel, L.kindMask, L.tunnel);
    return new InnerList(fc, m === out.length ? out : out.slice(0, m), m);
  }
  /**
   * Gives members whose record has no direction one from their way: forward ones leave ('out') and
   * reverse ones arrive, except on a tunnel interface when `fwdInOnTunnel` (there forward ones
   * arrive and reverse ones leave). One pass over the columns.
   */
  orient(fwdInOnTunnel: boolean): void {
    const fc = this.fc, fl = fc.fl, ri = fc.ri, tm = fc.side.tm, idx = this.idx;
    const { kindMask, dirMask, dIn, dOut, tunnel: tun } = RECORD_BITS;
    // The preparation's flags are copied only when one of them is to change (most captures have directions).
    let bits = tm.bits, own = !tm.lentBits;
    for (let j = 0; j < this.length; j++) {
      const k = idx === null ? j : idx[j]!;
      const i = ri[k]!, b = bits[i]!;
      if ((b & dirMask) !== 0) continue;
      if (!own) { bits = ownBits(tm); own = true; }
      const fwd = (fl[k]! & FWD) !== 0;
      const arrives = (b & kindMask) === tun && fwdInOnTunnel ? fwd : !fwd;
      bits[i] = b | (arrives ? dIn : dOut);
    }
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
    // Out-of-order ranges, starts and ends apart: counted first, then straight into arrays of their size.
    const n0 = outOfOrder(fl, rs, plen, this.idx, this.length);
    const S = new Float64Array(n0), E = new Float64Array(n0);
    inOrderRanges(fl, rs, plen, this.idx, this.length, m, S, E);
    if (n0 === 0) return m;
    // The stragglers' own union (starts and ends sorted apart, a start before an equal end: touching joins)…
    sortAscending(S); sortAscending(E);
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

// InnerList.ways's two passes, each a function of its own: a loop compiled while it runs (a bulk
// flow's hundreds of thousands of members) then returns, instead of falling back to the interpreter
// at the first statement after it that never ran before.

/** Marks member j's byte in `hit` 1 (forward, kept) or 2 (reverse, kept); got: [forward kept, reverse kept, first forward off-kind]. */
function markWays(hit: Uint8Array, got: Int32Array, fl: Uint8Array, ri: Int32Array, bits: Uint16Array, idx: Int32Array | null,
  tunnel: boolean, kindMask: number, tun: number, dirMask: number, dF: number, dR: number, strict: boolean): void {
  let nf = 0, nr = 0, off = -1;
  for (let j = 0; j < hit.length; j++) {
    const k = idx === null ? j : idx[j]!;
    const b = bits[ri[k]!]!;
    const fwd = (fl[k]! & FWD) !== 0;
    if (((b & kindMask) === tun) !== tunnel) { if (fwd && off < 0) off = k; continue; }
    const d = b & dirMask;
    if (fwd) { if (strict ? d === dF : d !== dR) { hit[j] = 1; nf++; } } else if (strict ? d === dR : d !== dF) { hit[j] = 2; nr++; }
  }
  got[0] = nf; got[1] = nr; got[2] = off;
}

/** firstOnKind's pass: flow positions into `out` (up to its length); returns how many. */
function firstKind(out: Int32Array, fl: Uint8Array, ri: Int32Array, bits: Uint16Array, idx: Int32Array | null, n: number,
  fwd: boolean, tunnel: boolean, kindMask: number, tun: number): number {
  let m = 0;
  for (let j = 0; j < n && m < out.length; j++) {
    const k = idx === null ? j : idx[j]!;
    if (((fl[k]! & FWD) !== 0) === fwd && ((bits[ri[k]!]! & kindMask) === tun) === tunnel) out[m++] = k;
  }
  return m;
}

/** The flow positions of the members marked 1 into `of` and of those marked 2 into `or`. */
function fillWays(hit: Uint8Array, idx: Int32Array | null, of: Int32Array, or: Int32Array): void {
  const nf = of.length, nr = or.length;
  for (let j = 0, a = 0, r = 0; a + r < nf + nr; j++) {
    const h = hit[j]!;
    if (h === 1) of[a++] = idx === null ? j : idx[j]!; else if (h === 2) or[r++] = idx === null ? j : idx[j]!;
  }
}

/** How many ranges inOrderRanges finds out of order (its test alone). */
function outOfOrder(fl: Uint8Array, rs: Uint32Array, plen: LenColumn, idx: Int32Array | null, n: number): number {
  let last = -Infinity, c = 0;
  for (let j = 0; j < n; j++) {
    const k = idx === null ? j : idx[j]!;
    if ((fl[k]! & NO_REL) !== 0 || plen[k]! <= 0) continue;
    const a = rs[k]!;
    if (a < last) c++; else last = a;
  }
  return c;
}

/**
 * coveredRanges's pass (a function of its own: see markWays): the ranges of members 0..n-1 (`idx`:
 * their flow positions, null: the same) that come in order merged into `m`, the others' starts and
 * ends into `rs0` and `re0` (sized by outOfOrder).
 */
function inOrderRanges(fl: Uint8Array, rs: Uint32Array, plen: LenColumn, idx: Int32Array | null, n: number,
  m: Array<[number, number]>, rs0: Float64Array, re0: Float64Array): void {
  let last = -Infinity, from = 0, to = -Infinity, q = 0;
  for (let j = 0; j < n; j++) {
    const k = idx === null ? j : idx[j]!;
    if ((fl[k]! & NO_REL) !== 0 || plen[k]! <= 0) continue;
    const a = rs[k]!, e = a + plen[k]!;
    if (a < last) { rs0[q] = a; re0[q++] = e; continue; }
    last = a;
    if (a <= to) { if (e > to) to = e; continue; }
    if (to !== -Infinity) m.push([from, to]);
    from = a; to = e;
  }
  if (to !== -Infinity) m.push([from, to]);
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

/**
 * addressDir for a list's FlowFields: the same test, kept apart so that each stays monomorphic
 * (collectFlow's loop reads a million of these and, now and then, a packet object).
 */
function fieldsDir(p: FlowFields, t: Tuple): number {
  const src = p.src, dst = p.dst;
  if (src === t.src && dst === t.dst && eq(p.sport, t.sport) && eq(p.dport, t.dport)) return 1;
  if (src === t.dst && dst === t.src && eq(p.dport, t.sport) && eq(p.sport, t.dport)) return -1;
  return 0;
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
  const tm = side.tm, perm = tm.perm, packets = tm.packets, n = side.recs.length;
  // Skipped members of `known`, as a sorted walk over its record positions (a flow is in record order).
  const skip = known !== null && known.fc.side === side && known.length > 0 && !sameAddresses(known.fc.tuple, tuple) ? known : null;
  // At most every packet that is neither a carrier nor skipped belongs to the flow: start with that much room.
  const fc = new FlowCols(side, n - side.outer.length - (skip !== null ? countPlain(skip) : 0), tuple);
  const sc = new FlowScan(fc, tuple, tm.bits, perm, packets);
  let skipAt = n, sj = 0;
  if (skip !== null) { skipAt = nextSkip(skip, 0, n); sj = skipFrom; }
  for (let i = 0; i < n;) {
    // Rows up to the next skipped member in chunks: the scan is a function called per chunk, so it is
    // optimized as a whole after a few calls instead of replaced on the stack in the middle of its loop.
    const stop = Math.min(skipAt, i + SCAN_CHUNK);
    i = sc.columnRows(i, stop);
    if (i === stop) {
      if (i !== skipAt || i === n) continue;
      sj++; skipAt = nextSkip(skip!, sj, n); sj = skipFrom; i++;
      // Members come in record order; one that did not would end the skipping (as a walk that never meets it).
      if (skipAt < i) skipAt = n;
      continue;
    }
    // Row i is not offered as numbers: the packet straight from the list (what side.rec(i).p reads).
    pushPacket(fc, i, packets.at(perm === null ? i : perm[i]!)!, tuple, sc.st);
    i++;
  }
  fc.trim();
  return new InnerList(fc, null, fc.n);
}

/** Rows FlowScan.columnRows reads per call. */
const SCAN_CHUNK = 4096;

// Where nextSkip's walk stopped (no closure or result object per skipped member).
let skipFrom = 0;

/**
 * The record position of the next member of `skip`, from its member `sj` on, that cannot be in
 * a flow of other addresses (not an ICMP packet), or `end` when none is left; skipFrom: its member.
 */
function nextSkip(skip: InnerList, sj: number, end: number): number {
  const fl = skip.fc.fl, ri = skip.fc.ri;
  for (; sj < skip.length; sj++) {
    const k = skip.pos(sj);
    if ((fl[k]! & ICMP_PKT) === 0) { skipFrom = sj; return ri[k]!; }
  }
  skipFrom = sj;
  return end;
}

/**
 * collectFlow's pass over the rows a column store offers as numbers (TCP or UDP, no ICMP, no text
 * numbering): the hot loop on its own, one shape of everything it reads, the rare rows left to the caller.
 */
class FlowScan {
  readonly st: ConnState = { known: false, f: 0, r: 0 };
  /** Carriers are skipped by their outer-kind bits (outerAt without a string per record). */
  private readonly outerMask = RECORD_BITS.outerMask;
  /** null: the list offers no numbers (every row is read as a packet object). */
  private readonly ff: FlowFields | null;
  constructor(
    private readonly fc: FlowCols, private readonly tuple: Tuple, private readonly bits: Uint16Array,
    private readonly perm: Int32Array | null, private readonly packets: PacketList,
  ) {
    this.ff = packets.flowFieldsAt !== undefined ? newFlowFields() : null;
  }

  /** Reads rows from..to-1 (carriers passed over); returns the first other row not offered as numbers, or `to`. */
  columnRows(from: number, to: number): number {
    const ff = this.ff;
    const bits = this.bits, outerMask = this.outerMask, perm = this.perm, packets = this.packets, tuple = this.tuple;
    for (let i = from; i < to; i++) {
      if ((bits[i]! & outerMask) !== 0) continue;
      if (ff === null || !packets.flowFieldsAt!(perm === null ? i : perm[i]!, ff)) return i;
      let d = fieldsDir(ff, tuple);
      if (d !== 0 && tuple.proto !== 'any' && (ff.tcp ? 'tcp' : 'udp') !== tuple.proto) d = 0;
      if (d !== 0) this.take(i, d === 1);
    }
    return to;
  }

  /** Records row `i` (its numbers in ff), a member of the flow: what pushPacket does for such a packet. */
  private take(i: number, fwd: boolean): void {
    const ff = this.ff!;
    if (ff.tcp) {
      const bits = flagBits(ff.flags);
      tcpRelOf(bits, ff.seq, ff.ack, false, this.st, fwd);
      this.fc.push(i, fwd, tcpSignature(bits, ff.len, ff.ts ? ff.tsval : undefined, ff.tsecr, true), relSeqOut, ff.len, ff.ipLen, false, false);
    } else {
      this.fc.push(i, fwd, udpSignature(ff.len), -1, ff.len, ff.ipLen, false, false);
    }
  }
}

/**
 * What collectFlow(side, tuple) gives again, from the whole flow `done` it gave before: the same
 * columns copied, without another pass over the side's packets. The flow's only changes since are
 * members taken (USED, cleared here) and associated carriers (not copied: the copy has none yet).
 */
export function flowAgain(done: InnerList): InnerList {
  const src = done.fc, n = src.n;
  if (done.idx !== null || done.length !== n) throw new Error('flowAgain: a whole flow is needed');
  const fc = new FlowCols(src.side, 1, src.tuple);
  fc.ri = src.ri.slice(0, n); fc.sig = src.sig.slice(0, n); fc.rs = src.rs.slice(0, n);
  fc.plen = src.plen.slice(0, n); fc.ilen = src.ilen.slice(0, n);
  const fl = src.fl.slice(0, n);
  for (let k = 0; k < n; k++) fl[k] = fl[k]! & ~USED;
  fc.fl = fl;
  fc.n = n;
  return new InnerList(fc, null, n);
}

/**
 * collectFlow for a packet object (not offered as numbers): record `i` into `fc` when it belongs to
 * `tuple`. A function of its own: the packets read this way have shapes of their own, and a shape
 * the loop had not seen would throw its compiled code away.
 */
function pushPacket(fc: FlowCols, i: number, p: Packet, tuple: Tuple, st: ConnState): void {
  let d = addressDir(p, tuple);
  // Read once, and only for the flow's packets: packets may be views that build the object on every read.
  let tcp = d !== 0 ? p.tcp : undefined;
  if (d !== 0 && tuple.proto !== 'any' && l4ProtoOf(p, tcp) !== tuple.proto) d = 0;
  // An ICMP error about the flow is the flow's answer too (a reject, an unreachable).
  const icmp = p.icmp !== undefined;
  const err = d === 0 && icmp && isIcmpErrorAbout(p, tuple);
  if (err) { d = -1; tcp = p.tcp; }
  if (d === 0) return;
  const isTcp = tcp !== undefined;
  if (tcp !== undefined) tcpRel(p, tcp, st, d === 1);
  fc.push(i, d === 1, signature(p, isTcp, tcp), isTcp ? relSeqOut : -1, tcp?.len ?? p.udp?.len ?? 0, innerLength(p, tcp), err, icmp);
}

/** Members of `l` that are not ICMP packets. */
function countPlain(l: InnerList): number {
  let n = 0;
  for (let j = 0; j < l.length; j++) if ((l.fc.fl[l.pos(j)]! & ICMP_PKT) === 0) n++;
  return n;
}

/** A signature's two halves mixed into 32 bits. */
function sigMix(sig: number): number {
  const hi = Math.floor(sig / SIG_LO);
  return ((sig - hi * SIG_LO) ^ Math.imul(hi | 0, 0x9e3779b1)) >>> 0;
}

/** A second 32-bit hash from sigMix's (for the signature filter's second bit). */
function sigMix2(h: number): number {
  const x = Math.imul(h ^ (h >>> 15), 0x2c1b3c6d);
  return (x ^ (x >>> 12)) >>> 0;
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
    const sigs = this.items.fc.sig, vals = this.vals, idx = this.items.idx;
    // Signatures are hashes already (non-negative integers below 2^53): mix both halves (split by
    // floor and multiply, exact for these values, where % would be a floating-point remainder).
    let h = sigMix(sig) & this.mask;
    for (;;) {
      const v = vals[h]!;
      if (v < 0 || sigs[idx === null ? v : idx[v]!] === sig) return h;
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

/** Sets the two filter bits (mask `m`) of the signatures of members 0..n-1 (`idx`: their flow positions, null: the same). */
function fillSeen(seen: Int32Array, m: number, sigs: Float64Array, idx: Int32Array | null, n: number): void {
  for (let i = 0; i < n; i++) {
    const h = sigMix(sigs[idx === null ? i : idx[i]!]!), a = h & m, b = sigMix2(h) & m;
    seen[a >>> 5] |= 1 << (a & 31);
    seen[b >>> 5] |= 1 << (b & 31);
  }
}

/** Chains members 0..nxt.length-1 by signature: `head` gets each signature's first, nxt[i] the next one after i (-1: none). */
function chainUp(head: SigTable, nxt: Int32Array, sigs: Float64Array, idx: Int32Array | null): void {
  for (let i = nxt.length - 1; i >= 0; i--) nxt[i] = head.replace(sigs[idx === null ? i : idx[i]!]!, i);
}

/** Members indexed at first: the lookups follow a flow's first packets (lineage is capped), so most never look further. */
const SIG_PREFIX = 4096;

/**
 * Signature index over a subset, for repeated lookups in time order (one table entry per signature).
 * Built over the first members only, and over twice as many each time a lookup must look past them:
 * a bulk flow's chains end within its first packets, and a table over all of its hundreds of
 * thousands of members would be built for nothing. A bit filter over every member's signature says
 * when no later member can have a signature, so a signature that is not there costs no extension.
 */
export class SigIndex {
  private head: SigTable;
  private nxt: Int32Array;
  /** A bit per member: taken (32 members a word). */
  private taken: Int32Array;
  /** Members indexed: positions 0..built-1. */
  private built = 0;
  /** Two bits per member's signature (null: every member indexed from the start). */
  private readonly seen: Int32Array | null = null;
  private readonly seenMask: number = 0;
  constructor(private readonly items: InnerList) {
    const n = items.length;
    this.taken = new Int32Array((n + 31) >>> 5);
    if (n > SIG_PREFIX) {
      // 16 bits a member: two hashes leave about one absent signature in 70 looking present.
      let cap = 32;
      while (cap < n * 16) cap *= 2;
      const seen = new Int32Array(cap >>> 5), m = cap - 1;
      fillSeen(seen, m, items.fc.sig, items.idx, n);
      this.seen = seen; this.seenMask = m;
    }
    this.head = new SigTable(0, items); this.nxt = new Int32Array(0);
    this.index(Math.min(n, SIG_PREFIX));
  }
  /** Indexes members 0..upTo-1 (anew: the chains keep the member order whatever was indexed before). */
  private index(upTo: number): void {
    const items = this.items;
    this.head = new SigTable(upTo, items);
    const nxt = this.nxt = new Int32Array(upTo);
    chainUp(this.head, nxt, items.fc.sig, items.idx);
    this.built = upTo;
  }
  /** Whether a member might have signature `sig` (false: none has). */
  private mayHave(sig: number): boolean {
    const seen = this.seen;
    if (seen === null) return true;
    const h = sigMix(sig), a = h & this.seenMask, b = sigMix2(h) & this.seenMask;
    return (seen[a >>> 5]! & (1 << (a & 31))) !== 0 && (seen[b >>> 5]! & (1 << (b & 31))) !== 0;
  }
  /** First not-yet-taken item with this signature at or after `t` (times already on one clock). */
  take(sig: number, t: number, tBefore = Infinity, mark = true, tol = 0): Inner | null {
    for (;;) {
      let i = this.head.get(sig);
      // Skip the taken prefix for good, so long runs of one signature stay cheap.
      while (i >= 0 && this.isTaken(i)) i = this.nxt[i]!;
      if (i >= 0) this.head.set(sig, i);
      for (; i >= 0; i = this.nxt[i]!) {
        if (this.isTaken(i)) continue;
        const x = this.items.at(i)!;
        const tc = x.tc;
        if (tc < t - tol) continue;
        if (tc > tBefore) return null;
        if (mark) { this.taken[i >>> 5] |= 1 << (i & 31); x.used = true; }
        return x;
      }
      // None among the indexed members: the answer, unless a later member may have the signature.
      if (this.built >= this.items.length || !this.mayHave(sig)) return null;
      this.index(Math.min(this.items.length, this.built * 2));
    }
  }
  /** Whether items[i] was taken. */
  isTaken(i: number): boolean { return (this.taken[i >>> 5]! & (1 << (i & 31))) !== 0; }
}
