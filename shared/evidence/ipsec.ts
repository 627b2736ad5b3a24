// strongSwan and kernel IPsec state as facts: `swanctl --list-conns` / `--list-sas`, `ipsec
// statusall`, `ip xfrm policy` / `ip xfrm state` (keys never kept), and charon/pluto/Openswan log
// lines classified by what went wrong; plus the two checks: do the selectors cover the test flow,
// and do the proposals of both sides intersect.
import { cleanLines, type ParseProblem } from './text.ts';
import { parsePrefix, prefixContains, type Prefix } from './net.ts';

export interface IpsecChild {
  name: string;
  localTs: Prefix[];
  remoteTs: Prefix[];
  state: string | null;
  mode: string | null;
  proposal: string | null;
  spiIn: string | null;
  spiOut: string | null;
  packetsIn: number | null;
  packetsOut: number | null;
  line: number;
  /** The child's header line as printed, followed by its selector lines (" | local … | remote …"). */
  text: string;
}
export interface IpsecConn {
  name: string;
  /** "conn" for configured connections, "sa" for established/connecting SAs. */
  kind: 'conn' | 'sa';
  state: string | null;
  local: string | null;
  remote: string | null;
  localId: string | null;
  remoteId: string | null;
  auth: string[];
  proposal: string | null;
  children: IpsecChild[];
  line: number;
  file?: string;
}

const tsList = (s: string): Prefix[] => s.trim().split(/[\s,]+/).map((x) => parsePrefix(x.replace(/\[.*\]$/, '').replace(/^dynamic$/, ''))).filter((p): p is Prefix => p !== null);

/** `swanctl --list-conns`, `swanctl --list-sas`, or both pasted together. */
export function parseSwanctl(text: string): { facts: IpsecConn[]; problems: ParseProblem[] } {
  const { lines, problems } = cleanLines(text);
  const out: IpsecConn[] = [];
  let conn: IpsecConn | null = null, child: IpsecChild | null = null;
  let authSide: 'local' | 'remote' | null = null;
  for (const { n, text: raw } of lines) {
    const indent = /^\s*/.exec(raw)![0].length;
    const t = raw.trim();
    if (indent === 0) {
      const sa = /^([^:\s]+):\s+#(\d+),\s+(\w+),\s+(IKEv\d)/.exec(t);
      const cf = /^([^:\s]+):\s+(IKEv\d|IKEv1\/2)/.exec(t);
      if (sa || cf) {
        conn = { name: (sa ?? cf)![1]!, kind: sa ? 'sa' : 'conn', state: sa ? sa[3]! : null, local: null, remote: null, localId: null, remoteId: null, auth: [], proposal: null, children: [], line: n };
        out.push(conn); child = null; authSide = null;
        continue;
      }
      problems.push({ line: n, message: 'not a line of "swanctl --list-conns/--list-sas"' });
      continue;
    }
    if (!conn) { problems.push({ line: n, message: 'indented line before any connection' }); continue; }
    const ch = /^([^:\s]+):\s+(?:#\d+,\s+reqid\s+\d+,\s+(\w+),\s+([\w-]+)(?:,\s+(.*))?|(TUNNEL|TRANSPORT|PASS|DROP)\b)/.exec(t);
    if (ch && indent >= 2 && !/^(local|remote|id|auth|certs|cacerts)\b/.test(t)) {
      child = { name: ch[1]!, localTs: [], remoteTs: [], state: ch[2] ?? null, mode: ch[3] ?? ch[5] ?? null, proposal: ch[4] ?? null, spiIn: null, spiOut: null, packetsIn: null, packetsOut: null, line: n, text: t };
      conn.children.push(child);
      continue;
    }
    let m = /^(local|remote)(?:\s+(.+?))?\s+authentication:$/.exec(t);
    if (m) { authSide = m[1] as 'local' | 'remote'; conn.auth.push(`${m[1]} ${m[2] ?? ''}`.trim()); continue; }
    m = /^id:\s+(.*)$/.exec(t);
    if (m && authSide && !child) { if (authSide === 'local') conn.localId = m[1]!; else conn.remoteId = m[1]!; continue; }
    m = /^(local|remote):?\s+(.*)$/.exec(t);
    if (m) {
      if (child) { child[m[1] === 'local' ? 'localTs' : 'remoteTs'] = tsList(m[2]!); child.text += ` | ${t}`; continue; }
      const sa = /^'([^']*)'\s+@\s+(\S+)/.exec(m[2]!);
      if (sa) {
        if (m[1] === 'local') { conn.localId = sa[1]!; conn.local = sa[2]!; } else { conn.remoteId = sa[1]!; conn.remote = sa[2]!; }
      } else if (m[1] === 'local') conn.local = m[2]!; else conn.remote = m[2]!;
      continue;
    }
    m = /^(in|out)\s+([0-9a-f]{8})(?:_i|_o)?,\s*\d+\s+bytes,\s*(\d+)\s+packets/.exec(t);
    if (m && child) {
      if (m[1] === 'in') { child.spiIn = m[2]!; child.packetsIn = Number(m[3]); } else { child.spiOut = m[2]!; child.packetsOut = Number(m[3]); }
      continue;
    }
    if (/^[A-Z0-9_]+(?:-\d+)?(?:\/[A-Z0-9_-]+)+$/.test(t) && !child) { conn.proposal = t; continue; }
  }
  return { facts: out, problems };
}

/** `ipsec statusall` / `ipsec status` (stroke): connections, their child selectors and SA states. */
export function parseIpsecStatus(text: string): { facts: IpsecConn[]; problems: ParseProblem[] } {
  const { lines, problems } = cleanLines(text);
  const out: IpsecConn[] = [];
  const get = (name: string, kind: 'conn' | 'sa', n: number): IpsecConn => {
    let c = out.find((x) => x.name === name && x.kind === kind);
    if (!c) { c = { name, kind, state: null, local: null, remote: null, localId: null, remoteId: null, auth: [], proposal: null, children: [], line: n }; out.push(c); }
    return c;
  };
  let section: 'conn' | 'sa' | 'other' = 'other';
  for (const { n, text: raw } of lines) {
    const t = raw.trim();
    if (/^Connections:/.test(t)) { section = 'conn'; continue; }
    if (/^(?:Security Associations|Shunted Connections|Routed Connections)/.test(t)) { section = /^Security/.test(t) ? 'sa' : 'other'; continue; }
    if (/^Status of IKE|^\s*uptime|^\s*malloc|^\s*worker|^\s*loaded plugins|^\s*Listening IP|^Virtual IP/.test(raw)) { section = 'other'; continue; }
    const m = /^([^\s:[{]+)(?:\[(\d+)\]|\{(\d+)\})?:\s+(.*)$/.exec(t);
    if (!m) continue;
    const [, name, , childNo, rest] = m as unknown as [string, string, string | undefined, string | undefined, string];
    if (section === 'conn') {
      const c = get(name, 'conn', n);
      let x = /^(\S+)\.\.\.(\S+)\s+(IKEv\S+)/.exec(rest);
      if (x) { c.local = x[1]!; c.remote = x[2]!; continue; }
      x = /^(local|remote):\s+\[([^\]]*)\]\s+uses\s+(.*)$/.exec(rest);
      if (x) { if (x[1] === 'local') c.localId = x[2]!; else c.remoteId = x[2]!; c.auth.push(`${x[1]} ${x[3]}`); continue; }
      x = /^child:\s+(.+?)\s+===\s+(.+?)\s+(TUNNEL|TRANSPORT|PASS|DROP)/.exec(rest);
      if (x) { c.children.push({ name, localTs: tsList(x[1]!), remoteTs: tsList(x[2]!), state: null, mode: x[3]!, proposal: null, spiIn: null, spiOut: null, packetsIn: null, packetsOut: null, line: n, text: t }); continue; }
    } else if (section === 'sa') {
      const c = get(name, 'sa', n);
      let x = /^(ESTABLISHED|CONNECTING|REKEYING|DELETING|CREATED|PASSIVE|DESTROYING)\b.*?(?:,\s+(\S+?)\[([^\]]*)\]\.\.\.(\S+?)\[([^\]]*)\])?$/.exec(rest);
      if (x && childNo === undefined) { c.state = x[1]!; if (x[2]) { c.local = x[2]; c.localId = x[3]!; c.remote = x[4]!; c.remoteId = x[5]!; } continue; }
      x = /^(?:IKE proposal:\s+)(.*)$/.exec(rest);
      if (x) { c.proposal = x[1]!; continue; }
      if (childNo !== undefined) {
        let ch = c.children.find((k) => k.name === `${name}{${childNo}}`);
        if (!ch) { ch = { name: `${name}{${childNo}}`, localTs: [], remoteTs: [], state: null, mode: null, proposal: null, spiIn: null, spiOut: null, packetsIn: null, packetsOut: null, line: n, text: t }; c.children.push(ch); }
        x = /^(INSTALLED|ROUTED|REKEYING|DELETING|CREATED|INSTALLING)\b,\s+(\w+)/.exec(rest);
        if (x) {
          ch.state = x[1]!; ch.mode = x[2]!;
          const spi = /SPIs:\s+([0-9a-f]+)_i\s+([0-9a-f]+)_o/.exec(rest);
          if (spi) { ch.spiIn = spi[1]!; ch.spiOut = spi[2]!; }
          continue;
        }
        x = /^(.+?)\s+===\s+(.+)$/.exec(rest);
        if (x) { ch.localTs = tsList(x[1]!); ch.remoteTs = tsList(x[2]!); ch.text += ` | ${t}`; continue; }
        x = /^([A-Z0-9_/-]+),\s+(\d+)\s+bytes_i.*?,\s+(\d+)\s+bytes_o/.exec(rest);
        if (x) { ch.proposal = x[1]!; continue; }
      }
    }
  }
  if (out.length === 0) problems.push({ line: lines[0]?.n ?? 1, message: 'no connection found in "ipsec statusall" text' });
  return { facts: out, problems };
}

export interface XfrmPolicy {
  src: Prefix; dst: Prefix;
  proto: string | null; sport: number | null; dport: number | null;
  dir: 'in' | 'out' | 'fwd' | null;
  action: 'allow' | 'block';
  priority: number | null;
  tmpl: Array<{ src: string | null; dst: string | null; proto: string | null; mode: string | null; reqid: number | null }>;
  line: number;
  text: string;
  file?: string;
}
export interface XfrmState {
  src: string; dst: string; proto: string | null; spi: string | null; reqid: number | null; mode: string | null;
  algorithms: string[]; encap: string | null; sel: { src: Prefix | null; dst: Prefix | null };
  line: number;
}

/** Blocks that start with "src A dst B" at the left margin (both xfrm listings). */
function xfrmBlocks(text: string): { blocks: Array<{ n: number; head: string; body: string[] }>; problems: ParseProblem[] } {
  const { lines, problems } = cleanLines(text);
  const blocks: Array<{ n: number; head: string; body: string[] }> = [];
  for (const { n, text: t } of lines) {
    if (/^src\s/.test(t)) blocks.push({ n, head: t.trim(), body: [] });
    else if (blocks.length > 0 && /^\s/.test(t)) blocks[blocks.length - 1]!.body.push(t.trim());
    else problems.push({ line: n, message: 'not a line of "ip xfrm" output' });
  }
  return { blocks, problems };
}

const kv = (s: string, k: string): string | null => new RegExp(`(?:^|\\s)${k}\\s+(\\S+)`).exec(s)?.[1] ?? null;

export function parseXfrmPolicy(text: string): { facts: XfrmPolicy[]; problems: ParseProblem[] } {
  const { blocks, problems } = xfrmBlocks(text);
  const out: XfrmPolicy[] = [];
  for (const b of blocks) {
    const src = parsePrefix(kv(b.head, 'src') ?? ''), dst = parsePrefix(kv(b.head, 'dst') ?? '');
    if (!src || !dst) { problems.push({ line: b.n, message: 'policy without a readable src/dst selector' }); continue; }
    const all = [b.head, ...b.body].join(' ');
    const dirLine = b.body.find((l) => /^dir\s/.test(l)) ?? '';
    const dir = kv(dirLine, 'dir');
    if (/^socket\s/.test(b.body[0] ?? '')) continue;
    const tmpl: XfrmPolicy['tmpl'] = [];
    for (let i = 0; i < b.body.length; i++) {
      const l = b.body[i]!;
      if (!/^tmpl\s/.test(l)) continue;
      const next = b.body[i + 1] ?? '';
      tmpl.push({ src: kv(l, 'src'), dst: kv(l, 'dst'), proto: kv(next, 'proto'), mode: kv(next, 'mode'), reqid: Number(kv(next, 'reqid') ?? NaN) || null });
    }
    const sp = kv(b.head, 'sport'), dp = kv(b.head, 'dport');
    out.push({
      src, dst, proto: kv(b.head, 'proto'), sport: sp ? Number(sp) : null, dport: dp ? Number(dp) : null,
      dir: dir === 'in' || dir === 'out' || dir === 'fwd' ? dir : null, action: /action block/.test(all) ? 'block' : 'allow',
      priority: kv(dirLine, 'priority') !== null ? Number(kv(dirLine, 'priority')) : null, tmpl, line: b.n,
      text: [b.head, ...b.body].join(' | '),
    });
  }
  return { facts: out, problems };
}

export function parseXfrmState(text: string): { facts: XfrmState[]; problems: ParseProblem[] } {
  const { blocks, problems } = xfrmBlocks(text);
  const out: XfrmState[] = [];
  for (const b of blocks) {
    const first = b.body.find((l) => /^proto\s/.test(l)) ?? '';
    const algorithms: string[] = [];
    let encap: string | null = null, sel: XfrmState['sel'] = { src: null, dst: null };
    for (const l of b.body) {
      // Only the algorithm name: the key that follows it is a secret and is never kept.
      const a = /^(aead|enc|auth|auth-trunc|comp)\s+(\S+)/.exec(l);
      if (a) algorithms.push(`${a[1]} ${a[2]}`);
      if (/^encap\s/.test(l)) encap = `${kv(l, 'type') ?? '?'} ${kv(l, 'sport') ?? '?'}→${kv(l, 'dport') ?? '?'}`;
      if (/^sel\s/.test(l)) sel = { src: parsePrefix(kv(l, 'src') ?? ''), dst: parsePrefix(kv(l, 'dst') ?? '') };
    }
    out.push({ src: kv(b.head, 'src') ?? '', dst: kv(b.head, 'dst') ?? '', proto: kv(first, 'proto'), spi: kv(first, 'spi'), reqid: Number(kv(first, 'reqid') ?? NaN) || null, mode: kv(first, 'mode'), algorithms, encap, sel, line: b.n });
  }
  return { facts: out, problems };
}

export type LogKind = 'auth' | 'id' | 'proposal' | 'ts' | 'retransmit' | 'established' | 'proposals-listed';
export interface LogEvent {
  kind: LogKind;
  line: number;
  text: string;
  /** For "received/configured proposals:" lines. */
  proposals?: { side: 'received' | 'configured'; list: string[] };
  file?: string;
}

const LOG_PATTERNS: Array<[LogKind, RegExp]> = [
  ['auth', /AUTHENTICATION_FAILED|AUTH_FAILED|MAC mismatched|pre-shared key.*(?:failed|mismatch)|authentication of '[^']*' with [\w -]+ failed|peer authentication failed|mismatch of preshared secrets|Possible authentication failure|signature check .*failed|IKE SA authentication request rejected|authentication failed/i],
  ['id', /no matching peer config|INVALID_ID_INFORMATION|no suitable connection for peer|we require (?:IKEv\d )?peer to have ID|peer ID '[^']*' (?:mismatch|unacceptable)|looking for peer configs matching.*found none|no connection (?:has been )?authorized|constraint check failed/i],
  ['proposal', /NO_PROPOSAL_CHOSEN|N\(NO_PROP\)|no acceptable proposal|received proposals unacceptable|no local proposal matches|proposal mismatch|no acceptable (?:Oakley|IPsec) Transform/i],
  ['ts', /TS_UNACCEPTABLE|N\(TS_UNACCEPT\)|traffic selectors? .*(?:unacceptable|inacceptable)|no acceptable traffic selectors|no matching CHILD_SA config|unable to install (?:inbound|outbound )?(?:IPsec )?polic/i],
  ['retransmit', /retransmit \d+ of request|giving up after \d+ retransmits|peer not responding|STATE_MAIN_I1: retransmission|max number of retransmissions/i],
  ['established', /IKE_SA \S+ established|CHILD_SA \S+ established|IPsec SA established|ISAKMP SA established|established IKE SA|established Child SA/i],
];

/** charon / charon-systemd / pluto / Openswan log lines: every line that says something about the tunnel's setup. */
export function parseIpsecLog(text: string): { facts: LogEvent[]; problems: ParseProblem[] } {
  const { lines, problems } = cleanLines(text);
  const out: LogEvent[] = [];
  for (const { n, text: t } of lines) {
    const p = /(received|configured) proposals:\s*(.*)$/.exec(t);
    if (p) { out.push({ kind: 'proposals-listed', line: n, text: t.trim(), proposals: { side: p[1] as 'received' | 'configured', list: p[2]!.split(',').map((x) => x.trim()).filter((x) => x !== '') } }); continue; }
    for (const [kind, re] of LOG_PATTERNS) {
      if (re.test(t)) { out.push({ kind, line: n, text: t.trim() }); break; }
    }
  }
  return { facts: out, problems };
}

// ---------------------------------------------------------------------------------------------

const TRANSFORM_TYPE = (alg: string): string => {
  const a = alg.toUpperCase();
  if (/^(?:IKE|ESP|AH):/.test(a)) return 'PROTO';
  if (/^PRF_/.test(a)) return 'PRF';
  if (/^(?:HMAC_|AES_XCBC|AES_CMAC|AES_GMAC|CAMELLIA_XCBC|UNDEFINED)/.test(a)) return 'INTEG';
  if (/^(?:MODP_|ECP_|CURVE_|ECP\d|X25519|X448|MLKEM|KE\d_|NO_DH)/.test(a) || /^(?:CURVE25519|CURVE448)$/.test(a)) return 'DH';
  if (/^(?:NO_EXT_SEQ|EXT_SEQ)$/.test(a)) return 'ESN';
  return 'ENCR';
};

/** "IKE:AES_CBC_128/HMAC_SHA2_256_128/PRF_HMAC_SHA2_256/MODP_2048" → transform sets by type. */
export function proposalTransforms(p: string): { proto: string; byType: Map<string, Set<string>> } {
  const m = /^(IKE|ESP|AH):(.*)$/i.exec(p.trim());
  const proto = m ? m[1]!.toUpperCase() : '';
  const byType = new Map<string, Set<string>>();
  for (const alg of (m ? m[2]! : p).split('/')) {
    const a = alg.trim().toUpperCase();
    if (a === '') continue;
    const t = TRANSFORM_TYPE(a);
    if (!byType.has(t)) byType.set(t, new Set());
    byType.get(t)!.add(a);
  }
  return { proto, byType };
}

/** Two proposal lists share at least one proposal in which every transform type has a common algorithm. */
export function proposalsIntersect(a: readonly string[], b: readonly string[]): boolean {
  for (const x of a) {
    const px = proposalTransforms(x);
    for (const y of b) {
      const py = proposalTransforms(y);
      if (px.proto && py.proto && px.proto !== py.proto) continue;
      const types = new Set([...px.byType.keys(), ...py.byType.keys()]);
      let ok = true;
      for (const t of types) {
        const sx = px.byType.get(t), sy = py.byType.get(t);
        // A type one side leaves out (no INTEG with an AEAD cipher, ESN defaulting) does not block.
        if (!sx || !sy) { if ((t === 'ESN' || t === 'INTEG' || t === 'DH') && (!sx || !sy)) continue; ok = false; break; }
        if (![...sx].some((v) => sy.has(v))) { ok = false; break; }
      }
      if (ok) return true;
    }
  }
  return false;
}

/** The last received/configured proposal pair in a log that does not intersect, with its lines. */
export function proposalMismatch(events: readonly LogEvent[]): { received: LogEvent; configured: LogEvent } | null {
  let found: { received: LogEvent; configured: LogEvent } | null = null;
  for (let i = 0; i < events.length; i++) {
    const e = events[i]!;
    if (e.proposals?.side !== 'received') continue;
    const c = events.slice(i + 1, i + 4).find((x) => x.proposals?.side === 'configured');
    if (c && !proposalsIntersect(e.proposals.list, c.proposals!.list)) found = { received: e, configured: c };
  }
  return found;
}

export interface TsCoverage {
  covered: boolean;
  /** The child or policy that covers the flow. */
  by: string | null;
  /** What exists (for the finding when nothing covers). */
  candidates: string[];
}

/**
 * Is the flow src → dst inside a child SA's (or an outbound/inbound xfrm policy's) selectors?
 * `side` "local-to-remote": src in local_ts, dst in remote_ts (the initiating gateway's view);
 * "remote-to-local" for the other end.
 */
export function selectorsCover(
  conns: readonly IpsecConn[], policies: readonly XfrmPolicy[], src: string, dst: string, side: 'local-to-remote' | 'remote-to-local',
): TsCoverage {
  const candidates: string[] = [];
  for (const c of conns) {
    for (const ch of c.children) {
      if (ch.localTs.length === 0 && ch.remoteTs.length === 0) continue;
      const [mine, theirs] = side === 'local-to-remote' ? [src, dst] : [dst, src];
      const desc = `${c.name}/${ch.name}: ${ch.localTs.map((p) => p.text).join(' ')} === ${ch.remoteTs.map((p) => p.text).join(' ')}`;
      candidates.push(desc);
      if (ch.localTs.some((p) => prefixContains(p, mine)) && ch.remoteTs.some((p) => prefixContains(p, theirs))) return { covered: true, by: desc, candidates };
    }
  }
  const dir = side === 'local-to-remote' ? 'out' : 'in';
  for (const p of policies) {
    if (p.dir !== dir || p.action === 'block' || p.tmpl.length === 0) continue;
    const desc = `xfrm policy ${p.src.text} → ${p.dst.text} dir ${p.dir}`;
    candidates.push(desc);
    if (prefixContains(p.src, src) && prefixContains(p.dst, dst)) return { covered: true, by: desc, candidates };
  }
  return { covered: false, by: null, candidates };
}
