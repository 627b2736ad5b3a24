// Next-layer dispatch tables and the per-frame decoding context.
// A protocol module registers itself into its parent's table; parents look children up here,
// so no protocol module imports another one (the Wireshark dissector-table idea).

import type { CaptureInterface } from '../capture-file/types.ts';
import type { Packet } from './packet.ts';
import type { TreeSink } from './fields.ts';

export interface DecodeOptions {
  /** SLL2 interface index → interface name (from the capture host's `ip -o link`). */
  linkNames?: Map<number, string>;
  /**
   * false: leave Packet.summary empty. Bulk analysis never reads it, and it is most of a
   * decoded packet's memory; callers fill it later for the few frames they show.
   */
  summary?: boolean;
  /**
   * 'udp': only a plain UDP datagram's payload gets its payloadHash, not a tunnel's carrier
   * (WireGuard, ESP in UDP, IKE, NAT-T keepalive). The analysis compares payloads by hash for
   * inner UDP datagrams only (carriers are matched by their tunnel's own numbers). Hashing TCP
   * segments and ESP packets was a sixth of a bulk load's decoding, and hashing WireGuard datagrams
   * about 8% of the CLI's CPU on a WireGuard bulk pair. Default 'all' (inspect, the app's stored sessions).
   */
  payloadHash?: 'all' | 'udp';
}

/**
 * Decodes one layer that starts at `off`; `end` is where this layer's bytes stop
 * (captured bytes, or less when an outer length field says so). Returns false when the
 * bytes are not this protocol (heuristics, port guesses), so the caller can try another.
 */
export type Dissector = (c: Ctx, off: number, end: number) => boolean;

const linktypes = new Map<number, Dissector>();
const ethertypes = new Map<number, Dissector>();
const ipProtos = new Map<number, Dissector>();
const udpPorts = new Map<number, Dissector>();
const udpHeuristics: Dissector[] = [];

export function registerLinktype(lt: number, d: Dissector): void { linktypes.set(lt, d); }
export function registerEthertype(t: number, d: Dissector): void { ethertypes.set(t, d); }
export function registerIpProto(p: number, d: Dissector): void { ipProtos.set(p, d); }
export function registerUdpPort(port: number, d: Dissector): void { udpPorts.set(port, d); }
export function registerUdpHeuristic(d: Dissector): void { udpHeuristics.push(d); }

export function byLinktype(c: Ctx, lt: number, off: number, end: number): boolean {
  const d = linktypes.get(lt);
  return d !== undefined && d(c, off, end);
}

export function byEthertype(c: Ctx, t: number, off: number, end: number): boolean {
  const d = ethertypes.get(t);
  return d !== undefined && (++c.nest <= MAX_NEST || c.tooDeep()) && d(c, off, end);
}

export function byIpProto(c: Ctx, p: number, off: number, end: number): boolean {
  const d = ipProtos.get(p);
  return d !== undefined && (++c.nest <= MAX_NEST || c.tooDeep()) && d(c, off, end);
}

/** Like Wireshark: the lower port's dissector first, then the higher one's, then heuristics. */
export function byUdpPort(c: Ctx, sport: number, dport: number, off: number, end: number): boolean {
  const lo = sport < dport ? sport : dport;
  const hi = sport < dport ? dport : sport;
  let d = udpPorts.get(lo);
  if (d !== undefined && d(c, off, end)) return true;
  if (hi !== lo) {
    d = udpPorts.get(hi);
    if (d !== undefined && d(c, off, end)) return true;
  }
  return byUdpHeuristic(c, off, end);
}

export function byUdpHeuristic(c: Ctx, off: number, end: number): boolean {
  for (let i = 0; i < udpHeuristics.length; i++) if (udpHeuristics[i]!(c, off, end)) return true;
  return false;
}

/** The dissector registered for exactly this port, without heuristics (NAT-T handing IKE on). */
export function byUdpPortOnly(c: Ctx, port: number, off: number, end: number): boolean {
  const d = udpPorts.get(port);
  return d !== undefined && d(c, off, end);
}

export function hasEthertype(t: number): boolean { return ethertypes.has(t); }
/** The UDP ports a dissector claims (the bulk fast path leaves datagrams to or from them to the decoders). */
export function claimedUdpPorts(): Iterable<number> { return udpPorts.keys(); }
/** How many UDP heuristics are registered (the bulk fast path knows only WireGuard's). */
export function udpHeuristicCount(): number { return udpHeuristics.length; }

/** Deepest tunnel nesting we follow; deeper frames keep the outer decode (guards crafted loops). */
const MAX_DEPTH = 8;
/**
 * Most headers handed on through the ethertype and IP-protocol tables in one frame (VLAN tags,
 * IP-in-IP, GRE, MPLS, AH …). Dispatch recurses, so 65 000 stacked VLAN tags would otherwise
 * overflow the stack; real frames use fewer than a dozen.
 */
export const MAX_NEST = 32;
export const TOO_DEEP = 'too many nested headers';

/**
 * Mutable state for one frame. One instance is reused for every frame of the fast path.
 * The summary is assembled from parts so that layers need not know who prints the ports:
 * `fam src.sport > dst.dport: info`, with finished outer tunnel segments in `prefix`.
 */
export class Ctx {
  d: Uint8Array = new Uint8Array(0);
  /** DataView over the frame's whole underlying buffer (kept across frames that share it); add `base`. */
  v: DataView = new DataView(new ArrayBuffer(0));
  base = 0;
  private buf: ArrayBufferLike | null = null;
  /** End of the current IP packet as its header declares it (may exceed the captured bytes). */
  l3End = 0;
  /** Offset where the frame ended on the wire (captured length plus what the snap length cut off). */
  wireEnd = 0;
  /** Declared payload length handed to the layer above UDP (captured bytes may be fewer). */
  plen = 0;
  p!: Packet;
  /** Tree sink, null in the fast path. */
  t: TreeSink | null = null;
  iface!: CaptureInterface;
  opts: DecodeOptions | undefined;
  /** "IP", "IP6", "ARP", ... ; '' when no address family was decoded. */
  fam = '';
  info = '';
  prefix = '';
  /** L4 payload range for payloadHash; payStart < 0 when none. */
  payStart = -1;
  payEnd = -1;
  depth = 0;
  /** Headers dispatched so far in this frame (bounded by MAX_NEST). */
  nest = 0;
  /** A nesting bound stopped the decode. */
  deep = false;
  /** Whether the summary text is wanted (layers may skip building their `info` when not). */
  sum = true;

  reset(data: Uint8Array, p: Packet, iface: CaptureInterface, opts: DecodeOptions | undefined, t: TreeSink | null): void {
    this.d = data;
    if (data.buffer !== this.buf) {
      this.buf = data.buffer;
      this.v = new DataView(data.buffer);
    }
    this.base = data.byteOffset;
    this.l3End = data.length;
    this.wireEnd = data.length;
    this.plen = 0;
    this.p = p;
    this.iface = iface;
    this.opts = opts;
    this.t = t;
    this.fam = '';
    this.info = '';
    this.prefix = '';
    this.payStart = -1;
    this.payEnd = -1;
    this.depth = 0;
    this.nest = 0;
    this.deep = false;
    this.sum = opts?.summary !== false || t !== null;
  }

  /** Record that the frame ended inside `layer`'s header (first cut wins). */
  trunc(layer: string): void {
    const p = this.p;
    if (p.truncated === undefined) p.truncated = 'truncated in ' + layer + ' header';
    this.info += (this.info ? ' ' : '') + '[|' + layer.toLowerCase() + ']';
  }

  /** A nesting bound was hit: remember it (the summary says so at the end) and stop handing on. */
  tooDeep(): boolean {
    this.deep = true;
    this.p.truncated ??= TOO_DEEP;
    return false;
  }

  /** Summary of the layers decoded so far in the current (innermost) segment. */
  segment(): string {
    const p = this.p;
    if (this.fam === 'IP' || this.fam === 'IP6') {
      let s = this.fam + ' ' + p.src;
      if (p.sport !== undefined) s += '.' + p.sport;
      s += ' > ' + p.dst;
      if (p.dport !== undefined) s += '.' + p.dport;
      return s + ': ' + this.info;
    }
    if (this.fam === 'FRAG6') return p.sport !== undefined ? p.sport + ' > ' + p.dport + ': ' + this.info : this.info;
    if (this.fam) return this.info ? this.fam + ', ' + this.info : this.fam;
    return this.info;
  }

  /**
   * A tunnel hands over to its inner packet: remember the outer addresses, clear the
   * per-packet fields so the innermost packet owns them. Returns false when nesting is too deep.
   * Every encapsulation goes through here; the address rule it implements is in README.md.
   */
  beginInner(tunnel: string): boolean {
    if (++this.depth > MAX_DEPTH) return this.tooDeep();
    const p = this.p;
    const o: { proto: string; src?: string; dst?: string } = { proto: tunnel };
    if (p.src !== undefined) o.src = p.src;
    if (p.dst !== undefined) o.dst = p.dst;
    (p.outer ??= []).push(o);
    this.prefix += this.segment() + ': ';
    this.fam = '';
    this.info = '';
    this.payStart = -1;
    this.payEnd = -1;
    delete p.src; delete p.dst; delete p.sport; delete p.dport;
    delete p.ip; delete p.tcp; delete p.udp; delete p.icmp; delete p.wg; delete p.esp; delete p.ike;
    delete p.nattKeepalive; delete p.arp;
    return true;
  }

  u8(o: number): number { return this.d[o]!; }
  u16(o: number): number { return this.v.getUint16(this.base + o); }
  u32(o: number): number { return this.v.getUint32(this.base + o); }
  u32le(o: number): number { return this.v.getUint32(this.base + o, true); }
}
