// Column form of a run of packets, as the app stores it in IndexedDB (one record per chunk of rows).
// A decoded Packet is a tree of small objects: IndexedDB clones it slowly on write, slowly again on
// read, and the copy is large. Here the common shapes (IP with TCP, UDP, WireGuard or ESP) become
// one ArrayBuffer of fixed-width columns, a small string table and the summaries joined into one
// string; whatever the columns cannot hold exactly stays the decoder's own object. Reading a chunk
// back is a few buffer copies, and rows are read through views built on access (ChunkPackets.at),
// so a loaded capture costs its columns and nothing per packet on the JS heap.
// The record is structured-clone safe and versioned (`v`); a reader meets old chunks that hold
// Packet objects too (schema v1/v2 sessions), see fromStoredChunk.

import type { Direction, IpInfo, Packet, PacketList, TcpInfo } from '../protocols/packet.ts';
import {
  ColumnRow, ColumnView, DIRS, F_ESP, F_HASH, F_HATYPE, F_IFINDEX, F_MSS, F_SACK, F_TCP, F_TS, F_UDP, F_V6,
  F_WG_COUNTER, F_WG_RECEIVER, F_WG_SENDER, F_WSCALE, fillRow, isU32, onlyColumnFields, plainCopy, type RowSink,
} from './packet-store.ts';

/** One chunk in column form. */
export interface ColumnChunk {
  v: 1;
  /** Rows in the chunk. */
  n: number;
  /** Every numeric column back to back (layout in columnsOf). */
  buf: ArrayBuffer;
  /** Interface names, protocol names, TCP flag texts and addresses, referred to by index. */
  strs: string[];
  /**
   * Summaries joined; row i is sum.slice(sumOff[i], sumOff[i + 1]), after the lead-in rebuilt from
   * the addresses where sumLead says so (it is a third of a typical summary).
   */
  sum: string;
  sumOff: Uint32Array;
  /** SACK blocks: per row that has them, [row, blocks, left, right, left, right, …]. */
  sack: Uint32Array | null;
  /** Rows the columns cannot hold, as decoded (ICMP, ARP, IKE, tunnels, text imports, truncated …). */
  plainRows: Uint32Array | null;
  plain: Packet[] | null;
}


const U32 = 10;
const U16 = 17;
const U8 = 7;

/** Bytes per row in the column buffer. */
export const COLUMN_BYTES_PER_ROW = U32 * 4 + U16 * 2 + U8;

/**
 * Typed views over one chunk's buffer (4-byte columns first, so every view is aligned).
 * frame/time/lengths are filled for every row, plain ones too. Each field is assigned by name in
 * the constructor: an object given its properties by computed keys ends up a hash table in V8,
 * and every column read would pay a lookup.
 */
export class Columns {
  readonly frame: Uint32Array; readonly tsSec: Uint32Array; readonly tsNsec: Uint32Array; readonly caplen: Uint32Array;
  readonly len: Uint32Array; readonly seq: Uint32Array; readonly ack: Uint32Array; readonly tsval: Uint32Array;
  readonly tsecr: Uint32Array; readonly hash: Uint32Array;
  readonly name: Uint16Array; readonly ifaceId: Uint16Array; readonly linktype: Uint16Array; readonly ifindex: Uint16Array;
  readonly hatype: Uint16Array; readonly fl: Uint16Array; readonly proto: Uint16Array; readonly src: Uint16Array;
  readonly dst: Uint16Array; readonly sport: Uint16Array; readonly dport: Uint16Array; readonly ipId: Uint16Array;
  readonly ipLen: Uint16Array; readonly win: Uint16Array; readonly l4len: Uint16Array; readonly mss: Uint16Array;
  readonly tflags: Uint16Array;
  readonly dir: Uint8Array; readonly ttl: Uint8Array; readonly ipProto: Uint8Array; readonly wscale: Uint8Array;
  readonly wgType: Uint8Array;
  /** 1 where the row is a plain Packet (no column holds it but frame/time/lengths). */
  readonly isPlain: Uint8Array;
  /** 1 where the stored summary lacks its "IP src.port > dst.port: " lead-in (rebuilt from the columns). */
  readonly sumLead: Uint8Array;

  constructor(buf: ArrayBuffer, readonly n: number) {
    let off = 0;
    const u32 = (): Uint32Array => { const a = new Uint32Array(buf, off, n); off += 4 * n; return a; };
    const u16 = (): Uint16Array => { const a = new Uint16Array(buf, off, n); off += 2 * n; return a; };
    const u8 = (): Uint8Array => { const a = new Uint8Array(buf, off, n); off += n; return a; };
    this.frame = u32(); this.tsSec = u32(); this.tsNsec = u32(); this.caplen = u32(); this.len = u32();
    this.seq = u32(); this.ack = u32(); this.tsval = u32(); this.tsecr = u32(); this.hash = u32();
    this.name = u16(); this.ifaceId = u16(); this.linktype = u16(); this.ifindex = u16(); this.hatype = u16();
    this.fl = u16(); this.proto = u16(); this.src = u16(); this.dst = u16(); this.sport = u16(); this.dport = u16();
    this.ipId = u16(); this.ipLen = u16(); this.win = u16(); this.l4len = u16(); this.mss = u16(); this.tflags = u16();
    this.dir = u8(); this.ttl = u8(); this.ipProto = u8(); this.wscale = u8(); this.wgType = u8(); this.isPlain = u8(); this.sumLead = u8();
  }
}

/** Views over `buf` for `n` rows. */
export function columnsOf(buf: ArrayBuffer, n: number): Columns {
  return new Columns(buf, n);
}

const isU16 = (x: number | undefined): boolean => x !== undefined && (x & 0xffff) === x;
const isU8 = (x: number | undefined): boolean => x !== undefined && (x & 0xff) === x;

/** Whether the columns hold `p` exactly (what a view reads back deep-equals the decoded packet). */
function fits(p: Packet): boolean {
  if (!onlyColumnFields(p)) return false;
  const ip = p.ip;
  if (ip === undefined || p.src === undefined || p.dst === undefined || ip.frag !== undefined) return false;
  if (ip.v === 4 ? !isU16(ip.id) || typeof ip.df !== 'boolean' : ip.v !== 6 || ip.id !== undefined || ip.df !== undefined) return false;
  if (!isU8(ip.ttl) || !isU8(ip.proto) || !isU16(ip.len)) return false;
  if (!isU32(p.frame) || !isU32(p.tsSec) || !isU32(p.tsNsec) || !isU32(p.caplen) || !isU32(p.len)) return false;
  if (!isU16(p.ifaceId) || !isU16(p.linktype) || (p.ifindex !== undefined && !isU16(p.ifindex)) || (p.hatype !== undefined && !isU16(p.hatype))) return false;
  if (DIRS.indexOf(p.dir) < 0 || (p.payloadHash !== undefined && !isU32(p.payloadHash))) return false;
  const t = p.tcp, u = p.udp;
  if (t !== undefined && u !== undefined) return false;
  if ((t !== undefined || u !== undefined) !== (p.sport !== undefined && p.dport !== undefined)) return false;
  if (p.sport !== undefined && (!isU16(p.sport) || !isU16(p.dport))) return false;
  if (t === undefined && u === undefined && (p.sport !== undefined || p.dport !== undefined)) return false;
  if (t !== undefined) {
    if (t.relative !== undefined || (t.tsval === undefined) !== (t.tsecr === undefined)) return false;
    if (!isU32(t.seq) || !isU32(t.ack) || !isU16(t.win) || !isU16(t.len)) return false;
    if ((t.mss !== undefined && !isU16(t.mss)) || (t.wscale !== undefined && !isU8(t.wscale)) || (t.sackOk !== undefined && t.sackOk !== true)) return false;
    if (t.tsval !== undefined && (!isU32(t.tsval) || !isU32(t.tsecr))) return false;
    if (t.sack !== undefined) for (const [l, r] of t.sack) if (!isU32(l) || !isU32(r)) return false;
  }
  if (u !== undefined && !isU16(u.len)) return false;
  const w = p.wg;
  if (w !== undefined) {
    if (u === undefined || !isU8(w.type) || (w.type as number) === 0) return false;
    if ((w.sender !== undefined && !isU32(w.sender)) || (w.receiver !== undefined && !isU32(w.receiver))) return false;
    if (w.counter !== undefined) {
      const c = Number(w.counter);
      if (!(c >= 0 && c <= Number.MAX_SAFE_INTEGER) || String(c) !== w.counter) return false;
    }
  }
  // WireGuard and ESP fields reuse the TCP columns, so a row holds one of the three.
  const e = p.esp;
  if (e !== undefined && (w !== undefined || t !== undefined || !isU32(e.spi) || !isU32(e.seq))) return false;
  return true;
}

/** Digits in the decimal text of a non-negative integer. */
function decimalDigits(n: number): number {
  let d = 1;
  while (n >= 10) { n = Math.floor(n / 10); d++; }
  return d;
}

/** Where the decimal text of `n` (a port: no sign, no leading zeros) ends if `s` holds it at `at`, else -1. */
function matchDecimal(s: string, at: number, n: number): number {
  if (at < 0) return -1;
  const end = at + decimalDigits(n);
  if (end > s.length) return -1;
  for (let i = end - 1; i >= at; i--, n = Math.floor(n / 10)) if (s.charCodeAt(i) !== 48 + (n % 10)) return -1;
  return end;
}

/** Where `part` ends if `s` holds it at `at`, else -1. */
function matchText(s: string, at: number, part: string): number {
  return at >= 0 && s.startsWith(part, at) ? at + part.length : -1;
}

/**
 * Length of the decoder's summary lead-in for an IP packet, "IP a.1 > b.2: " ("IP6" for v6, ports
 * only where the packet has them), when p.summary starts with it; else 0. Matched piece by piece in
 * place: building the lead-in text for every row, to compare it, cost more than the rest of the
 * row's encoding.
 */
function leadLength(p: Packet): number {
  const s = p.summary;
  let at = matchText(s, 0, p.ip?.v === 6 ? 'IP6 ' : 'IP ');
  at = matchText(s, at, p.src!);
  if (at >= 0 && p.sport !== undefined) at = matchDecimal(s, matchText(s, at, '.'), p.sport);
  at = matchText(s, at, ' > ');
  at = matchText(s, at, p.dst!);
  if (at >= 0 && p.dport !== undefined) at = matchDecimal(s, matchText(s, at, '.'), p.dport);
  at = matchText(s, at, ': ');
  return at < 0 ? 0 : at;
}

/** Encodes packets (file order) into one column chunk; `transfer` lists its buffers for postMessage. */
export function encodeChunk(packets: readonly Packet[]): { chunk: ColumnChunk; transfer: ArrayBuffer[] } {
  const w = new ChunkWriter(packets.length);
  for (const p of packets) w.pushPacket(p);
  return w.take();
}

/** The typed arrays of a Columns, by name (for copying a chunk's rows into a buffer of their own size). */
const COLUMN_KEYS = Object.keys(columnsOf(new ArrayBuffer(COLUMN_BYTES_PER_ROW), 1)).filter((k) => k !== 'n') as Array<Exclude<keyof Columns, 'n'>>;

/**
 * Builds column chunks row by row, up to `capacity` rows each: from decoded packets (pushPacket), or
 * from rows a fast decoder filled straight from the frame's bytes with their summaries (the RowSink
 * side: internHead, addrId, pushRow; shared/ingest/frame-chunks.ts). Both paths intern strings in
 * the same order and write the same columns, so a chunk is the same whichever path each row took.
 * take() hands the chunk over and starts the next.
 */
export class ChunkWriter implements RowSink {
  // The chunk being written (all of it set by start()).
  private c!: Columns;
  private n!: number;
  private strs!: string[];
  private ids!: Map<string, number>;
  private sums!: string[];
  private sumOff!: Uint32Array;
  private sumLen!: number;
  private sack!: number[];
  private plainRows!: number[];
  private plain!: Packet[];
  // One remembered string and id per field: consecutive packets mostly repeat them (same flow, same interface).
  private lastIface: string | undefined; private ifaceId = 0;
  private lastProto: string | undefined; private protoId = 0;
  private lastFlags: string | undefined; private flagsId = 0;
  private readonly row = new ColumnRow();

  constructor(private readonly capacity: number) {
    this.start();
  }

  /** An empty chunk: fresh buffers (the last chunk's were handed over), tables and lists. */
  private start(): void {
    this.c = columnsOf(new ArrayBuffer(this.capacity * COLUMN_BYTES_PER_ROW), this.capacity);
    this.n = 0;
    this.strs = []; this.ids = new Map();
    this.sums = []; this.sumOff = new Uint32Array(this.capacity + 1); this.sumLen = 0;
    this.sack = []; this.plainRows = []; this.plain = [];
    this.lastIface = this.lastProto = this.lastFlags = undefined;
  }

  /** Rows written since the last take(). */
  get length(): number { return this.n; }

  private sid(s: string): number {
    let k = this.ids.get(s);
    if (k === undefined) { k = this.strs.length; this.strs.push(s); this.ids.set(s, k); }
    return k;
  }

  /** Interface, protocol and flag ids into `r`, interned in that order; false when the table is (nearly) full. */
  internHead(proto: string, flags: string | null, iface: string, r: ColumnRow): boolean {
    // An interning table past 16 bits cannot happen with app-sized chunks; checked all the same.
    if (this.strs.length > 0xfff0) return false;
    r.nameId = iface === this.lastIface ? this.ifaceId : ((this.lastIface = iface), (this.ifaceId = this.sid(iface)));
    r.protoId = proto === this.lastProto ? this.protoId : ((this.lastProto = proto), (this.protoId = this.sid(proto)));
    if (flags !== null) r.flagsId = flags === this.lastFlags ? this.flagsId : ((this.lastFlags = flags), (this.flagsId = this.sid(flags)));
    return true;
  }

  addrId(a: string): number {
    return this.sid(a);
  }

  /** Frame number, time and lengths (every row has them: they are read in bulk), and the row's start in the summaries. */
  private open(frame: number, tsSec: number, tsNsec: number, caplen: number, len: number): number {
    if (this.n === this.capacity) throw new RangeError(`a chunk holds ${this.capacity} rows`);
    const k = this.n++, c = this.c;
    c.frame[k] = frame; c.tsSec[k] = tsSec; c.tsNsec[k] = tsNsec; c.caplen[k] = caplen; c.len[k] = len;
    this.sumOff[k] = this.sumLen;
    return k;
  }

  /** Adds one decoded packet: as columns when they hold it exactly, as the object itself otherwise. */
  pushPacket(p: Packet): void {
    const k = this.open(p.frame, p.tsSec, p.tsNsec, p.caplen, p.len);
    const r = this.row;
    if (!fits(p) || !this.internHead(p.proto, p.tcp !== undefined ? p.tcp.flags : null, p.iface, r)) {
      this.c.isPlain[k] = 1;
      this.plainRows.push(k);
      this.plain.push(p);
      this.sums.push('');
      return;
    }
    r.srcId = this.sid(p.src!);
    r.dstId = this.sid(p.dst!);
    fillRow(p, r);
    const lead = leadLength(p);
    this.write(k, r, lead > 0 ? p.summary.slice(lead) : p.summary, lead > 0);
  }

  /** Adds a row a fast decoder filled, ids from internHead and addrId, `r.sum` its summary after the lead-in. */
  pushRow(r: ColumnRow): void {
    const k = this.open(r.frame, r.tsSec, r.tsNsec, r.caplen, r.len);
    this.write(k, r, r.sum, true);
  }

  /** The columns of row k, which the row's flags say it has. */
  private write(k: number, r: ColumnRow, own: string, lead: boolean): void {
    const c = this.c;
    if (lead) c.sumLead[k] = 1;
    this.sums.push(own);
    this.sumLen += own.length;
    c.name[k] = r.nameId; c.ifaceId[k] = r.ifaceId; c.linktype[k] = r.linktype; c.dir[k] = r.dir;
    const fl = r.fl;
    if ((fl & F_IFINDEX) !== 0) c.ifindex[k] = r.ifindex;
    if ((fl & F_HATYPE) !== 0) c.hatype[k] = r.hatype;
    c.proto[k] = r.protoId; c.src[k] = r.srcId; c.dst[k] = r.dstId;
    if ((fl & F_V6) === 0) c.ipId[k] = r.ipId;
    c.ttl[k] = r.ttl; c.ipLen[k] = r.ipLen; c.ipProto[k] = r.ipProto;
    if ((fl & (F_TCP | F_UDP)) !== 0) { c.sport[k] = r.sport; c.dport[k] = r.dport; c.l4len[k] = r.l4len; }
    if ((fl & F_TCP) !== 0) {
      c.tflags[k] = r.flagsId; c.win[k] = r.win;
      if ((fl & F_MSS) !== 0) c.mss[k] = r.mss;
      if ((fl & F_WSCALE) !== 0) c.wscale[k] = r.wscale;
      if ((fl & F_SACK) !== 0) {
        this.sack.push(k, r.sackLen >> 1);
        for (let i = 0; i < r.sackLen; i++) this.sack.push(r.sackEdges[i]!);
      }
    }
    // seq/ack hold TCP's numbers, WireGuard's sender/receiver or ESP's spi/seq (a row has one of them);
    // tsval/tsecr TCP's timestamps or the WireGuard counter's low and high halves.
    if ((fl & (F_TCP | F_WG_SENDER | F_ESP)) !== 0) c.seq[k] = r.seq;
    if ((fl & (F_TCP | F_WG_RECEIVER | F_ESP)) !== 0) c.ack[k] = r.ack;
    if ((fl & (F_TS | F_WG_COUNTER)) !== 0) { c.tsval[k] = r.tsval; c.tsecr[k] = r.tsecr; }
    c.wgType[k] = r.wgType;
    if ((fl & F_HASH) !== 0) c.hash[k] = r.hash;
    c.fl[k] = fl;
  }

  /** The chunk of the rows written since the last take() (`transfer`: its buffers, for postMessage); the writer starts afresh. */
  take(): { chunk: ColumnChunk; transfer: ArrayBuffer[] } {
    const n = this.n;
    let cols = this.c;
    if (n < this.capacity) {
      // The layout depends on the row count: a short chunk (the last of a file) gets a buffer of its own size.
      const fitted = columnsOf(new ArrayBuffer(n * COLUMN_BYTES_PER_ROW), n);
      for (const key of COLUMN_KEYS) fitted[key].set(cols[key].subarray(0, n));
      cols = fitted;
    }
    const buf = cols.frame.buffer as ArrayBuffer;
    this.sumOff[n] = this.sumLen;
    const sumOff = n < this.capacity ? this.sumOff.slice(0, n + 1) : this.sumOff;
    const sackArr = this.sack.length ? Uint32Array.from(this.sack) : null;
    const chunk: ColumnChunk = {
      v: 1,
      n,
      buf,
      strs: this.strs,
      sum: this.sums.join(''),
      sumOff,
      sack: sackArr,
      plainRows: this.plainRows.length ? Uint32Array.from(this.plainRows) : null,
      plain: this.plain.length ? this.plain : null,
    };
    const transfer = [buf, sumOff.buffer as ArrayBuffer];
    if (sackArr) transfer.push(sackArr.buffer as ArrayBuffer);
    if (chunk.plainRows) transfer.push(chunk.plainRows.buffer as ArrayBuffer);
    this.start();
    return { chunk, transfer };
  }
}

/** A chunk ready for reading: its views, its plain rows by offset and its SACK blocks by row. */
export class LoadedChunk {
  readonly cols: Columns;
  readonly strs: string[];
  readonly sum: string;
  readonly sumOff: Uint32Array;
  private readonly plainAt: Map<number, Packet> | null;
  private sackAt: Map<number, number> | null = null;
  private readonly sack: Uint32Array | null;

  constructor(c: ColumnChunk) {
    if (c.v !== 1) throw new Error(`packet chunk format ${String(c.v)} is newer than this version of Tandem`);
    this.cols = columnsOf(c.buf, c.n);
    this.strs = c.strs;
    this.sum = c.sum;
    this.sumOff = c.sumOff;
    this.sack = c.sack;
    this.plainAt = null;
    if (c.plainRows && c.plain) {
      const m = new Map<number, Packet>();
      for (let i = 0; i < c.plainRows.length; i++) m.set(c.plainRows[i]!, c.plain[i]!);
      this.plainAt = m;
    }
  }

  get length(): number { return this.cols.n; }

  /** Row k as a Packet: the decoder's object for plain rows, a read-only view otherwise. */
  at(k: number): Packet | undefined {
    if (!(k >= 0 && k < this.cols.n)) return undefined;
    if (this.cols.isPlain[k] === 1) return this.plainAt?.get(k);
    return new ColumnPacket(this, k);
  }

  /**
   * Summary of column row k, built straight from the columns (no view): what ColumnPacket.summary
   * returns, and what a filter on the summary reads for each row.
   */
  summaryAt(k: number): string {
    const c = this.cols;
    const own = this.sum.slice(this.sumOff[k]!, this.sumOff[k + 1]!);
    if (c.sumLead[k] !== 1) return own;
    const fl = c.fl[k]!;
    const ports = (fl & (F_TCP | F_UDP)) !== 0;
    // The lead-in leadLength found in the packet's summary.
    return `${(fl & F_V6) !== 0 ? 'IP6' : 'IP'} ${this.strs[c.src[k]!]}${ports ? `.${c.sport[k]}` : ''} > ${this.strs[c.dst[k]!]}${ports ? `.${c.dport[k]}` : ''}: ` + own;
  }

  /** SACK edges of row k, [left, right, …]. */
  sackOf(k: number): number[] {
    const s = this.sack;
    if (!s) return [];
    if (!this.sackAt) {
      this.sackAt = new Map();
      for (let i = 0; i < s.length; i += 2 + 2 * s[i + 1]!) this.sackAt.set(s[i]!, i);
    }
    const i = this.sackAt.get(k);
    return i === undefined ? [] : Array.from(s.subarray(i + 2, i + 2 + 2 * s[i + 1]!));
  }

  /** Bytes held (columns, summaries, tables): for memory accounting. */
  get bytes(): number {
    return this.cols.frame.buffer.byteLength + this.sum.length + this.sumOff.byteLength + (this.sack?.byteLength ?? 0);
  }
}

/**
 * Read-only view of one column-held row; reads like the decoder's Packet. Sub-objects are built on
 * first read and kept by the view (a filter reads p.tcp several times per packet); views are not
 * kept by the list, so this costs nothing once the caller lets go.
 */
class ColumnPacket extends ColumnView implements Packet {
  private _ip: IpInfo | undefined;
  private _tcp: TcpInfo | undefined | null = null;
  protected readonly s: Columns;
  constructor(private readonly c: LoadedChunk, protected readonly k: number) {
    super();
    this.s = c.cols;
  }
  get frame(): number { return this.s.frame[this.k]!; }
  get tsSec(): number { return this.s.tsSec[this.k]!; }
  get tsNsec(): number { return this.s.tsNsec[this.k]!; }
  get iface(): string { return this.c.strs[this.s.name[this.k]!]!; }
  get ifaceId(): number { return this.s.ifaceId[this.k]!; }
  get ifindex(): number | undefined { return (this.s.fl[this.k]! & F_IFINDEX) !== 0 ? this.s.ifindex[this.k]! : undefined; }
  get hatype(): number | undefined { return (this.s.fl[this.k]! & F_HATYPE) !== 0 ? this.s.hatype[this.k]! : undefined; }
  get dir(): Direction | null { return DIRS[this.s.dir[this.k]!]!; }
  get linktype(): number { return this.s.linktype[this.k]!; }
  get caplen(): number { return this.s.caplen[this.k]!; }
  get len(): number { return this.s.len[this.k]!; }
  get src(): string { return this.c.strs[this.s.src[this.k]!]!; }
  get dst(): string { return this.c.strs[this.s.dst[this.k]!]!; }
  get proto(): string { return this.c.strs[this.s.proto[this.k]!]!; }
  override get ip(): IpInfo { return (this._ip ??= this.makeIp()); }
  override get tcp(): TcpInfo | undefined {
    if (this._tcp === null) this._tcp = super.tcp;
    return this._tcp;
  }
  protected flagsOf(k: number): string { return this.c.strs[this.s.tflags[k]!]!; }
  protected mssOf(k: number): number { return this.s.mss[k]!; }
  protected wscaleOf(k: number): number { return this.s.wscale[k]!; }
  protected sackOf(k: number): ArrayLike<number> { return this.c.sackOf(k); }
  get summary(): string { return this.c.summaryAt(this.k); }

  /** The same packet as a plain object (JSON, postMessage, React state that is cloned). */
  toJSON(): Packet { return plainPacket(this); }
}

/** A plain-object copy of a packet in either form (views cannot be structured-cloned). */
export function plainPacket(p: Packet): Packet {
  return p instanceof ColumnPacket ? plainCopy(p) : p;
}

/** A stored chunk in either form: `cols` (this module) or `packets` (schema v1/v2 sessions). */
export interface StoredChunk {
  cols?: ColumnChunk;
  packets?: Packet[];
}

/** Reads a stored chunk whichever form it has; an old one is converted on the fly. */
export function fromStoredChunk(rec: StoredChunk): LoadedChunk {
  if (rec.cols) return new LoadedChunk(rec.cols);
  return new LoadedChunk(encodeChunk(rec.packets ?? []).chunk);
}

/**
 * A whole capture as its loaded chunks, read by position like an array. Chunks normally hold the
 * same number of rows (all but the last); when they do not, a position is found by binary search.
 */
export class ChunkPackets implements PacketList {
  readonly length: number;
  private readonly size: number;
  private readonly uniform: boolean;
  private readonly starts: Uint32Array;

  constructor(readonly chunks: readonly LoadedChunk[]) {
    this.starts = new Uint32Array(chunks.length + 1);
    let total = 0;
    for (let i = 0; i < chunks.length; i++) {
      this.starts[i] = total;
      total += chunks[i]!.length;
    }
    this.starts[chunks.length] = total;
    this.length = total;
    this.size = chunks[0]?.length ?? 1;
    this.uniform = chunks.every((c, i) => c.length === this.size || i === chunks.length - 1) && this.size > 0;
  }

  /** The chunk index and the row in it of position i. */
  locate(i: number): [number, number] {
    if (this.uniform) {
      const c = Math.floor(i / this.size);
      return [c, i - c * this.size];
    }
    let lo = 0, hi = this.chunks.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if (this.starts[mid]! <= i) lo = mid;
      else hi = mid - 1;
    }
    return [lo, i - this.starts[lo]!];
  }

  at(i: number): Packet | undefined {
    if (!(i >= 0 && i < this.length)) return undefined;
    if (this.uniform) {
      const c = Math.floor(i / this.size);
      return this.chunks[c]!.at(i - c * this.size);
    }
    const [c, k] = this.locate(i);
    return this.chunks[c]!.at(k);
  }

  *[Symbol.iterator](): Iterator<Packet> {
    for (const c of this.chunks) for (let k = 0; k < c.length; k++) yield c.at(k)!;
  }
}

