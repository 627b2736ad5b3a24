// Entry point of the protocol decoders: importing this module registers every layer.
// decodeFrame is the fast path (no detail tree); dissectFrame runs the same code with a tree sink.

import './ethernet.ts';
import './vlan.ts';
import './sll.ts';
import './raw.ts';
import './arp.ts';
import './ipv4.ts';
import './ipv6.ts';
import './icmp.ts';
import './icmpv6.ts';
import './tcp.ts';
import './udp.ts';
import './wireguard.ts';
import './esp.ts';
import './ike.ts';
import './natt.ts';
import './gre.ts';
import './vxlan.ts';
import './geneve.ts';
import './mpls.ts';
import './cisco-metadata.ts';
import './macsec.ts';
import './ah.ts';
import './ppp.ts';
import './enc.ts';
import './pflog.ts';
import './nflog.ts';
import './dns.ts';

import type { CaptureInterface, RawFrame } from '../capture-file/types.ts';
import { isTunnelCarrier, type Packet } from './packet.ts';
import { byLinktype, Ctx, TOO_DEEP, type DecodeOptions } from './registry.ts';
import { fnv1a, TreeSink, type Field } from './fields.ts';

export type { DecodeOptions } from './registry.ts';
export type { Field } from './fields.ts';
export type { Packet } from './packet.ts';

const fastCtx = new Ctx();

/**
 * The summary is a tree of a dozen concatenations; kept as is it costs several times its
 * length in memory. Reading a character makes V8 flatten it in place (one copy of the
 * characters) and the collector then drops the tree; the sink keeps the read from being optimised away.
 */
let _flatSink = 0;
function flat(s: string): string {
  _flatSink ^= s.charCodeAt(s.length - 1) | 0;
  return s;
}

/**
 * Packets are built by a constructor rather than a literal: V8 then reserves room inside the
 * object for the fields the layers add afterwards (addresses, ports, ip, tcp, ...), instead of a
 * separate, repeatedly regrown property array per packet. The prototype stays Object.prototype,
 * so a packet is still a plain object (JSON, structured clone, deep equality). The assignments
 * in the never-taken branch only tell V8 how many fields to reserve.
 */
/** A whole number below 2^31 as a small integer (V8 boxes every other number stored in an object). */
export function small(x: number): number {
  return x >= 0 && x < 0x80000000 ? x | 0 : x;
}

const PacketRecord = function (this: Packet, frame: number, tsSec: number, tsNsec: number, iface: string, ifaceId: number, linktype: number, caplen: number, len: number) {
  this.frame = frame;
  // Whole numbers that fit 31 bits are stored as small integers, not as a boxed double each.
  this.tsSec = small(tsSec);
  this.tsNsec = small(tsNsec);
  this.iface = iface;
  this.ifaceId = ifaceId;
  this.dir = null;
  this.linktype = linktype;
  this.caplen = caplen;
  this.len = len;
  this.proto = 'data';
  this.summary = '';
  if (frame < 0) {
    this.ifindex = 0; this.hatype = 0; this.src = ''; this.dst = ''; this.ip = undefined; this.sport = 0; this.dport = 0;
    this.tcp = undefined; this.udp = undefined; this.wg = undefined; this.payloadHash = 0;
  }
} as unknown as new (frame: number, tsSec: number, tsNsec: number, iface: string, ifaceId: number, linktype: number, caplen: number, len: number) => Packet;
(PacketRecord as unknown as { prototype: object }).prototype = Object.prototype;

/**
 * The address rule for every encapsulation (see README.md): the top-level src/dst are those of
 * the innermost layer that has addresses. A tunnel whose payload has none (LCP in PPP, an unknown
 * ethertype in GRE/VXLAN/Geneve, an inner header cut short) leaves the packet with the addresses of
 * the nearest outer layer that had them, so that every packet can be placed on a path.
 */
function keepOuterAddresses(p: Packet): void {
  const o = p.outer!;
  for (let i = o.length - 1; i >= 0; i--) {
    const h = o[i]!;
    if (h.src !== undefined || h.dst !== undefined) {
      if (h.src !== undefined) p.src = h.src;
      if (h.dst !== undefined) p.dst = h.dst;
      return;
    }
  }
}

function run(c: Ctx, frame: RawFrame, iface: CaptureInterface, opts: DecodeOptions | undefined, tree: TreeSink | null): Packet {
  let data = frame.data;
  if (frame.caplen < data.length) data = data.subarray(0, frame.caplen);
  const p: Packet = new PacketRecord(frame.frame, frame.tsSec, frame.tsNsec, iface.name, frame.ifaceId, iface.linktype, frame.caplen, frame.len);
  const fl = frame.epbFlags;
  if (fl !== undefined && (fl & 3) !== 0) p.dir = (fl & 3) === 1 ? 'in' : (fl & 3) === 2 ? 'out' : 'unknown';
  if (frame.comments !== undefined && frame.comments.length > 0) p.comments = frame.comments;
  c.reset(data, p, iface, opts, tree);
  if (frame.len > data.length) c.wireEnd = frame.len;
  try {
    if (!byLinktype(c, iface.linktype, 0, data.length)) c.info = 'link type ' + iface.linktype + ', length ' + frame.len;
    if (c.payStart >= 0 && c.payEnd > c.payStart && (opts?.payloadHash !== 'udp' || (p.udp !== undefined && !isTunnelCarrier(p)))) p.payloadHash = small(fnv1a(data, c.payStart, c.payEnd));
    if (p.src === undefined && p.outer !== undefined) keepOuterAddresses(p);
    if (c.deep) c.info += (c.info ? ' ' : '') + '[' + TOO_DEEP + ']';
    if (c.sum) p.summary = flat(c.prefix + c.segment());
  } catch (e) {
    // A decoder bug must not take the whole file down: keep what was decoded and say where it stopped.
    p.truncated ??= 'decoder error in ' + p.proto + ': ' + (e instanceof Error ? e.message : String(e));
    p.summary = flat(c.prefix + c.segment() + ' [|' + p.proto + ']');
  }
  return p;
}

/** Decode one captured frame into the flat Packet record. Never throws on malformed input. */
export function decodeFrame(frame: RawFrame, iface: CaptureInterface, opts?: DecodeOptions): Packet {
  return run(fastCtx, frame, iface, opts, null);
}

/** The layer tree of one frame with byte ranges (detail and hex views). Same decoders as decodeFrame. */
export function dissectFrame(frame: RawFrame, iface: CaptureInterface, opts?: DecodeOptions): Field[] {
  const tree = new TreeSink();
  const caplen = Math.min(frame.caplen, frame.data.length);
  tree.layer('frame', 'Frame ' + frame.frame + ': ' + frame.len + ' bytes on wire, ' + caplen + ' bytes captured' +
    (iface.name ? ' on interface ' + iface.name : ''), 0, caplen);
  const p = run(new Ctx(), frame, iface, opts, tree);
  const top = tree.roots[0]!;
  (top.children ??= []).push({ name: 'frame.summary', label: p.summary, start: 0, length: 0 });
  if (p.truncated) top.children.push({ name: 'frame.truncated', label: p.truncated, start: 0, length: 0 });
  return tree.roots;
}

/** decodeFrame plus its tree in one pass, for views that show both. */
export function decodeAndDissect(frame: RawFrame, iface: CaptureInterface, opts?: DecodeOptions): { packet: Packet; tree: Field[] } {
  const tree = new TreeSink();
  const packet = run(new Ctx(), frame, iface, opts, tree);
  return { packet, tree: tree.roots };
}
