// `ip -o addr`, `ip [-o] route [show table all]`, `ip rule` into facts, and a route lookup that
// follows the kernel's order: policy rules by priority, then the longest prefix in the rule's
// table, then the lowest metric (what `ip route get` answers).
import { cleanLines, num, words, type ParseProblem } from './text.ts';
import { parseAddr, parsePrefix, prefixContains, type Family, type Prefix } from './net.ts';

/** `file`: the evidence item a fact came from, when a host's facts were merged from several (set by addEvidence). */
export interface IfAddress { ifindex: number | null; dev: string; family: Family; addr: string; prefix: Prefix; line: number; file?: string }

export type RouteType = 'unicast' | 'local' | 'broadcast' | 'blackhole' | 'unreachable' | 'prohibit' | 'throw' | 'multicast' | 'anycast' | 'nat';
export interface Route {
  type: RouteType;
  dst: Prefix;
  table: string;
  dev: string | null;
  via: string | null;
  src: string | null;
  metric: number;
  line: number;
  /** The line as printed (for quoting). */
  text: string;
  file?: string;
}

export interface IpRule {
  pref: number;
  not: boolean;
  from: Prefix | null;
  to: Prefix | null;
  iif: string | null;
  oif: string | null;
  fwmark: { value: number; mask: number } | null;
  ipproto: string | null;
  dport: [number, number] | null;
  sport: [number, number] | null;
  action: 'lookup' | 'blackhole' | 'unreachable' | 'prohibit' | 'goto' | 'nop';
  table: string | null;
  gotoPref: number | null;
  suppressPrefixLength: number | null;
  family: Family | null;
  line: number;
  text: string;
  file?: string;
}

const TABLE_NAMES: Record<string, string> = { '254': 'main', '255': 'local', '253': 'default', '0': 'unspec' };
const tableName = (t: string): string => TABLE_NAMES[t] ?? t;
const ROUTE_TYPES = new Set(['unicast', 'local', 'broadcast', 'blackhole', 'unreachable', 'prohibit', 'throw', 'multicast', 'anycast', 'nat']);

/** The family an echoed command asked for (`ip -6 route`, `ip -4 -o addr`). */
function familyOfCommands(commands: string[]): Family | undefined {
  const c = commands.at(-1);
  if (c === undefined) return undefined;
  if (/(?:^|\s)-6(?:\s|$)|(?:^|\s)-f(?:amily)?\s+inet6/.test(c)) return 6;
  if (/(?:^|\s)-4(?:\s|$)|(?:^|\s)-f(?:amily)?\s+inet(?:\s|$)/.test(c)) return 4;
  return undefined;
}

/** `ip -o addr` (also the multi-line `ip addr`: its "inet"/"inet6" lines are read). */
export function parseIpAddr(text: string): { facts: IfAddress[]; problems: ParseProblem[] } {
  const { lines, problems } = cleanLines(text);
  const out: IfAddress[] = [];
  let dev = '', idx: number | null = null;
  for (const { n, text: t } of lines) {
    const head = /^(\d+):\s+([^\s:@]+)(?:@\S+?)?:?\s+(.*)$/.exec(t);
    let rest = t.trim();
    if (head) { idx = Number(head[1]); dev = head[2]!; rest = head[3]!; }
    const m = /^(inet6?)\s+(\S+)/.exec(rest);
    if (!m) {
      if (!head && !/^(?:link\/|valid_lft|altname|inet)/.test(rest)) problems.push({ line: n, message: 'not a line of "ip -o addr"' });
      continue;
    }
    const [a, len] = m[2]!.split('/');
    const p = parsePrefix(m[2]!);
    const fam: Family = m[1] === 'inet6' ? 6 : 4;
    if (!p || p.family !== fam || a === undefined) { problems.push({ line: n, message: `"${m[2]}" is not an ${m[1]} address` }); continue; }
    void len;
    out.push({ ifindex: idx, dev, family: fam, addr: a, prefix: p, line: n });
  }
  return { facts: out, problems };
}

/**
 * `ip -o route show table all`, `ip route`, `ip -6 route` (one route per line; a continued
 * multipath "nexthop" line is folded into its route, first hop used). Routes without a
 * "table" word are in main.
 */
export function parseIpRoute(text: string): { facts: Route[]; problems: ParseProblem[] } {
  const { lines, problems, commands } = cleanLines(text);
  const cmdFamily = familyOfCommands(commands);
  // `ip route show table 100` omits "table 100" from its lines; `table all` (or 0) lists every table,
  // each line naming its own, so a line without one there is main's.
  const asked = /\btable\s+(\S+)/.exec(commands.at(-1) ?? '')?.[1];
  const cmdTable = asked === 'all' || asked === '0' || asked === 'unspec' ? undefined : asked;
  const out: Route[] = [];
  for (const { n, text: t } of lines) {
    const w = words(t.replace(/\\/g, ' '));
    if (w[0] === 'nexthop' && out.length > 0) {
      const r = out[out.length - 1]!;
      if (r.dev === null) { const i = w.indexOf('dev'); if (i > 0) r.dev = w[i + 1] ?? null; }
      if (r.via === null) { const i = w.indexOf('via'); if (i > 0) r.via = w[i + 1] === 'inet6' || w[i + 1] === 'inet' ? w[i + 2] ?? null : w[i + 1] ?? null; }
      continue;
    }
    if (w[0] === 'cache' || w[0] === 'ipid' || w[0] === 'RTNETLINK') continue;
    let i = 0;
    let type: RouteType = 'unicast';
    if (ROUTE_TYPES.has(w[0]!)) { type = w[0] as RouteType; i = 1; }
    const dstText = w[i];
    if (dstText === undefined) continue;
    const kv = new Map<string, string>();
    for (let j = i + 1; j < w.length; j++) {
      const k = w[j]!;
      if (['onlink', 'linkdown', 'dead', 'pervasive', 'notify', 'offload', 'trap', 'rt_offload', 'rt_trap'].includes(k)) continue;
      let v = w[j + 1];
      if (k === 'via' && (v === 'inet' || v === 'inet6')) { j++; v = w[j + 1]; }
      if (v !== undefined) { kv.set(k, v); j++; }
    }
    const via = kv.get('via') ?? null;
    // A default route's family is not in its first word: the gateway, IPv6's "pref", or the command say it.
    const hint: Family = (via && via.includes(':')) || kv.has('pref') || kv.has('expires') ? 6 : cmdFamily ?? 4;
    const dst = parsePrefix(dstText, hint);
    if (!dst) { problems.push({ line: n, message: `"${dstText}" is not a route destination` }); continue; }
    const metricText = kv.get('metric');
    out.push({
      type, dst, table: tableName(kv.get('table') ?? cmdTable ?? 'main'), dev: kv.get('dev') ?? null, via, src: kv.get('src') ?? null,
      metric: metricText === undefined ? 0 : num(metricText) ?? 0, line: n, text: t.trim(),
    });
  }
  return { facts: out, problems };
}

function portRange(s: string | undefined): [number, number] | null {
  if (s === undefined) return null;
  const m = /^(\d+)(?:-(\d+))?$/.exec(s);
  return m ? [Number(m[1]), Number(m[2] ?? m[1])] : null;
}

/** `ip rule` / `ip -6 rule`: "PREF:\t[not] SELECTORS ACTION". */
export function parseIpRule(text: string): { facts: IpRule[]; problems: ParseProblem[] } {
  const { lines, problems, commands } = cleanLines(text);
  const cmdFamily = familyOfCommands(commands) ?? null;
  const out: IpRule[] = [];
  for (const { n, text: t } of lines) {
    const m = /^(\d+):\s+(.*)$/.exec(t.trim());
    if (!m) { problems.push({ line: n, message: 'not a line of "ip rule" (PRIORITY: SELECTOR ACTION)' }); continue; }
    const w = words(m[2]!);
    const r: IpRule = {
      pref: Number(m[1]), not: false, from: null, to: null, iif: null, oif: null, fwmark: null, ipproto: null, dport: null, sport: null,
      action: 'lookup', table: null, gotoPref: null, suppressPrefixLength: null, family: cmdFamily, line: n, text: t.trim().replace(/\s+/g, ' '),
    };
    let ok = true;
    for (let i = 0; i < w.length; i++) {
      const k = w[i]!, v = w[i + 1];
      switch (k) {
        case 'not': r.not = true; break;
        case 'from': case 'to': {
          if (v !== 'all') {
            const p = parsePrefix(v ?? '');
            if (!p) ok = false; else { r[k] = p; r.family = p.family; }
          }
          i++; break;
        }
        case 'iif': case 'oif': r[k] = v ?? null; i++; break;
        case 'fwmark': {
          const [val, msk] = (v ?? '').split('/');
          const vv = Number(val), mm = msk === undefined ? 0xffffffff : Number(msk);
          if (!Number.isFinite(vv) || !Number.isFinite(mm)) ok = false; else r.fwmark = { value: vv, mask: mm };
          i++; break;
        }
        case 'ipproto': r.ipproto = v ?? null; i++; break;
        case 'dport': r.dport = portRange(v); i++; break;
        case 'sport': r.sport = portRange(v); i++; break;
        case 'lookup': case 'table': r.table = tableName(v ?? ''); i++; break;
        case 'goto': r.action = 'goto'; r.gotoPref = num(v); i++; break;
        case 'suppress_prefixlength': r.suppressPrefixLength = num(v); i++; break;
        case 'blackhole': case 'unreachable': case 'prohibit': case 'nop': r.action = k; break;
        case '[detached]': case '[l3mdev-table]': case 'l3mdev': break;
        // Selectors we do not evaluate (tos, uidrange, realms, priority words) are skipped with their value.
        case 'tos': case 'dsfield': case 'uidrange': case 'realms': case 'pref': case 'priority': case 'protocol': case 'proto': case 'suppress_ifgroup': i++; break;
        default: ok = false;
      }
    }
    if (!ok) problems.push({ line: n, message: `cannot read "ip rule" line: ${m[2]}` });
    out.push(r);
  }
  return { facts: out, problems };
}

/** The default rules of a host that printed none. */
export function defaultRules(): IpRule[] {
  const base = { not: false, from: null, to: null, iif: null, oif: null, fwmark: null, ipproto: null, dport: null, sport: null, action: 'lookup' as const, gotoPref: null, suppressPrefixLength: null, family: null, line: 0 };
  return [
    { ...base, pref: 0, table: 'local', text: '0: from all lookup local' },
    { ...base, pref: 32766, table: 'main', text: '32766: from all lookup main' },
    { ...base, pref: 32767, table: 'default', text: '32767: from all lookup default' },
  ];
}

export interface RouteQuery {
  dst: string;
  src?: string;
  /** Incoming interface of a forwarded packet; absent (or "lo") for one the host sends itself. */
  iif?: string;
  oif?: string;
  mark?: number;
  proto?: string;
  sport?: number;
  dport?: number;
}

export interface RouteDecision {
  outcome: 'route' | 'local' | 'blackhole' | 'unreachable' | 'prohibit' | 'no-route';
  route: Route | null;
  rule: IpRule | null;
  table: string | null;
  /** One line per rule or table consulted, for the finding's detail. */
  steps: string[];
}

const PROTO_NUM: Record<string, string> = { '6': 'tcp', '17': 'udp', '1': 'icmp', '58': 'ipv6-icmp' };

function ruleMatches(r: IpRule, q: RouteQuery, fam: Family): boolean {
  if (r.family !== null && r.family !== fam) return false;
  let m = true;
  if (r.from && !(q.src !== undefined && prefixContains(r.from, q.src))) m = false;
  if (r.to && !prefixContains(r.to, q.dst)) m = false;
  if (r.iif !== null && r.iif !== (q.iif ?? 'lo')) m = false;
  if (r.oif !== null && r.oif !== q.oif) m = false;
  if (r.fwmark && (((q.mark ?? 0) & r.fwmark.mask) >>> 0) !== ((r.fwmark.value & r.fwmark.mask) >>> 0)) m = false;
  if (r.ipproto !== null && (PROTO_NUM[r.ipproto] ?? r.ipproto) !== q.proto) m = false;
  if (r.dport && !(q.dport !== undefined && q.dport >= r.dport[0] && q.dport <= r.dport[1])) m = false;
  if (r.sport && !(q.sport !== undefined && q.sport >= r.sport[0] && q.sport <= r.sport[1])) m = false;
  return r.not ? !m : m;
}

/** Longest prefix, then lowest metric, among `table`'s routes for the destination. */
export function lookupTable(routes: readonly Route[], table: string, dst: string, oif?: string): Route | null {
  const a = parseAddr(dst);
  if (!a) return null;
  let best: Route | null = null;
  for (const r of routes) {
    if (r.table !== table || r.dst.family !== a.family || !prefixContains(r.dst, a)) continue;
    if (r.type === 'broadcast' && r.dst.len !== (a.family === 4 ? 32 : 128)) continue;
    if (oif !== undefined && r.dev !== null && r.dev !== oif) continue;
    if (best === null || r.dst.len > best.dst.len || (r.dst.len === best.dst.len && r.metric < best.metric)) best = r;
  }
  return best;
}

/** What `ip route get DST [from SRC] [iif IIF] [mark M]` would answer on the captured tables. */
export function routeLookup(routes: readonly Route[], rules: readonly IpRule[] | null, q: RouteQuery): RouteDecision {
  const a = parseAddr(q.dst);
  const steps: string[] = [];
  if (!a) return { outcome: 'no-route', route: null, rule: null, table: null, steps: [`"${q.dst}" is not an address`] };
  const rs = [...(rules && rules.length > 0 ? rules : defaultRules())].sort((x, y) => x.pref - y.pref);
  let minPref = -1;
  for (const r of rs) {
    if (r.pref < minPref) continue;
    if (!ruleMatches(r, q, a.family)) continue;
    switch (r.action) {
      case 'nop': continue;
      case 'goto': steps.push(`rule ${r.pref} goto ${r.gotoPref}`); minPref = r.gotoPref ?? Infinity; continue;
      case 'blackhole': case 'unreachable': case 'prohibit':
        steps.push(`rule ${r.pref}: ${r.action}`);
        return { outcome: r.action, route: null, rule: r, table: null, steps };
      default: break;
    }
    const table = r.table ?? 'main';
    const hit = lookupTable(routes, table, q.dst, q.oif);
    if (!hit) { steps.push(`rule ${r.pref}: table ${table} has no route to ${q.dst}`); continue; }
    if (r.suppressPrefixLength !== null && hit.dst.len <= r.suppressPrefixLength) {
      steps.push(`rule ${r.pref}: table ${table} route ${hit.dst.text} suppressed (prefix length ≤ ${r.suppressPrefixLength})`);
      continue;
    }
    if (hit.type === 'throw') { steps.push(`rule ${r.pref}: table ${table} throws ${hit.dst.text}`); continue; }
    steps.push(`rule ${r.pref}: table ${table} → ${hit.text}`);
    const outcome = hit.type === 'local' ? 'local'
      : hit.type === 'blackhole' || hit.type === 'unreachable' || hit.type === 'prohibit' ? hit.type : 'route';
    return { outcome, route: hit, rule: r, table, steps };
  }
  steps.push(`no rule found a route to ${q.dst}`);
  return { outcome: 'no-route', route: null, rule: null, table: null, steps };
}

/** The interface that owns `addr` on this host, if any. */
export function ownerOf(addrs: readonly IfAddress[], addr: string): IfAddress | null {
  const a = parseAddr(addr);
  if (!a) return null;
  return addrs.find((x) => { const b = parseAddr(x.addr); return b !== null && b.family === a.family && b.addr === a.addr; }) ?? null;
}

export interface RouteGetAnswer { dst: string; type: string; from: string | null; via: string | null; dev: string | null; table: string; src: string | null; iif: string | null; error: string | null; line: number; text: string; file?: string }

/** `ip route get …` answers (the kernel's own decision, to quote beside ours). */
export function parseRouteGet(text: string): { facts: RouteGetAnswer[]; problems: ParseProblem[] } {
  const { lines, problems } = cleanLines(text);
  const out: RouteGetAnswer[] = [];
  for (const { n, text: t } of lines) {
    const w = words(t);
    if (w[0] === 'cache' || w[0] === 'ipid') {
      const last = out.at(-1);
      const i = w.indexOf('iif');
      if (last && i >= 0) last.iif = w[i + 1] ?? null;
      continue;
    }
    if (/^RTNETLINK answers:|^Error:/.test(t)) { out.push({ dst: '', type: 'error', from: null, via: null, dev: null, table: 'main', src: null, iif: null, error: t.trim(), line: n, text: t.trim() }); continue; }
    let i = 0, type = 'unicast';
    if (ROUTE_TYPES.has(w[0]!)) { type = w[0]!; i = 1; }
    const dst = w[i];
    if (dst === undefined || parseAddr(dst) === null) { problems.push({ line: n, message: 'not an "ip route get" answer' }); continue; }
    const val = (k: string): string | null => { const j = w.indexOf(k, i + 1); return j > 0 ? w[j + 1] ?? null : null; };
    out.push({ dst, type, from: val('from'), via: val('via'), dev: val('dev'), table: tableName(val('table') ?? 'main'), src: val('src'), iif: val('iif'), error: null, line: n, text: t.trim() });
  }
  return { facts: out, problems };
}
