// The HTML report in a real browser (Debian's Chromium through playwright-core): it must load with no
// request beyond the file itself, render readable (screenshots under test-results/ for a human to look
// at), and print to a PDF whose pages show the findings and the ladder.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, copyFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { spawnSync } from 'node:child_process';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser } from 'playwright-core';
import { analyze } from '../../../shared/analysis/index.ts';
import { renderHtmlReport } from '../../../shared/report/html.ts';
import type { SeedCapture } from './fixture.ts';
import type { AnalysisResult } from '../../../shared/analysis/types.ts';
import { findChromium, writeExports } from '../../../bin/cli/export.ts';
import { handFailure, loadSeed, sampleNotes } from './fixture.ts';

const CHROMIUM = findChromium();
const NO_BROWSER = CHROMIUM ? false : 'no Chromium on this machine (apt-get install chromium)';
const NO_POPPLER = spawnSync('pdftoppm', ['-v']).error ? 'pdftoppm not installed (apt-get install poppler-utils)' : false;
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'];
const results = resolve('test-results');
const out = mkdtempSync(join(tmpdir(), 'tandem-report-browser-'));
const notes = sampleNotes();

let a: SeedCapture, b: SeedCapture, result: AnalysisResult;
let browser: Browser | undefined;

before(async () => {
  a = await loadSeed('endpoint-a.txt');
  b = await loadSeed('host-beta.txt');
  result = analyze(a, b);
  mkdirSync(results, { recursive: true });
  if (CHROMIUM) browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
});

after(async () => { await browser?.close(); });

async function openReport(html: string, name: string, shot: string) {
  const file = join(out, name);
  writeFileSync(file, html);
  const page = await browser!.newPage({ viewport: { width: 1200, height: 900 } });
  const requests: string[] = [];
  const problems: string[] = [];
  page.on('request', (r) => requests.push(r.url()));
  page.on('console', (m) => { if (m.type() === 'error' || m.type() === 'warning') problems.push(m.text()); });
  page.on('pageerror', (e) => problems.push(e.message));
  const url = pathToFileURL(file).href;
  await page.goto(url, { waitUntil: 'load' });
  await page.waitForTimeout(300);
  await page.screenshot({ path: join(results, shot), fullPage: true });
  const other = requests.filter((u) => u !== url);
  return { page, other, problems, requests };
}

test('HTML report loads with zero network requests and renders verdict, ladder and notes', { skip: NO_BROWSER }, async () => {
  const { page, other, problems, requests } = await openReport(renderHtmlReport({ a, b, result, notes, toolVersion: 'test' }), 'report.html', 'report.png');
  assert.equal(requests.length, 1, `only the file itself: ${requests.join(', ')}`);
  assert.deepEqual(other, []);
  assert.deepEqual(problems, [], 'no console errors (CSP violations would show here)');
  const verdict = await page.locator('.verdict .status').textContent();
  assert.equal(verdict, result.verdict.status.toUpperCase());
  // The ladder has real geometry: one vertical line per interface seen, arrows between them.
  const lines = await page.locator('svg.ladder line').count();
  assert.equal(lines, new Set([...a.packets.map((p) => `A${p.iface}`), ...b.packets.map((p) => `B${p.iface}`)]).size);
  const box = await page.locator('svg.ladder').boundingBox();
  assert.ok(box && box.width > 600 && box.height > 300, `ladder size ${JSON.stringify(box)}`);
  for (const n of notes) assert.ok(await page.getByText(n.text, { exact: false }).count() > 0, `note ${n.id} visible`);
  await page.close();
});

test('failure report: screenshot shows the red missing hop', { skip: NO_BROWSER }, async () => {
  const { page, other } = await openReport(renderHtmlReport({ a, b, result: handFailure(a, b), notes, toolVersion: 'test' }), 'report-fail.html', 'report-fail.png');
  assert.deepEqual(other, []);
  assert.equal(await page.locator('svg.ladder path[stroke="#c62828"][stroke-dasharray]').count(), 1);
  assert.equal(await page.locator('.verdict .status').textContent(), 'FAIL');
  await page.close();
});

test('PDF via headless Chromium converts to PNG pages holding the findings and the ladder', { skip: NO_BROWSER || NO_POPPLER }, async () => {
  const pdf = join(out, 'report.pdf');
  const written = await writeExports({ a, b, result: handFailure(a, b), notes, pdf, html: join(out, 'for-pdf.html') });
  assert.ok(written.includes(pdf) && existsSync(pdf));
  const text = spawnSync('pdftotext', [pdf, '-'], { encoding: 'utf8' }).stdout.replace(/\s+/g, ' ');
  assert.match(text, /FAIL/);
  assert.match(text, /Findings/);
  assert.match(text, /never forwarded to the LAN/);
  assert.match(text, /Path of the test flow/);
  assert.match(text, /Host A/);
  assert.match(text, /B5 not seen/);
  assert.match(text, /NOTE-FIND/);
  const r = spawnSync('pdftoppm', ['-png', '-r', '60', pdf, join(out, 'page')]);
  assert.equal(r.status, 0, String(r.stderr));
  const pages = readdirSync(out).filter((f) => /^page-\d+\.png$/.test(f)).sort();
  assert.ok(pages.length >= 2, `${pages.length} pages`);
  for (const p of pages) copyFileSync(join(out, p), join(results, `report-pdf-${p}`));
});
