// Import of the text `tcpdump -n` prints: often the only thing a user has from a remote console.
// Each packet line (plus its indented `-v` continuation lines) becomes one Packet with origin 'text'.
// Banner lines, shell prompts and pasted labels are skipped; they never get a frame number.

import type { CaptureInterface, CaptureProblem } from './types.ts';
import type { Direction, IcmpInfo, IkeInfo, IpInfo, Packet, TcpInfo } from '../protocols/packet.ts';

export type TimestampMode = 'absolute' | 'date' | 'epoch' | 'delta' | 'since-first' | 'none';

export interface TextImportOptions {
  /** Date for default-format timestamps (HH:MM:SS), as 'YYYY-MM-DD' or epoch milliseconds. Default 1970-01-01. */
  baseDate?: string | number;
  /** Forces the meaning of HH:MM:SS timestamps; otherwise taken from a pasted command line or guessed. */
  timestamps?: TimestampMode;
  /** Sequence numbers are absolute (tcpdump -S); otherwise taken from a pasted command line. */
  absoluteSeq?: boolean;
}

/** Link types named in tcpdump's "listening on …, link-type NAME" banner. */
const LINKTYPES: Record<string, number> = {
  NULL: 0, EN10MB: 1, RAW: 101, LOOP: 108, LINUX_SLL: 113, IPV4: 228, IPV6: 229, LINUX_SLL2: 276,
};
/** Link-layer header length added to the IP length to estimate the captured frame length. */
const LINK_HEADER: Record<number, number> = { 0: 4, 1: 14, 101: 0, 108: 4, 113: 16, 228: 0, 229: 0, 276: 20 };

const DIRS: Record<string, Direction> = { In: 'in', Out: 'out', B: 'broadcast', M: 'multicast', P: 'otherhost' };

const RE_NUMBER_PREFIX = /^\s*\d+\s{2,}(?=\S)/;
const RE_TS_DATE = /^(\d{4})-(\d\d)-(\d\d) (\d\d):(\d\d):(\d\d)(?:\.(\d{1,9}))? /;
const RE_TS_TIME = /^(\d\d):(\d\d):(\d\d)(?:\.(\d{1,9}))? /;
const RE_TS_EPOCH = /^(\d{9,11})(?:\.(\d{1,9}))? /;
/** Once a pasted command line says -tt, small epoch values (captures near 1970) count too. */
const RE_TS_EPOCH_ANY = /^(\d{1,12})\.(\d{6}|\d{9}) /;
const RE_IFACE_DIR = /^(\S+)\s+(In|Out|B|M|P)\s+(.*)$/;
const RE_DIR_ONLY = /^(In|Out|B|M|P)\s+(.*)$/;
const RE_PROMPT = /^\s*(?:[$#%>]|\S*[@:]\S*[$#%>]|\[[^\]]*\][$#])\s*\S/;
const RE_BANNER = /^(?:tcpdump: |listening on |reading from file |\d+ packets? (?:captured|received by filter|dropped by kernel|dropped by interface)|\^C)/;
const RE_HEX = /^\s+0x[0-9a-f]{4}:\s/;
const RE_ENDPOINTS = /^(\S+) > (\S+?):(?: (.*))?$/;
/** What tcpdump prints instead of a transport header it cannot see: "ip-proto-17". */
const RE_LATER_FRAGMENT = /^ip-proto-(\d+)\b/;
/**
 * IP protocols tcpdump always has a printer for (ICMP, TCP, UDP, GRE, ESP, AH, SCTP, IP-in-IP):
 * shown by number, they mark a later fragment.
 */
const DECODED_PROTOS = new Set([1, 4, 6, 17, 41, 47, 50, 51, 132]);

function frac9(s: string | undefined): number {
  if (!s) return 0;
  return Number((s + '000000000').slice(0, 9));
}

function utf8Length(s: string): number {
  let n = s.length;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x80) n += c >= 0x800 && (c < 0xd800 || c > 0xdfff) ? 2 : c < 0x800 ? 1 : 0;
  }
  return n;
}

/** Splits "10.0.0.1.45734" / "2001:db8::1.80" into address and port (port absent when not printed). */
export function splitEndpoint(s: string, v6: boolean): { addr: string; port?: number } {
  const dot = s.lastIndexOf('.');
  if (v6) {
    const dots = s.split('.').length - 1;
    if (dot > 0 && (dots === 1 || dots === 4) && /^\d+$/.test(s.slice(dot + 1))) {
      return { addr: s.slice(0, dot), port: Number(s.slice(dot + 1)) };
    }
    return { addr: s };
  }
  const parts = s.split('.');
  if (parts.length === 5 && /^\d+$/.test(parts[4]!)) return { addr: parts.slice(0, 4).join('.'), port: Number(parts[4]) };
  return { addr: s };
}

interface SeqState { base: boolean }

/** Incremental parser: feed lines, take packets. Keeps the state tcpdump keeps (relative seq, deltas). */
export class TcpdumpTextParser {
  readonly problems: CaptureProblem[] = [];
  /** One entry per interface name seen (a single unnamed one for text without `-i any` names). */
  readonly interfaces: CaptureInterface[] = [];
  /** From the "link-type" banner; -1 until one is seen. */
  linktype = -1;
  private frameNo = 0;
  private opts: TextImportOptions;
  private mode: TimestampMode | undefined;
  private absoluteSeq: boolean;
  private baseDay: number;
  private lastSec = -1;
  private dayShift = 0;
  private prevSec = 0;
  private prevNsec = 0;
  private pending: { text: string; cont: string[]; offset: number } | null = null;
  private offset = 0;
  /** tcpdump's relative-sequence table: one entry per connection, created by the first ACK-bearing packet. */
  private conns = new Map<string, SeqState>();
  /** Next sequence number per direction, in the numbering tcpdump is printing, for lines that omit seq. */
  private nextSeq = new Map<string, number>();

  constructor(opts: TextImportOptions = {}) {
    this.opts = opts;
    this.mode = opts.timestamps;
    this.absoluteSeq = opts.absoluteSeq ?? false;
    let day = 0;
    if (typeof opts.baseDate === 'number') day = Math.floor(opts.baseDate / 86400000) * 86400;
    else if (typeof opts.baseDate === 'string') {
      const t = Date.parse(opts.baseDate.slice(0, 10) + 'T00:00:00Z');
      if (!Number.isNaN(t)) day = t / 1000;
    }
    this.baseDay = day;
  }

  /** Feeds one line (without its newline); returns a finished packet when this line closes one. */
  line(raw: string): Packet | null {
    const offset = this.offset;
    this.offset += utf8Length(raw) + 1;
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (line.trim() === '') return null;
    if (/^\s/.test(line) && !RE_NUMBER_PREFIX.test(line)) {
      if (this.pending && !RE_HEX.test(line)) this.pending.cont.push(line.trim());
      return null;
    }
    const done = this.flush();
    const body = line.replace(RE_NUMBER_PREFIX, '');
    if (RE_BANNER.test(body)) {
      const lt = /link-type (\w+)/.exec(body);
      if (lt && LINKTYPES[lt[1]!] !== undefined) this.linktype = LINKTYPES[lt[1]!]!;
      return done;
    }
    if (/\btcpdump\b/.test(body) && (RE_PROMPT.test(body) || /^\s*(?:sudo\s+(?:-\S+\s+)*)?tcpdump(?:\s|$)/.test(body))) {
      this.commandLine(body);
      return done;
    }
    // A `tcpdump -#` number in front marks a packet line even without a timestamp (-t).
    if (body !== line || this.looksLikePacket(body)) this.pending = { text: body, cont: [], offset };
    return done;
  }

  /** Ends the input: returns the last packet if one is pending. */
  end(): Packet | null {
    return this.flush();
  }

  private looksLikePacket(s: string): boolean {
    if (RE_TS_DATE.test(s) || RE_TS_TIME.test(s) || RE_TS_EPOCH.test(s)) return true;
    if (this.mode === 'epoch' && RE_TS_EPOCH_ANY.test(s)) return true;
    // Without -t timestamps a packet line starts with the protocol or with "iface dir".
    return this.mode === 'none' && /^(?:\S+\s+(?:In|Out|B|M|P)\s+)?(?:IP6?|ARP|ICMP)\b/.test(s);
  }

  /** Reads -S and the -t family from a pasted `tcpdump …` command line. */
  private commandLine(s: string): void {
    const args = s.slice(s.search(/\btcpdump\b/) + 7).trim().split(/\s+/);
    const withArg = new Set('iCcsrwFEyTWGMZzBjQV'.split(''));
    let ts = 0;
    for (let i = 0; i < args.length; i++) {
      const a = args[i]!;
      if (!a.startsWith('-') || a.startsWith('--')) continue;
      for (let k = 1; k < a.length; k++) {
        const c = a[k]!;
        if (c === 'S') this.absoluteSeq = this.opts.absoluteSeq ?? true;
        else if (c === 't') ts++;
        else if (withArg.has(c)) { if (k === a.length - 1) i++; break; }
      }
    }
    if (this.opts.timestamps === undefined) {
      this.mode = ts === 0 ? 'absolute' : ts === 1 ? 'none' : ts === 2 ? 'epoch' : ts === 3 ? 'delta' : ts === 4 ? 'date' : 'since-first';
    }
  }

  private flush(): Packet | null {
    const p = this.pending;
    if (!p) return null;
    this.pending = null;
    return this.packet(p.text, p.cont, p.offset);
  }

  private timestamp(s: string): { sec: number; nsec: number; rest: string } | null {
    let m = RE_TS_DATE.exec(s);
    if (m) {
      const sec = Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!) / 1000;
      return { sec, nsec: frac9(m[7]), rest: s.slice(m[0].length) };
    }
    m = (this.mode === 'epoch' ? RE_TS_EPOCH_ANY : RE_TS_EPOCH).exec(s);
    if (m) return { sec: Number(m[1]), nsec: frac9(m[2]), rest: s.slice(m[0].length) };
    m = RE_TS_TIME.exec(s);
    if (m) {
      const t = +m[1]! * 3600 + +m[2]! * 60 + +m[3]!;
      const nsec = frac9(m[4]);
      const rest = s.slice(m[0].length);
      if (this.mode === undefined) this.mode = t === 0 && nsec === 0 && this.frameNo === 0 ? 'delta' : 'absolute';
      if (this.mode === 'delta') {
        let sec = this.prevSec + t;
        let ns = this.prevNsec + nsec;
        if (ns >= 1e9) { ns -= 1e9; sec++; }
        if (this.frameNo === 0) { sec = this.baseDay + t; ns = nsec; }
        return { sec, nsec: ns, rest };
      }
      if (this.mode === 'since-first') return { sec: this.baseDay + t, nsec, rest };
      // A clock going back by more than 12 hours means the capture crossed midnight.
      if (this.lastSec >= 0 && t < this.lastSec - 43200) this.dayShift += 86400;
      this.lastSec = t;
      return { sec: this.baseDay + this.dayShift + t, nsec, rest };
    }
    if (this.mode === 'none') return { sec: 0, nsec: 0, rest: s };
    return null;
  }

  private packet(text: string, cont: string[], offset: number): Packet {
    const ts = this.timestamp(text) ?? { sec: 0, nsec: 0, rest: text };
    this.prevSec = ts.sec;
    this.prevNsec = ts.nsec;
    let rest = ts.rest.trimStart();
    let iface = '';
    let dir: Direction | null = null;
    const m = RE_IFACE_DIR.exec(rest);
    if (m && !/^(?:IP6?|ARP)$/.test(m[1]!)) { iface = m[1]!; dir = DIRS[m[2]!]!; rest = m[3]!; }
    else {
      const d = RE_DIR_ONLY.exec(rest);
      if (d) { dir = DIRS[d[1]!]!; rest = d[2]!; }
    }
    // Without a banner: "iface dir" columns mean `-i any` (SLL2); otherwise assume Ethernet, the usual case.
    const linktype = this.linktype >= 0 ? this.linktype : iface !== '' || dir !== null ? 276 : 1;
    let ifaceId = this.interfaces.findIndex((i) => i.name === iface);
    if (ifaceId < 0) {
      ifaceId = this.interfaces.length;
      this.interfaces.push({ id: ifaceId, name: iface, linktype, snaplen: 262144, section: 0 });
    }
    rest = rest.trimStart();
    const summary = [rest, ...cont].join(' ');
    // `-e` puts the link layer first (MACs, ifindex, ethertype, frame length): keep the length, drop the rest.
    const link = linkLayer(rest);
    const p: Packet = {
      frame: ++this.frameNo, tsSec: ts.sec, tsNsec: ts.nsec, iface, ifaceId, dir, linktype,
      caplen: 0, len: 0, proto: 'unknown', summary, origin: 'text',
    };
    if (link?.vlan.length) p.vlan = link.vlan;
    if (!this.decode(p, link ? [link.rest, ...cont].join(' ') : summary)) {
      this.problems.push({ fatal: false, offset, message: `text line ${p.frame} not understood; kept as is` });
    }
    if (link?.frameLen !== undefined) p.len = p.caplen = link.frameLen;
    return p;
  }

  /** Fills protocol fields from the text after the interface/direction; false when not understood. */
  private decode(p: Packet, s: string): boolean {
    let v6 = false;
    let body: string;
    let ip: IpInfo | undefined;
    if (s.startsWith('IP6 ')) { v6 = true; body = s.slice(4); }
    else if (s.startsWith('IP ')) body = s.slice(3);
    else if (s.startsWith('ARP, ')) return this.arp(p, s);
    else return false;
    if (body.startsWith('(')) {
      const close = matchParen(body);
      if (close < 0) return false;
      ip = this.ipHeader(body.slice(1, close), v6);
      body = body.slice(close + 1).trim();
    }
    const em = RE_ENDPOINTS.exec(body);
    if (!em) return false;
    const a = splitEndpoint(em[1]!, v6);
    const b = splitEndpoint(em[2]!, v6);
    p.src = a.addr;
    p.dst = b.addr;
    if (a.port !== undefined) p.sport = a.port;
    if (b.port !== undefined) p.dport = b.port;
    // Annotations tcpdump puts before the transport text: checksum verdicts, extension headers, NAT-T.
    const payload = (em[3] ?? '').replace(/^(?:\[[^\]|]*\] |HBH (?:\([^)]*\) )*|DSTOPT (?:\([^)]*\) )*|RT6 \([^)]*\) |frag \([^)]*\) |UDP-encap: )+/, '');
    let l4 = 0; // L4 header + payload bytes, when known
    let laterFragment = false;
    let proto = ip?.proto ?? -1;
    let ok = true;
    const lenM = /(?:^|[ ,])length (\d+)/.exec(payload);
    if (payload.startsWith('Flags [') || /^tcp \d+/.test(payload)) {
      const tcp = this.tcp(p, payload);
      p.tcp = tcp;
      p.proto = 'tcp';
      proto = 6;
      l4 = 20 + tcpOptionBytes(payload) + tcp.len;
    } else if (/^UDP, length \d+/.test(payload)) {
      const n = Number(/^UDP, length (\d+)/.exec(payload)![1]);
      p.udp = { len: n };
      p.proto = 'udp';
      proto = 17;
      l4 = 8 + n;
    } else if (payload.startsWith('ICMP6, ') || payload.startsWith('ICMP ')) {
      p.icmp = icmp(payload, v6);
      p.proto = v6 ? 'icmpv6' : 'icmp';
      proto = v6 ? 58 : 1;
      // tcpdump's ICMP "length" is the ICMP message length (the IP payload).
      if (lenM) l4 = Number(lenM[1]);
    } else if (payload.startsWith('ESP(')) {
      const e = /^ESP\(spi=0x([0-9a-f]+),seq=0x([0-9a-f]+)\)/.exec(payload);
      if (e) p.esp = { spi: parseInt(e[1]!, 16), seq: parseInt(e[2]!, 16) };
      p.proto = 'esp';
      // NAT-T: ESP inside UDP 4500; tcpdump's length is the ESP part.
      const encap = /^(?:\[[^\]]*\] )*UDP-encap: /.test(em[3] ?? '');
      proto = encap ? 17 : 50;
      if (lenM) l4 = Number(lenM[1]) + (encap ? 8 : 0);
      if (encap && lenM) p.udp = { len: Number(lenM[1]) };
    } else if (/(?:^|: |\] )(?:NONESP-encap: )?isakmp/.test(payload)) {
      p.proto = 'isakmp';
      proto = 17;
      const nonEsp = /(?:^|: |\] )NONESP-encap: /.test(payload);
      if (/isakmp-nat-keep-alive/.test(payload)) {
        p.nattKeepalive = true;
        // RFC 3948: the keepalive is the single byte 0xff.
        l4 = 8 + 1;
      }
      const ike = ikeFromText(payload);
      if (ike) {
        if (nonEsp) ike.nonEspMarker = true;
        p.ike = ike;
      }
      // Only -v prints a length for IKE (the IP header's): the UDP payload is what is left after the headers.
      const ipLen = ip?.len ?? 0;
      // IPv4 options (printed by name, not size) or IPv6 extension headers would make that a guess: skip those.
      if (ipLen > 0 && ip?.frag === undefined && !/\boptions \(/.test(s.slice(0, s.indexOf(' > '))) && !/^(?:HBH|DSTOPT|RT6|frag) /.test(em[3] ?? '')) {
        const hdr = v6 ? 40 : 20;
        if (ipLen >= hdr + 8) l4 = ipLen - hdr;
      }
      if (l4 > 0) p.udp = { len: l4 - 8 };
    } else if (p.sport === undefined && p.dport === undefined && RE_LATER_FRAGMENT.test(payload)) {
      // tcpdump names the protocol this way for an IPv4 fragment other than the first (only the first
      // holds the transport header), and for protocols it has no printer for.
      proto = Number(RE_LATER_FRAGMENT.exec(payload)![1]);
      p.proto = 'ip';
      // With -v the header says so itself (offset, flags). Without it the offset is not printed, but a
      // protocol tcpdump always decodes can only appear by number in a later fragment. Offset 0
      // stands for "not printed", as TTL 0 and length 0 do elsewhere in this importer.
      if (!v6 && ip === undefined && DECODED_PROTOS.has(proto)) laterFragment = true;
    } else if (p.sport !== undefined || p.dport !== undefined) {
      // An application printer (DNS, NTP, …) took over; the transport comes from the -v header if any.
      p.proto = proto === 6 ? 'tcp' : proto === 17 ? 'udp' : proto >= 0 ? String(proto) : 'unknown';
      if (proto === 17 && lenM) p.udp = { len: Number(lenM[1]) };
    } else {
      p.proto = proto === 1 ? 'icmp' : proto === 47 ? 'gre' : proto === 4 || proto === 41 ? 'ip' : proto >= 0 ? String(proto) : 'ip';
      ok = proto >= 0 || /length \d+/.test(payload);
    }
    if (ip) {
      if (proto >= 0) ip.proto = proto;
      p.ip = ip;
    } else {
      // Without -v the IP header is not printed: the length is rebuilt from the L4 part, TTL stays unknown (0).
      p.ip = { v: v6 ? 6 : 4, ttl: 0, len: l4 > 0 ? l4 + (v6 ? 40 : 20) : 0, proto: proto >= 0 ? proto : 0 };
      if (laterFragment) p.ip.frag = { offset: 0, more: false };
    }
    const linkHdr = LINK_HEADER[p.linktype] ?? 0;
    p.len = p.caplen = p.ip.len > 0 ? p.ip.len + linkHdr : 0;
    return ok;
  }

  private ipHeader(h: string, v6: boolean): IpInfo {
    const num = (re: RegExp): number | undefined => { const m = re.exec(h); return m ? Number(m[1]) : undefined; };
    const protoM = /(?:proto|next-header) \S+ \((\d+)\)/.exec(h);
    const info: IpInfo = { v: v6 ? 6 : 4, ttl: (v6 ? num(/hlim (\d+)/) : num(/ttl (\d+)/)) ?? 0, len: 0, proto: protoM ? Number(protoM[1]) : 0 };
    if (v6) {
      const pl = num(/payload length: (\d+)/);
      info.len = pl !== undefined ? pl + 40 : 0;
    } else {
      info.len = num(/length (\d+)/) ?? 0;
      const id = num(/\bid (\d+)/);
      if (id !== undefined) info.id = id;
      const flags = /flags \[([^\]]*)\]/.exec(h);
      info.df = flags ? flags[1]!.includes('DF') : false;
      const off = num(/offset (\d+)/) ?? 0;
      const more = flags ? flags[1]!.includes('+') : false;
      if (off > 0 || more) info.frag = { offset: off, more };
    }
    return info;
  }

  private tcp(p: Packet, s: string): TcpInfo {
    const flagsM = /^Flags \[([^\]]*)\]/.exec(s);
    const flags = flagsM ? (flagsM[1] === 'none' ? '' : flagsM[1]!) : '';
    const seqM = /, seq (\d+)(?::(\d+))?/.exec(s);
    const ackM = /, ack (\d+)/.exec(s);
    const winM = /, win (\d+)/.exec(s);
    const lenM = /, length (\d+)/.exec(s) ?? /^tcp (\d+)/.exec(s);
    const tcp: TcpInfo = { flags, seq: 0, ack: ackM ? Number(ackM[1]) : 0, win: winM ? Number(winM[1]) : 0, len: lenM ? Number(lenM[1]) : 0 };
    const optM = /options \[([^\]]*)\]/.exec(s);
    if (optM) {
      for (const o of optM[1]!.split(',')) {
        let m: RegExpExecArray | null;
        if ((m = /^mss (\d+)/.exec(o))) tcp.mss = Number(m[1]);
        else if ((m = /^wscale (\d+)/.exec(o))) tcp.wscale = Number(m[1]);
        else if (o === 'sackOK') tcp.sackOk = true;
        else if ((m = /^TS val (\d+) ecr (\d+)/.exec(o))) { tcp.tsval = Number(m[1]); tcp.tsecr = Number(m[2]); }
        else if (o.startsWith('sack ')) {
          tcp.sack = [...o.matchAll(/\{(\d+):(\d+)\}/g)].map((x) => [Number(x[1]), Number(x[2])] as [number, number]);
        }
      }
    }
    // Replay tcpdump's relative-numbering decision: the first ACK-bearing packet of a connection
    // (or any SYN) prints absolute numbers and sets the base; later ACK-bearing packets print relative ones.
    const hasAck = flags.includes('.');
    const syn = flags.includes('S');
    const fin = flags.includes('F');
    const fwd = `${p.src}.${p.sport}>${p.dst}.${p.dport}`;
    let relative = false;
    if (!this.absoluteSeq && hasAck && p.sport !== undefined && p.dport !== undefined) {
      const k1 = `${p.src}.${p.sport}`;
      const k2 = `${p.dst}.${p.dport}`;
      const key = k1 < k2 ? `${k1}|${k2}` : `${k2}|${k1}`;
      if (!this.conns.has(key) || syn) this.conns.set(key, { base: true });
      else relative = true;
    }
    if (relative) tcp.relative = true;
    if (seqM) {
      tcp.seq = Number(seqM[1]);
      const endSeq = seqM[2] !== undefined ? Number(seqM[2]) : tcp.seq + tcp.len;
      this.nextSeq.set(fwd, endSeq + (fin ? 1 : 0));
    } else {
      tcp.seq = this.nextSeq.get(fwd) ?? 0;
    }
    if (syn) this.nextSeq.set(fwd, relative || !this.absoluteSeq ? 1 : tcp.seq + 1);
    return tcp;
  }

  private arp(p: Packet, s: string): boolean {
    p.proto = 'arp';
    let m = /who-has (\S+) tell (\S+)/.exec(s);
    if (m) { p.arp = { op: 1, spa: m[2]!.replace(/,$/, ''), tpa: m[1]! }; p.src = p.arp.spa; p.dst = p.arp.tpa; return true; }
    m = /Reply (\S+) is-at (\S+)/.exec(s);
    if (m) { p.arp = { op: 2, spa: m[1]!, tpa: '', sha: m[2]!.replace(/,$/, '') }; p.src = m[1]!; return true; }
    return true;
  }
}

const RE_LINK_E = /^(?:ifindex \d+ )?(?:(?:[0-9a-f]{2}:){5}[0-9a-f]{2}(?: > (?:[0-9a-f]{2}:){5}[0-9a-f]{2})?,? )?(?:ethertype )?(\S+) \(0x[0-9a-f]{4}\), length (\d+): (.*)$/;
const RE_VLAN_E = /^vlan (\d+), p \d+, ethertype (\S+) \(0x[0-9a-f]{4}\), (.*)$/;

/** Rewrites a `tcpdump -e` line to the form printed without -e; undefined when there is no link layer. */
function linkLayer(s: string): { rest: string; frameLen?: number; vlan: number[] } | undefined {
  const m = RE_LINK_E.exec(s);
  if (!m) return undefined;
  let type = m[1]!;
  let rest = m[3]!;
  const vlan: number[] = [];
  for (let v = RE_VLAN_E.exec(rest); v && (type === '802.1Q' || type === '802.1Q-QinQ' || type === '802.1ad'); v = RE_VLAN_E.exec(rest)) {
    vlan.push(Number(v[1]));
    type = v[2]!;
    rest = v[3]!;
  }
  const prefix = type === 'IPv4' || type === 'IP' ? 'IP ' : type === 'IPv6' || type === 'IP6' ? 'IP6 ' : type === 'ARP' ? 'ARP, ' : `${type} `;
  return { rest: prefix + rest, frameLen: Number(m[2]), vlan };
}

const IKE_EXCHANGES: Record<string, number> = {
  base: 1, ident: 2, auth: 3, agg: 4, inf: 5, 'oakley-quick': 32, 'oakley-newgroup': 33, oakley_quick: 32, oakley_newgroup: 33,
  ikev2_init: 34, ikev2_auth: 35, child_sa: 36, inf2: 37,
};

/** Responder SPI of a message that cannot have one yet. */
const ZERO_SPI = '0000000000000000';
const RE_IKE = /isakmp(?: (\d)\.\d+ msgid ([0-9a-f]{8})(?: cookie ([0-9a-f]{16})->([0-9a-f]{16}))?)?: (parent_sa|child_sa|phase \d(?:\/others)? [IR?])\s+([\w-]+|#\d+)(\[[A-Z]*\])?/;

/**
 * The IKE header fields tcpdump printed. Plain -n prints only the exchange, -v adds version and
 * message ID, -vv the SPIs ("cookie"). What was not printed stays unknown: SPIs '' and msgid -1.
 * One thing is known without the SPIs: an IKEv2 IKE_SA_INIT request carries a zero responder SPI,
 * since the responder has not picked one yet.
 */
function ikeFromText(s: string): IkeInfo | undefined {
  const m = RE_IKE.exec(s);
  if (!m) return undefined;
  const phase = m[5]!;
  const version: 1 | 2 = m[1] !== undefined ? (m[1] === '2' ? 2 : 1) : phase.startsWith('phase') ? 1 : 2;
  const name = m[6]!;
  const exchange = name.startsWith('#') ? Number(name.slice(1)) : IKE_EXCHANGES[name] ?? 0;
  const ike: IkeInfo = { ispi: m[3] ?? '', rspi: m[4] ?? '', version, exchange, msgid: m[2] !== undefined ? parseInt(m[2], 16) : -1 };
  if (m[4] === undefined) {
    // IKEv2 flags: I = sent by the original initiator, R = a response.
    const v2Request = version === 2 && exchange === 34 && m[7] !== undefined && !m[7].includes('R') && m[7].includes('I');
    if (v2Request) ike.rspi = ZERO_SPI;
  }
  return ike;
}

function matchParen(s: string): number {
  let depth = 0;
  for (let i = 0; i < s.length; i++) {
    if (s[i] === '(') depth++;
    else if (s[i] === ')' && --depth === 0) return i;
  }
  return -1;
}

/** Bytes the printed TCP options occupy on the wire (padded to 4), to rebuild the header length. */
export function tcpOptionBytes(s: string): number {
  const m = /options \[([^\]]*)\]/.exec(s);
  if (!m) return 0;
  let n = 0;
  for (const o of m[1]!.split(',')) {
    if (o === 'nop' || o === 'eol') n += 1;
    else if (o.startsWith('mss')) n += 4;
    else if (o.startsWith('wscale')) n += 3;
    else if (o === 'sackOK') n += 2;
    else if (o.startsWith('TS val')) n += 10;
    else if (o.startsWith('sack ')) n += 2 + 8 * (o.match(/\{/g)?.length ?? 0);
    else if (o.startsWith('mptcp') || o.startsWith('tfo') || o.startsWith('md5')) n += 4;
  }
  return (n + 3) & ~3;
}

function icmp(s: string, v6: boolean): IcmpInfo {
  const info: IcmpInfo = { v: v6 ? 6 : 4, type: -1, code: 0 };
  const idM = /id (\d+), seq (\d+)/.exec(s);
  if (idM) { info.id = Number(idM[1]); info.seq = Number(idM[2]); }
  const mtuM = /mtu (\d+)/.exec(s);
  if (v6) {
    const t: Array<[RegExp, number, number]> = [
      [/echo request/, 128, 0], [/echo reply/, 129, 0], [/packet too big/, 2, 0], [/time exceeded/, 3, 0],
      [/unreachable port/, 1, 4], [/unreachable address/, 1, 3], [/unreachable route/, 1, 0], [/unreachable prohibited/, 1, 1],
      [/destination unreachable|unreachable/, 1, 0], [/router solicitation/, 133, 0], [/router advertisement/, 134, 0],
      [/neighbor solicitation/, 135, 0], [/neighbor advertisement/, 136, 0], [/parameter problem/, 4, 0],
    ];
    for (const [re, type, code] of t) if (re.test(s)) { info.type = type; info.code = code; break; }
    if (info.type === 2 && mtuM) info.mtu = Number(mtuM[1]);
  } else {
    const t: Array<[RegExp, number, number]> = [
      [/echo request/, 8, 0], [/echo reply/, 0, 0], [/need to frag/, 3, 4], [/net \S+ unreachable/, 3, 0],
      [/host \S+ unreachable(?! -)/, 3, 1], [/protocol \d+ unreachable/, 3, 2], [/port \d+ unreachable/, 3, 3],
      [/unreachable - source route failed/, 3, 5], [/unreachable - admin prohibited/, 3, 13], [/unreachable/, 3, 1],
      [/time exceeded in-transit/, 11, 0], [/ip reassembly time exceeded/, 11, 1], [/redirect/, 5, 0],
      [/time stamp request/, 13, 0], [/time stamp reply/, 14, 0], [/parameter problem/, 12, 0],
    ];
    for (const [re, type, code] of t) if (re.test(s)) { info.type = type; info.code = code; break; }
    if (info.type === 3 && info.code === 4 && mtuM) info.mtu = Number(mtuM[1]);
  }
  if (info.type < 0) info.type = 0;
  // A -v dump quotes the offending packet's header after the ICMP error text.
  const orig = /ICMP[^:]*?(?:unreachable|exceeded|too big)[\s\S]*?IP6? (?:\([^)]*\([^)]*\)[^)]*\) )?(\S+) > (\S+?):/.exec(s);
  if (orig && (info.type === 3 || info.type === 11 || (v6 && (info.type === 1 || info.type === 2 || info.type === 3)))) {
    const a = splitEndpoint(orig[1]!, v6);
    const b = splitEndpoint(orig[2]!, v6);
    const pm = /proto \S+ \((\d+)\)/.exec(s);
    info.orig = { src: a.addr, dst: b.addr, proto: pm ? Number(pm[1]) : 0 };
    if (a.port !== undefined) info.orig.sport = a.port;
    if (b.port !== undefined) info.orig.dport = b.port;
  }
  return info;
}
