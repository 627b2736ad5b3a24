// `summary contains` over column chunks searches each chunk's text whole instead of building a
// summary per row (shared/filter/columns.ts, containsLeaf). A summary there is two pieces: a lead-in
// rebuilt from the columns ("IP a.1 > b.2: ") and the row's own text, stored end to end with the
// other rows'. These tests hold that search to the per-packet predicate with needles cut from real
// summaries at every place that matters: inside the lead-in, across its end, inside the own text,
// across the end of one row into the next (no match), longer than any summary, and odd characters.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileFilter, quoteFilterString } from '../../../shared/filter/index.ts';
import { anchorOf, columnFilter, ownTextHits } from '../../../shared/filter/columns.ts';
import type { ChunkPackets } from '../../../shared/ingest/packet-columns.ts';
import type { Packet } from '../../../shared/protocols/packet.ts';
import { WG_SLL2, chunked, drawRow, packetsOf, rng, summaryPackets } from './helpers.ts';

// IPv4 and IPv6 with and without ports, ESP, ICMP, tunnels, ARP (plain rows), many addresses.
const FILES = ['pim-packet-assortment.pcap', 'icmpv6.pcap', '08-sunrise-sunset-esp2.pcap', 'resp_3_malicious.pcap',
  'of13_ericsson.pcapng', 'various_gre.pcap', 'arp-oobr.pcap', 'dns_fwdptr.pcap', 'gso-ipv6.pcap', 'quic_retry.pcap'];

const allPackets = (): Promise<Packet[]> => summaryPackets(FILES, ['A-any.pcap', 'B.pcapng', 'A.txt']);

/** Needles from the rows' own summaries: every kind of cut, seen through the chunks the filter reads. */
function needles(list: ChunkPackets, r: () => number): string[] {
  const out = new Set<string>([' ', ': ', ' > ', 'IP ', 'IP6 ', '.', '0', '1.', ':', 'IP', 'P6', '>', 'Flags [', ', length 0', 'é', '"', '\\', 'zzzz-nowhere']);
  const chunks = list.chunks.filter((c) => c.length > 1);
  for (let i = 0; i < 400; i++) {
    const row = drawRow(chunks, r);
    if (row === null) continue;
    const { ch, k, whole, ownLen, leadLen } = row;
    const cut = (a: number, b: number): void => { if (b > a) out.add(whole.slice(Math.max(0, a), Math.min(whole.length, b))); };
    const at = Math.floor(r() * whole.length), n = 1 + Math.floor(r() * 24);
    cut(at, at + n);
    if (leadLen > 0) {
      cut(Math.floor(r() * leadLen), leadLen + Math.floor(r() * 12)); // across the lead-in's end
      cut(leadLen - 2, leadLen + 1 + Math.floor(r() * 6)); // ": " and what follows
      cut(Math.floor(r() * leadLen), leadLen); // the lead-in's tail alone
      cut(0, leadLen - 2); // the whole lead-in but ": "
    }
    out.add(whole);
    out.add(whole + 'x');
    // The end of this row's own text and the start of the next's: one string in the chunk, two summaries.
    const next = ch.sum.slice(ch.sumOff[k + 1]!, ch.sumOff[k + 2]!);
    if (ownLen > 0 && next.length > 0) out.add(ch.sum.slice(ch.sumOff[k + 1]! - Math.min(4, ownLen), ch.sumOff[k + 1]! + Math.min(4, next.length)));
  }
  return [...out];
}

test('summary contains over column chunks passes exactly the rows the per-packet predicate passes', { timeout: 300_000 }, async () => {
  const packets = await allPackets();
  assert.ok(packets.length > 2000, `too few packets: ${packets.length}`);
  const big = chunked(packets, 4096), small = chunked(packets, 97);
  const r = rng(17);
  const list = needles(big, r);
  let some = 0, spanOnly = 0, filters = 0;
  for (const needle of list) {
    const q = quoteFilterString(needle);
    for (const src of [`summary contains ${q}`, `!(summary contains ${q})`, `summary contains ${q} || udp`, `tcp && summary contains ${q}`]) {
      const c = compileFilter(src);
      assert.ok(c.ok, src);
      const want: number[] = [];
      packets.forEach((p, i) => { if (c.predicate(p, {})) want.push(i); });
      const f = columnFilter(src);
      assert.deepStrictEqual([...f.run(big)], want, `chunks of 4096: ${src}`);
      assert.deepStrictEqual([...f.run(small)], want, `chunks of 97: ${src}`);
      filters++;
      if (src.startsWith('summary') && !src.includes('||') && want.length > 0 && want.length < packets.length) some++;
    }
    // Rows only the lead-in (or its end with the own text) can match: the part a search of the chunk text alone misses.
    if (packets.some((p) => p.summary.includes(needle) && !p.summary.slice(p.summary.indexOf(': ') + 2).includes(needle))) spanOnly++;
  }
  console.log(`summary contains: ${list.length} needles, ${filters} filters over ${packets.length} packets; ${some} select a proper subset, ${spanOnly} match some row only in its lead-in`);
  assert.ok(some > list.length / 2, `only ${some} of ${list.length} needles select a proper subset`);
  assert.ok(spanOnly > 20, `only ${spanOnly} needles reach into a lead-in`);
});

test('a needle made of one row\'s end and the next row\'s start matches neither (the chunk text is one string)', async () => {
  const { packets } = await packetsOf(WG_SLL2);
  const list = chunked(packets, 4096);
  const ch = list.chunks[0]!;
  let checked = 0;
  for (let k = 0; k + 1 < ch.length && checked < 30; k++) {
    const a = ch.sumOff[k]!, b = ch.sumOff[k + 1]!, e = ch.sumOff[k + 2]!;
    if (b - a < 3 || e - b < 3) continue;
    const needle = ch.sum.slice(b - 3, b + 3);
    const want = packets.flatMap((p, i) => (p.summary.includes(needle) ? [i] : []));
    assert.ok(!want.includes(k) || packets[k]!.summary.includes(needle));
    assert.deepStrictEqual([...columnFilter(`summary contains ${quoteFilterString(needle)}`).run(list)], want, needle);
    checked++;
  }
  assert.ok(checked >= 10, `only ${checked} row boundaries checked`);
});

test('numbers and addresses in text made of numbers: every seam, every search strategy, against the predicate', async () => {
  // Real column rows (TCP and UDP over IPv4/IPv6) given summaries drawn from a few characters, so that a
  // numeric needle meets its characters everywhere (the case where the search looks for a rare one first)
  // and matches start at row starts, end at row ends and run across them.
  const base = (await allPackets()).filter((p) => p.src !== undefined && (p.tcp !== undefined || p.udp !== undefined) && p.ip !== undefined);
  assert.ok(base.length > 500, `too few TCP/UDP packets: ${base.length}`);
  const r = rng(99);
  // Skewed: a few digits everywhere, the others rare (as in sequence numbers beside an address).
  const alphabet = '000000000011111111122222333.: 456789';
  const word = (n: number): string => { let s = ''; for (let i = 0; i < n; i++) s += alphabet[Math.floor(r() * alphabet.length)]; return s; };
  const lead = (p: Packet): string => `${p.ip!.v === 6 ? 'IP6' : 'IP'} ${p.src}.${p.sport} > ${p.dst}.${p.dport}: `;
  const packets = base.slice(0, 6000).map((p, i) => ({ ...p, summary: (i % 3 === 0 ? '' : lead(p)) + word(Math.floor(r() * 60)) }));
  const lists = [chunked(packets, 4096), chunked(packets, 500), chunked(packets, 31)];
  const needles = new Set<string>(['0', '10', '1.2', '0.0.0', '00000000', '12345678', '.0.', '::', ': 1', '2: ']);
  for (let i = 0; i < 150; i++) {
    const p = packets[Math.floor(r() * packets.length)]!;
    const at = Math.floor(r() * p.summary.length);
    needles.add(p.summary.slice(at, at + 2 + Math.floor(r() * 9)) || '7');
    needles.add(word(2 + Math.floor(r() * 8)));
    const own = p.summary.slice(p.summary.indexOf(': ') + 2);
    if (own.length > 3) { needles.add(own.slice(0, 3 + Math.floor(r() * 5))); needles.add(own.slice(-2 - Math.floor(r() * 5))); }
  }
  let proper = 0;
  for (const needle of needles) {
    const src = `summary contains ${quoteFilterString(needle)}`;
    const want = packets.flatMap((p, i) => (p.summary.includes(needle) ? [i] : []));
    const f = columnFilter(src);
    for (const list of lists) assert.deepStrictEqual([...f.run(list)], want, `chunks of ${list.chunks[0]!.length}: ${src}`);
    if (want.length > 0 && want.length < packets.length) proper++;
  }
  assert.ok(proper > needles.size / 2, `only ${proper} of ${needles.size} needles select a proper subset`);
});

test('a piece of the needle searched for first (anchorOf): every start in the needle marks the same rows', async () => {
  // Own texts of sequence-number-like digits, dots and spaces, cut into rows of every length (empty ones
  // too); each needle is searched from each of its characters, and from its start by the engine (-1).
  const r = rng(5);
  const alphabet = '0000000011111122233.. :456789[]';
  const word = (n: number): string => { let s = ''; for (let i = 0; i < n; i++) s += alphabet[Math.floor(r() * alphabet.length)]; return s; };
  const base = (await allPackets()).filter((p) => p.src !== undefined && (p.tcp !== undefined || p.udp !== undefined) && p.ip !== undefined).slice(0, 3000);
  const packets = base.map((p) => ({ ...p, summary: word(Math.floor(r() * 40)) }));
  const list = chunked(packets, 1000);
  // Plain rows (the decoder's own objects) are not in the chunk's text: the whole predicate reads them.
  const plain = list.chunks.flatMap((ch) => [...ch.cols.isPlain]);
  const needles = new Set(['10.0.0.2', '0.0', '[1]', '00000000', ' 1', '999']);
  for (let i = 0; i < 60; i++) {
    const p = packets[Math.floor(r() * packets.length)]!.summary;
    const at = Math.floor(r() * p.length);
    if (p.length >= 3) needles.add(p.slice(at, at + 3 + Math.floor(r() * 8)).padEnd(3, '0'));
  }
  let found = 0;
  for (const needle of needles) {
    const want = packets.flatMap((p, i) => (plain[i] === 0 && p.summary.includes(needle) ? [i] : []));
    found += want.length > 0 ? 1 : 0;
    for (let j = -1; j + 1 < needle.length; j++) {
      const got: number[] = [];
      let start = 0;
      for (const ch of list.chunks) {
        const hit = new Uint8Array(ch.length);
        ownTextHits(ch, needle, j, hit);
        hit.forEach((h, k) => { if (h === 1) got.push(start + k); });
        start += ch.length;
      }
      assert.deepStrictEqual(got, want, `${JSON.stringify(needle)} searched from ${j}`);
    }
    const a = anchorOf(list.chunks[0]!.sum, needle);
    assert.ok(a >= -1 && a <= needle.length - 2, `anchor ${a} of ${JSON.stringify(needle)}`);
  }
  assert.ok(found > needles.size / 2, `only ${found} of ${needles.size} needles are found at all`);
});

test('anchorOf starts an address among sequence numbers at its dots, and a word among words at the engine\'s own search', () => {
  const tcp = 'Flags [.], seq 2494091967:2494093335, ack 246179581, win 64, options [nop,nop,TS val 238764248 ecr 3700035689], length 1368';
  const text = tcp.repeat(60);
  assert.equal(anchorOf(text, '10.0.0.2'), 2);
  assert.equal(anchorOf(text, 'win 64'), -1);
  assert.equal(anchorOf(text, 'wg0'), -1);
  assert.equal(anchorOf('', '10.0.0.2'), -1);
  assert.equal(anchorOf(text, '10'), -1);
  // A pasted needle of any length is not weighed piece by piece (that would cost its length times the sample).
  assert.equal(anchorOf(text, '10.0.0.2'.repeat(9)), -1);
  assert.equal(anchorOf(text, '1'.repeat(100_000)), -1);
});

test('a literal without a space anywhere in a lead-in\'s words: address, address and port, port and colon, "IP6", ">"', async () => {
  // Every piece without a space of real lead-ins (IPv4 and IPv6, with ports and without), as a whole
  // filter over rows whose own texts hold none of it, so only the lead-in can match.
  const packets = (await allPackets()).filter((p) => p.ip !== undefined && p.src !== undefined).slice(0, 4000)
    .map((p) => ({ ...p, summary: p.summary.slice(0, p.summary.indexOf(': ') + 2) + 'x' }));
  const list = chunked(packets, 700);
  const r = rng(23);
  const needles = new Set<string>(['IP6', 'P6', '>', ':']);
  const leads = [...new Set(packets.map((p) => p.summary.slice(0, -1)))];
  assert.ok(leads.some((l) => l.startsWith('IP6 ')) && leads.some((l) => !/\.\d+:/.test(l)) && leads.some((l) => /\.\d+:/.test(l)), 'lead-ins of every kind');
  for (let i = 0; i < 40; i++) {
    const words = leads[Math.floor(r() * leads.length)]!.split(' ');
    const w = words[Math.floor(r() * words.length)]!;
    for (let k = 0; k < 6; k++) {
      const a = Math.floor(r() * w.length), b = a + 1 + Math.floor(r() * (w.length - a));
      needles.add(w.slice(a, b));
    }
    needles.add(w);
  }
  let inLead = 0;
  for (const needle of needles) {
    const src = `summary contains ${quoteFilterString(needle)}`;
    const want = packets.flatMap((p, i) => (p.summary.includes(needle) ? [i] : []));
    assert.deepStrictEqual([...columnFilter(src).run(list)], want, src);
    const m = `summary matches ${quoteFilterString(needle.replace(/[\\^$.*+?()[\]{}|]/g, '\\$&'))}`;
    const wantM = packets.flatMap((p, i) => (p.summary.toLowerCase().includes(needle.toLowerCase()) ? [i] : []));
    assert.deepStrictEqual([...columnFilter(m).run(list)], wantM, m);
    if (want.length > 0) inLead++;
  }
  assert.ok(inLead > needles.size * 0.9, `only ${inLead} of ${needles.size} pieces found`);
});
