// Exports of a troubleshooting session: HTML (and PDF from it), Markdown, JSON, annotated pcapng.
// Pure TypeScript: the app's renderer, its main process and the CLI all call the same functions.
export { renderHtmlReport, REPORT_CSP } from './html.ts';
export { renderMarkdownReport } from './markdown.ts';
export { buildReportJson, renderJsonReport } from './json.ts';
export type { ReportJson } from './json.ts';
export { annotatedPcapngChunks, buildAnnotatedPcapng, packetComments } from './pcapng-export.ts';
export type { PcapngExportOptions } from './pcapng-export.ts';
export { layoutLadder, renderLadderSvg, ladderSvg } from './ladder.ts';
export type { LadderLayout, LadderOptions, LadderColumn, LadderPoint, LadderArrow } from './ladder.ts';
export { indexNotes, parseNotes, describeTarget, packetKey } from './notes.ts';
export type { Note, NoteTarget, NoteIndex } from './notes.ts';
export { clockModel, correctToA, CLOCK_CONVENTION } from './model.ts';
export type { ClockModel } from './model.ts';
export { CHECKPOINTS, describeCheckpoint } from './labels.ts';
export type { ReportInput, ReportCapture, ReportAnalysis } from './types.ts';
