// The display-filter field table: every name a filter may use, its value type and how it is
// read from the flat Packet record. Names follow Wireshark's where one exists.

import type { Packet } from '../protocols/packet.ts';

export interface FilterCtx { checkpoint?: string }

export type FieldType = 'num' | 'str' | 'addr' | 'bool' | 'proto';

type Get<T> = (p: Packet, c: FilterCtx | undefined) => T | undefined;

export interface FieldSpec {
  type: FieldType;
  /** One getter per occurrence the field can have in a packet (ip.addr: source and destination). */
  gets: Array<Get<number | string | boolean>>;
  /** Occurrences in variable number (outer tunnel headers, VLAN tags): true when `test` accepts one. */
  more?: (p: Packet, test: (v: number | string) => boolean) => boolean;
  /** Normalises a string literal before comparing (hex SPIs). */
  norm?: (s: string) => string;
  /** Largest value the field can hold (ports 65535): a literal above it can never match, so it is refused. */
  max?: number;
  doc: string;
}

const F: Record<string, FieldSpec> = Object.create(null);

function def(names: string | string[], spec: FieldSpec): void {
  for (const n of Array.isArray(names) ? names : [names]) F[n] = spec;
}
const num = (doc: string, ...gets: Array<Get<number>>): FieldSpec => ({ type: 'num', gets, doc });
const str = (doc: string, ...gets: Array<Get<string>>): FieldSpec => ({ type: 'str', gets, doc });
const bool = (doc: string, get: Get<boolean>): FieldSpec => ({ type: 'bool', gets: [get], doc });
const proto = (doc: string, get: Get<boolean>): FieldSpec => ({ type: 'proto', gets: [get], doc });

// ---- frame and capture context
def('frame.number', num('1-based frame number in its file', (p) => p.frame));
def('frame.len', num('length on the wire', (p) => p.len));
def('frame.cap_len', num('captured length', (p) => p.caplen));
def('frame.time_epoch', num('timestamp, seconds since the Unix epoch', (p) => p.tsSec + p.tsNsec / 1e9));
def('frame.comment', str('pcapng packet comment', (p) => p.comments?.[0], (p) => p.comments?.[1]));
def('frame.truncated', bool('the frame ended inside a header', (p) => p.truncated !== undefined));
def('frame.imported', bool('the packet came from tcpdump text (no bytes)', (p) => p.origin === 'text'));
// An SLL2 packet without a name shows as "if3" in the Iface column: the filter accepts what the column shows.
def('iface', str('interface name (ifN for an unnamed SLL2 interface index N)', (p) => (p.iface !== '' ? p.iface : p.ifindex !== undefined ? `if${p.ifindex}` : undefined)));
def('iface.id', num('interface index in the file', (p) => p.ifaceId));
def('iface.index', num('LINUX_SLL2 interface index', (p) => p.ifindex));
def('dir', str('direction: in, out, broadcast, multicast, otherhost, unknown', (p) => p.dir ?? undefined));
def('proto', str('highest decoded protocol (tcp, udp, wireguard, esp, isakmp, icmp, ...)', (p) => p.proto));
def('summary', str('the one-line summary', (p) => p.summary));
def('checkpoint', str('checkpoint label of the packet (A1..B8)', (_p, c) => (c?.checkpoint ? c.checkpoint : undefined)));

// ---- addresses and ports, any family
const outerAddr = (which: 'src' | 'dst' | 'both') => (p: Packet, t: (v: number | string) => boolean): boolean => {
  const o = p.outer;
  if (o === undefined) return false;
  for (const h of o) {
    if (which !== 'dst' && h.src !== undefined && t(h.src)) return true;
    if (which !== 'src' && h.dst !== undefined && t(h.dst)) return true;
  }
  return false;
};
// ARP carries its protocol addresses in src/dst too (for the address columns); as in Wireshark,
// ip.addr does not match them: arp.spa / arp.tpa do.
const src: Get<string> = (p) => (p.arp !== undefined && p.ip === undefined ? undefined : p.src);
const dst: Get<string> = (p) => (p.arp !== undefined && p.ip === undefined ? undefined : p.dst);
def(['src', 'ip.src'], { type: 'addr', gets: [src], more: outerAddr('src'), doc: 'source address (also outer tunnel headers)' });
def(['dst', 'ip.dst'], { type: 'addr', gets: [dst], more: outerAddr('dst'), doc: 'destination address (also outer tunnel headers)' });
def(['addr', 'ip.addr'], { type: 'addr', gets: [src, dst], more: outerAddr('both'), doc: 'source or destination address' });
const v6 = (g: Get<string>): Get<string> => (p, c) => { const a = g(p, c); return a !== undefined && a.includes(':') ? a : undefined; };
const outer6 = (which: 'src' | 'dst' | 'both') => {
  const inner = outerAddr(which);
  return (p: Packet, t: (v: number | string) => boolean) => inner(p, (v) => typeof v === 'string' && v.includes(':') && t(v));
};
def('ipv6.src', { type: 'addr', gets: [v6(src)], more: outer6('src'), doc: 'IPv6 source address' });
def('ipv6.dst', { type: 'addr', gets: [v6(dst)], more: outer6('dst'), doc: 'IPv6 destination address' });
def('ipv6.addr', { type: 'addr', gets: [v6(src), v6(dst)], more: outer6('both'), doc: 'IPv6 source or destination' });
def('sport', num('TCP or UDP source port', (p) => p.sport));
def('dport', num('TCP or UDP destination port', (p) => p.dport));
def('port', num('TCP or UDP source or destination port', (p) => p.sport, (p) => p.dport));

// ---- IP header
const ip4 = (p: Packet) => (p.ip?.v === 4 ? p.ip : undefined);
const ip6 = (p: Packet) => (p.ip?.v === 6 ? p.ip : undefined);
def('ip', proto('IPv4 packet', (p) => p.ip?.v === 4));
def('ipv6', proto('IPv6 packet', (p) => p.ip?.v === 6));
def('ip.version', num('IP version', (p) => p.ip?.v));
def('ip.ttl', num('IPv4 TTL', (p) => ip4(p)?.ttl));
def('ipv6.hlim', num('IPv6 hop limit', (p) => ip6(p)?.ttl));
def('ip.id', num('IPv4 identification', (p) => ip4(p)?.id));
def('ip.len', num('IP total length', (p) => p.ip?.len));
def('ip.proto', num('upper-layer protocol number', (p) => p.ip?.proto));
def(['ip.flags.df', 'ip.df'], bool("IPv4 don't-fragment flag", (p) => { const i = ip4(p); return i === undefined ? undefined : i.df === true; }));
def(['ip.flags.mf', 'ip.mf'], bool('more-fragments flag', (p) => (p.ip === undefined ? undefined : p.ip.frag?.more === true)));
def('ip.frag', bool('the packet is a fragment', (p) => (p.ip === undefined ? undefined : p.ip.frag !== undefined)));
def('ip.frag_offset', num('fragment offset in bytes', (p) => (p.ip === undefined ? undefined : p.ip.frag?.offset ?? 0)));

// ---- TCP
const TCP_BITS: Record<string, number> = { F: 0x01, S: 0x02, R: 0x04, P: 0x08, '.': 0x10, U: 0x20, E: 0x40, W: 0x80 };
function tcpFlagBits(s: string): number {
  let b = 0;
  for (let i = 0; i < s.length; i++) b |= TCP_BITS[s[i]!] ?? 0;
  return b;
}
// Flags are absent (not false) on non-TCP packets, so `tcp.flags.syn == 0` matches TCP only, as in Wireshark.
const flag = (letter: string): Get<boolean> => (p) => (p.tcp === undefined ? undefined : p.tcp.flags.includes(letter));
def('tcp', proto('TCP segment', (p) => p.tcp !== undefined));
def('tcp.port', num('source or destination port', (p) => (p.tcp ? p.sport : undefined), (p) => (p.tcp ? p.dport : undefined)));
def('tcp.srcport', num('source port', (p) => (p.tcp ? p.sport : undefined)));
def('tcp.dstport', num('destination port', (p) => (p.tcp ? p.dport : undefined)));
def(['tcp.seq', 'tcp.seq_raw'], num('sequence number', (p) => p.tcp?.seq));
def(['tcp.ack', 'tcp.ack_raw'], num('acknowledgement number', (p) => p.tcp?.ack));
def(['tcp.win', 'tcp.window_size_value'], num('window field', (p) => p.tcp?.win));
def('tcp.len', num('payload length', (p) => p.tcp?.len));
def(['tcp.mss', 'tcp.options.mss_val'], num('MSS option', (p) => p.tcp?.mss));
def(['tcp.wscale', 'tcp.options.wscale.shift'], num('window scale option', (p) => p.tcp?.wscale));
def(['tcp.tsval', 'tcp.options.timestamp.tsval'], num('timestamp value', (p) => p.tcp?.tsval));
def(['tcp.tsecr', 'tcp.options.timestamp.tsecr'], num('timestamp echo reply', (p) => p.tcp?.tsecr));
def('tcp.flags', num('flag bits as a number (SYN 0x02, ACK 0x10, ...)', (p) => (p.tcp ? tcpFlagBits(p.tcp.flags) : undefined)));
def('tcp.flags.str', str('flags in tcpdump letters, e.g. "S."', (p) => p.tcp?.flags));
def('tcp.flags.fin', bool('FIN set', flag('F')));
def('tcp.flags.syn', bool('SYN set', flag('S')));
def(['tcp.flags.reset', 'tcp.flags.rst'], bool('RST set', flag('R')));
def(['tcp.flags.push', 'tcp.flags.psh'], bool('PSH set', flag('P')));
def('tcp.flags.ack', bool('ACK set', flag('.')));
def(['tcp.flags.urg', 'tcp.flags.urgent'], bool('URG set', flag('U')));
def('tcp.flags.ece', bool('ECE set', flag('E')));
def(['tcp.flags.cwr'], bool('CWR set', flag('W')));

// ---- UDP
def('udp', proto('UDP datagram', (p) => p.udp !== undefined));
def('udp.port', num('source or destination port', (p) => (p.udp ? p.sport : undefined), (p) => (p.udp ? p.dport : undefined)));
def('udp.srcport', num('source port', (p) => (p.udp ? p.sport : undefined)));
def('udp.dstport', num('destination port', (p) => (p.udp ? p.dport : undefined)));
def('udp.len', num('payload length', (p) => p.udp?.len));
def('udp.length', num('length field (payload + 8)', (p) => (p.udp ? p.udp.len + 8 : undefined)));

// ---- ICMP (v4 under icmp.*, v6 under icmpv6.*)
for (const [pre, v] of [['icmp', 4], ['icmpv6', 6]] as const) {
  const ic = (p: Packet) => (p.icmp?.v === v ? p.icmp : undefined);
  def(pre, proto(`ICMPv${v} message`, (p) => ic(p) !== undefined));
  def(pre + '.type', num('type', (p) => ic(p)?.type));
  def(pre + '.code', num('code', (p) => ic(p)?.code));
  def(pre + '.mtu', num('next-hop MTU of a too-big error', (p) => ic(p)?.mtu));
  def(pre + '.ident', num('echo identifier', (p) => ic(p)?.id));
  def(pre + '.seq', num('echo sequence number', (p) => ic(p)?.seq));
  def(pre + '.orig.src', { type: 'addr', gets: [(p) => ic(p)?.orig?.src], doc: 'source of the quoted datagram' });
  def(pre + '.orig.dst', { type: 'addr', gets: [(p) => ic(p)?.orig?.dst], doc: 'destination of the quoted datagram' });
}

// ---- WireGuard
def(['wg', 'wireguard'], proto('WireGuard message', (p) => p.wg !== undefined));
def('wg.type', num('1 initiation, 2 response, 3 cookie reply, 4 transport data', (p) => p.wg?.type));
def('wg.sender', num('sender index', (p) => p.wg?.sender));
def('wg.receiver', num('receiver index', (p) => p.wg?.receiver));
def('wg.counter', num('transport data counter', (p) => (p.wg?.counter === undefined ? undefined : Number(p.wg.counter))));

// ---- IPsec
def('esp', proto('ESP packet', (p) => p.esp !== undefined));
def('esp.spi', num('security parameter index', (p) => p.esp?.spi));
def(['esp.seq', 'esp.sequence'], num('sequence number', (p) => p.esp?.seq));
const hexNorm = (s: string) => s.toLowerCase().replace(/^0x/, '').replace(/[:\s]/g, '');
def(['ike', 'isakmp'], proto('IKE / ISAKMP message', (p) => p.ike !== undefined));
def(['ike.ispi', 'isakmp.ispi'], { type: 'str', gets: [(p) => p.ike?.ispi], norm: hexNorm, doc: 'initiator SPI (16 hex digits)' });
def(['ike.rspi', 'isakmp.rspi'], { type: 'str', gets: [(p) => p.ike?.rspi], norm: hexNorm, doc: 'responder SPI (16 hex digits)' });
def('ike.version', num('major version (1 or 2)', (p) => p.ike?.version));
def(['ike.exchange', 'isakmp.exchangetype'], num('exchange type', (p) => p.ike?.exchange));
def(['ike.msgid', 'isakmp.messageid'], num('message ID', (p) => p.ike?.msgid));
def(['natt.keepalive'], bool('NAT-T keepalive (one 0xff byte on UDP 4500)', (p) => p.nattKeepalive === true));

// ---- tunnels and links
def('gre', proto('GRE-encapsulated', (p) => p.gre !== undefined));
def('gre.proto', num('GRE protocol type', (p) => p.gre?.proto));
// PPTP's enhanced GRE has no key but payload length and call ID in its place (gre.key.call_id), as in Wireshark.
def('gre.key', num('GRE key', (p) => (p.gre?.proto === 0x880b ? undefined : p.gre?.key)));
def('vxlan', proto('VXLAN-encapsulated', (p) => p.vxlan !== undefined));
def('vxlan.vni', num('VXLAN network identifier', (p) => p.vxlan?.vni));
def('vlan', proto('802.1Q tagged', (p) => p.vlan !== undefined && p.vlan.length > 0));
def('vlan.id', {
  type: 'num', gets: [], doc: 'VLAN ID (any tag)',
  more: (p, t) => { const v = p.vlan; if (v === undefined) return false; for (const id of v) if (t(id)) return true; return false; },
});
def('arp', proto('ARP packet', (p) => p.arp !== undefined));
def('arp.opcode', num('1 request, 2 reply', (p) => p.arp?.op));
def(['arp.src.proto_ipv4', 'arp.spa'], { type: 'addr', gets: [(p) => p.arp?.spa], doc: 'sender IP address' });
def(['arp.dst.proto_ipv4', 'arp.tpa'], { type: 'addr', gets: [(p) => p.arp?.tpa], doc: 'target IP address' });

// ---- IPsec AH, BSD enc0
def('ah', proto('IPsec AH header', (p) => p.ah !== undefined));
def('ah.spi', num('AH security parameter index', (p) => p.ah?.spi));
def(['ah.sequence', 'ah.seq'], num('AH sequence number', (p) => p.ah?.seq));
def(['ah.next_header', 'ah.next'], num('protocol AH protects (50 ESP, 6 TCP, 17 UDP, …)', (p) => p.ah?.next));
def('enc', proto('BSD enc0 record (LINKTYPE_ENC)', (p) => p.enc !== undefined));
def('enc.spi', num('SPI of the SA', (p) => p.enc?.spi));
def('enc.flags', num('M_* flags (0x400 confidential, 0x800 authentic)', (p) => p.enc?.flags));
const encBit = (bit: number): Get<boolean> => (p) => (p.enc === undefined ? undefined : (p.enc.flags & bit) !== 0);
def('enc.flags.payload_enc', bool('the payload was encrypted (M_CONF)', encBit(0x400)));
def('enc.flags.payload_auth', bool('the payload was authenticated (M_AUTH)', encBit(0x800)));

// ---- PPP and PPTP's enhanced GRE (version 1, protocol 0x880b): the key is payload length and call ID.
const PPTP_GRE = 0x880b;
const greV1 = (p: Packet) => (p.gre !== undefined && p.gre.proto === PPTP_GRE ? p.gre : undefined);
def('ppp', proto('PPP frame (PPTP, PPP links)', (p) => p.ppp !== undefined));
def('ppp.protocol', num('PPP protocol (0x0021 IPv4, 0x0057 IPv6, 0xc021 LCP, …)', (p) => p.ppp?.proto));
def('gre.key.call_id', num('PPTP call ID (enhanced GRE)', (p) => { const g = greV1(p); return g?.key === undefined ? undefined : g.key & 0xffff; }));
def('gre.key.payload_length', num('PPTP payload length (enhanced GRE)', (p) => { const g = greV1(p); return g?.key === undefined ? undefined : g.key >>> 16; }));
def(['gre.sequence_number', 'gre.seq'], num('GRE sequence number', (p) => p.gre?.seq));
def(['gre.ack_number', 'gre.ack'], num('PPTP acknowledgment number', (p) => p.gre?.ack));

// ---- firewall log records (NFLOG, pflog captures and pflog text): fwlog.* whatever the source,
// and Wireshark's nflog.* / pflog.* names for the same values. Every string here came from a capture.
const fw = (p: Packet) => p.fwlog;
const nf = (p: Packet) => (p.fwlog?.source === 'nflog' ? p.fwlog : undefined);
const pf = (p: Packet) => (p.fwlog?.source === 'pflog' ? p.fwlog : undefined);
def('fwlog', proto('a firewall log record came with the packet (NFLOG or pflog)', (p) => p.fwlog !== undefined));
def('fwlog.source', str('"nflog" or "pflog"', (p) => fw(p)?.source));
def('fwlog.prefix', str('NFLOG: the rule\'s log prefix', (p) => fw(p)?.prefix));
def('fwlog.action', str('pass, block, reject, … (pflog; NFLOG when the prefix says so)', (p) => fw(p)?.action));
def('fwlog.reason', str('pflog reason (match, short, …)', (p) => fw(p)?.reason));
def('fwlog.rule', str('pflog rule as tcpdump prints it ("5/0")', (p) => fw(p)?.rule));
def('fwlog.ifname', str('interface the firewall saw the packet on', (p) => fw(p)?.ifname));
def('fwlog.dir', str('"in" or "out"', (p) => fw(p)?.dir));
def('fwlog.hook', str('NFLOG: netfilter hook (prerouting, input, forward, output, postrouting)', (p) => fw(p)?.hook));
def(['fwlog.group', 'nflog.res_id'], num('NFLOG group', (p) => nf(p)?.group));
def('nflog', proto('NFLOG record', (p) => nf(p) !== undefined));
def('nflog.prefix', str('log prefix', (p) => nf(p)?.prefix));
const NF_HOOKS = ['prerouting', 'input', 'forward', 'output', 'postrouting'];
def('nflog.hook', num('netfilter hook number (0 prerouting … 4 postrouting)', (p) => { const h = nf(p)?.hook; const i = h === undefined ? -1 : NF_HOOKS.indexOf(h); return i < 0 ? undefined : i; }));
def(['nflog.ifindex_indev', 'fwlog.indev'], num('input interface index', (p) => nf(p)?.indev));
def(['nflog.ifindex_outdev', 'fwlog.outdev'], num('output interface index', (p) => nf(p)?.outdev));
// pflog's numeric header fields, recovered from the names the decoder keeps (pf's own tables).
const PF_ACTIONS = ['pass', 'block', 'scrub', 'noscrub', 'nat', 'nonat', 'binat', 'nobinat', 'rdr', 'nordr', 'synproxy-drop', 'defer', 'match', 'divert', 'rt', 'afrt'];
const PF_REASONS = ['match', 'bad-offset', 'fragment', 'short', 'normalize', 'memory', 'bad-timestamp', 'congestion', 'ip-option',
  'proto-cksum', 'state-mismatch', 'state-insert', 'state-limit', 'src-limit', 'synproxy'];
/** A name from the table, or the decoder's "unkn(N)" for a code it had no name for. */
const code = (names: string[], s: string | undefined): number | undefined => {
  if (s === undefined) return undefined;
  const i = names.indexOf(s);
  if (i >= 0) return i;
  const m = /^unkn\((\d+)\)$/.exec(s);
  return m ? Number(m[1]) : undefined;
};
/** "5/0" → rule 5, no anchor; "12.anchor.3/0" → rule 12, ruleset "anchor", sub-rule 3 (the ruleset may hold dots). */
const pfRule = (p: Packet): { nr: number; set: string; sub: number } | undefined => {
  const r = pf(p)?.rule;
  if (r === undefined) return undefined;
  const slash = r.lastIndexOf('/');
  const head = slash < 0 ? r : r.slice(0, slash);
  const m = /^(\d+)(?:\.(.*)\.(\d+))?$/s.exec(head);
  if (!m) return undefined;
  return m[2] === undefined ? { nr: Number(m[1]), set: '', sub: -1 } : { nr: Number(m[1]), set: m[2], sub: Number(m[3]) };
};
def('pflog', proto('pflog record', (p) => pf(p) !== undefined));
def('pflog.action', num('0 pass, 1 block, … (pf action code)', (p) => code(PF_ACTIONS, pf(p)?.action)));
def('pflog.reason', num('0 match, 3 short, … (pf reason code)', (p) => code(PF_REASONS, pf(p)?.reason)));
def('pflog.dir', num('1 in, 2 out', (p) => { const d = pf(p)?.dir; return d === 'in' ? 1 : d === 'out' ? 2 : undefined; }));
def('pflog.ifname', str('interface pf saw the packet on', (p) => pf(p)?.ifname));
def('pflog.rulenr', num('rule number', (p) => pfRule(p)?.nr));
def('pflog.subrulenr', num('rule number inside the anchor (-1: none)', (p) => pfRule(p)?.sub));
def('pflog.ruleset', str('anchor (ruleset) name', (p) => { const r = pfRule(p); return r === undefined || r.set === '' ? undefined : r.set; }));

// ---- DNS: the decoder names it (UDP 53, mDNS on 5353) without reading the message, so the filter
// goes by port as Wireshark's table does: any UDP payload or TCP segment with data on port 53 (a
// message too short to decode is still DNS there, shown malformed); 5353 to anything but 53 is mDNS.
const onPort = (p: Packet, port: number) => p.sport === port || p.dport === port;
def('dns', proto('DNS on port 53 (UDP, or TCP segments with data)', (p) => ((p.udp !== undefined && p.udp.len > 0) || (p.tcp !== undefined && p.tcp.len > 0)) && onPort(p, 53)));
def('mdns', proto('multicast DNS on UDP port 5353', (p) => p.udp !== undefined && p.udp.len > 0 && onPort(p, 5353) && !onPort(p, 53)));

// Field widths: a literal no packet can carry is refused at compile time, as Wireshark does.
const U8 = 255, U16 = 65535, U32 = 0xffffffff;
const WIDTHS: Record<string, number> = {
  sport: U16, dport: U16, port: U16, 'tcp.port': U16, 'tcp.srcport': U16, 'tcp.dstport': U16,
  'udp.port': U16, 'udp.srcport': U16, 'udp.dstport': U16, 'udp.len': U16, 'udp.length': U16,
  'ip.version': 15, 'ip.ttl': U8, 'ipv6.hlim': U8, 'ip.id': U32, 'ip.proto': U8, 'ip.len': U32,
  'tcp.seq': U32, 'tcp.ack': U32, 'tcp.win': U16, 'tcp.mss': U16, 'tcp.wscale': U8, 'tcp.tsval': U32, 'tcp.tsecr': U32, 'tcp.flags': U8,
  'icmp.type': U8, 'icmp.code': U8, 'icmp.mtu': U16, 'icmp.ident': U16, 'icmp.seq': U16,
  'icmpv6.type': U8, 'icmpv6.code': U8, 'icmpv6.mtu': U32, 'icmpv6.ident': U16, 'icmpv6.seq': U16,
  'wg.type': U8, 'wg.sender': U32, 'wg.receiver': U32, 'esp.spi': U32, 'esp.seq': U32,
  'ike.version': 15, 'ike.exchange': U8, 'ike.msgid': U32, 'gre.proto': U16, 'gre.key': U32,
  'vxlan.vni': 0xffffff, 'vlan.id': 4095, 'arp.opcode': U16, 'iface.index': U32,
  'ah.spi': U32, 'ah.sequence': U32, 'ah.next_header': U8, 'enc.spi': U32, 'enc.flags': U32, 'ppp.protocol': U16,
  'gre.key.call_id': U16, 'gre.key.payload_length': U16, 'gre.sequence_number': U32, 'gre.ack_number': U32,
  'fwlog.group': U16, 'nflog.hook': U8, 'nflog.ifindex_indev': U32, 'nflog.ifindex_outdev': U32,
  'pflog.action': U8, 'pflog.reason': U8, 'pflog.dir': U8, 'pflog.rulenr': U32,
};
for (const [name, max] of Object.entries(WIDTHS)) {
  const spec = F[name];
  if (spec !== undefined) spec.max = max;
}

export function fieldSpec(name: string): FieldSpec | undefined {
  return F[name];
}

/** All field names with their type and a short description (help text, completion). */
export function fieldList(): Array<{ name: string; type: FieldType; doc: string }> {
  return Object.keys(F).sort().map((name) => ({ name, type: F[name]!.type, doc: F[name]!.doc }));
}
