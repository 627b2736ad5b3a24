// pcapng: a sequence of blocks (type, total length, body, total length repeated). Each Section Header
// Block starts a section with its own byte order and its own interface numbering; the reader exposes one
// global interface list (IDB order across sections) and maps each packet's section-local id onto it.

import type { CaptureInterface, CaptureProblem, RawFrame } from './types.ts';
import type { RecordParser } from './record-parser.ts';

export const BT_SHB = 0x0a0d0d0a;
export const BT_IDB = 1;
export const BT_PB = 2;
export const BT_SPB = 3;
export const BT_NRB = 4;
export const BT_ISB = 5;
export const BT_EPB = 6;
export const BT_DSB = 0x0a;
export const BOM = 0x1a2b3c4d;

/** Blocks longer than this are taken as damage rather than waited for (Wireshark uses a similar bound). */
export const MAX_BLOCK_LENGTH = 128 * 1024 * 1024;
/**
 * More interfaces than any capture tool writes: past it the file is taken as damage (each new interface
 * costs every reader downstream a copy of the list, so an unbounded count would cost time squared).
 */
export const MAX_INTERFACES = 10000;
/** Comment text kept per block; the rest is dropped with a note (option lengths are 16-bit, counts are not). */
export const MAX_COMMENT_BYTES = 64 * 1024;
/** Seconds a JavaScript Date can show (±100 million days): a time past it is refused, not shown wrong. */
export const MAX_TIME_SEC = 8.64e12;
/** A block nobody reads (DSB, ISB, custom, unknown) longer than this is dropped as it streams by, not buffered. */
export const SKIP_FROM = 64 * 1024;

/** One name resolution record (NRB): an address and the names given for it. */
export interface NameRecord { addr: string; names: string[] }

/** Timestamp resolution of one interface, reduced to what the conversion needs. */
interface TsUnit {
  /** n in 10^-n when decimal, else -1. */
  dec: number;
  /** n in 2^-n when binary, else -1. */
  bin: number;
  /** 10^n for decimal n ≤ 9 (the fast exact path). */
  div: number;
  /** Seconds added to every timestamp (if_tsoffset). */
  offset: number;
}

const utf8 = new TextDecoder('utf-8');
const TWO32 = 4294967296;

/**
 * Converts a 64-bit count of units (hi:lo) to seconds and nanoseconds without losing precision.
 * Decimal resolutions up to 10^-9 use a three-step long division in doubles (every partial value
 * stays below 2^53); anything else goes through BigInt.
 */
export function unitsToTime(hi: number, lo: number, u: { dec: number; bin: number; div: number }): [number, number] {
  if (u.dec >= 0 && u.dec <= 9) {
    const d = u.div;
    const hq = Math.floor(hi / d);
    const hr = hi - hq * d;
    const x = hr * 65536 + (lo >>> 16);
    const qa = Math.floor(x / d);
    const ra = x - qa * d;
    const y = ra * 65536 + (lo & 0xffff);
    const qb = Math.floor(y / d);
    const rb = y - qb * d;
    return [hq * TWO32 + qa * 65536 + qb, rb * (1e9 / d)];
  }
  const v = (BigInt(hi) << 32n) | BigInt(lo);
  if (u.bin >= 0) {
    const n = BigInt(u.bin);
    const frac = v & ((1n << n) - 1n);
    return [Number(v >> n), Number((frac * 1000000000n) >> n)];
  }
  const units = 10n ** BigInt(u.dec);
  return [Number(v / units), Number(((v % units) * 1000000000n) / units)];
}

/**
 * unitsToTime for the parser's every packet, without an array per call: the result is left in
 * `unitSec`/`unitNsec`. Counts below 2^52 (microsecond times until the year 2112) are divided in
 * one step; the remainder is then the long division's, and so are the nanoseconds.
 */
let unitSec = 0, unitNsec = 0;
function unitsToTimeInto(hi: number, lo: number, u: { dec: number; bin: number; div: number }): void {
  if (u.dec >= 0 && u.dec <= 9 && hi < 0x100000) {
    const d = u.div;
    const v = hi * TWO32 + lo;
    // The quotient rounded to a double is never an integer too high below 2^53 (that would need
    // v/d within v·2^-53 < 1/d of the next integer), so its floor is exact, and so is the remainder.
    const q = Math.floor(v / d);
    unitSec = q;
    unitNsec = (v - q * d) * (1e9 / d);
    return;
  }
  const [sec, nsec] = unitsToTime(hi, lo, u);
  unitSec = sec;
  unitNsec = nsec;
}

/** unitsToTimeInto as a pair (tests hold it to unitsToTime). */
export function unitsToTimeFast(hi: number, lo: number, u: { dec: number; bin: number; div: number }): [number, number] {
  unitsToTimeInto(hi, lo, u);
  return [unitSec, unitNsec];
}

function tsUnit(resol: number | undefined, offset: number): TsUnit {
  if (resol === undefined) return { dec: 6, bin: -1, div: 1e6, offset };
  const n = resol & 0x7f;
  if (resol & 0x80) return { dec: -1, bin: n, div: 0, offset };
  return { dec: n, bin: -1, div: n <= 9 ? 10 ** n : 0, offset };
}

function ipv4(b: Uint8Array, p: number): string { return `${b[p]}.${b[p + 1]}.${b[p + 2]}.${b[p + 3]}`; }

function ipv6(b: Uint8Array, p: number): string {
  const parts: string[] = [];
  for (let i = 0; i < 16; i += 2) parts.push(((b[p + i]! << 8) | b[p + i + 1]!).toString(16));
  return parts.join(':').replace(/(^|:)0(:0)+(:|$)/, '::');
}

export class PcapngParser implements RecordParser {
  interfaces: CaptureInterface[] = [];
  problems: CaptureProblem[] = [];
  sectionComments: string[] = [];
  nameRecords: NameRecord[] = [];
  failed = false;
  need = 12;
  private le = true;
  private section = -1;
  /** Section-local interface id → global id. */
  private local: number[] = [];
  private units: TsUnit[] = [];
  private frameNo = 0;
  private warnedTime = false;
  skip = 0;
  /** A block being skipped: its length and offset, until its trailing length is checked. */
  private skipped: { total: number; offset: number } | null = null;
  private warnedComments = false;

  parse(buf: Uint8Array, pos: number, end: number, base: number, out: RawFrame[], limit: number): number {
    // Until the reader has dropped the skipped bytes (it may first hand out a full batch), wait.
    if (this.failed || this.skip > 0) return pos;
    const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    while (out.length < limit) {
      if (this.skipped) {
        // The reader dropped the body of a skipped block: what is left is its trailing length.
        if (end - pos < 4) { this.need = 4; return pos; }
        const { total, offset } = this.skipped;
        const trailer = dv.getUint32(pos, this.le);
        if (trailer !== total) { this.fail(offset, `block length ${total} does not match its trailing copy ${trailer}`); return pos; }
        this.skipped = null;
        pos += 4;
        continue;
      }
      if (end - pos < 12) { this.need = 12; return pos; }
      let le = this.le;
      let type = dv.getUint32(pos, le);
      if (type === BT_SHB || (this.section < 0)) {
        if (dv.getUint32(pos, true) !== BT_SHB) { this.fail(base + pos, 'file does not start with a section header block'); return pos; }
        type = BT_SHB;
        if (dv.getUint32(pos + 8, true) === BOM) le = true;
        else if (dv.getUint32(pos + 8, false) === BOM) le = false;
        else { this.fail(base + pos, 'section header block with an unknown byte-order mark'); return pos; }
      }
      const total = dv.getUint32(pos + 4, le);
      if (total < 12 || total % 4 !== 0 || total > MAX_BLOCK_LENGTH) {
        this.fail(base + pos, `bad block length ${total} (block type 0x${type.toString(16)})`);
        return pos;
      }
      if (end - pos < total) {
        if (total > SKIP_FROM && type !== BT_SHB && type !== BT_IDB && type !== BT_EPB && type !== BT_PB && type !== BT_SPB && type !== BT_NRB) {
          this.skipped = { total, offset: base + pos };
          this.skip = total - 4;
          this.need = 4;
          return pos;
        }
        this.need = total;
        return pos;
      }
      if (dv.getUint32(pos + total - 4, le) !== total) {
        this.fail(base + pos, `block length ${total} does not match its trailing copy ${dv.getUint32(pos + total - 4, le)}`);
        return pos;
      }
      const body = pos + 8;
      const bodyEnd = pos + total - 4;
      switch (type) {
        case BT_EPB: {
          if (bodyEnd - body < 20) { this.fail(base + pos, `enhanced packet block too short (${total} bytes)`); return pos; }
          const lid = dv.getUint32(body, le);
          const caplen = dv.getUint32(body + 12, le);
          if (lid >= this.local.length) { this.fail(base + pos, `packet for undefined interface ${lid}`); return pos; }
          if (20 + caplen > bodyEnd - body) { this.fail(base + pos, `captured length ${caplen} exceeds the block (${total} bytes)`); return pos; }
          const id = this.local[lid]!;
          this.time(dv.getUint32(body + 4, le), dv.getUint32(body + 8, le), id, base + pos);
          const start = body + 20;
          const f: RawFrame = {
            frame: ++this.frameNo, offset: base + pos, ifaceId: id, tsSec: this.tSec, tsNsec: this.tNsec,
            caplen, len: dv.getUint32(body + 16, le), data: buf.subarray(start, start + caplen),
          };
          const optStart = start + ((caplen + 3) & ~3);
          if (optStart + 4 <= bodyEnd) this.packetOptions(buf, dv, le, optStart, bodyEnd, f, base + pos);
          out.push(f);
          break;
        }
        case BT_SPB: {
          if (bodyEnd - body < 4) { this.fail(base + pos, `simple packet block too short (${total} bytes)`); return pos; }
          if (this.local.length === 0) { this.fail(base + pos, 'simple packet block before any interface description'); return pos; }
          const id = this.local[0]!;
          const len = dv.getUint32(body, le);
          let caplen = Math.min(len, bodyEnd - body - 4);
          const snap = this.interfaces[id]!.snaplen;
          if (snap > 0 && caplen > snap) caplen = snap;
          out.push({
            frame: ++this.frameNo, offset: base + pos, ifaceId: id, tsSec: 0, tsNsec: 0, caplen, len,
            data: buf.subarray(body + 4, body + 4 + caplen),
          });
          break;
        }
        case BT_PB: {
          if (bodyEnd - body < 20) { this.fail(base + pos, `packet block too short (${total} bytes)`); return pos; }
          const lid = le ? dv.getUint16(body, true) : dv.getUint16(body, false);
          const caplen = dv.getUint32(body + 12, le);
          if (lid >= this.local.length) { this.fail(base + pos, `packet for undefined interface ${lid}`); return pos; }
          if (20 + caplen > bodyEnd - body) { this.fail(base + pos, `captured length ${caplen} exceeds the block (${total} bytes)`); return pos; }
          const id = this.local[lid]!;
          this.time(dv.getUint32(body + 4, le), dv.getUint32(body + 8, le), id, base + pos);
          const start = body + 20;
          const f: RawFrame = {
            frame: ++this.frameNo, offset: base + pos, ifaceId: id, tsSec: this.tSec, tsNsec: this.tNsec,
            caplen, len: dv.getUint32(body + 16, le), data: buf.subarray(start, start + caplen),
          };
          const optStart = start + ((caplen + 3) & ~3);
          if (optStart + 4 <= bodyEnd) this.packetOptions(buf, dv, le, optStart, bodyEnd, f, base + pos);
          out.push(f);
          break;
        }
        case BT_SHB: {
          if (bodyEnd - body < 16) { this.fail(base + pos, `section header block too short (${total} bytes)`); return pos; }
          const major = dv.getUint16(body + 4, le);
          if (major !== 1) { this.fail(base + pos, `unsupported pcapng version ${major}.${dv.getUint16(body + 6, le)}`); return pos; }
          this.le = le;
          this.section++;
          this.local = [];
          const budget = this.commentBudget(base + pos);
          this.options(buf, dv, le, body + 16, bodyEnd, (code, s, e) => {
            if (code === 1) { const c = budget(s, e); if (c !== null) this.sectionComments.push(utf8.decode(buf.subarray(s, c))); }
          });
          break;
        }
        case BT_IDB: {
          if (bodyEnd - body < 8) { this.fail(base + pos, `interface description block too short (${total} bytes)`); return pos; }
          if (this.interfaces.length >= MAX_INTERFACES) { this.fail(base + pos, `more than ${MAX_INTERFACES} interface descriptions (no capture tool writes that many)`); return pos; }
          const iface: CaptureInterface = {
            id: this.interfaces.length, name: '', linktype: dv.getUint16(body, le), snaplen: dv.getUint32(body + 4, le),
            section: this.section,
          };
          let resol: number | undefined;
          let offset = 0;
          this.options(buf, dv, le, body + 8, bodyEnd, (code, s, e) => {
            if (code === 2) iface.name = utf8.decode(buf.subarray(s, e));
            else if (code === 3) iface.description = utf8.decode(buf.subarray(s, e));
            else if (code === 9 && e > s) resol = buf[s];
            else if (code === 14 && e - s >= 8) offset = Number(dv.getBigInt64(s, le));
          });
          this.local.push(iface.id);
          this.units.push(tsUnit(resol, offset));
          this.interfaces.push(iface);
          break;
        }
        case BT_NRB:
          this.nameRecordsFrom(buf, dv, le, body, bodyEnd);
          break;
        default:
          // ISB, DSB, custom and unknown blocks carry nothing a frame needs: skip them by length.
          break;
      }
      pos += total;
    }
    this.need = 12;
    return pos;
  }

  finish(pos: number, end: number, base: number): void {
    if (this.failed) return;
    if (this.skipped) {
      const { total, offset } = this.skipped;
      this.fail(offset, `truncated block (needs ${total} bytes, ${base + end - offset} left)`);
      return;
    }
    if (end <= pos) return;
    this.fail(base + pos, end - pos < 12
      ? `truncated block header (${end - pos} bytes left)`
      : `truncated block (needs ${this.need} bytes, ${end - pos} left)`);
  }

  /**
   * Block time in seconds and nanoseconds, if_tsoffset included. A time a Date cannot show (a hostile
   * if_tsresol or if_tsoffset, or garbage in the stamp) becomes 0, as for an SPB, with one note.
   */
  /** The last packet block's time (set by `time`), seconds and nanoseconds since 1970. */
  private tSec = 0;
  private tNsec = 0;

  /** Sets tSec/tNsec from a block's 64-bit time (no array per packet). */
  private time(hi: number, lo: number, id: number, offset: number): void {
    const u = this.units[id]!;
    unitsToTimeInto(hi, lo, u);
    const t = unitSec + u.offset;
    if (Math.abs(t) <= MAX_TIME_SEC && Number.isFinite(unitNsec)) { this.tSec = t; this.tNsec = unitNsec; return; }
    if (!this.warnedTime) {
      this.warnedTime = true;
      this.problems.push({ fatal: false, offset, message: `time out of range on frame ${this.frameNo + 1} (interface ${id}: ${t.toExponential(3)} s from 1970); such times are shown as 0` });
    }
    this.tSec = 0; this.tNsec = 0;
  }

  /** Per block: trims comment option [s, e) to what is left of MAX_COMMENT_BYTES (its new end), or null. */
  private commentBudget(blockOffset: number): (s: number, e: number) => number | null {
    let left = MAX_COMMENT_BYTES;
    return (s, e) => {
      if (e - s > left && !this.warnedComments) {
        this.warnedComments = true;
        this.problems.push({ fatal: false, offset: blockOffset, message: `comments past ${MAX_COMMENT_BYTES} bytes in one block dropped` });
      }
      if (left <= 0) return null;
      const c = Math.min(e, s + left);
      left -= c - s;
      return c;
    };
  }

  private packetOptions(buf: Uint8Array, dv: DataView, le: boolean, p: number, end: number, f: RawFrame, blockOffset: number): void {
    const budget = this.commentBudget(blockOffset);
    this.options(buf, dv, le, p, end, (code, s, e) => {
      if (code === 1) { const c = budget(s, e); if (c !== null) (f.comments ??= []).push(utf8.decode(buf.subarray(s, c))); }
      else if (code === 2 && e - s >= 4) f.epbFlags = dv.getUint32(s, le);
    });
  }

  /** Walks an option list; stops at opt_endofopt or at an option that would overrun the block. */
  private options(buf: Uint8Array, dv: DataView, le: boolean, p: number, end: number,
    each: (code: number, start: number, end: number) => void): void {
    void buf;
    while (p + 4 <= end) {
      const code = dv.getUint16(p, le);
      const len = dv.getUint16(p + 2, le);
      if (code === 0) return;
      const s = p + 4;
      if (s + len > end) return;
      each(code, s, s + len);
      p = s + ((len + 3) & ~3);
    }
  }

  private nameRecordsFrom(buf: Uint8Array, dv: DataView, le: boolean, p: number, end: number): void {
    while (p + 4 <= end) {
      const type = dv.getUint16(p, le);
      const len = dv.getUint16(p + 2, le);
      if (type === 0) return;
      const s = p + 4;
      if (s + len > end) return;
      const alen = type === 1 ? 4 : type === 2 ? 16 : 0;
      if (alen > 0 && len > alen) {
        const names = utf8.decode(buf.subarray(s + alen, s + len)).split('\0').filter((n) => n !== '');
        this.nameRecords.push({ addr: alen === 4 ? ipv4(buf, s) : ipv6(buf, s), names });
      }
      p = s + ((len + 3) & ~3);
    }
  }

  private fail(offset: number, message: string): void {
    this.failed = true;
    this.problems.push({ fatal: true, offset, message });
  }
}
