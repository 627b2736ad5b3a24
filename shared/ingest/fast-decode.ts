// The bulk load's fast path. The common frame shapes (Ethernet, Linux cooked v1/v2 or raw IP; IPv4
// or IPv6 without extension headers; TCP, UDP with or without WireGuard, ESP) go from their bytes
// straight into a column row (of a PacketStore, or of a stored chunk as the app's import writes them,
// packet-columns.ts), without the Packet object and sub-objects the full decoder builds only for push
// to take apart again. Every other frame (other protocols, a header cut short, a fragment, a UDP
// port some dissector claims, a value too wide for its column) is left to decodeFrame:
// tryPush then has written nothing and returns false. The fields must be exactly those decodeFrame
// gives with `summary: false`, and with summaries the text decodeFrame gives (test/unit/ingest/
// fast-decode.test.ts and chunk-writer.test.ts compare both paths byte for byte over the corpus and
// the lab captures); the layer rules below follow the decoders in shared/protocols/ (ethernet, sll,
// raw, ipv4, ipv6, tcp, udp, wireguard, esp), whose text functions word the summaries.

import type { CaptureInterface, RawFrame } from '../capture-file/types.ts';
import { be16 as u16, be32 as u32, fnv1a, ipv4, ipv6, sllDirection, tcpFlagString, tcpOptionAt } from '../protocols/fields.ts';
import { claimedUdpPorts, udpHeuristicCount } from '../protocols/registry.ts';
import { espText } from '../protocols/esp.ts';
import { tcpText } from '../protocols/tcp.ts';
import { udpText } from '../protocols/udp.ts';
// The decoders register themselves on import: the port and heuristic lists below are read from them.
import '../protocols/index.ts';
import {
  ColumnRow, DIRS, F_ESP, F_HASH, F_HATYPE, F_IFINDEX, F_MSS, F_SACK, F_SACKOK, F_TCP, F_TS, F_UDP, F_V6, F_WG_COUNTER,
  F_WG_RECEIVER, F_WG_SENDER, F_WSCALE, F_DF, type RowSink,
} from './packet-store.ts';

const DIR_IN = DIRS.indexOf('in'), DIR_OUT = DIRS.indexOf('out'), DIR_UNKNOWN = DIRS.indexOf('unknown');
/** Direction codes of the Linux cooked packet types 0-4, then 'unknown' (as sll.ts sets them). */
const SLL_DIR = [0, 1, 2, 3, 4, 5].map((t) => DIRS.indexOf(sllDirection(t)));

const u32le = (d: Uint8Array, o: number): number => ((d[o + 3]! << 24) | (d[o + 2]! << 16) | (d[o + 1]! << 8) | d[o]!) >>> 0;

const V4_BITS = 10, V4_SLOTS = 1 << V4_BITS;

export class FastDecoder {
  private readonly row = new ColumnRow();
  /** WireGuard's is the only UDP heuristic this path knows; with others registered UDP goes the full way. */
  private readonly udpOk = udpHeuristicCount() === 1;

  /** 1 for a UDP port some dissector claims (a table: looked up twice per datagram). */
  private readonly claimed = new Uint8Array(65536);

  /** DecodeOptions.payloadHash 'udp': TCP segments, ESP packets and WireGuard datagrams go without payloadHash, as decodeFrame then leaves them. */
  private readonly hashAll: boolean;

  /**
   * `summaries`: fill each row's summary text after its lead-in (ColumnRow.sum), worded by the
   * decoders' own text functions, as decodeFrame would have it; a TCP header the capture cut is then
   * left to decodeFrame (stored chunks keep such a packet as it is).
   */
  constructor(private readonly store: RowSink, private readonly linkNames?: Map<number, string>, payloadHash: 'all' | 'udp' = 'all',
    private readonly summaries = false) {
    this.hashAll = payloadHash !== 'udp';
    for (const port of claimedUdpPorts()) if (port >= 0 && port <= 0xffff) this.claimed[port] = 1;
  }

  /** Decodes `f` into a row of the store when it has a common shape; false (nothing written) otherwise. */
  tryPush(f: RawFrame, iface: CaptureInterface): boolean {
    if (f.comments !== undefined && f.comments.length > 0) return false;
    const d = f.data;
    return this.tryPushAt(d, 0, f.caplen < d.length ? f.caplen : d.length, f.frame, f.tsSec, f.tsNsec, f.caplen, f.len, f.ifaceId, f.epbFlags, iface);
  }

  /**
   * tryPush for a record that lies at d[at, at + held) (`held`: its captured bytes there) with the
   * given frame fields: a record straight from the reader's buffer (RecordSink), no RawFrame made.
   */
  tryPushAt(d: Uint8Array, at: number, held: number, frame: number, tsSec: number, tsNsec: number, caplen: number, wlen: number,
    ifaceId: number, efl: number | undefined, iface: CaptureInterface): boolean {
    // The bounds the store's columns and decodeFrame's checks put on the frame itself.
    const lt = iface.linktype;
    if (!(tsSec >= 0 && tsSec <= 0xffffffff && Number.isInteger(tsSec)) || !(frame >= 0 && frame <= 0xffffffff && Number.isInteger(frame))) return false;
    if (!(wlen >= 0 && wlen <= 0xffffffff && Number.isInteger(wlen) && caplen >= 0 && caplen <= 0xffffffff && Number.isInteger(caplen))) return false;
    if (ifaceId > 0xffff || lt > 0xffff) return false;
    // Offsets from here on are into d: the frame's captured bytes end at n, its wire bytes at wireEnd.
    const n = at + held;
    const wireEnd = at + (wlen > held ? wlen : held);
    const r = this.row;
    let fl = 0;
    let dir = efl !== undefined && (efl & 3) !== 0 ? ((efl & 3) === 1 ? DIR_IN : (efl & 3) === 2 ? DIR_OUT : DIR_UNKNOWN) : 0;
    let name = iface.name;
    let off: number, et: number;
    switch (lt) {
      case 276: {
        if (held < 20) return false;
        et = u16(d, at);
        const ifindex = u32(d, at + 4);
        if (ifindex > 0xffff) return false;
        fl |= F_IFINDEX | F_HATYPE;
        r.ifindex = ifindex;
        r.hatype = u16(d, at + 8);
        const pkttype = d[at + 10]!;
        dir = SLL_DIR[pkttype < 5 ? pkttype : 5]!;
        const named = this.linkNames?.get(ifindex);
        if (named !== undefined) name = named;
        off = at + 20;
        break;
      }
      case 113: {
        if (held < 16) return false;
        const pkttype = u16(d, at);
        dir = SLL_DIR[pkttype < 5 ? pkttype : 5]!;
        et = u16(d, at + 14);
        off = at + 16;
        break;
      }
      case 1:
        if (held < 14) return false;
        et = u16(d, at + 12);
        off = at + 14;
        break;
      case 101: case 12: case 14: {
        if (held < 1) return false;
        const v = d[at]! >> 4;
        if (v === 4) et = 0x0800; else if (v === 6) et = 0x86dd; else return false;
        off = at;
        break;
      }
      case 228: et = 0x0800; off = at; break;
      case 229: et = 0x86dd; off = at; break;
      default: return false;
    }

    // Network layer: `end` is where the IP packet's captured bytes stop, `l3End` where it ends as declared.
    // IPv4 addresses are looked up by their bytes at `addrAt` (v4Id); IPv6 ones as text.
    let end = n, l3End: number, l4: number, ipProto: number, addrAt = -1, src = '', dst = '';
    if (et === 0x0800) {
      if (end - off < 20) return false;
      const vhl = d[off]!;
      if (vhl >> 4 !== 4) return false;
      const hl = (vhl & 15) * 4;
      if (hl < 20 || end - off < hl) return false;
      const fo = u16(d, off + 6);
      // A fragment (offset or more-fragments) keeps its decoder object.
      if ((fo & 0x3fff) !== 0) return false;
      const totlen = u16(d, off + 2);
      if (totlen !== 0) {
        if (totlen < hl) return false;
        if (off + totlen < end) end = off + totlen;
        l3End = off + totlen < wireEnd ? off + totlen : wireEnd;
      } else l3End = end;
      if ((fo & 0x4000) !== 0) fl |= F_DF;
      r.ipId = u16(d, off + 4);
      r.ttl = d[off + 8]!;
      ipProto = d[off + 9]!;
      r.ipLen = totlen;
      addrAt = off + 12;
      l4 = off + hl;
    } else if (et === 0x86dd) {
      if (end - off < 40 || d[off]! >> 4 !== 6) return false;
      const plen = u16(d, off + 4);
      ipProto = d[off + 6]!;
      // Extension headers (and "no next header") are the full decoder's.
      if (ipProto === 0 || ipProto === 43 || ipProto === 44 || ipProto === 60 || ipProto === 59 || plen + 40 > 0xffff) return false;
      if (plen !== 0 && off + 40 + plen < end) end = off + 40 + plen;
      l3End = plen !== 0 ? Math.min(off + 40 + plen, wireEnd) : end;
      fl |= F_V6;
      r.ttl = d[off + 7]!;
      r.ipLen = plen + 40;
      src = ipv6(d, off + 8);
      dst = ipv6(d, off + 24);
      l4 = off + 40;
    } else return false;

    // Transport layer and above.
    let payStart = -1, payEnd = -1, proto: string, flags: string | null = null;
    // A TCP header the capture cut inside its options (TCP_HEADER_CUT): its options up to the cut, no payload.
    let cut = false;
    r.wgType = 0;
    if (ipProto === 6) {
      if (end - l4 < 20) return false;
      const doff = (d[l4 + 12]! >> 4) * 4;
      if (doff < 20) return false;
      cut = end - l4 < doff;
      // Payload length follows the IP header's length, as tcp.ts counts it.
      let len = l3End - l4 - doff;
      if (len < 0) len = 0;
      if (len > 0xffff) return false;
      fl |= F_TCP;
      r.sport = u16(d, l4); r.dport = u16(d, l4 + 2);
      r.seq = u32(d, l4 + 4); r.ack = u32(d, l4 + 8);
      r.win = u16(d, l4 + 14);
      r.l4len = len;
      flags = tcpFlagString(((d[l4 + 12]! & 1) << 8) | d[l4 + 13]!);
      if (doff > 20) fl |= this.options(d, l4 + 20, cut ? end : l4 + doff, r);
      if (!cut && end > l4 + doff) { payStart = l4 + doff; payEnd = end; }
      proto = 'tcp';
    } else if (ipProto === 17) {
      if (!this.udpOk || end - l4 < 8) return false;
      const sport = u16(d, l4), dport = u16(d, l4 + 2);
      if (this.claimed[sport] === 1 || this.claimed[dport] === 1) return false;
      const ulen = u16(d, l4 + 4);
      // A length below the header size defers to the IP length (udp.ts).
      let plen = ulen >= 8 ? ulen - 8 : l3End - l4 - 8;
      if (plen < 0) plen = 0;
      if (plen > 0xffff) return false;
      fl |= F_UDP;
      r.sport = sport; r.dport = dport;
      r.l4len = plen;
      const ps = l4 + 8;
      const pe = ps + plen < end ? ps + plen : end;
      if (pe > ps) { payStart = ps; payEnd = pe; }
      proto = 'udp';
      // WireGuard by its fixed sizes and zero reserved bytes (wireguard.ts), within the UDP payload.
      if (pe - ps >= 4 && d[ps + 1] === 0 && d[ps + 2] === 0 && d[ps + 3] === 0) {
        const type = d[ps]!;
        if (type === 1 ? plen === 148 : type === 2 ? plen === 92 : type === 3 ? plen === 64 : type === 4 && plen >= 32) {
          const senderAt = type === 1 || type === 2 ? ps + 4 : -1;
          const receiverAt = type === 2 ? ps + 8 : type === 3 || type === 4 ? ps + 4 : -1;
          if (senderAt >= 0) {
            if (senderAt + 4 > pe) return false;
            fl |= F_WG_SENDER; r.seq = u32le(d, senderAt);
          }
          if (receiverAt >= 0) {
            if (receiverAt + 4 > pe) return false;
            fl |= F_WG_RECEIVER; r.ack = u32le(d, receiverAt);
          }
          if (type === 4) {
            if (ps + 16 > pe) return false;
            const hi = u32le(d, ps + 12);
            // Counters past 2^53 keep their decoder object (the column holds them only below).
            if (hi >= 0x200000) return false;
            fl |= F_WG_COUNTER; r.tsval = u32le(d, ps + 8); r.tsecr = hi;
          }
          r.wgType = type;
          proto = 'wireguard';
        }
      }
    } else if (ipProto === 50) {
      if (end - l4 < 8) return false;
      fl |= F_ESP;
      r.seq = u32(d, l4); r.ack = u32(d, l4 + 4);
      payStart = l4; payEnd = end;
      proto = 'esp';
    } else return false;
    if (payStart >= 0 && payEnd > payStart && (this.hashAll || (ipProto === 17 && r.wgType === 0))) { fl |= F_HASH; r.hash = fnv1a(d, payStart, payEnd); }

    if (this.summaries) {
      if (cut) return false;
      r.sum = ipProto === 6 ? tcpText(d, l4, end, r.l4len) : ipProto === 17 ? udpText(r.l4len) : espText(r.seq, r.ack, l3End - l4 > 0 ? l3End - l4 : end - l4);
    }
    const store = this.store;
    if (!store.internHead(proto, flags, name, r)) return false;
    if (addrAt >= 0) { r.srcId = this.v4Id(d, addrAt); r.dstId = this.v4Id(d, addrAt + 4); }
    else { r.srcId = store.addrId(src); r.dstId = store.addrId(dst); }
    r.frame = frame; r.tsSec = tsSec; r.tsNsec = tsNsec; r.ifaceId = ifaceId; r.linktype = lt;
    r.dir = dir; r.caplen = caplen; r.len = wlen; r.ipProto = ipProto;
    r.fl = fl;
    r.cut = cut;
    store.pushRow(r);
    return true;
  }

  /**
   * Address ids by IPv4 address, direct-mapped (bulk captures have few hosts): a hit skips the
   * address text and the table's lookup. Ids never change in a store, so entries stay right.
   */
  private readonly v4Keys = new Int32Array(V4_SLOTS);
  private readonly v4Ids = new Int32Array(V4_SLOTS).fill(-1);

  /** Forgets the address ids it remembered: the sink's address table was started again. */
  forgetIds(): void {
    this.v4Ids.fill(-1);
  }

  private v4Id(d: Uint8Array, o: number): number {
    const k = (d[o]! << 24) | (d[o + 1]! << 16) | (d[o + 2]! << 8) | d[o + 3]!;
    const h = Math.imul(k, 0x9e3779b1) >>> (32 - V4_BITS);
    const id = this.v4Ids[h]!;
    if (id >= 0 && this.v4Keys[h] === k) return id;
    const fresh = this.store.addrId(ipv4(d, o));
    this.v4Keys[h] = k;
    this.v4Ids[h] = fresh;
    return fresh;
  }

  /** TCP options in [o, end) into `r`, as tcp.ts's optionValues reads them; returns the F_* bits found. */
  private options(d: Uint8Array, o: number, end: number, r: ColumnRow): number {
    let fl = 0;
    for (let at = tcpOptionAt(d, o, end); at >= 0; at = tcpOptionAt(d, at + d[at + 1]!, end)) {
      const kind = d[at]!, len = d[at + 1]!;
      if (kind === 2 && len === 4) { fl |= F_MSS; r.mss = u16(d, at + 2); }
      else if (kind === 3 && len === 3) { fl |= F_WSCALE; r.wscale = d[at + 2]!; }
      else if (kind === 4 && len === 2) fl |= F_SACKOK;
      else if (kind === 5 && (len - 2) % 8 === 0) {
        // Edges straight into the row's scratch (the last SACK option wins, as in tcp.ts).
        const m = (len - 2) >> 2;
        if (r.sackEdges.length < m) r.sackEdges = new Float64Array(m);
        for (let i = 0; i < m; i++) r.sackEdges[i] = u32(d, at + 2 + 4 * i);
        fl |= F_SACK; r.sackLen = m;
      } else if (kind === 8 && len === 10) { fl |= F_TS; r.tsval = u32(d, at + 2); r.tsecr = u32(d, at + 6); }
    }
    return fl;
  }
}
