// `summary matches` over column chunks searches each chunk's text for what every match must contain
// (shared/filter/regex-literals.ts) and runs the regular expression only on the rows that hold it
// (shared/filter/columns.ts, matchesLeaf). These tests build hundreds of patterns from real summaries
// (pieces cut inside the lead-in, across its end, inside the own text, across two rows; then escaped,
// case-changed, given classes, quantifiers, anchors, alternatives, groups, backreferences,
// lookarounds) and hold that path to the per-row one, and the extracted literals to every summary.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileFilter, quoteFilterString } from '../../../shared/filter/index.ts';
import { columnFilter, matchesTuning } from '../../../shared/filter/columns.ts';
import { regexLiterals } from '../../../shared/filter/regex-literals.ts';
import type { ChunkPackets } from '../../../shared/ingest/packet-columns.ts';
import type { Packet } from '../../../shared/protocols/packet.ts';
import { chunked, drawRow, rng, summaryPackets } from './helpers.ts';

// IPv4 and IPv6 (hex letters in the lead-in) with and without ports, ESP, ICMP, tunnels, ARP (plain rows).
const FILES = ['pim-packet-assortment.pcap', 'icmpv6.pcap', '08-sunrise-sunset-esp2.pcap', 'resp_3_malicious.pcap',
  'of13_ericsson.pcapng', 'various_gre.pcap', 'arp-oobr.pcap', 'dns_fwdptr.pcap', 'gso-ipv6.pcap', 'quic_retry.pcap',
  'ISAKMP_sa_setup.pcap', 'ssh.pcap'];

const allPackets = (): Promise<Packet[]> => summaryPackets(FILES, ['A-any.pcap', 'B-any.pcap', 'B.pcapng', 'A.txt']);

const esc = (s: string): string => s.replace(/[\\^$.*+?()[\]{}|/]/g, '\\$&');

/** Pieces of real summaries, cut where the column path has seams; `seams`: the pieces that run from one row into the next. */
function pieces(list: ChunkPackets, r: () => number, count: number, seams: string[]): string[] {
  const out: string[] = [];
  const chunks = list.chunks.filter((c) => c.length > 1);
  while (out.length < count) {
    const row = drawRow(chunks, r);
    if (row === null) continue;
    const { ch, k, whole, ownLen, leadLen } = row;
    const cut = (a: number, b: number): void => { if (b > a) out.push(whole.slice(Math.max(0, a), Math.min(whole.length, b))); };
    const at = Math.floor(r() * whole.length);
    cut(at, at + 1 + Math.floor(r() * 16));
    if (leadLen > 0) {
      cut(Math.floor(r() * leadLen), leadLen + Math.floor(r() * 10));
      cut(leadLen - 1 - Math.floor(r() * 4), leadLen + 1 + Math.floor(r() * 6));
    }
    // One row's end and the next row's start: one string in the chunk, two summaries.
    const next = ch.sum.slice(ch.sumOff[k + 1]!, ch.sumOff[k + 2]!);
    if (ownLen >= 3 && next.length >= 3) {
      const seam = ch.sum.slice(ch.sumOff[k + 1]! - 3, ch.sumOff[k + 1]! + 3);
      out.push(seam);
      seams.push(seam);
    }
  }
  return out;
}

/** Changes the case of some letters. */
function recase(s: string, r: () => number): string {
  let o = '';
  for (const c of s) o += r() < 0.4 ? (c === c.toLowerCase() ? c.toUpperCase() : c.toLowerCase()) : c;
  return o;
}

/** A regex built from a piece of a summary: one of many shapes, each a way the analysis could go wrong. */
function shape(p: string, q: string, r: () => number): string {
  const e = esc(p);
  const cutAt = 1 + Math.floor(r() * Math.max(1, p.length - 1));
  const a = esc(p.slice(0, cutAt)), b = esc(p.slice(cutAt));
  const c = p[cutAt - 1] ?? 'x';
  const cls = /[a-z]/i.test(c) ? `[${c.toLowerCase()}${c.toUpperCase()}]` : `[${esc(c)}]`;
  const shapes: Array<() => string> = [
    () => e,
    () => recase(e, r),
    () => `${a}${b}`.toUpperCase().replace(/\\([A-Z])/g, (_, x: string) => `\\${x.toLowerCase()}`),
    () => `${esc(p.slice(0, cutAt - 1))}${cls}${b}`,
    () => `${esc(p.slice(0, cutAt - 1))}${cls}+${b}`,
    () => `${esc(p.slice(0, cutAt - 1))}${cls}{2,}${b}`,
    () => `${a}.${b}`,
    () => `${a}.*${b}`,
    () => `${a}.+?${b}`,
    () => `${a}\\d*${b}`,
    () => `${e.replace(/[0-9]/g, '\\d')}`,
    () => `${e.replace(/[0-9]+/g, '[0-9]+')}`,
    () => `${a}?${b}`,
    () => `${a}*${b}`,
    () => `(?:${a})?${b}`,
    () => `(${a})+${b}`,
    () => `${a}{1,3}${b}`,
    () => `${a}{2}${b}`,
    () => `${a}{0}${b}`,
    () => `^${e}`,
    () => `${e}$`,
    () => `^${e}$`,
    () => `${a}$|${b}`,
    () => `${e}|${esc(q)}`,
    () => `${a}|${b}`,
    () => `(?:${a}|${esc(q)})${b}`,
    () => `${a}(${b}|zzz)`,
    () => `${a}|`,
    () => `(${a})\\1`,
    () => `(${a})${b}\\1?`,
    () => `(?<w>${a})${b}\\k<w>`,
    () => `${a}(?=${b})`,
    () => `${a}(?!${b})`,
    () => `(?<=${a})${b}`,
    () => `(?<!${a})${b}`,
    () => `\\b${e}`,
    () => `${a}\\B${b}`,
    () => `[^${esc(c)}]${b}`,
    () => `${a}[\\s\\S]${b}`,
    () => `${a}\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}${b}`,
    () => `${a}\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}${b}`,
    () => `${a}[${esc(c)}-~]${b}`,
    () => `${a}{${b}`,
    () => `${a}}${b}]`,
    () => `${e}\\.?\\d{1,5}`,
    () => `(?:(${a})|${b})+`,
    () => `${a}\\${b.length > 0 ? '' : 'x'}${b}`,
  ];
  return shapes[Math.floor(r() * shapes.length)]!();
}

/** Whether `src` compiles as a regex the filter accepts. */
function compiles(re: string): boolean {
  try { new RegExp(re, 'i'); return true; } catch { return false; }
}

function patterns(list: ChunkPackets, seed: number): string[] {
  const r = rng(seed);
  const seams: string[] = [];
  const ps = pieces(list, r, 260, seams);
  const out = new Set<string>(['unreach', 'length 0$', 'Flags \\[S\\]', '10\\.0\\.0\\.[0-9]+', 'wg|esp', 'seq 1:', 'UDP', 'udp, LENGTH',
    'ip6', '^IP6 ', 'fe80', 'FE80::', '> ff02', ': ', 'IP ', '\\.51820 >', '(?:ESP|UDP)\\(', 'colou?r', 'a|', '.', '', 'é', 'İ',
    'ip|', '(?i:ip)', '[]', '[^]', '(', 'a)', '[ab', '*ip', 'ip**', '\\', '(?<x>a)(?<x>b)', '(?<x>a)\\k<y>', 'a{2,1}', '(?<=a', 'ack \\d+, win \\d+', '\\bseq\\b', 'options \\[', 'length (0|1)$', 'ISAKMP', 'isakmp|esp|udp']);
  for (let i = 0; i < ps.length; i++) out.add(shape(ps[i]!, ps[(i * 7 + 3) % ps.length]!, r));
  // Alternatives of which one runs past the row's end and another, from the same place or later, ends inside it.
  for (const x of seams.slice(0, 40)) {
    const i = Math.floor(r() * 3), j = i + Math.floor(r() * (3 - i));
    out.add(`${esc(x.slice(i))}|${esc(x.slice(j, 3))}`);
    out.add(`${recase(esc(x.slice(j, 3)), r)}|${esc(x.slice(i))}`);
  }
  return [...out];
}

test('summary matches over column chunks passes exactly the rows the per-row path passes', { timeout: 600_000 }, async () => {
  const packets = await allPackets();
  assert.ok(packets.length > 2000, `too few packets: ${packets.length}`);
  const big = chunked(packets, 4096), small = chunked(packets, 97), odd = chunked(packets, 1000);
  const list = patterns(big, 23);
  let analysed = 0, whole = 0, proper = 0, filters = 0, invalid = 0, leadOnly = 0;
  for (const re of list) {
    if (!compiles(re)) {
      invalid++;
      assert.equal(compileFilter(`summary matches ${quoteFilterString(re)}`).ok, false, re);
      assert.throws(() => columnFilter(`summary matches ${quoteFilterString(re)}`), re);
      continue;
    }
    const lits = regexLiterals(re);
    if (lits !== undefined) { analysed++; if (lits.whole) whole++; }
    // Rows only the lead-in (or its end with the own text) lets match: what a search of the chunk text alone misses.
    const rx = new RegExp(re, 'i');
    if (lits !== undefined && packets.some((p) => rx.test(p.summary) && !rx.test(p.summary.slice(p.summary.indexOf(': ') + 2)))) leadOnly++;
    const q = quoteFilterString(re);
    for (const src of [`summary matches ${q}`, `summary ~ ${q}`, `!(summary matches ${q})`, `summary matches ${q} || udp`, `tcp && summary matches ${q}`,
      `summary matches ${q} && !(summary contains "length 0")`]) {
      const want = [...columnFilter(src, false).run(big)];
      // Every chunk searched (no row-by-row stretch after a chunk where most rows are candidates), then as shipped.
      matchesTuning.denseChunks = 0;
      const f = columnFilter(src);
      assert.deepStrictEqual([...f.run(big)], want, `chunks of 4096: ${src}`);
      assert.deepStrictEqual([...f.run(small)], want, `chunks of 97: ${src}`);
      matchesTuning.denseChunks = 15;
      assert.deepStrictEqual([...columnFilter(src).run(odd)], want, `chunks of 1000: ${src}`);
      filters++;
      if (src.startsWith('summary matches') && !src.includes('||') && !src.includes('&&') && want.length > 0 && want.length < packets.length) proper++;
    }
  }
  console.log(`summary matches: ${list.length} patterns (${invalid} invalid), ${filters} filters over ${packets.length} packets; ` +
    `${analysed} give literals (${whole} whole), ${proper} select a proper subset, ${leadOnly} match some row only with its lead-in`);
  assert.ok(leadOnly > 20, `only ${leadOnly} patterns reach into a lead-in`);
  assert.ok(analysed > list.length / 2, `only ${analysed} of ${list.length} patterns give literals`);
  assert.ok(whole > 20, `only ${whole} patterns are plain literals`);
  assert.ok(proper > list.length / 3, `only ${proper} of ${list.length} patterns select a proper subset`);
  assert.ok(invalid > 3, `only ${invalid} invalid patterns`);
});

test('every summary a pattern matches holds one of its literals; a whole pattern matches exactly those', async () => {
  // Straight on the decoded packets' summaries (lead-in included), independent of the chunk search.
  const packets = await allPackets();
  const summaries = [...new Set(packets.map((p) => p.summary))];
  const big = chunked(packets, 4096);
  let checked = 0;
  for (const seed of [23, 5, 77]) {
    for (const re of patterns(big, seed)) {
      if (!compiles(re)) continue;
      const lits = regexLiterals(re);
      if (lits === undefined) continue;
      const rx = new RegExp(re, 'i');
      for (const a of lits.alts) assert.ok(a.length > 0 && a === a.toLowerCase(), `${re}: literal ${JSON.stringify(a)}`);
      for (const s of summaries) {
        const low = s.replace(/[A-Z]/g, (c) => c.toLowerCase());
        const holds = lits.alts.some((a) => low.includes(a));
        const m = rx.test(s);
        if (m) assert.ok(holds, `${re} matches ${JSON.stringify(s)} but it holds none of ${JSON.stringify(lits.alts)}`);
        if (lits.whole) assert.equal(m, holds, `${re} (whole) on ${JSON.stringify(s)}`);
      }
      checked++;
    }
  }
  assert.ok(checked > 300, `only ${checked} patterns checked`);
});

test('literals of hand-made patterns: what is required, what is refused', () => {
  const cases: Array<[string, string[] | undefined, boolean?]> = [
    ['unreach', ['unreach'], true],
    ['Flags \\[S\\]', ['flags [s]'], true],
    ['length 0$', ['length 0'], false],
    ['10\\.0\\.0\\.[0-9]+', ['10.0.0.'], false],
    ['wg|esp', ['esp', 'wg'], true],
    ['[Ss]yn', ['syn'], true],
    ['colou?r', ['color', 'colour'], true],
    ['(a|b)(c|d)', ['ac', 'ad', 'bc', 'bd'], true],
    ['a{2}b', ['aab'], true],
    ['^IP6', ['ip6'], false],
    ['ack \\d+, win', [', win'], false],
    ['(?=abc)de', ['de'], false],
    ['\\1abc', ['abc'], false],
    ['\\12abc', ['abc'], false],
    ['a{1,}bc', ['abc'], false],
    ['x{3,}yz', ['xxxyz'], false],
    ['(ab)+c', ['abc'], false],
    ['q(ab)+', ['qab'], false],
    ['[0-9]+ > ', [' > '], false],
    ['x{2,3}y', ['xxy'], false],
    ['x\\x41y', ['x'], false],
    ['abc|d*', undefined],
    ['abc|', undefined],
    ['.', undefined],
    ['a?b?', undefined],
    ['(?i:abc)', undefined],
    ['(?<名>abc)', undefined],
    ['[^a]bcd', ['bcd'], false],
    ['[a-c]de', ['de'], false],
    ['ébc', ['bc'], false],
    ['\\u0041bc', ['bc'], false],
    ['\\cJab', ['ab'], false],
    ['\\c1ab', ['1ab'], false],
    ['a{,2}b', ['a{,2}b'], true],
    ['a}b]', ['a}b]'], true],
    ['\\k<x>ab', ['ab'], false],
    ['(?<x>q)\\k<x>ab', ['ab'], false],
  ];
  // Texts each pattern matches, with repeated parts longer than their least count: each holds a literal.
  const texts: Array<[string, string]> = [['x[ab]+c', 'xaac'], ['x[ab]+c', 'xbabc'], ['seq [0-9]+:', 'seq 12:'], ['(ab)+c', 'ababc'],
    ['q(ab)+', 'qabab'], ['a{2,}b', 'aaaab'], ['z[Ss]{1,3}yn', 'zSsyn'], ['colou?r', 'COLOR'], ['0+1', '0001'],
    ['ab*c', 'ac'], ['(?:xy)*z', 'z'], ['a{0,2}b', 'b'], ['ab?c', 'AC'], ['x(?=y)', 'xy'], ['(a)\\1b', 'aab']];
  for (const [re, text] of texts) {
    const got = regexLiterals(re);
    assert.ok(new RegExp(re, 'i').test(text), `${re} ${text}`);
    assert.ok(got === undefined || got.alts.some((a) => text.toLowerCase().includes(a)), `${re} on ${text}: ${JSON.stringify(got)}`);
  }
  for (const [re, alts, whole] of cases) {
    // Regexp modifiers arrived in later Node versions: either way no literal is offered.
    if (!compiles(re)) { assert.ok(re.startsWith('(?i'), re); continue; }
    const got = regexLiterals(re);
    if (alts === undefined) { assert.equal(got, undefined, re); continue; }
    assert.deepStrictEqual(got?.alts, alts, re);
    if (whole !== undefined) assert.equal(got.whole, whole, re);
  }
  // Nesting far deeper than the analysis goes (V8 compiles it): no literal, and the filter still compiles.
  const deep = '('.repeat(5000) + 'ab' + ')'.repeat(5000);
  assert.equal(regexLiterals('('.repeat(150) + 'ab' + ')'.repeat(150))?.alts[0], 'ab');
  assert.equal(regexLiterals(deep), undefined);
  assert.equal(compileFilter(`summary matches "${deep}"`).ok, true);
});

test('letters in any case across every seam: made-up own texts after real lead-ins, against the per-packet predicate', async () => {
  // Real column rows (IPv4 and IPv6, with and without ports) given own texts drawn from a few
  // characters, hex letters and the lead-in's own among them in both cases, so that case-insensitive
  // matches start in lead-ins (IPv6 addresses hold a-f), end at row ends and run across them.
  const base = (await allPackets()).filter((p) => p.src !== undefined && p.ip !== undefined);
  assert.ok(base.length > 500, `too few IP packets: ${base.length}`);
  assert.ok(base.some((p) => p.ip!.v === 6 && /[a-f]/.test(p.src!)), 'no IPv6 address with hex letters');
  const r = rng(4242);
  const alphabet = 'aaaAAbBfFeE0011:. >IiPp6';
  const word = (n: number): string => { let s = ''; for (let i = 0; i < n; i++) s += alphabet[Math.floor(r() * alphabet.length)]; return s; };
  const lead = (p: Packet): string => {
    const ports = p.sport !== undefined && (p.tcp !== undefined || p.udp !== undefined);
    return `${p.ip!.v === 6 ? 'IP6' : 'IP'} ${p.src}${ports ? `.${p.sport}` : ''} > ${p.dst}${ports ? `.${p.dport}` : ''}: `;
  };
  const packets = base.slice(0, 6000).map((p, i) => ({ ...p, summary: (i % 4 === 0 ? '' : lead(p)) + word(Math.floor(r() * 30)) }));
  const lists = [chunked(packets, 4096), chunked(packets, 500), chunked(packets, 31)];
  assert.ok(lists[0]!.chunks.some((c) => c.cols.sumLead.includes(1)), 'no row kept its lead-in apart');
  const pats = new Set<string>(['IP6 FE', 'f: a', ': A', 'ip ', '1 > ', 'A|B', 'e:|:F', 'Ab.', '^aA', 'aa$', 'FE80::|ba']);
  for (let i = 0; i < 120; i++) {
    const p = packets[Math.floor(r() * packets.length)]!;
    const at = Math.floor(r() * p.summary.length);
    const piece = recase(p.summary.slice(at, at + 2 + Math.floor(r() * 7)), r) || 'a';
    const other = recase(word(2 + Math.floor(r() * 4)), r);
    const e = esc(piece), o = esc(other);
    pats.add(e);
    pats.add(`${e}|${o}`);
    pats.add(`${o}|${e}|${esc(piece.slice(1)) || 'b'}`);
    pats.add(`${e}$`);
    pats.add(`^${e}`);
    pats.add(`${e}[ab]?${o}`);
    pats.add(`(?:${e}|${o})[^x]`);
  }
  let proper = 0, whole = 0;
  for (const re of pats) {
    const src = `summary matches ${quoteFilterString(re)}`;
    const c = compileFilter(src);
    assert.ok(c.ok, src);
    const want = packets.flatMap((p, i) => (c.predicate(p, {}) ? [i] : []));
    if (regexLiterals(re)?.whole === true) whole++;
    matchesTuning.denseChunks = 0;
    const f = columnFilter(src);
    for (const list of lists) assert.deepStrictEqual([...f.run(list)], want, `chunks of ${list.chunks[0]!.length}: ${src}`);
    matchesTuning.denseChunks = 15;
    if (want.length > 0 && want.length < packets.length) proper++;
  }
  assert.ok(proper > pats.size / 2, `only ${proper} of ${pats.size} patterns select a proper subset`);
  assert.ok(whole > pats.size / 4, `only ${whole} of ${pats.size} patterns are plain literals`);
});
