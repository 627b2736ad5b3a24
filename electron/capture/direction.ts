// Packet direction for live captures. cap does not pass libpcap's direction through, but the
// checkpoints (A2 "out", B1 "in" …) depend on it, so it is recovered per link type:
// Ethernet by the interface's own MAC, Linux cooked (SLL) by its packet type, raw IP (tunnels)
// by the interface's own addresses and subnets. Unknown stays 0 rather than a guess.

export type Direction = 0 | 1 | 2; // pcapng epb_flags: 1 inbound, 2 outbound

export interface InterfaceIdentity {
  /** Hardware address, "aa:bb:cc:dd:ee:ff". */
  mac?: string;
  /** Addresses with their netmasks (as libpcap lists them) or prefix lengths (as `ip addr` does). */
  addresses: { addr: string; netmask?: string; prefix?: number }[];
}

interface Net { addr: Uint8Array; mask: Uint8Array }

function parseV4(s: string): Uint8Array | null {
  const p = s.split('.');
  if (p.length !== 4) return null;
  const b = new Uint8Array(4);
  for (let i = 0; i < 4; i++) { const n = Number(p[i]); if (!Number.isInteger(n) || n < 0 || n > 255) return null; b[i] = n; }
  return b;
}

function parseV6(s: string): Uint8Array | null {
  s = s.split('%')[0]!;
  const halves = s.split('::');
  if (halves.length > 2) return null;
  const words = (h: string) => (h === '' ? [] : h.split(':'));
  const head = words(halves[0]!), tail = halves.length === 2 ? words(halves[1]!) : [];
  // An embedded IPv4 tail ("::ffff:1.2.3.4") counts as two words.
  const last = tail.length ? tail : head;
  if (last.length && last[last.length - 1]!.includes('.')) {
    const v4 = parseV4(last.pop()!);
    if (!v4) return null;
    last.push(((v4[0]! << 8) | v4[1]!).toString(16), ((v4[2]! << 8) | v4[3]!).toString(16));
  }
  const fill = halves.length === 2 ? 8 - head.length - tail.length : 0;
  const all = [...head, ...Array(fill).fill('0'), ...tail];
  if (all.length !== 8) return null;
  const b = new Uint8Array(16);
  for (let i = 0; i < 8; i++) {
    const n = parseInt(all[i]!, 16);
    if (!/^[0-9a-f]{1,4}$/i.test(all[i]!) || Number.isNaN(n)) return null;
    b[2 * i] = n >> 8; b[2 * i + 1] = n & 0xff;
  }
  return b;
}

function fromPrefix(bits: number, bytes: number): Uint8Array {
  const m = new Uint8Array(bytes);
  for (let i = 0; i < bytes; i++) m[i] = bits >= (i + 1) * 8 ? 255 : bits > i * 8 ? (0xff << (8 - (bits - i * 8))) & 0xff : 0;
  return m;
}

/** Identity of `name` from `ip -o link` and `ip -o addr` output (the far end of a remote capture). */
export function identityFromIpOutput(text: string, name: string): InterfaceIdentity {
  const id: InterfaceIdentity = { addresses: [] };
  for (const line of text.split('\n')) {
    const link = /^\d+:\s+([^:@\s]+)(?:@\S+)?:\s.*link\/ether\s+([0-9a-f:]{17})/i.exec(line);
    if (link && link[1] === name) id.mac = link[2]!;
    const addr = /^\d+:\s+(\S+)\s+inet6?\s+([0-9a-f.:]+)\/(\d+)/i.exec(line);
    if (addr && addr[1] === name) id.addresses.push({ addr: addr[2]!, prefix: Number(addr[3]) });
  }
  return id;
}

export function parseAddress(s: string): Uint8Array | null { return s.includes(':') ? parseV6(s) : parseV4(s); }

function same(a: Uint8Array, f: Uint8Array, off: number): boolean {
  for (let i = 0; i < a.length; i++) if (a[i] !== f[off + i]) return false;
  return true;
}

function inNet(n: Net, f: Uint8Array, off: number): boolean {
  for (let i = 0; i < n.addr.length; i++) if ((n.addr[i]! & n.mask[i]!) !== (f[off + i]! & n.mask[i]!)) return false;
  return true;
}

/** Raw IP starting at `off`: own source → out, own destination → in, then peer-subnet destination → out, source → in. */
function ipDirection(f: Uint8Array, off: number, own: Net[]): Direction {
  if (f.length <= off) return 0;
  const v = f[off]! >> 4;
  let src: number, dst: number, len: number;
  if (v === 4 && f.length >= off + 20) { src = off + 12; dst = off + 16; len = 4; }
  else if (v === 6 && f.length >= off + 40) { src = off + 8; dst = off + 24; len = 16; }
  else return 0;
  const nets = own.filter((n) => n.addr.length === len);
  if (nets.some((n) => same(n.addr, f, src))) return 2;
  if (nets.some((n) => same(n.addr, f, dst))) return 1;
  if (nets.some((n) => inNet(n, f, dst))) return 2;
  if (nets.some((n) => inNet(n, f, src))) return 1;
  return 0;
}

/** A per-frame direction function for one interface, or null when nothing can be told for this link type. */
export function directionOf(linktype: number, id: InterfaceIdentity): ((frame: Uint8Array) => Direction) | null {
  const own: Net[] = [];
  for (const a of id.addresses) {
    const addr = parseAddress(a.addr);
    if (!addr) continue;
    const mask = (a.netmask && parseAddress(a.netmask)) || fromPrefix(a.prefix ?? addr.length * 8, addr.length);
    if (mask.length === addr.length) own.push({ addr, mask });
  }
  switch (linktype) {
    case 1: { // Ethernet: the source MAC is ours exactly when we sent it
      const mac = id.mac ? Uint8Array.from(id.mac.split(':').map((h) => parseInt(h, 16))) : null;
      if (!mac || mac.length !== 6 || mac.some((x) => Number.isNaN(x))) return null;
      return (f) => (f.length < 12 ? 0 : same(mac, f, 6) ? 2 : 1);
    }
    case 113: // Linux cooked v1: packet type 4 is "sent by us"
      return (f) => (f.length < 2 ? 0 : ((f[0]! << 8) | f[1]!) === 4 ? 2 : 1);
    case 276: // Linux cooked v2: packet type at byte 10
      return (f) => (f.length < 11 ? 0 : f[10] === 4 ? 2 : 1);
    case 101: case 12: case 14: // raw IP (WireGuard and other tunnels)
      return own.length ? (f) => ipDirection(f, 0, own) : null;
    case 0: // BSD loopback/null: 4-byte family header
      return own.length ? (f) => ipDirection(f, 4, own) : null;
    default:
      return null;
  }
}
