// Issue 13: crafted captures, notes and far-end fields through the real CLI (a child process with a
// heap cap and a time limit): suggested commands carry no unquoted capture text, reports carry no
// live markup, the terminal gets no control bytes, bombs and absurd lengths end fast and small.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { gzipSync } from 'node:zlib';
import MarkdownIt from 'markdown-it';
import { makeFixtures, PCAPNG_IFACE, TEXT_IFACE, SEEDS, type Fixtures } from './make-fixtures.ts';
import { runCli, firstActive, commandsIn, unquotedSyntax } from './helpers.ts';
import { shellQuote, visible } from '../../shared/util/shell.ts';
import { readCapture, DEFAULT_MAX_INFLATE_RATIO } from '../../shared/capture-file/reader.ts';
import type { AnalysisResult } from '../../shared/analysis/types.ts';

let fx: Fixtures;
before(async () => { fx = await makeFixtures(); });
after(() => { if (fx) rmSync(fx.dir, { recursive: true, force: true }); });

/** Short enough to be a valid Linux name, so it is quoted into the command rather than replaced. */
const SHORT_IFACE = 'e1;id`x`$(y)|';

const hasTshark = spawnSync('tshark', ['-v'], { stdio: 'ignore' }).status === 0;

function assertBounded(r: { code: number | null; ms: number; rssKb: number; timedOut: boolean; stderr: string }, what: string, maxMs = 20_000): void {
  assert.equal(r.timedOut, false, `${what}: timed out`);
  assert.ok(r.ms < maxMs, `${what}: took ${Math.round(r.ms)} ms`);
  assert.ok(r.rssKb > 0 && r.rssKb < 1024 * 1024, `${what}: peak RSS ${r.rssKb} kB`);
  assert.doesNotMatch(r.stderr, /internal failure|\n\s+at /, `${what}: ${r.stderr}`);
}

function assertTerminalSafe(s: string, what: string): void {
  assert.equal(firstActive(s), null, `${what}: a control or bidi character reaches the terminal: ${firstActive(s)}`);
}

/**
 * A next step either names the interface as one quoted shell word, or keeps it out of the command
 * (placeholder) and shows it as data ("…" in a sentence, describeOddName's form). Once those two
 * forms are taken out, no piece of the name is left anywhere in the step, and its commands hold no
 * shell syntax outside quotes where the word was.
 */
function assertStepQuotes(step: string, name: string, what: string): void {
  const quoted = shellQuote(name);
  const asData = `"${visible(name).replace(/"/g, '\\"')}"`;
  const rest = step.split(quoted).join(' X ').split(asData).join(' D ');
  for (const piece of ['HOSTILE', 'curl', 'evil.example', '$(id)', '`id`', '$(y)', '`x`', 'onerror', 'onload', 'e1;id']) {
    assert.ok(!rest.includes(piece), `${what}: "${piece}" from the capture is in a step outside one quoted word or a data sentence: ${JSON.stringify(step)}`);
  }
  if (step.includes(quoted)) for (const c of commandsIn(rest)) assert.deepEqual(unquotedSyntax(c), [], `${what}: ${JSON.stringify(step)}`);
}

const PAIRS = () => [
  { what: 'text, long hostile LAN name', a: fx.aText, b: fx.bText, name: TEXT_IFACE },
  { what: 'pcapng, hostile LAN name with spaces and escapes', a: fx.aPcapng, b: fx.bPcapng, name: PCAPNG_IFACE },
  { what: 'text, short valid-but-shell-special LAN name', a: fx.aText, b: writeText('b-short.txt', readFileSync(fx.bText, 'utf8').split(TEXT_IFACE).join(SHORT_IFACE)), name: SHORT_IFACE },
];

function writeText(name: string, text: string): string { const f = join(fx.dir, name); writeFileSync(f, text); return f; }

test('item 1 + 3: next steps quote or set aside a hostile interface name; the terminal gets no control bytes', { timeout: 120_000 }, async () => {
  for (const p of PAIRS()) {
    const json = await runCli(['analyze', p.a, p.b, '--json', '-']);
    assertBounded(json, p.what);
    assert.equal(json.code, 0, `${p.what}: ${json.stderr}`);
    assertTerminalSafe(json.stdout + json.stderr, `${p.what} (--json -)`);
    const result = JSON.parse(json.stdout) as AnalysisResult;
    const steps = result.findings.flatMap((f) => f.next_steps);
    assert.ok(steps.some((s) => /masquerade/.test(s)), `${p.what}: the forward-drop finding and its masquerade step are there: ${JSON.stringify(steps)}`);
    for (const s of steps) assertStepQuotes(s, p.name, p.what);
    const text = await runCli(['analyze', p.a, p.b]);
    assertBounded(text, p.what);
    assert.equal(text.code, 0, text.stderr);
    assertTerminalSafe(text.stdout + text.stderr, `${p.what} (text)`);
    for (const line of text.stdout.split('\n').filter((l) => /^\s+- /.test(l))) assertStepQuotes(line, p.name, `${p.what} (text)`);
  }
});

// Tags a Markdown renderer makes from the report's own Markdown; anything else came from data.
const MD_TAGS = new Set(['h3', 'h4', 'p', 'strong', 'em', 'code', 'ol', 'ul', 'li', 'table', 'thead', 'tbody', 'tr', 'th', 'td', 'blockquote', 'sub', 'br', 'hr']);

function tagsOf(html: string): Array<{ name: string; attrs: string; raw: string }> {
  return [...html.matchAll(/<\/?([A-Za-z][\w:-]*)([^>]*)>/g)].map((m) => ({ name: m[1]!.toLowerCase(), attrs: m[2]!.trim(), raw: m[0] }));
}

test('item 2: Markdown and HTML reports of hostile captures and notes hold no live markup', { timeout: 120_000 }, async () => {
  const md = new MarkdownIt({ html: true });
  for (const p of PAIRS()) {
    const out = (ext: string) => join(fx.dir, `report-${p.name.length}.${ext}`);
    const r = await runCli(['analyze', p.a, p.b, '--md', out('md'), '--html', out('html'), '--report-json', out('json'), '--notes', fx.notes.hostile!]);
    assertBounded(r, p.what);
    assert.equal(r.code, 0, r.stderr);
    assertTerminalSafe(r.stdout + r.stderr, p.what);
    const source = readFileSync(out('md'), 'utf8');
    assert.match(source, /HOSTILE/, 'the hostile text is in the report (as text)');
    const rendered = md.render(source);
    for (const t of tagsOf(rendered)) {
      assert.ok(MD_TAGS.has(t.name), `${p.what}: Markdown renders a <${t.name}> element: ${t.raw}`);
      assert.ok(t.attrs === '' || (t.name === 'ol' && /^start="\d+"$/.test(t.attrs)), `${p.what}: Markdown renders an attribute: ${t.raw}`);
      assert.doesNotMatch(t.raw, /HOSTILE|evil|alert/, `${p.what}: capture text inside a tag: ${t.raw}`);
    }
    assert.equal(tagsOf(rendered).filter((t) => t.name === 'h3' && !t.raw.startsWith('</')).length, 1, 'one title heading');
    assert.ok(tagsOf(rendered).filter((t) => t.name === 'h4' && !t.raw.startsWith('</')).length <= 4, 'only the report\'s own section headings');
    assert.doesNotMatch(rendered, /<(img|script|svg|a|iframe)\b/i);
    assertTerminalSafe(source, `${p.what} (Markdown source)`);
    // The HTML report: every tag is the template's, no capture text ever sits inside a tag.
    const html = readFileSync(out('html'), 'utf8');
    for (const t of tagsOf(html)) {
      assert.doesNotMatch(t.raw, /HOSTILE|evil\.example|onerror|onload|alert\(/, `${p.what}: capture text inside an HTML tag: ${t.raw.slice(0, 200)}`);
      assert.ok(!['script', 'img', 'iframe', 'object', 'embed', 'a', 'link', 'base', 'form'].includes(t.name), `${p.what}: <${t.name}> in the HTML report`);
    }
    assert.match(html, /Content-Security-Policy" content="default-src &#39;none&#39;/);
    assert.match(html, /HOSTILE/, 'the hostile text is in the HTML report (as text)');
  }
});

test('item 3: inspect prints control and bidi characters of names and summaries visibly (text and JSON, pcapng and text captures)', { timeout: 60_000 }, async () => {
  for (const [file, args] of [[fx.escapesPcapng, []], [fx.escapesPcapng, ['--json']], [fx.bText, []], [fx.bText, ['--json']], [fx.bPcapng, []], [fx.escapesText, []], [fx.escapesText, ['--json']]] as const) {
    const r = await runCli(['inspect', file, ...args]);
    assertBounded(r, `inspect ${file} ${args.join(' ')}`);
    assert.equal(r.code, 0, r.stderr);
    assertTerminalSafe(r.stdout + r.stderr, `inspect ${file} ${args.join(' ')}`);
    assert.match(r.stdout, /\\x1b|\\u001b/, 'the escape is shown, not dropped');
    if (args.length) for (const l of r.stdout.trim().split('\n')) JSON.parse(l);
  }
  // The JSON still carries the exact name (escaped per JSON, not altered).
  const j = await runCli(['inspect', fx.escapesPcapng, '--json']);
  const first = JSON.parse(j.stdout.split('\n')[0]!) as { iface?: string };
  assert.ok((first.iface ?? '').includes('\u001b]0;pwned-title\u0007'), JSON.stringify(first.iface));
  assert.match(first.iface ?? '', /\u202e/);
});

test('item 4: a 1 MiB gzip bomb (1 GiB inflated) stops at once with one clear line; --max-inflate lets it through', { timeout: 120_000 }, async () => {
  const bomb = await fx.bomb();
  assert.ok(statSync(bomb).size < 2 << 20, `bomb is ${statSync(bomb).size} bytes`);
  const line = /^error: bomb\.pcap\.gz: gzip data inflates past \d+ bytes \(ratio \d+\) at byte \d+; use --max-inflate SIZE to allow more\n$/;
  for (const args of [['inspect', bomb], ['analyze', bomb, fx.aText], ['analyze', fx.aText, bomb, '--pcapng', join(fx.dir, 'bomb-out.pcapng')]]) {
    const r = await runCli(args, { heapMb: 256 });
    assertBounded(r, args.join(' '), 15_000);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, line);
    assert.ok(r.rssKb < 600 * 1024, `${args[0]}: peak RSS ${r.rssKb} kB`);
  }
  const capped = await runCli(['inspect', bomb, '--max-inflate', '1M']);
  assert.equal(capped.code, 1);
  assert.match(capped.stderr, /inflates past 1048576 bytes/);
  const allowed = await runCli(['inspect', bomb, '--max-inflate', '2G'], { heapMb: 256, timeoutMs: 60_000 });
  assert.equal(allowed.code, 0, allowed.stderr);
  assert.equal(allowed.stdout.trim().split('\n').length, 16384);
  for (const bad of ['lots', '-5', '0', '1e3X']) {
    const r = await runCli(['inspect', bomb, '--max-inflate', bad]);
    assert.equal(r.code, 2, `--max-inflate ${bad}`);
    assert.match(r.stderr, /^error: --max-inflate needs a size/);
  }
});

async function readAll(bytes: Uint8Array, opts: Parameters<typeof readCapture>[1]) {
  const it = readCapture(bytes, opts);
  let frames = 0, packets = 0;
  for (;;) {
    const r = await it.next();
    if (r.done) return { frames, packets, summary: r.value };
    frames += r.value.frames.length;
    packets += r.value.packets?.length ?? 0;
  }
}

test('item 4, reader: the inflate cap holds for text, pcap and pcapng alike and keeps what came before; damage is still damage', async () => {
  const text = readFileSync(new URL('host-beta.txt', SEEDS));
  const big = Buffer.concat(Array.from({ length: 40 }, () => text));
  const pcapng = readFileSync(fx.bPcapng);
  // Sections may follow each other in one pcapng file: 400 copies make it span many inflate chunks.
  const pcapngs = Buffer.concat(Array.from({ length: 400 }, () => readFileSync(fx.escapesPcapng)));
  for (const [what, raw] of [['text', big], ['pcapng', pcapngs]] as const) {
    const gz = gzipSync(raw);
    const whole = await readAll(gz, {});
    assert.equal(whole.summary.complete, true, `${what}: whole file under the default caps`);
    const cut = await readAll(gz, { maxInflatedBytes: Math.floor(raw.length / 2) });
    const fatal = cut.summary.problems.filter((p) => p.fatal);
    assert.equal(fatal.length, 1, `${what}: ${JSON.stringify(cut.summary.problems)}`);
    assert.match(fatal[0]!.message, new RegExp(`^gzip data inflates past ${Math.floor(raw.length / 2)} bytes \\(ratio [\\d.]+\\)$`));
    assert.ok(fatal[0]!.offset > 0 && fatal[0]!.offset <= gz.length);
    const kept = cut.frames + cut.packets, all = whole.frames + whole.packets;
    assert.ok(kept > 0 && kept < all, `${what}: ${kept} of ${all} kept`);
  }
  // A truncated gzip is damage, reported as such (not as a limit).
  const gz = gzipSync(pcapng);
  const torn = await readAll(gz.subarray(0, gz.length - 40), {});
  assert.match(torn.summary.problems.find((p) => p.fatal)?.message ?? '', /compressed data ends early or is corrupt/);
  // Ratio: zeros beyond the grace size trip it, and an explicit Infinity turns it off.
  // (a pcap header, then zeros: records of length 0, a valid and very compressible file)
  const hdr = Buffer.alloc(24);
  hdr.writeUInt32LE(0xa1b2c3d4, 0); hdr.writeUInt16LE(2, 4); hdr.writeUInt16LE(4, 6); hdr.writeUInt32LE(65535, 16); hdr.writeUInt32LE(1, 20);
  const zeros = gzipSync(Buffer.concat([hdr, Buffer.alloc(48 << 20)]));
  assert.ok(48 << 20 > DEFAULT_MAX_INFLATE_RATIO * zeros.length, 'the sample is past the default ratio');
  const z = await readAll(zeros, {});
  assert.match(z.summary.problems.find((p) => p.fatal)?.message ?? '', /^gzip data inflates past \d+ bytes \(ratio \d+\)$/);
  assert.ok(z.frames > 0, 'records before the stop are kept');
  const off = await readAll(zeros, { maxInflateRatio: Infinity });
  assert.equal(off.summary.complete, true, JSON.stringify(off.summary.problems));
  assert.equal(off.frames, (48 << 20) / 16);
});

test('item 6: text claiming 2e9 and 2^32-1 byte packets exports a small pcapng with truncated frames that say so', { timeout: 60_000 }, async () => {
  const out = join(fx.dir, 'huge.pcapng');
  const r = await runCli(['analyze', fx.hugeLenText, fx.hugeLenText, '--pcapng', out], { heapMb: 256 });
  assertBounded(r, 'huge lengths');
  assert.equal(r.code, 0, r.stderr);
  assert.ok(statSync(out).size < 2 << 20, `pcapng is ${statSync(out).size} bytes`);
  if (!hasTshark) { console.log('# tshark not installed: pcapng contents not checked'); return; }
  const t = spawnSync('tshark', ['-r', out, '-T', 'fields', '-e', 'frame.cap_len', '-e', 'frame.comment'], { encoding: 'utf8' });
  assert.equal(t.status, 0, t.stderr);
  const rows = t.stdout.trim().split('\n').map((l) => l.split('\t'));
  assert.ok(rows.length >= 6, t.stdout);
  const truncated = rows.filter((x) => /synthesized from tcpdump text, which claims \d+ bytes; truncated to 65535/.test(x[1] ?? ''));
  assert.ok(truncated.length >= 4, `truncated frames say so: ${t.stdout}`);
  for (const x of rows) assert.ok(Number(x[0]) <= 65535, `caplen ${x[0]}`);
});

test('item 9: notes aimed at frame 1e300, 2^53, -1, "7" or 1.5 are refused with a clear line, never a hang', { timeout: 60_000 }, async () => {
  for (const k of ['1e300', '2^53', '-1', 'string', 'fraction']) {
    const r = await runCli(['analyze', fx.aText, fx.bText, '--notes', fx.notes[k]!, '--md', join(fx.dir, `n-${k}.md`)], { timeoutMs: 15_000 });
    assertBounded(r, `notes ${k}`, 15_000);
    assert.equal(r.code, 2, `${k}: ${r.stderr}`);
    assert.match(r.stderr, /^error: .*notes-.*: note 1: packet (frame must be a whole number from 1 to 4294967295|target needs)/m, r.stderr);
  }
  const mixed = await runCli(['analyze', fx.aText, fx.bText, '--notes', fx.notes.mixed!, '--md', join(fx.dir, 'n-mixed.md')], { timeoutMs: 15_000 });
  assert.equal(mixed.code, 0, mixed.stderr);
  assert.match(mixed.stderr, /warning: .*note 1: packet frame must be a whole number .* \(skipped\)/);
  assert.match(readFileSync(join(fx.dir, 'n-mixed.md'), 'utf8'), /packet B#5/);
  for (const [k, re] of [['finding-1e300', /finding index must be a whole number/], ['long-label', /checkpoint label must be a string of 1 to 64 characters/]] as const) {
    const r = await runCli(['analyze', fx.aText, fx.bText, '--notes', fx.notes[k]!], { timeoutMs: 15_000 });
    assert.equal(r.code, 2, `${k}: ${r.stderr}`);
    assert.match(r.stderr, re);
    assert.ok(r.stderr.length < 400, `${k}: the error line quotes the value cut short`);
  }
  const nan = await runCli(['analyze', fx.aText, fx.bText, '--notes', fx.notes.nan!], { timeoutMs: 15_000 });
  assert.equal(nan.code, 2);
  assert.match(nan.stderr, /^error: .*cannot read notes/);
});

test('item 8: `tandem capture --remote` fields go through the app\'s validators before ssh runs', { timeout: 60_000 }, async () => {
  const marker = join(fx.dir, 'proxy-ran');
  const base = ['capture', '-i', 'lo', '-w', join(fx.dir, 'l.pcapng'), '--remote-write', join(fx.dir, 'r.pcapng')];
  const cases: Array<[string[], RegExp]> = [
    [['--remote', `-oProxyCommand=touch ${marker}`, '--remote-iface', 'eth0'], /--remote \(host\) must not start with "-"/],
    [['--remote', `root@-oProxyCommand=touch ${marker}`, '--remote-iface', 'eth0'], /--remote \(host\)/],
    [['--remote', `-oProxyCommand=x@host`, '--remote-iface', 'eth0'], /--remote \(user\)/],
    [['--remote', 'root@peer:70000', '--remote-iface', 'eth0'], /--remote \(port\)/],
    [['--remote', 'root@peer', '--remote-iface', 'eth0;id'], /--remote-iface is not an interface name/],
    [['--remote', 'root@peer', '--remote-iface', '-w/tmp/x'], /--remote-iface/],
    [['--remote', 'root@peer', '--remote-iface', 'eth0', '--remote-filter', '-w /tmp/x'], /--remote-filter must not start with "-"/],
    [['--remote', 'root@peer', '--remote-iface', 'eth0', '--remote-filter', 'udp\u001b]0;x\u0007'], /--remote-filter must not contain control characters/],
    [['--remote', 'root@peer', '--remote-iface', 'eth0', '--remote-key', '/tmp/key\u001b[2J'], /--remote-key must not contain control characters/],
    [['--remote', 'root@peer', '--remote-iface', 'eth0', '--remote-known-hosts', '/x/\u0007'], /--remote-known-hosts must not contain control characters/],
  ];
  for (const [args, re] of cases) {
    const r = await runCli([...base, ...args]);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, re);
    assert.equal(r.stderr.split('\n').filter(Boolean).length, 1, r.stderr);
    assertTerminalSafe(r.stderr, args.join(' '));
  }
  assert.equal(existsSync(marker), false, 'no ProxyCommand ran');
});
