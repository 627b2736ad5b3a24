// Helpers shared by every protocol module: the detail-tree sink, address formatting and hashing.
// Kept free of protocol knowledge so that protocol modules can depend on it without depending on each other.

import type { Direction } from './packet.ts';

/** One node of the detail tree: a layer or a field, with the byte range it covers in the frame. */
export interface Field {
  name: string;
  label: string;
  value?: string | number | boolean;
  start: number;
  length: number;
  children?: Field[];
}

/**
 * Collects the detail tree. Only dissectFrame creates one; decodeFrame runs with a null sink,
 * so every protocol module guards its tree work with `if (c.t)` and allocates nothing in the fast path.
 */
export class TreeSink {
  readonly roots: Field[] = [];
  private stack: Field[] = [];

  /** Start a new top-level layer; later add() calls go into it. */
  layer(name: string, label: string, start: number, length: number): Field {
    const f: Field = { name, label, start, length, children: [] };
    this.roots.push(f);
    this.stack = [f];
    return f;
  }

  add(name: string, label: string, value: string | number | boolean | undefined, start: number, length: number): Field {
    const f: Field = { name, label, start, length };
    if (value !== undefined) f.value = value;
    const parent = this.stack[this.stack.length - 1];
    if (parent) (parent.children ??= []).push(f);
    else this.roots.push(f);
    return f;
  }

  /** Make `f` the parent of following add() calls until pop(). */
  push(f: Field): void {
    f.children ??= [];
    this.stack.push(f);
  }

  pop(): void {
    if (this.stack.length > 1) this.stack.pop();
  }
}

// Recently formatted addresses, so that a million packets between a few hosts share a few
// strings instead of each holding its own copy (and formatting is skipped on a hit).
const V4_MAX = 4096;
// Reading a character flattens a concatenated string in place (kept strings should be flat); the sink keeps the read alive.
let _flatSink = 0;
const v4Cache = new Map<number, string>();

export function ipv4(d: Uint8Array, o: number): string {
  // Signed 32-bit key: stays a small integer for the map (no boxed number per lookup).
  const k = (d[o]! << 24) | (d[o + 1]! << 16) | (d[o + 2]! << 8) | d[o + 3]!;
  let s = v4Cache.get(k);
  if (s === undefined) {
    s = d[o] + '.' + d[o + 1] + '.' + d[o + 2] + '.' + d[o + 3];
    _flatSink ^= s.charCodeAt(s.length - 1) | 0;
    if (v4Cache.size >= V4_MAX) v4Cache.clear();
    v4Cache.set(k, s);
  }
  return s;
}

const HEX = '0123456789abcdef';

export function mac(d: Uint8Array, o: number, n = 6): string {
  let s = '';
  for (let i = 0; i < n; i++) {
    const b = d[o + i]!;
    if (i) s += ':';
    s += HEX[b >> 4]! + HEX[b & 15]!;
  }
  return s;
}

/** Lower-case hex of n bytes, no separators (IKE SPIs, GRE keys in labels). */
export function hexBytes(d: Uint8Array, o: number, n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) {
    const b = d[o + i]!;
    s += HEX[b >> 4]! + HEX[b & 15]!;
  }
  return s;
}

export function hex32(n: number): string {
  return '0x' + (n >>> 0).toString(16).padStart(8, '0');
}

/**
 * RFC 5952 text form, matching glibc inet_ntop (which tcpdump and tshark use on Linux):
 * longest run of two or more zero groups becomes "::" (the first on a tie), and
 * ::a.b.c.d / ::ffff:a.b.c.d keep the dotted IPv4 tail.
 */
const V6_MAX = 1024;
/** Hash of the 16 bytes → [the bytes as 4 words, text]; a hash collision just formats afresh. */
const v6Cache = new Map<number, { w0: number; w1: number; w2: number; w3: number; s: string }>();

function word(d: Uint8Array, o: number): number {
  return (d[o]! << 24) | (d[o + 1]! << 16) | (d[o + 2]! << 8) | d[o + 3]!;
}

export function ipv6(d: Uint8Array, o: number): string {
  const w0 = word(d, o), w1 = word(d, o + 4), w2 = word(d, o + 8), w3 = word(d, o + 12);
  let h = Math.imul(w0 ^ 0x9e3779b9, 0x85ebca6b);
  h = Math.imul(h ^ w1, 0xc2b2ae35);
  h = Math.imul(h ^ w2, 0x85ebca6b);
  h = Math.imul(h ^ w3, 0xc2b2ae35);
  h ^= h >>> 16;
  const e = v6Cache.get(h);
  if (e !== undefined && e.w0 === w0 && e.w1 === w1 && e.w2 === w2 && e.w3 === w3) return e.s;
  const s = formatIpv6(d, o);
  _flatSink ^= s.charCodeAt(s.length - 1) | 0;
  if (v6Cache.size >= V6_MAX) v6Cache.clear();
  v6Cache.set(h, { w0, w1, w2, w3, s });
  return s;
}

function formatIpv6(d: Uint8Array, o: number): string {
  let bestBase = -1;
  let bestLen = 0;
  let curBase = -1;
  let curLen = 0;
  for (let i = 0; i < 8; i++) {
    if (d[o + 2 * i] === 0 && d[o + 2 * i + 1] === 0) {
      if (curBase < 0) { curBase = i; curLen = 1; } else curLen++;
      if (curLen > bestLen) { bestBase = curBase; bestLen = curLen; }
    } else curBase = -1;
  }
  if (bestLen < 2) bestBase = -1;
  let s = '';
  for (let i = 0; i < 8; i++) {
    if (bestBase >= 0 && i >= bestBase && i < bestBase + bestLen) {
      if (i === bestBase) s += ':';
      continue;
    }
    if (i) s += ':';
    if (i === 6 && bestBase === 0 && (bestLen === 6 || (bestLen === 5 && d[o + 10] === 0xff && d[o + 11] === 0xff))) {
      return s + ipv4(d, o + 12);
    }
    s += ((d[o + 2 * i]! << 8) | d[o + 2 * i + 1]!).toString(16);
  }
  if (bestBase >= 0 && bestBase + bestLen === 8) s += ':';
  return s;
}

/** 32-bit FNV-1a over d[start, end). */
const SLL_DIRS: Direction[] = ['in', 'broadcast', 'multicast', 'otherhost', 'out'];
/** The direction a Linux cooked header's packet type means (0 to us … 4 sent by us; others unknown). */
export function sllDirection(pkttype: number): Direction {
  return pkttype < 5 ? SLL_DIRS[pkttype]! : 'unknown';
}

/** tcpdump prints TCP flags in this order, '.' standing for ACK. */
const FLAG_BITS: Array<[number, string]> = [[0x01, 'F'], [0x02, 'S'], [0x04, 'R'], [0x08, 'P'], [0x10, '.'], [0x20, 'U'], [0x40, 'E'], [0x80, 'W'], [0x100, 'e']];
const FLAG_CACHE: string[] = [];
/**
 * Where the TCP option at or after `o` in d[o, end) starts (no-operation bytes skipped), or -1 at
 * the end of the list, at an option cut short and at an impossible length: the one walk of the
 * options that the TCP decoder and the bulk load's fast path both take (kind at d[at], length at
 * d[at + 1], the next from at + length).
 */
export function tcpOptionAt(d: Uint8Array, o: number, end: number): number {
  while (o < end) {
    const kind = d[o]!;
    if (kind === 0) return -1;
    if (kind === 1) { o++; continue; }
    if (o + 1 >= end) return -1;
    const len = d[o + 1]!;
    return len < 2 || o + len > end ? -1 : o;
  }
  return -1;
}

/** The flag text of TCP flag bits (9 bits: NS and the flags byte), e.g. "S." or "none". */
export function tcpFlagString(bits: number): string {
  let s = FLAG_CACHE[bits];
  if (s === undefined) {
    s = '';
    for (const [b, ch] of FLAG_BITS) if (bits & b) s += ch;
    FLAG_CACHE[bits] = s = s || 'none';
  }
  return s;
}

/** Big-endian 16-bit value at d[o] (bounds are the caller's). */
export const be16 = (d: Uint8Array, o: number): number => (d[o]! << 8) | d[o + 1]!;
/** Big-endian 32-bit unsigned value at d[o] (bounds are the caller's). */
export const be32 = (d: Uint8Array, o: number): number => ((d[o]! << 24) | (d[o + 1]! << 16) | (d[o + 2]! << 8) | d[o + 3]!) >>> 0;

export function fnv1a(d: Uint8Array, start: number, end: number): number {
  let h = 0x811c9dc5;
  for (let i = start; i < end; i++) h = Math.imul(h ^ d[i]!, 0x01000193);
  return h >>> 0;
}

const utf8 = new TextDecoder('utf-8');

/**
 * A NUL-terminated string in a fixed field of at most `n` bytes (interface names, pf rulesets,
 * NFLOG prefixes). Bytes are capture data: decoded leniently, never trusted, escaped by whoever prints them.
 */
export function cString(d: Uint8Array, o: number, n: number): string {
  let e = o;
  const stop = Math.min(o + n, d.length);
  while (e < stop && d[e] !== 0) e++;
  return e > o ? utf8.decode(d.subarray(o, e)) : '';
}

// Names tcpdump prints for IP protocols it does not decode further.
const PROTO_NAMES: Record<number, string> = { 1: 'icmp', 2: 'igmp', 4: 'ipip', 6: 'tcp', 17: 'udp', 41: 'ip6', 47: 'gre', 50: 'esp', 51: 'ah', 58: 'icmp6', 89: 'ospf', 103: 'pim', 112: 'vrrp', 132: 'sctp' };

export function ipProtoName(p: number): string {
  return PROTO_NAMES[p] ?? 'ip-proto-' + p;
}


export type QuotedHeader = { src: string; dst: string; proto: number; sport?: number; dport?: number; id?: number; len?: number };

/**
 * The original datagram an ICMP/ICMPv6 error quotes: its IP header and first 8 bytes.
 * Read here rather than through the IP modules because the quote is usually cut short
 * and must not change the packet's own fields.
 */
export function quotedIp(d: Uint8Array, off: number, end: number): QuotedHeader | undefined {
  if (end - off < 1) return undefined;
  const v = d[off]! >> 4;
  let proto: number;
  let l4: number;
  let q: QuotedHeader;
  if (v === 4) {
    if (end - off < 20) return undefined;
    const hl = (d[off]! & 15) * 4;
    proto = d[off + 9]!;
    q = { src: ipv4(d, off + 12), dst: ipv4(d, off + 16), proto, id: (d[off + 4]! << 8) | d[off + 5]!, len: (d[off + 2]! << 8) | d[off + 3]! };
    const fragOff = ((d[off + 6]! & 0x1f) << 8) | d[off + 7]!;
    if (hl < 20 || fragOff !== 0) return q;
    l4 = off + hl;
  } else if (v === 6) {
    if (end - off < 40) return undefined;
    proto = d[off + 6]!;
    q = { src: ipv6(d, off + 8), dst: ipv6(d, off + 24), proto, len: ((d[off + 4]! << 8) | d[off + 5]!) + 40 };
    l4 = off + 40;
    // Walk the common extension headers so the quoted ports can still be found.
    while ((proto === 0 || proto === 43 || proto === 60 || proto === 44) && l4 + 8 <= end) {
      const next = d[l4]!;
      if (proto === 44 && (((d[l4 + 2]! << 8) | d[l4 + 3]!) & 0xfff8) !== 0) { q.proto = next; return q; }
      l4 += proto === 44 ? 8 : (d[l4 + 1]! + 1) * 8;
      proto = next;
    }
    q.proto = proto;
  } else return undefined;
  if ((proto === 6 || proto === 17 || proto === 132) && l4 + 4 <= end) {
    q.sport = (d[l4]! << 8) | d[l4 + 1]!;
    q.dport = (d[l4 + 2]! << 8) | d[l4 + 3]!;
  }
  return q;
}
