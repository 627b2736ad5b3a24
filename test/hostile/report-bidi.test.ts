// The HTML report shows bidi overrides, isolates, marks and other invisible format characters from
// capture text, interface names and notes as visible escapes, the way the terminal and Markdown
// outputs do: a U+202E in a packet summary must not reverse the text that follows it on the page.
// Checked on the bytes of the report (every form of input) and, where Chromium is here, on where
// the browser actually draws the words.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser } from 'playwright-core';
import { findChromium } from '../../bin/cli/export.ts';
import { makeFixtures, type Fixtures } from './make-fixtures.ts';
import { firstActive, runCli } from './helpers.ts';

const CHROMIUM = findChromium();
const noBrowser = CHROMIUM ? false : 'no Chromium on this machine (apt-get install chromium)';
if (noBrowser) console.log(`# skipping the rendering half of the bidi tests: ${noBrowser}`);

/** Every reordering or hiding format character the outputs must neutralise, with its visible form. */
const FORMAT_CHARS: Array<[string, string]> = [
  ['\u202e', '\\u202e'], // RIGHT-TO-LEFT OVERRIDE
  ['\u202d', '\\u202d'], // LEFT-TO-RIGHT OVERRIDE
  ['\u202b', '\\u202b'], // RIGHT-TO-LEFT EMBEDDING
  ['\u2067', '\\u2067'], // RIGHT-TO-LEFT ISOLATE
  ['\u2068', '\\u2068'], // FIRST STRONG ISOLATE
  ['\u200f', '\\u200f'], // RIGHT-TO-LEFT MARK
  ['\u061c', '\\u061c'], // ARABIC LETTER MARK
  ['\u200b', '\\u200b'], // ZERO WIDTH SPACE
  ['\u2028', '\\u2028'], // LINE SEPARATOR
  ['\ufeff', '\\ufeff'], // BOM / zero-width no-break space
  ['\x1b', '\\x1b'],
  ['\u0085', '\\x85'], // NEL (C1)
];

let fx: Fixtures;
let notes: string;
let browser: Browser | undefined;
before(async () => {
  fx = await makeFixtures();
  // One note per character, each followed by words whose drawn order the browser test checks;
  // the session note also keeps a real line break, which the report must not escape.
  notes = join(fx.dir, 'notes-bidi.json');
  writeFileSync(notes, JSON.stringify([
    { id: 's', text: 'session ONE\u202eTWO THREE FOUR\nsecond line', createdAt: '2026-01-01T00:00:00Z', target: { kind: 'session' } },
    ...FORMAT_CHARS.map(([c], i) => ({ id: `n${i}`, text: `mark${i} ALPHA${c}BRAVO CHARLIE`, createdAt: '2026-01-01T00:00:00Z', target: { kind: 'packet', capture: 'B', frame: 2 } })),
  ]));
  if (CHROMIUM) browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run'] });
});
after(async () => { await browser?.close(); if (fx) rmSync(fx.dir, { recursive: true, force: true }); });

async function report(a: string, b: string, name: string): Promise<string> {
  const html = join(fx.dir, `${name}.html`);
  const r = await runCli(['analyze', a, b, '--html', html, '--notes', notes]);
  assert.equal(r.code, 0, r.stderr);
  return html;
}

test('the HTML report carries no raw control or bidi character, from names, packet text or notes', { timeout: 120_000 }, async () => {
  for (const [what, a, b] of [
    ['pcapng (bidi override in B\'s interface name)', fx.aPcapng, fx.bPcapng],
    ['text (escapes in the interface word)', fx.aText, fx.bText],
    ['text (escapes inside the HTTP request line)', fx.aText, fx.escapesText],
    ['pcapng (every escape in the name of B\'s only interface)', fx.aPcapng, fx.escapesPcapng],
  ] as const) {
    const page = readFileSync(await report(a, b, what.replace(/\W+/g, '-')), 'utf8');
    assert.equal(firstActive(page), null, `${what}: a raw control or format character is in the report`);
    for (const [, shown] of FORMAT_CHARS) assert.ok(page.includes(`ALPHA${shown}BRAVO`), `${what}: the note's ${shown} is not shown as an escape`);
    assert.ok(page.includes('ONE\\u202eTWO THREE FOUR\nsecond line'), `${what}: the session note lost its line break or its visible escape`);
  }
  // B's hostile interface name ends in U+202E: it is there, visibly, wherever the name is shown.
  const pc = readFileSync(join(fx.dir, 'pcapng-bidi-override-in-B-s-interface-name-.html'), 'utf8');
  assert.match(pc, /HOSTILE \\x1b\]0;pwned-title\\x07/);
  assert.ok(pc.includes('\\u009b31m\\u202e') || pc.includes('\\x9b31m\\u202e'), 'the C1 CSI and the override after it are shown');
  // A name made only of escapes still reaches the tables, as text.
  const esc = readFileSync(join(fx.dir, 'pcapng-every-escape-in-the-name-of-B-s-only-interface-.html'), 'utf8');
  assert.ok(esc.includes('\\x1b]0;pwned-title\\x07\\x1b]8;;https://evil.example/'), 'the escapes of the interface name are shown');
});

test('Chromium draws the words after an override in their written order', { skip: noBrowser, timeout: 120_000 }, async () => {
  const file = await report(fx.aPcapng, fx.bPcapng, 'render');
  const page = await browser!.newPage();
  await page.goto(pathToFileURL(file).href, { waitUntil: 'load' });
  // For each note: the x of each word, measured with a DOM range on the drawn text.
  const xs = await page.evaluate(() => {
    type Rect = { left: number; top: number };
    type Node = { nodeType: number; textContent: string | null; parentElement: { className: string } | null };
    type Doc = {
      createTreeWalker(root: unknown, what: number): { nextNode(): Node | null };
      createRange(): { setStart(n: Node, o: number): void; setEnd(n: Node, o: number): void; getBoundingClientRect(): Rect };
      body: unknown;
    };
    const doc = (globalThis as unknown as { document: Doc }).document;
    const walker = doc.createTreeWalker(doc.body, 4);
    const out: Array<{ text: string; at: Record<string, Rect> }> = [];
    for (let n = walker.nextNode(); n; n = walker.nextNode()) {
      const t = n.textContent ?? '';
      if (!/ALPHA|ONE/.test(t)) continue;
      const at: Record<string, Rect> = {};
      for (const w of ['ALPHA', 'BRAVO', 'CHARLIE', 'ONE', 'TWO', 'THREE', 'FOUR']) {
        const i = t.indexOf(w);
        if (i < 0) continue;
        const r = doc.createRange();
        r.setStart(n, i); r.setEnd(n, i + w.length);
        const b = r.getBoundingClientRect();
        at[w] = { left: b.left, top: b.top };
      }
      out.push({ text: t, at });
    }
    return out;
  });
  await page.close();
  const noteRows = xs.filter((x) => x.at.ALPHA && x.at.CHARLIE);
  assert.ok(noteRows.length >= FORMAT_CHARS.length, `every packet note is drawn (${noteRows.length} found)`);
  for (const { text, at } of noteRows) {
    // On one visual line, left to right as written; a line break between words is acceptable order too.
    const inOrder = (p: string, q: string): boolean => at[p]!.top < at[q]!.top || (at[p]!.top === at[q]!.top && at[p]!.left < at[q]!.left);
    assert.ok(inOrder('ALPHA', 'BRAVO') && inOrder('BRAVO', 'CHARLIE'), `words drawn out of order in ${JSON.stringify(text)}: ${JSON.stringify(at)}`);
  }
  const session = xs.find((x) => x.at.ONE && x.at.FOUR);
  assert.ok(session, 'the session note is drawn');
  const s = session.at;
  assert.ok(s.ONE!.left < s.TWO!.left && s.TWO!.left < s.THREE!.left && s.THREE!.left < s.FOUR!.left, `session note reordered: ${JSON.stringify(s)}`);
});
