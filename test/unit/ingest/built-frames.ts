// Frames for the fast paths' tests (fast-decode.test.ts, chunk-writer.test.ts): one of each shape the
// fast path takes, shapes next to them that it must refuse, and every neighbour of each (cut lengths,
// single-byte header changes, odd frame fields); plus the lab captures and their interface names.
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { RawFrame } from '../../../shared/capture-file/types.ts';

export const be16 = (v: number): number[] => [(v >> 8) & 255, v & 255];
export const be32 = (v: number): number[] => [(v >>> 24) & 255, (v >>> 16) & 255, (v >>> 8) & 255, v & 255];
export const le32 = (v: number): number[] => be32(v).reverse();
export const zeros = (n: number): number[] => new Array<number>(n).fill(0);
export const seq = (n: number, from = 1): number[] => Array.from({ length: n }, (_, i) => (from + i * 37) & 255);

export function ip4(proto: number, payload: number[], extra: { fo?: number; hl?: number; totlen?: number } = {}): number[] {
  const hl = extra.hl ?? 20;
  const opts = zeros(hl - 20).map((_, i) => (i === hl - 21 ? 0 : 1));
  const len = extra.totlen ?? hl + payload.length;
  return [0x40 | (hl / 4), 0, ...be16(len), 0x12, 0x34, ...be16(extra.fo ?? 0x4000), 64, proto, 0, 0, 10, 1, 0, 5, 192, 168, 200, 22, ...opts, ...payload];
}
export function ip6(nh: number, payload: number[], plen = payload.length): number[] {
  const a = [0x20, 0x01, 0x0d, 0xb8, ...zeros(11), 1], b = [0xfe, 0x80, ...zeros(13), 0x22];
  return [0x60, 0, 0, 0, ...be16(plen), nh, 63, ...a, ...b, ...payload];
}
export function tcp(options: number[], payload: number[], flags = 0x18): number[] {
  const doff = 20 + options.length;
  return [...be16(40000), ...be16(80), ...be32(0x89abcdef), ...be32(0x01020304), (doff / 4) << 4, flags, ...be16(502), 0, 0, 0, 0, ...options, ...payload];
}
export function udp(sport: number, dport: number, payload: number[], ulen = payload.length + 8): number[] {
  return [...be16(sport), ...be16(dport), ...be16(ulen), 0, 0, ...payload];
}
export const wgInit = (): number[] => [1, 0, 0, 0, ...le32(0xdeadbeef), ...seq(140)];
export const wgResp = (): number[] => [2, 0, 0, 0, ...le32(0x11223344), ...le32(0xdeadbeef), ...seq(80)];
export const wgCookie = (): number[] => [3, 0, 0, 0, ...le32(0xdeadbeef), ...seq(56)];
export const wgData = (hi: number, n = 48): number[] => [4, 0, 0, 0, ...le32(0xcafef00d), ...le32(0x87654321), ...le32(hi), ...seq(n - 16)];
export const sll2 = (proto: number, ifindex: number, pkttype: number, hatype = 1): number[] =>
  [...be16(proto), 0, 0, ...be32(ifindex), ...be16(hatype), pkttype, 6, 2, 0, 0, 0, 0, 1, 0, 0];
export const sll1 = (proto: number, pkttype: number): number[] => [...be16(pkttype), 0, 1, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0, ...be16(proto)];
export const eth = (type: number): number[] => [2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, ...be16(type)];

export const tcpOpts = [2, 4, 5, 0xb4, 1, 3, 3, 7, 4, 2, 8, 10, ...be32(0x80000001), ...be32(12345), 5, 18, ...be32(1000), ...be32(2000), ...be32(0xfffffff0), ...be32(0xffffffff)];

export const SHAPES: Array<[string, number, number[]]> = [
  ['sll2 v4 tcp', 276, [...sll2(0x0800, 3, 4), ...ip4(6, tcp([1, 1, 8, 10, ...be32(7), ...be32(9)], seq(60)))]],
  ['sll2 v4 tcp options', 276, [...sll2(0x0800, 2, 0), ...ip4(6, tcp(tcpOpts, seq(10), 0x12))]],
  ['sll2 v4 wg init', 276, [...sll2(0x0800, 2, 4), ...ip4(17, udp(51820, 51820, wgInit()))]],
  ['sll2 v4 wg response', 276, [...sll2(0x0800, 2, 0), ...ip4(17, udp(51820, 40000, wgResp()))]],
  ['sll2 v4 wg cookie', 276, [...sll2(0x0800, 2, 0), ...ip4(17, udp(51820, 40000, wgCookie()))]],
  ['sll2 v4 wg data', 276, [...sll2(0x0800, 2, 1, 1), ...ip4(17, udp(40000, 51820, wgData(1)))]],
  ['sll2 v4 wg data, 2^53 counter', 276, [...sll2(0x0800, 2, 1), ...ip4(17, udp(40000, 51820, wgData(0x200000)))]],
  ['sll2 v4 wg keepalive', 276, [...sll2(0x0800, 3, 4, 65534), ...ip4(17, udp(40000, 51820, wgData(0, 32)))]],
  ['sll2 v6 udp', 276, [...sll2(0x86dd, 70000, 3), ...ip6(17, udp(1234, 5678, seq(30)))]],
  ['sll1 v4 udp', 113, [...sll1(0x0800, 4), ...ip4(17, udp(123, 40000, seq(48)))]],
  ['sll1 v4 natt esp', 113, [...sll1(0x0800, 0), ...ip4(17, udp(4500, 4500, [...be32(0xc0ffee), ...be32(7), ...seq(40)]))]],
  ['eth v6 tcp', 1, [...eth(0x86dd), ...ip6(6, tcp(tcpOpts, seq(100)))]],
  ['eth v4 tcp ip options', 1, [...eth(0x0800), ...ip4(6, tcp([], seq(20)), { hl: 28 })]],
  ['eth v4 udp dns', 1, [...eth(0x0800), ...ip4(17, udp(40000, 53, seq(30)))]],
  ['eth v4 fragment', 1, [...eth(0x0800), ...ip4(17, udp(1, 2, seq(30)), { fo: 0x2000 })]],
  ['eth vlan', 1, [...eth(0x8100), 0, 5, ...be16(0x0800), ...ip4(6, tcp([], []))]],
  ['eth v6 fragment header', 1, [...eth(0x86dd), ...ip6(44, [17, 0, 0, 1, ...be32(99), ...udp(1, 2, seq(8))])]],
  ['raw v4 esp', 101, ip4(50, [...be32(0x1234), ...be32(0x80000000), ...seq(64)])],
  ['raw v6 esp', 101, ip6(50, [...be32(0x1234), ...be32(1), ...seq(64)])],
  ['raw v4 icmp', 101, ip4(1, [8, 0, 0, 0, 0, 1, 0, 1, ...seq(8)])],
  ['ipv4 linktype, offloaded tcp', 228, ip4(6, tcp([], seq(40)), { totlen: 0 })],
  ['ipv6 linktype, jumbo udp', 229, ip6(17, udp(9, 10, seq(20), 0), 0)],
  ['null loopback', 0, [2, 0, 0, 0, ...ip4(6, tcp([], []))]],
];

export function parseLinks(text: string): Map<number, string> {
  const m = new Map<number, string>();
  for (const line of text.split('\n')) {
    const x = /^(\d+):\s+([^:@\s]+)/.exec(line);
    if (x) m.set(Number(x[1]), x[2]!);
  }
  return m;
}

const VALUES = [0, 1, 4, 6, 0x11, 0x45, 0x60, 0x80, 0xff];

/**
 * A built frame and its neighbours, numbered from 1: the frame itself, every cut length (by the snap
 * length, the wire length kept; and shorter than its IP header says), every single-byte change of its
 * first 96 bytes, and odd frame fields (pcapng directions, comments, numbers and times past their columns).
 */
export function* neighbours(bytes: number[]): Generator<RawFrame> {
  let no = 0;
  const frame = (data: number[], extra: Partial<RawFrame> = {}): RawFrame => {
    const u = Uint8Array.from(data);
    return { frame: ++no, offset: 0, ifaceId: 0, tsSec: 1700000000 + no, tsNsec: no * 1000, caplen: u.length, len: u.length, data: u, ...extra };
  };
  yield frame(bytes);
  for (let cut = 0; cut < bytes.length; cut++) yield frame(bytes.slice(0, cut), { len: bytes.length });
  for (let cut = 0; cut < bytes.length; cut++) yield frame(bytes.slice(0, cut));
  for (let pos = 0; pos < Math.min(bytes.length, 96); pos++) {
    for (const v of [...VALUES, bytes[pos]! ^ 0x01, bytes[pos]! ^ 0x80]) {
      if (v === bytes[pos]) continue;
      const m = bytes.slice();
      m[pos] = v;
      yield frame(m);
    }
  }
  for (const epbFlags of [0, 1, 2, 3, 7]) yield frame(bytes, { epbFlags });
  yield frame(bytes, { comments: ['a note'] });
  yield frame(bytes, { comments: [] });
  yield frame(bytes, { tsSec: 2 ** 32 });
  yield frame(bytes, { tsSec: -1 });
  yield frame(bytes, { tsSec: 1.5 });
  yield frame(bytes, { frame: 2 ** 32 + 5 });
  yield frame(bytes, { ifaceId: 0x10000 });
  yield frame(bytes, { len: 2 ** 32 });
  yield frame(bytes, { len: 10 });
  yield frame(bytes, { caplen: bytes.length - 4 });
}

/** The lab's capture files under `lab` (each run's A/B, pcapng and SLL2 pcap). */
export function labFiles(lab: string): string[] {
  const files: string[] = [];
  if (!existsSync(lab)) return files;
  for (const s of readdirSync(lab).sort()) {
    for (const f of ['A-any.pcap', 'B-any.pcap', 'A.pcapng', 'B.pcapng']) if (existsSync(join(lab, s, f))) files.push(join(lab, s, f));
  }
  return files;
}
