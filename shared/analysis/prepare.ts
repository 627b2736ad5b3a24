// Per-capture preparation: time base, interface kinds, which packets are tunnel carriers
// (WireGuard / ESP / IKE) and which are inner traffic, and packet direction.

import type { FlowFields, Packet, PacketList, PacketRows } from '../protocols/packet.ts';
import type { CaptureInput, IfaceKind } from './types.ts';
import { ikeLocalAddresses, opensIke } from './tunnels/ipsec-refine.ts';
import { tunnelModules } from './tunnels/index.ts';
import type { CarrierScratch } from './tunnels/types.ts';

export type OuterKind = 'wg' | 'esp' | 'ike';

/**
 * Per-record numbers of one side by position (time order), in typed arrays: a record is its
 * position in these, not an object kept per packet.
 */
export interface Times {
  t: Float64Array;
  /** B's clock onto A's once it is known (see tcAt); null while `t` is on A's clock (side A, B before the fit). */
  clk: ClockMap | null;
  olen: Int32Array;
  /** kind (bits 0–1), outer (2–3), WireGuard type (4–6), direction (7–8). */
  bits: Uint16Array;
  /** Whether `bits` is still the preparation's own array: read only, copied before a change (ownBits). */
  lentBits: boolean;
  /** The capture's packets, file order; `perm[i]` is the file position of record i once records were reordered. */
  packets: PacketList; perm: Int32Array | null;
}

/** A map of B's times onto A's clock: tc = t − (o + s·(t − o − ref)). */
export interface ClockMap { o: number; s: number; ref: number }

/** Record i's time on A's clock, computed where it is read (B keeps no second column of times). */
export const tcAt = (tm: Times, i: number): number => {
  const t = tm.t[i]!, c = tm.clk;
  return c === null ? t : t - (c.o + c.s * (t - c.o - c.ref));
};

const KINDS: readonly IfaceKind[] = ['lan', 'wan', 'tunnel'];
const OUTERS: readonly (OuterKind | null)[] = [null, 'wg', 'esp', 'ike'];
const DIRS: readonly ('in' | 'out' | null)[] = [null, 'in', 'out'];
const kindCode = (k: IfaceKind): number => (k === 'lan' ? 0 : k === 'wan' ? 1 : 2);
const outerCode = (o: OuterKind | null): number => (o === null ? 0 : o === 'wg' ? 1 : o === 'esp' ? 2 : 3);
const dirCode = (d: 'in' | 'out' | null): number => (d === null ? 0 : d === 'in' ? 1 : 2);

/**
 * Where record i's packed field (`tm.bits`) keeps its interface kind (bits 0-1, KINDS), outer kind
 * (2-3, OUTERS), WireGuard message type (4-6) and direction (7-8, DIRS). Loops over a million
 * records test these bits directly, without a call or a string per record; the readers below use them too.
 */
export const RECORD_BITS = {
  kindMask: 3, tunnel: 2,
  outerShift: 2, outerMask: 3 << 2, wg: 1 << 2, esp: 2 << 2,
  wgShift: 4, wgTypeMask: 7 << 4,
  dirShift: 7, dirMask: 3 << 7, dIn: 1 << 7, dOut: 2 << 7,
} as const;
const RB = RECORD_BITS;

// Readers of record i's packed field in `tm.bits` for loops that skip the record object.
/** Outer kind of record i (see OuterKind), null for inner traffic. */
export const outerAt = (tm: Times, i: number): OuterKind | null => OUTERS[(tm.bits[i]! & RB.outerMask) >> RB.outerShift]!;
/** WireGuard message type of record i, 0 when not WireGuard. */
export const wgTypeAt = (tm: Times, i: number): number => (tm.bits[i]! & RB.wgTypeMask) >> RB.wgShift;
/** Direction of record i. */
export const dirAt = (tm: Times, i: number): 'in' | 'out' | null => DIRS[(tm.bits[i]! & RB.dirMask) >> RB.dirShift]!;
/** Sets the direction of record i (what Rec's `dir` setter does, without a record). */
export const setDirAt = (tm: Times, i: number, d: 'in' | 'out' | null): void => { const b = ownBits(tm); b[i] = (b[i]! & ~RB.dirMask) | (dirCode(d) << RB.dirShift); };
/** The side's flags to change: a copy of the preparation's made first when they are still its own (a preparation may be analysed again). */
export const ownBits = (tm: Times): Uint16Array => {
  if (tm.lentBits) { tm.bits = tm.bits.slice(); tm.lentBits = false; }
  return tm.bits;
};
/** Kind of record i's interface. */
export const kindAt = (tm: Times, i: number): IfaceKind => KINDS[tm.bits[i]! & RB.kindMask]!;

/**
 * One packet with what the engine derives from it, read from its side's arrays (`tm`, which each
 * side's subclass keeps on its prototype). Records are made on demand and not kept, so two records
 * of one packet are different objects: compare them with `is`, never with `===`.
 * `t` is seconds since the side's base, own clock.
 */
export class Rec {
  declare readonly tm: Times;
  /** Position in the capture's time-sorted record list. */
  readonly i: number;
  constructor(i: number) { this.i = i; }
  /** Whether `o` is a record of the same packet. */
  is(o: Rec | null | undefined): boolean { return o !== null && o !== undefined && o.i === this.i && o.tm === this.tm; }
  get p(): Packet {
    const tm = this.tm, perm = tm.perm;
    return tm.packets.at(perm === null ? this.i : perm[this.i]!)!;
  }
  get t(): number { return this.tm.t[this.i]!; }
  /** Time on A's clock (B's records corrected once the clock is known). */
  get tc(): number { return tcAt(this.tm, this.i); }
  /** UDP payload length for carriers, -1 otherwise. */
  get olen(): number { return this.tm.olen[this.i]!; }
  get ifKey(): string { return ifaceKeyOf(this.p); }
  get kind(): IfaceKind { return kindAt(this.tm, this.i); }
  set kind(k: IfaceKind) { const b = ownBits(this.tm); b[this.i] = (b[this.i]! & ~3) | kindCode(k); }
  get outer(): OuterKind | null { return outerAt(this.tm, this.i); }
  set outer(o: OuterKind | null) { const b = ownBits(this.tm); b[this.i] = (b[this.i]! & ~12) | (outerCode(o) << 2); }
  /** WireGuard message type (inferred from the size when the decoder gave none), 0 when not WireGuard. */
  get wgType(): number { return wgTypeAt(this.tm, this.i); }
  set wgType(w: number) { const b = ownBits(this.tm); b[this.i] = (b[this.i]! & ~0x70) | ((w & 7) << 4); }
  get dir(): 'in' | 'out' | null { return dirAt(this.tm, this.i); }
  set dir(d: 'in' | 'out' | null) { setDirAt(this.tm, this.i, d); }
}

/** Records of one side, all of them or a subset by position (time order); records are made as they are read. */
export class RecList implements Iterable<Rec> {
  constructor(
    private readonly make: (i: number) => Rec,
    /** Record positions of the members, or null for all records 0..length-1. */
    readonly idx: Int32Array | null,
    readonly length: number,
  ) {}
  /** Record position of member k. */
  index(k: number): number { return this.idx === null ? k : this.idx[k]!; }
  at(k: number): Rec | undefined { return k >= 0 && k < this.length ? this.make(this.index(k)) : undefined; }
  *[Symbol.iterator](): Iterator<Rec> { for (let k = 0; k < this.length; k++) yield this.make(this.index(k)); }
  find(pred: (r: Rec) => boolean): Rec | undefined {
    for (let k = 0; k < this.length; k++) { const r = this.make(this.index(k)); if (pred(r)) return r; }
    return undefined;
  }
  some(pred: (r: Rec) => boolean): boolean { return this.find(pred) !== undefined; }
  /** Members whose record position matches `pred` (for tests on the side's arrays: no record made). */
  whereAt(pred: (i: number) => boolean): RecList {
    const out = new Int32Array(this.length);
    let n = 0;
    for (let k = 0; k < this.length; k++) { const i = this.index(k); if (pred(i)) out[n++] = i; }
    return new RecList(this.make, n === out.length ? out : out.slice(0, n), n);
  }
}

export interface Side {
  key: 'A' | 'B';
  input: CaptureInput;
  /** The side's per-record arrays (what records read). */
  tm: Times;
  /** Record `i` (time order). */
  rec(i: number): Rec;
  recs: RecList;
  ifaces: Map<string, { name: string; kind: IfaceKind; count: number }>;
  local: Set<string>;
  /** Carrier packets only, time order. */
  outer: RecList;
  /** Handshake-type carriers (WireGuard types 1–3, IKE): few, so role and handshake questions stay cheap. */
  hs: Rec[];
  hasDirInfo: boolean;
  /** Whether the capture covered every interface (or at least the named list) of its host. */
  multiIface: boolean;
  /** The outer kinds its carriers have (fixed once prepared): "any ESP at all?" without a scan. */
  outerKinds: ReadonlySet<OuterKind>;
  /** Names of interfaces the file lists, with or without packets. */
  listed: string[];
  /** File positions of firewall-log records (NFLOG/pflog copies): evidence, never checkpoints. */
  fwlog: number[];
}

const RAW_LINKTYPES = new Set([12, 14, 101, 228, 229]);
const TUNNEL_NAME = /^(wg|tun|ipsec|vti|xfrm|utun|nordlynx|wt\d|ppp|gre)/i;

/** ARPHRD types (SLL2 hatype) of interfaces without a link layer of their own: none, void, IP-in-IP, tunnel6, SIT, GRE, ip6gre, PPP. */
const TUNNEL_HATYPES = new Set([65534, 65535, 768, 769, 776, 778, 823, 512]);

export function ifaceKeyOf(p: Packet): string {
  if (p.iface !== '') return p.iface;
  // `tcpdump -i any` without an `ip -o link` listing: the SLL2 ifindex still tells interfaces apart.
  const x = p.ifindex;
  return x !== undefined ? `#if${x}` : `#${p.ifaceId}`;
}

/** Display name of a packet's interface: its name, else "if<index>" for unnamed SLL2 interfaces, else ''. */
export function ifaceNameOf(p: Packet): string {
  if (p.iface !== '') return p.iface;
  const x = p.ifindex;
  return x !== undefined ? `if${x}` : '';
}

function convKey(src: string | undefined, sport: number | undefined, dst: string | undefined, dport: number | undefined): string {
  const x = `${src}:${sport}`;
  const y = `${dst}:${dport}`;
  return x < y ? `${x}|${y}` : `${y}|${x}`;
}

/** Packets per bulk read of times and interface ids (a store's page). */
const TIME_CHUNK = 1 << 15;

/** Scratch arrays for readTimes: one chunk's seconds, nanoseconds and interface ids. */
interface TimeChunk { sec: Float64Array; nsec: Float64Array; ifc: Int32Array }
const timeChunk = (n: number): TimeChunk => {
  const m = Math.min(n, TIME_CHUNK);
  return { sec: new Float64Array(m), nsec: new Float64Array(m), ifc: new Int32Array(m) };
};

/** Packets from..to-1's times and interface ids into `c`: the list's bulk read when it has one, else each packet's. */
function readTimes(packets: PacketList, from: number, to: number, c: TimeChunk): void {
  if (packets.readTimes !== undefined) { packets.readTimes(from, to, c.sec, c.nsec, c.ifc); return; }
  for (let i = from; i < to; i++) { const p = packets.at(i)!; c.sec[i - from] = p.tsSec; c.nsec[i - from] = p.tsNsec; c.ifc[i - from] = p.ifaceId; }
}

/** Every packet's interface id in the file (readTimes's), for merging by interface. */
function fileIfaces(packets: PacketList, c: TimeChunk): Int32Array {
  const n = packets.length;
  const out = new Int32Array(n);
  for (let c0 = 0; c0 < n; c0 += TIME_CHUNK) {
    const c1 = Math.min(n, c0 + TIME_CHUNK);
    readTimes(packets, c0, c1, c);
    out.set(c.ifc.subarray(0, c1 - c0), c0);
  }
  return out;
}

/** Arrays for chunks of up to n packets read by PacketList.readRows. */
export function newPacketRows(n: number): PacketRows {
  return {
    held: new Uint8Array(n), src: new Int32Array(n), dst: new Int32Array(n), l4: new Uint8Array(n), sport: new Int32Array(n),
    dport: new Int32Array(n), l4len: new Int32Array(n), wgType: new Uint8Array(n), dir: new Uint8Array(n), iface: new Int32Array(n),
    ifindex: new Int32Array(n), addrs: [], names: [],
  };
}

/** One conversation's packets: all, WireGuard-sized, handshake-sized, decoded as WireGuard. */
export interface ConvCounts { n: number; shaped: number; hs: number; wg: number }

export interface ConvStats {
  /** Conversation per packet (file order): an index into `names`, -1 for non-UDP (a typed array, not a million slots). */
  keys: Int32Array;
  /** Conversation keys by index. */
  names: string[];
  stats: Map<string, ConvCounts>;
  /** The earliest whole second of any packet (read in the same pass), Infinity without packets. */
  firstSec: number;
}

/** One pass over the UDP packets: per conversation, how many look like WireGuard framing (the preparation's pass, see Pass). */
export function conversationStats(packets: PacketList): ConvStats {
  return new Pass(packets).conversations();
}

/** Conversations that are WireGuard: the decoder said so, or every size fits its framing. */
export function wireguardConversations(cs: ConvStats, knownPorts: ReadonlySet<number> = new Set()): Set<string> {
  const out = new Set<string>();
  for (const [k, s] of cs.stats) {
    if (s.wg > 0) { out.add(k); continue; }
    if (s.shaped !== s.n) continue;
    // DNS, NTP, IKE or HTTPS traffic can happen to be a multiple of 16; WireGuard never uses them.
    if (/:(53|67|68|123|500|4500|443)(\||$)/.test(k)) continue;
    const ports = k.split('|').map((e) => Number(e.slice(e.lastIndexOf(':') + 1)));
    if (s.hs > 0 || s.n >= 3 || ports.some((p) => knownPorts.has(p))) out.add(k);
  }
  return out;
}

/** UDP ports of the conversations that look like WireGuard, to recognise a lone keepalive on the other host. */
export function wireguardPorts(cs: ConvStats): Set<number> {
  const out = new Set<number>();
  for (const k of wireguardConversations(cs)) for (const e of k.split('|')) out.add(Number(e.slice(e.lastIndexOf(':') + 1)));
  return out;
}

/**
 * `tcpdump -i any` writes packets a few microseconds out of order now and then: an insertion
 * sort puts those back with a few moves each, where a full sort would cost n·log n comparisons.
 * Gives up (false, order partly fixed, still a permutation) when there is too much to move.
 * `order` holds file positions (sorted here: lo..hi-1); ties keep file order.
 */
function nearlySorted(order: Int32Array, t: Float64Array, lo: number, hi: number): boolean {
  if (hi - lo < 2) return true;
  let budget = hi - lo;
  // The record before position j (the largest so far), held: the test is inline, no closure per record.
  let y = order[lo]!, ty = t[y]!;
  for (let j = lo + 1; j < hi; j++) {
    const x = order[j]!, tx = t[x]!;
    if (!(ty > tx || (ty === tx && y > x))) { y = x; ty = tx; continue; }
    let k = j - 1;
    for (; k >= lo; k--) {
      const z = order[k]!, tz = t[z]!;
      if (!(tz > tx || (tz === tx && z > x))) break;
      order[k + 1] = z; budget--;
    }
    order[k + 1] = x;
    y = order[j]!; ty = t[y]!;
    if (budget < 0) return false;
  }
  return true;
}

/**
 * File positions sorted by (time, position), by merging the file's ascending stretches pairwise: a
 * file written in per-interface blocks is a few long stretches, and no comparator is called per
 * pair. Null when a time is NaN (the comparator sort's own order then stands).
 */
function mergeOrder(t: Float64Array): Int32Array | null {
  const n = t.length;
  let runs = 1;
  for (let j = 1; j < n; j++) {
    const a = t[j - 1]!, b = t[j]!;
    if (a !== a || b !== b) return null;
    if (b < a) runs++;
  }
  // Where each stretch starts, and n at the end.
  let bounds = new Int32Array(runs + 1);
  for (let j = 1, r = 1; j < n; j++) if (t[j]! < t[j - 1]!) bounds[r++] = j;
  bounds[runs] = n;
  let src = new Int32Array(n), dst = new Int32Array(n);
  for (let j = 0; j < n; j++) src[j] = j;
  while (runs > 1) {
    const next = new Int32Array(((runs + 1) >> 1) + 1);
    let m = 0;
    for (let r = 0; r < runs; r += 2) {
      const lo = bounds[r]!, mid = bounds[r + 1]!, hi = r + 2 <= runs ? bounds[r + 2]! : mid;
      // Left first on equal times: its positions are all smaller, so ties keep file order.
      let i = lo, j = mid, k = lo;
      while (i < mid && j < hi) { const x = src[i]!, y = src[j]!; if (t[y]! < t[x]!) { dst[k++] = y; j++; } else { dst[k++] = x; i++; } }
      while (i < mid) dst[k++] = src[i++]!;
      while (j < hi) dst[k++] = src[j++]!;
      next[m++] = lo;
    }
    next[m] = n;
    const s = src; src = dst; dst = s;
    bounds = next; runs = m;
  }
  return src;
}

/**
 * File positions in time order, stable on file position. Files that interleave per-interface runs
 * are merged run by run (each run put in order first when a few of its packets are not); anything
 * else gets a full sort. `ifc`: each packet's file interface id, null when there is only one.
 * `finite`: every time is a finite number, so any of these ways gives the one (time, position)
 * order; otherwise (NaN) the first disorder seen decides, as it always did.
 */
function timeOrder(t: Float64Array, ifc: Int32Array | null, finite: boolean): Int32Array {
  const n = t.length;
  const order = new Int32Array(n);
  // File order, where a sort starts from it (the merge of runs below writes every entry itself).
  const identity = (): Int32Array => { for (let j = 0; j < n; j++) order[j] = j; return order; };
  const full = (): Int32Array => mergeOrder(t) ?? order.sort((x, y) => t[x]! - t[y]! || x - y);
  if (ifc === null) return nearlySorted(identity(), t, 0, n) ? order : full();
  // Per interface: its run number, the last position seen on it, how many it has (typed: a run may hold millions)
  // and whether it goes back in time.
  const runOf = new Map<number, number>();
  const lastAt: number[] = [];
  const counts: number[] = [];
  const back: boolean[] = [];
  let anyBack = false;
  // Runs of one interface are long: its run number is looked up once per change of interface.
  let lastIfc = 0, lastRun = -1;
  for (let j = 0; j < n; j++) {
    const x = ifc[j]!;
    let k = lastRun;
    if (x !== lastIfc || k < 0) {
      const r = runOf.get(x);
      if (r === undefined) { k = counts.length; runOf.set(x, k); lastAt.push(-1); counts.push(0); back.push(false); } else k = r;
      lastIfc = x; lastRun = k;
    }
    const prev = lastAt[k]!;
    if (prev >= 0 && t[j]! < t[prev]!) {
      if (!finite) return nearlySorted(identity(), t, 0, n) ? order : full();
      back[k] = true; anyBack = true;
    }
    lastAt[k] = j;
    counts[k]!++;
  }
  const runs = counts.length;
  if (runs > 16) {
    identity();
    return anyBack && nearlySorted(order, t, 0, n) ? order : full();
  }
  // Each run's positions, file order, side by side in one array.
  const start = new Int32Array(runs + 1);
  for (let k = 0; k < runs; k++) start[k + 1] = start[k]! + counts[k]!;
  const lists = new Int32Array(n);
  const fill = start.slice(0, runs);
  lastRun = -1;
  for (let j = 0; j < n; j++) {
    const x = ifc[j]!;
    if (x !== lastIfc || lastRun < 0) { lastIfc = x; lastRun = runOf.get(x)!; }
    lists[fill[lastRun]!++] = j;
  }
  if (finite) {
    // A run that goes back now and then (packets a few microseconds out of order) is put right in place.
    for (let k = 0; k < runs; k++) if (back[k] === true && !nearlySorted(lists, t, start[k]!, start[k + 1]!)) return full();
    mergeRuns(lists, start, t, order);
    return order;
  }
  const pos = start.slice(0, runs);
  for (let j = 0; j < n; j++) {
    let best = -1;
    let bt = Infinity, bf = Infinity;
    for (let k = 0; k < runs; k++) {
      if (pos[k]! >= start[k + 1]!) continue;
      const x = lists[pos[k]!]!;
      if (t[x]! < bt || (t[x] === bt && x < bf)) { best = k; bt = t[x]!; bf = x; }
    }
    order[j] = lists[pos[best]!++]!;
  }
  return order;
}

/**
 * timeOrder for a file of several interfaces whose times are all finite, from its stretches (the
 * pass's `stretches`: where the file interface id changes, and whether the times go back inside a
 * stretch) instead of every packet's interface id: the same (time, position) order.
 */
function orderByStretches(t: Float64Array, st: readonly number[]): Int32Array {
  const n = t.length;
  const order = new Int32Array(n);
  const ns = st.length / 3;
  // Per interface: its run number, how many it has, whether it goes back in time, where its last stretch ended.
  const runOf = new Map<number, number>();
  const counts: number[] = [];
  const back: boolean[] = [];
  const lastEnd: number[] = [];
  const runOfStretch = new Int32Array(ns);
  let anyBack = false;
  for (let s = 0; s < ns; s++) {
    const a = st[3 * s]!, f = st[3 * s + 1]!, b = s + 1 < ns ? st[3 * s + 3]! : n;
    let k = runOf.get(f);
    if (k === undefined) { k = counts.length; runOf.set(f, k); counts.push(0); back.push(false); lastEnd.push(-1); }
    runOfStretch[s] = k;
    // Back inside the stretch, or its first packet before the end of the interface's stretch before.
    if (st[3 * s + 2] === 1 || (lastEnd[k]! >= 0 && t[a]! < t[lastEnd[k]!]!)) { back[k] = true; anyBack = true; }
    lastEnd[k] = b - 1;
    counts[k]! += b - a;
  }
  const runs = counts.length;
  const full = (): Int32Array => mergeOrder(t)!;
  if (runs > 16) {
    for (let j = 0; j < n; j++) order[j] = j;
    return anyBack && nearlySorted(order, t, 0, n) ? order : full();
  }
  const start = new Int32Array(runs + 1);
  for (let k = 0; k < runs; k++) start[k + 1] = start[k]! + counts[k]!;
  const lists = new Int32Array(n);
  const fill = start.slice(0, runs);
  for (let s = 0; s < ns; s++) {
    const a = st[3 * s]!, b = s + 1 < ns ? st[3 * s + 3]! : n, k = runOfStretch[s]!;
    let p = fill[k]!;
    for (let j = a; j < b; j++) lists[p++] = j;
    fill[k] = p;
  }
  // A run that goes back now and then (packets a few microseconds out of order) is put right in place.
  for (let k = 0; k < runs; k++) if (back[k] === true && !nearlySorted(lists, t, start[k]!, start[k + 1]!)) return full();
  mergeRuns(lists, start, t, order);
  return order;
}

/**
 * Runs (lists[start[k]..start[k+1]), each in (time, position) order) merged into `order` by
 * (time, position). Two runs (two interfaces: a carrier's and its inner packet's, which alternate
 * in time) have a loop of their own; the rest of a run, once the other is used up, is copied at once.
 */
function mergeRuns(lists: Int32Array, start: Int32Array, t: Float64Array, order: Int32Array): void {
  const runs = start.length - 1;
  const n = order.length;
  if (runs === 2) {
    let i = start[0]!, k = start[1]!, j = 0;
    const e0 = start[1]!, e1 = start[2]!;
    while (i < e0 && k < e1) {
      const x = lists[i]!, y = lists[k]!, tx = t[x]!, ty = t[y]!;
      if (ty < tx || (ty === tx && y < x)) { order[j++] = y; k++; } else { order[j++] = x; i++; }
    }
    if (i < e0) order.set(lists.subarray(i, e0), j); else order.set(lists.subarray(k, e1), j);
    return;
  }
  const pos = start.slice(0, runs);
  for (let j = 0; j < n; j++) {
    let best = -1;
    let bt = 0, bx = 0;
    for (let k = 0; k < runs; k++) {
      if (pos[k]! >= start[k + 1]!) continue;
      const x = lists[pos[k]!]!, tx = t[x]!;
      if (best < 0 || tx < bt || (tx === bt && x < bx)) { best = k; bt = tx; bx = x; }
    }
    order[j] = lists[pos[best]!++]!;
  }
}

/**
 * a[j] = a[perm[j]] for every array at once, in place (cycle by cycle): a million-packet side
 * then needs one byte per packet to do it instead of a second copy of each array.
 */
export function permuteInPlace(perm: Int32Array, arrays: Array<Float64Array | Int32Array | Uint16Array>): void {
  const n = perm.length;
  const done = new Uint8Array(n);
  const held = new Float64Array(arrays.length);
  for (let s = 0; s < n; s++) {
    if (done[s] === 1 || perm[s] === s) { done[s] = 1; continue; }
    for (let a = 0; a < arrays.length; a++) held[a] = arrays[a]![s]!;
    let j = s;
    for (;;) {
      done[j] = 1;
      const x = perm[j]!;
      if (x === s) { for (let a = 0; a < arrays.length; a++) arrays[a]![j] = held[a]!; break; }
      for (let a = 0; a < arrays.length; a++) arrays[a]![j] = arrays[a]![x]!;
      j = x;
    }
  }
}

/** permuteInPlace for the preparation's arrays (the same cycles), each array read and written by its own type. */
function permuteRecords(perm: Int32Array, t: Float64Array, o: Int32Array, b: Uint16Array, id: Uint16Array): void {
  const n = perm.length;
  const done = new Uint8Array(n);
  for (let s = 0; s < n; s++) {
    if (done[s] === 1 || perm[s] === s) { done[s] = 1; continue; }
    const t0 = t[s]!, o0 = o[s]!, b0 = b[s]!, i0 = id[s]!;
    let j = s;
    for (;;) {
      done[j] = 1;
      const x = perm[j]!;
      if (x === s) { t[j] = t0; o[j] = o0; b[j] = b0; id[j] = i0; break; }
      t[j] = t[x]!; o[j] = o[x]!; b[j] = b[x]!; id[j] = id[x]!;
      j = x;
    }
  }
}

/**
 * What preparing one capture computes from its own packets (and the other capture's WireGuard
 * ports): typed arrays and plain data only, so that a load worker can compute it beside the other
 * capture's and hand it over by transfer (`tandem analyze` does). Records are in time order.
 */
export interface PreparedCapture {
  /** The capture's earliest whole second (its time base); Infinity without packets. */
  baseSec: number;
  /** Packets it was computed over. */
  length: number;
  /** UDP ports of its own WireGuard-looking conversations (what the other capture's preparation needs). */
  ports: number[];
  /** The other capture's ports this preparation used: valid only beside a capture whose `ports` these are. */
  otherPorts: number[];
  /** Per record: seconds since baseSec, carrier payload length (-1), packed kind/outer/type/direction (see Times). */
  t: Float64Array; olen: Int32Array; bits: Uint16Array;
  /** File position of each record once reordered by time, null when the file was in order. */
  perm: Int32Array | null;
  /** Carrier record positions, and a bit per outer kind present (1 << outer code). */
  outerIdx: Int32Array; outerBits: number;
  /** Interfaces with packets, in the order they first show up in time. */
  ifaces: Array<{ key: string; name: string; kind: IfaceKind; count: number }>;
  local: string[];
  hasDirInfo: boolean;
  fwlog: number[];
}

/**
 * A capture's first pass: its conversations, the WireGuard ports among them, its time base, and
 * (`pass`) what else the pass found per packet, for prepareCapture to finish once the other
 * capture's ports are known (prepareCapture takes it from here).
 */
export interface CaptureStats { cs: ConvStats; ports: Set<number>; baseSec: number; pass?: Pass }

export function captureStats(packets: PacketList): CaptureStats {
  const pass = new Pass(packets);
  const cs = pass.conversations();
  return { cs, ports: wireguardPorts(cs), baseSec: cs.firstSec, pass };
}

/**
 * Both captures prepared: the preparations the inputs carry when they were made for each other
 * (a load worker's), else made here.
 */
export function preparePair(a: CaptureInput, b: CaptureInput): [PreparedCapture, PreparedCapture] {
  const pa = a.prepared, pb = b.prepared;
  const same = (x: readonly number[], y: readonly number[]): boolean => x.length === y.length && x.every((v, k) => v === y[k]);
  if (pa !== undefined && pb !== undefined && pa.length === a.packets.length && pb.length === b.packets.length &&
    same(pa.otherPorts, pb.ports) && same(pb.otherPorts, pa.ports)) return [pa, pb];
  const sa = captureStats(a.packets), sb = captureStats(b.packets);
  return [prepareCapture(a.packets, sa, sb.ports), prepareCapture(b.packets, sb, sa.ports)];
}

/** One interface as the preparation counts it (its kind is decided once every packet was seen). */
interface IfStat { key: string; name: string; kind: IfaceKind; count: number; outer: number; linktype: number; hatype: number | undefined }

/** Stretches of one file interface id the pass notes at most (a file written in blocks has a few thousand). */
const MAX_STRETCHES = 1 << 16;

/** Numeric interface keys below this are exact (ifindex, file interface id or name id, times 4, plus the form). */
const NUM_KEYS = 2 ** 26;

/**
 * A capture's one pass over every packet (file order), made before the other capture's WireGuard
 * ports are known: its UDP conversations (ConvStats), and per packet its carrier kind, direction,
 * interface, the host's own addresses and firewall-log copies. Carriers are asked of the tunnel
 * modules without `udpLikeWg` here; prepareCapture asks again, with it, for the few packets whose
 * conversation turns out WireGuard-like and that the first module did not claim. A column row is
 * read from its chunk's arrays (PacketRows) and put to the modules by its numbers
 * (TunnelModule.carrierRow); a packet is built only for the rest, and for rows whose numbers leave
 * a module's question open.
 */
class Pass {
  readonly olens: Int32Array;
  readonly bits: Uint16Array;
  /** Interface index per packet (file order): 16 bits until there are more interfaces than that. */
  ifId: Uint16Array | Int32Array;
  readonly ifById: IfStat[] = [];
  /** The host's own addresses: the source of what it sends, the destination of what it receives. */
  readonly local = new Set<string>();
  readonly fwlog: number[] = [];
  hasDirInfo = false;
  /** Conversation per packet, -1 for non-UDP (see ConvStats). */
  readonly keys: Int32Array;
  readonly names: string[] = [];
  readonly stats = new Map<string, ConvCounts>();
  /** Per conversation index: its packets the first tunnel module claimed as carriers. */
  readonly firstClaims: number[] = [];
  firstSec = Infinity;
  /**
   * Times since the first packet's whole second (`base0`), whether they run in order, are all
   * finite and share one file interface id: the preparation's times when that second is the
   * earliest (nearly always), else worked out again (timesOf).
   */
  readonly t: Float64Array;
  base0 = 0;
  sorted = true;
  finite = true;
  oneIfc = true;
  /**
   * Stretches of one file interface id, in file order: each one's first position, its id, and 1 when
   * its times go back inside it (else 0), flat; null when the pass did not note them (a list without
   * rows) or there were too many (the order is then worked out from every packet's id again).
   */
  stretches: number[] | null = null;
  private prevT = -Infinity;
  private ifc0 = 0;
  private curIfc = 0;
  private readonly convIds = new Map<string, number>();
  // The conversation of the last packet that changed it, by its endpoints (held here: re-reading a view's fields builds them again),
  // and for a column row also by its address ids (`hSrc` -1: the last change was not a column row's).
  private pSrc: string | undefined = undefined; private pDst: string | undefined = undefined;
  private pSport: number | undefined = undefined; private pDport: number | undefined = undefined;
  private hSrc = -1; private hDst = -1;
  private prevS: ConvCounts | null = null;
  private prevId = -1;
  /** Interface indexes by key (ifaceKeyOf), and by a number that stands for the key (see idByNum). */
  private readonly byKey = new Map<string, number>();
  private readonly byNum = new Map<number, number>();
  // The last two numbers and the last name seen with their indexes (`tcpdump -i any` alternates between
  // a carrier's interface and its inner packet's): most packets need no map.
  private numA = -1; private idA = -1; private numB = -1; private idB = -1;
  private name = ''; private nameId = -1;
  // The last two local addresses added: Set order is first-insertion order, so skipping a repeat changes nothing.
  private addedA = ''; private addedB = '';
  private readonly mods = tunnelModules();
  private readonly scratch: CarrierScratch = { outer: null, wgType: 0, olen: -1 };

  constructor(readonly packets: PacketList) {
    const n = packets.length;
    this.keys = new Int32Array(n).fill(-1);
    this.olens = new Int32Array(n); this.bits = new Uint16Array(n); this.ifId = new Uint16Array(n); this.t = new Float64Array(n);
    const c = timeChunk(n);
    if (n > 0) { readTimes(packets, 0, 1, c); this.base0 = c.sec[0]!; this.ifc0 = this.curIfc = c.ifc[0]!; }
    const rows = packets.readRows !== undefined ? newPacketRows(Math.min(n, TIME_CHUNK)) : null;
    if (rows !== null && n > 0) this.stretches = [0, this.ifc0, 0];
    // By index: a bulk store's iterator is a generator, slower per packet than at().
    for (let c0 = 0; c0 < n; c0 += TIME_CHUNK) {
      const c1 = Math.min(n, c0 + TIME_CHUNK);
      readTimes(packets, c0, c1, c);
      if (rows !== null) { packets.readRows!(c0, c1, rows); this.rowChunk(rows, c0, c1, c); }
      else {
        const times = timesInto(this.t, c0, c1, c, this.base0, { prevT: this.prevT, sorted: this.sorted, finite: this.finite, oneIfc: this.oneIfc, ifc0: this.ifc0 });
        this.prevT = times.prevT; this.sorted = times.sorted; this.finite = times.finite; this.oneIfc = times.oneIfc;
        for (let j = c0; j < c1; j++) { this.packet(packets.at(j)!, j); if (c.sec[j - c0]! < this.firstSec) this.firstSec = c.sec[j - c0]!; }
      }
    }
  }

  /** A new stretch of file interface id `f` from position j (stretches stop being noted past a number of them). */
  private stretch(j: number, f: number): void {
    const st = this.stretches;
    if (st === null) return;
    if (st.length >= 3 * MAX_STRETCHES) { this.stretches = null; return; }
    st.push(j, f, 0);
  }

  /** The current stretch goes back in time. */
  private back(): void {
    const st = this.stretches;
    if (st !== null) st[st.length - 1] = 1;
  }

  conversations(): ConvStats { return { keys: this.keys, names: this.names, stats: this.stats, firstSec: this.firstSec }; }

  /** The conversation of src:sport ↔ dst:dport, from here on the previous one. */
  private change(src: string | undefined, sport: number | undefined, dst: string | undefined, dport: number | undefined): ConvCounts {
    const k = convKey(src, sport, dst, dport);
    this.pSrc = src; this.pDst = dst; this.pSport = sport; this.pDport = dport;
    let id = this.convIds.get(k);
    if (id === undefined) { id = this.names.length; this.names.push(k); this.convIds.set(k, id); this.firstClaims.push(0); }
    this.prevId = id;
    let s = this.stats.get(k);
    if (s === undefined) { s = { n: 0, shaped: 0, hs: 0, wg: 0 }; this.stats.set(k, s); }
    this.prevS = s;
    return s;
  }

  /** Packets c0..c1-1 of a list that reads rows: column rows from their numbers, the others as packets. */
  private rowChunk(rows: PacketRows, c0: number, c1: number, c: TimeChunk): void {
    const { keys, olens, bits, mods, scratch, firstClaims } = this;
    const { held, wgType: wgTypes, l4: l4s, l4len, sport: sports, dport: dports, dir: dirs, iface, ifindex, src, dst, addrs, names } = rows;
    const { sec, nsec, ifc } = c;
    const { t, base0 } = this;
    const mod0 = mods[0];
    let firstSec = this.firstSec, prevT = this.prevT, sorted = this.sorted, finite = this.finite, oneIfc = this.oneIfc;
    // The file interface id of the current stretch (see `stretches`).
    let curIfc = this.curIfc;
    // The name id that stands for no name (interfaces then go by ifindex or file interface id).
    const unnamed = names.indexOf('');
    for (let j = c0; j < c1; j++) {
      const x = j - c0;
      const sx = sec[x]!;
      if (sx < firstSec) firstSec = sx;
      // The time (see timesInto: the same steps, kept inline in this loop).
      const tj = (sx - base0) + nsec[x]! * 1e-9;
      t[j] = tj;
      if (tj - tj !== 0) finite = false;
      if (ifc[x] !== curIfc) { oneIfc = false; curIfc = ifc[x]!; this.stretch(j, curIfc); }
      else if (tj < prevT) this.back();
      if (tj < prevT) sorted = false;
      prevT = tj;
      if (held[x] !== 1) { this.packet(this.packets.at(j)!, j); continue; }
      // A column row (never an outer layer): UDP, or a WireGuard header, joins its conversation, the endpoints compared by id.
      const w = wgTypes[x]!;
      let cj = -1;
      if (w !== 0 || l4s[x] === 2) {
        const si = src[x]!, di = dst[x]!, sport = sports[x]!, dport = dports[x]!;
        let s = this.prevS;
        const hs = this.hSrc, hd = this.hDst;
        if (s === null || hs < 0 || !((si === hs && di === hd && sport === this.pSport && dport === this.pDport) ||
          (si === hd && di === hs && sport === this.pDport && dport === this.pSport))) {
          s = this.change(addrs[si], sport, addrs[di], dport);
          this.hSrc = si; this.hDst = di;
        }
        cj = this.prevId;
        keys[j] = cj;
        count(s, w !== 0, l4len[x]!);
      }
      let outer = 0, wgType = 0, olen = -1;
      let p: Packet | null = null;
      for (let m = 0; m < mods.length; m++) {
        const mod = mods[m]!;
        let r = mod.carrierRow !== undefined ? mod.carrierRow(rows, x, false, scratch) : -1;
        if (r < 0) r = mod.carrier(p ??= this.packets.at(j)!, false, scratch) ? 1 : 0;
        if (r === 1) {
          outer = outerCode(scratch.outer); wgType = scratch.wgType; olen = scratch.olen;
          if (mod === mod0 && cj >= 0) firstClaims[cj]!++;
          break;
        }
      }
      const d = dirs[x]!;
      const dc = d === 1 || d === 2 ? d : 0;
      if (dc !== 0) this.hasDirInfo = true;
      olens[j] = olen;
      bits[j] = (outer << 2) | (wgType << 4) | (dc << 7);
      const ni = iface[x]!;
      let num: number;
      if (ni !== unnamed) num = ni * 4;
      else { const fx = ifindex[x]!; num = fx >= 0 ? fx * 4 + 1 : ifc[x]! * 4 + 2; }
      const id = num === this.numA ? this.idA : this.idByNum(num, j, p);
      this.ifId[j] = id;
      const f = this.ifById[id]!;
      f.count++;
      if (outer !== 0) f.outer++;
      if (dc !== 0) this.addLocal(addrs[dc === 2 ? src[x]! : dst[x]!]);
    }
    this.firstSec = firstSec; this.prevT = prevT; this.sorted = sorted; this.finite = finite; this.oneIfc = oneIfc; this.curIfc = curIfc;
  }

  /** Packet j from its fields (a list without rows, or a packet the columns do not hold). */
  private packet(p: Packet, j: number): void {
    // Only whether there is a WireGuard header matters for the conversations: wgNum (when offered) says so without the counter's text.
    const wg = p.wgNum ?? p.wg, udp = p.udp;
    let cj = -1;
    if ((wg !== undefined || (udp !== undefined && p.tcp === undefined)) && p.outer === undefined) {
      // Each field read once: packets may be views that build the sub-object on every read.
      const src = p.src, dst = p.dst, sport = p.sport, dport = p.dport;
      let s = this.prevS;
      if (s === null || !((src === this.pSrc && dst === this.pDst && sport === this.pSport && dport === this.pDport) ||
        (src === this.pDst && dst === this.pSrc && sport === this.pDport && dport === this.pSport))) {
        s = this.change(src, sport, dst, dport);
        this.hSrc = -1; this.hDst = -1;
      }
      cj = this.prevId;
      this.keys[j] = cj;
      count(s, wg !== undefined, udp?.len ?? -1);
    }
    let outer: OuterKind | null = null;
    let wgType = 0;
    let olen = -1;
    // Carriers inside another tunnel's outer layer are not this path's carriers.
    if (p.outer === undefined) {
      const { mods, scratch } = this;
      for (let m = 0; m < mods.length; m++) {
        if (mods[m]!.carrier(p, false, scratch)) {
          outer = scratch.outer; wgType = scratch.wgType; olen = scratch.olen;
          if (m === 0 && cj >= 0) this.firstClaims[cj]!++;
          break;
        }
      }
    }
    const pd = p.dir;
    const dir = pd === 'in' || pd === 'out' ? pd : null;
    if (dir !== null) this.hasDirInfo = true;
    this.olens[j] = olen;
    this.bits[j] = (outerCode(outer) << 2) | (wgType << 4) | (dirCode(dir) << 7);
    // A firewall-log record (NFLOG, pflog) is a copy of a packet, not a sighting on the path.
    if (p.fwlog !== undefined) { this.fwlog.push(j); return; }
    const iface = p.iface;
    let id: number;
    if (iface !== '') {
      if (iface !== this.name || this.nameId < 0) { this.name = iface; this.nameId = this.idByKey(iface, p); }
      id = this.nameId;
    } else {
      // Numbers that are not small whole ones (a hostile file's) go by their key alone.
      const fx = p.ifindex, fid = p.ifaceId;
      const num = fx !== undefined ? (Number.isInteger(fx) && fx >= 0 && fx < NUM_KEYS ? fx * 4 + 1 : -1)
        : Number.isInteger(fid) && fid >= 0 && fid < NUM_KEYS ? fid * 4 + 2 : -1;
      id = num < 0 ? this.idByKey(ifaceKeyOf(p), p) : num === this.numA ? this.idA : this.idByNum(num, j, p);
    }
    this.ifId[j] = id;
    const f = this.ifById[id]!;
    f.count++;
    if (outer !== null) f.outer++;
    if (dir !== null) this.addLocal(dir === 'out' ? p.src : p.dst);
  }

  private addLocal(a: string | undefined): void {
    if (a !== undefined && a !== this.addedA) {
      if (a !== this.addedB) this.local.add(a);
      this.addedB = this.addedA; this.addedA = a;
    }
  }

  /**
   * Index of the interface a number stands for (name id × 4 for a named column row, ifindex × 4 + 1,
   * file interface id × 4 + 2 for unnamed ones): the key is made only the first time a number is seen.
   */
  private idByNum(num: number, j: number, p: Packet | null): number {
    let id: number | undefined;
    if (num === this.numB) id = this.idB;
    else {
      id = this.byNum.get(num);
      if (id === undefined) { const q = p ?? this.packets.at(j)!; id = this.idByKey(ifaceKeyOf(q), q); this.byNum.set(num, id); }
    }
    this.numB = this.numA; this.idB = this.idA;
    this.numA = num; this.idA = id;
    return id;
  }

  /** Index of the interface with key `k` (ifaceKeyOf(p)), listed when first seen. */
  private idByKey(k: string, p: Packet): number {
    let id = this.byKey.get(k);
    if (id === undefined) {
      id = this.ifById.length;
      this.byKey.set(k, id);
      if (id > 0xffff && this.ifId instanceof Uint16Array) { const w = new Int32Array(this.ifId.length); w.set(this.ifId); this.ifId = w; }
      this.ifById.push({ key: k, name: ifaceNameOf(p), kind: 'lan', count: 0, outer: 0, linktype: p.linktype, hatype: p.hatype });
    }
    return id;
  }

  /**
   * Carriers asked again with `udpLikeWg` where it can change the answer: packets of the conversations
   * `wgById` marks that the first module did not claim (it claims the same way with it, TunnelModule.carrier).
   */
  likeWg(wgById: Uint8Array): void {
    const { keys, firstClaims, stats, names, mods, scratch, packets } = this;
    let some = false;
    if (mods.length === 0) return;
    for (let c = 0; c < names.length; c++) if (wgById[c] === 1 && firstClaims[c]! < stats.get(names[c]!)!.n) { some = true; break; }
    if (!some) return;
    const firstOuters = mods[0]!.outers;
    for (let j = 0; j < keys.length; j++) {
      const cj = keys[j]!;
      if (cj < 0 || wgById[cj] !== 1) continue;
      const was = OUTERS[(this.bits[j]! >> 2) & 3]!;
      if (was !== null && firstOuters.includes(was)) continue;
      const p = packets.at(j)!;
      if (p.outer !== undefined) continue;
      let outer: OuterKind | null = null, wgType = 0, olen = -1;
      for (let m = 0; m < mods.length; m++) {
        if (mods[m]!.carrier(p, true, scratch)) { outer = scratch.outer; wgType = scratch.wgType; olen = scratch.olen; break; }
      }
      this.olens[j] = olen;
      this.bits[j] = (this.bits[j]! & 0x180) | (outerCode(outer) << 2) | (wgType << 4);
      if (p.fwlog !== undefined) continue;
      const f = this.ifById[this.ifId[j]!]!;
      if (was !== null) f.outer--;
      if (outer !== null) f.outer++;
    }
  }
}

/** One more packet of conversation `s`: a WireGuard header, or else its UDP length against the framing. */
function count(s: ConvCounts, isWg: boolean, l: number): void {
  s.n++;
  if (isWg) { s.wg++; return; }
  if (l === 148 || l === 92) s.hs++;
  // Padding stops at the tunnel MTU, so full-size packets need not be a multiple of 16.
  if (l >= 32 && (l % 16 === 0 || l === 148 || l === 92 || l >= 1232)) s.shaped++;
}

/** Where a run of times stands: the last time, whether the times ran in order, were finite, shared the first file interface id. */
interface TimesState { prevT: number; sorted: boolean; finite: boolean; oneIfc: boolean; ifc0: number }

/** Times of packets c0..c1-1 (seconds since `base`, from the chunk `c`) into `t`, carrying on from `st`. */
function timesInto(t: Float64Array, c0: number, c1: number, c: TimeChunk, base: number, st: TimesState): TimesState {
  const { sec, nsec, ifc } = c;
  const ifc0 = st.ifc0;
  let prevT = st.prevT, sorted = st.sorted, finite = st.finite, oneIfc = st.oneIfc;
  for (let j = c0; j < c1; j++) {
    const x = j - c0;
    const tj = (sec[x]! - base) + nsec[x]! * 1e-9;
    t[j] = tj;
    if (tj < prevT) sorted = false;
    // NaN and ±Infinity alike: not a number the sorts may rely on.
    if (tj - tj !== 0) finite = false;
    if (ifc[x] !== ifc0) oneIfc = false;
    prevT = tj;
  }
  return { prevT, sorted, finite, oneIfc, ifc0 };
}

/** A capture's times since `baseSec` again, into `t` (the first pass counted from another second). */
function timesOf(packets: PacketList, baseSec: number, t: Float64Array): { t: Float64Array; sorted: boolean; finite: boolean; oneIfc: boolean } {
  const n = packets.length;
  const c = timeChunk(n);
  let st: TimesState = { prevT: -Infinity, sorted: true, finite: true, oneIfc: true, ifc0: 0 };
  for (let c0 = 0; c0 < n; c0 += TIME_CHUNK) {
    const c1 = Math.min(n, c0 + TIME_CHUNK);
    readTimes(packets, c0, c1, c);
    if (c0 === 0) st.ifc0 = c.ifc[0]!;
    st = timesInto(t, c0, c1, c, baseSec, st);
  }
  return { t, sorted: st.sorted, finite: st.finite, oneIfc: st.oneIfc };
}

/** One capture's records: times, carriers, interfaces, direction (what needs no other capture but its ports). */
export function prepareCapture(packets: PacketList, st: CaptureStats, otherPorts: ReadonlySet<number>): PreparedCapture {
  const { baseSec } = st;
  let n = packets.length;
  // The first pass's findings when they are this list's: taken (its arrays change in place here, and
  // `st` no longer holds what only the pass needed), so a second preparation from `st` makes its own.
  const pass = st.pass !== undefined && st.pass.packets === packets ? st.pass : new Pass(packets);
  st.pass = undefined;
  const cs = pass.conversations();
  const wgConv = wireguardConversations(cs, otherPorts);
  // Per conversation index: WireGuard or not.
  const wgById = new Uint8Array(cs.names.length);
  for (let c = 0; c < cs.names.length; c++) if (wgConv.has(cs.names[c]!)) wgById[c] = 1;
  pass.likeWg(wgById);
  let { olens, bits, ifId } = pass;
  const { fwlog, ifById, local, hasDirInfo } = pass;
  // The pass's times when it counted from the same second (the first packet's is the earliest), else again.
  const times = pass.base0 === baseSec || packets.length === 0 ? pass : timesOf(packets, baseSec, pass.t);
  let t = times.t;
  const sorted = times.sorted;
  let perm: Int32Array | null = null;
  // Multi-interface pcapng files are not in time order (each interface is, though): merge.
  // Firewall-log copies leave the record list here (they are kept aside in `fwlog`).
  if (!sorted || fwlog.length > 0) {
    // Several interfaces: by the pass's stretches when its times are the ones used, else by every packet's interface id.
    const stretches = times === pass && pass.finite && !pass.oneIfc ? pass.stretches : null;
    perm = stretches !== null ? orderByStretches(t, stretches) : timeOrder(t, times.oneIfc && times.finite ? null : fileIfaces(packets, timeChunk(n)), times.finite);
    if (fwlog.length > 0) {
      const drop = new Uint8Array(n);
      for (const j of fwlog) drop[j] = 1;
      perm = perm.filter((j) => drop[j] === 0);
      n = perm.length;
    }
    // The times, lengths and flags follow the records to their new places.
    if (n === t.length) {
      if (ifId instanceof Uint16Array) permuteRecords(perm, t, olens, bits, ifId);
      else permuteInPlace(perm, [t, olens, bits, ifId]);
    }
    else {
      const t2 = new Float64Array(n);
      const olen2 = new Int32Array(n);
      const bits2 = new Uint16Array(n);
      const ids = new Int32Array(n);
      for (let j = 0; j < n; j++) { const x = perm[j]!; t2[j] = t[x]!; olen2[j] = olens[x]!; bits2[j] = bits[x]!; ids[j] = ifId[x]!; }
      t = t2; olens = olen2; bits = bits2; ifId = ids;
    }
  }
  for (const f of ifById) {
    const noLinkLayer = RAW_LINKTYPES.has(f.linktype) || (f.hatype !== undefined && TUNNEL_HATYPES.has(f.hatype));
    if (TUNNEL_NAME.test(f.name) || (f.name === '' && noLinkLayer && f.outer === 0)) f.kind = 'tunnel';
    else if (f.outer > 0) f.kind = 'wan';
    else if (noLinkLayer) f.kind = 'tunnel';
  }
  const kindById = ifById.map((f) => kindCode(f.kind));
  const tunnelCode = kindCode('tunnel');
  // Carrier positions in a typed array of their own size (a bulk capture has hundreds of thousands):
  // the carriers of every interface but the tunnels', as the pass counted them.
  let nOuter = 0;
  for (const f of ifById) if (f.kind !== 'tunnel') nOuter += f.outer;
  const outerIdx = new Int32Array(nOuter);
  let outerBits = 0;
  // Interfaces are listed in the order they first show up in time, as the records run.
  const firstSeen: number[] = [];
  const seen = new Uint8Array(ifById.length);
  for (let i = 0, k = 0; i < n; i++) {
    const id = ifId[i]!;
    if (seen[id] === 0) { seen[id] = 1; firstSeen.push(id); }
    const kc = kindById[id]!;
    // Carriers seen on a tunnel interface (nested tunnels) are inner traffic for this analysis (kind, no outer, no type).
    const b = kc === tunnelCode ? (bits[i]! & 0x180) | tunnelCode : (bits[i]! & ~3) | kc;
    bits[i] = b;
    const o = (b >> 2) & 3;
    if (o !== 0) { outerIdx[k++] = i; outerBits |= 1 << o; }
  }
  if (!hasDirInfo) {
    // Endpoints of record i: a column row's from its numbers (no packet built), else the packet's.
    const ff: FlowFields = { src: '', dst: '', sport: 0, dport: 0, ipLen: 0, tcp: false, len: 0, flags: '', seq: 0, ack: 0, ts: false, tsval: 0, tsecr: 0 };
    const flow = packets.flowFieldsAt?.bind(packets);
    const ends = (i: number): { src?: string; dst?: string } => {
      const j = perm === null ? i : perm[i]!;
      return flow !== undefined && flow(j, ff) ? ff : packets.at(j)!;
    };
    inferLocal(outerIdx, ends, local);
    const out = dirCode('out') << 7, inn = dirCode('in') << 7;
    for (const i of outerIdx) {
      const p = ends(i);
      if (p.src !== undefined && local.has(p.src)) bits[i] = (bits[i]! & ~0x180) | out;
      else if (p.dst !== undefined && local.has(p.dst)) bits[i] = (bits[i]! & ~0x180) | inn;
    }
  }
  return {
    baseSec, length: packets.length, ports: [...st.ports], otherPorts: [...otherPorts],
    t, olen: olens, bits, perm, outerIdx, outerBits,
    ifaces: firstSeen.map((id) => { const f = ifById[id]!; return { key: f.key, name: f.name, kind: f.kind, count: f.count }; }),
    local: [...local], hasDirInfo, fwlog,
  };
}

/**
 * One side of the analysis over a capture's preparation. The preparation's arrays are read, not
 * changed: the side's flags are copied before they change, and B's corrected times are computed where read.
 */
export function sideOf(key: 'A' | 'B', input: CaptureInput, prep: PreparedCapture): Side {
  const n = prep.t.length;
  // Flags change as the analysis resolves directions: on a capture without direction flags or own
  // addresses (resolveDirections) a copy is made here; elsewhere the preparation's are read until a
  // change copies them (ownBits: InnerList.orient, for members without a direction), so that a
  // preparation can be analysed again. Times are shared: B's move onto A's clock through `clk` once
  // the clock is known (tcAt).
  const lend = prep.hasDirInfo || prep.local.length > 0;
  const tm: Times = { t: prep.t, clk: null, olen: prep.olen, bits: lend ? prep.bits : prep.bits.slice(), lentBits: lend, packets: input.packets, perm: prep.perm };
  // The side's arrays sit on the prototype of its own record class: records carry their position only.
  class SideRec extends Rec {}
  Object.defineProperty(SideRec.prototype, 'tm', { value: tm });
  const rec = (i: number): Rec => new SideRec(i);
  const recs = new RecList(rec, null, n);
  const outerList = new RecList(rec, prep.outerIdx, prep.outerIdx.length);
  const outerKinds = new Set<OuterKind>();
  for (let c = 1; c < OUTERS.length; c++) if ((prep.outerBits & (1 << c)) !== 0) outerKinds.add(OUTERS[c]!);
  const pub = new Map<string, { name: string; kind: IfaceKind; count: number }>();
  for (const f of prep.ifaces) pub.set(f.key, { name: f.name, kind: f.kind, count: f.count });
  // A cooked (SLL/SLL2) interface is tcpdump's `any`: it stands for all of them.
  const cooked = (input.interfaces ?? []).some((i) => i.linktype === 276 || i.linktype === 113);
  // Firewall-log interfaces (NFLOG 239, pflog 117) are not on the path.
  // `tcpdump -i any` lists no devices of its own; the host's `ip -o link` names (when given) do.
  const listed = cooked ? (input.links ?? []).filter((n) => n !== 'lo') : (input.interfaces ?? []).filter((i) => i.linktype !== 239 && i.linktype !== 117).map((i) => i.name);
  for (const n of listed) {
    if (n !== '' && !pub.has(n)) pub.set(n, { name: n, kind: TUNNEL_NAME.test(n) ? 'tunnel' : 'lan', count: 0 });
  }
  // The workflow captures every interface (-i any, or dumpcap with several -i): absence of packets
  // means nothing passed. Only a file that lists exactly one interface says the rest was not captured.
  const multiIface = cooked || !(listed.length === 1 && pub.size === 1);
  // Read from the bits (a bulk side has a million carriers and a handful of handshakes).
  const hs: Rec[] = [];
  const ob = prep.outerIdx, bits = tm.bits, ike = outerCode('ike') << RB.outerShift;
  for (let k = 0; k < ob.length; k++) {
    const b = bits[ob[k]!]!, o = b & RB.outerMask, w = (b & RB.wgTypeMask) >> RB.wgShift;
    if (o === ike || (o === RB.wg && w >= 1 && w <= 3)) hs.push(rec(ob[k]!));
  }
  return {
    key, input, tm, rec, recs, ifaces: pub, local: new Set(prep.local), outer: outerList, hs, hasDirInfo: prep.hasDirInfo,
    multiIface, listed, fwlog: prep.fwlog, outerKinds,
  };
}

/**
 * Without direction flags (plain pcap on Ethernet), the host's own carrier address is the one
 * that sends handshake initiations or answers them; failing that, the endpoint shared by all
 * conversations.
 */
function inferLocal(outer: Int32Array, packetAt: (i: number) => { src?: string; dst?: string }, local: Set<string>): void {
  const counts = new Map<string, number>();
  // A sample is enough to see which address every conversation shares.
  for (let k = 0; k < outer.length && k < 20000; k++) {
    const p = packetAt(outer[k]!);
    if (p.src === undefined || p.dst === undefined) continue;
    counts.set(p.src, (counts.get(p.src) ?? 0) + 1);
    counts.set(p.dst, (counts.get(p.dst) ?? 0) + 1);
  }
  if (counts.size === 2) {
    // One conversation: the sender of the first initiation is local only if this host initiated;
    // the caller resolves that with the other capture (see resolveDirections).
    return;
  }
  let best = '';
  let n = 0;
  for (const [a, c] of counts) if (c > n) { best = a; n = c; }
  if (best !== '') local.add(best);
}

/**
 * When neither capture had direction info and each holds a single carrier conversation, the
 * address that appears in both captures is the responder's public address (the initiator is
 * usually behind NAT); each side's local address follows.
 */
export function resolveDirections(a: Side, b: Side): void {
  for (const s of [a, b]) {
    if (s.hasDirInfo || s.local.size > 0) continue;
    const other = s === a ? b : a;
    // Handshakes: the initiator sends type 1 and receives type 2. Which host initiated comes from
    // the other capture's direction flags when it has them, else from the argument order (A initiates).
    const otherGot = other.hs.some((r) => r.dir === 'in' && r.wgType === 1);
    const otherSent = other.hs.some((r) => r.dir === 'out' && r.wgType === 1);
    const initiator = other.hasDirInfo && (otherGot || otherSent) ? otherGot && !otherSent : s === a;
    for (const r of s.outer) {
      if (r.outer !== 'wg' || (r.wgType !== 1 && r.wgType !== 2) || r.p.src === undefined || r.p.dst === undefined) continue;
      s.local.add((r.wgType === 1) === initiator ? r.p.src : r.p.dst);
    }
    if (s.local.size === 0) {
      // IPsec: IKE_SA_INIT requests (responder SPI zero) come from the initiator.
      const zero = (r: Rec): boolean => opensIke(r.p);
      const oGot = other.outer.some((r) => zero(r) && r.dir === 'in'), oSent = other.outer.some((r) => zero(r) && r.dir === 'out');
      const ikeInit = other.hasDirInfo && (oGot || oSent) ? oGot && !oSent : s === a;
      for (const x of ikeLocalAddresses(packetsOf(s.outer), ikeInit)) s.local.add(x);
    }
    if (s.local.size > 0) {
      for (const r of s.outer) {
        if (r.p.src !== undefined && s.local.has(r.p.src)) r.dir = 'out';
        else if (r.p.dst !== undefined && s.local.has(r.p.dst)) r.dir = 'in';
      }
      continue;
    }
    const otherAddrs = new Set<string>();
    for (const r of other.outer) { if (r.p.src) otherAddrs.add(r.p.src); if (r.p.dst) otherAddrs.add(r.p.dst); }
    const mine = new Set<string>();
    for (const r of s.outer) { if (r.p.src) mine.add(r.p.src); if (r.p.dst) mine.add(r.p.dst); }
    const shared = [...mine].filter((x) => otherAddrs.has(x));
    if (shared.length === 1 && mine.size === 2) {
      if (s === b) s.local.add(shared[0]!);
      else for (const x of mine) if (x !== shared[0]) s.local.add(x);
    }
    if (s.local.size === 0) continue;
    for (const r of s.outer) {
      if (r.p.src !== undefined && s.local.has(r.p.src)) r.dir = 'out';
      else if (r.p.dst !== undefined && s.local.has(r.p.dst)) r.dir = 'in';
    }
  }
}

function* packetsOf(list: RecList): Generator<Packet> { for (const r of list) yield r.p; }

/** IP total length; estimated from the printed fields for tcpdump text (which has no IP length). */
export function innerLength(p: Packet, tcp: Packet['tcp'] = p.tcp): number {
  // Each field read once: packets may be views that build the sub-object on every read.
  const ip = p.ip;
  if (ip !== undefined && ip.len > 0) return ip.len;
  const ipHdr = ip?.v === 6 || (p.src !== undefined && p.src.includes(':')) ? 40 : 20;
  if (tcp !== undefined) {
    const t = tcp;
    let o = 0;
    if (t.mss !== undefined) o += 4;
    if (t.sackOk) o += 2;
    if (t.tsval !== undefined) o += 10;
    if (t.wscale !== undefined) o += 3;
    if (t.sack !== undefined && t.sack.length > 0) o += 2 + 8 * t.sack.length;
    o = Math.ceil(o / 4) * 4;
    return ipHdr + 20 + o + t.len;
  }
  const udp = p.udp;
  if (udp !== undefined) return ipHdr + 8 + udp.len;
  return p.len;
}
