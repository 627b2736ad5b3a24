// Turns the filter AST into a tree of closures. No generated code (the renderer's CSP forbids
// eval), so speed comes from doing all literal work once here: numbers, address masks and
// canonical address strings are prepared before the first packet is seen.

import type { Packet } from '../protocols/packet.ts';
import { ipv6 as formatIpv6 } from '../protocols/fields.ts';
import { fieldSpec, type FieldSpec, type FilterCtx } from './fields.ts';
import { FilterError, type Node, type ValueTok } from './parse.ts';
import { regexLiterals, type RegexLiterals } from './regex-literals.ts';

export type Predicate = (p: Packet, ctx?: FilterCtx) => boolean;
export type Test = (v: number | string | boolean) => boolean;

// ---- address literals

/** Dotted quad to an unsigned 32-bit number, or -1 when `s` is not one. Hot path: no regex, no split. */
export function parseIpv4(s: string): number {
  let n = 0;
  let part = 0;
  let digits = 0;
  let dots = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      part = part * 10 + (c - 48);
      if (++digits > 3 || part > 255) return -1;
    } else if (c === 46) {
      if (digits === 0 || ++dots > 3) return -1;
      n = n * 256 + part;
      part = 0;
      digits = 0;
    } else return -1;
  }
  if (dots !== 3 || digits === 0) return -1;
  return n * 256 + part;
}

/** IPv6 text (with "::" and an optional dotted IPv4 tail) to 16 bytes, or undefined. */
export function parseIpv6(s: string): Uint8Array | undefined {
  if (!s.includes(':')) return undefined;
  const halves = s.split('::');
  if (halves.length > 2) return undefined;
  const groups = (h: string): number[] | undefined => {
    if (h === '') return [];
    const out: number[] = [];
    const parts = h.split(':');
    for (let i = 0; i < parts.length; i++) {
      const g = parts[i]!;
      if (i === parts.length - 1 && g.includes('.')) {
        const v4 = parseIpv4(g);
        if (v4 < 0) return undefined;
        out.push(Math.floor(v4 / 65536), v4 & 0xffff);
      } else if (/^[0-9a-fA-F]{1,4}$/.test(g)) out.push(parseInt(g, 16));
      else return undefined;
    }
    return out;
  };
  const head = groups(halves[0]!);
  const tail = halves.length === 2 ? groups(halves[1]!) : [];
  if (head === undefined || tail === undefined) return undefined;
  const fill = 8 - head.length - tail.length;
  if (halves.length === 2 ? fill < 1 : fill !== 0) return undefined;
  const all = [...head, ...new Array<number>(halves.length === 2 ? fill : 0).fill(0), ...tail];
  const b = new Uint8Array(16);
  for (let i = 0; i < 8; i++) { b[2 * i] = all[i]! >> 8; b[2 * i + 1] = all[i]! & 0xff; }
  return b;
}

function ipv4Text(n: number): string {
  return (n >>> 24) + '.' + ((n >>> 16) & 255) + '.' + ((n >>> 8) & 255) + '.' + (n & 255);
}

/** A test on an address string for one literal: exact (string compare) or a CIDR prefix. */
function addrTest(v: ValueTok): (a: string) => boolean {
  const slash = v.text.indexOf('/');
  const host = slash < 0 ? v.text : v.text.slice(0, slash);
  let bits = -1;
  if (slash >= 0) {
    const b = v.text.slice(slash + 1);
    if (!/^\d{1,3}$/.test(b)) throw new FilterError(`bad prefix length '${b}'`, v.at + slash + 1);
    bits = Number(b);
  }
  const n4 = parseIpv4(host);
  if (n4 >= 0) {
    if (bits > 32) throw new FilterError('IPv4 prefix longer than 32', v.at + slash + 1);
    if (bits < 0 || bits === 32) {
      const text = ipv4Text(n4);
      return (a) => a === text;
    }
    // Unsigned arithmetic throughout: >>> 0 keeps masks of /1../31 positive.
    const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
    const net = (n4 & mask) >>> 0;
    return (a) => { const x = parseIpv4(a); return x >= 0 && ((x & mask) >>> 0) === net; };
  }
  const b6 = parseIpv6(host);
  if (b6 !== undefined) {
    if (bits > 128) throw new FilterError('IPv6 prefix longer than 128', v.at + slash + 1);
    if (bits < 0 || bits === 128) {
      const text = formatIpv6(b6, 0);
      return (a) => a === text;
    }
    return (a) => {
      if (!a.includes(':')) return false;
      const x = parseIpv6(a);
      if (x === undefined) return false;
      let left = bits;
      for (let i = 0; left > 0; i++, left -= 8) {
        const m = left >= 8 ? 0xff : (0xff << (8 - left)) & 0xff;
        if ((x[i]! & m) !== (b6[i]! & m)) return false;
      }
      return true;
    };
  }
  throw new FilterError(`'${v.text}' is not an IP address or prefix`, v.at);
}

// ---- other literals

function parseNumber(v: ValueTok, allowBool: boolean): number {
  const t = v.text.toLowerCase();
  if (allowBool && (t === 'true' || t === 'false')) return t === 'true' ? 1 : 0;
  if (v.kind === 'word') {
    if (/^0x[0-9a-f]+$/.test(t)) return parseInt(t.slice(2), 16);
    if (/^\d+(\.\d+)?$/.test(t)) return Number(t);
  }
  throw new FilterError(`'${v.text}' is not a number`, v.at);
}

/** A number literal for a field, refused when the field cannot hold it (tcp.port == 99999). */
function fieldNumber(spec: FieldSpec, name: string, v: ValueTok): number {
  const n = parseNumber(v, false);
  if (spec.max !== undefined && n > spec.max) {
    throw new FilterError(`${v.text} is too big for ${name}: it holds at most ${spec.max}`, v.at);
  }
  return n;
}

// ---- evaluation helpers

/** True when any occurrence of the field in the packet passes `t`. */
function any(spec: FieldSpec, t: Test): Predicate {
  const g = spec.gets;
  const more = spec.more;
  if (g.length === 1 && more === undefined) {
    const g0 = g[0]!;
    return (p, c) => { const v = g0(p, c); return v !== undefined && t(v); };
  }
  if (g.length === 2 && more === undefined) {
    const g0 = g[0]!;
    const g1 = g[1]!;
    return (p, c) => {
      const a = g0(p, c);
      if (a !== undefined && t(a)) return true;
      const b = g1(p, c);
      return b !== undefined && t(b);
    };
  }
  return (p, c) => {
    for (let i = 0; i < g.length; i++) { const v = g[i]!(p, c); if (v !== undefined && t(v)) return true; }
    return more !== undefined && more(p, t);
  };
}

const yes: Test = () => true;

function typeName(spec: FieldSpec): string {
  return spec.type === 'num' ? 'a number' : spec.type === 'str' ? 'a string' : spec.type === 'addr' ? 'an address' : 'a flag';
}

function equalsTest(spec: FieldSpec, v: ValueTok, name: string): Test {
  switch (spec.type) {
    case 'num': { const n = fieldNumber(spec, name, v); return (x) => x === n; }
    case 'bool': {
      const n = parseNumber(v, true);
      if (n !== 0 && n !== 1) throw new FilterError('a flag is 0 or 1 (true or false)', v.at);
      const b = n === 1;
      return (x) => x === b;
    }
    case 'str': { const s = spec.norm ? spec.norm(v.text) : v.text; return (x) => x === s; }
    case 'addr': { const a = addrTest(v); return (x) => a(x as string); }
    default: throw new FilterError('unreachable', v.at);
  }
}

/** A condition on one field: the AST leaves. */
export type LeafNode = Exclude<Node, { k: 'and' | 'or' | 'not' }>;

/**
 * One leaf compiled: the packet predicate, and its parts for evaluators that read the field's
 * values some other way (shared/filter/columns.ts): the leaf passes when some occurrence passes
 * `test`, negated when `neg` ("!=" means no occurrence is equal).
 */
export interface Leaf {
  field: string;
  spec: FieldSpec;
  test: Test;
  neg: boolean;
  pred: Predicate;
  /** For a comparison of a numeric field: the integers `test` accepts, lo..hi inclusive. */
  range?: [number, number];
  /** For `contains`: the text looked for (`test` is then a substring test for it). */
  contains?: string;
  /** For `matches`: literals every match holds one of (absent when the pattern offers none). */
  literals?: RegexLiterals;
}

export function compileLeaf(n: LeafNode): Leaf {
  const spec = fieldSpec(n.field);
  if (spec === undefined) throw new FilterError(`unknown field '${n.field}'`, n.at);
  const leaf = (test: Test, neg = false): Leaf => {
    const eq = any(spec, test);
    return { field: n.field, spec, test, neg, pred: neg ? (p, c) => !eq(p, c) : eq };
  };
  if (n.k === 'exists') {
    // A protocol or a flag is tested for truth; any other field for presence.
    if (spec.type === 'proto' || spec.type === 'bool') return leaf((x) => x === true);
    return leaf(yes);
  }
  if (spec.type === 'proto') {
    throw new FilterError(`'${n.field}' is a protocol: use it alone or compare one of its fields`, n.at);
  }
  if (n.k === 'cmp') {
    const v = n.value;
    if (n.op === '==' || n.op === '!=') {
      // "!=" means no occurrence equals (Wireshark 3.6 and later), so ip.addr != X drops every packet to or from X.
      const l = leaf(equalsTest(spec, v, n.field), n.op === '!=');
      if (spec.type === 'num') { const k = fieldNumber(spec, n.field, v); l.range = [k, k]; }
      return l;
    }
    if (spec.type !== 'num') throw new FilterError(`'${n.op}' needs a numeric field; '${n.field}' is ${typeName(spec)}`, n.at);
    const k = fieldNumber(spec, n.field, v);
    const t: Test = n.op === '<' ? (x) => (x as number) < k : n.op === '<=' ? (x) => (x as number) <= k
      : n.op === '>' ? (x) => (x as number) > k : (x) => (x as number) >= k;
    const range: [number, number] = n.op === '<' ? [-Infinity, Math.ceil(k) - 1] : n.op === '<=' ? [-Infinity, Math.floor(k)]
      : n.op === '>' ? [Math.floor(k) + 1, Infinity] : [Math.ceil(k), Infinity];
    return { ...leaf(t), range };
  }
  if (n.k === 'contains' || n.k === 'matches') {
    if (spec.type !== 'str') throw new FilterError(`'${n.k}' needs a string field; '${n.field}' is ${typeName(spec)}`, n.at);
    if (n.k === 'contains') { const s = n.value.text; return { ...leaf((x) => (x as string).includes(s)), contains: s }; }
    let re: RegExp;
    // Case-insensitive like Wireshark's matches.
    try { re = new RegExp(n.value.text, 'i'); } catch { throw new FilterError('invalid regular expression', n.value.at); }
    const literals = regexLiterals(n.value.text);
    return literals === undefined ? leaf((x) => re.test(x as string)) : { ...leaf((x) => re.test(x as string)), literals };
  }
  if (n.k !== 'in') throw new FilterError('unreachable', n.at);
  const values = n.values;
  if (spec.type === 'num') {
    const singles = new Set<number>();
    const ranges: Array<[number, number]> = [];
    for (const v of values) {
      const dots = v.kind === 'word' ? v.text.indexOf('..') : -1;
      if (dots > 0) {
        const lo = fieldNumber(spec, n.field, { kind: 'word', text: v.text.slice(0, dots), at: v.at });
        const hi = fieldNumber(spec, n.field, { kind: 'word', text: v.text.slice(dots + 2), at: v.at + dots + 2 });
        ranges.push([lo, hi]);
      } else singles.add(fieldNumber(spec, n.field, v));
    }
    if (ranges.length === 0) return leaf((x) => singles.has(x as number));
    return leaf((x) => {
      if (singles.has(x as number)) return true;
      for (const [lo, hi] of ranges) if ((x as number) >= lo && (x as number) <= hi) return true;
      return false;
    });
  }
  if (spec.type === 'str') {
    const set = new Set(values.map((v) => (spec.norm ? spec.norm(v.text) : v.text)));
    return leaf((x) => set.has(x as string));
  }
  if (spec.type === 'addr') {
    const tests = values.map(addrTest);
    return leaf((x) => { for (const t of tests) if (t(x as string)) return true; return false; });
  }
  const tests = values.map((v) => equalsTest(spec, v, n.field));
  return leaf((x) => tests.some((t) => t(x)));
}

function compileNode(n: Node, fields: Set<string>): Predicate {
  switch (n.k) {
    case 'and': { const a = compileNode(n.a, fields); const b = compileNode(n.b, fields); return (p, c) => a(p, c) && b(p, c); }
    case 'or': { const a = compileNode(n.a, fields); const b = compileNode(n.b, fields); return (p, c) => a(p, c) || b(p, c); }
    case 'not': { const e = compileNode(n.e, fields); return (p, c) => !e(p, c); }
    default: break;
  }
  const leaf = compileLeaf(n);
  fields.add(n.field);
  return leaf.pred;
}

export function compileAst(n: Node): { predicate: Predicate; fields: string[] } {
  const fields = new Set<string>();
  const predicate = compileNode(n, fields);
  return { predicate, fields: [...fields] };
}
