// Display filters over column chunks (shared/ingest/packet-columns.ts) without a packet view per row.
//
// Each chunk is filtered as a list of row numbers: a leaf keeps the rows that pass it, `&&` hands
// the survivors of its left side to its right side, `||` asks its right side only about the rows
// its left side dropped, `!` keeps what its operand dropped. A leaf reads its field one of three ways:
// - numbers held in a column (ports, lengths, sequence numbers, TTL …) are compared in place, the
//   field's presence decided from the row's flag word through a 64 K table;
// - fields decided by one small value (the flag word, the WireGuard type, a chunk-local string id
//   such as the protocol, the TCP flag text, an address, the interface name) are answered once per
//   distinct value, by the leaf's own predicate on a real row of that value, and remembered: exact
//   by construction;
// - the summary is read from the chunk's text directly; anything else (DNS by port) gets the leaf's
//   predicate on a view of the row.
// Rows the columns cannot hold (plain rows) get the whole filter's predicate. A checkpoint label is
// looked up only for the frames that have one (a byte per frame says which).

import { compileLeaf, type Leaf, type LeafNode, type Predicate, type Test } from './compile.ts';
import type { RegexLiterals } from './regex-literals.ts';
import { fieldSpec, type FieldSpec, type FilterCtx } from './fields.ts';
import { parse, type Node } from './parse.ts';
import type { ChunkPackets, LoadedChunk } from '../ingest/packet-columns.ts';
import {
  F_ESP, F_IFINDEX, F_MSS, F_TCP, F_TS, F_UDP, F_V6, F_WG_COUNTER, F_WG_RECEIVER, F_WG_SENDER, F_WSCALE,
} from '../ingest/packet-store.ts';

type U32Col = 'frame' | 'tsSec' | 'tsNsec' | 'caplen' | 'len' | 'seq' | 'ack' | 'tsval' | 'tsecr';
type U16Col = 'ifaceId' | 'ifindex' | 'sport' | 'dport' | 'ipId' | 'ipLen' | 'win' | 'l4len' | 'mss';
type U8Col = 'ttl' | 'ipProto' | 'wscale';
type NumCol = U32Col | U16Col | U8Col;

/** How a column row holds a field. */
type Access =
  /** Present when `has(flags)`; occurrences are the columns (plus `add`); `hi`: a second 32-bit word above `cols[0]`. */
  | { k: 'num'; cols: NumCol[]; has: (fl: number) => boolean; add?: number; hi?: U32Col }
  | { k: 'time' }
  /** The summary text, built from the chunk without a view (LoadedChunk.summaryAt). */
  | { k: 'summary' }
  /** Decided by one small value; see KeyKind. */
  | { k: 'key'; key: KeyKind }
  | { k: 'ctx' };

/**
 * fl: the flag word (global); wg: WireGuard type (global); dir: direction code (global); proto,
 * flags, src: chunk-local string ids; pair: source and destination ids; iface: the name id, or the
 * SLL2 index (global) when the name is empty; const: the same for every column row (fields of headers a
 * column row never has: ICMP, IKE, GRE, VLAN, ARP, firewall logs …, see ColumnView).
 */
type KeyKind = 'fl' | 'wg' | 'dir' | 'proto' | 'flags' | 'src' | 'dst' | 'pair' | 'iface' | 'const';

const ACCESS = new Map<FieldSpec, Access>();
function on(names: string[], a: Access): void {
  for (const n of names) {
    const s = fieldSpec(n);
    if (s === undefined) throw new Error(`column access for unknown filter field ${n}`);
    ACCESS.set(s, a);
  }
}
const always = (): boolean => true;
const tcp = (fl: number): boolean => (fl & F_TCP) !== 0;
const udp = (fl: number): boolean => (fl & F_UDP) !== 0;
const l4 = (fl: number): boolean => (fl & (F_TCP | F_UDP)) !== 0;
const v4 = (fl: number): boolean => (fl & F_V6) === 0;
const esp = (fl: number): boolean => (fl & F_ESP) !== 0;
const bit = (b: number) => (fl: number): boolean => (fl & b) === b;
// These mirror fields.ts's getters for a row packet-columns.ts's ColumnPacket reads back; the
// unit test in test/unit/filter/columns.test.ts holds both paths to the same rows.
on(['frame.number'], { k: 'num', cols: ['frame'], has: always });
on(['frame.len'], { k: 'num', cols: ['len'], has: always });
on(['frame.cap_len'], { k: 'num', cols: ['caplen'], has: always });
on(['frame.time_epoch'], { k: 'time' });
on(['iface.id'], { k: 'num', cols: ['ifaceId'], has: always });
on(['iface.index'], { k: 'num', cols: ['ifindex'], has: bit(F_IFINDEX) });
on(['sport'], { k: 'num', cols: ['sport'], has: l4 });
on(['dport'], { k: 'num', cols: ['dport'], has: l4 });
on(['port'], { k: 'num', cols: ['sport', 'dport'], has: l4 });
on(['ip.ttl'], { k: 'num', cols: ['ttl'], has: v4 });
on(['ipv6.hlim'], { k: 'num', cols: ['ttl'], has: (fl) => !v4(fl) });
on(['ip.id'], { k: 'num', cols: ['ipId'], has: v4 });
on(['ip.len'], { k: 'num', cols: ['ipLen'], has: always });
on(['ip.proto'], { k: 'num', cols: ['ipProto'], has: always });
on(['tcp.port'], { k: 'num', cols: ['sport', 'dport'], has: tcp });
on(['tcp.srcport'], { k: 'num', cols: ['sport'], has: tcp });
on(['tcp.dstport'], { k: 'num', cols: ['dport'], has: tcp });
on(['tcp.seq'], { k: 'num', cols: ['seq'], has: tcp });
on(['tcp.ack'], { k: 'num', cols: ['ack'], has: tcp });
on(['tcp.win'], { k: 'num', cols: ['win'], has: tcp });
on(['tcp.len'], { k: 'num', cols: ['l4len'], has: tcp });
on(['tcp.mss'], { k: 'num', cols: ['mss'], has: bit(F_TCP | F_MSS) });
on(['tcp.wscale'], { k: 'num', cols: ['wscale'], has: bit(F_TCP | F_WSCALE) });
on(['tcp.tsval'], { k: 'num', cols: ['tsval'], has: bit(F_TCP | F_TS) });
on(['tcp.tsecr'], { k: 'num', cols: ['tsecr'], has: bit(F_TCP | F_TS) });
on(['udp.port'], { k: 'num', cols: ['sport', 'dport'], has: udp });
on(['udp.srcport'], { k: 'num', cols: ['sport'], has: udp });
on(['udp.dstport'], { k: 'num', cols: ['dport'], has: udp });
on(['udp.len'], { k: 'num', cols: ['l4len'], has: udp });
on(['udp.length'], { k: 'num', cols: ['l4len'], has: udp, add: 8 });
// WireGuard and ESP fields share the TCP columns (packet-columns.ts encodeChunk).
on(['wg.sender'], { k: 'num', cols: ['seq'], has: bit(F_WG_SENDER) });
on(['wg.receiver'], { k: 'num', cols: ['ack'], has: bit(F_WG_RECEIVER) });
on(['wg.counter'], { k: 'num', cols: ['tsval'], hi: 'tsecr', has: bit(F_WG_COUNTER) });
on(['esp.spi'], { k: 'num', cols: ['seq'], has: esp });
on(['esp.seq'], { k: 'num', cols: ['ack'], has: esp });
on(['tcp', 'udp', 'esp', 'ip', 'ipv6', 'ip.version', 'ip.flags.df'], { k: 'key', key: 'fl' });
on(['wg', 'wg.type'], { k: 'key', key: 'wg' });
on(['dir'], { k: 'key', key: 'dir' });
on(['proto'], { k: 'key', key: 'proto' });
on(['tcp.flags', 'tcp.flags.str', 'tcp.flags.fin', 'tcp.flags.syn', 'tcp.flags.reset', 'tcp.flags.push', 'tcp.flags.ack',
  'tcp.flags.urg', 'tcp.flags.ece', 'tcp.flags.cwr'], { k: 'key', key: 'flags' });
on(['ip.src', 'ipv6.src'], { k: 'key', key: 'src' });
on(['ip.dst', 'ipv6.dst'], { k: 'key', key: 'dst' });
on(['ip.addr', 'ipv6.addr'], { k: 'key', key: 'pair' });
on(['iface'], { k: 'key', key: 'iface' });
on(['checkpoint'], { k: 'ctx' });
on(['summary'], { k: 'summary' });
on(['frame.comment', 'frame.truncated', 'frame.imported', 'ip.flags.mf', 'ip.frag', 'ip.frag_offset', 'natt.keepalive'], { k: 'key', key: 'const' });
for (const n of ['icmp', 'icmpv6', 'ike', 'isakmp', 'gre', 'vxlan', 'vlan', 'arp', 'ah', 'enc', 'ppp', 'fwlog', 'nflog', 'pflog']) {
  const s = fieldSpec(n);
  if (s !== undefined) ACCESS.set(s, { k: 'key', key: 'const' });
}
/** Field names under a header a column row never has (prefix + "."), decided once per run. */
const CONST_PREFIX = /^(icmp|icmpv6|ike|isakmp|gre|vxlan|vlan|arp|ah|enc|ppp|fwlog|nflog|pflog)\./;

function accessOf(field: string, spec: FieldSpec): Access | undefined {
  return ACCESS.get(spec) ?? (CONST_PREFIX.test(field) ? { k: 'key', key: 'const' } : undefined);
}

/** What a run shares with its leaves: checkpoint labels by frame. */
interface RunCtx {
  labels: ReadonlyMap<number, FilterCtx>;
  /** 1 at frame numbers that have a label; frames past its end are looked up in `labels` only when `past`. */
  has: Uint8Array;
  /** Some label is on a frame at or past `has`'s end (it is capped): only then can such a frame have one. */
  past: boolean;
}

/** Keeps the rows of `rows[0..n)` (ascending) that pass, in `out`; returns how many. */
type Eval = (ch: LoadedChunk, rows: Int32Array, n: number, out: Int32Array) => number;

const EMPTY: FilterCtx = {};

/** A buffer of at least n rows, grown by doubling. */
class Scratch {
  a = new Int32Array(256);
  get(n: number): Int32Array {
    if (this.a.length < n) this.a = new Int32Array(Math.max(n, this.a.length * 2));
    return this.a;
  }
}

/** rows minus sub (both ascending, sub a subset of rows) into out. */
function without(rows: Int32Array, n: number, sub: Int32Array, m: number, out: Int32Array): number {
  let j = 0, o = 0;
  for (let i = 0; i < n; i++) {
    const r = rows[i]!;
    if (j < m && sub[j] === r) j++;
    else out[o++] = r;
  }
  return o;
}

function merge(a: Int32Array, n: number, b: Int32Array, m: number, out: Int32Array): number {
  let i = 0, j = 0, o = 0;
  while (i < n && j < m) out[o++] = a[i]! < b[j]! ? a[i++]! : b[j++]!;
  while (i < n) out[o++] = a[i++]!;
  while (j < m) out[o++] = b[j++]!;
  return o;
}

/** Presence of a numeric field by flag word, one table per field (built on first use). */
const PRESENCE = new WeakMap<Access, Uint8Array>();
function presence(a: Extract<Access, { k: 'num' }>): Uint8Array {
  let t = PRESENCE.get(a);
  if (t === undefined) {
    t = new Uint8Array(65536);
    for (let fl = 0; fl < 65536; fl++) t[fl] = a.has(fl) ? 1 : 0;
    PRESENCE.set(a, t);
  }
  return t;
}

function numLeaf(leaf: Leaf, a: Extract<Access, { k: 'num' }>): Eval {
  const { test, neg } = leaf;
  const has = presence(a);
  const add = a.add ?? 0;
  const c0 = a.cols[0]!, c1 = a.cols[1], hi = a.hi;
  if (hi !== undefined) {
    return (ch, rows, n, out) => {
      const cols = ch.cols, fl = cols.fl, lo = cols[c0 as U32Col], up = cols[hi];
      let o = 0;
      for (let i = 0; i < n; i++) {
        const k = rows[i]!;
        const ok = has[fl[k]!] === 1 && test(up[k]! * 4294967296 + lo[k]!);
        if (ok !== neg) out[o++] = k;
      }
      return o;
    };
  }
  // Column values are integers: a comparison is a range test, no call per row.
  const r = leaf.range;
  if (r !== undefined) {
    const lo = r[0] - add, up = r[1] - add;
    if (c1 === undefined) {
      return (ch, rows, n, out) => {
        const cols = ch.cols, fl = cols.fl, v = cols[c0];
        let o = 0;
        for (let i = 0; i < n; i++) {
          const k = rows[i]!;
          const x = v[k]!;
          const ok = has[fl[k]!] === 1 && x >= lo && x <= up;
          if (ok !== neg) out[o++] = k;
        }
        return o;
      };
    }
    return (ch, rows, n, out) => {
      const cols = ch.cols, fl = cols.fl, v = cols[c0], w = cols[c1];
      let o = 0;
      for (let i = 0; i < n; i++) {
        const k = rows[i]!;
        const x = v[k]!, y = w[k]!;
        const ok = has[fl[k]!] === 1 && ((x >= lo && x <= up) || (y >= lo && y <= up));
        if (ok !== neg) out[o++] = k;
      }
      return o;
    };
  }
  if (c1 === undefined) {
    return (ch, rows, n, out) => {
      const cols = ch.cols, fl = cols.fl, v = cols[c0];
      let o = 0;
      for (let i = 0; i < n; i++) {
        const k = rows[i]!;
        const ok = has[fl[k]!] === 1 && test(v[k]! + add);
        if (ok !== neg) out[o++] = k;
      }
      return o;
    };
  }
  return (ch, rows, n, out) => {
    const cols = ch.cols, fl = cols.fl, v = cols[c0], w = cols[c1];
    let o = 0;
    for (let i = 0; i < n; i++) {
      const k = rows[i]!;
      const ok = has[fl[k]!] === 1 && (test(v[k]! + add) || test(w[k]! + add));
      if (ok !== neg) out[o++] = k;
    }
    return o;
  };
}

function timeLeaf(leaf: Leaf): Eval {
  const { test, neg } = leaf;
  return (ch, rows, n, out) => {
    const { tsSec, tsNsec } = ch.cols;
    let o = 0;
    for (let i = 0; i < n; i++) {
      const k = rows[i]!;
      // The same expression as the field's getter, so the same double.
      if (test(tsSec[k]! + tsNsec[k]! / 1e9) !== neg) out[o++] = k;
    }
    return o;
  };
}

/** Keys of rows[0..n) for a key kind into `keys`; chunk-local kinds count from 0 to their table size. */
function fillKeys(kind: KeyKind, ch: LoadedChunk, rows: Int32Array, n: number, keys: Int32Array): void {
  const c = ch.cols;
  const nstr = ch.strs.length;
  // One loop per kind: no call per row.
  if (rows[0] === 0 && rows[n - 1] === n - 1) {
    // Every row of the chunk (rows ascending and distinct): a straight copy of the key column.
    const col = kind === 'fl' ? c.fl : kind === 'wg' ? c.wgType : kind === 'dir' ? c.dir : kind === 'proto' ? c.proto
      : kind === 'src' ? c.src : kind === 'dst' ? c.dst : null;
    if (col !== null) { keys.set(col.subarray(0, n)); return; }
  }
  switch (kind) {
    case 'fl': { const v = c.fl; for (let i = 0; i < n; i++) keys[i] = v[rows[i]!]!; return; }
    case 'wg': { const v = c.wgType; for (let i = 0; i < n; i++) keys[i] = v[rows[i]!]!; return; }
    case 'dir': { const v = c.dir; for (let i = 0; i < n; i++) keys[i] = v[rows[i]!]!; return; }
    case 'proto': { const v = c.proto; for (let i = 0; i < n; i++) keys[i] = v[rows[i]!]!; return; }
    case 'src': { const v = c.src; for (let i = 0; i < n; i++) keys[i] = v[rows[i]!]!; return; }
    case 'dst': { const v = c.dst; for (let i = 0; i < n; i++) keys[i] = v[rows[i]!]!; return; }
    case 'flags': {
      const fl = c.fl, v = c.tflags;
      for (let i = 0; i < n; i++) { const k = rows[i]!; keys[i] = (fl[k]! & F_TCP) !== 0 ? v[k]! + 1 : 0; }
      return;
    }
    case 'pair': {
      const s = c.src, d = c.dst;
      for (let i = 0; i < n; i++) { const k = rows[i]!; keys[i] = s[k]! * nstr + d[k]!; }
      return;
    }
    case 'iface': {
      // An empty name shows as its SLL2 index (or nothing): those rows key below zero, on the index
      // alone (the same answer in every chunk).
      const name = c.name, fl = c.fl, ifindex = c.ifindex, strs = ch.strs;
      const named = new Uint8Array(nstr);
      for (let j = 0; j < nstr; j++) named[j] = strs[j] !== '' ? 1 : 0;
      for (let i = 0; i < n; i++) {
        const k = rows[i]!;
        const id = name[k]!;
        keys[i] = named[id] === 1 ? id : -1 - ((fl[k]! & F_IFINDEX) !== 0 ? ifindex[k]! : 65536);
      }
      return;
    }
    case 'const': keys.fill(0, 0, n); return;
  }
}

const GLOBAL_SIZE: Partial<Record<KeyKind, number>> = { fl: 65536, wg: 256, dir: 256, const: 1 };

function keyLeaf(leaf: Leaf, kind: KeyKind): Eval {
  const pred = leaf.pred;
  const global = GLOBAL_SIZE[kind];
  // Answers: -1 not asked yet, else 0/1. Global kinds keep theirs for the whole run (no string ids).
  let table = new Int8Array(global ?? 0).fill(-1);
  // iface rows without a name, by SLL2 index (65536: no index): global, like the kinds above.
  const unnamed = new Int8Array(kind === 'iface' ? 65537 : 0).fill(-1);
  let map: Map<number, boolean> | null = null;
  let last: LoadedChunk | null = null;
  const keyBuf = new Scratch();
  return (ch, rows, n, out) => {
    if (global === undefined && last !== ch) {
      last = ch;
      const nstr = ch.strs.length;
      const size = kind === 'pair' ? nstr * nstr : kind === 'flags' ? nstr + 1 : nstr;
      // A dense table while it is small; a Map past that (many addresses in one chunk).
      if (size <= 4 * 65536) {
        if (table.length < size) table = new Int8Array(size);
        table.fill(-1, 0, size);
        map = null;
      } else map = new Map();
    }
    if (kind === 'const' && n > 0) {
      // One answer for every column row: asked once, then all rows or none.
      if (table[0]! < 0) table[0] = pred(ch.at(rows[0]!)!, EMPTY) ? 1 : 0;
      if (table[0] === 0) return 0;
      out.set(rows.subarray(0, n));
      return n;
    }
    const keys = keyBuf.get(n);
    fillKeys(kind, ch, rows, n, keys);
    let o = 0;
    if (map !== null) {
      for (let i = 0; i < n; i++) {
        const k = rows[i]!;
        let ok = map.get(keys[i]!);
        if (ok === undefined) { ok = pred(ch.at(k)!, EMPTY); map.set(keys[i]!, ok); }
        if (ok) out[o++] = k;
      }
      return o;
    }
    const t = table;
    if (kind === 'iface') {
      for (let i = 0; i < n; i++) {
        const kk = keys[i]!;
        const tt = kk < 0 ? unnamed : t;
        const j = kk < 0 ? -1 - kk : kk;
        let ok = tt[j]!;
        if (ok < 0) { ok = pred(ch.at(rows[i]!)!, EMPTY) ? 1 : 0; tt[j] = ok; }
        if (ok === 1) out[o++] = rows[i]!;
      }
      return o;
    }
    for (let i = 0; i < n; i++) {
      const kk = keys[i]!;
      let ok = t[kk]!;
      if (ok < 0) { ok = pred(ch.at(rows[i]!)!, EMPTY) ? 1 : 0; t[kk] = ok; }
      if (ok === 1) out[o++] = rows[i]!;
    }
    return o;
  };
}

function summaryLeaf(leaf: Leaf): Eval {
  const { test, neg } = leaf;
  const perRow: Eval = (ch, rows, n, out) => {
    let o = 0;
    for (let i = 0; i < n; i++) {
      const k = rows[i]!;
      if (test(ch.summaryAt(k)) !== neg) out[o++] = k;
    }
    return o;
  };
  if (leaf.contains !== undefined && leaf.contains !== '') return containsLeaf(leaf.contains, neg, perRow);
  return leaf.literals !== undefined ? matchesLeaf(leaf.literals, test, neg, perRow) : perRow;
}

/** Characters a summary's lead-in holds apart from the addresses: "IP6 a.1 > b.2: ". */
const LEAD_CHARS = 'IP6 >:.0123456789';

/** What one lead-in says about a needle: whether it holds it whole, and the needle's rests that would complete it from the row's own text. */
interface LeadMatch { inLead: boolean; rests: string[] }

/**
 * How many chunks `summary matches` tests row by row after one where most rows held a literal, doubled
 * (up to 63) each time the next search finds the same; tests set 0 to search every chunk.
 */
export const matchesTuning = { denseChunks: 15 };

/**
 * `summary contains` without a string per row: the chunk's own texts (held as one string) are
 * searched whole, and a hit counts for the row it starts in if it ends there too. A summary's
 * lead-in is not in that text (it is rebuilt from the columns), so a needle that can start in one
 * is also tried against each distinct lead-in, once per chunk, with the rest of it against the row's
 * own text. A few rows (what an `&&` left over) are cheaper one by one.
 */
function containsLeaf(needle: string, neg: boolean, perRow: Eval): Eval {
  return textLeaf([needle], false, null, neg, perRow);
}

/**
 * `summary matches` without a summary per row: the pattern's required literals (regex-literals.ts)
 * are searched for as `summary contains` searches its text, case-insensitively, and only the rows
 * holding one run the regular expression, on their summary built as the per-row path builds it. A
 * pattern that is a plain literal (or an alternation of them) needs no regex run at all.
 */
function matchesLeaf(lits: RegexLiterals, test: Test, neg: boolean, perRow: Eval): Eval {
  return textLeaf(lits.alts, true, lits.whole ? null : test, neg, perRow);
}

/**
 * The rows whose summary holds one of `alts` (in any case when `folded`: alts are then lower case),
 * found in the chunk's text and lead-ins; with `test`, only those rows then run it. Where most rows
 * hold a literal the search only adds to the per-row cost of `test`, so the next chunks go row by
 * row, with a search again now and then (less often while it keeps finding the same) in case the
 * capture changes.
 */
function textLeaf(alts: string[], folded: boolean, test: Test | null, neg: boolean, perRow: Eval): Eval {
  // Letters in any case need a case-insensitive search: the engine's own (one pass for every
  // literal). Otherwise the text is searched as it is, literal by literal.
  const letters = folded && alts.some((a) => /[a-z]/.test(a));
  // Shortest first: where a literal runs past its row's end, no longer one from the same place ends inside.
  const search = letters ? new RegExp(alts.slice().sort((a, b) => a.length - b.length).map(escapeRegex).join('|'), 'gi') : null;
  const single = alts.length === 1 ? alts[0]!.length : 0;
  const leadChars = folded ? LEAD_CHARS_FOLDED : LEAD_CHARS;
  let hit = new Uint8Array(0);
  let rowByRow = 0, stretch = 0;
  // Where each literal is looked for first (anchorOf), chosen again every ANCHOR_CHUNKS searched chunks.
  const anchors = alts.map(() => -1);
  let searched = 0;
  return (ch, rows, n, out) => {
    const len = ch.length;
    if (n * 8 < len) return perRow(ch, rows, n, out);
    if (rowByRow > 0) { rowByRow--; return perRow(ch, rows, n, out); }
    if (hit.length < len) hit = new Uint8Array(len); else hit.fill(0, 0, len);
    if (search === null) {
      const choose = searched++ % ANCHOR_CHUNKS === 0;
      alts.forEach((a, i) => {
        if (choose) anchors[i] = anchorOf(ch.sum, a);
        ownTextHits(ch, a, anchors[i]!, hit);
      });
    } else ownTextHitsFolded(ch, search, single, hit);
    const leadAlts = alts.filter((a) => (a.includes(' ') ? leadChars.includes(a[0]!) || addressHolds(ch, a[0]!, folded) : leadMayHold(ch, a, folded)));
    if (leadAlts.length > 0) leadHits(ch, leadAlts, folded, rows, n, hit);
    let o = 0, candidates = 0;
    for (let i = 0; i < n; i++) {
      const k = rows[i]!;
      let ok = hit[k] === 1;
      if (ok && test !== null) { candidates++; ok = test(ch.summaryAt(k)); }
      if (ok !== neg) out[o++] = k;
    }
    if (candidates * 3 > n * 2) rowByRow = stretch = stretch === 0 ? matchesTuning.denseChunks : Math.min(63, stretch * 2 + 1);
    else stretch = 0;
    return o;
  };
}

const LEAD_CHARS_FOLDED = LEAD_CHARS.toLowerCase();

function escapeRegex(s: string): string {
  return s.replace(/[\\^$.*+?()[\]{}|/-]/g, '\\$&');
}

/** ASCII letters to lower case, nothing else (what a case-insensitive match without the u flag folds to). */
function asciiLower(s: string): string {
  return /[A-Z]/.test(s) ? s.replace(/[A-Z]+/g, (m) => m.toLowerCase()) : s;
}

/** Whether `text` at `at` holds `folded` (lower-case ASCII) in any case. */
function startsWithFolded(text: string, folded: string, at: number): boolean {
  if (at + folded.length > text.length) return false;
  for (let j = 0; j < folded.length; j++) {
    let c = text.charCodeAt(at + j);
    if (c >= 65 && c <= 90) c += 32;
    if (c !== folded.charCodeAt(j)) return false;
  }
  return true;
}

/**
 * ownTextHits for a case-insensitive search (`gi`) of one or more literals. One literal of length
 * `single` needs only where a match ends (test is cheaper than exec); several need where it starts.
 */
function ownTextHitsFolded(ch: LoadedChunk, re: RegExp, single: number, hit: Uint8Array): void {
  const sum = ch.sum, off = ch.sumOff;
  let r = 0;
  re.lastIndex = 0;
  if (single > 0) {
    while (re.test(sum)) {
      const e = re.lastIndex, p = e - single;
      while (off[r + 1]! <= p) r++;
      const end = off[r + 1]!;
      if (e <= end) hit[r] = 1;
      // A later start in this row would run past its end too.
      re.lastIndex = end;
    }
    return;
  }
  for (let m = re.exec(sum); m !== null; m = re.exec(sum)) {
    const p = m.index;
    while (off[r + 1]! <= p) r++;
    const end = off[r + 1]!;
    if (p + m[0].length <= end) { hit[r] = 1; re.lastIndex = end; } else re.lastIndex = p + 1;
  }
}

/** Searched chunks a literal's anchor (anchorOf) is kept for: its choice samples the text, which costs a little per chunk. */
const ANCHOR_CHUNKS = 8;

/** A port, or its end with the lead-in's closing colon: what can follow the dot after an address. */
const PORT_TAIL = /^[0-9]*:?$/;

/**
 * Whether a lead-in of the chunk ("IP a.1 > b.2: ", `IP6`, no ports for other protocols) can hold
 * `needle`, a literal without a space; `folded`: needle in lower case, lead-ins in any case. False
 * only when none can: the literal then lies inside one of the lead-in's words, "IP6", ">", the source
 * (address, or address.port) or the destination with the colon, so it is part of an address, or an
 * address's end, a dot and a port's digits, or digits with the colon, or an address's end and the
 * colon.
 */
function leadMayHold(chunk: LoadedChunk, needle: string, folded: boolean): boolean {
  if ((folded ? 'ip6' : 'IP6').includes(needle) || needle === '>' || PORT_TAIL.test(needle)) return true;
  const dot = needle.lastIndexOf('.');
  const beforeDot = dot >= 0 && PORT_TAIL.test(needle.slice(dot + 1)) ? needle.slice(0, dot) : null;
  const beforeColon = needle.endsWith(':') ? needle.slice(0, -1) : null;
  for (const s of leadAddresses(chunk, folded)) {
    // An address with a space (no decoder writes one) would break the lead-in's words apart.
    if (s.includes(' ')) return true;
    if (s.includes(needle) || (beforeDot !== null && s.endsWith(beforeDot)) || (beforeColon !== null && s.endsWith(beforeColon))) return true;
  }
  return false;
}

/** Whether some address a lead-in of the chunk shows holds `ch` (the chunk's strings are also interface names, protocols, TCP flags); `folded`: in any case. */
function addressHolds(chunk: LoadedChunk, c: string, folded: boolean): boolean {
  return leadAddresses(chunk, folded).some((a) => a.includes(c));
}

/** The addresses lead-ins show, per chunk (as they are, and in lower case): the same on every search of the session. */
const leadAddressCache = new WeakMap<LoadedChunk, { asIs: string[]; lower: string[] }>();

/** The distinct addresses the chunk's lead-ins show; `folded`: in lower case. */
function leadAddresses(chunk: LoadedChunk, folded: boolean): string[] {
  let known = leadAddressCache.get(chunk);
  if (known === undefined) {
    const { src, dst, sumLead } = chunk.cols;
    const used = new Uint8Array(chunk.strs.length);
    for (let k = 0; k < chunk.length; k++) if (sumLead[k] === 1) { used[src[k]!] = 1; used[dst[k]!] = 1; }
    const asIs = chunk.strs.filter((_, id) => used[id] === 1);
    known = { asIs, lower: asIs.map(asciiLower) };
    leadAddressCache.set(chunk, known);
  }
  return folded ? known.lower : known.asIs;
}

/** Marks the rows whose own text (the summary after any lead-in) holds `needle`, searched for from its character `j` (anchorOf; -1: the whole needle). */
export function ownTextHits(ch: LoadedChunk, needle: string, j: number, hit: Uint8Array): void {
  const sum = ch.sum, off = ch.sumOff;
  let r = 0;
  // Each candidate start p: the row it falls in, a hit if it ends there too; either way the next
  // candidate is looked for from the row's end (a later start in the same row would run past it too).
  if (j < 0) {
    for (let p = sum.indexOf(needle); p >= 0;) {
      while (off[r + 1]! <= p) r++;
      const end = off[r + 1]!;
      if (p + needle.length <= end) hit[r] = 1;
      p = sum.indexOf(needle, end);
    }
    return;
  }
  const part = needle.slice(j, j + ANCHOR_LEN);
  for (let q = sum.indexOf(part, j); q >= 0;) {
    const p = q - j;
    if (!sum.startsWith(needle, p)) { q = sum.indexOf(part, q + 1); continue; }
    while (off[r + 1]! <= p) r++;
    const end = off[r + 1]!;
    if (p + needle.length <= end) hit[r] = 1;
    q = sum.indexOf(part, end + j);
  }
}

/** Characters of a chunk's text that anchorOf samples, in SAMPLE_PIECES pieces spread over it (a chunk's rows change kind: UDP carriers, then TCP). */
const SAMPLE_CHARS = 4096;
const SAMPLE_PIECES = 4;

function sampleOf(text: string): string {
  if (text.length <= SAMPLE_CHARS) return text;
  const piece = SAMPLE_CHARS / SAMPLE_PIECES, step = Math.floor(text.length / SAMPLE_PIECES);
  let out = '';
  for (let i = 0; i < SAMPLE_PIECES; i++) out += text.slice(i * step, i * step + piece);
  return out;
}

/**
 * Longest piece of a needle anchorOf hands to the engine: V8 finds a needle of up to six characters
 * by its first one (memchr) and compares the rest in place, a longer one with Boyer-Moore-Horspool.
 */
const ANCHOR_LEN = 6;

/** How often `part` occurs in `text` (overlaps counted). */
function occurrences(text: string, part: string): number {
  let n = 0;
  for (let p = text.indexOf(part); p >= 0; p = text.indexOf(part, p + 1)) n++;
  return n;
}

/** Longest needle anchorOf weighs: past it, the engine's Boyer-Moore-Horspool skips far anyway. */
const ANCHOR_MAX_NEEDLE = 64;

/** Shift table of anchorOf's Boyer-Moore-Horspool estimate, for characters below 256 (a needle's others keep the default). */
const bmhShift = new Uint8Array(256);

/**
 * Where to start looking for `needle` in `text`: the position j of a piece of it (up to ANCHOR_LEN
 * characters from j) that the engine finds fastest, each find then checked against the whole
 * needle; -1 to let the engine search for the whole needle itself. The engine's search crawls when
 * the needle's first character is everywhere (a number or an address among sequence numbers and
 * lengths) or, for longer needles, when the text is made of the needle's own characters (short
 * skips): 3-6x slower here than a piece that starts with a rare character, found at memchr speed.
 * Costs are counted on a sample of the text: a scan, plus the finds of a piece's first character,
 * plus the finds of the whole piece that are not the needle (each a JS check, about 32 finds); the
 * whole needle costs a scan plus the finds of its first character (up to six characters) or its
 * Boyer-Moore-Horspool steps. The choice changes only the speed, never the rows found.
 */
export function anchorOf(text: string, needle: string): number {
  const len = needle.length;
  // A one-character piece would be checked in JS at every find: the whole needle is as fast. A long
  // needle (up to a pasted line: the filter text is the user's, unbounded) is the engine's own
  // search too: weighing each of its pieces would cost its length times the sample.
  if (len < 3 || len > ANCHOR_MAX_NEEDLE) return -1;
  const sample = sampleOf(text);
  const scan = sample.length / 16;
  const real = occurrences(sample, needle);
  let best = -1, bestCost = Infinity;
  for (let j = 0; j + 1 < len; j++) {
    const part = needle.slice(j, j + ANCHOR_LEN);
    // A piece that is the whole needle (j = 0, six characters or fewer) is the engine's own search.
    if (part === needle) continue;
    const cost = scan + occurrences(sample, needle[j]!) + 32 * (occurrences(sample, part) - real);
    if (cost < bestCost) { bestCost = cost; best = j; }
  }
  let whole = scan;
  if (len <= ANCHOR_LEN) whole += occurrences(sample, needle[0]!);
  else {
    // Boyer-Moore-Horspool's steps over the sample.
    for (let j = 0; j < len - 1; j++) { const c = needle.charCodeAt(j); if (c < 256) bmhShift[c] = len - 1 - j; }
    let sumShift = 0;
    for (let i = 0; i < sample.length; i++) { const c = sample.charCodeAt(i); sumShift += c < 256 && bmhShift[c]! > 0 ? bmhShift[c]! : len; }
    for (let j = 0; j < len - 1; j++) { const c = needle.charCodeAt(j); if (c < 256) bmhShift[c] = 0; }
    whole += sample.length === 0 ? 0 : (sample.length * sample.length) / sumShift;
  }
  return best >= 0 && bestCost * 1.2 < whole ? best : -1;
}

/** Slots of leadHits' cache of recent lead-ins: `-i any` interleaves a flow's two directions with their carriers'. */
const LEAD_SLOTS = 64;

/** Marks the rows among `rows` whose lead-in holds one of `needles`, or starts one and their own text ends it; `folded`: needles in lower case, matched in any case. */
function leadHits(ch: LoadedChunk, needles: string[], folded: boolean, rows: Int32Array, n: number, hit: Uint8Array): void {
  const c = ch.cols, off = ch.sumOff, sum = ch.sum;
  // Lead-ins by addresses (ids) and IP version, then by ports; recent ones in a small direct-mapped cache.
  const byAddr = new Map<number, Map<number, LeadMatch>>();
  const slotK1 = new Float64Array(LEAD_SLOTS).fill(-1), slotK2 = new Float64Array(LEAD_SLOTS);
  const slotM: Array<LeadMatch | null> = new Array<LeadMatch | null>(LEAD_SLOTS).fill(null);
  for (let i = 0; i < n; i++) {
    const k = rows[i]!;
    if (hit[k] === 1 || c.sumLead[k] !== 1) continue;
    const fl = c.fl[k]!;
    const ports = (fl & (F_TCP | F_UDP)) !== 0;
    const src = c.src[k]!, dst = c.dst[k]!, sport = ports ? c.sport[k]! : 0, dport = ports ? c.dport[k]! : 0;
    const k1 = (src * 65536 + dst) * 4 + ((fl & F_V6) !== 0 ? 2 : 0) + (ports ? 1 : 0);
    const k2 = sport * 65536 + dport;
    const slot = (src * 7 + dst * 13 + sport * 3 + dport) & (LEAD_SLOTS - 1);
    let m: LeadMatch;
    if (slotK1[slot] === k1 && slotK2[slot] === k2) m = slotM[slot]!;
    else {
      let byPorts = byAddr.get(k1);
      if (byPorts === undefined) byAddr.set(k1, (byPorts = new Map()));
      let found = byPorts.get(k2);
      if (found === undefined) {
        const whole = ch.summaryAt(k);
        const lead = whole.slice(0, whole.length - (off[k + 1]! - off[k]!));
        found = leadMatch(folded ? asciiLower(lead) : lead, needles);
        byPorts.set(k2, found);
      }
      m = found;
      slotK1[slot] = k1; slotK2[slot] = k2; slotM[slot] = m;
    }
    if (m.inLead) { hit[k] = 1; continue; }
    for (const rest of m.rests) {
      if (off[k]! + rest.length <= off[k + 1]! && (folded ? startsWithFolded(sum, rest, off[k]!) : sum.startsWith(rest, off[k]))) { hit[k] = 1; break; }
    }
  }
}

function leadMatch(lead: string, needles: string[]): LeadMatch {
  const rests: string[] = [];
  let inLead = false;
  for (const needle of needles) {
    if (lead.includes(needle)) inLead = true;
    for (let j = Math.min(needle.length - 1, lead.length); j >= 1; j--) if (lead.endsWith(needle.slice(0, j))) rests.push(needle.slice(j));
  }
  return { inLead, rests };
}

function ctxLeaf(leaf: Leaf, run: RunCtx): Eval {
  const pred = leaf.pred;
  return (ch, rows, n, out) => {
    const frame = ch.cols.frame;
    const has = run.has;
    const past = run.past;
    let unlabelled: boolean | undefined;
    let o = 0;
    for (let i = 0; i < n; i++) {
      const k = rows[i]!;
      const f = frame[k]!;
      let ok: boolean;
      // Most frames lie past the last label: a Map lookup for each of them costs more than the scan.
      if (f < has.length ? has[f] === 1 : past && run.labels.has(f)) ok = pred(ch.at(k)!, run.labels.get(f) ?? EMPTY);
      else ok = (unlabelled ??= pred(ch.at(k)!, EMPTY));
      if (ok) out[o++] = k;
    }
    return o;
  };
}

function viewLeaf(leaf: Leaf): Eval {
  const pred = leaf.pred;
  return (ch, rows, n, out) => {
    let o = 0;
    for (let i = 0; i < n; i++) {
      const k = rows[i]!;
      if (pred(ch.at(k)!, EMPTY)) out[o++] = k;
    }
    return o;
  };
}

function compileEval(n: Node, run: RunCtx, useColumns: boolean): Eval {
  switch (n.k) {
    case 'and': {
      const a = compileEval(n.a, run, useColumns), b = compileEval(n.b, run, useColumns);
      const t = new Scratch();
      return (ch, rows, m, out) => {
        const t1 = t.get(m);
        return b(ch, t1, a(ch, rows, m, t1), out);
      };
    }
    case 'or': {
      const a = compileEval(n.a, run, useColumns), b = compileEval(n.b, run, useColumns);
      const s1 = new Scratch(), s2 = new Scratch(), s3 = new Scratch();
      return (ch, rows, m, out) => {
        const t1 = s1.get(m), t2 = s2.get(m), t3 = s3.get(m);
        const n1 = a(ch, rows, m, t1);
        if (n1 === m) { out.set(t1.subarray(0, n1)); return n1; }
        const n2 = without(rows, m, t1, n1, t2);
        const n3 = b(ch, t2, n2, t3);
        return merge(t1, n1, t3, n3, out);
      };
    }
    case 'not': {
      const e = compileEval(n.e, run, useColumns);
      const s = new Scratch();
      return (ch, rows, m, out) => {
        const t1 = s.get(m);
        return without(rows, m, t1, e(ch, rows, m, t1), out);
      };
    }
    default: break;
  }
  const leaf = compileLeaf(n as LeafNode);
  const a = accessOf(leaf.field, leaf.spec);
  if (a?.k === 'ctx') return ctxLeaf(leaf, run);
  if (!useColumns || a === undefined) return viewLeaf(leaf);
  if (a.k === 'num') return numLeaf(leaf, a);
  if (a.k === 'time') return timeLeaf(leaf);
  if (a.k === 'summary') return summaryLeaf(leaf);
  return keyLeaf(leaf, a.key);
}

let resultBuf = new Uint32Array(0);
const LABEL_BYTES_MAX = 1 << 24;

/** A filter compiled for column chunks. */
export interface ColumnFilter {
  /** Positions (in `list`) of the packets that pass, ascending; `labels`: checkpoint contexts by frame. */
  run(list: ChunkPackets, labels?: ReadonlyMap<number, FilterCtx>): Uint32Array;
}

/**
 * Compiles `src` for column chunks; throws FilterError as compileFilter reports it. `useColumns`
 * false evaluates every leaf on row views (the reference the tests hold the column path to).
 */
export function columnFilter(src: string, useColumns = true): ColumnFilter {
  const root = parse(src);
  const run: RunCtx = { labels: new Map(), has: new Uint8Array(0), past: false };
  const root_ = compileEval(root, run, useColumns);
  const whole = compileWhole(root);
  const rowsBuf = new Scratch(), outBuf = new Scratch();
  let identity = new Int32Array(0);
  return {
    run(list, labels = new Map()) {
      let maxFrame = 0;
      for (const f of labels.keys()) if (f > maxFrame) maxFrame = f;
      // Frames are file positions; a label past the cap (not seen from an analysis) is found in the Map.
      const has = new Uint8Array(labels.size ? Math.min(maxFrame + 1, LABEL_BYTES_MAX) : 0);
      let past = false;
      for (const f of labels.keys()) {
        if (!(f >= 0 && f < has.length)) past = true;
        else if (Number.isInteger(f)) has[f] = 1;
      }
      run.labels = labels;
      run.has = has;
      run.past = past;
      // One buffer for every run (a worker filters one capture at a time); the answer is a copy of its start.
      if (resultBuf.length < list.length) resultBuf = new Uint32Array(list.length);
      const result = resultBuf;
      let total = 0;
      let base = 0;
      for (const ch of list.chunks) {
        const n = ch.length;
        const isPlain = ch.cols.isPlain;
        // Most chunks hold no plain row: their row list is 0..n-1, kept from chunk to chunk.
        const plain = isPlain.indexOf(1) < 0 ? 0 : 1;
        let rows: Int32Array;
        let m = 0;
        if (plain === 0) {
          if (identity.length < n) {
            identity = new Int32Array(Math.max(n, 2 * identity.length));
            for (let k = 0; k < identity.length; k++) identity[k] = k;
          }
          rows = identity;
          m = n;
        } else {
          rows = rowsBuf.get(n);
          for (let k = 0; k < n; k++) if (isPlain[k] === 0) rows[m++] = k;
        }
        const out = outBuf.get(n);
        const passed = m > 0 ? root_(ch, rows, m, out) : 0;
        if (plain === 0) {
          for (let i = 0; i < passed; i++) result[total++] = base + out[i]!;
        } else {
          // Plain rows (the decoder's own objects) with the whole predicate, merged in row order.
          let j = 0;
          for (let k = 0; k < n; k++) {
            if (isPlain[k] === 0) {
              if (j < passed && out[j] === k) { result[total++] = base + k; j++; }
              continue;
            }
            const p = ch.at(k)!;
            if (whole(p, labels.get(p.frame) ?? EMPTY)) result[total++] = base + k;
          }
        }
        base += n;
      }
      return result.slice(0, total);
    },
  };
}

function compileWhole(n: Node): Predicate {
  switch (n.k) {
    case 'and': { const a = compileWhole(n.a), b = compileWhole(n.b); return (p, c) => a(p, c) && b(p, c); }
    case 'or': { const a = compileWhole(n.a), b = compileWhole(n.b); return (p, c) => a(p, c) || b(p, c); }
    case 'not': { const e = compileWhole(n.e); return (p, c) => !e(p, c); }
    default: return compileLeaf(n).pred;
  }
}
