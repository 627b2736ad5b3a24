// Exports on real inputs: the seed captures (tcpdump text, so pcapng frames are rebuilt) and binary
// captures from the corpus, run through the real ingest and analysis, checked with tshark/capinfos.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, writeFileSync as writeFile } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { analyze } from '../../../shared/analysis/index.ts';
import type { AnalysisResult } from '../../../shared/analysis/types.ts';
import { loadAll } from '../../../shared/ingest/load-capture.ts';
import { parseIpLink } from '../../../shared/capture-file/links.ts';
import { renderHtmlReport } from '../../../shared/report/html.ts';
import { renderMarkdownReport } from '../../../shared/report/markdown.ts';
import { buildReportJson } from '../../../shared/report/json.ts';
import { buildAnnotatedPcapng } from '../../../shared/report/pcapng-export.ts';
import { correctToA } from '../../../shared/report/model.ts';
import type { ReportCapture } from '../../../shared/report/types.ts';
import type { SeedCapture } from './fixture.ts';
import { exportOptionsFromFlags, htmlToPdf, writeExports } from '../../../bin/cli/export.ts';
import { parseNotes } from '../../../shared/report/notes.ts';
import { UsageError } from '../../../bin/cli/io.ts';
import { handFailure, loadSeed, sampleNotes } from './fixture.ts';

const CORPUS = new URL('../../../../shared/corpus/tcpdump-tests/', import.meta.url);
const out = mkdtempSync(join(tmpdir(), 'tandem-report-test-'));
const hasTshark = spawnSync('tshark', ['--version']).status === 0;
const NO_TSHARK = hasTshark ? false : 'tshark not installed (apt-get install tshark)';

let a: SeedCapture, b: SeedCapture, result: AnalysisResult;
const notes = sampleNotes();

before(async () => {
  a = await loadSeed('endpoint-a.txt');
  b = await loadSeed('host-beta.txt');
  result = analyze(a, b);
});

function tshark(args: string[]): string {
  const r = spawnSync('tshark', args, { encoding: 'utf8' });
  assert.equal(r.status, 0, `tshark ${args.join(' ')} failed: ${r.stderr}`);
  return r.stdout;
}

/** frame → {iface, comments[]} as tshark reads them. */
function tsharkComments(file: string): Map<number, { iface: string; comments: string[] }> {
  const text = tshark(['-r', file, '-Y', 'frame.comment', '-T', 'fields', '-E', 'occurrence=a', '-E', 'aggregator=\u0001',
    '-e', 'frame.number', '-e', 'frame.interface_name', '-e', 'frame.comment']);
  const m = new Map<number, { iface: string; comments: string[] }>();
  for (const line of text.split('\n')) {
    if (!line) continue;
    const [n, iface, comments] = line.split('\t');
    m.set(Number(n), { iface: iface!, comments: comments!.split('\u0001') });
  }
  return m;
}

test('HTML report: self-contained, escaped, holds verdict, findings, ladder, checkpoints, clock, notes', () => {
  const html = renderHtmlReport({ a, b, result, notes, toolVersion: 'test' });
  assert.match(html, /<meta http-equiv="Content-Security-Policy" content="default-src &#39;none&#39;; style-src &#39;unsafe-inline&#39;; img-src data:">/);
  // Nothing that could fetch: no scripts, links, external sources or CSS imports.
  assert.doesNotMatch(html, /<script|<link|<img|<iframe|\bsrc=|@import|url\((?!#)/i);
  assert.ok(html.indexOf('class="verdict') < html.indexOf('<h2>Findings'), 'verdict comes first');
  assert.match(html, /<svg [^>]*class="ladder"/);
  for (const c of result.checkpoints) {
    assert.ok(html.includes(`<td><b>${c.label}</b></td>`), `checkpoint row ${c.label}`);
  }
  for (const f of result.findings) assert.ok(html.includes(f.title.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/'/g, '&#39;')), f.title);
  for (const n of notes) assert.ok(html.includes(n.text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')), `note ${n.id}`);
  assert.ok(!html.includes('<script>alert(1)</script>'), 'note text is escaped');
  // The note on B#4 sits inside the excerpt around B's checkpoints, right after that packet's row.
  const row = html.indexOf('<tr class="focus"><td>4</td><td>B4</td>');
  assert.ok(row > 0, 'B4 row in the excerpt');
  assert.ok(html.indexOf('NOTE-PKT', row) - row < 600, 'packet note right under its row');
  assert.match(html, new RegExp(`${result.clock.pairs} matched pair`));
});

test('HTML report of a failure draws the missing hop dashed red where it should have been', () => {
  const fail = handFailure(a, b);
  const html = renderHtmlReport({ a, b, result: fail, notes });
  assert.match(html, /class="verdict fail"/);
  assert.match(html, /stroke="#c62828" stroke-width="1.5" stroke-dasharray/);
  assert.match(html, /B5 not seen: inner SYN is forwarded out the LAN interface/);
  assert.match(html, /first missing checkpoint — never seen/);
  // Engine text with markup stays text, `code` spans become <code>.
  assert.match(html, /<code>sysctl net.ipv4.ip_forward<\/code>/);
  assert.match(html, /&lt;b&gt;before&lt;\/b&gt;/);
});

test('Markdown: verdict, findings, checkpoint table, clock, all notes', () => {
  const md = renderMarkdownReport({ a, b, result, notes });
  assert.match(md, new RegExp(`^### Tandem: ${result.verdict.status.toUpperCase()}`));
  for (const c of result.checkpoints) assert.match(md, new RegExp(`^\\| ${c.label} \\| ${c.capture}#${c.frame} \\|`, 'm'));
  // Note text is escaped Markdown: every character that could open markup or HTML carries a backslash.
  for (const n of notes) assert.ok(md.includes(n.text.replace(/[\\`*_[\]()<>&!|~]/g, '\\$&')), `note ${n.id}`);
  assert.ok(!md.includes('<script>'), 'no raw tag from a note');
  assert.match(md, /#### Clock\n\nB's clock reads/);
  const fail = renderMarkdownReport({ a, b, result: handFailure(a, b), notes });
  assert.match(fail, /### Tandem: FAIL — first missing B5/);
  assert.match(fail, /^1\. \*\*\\\[error\\\] B5\*\*/m);
});

test('JSON: the analysis contract unchanged, plus notes, tool version and time', () => {
  const j = JSON.parse(JSON.stringify(buildReportJson({ a, b, result, notes, toolVersion: '9.9.9', generatedAt: '2026-01-01T00:00:00Z' })));
  for (const k of Object.keys(result) as Array<keyof AnalysisResult>) assert.deepEqual(j[k], JSON.parse(JSON.stringify(result[k])), k);
  assert.deepEqual(j.notes, notes);
  assert.deepEqual(j.tool, { name: 'tandem', version: '9.9.9' });
  assert.equal(j.generated_at, '2026-01-01T00:00:00Z');
});

test('clock correction inverts the engine model t_B = t_A + offset + skew·(t_A − ref) to the nanosecond', () => {
  const clock = { offsetS: 3.25, skewPpm: 40, refS: 1_700_000_000.5 };
  for (const [sec, nsec] of [[1_700_000_000, 0], [1_700_000_123, 456_789_012], [1_699_999_000, 999_999_999]] as const) {
    const tA = sec + nsec / 1e9;
    // Forward model in BigInt nanoseconds, independent of the code under test.
    const xNs = BigInt(sec) * 1_000_000_000n + BigInt(nsec) - 1_700_000_000_500_000_000n;
    const shiftNs = 3_250_000_000n + (xNs * 40n) / 1_000_000n;
    const bNs = BigInt(sec) * 1_000_000_000n + BigInt(nsec) + shiftNs;
    const [s, n] = correctToA(Number(bNs / 1_000_000_000n), Number(bNs % 1_000_000_000n), clock);
    const back = BigInt(s) * 1_000_000_000n + BigInt(n);
    const err = Number(back - (BigInt(sec) * 1_000_000_000n + BigInt(nsec)));
    assert.ok(Math.abs(err) <= 1, `t_A ${tA}: off by ${err} ns`);
  }
});

test('annotated pcapng (seeds): all packets, interface names, checkpoint labels and notes as comments', { skip: NO_TSHARK }, () => {
  const file = join(out, 'seeds.pcapng');
  const bytes = buildAnnotatedPcapng({ a, b, result, notes });
  writeFile(file, bytes);
  const count = tshark(['-r', file, '-T', 'fields', '-e', 'frame.number']).trim().split('\n').length;
  assert.equal(count, a.packets.length + b.packets.length);
  const names = new Set(tshark(['-r', file, '-T', 'fields', '-e', 'frame.interface_name']).trim().split('\n'));
  const expected = new Set([...a.packets.map((p) => `A:${p.iface}`), ...b.packets.map((p) => `B:${p.iface}`)]);
  assert.deepEqual(names, expected);
  const comments = tsharkComments(file);
  for (const c of result.checkpoints) {
    const hit = [...comments.values()].find((v) => v.comments.some((t) => t.startsWith(`Tandem ${c.label}: `) && t.endsWith(`(${c.capture}#${c.frame})`)));
    assert.ok(hit, `checkpoint ${c.label} labelled`);
    assert.equal(hit!.iface, `${c.capture}:${c.iface}`);
  }
  const all = [...comments.values()].flatMap((v) => v.comments).join('\n');
  assert.match(all, /Tandem note: NOTE-PKT/);
  assert.match(all, /Tandem note on A1: NOTE-CP/);
  if (result.findings.length) assert.match(all, /Tandem note on finding 1: NOTE-FIND/);
  // Merged in time order; the session (verdict, clock, session note) in the section header.
  const times = tshark(['-r', file, '-T', 'fields', '-e', 'frame.time_epoch']).trim().split('\n').map(Number);
  for (let i = 1; i < times.length; i++) assert.ok(times[i]! >= times[i - 1]!, `frame ${i + 1} out of order`);
  const info = spawnSync('capinfos', ['-k', file], { encoding: 'utf8' }).stdout;
  assert.match(info, /Tandem session export/);
  assert.match(info, new RegExp(`Verdict: ${result.verdict.status.toUpperCase()}`));
  assert.match(info, /Captured during the 14:00 change window/);
});

test('annotated pcapng: B moved onto A\'s clock cancels a clock shift applied to B', { skip: NO_TSHARK }, () => {
  // Shift B by +7 s: the engine must estimate it and the corrected export must come out the same.
  const SHIFT = 7;
  const bShifted: ReportCapture = { ...b, packets: b.packets.map((p) => ({ ...p, tsSec: p.tsSec + SHIFT })) };
  const shifted = analyze(a, bShifted);
  assert.ok(Math.abs(shifted.clock.offset_s - result.clock.offset_s - SHIFT) < 1e-5, `offset ${shifted.clock.offset_s}`);
  const f1 = join(out, 'plain.pcapng'), f2 = join(out, 'shifted.pcapng');
  writeFile(f1, buildAnnotatedPcapng({ a, b, result }));
  writeFile(f2, buildAnnotatedPcapng({ a, b: bShifted, result: shifted }));
  const read = (f: string) => tshark(['-r', f, '-T', 'fields', '-e', 'frame.interface_name', '-e', 'frame.time_epoch']).trim().split('\n').map((l) => l.split('\t'));
  const r1 = read(f1), r2 = read(f2);
  assert.equal(r1.length, r2.length);
  for (let i = 0; i < r1.length; i++) {
    assert.equal(r1[i]![0], r2[i]![0], `frame ${i + 1} interface`);
    assert.ok(Math.abs(Number(r1[i]![1]) - Number(r2[i]![1])) < 1e-5, `frame ${i + 1}: ${r1[i]![1]} vs ${r2[i]![1]}`);
  }
  // Without correction the shift stays in the file.
  const f3 = join(out, 'uncorrected.pcapng');
  writeFile(f3, buildAnnotatedPcapng({ a, b: bShifted, result: shifted }, { correctClock: false }));
  const last = read(f3).at(-1)!;
  assert.equal(last[0]!.slice(0, 2), 'B:');
});

test('annotated pcapng (binary corpus captures): original bytes and link types kept, per-host files', { skip: NO_TSHARK }, async () => {
  const load = async (name: string): Promise<SeedCapture> => {
    const url = new URL(name, CORPUS);
    const r = await loadAll(readFileSync(url), { keepBytes: true });
    return { name, packets: r.packets, frames: r.frames, interfaces: r.interfaces };
  };
  const ca = await load('02-sunrise-sunset-esp.pcap');
  const cb = await load('OSPFv2_Capture_FINAL.pcapng');
  const res = analyze(ca, cb);
  const merged = join(out, 'corpus.pcapng');
  const written = await writeExports({ a: ca, b: cb, result: res, notes, pcapng: merged, perHost: true, json: join(out, 'corpus.json') });
  assert.deepEqual(new Set(written), new Set([merged, join(out, 'corpus-A.pcapng'), join(out, 'corpus-B.pcapng'), join(out, 'corpus.json')]));
  const count = (f: string) => tshark(['-r', f, '-T', 'fields', '-e', 'frame.number']).trim().split('\n').filter(Boolean).length;
  assert.equal(count(merged), ca.packets.length + cb.packets.length);
  assert.equal(count(join(out, 'corpus-A.pcapng')), ca.packets.length);
  assert.equal(count(join(out, 'corpus-B.pcapng')), cb.packets.length);
  // Every frame's bytes as tshark sees them, per host, in file order, against the originals.
  const hex = (f: string, filter: string) => tshark(['-r', f, '-Y', filter, '-T', 'fields', '-e', 'frame.len', '-e', 'frame.cap_len', '-e', 'frame.encap_type']).trim().split('\n');
  const origA = tshark(['-r', new URL('02-sunrise-sunset-esp.pcap', CORPUS).pathname, '-T', 'fields', '-e', 'frame.len', '-e', 'frame.cap_len', '-e', 'frame.encap_type']).trim().split('\n');
  assert.deepEqual(hex(join(out, 'corpus-A.pcapng'), 'frame'), origA);
  const back = await loadAll(readFileSync(join(out, 'corpus-B.pcapng')), { keepBytes: true });
  assert.equal(back.frames.length, cb.frames!.length);
  for (let i = 0; i < back.frames.length; i++) assert.deepEqual(back.frames[i], cb.frames![i], `B frame ${i + 1} bytes`);
  const names = new Set(tshark(['-r', merged, '-T', 'fields', '-e', 'frame.interface_name']).trim().split('\n'));
  for (const n of names) assert.match(n, /^[AB]:/);
});

test('annotated pcapng (lab captures, when present): checkpoint comments sit on the original bytes', { skip: NO_TSHARK }, async (t) => {
  const LAB = process.env.TANDEM_LAB_DIR ?? process.env.TANDEM_LAB_OUT ?? '/tmp/tandem-lab';
  // Each scenario holds multi-interface pcapng (A.pcapng) or `-i any` SLL2 with the `ip -o link` text.
  // Healthy in both forms; the failures in the first form found.
  const sets = ['healthy', 'b-no-forward', 'path-drop-udp'].map((d) => join(LAB, d)).flatMap((dir) => {
    const forms = [];
    if (existsSync(join(dir, 'A.pcapng')) && existsSync(join(dir, 'B.pcapng'))) forms.push({ dir, a: 'A.pcapng', b: 'B.pcapng', links: false });
    if (existsSync(join(dir, 'A-any.pcap')) && existsSync(join(dir, 'B-any.pcap'))) forms.push({ dir, a: 'A-any.pcap', b: 'B-any.pcap', links: true });
    return dir.endsWith('healthy') ? forms : forms.slice(0, 1);
  });
  if (sets.length === 0) { t.skip(`no lab captures under ${LAB} (run test/lab/lab.sh as root to make them)`); return; }
  for (const { dir, a: fa, b: fb, links } of sets) {
    const load = async (f: string, side: string): Promise<SeedCapture> => {
      const linkNames = links ? parseIpLink(readFileSync(join(dir, `${side}-links.txt`), 'utf8')) : undefined;
      const r = await loadAll(readFileSync(join(dir, f)), { keepBytes: true, linkNames });
      return { name: f, packets: r.packets, frames: r.frames, interfaces: r.interfaces };
    };
    const la = await load(fa, 'A'), lb = await load(fb, 'B');
    const res = analyze(la, lb);
    const file = join(out, `lab-${dir.split('/').pop()}-${fa}.pcapng`);
    writeFile(file, buildAnnotatedPcapng({ a: la, b: lb, result: res, notes }));
    const count = tshark(['-r', file, '-T', 'fields', '-e', 'frame.number']).trim().split('\n').length;
    assert.equal(count, la.packets.length + lb.packets.length, dir);
    const names = new Set(tshark(['-r', file, '-T', 'fields', '-e', 'frame.interface_name']).trim().split('\n'));
    const given = new Set([...la.packets.map((p) => `A:${p.iface}`), ...lb.packets.map((p) => `B:${p.iface}`)]);
    assert.deepEqual(names, given, `${dir}: interface names as given`);
    assert.ok(names.has('A:wg0'), `${dir}: ${[...names].join(' ')}`);
    for (const n of names) assert.doesNotMatch(n, /^[AB]:(if)?\d*$/, `${dir}: a real interface name, not an index`);
    const back = await loadAll(readFileSync(file), { keepBytes: true });
    for (const c of res.checkpoints) {
      const i = back.packets.findIndex((p) => p.comments?.some((x) => x.startsWith(`Tandem ${c.label}: `)));
      assert.ok(i >= 0, `${dir}: ${c.label} labelled`);
      const orig = (c.capture === 'A' ? la : lb).frames![c.frame - 1]!;
      assert.deepEqual(back.frames[i], orig, `${dir}: ${c.label} on the original bytes`);
      assert.equal(back.packets[i]!.iface, `${c.capture}:${c.iface}`);
    }
  }
});

test('PDF without a browser fails with one clear line', async () => {
  const html = join(out, 'nobrowser.html');
  writeFile(html, '<!DOCTYPE html><p>x</p>');
  await assert.rejects(htmlToPdf(html, join(out, 'x.pdf'), undefined), (e: Error) => e instanceof UsageError && /^--pdf needs Chromium/.test(e.message) && !e.message.includes('\n'));
  await assert.rejects(htmlToPdf(html, join(out, 'x.pdf'), join(out, 'no-such-chromium')), (e: Error) => e instanceof UsageError && /could not run/.test(e.message));
});

test('notes travel: a JSON export read back with --notes gives the same notes; bad entries are named', async () => {
  const json = join(out, 'with-notes.json');
  await writeExports({ a, b, result, notes, json });
  const opts = exportOptionsFromFlags({ notes: json, pcapng: join(out, 'n.pcapng'), 'per-host': true });
  assert.deepEqual(opts.notes, notes);
  assert.equal(opts.needsBytes, true);
  assert.equal(opts.perHost, true);
  assert.throws(() => exportOptionsFromFlags({ 'per-host': true }), /--per-host needs --pcapng/);
  const { notes: ok, problems } = parseNotes([{ text: 'x', target: { kind: 'packet', capture: 'C', frame: 1 } }, { text: 'y' }]);
  assert.deepEqual(ok.map((n) => n.text), ['y']);
  assert.match(problems[0]!, /^note 1: packet target needs capture "A" or "B" \(got "C"\)/);
});
