// Capture text inside the engine's prose stays data in every renderer: a backtick (or `*`, `_`, `[x](y)`,
// `|`, `<`, `&`) in an interface name, an address from a pasted capture or a firewall log prefix never
// opens, closes or splits a code span, and commands that quote such a value still show it exactly.
// Real inputs: the WireGuard lab captures (TANDEM_LAB_DIR) with an interface renamed in the pcapng's
// own interface block, tcpdump text with an address rewritten, an NFLOG prefix rewritten in the file's
// bytes, and the checked-in IPsec lab capture. Each prose string is checked through the HTML report,
// the Markdown report rendered by markdown-it, and the split the app uses.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import MarkdownIt from 'markdown-it';
import { loadAll } from '../../../shared/ingest/load-capture.ts';
import { analyze, type AnalysisResult, type CaptureInput } from '../../../shared/analysis/index.ts';
import { renderHtmlReport } from '../../../shared/report/html.ts';
import { renderMarkdownReport } from '../../../shared/report/markdown.ts';
import type { ReportCapture } from '../../../shared/report/types.ts';
import { isInterfaceName, proseData, shellQuote } from '../../../shared/util/shell.ts';
import { splitProse } from '../../../shared/util/prose.ts';

const LAB = process.env.TANDEM_LAB_DIR ?? '/tmp/tandem-lab';
const IPSEC = fileURLToPath(new URL('../../lab/ipsec/captures/return-route-missing/', import.meta.url));
const noLab = (scenario: string): string | false =>
  existsSync(join(LAB, scenario, 'A.pcapng')) ? false : `no lab capture in ${join(LAB, scenario)} (run test/lab/lab.sh, or set TANDEM_LAB_DIR)`;
for (const s of ['healthy', 'b-no-forward', 'b-fwd-nflog']) { const why = noLab(s); if (why) console.log(`# skipping ${s} cases: ${why}`); }

type Cap = CaptureInput & ReportCapture;

async function load(bytes: Uint8Array, name: string): Promise<Cap> {
  const r = await loadAll(bytes, { keepBytes: true });
  return { name, file: name, packets: r.packets, frames: r.frames, interfaces: r.interfaces };
}

/** The pcapng with interface names replaced in its Interface Description Blocks (option if_name), as a crafted file carries them. */
function renameIdb(src: Uint8Array, names: Record<string, string>): Uint8Array {
  const out: number[] = [];
  const enc = new TextEncoder(), dec = new TextDecoder();
  let le = true;
  let o = 0;
  const u32 = (b: Uint8Array, at: number): number => new DataView(b.buffer, b.byteOffset).getUint32(at, le);
  const u16 = (b: Uint8Array, at: number): number => new DataView(b.buffer, b.byteOffset).getUint16(at, le);
  const push32 = (v: number): void => { const b = new Uint8Array(4); new DataView(b.buffer).setUint32(0, v, le); out.push(...b); };
  const push16 = (v: number): void => { const b = new Uint8Array(2); new DataView(b.buffer).setUint16(0, v, le); out.push(...b); };
  while (o < src.length) {
    if (u32(src, o) === 0x0a0d0d0a) le = new DataView(src.buffer, src.byteOffset).getUint32(o + 8, true) === 0x1a2b3c4d;
    const type = u32(src, o), len = u32(src, o + 4);
    if (type !== 1) { out.push(...src.subarray(o, o + len)); o += len; continue; }
    const body: number[] = [...src.subarray(o + 8, o + 16)];
    let p = o + 16;
    const opts: number[] = [];
    while (p < o + len - 4) {
      const code = u16(src, p), olen = u16(src, p + 2);
      if (code === 0) break;
      let val = src.subarray(p + 4, p + 4 + olen);
      if (code === 2 && names[dec.decode(val)] !== undefined) val = enc.encode(names[dec.decode(val)]);
      const save = out.length; push16(code); push16(val.length); const hdr = out.splice(save);
      opts.push(...hdr, ...val, ...new Array((4 - (val.length % 4)) % 4).fill(0));
      p += 4 + olen + ((4 - (olen % 4)) % 4);
    }
    opts.push(0, 0, 0, 0);
    const total = 8 + body.length + opts.length + 4;
    push32(1); push32(total); out.push(...body, ...opts); push32(total);
    o += len;
  }
  return Uint8Array.from(out);
}

const md = new MarkdownIt({ html: true });

/** Text of an HTML fragment as a browser shows it: tags dropped, the report's entities decoded. */
function textOf(html: string): string {
  return html.replace(/<[^>]*>/g, '').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&amp;/g, '&');
}
function codesOf(html: string): string[] {
  return [...html.matchAll(/<code>([\s\S]*?)<\/code>/g)].map((m) => textOf(m[1]!));
}

/** The list items of one finding (next steps) in the HTML report, and in the Markdown report as markdown-it renders it. */
function renderedSteps(a: Cap, b: Cap, r: AnalysisResult, index: number): { html: string[]; md: string[] } {
  const html = renderHtmlReport({ a, b, result: r, generatedAt: '2026-01-01T00:00:00Z', toolVersion: 't' });
  const art = new RegExp(`<article[^>]*id="finding-${index + 1}">([\\s\\S]*?)</article>`).exec(html)![1]!;
  const h = [.../<ol>([\s\S]*?)<\/ol>/.exec(art)?.[1]?.matchAll(/<li>([\s\S]*?)<\/li>/g) ?? []].map((m) => m[1]!);
  const mdHtml = md.render(renderMarkdownReport({ a, b, result: r, generatedAt: '2026-01-01T00:00:00Z', toolVersion: 't' }));
  // The Markdown report lists each finding as an item of one ordered list, its steps as sub-items after the evidence line.
  const section = mdHtml.split('<h4>Findings</h4>')[1]!.split('<h4>')[0]!;
  const item = section.split(/\n<li><strong>\[/).slice(1)[index] ?? '';
  const sub = /<ul>([\s\S]*?)<\/ul>/.exec(item)?.[1] ?? '';
  const m = [...sub.matchAll(/<li>([\s\S]*?)<\/li>/g)].map((x) => x[1]!).filter((x) => !x.startsWith('evidence:') && !x.startsWith('host evidence'));
  return { html: h, md: m };
}

/**
 * Every renderer shows a prose string the same way: the code spans the engine wrote (and only those)
 * as code, everything else as its own characters.
 */
function assertRendered(prose: string, html: string, where: string): void {
  const parts = splitProse(prose);
  assert.deepEqual(codesOf(html), parts.filter((p) => p.code).map((p) => p.text), `${where}: code spans of ${JSON.stringify(prose)} in ${html}`);
  assert.equal(textOf(html).trim(), parts.map((p) => p.text).join('').trim(), `${where}: text of ${JSON.stringify(prose)}`);
}

function assertAllSteps(a: Cap, b: Cap, r: AnalysisResult): void {
  r.findings.forEach((f, i) => {
    const { html, md: mdSteps } = renderedSteps(a, b, r, i);
    assert.equal(html.length, f.next_steps.length, `HTML lists every step of ${f.rule}`);
    assert.equal(mdSteps.length, f.next_steps.length, `Markdown lists every step of ${f.rule}`);
    f.next_steps.forEach((s, j) => { assertRendered(s, html[j]!, `HTML ${f.rule}`); assertRendered(s, mdSteps[j]!, `Markdown ${f.rule}`); });
  });
}

// The file of the brief: the lab's healthy A whose interface names end in terminal, HTML, Markdown and shell syntax.
const TAIL = '\x1b[31m<script>alert(1)</script>|*x*|`$(id)`';

test('the hostile interface names of A: the odd-name warning shows them as data, no code span comes from them', { skip: noLab('healthy') }, async () => {
  const dir = join(LAB, 'healthy');
  const a = await load(renameIdb(readFileSync(join(dir, 'A.pcapng')), { wg0: `wg0${TAIL}`, wlan0: `wlan0${TAIL}` }), 'A-hostile.pcapng');
  assert.ok(a.interfaces?.some((i) => i.name === `wg0${TAIL}`), 'the renamed interface block is read back');
  const b = await load(readFileSync(join(dir, 'B.pcapng')), 'B.pcapng');
  const r = analyze(a, b);
  const i = r.findings.findIndex((f) => f.rule === 'odd-interface-name');
  assert.ok(i >= 0, JSON.stringify(r.findings.map((f) => f.rule)));
  const f = r.findings[i]!;
  const shown = `wg0\\x1b[31m<script>alert(1)</script>|*x*|\\x60$(id)\\x60`;
  assert.ok(f.detail!.includes(shown), f.detail);
  assert.deepEqual(splitProse(f.detail!).filter((p) => p.code), [], 'no code span in the warning');
  const html = renderHtmlReport({ a, b, result: r });
  const art = new RegExp(`<article[^>]*id="finding-${i + 1}">([\\s\\S]*?)</article>`).exec(html)![1]!;
  const detail = /<p>([\s\S]*?)<\/p>/.exec(art)![1]!;
  assert.deepEqual(codesOf(detail), [], `the detail holds no code element: ${detail}`);
  assert.ok(textOf(detail).includes(shown), textOf(detail));
  assert.ok(textOf(detail).includes(shown.replace('wg0', 'wlan0')), 'the WAN name too');
  // The engine's own code span in the same finding still reads as code.
  assert.ok(codesOf(art).includes('ip -o link'), art);
  assertAllSteps(a, b, r);
});

// Valid interface names (the kernel accepts them) that hold what a renderer could take for markup.
const NAMES = ['eth`0', 'e``1', '`e1', 'e1`', 'e\\`1', 'e*x*_y_', 'e[x](y)', 'e|1|', 'e<b>&amp;'];

for (const name of NAMES) {
  test(`B's LAN interface named ${JSON.stringify(name)}: prose shows it as data, commands show it exactly`, { skip: noLab('b-no-forward') }, async () => {
    assert.ok(isInterfaceName(name), 'a name Linux accepts');
    const dir = join(LAB, 'b-no-forward');
    const a = await load(readFileSync(join(dir, 'A.pcapng')), 'A.pcapng');
    const b = await load(renameIdb(readFileSync(join(dir, 'B.pcapng')), { eth1: name }), 'B.pcapng');
    const r = analyze(a, b);
    assert.equal(r.verdict.first_missing, 'B5', JSON.stringify(r.verdict));
    const f = r.findings.find((x) => x.rule === 'missing-b5')!;
    const word = proseData(shellQuote(name));
    const fwd = f.next_steps.find((s) => s.includes('forward must accept'))!;
    assert.deepEqual(splitProse(fwd).filter((p) => p.code).map((p) => p.text), ['nft list ruleset'], fwd);
    assert.ok(splitProse(fwd).map((p) => p.text).join('').includes(`→ ${word} to`), fwd);
    const route = f.next_steps.find((s) => s.includes('ip route get'))!;
    assert.deepEqual(splitProse(route).filter((p) => p.code).map((p) => p.text), ['ip route get 192.168.200.22'], route);
    assert.ok(route.endsWith(`(must leave via ${word}).`), route);
    assert.equal(r.findings.find((x) => x.rule === 'odd-interface-name'), undefined, 'a valid name is no odd name');
    assertAllSteps(a, b, r);
  });
}

for (const name of ['eth`0', 'e``1`', 'e*_[x](y)|<&']) {
  test(`IPsec lab, B's LAN named ${JSON.stringify(name)}: the masquerade command quotes it exactly in every renderer`, async () => {
    const a = await load(readFileSync(`${IPSEC}A.pcapng`), 'A.pcapng');
    const b = await load(renameIdb(readFileSync(`${IPSEC}B.pcapng`), { eth1: name }), 'B.pcapng');
    const r = analyze(a, b, { flow: 'tcp 10.2.0.22:80' });
    const steps = r.findings.flatMap((f) => f.next_steps);
    const masq = steps.find((s) => s.includes('masquerade'))!;
    assert.ok(splitProse(masq).some((p) => p.code && p.text === `nft add rule ip nat postrouting oifname ${shellQuote(name)} masquerade`), masq);
    assertAllSteps(a, b, r);
  });
}

// tcpdump text: whatever token stands where an address belongs becomes the address (names without -n too).
for (const odd of ['192.168.200.22`*x*`', '192.168.200.22_[a](b)|<&']) {
  test(`text capture whose destination reads ${JSON.stringify(odd)}: data in prose, exact inside the command`, { skip: noLab('b-no-forward') }, async () => {
    const dir = join(LAB, 'b-no-forward');
    const sub = (f: string): Uint8Array => new TextEncoder().encode(readFileSync(join(dir, f), 'utf8').replaceAll('192.168.200.22', odd));
    const a = await load(sub('A.txt'), 'A.txt'), b = await load(sub('B.txt'), 'B.txt');
    const r = analyze(a, b);
    assert.equal(r.verdict.first_missing, 'B5', JSON.stringify(r.verdict));
    const f = r.findings.find((x) => x.rule === 'missing-b5')!;
    assert.ok(f.title.endsWith(`to ${proseData(odd)}:80`), f.title);
    assert.ok(!f.title.includes('`') && !r.verdict.summary.includes('`'), 'no backtick from data in title or summary');
    const route = f.next_steps.find((s) => s.includes('ip route get'))!;
    assert.deepEqual(splitProse(route).filter((p) => p.code).map((p) => p.text), [`ip route get ${shellQuote(odd)}`], route);
    const fwd = f.next_steps.find((s) => s.includes('forward must accept'))!;
    assert.ok(splitProse(fwd).map((p) => p.text).join('').includes(`to ${proseData(odd)}:80.`), fwd);
    assertAllSteps(a, b, r);
  });
}

test('an NFLOG prefix with backticks (rewritten in the capture\'s bytes) is quoted as data in the finding', { skip: noLab('b-fwd-nflog') }, async () => {
  const dir = join(LAB, 'b-fwd-nflog');
  const raw = readFileSync(join(dir, 'B.pcapng'));
  const from = Buffer.from('tdm-fwd-drop'), to = Buffer.from('`$(id)`drop*');
  assert.equal(from.length, to.length);
  const bytes = Buffer.from(raw);
  let n = 0;
  for (let at = bytes.indexOf(from); at >= 0; at = bytes.indexOf(from, at + 1)) { to.copy(bytes, at); n++; }
  assert.ok(n > 0, 'the lab capture carries the log prefix');
  const a = await load(readFileSync(join(dir, 'A.pcapng')), 'A.pcapng');
  const b = await load(bytes, 'B.pcapng');
  const r = analyze(a, b);
  const i = r.findings.findIndex((f) => f.rule === 'fwlog-drop');
  assert.ok(i >= 0, JSON.stringify(r.findings.map((f) => f.rule)));
  assert.ok(r.findings[i]!.title.includes('log prefix "\\x60$(id)\\x60drop* "'), r.findings[i]!.title);
  const html = renderHtmlReport({ a, b, result: r });
  const h3 = new RegExp(`<article[^>]*id="finding-${i + 1}"><h3>([\\s\\S]*?)</h3>`).exec(html)![1]!;
  assert.ok(textOf(h3).includes('log prefix "\\x60$(id)\\x60drop* "'), h3);
  assertAllSteps(a, b, r);
});
