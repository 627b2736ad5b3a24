// TCP (IP protocol 6): tcpdump-style flags, sequence numbers and the options that matter across
// NAT and tunnels (MSS clamping, timestamps, SACK, window scale).

import { registerIpProto, type Ctx } from './registry.ts';
import type { TcpInfo } from './packet.ts';
import { tcpFlagString as flagString, tcpOptionAt } from './fields.ts';

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
  const sum = c.sum;
  let s = '';
  if (sum) {
    s = 'Flags [' + flags + ']';
    if (len > 0 || (bits & 0x07) !== 0) s += len > 0 ? ', seq ' + seq + ':' + ((seq + len) >>> 0) : ', seq ' + seq;
    if (bits & 0x10) s += ', ack ' + ack;
    s += ', win ' + win;
    if (bits & 0x20) s += ', urg ' + urp;
  }
  if (doff < 20) {
    if (sum) c.info = s + ', bad header length ' + doff;
    return true;
  }
  const optEnd = off + doff;
  if (doff > 20) {
    const o = options(c, tcp, off + 20, optEnd < end ? optEnd : end);
    if (sum) s += ', options [' + o + ']';
  }
  if (sum) c.info = s + ', length ' + len;
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

function options(c: Ctx, tcp: TcpInfo, o: number, end: number): string {
  const d = c.d;
  const t = c.t;
  let s = '';
  if (t) t.push(t.add('tcp.options', 'Options: (' + (end - o) + ' bytes)', undefined, o, end - o));
  // Without summary or tree only the values matter: the fast loop below fills them.
  if (!c.sum && !t) { optionValues(c, tcp, o, end); return ''; }
  while (o < end) {
    const kind = d[o]!;
    if (s) s += ',';
    if (kind === 0 || kind === 1) {
      s += kind === 0 ? 'eol' : 'nop';
      if (t) t.add('tcp.option_kind', kind === 0 ? 'End of Option List (EOL)' : 'No-Operation (NOP)', kind, o, 1);
      o++;
      if (kind === 0) break;
      continue;
    }
    if (o + 1 >= end) { s += '[|tcp]'; break; }
    const len = d[o + 1]!;
    if (len < 2 || o + len > end) { s += len < 2 ? 'bad opt' : '[|tcp]'; break; }
    let label: string;
    if (kind === 2 && len === 4) {
      tcp.mss = c.u16(o + 2);
      label = 'mss ' + tcp.mss;
    } else if (kind === 3 && len === 3) {
      tcp.wscale = d[o + 2]!;
      label = 'wscale ' + tcp.wscale;
    } else if (kind === 4 && len === 2) {
      tcp.sackOk = true;
      label = 'sackOK';
    } else if (kind === 5 && (len - 2) % 8 === 0) {
      const n = (len - 2) / 8;
      const blocks: Array<[number, number]> = [];
      label = 'sack ' + n + ' ';
      for (let i = 0; i < n; i++) {
        const l = c.u32(o + 2 + 8 * i);
        const r = c.u32(o + 6 + 8 * i);
        blocks.push([l, r]);
        label += '{' + l + ':' + r + '}';
      }
      tcp.sack = blocks;
    } else if (kind === 8 && len === 10) {
      tcp.tsval = small(c.u32(o + 2));
      tcp.tsecr = small(c.u32(o + 6));
      label = 'TS val ' + tcp.tsval + ' ecr ' + tcp.tsecr;
    } else if (kind === 19) label = 'md5';
    else if (kind === 29) label = 'tcp-ao';
    else if (kind === 30) label = 'mptcp';
    else if (kind === 34) label = 'tfo';
    else label = 'unknown-' + kind;
    s += label;
    if (t) t.add('tcp.option_kind', label + ' (kind ' + kind + ', length ' + len + ')', kind, o, len);
    o += len;
  }
  if (t) t.pop();
  return s;
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
