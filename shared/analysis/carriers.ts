// Carrier (encrypted) packets: pairing across the two hosts, and inner ↔ carrier association
// on one host.

import type { Rec, RecList, Side, Times } from './prepare.ts';
import { dirAt, outerAt, wgTypeAt, type OuterKind } from './prepare.ts';
import { moduleOfOuter, tunnelModules } from './tunnels/index.ts';
import type { Inner, InnerList } from './inner.ts';

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
function carrierId(r: Rec): number | string | null {
  const p = r.p;
  const mods = tunnelModules();
  for (let m = 0; m < mods.length; m++) {
    const k = mods[m]!.carrierKey(p, r.olen, ord);
    if (k !== null) return k;
  }
  return null;
}

/** A growing list of numbers in a typed array (a bulk session's group holds a million carriers). */
class NumList<T extends Int32Array | Float64Array> {
  n = 0;
  constructor(private a: T, private readonly make: (n: number) => T) {}
  push(v: number): void {
    if (this.n === this.a.length) { const b = this.make(this.n * 2); b.set(this.a); this.a = b; }
    this.a[this.n++] = v;
  }
  /** The values pushed, as one array (no copy). */
  done(): T { return this.a.subarray(0, this.n) as T; }
}
const positions = (): NumList<Int32Array> => new NumList(new Int32Array(16), (n) => new Int32Array(n));
const ordinals = (): NumList<Float64Array> => new NumList(new Float64Array(16), (n) => new Float64Array(n));

/** Senders and receivers of one identifier group: record positions and their ordinals. */
interface Group { s: NumList<Int32Array>; sn: NumList<Float64Array>; d: NumList<Int32Array>; dn: NumList<Float64Array> }

/** Indices of `n` in ascending order (stable); identity when already sorted, the usual case. */
function order(n: ArrayLike<number>): number[] | null {
  for (let i = 1; i < n.length; i++) {
    if (n[i]! < n[i - 1]!) return Array.from({ length: n.length }, (_, k) => k).sort((x, y) => n[x]! - n[y]! || x - y);
  }
  return null;
}

/**
 * Pairs carriers: by their clear-text identifiers when both files have them (a merge of the
 * per-group lists ordered by counter), otherwise by size and order within a time window around
 * the expected arrival (`theta` = provisional B − A).
 */
interface DirLists { in: RecList; out: RecList; dataIn: RecList; dataOut: RecList }
const dirLists = new WeakMap<Side, DirLists>();

/** The side's carriers split by direction (and data only), computed once per side. */
export function carriersOf(side: Side): DirLists {
  let l = dirLists.get(side);
  if (l === undefined) {
    const o = side.outer, tm = side.tm;
    const data = (i: number): boolean => isDataAt(tm, i);
    l = {
      in: o.whereAt((i) => dirAt(tm, i) === 'in'), out: o.whereAt((i) => dirAt(tm, i) === 'out'),
      dataIn: o.whereAt((i) => dirAt(tm, i) === 'in' && data(i)), dataOut: o.whereAt((i) => dirAt(tm, i) === 'out' && data(i)),
    };
    dirLists.set(side, l);
  }
  return l;
}

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
      if (g === undefined) { g = { s: positions(), sn: ordinals(), d: positions(), dn: ordinals() }; groups.set(g0, g); }
      lastId = g0; lastG = g;
      return g;
    };
    for (const r of send) {
      const g0 = carrierId(r);
      if (g0 === null) { sendPlain.push(r.i); continue; }
      const g = groupOf(g0);
      g.s.push(r.i); g.sn.push(ord.n);
    }
    for (const r of recv) {
      const g0 = carrierId(r);
      if (g0 === null) { recvPlain.push(r.i); continue; }
      const g = groupOf(g0);
      g.d.push(r.i); g.dn.push(ord.n);
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
  run(carriersOf(a).out, carriersOf(b).in, true);
  run(carriersOf(b).out, carriersOf(a).in, false);
  return res;
}

/** Transport data that carries something (not a 32-byte keepalive, not a handshake). */
export function isData(r: Rec): boolean { return isDataAt(r.tm, r.i); }

function isDataAt(tm: Times, i: number): boolean {
  const o = outerAt(tm, i);
  if (o === 'esp') return true;
  return o === 'wg' && wgTypeAt(tm, i) === 4 && tm.olen[i] !== 32;
}

function lowerBound(list: RecList, t: Float64Array, at: number): number {
  let lo = 0, hi = list.length;
  while (lo < hi) { const m = (lo + hi) >> 1; if (t[list.index(m)]! < at) lo = m + 1; else hi = m; }
  return lo;
}

/** Whether a carrier (of outer kind `outer`, payload length `olen`) can hold inner packet `x`: its tunnel module's framing. */
function sizeFits(outer: OuterKind | null, olen: number, x: Inner): boolean {
  const m = outer === null ? undefined : moduleOfOuter(outer);
  return m !== undefined && m.innerFits(olen, x.ilen);
}

/**
 * Inner packets leaving on the tunnel interface → the carrier that took each out (first unused
 * data carrier after it whose size fits; GRO/TSO frames larger than a datagram take the next ones).
 */
/** Inner → its carrier, stored on the inner itself (each inner has one role, so no map is needed). */
export interface CarrierOf { get(x: Inner | undefined): Rec | undefined }
const carrierOf: CarrierOf = { get: (x) => x?.car ?? undefined };

export function associateEncap(side: Side, inners: InnerList): CarrierOf {
  return associate(side, carriersOf(side).dataOut, inners, true);
}

/** Inner packets arriving on the tunnel interface → the carrier that brought each (just before it). */
export function associateDecap(side: Side, inners: InnerList): CarrierOf {
  return associate(side, carriersOf(side).dataIn, inners, false);
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
  for (const x of inners) {
    const t = tm.t[x.ri]!;
    const from = after ? t - 1e-6 : t - W;
    const to = after ? t + W : t + 1e-6;
    let pick = -1;
    let loose = -1;
    let steps = 0;
    for (let k = free(lowerBound(carriers, tm.t, from)); k < n && steps < 256; k = free(k + 1), steps++) {
      const c = carriers.index(k);
      if (tm.t[c]! > to) break;
      if (sizeFits(outerAt(tm, c), tm.olen[c]!, x)) { pick = k; break; }
      if (loose < 0) loose = k;
    }
    // Offloaded super-frames (GRO/TSO) have no single carrier of their size.
    if (pick < 0 && x.ilen > 1500 && loose >= 0) pick = loose;
    if (pick < 0) continue;
    next[pick] = pick + 1;
    x.carI = carriers.index(pick);
  }
  return carrierOf;
}
