// Markdown export with hostile packet text, names and notes, rendered by markdown-it with raw HTML
// allowed (what issue trackers and wikis do): the text survives as text, nothing becomes markup.
// Neighbours of each trap are covered: backtick runs of every length and position, block markers at
// line starts, pipes in table cells, entities, and control/bidi characters.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import MarkdownIt from 'markdown-it';
import { renderMarkdownReport } from '../../../shared/report/markdown.ts';
import type { Note } from '../../../shared/report/notes.ts';
import { handFailure, handResult, loadSeed, type SeedCapture } from './fixture.ts';

let a: SeedCapture, b: SeedCapture;
before(async () => { a = await loadSeed('endpoint-a.txt'); b = await loadSeed('host-beta.txt'); });

const md = new MarkdownIt({ html: true });
const OWN_TAGS = new Set(['h3', 'h4', 'p', 'strong', 'em', 'code', 'ol', 'ul', 'li', 'table', 'thead', 'tbody', 'tr', 'th', 'td', 'blockquote', 'sub', 'br']);

const TRAPS = [
  '<script>alert(1)</script>', '<img src=x onerror=alert(2)>', '<svg onload=alert(3)>', '![i](https://evil.example/p.png)',
  '[l](javascript:alert(4))', '<https://evil.example>', '&lt;b&gt; &amp; &#60;i&#62;', '`', '``', 'a```b', '````', '` x `',
  '**bold** _em_ ~~s~~', '| pipe | cell |', '\\', '\\`', 'x\x1b]0;title\x07y\x1b[2J\u202e\u009b',
];
const LINE_STARTS = ['# h', '## h', '> q', '- li', '+ li', '* li', '1. ol', '2) ol', '---', '===', '    code', '<div>', '```', '~~~'];

function liveTags(html: string): string[] {
  return [...html.matchAll(/<\/?([A-Za-z][\w:-]*)([^>]*)>/g)]
    .filter((m) => !OWN_TAGS.has(m[1]!.toLowerCase()) || m[2]!.trim() !== '')
    .map((m) => m[0]);
}

test('Markdown: hostile summaries, interface names, file names, notes and labels render as text only', () => {
  const result = handFailure(a, b);
  // Packets are copies with hostile summary and interface (what a crafted capture gives the decoder).
  const hostile = (cap: SeedCapture, name: string): SeedCapture => ({
    ...cap, name,
    packets: cap.packets.map((p, i) => ({ ...p, summary: `${TRAPS[i % TRAPS.length]} ${p.summary}`, iface: `${TRAPS[(i + 3) % TRAPS.length]}` })),
  });
  const A = hostile(a, 'a`<img src=x onerror=1>`.pcap'), B = hostile(b, '# b | ![x](y).pcap');
  for (const c of result.checkpoints) c.iface = TRAPS[c.frame % TRAPS.length]!;
  result.findings[0]!.title = `${TRAPS[0]} title`;
  // Host evidence is text a host printed: quoted, never live.
  result.findings[0]!.host_evidence = TRAPS.map((t, i) => ({ host: 'B' as const, source: `${LINE_STARTS[i % LINE_STARTS.length]} ${t}`, text: `${t}\n${LINE_STARTS[i % LINE_STARTS.length]}` }));
  result.findings[0]!.next_steps = [...TRAPS.map((t) => `run \`ip link show ${t}\` then ${t}`), ...LINE_STARTS];
  result.verdict.summary = LINE_STARTS.join('\n');
  const notes: Note[] = [
    ...LINE_STARTS.map((t, i) => ({ id: `s${i}`, target: { kind: 'session' as const }, text: `${t}\n${t}`, createdAt: `${TRAPS[i % TRAPS.length]}` })),
    ...TRAPS.map((t, i) => ({ id: `p${i}`, target: { kind: 'packet' as const, capture: 'B' as const, frame: 1 + (i % 5) }, text: t, createdAt: '2026-01-01T00:00:00Z' })),
    { id: 'c', target: { kind: 'checkpoint', label: '<b>B5</b>' }, text: '# cp', createdAt: '2026-01-01T00:00:00Z' },
    { id: 'f', target: { kind: 'finding', index: 0 }, text: TRAPS.join('\n'), createdAt: '2026-01-01T00:00:00Z' },
  ];
  const source = renderMarkdownReport({ a: A, b: B, result, notes, toolVersion: '1.0', generatedAt: '2026-01-01T00:00:00Z' });
  // eslint-disable-next-line no-control-regex
  assert.doesNotMatch(source, /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202e]/, 'no control or bidi character in the Markdown');
  const html = md.render(source);
  assert.deepEqual(liveTags(html), [], 'only the report\'s own elements, without attributes');
  const headings = [...html.matchAll(/<(h\d)>/g)].map((m) => m[1]);
  assert.deepEqual(headings, ['h3', 'h4', 'h4', 'h4', 'h4'], 'title and the four section headings only');
  assert.doesNotMatch(html, /<pre>|<hr>|<h[1256]/);
  // Every hostile string is still there for the reader, as text.
  const text = html.replace(/<[^>]+>/g, '').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&amp;/g, '&');
  for (const t of ['<script>alert(1)</script>', '<img src=x onerror=alert(2)>', '![i](https://evil.example/p.png)', '| pipe | cell |', 'a```b']) {
    assert.ok(text.includes(t), `"${t}" is shown as text`);
  }
});

test('Markdown code spans hold any backtick run: the fence is longer than the longest run inside', () => {
  const result = handResult(a, b);
  for (const run of [1, 2, 3, 5, 9]) {
    const ticks = '`'.repeat(run);
    for (const s of [`${ticks}x`, `x${ticks}`, `x ${ticks} <img src=y onerror=1> ${ticks} y`, ticks]) {
      const B = { ...b, packets: b.packets.map((p) => ({ ...p, summary: s })) };
      const html = md.render(renderMarkdownReport({ a, b: B, result, notes: [], toolVersion: '1', generatedAt: 'now' }));
      assert.deepEqual(liveTags(html), [], `summary ${JSON.stringify(s)}`);
      const spans = [...html.matchAll(/<code>([^<]*)<\/code>/g)].map((m) => m[1]!.replace(/&lt;/g, '<').replace(/&gt;/g, '>'));
      assert.ok(spans.includes(s), `summary ${JSON.stringify(s)} survives whole in one code span: ${JSON.stringify(spans.slice(0, 4))}`);
    }
  }
});
