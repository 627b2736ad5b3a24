// The decoded packet: the one currency of the analysis engine, the UI, the CLI and the exports.
// Flat, JSON-serialisable (no bigint, no typed arrays) so it can cross a worker/IPC boundary
// and be stored in IndexedDB as is.

export type Direction = 'in' | 'out' | 'broadcast' | 'multicast' | 'otherhost' | 'unknown';

export interface IpInfo {
  v: 4 | 6;
  /** IPv4 identification; for IPv6 the fragment header's identification if any. */
  id?: number;
  ttl: number;
  /** Total length from the IP header (IPv6: payload length + 40). */
  len: number;
  df?: boolean;
  /** Fragment offset in bytes and the more-fragments flag, when the packet is a fragment. */
  frag?: { offset: number; more: boolean };
  /** Upper-layer protocol number (after IPv6 extension headers). */
  proto: number;
}

export interface TcpInfo {
  /** tcpdump style: S, F, R, P, U, E, W and '.' for ACK, e.g. "S." */
  flags: string;
  seq: number;
  ack: number;
  win: number;
  /** Payload length in bytes. */
  len: number;
  mss?: number;
  wscale?: number;
  sackOk?: boolean;
  sack?: Array<[number, number]>;
  tsval?: number;
  tsecr?: number;
  /** Text import only: seq/ack are tcpdump's relative numbers (printed without -S), not the wire values. */
  relative?: boolean;
}

export interface IcmpInfo {
  v: 4 | 6;
  type: number;
  code: number;
  /** Next-hop MTU of "fragmentation needed" (v4 3/4) or "packet too big" (v6 type 2). */
  mtu?: number;
  /** The quoted original header of an ICMP error. */
  orig?: { src: string; dst: string; proto: number; sport?: number; dport?: number; id?: number; len?: number };
  id?: number;
  seq?: number;
}

export interface WireGuardInfo {
  /** 1 initiation, 2 response, 3 cookie reply, 4 transport data. */
  type: 1 | 2 | 3 | 4;
  sender?: number;
  receiver?: number;
  /** 64-bit counter as a decimal string (it does not fit a double exactly). */
  counter?: string;
}

export interface EspInfo { spi: number; seq: number }

export interface IkeInfo {
  /** 16 hex digits each. */
  ispi: string;
  rspi: string;
  version: 1 | 2;
  exchange: number;
  msgid: number;
  /** Arrived on 4500 behind the 4-byte zero non-ESP marker. */
  nonEspMarker?: boolean;
  /**
   * Header flags byte. IKEv2: 0x08 Initiator (set in every message the original initiator sends),
   * 0x20 Response. IKEv1: 0x01 Encryption (the payloads after the header are encrypted).
   */
  flags?: number;
  /** Notify message types readable in clear text (IKEv2 14 NO_PROPOSAL_CHOSEN, 17 INVALID_KE_PAYLOAD, 16390 COOKIE …). */
  notify?: number[];
  /** Next-payload types of the clear-text payload chain, in order (IKEv2 46 = SK: the rest is encrypted). */
  payloads?: number[];
}

/**
 * A firewall log record that came with the packet (Linux NFLOG, BSD pflog): direct evidence of
 * which rule logged, passed or blocked it. Every string here came from the capture: hostile.
 */
export interface FirewallLogInfo {
  source: 'nflog' | 'pflog';
  /** NFLOG: the rule's log prefix (`log prefix "…" group N`). */
  prefix?: string;
  /** NFLOG group number. */
  group?: number;
  /** pflog: 'pass' | 'block' | 'scrub' | 'nat' | 'rdr' | …; NFLOG: inferred from the prefix only when it says so. */
  action?: string;
  /** pflog reason ('match', 'bad-offset', 'short', …). */
  reason?: string;
  /** pflog rule as tcpdump prints it ("5/0"), or a ruleset/anchor name. */
  rule?: string;
  /** Interface the firewall saw the packet on (pflog ifname; NFLOG indev/outdev when named). */
  ifname?: string;
  dir?: 'in' | 'out';
  /** NFLOG: interface indexes of the input and output device (names in `ifname` when `ip -o link` gave them). */
  indev?: number;
  outdev?: number;
  /** NFLOG: the netfilter hook that logged (IPv4/IPv6): 'prerouting', 'input', 'forward', 'output', 'postrouting'. */
  hook?: string;
}

export interface Packet {
  /** 1-based position in the file it came from. */
  frame: number;
  tsSec: number;
  tsNsec: number;
  /** Interface name ('' when unknown). */
  iface: string;
  ifaceId: number;
  /** LINUX_SLL2 interface index of the frame (the name comes from `ip -o link` when given). */
  ifindex?: number;
  /** LINUX_SLL2 ARPHRD type of that interface (1 Ethernet, 65534 none: a tunnel such as wg0 or tun0). */
  hatype?: number;
  dir: Direction | null;
  linktype: number;
  caplen: number;
  len: number;
  src?: string;
  dst?: string;
  /** Highest decoded protocol, lower case: "tcp", "udp", "wireguard", "esp", "isakmp", "icmp", "arp", ... */
  proto: string;
  sport?: number;
  dport?: number;
  ip?: IpInfo;
  tcp?: TcpInfo;
  /** UDP payload length. */
  udp?: { len: number };
  icmp?: IcmpInfo;
  wg?: WireGuardInfo;
  esp?: EspInfo;
  ike?: IkeInfo;
  /** UDP 4500 one-byte 0xff NAT-T keepalive. */
  nattKeepalive?: boolean;
  gre?: { proto: number; key?: number; seq?: number; /** GRE version 1 (PPTP) acknowledgment number. */ ack?: number };
  /** IPsec AH header (IP protocol 51); the layer after it (ESP, TCP, …) is decoded as usual. */
  ah?: { spi: number; seq: number; /** Next header: the protocol AH protects. */ next: number };
  /** PPP protocol number (PPTP's GRE payload, PPP links): 0x0021 IPv4, 0x0057 IPv6, 0xc021 LCP, … */
  ppp?: { proto: number };
  /** BSD enc0 header (LINKTYPE_ENC): the SA's SPI and its M_CONF 0x400 / M_AUTH 0x800 flags. */
  enc?: { spi: number; flags: number };
  vxlan?: { vni: number };
  /** Outer layers when the packet was tunnelled (IP-in-IP, GRE, VXLAN): the decoded fields above describe the innermost packet. */
  outer?: Array<{ proto: string; src?: string; dst?: string }>;
  vlan?: number[];
  arp?: { op: number; spa: string; tpa: string; sha?: string; tha?: string };
  /** FNV-1a of the L4 payload (inner matching across NAT); absent when there is no payload. */
  payloadHash?: number;
  /** A tcpdump-like one-line summary. */
  summary: string;
  /** Set when the frame ended before a header did: "truncated in TCP header". */
  truncated?: string;
  comments?: string[];
  /** 'text' when the packet came from tcpdump's printed output (no bytes). */
  origin?: 'file' | 'text';
  /** Text printed with `-t`: the line had no time; tsSec/tsNsec only keep the order. */
  timeUnknown?: boolean;
  /** Firewall log record (NFLOG/pflog capture or pflog text). */
  fwlog?: FirewallLogInfo;
  /**
   * Optional, read-only, not data (never serialised or stored): `wg` with its counter as a number,
   * offered by the packets a column store builds (shared/ingest/packet-store.ts), which hold counters
   * below 2^53 and so give the exact value without making the decimal text (a bulk loop over a
   * million carriers). Readers that want the number try this first and otherwise read `wg` and
   * `Number(wg.counter)`; when offered, undefined exactly when `wg` is.
   */
  readonly wgNum?: WireGuardNum;
}

/** WireGuardInfo with the counter as a number (Packet.wgNum). */
export interface WireGuardNum {
  type: 1 | 2 | 3 | 4;
  sender?: number;
  receiver?: number;
  counter?: number;
}

/**
 * What a pass over one flow reads of a TCP or UDP packet, as plain values (PacketList.flowFieldsAt):
 * the packet's `src`, `dst`, `sport`, `dport`, `ip.len` and its `tcp` or `udp` numbers.
 */
export interface FlowFields {
  src: string; dst: string; sport: number; dport: number;
  /** IP total length (`ip.len`). */
  ipLen: number;
  /** TCP (the fields below all filled) or UDP (`len` only). */
  tcp: boolean;
  /** TCP payload length (`tcp.len`), or the UDP length (`udp.len`). */
  len: number;
  flags: string; seq: number; ack: number;
  /** Whether the packet has TCP timestamps (then `tsval` and `tsecr` hold them). */
  ts: boolean; tsval: number; tsecr: number;
}

/**
 * A packet's tunnel identifiers as plain numbers (PacketList.tunnelIdsAt), for carrier pairing over
 * a million datagrams: its WireGuard header (`wg`, the counter as a number) and ESP header (`esp`).
 * -1 stands for an absent field.
 */
export interface TunnelIds {
  /** `wg.type`, 0 without a WireGuard header. */
  wgType: number;
  /** `wg.sender`, `wg.receiver` and `Number(wg.counter)` (exact: filled only below 2^53), -1 when absent. */
  wgSender: number; wgReceiver: number; wgCounter: number;
  /** `esp.spi` and `esp.seq`, both -1 without an ESP header. */
  espSpi: number; espSeq: number;
}

/**
 * A chunk of packets' fields read in bulk (PacketList.readRows), each array indexed by i − from.
 * Only packets with `held[i − from]` = 1 are filled: packets a list keeps as columns, which never
 * have `outer`, `fwlog`, `ike`, `icmp` or any other field a column view leaves undefined
 * (shared/ingest/packet-store.ts, onlyColumnFields); for the others read `at(i)`.
 */
export interface PacketRows {
  held: Uint8Array;
  /** Source and destination address: indexes into `addrs`. */
  src: Int32Array; dst: Int32Array;
  /** 1 for TCP, 2 for UDP, 0 for neither; with the ports and `tcp.len` or `udp.len` (any value when neither). */
  l4: Uint8Array; sport: Int32Array; dport: Int32Array; l4len: Int32Array;
  /** WireGuard message type (`wg.type`), 0 without a WireGuard header. */
  wgType: Uint8Array;
  /** Direction: 0 none (null), 1 'in', 2 'out', above 2 any other. */
  dir: Uint8Array;
  /** Interface name: an index into `names`. */
  iface: Int32Array;
  /** SLL2 interface index, -1 without one. */
  ifindex: Int32Array;
  /** The list's strings the indexes above refer to (set by each readRows call). */
  addrs: readonly string[];
  names: readonly string[];
}

/**
 * Read access to a capture's packets by position (file order): a plain array, or a bulk store that
 * builds a packet view on each read (shared/ingest/packet-store.ts) instead of keeping a million of
 * them. Views are cheap and not kept: compare packets by `frame`, never by identity.
 */
export interface PacketList extends Iterable<Packet> {
  readonly length: number;
  at(index: number): Packet | undefined;
  /**
   * Optional bulk read, for passes over every packet: packet i's `tsSec`, `tsNsec` and `ifaceId`
   * (from ≤ i < to, both within 0..length) into `sec`, `nsec` and `ifaceId` at index i − from.
   * The same values `at(i)` has; a list that keeps them as columns reads them without a view each.
   */
  readTimes?(from: number, to: number, sec: Float64Array, nsec: Float64Array, ifaceId: Int32Array): void;
  /**
   * Optional, for passes over a flow's packets (a million in a bulk capture): packet i's FlowFields
   * into `out` without building the packet, true when filled, which a list offers only for a TCP or
   * UDP packet with an IP length above 0 and no ICMP, tunnel layers or text numbering (`origin`);
   * false for any other packet (read `at(i)` then). Filled values are the ones `at(i)` has.
   */
  flowFieldsAt?(i: number, out: FlowFields): boolean;
  /**
   * Optional bulk read, for passes over every packet: packets from..to-1 (within 0..length, at most
   * the arrays' length) into `out` (see PacketRows: only the packets it marks held are filled).
   */
  readRows?(from: number, to: number, out: PacketRows): void;
  /**
   * Optional, for carrier pairing: packet i's tunnel identifiers into `out` without building the
   * packet, true when filled. A list offers it only for packets it keeps as numbers, which never have
   * `ike`, `nattKeepalive`, `outer` or any other field a column view leaves undefined (see PacketRows);
   * false for any other packet (read `at(i)` then). Filled values are the ones `at(i)` has.
   */
  tunnelIdsAt?(i: number, out: TunnelIds): boolean;
}

/**
 * Whether the packet is a tunnel's carrier: a WireGuard datagram, ESP (in UDP or not), IKE or a NAT-T
 * keepalive. Carriers are matched by their tunnel's numbers, never by payload (payloadHash 'udp'
 * leaves them unhashed, and the IPsec refinement treats them as outer packets).
 */
export function isTunnelCarrier(p: Pick<Packet, 'wg' | 'esp' | 'ike' | 'nattKeepalive'>): boolean {
  return p.wg !== undefined || p.esp !== undefined || p.ike !== undefined || p.nattKeepalive === true;
}
