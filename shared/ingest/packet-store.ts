// Compact in-memory form of a whole capture for bulk analysis. A decoded Packet with its ip/tcp
// objects and boxed numbers costs ~450 bytes in V8; the common shapes (IP + TCP, IP + UDP with or
// without WireGuard, ESP) are kept here as typed-array columns (~80 bytes) behind a small view
// object that reads them through getters; the views are built on each read (`at`), not kept, so a
// million packets cost their columns and nothing per packet on the JS heap. Anything else (ICMP,
// ARP, tunnels, IKE, fragments, truncated frames, comments) stays the decoder's own Packet object.
// SACK blocks (a few per cent of a bulk download's ACKs) sit in a per-page side table.
// Sub-objects (ip, tcp, udp, wg, esp) are built on each read: fine for reading, not for mutation.
// Only `summary` may be written (the CLI fills it for the frames it shows).

import type { Direction, EspInfo, IpInfo, Packet, PacketList, TcpInfo, WireGuardInfo } from '../protocols/packet.ts';

const F_IFINDEX = 1;
const F_V6 = 1 << 1;
const F_DF = 1 << 2;
const F_TCP = 1 << 3;
const F_UDP = 1 << 4;
const F_MSS = 1 << 5;
const F_WSCALE = 1 << 6;
const F_SACKOK = 1 << 7;
const F_TS = 1 << 8;
const F_WG_SENDER = 1 << 9;
const F_WG_RECEIVER = 1 << 10;
const F_WG_COUNTER = 1 << 11;
const F_ESP = 1 << 12;
const F_HASH = 1 << 13;
const F_HATYPE = 1 << 14;
const F_SACK = 1 << 15;

const DIRS: ReadonlyArray<Direction | null> = [null, 'in', 'out', 'broadcast', 'multicast', 'otherhost', 'unknown'];
const dirCode = (d: Direction | null): number => DIRS.indexOf(d);

/** Interning table: string ↔ small id. */
class Table {
  readonly list: string[] = [];
  private ids = new Map<string, number>();
  private last = '';
  private lastId = -1;
  id(s: string): number {
    if (s === this.last && this.lastId >= 0) return this.lastId;
    let k = this.ids.get(s);
    if (k === undefined) { k = this.list.length; this.list.push(s); this.ids.set(s, k); }
    this.last = s; this.lastId = k;
    return k;
  }
}

/** Whether the columns can hold `p` exactly. */
function fits(p: Packet): boolean {
  if (p.icmp !== undefined || p.ike !== undefined || p.nattKeepalive !== undefined || p.gre !== undefined ||
    p.vxlan !== undefined || p.outer !== undefined || p.vlan !== undefined || p.arp !== undefined ||
    p.truncated !== undefined || p.comments !== undefined || p.origin !== undefined || p.timeUnknown !== undefined ||
    p.fwlog !== undefined || p.ah !== undefined || p.ppp !== undefined || p.enc !== undefined) return false;
  const ip = p.ip;
  if (ip === undefined || p.src === undefined || p.dst === undefined || ip.frag !== undefined) return false;
  if (ip.v === 4 ? ip.id === undefined || ip.id > 0xffff || ip.df === undefined : ip.id !== undefined || ip.df !== undefined) return false;
  if (ip.ttl > 0xff || ip.proto > 0xff || ip.len > 0xffff) return false;
  // Whole seconds within 32 bits, as every capture format stores them (2106 and earlier).
  if (!(p.tsSec >= 0 && p.tsSec <= 0xffffffff && Number.isInteger(p.tsSec))) return false;
  if (p.ifaceId > 0xffff || p.linktype > 0xffff || (p.ifindex !== undefined && p.ifindex > 0xffff) || (p.hatype !== undefined && p.hatype > 0xffff)) return false;
  const t = p.tcp, u = p.udp;
  if (t !== undefined && u !== undefined) return false;
  if ((t !== undefined || u !== undefined) !== (p.sport !== undefined && p.dport !== undefined)) return false;
  if (t === undefined && u === undefined && (p.sport !== undefined || p.dport !== undefined)) return false;
  if (t !== undefined) {
    if (t.relative !== undefined || (t.tsval === undefined) !== (t.tsecr === undefined)) return false;
    if (t.win > 0xffff || t.len > 0xffff || (t.mss !== undefined && t.mss > 0xffff) || (t.wscale !== undefined && t.wscale > 0xff)) return false;
  }
  if (u !== undefined && u.len > 0xffff) return false;
  const w = p.wg;
  if (w !== undefined) {
    if (u === undefined) return false;
    if (w.counter !== undefined && !(Number(w.counter) >= 0 && Number(w.counter) <= Number.MAX_SAFE_INTEGER)) return false;
  }
  // ESP and WireGuard fields reuse the TCP columns (see Page).
  if (p.esp !== undefined && (w !== undefined || t !== undefined)) return false;
  return true;
}

/** Packets per page: columns are allocated a page at a time (no regrowing copies, little slack). */
const PAGE_BITS = 15;
const PAGE = 1 << PAGE_BITS;

/** Columns for PAGE packets; each view points at its page and its offset in it. */
class Page {
  n = 0;
  /** Summaries written after loading (CLI), by offset. */
  summaries: Map<number, string> | null = null;
  /** SACK blocks by offset: left and right edges in one array of doubles (no object per block). */
  sack: Map<number, number[]> | null = null;
  /** Packets the columns cannot hold, by offset (their row stays unused). */
  plain: Map<number, Packet> | null = null;
  readonly frame = new Uint32Array(PAGE);
  readonly tsSec = new Uint32Array(PAGE);
  readonly tsNsec = new Uint32Array(PAGE);
  readonly name = new Uint16Array(PAGE);
  readonly ifaceId = new Uint16Array(PAGE);
  readonly linktype = new Uint16Array(PAGE);
  readonly dir = new Uint8Array(PAGE);
  readonly caplen = new Uint32Array(PAGE);
  readonly len = new Uint32Array(PAGE);
  readonly ifindex = new Uint16Array(PAGE);
  readonly hatype = new Uint16Array(PAGE);
  readonly fl = new Uint16Array(PAGE);
  readonly proto = new Uint8Array(PAGE);
  readonly src = new Uint32Array(PAGE);
  readonly dst = new Uint32Array(PAGE);
  readonly sport = new Uint16Array(PAGE);
  readonly dport = new Uint16Array(PAGE);
  readonly ipId = new Uint16Array(PAGE);
  readonly ttl = new Uint8Array(PAGE);
  readonly ipLen = new Uint16Array(PAGE);
  readonly ipProto = new Uint8Array(PAGE);
  readonly tflags = new Uint8Array(PAGE);
  readonly seq = new Uint32Array(PAGE);
  readonly ack = new Uint32Array(PAGE);
  readonly win = new Uint16Array(PAGE);
  /** TCP payload length, or the UDP length. */
  readonly l4len = new Uint16Array(PAGE);
  readonly mss = new Uint16Array(PAGE);
  readonly wscale = new Uint8Array(PAGE);
  readonly tsval = new Uint32Array(PAGE);
  readonly tsecr = new Uint32Array(PAGE);
  /**
   * WireGuard type (0 when none). A column-held packet is never both TCP and WireGuard/ESP, so
   * those share the TCP columns: sender/receiver or ESP spi/seq in seq/ack, the WireGuard
   * counter (below 2^53) as low/high 32-bit halves in tsval/tsecr.
   */
  readonly wgType = new Uint8Array(PAGE);
  readonly hash = new Uint32Array(PAGE);
  constructor(readonly t: Tables) {}
}

interface Tables { names: Table; protos: Table; flagStrs: Table; addrs: Table }

export class PacketStore implements PacketList {
  private readonly tables: Tables = { names: new Table(), protos: new Table(), flagStrs: new Table(), addrs: new Table() };
  private readonly pages: Page[] = [];
  length = 0;

  /** Packet `i` (file order): a fresh view for column-held packets, the decoded Packet otherwise. */
  at(i: number): Packet | undefined {
    if (!(i >= 0 && i < this.length)) return undefined;
    const g = this.pages[i >>> PAGE_BITS]!;
    const k = i & (PAGE - 1);
    return (g.plain !== null ? g.plain.get(k) : undefined) ?? new StoredPacket(g, k);
  }

  *[Symbol.iterator](): Iterator<Packet> {
    for (let i = 0; i < this.length; i++) yield this.at(i)!;
  }

  /** Adds one decoded packet (kept as columns when it fits, as is otherwise). */
  push(p: Packet): void {
    let g = this.pages[this.pages.length - 1];
    if (g === undefined || g.n === PAGE) { g = new Page(this.tables); this.pages.push(g); }
    const k = g.n++;
    this.length++;
    if (!fits(p)) {
      (g.plain ??= new Map()).set(k, p);
      return;
    }
    const tb = this.tables;
    g.frame[k] = p.frame;
    g.tsSec[k] = p.tsSec;
    g.tsNsec[k] = p.tsNsec;
    g.name[k] = tb.names.id(p.iface);
    g.ifaceId[k] = p.ifaceId;
    g.linktype[k] = p.linktype;
    g.dir[k] = dirCode(p.dir);
    g.caplen[k] = p.caplen;
    g.len[k] = p.len;
    let fl = 0;
    if (p.ifindex !== undefined) { fl |= F_IFINDEX; g.ifindex[k] = p.ifindex; }
    if (p.hatype !== undefined) { fl |= F_HATYPE; g.hatype[k] = p.hatype; }
    g.proto[k] = tb.protos.id(p.proto);
    g.src[k] = tb.addrs.id(p.src!);
    g.dst[k] = tb.addrs.id(p.dst!);
    const ip = p.ip!;
    if (ip.v === 6) fl |= F_V6;
    else { g.ipId[k] = ip.id!; if (ip.df) fl |= F_DF; }
    g.ttl[k] = ip.ttl;
    g.ipLen[k] = ip.len;
    g.ipProto[k] = ip.proto;
    if (p.sport !== undefined) { g.sport[k] = p.sport; g.dport[k] = p.dport!; }
    const t = p.tcp;
    if (t !== undefined) {
      fl |= F_TCP;
      g.tflags[k] = tb.flagStrs.id(t.flags);
      g.seq[k] = t.seq; g.ack[k] = t.ack; g.win[k] = t.win; g.l4len[k] = t.len;
      if (t.mss !== undefined) { fl |= F_MSS; g.mss[k] = t.mss; }
      if (t.wscale !== undefined) { fl |= F_WSCALE; g.wscale[k] = t.wscale; }
      if (t.sackOk !== undefined) fl |= F_SACKOK;
      if (t.tsval !== undefined) { fl |= F_TS; g.tsval[k] = t.tsval; g.tsecr[k] = t.tsecr!; }
      if (t.sack !== undefined) { fl |= F_SACK; (g.sack ??= new Map()).set(k, t.sack.flat()); }
    } else if (p.udp !== undefined) {
      fl |= F_UDP;
      g.l4len[k] = p.udp.len;
    }
    const w = p.wg;
    g.wgType[k] = w !== undefined ? w.type : 0;
    if (w !== undefined) {
      if (w.sender !== undefined) { fl |= F_WG_SENDER; g.seq[k] = w.sender; }
      if (w.receiver !== undefined) { fl |= F_WG_RECEIVER; g.ack[k] = w.receiver; }
      if (w.counter !== undefined) {
        const c = Number(w.counter);
        fl |= F_WG_COUNTER; g.tsval[k] = c % 4294967296; g.tsecr[k] = Math.floor(c / 4294967296);
      }
    } else if (p.esp !== undefined) {
      fl |= F_ESP; g.seq[k] = p.esp.spi; g.ack[k] = p.esp.seq;
    }
    if (p.payloadHash !== undefined) { fl |= F_HASH; g.hash[k] = p.payloadHash; }
    g.fl[k] = fl;
    if (p.summary !== '') (g.summaries ??= new Map()).set(k, p.summary);
  }
}

/** Read-only view of one column-held packet; reads like the decoder's Packet. */
class StoredPacket implements Packet {
  constructor(private readonly s: Page, private readonly k: number) {}
  get frame(): number { return this.s.frame[this.k]!; }
  get tsSec(): number { return this.s.tsSec[this.k]!; }
  get tsNsec(): number { return this.s.tsNsec[this.k]!; }
  get iface(): string { return this.s.t.names.list[this.s.name[this.k]!]!; }
  get ifaceId(): number { return this.s.ifaceId[this.k]!; }
  get ifindex(): number | undefined { return (this.s.fl[this.k]! & F_IFINDEX) !== 0 ? this.s.ifindex[this.k]! : undefined; }
  get hatype(): number | undefined { return (this.s.fl[this.k]! & F_HATYPE) !== 0 ? this.s.hatype[this.k]! : undefined; }
  get dir(): Direction | null { return DIRS[this.s.dir[this.k]!]!; }
  get linktype(): number { return this.s.linktype[this.k]!; }
  get caplen(): number { return this.s.caplen[this.k]!; }
  get len(): number { return this.s.len[this.k]!; }
  get src(): string { return this.s.t.addrs.list[this.s.src[this.k]!]!; }
  get dst(): string { return this.s.t.addrs.list[this.s.dst[this.k]!]!; }
  get proto(): string { return this.s.t.protos.list[this.s.proto[this.k]!]!; }
  get sport(): number | undefined { return (this.s.fl[this.k]! & (F_TCP | F_UDP)) !== 0 ? this.s.sport[this.k]! : undefined; }
  get dport(): number | undefined { return (this.s.fl[this.k]! & (F_TCP | F_UDP)) !== 0 ? this.s.dport[this.k]! : undefined; }
  get ip(): IpInfo {
    const s = this.s, k = this.k;
    if ((s.fl[k]! & F_V6) !== 0) return { v: 6, ttl: s.ttl[k]!, len: s.ipLen[k]!, proto: s.ipProto[k]! };
    return { v: 4, id: s.ipId[k]!, ttl: s.ttl[k]!, len: s.ipLen[k]!, df: (s.fl[k]! & F_DF) !== 0, proto: s.ipProto[k]! };
  }
  get tcp(): TcpInfo | undefined {
    const s = this.s, k = this.k, fl = s.fl[k]!;
    if ((fl & F_TCP) === 0) return undefined;
    const t: TcpInfo = { flags: s.t.flagStrs.list[s.tflags[k]!]!, seq: s.seq[k]!, ack: s.ack[k]!, win: s.win[k]!, len: s.l4len[k]! };
    if ((fl & F_MSS) !== 0) t.mss = s.mss[k]!;
    if ((fl & F_WSCALE) !== 0) t.wscale = s.wscale[k]!;
    if ((fl & F_SACKOK) !== 0) t.sackOk = true;
    if ((fl & F_TS) !== 0) { t.tsval = s.tsval[k]!; t.tsecr = s.tsecr[k]!; }
    if ((fl & F_SACK) !== 0) {
      const e = s.sack!.get(k)!;
      const blocks: Array<[number, number]> = [];
      for (let j = 0; j < e.length; j += 2) blocks.push([e[j]!, e[j + 1]!]);
      t.sack = blocks;
    }
    return t;
  }
  get udp(): { len: number } | undefined {
    return (this.s.fl[this.k]! & F_UDP) !== 0 ? { len: this.s.l4len[this.k]! } : undefined;
  }
  get wg(): WireGuardInfo | undefined {
    const s = this.s, k = this.k;
    const type = s.wgType[k]!;
    if (type === 0) return undefined;
    const fl = s.fl[k]!;
    const w: WireGuardInfo = { type: type as 1 | 2 | 3 | 4 };
    if ((fl & F_WG_SENDER) !== 0) w.sender = s.seq[k]!;
    if ((fl & F_WG_RECEIVER) !== 0) w.receiver = s.ack[k]!;
    if ((fl & F_WG_COUNTER) !== 0) w.counter = String(s.tsecr[k]! * 4294967296 + s.tsval[k]!);
    return w;
  }
  get esp(): EspInfo | undefined {
    return (this.s.fl[this.k]! & F_ESP) !== 0 ? { spi: this.s.seq[this.k]!, seq: this.s.ack[this.k]! } : undefined;
  }
  get payloadHash(): number | undefined { return (this.s.fl[this.k]! & F_HASH) !== 0 ? this.s.hash[this.k]! : undefined; }
  get summary(): string { return this.s.summaries?.get(this.k) ?? ''; }
  set summary(v: string) { (this.s.summaries ??= new Map()).set(this.k, v); }
  // Fields the columns never hold (such packets stay Packet objects).
  get icmp(): undefined { return undefined; }
  get ike(): undefined { return undefined; }
  get nattKeepalive(): undefined { return undefined; }
  get gre(): undefined { return undefined; }
  get vxlan(): undefined { return undefined; }
  get outer(): undefined { return undefined; }
  get vlan(): undefined { return undefined; }
  get arp(): undefined { return undefined; }
  get truncated(): undefined { return undefined; }
  get comments(): undefined { return undefined; }
  get origin(): undefined { return undefined; }
  get timeUnknown(): undefined { return undefined; }
  get fwlog(): undefined { return undefined; }
  get ah(): undefined { return undefined; }
  get ppp(): undefined { return undefined; }
  get enc(): undefined { return undefined; }

  /** The same packet as a plain object (JSON, spreading, structured clone). */
  toJSON(): Packet { return toPlainPacket(this); }
}

/** A plain-object copy of a packet, whichever form it has (the decoder's key order where it matters). */
export function toPlainPacket(p: Packet): Packet {
  if (!(p instanceof StoredPacket)) return p;
  const o: Packet = {
    frame: p.frame, tsSec: p.tsSec, tsNsec: p.tsNsec, iface: p.iface, ifaceId: p.ifaceId, dir: p.dir,
    linktype: p.linktype, caplen: p.caplen, len: p.len, proto: p.proto, summary: p.summary,
  };
  if (p.ifindex !== undefined) o.ifindex = p.ifindex;
  if (p.hatype !== undefined) o.hatype = p.hatype;
  o.src = p.src; o.dst = p.dst; o.ip = p.ip;
  if (p.sport !== undefined) { o.sport = p.sport; o.dport = p.dport; }
  const t = p.tcp, u = p.udp, w = p.wg, e = p.esp;
  if (t !== undefined) o.tcp = t;
  if (u !== undefined) o.udp = u;
  if (w !== undefined) o.wg = w;
  if (e !== undefined) o.esp = e;
  if (p.payloadHash !== undefined) o.payloadHash = p.payloadHash;
  return o;
}
