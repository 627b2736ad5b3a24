// Issue 13 item 2 in a real browser: the HTML report of hostile captures and notes, and the Markdown
// report rendered by markdown-it with raw HTML allowed, are loaded in Debian's Chromium (the Markdown
// page with no Content-Security-Policy, as a careless wiki would serve it). No script runs (no dialog,
// no page error), nothing is fetched, and no element or attribute in the DOM comes from capture text.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser } from 'playwright-core';
import MarkdownIt from 'markdown-it';
import { findChromium } from '../../bin/cli/export.ts';
import { makeFixtures, type Fixtures } from './make-fixtures.ts';
import { runCli } from './helpers.ts';

const CHROMIUM = findChromium();
const skip = CHROMIUM ? false : 'no Chromium on this machine (apt-get install chromium)';
if (skip) console.log(`# skipping report DOM tests: ${skip}`);

let fx: Fixtures;
let browser: Browser | undefined;
before(async () => {
  fx = await makeFixtures();
  if (CHROMIUM) browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run'] });
});
after(async () => { await browser?.close(); if (fx) rmSync(fx.dir, { recursive: true, force: true }); });

interface DomReport { tags: string[]; handlers: string[]; tainted: string[]; links: string[]; h1: number }

async function load(file: string): Promise<{ dom: DomReport; requests: string[]; dialogs: string[]; errors: string[] }> {
  const page = await browser!.newPage();
  const requests: string[] = [], dialogs: string[] = [], errors: string[] = [];
  page.on('request', (r) => requests.push(r.url()));
  page.on('dialog', (d) => { dialogs.push(d.message()); void d.dismiss(); });
  page.on('pageerror', (e) => errors.push(e.message));
  const url = pathToFileURL(file).href;
  await page.goto(url, { waitUntil: 'load' });
  await page.waitForTimeout(300);
  const dom = await page.evaluate(() => {
    // Runs in the page; typed by hand because the test's TypeScript has no DOM library.
    type El = { tagName: string; attributes: ArrayLike<{ name: string; value: string }> };
    const doc = (globalThis as unknown as { document: { querySelectorAll(s: string): ArrayLike<El> } }).document;
    const all = Array.from(doc.querySelectorAll('*'));
    const tags = [...new Set(all.map((e) => e.tagName.toLowerCase()))].sort();
    const handlers: string[] = [], tainted: string[] = [], links: string[] = [];
    for (const e of all) {
      for (const a of Array.from(e.attributes)) {
        if (/^on/i.test(a.name)) handlers.push(`${e.tagName} ${a.name}`);
        if (/HOSTILE|evil|alert|javascript:/i.test(a.name + a.value)) tainted.push(`${e.tagName} ${a.name}=${a.value.slice(0, 80)}`);
        if (/^(href|src|xlink:href|action|formaction|srcset|background)$/i.test(a.name)) links.push(`${e.tagName} ${a.name}=${a.value.slice(0, 80)}`);
      }
    }
    return { tags, handlers, tainted, links, h1: doc.querySelectorAll('h1').length };
  });
  await page.close();
  return { dom, requests: requests.filter((u) => u !== url), dialogs, errors };
}

test('hostile HTML and Markdown reports are inert in Chromium', { skip, timeout: 120_000 }, async () => {
  for (const [what, a, b] of [['text', fx.aText, fx.bText], ['pcapng', fx.aPcapng, fx.bPcapng]] as const) {
    const html = join(fx.dir, `dom-${what}.html`), md = join(fx.dir, `dom-${what}.md`);
    const r = await runCli(['analyze', a, b, '--html', html, '--md', md, '--notes', fx.notes.hostile!]);
    assert.equal(r.code, 0, r.stderr);
    const mdPage = join(fx.dir, `dom-${what}-md.html`);
    writeFileSync(mdPage, `<!DOCTYPE html><meta charset="utf-8"><body>${new MarkdownIt({ html: true }).render(readFileSync(md, 'utf8'))}</body>`);
    for (const [kind, file] of [['HTML report', html], ['Markdown rendered', mdPage]] as const) {
      const { dom, requests, dialogs, errors } = await load(file);
      const at = `${what}, ${kind}`;
      assert.deepEqual(dialogs, [], `${at}: a script ran`);
      assert.deepEqual(errors, [], `${at}: page errors`);
      assert.deepEqual(requests, [], `${at}: fetched something`);
      assert.deepEqual(dom.handlers, [], `${at}: event handler attributes`);
      assert.deepEqual(dom.tainted, [], `${at}: capture text in an attribute`);
      assert.deepEqual(dom.links, [], `${at}: links or sources`);
      // The HTML template has its own h1/h2; Markdown makes only h3/h4, so any other heading came from data.
      const forbidden = ['script', 'img', 'iframe', 'object', 'embed', 'a', 'form', 'link', 'base', ...(kind === 'Markdown rendered' ? ['h1', 'h2', 'h5', 'h6', 'hr', 'pre'] : [])];
      for (const t of forbidden) assert.ok(!dom.tags.includes(t), `${at}: <${t}> in the DOM (${dom.tags.join(' ')})`);
      if (kind === 'HTML report') assert.equal(dom.h1, 1, `${at}: one title`);
    }
  }
});
