// Engine prose has one piece of markup, the code span, read by one function (shared/util/prose.ts)
// in the HTML report, the Markdown report and the app. This file checks that reading against
// CommonMark's own (markdown-it), that capture values written with proseData never make or break a
// span in either report, and that the annotated pcapng carries no control byte in the text Tandem
// writes into it (read back with the real tshark and capinfos).
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import MarkdownIt from 'markdown-it';
import { splitProse } from '../../../shared/util/prose.ts';
import { proseCode, proseData, shellQuote, cmd } from '../../../shared/util/shell.ts';
import { renderHtmlReport } from '../../../shared/report/html.ts';
import { renderMarkdownReport } from '../../../shared/report/markdown.ts';
import { buildAnnotatedPcapng } from '../../../shared/report/pcapng-export.ts';
import { esc } from '../../../shared/report/svg.ts';
import { handFailure, loadSeed, type SeedCapture } from './fixture.ts';

const md = new MarkdownIt({ html: true });

/** What our split makes of `s`, written as markdown-it writes inline HTML. */
function asHtml(s: string): string {
  return splitProse(s).map((p) => (p.code ? `<code>${esc(p.text)}</code>` : esc(p.text))).join('');
}

test('splitProse: CommonMark code spans, fences of any length, unmatched runs stay text', () => {
  const spans = (s: string) => splitProse(s).map((p) => (p.code ? `[${p.text}]` : p.text)).join('');
  assert.equal(spans('On B: `nft list ruleset` (or `iptables -S`).'), 'On B: [nft list ruleset] (or [iptables -S]).');
  assert.equal(spans("`` ip link show 'e`0' ``"), "[ip link show 'e`0']");
  assert.equal(spans('``` a``b ```'), '[a``b]');
  assert.equal(spans('a ` b'), 'a ` b', 'a lone backtick is text');
  assert.equal(spans('`` a ` b'), '`` a ` b', 'runs of different lengths do not pair');
  assert.equal(spans('`` a ` b ``'), '[a ` b]');
  assert.equal(spans('x\\`y`'), 'x\\[y]', 'no backslash escapes: a backslash is text');
  assert.equal(spans('`  `'), '[  ]', 'all spaces keep their spaces');
  assert.equal(spans('` a `'), '[a]');
  assert.equal(spans('`a\nb`'), '[a b]', 'a line break in code reads as a space');
  assert.deepEqual(splitProse(''), []);
  assert.deepEqual(splitProse('plain'), [{ code: false, text: 'plain' }]);
});

test('splitProse reads every string of text and backticks as markdown-it does (CommonMark)', () => {
  // A small seeded generator: the same 4000 strings each run.
  let seed = 0x9e3779b9;
  const rnd = (n: number): number => { seed ^= seed << 13; seed ^= seed >>> 17; seed ^= seed << 5; return (seed >>> 0) % n; };
  const alphabet = ['a', 'b', ' ', '`', '`', '``', '-'];
  for (let i = 0; i < 4000; i++) {
    let s = 'x';
    const n = 1 + rnd(14);
    for (let j = 0; j < n; j++) s += alphabet[rnd(alphabet.length)];
    s += 'y';
    assert.equal(asHtml(s), md.renderInline(s), JSON.stringify(s));
  }
});

test('splitProse stays linear on prose full of unmatched runs', () => {
  // Runs of lengths 1..1500 that never pair: a scan per run to the end would be ~10^9 steps.
  let s = '';
  for (let k = 1; k <= 1500; k++) s += '`'.repeat(k) + 'x';
  const t = performance.now();
  const parts = splitProse(s);
  const ms = performance.now() - t;
  assert.deepEqual(parts, [{ code: false, text: s }]);
  assert.ok(ms < 1500, `${ms.toFixed(0)} ms`);
});

test('proseData and proseCode: data never delimits, a command shows exactly', () => {
  for (const v of ['eth`0', '``', '`a`', 'a\\`', '\x1b[31m`$(id)`']) {
    const d = proseData(v);
    assert.ok(!d.includes('`'), d);
    assert.deepEqual(splitProse(`on ${d} now`), [{ code: false, text: `on ${d} now` }]);
    const c = cmd`ip link show ${v}`;
    assert.deepEqual(splitProse(`run ${proseCode(c)} then`).filter((p) => p.code).map((p) => p.text), [c], c);
  }
  assert.equal(proseData('eth`0'), 'eth\\x600');
  assert.equal(proseData('a\x1bb'), 'a\\x1bb');
  assert.equal(proseData(undefined), 'undefined', 'what a template literal would write');
});

let a: SeedCapture, b: SeedCapture;
before(async () => { a = await loadSeed('endpoint-a.txt'); b = await loadSeed('host-beta.txt'); });

// Next steps and a detail as the engine writes them: commands in spans (fences 1–3), capture values through proseData.
const VALUES = ['eth`0', '`', '``x``', '*x*', '_u_', '[x](y)', '|a|b|', '<b>', '&amp;', '\\`', '![i](j)', 'a\x1b[2Jb'];
function engineProse(v: string): string[] {
  const c = cmd`ip route get ${v}`;
  return [
    `On B: ${proseCode(c)} must leave via ${proseData(shellQuote(v))}.`,
    `Check ${proseCode('nft list ruleset')}: ${proseData(v)} → ${proseData(v)} (${proseCode(cmd`tcpdump -ni ${v}`)}).`,
    `No command here, only ${proseData(v)} as data.`,
  ];
}

for (const v of VALUES) {
  test(`reports: prose around the value ${JSON.stringify(v)} renders the engine's spans and nothing else`, () => {
    const result = handFailure(a, b);
    const f = result.findings[0]!;
    f.next_steps = engineProse(v);
    f.detail = engineProse(v)[1]!;
    const input = { a, b, result, generatedAt: '2026-01-01T00:00:00Z', toolVersion: 't' };

    const html = renderHtmlReport(input);
    const art = /<article[^>]*id="finding-1">([\s\S]*?)<\/article>/.exec(html)![1]!;
    const lis = [.../<ol>([\s\S]*?)<\/ol>/.exec(art)![1]!.matchAll(/<li>([\s\S]*?)<\/li>/g)].map((m) => m[1]!);
    assert.deepEqual(lis, f.next_steps.map(asHtml));
    assert.equal(/<p>([\s\S]*?)<\/p>/.exec(art)![1], asHtml(f.detail));

    // Markdown: rendered by CommonMark, each step has the same spans and the same characters.
    const out = md.render(renderMarkdownReport(input));
    const item = out.split('<h4>Findings</h4>')[1]!.split(/\n<li><strong>\[/)[1]!;
    const steps = [.../<ul>([\s\S]*?)<\/ul>/.exec(item)![1]!.matchAll(/<li>([\s\S]*?)<\/li>/g)].map((m) => m[1]!).filter((x) => !x.startsWith('evidence:'));
    const norm = (h: string): string => h.replace(/&quot;/g, '"').replace(/&#39;/g, "'");
    assert.deepEqual(steps.map(norm), f.next_steps.map((s) => norm(asHtml(s))));
  });
}

test('annotated pcapng: text Tandem writes carries no control byte; the capture\'s own comments are kept as they were', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tandem-prose-'));
  try {
    const result = handFailure(a, b);
    const odd = 'wg0\x1b[31m<x>`$(id)`';
    const A = { ...a, name: 'a\x1b]0;t\x07.txt', packets: a.packets.map((p, i) => ({ ...p, iface: p.iface === 'wg0' ? odd : p.iface, ...(i === 0 ? { comments: ['own \x1b[1m comment'] } : {}) })) };
    result.findings[0]!.title = `title ${proseData(odd)}`;
    const notes = [{ id: 'n1', target: { kind: 'session' as const }, text: 'line one\nline\x1b[2J two', createdAt: '2026-01-01T00:00:00Z' }];
    const file = join(dir, 'x.pcapng');
    writeFileSync(file, buildAnnotatedPcapng({ a: A, b, result, notes: notes as never, generatedAt: '2026-01-01T00:00:00Z', toolVersion: 't' }));
    const v = execFileSync('tshark', ['-r', file, '-V'], { encoding: 'latin1', stdio: ['ignore', 'pipe', 'ignore'], maxBuffer: 1 << 28 });
    const info = execFileSync('capinfos', [file], { encoding: 'latin1', stdio: ['ignore', 'pipe', 'ignore'] });
    const esc1b = (s: string) => s.split('\n').filter((l) => l.includes('\x1b'));
    // The only ESC tshark may print is inside the capture's own packet comment.
    assert.deepEqual(esc1b(v).filter((l) => !l.includes('own ')), [], 'tshark -V shows no control byte from Tandem text');
    assert.deepEqual(esc1b(info), [], 'capinfos shows none');
    assert.match(v, /Interface name: A:wg0\\x1b\[31m<x>`\$\(id\)`/, 'the interface keeps every visible character');
    assert.match(info, /line\\x1b\[2J two/, 'the session comment shows the note with its escape visible');
    assert.ok(v.includes('own \x1b[1m comment') || v.includes('own \\033[1m comment') || v.includes('own \\x1b[1m comment'), 'the capture\'s own comment is copied');
  } finally { rmSync(dir, { recursive: true, force: true }); }
});
