// Per-capture preparation: time base, interface kinds, which packets are tunnel carriers
// (WireGuard / ESP / IKE) and which are inner traffic, and packet direction.

import type { Packet, PacketList, PacketRows } from '../protocols/packet.ts';
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
  t: Float64Array; tc: Float64Array; olen: Int32Array;
  /** kind (bits 0–1), outer (2–3), WireGuard type (4–6), direction (7–8). */
  bits: Uint16Array;
  /** The capture's packets, file order; `perm[i]` is the file position of record i once records were reordered. */
  packets: PacketList; perm: Int32Array | null;
}

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
export const setDirAt = (tm: Times, i: number, d: 'in' | 'out' | null): void => { tm.bits[i] = (tm.bits[i]! & ~RB.dirMask) | (dirCode(d) << RB.dirShift); };
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
  get tc(): number { return this.tm.tc[this.i]!; }
  /** UDP payload length for carriers, -1 otherwise. */
  get olen(): number { return this.tm.olen[this.i]!; }
  get ifKey(): string { return ifaceKeyOf(this.p); }
  get kind(): IfaceKind { return kindAt(this.tm, this.i); }
  set kind(k: IfaceKind) { const b = this.tm.bits; b[this.i] = (b[this.i]! & ~3) | kindCode(k); }
  get outer(): OuterKind | null { return outerAt(this.tm, this.i); }
  set outer(o: OuterKind | null) { const b = this.tm.bits; b[this.i] = (b[this.i]! & ~12) | (outerCode(o) << 2); }
  /** WireGuard message type (inferred from the size when the decoder gave none), 0 when not WireGuard. */
  get wgType(): number { return wgTypeAt(this.tm, this.i); }
  set wgType(w: number) { const b = this.tm.bits; b[this.i] = (b[this.i]! & ~0x70) | ((w & 7) << 4); }
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

/** One pass over the UDP packets: per conversation, how many look like WireGuard framing. */
export function conversationStats(packets: PacketList): ConvStats {
  const stats: ConvStats['stats'] = new Map();
  const n = packets.length;
  const keys = new Int32Array(n).fill(-1);
  const names: string[] = [];
  const ids = new Map<string, number>();
  // The conversation of the last packet that changed it, by its endpoints (held here: re-reading a view's fields builds them again),
  // and for a column row also by its address ids (`hSrc` -1: the last change was not a column row's).
  let pSrc: string | undefined, pDst: string | undefined, pSport: number | undefined, pDport: number | undefined;
  let hSrc = -1, hDst = -1;
  let prevS: ConvCounts | null = null;
  let prevId = -1;
  let firstSec = Infinity;
  const c = timeChunk(n);
  const rows = packets.readRows !== undefined ? newPacketRows(Math.min(n, TIME_CHUNK)) : null;
  // The conversation of src:sport ↔ dst:dport, from here on the previous one.
  const change = (src: string | undefined, sport: number | undefined, dst: string | undefined, dport: number | undefined): ConvCounts => {
    const k = convKey(src, sport, dst, dport);
    pSrc = src; pDst = dst; pSport = sport; pDport = dport;
    let id = ids.get(k);
    if (id === undefined) { id = names.length; names.push(k); ids.set(k, id); }
    prevId = id;
    let s = stats.get(k);
    if (s === undefined) { s = { n: 0, shaped: 0, hs: 0, wg: 0 }; stats.set(k, s); }
    prevS = s;
    return s;
  };
  // By index: a bulk store's iterator is a generator, slower per packet than at().
  for (let c0 = 0; c0 < n; c0 += TIME_CHUNK) {
    const c1 = Math.min(n, c0 + TIME_CHUNK);
    readTimes(packets, c0, c1, c);
    for (let j = 0; j < c1 - c0; j++) if (c.sec[j]! < firstSec) firstSec = c.sec[j]!;
    if (rows !== null) packets.readRows!(c0, c1, rows);
    const held = rows?.held, wgType = rows?.wgType, l4 = rows?.l4, srcs = rows?.src, dsts = rows?.dst, sports = rows?.sport, dports = rows?.dport;
    for (let i = c0; i < c1; i++) {
      let s: ConvCounts | null = prevS;
      // Whether the datagram has a WireGuard header, else its UDP length.
      let isWg: boolean, l: number;
      const x = i - c0;
      if (rows !== null && held![x] === 1) {
        // A column row (never an outer layer): the same test on its numbers, the endpoints compared by id.
        const w = wgType![x]!;
        if (w === 0 && l4![x] !== 2) continue;
        const si = srcs![x]!, di = dsts![x]!, sport = sports![x]!, dport = dports![x]!;
        if (s === null || hSrc < 0 || !((si === hSrc && di === hDst && sport === pSport && dport === pDport) ||
          (si === hDst && di === hSrc && sport === pDport && dport === pSport))) {
          s = change(rows.addrs[si], sport, rows.addrs[di], dport);
          hSrc = si; hDst = di;
        }
        isWg = w !== 0; l = rows.l4len[x]!;
      } else {
        const p = packets.at(i)!;
        // Each field read once: packets may be views that build the sub-object on every read. Only
        // whether there is a WireGuard header matters here: wgNum (when offered) says so without the counter's text.
        const wg = p.wgNum ?? p.wg, udp = p.udp;
        if (wg === undefined && (udp === undefined || p.tcp !== undefined)) continue;
        if (p.outer !== undefined) continue;
        // Consecutive packets mostly belong to one conversation: reuse its key and counts.
        const src = p.src, dst = p.dst, sport = p.sport, dport = p.dport;
        if (s === null || !((src === pSrc && dst === pDst && sport === pSport && dport === pDport) ||
          (src === pDst && dst === pSrc && sport === pDport && dport === pSport))) {
          s = change(src, sport, dst, dport);
          hSrc = -1; hDst = -1;
        }
        isWg = wg !== undefined; l = udp?.len ?? -1;
      }
      keys[i] = prevId;
      s.n++;
      if (isWg) { s.wg++; continue; }
      if (l === 148 || l === 92) s.hs++;
      // Padding stops at the tunnel MTU, so full-size packets need not be a multiple of 16.
      if (l >= 32 && (l % 16 === 0 || l === 148 || l === 92 || l >= 1232)) s.shaped++;
    }
  }
  return { keys, names, stats, firstSec };
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
 * `order` holds file positions; ties keep file order.
 */
function nearlySorted(order: Int32Array, t: Float64Array): boolean {
  let budget = order.length;
  // The record before position j (the largest so far), held: the test is inline, no closure per record.
  let y = order[0]!, ty = t[y]!;
  for (let j = 1; j < order.length; j++) {
    const x = order[j]!, tx = t[x]!;
    if (!(ty > tx || (ty === tx && y > x))) { y = x; ty = tx; continue; }
    let k = j - 1;
    for (; k >= 0; k--) {
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
 * (each already in order) are merged run by run; anything else gets a full sort.
 */
function timeOrder(t: Float64Array, ifc: Int32Array): Int32Array {
  const n = t.length;
  const order = new Int32Array(n);
  for (let j = 0; j < n; j++) order[j] = j;
  const full = (): Int32Array => mergeOrder(t) ?? order.sort((x, y) => t[x]! - t[y]! || x - y);
  // Per interface: its run number, the last position seen on it, and how many it has (typed: a run may hold millions).
  const runOf = new Map<number, number>();
  const lastAt: number[] = [];
  const counts: number[] = [];
  // Runs of one interface are long: its run number is looked up once per change of interface.
  let lastIfc = 0, lastRun = -1;
  for (let j = 0; j < n; j++) {
    const x = ifc[j]!;
    let k = lastRun;
    if (x !== lastIfc || k < 0) {
      const r = runOf.get(x);
      if (r === undefined) { k = counts.length; runOf.set(x, k); lastAt.push(-1); counts.push(0); } else k = r;
      lastIfc = x; lastRun = k;
    }
    const prev = lastAt[k]!;
    if (prev >= 0 && t[j]! < t[prev]!) return nearlySorted(order, t) ? order : full();
    lastAt[k] = j;
    counts[k]!++;
  }
  const runs = counts.length;
  if (runs > 16) return full();
  // Each run's positions, file order, side by side in one array.
  const start = new Int32Array(runs + 1);
  for (let k = 0; k < runs; k++) start[k + 1] = start[k]! + counts[k]!;
  const lists = new Int32Array(n);
  const fill = start.slice(0, runs);
  for (let j = 0; j < n; j++) { const k = runOf.get(ifc[j]!)!; lists[fill[k]!++] = j; }
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

/** A capture's first pass: its conversations, the WireGuard ports among them, its time base. */
export interface CaptureStats { cs: ConvStats; ports: Set<number>; baseSec: number }

export function captureStats(packets: PacketList): CaptureStats {
  const cs = conversationStats(packets);
  return { cs, ports: wireguardPorts(cs), baseSec: cs.firstSec };
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

/** One capture's records: times, carriers, interfaces, direction (what needs no other capture but its ports). */
export function prepareCapture(packets: PacketList, st: CaptureStats, otherPorts: ReadonlySet<number>): PreparedCapture {
  const { cs, baseSec } = st;
  let n = packets.length;
  const wgConv = wireguardConversations(cs, otherPorts);
  // Per conversation index: WireGuard or not.
  const wgById = new Uint8Array(cs.names.length);
  for (let c = 0; c < cs.names.length; c++) if (wgConv.has(cs.names[c]!)) wgById[c] = 1;
  let t = new Float64Array(n), olens = new Int32Array(n), bits = new Uint16Array(n);
  let perm: Int32Array | null = null;
  let sorted = true;
  const mods = tunnelModules();
  const scratch: CarrierScratch = { outer: null, wgType: 0, olen: -1 };
  const fwlog: number[] = [];
  let prevT = -Infinity;
  let hasDirInfo = false;
  // Interfaces by key, counted in this same pass: each packet's interface as an index (file order),
  // 16 bits until there are more interfaces than that (a file's interface ids are read again only
  // where they are needed, to merge an out-of-order file: fewer fresh pages on every load).
  type IfStat = { key: string; name: string; kind: IfaceKind; count: number; outer: number; linktype: number; hatype: number | undefined };
  const ifById: IfStat[] = [];
  const ifIds = new Map<string, number>();
  let ifId: Uint16Array | Int32Array = new Uint16Array(n);
  // The last two interfaces seen (`tcpdump -i any` alternates between a carrier's and its inner packet's):
  // the name, or for unnamed ones the file's interface id and the SLL2 ifindex, and the index in ifById.
  let keyA = '', idA = -1, idxA: number | undefined = -1, lastA = -1;
  let keyB = '', idB = -1, idxB: number | undefined = -1, lastB = -1;
  // The host's own addresses: the source of what it sends, the destination of what it receives.
  const local = new Set<string>();
  let addedA = '', addedB = '';
  const c = timeChunk(n);
  const rows = packets.readRows !== undefined ? newPacketRows(Math.min(n, TIME_CHUNK)) : null;
  for (let c0 = 0; c0 < n; c0 += TIME_CHUNK) {
    const c1 = Math.min(n, c0 + TIME_CHUNK);
    readTimes(packets, c0, c1, c);
    for (let j = c0; j < c1; j++) {
      const tj = (c.sec[j - c0]! - baseSec) + c.nsec[j - c0]! * 1e-9;
      t[j] = tj;
      if (tj < prevT) sorted = false;
      prevT = tj;
    }
    if (rows !== null) packets.readRows!(c0, c1, rows);
    for (let j = c0; j < c1; j++) {
      const x = j - c0;
      // A column row's direction, interface and addresses come from the chunk's arrays, not its view
      // (which has no outer layer and is no firewall-log copy); the tunnel modules still read the view.
      const held = rows !== null && rows.held[x] === 1;
      const p = packets.at(j)!;
      let outer: OuterKind | null = null;
      let wgType = 0;
      let olen = -1;
      if (held || p.outer === undefined) {
        // The tunnel modules recognise their own carriers (tunnels/*.ts); one scratch record, no object per packet.
        const cj = cs.keys[j]!;
        const likeWg = cj >= 0 && wgById[cj] === 1;
        for (let m = 0; m < mods.length; m++) {
          if (mods[m]!.carrier(p, likeWg, scratch)) { outer = scratch.outer; wgType = scratch.wgType; olen = scratch.olen; break; }
        }
      }
      let dir: 'in' | 'out' | null;
      if (held) { const d = rows.dir[x]!; dir = d === 1 ? 'in' : d === 2 ? 'out' : null; }
      else { const pd = p.dir; dir = pd === 'in' || pd === 'out' ? pd : null; }
      if (dir !== null) hasDirInfo = true;
      olens[j] = olen;
      bits[j] = (outerCode(outer) << 2) | (wgType << 4) | (dirCode(dir) << 7);
      // A firewall-log record (NFLOG, pflog) is a copy of a packet, not a sighting on the path.
      if (!held && p.fwlog !== undefined) { fwlog.push(j); continue; }
      // Consecutive packets mostly share one of two interfaces: skip building its key then.
      const iface = held ? rows.names[rows.iface[x]!]! : p.iface;
      let id: number;
      if (iface !== '') {
        if (lastA >= 0 && iface === keyA) id = lastA;
        else if (lastB >= 0 && iface === keyB) { id = lastB; keyB = keyA; idB = idA; idxB = idxA; lastB = lastA; keyA = iface; idA = -1; idxA = -1; lastA = id; }
        else id = -1;
      } else {
        const fid = c.ifc[x]!;
        let fx: number | undefined;
        if (held) { const v = rows.ifindex[x]!; fx = v >= 0 ? v : undefined; } else fx = p.ifindex;
        if (lastA >= 0 && keyA === '' && fid === idA && fx === idxA) id = lastA;
        else if (lastB >= 0 && keyB === '' && fid === idB && fx === idxB) { id = lastB; keyB = keyA; idB = idA; idxB = idxA; lastB = lastA; keyA = ''; idA = fid; idxA = fx; lastA = id; }
        else id = -1;
      }
      if (id < 0) {
        const k = ifaceKeyOf(p);
        let known = ifIds.get(k);
        if (known === undefined) {
          known = ifById.length; ifIds.set(k, known);
          if (known > 0xffff && ifId instanceof Uint16Array) { const w = new Int32Array(n); w.set(ifId); ifId = w; }
          ifById.push({ key: k, name: ifaceNameOf(p), kind: 'lan', count: 0, outer: 0, linktype: p.linktype, hatype: p.hatype });
        }
        id = known;
        keyB = keyA; idB = idA; idxB = idxA; lastB = lastA;
        keyA = iface; idA = iface !== '' ? -1 : p.ifaceId; idxA = iface !== '' ? -1 : p.ifindex; lastA = id;
      }
      ifId[j] = id;
      const f = ifById[id]!;
      f.count++;
      if (outer !== null) f.outer++;
      if (dir !== null) {
        const a = held ? rows.addrs[dir === 'out' ? rows.src[x]! : rows.dst[x]!] : dir === 'out' ? p.src : p.dst;
        // Set order is first-insertion order, so skipping a repeat changes nothing.
        if (a !== undefined && a !== addedA) {
          if (a !== addedB) local.add(a);
          addedB = addedA; addedA = a;
        }
      }
    }
  }
  // Multi-interface pcapng files are not in time order (each interface is, though): merge.
  // Firewall-log copies leave the record list here (they are kept aside in `fwlog`).
  if (!sorted || fwlog.length > 0) {
    perm = timeOrder(t, fileIfaces(packets, c));
    if (fwlog.length > 0) {
      const drop = new Uint8Array(n);
      for (const j of fwlog) drop[j] = 1;
      perm = perm.filter((j) => drop[j] === 0);
      n = perm.length;
    }
    // The times, lengths and flags follow the records to their new places.
    if (n === t.length) permuteInPlace(perm, [t, olens, bits, ifId]);
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
  let nOuter = 0;
  let outerBits = 0;
  // Interfaces are listed in the order they first show up in time, as the records run.
  const firstSeen: number[] = [];
  const seen = new Uint8Array(ifById.length);
  for (let i = 0; i < n; i++) {
    const id = ifId[i]!;
    if (seen[id] === 0) { seen[id] = 1; firstSeen.push(id); }
    const kc = kindById[id]!;
    // Carriers seen on a tunnel interface (nested tunnels) are inner traffic for this analysis (kind, no outer, no type).
    if (kc === tunnelCode) bits[i] = (bits[i]! & 0x180) | tunnelCode;
    else bits[i] = (bits[i]! & ~3) | kc;
    const o = (bits[i]! >> 2) & 3;
    if (o !== 0) { nOuter++; outerBits |= 1 << o; }
  }
  // Carrier positions in a typed array of their own size (a bulk capture has hundreds of thousands).
  const outerIdx = new Int32Array(nOuter);
  for (let i = 0, k = 0; k < nOuter; i++) if ((bits[i]! & 12) !== 0) outerIdx[k++] = i;
  const packetAt = (i: number): Packet => packets.at(perm === null ? i : perm[i]!)!;
  if (!hasDirInfo) {
    inferLocal(outerIdx, packetAt, local);
    const out = dirCode('out') << 7, inn = dirCode('in') << 7;
    for (const i of outerIdx) {
      const p = packetAt(i);
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
 * changed: the side's flags and B's corrected times are copies of its own.
 */
export function sideOf(key: 'A' | 'B', input: CaptureInput, prep: PreparedCapture): Side {
  const n = prep.t.length;
  // Flags change as the analysis resolves directions: a copy, so a preparation can be analysed again.
  const tm: Times = { t: prep.t, tc: prep.t, olen: prep.olen, bits: prep.bits.slice(), packets: input.packets, perm: prep.perm };
  // Only B's records move onto A's clock; A's corrected time is its own.
  if (key === 'B') tm.tc = prep.t.slice();
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
  const hs = [...outerList.whereAt((i) => {
    const o = outerAt(tm, i), w = wgTypeAt(tm, i);
    return (o === 'wg' && w >= 1 && w <= 3) || o === 'ike';
  })];
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
function inferLocal(outer: Int32Array, packetAt: (i: number) => Packet, local: Set<string>): void {
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
