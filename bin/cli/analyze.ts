// `tandem analyze A B`: both ends through the shared analysis engine, then any exports asked for.
import { writeFileSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';
import { fillSummaries } from '../../shared/ingest/load-capture.ts';
import { loadFiles, loadThreads, readChunks, type LoadedFile } from './parallel-load.ts';
import type { Note } from '../../shared/report/notes.ts';
import { parseIpLink } from '../../shared/capture-file/links.ts';
import { analyze, parseFlowSpec, type AnalysisResult } from '../../shared/analysis/index.ts';
import type { CaptureInput, CaptureKey } from '../../shared/analysis/types.ts';
import { EXPORT_FLAGS, exportOptionsFromFlags, writeExports, type LoadedCapture } from './export.ts';
import { readText, parseArgs, UsageError, displayName, problemLine, problemNotes, inflateOptions } from './io.ts';
import { INFLATE_LIMIT_MESSAGE, type SkippedLines } from '../../shared/capture-file/reader.ts';
import { skippedLinesNote } from '../../shared/capture-file/text/skipped.ts';
import { jsonVisible } from '../../shared/util/shell.ts';
import { visible } from '../../shared/util/shell.ts';
import type { HostEvidence } from '../../shared/evidence/index.ts';
import { evidenceSizeError, hostsEvidence, type EvidenceText } from '../../shared/evidence/collect.ts';

export async function analyzeCommand(argv: string[]): Promise<number> {
  const { rest, files: evidenceFiles } = evidenceArgs(argv);
  const { flags, positionals } = parseArgs(rest, {
    'a-links': 'string', 'b-links': 'string', flow: 'string', json: 'string', 'keep-order': 'boolean', 'max-inflate': 'string', ...EXPORT_FLAGS,
  });
  if (positionals.length !== 2) throw new UsageError('analyze takes two capture files: A_FILE B_FILE');
  const [fa, fb] = positionals;
  let flow: string | undefined;
  if (typeof flags.flow === 'string') {
    try { parseFlowSpec(flags.flow); } catch (e) { throw new UsageError(`--flow: ${(e as Error).message}`); }
    flow = flags.flow;
  }
  const exports = exportOptionsFromFlags(flags);
  const linksOf = (links: unknown) => (typeof links === 'string' ? parseIpLink(readText(links)) : undefined);
  const linksA = linksOf(flags['a-links']), linksB = linksOf(flags['b-links']);
  const inflate = inflateOptions(flags);
  // Packets are loaded without their summary text (most of a decoded packet's memory; the
  // engine never reads it); the frames the output shows get theirs in a second, cheap pass.
  // Text captures: the lines the reader skipped, per capture as given (reported on stderr and in --json).
  const skippedBy: { A?: SkippedLines; B?: SkippedLines } = {};
  // Both captures are read and decoded at once, one on this thread and one in a worker, where there are the cores for it.
  const timing = process.env.TANDEM_TIMING ? new StageTimes() : null;
  const threads = loadThreads([fa, fb]);
  // This thread's young generation stays at the size it has (1 MiB semi-spaces at first): what the
  // load and the analysis keep is in typed arrays, and V8 growing the semi-spaces to 16 MiB cost
  // the bulk pair's peak 25 MiB (two threads) to 45 MiB (one thread). Measured: with a worker
  // reading the other capture, set after the load (set before, the peak stayed where it was, for
  // ~0.1 s more CPU); reading both here, set before it (~0.4 s more CPU on 1.8 M packets).
  const keepYoung = (): void => setFlagsFromString('--semi-space-growth-factor=1');
  if (threads < 2) keepYoung();
  const loaded = await loadFiles([
    { file: fa, linkNames: linksA, keepBytes: exports.needsBytes, prepare: true, ...inflate },
    { file: fb, linkNames: linksB, keepBytes: exports.needsBytes, prepare: true, ...inflate },
  ], threads);
  const secs = (ms: number | undefined): string => `${((ms ?? 0) / 1e3).toFixed(2)} s`;
  const prepTimes = loaded[0]!.prepMs !== undefined ? `; prepared: A ${secs(loaded[0]!.prepMs)}, B ${secs(loaded[1]!.prepMs)}` : '';
  timing?.mark(`load (${threads < 2 ? 'this thread' : 'this thread and a worker'}: A ${secs(loaded[0]!.loadMs)}, B ${secs(loaded[1]!.loadMs)}${prepTimes})`);
  keepYoung();
  const take = (file: string, r: LoadedFile, linkNames: Map<number, string> | undefined, given: 'A' | 'B'): LoadedCapture => {
    const fatal = r.summary.problems.find((p) => p.fatal);
    // A refused inflate is not damage: the file may be fine, just larger than allowed, so no verdict on a prefix.
    if (fatal?.message.startsWith(INFLATE_LIMIT_MESSAGE)) throw new InflateLimit(problemLine(file, fatal));
    if (fatal) process.stderr.write(`warning: ${problemLine(file, fatal)} (analysing the ${r.packets.length} packets before it)\n`);
    for (const l of problemNotes(file, r.summary.problems)) process.stderr.write(l + '\n');
    skippedBy[given] = r.summary.skipped;
    const skippedNote = skippedLinesNote(displayName(file), r.summary.skipped, fatal);
    if (skippedNote) process.stderr.write(`note: ${skippedNote}\n`);
    return {
      name: displayName(file), file, packets: r.packets, frames: exports.needsBytes ? r.frames : undefined, interfaces: r.interfaces,
      // The host's device list (from `ip -o link`) says which interfaces exist even when none of their packets was captured.
      ...(linkNames !== undefined ? { links: [...linkNames.values()] } : {}),
    };
  };
  let a: LoadedCapture, b: LoadedCapture;
  try {
    a = take(fa, loaded[0]!, linksA, 'A');
    b = take(fb, loaded[1]!, linksB, 'B');
  } catch (e) {
    if (!(e instanceof InflateLimit)) throw e;
    process.stderr.write(`error: ${e.message}\n`);
    return 1;
  }
  const evidence = loadEvidence(evidenceFiles);
  // The preparations made beside the load travel with their captures (with the roles swapped too).
  const withPrep = (c: LoadedCapture, r: LoadedFile): LoadedCapture & CaptureInput => (r.prepared !== undefined ? { ...c, prepared: r.prepared } : c);
  const result = analyze(withPrep(a, loaded[0]!), withPrep(b, loaded[1]!), { flow, ...(flags['keep-order'] === true ? { keepGivenRoles: true } : {}), ...(evidence ? { evidence } : {}) });
  if (result.captures.A.role_swapped === true) {
    // The roles came from the packets: say so where a script's reader looks, without changing stdout's shape.
    process.stderr.write(`note: ${visible(b.name)} is the initiating host (A) and ${visible(a.name)} the receiving host (B), by the packets; ` +
      `labels A1–A6 are in ${visible(b.name)}. --keep-order analyses them as given.\n`);
  }
  timing?.mark('analyze');
  const wanted = shownFrames(result, exports.notes ?? []);
  await Promise.all([
    // Read in the load's small pieces, not a stream's 1 MiB ones: this runs at the process's memory peak.
    fillSummaries(readChunks(fa), a.packets, wanted.A, { linkNames: linksA, ...inflate }),
    fillSummaries(readChunks(fb), b.packets, wanted.B, { linkNames: linksB, ...inflate }),
  ]);
  // Each lineage is named after its first sighting.
  for (const l of result.lineage) {
    const h = l.hops[0];
    if (h === undefined || l.summary !== '') continue;
    const p = (h.capture === 'A' ? a : b).packets.at(h.frame - 1);
    if (p !== undefined && p.frame === h.frame) l.summary = p.summary;
  }
  // With the roles swapped, the capture given second is A.
  const swapped = result.captures.A.role_swapped === true;
  for (const [key, sk] of [['A', swapped ? skippedBy.B : skippedBy.A], ['B', swapped ? skippedBy.A : skippedBy.B]] as const) {
    if (sk !== undefined) Object.assign(result.captures[key], { skipped_lines: sk });
  }
  timing?.mark('summaries');
  if (flags.json === '-') process.stdout.write(jsonVisible(JSON.stringify(result, null, 2)) + '\n');
  else {
    if (typeof flags.json === 'string') writeFileSync(flags.json, JSON.stringify(result, null, 2) + '\n');
    process.stdout.write(renderText(result) + '\n');
  }
  const { needsBytes: _n, ...req } = exports;
  const written = await writeExports({ a, b, result, ...req });
  for (const f of written) process.stderr.write(`wrote ${visible(f)}\n`);
  if (timing !== null) { timing.mark('output'); process.stderr.write(timing.line() + '\n'); }
  return 0;
}

/** TANDEM_TIMING=1: each stage's wall time and the process's peak RSS when it ended, one line on stderr (`npm run bench` reads it). */
class StageTimes {
  private last = performance.now();
  private readonly parts: string[] = [];
  mark(stage: string): void {
    const now = performance.now();
    // maxRSS is in KiB.
    this.parts.push(`${stage} ${((now - this.last) / 1e3).toFixed(2)} s, peak ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB`);
    this.last = now;
  }
  line(): string { return `timing: ${this.parts.join('; ')}`; }
}

/** Frames whose summary the output or an export may print, per capture: every frame the result names, with neighbours for excerpts. */
function shownFrames(r: AnalysisResult, notes: readonly Note[]): { A: Set<number>; B: Set<number> } {
  const out = { A: new Set<number>(), B: new Set<number>() };
  // Excerpts show a few packets either side of each checkpoint or annotated packet; a wider margin costs nothing.
  const R = 16;
  const around = (k: CaptureKey, frame: number): void => { for (let f = Math.max(1, frame - R); f <= frame + R; f++) out[k].add(f); };
  for (const c of r.checkpoints) around(c.capture, c.frame);
  for (const f of r.findings) for (const e of f.evidence) around(e.capture, e.frame);
  for (const n of notes) if (n.target.kind === 'packet') around(n.target.capture, n.target.frame);
  for (const l of r.lineage) for (const h of l.hops) out[h.capture].add(h.frame);
  return out;
}

class InflateLimit extends Error {}

/** The verdict as text for a terminal: titles, steps and names come from capture data, so no control byte passes. */
export function renderText(r: AnalysisResult): string {
  const lines: string[] = [];
  const v = r.verdict;
  lines.push(`verdict: ${v.status.toUpperCase()}${v.first_missing ? ` — first missing ${v.first_missing}` : ''}${v.class && v.class !== 'none' ? ` (${v.class}, fix on ${v.host})` : ''}`);
  lines.push(`  ${v.summary}`);
  if (r.flow) lines.push(`flow: ${r.flow.proto} ${r.flow.src}${r.flow.sport != null ? ':' + r.flow.sport : ''} > ${r.flow.dst}${r.flow.dport != null ? ':' + r.flow.dport : ''}`);
  const c = r.clock;
  if (!(c.pairs > 0)) lines.push('clock: not aligned: no packet was matched on both hosts (times are as each host recorded them)');
  else {
    // One-sided pairs bound the offset from one direction only: no width to give.
    const unc = c.uncertainty_s == null || !Number.isFinite(c.uncertainty_s) ? 'bounded from one direction only' : `±${(c.uncertainty_s * 1e6).toFixed(0)} µs`;
    lines.push(`clock: B = A ${c.offset_s >= 0 ? '+' : ''}${c.offset_s.toFixed(6)} s, skew ${c.skew_ppm.toFixed(2)} ppm (${unc}, ${c.pairs} pair${c.pairs === 1 ? '' : 's'})`);
  }
  if (c.skew_observable === false && c.pairs > 0 && c.pairs_from_s !== undefined && c.pairs_to_s !== undefined) {
    const far = c.uncertainty_max_s == null || !Number.isFinite(c.uncertainty_max_s) ? 'unknown' : `±${(c.uncertainty_max_s * 1e6).toFixed(0)} µs`;
    lines.push(`  skew not observable: the pairs span ${(c.pairs_to_s - c.pairs_from_s).toFixed(3)} s; assuming up to ${((c.drift_per_s ?? 0) * 1e6).toFixed(0)} ppm, ${far} at the packet farthest from them`);
  }
  lines.push('checkpoints: ' + (r.checkpoints.map((cp) => `${cp.label}=${cp.capture}#${cp.frame}`).join(' ') || '(none)'));
  for (const f of r.findings) {
    lines.push(`[${f.severity}] ${f.checkpoint ?? '-'} ${f.title} (${f.class}, fix on ${f.host})`);
    for (const q of f.host_evidence ?? []) lines.push(`    ${q.host} ${visible(q.source)}: ${visible(q.text)}`);
    for (const s of f.next_steps) lines.push(`    - ${s}`);
  }
  return lines.map(visible).join('\n');
}

/**
 * `--a-evidence FILE` / `--b-evidence FILE`, repeatable (one file per command output: wg show all
 * dump, ip route, nft list ruleset, sysctl …); taken out of argv before the single-value options.
 */
function evidenceArgs(argv: string[]): { rest: string[]; files: { A: string[]; B: string[] } } {
  const files: { A: string[]; B: string[] } = { A: [], B: [] };
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const m = /^--([ab])-evidence(?:=(.*))?$/s.exec(argv[i]!);
    if (!m) { rest.push(argv[i]!); continue; }
    const v = m[2] ?? argv[++i];
    if (v === undefined) throw new UsageError(`option --${m[1]}-evidence needs a value`);
    files[m[1] === 'a' ? 'A' : 'B'].push(v);
  }
  return { rest, files };
}

/** Each host's evidence files, recognised by content (shared with the app: shared/evidence/collect.ts); a line a parser could not read is a warning naming file and line. */
function loadEvidence(files: { A: string[]; B: string[] }): { A?: HostEvidence; B?: HostEvidence } | undefined {
  if (files.A.length === 0 && files.B.length === 0) return undefined;
  const texts = (host: 'A' | 'B'): EvidenceText[] => files[host].map((file) => {
    const text = readText(file);
    const big = evidenceSizeError(displayName(file), text.length);
    if (big !== null) throw new UsageError(`--${host.toLowerCase()}-evidence ${big}`);
    return { name: displayName(file), text };
  });
  const { evidence, readings } = hostsEvidence({ A: texts('A'), B: texts('B') });
  for (const host of ['A', 'B'] as const) {
    for (const r of readings[host]) {
      if (r.error !== undefined) throw new UsageError(`--${host.toLowerCase()}-evidence ${r.error}`);
      for (const p of r.problems.slice(0, 5)) process.stderr.write(`warning: ${r.name} line ${p.line}: ${visible(p.message)}\n`);
      if (r.problemCount > 5) process.stderr.write(`warning: ${r.name}: ${r.problemCount - 5} more lines not understood\n`);
    }
  }
  return evidence;
}
