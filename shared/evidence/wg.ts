// `wg show all dump` (and `wg show all transfer` / `latest-handshakes`) into typed facts, and
// the WireGuard checks that need both ends' dumps.
import { cleanLines, num, type ParseProblem } from './text.ts';
import { parsePrefix, parseAddr, prefixContains, type Prefix } from './net.ts';

export interface WgInterface {
  iface: string;
  publicKey: string;
  listenPort: number | null;
  fwmark: string | null;
  line: number;
}

export interface WgPeer {
  iface: string;
  publicKey: string;
  hasPresharedKey: boolean;
  endpoint: { host: string; port: number } | null;
  allowedIps: Prefix[];
  /** Unix seconds; 0 = never. */
  latestHandshake: number;
  rxBytes: number;
  txBytes: number;
  /** Seconds, or null when off. */
  keepalive: number | null;
  line: number;
}

export interface WgDump {
  interfaces: WgInterface[];
  peers: WgPeer[];
}

export interface WgTransfer {
  rows: Array<{ iface: string | null; publicKey: string; rxBytes: number; txBytes: number; line: number }>;
}

const KEY = /^[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=$/;

export function isWgKey(s: string): boolean {
  return KEY.test(s);
}

/**
 * `wg show all dump`: an interface line (name, private key, public key, port, fwmark) followed by
 * one line per peer (name, public key, preshared key, endpoint, allowed ips, latest handshake,
 * rx, tx, keepalive). `wg show IFACE dump` lacks the name column; both are read. The private and
 * preshared keys are never kept.
 */
export function parseWgDump(text: string): { facts: WgDump; problems: ParseProblem[] } {
  const { lines, problems } = cleanLines(text);
  const facts: WgDump = { interfaces: [], peers: [] };
  let current = '';
  for (const { n, text: t } of lines) {
    let f = t.split('\t');
    if (f.length === 1) f = t.trim().split(/\s+/);
    // Without the interface column (wg show wg0 dump) lines have 4 or 8 fields.
    if (f.length === 4 || f.length === 8) f = [current || 'wg0', ...f];
    if (f.length === 5 && (KEY.test(f[1]!) || f[1] === '(none)') && KEY.test(f[2]!)) {
      current = f[0]!;
      facts.interfaces.push({ iface: f[0]!, publicKey: f[2]!, listenPort: num(f[3]), fwmark: f[4] === 'off' ? null : f[4]!, line: n });
      continue;
    }
    if (f.length === 9 && KEY.test(f[1]!)) {
      const allowed: Prefix[] = [];
      if (f[4] !== '(none)') {
        for (const a of f[4]!.split(',')) {
          const p = parsePrefix(a.trim());
          if (p) allowed.push(p); else problems.push({ line: n, message: `allowed-ips entry "${a}" is not a prefix` });
        }
      }
      let endpoint: WgPeer['endpoint'] = null;
      const em = /^\[?([^\]]+?)\]?:(\d{1,5})$/.exec(f[3]!);
      if (em) endpoint = { host: em[1]!, port: Number(em[2]) };
      const ka = f[8] === 'off' ? null : num(f[8]);
      facts.peers.push({
        iface: f[0]!, publicKey: f[1]!, hasPresharedKey: f[2] !== '(none)', endpoint, allowedIps: allowed,
        latestHandshake: num(f[5]) ?? 0, rxBytes: num(f[6]) ?? 0, txBytes: num(f[7]) ?? 0, keepalive: ka === 0 ? null : ka, line: n,
      });
      current = f[0]!;
      continue;
    }
    problems.push({ line: n, message: `not a line of "wg show all dump" (${f.length} fields)` });
  }
  return { facts, problems };
}

/** `wg show all transfer` (iface, key, rx, tx) or `wg show wg0 transfer` (key, rx, tx). */
export function parseWgTransfer(text: string): { facts: WgTransfer; problems: ParseProblem[] } {
  const { lines, problems } = cleanLines(text);
  const rows: WgTransfer['rows'] = [];
  for (const { n, text: t } of lines) {
    const f = t.trim().split(/\s+/);
    const iface = f.length === 4 ? f[0]! : null;
    const g = f.length === 4 ? f.slice(1) : f;
    if (g.length === 3 && KEY.test(g[0]!) && num(g[1]) !== null && num(g[2]) !== null) {
      rows.push({ iface, publicKey: g[0]!, rxBytes: num(g[1])!, txBytes: num(g[2])!, line: n });
    } else problems.push({ line: n, message: 'not a line of "wg show all transfer"' });
  }
  return { facts: { rows }, problems };
}

/** How much each peer received and sent between two transfer readings (or two dumps). */
export function wgTransferDelta(
  before: WgTransfer | WgDump, after: WgTransfer | WgDump,
): Array<{ publicKey: string; iface: string | null; rx: number; tx: number }> {
  const rowsOf = (x: WgTransfer | WgDump) => ('rows' in x ? x.rows : x.peers.map((p) => ({ iface: p.iface, publicKey: p.publicKey, rxBytes: p.rxBytes, txBytes: p.txBytes })));
  const b = new Map(rowsOf(before).map((r) => [`${r.iface ?? ''} ${r.publicKey}`, r]));
  return rowsOf(after).map((r) => {
    const o = b.get(`${r.iface ?? ''} ${r.publicKey}`) ?? { rxBytes: 0, txBytes: 0 };
    return { publicKey: r.publicKey, iface: r.iface, rx: r.rxBytes - o.rxBytes, tx: r.txBytes - o.txBytes };
  });
}

/** A peer quoted for a finding, without any secret: what `wg show` says about it. */
export function quotePeer(p: WgPeer): string {
  const ep = p.endpoint ? `${p.endpoint.host.includes(':') ? `[${p.endpoint.host}]` : p.endpoint.host}:${p.endpoint.port}` : '(none)';
  return `${p.iface} peer ${p.publicKey} endpoint ${ep} allowed-ips ${p.allowedIps.map((a) => a.text).join(',') || '(none)'} keepalive ${p.keepalive ?? 'off'}`;
}

/** The peer whose AllowedIPs route `addr` (longest prefix wins, as in WireGuard's cryptokey routing). */
export function peerForAddress(d: WgDump, addr: string, iface?: string): { peer: WgPeer; prefix: Prefix } | null {
  let best: { peer: WgPeer; prefix: Prefix } | null = null;
  for (const p of d.peers) {
    if (iface !== undefined && p.iface !== iface) continue;
    for (const a of p.allowedIps) {
      if (prefixContains(a, addr) && (best === null || a.len > best.prefix.len)) best = { peer: p, prefix: a };
    }
  }
  return best;
}

export interface WgPairing {
  /** A's interface whose key B knows as a peer (and the reverse), when found. */
  aIface: WgInterface | null;
  bIface: WgInterface | null;
  /** B's peer entry for A, A's peer entry for B. */
  peerOnB: WgPeer | null;
  peerOnA: WgPeer | null;
  problems: string[];
}

/**
 * Do the two dumps pair up? A's public key must be a peer on B and B's public key a peer on A.
 * With one interface and one peer on each side, a key that is not found is named.
 */
export function pairDumps(a: WgDump, b: WgDump): WgPairing {
  const problems: string[] = [];
  let aIface: WgInterface | null = null, bIface: WgInterface | null = null, peerOnA: WgPeer | null = null, peerOnB: WgPeer | null = null;
  for (const ai of a.interfaces) {
    const p = b.peers.find((x) => x.publicKey === ai.publicKey);
    if (p) { aIface = ai; peerOnB = p; }
  }
  for (const bi of b.interfaces) {
    const p = a.peers.find((x) => x.publicKey === bi.publicKey && (aIface === null || x.iface === aIface.iface));
    if (p) { bIface = bi; peerOnA = p; }
  }
  if (!peerOnB && a.interfaces.length > 0) {
    const ai = a.interfaces[0]!;
    problems.push(`B has no peer with A's public key ${ai.publicKey} (${ai.iface}); B's peers: ${b.peers.map((p) => p.publicKey).join(', ') || 'none'}`);
  }
  if (!peerOnA && b.interfaces.length > 0) {
    const bi = b.interfaces[0]!;
    problems.push(`A has no peer with B's public key ${bi.publicKey} (${bi.iface}); A's peers: ${a.peers.map((p) => p.publicKey).join(', ') || 'none'}`);
  }
  return { aIface, bIface, peerOnA, peerOnB, problems };
}

/** A's configured endpoint port for B against B's ListenPort (meaningful when B is not behind a port-changing NAT). */
export function endpointPortMismatch(a: WgDump, b: WgDump): { peer: WgPeer; endpointPort: number; listenPort: number; iface: WgInterface } | null {
  const pair = pairDumps(a, b);
  if (!pair.peerOnA || !pair.bIface || !pair.peerOnA.endpoint || pair.bIface.listenPort === null) return null;
  if (pair.peerOnA.endpoint.port === pair.bIface.listenPort) return null;
  return { peer: pair.peerOnA, endpointPort: pair.peerOnA.endpoint.port, listenPort: pair.bIface.listenPort, iface: pair.bIface };
}

/** Peers with an Endpoint (the side that starts the connection) but no PersistentKeepalive. */
export function peersWithoutKeepalive(d: WgDump): WgPeer[] {
  return d.peers.filter((p) => p.endpoint !== null && p.keepalive === null);
}

/** True when `addr` is one of the peer's AllowedIPs. */
export function peerAllows(p: WgPeer, addr: string): boolean {
  return parseAddr(addr) !== null && p.allowedIps.some((a) => prefixContains(a, addr));
}
