// Programmatic two-host captures (the primer's topology) for clock and performance tests:
// a TCP download through WireGuard, with known one-way delays and a known clock error on B.
import type { Packet } from '../../../shared/protocols/packet.ts';

export interface SynthOptions {
  /** Download rounds: two full-size segments from the server and one ACK from A each. */
  rounds: number;
  /** Seconds between rounds. */
  period: number;
  /** Decoded WireGuard fields (binary capture) or sizes only (tcpdump text). */
  wgFields: boolean;
  /** B's clock error: B reads true + offset + skew·(true − start). */
  offset: number;
  skewPpm: number;
  seed: number;
}

/** A small seeded generator of numbers in [0, 1): the same sequence for the same seed. */
export function mulberry32(a: number): () => number {
  return () => {
    a |= 0; a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const T0 = 1_700_000_000;
const A_WAN = '192.168.1.11', NAT = '198.51.100.1', B_WAN = '203.0.113.2';
const A_TUN = '10.0.0.1', SRV = '192.168.200.22', B_LAN = '192.168.200.2';

export function synthBulk(o: SynthOptions): { a: Packet[]; b: Packet[] } {
  const rnd = mulberry32(o.seed);
  const a: Array<{ x: number; p: Packet }> = [];
  const b: Array<{ x: number; p: Packet }> = [];
  const jitter = (): number => -Math.log(1 - rnd()) * 80e-6;
  const bClock = (x: number): number => x + o.offset + o.skewPpm * 1e-6 * x;
  const base = (iface: string, dir: 'in' | 'out', src: string, dst: string, sport: number, dport: number, proto: string): Packet => ({
    frame: 0, tsSec: 0, tsNsec: 0, iface, ifaceId: 0, dir, linktype: 276, caplen: 0, len: 0, src, dst, sport, dport, proto, summary: '',
  });
  const tcp = (iface: string, dir: 'in' | 'out', src: string, dst: string, sport: number, dport: number,
    flags: string, seq: number, ack: number, len: number, tsval: number, tsecr: number, ttl: number): Packet => {
    const p = base(iface, dir, src, dst, sport, dport, 'tcp');
    const opt = flags.includes('S') ? 20 : 12;
    p.ip = { v: 4, ttl, len: 40 + opt + len, proto: 6 };
    p.tcp = { flags, seq: seq >>> 0, ack: ack >>> 0, win: 500, len, tsval, tsecr };
    if (flags.includes('S')) { p.tcp.mss = 1380; p.tcp.sackOk = true; p.tcp.wscale = 7; }
    p.caplen = p.len = p.ip.len;
    return p;
  };
  const udp = (iface: string, dir: 'in' | 'out', src: string, dst: string, sport: number, dport: number, len: number,
    type: 1 | 2 | 4, sender: number, receiver: number, counter: number): Packet => {
    const p = base(iface, dir, src, dst, sport, dport, o.wgFields ? 'wireguard' : 'udp');
    p.ip = { v: 4, ttl: 64, len: 28 + len, proto: 17 };
    p.udp = { len };
    if (o.wgFields) {
      p.wg = type === 4 ? { type, receiver, counter: String(counter) } : type === 1 ? { type, sender } : { type, sender, receiver };
    }
    p.caplen = p.len = p.ip.len;
    return p;
  };
  const wgLen = (ilen: number): number => 32 + Math.ceil(ilen / 16) * 16;
  let ctrAB = 0, ctrBA = 0;
  const IA = 0x1111, IB = 0x2222;
  /** Inner packet from A to the server: A tunnel out → carriers → B tunnel in → B LAN out. */
  const up = (x: number, mk: (src: string, ttl: number) => Packet): number => {
    const p1 = mk(A_TUN, 64);
    a.push({ x, p: p1 });
    const xo = x + 15e-6 + jitter() * 0.1;
    const c = ctrAB++;
    a.push({ x: xo, p: udp('wlan0', 'out', A_WAN, B_WAN, 51821, 51822, wgLen(p1.ip!.len), 4, 0, IB, c) });
    const xi = xo + 300e-6 + jitter();
    b.push({ x: xi, p: udp('eth0', 'in', NAT, B_WAN, 51821, 51822, wgLen(p1.ip!.len), 4, 0, IB, c) });
    b.push({ x: xi + 12e-6, p: mk(A_TUN, 64) });
    const p5 = mk(B_LAN, 63);
    p5.iface = 'eth1';
    b.push({ x: xi + 20e-6, p: p5 });
    return xi + 20e-6;
  };
  /** Inner packet from the server to A: B LAN in → B tunnel out → carriers → A tunnel in. */
  const down = (x: number, mk: (dst: string, ttl: number) => Packet): number => {
    const p6 = mk(B_LAN, 64);
    p6.iface = 'eth1';
    b.push({ x, p: p6 });
    const p7 = mk(A_TUN, 63);
    b.push({ x: x + 6e-6, p: p7 });
    const xo = x + 20e-6;
    const c = ctrBA++;
    b.push({ x: xo, p: udp('eth0', 'out', B_WAN, NAT, 51822, 51821, wgLen(p7.ip!.len), 4, 0, IA, c) });
    const xi = xo + 320e-6 + jitter();
    a.push({ x: xi, p: udp('wlan0', 'in', B_WAN, A_WAN, 51822, 51821, wgLen(p7.ip!.len), 4, 0, IA, c) });
    a.push({ x: xi + 15e-6, p: mk(A_TUN, 63) });
    return xi + 15e-6;
  };
  const ISN_C = 1045811890, ISN_S = 2143248836;
  let tsA = 100000, tsS = 500000;
  const synOut = (src: string, ttl: number): Packet => tcp(src === B_LAN ? 'eth1' : 'wg0', 'out', src, SRV, 45734, 80, 'S', ISN_C, 0, 0, tsA, 0, ttl);
  // Handshake: A1, A2 → B1, B2 → A3.
  let x = 0.001;
  a.push({ x, p: tcp('wg0', 'out', A_TUN, SRV, 45734, 80, 'S', ISN_C, 0, 0, tsA, 0, 64) });
  a.push({ x: x + 300e-6, p: udp('wlan0', 'out', A_WAN, B_WAN, 51821, 51822, 148, 1, IA, 0, 0) });
  b.push({ x: x + 650e-6, p: udp('eth0', 'in', NAT, B_WAN, 51821, 51822, 148, 1, IA, 0, 0) });
  b.push({ x: x + 1200e-6, p: udp('eth0', 'out', B_WAN, NAT, 51822, 51821, 92, 2, IB, IA, 0) });
  a.push({ x: x + 1600e-6, p: udp('wlan0', 'in', B_WAN, A_WAN, 51822, 51821, 92, 2, IB, IA, 0) });
  x += 1700e-6;
  // The queued SYN (A4 → B3 → B4 → B5); `up` re-creates A1 so drop the duplicate it pushes on A.
  x = up(x, synOut);
  a.splice(a.findIndex((e, i) => i > 0 && e.p.tcp?.flags === 'S'), 1);
  x += 100e-6;
  x = down(x, (dst, ttl) => tcp(dst === B_LAN ? 'eth1' : 'wg0', 'in', SRV, dst, 80, 45734, 'S.', ISN_S, ISN_C + 1, 0, tsS, tsA, ttl));
  let sseq = ISN_S + 1;
  const cseq = ISN_C + 1;
  for (let r = 0; r < o.rounds; r++) {
    x = Math.max(x, 0.01 + r * o.period);
    tsS++; tsA++;
    for (let k = 0; k < 2; k++) {
      const s = sseq;
      const ts = tsS;
      down(x + k * 30e-6, (dst, ttl) => tcp(dst === B_LAN ? 'eth1' : 'wg0', 'in', SRV, dst, 80, 45734, '.', s, cseq, 1448, ts, tsA, ttl));
      sseq += 1448;
    }
    const ack = sseq;
    const tsa = tsA;
    up(x + 500e-6, (src, ttl) => tcp(src === B_LAN ? 'eth1' : 'wg0', 'out', src, SRV, 45734, 80, '.', cseq, ack, 0, tsa, tsS, ttl));
  }
  // Directions by role on each interface (the builders above cannot tell A's wg0 from B's).
  for (const e of a) if (e.p.iface === 'wg0') e.p.dir = e.p.src === A_TUN ? 'out' : 'in';
  for (const e of b) if (e.p.iface === 'wg0') e.p.dir = e.p.src === A_TUN ? 'in' : 'out';
  for (const e of b) if (e.p.iface === 'eth1') e.p.dir = e.p.src === B_LAN ? 'out' : 'in';
  const finish = (list: Array<{ x: number; p: Packet }>, clock: (x: number) => number): Packet[] => {
    list.sort((p, q) => p.x - q.x);
    return list.map((e, i) => {
      const t = clock(e.x);
      const s = Math.floor(t);
      let ns = Math.round((t - s) * 1e9);
      let sec = T0 + s;
      if (ns >= 1e9) { ns -= 1e9; sec++; }
      e.p.frame = i + 1; e.p.tsSec = sec; e.p.tsNsec = ns;
      return e.p;
    });
  };
  return { a: finish(a, (v) => v), b: finish(b, bClock) };
}
