// Append-as-you-go pcapng file for live capture: SHB and one IDB per interface up front, then EPBs
// written with fs.writeSync per batch, so a killed process leaves a file readable up to its last batch.
// Only the three block kinds a live capture needs are encoded here.
import { closeSync, ftruncateSync, openSync, writeSync } from 'node:fs';

export interface SpoolInterface { name: string; description?: string; linktype: number; snaplen: number }

export interface SpoolPacket {
  ifaceId: number;
  /** Seconds and nanoseconds since the epoch (interfaces are declared with if_tsresol = 9). */
  tsSec: number;
  tsNsec: number;
  data: Uint8Array;
  /** Original length; defaults to data.length. */
  len?: number;
  /** epb_flags direction: 1 inbound, 2 outbound, 0 or absent unknown (no option written). */
  dir?: 0 | 1 | 2;
}

const enc = new TextEncoder();
const pad4 = (n: number) => (n + 3) & ~3;

/** Options as [code, value] pairs → encoded bytes with opt_endofopt, or empty when there are none. */
function options(opts: [number, Uint8Array][]): Uint8Array {
  if (opts.length === 0) return new Uint8Array(0);
  let size = 4;
  for (const [, v] of opts) size += 4 + pad4(v.length);
  const out = new Uint8Array(size);
  const dv = new DataView(out.buffer);
  let p = 0;
  for (const [code, v] of opts) {
    dv.setUint16(p, code, true); dv.setUint16(p + 2, v.length, true);
    out.set(v, p + 4);
    p += 4 + pad4(v.length);
  }
  return out; // the trailing 4 zero bytes are opt_endofopt
}

function block(type: number, body: Uint8Array): Uint8Array {
  const total = 12 + body.length;
  const out = new Uint8Array(total);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, type, true); dv.setUint32(4, total, true);
  out.set(body, 8);
  dv.setUint32(total - 4, total, true);
  return out;
}

export function encodeShb(userAppl: string): Uint8Array {
  const opts = options([[4, enc.encode(userAppl)]]); // shb_userappl
  const body = new Uint8Array(16 + opts.length);
  const dv = new DataView(body.buffer);
  dv.setUint32(0, 0x1a2b3c4d, true);
  dv.setUint16(4, 1, true); dv.setUint16(6, 0, true);
  dv.setBigInt64(8, -1n, true); // section length unknown: it grows while capturing
  body.set(opts, 16);
  return block(0x0a0d0d0a, body);
}

export function encodeIdb(i: SpoolInterface): Uint8Array {
  const o: [number, Uint8Array][] = [[2, enc.encode(i.name)]]; // if_name
  if (i.description) o.push([3, enc.encode(i.description)]);
  o.push([9, Uint8Array.of(9)]); // if_tsresol: nanoseconds
  const opts = options(o);
  const body = new Uint8Array(8 + opts.length);
  const dv = new DataView(body.buffer);
  dv.setUint16(0, i.linktype, true);
  dv.setUint32(4, i.snaplen, true);
  body.set(opts, 8);
  return block(1, body);
}

/**
 * sec * 1e9 + nsec as two 32-bit words, exactly, without BigInt (it runs once per captured packet):
 * the seconds are split into 16-bit halves so every partial product stays below 2^53.
 */
export function nanosWords(sec: number, nsec: number): [number, number] {
  const sh = Math.floor(sec / 65536), sl = sec - sh * 65536;
  const a = sh * 1e9; // stands for a * 2^16
  const b = sl * 1e9 + nsec;
  const aHi = Math.floor(a / 65536), aLo = a - aHi * 65536;
  const m = aLo * 65536 + b;
  const mHi = Math.floor(m / 4294967296);
  return [aHi + mHi, m - mHi * 4294967296];
}

/** Encoded size of one EPB, to size a batch buffer exactly. */
export function epbSize(p: SpoolPacket): number { return 32 + pad4(p.data.length) + (p.dir ? 12 : 0); }

/** Writes one EPB at out[pos]; returns the position after it. */
export function writeEpb(out: Uint8Array, dv: DataView, pos: number, p: SpoolPacket): number {
  const total = epbSize(p);
  dv.setUint32(pos, 6, true); dv.setUint32(pos + 4, total, true);
  dv.setUint32(pos + 8, p.ifaceId, true);
  const [hi, lo] = nanosWords(p.tsSec, p.tsNsec);
  dv.setUint32(pos + 12, hi, true);
  dv.setUint32(pos + 16, lo, true);
  dv.setUint32(pos + 20, p.data.length, true);
  dv.setUint32(pos + 24, p.len ?? p.data.length, true);
  out.set(p.data, pos + 28);
  let q = pos + 28 + pad4(p.data.length);
  for (let k = pos + 28 + p.data.length; k < q; k++) out[k] = 0; // buffers are reused: clear the padding
  if (p.dir) {
    dv.setUint16(q, 2, true); dv.setUint16(q + 2, 4, true); dv.setUint32(q + 4, p.dir, true); // epb_flags
    dv.setUint32(q + 8, 0, true); // opt_endofopt
    q += 12;
  }
  dv.setUint32(q, total, true);
  return q + 4;
}

/** The disk filled while a batch was written: `kept` of its packets are whole in the file, the rest are not. */
export class SpoolFullError extends Error {
  constructor(cause: unknown, readonly kept: number) {
    super(cause instanceof Error ? cause.message : String(cause), { cause });
    this.name = 'SpoolFullError';
    if (cause instanceof Error && 'code' in cause) (this as { code?: unknown }).code = (cause as { code?: unknown }).code;
  }
}

export class PcapngSpool {
  private fd: number;
  private buf = new Uint8Array(1 << 20);
  private dv = new DataView(this.buf.buffer);
  /** Bytes written to the file so far. */
  bytes = 0;
  packets = 0;

  /** Interfaces declared so far; a packet's ifaceId indexes this list. */
  interfaces = 0;

  constructor(readonly path: string, interfaces: SpoolInterface[], userAppl = 'Tandem live capture') {
    this.fd = openSync(path, 'w', 0o644);
    this.writeAll(encodeShb(userAppl));
    for (const i of interfaces) this.addInterface(i);
  }

  /** Declares one more interface (pcapng allows an IDB anywhere before its first packet); returns its id. */
  addInterface(i: SpoolInterface): number {
    this.writeAll(encodeIdb(i));
    return this.interfaces++;
  }

  /**
   * Appends a batch with one write() call. When the disk fills part way, the file is cut back to the last
   * whole packet block that reached it and a SpoolFullError says how many of the batch's packets are kept.
   */
  append(packets: SpoolPacket[]): void {
    if (packets.length === 0) return;
    let size = 0;
    for (const p of packets) size += epbSize(p);
    if (size > this.buf.length) {
      this.buf = new Uint8Array(Math.max(size, this.buf.length * 2));
      this.dv = new DataView(this.buf.buffer);
    }
    let pos = 0;
    for (const p of packets) pos = writeEpb(this.buf, this.dv, pos, p);
    const written = this.writeSome(this.buf.subarray(0, pos));
    if (typeof written === 'number') { this.bytes += pos; this.packets += packets.length; return; }
    // Keep the packets whose blocks arrived whole; cut off the half block after them.
    let end = 0, kept = 0;
    while (kept < packets.length && end + epbSize(packets[kept]!) <= written.offset) end += epbSize(packets[kept++]!);
    try { ftruncateSync(this.fd, this.bytes + end); } catch { /* keep the original error */ }
    this.bytes += end; this.packets += kept;
    throw new SpoolFullError(written.error, kept);
  }

  /** Writes all of b, or returns how far it got and why it stopped. */
  private writeSome(b: Uint8Array): number | { offset: number; error: unknown } {
    let off = 0;
    try {
      while (off < b.length) off += writeSync(this.fd, b, off, b.length - off);
    } catch (e) {
      return { offset: off, error: e };
    }
    return off;
  }

  private writeAll(b: Uint8Array): void {
    const r = this.writeSome(b);
    if (typeof r !== 'number') {
      // A header block cut short is no use: cut the file back to what was whole before it.
      if (r.offset > 0) { try { ftruncateSync(this.fd, this.bytes); } catch { /* keep the original error */ } }
      throw r.error;
    }
    this.bytes += b.length;
  }

  close(): void {
    if (this.fd >= 0) { closeSync(this.fd); this.fd = -1; }
  }
}
