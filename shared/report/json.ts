// JSON export: the analysis contract unchanged at the top level (so scripts written against
// `tandem analyze --json` read it as is), plus the user's notes and where the file came from.
import type { Note } from './notes.ts';
import type { ReportAnalysis, ReportInput } from './types.ts';
import { jsonVisible } from '../util/shell.ts';

export interface ReportJson extends ReportAnalysis {
  notes: Note[];
  tool: { name: 'tandem'; version: string };
  generated_at: string;
}

export function buildReportJson(input: ReportInput): ReportJson {
  return {
    ...input.result,
    notes: [...(input.notes ?? [])],
    tool: { name: 'tandem', version: input.toolVersion ?? 'unknown' },
    generated_at: input.generatedAt ?? new Date().toISOString(),
  };
}

export function renderJsonReport(input: ReportInput): string {
  // Bidi and C1 characters from captures, notes or host evidence as \u escapes (same values once parsed), as `analyze --json -` does.
  return jsonVisible(JSON.stringify(buildReportJson(input), null, 2)) + '\n';
}
