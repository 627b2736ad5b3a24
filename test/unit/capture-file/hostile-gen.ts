// Builders for hostile capture files (pcap, pcapng, gzip, tcpdump text), used by hostile-*.test.ts.
// Everything is generated into memory or a temp dir: no crafted file is checked in.

import { closeSync, openSync, writeSync } from 'node:fs';

export type Bytes = Buffer;

function u32(v: number, le: boolean): Bytes { const b = Buffer.alloc(4); if (le) b.writeUInt32LE(v >>> 0); else b.writeUInt32BE(v >>> 0); return b; }
function u16(v: number, le: boolean): Bytes { const b = Buffer.alloc(2); if (le) b.writeUInt16LE(v); else b.writeUInt16BE(v); return b; }
function pad4(b: Bytes): Bytes { return b.length % 4 === 0 ? b : Buffer.concat([b, Buffer.alloc(4 - (b.length % 4))]); }

/** A small IPv4/UDP datagram (LINKTYPE_RAW), its source port varying with `i` so frames differ. */
export function udp(i = 0): Bytes {
  const b = Buffer.alloc(32);
  b[0] = 0x45; b.writeUInt16BE(32, 2); b[8] = 64; b[9] = 17;
  b.set([10, 0, 0, 1], 12); b.set([10, 0, 0, 2], 16);
  b.writeUInt16BE(1000 + (i % 1000), 20); b.writeUInt16BE(53, 22); b.writeUInt16BE(12, 24);
  return b;
}

// ---- pcapng ----
export const SHB = 0x0a0d0d0a;

export function opt(code: number, val: Bytes, le = true): Bytes { return Buffer.concat([u16(code, le), u16(val.length, le), pad4(val)]); }
function withEnd(opts: Bytes[], le: boolean): Bytes[] { return opts.length ? [...opts, opt(0, Buffer.alloc(0), le)] : []; }

/** One block; `total`/`trailer` override the two length fields (damage). */
export function block(type: number, body: Bytes, le = true, o: { total?: number; trailer?: number } = {}): Bytes {
  const b = pad4(body);
  const total = o.total ?? b.length + 12;
  return Buffer.concat([u32(type, le), u32(total, le), b, u32(o.trailer ?? total, le)]);
}
export function shb(le = true, opts: Bytes[] = []): Bytes {
  return block(SHB, Buffer.concat([u32(0x1a2b3c4d, le), u16(1, le), u16(0, le), Buffer.alloc(8, 0xff), ...withEnd(opts, le)]), le);
}
export function idb(le = true, opts: Bytes[] = [], linktype = 101, snaplen = 65535): Bytes {
  return block(1, Buffer.concat([u16(linktype, le), u16(0, le), u32(snaplen, le), ...withEnd(opts, le)]), le);
}
/** EPB at `ts` units since 1970 (µs unless the IDB says otherwise). */
export function epb(le = true, iface = 0, ts = 1_700_000_000_000_000, data: Bytes = udp(), opts: Bytes[] = []): Bytes {
  const hi = Math.floor(ts / 2 ** 32), lo = ts % 2 ** 32;
  return block(6, Buffer.concat([u32(iface, le), u32(hi, le), u32(lo, le), u32(data.length, le), u32(data.length, le), pad4(data), ...withEnd(opts, le)]), le);
}
export function spb(le = true, data: Bytes = udp()): Bytes { return block(3, Buffer.concat([u32(data.length, le), data]), le); }
/** n good EPBs on interface `iface`, 1 µs apart, starting at frame index `from`. */
export function epbs(n: number, le = true, from = 0, iface = 0): Bytes[] {
  return Array.from({ length: n }, (_, i) => epb(le, iface, 1_700_000_000_000_000 + from + i, udp(from + i)));
}
/** A whole good section: SHB, one IDB, n packets. */
export function section(n: number, le = true, from = 0): Bytes { return Buffer.concat([shb(le), idb(le), ...epbs(n, le, from)]); }
/** if_tsoffset option value (signed 64-bit seconds). */
export function i64(v: bigint, le = true): Bytes { const b = Buffer.alloc(8); if (le) b.writeBigInt64LE(v); else b.writeBigInt64BE(v); return b; }

// ---- pcap ----
export function pcapHeader(le = true, nano = false, snaplen = 65535, linktype = 101): Bytes {
  return Buffer.concat([u32(nano ? 0xa1b23c4d : 0xa1b2c3d4, le), u16(2, le), u16(4, le), u32(0, le), u32(0, le), u32(snaplen, le), u32(linktype, le)]);
}
export function record(le = true, sec = 1_700_000_000, frac = 0, data: Bytes = udp(), caplen = data.length, len = data.length): Bytes {
  return Buffer.concat([u32(sec, le), u32(frac, le), u32(caplen, le), u32(len, le), data]);
}
export function records(n: number, le = true, from = 0): Bytes[] {
  return Array.from({ length: n }, (_, i) => record(le, 1_700_000_000 + from + i, i, udp(from + i)));
}

// ---- text ----
export function textLine(i: number): string {
  const us = String(i % 1_000_000).padStart(6, '0');
  return `12:00:00.${us} IP 10.0.0.1.${1000 + (i % 1000)} > 10.0.0.2.53: UDP, length 4\n`;
}
export function textLines(n: number, from = 0): string { let s = ''; for (let i = 0; i < n; i++) s += textLine(from + i); return s; }

/** Writes `parts` to `path`; a number part writes that many copies of `fill` in 1 MiB pieces (big files without big buffers). */
export function writeParts(path: string, parts: Array<Bytes | string | { repeat: number; byte: number }>): number {
  const fd = openSync(path, 'w');
  let n = 0;
  try {
    for (const p of parts) {
      if (typeof p === 'string') { n += writeSync(fd, p); continue; }
      if (Buffer.isBuffer(p)) { n += writeSync(fd, p); continue; }
      const piece = Buffer.alloc(Math.min(p.repeat, 1 << 20), p.byte);
      for (let left = p.repeat; left > 0; left -= piece.length) n += writeSync(fd, piece, 0, Math.min(left, piece.length));
    }
  } finally { closeSync(fd); }
  return n;
}
