// Import of the text `tcpdump -n` prints: often the only thing a user has from a remote console.
// Each packet line (plus its indented `-v` continuation lines) becomes one Packet with origin 'text'.
// Banner lines and pasted commands are recognised; any other line that is not a packet is counted and
// reported (SkippedLines), never dropped in silence. Everything runs in time linear in the input:
// expressions are anchored or have no overlapping quantifiers, and searches inside a line use indexOf.
//
// Pasted text is taken as people paste it: forum code-block indentation and `> ` quote marks are
// peeled off; `-t` lines (no time) keep their order with `timeUnknown`; a `-v` header or continuation
// line that grep separated from its partner still gives what it holds. Masked addresses keep the
// mask as the address text (`115.***`, `<WANIP>`, `x.x.x.x`), with the port split off when printed.

import type { CaptureInterface, CaptureProblem } from './types.ts';
import type { Direction, FirewallLogInfo, IcmpInfo, IkeInfo, IpInfo, Packet, TcpInfo } from '../protocols/packet.ts';
import { HEAD_KEEP, MAX_LINE, utf8Bytes } from './text/lines.ts';
import { notifyTypes } from './text/ike-names.ts';

export type TimestampMode = 'absolute' | 'date' | 'epoch' | 'delta' | 'since-first' | 'none';

export interface TextImportOptions {
  /** Date for default-format timestamps (HH:MM:SS), as 'YYYY-MM-DD' or epoch milliseconds. Default 1970-01-01. */
  baseDate?: string | number;
  /** Forces the meaning of HH:MM:SS timestamps; otherwise taken from a pasted command line or guessed. */
  timestamps?: TimestampMode;
  /** Sequence numbers are absolute (tcpdump -S); otherwise taken from a pasted command line. */
  absoluteSeq?: boolean;
}

/** Start of the fatal problem of a text without any packet line (it names the first lines itself). */
export const NO_PACKET_LINE = 'no tcpdump packet line recognised';

/** Lines the parser could not use (same shape as reader.ts SkippedLines). */
export interface TextSkipped {
  count: number;
  examples: Array<{ line: number; text: string }>;
}

/** Link types named in tcpdump's "listening on …, link-type NAME" banner. */
const LINKTYPES: Record<string, number> = {
  NULL: 0, EN10MB: 1, RAW: 101, LOOP: 108, ENC: 109, LINUX_SLL: 113, PFLOG: 117, IPV4: 228, IPV6: 229, LINUX_SLL2: 276,
};
/** Link-layer header length added to the IP length to estimate the captured frame length. */
const LINK_HEADER: Record<number, number> = { 0: 4, 1: 14, 101: 0, 108: 4, 109: 12, 113: 16, 117: 64, 228: 0, 229: 0, 276: 20 };

const DIRS: Record<string, Direction> = { In: 'in', Out: 'out', B: 'broadcast', M: 'multicast', P: 'otherhost' };

/** Examples kept for the skipped-lines report, and the characters kept of each. */
const SKIP_EXAMPLES = 5;
const SKIP_TEXT = 200;
/** Per-line "not understood" problems kept; past this only a count (a hostile file has millions). */
const MAX_LINE_PROBLEMS = 100;
/** Continuation text kept for one packet: -vv IKE output is a few KiB, nothing real comes near this. */
const MAX_PENDING = 256 * 1024;

const RE_NUMBER_PREFIX = /^\d+\s{2,}(?=\S)/;
const RE_TS_DATE = /^(\d{4})-(\d\d)-(\d\d) (\d\d):(\d\d):(\d\d)(?:\.(\d{1,9}))? /;
const RE_TS_TIME = /^(\d\d):(\d\d):(\d\d)(?:\.(\d{1,9}))? /;
const RE_TS_EPOCH = /^(\d{9,11})(?:\.(\d{1,9}))? /;
/** Once a pasted command line says -tt, small epoch values (captures near 1970) count too. */
const RE_TS_EPOCH_ANY = /^(\d{1,12})\.(\d{6}|\d{9}) /;
const RE_IFACE_DIR = /^(\S+)\s+(In|Out|B|M|P)\s+(.*)$/;
const RE_DIR_ONLY = /^(In|Out|B|M|P)\s+(.*)$/;
const RE_BANNER = /^(?:tcpdump: |listening on |reading from file |dropped privs to |\d+ packets? (?:captured|received by filter|dropped by kernel|dropped by interface)|\^C)/;
const RE_HEX = /^0x[0-9a-f]{4}:\s/;
const RE_ENDPOINTS = /^(\S+) > (\S+?):(?: (.*))?$/;
/** Some `src > dst:` pair in the text (a MAC pair of -e ends in ',' and does not count). */
const RE_HAS_ENDPOINTS = / > \S+:(?: |$)/;
/** A -v IP header inside a continuation line ("\t(tos 0x0, …", "erspan type1: IP (tos …", "IP6 (class 0x0, …"). */
const RE_QUOTED_HEADER = /\((?:tos 0x|class 0x|flowlabel 0x|hlim \d)/;
/** A -v second line on its own (grep kept it, not its header): "10.0.0.1.500 > 10.0.0.2.500: …". */
const RE_ENDPOINT_LINE = /^\S+ > \S+:(?: |$)/;
/** A packet line without a time (-t): protocol first, or `iface dir` first (-i any), pflog or enc0 prefixes. */
const RE_NO_TS_PACKET = /^(?:\S+\s+(?:In|Out|B|M|P)\s+)?(?:IP6? (?:\(|\S+ > \S)|ARP, )/;
/**
 * pflog with -e. tcpdump: "rule 5/0(match): block in on em0: …" (rule number, reason code and name; an
 * anchor rule is "3.anchor.2/0"). FreeBSD/pfSense's tcpdump: "rule 5/match [uid 0]: block in on em0: …".
 */
const RE_PFLOG = /^rule (\S+?)\/(?:(\d+)\(([\w-]+)\)|([\w-]+|unkn\(\d+\)))(?: \[uid \d+\])?: ([\w-]+|unkn\(\d+\)) (?:(in\/out|in|out|fwd|unkn\(\d+\)) )?on ([^\s:]+): /;
/** pf's reason codes, by number (for the FreeBSD form, which prints only the name). */
const PF_REASONS = ['match', 'bad-offset', 'fragment', 'short', 'normalize', 'memory', 'bad-timestamp', 'congestion',
  'ip-option', 'proto-cksum', 'state-mismatch', 'state-insert', 'state-limit', 'src-limit', 'synproxy'];
/** enc0 (BSD IPsec, decrypted side): "(authentic,confidential): SPI 0x1234abcd: IP …"; some versions drop "): ". */
const RE_ENC = /^\(([a-z,]*)(?:\): |)SPI 0x([0-9a-fA-F]{1,8}): /;
/** Annotations tcpdump puts before the transport text: checksum verdicts, extension headers, NAT-T. */
const RE_ANNOTATIONS = /^(?:\[[^\]|]*\] |HBH (?:\([^)]*\) ?)* *|DSTOPT (?:\([^)]*\) ?)* *|RT6 \([^)]*\) |frag \([^)]*\) |\(invalid\) |UDP-encap: )+/;
/** What tcpdump prints instead of a transport header it cannot see: "ip-proto-17". */
const RE_LATER_FRAGMENT = /^ip-proto-(\d+)\b/;
/** UDP DNS as tcpdump prints it: "38149+ A? …", "38149 NXDomain 0/1/0 (104)", "38149* 1/0/0 A 192.0.2.1 (45)". */
const RE_DNS = /^\d{1,5}[*+|$-]*(?: |$)/;
const DNS_PORTS = new Set([53, 5353, 5355]);
/**
 * IP protocols tcpdump always has a printer for (ICMP, TCP, UDP, GRE, ESP, AH, SCTP, IP-in-IP):
 * shown by number, they mark a later fragment.
 */
const DECODED_PROTOS = new Set([1, 4, 6, 17, 41, 47, 50, 51, 132]);
/** Name of the highest protocol when only an IP header (-v) is known, as the binary decoders name it. */
const PROTO_BY_NUMBER: Record<number, string> = { 1: 'icmp', 6: 'tcp', 17: 'udp', 47: 'gre', 50: 'esp', 51: 'ah', 58: 'icmpv6' };

function frac9(s: string | undefined): number {
  if (!s) return 0;
  return Number((s + '000000000').slice(0, 9));
}

const MASK_CHARS = /^[*xXN#?_<>A-Za-z-]+$/;

/** One dotted part of a masked IPv4 address: digits, or a mask such as "***", "x", "NNN", "<WANIP>". */
function octetOrMask(p: string): boolean {
  return /^\d{1,3}$/.test(p) || MASK_CHARS.test(p);
}

/**
 * Splits "10.0.0.1.45734" / "2001:db8::1.80" into address and port (port absent when not printed).
 * Masked addresses keep the mask as the address: "115.***.45705" → "115.***" port 45705,
 * "<WANIP>.35288" → "<WANIP>" port 35288, "x.x.x.x.500" → "x.x.x.x" port 500.
 */
export function splitEndpoint(s: string, v6: boolean): { addr: string; port?: number } {
  const dot = s.lastIndexOf('.');
  if (v6) {
    let dots = 0;
    for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) === 46) dots++;
    if (dot > 0 && (dots === 1 || dots === 4) && /^\d+$/.test(s.slice(dot + 1))) {
      return { addr: s.slice(0, dot), port: Number(s.slice(dot + 1)) };
    }
    return { addr: s };
  }
  if (dot <= 0) return { addr: s };
  const last = s.slice(dot + 1);
  if (!/^\d{1,5}$/.test(last) || Number(last) > 65535) return { addr: s };
  const parts = s.split('.', 6);
  if (parts.length === 5) return { addr: s.slice(0, dot), port: Number(last) };
  // Four parts that each look like an octet or a mask: an address without a port ("1.2.xxx.4").
  if (parts.length === 4 && parts.every(octetOrMask)) return { addr: s };
  // Fewer parts can only be a masked or shortened address followed by a port.
  if (parts.length < 5 && parts.slice(0, -1).some((p) => !/^\d{1,3}$/.test(p))) return { addr: s.slice(0, dot), port: Number(last) };
  return { addr: s };
}

/** Prompt at the start of a pasted command line: "$", "#", "user@host:~$", "[root@fw ~]#", "[…][admin@pfSense]/root:". */
function isPrompt(s: string): boolean {
  let i = 0;
  while (i < s.length && (s[i] === ' ' || s[i] === '\t')) i++;
  if (s[i] === '[') {
    const close = s.indexOf(']', i);
    if (close > i && close - i < 256 && '$#'.includes(s[close + 1] ?? '')) return true;
  }
  // The first word, looked at only up to a sane length: prompts are short.
  let j = i;
  while (j < s.length && j - i < 256 && s[j] !== ' ' && s[j] !== '\t') j++;
  if (j === i || j - i >= 256) return false;
  const word = s.slice(i, j);
  const end = word[word.length - 1]!;
  // pfSense/OPNsense: "[2.7.2-RELEASE][admin@fw.example]/root:".
  if (end === ':') return word.startsWith('[') && word.includes(']') && word.includes('@');
  if (!'$#%>'.includes(end)) return false;
  return word.length === 1 || word.includes('@') || word.includes(':');
}

interface Indented { indent: number; content: string }

/**
 * Peels what a forum or mail client adds in front of pasted lines: `>` quote marks and indentation
 * (spaces, tabs, no-break spaces). The indentation after the quote marks is returned in columns,
 * tabs to the next multiple of 8, so continuation lines can be told from packet lines.
 */
function peel(line: string): Indented {
  let i = 0;
  let col = 0;
  for (; i < line.length; i++) {
    const c = line[i]!;
    if (c === ' ' || c === '\u00a0') col++;
    else if (c === '\t') col = (col + 8) & ~7;
    else if (c === '>') {
      // A quote mark and the one space after it: indentation counts from there. tcpdump never
      // starts a line with '>', so any leading one is a quote mark.
      col = 0;
      if (line[i + 1] === ' ') i++;
    } else break;
  }
  return { indent: col, content: line.slice(i) };
}

interface SeqState { base: boolean }

interface Pending {
  text: string;
  cont: string[];
  offset: number;
  indent: number;
  size: number;
  /** No time on the line (-t, or a -v second line on its own). */
  noTime: boolean;
  /** The line is a -v IP header that still waits for its `src > dst:` line. */
  awaiting: boolean;
  /** A `src > dst:` pair has been read for this packet. */
  hasEndpoints: boolean;
}

/** Incremental parser: feed lines, take packets. Keeps the state tcpdump keeps (relative seq, deltas). */
export class TcpdumpTextParser {
  readonly problems: CaptureProblem[] = [];
  /** One entry per interface name seen (a single unnamed one for text without `-i any` names). */
  readonly interfaces: CaptureInterface[] = [];
  /** Lines that were neither packets, banners, pasted commands nor continuation lines. */
  readonly skipped: TextSkipped = { count: 0, examples: [] };
  /** From the "link-type" banner; -1 until one is seen. */
  linktype = -1;
  private ifaceIds = new Map<string, number>();
  private frameNo = 0;
  private lineNo = 0;
  private lineProblems = 0;
  private opts: TextImportOptions;
  private mode: TimestampMode | undefined;
  private absoluteSeq: boolean;
  private baseDay: number;
  private lastSec = -1;
  private dayShift = 0;
  private prevSec = 0;
  private prevNsec = 0;
  /** A packet with a time has been read: later timeless packets take the last time, not an ordinal. */
  private sawTime = false;
  private pending: Pending | null = null;
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
    if (raw.length > MAX_LINE) return this.longLine(raw.slice(0, HEAD_KEEP), utf8Bytes(raw));
    const lineNo = ++this.lineNo;
    const offset = this.offset;
    this.offset += utf8Bytes(raw) + 1;
    let line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    // Copied from a web page: no-break spaces between the fields, or the page's escaped '>' and '<'.
    if (line.includes('\u00a0')) line = line.replace(/\u00a0/g, ' ');
    if (line.includes('&')) line = line.replace(/&(gt|lt|amp);/g, (_m, n: string) => (n === 'gt' ? '>' : n === 'lt' ? '<' : '&'));
    const { indent, content } = peel(line);
    if (content.trimEnd() === '') return null;
    const num = RE_NUMBER_PREFIX.exec(content);
    const body = num ? content.slice(num[0].length) : content;
    const pending = this.pending;
    // A hex/ASCII dump (-x, -X) belongs to the packet above it.
    if (RE_HEX.test(body)) return null;
    if (!num && RE_BANNER.test(body)) {
      const lt = /link-type (\w+)/.exec(body);
      if (lt && LINKTYPES[lt[1]!] !== undefined) this.linktype = LINKTYPES[lt[1]!]!;
      return this.flush();
    }
    if (!num && body.includes('tcpdump') && /\btcpdump\b/.test(body) && (isPrompt(body) || /^(?:sudo\s+(?:-\S+\s+)*)?tcpdump(?:\s|$)/.test(body))) {
      const done = this.flush();
      this.commandLine(body);
      return done;
    }
    // A `tcpdump -#` number or a time in front: a packet line.
    // -# output indents its numbers to a width of 5 and continuation lines by 4: any indent is deeper.
    if (num) return this.start(body, offset, 0, false);
    if (this.hasTimestamp(body)) return this.start(body, offset, indent, false);
    // Deeper than its packet line: a -v continuation (also an ICMP error's quoted packet, a tunnel's inner one).
    if (pending && indent > pending.indent) return this.continuation(pending, body, lineNo, offset, indent);
    if (RE_NO_TS_PACKET.test(body) || RE_PFLOG.test(body) || RE_ENC.test(body)) {
      // In text with times, a line without one is never a packet of its own: a tunnel's inner header
      // (VXLAN prints it flush left). Only -t text has packet lines without times.
      if (pending && !pending.noTime) return this.continuation(pending, body, lineNo, offset, indent);
      return this.start(body, offset, indent, true);
    }
    if (RE_ENDPOINT_LINE.test(body)) {
      // A -v second line at the header's indentation (a paste lost it): it completes a header that waits.
      if (pending?.awaiting) return this.continuation(pending, body, lineNo, offset, indent);
      // Otherwise its header was lost (grep): a packet of its own, from what the line holds.
      return this.start(this.ipPrefix(body) + body, offset, indent, true);
    }
    const done = this.flush();
    this.skip(lineNo, line);
    return done;
  }

  /** A line longer than MAX_LINE (its first characters and its length): skipped with a report. */
  longLine(head: string, bytes: number): Packet | null {
    const lineNo = ++this.lineNo;
    const offset = this.offset;
    this.offset += bytes + 1;
    const done = this.flush();
    this.skip(lineNo, head, true);
    this.lineProblem(offset, `text line ${lineNo} is longer than ${MAX_LINE} characters (${bytes} bytes); skipped`);
    return done;
  }

  /** Ends the input: returns the last packet if one is pending. */
  end(): Packet | null {
    const last = this.flush();
    if (this.lineProblems > MAX_LINE_PROBLEMS) {
      this.problems.push({ fatal: false, offset: this.offset, message: `${this.lineProblems - MAX_LINE_PROBLEMS} more text lines with problems not listed` });
    }
    return last;
  }

  /** The fatal problem for a text in which no packet line was recognised, naming the first lines. */
  noPacketProblem(): CaptureProblem {
    const ex = this.skipped.examples.slice(0, 3).map((e) => `line ${e.line}: "${e.text.length > 80 ? e.text.slice(0, 80) + '…' : e.text}"`);
    const what = ex.length > 0 ? `; first lines not read: ${ex.join(', ')}` : ' (the text has no non-blank line that is not a tcpdump banner or command)';
    return { fatal: true, offset: 0, message: `${NO_PACKET_LINE}${what}` };
  }

  /** Counts a line not used; `cut` says the text given is already only the start of it. */
  private skip(lineNo: number, text: string, cut = false): void {
    this.skipped.count++;
    if (this.skipped.examples.length < SKIP_EXAMPLES) {
      this.skipped.examples.push({ line: lineNo, text: text.length > SKIP_TEXT || cut ? text.slice(0, SKIP_TEXT) + '…' : text });
    }
  }

  private lineProblem(offset: number, message: string): void {
    if (++this.lineProblems <= MAX_LINE_PROBLEMS) this.problems.push({ fatal: false, offset, message });
  }

  private start(body: string, offset: number, indent: number, noTime: boolean): Packet | null {
    const done = this.flush();
    this.pending = {
      text: body, cont: [], offset, indent, size: body.length, noTime,
      awaiting: body.trimEnd().endsWith(')') && !RE_HAS_ENDPOINTS.test(body), hasEndpoints: RE_HAS_ENDPOINTS.test(body),
    };
    return done;
  }

  private continuation(p: Pending, body: string, lineNo: number, offset: number, indent: number): Packet | null {
    const endpoints = RE_HAS_ENDPOINTS.test(body);
    // A second `src > dst:` line where no header waits for one: grep dropped this line's own header.
    if (endpoints && !p.awaiting && p.hasEndpoints && RE_ENDPOINT_LINE.test(body)) return this.start(this.ipPrefix(body) + body, offset, indent, true);
    if (p.size + body.length > MAX_PENDING) {
      this.skip(lineNo, body);
      return null;
    }
    p.cont.push(body.trimEnd());
    p.size += body.length + 1;
    if (endpoints) { p.awaiting = false; p.hasEndpoints = true; }
    // A quoted header (ICMP error, tunnel) on a line of its own: its `src > dst:` line comes next.
    if (!endpoints && RE_QUOTED_HEADER.test(body) && body.trimEnd().endsWith(')')) p.awaiting = true;
    return null;
  }

  /** "IP " or "IP6 " for a line that lost it (a -v second line, pflog -e): IPv6 addresses hold ':'. */
  private ipPrefix(s: string): string {
    const gt = s.indexOf(' > ');
    const first = gt > 0 ? s.slice(0, gt) : s.slice(0, 64);
    return first.includes(':') || /^\((?:class|flowlabel|hlim)/.test(s) ? 'IP6 ' : 'IP ';
  }

  private hasTimestamp(s: string): boolean {
    if (RE_TS_DATE.test(s) || RE_TS_TIME.test(s) || RE_TS_EPOCH.test(s)) return true;
    return this.mode === 'epoch' && RE_TS_EPOCH_ANY.test(s);
  }

  /** Reads -S and the -t family from a pasted `tcpdump …` command line. */
  private commandLine(s: string): void {
    const args = s.slice(s.search(/\btcpdump\b/) + 7).trim().split(/\s+/, 64);
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
    return this.packet(p);
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
      if (this.mode === undefined || this.mode === 'none') this.mode = t === 0 && nsec === 0 && !this.sawTime ? 'delta' : 'absolute';
      if (this.mode === 'delta') {
        let sec = this.prevSec + t;
        let ns = this.prevNsec + nsec;
        if (ns >= 1e9) { ns -= 1e9; sec++; }
        if (!this.sawTime) { sec = this.baseDay + t; ns = nsec; }
        return { sec, nsec: ns, rest };
      }
      if (this.mode === 'since-first') return { sec: this.baseDay + t, nsec, rest };
      // A clock going back by more than 12 hours means the capture crossed midnight.
      if (this.lastSec >= 0 && t < this.lastSec - 43200) this.dayShift += 86400;
      this.lastSec = t;
      return { sec: this.baseDay + this.dayShift + t, nsec, rest };
    }
    return null;
  }

  private packet(pend: Pending): Packet {
    const { cont, offset } = pend;
    let ts = pend.noTime ? null : this.timestamp(pend.text);
    let timeUnknown = false;
    if (ts === null) {
      // No time printed (-t, or a line whose header grep dropped): only the order is known. Such a
      // packet takes the last time seen, or 1 µs steps from the base date when the text has none.
      timeUnknown = true;
      if (this.sawTime) ts = { sec: this.prevSec, nsec: this.prevNsec, rest: pend.text };
      else {
        const n = this.frameNo;
        ts = { sec: this.baseDay + Math.floor(n / 1e6), nsec: (n % 1e6) * 1000, rest: pend.text };
      }
    } else {
      this.sawTime = true;
      this.prevSec = ts.sec;
      this.prevNsec = ts.nsec;
    }
    let rest = ts.rest.trimStart();
    let iface = '';
    let dir: Direction | null = null;
    const m = RE_IFACE_DIR.exec(rest);
    if (m && !/^(?:IP6?|ARP)$/.test(m[1]!)) { iface = m[1]!; dir = DIRS[m[2]!]!; rest = m[3]!; }
    else {
      const d = RE_DIR_ONLY.exec(rest);
      if (d) { dir = DIRS[d[1]!]!; rest = d[2]!; }
    }
    rest = rest.trimStart();
    const summary = cont.length ? [rest, ...cont].join(' ') : rest;
    // pflog -e and enc0 put their own header first; what follows is the IP packet.
    let fwlog: FirewallLogInfo | undefined;
    let enc: { spi: number; flags: number } | undefined;
    let inner = rest;
    let linkGuess = -1;
    const pf = RE_PFLOG.exec(rest);
    if (pf) {
      const reason = pf[3] ?? pf[4]!;
      // The rule as the binary decoder names it, "N/reason-code", whichever form was printed.
      let code = pf[2];
      if (code === undefined) {
        const unkn = /^unkn\((\d+)\)$/.exec(reason);
        const i = PF_REASONS.indexOf(reason);
        code = unkn ? unkn[1]! : i >= 0 ? String(i) : reason;
      }
      fwlog = { source: 'pflog', rule: `${pf[1]!}/${code}`, reason, action: pf[5]!, ifname: pf[7]! };
      if (pf[6] === 'in' || pf[6] === 'out') fwlog.dir = pf[6];
      inner = rest.slice(pf[0].length);
      // With -e tcpdump leaves out the "IP " that names the family.
      if (!/^(?:IP6? |ARP, )/.test(inner)) inner = this.ipPrefix(inner) + inner;
      linkGuess = 117;
    } else {
      const e = RE_ENC.exec(rest);
      if (e) {
        const names = e[1]!.split(',');
        enc = { spi: parseInt(e[2]!, 16), flags: (names.includes('authentic') ? 0x800 : 0) | (names.includes('confidential') ? 0x400 : 0) };
        inner = rest.slice(e[0].length);
        if (!/^(?:IP6? |ARP, )/.test(inner)) inner = this.ipPrefix(inner) + inner;
        linkGuess = 109;
      }
    }
    // Without a banner: "iface dir" columns mean `-i any` (SLL2); otherwise assume Ethernet, the usual case.
    const linktype = this.linktype >= 0 ? this.linktype : linkGuess >= 0 ? linkGuess : iface !== '' || dir !== null ? 276 : 1;
    let ifaceId = this.ifaceIds.get(iface);
    if (ifaceId === undefined) {
      ifaceId = this.interfaces.length;
      this.ifaceIds.set(iface, ifaceId);
      this.interfaces.push({ id: ifaceId, name: iface, linktype, snaplen: 262144, section: 0 });
    }
    // `-e` puts the link layer first (MACs, ifindex, ethertype, frame length): keep the length, drop the rest.
    const link = linkLayer(inner);
    const p: Packet = {
      frame: ++this.frameNo, tsSec: ts.sec, tsNsec: ts.nsec, iface, ifaceId, dir, linktype,
      caplen: 0, len: 0, proto: 'unknown', summary, origin: 'text',
    };
    if (timeUnknown) p.timeUnknown = true;
    if (fwlog) p.fwlog = fwlog;
    if (enc) p.enc = enc;
    if (link?.vlan.length) p.vlan = link.vlan;
    const decodeText = link ? link.rest : inner;
    if (!this.decode(p, cont.length ? [decodeText, ...cont].join(' ') : decodeText)) {
      this.lineProblem(offset, `text line ${p.frame} not understood; kept as is`);
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
      const close = matchParen(body, 0);
      if (close < 0) return false;
      ip = this.ipHeader(body.slice(1, close), v6);
      body = body.slice(close + 1).trim();
      if (body === '') {
        // A -v header whose second line was lost (grep): the header alone still says a lot.
        p.ip = ip;
        p.proto = PROTO_BY_NUMBER[ip.proto] ?? 'ip';
        p.len = p.caplen = ip.len > 0 ? ip.len + (LINK_HEADER[p.linktype] ?? 0) : 0;
        return true;
      }
    }
    const em = RE_ENDPOINTS.exec(body);
    if (!em) return false;
    const a = splitEndpoint(em[1]!, v6);
    const b = splitEndpoint(em[2]!, v6);
    p.src = a.addr;
    p.dst = b.addr;
    if (a.port !== undefined) p.sport = a.port;
    if (b.port !== undefined) p.dport = b.port;
    let payload = (em[3] ?? '').replace(RE_ANNOTATIONS, '');
    // After IPv6 extension headers tcpdump prints the ports on their own: "RT6 (…) 5645 > 5642: UDP, …".
    const ports = p.sport === undefined && p.dport === undefined && payload !== em[3] ? /^(\d{1,5}) > (\d{1,5}): /.exec(payload) : null;
    if (ports) {
      p.sport = Number(ports[1]);
      p.dport = Number(ports[2]);
      payload = payload.slice(ports[0].length).replace(RE_ANNOTATIONS, '');
    }
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
      // The names of the display filter (icmp.*, icmpv6.*) and of the binary decoders.
      p.proto = v6 ? 'icmpv6' : 'icmp';
      proto = v6 ? 58 : 1;
      // tcpdump's ICMP "length" is the ICMP message length (the IP payload).
      if (lenM) l4 = Number(lenM[1]);
    } else if (payload.startsWith('ESP(')) {
      const e = /^ESP\(spi=0x([0-9a-fA-F]+),seq=0x([0-9a-fA-F]+)\)/.exec(payload);
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
      if (payload.includes('isakmp-nat-keep-alive')) {
        // Named as the file decoders name it: a keepalive is not an IKE message.
        p.proto = 'nat-keepalive';
        p.nattKeepalive = true;
        // RFC 3948: the keepalive is the single byte 0xff.
        l4 = 8 + 1;
      }
      const ike = p.nattKeepalive === true ? null : ikeFromText(payload);
      if (ike) {
        if (nonEsp) ike.nonEspMarker = true;
        p.ike = ike;
      }
      // Only -v prints a length for IKE (the IP header's): the UDP payload is what is left after the headers.
      const ipLen = ip?.len ?? 0;
      // IPv4 options (printed by name, not size) or IPv6 extension headers would make that a guess: skip those.
      if (ipLen > 0 && ip?.frag === undefined && !s.slice(0, s.indexOf(' > ')).includes('options (') && !/^(?:HBH|DSTOPT|RT6|frag) /.test(em[3] ?? '')) {
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
    } else if ((proto === 17 || proto < 0) && (DNS_PORTS.has(p.sport ?? -1) || DNS_PORTS.has(p.dport ?? -1)) && RE_DNS.test(payload)) {
      // DNS over UDP: the message length closes the line, "(45)".
      p.proto = 'dns';
      proto = 17;
      const dl = /\((\d+)\)$/.exec(payload.trimEnd());
      if (dl) { p.udp = { len: Number(dl[1]) }; l4 = 8 + Number(dl[1]); }
    } else if (p.sport !== undefined || p.dport !== undefined) {
      // An application printer (NTP, …) took over; the transport comes from the -v header if any.
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
    // The target's MAC is printed in parentheses when the request carries one (a unicast probe).
    let m = /who-has (\S+)(?: \([^)]*\))? tell (\S+)/.exec(s);
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
  // tcpdump prints IKEv2 flags always ("[I]", "[R]", "[IR]", "[]"), IKEv1 flags only when set ("[E]").
  const f = m[7] ?? '';
  if (version === 2) ike.flags = (f.includes('I') ? 0x08 : 0) | (f.includes('V') ? 0x10 : 0) | (f.includes('R') ? 0x20 : 0);
  else ike.flags = (f.includes('E') ? 0x01 : 0) | (f.includes('C') ? 0x02 : 0) | (f.includes('A') ? 0x04 : 0);
  if (m[4] === undefined) {
    // IKEv2 flags: I = sent by the original initiator, R = a response.
    const v2Request = version === 2 && exchange === 34 && m[7] !== undefined && !m[7].includes('R') && m[7].includes('I');
    if (v2Request) ike.rspi = ZERO_SPI;
  }
  // -v prints the clear-text notify payloads: "(n: prot_id=#0 type=14(no_protocol_chosen))".
  const notify = notifyTypes(s.slice(m.index), version);
  if (notify.length > 0) ike.notify = notify;
  return ike;
}

/** Index of the parenthesis closing the one at s[from], or -1. */
function matchParen(s: string, from: number): number {
  let depth = 0;
  for (let i = from; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 40) depth++;
    else if (c === 41 && --depth === 0) return i;
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
  if (info.type === 3 || info.type === 11 || (v6 && (info.type === 1 || info.type === 2 || info.type === 3))) {
    const q = quotedPacket(s, v6);
    if (q) info.orig = q;
  }
  return info;
}

const ERROR_WORDS = ['unreachable', 'exceeded', 'too big'];

/**
 * The packet an ICMP error quotes: after the error words, the first "IP " or "IP6 " (with or without
 * a -v header in parentheses) followed by "src > dst:". Each position is looked at once.
 */
function quotedPacket(s: string, v6: boolean): IcmpInfo['orig'] | undefined {
  let k = -1;
  for (const w of ERROR_WORDS) {
    const i = s.indexOf(w);
    if (i >= 0 && (k < 0 || i < k)) k = i;
  }
  if (k < 0) return undefined;
  let from = k;
  for (;;) {
    const a = s.indexOf('IP', from);
    if (a < 0) return undefined;
    from = a + 2;
    const before = a > 0 ? s[a - 1]! : ' ';
    if (before !== ' ' && before !== '\t' && before !== ':') continue;
    let j = a + 2;
    if (s[j] === '6') j++;
    if (s[j] !== ' ') continue;
    j++;
    const hdrStart = j;
    if (s[j] === '(') {
      const close = matchParen(s, j);
      // An unclosed header: nothing after it can be a quoted packet.
      if (close < 0) return undefined;
      j = close + 1;
      while (s[j] === ' ') j++;
      from = j;
    }
    const sp = s.indexOf(' ', j);
    if (sp < 0) return undefined;
    if (!s.startsWith(' > ', sp)) continue;
    const srcText = s.slice(j, sp);
    const dEnd = s.indexOf(' ', sp + 3);
    const dstText = s.slice(sp + 3, dEnd < 0 ? s.length : dEnd);
    if (!dstText.endsWith(':') || srcText === '') continue;
    const quotedV6 = s[a + 2] === '6' || (v6 && srcText.includes(':'));
    const src = splitEndpoint(srcText, quotedV6);
    const dst = splitEndpoint(dstText.slice(0, -1), quotedV6);
    // The protocol from the quoted header's "proto NAME (N)" when -v printed it.
    const hdr = s.slice(hdrStart, j);
    const pm = /proto \S+ \((\d+)\)/.exec(hdr) ?? /next-header \S+ \((\d+)\)/.exec(hdr);
    const orig: NonNullable<IcmpInfo['orig']> = { src: src.addr, dst: dst.addr, proto: pm ? Number(pm[1]) : 0 };
    if (!pm) {
      // Without -v the text after the endpoints names the transport.
      const after = s.slice(dEnd < 0 ? s.length : dEnd + 1, (dEnd < 0 ? s.length : dEnd + 1) + 16);
      if (after.startsWith('UDP') || after.startsWith('isakmp') || after.startsWith('[|')) orig.proto = 17;
      else if (after.startsWith('Flags') || after.startsWith('tcp')) orig.proto = 6;
      else if (after.startsWith('ICMP')) orig.proto = quotedV6 ? 58 : 1;
    }
    if (src.port !== undefined) orig.sport = src.port;
    if (dst.port !== undefined) orig.dport = dst.port;
    return orig;
  }
}
