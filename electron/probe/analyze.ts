// The probe's analysis: the same steps `tandem analyze A B --a-links … --b-links … --a-evidence …
// --b-evidence … --flow …` takes on the same files (electron/ may not import bin/, so they are
// repeated here; test/unit/probe checks the two agree), returning the result instead of printing it.
import { createReadStream, readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { fillSummaries, loadCompact } from '../../shared/ingest/load-capture.ts';
import { parseIpLink } from '../../shared/capture-file/links.ts';
import { analyze, type AnalysisResult } from '../../shared/analysis/index.ts';
import type { CaptureInput, CaptureKey } from '../../shared/analysis/types.ts';
import { hostsEvidence } from '../../shared/evidence/collect.ts';
import { visible } from '../../shared/util/shell.ts';

export interface ProbeAnalysisInput {
  A: { capture: string; links: string; evidence: string[] };
  B: { capture: string; links: string; evidence: string[] };
  flow?: string;
}

/** The argument list for `tandem analyze` that gives the same result (kept in probe.json for replay). */
export function analyzeArgs(i: ProbeAnalysisInput): string[] {
  const out = [i.A.capture, i.B.capture];
  if (i.A.links) out.push('--a-links', i.A.links);
  if (i.B.links) out.push('--b-links', i.B.links);
  for (const f of i.A.evidence) out.push('--a-evidence', f);
  for (const f of i.B.evidence) out.push('--b-evidence', f);
  if (i.flow) out.push('--flow', i.flow);
  return out;
}

const open = (file: string) => createReadStream(file, { highWaterMark: 1 << 20 });

export async function analyzeProbe(i: ProbeAnalysisInput, signal?: AbortSignal): Promise<{ result: AnalysisResult; warnings: string[] }> {
  const warnings: string[] = [];
  const linksOf = (f: string) => (f ? parseIpLink(readFileSync(f, 'utf8')) : undefined);
  const linksA = linksOf(i.A.links), linksB = linksOf(i.B.links);
  const load = async (file: string, linkNames: Map<number, string> | undefined): Promise<CaptureInput> => {
    const r = await loadCompact(open(file), { linkNames, summary: false, payloadHash: 'udp', signal });
    const fatal = r.summary.problems.find((p) => p.fatal);
    if (fatal) warnings.push(`${visible(basename(file))}: ${visible(fatal.message)} at byte ${fatal.offset} (analysing the ${r.packets.length} packets before it)`);
    return { name: visible(basename(file)), file, packets: r.packets, interfaces: r.interfaces, ...(linkNames !== undefined ? { links: [...linkNames.values()] } : {}) };
  };
  const [a, b] = await Promise.all([load(i.A.capture, linksA), load(i.B.capture, linksB)]);
  // The same assembly `tandem analyze` and the app use (shared/evidence/collect.ts), files in the order given.
  const texts = (host: 'A' | 'B') => i[host].evidence.map((f) => ({ name: visible(basename(f)), text: readFileSync(f, 'utf8') }));
  const { evidence, readings } = hostsEvidence({ A: texts('A'), B: texts('B') });
  // Files were checked when they were saved; one that no longer reads is left out, with a warning.
  for (const host of ['A', 'B'] as const) for (const r of readings[host]) if (r.error !== undefined) warnings.push(`${host}: ${visible(r.error)}`);
  const result = analyze(a, b, { ...(i.flow ? { flow: i.flow } : {}), ...(evidence ? { evidence } : {}) });
  const wanted = shownFrames(result);
  await Promise.all([
    fillSummaries(open(i.A.capture), a.packets, wanted.A, { linkNames: linksA }),
    fillSummaries(open(i.B.capture), b.packets, wanted.B, { linkNames: linksB }),
  ]);
  for (const l of result.lineage) {
    const h = l.hops[0];
    if (h === undefined || l.summary !== '') continue;
    const p = (h.capture === 'A' ? a : b).packets.at(h.frame - 1);
    if (p !== undefined && p.frame === h.frame) l.summary = p.summary;
  }
  return { result, warnings };
}

/** As `tandem analyze`: frames the output may print, with neighbours for excerpts. */
function shownFrames(r: AnalysisResult): { A: Set<number>; B: Set<number> } {
  const out = { A: new Set<number>(), B: new Set<number>() };
  const R = 16;
  const around = (k: CaptureKey, frame: number): void => { for (let f = Math.max(1, frame - R); f <= frame + R; f++) out[k].add(f); };
  for (const c of r.checkpoints) around(c.capture, c.frame);
  for (const f of r.findings) for (const e of f.evidence) around(e.capture, e.frame);
  for (const l of r.lineage) for (const h of l.hops) out[h.capture].add(h.frame);
  return out;
}
