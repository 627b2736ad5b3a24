// Carrier (encrypted) packets: pairing across the two hosts, and inner ↔ carrier association
// on one host.

import type { Rec, Side, Times } from './prepare.ts';
import { dirAt, outerAt, RecList, wgTypeAt, type OuterKind } from './prepare.ts';
import { moduleOfOuter, tunnelModules } from './tunnels/index.ts';
import type { Inner, InnerList } from './inner.ts';
import type { TunnelModule } from './tunnels/types.ts';

/** Index → partner record on the other host (-1 none), as a typed array: no per-pair objects. */
export class PairMap {
  readonly to: Int32Array;
  constructor(n: number, private readonly other: Side) { this.to = new Int32Array(n).fill(-1); }
  get(i: number): Rec | undefined { const j = this.to[i]!; return j < 0 ? undefined : this.other.rec(j); }
}

export interface CarrierPairs {
  aToB: PairMap;
  bToA: PairMap;
  keyed: number;
  ordered: number;
}

// Scratch result of carrierId: the number ordered within the group.
const ord = { n: 0 };

/**
 * Identity of a carrier datagram that survives NAT, from its tunnel module: its group (a number
 * for transport data, the bulk of the traffic) with its ordinal left in ord.n.
 */
function carrierId(tm: Times, i: number): number | string | null {
  // The packet as Rec.p reads it, without a record object per carrier.
  const p = tm.packets.at(tm.perm === null ? i : tm.perm[i]!)!;
  const mods = tunnelModules();
  for (let m = 0; m < mods.length; m++) {
    const k = mods[m]!.carrierKey(p, tm.olen[i]!, ord);
    if (k !== null) return k;
  }
  return null;
}

/**
 * A growing list of numbers in a typed array (a bulk session's group holds a million carriers),
 * never grown past `max`, the most it can hold (the carriers of its direction).
 */
class NumList<T extends Int32Array | Float64Array> {
  n = 0;
  constructor(private a: T, private readonly make: (n: number) => T, private readonly max: number) {}
  push(v: number): void {
    if (this.n === this.a.length) { const b = this.make(Math.max(this.n + 1, Math.min(this.n * 2, this.max))); b.set(this.a); this.a = b; }
    this.a[this.n++] = v;
  }
  /** The values pushed, as one array (no copy). */
  done(): T { return this.a.subarray(0, this.n) as T; }
}
const positions = (max: number): NumList<Int32Array> => new NumList(new Int32Array(16), (n) => new Int32Array(n), max);
const ordinals = (max: number): NumList<Float64Array> => new NumList(new Float64Array(16), (n) => new Float64Array(n), max);

/** Senders and receivers of one identifier group: record positions and their ordinals. */
interface Group { s: NumList<Int32Array>; sn: NumList<Float64Array>; d: NumList<Int32Array>; dn: NumList<Float64Array> }

/** Indices of `n` in ascending order (stable); identity when already sorted, the usual case. */
function order(n: ArrayLike<number>): number[] | null {
  for (let i = 1; i < n.length; i++) {
    if (n[i]! < n[i - 1]!) return Array.from({ length: n.length }, (_, k) => k).sort((x, y) => n[x]! - n[y]! || x - y);
  }
  return null;
}

const IN = 1, OUT = 2, DATA = 4;
/** Per side, a byte per carrier (outer list order): its direction, and whether it is data. */
const carrierCodes = new WeakMap<Side, Uint8Array>();

/**
 * The side's carriers going one way (data only when `data`), sized exactly: two passes over a byte
 * per carrier. The lists are not kept (each is walked once per analysis, and a bulk side's lists
 * would stay alive as long as the side); the bytes are (a byte per carrier, computed once).
 */
function carriersWhere(side: Side, dir: 'in' | 'out', data: boolean): RecList {
  const o = side.outer, tm = side.tm;
  let code = carrierCodes.get(side);
  if (code === undefined) {
    code = new Uint8Array(o.length);
    for (let k = 0; k < o.length; k++) {
      const i = o.index(k), d = dirAt(tm, i);
      if (d !== null) code[k] = (d === 'in' ? IN : OUT) | (isDataAt(tm, i) ? DATA : 0);
    }
    carrierCodes.set(side, code);
  }
  const want = (dir === 'in' ? IN : OUT) | (data ? DATA : 0);
  let n = 0;
  for (let k = 0; k < code.length; k++) if ((code[k]! & want) === want) n++;
  const idx = new Int32Array(n);
  for (let k = 0, m = 0; m < n; k++) if ((code[k]! & want) === want) idx[m++] = o.index(k);
  return new RecList((i) => side.rec(i), idx, n);
}

/**
 * Pairs carriers: by their clear-text identifiers when both files have them (a merge of the
 * per-group lists ordered by counter), otherwise by size and order within a time window around
 * the expected arrival (`theta` = provisional B − A).
 */
export function pairCarriers(a: Side, b: Side, theta: number, tolEarly: number, window: number): CarrierPairs {
  const res: CarrierPairs = { aToB: new PairMap(a.recs.length, b), bToA: new PairMap(b.recs.length, a), keyed: 0, ordered: 0 };
  // Positions: s on the sending side, r on the receiving side.
  const link = (s: number, r: number, sendIsA: boolean): void => {
    if (sendIsA) { res.aToB.to[s] = r; res.bToA.to[r] = s; } else { res.bToA.to[s] = r; res.aToB.to[r] = s; }
  };
  const run = (send: RecList, recv: RecList, sendIsA: boolean): void => {
    const sT = (sendIsA ? a : b).tm, rT = (sendIsA ? b : a).tm;
    const groups = new Map<number | string, Group>();
    const sendPlain: number[] = [];
    const recvPlain: number[] = [];
    // Transport data of one session shares its group: remember the last one instead of a map lookup each time.
    let lastId: number | string | null = null;
    let lastG: Group | undefined;
    const groupOf = (g0: number | string): Group => {
      if (g0 === lastId && lastG !== undefined) return lastG;
      let g = groups.get(g0);
      if (g === undefined) { g = { s: positions(send.length), sn: ordinals(send.length), d: positions(recv.length), dn: ordinals(recv.length) }; groups.set(g0, g); }
      lastId = g0; lastG = g;
      return g;
    };
    for (let k = 0; k < send.length; k++) {
      const i = send.index(k);
      const g0 = carrierId(sT, i);
      if (g0 === null) { sendPlain.push(i); continue; }
      const g = groupOf(g0);
      g.s.push(i); g.sn.push(ord.n);
    }
    for (let k = 0; k < recv.length; k++) {
      const i = recv.index(k);
      const g0 = carrierId(rT, i);
      if (g0 === null) { recvPlain.push(i); continue; }
      const g = groupOf(g0);
      g.d.push(i); g.dn.push(ord.n);
    }
    let spill = false;
    for (const lists of groups.values()) {
      const g = { s: lists.s.done(), sn: lists.sn.done(), d: lists.d.done(), dn: lists.dn.done() };
      // Identifiers on one side only (one file decoded, the other tcpdump text): match by size and order.
      if (g.d.length === 0) { for (const r of g.s) sendPlain.push(r); spill = true; continue; }
      if (g.s.length === 0) { for (const r of g.d) recvPlain.push(r); spill = true; continue; }
      const os = order(g.sn), od = order(g.dn);
      const sAt = (k: number): number => (os === null ? k : os[k]!);
      const dAt = (k: number): number => (od === null ? k : od[k]!);
      let j = 0;
      for (let k = 0; k < g.s.length; k++) {
        const si = sAt(k);
        const n = g.sn[si]!;
        while (j < g.d.length && g.dn[dAt(j)]! < n) j++;
        if (j >= g.d.length) break;
        if (g.dn[dAt(j)] !== n) continue;
        // Duplicates of one identifier (retransmitted handshakes) pair with the first sighting only.
        if (k > 0 && g.sn[sAt(k - 1)] === n) continue;
        link(g.s[si]!, g.d[dAt(j)]!, sendIsA);
        res.keyed++;
      }
    }
    if (sendPlain.length === 0 || recvPlain.length === 0) return;
    if (spill) { sendPlain.sort((x, y) => sT.t[x]! - sT.t[y]! || x - y); recvPlain.sort((x, y) => rT.t[x]! - rT.t[y]! || x - y); }
    // Expected arrival on the receiver's clock: send time ± theta.
    const shift = sendIsA ? theta : -theta;
    const used = new Uint8Array(recvPlain.length);
    let j = 0;
    for (const s of sendPlain) {
      const te = sT.t[s]! + shift;
      while (j < recvPlain.length && (rT.t[recvPlain[j]!]! < te - tolEarly || used[j] === 1)) j++;
      for (let k = j, n = 0; k < recvPlain.length && n < 512; k++, n++) {
        const r = recvPlain[k]!;
        if (rT.t[r]! > te + window) break;
        if (used[k] === 1 || rT.olen[r] !== sT.olen[s] || wgTypeAt(rT, r) !== wgTypeAt(sT, s)) continue;
        used[k] = 1;
        link(s, r, sendIsA);
        res.ordered++;
        break;
      }
    }
  };
  run(carriersWhere(a, 'out', false), carriersWhere(b, 'in', false), true);
  run(carriersWhere(b, 'out', false), carriersWhere(a, 'in', false), false);
  return res;
}

/** Transport data that carries something (not a 32-byte keepalive, not a handshake). */
export function isData(r: Rec): boolean { return isDataAt(r.tm, r.i); }

function isDataAt(tm: Times, i: number): boolean {
  const o = outerAt(tm, i);
  if (o === 'esp') return true;
  return o === 'wg' && wgTypeAt(tm, i) === 4 && tm.olen[i] !== 32;
}

/**
 * First member of `list` (time order) at or after `at`, searching from member `lo` on (every member
 * before `lo` is earlier). Gallops first: in a time-ordered walk the answer is a few members away.
 */
function lowerBound(list: RecList, t: Float64Array, at: number, lo = 0): number {
  const n = list.length;
  let hi = lo, step = 1;
  while (hi < n && t[list.index(hi)]! < at) { lo = hi + 1; hi += step; step *= 2; }
  if (hi > n) hi = n;
  while (lo < hi) { const m = (lo + hi) >> 1; if (t[list.index(m)]! < at) lo = m + 1; else hi = m; }
  return lo;
}

/** Whether a carrier (of outer kind `outer`, payload length `olen`) can hold an inner packet of IP length `ilen`: its tunnel module's framing. */
function sizeFits(outer: OuterKind | null, olen: number, ilen: number): boolean {
  // A carrier list is nearly always of one kind: its module is looked up once (again while none is
  // registered for it, as moduleOfOuter itself remembers only modules found).
  if (outer !== fitsOuter || fitsModule === undefined) { fitsOuter = outer; fitsModule = outer === null ? undefined : moduleOfOuter(outer); }
  return fitsModule !== undefined && fitsModule.innerFits(olen, ilen);
}
let fitsOuter: OuterKind | null = null;
let fitsModule: TunnelModule | undefined;

/**
 * Inner packets leaving on the tunnel interface → the carrier that took each out (first unused
 * data carrier after it whose size fits; GRO/TSO frames larger than a datagram take the next ones).
 */
/** Inner → its carrier, stored on the inner itself (each inner has one role, so no map is needed). */
export interface CarrierOf { get(x: Inner | undefined): Rec | undefined }
const carrierOf: CarrierOf = { get: (x) => x?.car ?? undefined };

export function associateEncap(side: Side, inners: InnerList): CarrierOf {
  return associate(side, carriersWhere(side, 'out', true), inners, true);
}

/** Inner packets arriving on the tunnel interface → the carrier that brought each (just before it). */
export function associateDecap(side: Side, inners: InnerList): CarrierOf {
  return associate(side, carriersWhere(side, 'in', true), inners, false);
}

function associate(side: Side, carriers: RecList, inners: InnerList, after: boolean): CarrierOf {
  const tm = side.tm;
  const n = carriers.length;
  if (n === 0) return carrierOf;
  // next[k]: the first unused carrier at or after k (path-compressed), so used ones cost nothing.
  const next = new Int32Array(n + 1);
  for (let k = 0; k <= n; k++) next[k] = k;
  const free = (k: number): number => {
    let r = k;
    while (next[r] !== r) r = next[r]!;
    while (next[k] !== r) { const x = next[k]!; next[k] = r; k = x; }
    return r;
  };
  const W = 0.25;
  // A carrier is always longer than what it holds (TunnelModule.innerFits): an inner at least as long
  // as the longest carrier fits none, and needs no search for one (offloaded super-frames, mostly).
  let maxOlen = -1;
  for (let k = 0; k < n; k++) { const o = tm.olen[carriers.index(k)]!; if (o > maxOlen) maxOlen = o; }
  // Read from the flow's columns: an Inner object per member would cost more than the search.
  const fc = inners.fc;
  // Inners come in time order, so each search resumes where the last one ended (restarting from
  // the first carrier should a time ever go backwards).
  let lb = 0, lastFrom = -Infinity;
  for (let j = 0; j < inners.length; j++) {
    const xk = inners.pos(j);
    const ilen = fc.ilen[xk]!;
    const t = tm.t[fc.ri[xk]!]!;
    const from = after ? t - 1e-6 : t - W;
    const to = after ? t + W : t + 1e-6;
    lb = lowerBound(carriers, tm.t, from, from >= lastFrom ? lb : 0);
    lastFrom = from;
    let pick = -1;
    let loose = -1;
    let steps = 0;
    if (ilen >= maxOlen) {
      // What the search below would find: no fit, and the first free carrier in the window as the loose one.
      if (ilen <= 1500) continue;
      const k = free(lb);
      if (k < n && tm.t[carriers.index(k)]! <= to) loose = k;
    } else {
      for (let k = free(lb); k < n && steps < 256; k = free(k + 1), steps++) {
        const c = carriers.index(k);
        if (tm.t[c]! > to) break;
        if (sizeFits(outerAt(tm, c), tm.olen[c]!, ilen)) { pick = k; break; }
        if (loose < 0) loose = k;
      }
    }
    // Offloaded super-frames (GRO/TSO) have no single carrier of their size.
    if (pick < 0 && ilen > 1500 && loose >= 0) pick = loose;
    if (pick < 0) continue;
    next[pick] = pick + 1;
    fc.car[xk] = carriers.index(pick);
  }
  return carrierOf;
}
