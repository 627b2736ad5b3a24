// The Markdown report carries each finding's detail (the why) under its title, in the same list item,
// as the HTML report does: a reader of an issue-tracker paste sees the reasoning, not only the verdict.
// Real packets: the lab pair where B has IP forwarding off; rendered with markdown-it as a tracker would.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import MarkdownIt from 'markdown-it';
import { analyze } from '../../../shared/analysis/index.ts';
import { loadAll } from '../../../shared/ingest/load-capture.ts';
import { renderMarkdownReport } from '../../../shared/report/markdown.ts';
import { splitProse } from '../../../shared/util/prose.ts';
import type { ReportCapture } from '../../../shared/report/types.ts';

const LAB = new URL('../../e2e/fixtures/lab-b-no-forward/', import.meta.url);

async function capture(name: string): Promise<ReportCapture> {
  const r = await loadAll(readFileSync(new URL(name, LAB)), { keepBytes: true });
  return { name, packets: r.packets, frames: r.frames, interfaces: r.interfaces };
}

/** Text content of an HTML fragment (tags dropped, the entities markdown-it writes decoded). */
function textOf(html: string): string {
  return html.replace(/<[^>]+>/g, '').replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
}

test('every finding with a detail shows it under its title, in the same item, with its commands as code', async () => {
  const a = await capture('A.pcapng');
  const b = await capture('B.pcapng');
  const result = analyze({ name: a.name, packets: a.packets, interfaces: a.interfaces }, { name: b.name, packets: b.packets, interfaces: b.interfaces });
  const withDetail = result.findings.filter((f) => f.detail);
  assert.ok(withDetail.length > 0, 'the lab failure has findings with a detail');
  const html = new MarkdownIt({ html: true }).render(renderMarkdownReport({ a, b, result }));
  const items = [...html.matchAll(/<li>([\s\S]*?)(?=<li>|<\/ol>)/g)].map((m) => m[1]!);
  for (const f of withDetail) {
    const item = items.find((it) => textOf(it).includes(f.title));
    assert.ok(item !== undefined, `an item for "${f.title}"`);
    const [title, rest] = item.split(/<br>\s*/);
    assert.ok(rest !== undefined, `a line break after the title of "${f.title}"`);
    assert.ok(textOf(title!).includes(f.title));
    // The detail as the engine wrote it: its code spans as <code>, the rest as text, nothing else.
    const want = splitProse(f.detail!).map((p) => p.text).join('');
    assert.ok(textOf(rest).replace(/\s+/g, ' ').includes(want.replace(/\s+/g, ' ')), `detail of "${f.title}": ${rest.slice(0, 300)}`);
    const codes = splitProse(f.detail!).filter((p) => p.code).length;
    const before = rest.split(/<ul>/)[0]!;
    assert.equal((before.match(/<code>/g) ?? []).length, codes, `code spans in the detail of "${f.title}"`);
  }
});
