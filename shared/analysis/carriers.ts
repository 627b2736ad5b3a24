// Carrier (encrypted) packets: pairing across the two hosts, and inner ↔ carrier association
// on one host.

import type { Rec, Side, Times } from './prepare.ts';
import { outerAt, RECORD_BITS, RecList, wgTypeAt, type OuterKind } from './prepare.ts';
import { moduleOfOuter, tunnelModules } from './tunnels/index.ts';
import type { Inner, InnerList } from './inner.ts';
import type { TunnelModule } from './tunnels/types.ts';
import type { TunnelIds } from '../protocols/packet.ts';

/**
 * Carrier → partner record on the other host, as a typed array by position in the side's carrier
 * list (`outer`): no per-pair objects, and no slot for the inner records, which never pair.
 */
export class PairMap {
  /** Partner record position (other side) of carrier k (position in `self.outer`), -1 none. */
  readonly to: Int32Array;
  constructor(private readonly self: Side, private readonly other: Side) { this.to = new Int32Array(self.outer.length).fill(-1); }
  /** The partner of record `i` of this side (undefined when it has none or is no carrier). */
  get(i: number): Rec | undefined {
    const k = carrierPos(this.self.outer, i);
    const j = k < 0 ? -1 : this.to[k]!;
    return j < 0 ? undefined : this.other.rec(j);
  }
}

/** Position of record `i` in the carrier list `o` (record positions ascending), -1 when not in it. */
function carrierPos(o: RecList, i: number): number {
  const idx = o.idx;
  if (idx === null) return i >= 0 && i < o.length ? i : -1;
  let lo = 0, hi = o.length;
  while (lo < hi) { const m = (lo + hi) >> 1; if (idx[m]! < i) lo = m + 1; else hi = m; }
  return lo < o.length && idx[lo] === i ? lo : -1;
}

export interface CarrierPairs {
  aToB: PairMap;
  bToA: PairMap;
  keyed: number;
  ordered: number;
}

// Scratch result of carrierId: the number ordered within the group.
const ord = { n: 0 };
// Scratch tunnel numbers of one carrier (PacketList.tunnelIdsAt).
const idScratch: TunnelIds = { wgType: 0, wgSender: -1, wgReceiver: -1, wgCounter: -1, espSpi: -1, espSeq: -1 };
/** Whether carrierId reads the numbers (tests turn it off to compare with the packet path). */
let idsRead = true;
/** Test hook: carrier identities from packets only (`false`) or from a list's numbers where offered (`true`, the default). */
export function carrierIdsFromNumbers(on: boolean): void { idsRead = on; }

/**
 * Identity of a carrier datagram that survives NAT, from its tunnel module: its group (a number
 * for transport data, the bulk of the traffic) with its ordinal left in ord.n.
 */
function carrierId(tm: Times, i: number, mods: readonly TunnelModule[]): number | string | null {
  const pi = tm.perm === null ? i : tm.perm[i]!;
  // From the list's numbers when it offers them and every module answers from them: no packet built.
  if (idsRead && tm.packets.tunnelIdsAt !== undefined && tm.packets.tunnelIdsAt(pi, idScratch)) {
    let m = 0;
    for (; m < mods.length; m++) {
      const f = mods[m]!.carrierKeyIds;
      if (f === undefined) break;
      const k = f(idScratch, tm.olen[i]!, ord);
      if (k === undefined) break;
      if (k !== null) return k;
    }
    if (m === mods.length) return null;
  }
  // The packet as Rec.p reads it, without a record object per carrier.
  const p = tm.packets.at(pi)!;
  for (let m = 0; m < mods.length; m++) {
    const k = mods[m]!.carrierKey(p, tm.olen[i]!, ord);
    if (k !== null) return k;
  }
  return null;
}

/** Ordinals: 32 bits each while they fit (counters and sequence numbers mostly do), else doubles. */
type Ordinals = Uint32Array | Float64Array;

/** One identifier group's carriers going one way: carrier-list positions and ordinals, list order. */
interface Members { pos: Int32Array; ordv: Ordinals }

/**
 * What the tagging pass gives for one list: each member's ordinal, and its group as g + 1 (0: none),
 * a byte each while there are fewer than 255 groups. `gid` stays null while every member is in
 * group `only`, the usual case for a bulk session.
 */
interface Tags { on: Ordinals; gid: Uint8Array | Int32Array | null; only: number }

/**
 * Each group's members of list `ks` (carrier-list positions), tagged as `t` says; `count[g]`: how
 * many are in group g. The largest group keeps `ks` and `t.on` (moved together in place, its order
 * kept), the others get arrays of their own: a session's million carriers beside a few handshakes
 * cost no copy.
 */
function grouped(ks: Int32Array, t: Tags, count: readonly number[]): Members[] {
  const G = count.length, n = ks.length;
  const { gid, only } = t;
  let on = t.on;
  if (G === 1 && count[0] === n) return [{ pos: ks, ordv: on }];
  let big = 0;
  for (let g = 1; g < G; g++) if (count[g]! > count[big]!) big = g;
  const out: Members[] = count.map((c, g) => (g === big ? { pos: ks, ordv: on } : { pos: new Int32Array(c), ordv: on instanceof Uint32Array ? new Uint32Array(c) : new Float64Array(c) }));
  const fill = new Int32Array(G);
  let w = 0;
  for (let m = 0; m < n; m++) {
    const g = gid === null ? only : gid[m]! - 1;
    if (g < 0) continue;
    // The largest group's members only move down (w ≤ m): what they overwrite was read already.
    if (g === big) { ks[w] = ks[m]!; on[w++] = on[m]!; continue; }
    const x = fill[g]!++, o = out[g]!;
    o.pos[x] = ks[m]!; o.ordv[x] = on[m]!;
  }
  on = on.subarray(0, w);
  out[big] = { pos: ks.subarray(0, w), ordv: on };
  return out;
}

/**
 * Links one group's carriers: sender members `sp` (carrier-list positions, ordinals `sn`) with the
 * receiver's `dp`/`dn` of equal ordinal, merged in ordinal order. `sTo`/`rTo`: each side's partner
 * record by carrier-list position; `sIdx`/`rIdx`: carrier-list position → record position (null:
 * the same). Returns the pairs made. (A function of its own, on arrays only: a bulk session's
 * million carriers go through this loop.)
 */
function mergeKeyed(sp: Int32Array, sn: Ordinals, dp: Int32Array, dn: Ordinals, sTo: Int32Array, rTo: Int32Array, sIdx: Int32Array | null, rIdx: Int32Array | null): number {
  const os = order(sn), od = order(dn);
  let j = 0, made = 0;
  for (let k = 0; k < sp.length; k++) {
    const si = os === null ? k : os[k]!;
    const n = sn[si]!;
    while (j < dp.length && dn[od === null ? j : od[j]!]! < n) j++;
    if (j >= dp.length) break;
    const dj = od === null ? j : od[j]!;
    if (dn[dj] !== n) continue;
    // Duplicates of one identifier (retransmitted handshakes) pair with the first sighting only.
    if (k > 0 && sn[os === null ? k - 1 : os[k - 1]!] === n) continue;
    const s = sp[si]!, r = dp[dj]!;
    sTo[s] = rIdx === null ? r : rIdx[r]!;
    rTo[r] = sIdx === null ? s : sIdx[s]!;
    made++;
  }
  return made;
}

/** Indices of `n` in ascending order (stable); identity when already sorted, the usual case. */
function order(n: Ordinals): Int32Array | null {
  for (let i = 1; i < n.length; i++) {
    if (n[i]! < n[i - 1]!) {
      const o = new Int32Array(n.length);
      for (let k = 0; k < o.length; k++) o[k] = k;
      // A total order (ties by index): the same result whatever the sort's stability.
      return o.sort((x, y) => n[x]! - n[y]! || x - y);
    }
  }
  return null;
}

const IN = 1, OUT = 2, DATA = 4;
/**
 * Per side, a byte per carrier (outer list order): its direction, and whether it is data; and how
 * many carriers have each byte value (a list's size without a counting pass).
 */
const carrierCodes = new WeakMap<Side, { code: Uint8Array; count: Int32Array }>();

/** codesOf's pass (a function of its own: see associate's): the bytes of carriers at record positions `oi` (null: 0..). */
function fillCodes(code: Uint8Array, count: Int32Array, bits: Uint16Array, olen: Int32Array, oi: Int32Array | null, L: typeof RECORD_BITS): void {
  const wgData = L.wg | (4 << L.wgShift), wgMask = L.outerMask | L.wgTypeMask, outerMask = L.outerMask, esp = L.esp, dirMask = L.dirMask, dIn = L.dIn;
  for (let k = 0; k < code.length; k++) {
    const i = oi === null ? k : oi[k]!, b = bits[i]!, d = b & dirMask;
    if (d === 0) { count[0]!++; continue; }
    // isDataAt: ESP, or WireGuard transport data that is not a keepalive.
    const data = (b & outerMask) === esp || ((b & wgMask) === wgData && olen[i] !== 32);
    const x = (d === dIn ? IN : OUT) | (data ? DATA : 0);
    code[k] = x;
    count[x]!++;
  }
}

/** The side's carrier bytes (see carrierCodes), computed on first use from the packed bits (no call or string per carrier). */
function codesOf(side: Side): { code: Uint8Array; count: Int32Array } {
  let c = carrierCodes.get(side);
  if (c !== undefined) return c;
  const o = side.outer, tm = side.tm;
  const code = new Uint8Array(o.length), count = new Int32Array(8);
  fillCodes(code, count, tm.bits, tm.olen, o.idx, RECORD_BITS);
  c = { code, count };
  carrierCodes.set(side, c);
  return c;
}

/**
 * The side's carriers going one way (data only when `data`), sized exactly: two passes over a byte
 * per carrier. The lists are not kept (each is walked once per analysis, and a bulk side's lists
 * would stay alive as long as the side); the bytes are (a byte per carrier, computed once).
 */
function carriersWhere(side: Side, dir: 'in' | 'out', data: boolean, room?: AssocRoom): Int32Array {
  const oi = side.outer.idx;
  const idx = carrierKs(side, dir, data, room !== undefined ? (n) => room.list(n) : undefined);
  // Carrier-list positions → record positions, in place.
  if (oi !== null) for (let m = 0; m < idx.length; m++) idx[m] = oi[idx[m]!]!;
  return idx;
}

/** How many of the side's carriers go `dir` (data only when `data`): carrierKs's length. */
function carrierCount(side: Side, dir: 'in' | 'out', data: boolean): number {
  const { count } = codesOf(side);
  const want = (dir === 'in' ? IN : OUT) | (data ? DATA : 0);
  let n = 0;
  for (let x = 0; x < count.length; x++) if ((x & want) === want) n += count[x]!;
  return n;
}

/** carriersWhere as positions in the side's carrier list (`outer`), ascending, in an array from `make` (fresh by default). */
function carrierKs(side: Side, dir: 'in' | 'out', data: boolean, make = (n: number): Int32Array => new Int32Array(n)): Int32Array {
  const { code } = codesOf(side);
  const want = (dir === 'in' ? IN : OUT) | (data ? DATA : 0);
  const n = carrierCount(side, dir, data);
  const idx = make(n);
  fillWhere(code, want, idx);
  return idx;
}

/** Positions k of the bytes with every bit of `want` set, into `idx` (sized to their count). */
function fillWhere(code: Uint8Array, want: number, idx: Int32Array): void {
  const n = idx.length;
  for (let k = 0, m = 0; m < n; k++) if ((code[k]! & want) === want) idx[m++] = k;
}

/**
 * Pairs carriers: by their clear-text identifiers when both files have them (a merge of the
 * per-group lists ordered by counter), otherwise by size and order within a time window around
 * the expected arrival (`theta` = provisional B − A).
 */
export function pairCarriers(a: Side, b: Side, theta: number, tolEarly: number, window: number, room?: AssocRoom): CarrierPairs {
  const res: CarrierPairs = { aToB: new PairMap(a, b), bToA: new PairMap(b, a), keyed: 0, ordered: 0 };
  // Carrier-list positions: s on the sending side, r on the receiving side.
  const run = (send: Int32Array, recv: Int32Array, sendIsA: boolean): void => {
    const sSide = sendIsA ? a : b, rSide = sendIsA ? b : a;
    const sO = sSide.outer, rO = rSide.outer, sT = sSide.tm, rT = rSide.tm;
    const sTo = (sendIsA ? res.aToB : res.bToA).to, rTo = (sendIsA ? res.bToA : res.aToB).to;
    const link = (s: number, r: number): void => { sTo[s] = rO.index(r); rTo[r] = sO.index(s); };
    // Identifier → group number, in order of first sighting (senders first); members per group each way.
    const ids = new Map<number | string, number>();
    const nS: number[] = [], nR: number[] = [];
    const sendPlain: number[] = [];
    const recvPlain: number[] = [];
    // Transport data of one session shares its group: remember the last one instead of a map lookup each time.
    let lastId: number | string | null = null;
    let lastG = -1;
    // One pass per list: each carrier's ordinal (and group, once there are two) into arrays sized to
    // the list, no growth by doubling; a million carriers of one session need 4 bytes each.
    const mods = tunnelModules();
    const tag = (ks: Int32Array, o: RecList, tm: Times, count: number[], plain: number[]): Tags => {
      const n = ks.length;
      // Ordinals in 32 bits until one does not fit, then in doubles from there on (each array typed
      // alone, so that the stores below stay of one kind).
      const o32: Uint32Array = room !== undefined ? room.u32(n) : new Uint32Array(n);
      let o64: Float64Array | null = null;
      let gid: Uint8Array | Int32Array | null = null;
      let only = -1;
      const oi = o.idx;
      for (let m = 0; m < n; m++) {
        const k = ks[m]!;
        const g0 = carrierId(tm, oi === null ? k : oi[k]!, mods);
        let g = -1;
        if (g0 === null) plain.push(k);
        else {
          if (g0 !== lastId || lastG < 0) {
            let x = ids.get(g0);
            if (x === undefined) { x = nS.length; ids.set(g0, x); nS.push(0); nR.push(0); }
            lastId = g0; lastG = x;
          }
          g = lastG;
          const v = ord.n;
          if (o64 !== null) o64[m] = v;
          else if ((v >>> 0) === v) o32[m] = v;
          else { o64 = Float64Array.from(o32); o64[m] = v; }
          count[g]!++;
        }
        if (m === 0) only = g;
        else if (gid === null && g !== only) gid = (Math.max(only, g) < 254 ? new Uint8Array(n) : new Int32Array(n)).fill(only + 1, 0, m);
        if (gid === null) continue;
        if (g + 1 > 255 && gid instanceof Uint8Array) gid = Int32Array.from(gid);
        gid[m] = g + 1;
      }
      return { on: o64 ?? o32, gid, only };
    };
    const ts = tag(send, sO, sT, nS, sendPlain);
    const tr = tag(recv, rO, rT, nR, recvPlain);
    // Grouped once both lists are tagged (a group first seen on the receiving side has no senders).
    const gs = grouped(send, ts, nS);
    const gr = grouped(recv, tr, nR);
    let spill = false;
    for (let g = 0; g < nS.length; g++) {
      const { pos: sp, ordv: sn } = gs[g]!, { pos: dp, ordv: dn } = gr[g]!;
      // Identifiers on one side only (one file decoded, the other tcpdump text): match by size and order.
      if (dp.length === 0) { for (const k of sp) sendPlain.push(k); spill = true; continue; }
      if (sp.length === 0) { for (const k of dp) recvPlain.push(k); spill = true; continue; }
      res.keyed += mergeKeyed(sp, sn, dp, dn, sTo, rTo, sO.idx, rO.idx);
    }
    if (sendPlain.length === 0 || recvPlain.length === 0) return;
    // Carrier-list positions order like record positions: the ties below break as by record.
    const sI = (k: number): number => sO.index(k), rI = (k: number): number => rO.index(k);
    if (spill) { sendPlain.sort((x, y) => sT.t[sI(x)]! - sT.t[sI(y)]! || x - y); recvPlain.sort((x, y) => rT.t[rI(x)]! - rT.t[rI(y)]! || x - y); }
    // Expected arrival on the receiver's clock: send time ± theta.
    const shift = sendIsA ? theta : -theta;
    const used = new Uint8Array(recvPlain.length);
    let j = 0;
    for (const sk of sendPlain) {
      const s = sI(sk);
      const te = sT.t[s]! + shift;
      while (j < recvPlain.length && (rT.t[rI(recvPlain[j]!)]! < te - tolEarly || used[j] === 1)) j++;
      for (let k = j, n = 0; k < recvPlain.length && n < 512; k++, n++) {
        const r = rI(recvPlain[k]!);
        if (rT.t[r]! > te + window) break;
        if (used[k] === 1 || rT.olen[r] !== sT.olen[s] || wgTypeAt(rT, r) !== wgTypeAt(sT, s)) continue;
        used[k] = 1;
        link(sk, recvPlain[k]!);
        res.ordered++;
        break;
      }
    }
  };
  // Each way's lists and ordinals in one working room when given (made once for the larger way, then
  // reused by the other way and by the associations after), else arrays of their own.
  const make = room !== undefined ? (n: number): Int32Array => room.ints(n) : undefined;
  if (room !== undefined) {
    const ab = carrierCount(a, 'out', false) + carrierCount(b, 'in', false), ba = carrierCount(b, 'out', false) + carrierCount(a, 'in', false);
    room.reserve(2 * Math.max(ab, ba) + 1);
  }
  run(carrierKs(a, 'out', false, make), carrierKs(b, 'in', false, make), true);
  room?.reset();
  run(carrierKs(b, 'out', false, make), carrierKs(a, 'in', false, make), false);
  room?.reset();
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
function lowerBound(list: Int32Array, t: Float64Array, at: number, lo = 0): number {
  const n = list.length;
  let hi = lo, step = 1;
  while (hi < n && t[list[hi]!]! < at) { lo = hi + 1; hi += step; step *= 2; }
  if (hi > n) hi = n;
  while (lo < hi) { const m = (lo + hi) >> 1; if (t[list[m]!]! < at) lo = m + 1; else hi = m; }
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

export function associateEncap(side: Side, inners: InnerList, room?: AssocRoom): CarrierOf {
  return associate(side, carriersWhere(side, 'out', true, room), inners, true, room);
}

/** Inner packets arriving on the tunnel interface → the carrier that brought each (just before it). */
export function associateDecap(side: Side, inners: InnerList, room?: AssocRoom): CarrierOf {
  return associate(side, carriersWhere(side, 'in', true, room), inners, false, room);
}

/**
 * Working room for associations made one after another (an analysis makes four, over up to a
 * million carriers): the carrier list and the skip links of one association, reused by the next
 * instead of new arrays each time. Each association's arrays are valid until the next one starts.
 */
export class AssocRoom {
  private buf = new Int32Array(0);
  private n = 0;
  /** Values handed out by ints() since the last reset(). */
  private used = 0;
  /** Room for `n` values at least (one array made for the largest use instead of several as uses grow). */
  reserve(n: number): void { if (this.buf.length < n) this.buf = new Int32Array(n); }
  /**
   * `n` zeroed values after those handed out since reset() (carrier pairing's lists and ordinals,
   * several in use at once); a fresh array when the room is full.
   */
  ints(n: number): Int32Array {
    if (this.used + n > this.buf.length) return new Int32Array(n);
    const a = this.buf.subarray(this.used, this.used + n);
    this.used += n;
    return a.fill(0);
  }
  /** ints() as unsigned values. */
  u32(n: number): Uint32Array { const a = this.ints(n); return new Uint32Array(a.buffer, a.byteOffset, n); }
  /** The room's memory as `n` bytes when it has that many (a pass's scratch, valid until the room's next use), else undefined. */
  bytes(n: number): Uint8Array | undefined {
    this.used = 0;
    return n <= this.buf.byteLength ? new Uint8Array(this.buf.buffer, this.buf.byteOffset, n) : undefined;
  }
  /** What ints() handed out is free again. */
  reset(): void { this.used = 0; }
  /** Room for a carrier list of `n` (the skip links, n + 1, follow it in the same array); ints() handed out before are void. */
  list(n: number): Int32Array {
    if (this.buf.length < 2 * n + 1) this.buf = new Int32Array(2 * n + 1);
    this.n = n;
    this.used = 0;
    return this.buf.subarray(0, n);
  }
  /** Room for the skip links of the list last asked for. */
  links(): Int32Array { return this.buf.subarray(this.n, 2 * this.n + 1); }
  /** Lets the arrays go (the associations are done). */
  release(): void { this.buf = new Int32Array(0); this.n = 0; this.used = 0; }
}

// associate's first passes as functions of their own (see InnerList.ways: a loop compiled while it
// runs returns rather than falling back to the interpreter after it).

/** The first unused carrier at or after k in skip links `next` (associate's), compressing the path walked. */
function freeFrom(next: Int32Array, k: number): number {
  let r = k;
  while (next[r] !== r) r = next[r]!;
  while (next[k] !== r) { const x = next[k]!; next[k] = r; k = x; }
  return r;
}

/** a[k] = k for every k. */
function identity(a: Int32Array): void { for (let k = 0; k < a.length; k++) a[k] = k; }

/** The largest of `v` at positions `at` (-1 when none). */
function maxAt(v: Int32Array, at: Int32Array): number {
  let m = -1;
  for (let k = 0; k < at.length; k++) { const x = v[at[k]!]!; if (x > m) m = x; }
  return m;
}

/** `carriers`: record positions, ascending. */
function associate(side: Side, carriers: Int32Array, inners: InnerList, after: boolean, room?: AssocRoom): CarrierOf {
  const tm = side.tm;
  const n = carriers.length;
  if (n === 0) return carrierOf;
  // next[k]: the first unused carrier at or after k (path-compressed), so used ones cost nothing.
  const next = room !== undefined ? room.links() : new Int32Array(n + 1);
  identity(next);
  const free = (k: number): number => freeFrom(next, k);
  const W = 0.25;
  // A carrier is always longer than what it holds (TunnelModule.innerFits): an inner at least as long
  // as the longest carrier fits none, and needs no search for one (offloaded super-frames, mostly).
  const olen = tm.olen, tt = tm.t;
  const maxOlen = maxAt(olen, carriers);
  // Read from the flow's columns: an Inner object per member would cost more than the search.
  const fc = inners.fc, ilens = fc.ilen, ris = fc.ri, car = fc.car, idx = inners.idx;
  // Inners come in time order, so each search resumes where the last one ended (restarting from
  // the first carrier should a time ever go backwards).
  let lb = 0, lastFrom = -Infinity;
  for (let j = 0; j < inners.length; j++) {
    const xk = idx === null ? j : idx[j]!;
    const ilen = ilens[xk]!;
    const t = tt[ris[xk]!]!;
    const from = after ? t - 1e-6 : t - W;
    const to = after ? t + W : t + 1e-6;
    lb = lowerBound(carriers, tt, from, from >= lastFrom ? lb : 0);
    lastFrom = from;
    let pick = -1;
    let loose = -1;
    let steps = 0;
    if (ilen >= maxOlen) {
      // What the search below would find: no fit, and the first free carrier in the window as the loose one.
      if (ilen <= 1500) continue;
      const k = free(lb);
      if (k < n && tt[carriers[k]!]! <= to) loose = k;
    } else {
      for (let k = free(lb); k < n && steps < 256; k = free(k + 1), steps++) {
        const c = carriers[k]!;
        if (tt[c]! > to) break;
        if (sizeFits(outerAt(tm, c), olen[c]!, ilen)) { pick = k; break; }
        if (loose < 0) loose = k;
      }
    }
    // Offloaded super-frames (GRO/TSO) have no single carrier of their size.
    if (pick < 0 && ilen > 1500 && loose >= 0) pick = loose;
    if (pick < 0) continue;
    next[pick] = pick + 1;
    car[xk] = carriers[pick]!;
  }
  return carrierOf;
}
