// Addresses and prefixes of both families as bigints, enough for longest-prefix and set matching.

export type Family = 4 | 6;

export interface Prefix {
  family: Family;
  /** Network address (host bits cleared) as fixed-width hex, so facts stay plain JSON. */
  addr: string;
  len: number;
  /** As written ("10.0.0.0/24", "default"). */
  text: string;
}

function parseV4(s: string): bigint | null {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s);
  if (!m) return null;
  let v = 0n;
  for (let i = 1; i <= 4; i++) {
    const n = Number(m[i]);
    if (n > 255) return null;
    v = (v << 8n) | BigInt(n);
  }
  return v;
}

function parseV6(s: string): bigint | null {
  if (s.length > 45 || !/^[0-9a-fA-F:.]+$/.test(s) || !s.includes(':')) return null;
  let tail: bigint | null = null;
  let body = s;
  // An embedded IPv4 tail (::ffff:1.2.3.4) fills the last 32 bits.
  const dot = s.lastIndexOf(':');
  if (s.slice(dot + 1).includes('.')) {
    tail = parseV4(s.slice(dot + 1));
    if (tail === null) return null;
    body = s.slice(0, dot + 1) + '0:0';
  }
  const halves = body.split('::');
  if (halves.length > 2) return null;
  const groups = (h: string): string[] => (h === '' ? [] : h.split(':'));
  const head = groups(halves[0]!), rest = halves.length === 2 ? groups(halves[1]!) : [];
  const missing = 8 - head.length - rest.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return null;
  const all = [...head, ...Array<string>(halves.length === 2 ? missing : 0).fill('0'), ...rest];
  let v = 0n;
  for (const g of all) {
    if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return null;
    v = (v << 16n) | BigInt(parseInt(g, 16));
  }
  if (tail !== null) v = (v & ~0xffffffffn) | tail;
  return v;
}

/** An address of either family, or null. A zone ("fe80::1%eth0") is dropped. */
export function parseAddr(s: string): { family: Family; addr: bigint } | null {
  const t = s.replace(/%[^%]*$/, '');
  const v4 = parseV4(t);
  if (v4 !== null) return { family: 4, addr: v4 };
  const v6 = parseV6(t);
  return v6 === null ? null : { family: 6, addr: v6 };
}

const bits = (f: Family): number => (f === 4 ? 32 : 128);
const hex = (f: Family, v: bigint): string => v.toString(16).padStart(f === 4 ? 8 : 32, '0');
const big = (p: Prefix): bigint => BigInt('0x' + p.addr);
const mask = (f: Family, len: number): bigint => {
  const b = BigInt(bits(f));
  return len === 0 ? 0n : ((1n << b) - 1n) ^ ((1n << (b - BigInt(len))) - 1n);
};

/**
 * "10.0.0.0/24", "10.0.0.1" (a host), "fd10::/64", "default"/"all"/"any" (both families' zero
 * prefix: family from `hint`, else 4). A dotted netmask ("/255.255.255.0") is accepted.
 */
export function parsePrefix(s: string, hint?: Family): Prefix | null {
  if (s === 'default' || s === 'all' || s === 'any' || s === '0/0') {
    const f = hint ?? 4;
    return { family: f, addr: hex(f, 0n), len: 0, text: s };
  }
  const slash = s.indexOf('/');
  const a = parseAddr(slash < 0 ? s : s.slice(0, slash));
  if (!a) return null;
  let len = bits(a.family);
  if (slash >= 0) {
    const l = s.slice(slash + 1);
    if (/^\d{1,3}$/.test(l)) len = Number(l);
    else {
      const m = a.family === 4 ? parseV4(l) : null;
      if (m === null) return null;
      len = m.toString(2).replace(/0+$/, '').length;
      if (m !== mask(4, len)) return null;
    }
    if (len > bits(a.family)) return null;
  }
  return { family: a.family, addr: hex(a.family, a.addr & mask(a.family, len)), len, text: s };
}

export function prefixContains(p: Prefix, addr: string | { family: Family; addr: bigint }): boolean {
  const a = typeof addr === 'string' ? parseAddr(addr) : addr;
  if (!a || a.family !== p.family) return false;
  return (a.addr & mask(p.family, p.len)) === big(p);
}

/** p covers all of q. */
export function prefixCovers(p: Prefix, q: Prefix): boolean {
  return p.family === q.family && p.len <= q.len && (big(q) & mask(p.family, p.len)) === big(p);
}

export function familyOf(addr: string): Family | null {
  return parseAddr(addr)?.family ?? null;
}

/** Canonical text of an address (IPv6 compressed), for messages and comparisons. */
export function formatAddr(family: Family, v: bigint): string {
  if (family === 4) return [24n, 16n, 8n, 0n].map((s) => String((v >> s) & 255n)).join('.');
  const g: number[] = [];
  for (let i = 7; i >= 0; i--) g.push(Number((v >> BigInt(i * 16)) & 0xffffn));
  let best = -1, bestLen = 1;
  for (let i = 0; i < 8;) {
    if (g[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) { best = i; bestLen = j - i; }
    i = j;
  }
  const hex = g.map((x) => x.toString(16));
  if (best < 0) return hex.join(':');
  return hex.slice(0, best).join(':') + '::' + hex.slice(best + bestLen).join(':');
}

export function formatPrefix(p: Prefix): string {
  return `${formatAddr(p.family, big(p))}/${p.len}`;
}

/** The smallest "natural" prefix for one host: /32 or /128. */
export function hostPrefix(addr: string): Prefix | null {
  const a = parseAddr(addr);
  return a ? { family: a.family, addr: hex(a.family, a.addr), len: bits(a.family), text: addr } : null;
}
