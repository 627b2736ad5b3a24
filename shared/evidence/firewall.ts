// One firewall model for `nft list ruleset` (text, with -a handles and counters), `nft -j list
// ruleset` and `iptables-save -c`, and an evaluator that walks the test packet through the hook's
// base chains (jumps, gotos, returns, policy) to the first rule that decides it.
import { cleanLines, num, type ParseProblem } from './text.ts';
import { parseAddr, parsePrefix, prefixContains, type Family } from './net.ts';

export type FwKey = 'iif' | 'oif' | 'saddr' | 'daddr' | 'l4proto' | 'sport' | 'dport' | 'ctstate' | 'nfproto' | 'unknown';
export interface FwMatch {
  key: FwKey;
  neg: boolean;
  /** Literal values (a prefix, an address range "a-b", a port, a range "1-2", a name); or one "@set". */
  values: string[];
  /** For nft's `ip …`/`ip6 …` matches: the family they imply (such a rule never matches the other family). */
  family?: Family;
  text: string;
}
export type FwVerdictKind = 'accept' | 'drop' | 'reject' | 'jump' | 'goto' | 'return' | 'continue' | 'queue' | 'nat';
export interface FwRule {
  /** nft handle (printed with -a / in JSON); iptables rules have none. */
  handle: number | null;
  /** 1-based position in its chain. */
  index: number;
  matches: FwMatch[];
  verdict: { kind: FwVerdictKind; target?: string } | null;
  /** A verdict map (`ct state vmap { established : accept, invalid : drop }`): the packet's value picks the verdict. */
  vmap?: { key: FwKey; family?: Family; entries: Array<{ values: string[]; verdict: { kind: FwVerdictKind; target?: string } }> };
  counter: { packets: number; bytes: number } | null;
  comment: string | null;
  /** For a rule whose verdict is 'nat': what it rewrites to (shared/evidence/nat.ts evaluates it). */
  nat?: FwNat;
  /** As printed (nft text or iptables-save), or rebuilt from JSON. */
  text: string;
  line: number;
}
/** A NAT statement: masquerade/snat rewrite the source, dnat/redirect the destination. */
export interface FwNat {
  type: 'masquerade' | 'snat' | 'dnat' | 'redirect';
  /** The address (or "a-b" range) it maps to; null for masquerade/redirect or when not given. */
  addr: string | null;
  /** The port (or "p-q" range) it maps to, or null. */
  port: string | null;
}

/** "192.0.2.1:80", "[fd00::1]:80", ":80", "fd00::1", "192.0.2.1-192.0.2.9:1024-2000" → address and port. */
export function splitNatTarget(t: string): { addr: string | null; port: string | null } {
  const s = t.trim();
  if (s === '') return { addr: null, port: null };
  if (s.startsWith('[')) {
    const end = s.indexOf(']');
    // An unclosed bracket is kept as written, so natTargetOk refuses it.
    if (end < 0) return { addr: s, port: null };
    const rest = s.slice(end + 1);
    return { addr: s.slice(1, end) || null, port: rest.startsWith(':') ? rest.slice(1) || null : null };
  }
  if (s.startsWith(':')) return { addr: null, port: s.slice(1) || null };
  // More than one colon without brackets: an IPv6 address, no port.
  if (s.indexOf(':') !== s.lastIndexOf(':')) return { addr: s, port: null };
  const c = s.indexOf(':');
  return c < 0 ? { addr: s, port: null } : { addr: s.slice(0, c) || null, port: s.slice(c + 1) || null };
}

/** An address (or "a-b" range) and a port (or "p-q" range) as written, not a map or an expression. */
export function natTargetOk(n: FwNat): boolean {
  return (n.addr === null || /^[0-9a-fA-F:.]+(?:-[0-9a-fA-F:.]+)?$/.test(n.addr)) && (n.port === null || /^\d+(?:-\d+)?$/.test(n.port));
}

export interface FwChain {
  name: string;
  hook: string | null;
  /** nft chain type (filter/nat/route); iptables: the table's name. */
  type: string | null;
  priority: number;
  policy: 'accept' | 'drop' | null;
  rules: FwRule[];
  handle: number | null;
  /** Packets the policy decided (iptables-save -c prints it on the chain line; nft has none). */
  policyCounter?: { packets: number; bytes: number };
}
export interface FwTable {
  family: string;
  name: string;
  chains: FwChain[];
  sets: Record<string, string[]>;
}
export interface FwRuleset {
  kind: 'nft' | 'iptables';
  tables: FwTable[];
}

const PRIO_NAMES: Record<string, number> = { raw: -300, mangle: -150, dstnat: -100, filter: 0, security: 50, srcnat: 100 };
const KEYWORDS = new Set([
  'iifname', 'oifname', 'iif', 'oif', 'meta', 'ip', 'ip6', 'tcp', 'udp', 'th', 'sctp', 'udplite', 'ct', 'counter', 'log', 'limit',
  'accept', 'drop', 'reject', 'jump', 'goto', 'return', 'continue', 'queue', 'masquerade', 'snat', 'dnat', 'redirect', 'notrack',
  'icmp', 'icmpv6', 'comment', 'mark', 'quota', 'fib', 'ether', 'vlan', 'arp', 'socket', 'tproxy', 'synproxy', 'flow', 'dup', 'fwd', 'set', 'update', 'add',
]);

/** nft text tokens: quoted strings unquoted, `{ a, b }` as one token "{a,b}", `@set` kept. */
function tokenize(s: string): string[] {
  const out: string[] = [];
  let i = 0;
  while (i < s.length) {
    const c = s[i]!;
    if (c === ' ' || c === '\t') { i++; continue; }
    if (c === '"') {
      const j = s.indexOf('"', i + 1);
      const end = j < 0 ? s.length : j;
      out.push('"' + s.slice(i + 1, end) + '"');
      i = end + 1; continue;
    }
    if (c === '{') {
      const j = s.indexOf('}', i + 1);
      const end = j < 0 ? s.length : j;
      out.push('{' + s.slice(i + 1, end).split(',').map((x) => x.trim().replace(/^"|"$/g, '')).filter((x) => x !== '').join(',') + '}');
      i = end + 1; continue;
    }
    let j = i;
    while (j < s.length && s[j] !== ' ' && s[j] !== '\t') j++;
    out.push(s.slice(i, j));
    i = j;
  }
  return out;
}

const unq = (t: string): string => t.replace(/^"|"$/g, '');
const listOf = (t: string): string[] => (t.startsWith('{') ? t.slice(1, -1).split(',').filter((x) => x !== '') : t.includes(',') && !t.startsWith('"') ? t.split(',') : [unq(t)]);

/** One nft rule's statements (text form). */
export function parseNftRuleText(text: string, line: number, index: number): FwRule {
  let handle: number | null = null;
  const hm = /\s+#\s*handle\s+(\d+)\s*$/.exec(text);
  let body = text;
  if (hm) { handle = Number(hm[1]); body = text.slice(0, hm.index); }
  const t = tokenize(body.trim());
  const rule: FwRule = { handle, index, matches: [], verdict: null, counter: null, comment: null, text: text.trim(), line };
  let i = 0;
  const verdictOf = (w: string): { kind: FwVerdictKind; target?: string } | null => {
    const [k, tg] = w.trim().split(/\s+/);
    if (k === 'accept' || k === 'drop' || k === 'return' || k === 'continue' || k === 'reject' || k === 'queue') return { kind: k };
    if ((k === 'jump' || k === 'goto') && tg !== undefined) return { kind: k, target: unq(tg) };
    return null;
  };
  const take = (key: FwKey, from: number): void => {
    if (t[from] === 'vmap' && t[from + 1] !== undefined) {
      const entries: NonNullable<FwRule['vmap']>['entries'] = [];
      for (const item of t[from + 1]!.slice(1, -1).split(',')) {
        const [val, vd] = item.split(':');
        const verdict = vd !== undefined ? verdictOf(vd) : null;
        if (val !== undefined && verdict) entries.push({ values: [unq(val.trim())], verdict });
      }
      rule.vmap = { key, entries };
      i = from + 2;
      return;
    }
    let j = from, neg = false;
    if (t[j] === '.') {
      // A concatenation ("ip daddr . tcp dport @set"): not modelled, so the rule becomes uncertain.
      // Each part is one word (". iifname") or two (". tcp dport", ". meta mark", ". ct state").
      while (t[j] === '.') j += ['iifname', 'oifname', 'iif', 'oif', 'mark'].includes(t[j + 1] ?? '') ? 2 : 3;
      if (t[j] === '!=' || t[j] === '==') j++;
      rule.matches.push({ key: 'unknown', neg: false, values: [], text: t.slice(i, j + 1).join(' ') });
      i = j + 1;
      return;
    }
    if (t[j] === '!=') { neg = true; j++; } else if (t[j] === '==' || t[j] === 'eq') j++;
    const v = t[j];
    if (v === undefined) { rule.matches.push({ key: 'unknown', neg: false, values: [], text: t.slice(i, j).join(' ') }); i = j; return; }
    rule.matches.push({ key, neg, values: listOf(v), text: t.slice(i, j + 1).join(' ') });
    i = j + 1;
  };
  const unknownUntilKeyword = (): void => {
    const start = i;
    i++;
    while (i < t.length && !KEYWORDS.has(t[i]!)) i++;
    rule.matches.push({ key: 'unknown', neg: false, values: [], text: t.slice(start, i).join(' ') });
  };
  while (i < t.length) {
    const w = t[i]!;
    const n1 = t[i + 1];
    if (w === 'iifname' || w === 'iif' || w === 'oifname' || w === 'oif') { take(w.startsWith('i') ? 'iif' : 'oif', i + 1); continue; }
    if (w === 'meta' && n1 !== undefined) {
      if (t[i + 2] === 'set') { i += 4; continue; }
      if (['iifname', 'iif', 'oifname', 'oif'].includes(n1)) { take(n1.startsWith('i') ? 'iif' : 'oif', i + 2); continue; }
      if (n1 === 'l4proto') { take('l4proto', i + 2); continue; }
      if (n1 === 'nfproto') { take('nfproto', i + 2); continue; }
      unknownUntilKeyword(); continue;
    }
    if ((w === 'ip' || w === 'ip6') && n1 !== undefined) {
      if (n1 === 'saddr' || n1 === 'daddr' || n1 === 'protocol' || n1 === 'nexthdr') {
        const key: FwKey = n1 === 'saddr' || n1 === 'daddr' ? n1 : 'l4proto';
        const before = rule.matches.length, hadMap = rule.vmap !== undefined;
        take(key, i + 2);
        const fam: Family = w === 'ip' ? 4 : 6;
        if (rule.matches.length > before) rule.matches.at(-1)!.family = fam;
        else if (!hadMap && rule.vmap) rule.vmap.family = fam;
        continue;
      }
      unknownUntilKeyword(); continue;
    }
    if (['tcp', 'udp', 'th', 'sctp', 'udplite'].includes(w) && (n1 === 'dport' || n1 === 'sport')) {
      if (w !== 'th') rule.matches.push({ key: 'l4proto', neg: false, values: [w], text: w });
      take(n1, i + 2); continue;
    }
    if ((w === 'icmp' || w === 'icmpv6') && n1 === 'type') {
      rule.matches.push({ key: 'l4proto', neg: false, values: [w], text: w });
      // The ICMP type itself is not part of the test packet we evaluate: only the protocol is.
      i += 3; if (t[i - 1] === '!=') i++; continue;
    }
    if (w === 'ct' && n1 === 'state') { take('ctstate', i + 2); continue; }
    if (w === 'ct' && t[i + 2] === 'set') { i += 4; continue; }
    if (w === 'counter') {
      if (t[i + 1] === 'packets' && t[i + 3] === 'bytes') {
        rule.counter = { packets: num(t[i + 2]) ?? 0, bytes: num(t[i + 4]) ?? 0 };
        i += 5;
      } else { rule.counter = rule.counter ?? { packets: 0, bytes: 0 }; i += 1; }
      continue;
    }
    if (w === 'comment') { rule.comment = unq(n1 ?? ''); i += 2; continue; }
    if (w === 'log') {
      i++;
      while (i < t.length && ['prefix', 'level', 'flags', 'group', 'snaplen', 'queue-threshold'].includes(t[i]!)) i += 2;
      continue;
    }
    if (w === 'accept' || w === 'drop' || w === 'return' || w === 'continue') { rule.verdict = { kind: w }; i++; continue; }
    if (w === 'reject') { rule.verdict = { kind: 'reject' }; i++; if (t[i] === 'with') i = t.length; continue; }
    if (w === 'jump' || w === 'goto') { rule.verdict = { kind: w, target: unq(n1 ?? '') }; i += 2; continue; }
    if (w === 'queue') { rule.verdict = { kind: 'queue' }; i = t.length; continue; }
    if (['masquerade', 'snat', 'dnat', 'redirect'].includes(w)) {
      rule.verdict = { kind: 'nat' };
      // "snat [ip|ip6] to ADDR[:PORT]", "dnat to …", "redirect to :PORT", "masquerade [to :PORT]", then flags.
      let j = i + 1;
      if (t[j] === 'ip' || t[j] === 'ip6') j++;
      const to = t[j] === 'to' ? splitNatTarget(t[j + 1] ?? '') : { addr: null, port: null };
      rule.nat = { type: w as FwNat['type'], ...to };
      // A mapped target ("dnat to ip saddr map { … }"): where it goes depends on the packet; not modelled.
      if (!natTargetOk(rule.nat)) { rule.nat = { type: rule.nat.type, addr: null, port: null }; rule.matches.push({ key: 'unknown', neg: false, values: [], text: t.slice(i).join(' ') }); }
      i = t.length; continue;
    }
    if (w === 'notrack') { i++; continue; }
    unknownUntilKeyword();
  }
  return rule;
}

/**
 * `nft list ruleset` text (with or without `-a` handles, with counters). Sets' elements are
 * kept for `@set` matches; maps, flowtables and named objects are skipped as blocks.
 */
export function parseNftText(text: string): { facts: FwRuleset; problems: ParseProblem[] } {
  const { lines, problems } = cleanLines(text);
  const rs: FwRuleset = { kind: 'nft', tables: [] };
  let table: FwTable | null = null, chain: FwChain | null = null;
  let setName: string | null = null, skipDepth = 0, elems: string | null = null;
  for (const { n, text: raw } of lines) {
    const t = raw.trim();
    if (t.startsWith('#') && !/^#\s*handle/.test(t)) continue;
    if (skipDepth > 0) {
      skipDepth += (t.match(/\{/g) ?? []).length - (t.match(/\}/g) ?? []).length;
      continue;
    }
    if (elems !== null) {
      elems += ' ' + t;
      if (t.includes('}')) {
        if (table && setName) table.sets[setName] = listOf(tokenize(elems)[0] ?? '{}');
        elems = null;
      }
      continue;
    }
    let m = /^table\s+(\w+)\s+(\S+)\s*\{/.exec(t);
    if (m) { table = { family: m[1]!, name: unq(m[2]!), chains: [], sets: {} }; rs.tables.push(table); chain = null; continue; }
    if (!table) { problems.push({ line: n, message: 'not inside a "table … {" block of "nft list ruleset"' }); continue; }
    m = chain ? null : /^set\s+(\S+)\s*\{/.exec(t);
    if (m) {
      setName = unq(m[1]!); table.sets[setName] = [];
      // The whole set on one line: "set s { type …; elements = { a, b } }".
      const inline = /elements\s*=\s*(\{[^}]*\})/.exec(t);
      if (inline) table.sets[setName] = listOf(tokenize(inline[1]!)[0] ?? '{}');
      if ((t.match(/\{/g) ?? []).length === (t.match(/\}/g) ?? []).length) setName = null;
      continue;
    }
    if (setName !== null) {
      const e = /^elements\s*=\s*(\{.*)$/.exec(t);
      if (e) {
        if (e[1]!.includes('}')) table.sets[setName] = listOf(tokenize(e[1]!)[0] ?? '{}');
        else elems = e[1]!;
        continue;
      }
      if (t === '}') { setName = null; continue; }
      continue;
    }
    // Named objects at table level (maps, flowtables, counters, ct helpers …): skipped as blocks. Inside a chain these words start rules.
    m = chain ? null : /^(?:map|flowtable|counter|quota|limit|ct\s+(?:helper|timeout|expectation)|secmark|synproxy)\s+\S+.*\{/.exec(t);
    if (m && !t.includes('}')) { skipDepth = 1; continue; }
    if (m) continue;
    m = /^chain\s+(\S+)\s*\{\s*(?:#\s*handle\s+(\d+))?/.exec(t);
    if (m) {
      chain = { name: unq(m[1]!), hook: null, type: null, priority: 0, policy: null, rules: [], handle: m[2] ? Number(m[2]) : null };
      table.chains.push(chain);
      continue;
    }
    if (t === '}') { if (chain) chain = null; else table = null; continue; }
    if (!chain) { problems.push({ line: n, message: `unexpected line in table ${table.name}: ${t.slice(0, 60)}` }); continue; }
    const h = /^type\s+(\w+)\s+hook\s+(\w+)(?:\s+device\s+\S+)?\s+priority\s+([\w-]+)(?:\s*([+-])\s*(\d+))?\s*;(?:\s*policy\s+(\w+)\s*;)?/.exec(t);
    if (h) {
      chain.type = h[1]!; chain.hook = h[2]!;
      let p = PRIO_NAMES[h[3]!] ?? Number(h[3]);
      if (!Number.isFinite(p)) p = 0;
      if (h[4]) p += (h[4] === '-' ? -1 : 1) * Number(h[5]);
      chain.priority = p;
      chain.policy = h[6] === 'drop' ? 'drop' : 'accept';
      continue;
    }
    if (/^policy\s+(accept|drop)\s*;?$/.test(t)) { chain.policy = t.includes('drop') ? 'drop' : 'accept'; continue; }
    chain.rules.push(parseNftRuleText(t, n, chain.rules.length + 1));
  }
  if (elems !== null || setName !== null || chain !== null || table !== null || skipDepth > 0) {
    problems.push({ line: lines.at(-1)?.n ?? 1, message: 'the ruleset ends inside an open block (a cut paste?); what was read is kept' });
  }
  return { facts: rs, problems };
}

type J = Record<string, unknown>;
const isObj = (x: unknown): x is J => typeof x === 'object' && x !== null && !Array.isArray(x);

function jsonValue(v: unknown): string[] {
  if (typeof v === 'string') return [v];
  if (typeof v === 'number') return [String(v)];
  if (Array.isArray(v)) return v.flatMap(jsonValue);
  if (isObj(v)) {
    if ('set' in v) return jsonValue(v.set);
    if (isObj(v.prefix)) return [`${String(v.prefix.addr)}/${String(v.prefix.len)}`];
    if (Array.isArray(v.range)) return [`${String(v.range[0])}-${String(v.range[1])}`];
    if (isObj(v.elem)) return jsonValue(v.elem.val);
  }
  return ['?'];
}

function jsonMatch(m: J): FwMatch[] {
  const left = m.left, op = String(m.op ?? '==');
  const values = jsonValue(m.right);
  const shown = values.length > 1 ? `{ ${values.join(', ')} }` : values[0] ?? '';
  const neg = op === '!=';
  const mk = (key: FwKey, name: string): FwMatch => ({ key, neg, values, text: `${name} ${neg ? '!= ' : ''}${key === 'iif' || key === 'oif' ? `"${shown}"` : shown}` });
  if (op !== '==' && op !== '!=' && op !== 'in') return [{ key: 'unknown', neg: false, values: [], text: `${JSON.stringify(left)} ${op} ${shown}` }];
  if (isObj(left) && isObj(left.meta)) {
    const k = String(left.meta.key);
    if (k === 'iifname' || k === 'iif') return [mk('iif', k)];
    if (k === 'oifname' || k === 'oif') return [mk('oif', k)];
    if (k === 'l4proto') return [mk('l4proto', 'meta l4proto')];
    if (k === 'nfproto') return [mk('nfproto', 'meta nfproto')];
  }
  if (isObj(left) && isObj(left.payload)) {
    const pr = String(left.payload.protocol), f = String(left.payload.field);
    if ((pr === 'ip' || pr === 'ip6') && (f === 'saddr' || f === 'daddr')) return [{ ...mk(f, `${pr} ${f}`), family: pr === 'ip' ? 4 : 6 }];
    if ((pr === 'ip' && f === 'protocol') || (pr === 'ip6' && f === 'nexthdr')) return [{ ...mk('l4proto', `${pr} ${f}`), family: pr === 'ip' ? 4 : 6 }];
    if (f === 'dport' || f === 'sport') {
      const out = [mk(f, `${pr} ${f}`)];
      if (pr !== 'th') out.unshift({ key: 'l4proto', neg: false, values: [pr], text: pr });
      return out;
    }
    if ((pr === 'icmp' || pr === 'icmpv6') && f === 'type') return [{ key: 'l4proto', neg: false, values: [pr], text: `${pr} type ${shown}` }];
  }
  if (isObj(left) && isObj(left.ct) && left.ct.key === 'state') return [mk('ctstate', 'ct state')];
  return [{ key: 'unknown', neg: false, values: [], text: `${JSON.stringify(left)} ${op} ${shown}` }];
}

/** `nft -j list ruleset`. */
export function parseNftJson(text: string): { facts: FwRuleset; problems: ParseProblem[] } {
  const problems: ParseProblem[] = [];
  const rs: FwRuleset = { kind: 'nft', tables: [] };
  const start = text.indexOf('{');
  let doc: unknown;
  try { doc = JSON.parse(start >= 0 ? text.slice(start, text.lastIndexOf('}') + 1) : text); } catch (e) {
    const pos = /position (\d+)/.exec((e as Error).message);
    const line = pos ? text.slice(0, start + Number(pos[1])).split('\n').length : 1;
    problems.push({ line, message: `not valid JSON (${(e as Error).message.slice(0, 80)}); a cut paste?` });
    return { facts: rs, problems };
  }
  const items = isObj(doc) && Array.isArray(doc.nftables) ? doc.nftables : null;
  if (!items) { problems.push({ line: 1, message: 'JSON without an "nftables" array: not "nft -j list ruleset"' }); return { facts: rs, problems }; }
  const tableOf = (family: unknown, name: unknown): FwTable => {
    let t = rs.tables.find((x) => x.family === family && x.name === name);
    if (!t) { t = { family: String(family), name: String(name), chains: [], sets: {} }; rs.tables.push(t); }
    return t;
  };
  for (const it of items.slice(0, 200_000)) {
    if (!isObj(it)) continue;
    if (isObj(it.table)) tableOf(it.table.family, it.table.name);
    else if (isObj(it.set)) {
      const s = it.set;
      tableOf(s.family, s.table).sets[String(s.name)] = Array.isArray(s.elem) ? s.elem.flatMap(jsonValue) : [];
    } else if (isObj(it.chain)) {
      const c = it.chain;
      const pr = typeof c.prio === 'number' ? c.prio : PRIO_NAMES[String(c.prio)] ?? 0;
      tableOf(c.family, c.table).chains.push({
        name: String(c.name), hook: typeof c.hook === 'string' ? c.hook : null, type: typeof c.type === 'string' ? c.type : null,
        priority: pr, policy: c.hook ? (c.policy === 'drop' ? 'drop' : 'accept') : null, rules: [], handle: typeof c.handle === 'number' ? c.handle : null,
      });
    } else if (isObj(it.rule)) {
      const r = it.rule;
      const t = tableOf(r.family, r.table);
      const ch = t.chains.find((c) => c.name === r.chain);
      if (!ch) { problems.push({ line: 1, message: `rule for unknown chain ${String(r.chain)}` }); continue; }
      const rule: FwRule = { handle: typeof r.handle === 'number' ? r.handle : null, index: ch.rules.length + 1, matches: [], verdict: null, counter: null, comment: typeof r.comment === 'string' ? r.comment : null, text: '', line: 1 };
      const parts: string[] = [];
      for (const e of Array.isArray(r.expr) ? r.expr : []) {
        if (!isObj(e)) continue;
        const k = Object.keys(e)[0]!;
        const v = e[k];
        if (k === 'match' && isObj(v)) { const ms = jsonMatch(v); rule.matches.push(...ms); parts.push(...ms.filter((x) => !(x.key === 'l4proto' && ms.length > 1 && x.text === x.values[0])).map((x) => x.text)); }
        else if (k === 'counter') {
          rule.counter = isObj(v) ? { packets: Number(v.packets ?? 0), bytes: Number(v.bytes ?? 0) } : { packets: 0, bytes: 0 };
          parts.push(`counter packets ${rule.counter.packets} bytes ${rule.counter.bytes}`);
        } else if (k === 'accept' || k === 'drop' || k === 'return' || k === 'continue' || k === 'reject' || k === 'queue') { rule.verdict = { kind: k }; parts.push(k); }
        else if ((k === 'jump' || k === 'goto') && isObj(v)) { rule.verdict = { kind: k, target: String(v.target) }; parts.push(`${k} ${String(v.target)}`); }
        else if (['masquerade', 'snat', 'dnat', 'redirect'].includes(k)) {
          rule.verdict = { kind: 'nat' };
          const one = (x: unknown): string | null => (x === undefined || x === null ? null : jsonValue(x).join(','));
          const addr = isObj(v) ? one(v.addr) : null, port = isObj(v) ? one(v.port) : null;
          rule.nat = { type: k as FwNat['type'], addr, port };
          if (!natTargetOk(rule.nat)) {
            rule.nat = { type: rule.nat.type, addr: null, port: null };
            rule.matches.push({ key: 'unknown', neg: false, values: [], text: `${k} to (a map)` });
            parts.push(`${k} to (a map)`);
          } else {
            const target = addr !== null ? (addr.includes(':') && port !== null ? `[${addr}]` : addr) + (port !== null ? `:${port}` : '') : port !== null ? `:${port}` : '';
            parts.push(target ? `${k} to ${target}` : k);
          }
        }
        else if (k === 'vmap' && isObj(v)) {
          const keyed = jsonMatch({ op: '==', left: v.key, right: '' }).at(-1)!;
          const data = isObj(v.data) ? v.data.set : v.data;
          const entries: NonNullable<FwRule['vmap']>['entries'] = [];
          for (const pair of Array.isArray(data) ? data : []) {
            if (!Array.isArray(pair) || pair.length !== 2 || !isObj(pair[1])) continue;
            const vk = Object.keys(pair[1])[0]!, vv = pair[1][vk];
            const kind = vk as FwVerdictKind;
            if (!['accept', 'drop', 'return', 'continue', 'reject', 'queue', 'jump', 'goto'].includes(vk)) continue;
            entries.push({ values: jsonValue(pair[0]), verdict: isObj(vv) && typeof vv.target === 'string' ? { kind, target: vv.target } : { kind } });
          }
          rule.vmap = { key: keyed.key, ...(keyed.family !== undefined ? { family: keyed.family } : {}), entries };
          parts.push(`${keyed.text.replace(/\s+(?:"")?$/, '')} vmap { ${entries.map((e) => `${e.values.join(', ')} : ${e.verdict.kind}${e.verdict.target ? ' ' + e.verdict.target : ''}`).join(', ')} }`);
        }
        else if (k === 'log' || k === 'mangle' || k === 'notrack') parts.push(k);
        else { rule.matches.push({ key: 'unknown', neg: false, values: [], text: k }); parts.push(k); }
      }
      rule.text = parts.join(' ') + (rule.comment ? ` comment "${rule.comment}"` : '') + (rule.handle !== null ? ` # handle ${rule.handle}` : '');
      ch.rules.push(rule);
    }
  }
  return { facts: rs, problems };
}

/** Shell-like words of an iptables-save line (double quotes hold spaces). */
function iptWords(s: string): string[] {
  const out: string[] = [];
  const re = /"((?:[^"\\]|\\.)*)"|(\S+)/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(s))) out.push(m[1] !== undefined ? m[1].replace(/\\(.)/g, '$1') : m[2]!);
  return out;
}

const HOOKS: Record<string, string> = { INPUT: 'input', FORWARD: 'forward', OUTPUT: 'output', PREROUTING: 'prerouting', POSTROUTING: 'postrouting' };
const TABLE_PRIO: Record<string, number> = { raw: -300, mangle: -150, nat: -100, filter: 0, security: 50 };

/** `iptables-save -c` / `ip6tables-save -c` (counters optional). */
export function parseIptablesSave(text: string): { facts: FwRuleset; problems: ParseProblem[] } {
  const { lines, problems, commands } = cleanLines(text);
  const rs: FwRuleset = { kind: 'iptables', tables: [] };
  let family = commands.some((c) => c.includes('ip6tables')) ? 'ip6' : 'ip';
  let table: FwTable | null = null;
  for (const { n, text: raw } of lines) {
    const t = raw.trim();
    if (t.startsWith('#')) { if (/ip6tables-save/.test(t)) family = 'ip6'; else if (/iptables-save/.test(t)) family = 'ip'; continue; }
    if (t.startsWith('*')) { table = { family, name: t.slice(1), chains: [], sets: {} }; rs.tables.push(table); continue; }
    if (t === 'COMMIT') { table = null; continue; }
    if (!table) { problems.push({ line: n, message: 'outside a "*table … COMMIT" block of iptables-save' }); continue; }
    const c = /^:(\S+)\s+(\S+)(?:\s+\[(\d+):(\d+)\])?$/.exec(t);
    if (c) {
      const hook = HOOKS[c[1]!] ?? null;
      table.chains.push({
        name: c[1]!, hook, type: table.name, priority: TABLE_PRIO[table.name] ?? 0, policy: c[2] === 'DROP' ? 'drop' : c[2] === 'ACCEPT' ? 'accept' : null, rules: [], handle: null,
        ...(c[3] !== undefined && hook !== null ? { policyCounter: { packets: Number(c[3]), bytes: Number(c[4]) } } : {}),
      });
      continue;
    }
    const r = /^(?:\[(\d+):(\d+)\]\s+)?-A\s+(\S+)\s*(.*)$/.exec(t);
    if (!r) { problems.push({ line: n, message: `not an iptables-save line: ${t.slice(0, 60)}` }); continue; }
    let ch = table.chains.find((x) => x.name === r[3]);
    if (!ch) { ch = { name: r[3]!, hook: HOOKS[r[3]!] ?? null, type: table.name, priority: TABLE_PRIO[table.name] ?? 0, policy: null, rules: [], handle: null }; table.chains.push(ch); }
    const rule: FwRule = { handle: null, index: ch.rules.length + 1, matches: [], verdict: null, counter: r[1] !== undefined ? { packets: Number(r[1]), bytes: Number(r[2]) } : null, comment: null, text: t, line: n };
    const w = iptWords(r[4]!);
    let neg = false;
    for (let i = 0; i < w.length; i++) {
      const o = w[i]!, v = w[i + 1];
      const add = (key: FwKey, values: string[]): void => { rule.matches.push({ key, neg, values, text: `${neg ? '! ' : ''}${o} ${v ?? ''}` }); neg = false; i++; };
      switch (o) {
        case '!': neg = true; continue;
        case '-i': case '--in-interface': add('iif', [v ?? '']); break;
        case '-o': case '--out-interface': add('oif', [v ?? '']); break;
        case '-s': case '--source': add('saddr', (v ?? '').split(',')); break;
        case '-d': case '--destination': add('daddr', (v ?? '').split(',')); break;
        case '-p': case '--protocol': add('l4proto', [v ?? '']); break;
        case '--dport': case '--destination-port': case '--dports': case '--destination-ports': add('dport', (v ?? '').replace(/:/g, '-').split(',')); break;
        case '--sport': case '--source-port': case '--sports': case '--source-ports': add('sport', (v ?? '').replace(/:/g, '-').split(',')); break;
        case '--ctstate': case '--state': add('ctstate', (v ?? '').toLowerCase().split(',')); break;
        case '-m': case '--match': i++; break;
        case '--comment': rule.comment = v ?? ''; i++; break;
        case '-j': case '--jump': case '-g': case '--goto': {
          const tg = v ?? '';
          const kind: FwVerdictKind = o === '-g' || o === '--goto' ? 'goto'
            : tg === 'ACCEPT' ? 'accept' : tg === 'DROP' ? 'drop' : tg === 'REJECT' ? 'reject' : tg === 'RETURN' ? 'return'
              : ['MASQUERADE', 'SNAT', 'DNAT', 'REDIRECT'].includes(tg) ? 'nat' : ['LOG', 'NFLOG', 'MARK', 'CONNMARK', 'TCPMSS', 'CT', 'NOTRACK', 'TRACE'].includes(tg) ? 'continue' : 'jump';
          rule.verdict = kind === 'jump' || kind === 'goto' ? { kind, target: tg } : { kind };
          if (kind === 'nat') {
            // --to-source / --to-destination ADDR[:PORT], --to-ports P[-Q] (MASQUERADE, REDIRECT).
            const opt = (name: string): string | null => { const k = w.indexOf(name, i + 2); return k < 0 ? null : w[k + 1] ?? null; };
            const to = opt(tg === 'SNAT' ? '--to-source' : '--to-destination');
            const ports = opt('--to-ports');
            rule.nat = {
              type: tg.toLowerCase() as FwNat['type'],
              ...(to !== null && (tg === 'SNAT' || tg === 'DNAT') ? splitNatTarget(to) : { addr: null, port: ports }),
            };
            if (!natTargetOk(rule.nat)) { rule.nat = { type: rule.nat.type, addr: null, port: null }; rule.matches.push({ key: 'unknown', neg: false, values: [], text: `-j ${tg} (target not read)` }); }
          }
          i++;
          // The target's own options (--reject-with, --to-source, --log-prefix …).
          while (i + 1 < w.length && w[i + 1]!.startsWith('--')) { i++; while (i + 1 < w.length && !w[i + 1]!.startsWith('-')) i++; }
          break;
        }
        default: {
          // A match option we do not evaluate (e.g. -m set --match-set, -m mark): the rule becomes uncertain.
          let txt = o;
          while (i + 1 < w.length && !w[i + 1]!.startsWith('-')) txt += ' ' + w[++i]!;
          rule.matches.push({ key: 'unknown', neg, values: [], text: txt });
          neg = false;
        }
      }
    }
    ch.rules.push(rule);
  }
  if (table !== null) problems.push({ line: lines.at(-1)?.n ?? 1, message: `table ${table.name} has no COMMIT (a cut paste?); what was read is kept` });
  return { facts: rs, problems };
}

// ---------------------------------------------------------------------------------------------
// Evaluation

export interface FwPacket {
  family: Family;
  proto: string;
  src: string;
  dst: string;
  sport?: number;
  dport?: number;
  iif?: string;
  oif?: string;
  /** Connection-tracking state of the packet: the first packet of a test connection is "new". */
  ctstate?: string;
}

export interface FwRuleRef { table: FwTable; chain: FwChain; rule: FwRule }

export interface FwDecision {
  verdict: 'accept' | 'drop' | 'reject';
  /** The rule that decided, or null when a chain's policy did. */
  decidedBy: FwRuleRef | null;
  /** The base chain whose policy decided, when no rule did. */
  policyChain: { table: FwTable; chain: FwChain } | null;
  /** Rules that matched on the way (jumps included), in order. */
  trace: FwRuleRef[];
  /** Rules we could not evaluate (a match we do not model) that came before the decision. */
  uncertain: FwRuleRef[];
}

const PROTO_ALIASES: Record<string, string> = { '6': 'tcp', '17': 'udp', '1': 'icmp', '58': 'icmpv6', 'ipv6-icmp': 'icmpv6', 'icmp6': 'icmpv6', '50': 'esp', '47': 'gre', '132': 'sctp' };
const proto = (s: string): string => PROTO_ALIASES[s.toLowerCase()] ?? s.toLowerCase();

function ifaceMatch(pattern: string, name: string | undefined): boolean | null {
  if (name === undefined) return null;
  const p = unq(pattern);
  if (p.endsWith('*') || p.endsWith('+')) return name.startsWith(p.slice(0, -1));
  return p === name;
}

function addrMatch(v: string, addr: string): boolean {
  const dash = v.indexOf('-');
  if (dash > 0 && !v.includes('/')) {
    const lo = parseAddr(v.slice(0, dash)), hi = parseAddr(v.slice(dash + 1)), a = parseAddr(addr);
    return !!(lo && hi && a && a.family === lo.family && a.addr >= lo.addr && a.addr <= hi.addr);
  }
  const p = parsePrefix(v);
  return p !== null && prefixContains(p, addr);
}

function portMatch(v: string, port: number): boolean {
  const m = /^(\d+)(?:-(\d+))?$/.exec(v);
  if (!m) return false;
  return port >= Number(m[1]) && port <= Number(m[2] ?? m[1]);
}

/** true / false, or null when the match cannot be decided for this packet. */
function matchOne(m: FwMatch, t: FwTable, p: FwPacket): boolean | null {
  // nft adds an implicit "meta nfproto" to an ip/ip6 header match: the other family never matches, negated or not.
  if (m.family !== undefined && m.family !== p.family) return false;
  let values = m.values;
  if (values.length === 1 && values[0]!.startsWith('@')) {
    const s = t.sets[values[0]!.slice(1)];
    if (s === undefined) return null;
    values = s;
  }
  let r: boolean | null;
  switch (m.key) {
    case 'iif': case 'oif': {
      const name = m.key === 'iif' ? p.iif : p.oif;
      const rs = values.map((v) => ifaceMatch(v, name));
      r = rs.includes(null) ? null : rs.includes(true);
      break;
    }
    case 'saddr': case 'daddr': r = values.some((v) => addrMatch(v, m.key === 'saddr' ? p.src : p.dst)); break;
    case 'l4proto': r = values.some((v) => proto(v) === proto(p.proto) || v === 'all'); break;
    case 'sport': case 'dport': {
      const port = m.key === 'sport' ? p.sport : p.dport;
      r = port === undefined ? null : values.some((v) => portMatch(v, port));
      break;
    }
    case 'ctstate': r = values.some((v) => v.toLowerCase() === (p.ctstate ?? 'new')); break;
    case 'nfproto': r = values.some((v) => (v === 'ipv4' ? 4 : v === 'ipv6' ? 6 : 0) === p.family); break;
    default: return null;
  }
  if (r === null) return null;
  return m.neg ? !r : r;
}

/** The verdict the map gives this packet; undefined when no entry matches, null when the key cannot be evaluated. */
export function vmapVerdict(m: NonNullable<FwRule['vmap']>, t: FwTable, p: FwPacket): FwRule['verdict'] | null | undefined {
  if (m.family !== undefined && m.family !== p.family) return undefined;
  for (const e of m.entries) {
    const r = matchOne({ key: m.key, neg: false, values: e.values, text: '' }, t, p);
    if (r === null) return null;
    if (r) return e.verdict;
  }
  return undefined;
}

/** true / false, or null when one of the rule's matches cannot be decided for this packet (nat.ts uses it too). */
export function ruleMatch(rule: FwRule, t: FwTable, p: FwPacket): boolean | null {
  let unknown = false;
  for (const m of rule.matches) {
    const r = matchOne(m, t, p);
    if (r === false) return false;
    if (r === null) unknown = true;
  }
  return unknown ? null : true;
}

export const familyFits = (f: string, fam: Family): boolean => f === 'inet' || (f === 'ip' && fam === 4) || (f === 'ip6' && fam === 6);

/** The base chains of a hook that filter (nft type filter; iptables' filter table), by priority. */
export function baseChains(rs: FwRuleset, hook: string, fam: Family): Array<{ table: FwTable; chain: FwChain }> {
  return hookChains(rs, hook, fam, 'filter');
}

/** The base chains of a hook of one kind (nft chain type; the iptables table of that name), lowest priority first. */
export function hookChains(rs: FwRuleset, hook: string, fam: Family, kind: 'filter' | 'nat'): Array<{ table: FwTable; chain: FwChain }> {
  const out: Array<{ table: FwTable; chain: FwChain }> = [];
  for (const table of rs.tables) {
    if (!familyFits(table.family, fam)) continue;
    for (const chain of table.chains) {
      if (chain.hook !== hook) continue;
      if (rs.kind === 'nft' ? chain.type !== kind : table.name !== kind) continue;
      out.push({ table, chain });
    }
  }
  return out.sort((a, b) => a.chain.priority - b.chain.priority);
}

/**
 * What a rule does with `pkt`: null when it does not match it, or cannot be judged (a match or verdict
 * map this reader cannot evaluate: the rule goes to `uncertain`); else its verdict (a map's entry).
 */
export function ruleVerdict(ref: FwRuleRef, pkt: FwPacket, uncertain: FwRuleRef[]): { verdict: FwRule['verdict'] } | null {
  const { rule, table } = ref;
  const m = ruleMatch(rule, table, pkt);
  if (m === null) { if (rule.verdict && rule.verdict.kind !== 'continue') uncertain.push(ref); return null; }
  if (!m) return null;
  if (!rule.vmap) return { verdict: rule.verdict };
  const hit = vmapVerdict(rule.vmap, table, pkt);
  if (hit === null) uncertain.push(ref);
  return hit === null || hit === undefined ? null : { verdict: hit };
}

/** Walk `pkt` through every filtering base chain of `hook` (forward, input, output …). */
export function evaluateFirewall(rs: FwRuleset, hook: string, pkt: FwPacket): FwDecision {
  const trace: FwRuleRef[] = [], uncertain: FwRuleRef[] = [];
  type Out = { kind: 'accept' | 'drop' | 'reject'; ref: FwRuleRef } | { kind: 'return' };
  const run = (table: FwTable, chain: FwChain, depth: number): Out => {
    if (depth > 32) return { kind: 'return' };
    for (const rule of chain.rules) {
      const ref = { table, chain, rule };
      const hit = ruleVerdict(ref, pkt, uncertain);
      if (hit === null) continue;
      const v = hit.verdict;
      trace.push(ref);
      if (!v || v.kind === 'continue' || v.kind === 'nat') continue;
      if (v.kind === 'accept' || v.kind === 'drop' || v.kind === 'reject') return { kind: v.kind, ref };
      if (v.kind === 'queue') return { kind: 'accept', ref };
      if (v.kind === 'return') return { kind: 'return' };
      const target = table.chains.find((c) => c.name === v.target);
      if (!target) continue;
      const sub = run(table, target, depth + 1);
      if (sub.kind !== 'return') return sub;
      if (v.kind === 'goto') return { kind: 'return' };
    }
    return { kind: 'return' };
  };
  let last: FwDecision | null = null;
  for (const { table, chain } of baseChains(rs, hook, pkt.family)) {
    const o = run(table, chain, 0);
    if (o.kind === 'return') {
      if (chain.policy === 'drop') return { verdict: 'drop', decidedBy: null, policyChain: { table, chain }, trace, uncertain };
      last = { verdict: 'accept', decidedBy: null, policyChain: { table, chain }, trace, uncertain };
      continue;
    }
    if (o.kind !== 'accept') return { verdict: o.kind, decidedBy: o.ref, policyChain: null, trace, uncertain };
    last = { verdict: 'accept', decidedBy: o.ref, policyChain: null, trace, uncertain };
  }
  return last ?? { verdict: 'accept', decidedBy: null, policyChain: null, trace, uncertain };
}

/** The same rule in another reading of the ruleset (by handle for nft, by position and text for iptables). */
export function sameRule(rs: FwRuleset, ref: FwRuleRef): FwRule | null {
  const t = rs.tables.find((x) => x.family === ref.table.family && x.name === ref.table.name);
  const c = t?.chains.find((x) => x.name === ref.chain.name);
  if (!c) return null;
  if (ref.rule.handle !== null) return c.rules.find((r) => r.handle === ref.rule.handle) ?? null;
  const strip = (s: string): string => s.replace(/^\[\d+:\d+\]\s+/, '');
  return c.rules.find((r) => r.index === ref.rule.index && strip(r.text) === strip(ref.rule.text))
    ?? c.rules.find((r) => strip(r.text) === strip(ref.rule.text)) ?? null;
}

/** Packets the rule counted between the two readings, or null without counters in both. */
export function counterDelta(before: FwRuleset, ref: FwRuleRef): number | null {
  const b = sameRule(before, ref);
  if (!b?.counter || !ref.rule.counter) return null;
  return ref.rule.counter.packets - b.counter.packets;
}

/** Packets a chain's policy decided between the two readings (iptables only), or null. */
export function policyDelta(before: FwRuleset, table: FwTable, chain: FwChain): number | null {
  const c = before.tables.find((x) => x.family === table.family && x.name === table.name)?.chains.find((x) => x.name === chain.name);
  if (!c?.policyCounter || !chain.policyCounter) return null;
  return chain.policyCounter.packets - c.policyCounter.packets;
}

/** How a rule is quoted in a finding: where it lives, then the line as the host printed it. */
export function quoteRule(ref: FwRuleRef, kind: FwRuleset['kind']): string {
  return kind === 'nft'
    ? `table ${ref.table.family} ${ref.table.name} chain ${ref.chain.name}: ${ref.rule.text}`
    : `*${ref.table.name} ${ref.rule.text}`;
}
