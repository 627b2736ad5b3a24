// pcapng output that Wireshark and tshark read with our annotations: one section (SHB comment describes
// the session, shb_userappl "Tandem"), one IDB per interface with its name and nanosecond resolution,
// and EPBs carrying opt_comment (checkpoint labels, notes) and the direction in epb_flags.

import type { Packet } from '../protocols/packet.ts';

export interface WriterInterface { name: string; description?: string; linktype: number; snaplen?: number }

export interface WriterPacket {
  ifaceId: number;
  tsSec: number;
  tsNsec: number;
  data: Uint8Array;
  /** Original length on the wire; defaults to data.length. */
  len?: number;
  comments?: string[];
  dir?: 'in' | 'out';
}

const enc = new TextEncoder();

/** Builds option list bytes (code, length, value padded to 4), closed by opt_endofopt. */
class Options {
  private parts: Uint8Array[] = [];
  private size = 0;
  add(code: number, value: Uint8Array): void {
    const b = new Uint8Array(4 + ((value.length + 3) & ~3));
    const dv = new DataView(b.buffer);
    dv.setUint16(0, code, true);
    dv.setUint16(2, value.length, true);
    b.set(value, 4);
    this.parts.push(b);
    this.size += b.length;
  }
  text(code: number, s: string | undefined): void {
    if (s === undefined || s === '') return;
    let v = enc.encode(s);
    // Option values are limited to 65535 bytes; cut on a character boundary.
    if (v.length > 65535) v = enc.encode(new TextDecoder().decode(v.subarray(0, 65532)).replace(/\uFFFD$/, ''));
    this.add(code, v);
  }
  u32(code: number, n: number): void {
    const v = new Uint8Array(4);
    new DataView(v.buffer).setUint32(0, n, true);
    this.add(code, v);
  }
  /** Byte length including the end-of-options marker (none when the list is empty). */
  get length(): number { return this.size === 0 ? 0 : this.size + 4; }
  writeTo(b: Uint8Array, at: number): void {
    if (this.size === 0) return;
    for (const p of this.parts) { b.set(p, at); at += p.length; }
    b.fill(0, at, at + 4);
  }
}

function block(type: number, fixed: number, options: Options, fill: (dv: DataView, b: Uint8Array) => void, data?: Uint8Array): Uint8Array {
  const dataLen = data ? (data.length + 3) & ~3 : 0;
  const total = 12 + fixed + dataLen + options.length;
  const b = new Uint8Array(total);
  const dv = new DataView(b.buffer);
  dv.setUint32(0, type, true);
  dv.setUint32(4, total, true);
  fill(dv, b);
  if (data) b.set(data, 8 + fixed);
  options.writeTo(b, 8 + fixed + dataLen);
  dv.setUint32(total - 4, total, true);
  return b;
}

export class PcapngWriter {
  private blocks: Uint8Array[] = [];
  private ifaces = 0;

  constructor(opts: { comment?: string } = {}) {
    const o = new Options();
    o.text(1, opts.comment);
    o.text(4, 'Tandem');
    this.blocks.push(block(0x0a0d0d0a, 16, o, (dv) => {
      dv.setUint32(8, 0x1a2b3c4d, true);
      dv.setUint16(12, 1, true);
      dv.setUint16(14, 0, true);
      // Section length unknown (-1): lets the file be written as a stream.
      dv.setInt32(16, -1, true);
      dv.setInt32(20, -1, true);
    }));
  }

  /** Adds an interface; returns its id for addPacket. */
  addInterface(i: WriterInterface): number {
    const o = new Options();
    o.text(2, i.name);
    o.text(3, i.description);
    o.add(9, Uint8Array.of(9)); // if_tsresol: nanoseconds
    this.blocks.push(block(1, 8, o, (dv) => {
      dv.setUint16(8, i.linktype, true);
      dv.setUint32(12, i.snaplen ?? 262144, true);
    }));
    return this.ifaces++;
  }

  addPacket(p: WriterPacket): void {
    if (p.ifaceId < 0 || p.ifaceId >= this.ifaces) throw new RangeError(`unknown interface ${p.ifaceId}`);
    const o = new Options();
    for (const c of p.comments ?? []) o.text(1, c);
    if (p.dir) o.u32(2, p.dir === 'in' ? 1 : 2);
    const ts = BigInt(p.tsSec) * 1000000000n + BigInt(p.tsNsec);
    this.blocks.push(block(6, 20, o, (dv) => {
      dv.setUint32(8, p.ifaceId, true);
      dv.setUint32(12, Number(ts >> 32n), true);
      dv.setUint32(16, Number(ts & 0xffffffffn), true);
      dv.setUint32(20, p.data.length, true);
      dv.setUint32(24, p.len ?? p.data.length, true);
    }, p.data));
  }

  /** Blocks written so far, without copying them together. */
  *chunks(): Iterable<Uint8Array> { yield* this.blocks; }

  /** Returns and forgets the blocks written so far: for writing a large file piece by piece. */
  drain(): Uint8Array[] { const b = this.blocks; this.blocks = []; return b; }

  toBytes(): Uint8Array {
    let n = 0;
    for (const b of this.blocks) n += b.length;
    const out = new Uint8Array(n);
    let o = 0;
    for (const b of this.blocks) { out.set(b, o); o += b.length; }
    return out;
  }
}

// --- Rebuilding bytes for packets imported from tcpdump text -------------------------------------

export const LINKTYPE_RAW = 101;

function v4bytes(s: string | undefined): number[] {
  const p = (s ?? '').split('.').map(Number);
  return p.length === 4 && p.every((x) => Number.isInteger(x) && x >= 0 && x < 256) ? p : [0, 0, 0, 0];
}

function v6bytes(s: string | undefined): number[] {
  const out = new Array<number>(16).fill(0);
  if (!s) return out;
  let text = s;
  let tail: number[] = [];
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4) { tail = v4bytes(v4[1]); text = text.slice(0, -v4[1]!.length) + '0:0'; }
  const [l, r] = text.split('::');
  const left = l ? l.split(':') : [];
  const right = r !== undefined && r !== '' ? r.split(':') : [];
  const groups = [...left, ...new Array<string>(Math.max(0, 8 - left.length - right.length)).fill('0'), ...right].slice(0, 8);
  groups.forEach((g, i) => { const n = parseInt(g || '0', 16) || 0; out[i * 2] = n >> 8; out[i * 2 + 1] = n & 0xff; });
  if (v4) out.splice(12, 4, ...tail);
  return out;
}

function checksum(b: Uint8Array, start: number, end: number, initial = 0): number {
  let sum = initial;
  for (let i = start; i + 1 < end; i += 2) sum += (b[i]! << 8) | b[i + 1]!;
  if ((end - start) & 1) sum += b[end - 1]! << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

function tcpOptions(t: NonNullable<Packet['tcp']>): number[] {
  const o: number[] = [];
  if (t.mss !== undefined) o.push(2, 4, (t.mss >> 8) & 0xff, t.mss & 0xff);
  if (t.sackOk) o.push(4, 2);
  if (t.tsval !== undefined) {
    const v = t.tsval >>> 0, e = (t.tsecr ?? 0) >>> 0;
    if (!t.sackOk) o.push(1, 1);
    o.push(8, 10, v >>> 24, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff, e >>> 24, (e >>> 16) & 0xff, (e >>> 8) & 0xff, e & 0xff);
  }
  if (t.wscale !== undefined) o.push(1, 3, 3, t.wscale & 0xff);
  if (t.sack && t.sack.length > 0) {
    o.push(1, 1, 5, 2 + 8 * t.sack.length);
    for (const [a, b] of t.sack) for (const x of [a >>> 0, b >>> 0]) o.push(x >>> 24, (x >>> 16) & 0xff, (x >>> 8) & 0xff, x & 0xff);
  }
  while (o.length % 4) o.push(1);
  return o;
}

const FLAG_BITS: Record<string, number> = { F: 0x01, S: 0x02, R: 0x04, P: 0x08, '.': 0x10, U: 0x20, E: 0x40, W: 0x80 };

/**
 * Snap length of rebuilt frames. Their payload is zeros standing in for bytes the text never had, and
 * the lengths come from the text (hostile: `length 4294967295`), so bytes past one largest IP datagram
 * are not written: the frame keeps its claimed length as the original length (caplen < len).
 */
export const SYNTH_SNAPLEN = 65535;

/** Largest length a frame can claim in pcapng (32-bit original length). */
const MAX_WIRE_LEN = 0xffffffff;

/** A length from text as a whole number of bytes in [0, max]; anything else (NaN, negative) is 0. */
function lengthFromText(n: number | undefined, max = MAX_WIRE_LEN): number {
  return typeof n === 'number' && n > 0 ? Math.min(Math.floor(n), max) : 0;
}

export interface SynthesizedFrame {
  linktype: number;
  /** At most SYNTH_SNAPLEN bytes. */
  data: Uint8Array;
  /** Length the text claimed (headers plus payload), for the block's original length. */
  len: number;
  /** True when data holds fewer bytes than len. */
  truncated: boolean;
}

/**
 * Rebuilds plausible wire bytes (raw IP, LINKTYPE_RAW) for a packet imported from text, so an export of
 * text-only captures opens in Wireshark: IP header from the printed fields, a TCP/UDP/ICMP/ESP header
 * and a zero payload of the printed length, cut at SYNTH_SNAPLEN.
 */
export function synthesizeFrame(p: Packet): SynthesizedFrame {
  const v6 = p.ip?.v === 6 || (p.src ?? '').includes(':');
  if (!p.src || !p.dst) return { linktype: LINKTYPE_RAW, data: new Uint8Array(0), len: 0, truncated: false };
  // Transport header and payload.
  let l4: number[] = [];
  let payload = 0;
  let proto = p.ip?.proto ?? 0;
  if (p.tcp) {
    proto = 6;
    const t = p.tcp;
    const opts = tcpOptions(t);
    let flags = 0;
    for (const c of t.flags) flags |= FLAG_BITS[c] ?? 0;
    const sp = p.sport ?? 0, dp = p.dport ?? 0, seq = t.seq >>> 0, ack = t.ack >>> 0;
    l4 = [sp >> 8, sp & 0xff, dp >> 8, dp & 0xff, seq >>> 24, (seq >>> 16) & 0xff, (seq >>> 8) & 0xff, seq & 0xff,
      ack >>> 24, (ack >>> 16) & 0xff, (ack >>> 8) & 0xff, ack & 0xff, ((20 + opts.length) / 4) << 4, flags,
      (t.win >> 8) & 0xff, t.win & 0xff, 0, 0, 0, 0, ...opts];
    payload = lengthFromText(t.len);
  } else if (p.udp || p.proto === 'udp' || p.proto === 'isakmp' || p.proto === 'nat-keepalive' || p.proto === 'wireguard') {
    proto = 17;
    payload = lengthFromText(p.udp?.len);
    const sp = p.sport ?? 0, dp = p.dport ?? 0, n = Math.min(8 + payload, 0xffff);
    l4 = [sp >> 8, sp & 0xff, dp >> 8, dp & 0xff, (n >> 8) & 0xff, n & 0xff, 0, 0];
  } else if (p.icmp) {
    const ic = p.icmp;
    proto = v6 ? 58 : 1;
    const w1 = ic.mtu !== undefined ? ic.mtu : ic.id ?? 0;
    const w2 = ic.mtu !== undefined ? 0 : ic.seq ?? 0;
    l4 = ic.mtu !== undefined && !v6
      ? [ic.type, ic.code, 0, 0, 0, 0, (w1 >> 8) & 0xff, w1 & 0xff]
      : ic.mtu !== undefined
        ? [ic.type, ic.code, 0, 0, (w1 >>> 24) & 0xff, (w1 >>> 16) & 0xff, (w1 >> 8) & 0xff, w1 & 0xff]
        : [ic.type, ic.code, 0, 0, (w1 >> 8) & 0xff, w1 & 0xff, (w2 >> 8) & 0xff, w2 & 0xff];
    const ipLen = lengthFromText(p.ip?.len);
    payload = Math.max(0, ipLen - (v6 ? 40 : 20) - 8);
  } else if (p.esp) {
    proto = 50;
    const s = p.esp.spi >>> 0, q = p.esp.seq >>> 0;
    l4 = [s >>> 24, (s >>> 16) & 0xff, (s >>> 8) & 0xff, s & 0xff, q >>> 24, (q >>> 16) & 0xff, (q >>> 8) & 0xff, q & 0xff];
    payload = Math.max(0, lengthFromText(p.ip?.len) - (v6 ? 40 : 20) - 8);
  }
  const hl = v6 ? 40 : 20;
  const total = Math.min(hl + l4.length + payload, MAX_WIRE_LEN);
  const b = new Uint8Array(Math.min(total, SYNTH_SNAPLEN));
  b.set(l4.slice(0, Math.max(0, b.length - hl)), hl);
  // Header length fields are 16 bits: a longer claim keeps its real size only as the frame's original length.
  const ipField = (n: number) => Math.min(n, 0xffff);
  const src = v6 ? v6bytes(p.src) : v4bytes(p.src);
  const dst = v6 ? v6bytes(p.dst) : v4bytes(p.dst);
  const ttl = p.ip && p.ip.ttl > 0 ? p.ip.ttl : 64;
  if (v6) {
    b[0] = 0x60;
    const pl = ipField(total - 40);
    b[4] = (pl >> 8) & 0xff; b[5] = pl & 0xff;
    b[6] = proto; b[7] = ttl;
    b.set(src, 8); b.set(dst, 24);
  } else {
    const id = p.ip?.id ?? 0;
    // A later fragment whose offset the text did not print (0 there) must still read as a later
    // fragment, not as a whole datagram with a missing transport header: one 8-byte unit stands in.
    const frag = p.ip?.frag;
    const fragOff = frag ? Math.max(Math.floor(frag.offset / 8), l4.length === 0 ? 1 : 0) : 0;
    const ff = (p.ip?.df ? 0x4000 : 0) | (p.ip?.frag?.more ? 0x2000 : 0) | fragOff;
    const tl = ipField(total);
    b.set([0x45, 0, (tl >> 8) & 0xff, tl & 0xff, (id >> 8) & 0xff, id & 0xff, ff >> 8, ff & 0xff, ttl, proto, 0, 0], 0);
    b.set(src, 12); b.set(dst, 16);
    const c = checksum(b, 0, 20);
    b[10] = c >> 8; b[11] = c & 0xff;
  }
  // Transport checksum over the pseudo header, so Wireshark's checksum validation (when enabled) passes.
  // The payload is zeros, which add nothing to the one's-complement sum: the bytes kept suffice, with
  // the length the headers state (a length beyond 16 bits has no valid checksum; it stays as computed).
  if (l4.length > 0 && (proto === 6 || proto === 17 || proto === 58 || proto === 1)) {
    const l4len = proto === 17 ? n16(b, hl + 4) : v6 ? n16(b, 4) : n16(b, 2) - hl;
    let init = 0;
    if (proto !== 1) {
      const addr = [...src, ...dst];
      for (let i = 0; i < addr.length; i += 2) init += (addr[i]! << 8) | addr[i + 1]!;
      init += proto + l4len;
    }
    const at = proto === 6 ? 16 : proto === 17 ? 6 : 2;
    let c = checksum(b, hl, b.length, init);
    if (proto === 17 && c === 0) c = 0xffff;
    b[hl + at] = c >> 8; b[hl + at + 1] = c & 0xff;
  }
  return { linktype: LINKTYPE_RAW, data: b, len: total, truncated: b.length < total };
}

function n16(b: Uint8Array, at: number): number { return (b[at]! << 8) | b[at + 1]!; }
