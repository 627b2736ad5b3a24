// Compact in-memory form of a whole capture for bulk analysis. A decoded Packet with its ip/tcp
// objects and boxed numbers costs ~450 bytes in V8; the common shapes (IP + TCP, IP + UDP with or
// without WireGuard, ESP) are kept here as typed-array columns (~50 bytes) behind a small view
// object that reads them through getters; the views are built on each read (`at`), not kept, so a
// million packets cost their columns and nothing per packet on the JS heap. Anything else (ICMP,
// ARP, tunnels, IKE, fragments, truncated frames, comments) stays the decoder's own Packet object.
// SACK blocks (a few per cent of a bulk download's ACKs) sit in per-page number lists.
// toImage/fromImage turn a store into structured-clone data and back (worker transfer, storage).
// Sub-objects (ip, tcp, udp, wg, esp) are built on each read: fine for reading, not for mutation.
// Only `summary` may be written (the CLI fills it for the frames it shows).

import type { Direction, EspInfo, FlowFields, IpInfo, Packet, PacketList, PacketRows, TcpInfo, TunnelIds, WireGuardInfo, WireGuardNum } from '../protocols/packet.ts';

// The bit layout of a row's flags and the direction codes, shared by this store and the stored chunks
// (packet-columns.ts): stored data depends on them, so they are defined once.
export const F_IFINDEX = 1;
export const F_V6 = 1 << 1;
export const F_DF = 1 << 2;
export const F_TCP = 1 << 3;
export const F_UDP = 1 << 4;
export const F_MSS = 1 << 5;
export const F_WSCALE = 1 << 6;
export const F_SACKOK = 1 << 7;
export const F_TS = 1 << 8;
export const F_WG_SENDER = 1 << 9;
export const F_WG_RECEIVER = 1 << 10;
export const F_WG_COUNTER = 1 << 11;
export const F_ESP = 1 << 12;
export const F_HASH = 1 << 13;
export const F_HATYPE = 1 << 14;
export const F_SACK = 1 << 15;

// readRows hands these codes out as they are: PacketRows.dir's 0, 1, 2 are null, 'in', 'out'.
export const DIRS: ReadonlyArray<Direction | null> = [null, 'in', 'out', 'broadcast', 'multicast', 'otherhost', 'unknown'];

/** Interning table: string ↔ small id. */
class Table {
  readonly list: string[];
  private ids = new Map<string, number>();
  // The last two strings asked for: a packet's source and destination alternate in the address table.
  private last = '';
  private lastId = -1;
  private prev = '';
  private prevId = -1;
  /** `list`: an image's table, kept as is (its positions are the ids the columns hold). */
  constructor(list: string[] = []) {
    this.list = list;
    for (let k = list.length - 1; k >= 0; k--) this.ids.set(list[k]!, k);
  }
  id(s: string): number {
    if (s === this.last && this.lastId >= 0) return this.lastId;
    let k: number | undefined;
    if (s === this.prev && this.prevId >= 0) k = this.prevId;
    else {
      k = this.ids.get(s);
      if (k === undefined) { k = this.list.length; this.list.push(s); this.ids.set(s, k); }
    }
    this.prev = this.last; this.prevId = this.lastId;
    this.last = s; this.lastId = k;
    return k;
  }
}

/** A whole number a 32-bit unsigned column holds. */
export const isU32 = (x: number | undefined): boolean => x !== undefined && x >>> 0 === x;

/**
 * What the decoder says of a TCP header the capture cut short (inside its options, most often a
 * SACK block past the snap length): such a packet is otherwise an ordinary TCP row (its options up
 * to the cut, no payload), held as one with a bit of the page's (Page.truncBits).
 */
export const TCP_HEADER_CUT = 'truncated in TCP header';

/** Whether the columns can hold `p` exactly. */
function fits(p: Packet): boolean {
  if (!onlyColumnFields(p, true)) return false;
  if (p.truncated !== undefined && (p.tcp === undefined || p.payloadHash !== undefined)) return false;
  const ip = p.ip;
  if (ip === undefined || p.src === undefined || p.dst === undefined || ip.frag !== undefined) return false;
  if (ip.v === 4 ? ip.id === undefined || ip.id > 0xffff || ip.df === undefined : ip.id !== undefined || ip.df !== undefined) return false;
  if (ip.ttl > 0xff || ip.proto > 0xff || ip.len > 0xffff) return false;
  // Whole seconds within 32 bits, as every capture format stores them (2106 and earlier).
  if (!(p.tsSec >= 0 && p.tsSec <= 0xffffffff && Number.isInteger(p.tsSec))) return false;
  if (!(p.frame >= 0 && p.frame <= 0xffffffff && Number.isInteger(p.frame))) return false;
  if (!(p.len >= 0 && p.len <= 0xffffffff && Number.isInteger(p.len) && p.caplen >= 0 && p.caplen <= 0xffffffff && Number.isInteger(p.caplen))) return false;
  if (p.ifaceId > 0xffff || p.linktype > 0xffff || (p.ifindex !== undefined && p.ifindex > 0xffff) || (p.hatype !== undefined && p.hatype > 0xffff)) return false;
  const t = p.tcp, u = p.udp;
  if (t !== undefined && u !== undefined) return false;
  if ((t !== undefined || u !== undefined) !== (p.sport !== undefined && p.dport !== undefined)) return false;
  if (t === undefined && u === undefined && (p.sport !== undefined || p.dport !== undefined)) return false;
  if (t !== undefined) {
    if (t.relative !== undefined || (t.tsval === undefined) !== (t.tsecr === undefined)) return false;
    if (t.win > 0xffff || t.len > 0xffff || (t.mss !== undefined && t.mss > 0xffff) || (t.wscale !== undefined && t.wscale > 0xff)) return false;
    // SACK edges are 32-bit sequence numbers (a text line can say more).
    if (t.sack !== undefined) for (const [l, r] of t.sack) if (!isU32(l) || !isU32(r)) return false;
  }
  if (u !== undefined && u.len > 0xffff) return false;
  const w = p.wg;
  if (w !== undefined) {
    if (u === undefined) return false;
    if (w.counter !== undefined && !(Number(w.counter) >= 0 && Number(w.counter) <= Number.MAX_SAFE_INTEGER)) return false;
  }
  // ESP and WireGuard fields reuse the TCP columns (see Page).
  if (p.esp !== undefined && (w !== undefined || t !== undefined)) return false;
  return true;
}

/** Packets per page: columns are allocated a page at a time (no regrowing copies, little slack). */
const PAGE_BITS = 15;
const PAGE = 1 << PAGE_BITS;

type Col = Uint8Array | Uint16Array | Uint32Array;
type ColType = typeof Uint8Array | typeof Uint16Array | typeof Uint32Array;

/**
 * The columns of a page, with the narrowest type each starts at and the widest it may grow to.
 * A column-held packet is never both TCP and WireGuard/ESP, so those share the TCP columns:
 * WireGuard sender/receiver or ESP spi/seq in seq/ack, the WireGuard counter (below 2^53) as
 * low/high 32-bit halves in tsval/tsecr. `l4len` is the TCP payload length or the UDP length;
 * `wgType` is 0 when not WireGuard; `frame` holds the distance from the page's first frame
 * number plus the row (0 for consecutive frames, the usual case); `len` holds the frame length
 * less the IP length, mod 2^32 (the link header: one value on most pages).
 */
const COLUMN_SPEC = [
  ['frame', Uint8Array, Uint32Array], ['tsSec', Uint32Array, Uint32Array], ['tsNsec', Uint32Array, Uint32Array],
  ['name', Uint8Array, Uint16Array], ['ifaceId', Uint8Array, Uint16Array], ['linktype', Uint16Array, Uint16Array],
  ['dir', Uint8Array, Uint8Array], ['caplen', Uint8Array, Uint32Array], ['len', Uint8Array, Uint32Array],
  ['ifindex', Uint8Array, Uint16Array], ['hatype', Uint16Array, Uint16Array], ['fl', Uint16Array, Uint16Array],
  ['proto', Uint8Array, Uint8Array], ['src', Uint8Array, Uint32Array], ['dst', Uint8Array, Uint32Array],
  ['sport', Uint16Array, Uint16Array], ['dport', Uint16Array, Uint16Array], ['ipId', Uint16Array, Uint16Array],
  ['ttl', Uint8Array, Uint8Array], ['ipLen', Uint16Array, Uint16Array], ['ipProto', Uint8Array, Uint8Array],
  ['tflags', Uint8Array, Uint8Array], ['seq', Uint32Array, Uint32Array], ['ack', Uint32Array, Uint32Array],
  ['win', Uint16Array, Uint16Array], ['l4len', Uint16Array, Uint16Array], ['mss', Uint16Array, Uint16Array],
  ['wscale', Uint8Array, Uint8Array], ['tsval', Uint32Array, Uint32Array], ['tsecr', Uint32Array, Uint32Array],
  ['wgType', Uint8Array, Uint8Array], ['hash', Uint32Array, Uint32Array],
] as const satisfies ReadonlyArray<readonly [string, ColType, ColType]>;
export type ColumnName = (typeof COLUMN_SPEC)[number][0];
const NCOL = COLUMN_SPEC.length;
const COLUMN_NAMES: readonly ColumnName[] = COLUMN_SPEC.map((c) => c[0]);
/** Columns every page holds in full, as fields of their own: read for nearly every packet, and fastest so. */
const DIRECT_NAMES = ['tsNsec', 'dir', 'fl', 'proto', 'sport', 'dport', 'ipId', 'ttl', 'ipLen', 'ipProto', 'tflags', 'seq', 'ack', 'win',
  'l4len', 'tsval', 'tsecr', 'wgType', 'hash'] as const satisfies readonly ColumnName[];
type DirectName = (typeof DIRECT_NAMES)[number];
const DIRECT: ReadonlySet<ColumnName> = new Set<ColumnName>(DIRECT_NAMES);
// The others are flexible (one value, or an array as narrow as their values allow), read by number.
const colId = (n: ColumnName): number => COLUMN_NAMES.indexOf(n);
const C_FRAME = colId('frame'), C_TSSEC = colId('tsSec'), C_NAME = colId('name'), C_IFACEID = colId('ifaceId'), C_LINKTYPE = colId('linktype'),
  C_CAPLEN = colId('caplen'), C_LEN = colId('len'), C_IFINDEX = colId('ifindex'), C_SRC = colId('src'), C_DST = colId('dst'),
  C_MSS = colId('mss'), C_WSCALE = colId('wscale'), C_HATYPE = colId('hatype');
const maxOf = (t: ColType): number => (t === Uint8Array ? 0xff : t === Uint16Array ? 0xffff : 0xffffffff);
const wider = (t: ColType): ColType => (t === Uint8Array ? Uint16Array : Uint32Array);

/**
 * The dense columns of a page share one buffer (widest first, so each starts aligned): one
 * allocation of ~1.4 MiB instead of nineteen of 32–128 KiB. Blocks that large are mmap'd by
 * glibc and given back whole when freed, where many mid-sized ones interleaved with the reader's
 * freed buffers fragment a thread's arena (tens of MiB stayed resident after the load); and a
 * page moves to another thread as one transferred buffer.
 */
const SLAB: ReadonlyArray<readonly [DirectName, ColType, number]> = (() => {
  const out: Array<readonly [DirectName, ColType, number]> = [];
  let off = 0;
  for (const bytes of [4, 2, 1]) {
    for (const name of DIRECT_NAMES) {
      const t = COLUMN_SPEC[colId(name)]![1];
      if (t.BYTES_PER_ELEMENT !== bytes) continue;
      out.push([name, t, off]);
      off += bytes * PAGE;
    }
  }
  return out;
})();
const SLAB_BYTES = SLAB.reduce((n, [, t]) => n + t.BYTES_PER_ELEMENT * PAGE, 0);
const NO8 = new Uint8Array(0), NO16 = new Uint16Array(0), NO32 = new Uint32Array(0);

/**
 * Columns for PAGE packets; each view points at its page and its offset in it. The dense columns
 * (DIRECT) are typed arrays over one buffer (SLAB). A flexible column whose rows so far all hold
 * one value is that value alone (no array: most pages have one interface, one link type,
 * consecutive frames, few SYNs, often one second); otherwise it starts at its narrowest type and
 * is widened (copied once) when a value needs more (over 256 addresses, frames over 255 bytes
 * past the IP packet, snap lengths over 255). Rows whose flags say a
 * field is absent may read anything from its column: readers check the flags first.
 */
class Page {
  n = 0;
  /** Frame number of row 0. */
  frame0 = 0;
  /** Summaries written after loading (CLI), by offset. */
  summaries: Map<number, string> | null = null;
  /**
   * SACK blocks: rows that have them (ascending), where each row's edges start in `sackEdges`, the
   * edges (left, right, …); the first `sackN` rows and `edgeN` edges are used. Typed arrays grown by
   * doubling while pushing (growing number lists were young garbage that survived scavenges, copied
   * each time, in a bulk load's workers) and cut to size when the page is full; an image's arrays
   * as they came, full. Edges are 32-bit (half the bytes of the doubles kept before; a bulk TCP
   * capture has SACK on many rows): an image written before holds doubles, kept as they are.
   */
  sackRows: Uint16Array | null = null;
  sackStart: Uint32Array | null = null;
  sackEdges: Uint32Array | Float64Array | null = null;
  sackN = 0;
  edgeN = 0;
  /** Packets the columns cannot hold, by offset (their row stays unused). */
  plain: Map<number, Packet> | null = null;
  /** A bit per row in `plain` (null while there is none): a read asks the map only for those rows. */
  plainBits: Uint32Array | null = null;
  /**
   * Per column: its width (0 while every row holds `one[c]`, or nothing was written yet: `seen[c]`
   * 0; else 1, 2 or 4 bytes) and its array in the list of that width. One list per element type
   * keeps each read site seeing a single array type, which V8 reads fastest.
   */
  readonly width = new Uint8Array(NCOL);
  readonly c8: Array<Uint8Array | null> = new Array<Uint8Array | null>(NCOL).fill(null);
  readonly c16: Array<Uint16Array | null> = new Array<Uint16Array | null>(NCOL).fill(null);
  readonly c32: Array<Uint32Array | null> = new Array<Uint32Array | null>(NCOL).fill(null);
  /** Dense columns every page has in full (read on nearly every packet: direct fields read fastest); views into one slab (SLAB). */
  tsNsec: Uint32Array = NO32;
  dir: Uint8Array = NO8;
  fl: Uint16Array = NO16;
  proto: Uint8Array = NO8;
  sport: Uint16Array = NO16;
  dport: Uint16Array = NO16;
  ipId: Uint16Array = NO16;
  ttl: Uint8Array = NO8;
  ipLen: Uint16Array = NO16;
  ipProto: Uint8Array = NO8;
  tflags: Uint8Array = NO8;
  seq: Uint32Array = NO32;
  ack: Uint32Array = NO32;
  win: Uint16Array = NO16;
  l4len: Uint16Array = NO16;
  tsval: Uint32Array = NO32;
  tsecr: Uint32Array = NO32;
  wgType: Uint8Array = NO8;
  hash: Uint32Array = NO32;
  readonly one = new Float64Array(NCOL);
  readonly seen = new Uint8Array(NCOL);
  /** Largest value each column's array holds (-1 while there is none). */
  readonly lim = new Float64Array(NCOL).fill(-1);
  /** `dense` false: the caller puts in every dense column itself (fromImage, from an image's buffers). */
  constructor(readonly t: Tables, dense = true) {
    if (!dense) return;
    const buf = new ArrayBuffer(SLAB_BYTES), me = this as unknown as Record<DirectName, Col>;
    for (const [name, t, off] of SLAB) me[name] = new t(buf, off, PAGE);
  }

  get(c: number, k: number): number {
    switch (this.width[c]) {
      case 1: return this.c8[c]![k]!;
      case 2: return this.c16[c]![k]!;
      case 4: return this.c32[c]![k]!;
      default: return this.one[c]!;
    }
  }

  set(c: number, k: number, v: number): void {
    if (v <= this.lim[c]!) {
      const w = this.width[c];
      if (w === 1) this.c8[c]![k] = v; else if (w === 2) this.c16[c]![k] = v; else this.c32[c]![k] = v;
      return;
    }
    if (this.width[c] === 0) {
      if (this.seen[c] === 0) { this.seen[c] = 1; this.one[c] = v; return; }
      if (v === this.one[c]) return;
    }
    this.materialize(c, k, v);
  }

  /** Column c's array, null while it is one value. */
  col(c: number): Col | null {
    const name = COLUMN_NAMES[c]!;
    if (DIRECT.has(name)) return this[name as DirectName];
    const w = this.width[c];
    return w === 1 ? this.c8[c]! : w === 2 ? this.c16[c]! : w === 4 ? this.c32[c]! : null;
  }

  /** A real array for column c (from its single value, or wider than before) so that `v` fits. */
  private materialize(c: number, k: number, v: number): void {
    const [, base, widest] = COLUMN_SPEC[c]!;
    const old = this.col(c);
    let t: ColType = old !== null ? (old.constructor as ColType) : base;
    const need = Math.max(v, old === null ? this.one[c]! : 0);
    while (need > maxOf(t) && t !== widest) t = wider(t);
    const a = new t(PAGE);
    if (old !== null) a.set(old); else if (this.one[c] !== 0) a.fill(this.one[c]!, 0, k);
    a[k] = v;
    this.adopt(c, a, t);
  }

  /** Puts `a` (of type `t`) in as column c. */
  adopt(c: number, a: Col, t: ColType): void {
    const name = COLUMN_NAMES[c]!;
    if (DIRECT.has(name)) { (this as Record<DirectName, Col>)[name as DirectName] = a; return; }
    this.c8[c] = null; this.c16[c] = null; this.c32[c] = null;
    if (t === Uint8Array) { this.c8[c] = a as Uint8Array; this.width[c] = 1; } else if (t === Uint16Array) { this.c16[c] = a as Uint16Array; this.width[c] = 2; } else { this.c32[c] = a as Uint32Array; this.width[c] = 4; }
    this.lim[c] = maxOf(t);
  }

  /** The SACK lists cut to what they hold (the page is full: nothing more comes). */
  trimSack(): void {
    if (this.sackRows === null || this.sackRows.length === this.sackN) return;
    this.sackRows = this.sackRows.slice(0, this.sackN);
    this.sackStart = this.sackStart!.slice(0, this.sackN);
    this.sackEdges = this.sackEdges!.slice(0, this.edgeN);
  }

  /** Keeps `p` for row k as the decoder's object. */
  setPlain(k: number, p: Packet): void {
    (this.plain ??= new Map()).set(k, p);
    // Rows are integers below PAGE; anything else (a malformed image) is in the map only, where no read finds it either.
    if (Number.isInteger(k) && k >= 0 && k < PAGE) (this.plainBits ??= new Uint32Array(PAGE >>> 5))[k >>> 5]! |= 1 << (k & 31);
  }

  /** Whether row k is a plain packet (in `plain`). */
  isPlain(k: number): boolean {
    const b = this.plainBits;
    return b !== null && (b[k >>> 5]! & (1 << (k & 31))) !== 0;
  }

  /** A bit per row whose TCP header the capture cut (TCP_HEADER_CUT); null while there is none. */
  truncBits: Uint32Array | null = null;

  setTrunc(k: number): void { (this.truncBits ??= new Uint32Array(PAGE >>> 5))[k >>> 5]! |= 1 << (k & 31); }

  isTrunc(k: number): boolean {
    const b = this.truncBits;
    return b !== null && (b[k >>> 5]! & (1 << (k & 31))) !== 0;
  }

  sack(k: number): ArrayLike<number> | undefined {
    const rows = this.sackRows;
    if (rows === null) return undefined;
    const n = this.sackN;
    let lo = 0, hi = n;
    while (lo < hi) { const m = (lo + hi) >> 1; if (rows[m]! < k) lo = m + 1; else hi = m; }
    if (lo >= n || rows[lo] !== k) return undefined;
    const end = lo + 1 < n ? this.sackStart![lo + 1]! : this.edgeN;
    return this.sackEdges!.slice(this.sackStart![lo]!, end);
  }

  /** Row k's SACK edges: the first `len` of `edges` (left, right, …). */
  addSack(k: number, edges: ArrayLike<number>, len: number): void {
    const n = this.sackN, e = this.edgeN;
    // An image's arrays are full: the first push onto its page grows them like any other.
    if (this.sackRows === null || n === this.sackRows.length) {
      const cap = Math.max(256, n * 2);
      this.sackRows = grown(Uint16Array, this.sackRows, n, cap);
      this.sackStart = grown(Uint32Array, this.sackStart, n, cap);
    }
    if (this.sackEdges === null || e + len > this.sackEdges.length) {
      const cap = Math.max(1024, (e + len) * 2);
      this.sackEdges = this.sackEdges instanceof Float64Array ? grown(Float64Array, this.sackEdges, e, cap) : grown(Uint32Array, this.sackEdges, e, cap);
    }
    this.sackRows[n] = k;
    this.sackStart![n] = e;
    const to = this.sackEdges;
    for (let j = 0; j < len; j++) to[e + j] = edges[j]!;
    this.sackN = n + 1;
    this.edgeN = e + len;
  }
}

/** A typed array of `cap` elements holding the first `used` of `old` (when there is one). */
function grown<T extends Uint16Array | Uint32Array | Float64Array>(type: new (n: number) => T, old: T | null, used: number, cap: number): T {
  const a = new type(cap);
  if (old !== null && used > 0) a.set(old.subarray(0, used));
  return a;
}

interface Tables { names: Table; protos: Table; flagStrs: Table; addrs: Table }

/** One page of a PacketStoreImage. */
export interface PacketStorePageImage {
  /** Rows used (32 768 on every page but the last). */
  n: number;
  /** Frame number of row 0 (the `frame` column holds each row's distance from frame0 + row). */
  frame0: number;
  /** Columns held as arrays, at least `n` entries each (Uint8Array, Uint16Array or Uint32Array, by need; the dense ones are views into one buffer). */
  cols: Partial<Record<ColumnName, Col>>;
  /** Columns whose rows all hold one value: that value (a column in neither was never written). */
  one: Partial<Record<ColumnName, number>>;
  summaries: Array<[number, string]> | null;
  /** SACK blocks: rows, where each row's edges start, the edges. */
  sack: { rows: Uint16Array; start: Uint32Array; edges: Uint32Array | Float64Array } | null;
  /** Packets the columns could not hold, by row: plain decoder objects. */
  plain: Array<[number, Packet]> | null;
  /** Rows whose TCP header was cut (TCP_HEADER_CUT), a bit each; absent from images written before. */
  trunc?: Uint32Array | null;
}

/**
 * A PacketStore as structured-clone-safe data (typed arrays, strings, plain objects): posted
 * between threads (with `transfer`, the column buffers move instead of being copied) or stored
 * in IndexedDB, and turned back into a store by PacketStore.fromImage.
 */
export interface PacketStoreImage {
  kind: 'tandem-packet-store';
  version: 1;
  length: number;
  /** Interned strings the columns refer to by index. */
  tables: { names: string[]; protos: string[]; flagStrs: string[]; addrs: string[] };
  pages: PacketStorePageImage[];
}

/** Thrown by fromImage for data that is not a store image this version wrote. */
export class PacketStoreImageError extends Error {}

export class PacketStore implements PacketList, RowSink {
  private tables: Tables = { names: new Table(), protos: new Table(), flagStrs: new Table(), addrs: new Table() };
  private readonly pages: Page[] = [];
  length = 0;

  /** Packet `i` (file order): a fresh view for column-held packets, the decoded Packet otherwise. */
  at(i: number): Packet | undefined {
    if (!(i >= 0 && i < this.length)) return undefined;
    const g = this.pages[i >>> PAGE_BITS]!;
    const k = i & (PAGE - 1);
    return (g.isPlain(k) ? g.plain!.get(k) : undefined) ?? new StoredPacket(g, k);
  }

  *[Symbol.iterator](): Iterator<Packet> {
    for (let i = 0; i < this.length; i++) yield this.at(i)!;
  }

  /** PacketList.readTimes: straight from the columns, page by page (plain packets from their objects). */
  readTimes(from: number, to: number, sec: Float64Array, nsec: Float64Array, ifaceId: Int32Array): void {
    if (!(from >= 0 && to <= this.length)) throw new RangeError(`readTimes ${from}..${to} of ${this.length}`);
    for (let i = from; i < to;) {
      const g = this.pages[i >>> PAGE_BITS]!;
      const k0 = i & (PAGE - 1);
      const k1 = Math.min(g.n, k0 + (to - i));
      const o = i - from - k0;
      // Whole column ranges copied by set (converted as element writes would); a flexible column that is one value on its page is filled.
      nsec.set(g.tsNsec.subarray(k0, k1), o + k0);
      const secs = g.col(C_TSSEC), ids = g.col(C_IFACEID);
      if (secs === null) sec.fill(g.one[C_TSSEC]!, o + k0, o + k1); else sec.set(secs.subarray(k0, k1), o + k0);
      if (ids === null) ifaceId.fill(g.one[C_IFACEID]!, o + k0, o + k1); else ifaceId.set(ids.subarray(k0, k1), o + k0);
      if (g.plain !== null) {
        for (const [k, p] of g.plain) if (k >= k0 && k < k1) { sec[o + k] = p.tsSec; nsec[o + k] = p.tsNsec; ifaceId[o + k] = p.ifaceId; }
      }
      i += k1 - k0;
    }
  }

  /** PacketList.readRows: the rows' columns page by page (a flexible column that is one value on its page is filled). */
  readRows(from: number, to: number, out: PacketRows): void {
    if (!(from >= 0 && to <= this.length && to - from <= out.held.length)) throw new RangeError(`readRows ${from}..${to} of ${this.length}`);
    out.addrs = this.tables.addrs.list;
    out.names = this.tables.names.list;
    for (let i = from; i < to;) {
      const g = this.pages[i >>> PAGE_BITS]!;
      const k0 = i & (PAGE - 1);
      const k1 = Math.min(g.n, k0 + (to - i));
      const o = i - from - k0;
      const fill = (c: number, a: Int32Array): void => {
        const col = g.col(c);
        if (col === null) a.fill(g.one[c]!, o + k0, o + k1); else a.set(col.subarray(k0, k1), o + k0);
      };
      fill(C_SRC, out.src); fill(C_DST, out.dst); fill(C_NAME, out.iface);
      // Dense columns copied whole (native loops); ports and lengths of rows without TCP or UDP are whatever the column holds.
      out.held.fill(1, o + k0, o + k1);
      out.wgType.set(g.wgType.subarray(k0, k1), o + k0);
      out.sport.set(g.sport.subarray(k0, k1), o + k0);
      out.dport.set(g.dport.subarray(k0, k1), o + k0);
      out.l4len.set(g.l4len.subarray(k0, k1), o + k0);
      out.dir.set(g.dir.subarray(k0, k1), o + k0);
      const fls = g.fl, ifx = g.col(C_IFINDEX), ifx1 = g.one[C_IFINDEX]!;
      const { l4, ifindex } = out;
      for (let k = k0; k < k1; k++) {
        const fl = fls[k]!;
        l4[o + k] = (fl & F_TCP) !== 0 ? 1 : (fl & F_UDP) !== 0 ? 2 : 0;
        ifindex[o + k] = (fl & F_IFINDEX) === 0 ? -1 : ifx === null ? ifx1 : ifx[k]!;
      }
      if (g.plain !== null) for (const k of g.plain.keys()) if (k >= k0 && k < k1) out.held[o + k] = 0;
      i += k1 - k0;
    }
  }

  /** PacketList.flowFieldsAt: a column-held TCP or UDP packet's numbers, read from its row. */
  flowFieldsAt(i: number, out: FlowFields): boolean {
    if (!(i >= 0 && i < this.length)) return false;
    const g = this.pages[i >>> PAGE_BITS]!;
    const k = i & (PAGE - 1);
    if (g.isPlain(k)) return false;
    const fl = g.fl[k]!;
    // A column row never holds ICMP, tunnel layers or text (see onlyColumnFields).
    if ((fl & (F_TCP | F_UDP)) === 0 || g.ipLen[k] === 0) return false;
    out.src = g.t.addrs.list[g.get(C_SRC, k)]!; out.dst = g.t.addrs.list[g.get(C_DST, k)]!;
    out.sport = g.sport[k]!; out.dport = g.dport[k]!; out.ipLen = g.ipLen[k]!; out.len = g.l4len[k]!;
    out.tcp = (fl & F_TCP) !== 0;
    if (out.tcp) {
      out.flags = g.t.flagStrs.list[g.tflags[k]!]!; out.seq = g.seq[k]!; out.ack = g.ack[k]!;
      out.ts = (fl & F_TS) !== 0;
      if (out.ts) { out.tsval = g.tsval[k]!; out.tsecr = g.tsecr[k]!; }
    }
    return true;
  }

  /** PacketList.tunnelIdsAt: a column-held packet's WireGuard and ESP numbers, read as ColumnView's wgNum and esp read them. */
  tunnelIdsAt(i: number, out: TunnelIds): boolean {
    if (!(i >= 0 && i < this.length)) return false;
    const g = this.pages[i >>> PAGE_BITS]!;
    const k = i & (PAGE - 1);
    if (g.isPlain(k)) return false;
    const fl = g.fl[k]!, w = g.wgType[k]!;
    out.wgType = w;
    out.wgSender = w !== 0 && (fl & F_WG_SENDER) !== 0 ? g.seq[k]! : -1;
    out.wgReceiver = w !== 0 && (fl & F_WG_RECEIVER) !== 0 ? g.ack[k]! : -1;
    out.wgCounter = w !== 0 && (fl & F_WG_COUNTER) !== 0 ? g.tsecr[k]! * 4294967296 + g.tsval[k]! : -1;
    const esp = (fl & F_ESP) !== 0;
    out.espSpi = esp ? g.seq[k]! : -1;
    out.espSeq = esp ? g.ack[k]! : -1;
    return true;
  }

  /** Bytes the columns take (typed arrays only; strings, SACK blocks and plain packets not counted). */
  columnBytes(): number {
    let b = 0;
    for (const g of this.pages) for (let c = 0; c < NCOL; c++) b += g.col(c)?.byteLength ?? 0;
    return b;
  }

  /**
   * The store as an image. Pages hand over their own column buffers, the last one's included
   * (listed once each in `transfer` for postMessage: the dense columns of a page share one), so
   * after a transferring post this store must not be read again. Only SACK lists are copied.
   */
  toImage(): { image: PacketStoreImage; transfer: ArrayBuffer[] } {
    const transfer = new Set<ArrayBuffer>();
    const pages = this.pages.map((g): PacketStorePageImage => {
      const cols: Partial<Record<ColumnName, Col>> = {};
      const one: Partial<Record<ColumnName, number>> = {};
      for (let c = 0; c < NCOL; c++) {
        const a = g.col(c), name = COLUMN_NAMES[c]!;
        if (a === null) { if (g.seen[c] === 1) one[name] = g.one[c]!; continue; }
        cols[name] = a;
        transfer.add(a.buffer as ArrayBuffer);
      }
      let sack: PacketStorePageImage['sack'] = null;
      if (g.sackRows !== null) {
        sack = { rows: g.sackRows.slice(0, g.sackN), start: g.sackStart!.slice(0, g.sackN), edges: g.sackEdges!.slice(0, g.edgeN) };
        transfer.add(sack.rows.buffer as ArrayBuffer).add(sack.start.buffer as ArrayBuffer).add(sack.edges.buffer as ArrayBuffer);
      }
      return {
        n: g.n, frame0: g.frame0, cols, one,
        summaries: g.summaries !== null ? [...g.summaries] : null,
        sack,
        plain: g.plain !== null ? [...g.plain] : null,
        trunc: g.truncBits !== null ? g.truncBits.slice() : null,
      };
    });
    const tb = this.tables;
    const image: PacketStoreImage = {
      kind: 'tandem-packet-store', version: 1, length: this.length,
      tables: { names: [...tb.names.list], protos: [...tb.protos.list], flagStrs: [...tb.flagStrs.list], addrs: [...tb.addrs.list] },
      pages,
    };
    return { image, transfer: [...transfer] };
  }

  /** A store over an image's columns (used in place, not copied; a column shorter than a page is widened for further pushes). */
  static fromImage(image: PacketStoreImage): PacketStore {
    const bad = (why: string): never => { throw new PacketStoreImageError(`not a packet store image: ${why}`); };
    if (image === null || typeof image !== 'object' || image.kind !== 'tandem-packet-store') bad('wrong kind');
    if (image.version !== 1) bad(`version ${String(image.version)} (this build reads 1)`);
    const s = new PacketStore();
    const table = (name: keyof PacketStoreImage['tables']): Table => {
      const list = image.tables?.[name];
      if (!Array.isArray(list) || !list.every((x) => typeof x === 'string')) bad(`table ${name}`);
      // Copied element by element: a list as the structured clone gave it can be of another array kind
      // than the ones built here by push, and a read site that met both would be compiled again.
      const own: string[] = [];
      for (const x of list) own.push(x);
      return new Table(own);
    };
    s.tables = { names: table('names'), protos: table('protos'), flagStrs: table('flagStrs'), addrs: table('addrs') };
    if (!Array.isArray(image.pages)) bad('no pages');
    let total = 0;
    image.pages.forEach((pi, j) => {
      const last = j === image.pages.length - 1;
      if (!(Number.isInteger(pi?.n) && pi.n >= 0 && pi.n <= PAGE && (last || pi.n === PAGE))) bad(`page ${j} has ${String(pi?.n)} rows`);
      const g = new Page(s.tables, false);
      g.n = pi.n;
      g.frame0 = Number(pi.frame0);
      for (let c = 0; c < NCOL; c++) {
        const name = COLUMN_NAMES[c]!;
        const a = pi.cols?.[name];
        const v = pi.one?.[name];
        const [, base, widest] = COLUMN_SPEC[c]!;
        if (a === undefined) {
          if (v !== undefined && typeof v !== 'number') bad(`page ${j} column ${name}`);
          // A dense column is always an array; a flexible one stays a single value.
          if (DIRECT.has(name)) { const col = new base(PAGE); if (v !== undefined) col.fill(v, 0, pi.n); g.adopt(c, col, base); }
          else if (v !== undefined) { g.seen[c] = 1; g.one[c] = v; }
          continue;
        }
        let t: ColType | null = null;
        for (let x: ColType = base; ; x = wider(x)) { if (a instanceof x) { t = x; break; } if (x === widest) break; }
        if (t === null || a.length < pi.n) bad(`page ${j} column ${name}`);
        let col = a as Col;
        if (col.length !== PAGE) { const w = new t!(PAGE); w.set(col.subarray(0, pi.n)); col = w; }
        g.adopt(c, col, t!);
      }
      if (pi.summaries) g.summaries = new Map(pi.summaries);
      if (pi.sack) {
        const { rows, start, edges } = pi.sack;
        if (!(rows instanceof Uint16Array && start instanceof Uint32Array && (edges instanceof Uint32Array || edges instanceof Float64Array) && rows.length === start.length)) bad(`page ${j} SACK blocks`);
        g.sackRows = rows; g.sackStart = start; g.sackEdges = edges;
        g.sackN = rows.length; g.edgeN = edges.length;
      }
      if (pi.plain) for (const [k, p] of pi.plain) g.setPlain(k, p);
      if (pi.trunc !== undefined && pi.trunc !== null) {
        if (!(pi.trunc instanceof Uint32Array && pi.trunc.length === PAGE >>> 5)) bad(`page ${j} cut TCP headers`);
        g.truncBits = pi.trunc.slice();
      }
      s.pages.push(g);
      total += pi.n;
    });
    if (total !== image.length) bad(`${total} rows for ${image.length} packets`);
    s.length = total;
    return s;
  }

  /** The page the next row goes to (a new one when the last is full). */
  private tail(): Page {
    let g = this.pages[this.pages.length - 1];
    if (g === undefined || g.n === PAGE) {
      g?.trimSack();
      g = new Page(this.tables); this.pages.push(g);
    }
    return g;
  }

  /** Adds one decoded packet (kept as columns when it fits, as is otherwise). */
  push(p: Packet): void {
    const g = this.tail();
    const k = g.n++;
    this.length++;
    const r = this.row;
    // Interned ids must fit their columns (a hostile file can make up many protocol names).
    if (!fits(p) || !this.internHead(p.proto, p.tcp !== undefined ? p.tcp.flags : null, p.iface, r)) {
      g.setPlain(k, p);
      return;
    }
    const tb = this.tables;
    r.srcId = tb.addrs.id(p.src!);
    r.dstId = tb.addrs.id(p.dst!);
    fillRow(p, r);
    this.writeRow(g, k, r);
    if (p.summary !== '') (g.summaries ??= new Map()).set(k, p.summary);
  }

  /** Scratch row for push (a packet is written through it, not kept). */
  private readonly row = new ColumnRow();

  /**
   * The ids of a row's protocol name, TCP flag text (null when not TCP) and interface name, into
   * `r`, interned in this order (push's order: the tables then list strings in the same order
   * whichever path added them); false when one does not fit its column (the packet stays plain).
   */
  internHead(proto: string, flags: string | null, iface: string, r: ColumnRow): boolean {
    const tb = this.tables;
    if ((r.protoId = tb.protos.id(proto)) > 0xff) return false;
    if (flags !== null && (r.flagsId = tb.flagStrs.id(flags)) > 0xff) return false;
    return (r.nameId = tb.names.id(iface)) <= 0xffff;
  }

  /** The id of an address (source first, then destination, as push interns them). */
  addrId(a: string): number {
    return this.tables.addrs.id(a);
  }

  /**
   * Adds a row a fast decoder filled (shared/ingest/fast-decode.ts): every field as push would
   * have written it for the same frame, ids from internHead and addrId.
   */
  pushRow(r: ColumnRow): void {
    const g = this.tail();
    const k = g.n++;
    this.length++;
    this.writeRow(g, k, r);
  }

  /** The one writer of a column row: which column holds what, by the row's flags. */
  private writeRow(g: Page, k: number, r: ColumnRow): void {
    if (k === 0) g.frame0 = r.frame;
    g.set(C_FRAME, k, (r.frame - g.frame0 - k) >>> 0);
    g.set(C_TSSEC, k, r.tsSec);
    g.tsNsec[k] = r.tsNsec;
    g.set(C_NAME, k, r.nameId);
    g.set(C_IFACEID, k, r.ifaceId);
    g.set(C_LINKTYPE, k, r.linktype);
    g.dir[k] = r.dir;
    g.set(C_CAPLEN, k, r.caplen);
    // The link header's length (as u32; the getter adds the IP length back): one value for most pages.
    g.set(C_LEN, k, (r.len - r.ipLen) >>> 0);
    const fl = r.fl;
    if ((fl & F_IFINDEX) !== 0) g.set(C_IFINDEX, k, r.ifindex);
    if ((fl & F_HATYPE) !== 0) g.set(C_HATYPE, k, r.hatype);
    g.proto[k] = r.protoId;
    g.set(C_SRC, k, r.srcId);
    g.set(C_DST, k, r.dstId);
    if ((fl & F_V6) === 0) g.ipId[k] = r.ipId;
    g.ttl[k] = r.ttl;
    g.ipLen[k] = r.ipLen;
    g.ipProto[k] = r.ipProto;
    if ((fl & (F_TCP | F_UDP)) !== 0) { g.sport[k] = r.sport; g.dport[k] = r.dport; }
    if ((fl & F_TCP) !== 0) {
      g.tflags[k] = r.flagsId;
      g.win[k] = r.win;
      if ((fl & F_MSS) !== 0) g.set(C_MSS, k, r.mss);
      if ((fl & F_WSCALE) !== 0) g.set(C_WSCALE, k, r.wscale);
      if ((fl & F_SACK) !== 0) g.addSack(k, r.sackEdges, r.sackLen);
    }
    if ((fl & (F_TCP | F_UDP)) !== 0) g.l4len[k] = r.l4len;
    // seq/ack hold TCP's numbers, WireGuard's sender/receiver or ESP's spi/seq (a row has one of them);
    // tsval/tsecr TCP's timestamps or the WireGuard counter's low and high halves.
    if ((fl & (F_TCP | F_WG_SENDER | F_ESP)) !== 0) g.seq[k] = r.seq;
    if ((fl & (F_TCP | F_WG_RECEIVER | F_ESP)) !== 0) g.ack[k] = r.ack;
    if ((fl & (F_TS | F_WG_COUNTER)) !== 0) { g.tsval[k] = r.tsval; g.tsecr[k] = r.tsecr; }
    g.wgType[k] = r.wgType;
    if ((fl & F_HASH) !== 0) g.hash[k] = r.hash;
    g.fl[k] = fl;
    if (r.cut) g.setTrunc(k);
  }
}

/**
 * One column-held packet as the values its row takes: filled by PacketStore.push from a decoded
 * Packet, or by the bulk fast path straight from the frame's bytes, and written by writeRow. Fields
 * the flags (`fl`, F_*) mark absent are not written; `dir` is a DIRS code, the ids come from the
 * store's tables (internHead, addrId).
 */
export class ColumnRow {
  frame = 0; tsSec = 0; tsNsec = 0; nameId = 0; ifaceId = 0; linktype = 0; dir = 0; caplen = 0; len = 0;
  fl = 0;
  ifindex = 0; hatype = 0; protoId = 0; srcId = 0; dstId = 0;
  ipId = 0; ttl = 0; ipLen = 0; ipProto = 0; sport = 0; dport = 0;
  flagsId = 0; seq = 0; ack = 0; win = 0; l4len = 0; mss = 0; wscale = 0; tsval = 0; tsecr = 0;
  /** SACK edges (left, right, …): the first `sackLen` (4 blocks fit a TCP header; push grows it for longer lists). */
  sackEdges = new Float64Array(8);
  sackLen = 0;
  wgType = 0; hash = 0;
  /** The TCP header was cut by the capture (TCP_HEADER_CUT). */
  cut = false;
  /**
   * The summary after its "IP src.port > dst.port: " lead-in, from a fast decoder asked for
   * summaries (FastDecoder's `summaries`); '' otherwise. The stored chunks keep it (packet-columns.ts).
   */
  sum = '';
}

/**
 * Every field of `r` but its interned ids (protocol, flags, interface, addresses), from a packet
 * the columns hold (a `fits` check passed): what a fast decoder writes straight from the bytes.
 */
export function fillRow(p: Packet, r: ColumnRow): void {
  r.frame = p.frame; r.tsSec = p.tsSec; r.tsNsec = p.tsNsec; r.ifaceId = p.ifaceId; r.linktype = p.linktype;
  r.dir = DIRS.indexOf(p.dir); r.caplen = p.caplen; r.len = p.len;
  let fl = 0;
  if (p.ifindex !== undefined) { fl |= F_IFINDEX; r.ifindex = p.ifindex; }
  if (p.hatype !== undefined) { fl |= F_HATYPE; r.hatype = p.hatype; }
  const ip = p.ip!;
  if (ip.v === 6) fl |= F_V6;
  else { r.ipId = ip.id!; if (ip.df) fl |= F_DF; }
  r.ttl = ip.ttl; r.ipLen = ip.len; r.ipProto = ip.proto;
  if (p.sport !== undefined) { r.sport = p.sport; r.dport = p.dport!; }
  const t = p.tcp;
  if (t !== undefined) {
    fl |= F_TCP;
    r.seq = t.seq; r.ack = t.ack; r.win = t.win; r.l4len = t.len;
    if (t.mss !== undefined) { fl |= F_MSS; r.mss = t.mss; }
    if (t.wscale !== undefined) { fl |= F_WSCALE; r.wscale = t.wscale; }
    if (t.sackOk !== undefined) fl |= F_SACKOK;
    if (t.tsval !== undefined) { fl |= F_TS; r.tsval = t.tsval; r.tsecr = t.tsecr!; }
    if (t.sack !== undefined) {
      fl |= F_SACK;
      const b = t.sack;
      if (r.sackEdges.length < 2 * b.length) r.sackEdges = new Float64Array(2 * b.length);
      for (let j = 0; j < b.length; j++) { r.sackEdges[2 * j] = b[j]![0]; r.sackEdges[2 * j + 1] = b[j]![1]; }
      r.sackLen = 2 * b.length;
    }
  } else if (p.udp !== undefined) {
    fl |= F_UDP;
    r.l4len = p.udp.len;
  }
  const w = p.wg;
  r.wgType = w !== undefined ? w.type : 0;
  if (w !== undefined) {
    if (w.sender !== undefined) { fl |= F_WG_SENDER; r.seq = w.sender; }
    if (w.receiver !== undefined) { fl |= F_WG_RECEIVER; r.ack = w.receiver; }
    if (w.counter !== undefined) {
      const n = Number(w.counter);
      fl |= F_WG_COUNTER; r.tsval = n % 4294967296; r.tsecr = Math.floor(n / 4294967296);
    }
  } else if (p.esp !== undefined) {
    fl |= F_ESP; r.seq = p.esp.spi; r.ack = p.esp.seq;
  }
  if (p.payloadHash !== undefined) { fl |= F_HASH; r.hash = p.payloadHash; }
  r.fl = fl;
  r.cut = p.truncated !== undefined;
}

/**
 * Where column rows go (PacketStore here, a stored chunk's writer in packet-columns.ts): a fast
 * decoder interns a row's strings through it, then hands the filled row over.
 */
export interface RowSink {
  /** Ids of the protocol name, TCP flag text (null: not TCP) and interface name into `r`; false when one does not fit. */
  internHead(proto: string, flags: string | null, iface: string, r: ColumnRow): boolean;
  /** The id of an address (source first, then destination). */
  addrId(a: string): number;
  pushRow(r: ColumnRow): void;
}

/** Whether `p` has none of the fields a column view never holds (ColumnView below); `tcpCut`: a cut TCP header (TCP_HEADER_CUT) is one it holds (PacketStore's pages do, stored chunks do not). */
export function onlyColumnFields(p: Packet, tcpCut = false): boolean {
  return p.icmp === undefined && p.ike === undefined && p.nattKeepalive === undefined && p.gre === undefined &&
    p.vxlan === undefined && p.outer === undefined && p.vlan === undefined && p.arp === undefined &&
    (p.truncated === undefined || (tcpCut && p.truncated === TCP_HEADER_CUT)) && p.comments === undefined && p.origin === undefined && p.timeUnknown === undefined &&
    p.fwlog === undefined && p.ah === undefined && p.ppp === undefined && p.enc === undefined;
}

/** The dense per-row columns both column forms hold under the same names (a page here, a stored chunk). */
export interface DenseColumns {
  readonly fl: ArrayLike<number>; readonly sport: ArrayLike<number>; readonly dport: ArrayLike<number>;
  readonly ipId: ArrayLike<number>; readonly ttl: ArrayLike<number>; readonly ipLen: ArrayLike<number>; readonly ipProto: ArrayLike<number>;
  readonly tflags: ArrayLike<number>; readonly seq: ArrayLike<number>; readonly ack: ArrayLike<number>; readonly win: ArrayLike<number>;
  readonly l4len: ArrayLike<number>; readonly tsval: ArrayLike<number>; readonly tsecr: ArrayLike<number>;
  readonly wgType: ArrayLike<number>; readonly hash: ArrayLike<number>;
}

/**
 * A column-held packet as the decoder's Packet: the fields read the same way from either column form
 * (the in-memory store's pages, the stored chunks of packet-columns.ts), and the fields a column view
 * never holds are undefined (packets with them stay the decoder's objects). A form supplies its
 * columns, its row, and the few values it keeps its own way (string tables, narrow columns, SACK).
 */
export abstract class ColumnView {
  protected abstract readonly s: DenseColumns;
  protected abstract readonly k: number;
  /** TCP flag text of row k. */
  protected abstract flagsOf(k: number): string;
  protected abstract mssOf(k: number): number;
  protected abstract wscaleOf(k: number): number;
  /** SACK edges of row k, [left, right, …]. */
  protected abstract sackOf(k: number): ArrayLike<number>;

  get sport(): number | undefined { return (this.s.fl[this.k]! & (F_TCP | F_UDP)) !== 0 ? this.s.sport[this.k]! : undefined; }
  get dport(): number | undefined { return (this.s.fl[this.k]! & (F_TCP | F_UDP)) !== 0 ? this.s.dport[this.k]! : undefined; }
  get ip(): IpInfo { return this.makeIp(); }
  protected makeIp(): IpInfo {
    const s = this.s, k = this.k;
    if ((s.fl[k]! & F_V6) !== 0) return { v: 6, ttl: s.ttl[k]!, len: s.ipLen[k]!, proto: s.ipProto[k]! };
    return { v: 4, id: s.ipId[k]!, ttl: s.ttl[k]!, len: s.ipLen[k]!, df: (s.fl[k]! & F_DF) !== 0, proto: s.ipProto[k]! };
  }
  get tcp(): TcpInfo | undefined { return (this.s.fl[this.k]! & F_TCP) === 0 ? undefined : this.makeTcp(); }
  protected makeTcp(): TcpInfo {
    const s = this.s, k = this.k, fl = s.fl[k]!;
    const t: TcpInfo = { flags: this.flagsOf(k), seq: s.seq[k]!, ack: s.ack[k]!, win: s.win[k]!, len: s.l4len[k]! };
    if ((fl & F_MSS) !== 0) t.mss = this.mssOf(k);
    if ((fl & F_WSCALE) !== 0) t.wscale = this.wscaleOf(k);
    if ((fl & F_SACKOK) !== 0) t.sackOk = true;
    if ((fl & F_TS) !== 0) { t.tsval = s.tsval[k]!; t.tsecr = s.tsecr[k]!; }
    if ((fl & F_SACK) !== 0) {
      const e = this.sackOf(k);
      const blocks: Array<[number, number]> = [];
      for (let j = 0; j < e.length; j += 2) blocks.push([e[j]!, e[j + 1]!]);
      t.sack = blocks;
    }
    return t;
  }
  get udp(): { len: number } | undefined {
    return (this.s.fl[this.k]! & F_UDP) !== 0 ? { len: this.s.l4len[this.k]! } : undefined;
  }
  get wg(): WireGuardInfo | undefined {
    const w = this.wgNum;
    // The same object with the counter as the decoder writes it, in decimal (same key order).
    if (w !== undefined && w.counter !== undefined) (w as unknown as WireGuardInfo).counter = String(w.counter);
    return w as WireGuardInfo | undefined;
  }
  /** `wg` with the counter as a number (Packet.wgNum): the same fields, without the decimal text. */
  get wgNum(): WireGuardNum | undefined {
    const s = this.s, k = this.k;
    const type = s.wgType[k]!;
    if (type === 0) return undefined;
    const fl = s.fl[k]!;
    const w: WireGuardNum = { type: type as 1 | 2 | 3 | 4 };
    if ((fl & F_WG_SENDER) !== 0) w.sender = s.seq[k]!;
    if ((fl & F_WG_RECEIVER) !== 0) w.receiver = s.ack[k]!;
    if ((fl & F_WG_COUNTER) !== 0) w.counter = s.tsecr[k]! * 4294967296 + s.tsval[k]!;
    return w;
  }
  get esp(): EspInfo | undefined {
    return (this.s.fl[this.k]! & F_ESP) !== 0 ? { spi: this.s.seq[this.k]!, seq: this.s.ack[this.k]! } : undefined;
  }
  get payloadHash(): number | undefined { return (this.s.fl[this.k]! & F_HASH) !== 0 ? this.s.hash[this.k]! : undefined; }

  get icmp(): undefined { return undefined; }
  get ike(): undefined { return undefined; }
  get nattKeepalive(): undefined { return undefined; }
  get gre(): undefined { return undefined; }
  get vxlan(): undefined { return undefined; }
  get outer(): undefined { return undefined; }
  get vlan(): undefined { return undefined; }
  get arp(): undefined { return undefined; }
  get truncated(): string | undefined { return undefined; }
  get comments(): undefined { return undefined; }
  get origin(): undefined { return undefined; }
  get timeUnknown(): undefined { return undefined; }
  get fwlog(): undefined { return undefined; }
  get ah(): undefined { return undefined; }
  get ppp(): undefined { return undefined; }
  get enc(): undefined { return undefined; }
}

/** Read-only view of one column-held packet of the store (made on each `at`, not kept). */
class StoredPacket extends ColumnView implements Packet {
  constructor(protected readonly s: Page, protected readonly k: number) { super(); }
  get frame(): number { return (this.s.frame0 + this.k + this.s.get(C_FRAME, this.k)) >>> 0; }
  get tsSec(): number { return this.s.get(C_TSSEC, this.k); }
  get tsNsec(): number { return this.s.tsNsec[this.k]!; }
  get iface(): string { return this.s.t.names.list[this.s.get(C_NAME, this.k)]!; }
  get ifaceId(): number { return this.s.get(C_IFACEID, this.k); }
  get ifindex(): number | undefined { return (this.s.fl[this.k]! & F_IFINDEX) !== 0 ? this.s.get(C_IFINDEX, this.k) : undefined; }
  get hatype(): number | undefined { return (this.s.fl[this.k]! & F_HATYPE) !== 0 ? this.s.get(C_HATYPE, this.k) : undefined; }
  get dir(): Direction | null { return DIRS[this.s.dir[this.k]!]!; }
  get linktype(): number { return this.s.get(C_LINKTYPE, this.k); }
  get caplen(): number { return this.s.get(C_CAPLEN, this.k); }
  get len(): number { return (this.s.ipLen[this.k]! + this.s.get(C_LEN, this.k)) >>> 0; }
  get src(): string { return this.s.t.addrs.list[this.s.get(C_SRC, this.k)]!; }
  get dst(): string { return this.s.t.addrs.list[this.s.get(C_DST, this.k)]!; }
  get proto(): string { return this.s.t.protos.list[this.s.proto[this.k]!]!; }
  protected flagsOf(k: number): string { return this.s.t.flagStrs.list[this.s.tflags[k]!]!; }
  protected mssOf(k: number): number { return this.s.get(C_MSS, k); }
  protected wscaleOf(k: number): number { return this.s.get(C_WSCALE, k); }
  protected sackOf(k: number): ArrayLike<number> { return this.s.sack(k) ?? []; }
  get summary(): string { return this.s.summaries?.get(this.k) ?? ''; }
  set summary(v: string) { (this.s.summaries ??= new Map()).set(this.k, v); }
  override get truncated(): string | undefined { return this.s.isTrunc(this.k) ? TCP_HEADER_CUT : undefined; }

  /** The same packet as a plain object (JSON, spreading, structured clone). */
  toJSON(): Packet { return toPlainPacket(this); }
}

/** A plain-object copy of a packet, whichever form it has (the decoder's key order where it matters). */
export function toPlainPacket(p: Packet): Packet {
  return p instanceof ColumnView ? plainCopy(p) : p;
}

/** The plain object a column view stands for. */
export function plainCopy(p: Packet): Packet {
  const o: Packet = {
    frame: p.frame, tsSec: p.tsSec, tsNsec: p.tsNsec, iface: p.iface, ifaceId: p.ifaceId, dir: p.dir,
    linktype: p.linktype, caplen: p.caplen, len: p.len, proto: p.proto, summary: p.summary,
  };
  if (p.ifindex !== undefined) o.ifindex = p.ifindex;
  if (p.hatype !== undefined) o.hatype = p.hatype;
  o.src = p.src; o.dst = p.dst; o.ip = p.ip;
  if (p.sport !== undefined) { o.sport = p.sport; o.dport = p.dport; }
  const t = p.tcp, u = p.udp, w = p.wg, e = p.esp;
  if (t !== undefined) o.tcp = t;
  if (u !== undefined) o.udp = u;
  if (w !== undefined) o.wg = w;
  if (e !== undefined) o.esp = e;
  if (p.payloadHash !== undefined) o.payloadHash = p.payloadHash;
  const cut = p.truncated;
  if (cut !== undefined) o.truncated = cut;
  return o;
}
