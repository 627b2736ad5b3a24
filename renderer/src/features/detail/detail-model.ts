// Pure model of the packet detail view: the layer tree (decoded from the bytes by the dissect
// worker, or built from the Packet record when there are no bytes), byte-to-field lookup and hex
// rows. No DOM, no React and no byte parsing, so it runs on the UI thread and is unit-tested under Node.

import type { Field } from '../../../../shared/protocols/fields.ts';
import type { Packet } from '../../../../shared/protocols/packet.ts';

/** A tree node with a stable id (its index path, "2.0.3") and its place in the tree. */
export interface FieldNode {
  id: string;
  field: Field;
  depth: number;
  parent: FieldNode | null;
  children: FieldNode[];
}

export interface DetailModel {
  roots: FieldNode[];
  /** Every node in document order (pre-order). */
  all: FieldNode[];
  byId: Map<string, FieldNode>;
  /** Captured bytes shown in the hex view; empty when the packet has none. */
  bytes: Uint8Array;
}

const NO_BYTES = new Uint8Array(0);

export function indexTree(fields: Field[]): Omit<DetailModel, 'bytes'> {
  const all: FieldNode[] = [];
  const byId = new Map<string, FieldNode>();
  const walk = (fs: Field[], parent: FieldNode | null, depth: number, prefix: string): FieldNode[] =>
    fs.map((field, i) => {
      const node: FieldNode = { id: prefix + i, field, depth, parent, children: [] };
      all.push(node);
      byId.set(node.id, node);
      if (field.children && field.children.length > 0) node.children = walk(field.children, node, depth + 1, node.id + '.');
      return node;
    });
  const roots = walk(fields, null, 0, '');
  return { roots, all, byId };
}

/**
 * The detail model of packet `p`: `tree` is the dissect worker's answer for its bytes; without
 * bytes (text imports) the tree comes from the record itself.
 */
export function buildDetail(p: Packet, bytes: Uint8Array | undefined, tree?: Field[]): DetailModel {
  if (!needsDissect(bytes)) return { ...indexTree(fieldsFromPacket(p)), bytes: NO_BYTES };
  return { ...indexTree(tree ?? []), bytes: bytes.subarray(0, Math.min(bytes.length, p.caplen || bytes.length)) };
}

/** Whether the packet's tree has to come from the dissect worker (it has bytes to decode). */
export function needsDissect(bytes: Uint8Array | undefined): bytes is Uint8Array {
  return bytes !== undefined && bytes.length > 0;
}

/**
 * The deepest field whose bytes include `offset` (Wireshark's click-in-hex behaviour);
 * among equally deep ones the narrowest, then the first.
 */
export function fieldAtOffset(nodes: readonly FieldNode[], offset: number): FieldNode | undefined {
  let best: FieldNode | undefined;
  for (const n of nodes) {
    const f = n.field;
    if (f.length <= 0 || offset < f.start || offset >= f.start + f.length) continue;
    if (best === undefined || n.depth > best.depth || (n.depth === best.depth && f.length < best.field.length)) best = n;
  }
  return best;
}

/** Nodes shown with the given expanded set, in display order (drives keyboard navigation). */
export function visibleNodes(roots: readonly FieldNode[], expanded: ReadonlySet<string>): FieldNode[] {
  const out: FieldNode[] = [];
  const walk = (ns: readonly FieldNode[]) => {
    for (const n of ns) {
      out.push(n);
      if (n.children.length > 0 && expanded.has(n.id)) walk(n.children);
    }
  };
  walk(roots);
  return out;
}

/** Ids of a node's ancestors, outermost first: expanded when a byte click selects a deep field. */
export function ancestorIds(n: FieldNode): string[] {
  const out: string[] = [];
  for (let a = n.parent; a !== null; a = a.parent) out.unshift(a.id);
  return out;
}

// ---- hex rows

export const BYTES_PER_ROW = 16;

export interface HexRow {
  /** Offset of the row's first byte, zero-padded hex. */
  offset: string;
  /** Two lower-case hex digits per byte present in the row (the last row may be short). */
  hex: string[];
  /** One printable ASCII character per byte, '.' otherwise. */
  ascii: string[];
}

const HEX = '0123456789abcdef';

/** Digits of the offset column: 4 like Wireshark, more when the frame is longer than 64 KiB. */
export function offsetWidth(total: number): number {
  return Math.max(4, (Math.max(total, 1) - 1).toString(16).length);
}

export function hexRow(bytes: Uint8Array, row: number, width = offsetWidth(bytes.length)): HexRow {
  const start = row * BYTES_PER_ROW;
  const end = Math.min(bytes.length, start + BYTES_PER_ROW);
  const hex: string[] = [];
  const ascii: string[] = [];
  for (let i = start; i < end; i++) {
    const b = bytes[i]!;
    hex.push(HEX[b >> 4]! + HEX[b & 15]!);
    ascii.push(b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '.');
  }
  return { offset: start.toString(16).padStart(width, '0'), hex, ascii };
}

export function rowCount(bytes: Uint8Array): number {
  return Math.ceil(bytes.length / BYTES_PER_ROW);
}

/**
 * Where a key takes the hex view's byte cursor: left/right one byte, up/down one row (staying put
 * at the first/last row), Home/End the row's first/last byte (with Ctrl: the frame's), Page Up/Down
 * `page` rows. No cursor yet: any of these keys starts at byte 0. null = not a cursor key.
 */
export function moveCursor(
  cursor: number | null, key: string, total: number, opts: { ctrl?: boolean; page?: number } = {},
): number | null {
  if (total <= 0) return null;
  const page = Math.max(1, opts.page ?? 1) * BYTES_PER_ROW;
  const at = cursor === null ? null : Math.min(Math.max(cursor, 0), total - 1);
  const rowStart = at === null ? 0 : at - (at % BYTES_PER_ROW);
  const last = total - 1;
  const vertical = (delta: number) => {
    if (at === null) return 0;
    const to = at + delta;
    // Stay in the same column: a move past either end of the frame keeps the cursor where it is,
    // except that the last (short) row is reached from above at its last byte.
    if (to < 0) return at;
    if (to > last) return Math.floor(at / BYTES_PER_ROW) === Math.floor(last / BYTES_PER_ROW) ? at : last;
    return to;
  };
  switch (key) {
    case 'ArrowLeft': return at === null ? 0 : Math.max(0, at - 1);
    case 'ArrowRight': return at === null ? 0 : Math.min(last, at + 1);
    case 'ArrowUp': return vertical(-BYTES_PER_ROW);
    case 'ArrowDown': return vertical(BYTES_PER_ROW);
    case 'PageUp': return at === null ? 0 : at - page >= 0 ? at - page : at % BYTES_PER_ROW;
    case 'PageDown': return at === null ? 0 : at + page <= last ? at + page : vertical(Math.floor((last - at) / BYTES_PER_ROW) * BYTES_PER_ROW);
    case 'Home': return opts.ctrl ? 0 : rowStart;
    case 'End': return opts.ctrl ? last : Math.min(last, rowStart + BYTES_PER_ROW - 1);
    default: return null;
  }
}

// ---- text imports: a tree from the record itself

const leaf = (name: string, label: string, value?: string | number | boolean): Field => {
  const f: Field = { name, label, start: 0, length: 0 };
  if (value !== undefined) f.value = value;
  return f;
};
const layer = (name: string, label: string, children: Array<Field | undefined>): Field =>
  ({ name, label, start: 0, length: 0, children: children.filter((c): c is Field => c !== undefined) });
const opt = <T>(v: T | undefined, f: (v: T) => Field): Field | undefined => (v === undefined ? undefined : f(v));

function isoTime(p: Packet): string {
  const d = new Date(p.tsSec * 1000);
  const frac = '.' + String(p.tsNsec).padStart(9, '0');
  // tcpdump's default text has no date: a time within the first day is only a time of day.
  if (p.tsSec < 86400) return d.toISOString().slice(11, 19) + frac + ' (time of day, no date in the text)';
  return d.toISOString().slice(0, 19) + frac + ' UTC';
}

const WG_TYPES: Record<number, string> = { 1: 'Handshake Initiation', 2: 'Handshake Response', 3: 'Cookie Reply', 4: 'Transport Data' };

/** The decoded record as a layer tree, for packets that have no bytes (tcpdump text imports). */
export function fieldsFromPacket(p: Packet): Field[] {
  const out: Field[] = [];
  out.push(layer('frame', `Frame ${p.frame}: ${p.len} bytes on wire`, [
    leaf('frame.time', 'Arrival time: ' + isoTime(p)),
    p.iface ? leaf('frame.interface_name', 'Interface: ' + p.iface, p.iface) : undefined,
    p.dir ? leaf('frame.dir', 'Direction: ' + p.dir, p.dir) : undefined,
    leaf('frame.len', 'Length on wire: ' + p.len, p.len),
    leaf('frame.summary', p.summary),
    opt(p.truncated, (t) => leaf('frame.truncated', t)),
    ...(p.comments ?? []).map((c) => leaf('frame.comment', 'Comment: ' + c, c)),
  ]));
  for (const o of p.outer ?? []) {
    out.push(layer(o.proto, `Outer ${o.proto}` + (o.src ? `, Src: ${o.src}, Dst: ${o.dst ?? '?'}` : ''), [
      opt(o.src, (s) => leaf(o.proto + '.src', 'Source: ' + s, s)),
      opt(o.dst, (s) => leaf(o.proto + '.dst', 'Destination: ' + s, s)),
    ]));
  }
  if (p.vlan) out.push(layer('vlan', '802.1Q VLAN: ' + p.vlan.join(', '), p.vlan.map((v) => leaf('vlan.id', 'ID: ' + v, v))));
  if (p.arp) {
    const a = p.arp;
    out.push(layer('arp', `Address Resolution Protocol (${a.op === 1 ? 'request' : a.op === 2 ? 'reply' : 'opcode ' + a.op})`, [
      leaf('arp.opcode', 'Opcode: ' + a.op, a.op),
      opt(a.sha, (m) => leaf('arp.src.hw_mac', 'Sender MAC address: ' + m, m)),
      leaf('arp.src.proto_ipv4', 'Sender IP address: ' + a.spa, a.spa),
      opt(a.tha, (m) => leaf('arp.dst.hw_mac', 'Target MAC address: ' + m, m)),
      leaf('arp.dst.proto_ipv4', 'Target IP address: ' + a.tpa, a.tpa),
    ]));
  }
  const ip = p.ip;
  if (ip) {
    const pre = ip.v === 4 ? 'ip' : 'ipv6';
    out.push(layer(pre, `Internet Protocol Version ${ip.v}, Src: ${p.src ?? '?'}, Dst: ${p.dst ?? '?'}`, [
      opt(p.src, (s) => leaf(pre + '.src', 'Source Address: ' + s, s)),
      opt(p.dst, (s) => leaf(pre + '.dst', 'Destination Address: ' + s, s)),
      leaf(ip.v === 4 ? 'ip.ttl' : 'ipv6.hlim', (ip.v === 4 ? 'Time to Live: ' : 'Hop Limit: ') + ip.ttl, ip.ttl),
      opt(ip.id, (id) => leaf('ip.id', 'Identification: ' + id, id)),
      leaf('ip.len', 'Total Length: ' + ip.len, ip.len),
      opt(ip.df, (df) => leaf('ip.flags.df', "Don't fragment: " + (df ? 'Set' : 'Not set'), df)),
      opt(ip.frag, (fr) => leaf('ip.frag_offset', `Fragment offset: ${fr.offset} bytes${fr.more ? ', more fragments' : ''}`, fr.offset)),
      leaf('ip.proto', 'Protocol: ' + ip.proto, ip.proto),
    ]));
  }
  const ports = (pre: string): Array<Field | undefined> => [
    opt(p.sport, (v) => leaf(pre + '.srcport', 'Source Port: ' + v, v)),
    opt(p.dport, (v) => leaf(pre + '.dstport', 'Destination Port: ' + v, v)),
  ];
  if (p.tcp) {
    const t = p.tcp;
    const rel = t.relative ? ' (relative)' : '';
    out.push(layer('tcp', `Transmission Control Protocol, Src Port: ${p.sport ?? '?'}, Dst Port: ${p.dport ?? '?'}, Flags: [${t.flags}]`, [
      ...ports('tcp'),
      leaf('tcp.flags', `Flags: [${t.flags}]`, t.flags),
      leaf('tcp.seq', `Sequence Number: ${t.seq}${rel}`, t.seq),
      leaf('tcp.ack', `Acknowledgment Number: ${t.ack}${rel}`, t.ack),
      leaf('tcp.window_size_value', 'Window: ' + t.win, t.win),
      leaf('tcp.len', 'Payload length: ' + t.len, t.len),
      opt(t.mss, (v) => leaf('tcp.options.mss_val', 'MSS: ' + v, v)),
      opt(t.wscale, (v) => leaf('tcp.options.wscale.shift', 'Window scale: ' + v, v)),
      t.sackOk ? leaf('tcp.options.sack_perm', 'SACK permitted', true) : undefined,
      opt(t.tsval, (v) => leaf('tcp.options.timestamp.tsval', 'Timestamp value: ' + v, v)),
      opt(t.tsecr, (v) => leaf('tcp.options.timestamp.tsecr', 'Timestamp echo reply: ' + v, v)),
    ]));
  }
  if (p.udp) out.push(layer('udp', `User Datagram Protocol, Src Port: ${p.sport ?? '?'}, Dst Port: ${p.dport ?? '?'}`, [
    ...ports('udp'), leaf('udp.len', 'Payload length: ' + p.udp.len, p.udp.len),
  ]));
  if (p.icmp) {
    const c = p.icmp;
    const pre = c.v === 4 ? 'icmp' : 'icmpv6';
    out.push(layer(pre, `Internet Control Message Protocol${c.v === 6 ? ' v6' : ''}, type ${c.type}, code ${c.code}`, [
      leaf(pre + '.type', 'Type: ' + c.type, c.type),
      leaf(pre + '.code', 'Code: ' + c.code, c.code),
      opt(c.mtu, (v) => leaf(pre + '.mtu', 'MTU of next hop: ' + v, v)),
      opt(c.id, (v) => leaf(pre + '.ident', 'Identifier: ' + v, v)),
      opt(c.seq, (v) => leaf(pre + '.seq', 'Sequence: ' + v, v)),
      opt(c.orig, (o) => leaf(pre + '.orig', `Quoted datagram: ${o.src}${o.sport !== undefined ? '.' + o.sport : ''} > ${o.dst}${o.dport !== undefined ? '.' + o.dport : ''}, protocol ${o.proto}`)),
    ]));
  }
  if (p.wg) {
    const w = p.wg;
    out.push(layer('wg', 'WireGuard Protocol, ' + (WG_TYPES[w.type] ?? 'type ' + w.type), [
      leaf('wg.type', `Type: ${WG_TYPES[w.type] ?? ''} (${w.type})`, w.type),
      opt(w.sender, (v) => leaf('wg.sender', 'Sender: 0x' + v.toString(16).padStart(8, '0'), v)),
      opt(w.receiver, (v) => leaf('wg.receiver', 'Receiver: 0x' + v.toString(16).padStart(8, '0'), v)),
      opt(w.counter, (v) => leaf('wg.counter', 'Counter: ' + v, v)),
    ]));
  }
  if (p.esp) out.push(layer('esp', `Encapsulating Security Payload, SPI: 0x${p.esp.spi.toString(16).padStart(8, '0')}`, [
    leaf('esp.spi', 'SPI: 0x' + p.esp.spi.toString(16).padStart(8, '0'), p.esp.spi),
    leaf('esp.sequence', 'Sequence: ' + p.esp.seq, p.esp.seq),
  ]));
  if (p.ike) {
    const k = p.ike;
    out.push(layer('isakmp', `Internet Security Association and Key Management Protocol (IKEv${k.version})`, [
      leaf('isakmp.ispi', 'Initiator SPI: ' + k.ispi, k.ispi),
      leaf('isakmp.rspi', 'Responder SPI: ' + k.rspi, k.rspi),
      leaf('isakmp.exchangetype', 'Exchange type: ' + k.exchange, k.exchange),
      leaf('isakmp.messageid', 'Message ID: 0x' + k.msgid.toString(16).padStart(8, '0'), k.msgid),
      k.nonEspMarker ? leaf('isakmp.non_esp_marker', 'Non-ESP marker (UDP 4500)', true) : undefined,
    ]));
  }
  if (p.nattKeepalive) out.push(leaf('udpencap.keepalive', 'NAT-T keepalive'));
  if (p.gre) out.push(layer('gre', 'Generic Routing Encapsulation', [
    leaf('gre.proto', 'Protocol type: 0x' + p.gre.proto.toString(16).padStart(4, '0'), p.gre.proto),
    opt(p.gre.key, (v) => leaf('gre.key', 'Key: ' + v, v)),
    opt(p.gre.seq, (v) => leaf('gre.sequence_number', 'Sequence: ' + v, v)),
  ]));
  if (p.vxlan) out.push(layer('vxlan', 'Virtual eXtensible Local Area Network, VNI: ' + p.vxlan.vni, [leaf('vxlan.vni', 'VNI: ' + p.vxlan.vni, p.vxlan.vni)]));
  return out;
}
