// TCP (IP protocol 6): tcpdump-style flags, sequence numbers and the options that matter across
// NAT and tunnels (MSS clamping, timestamps, SACK, window scale).

import { registerIpProto, type Ctx } from './registry.ts';
import type { TcpInfo } from './packet.ts';
import { be16, be32, tcpFlagString as flagString, tcpOptionAt } from './fields.ts';

/** Whole numbers below 2^31 as small integers: V8 boxes any other number stored in an object. */
function small(x: number): number {
  return x < 0x80000000 ? x | 0 : x;
}

/**
 * A constructor, so that V8 keeps the options added later (timestamps, MSS) inside the object;
 * the prototype stays Object.prototype (a plain object). The never-taken branch sizes it.
 */
const TcpRecord = function (this: TcpInfo, flags: string, seq: number, ack: number, win: number, len: number) {
  this.flags = flags;
  this.seq = seq;
  this.ack = ack;
  this.win = win;
  this.len = len;
  if (len < 0) { this.tsval = 0; this.tsecr = 0; this.mss = 0; this.wscale = 0; this.sackOk = false; }
} as unknown as new (flags: string, seq: number, ack: number, win: number, len: number) => TcpInfo;
(TcpRecord as unknown as { prototype: object }).prototype = Object.prototype;

function dissectTcp(c: Ctx, off: number, end: number): boolean {
  const p = c.p;
  p.proto = 'tcp';
  const avail = end - off;
  const d = c.d;
  if (avail < 4) {
    c.info = '';
    c.trunc('TCP');
    return true;
  }
  p.sport = c.u16(off);
  p.dport = c.u16(off + 2);
  if (avail < 20) {
    c.info = '';
    c.trunc('TCP');
    return true;
  }
  const seq = c.u32(off + 4);
  const ack = c.u32(off + 8);
  const doff = (d[off + 12]! >> 4) * 4;
  const bits = ((d[off + 12]! & 1) << 8) | d[off + 13]!;
  const win = c.u16(off + 14);
  const urp = c.u16(off + 18);
  const flags = flagString(bits);
  // Payload length follows the IP header's length, as tcpdump does, even when the capture was cut.
  let len = c.l3End - off - doff;
  if (len < 0) len = 0;
  const tcp: TcpInfo = new TcpRecord(flags, small(seq), small(ack), win, len);
  p.tcp = tcp;
  const t = c.t;
  if (t) {
    t.layer('tcp', 'Transmission Control Protocol, Src Port: ' + p.sport + ', Dst Port: ' + p.dport + ', Seq: ' + seq + ', Len: ' + len, off, Math.min(doff, avail));
    t.add('tcp.srcport', 'Source Port: ' + p.sport, p.sport, off, 2);
    t.add('tcp.dstport', 'Destination Port: ' + p.dport, p.dport, off + 2, 2);
    t.add('tcp.seq', 'Sequence Number: ' + seq, seq, off + 4, 4);
    t.add('tcp.ack', 'Acknowledgment Number: ' + ack, ack, off + 8, 4);
    t.add('tcp.hdr_len', 'Header Length: ' + doff + ' bytes', doff, off + 12, 1);
    t.add('tcp.flags', 'Flags: [' + flags + '] (0x' + bits.toString(16).padStart(3, '0') + ')', flags, off + 12, 2);
    t.add('tcp.window_size_value', 'Window: ' + win, win, off + 14, 2);
    t.add('tcp.checksum', 'Checksum: 0x' + c.u16(off + 16).toString(16).padStart(4, '0'), c.u16(off + 16), off + 16, 2);
    t.add('tcp.urgent_pointer', 'Urgent Pointer: ' + urp, urp, off + 18, 2);
  }
  if (c.sum) c.info = tcpText(d, off, end, len);
  if (doff < 20) return true;
  const optEnd = off + doff;
  if (doff > 20) options(c, tcp, off + 20, optEnd < end ? optEnd : end);
  if (avail < doff) {
    c.trunc('TCP');
    return true;
  }
  if (end > optEnd) {
    c.payStart = optEnd;
    c.payEnd = end;
  }
  return true;
}

/** The option values into `tcp`, and their entries into the detail tree when there is one. */
function options(c: Ctx, tcp: TcpInfo, o: number, end: number): void {
  optionValues(c, tcp, o, end);
  const t = c.t;
  if (!t) return;
  t.push(t.add('tcp.options', 'Options: (' + (end - o) + ' bytes)', undefined, o, end - o));
  walkOptions(c.d, o, end, (label, kind, at, len) => {
    const name = kind === 0 ? 'End of Option List (EOL)' : kind === 1 ? 'No-Operation (NOP)' : label + ' (kind ' + kind + ', length ' + len + ')';
    t.add('tcp.option_kind', name, kind, at, len);
  });
  t.pop();
}

/**
 * Walks the options in d[o, end) the way tcpdump lists them: `each` gets every option's label
 * (EOL and NOP as one byte each; the list ends after an EOL). Returns what tcpdump prints where
 * the list breaks off ('[|tcp]' for an option cut short, 'bad opt' for a length below 2), else ''.
 */
function walkOptions(d: Uint8Array, o: number, end: number, each: (label: string, kind: number, at: number, len: number) => void): string {
  while (o < end) {
    const kind = d[o]!;
    if (kind === 0 || kind === 1) {
      each(kind === 0 ? 'eol' : 'nop', kind, o, 1);
      o++;
      if (kind === 0) break;
      continue;
    }
    if (o + 1 >= end) return '[|tcp]';
    const len = d[o + 1]!;
    if (len < 2 || o + len > end) return len < 2 ? 'bad opt' : '[|tcp]';
    let label: string;
    if (kind === 2 && len === 4) label = 'mss ' + be16(d, o + 2);
    else if (kind === 3 && len === 3) label = 'wscale ' + d[o + 2]!;
    else if (kind === 4 && len === 2) label = 'sackOK';
    else if (kind === 5 && (len - 2) % 8 === 0) {
      const n = (len - 2) / 8;
      label = 'sack ' + n + ' ';
      for (let i = 0; i < n; i++) label += '{' + be32(d, o + 2 + 8 * i) + ':' + be32(d, o + 6 + 8 * i) + '}';
    } else if (kind === 8 && len === 10) label = 'TS val ' + be32(d, o + 2) + ' ecr ' + be32(d, o + 6);
    else if (kind === 19) label = 'md5';
    else if (kind === 29) label = 'tcp-ao';
    else if (kind === 30) label = 'mptcp';
    else if (kind === 34) label = 'tfo';
    else label = 'unknown-' + kind;
    each(label, kind, o, len);
    o += len;
  }
  return '';
}

/** The options in d[o, end) as the summary lists them: "mss 1460,sackOK,TS val 1 ecr 0,nop,wscale 7". */
function optionsText(d: Uint8Array, o: number, end: number): string {
  let s = '';
  const stop = walkOptions(d, o, end, (label) => { s += s ? ',' + label : label; });
  return stop ? (s ? s + ',' + stop : stop) : s;
}

/**
 * The summary text of the TCP header at d[off] (at least its 20 fixed bytes held; `end`: where
 * the captured segment stops, `len`: its payload length), tcpdump's wording: "Flags [P.], seq
 * 1:87, ack 1, win 502, options [nop,nop,TS val 7 ecr 9], length 86". The decoder and the bulk
 * import's fast path (shared/ingest/fast-decode.ts) both word it here.
 */
export function tcpText(d: Uint8Array, off: number, end: number, len: number): string {
  const bits = ((d[off + 12]! & 1) << 8) | d[off + 13]!;
  const doff = (d[off + 12]! >> 4) * 4;
  const seq = be32(d, off + 4);
  let s = 'Flags [' + flagString(bits) + ']';
  if (len > 0 || (bits & 0x07) !== 0) s += len > 0 ? ', seq ' + seq + ':' + ((seq + len) >>> 0) : ', seq ' + seq;
  if (bits & 0x10) s += ', ack ' + be32(d, off + 8);
  s += ', win ' + be16(d, off + 14);
  if (bits & 0x20) s += ', urg ' + be16(d, off + 18);
  if (doff < 20) return s + ', bad header length ' + doff;
  if (doff > 20) s += ', options [' + optionsText(d, off + 20, off + doff < end ? off + doff : end) + ']';
  return s + ', length ' + len;
}

/** The option values options() records, without building any text. */
function optionValues(c: Ctx, tcp: TcpInfo, o: number, end: number): void {
  const d = c.d;
  for (let at = tcpOptionAt(d, o, end); at >= 0; at = tcpOptionAt(d, at + d[at + 1]!, end)) {
    const kind = d[at]!, len = d[at + 1]!;
    if (kind === 2 && len === 4) tcp.mss = c.u16(at + 2);
    else if (kind === 3 && len === 3) tcp.wscale = d[at + 2]!;
    else if (kind === 4 && len === 2) tcp.sackOk = true;
    else if (kind === 5 && (len - 2) % 8 === 0) {
      const n = (len - 2) / 8;
      const blocks: Array<[number, number]> = [];
      for (let i = 0; i < n; i++) blocks.push([c.u32(at + 2 + 8 * i), c.u32(at + 6 + 8 * i)]);
      tcp.sack = blocks;
    } else if (kind === 8 && len === 10) {
      tcp.tsval = small(c.u32(at + 2));
      tcp.tsecr = small(c.u32(at + 6));
    }
  }
}

registerIpProto(6, dissectTcp);
