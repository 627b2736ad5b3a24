// `tandem analyze A B`: both ends through the shared analysis engine, then any exports asked for.
import { writeFileSync } from 'node:fs';
import { fillSummaries, loadCompact } from '../../shared/ingest/load-capture.ts';
import type { Note } from '../../shared/report/notes.ts';
import { parseIpLink } from '../../shared/capture-file/links.ts';
import { analyze, parseFlowSpec, type AnalysisResult } from '../../shared/analysis/index.ts';
import type { CaptureKey } from '../../shared/analysis/types.ts';
import { EXPORT_FLAGS, exportOptionsFromFlags, writeExports, type LoadedCapture } from './export.ts';
import { openCapture, readText, parseArgs, UsageError, displayName } from './io.ts';

export async function analyzeCommand(argv: string[]): Promise<number> {
  const { flags, positionals } = parseArgs(argv, {
    'a-links': 'string', 'b-links': 'string', flow: 'string', json: 'string', ...EXPORT_FLAGS,
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
  // Packets are loaded without their summary text (most of a decoded packet's memory; the
  // engine never reads it); the frames the output shows get theirs in a second, cheap pass.
  const load = async (file: string, linkNames: Map<number, string> | undefined): Promise<LoadedCapture> => {
    const r = await loadCompact(openCapture(file), { linkNames, keepBytes: exports.needsBytes, summary: false });
    const fatal = r.summary.problems.find((p) => p.fatal);
    if (fatal) process.stderr.write(`warning: ${displayName(file)}: ${fatal.message} at byte ${fatal.offset} (analysing the ${r.packets.length} packets before it)\n`);
    return { name: displayName(file), file, packets: r.packets, frames: exports.needsBytes ? r.frames : undefined, interfaces: r.interfaces };
  };
  const [a, b] = await Promise.all([load(fa, linksA), load(fb, linksB)]);
  const result = analyze(a, b, { flow });
  const wanted = shownFrames(result, exports.notes ?? []);
  await Promise.all([
    fillSummaries(openCapture(fa), a.packets, wanted.A, { linkNames: linksA }),
    fillSummaries(openCapture(fb), b.packets, wanted.B, { linkNames: linksB }),
  ]);
  // Each lineage is named after its first sighting.
  for (const l of result.lineage) {
    const h = l.hops[0];
    if (h === undefined || l.summary !== '') continue;
    const p = (h.capture === 'A' ? a : b).packets.at(h.frame - 1);
    if (p !== undefined && p.frame === h.frame) l.summary = p.summary;
  }
  if (flags.json === '-') process.stdout.write(JSON.stringify(result, null, 2) + '\n');
  else {
    if (typeof flags.json === 'string') writeFileSync(flags.json, JSON.stringify(result, null, 2) + '\n');
    process.stdout.write(renderText(result) + '\n');
  }
  const { needsBytes: _n, ...req } = exports;
  const written = await writeExports({ a, b, result, ...req });
  for (const f of written) process.stderr.write(`wrote ${f}\n`);
  return 0;
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

function renderText(r: AnalysisResult): string {
  const lines: string[] = [];
  const v = r.verdict;
  lines.push(`verdict: ${v.status.toUpperCase()}${v.first_missing ? ` — first missing ${v.first_missing}` : ''}${v.class && v.class !== 'none' ? ` (${v.class}, fix on ${v.host})` : ''}`);
  lines.push(`  ${v.summary}`);
  if (r.flow) lines.push(`flow: ${r.flow.proto} ${r.flow.src}${r.flow.sport != null ? ':' + r.flow.sport : ''} > ${r.flow.dst}${r.flow.dport != null ? ':' + r.flow.dport : ''}`);
  const c = r.clock;
  const unc = c.uncertainty_s == null ? 'uncertainty unknown' : `±${(c.uncertainty_s * 1e6).toFixed(0)} µs`;
  lines.push(`clock: B = A ${c.offset_s >= 0 ? '+' : ''}${c.offset_s.toFixed(6)} s, skew ${c.skew_ppm.toFixed(2)} ppm (${unc}, ${c.pairs} pairs)`);
  lines.push('checkpoints: ' + (r.checkpoints.map((cp) => `${cp.label}=${cp.capture}#${cp.frame}`).join(' ') || '(none)'));
  for (const f of r.findings) {
    lines.push(`[${f.severity}] ${f.checkpoint ?? '-'} ${f.title} (${f.class}, fix on ${f.host})`);
    for (const s of f.next_steps) lines.push(`    - ${s}`);
  }
  return lines.join('\n');
}
