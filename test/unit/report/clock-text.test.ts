// How every output states the clock alignment when it is weak: pairs that all went one way bound
// the offset from one side only (the engine says Infinity, JSON says null), and without any pair
// there is no offset at all. Neither may read as a precise figure ("±0 s", "±Infinity µs") or as a
// measured offset. Real packets: the lab's healthy pair, with B's own sends removed (only A→B pairs
// remain), and the same A against a capture of unrelated traffic (no pair).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { analyze } from '../../../shared/analysis/index.ts';
import type { AnalysisResult } from '../../../shared/analysis/types.ts';
import { loadAll } from '../../../shared/ingest/load-capture.ts';
import { renderHtmlReport } from '../../../shared/report/html.ts';
import { renderMarkdownReport } from '../../../shared/report/markdown.ts';
import type { ReportCapture } from '../../../shared/report/types.ts';
import { renderText } from '../../../bin/cli/analyze.ts';

const LAB = new URL('../../e2e/fixtures/lab-healthy/', import.meta.url);
const OTHER = new URL('../../../../shared/corpus/tcpdump-tests/arp-oobr.pcap', import.meta.url);
/** B's own addresses in the lab (WAN, LAN, the server behind it): what B sends comes from these. */
const B_SENDS_FROM = new Set(['203.0.113.2', '192.168.200.2', '192.168.200.22']);

async function capture(url: URL, keep: (src: string) => boolean = () => true): Promise<ReportCapture> {
  const r = await loadAll(readFileSync(url), { keepBytes: true });
  const idx = r.packets.map((p, i) => (keep(p.src ?? '') ? i : -1)).filter((i) => i >= 0);
  return { name: url.pathname.split('/').pop()!, packets: idx.map((i) => r.packets[i]!), frames: idx.map((i) => r.frames[i]!), interfaces: r.interfaces };
}

function outputs(a: ReportCapture, b: ReportCapture, result: AnalysisResult): { html: string; md: string; cli: string; json: AnalysisResult } {
  const json = JSON.parse(JSON.stringify(result)) as AnalysisResult;
  return {
    html: renderHtmlReport({ a, b, result }) + renderHtmlReport({ a, b, result: json }),
    md: renderMarkdownReport({ a, b, result }) + renderMarkdownReport({ a, b, result: json }),
    cli: renderText(result),
    json,
  };
}

test('pairs in one direction only: every output says the offset is bounded from one side, none gives a width', async () => {
  const a = await capture(new URL('A.pcapng', LAB));
  const b = await capture(new URL('B.pcapng', LAB), (src) => !B_SENDS_FROM.has(src));
  const result = analyze({ name: a.name, packets: a.packets, interfaces: a.interfaces }, { name: b.name, packets: b.packets, interfaces: b.interfaces });
  const c = result.clock;
  assert.ok(c.pairs > 0, 'some A→B pairs');
  assert.equal(c.pairs_b_to_a, 0);
  assert.equal(c.uncertainty_s, Infinity);
  const o = outputs(a, b, result);
  assert.equal(o.json.clock.uncertainty_s, null, 'JSON carries the unbounded width as null');
  assert.match(o.cli, /^clock: B = A [+-]\d+\.\d{6} s, skew -?\d+\.\d\d ppm \(bounded from one direction only, \d+ pairs?\)$/m);
  assert.match(o.html, /bounded from one direction only, from \d+ matched pairs?\./);
  assert.match(o.html, /<th>uncertainty<\/th><td class="t">one direction only/);
  assert.match(o.md, /bounded from one direction only, from \d+ matched pairs?\./);
  for (const [name, text] of Object.entries({ html: o.html, md: o.md, cli: o.cli })) {
    assert.doesNotMatch(text, /±\s*0 s|±\s*0\.0+ s|Infinity|NaN/, `${name} must not claim a width it does not have`);
  }
});

test('no pair at all: no offset is given, and times stay as each host recorded them', async () => {
  const a = await capture(new URL('A.pcapng', LAB));
  const b = await capture(OTHER);
  const result = analyze({ name: a.name, packets: a.packets, interfaces: a.interfaces }, { name: b.name, packets: b.packets, interfaces: b.interfaces }, { keepGivenRoles: true });
  assert.equal(result.clock.pairs, 0);
  const o = outputs(a, b, result);
  assert.match(o.cli, /^clock: not aligned: no packet was matched on both hosts/m);
  assert.doesNotMatch(o.cli, /^clock: B = A/m);
  assert.match(o.html, /No packet pairs matched across the hosts, so the clocks could not be aligned/);
  assert.doesNotMatch(o.html, /<th>offset \(B − A\)<\/th>|<th>uncertainty<\/th>/, 'no offset or width rows without a pair');
  assert.match(o.md, /No packet pairs matched across the hosts/);
  for (const [name, text] of Object.entries({ html: o.html, md: o.md, cli: o.cli })) {
    assert.doesNotMatch(text, /Infinity|NaN/, name);
  }
});
