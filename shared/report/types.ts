// What the exports read: the analysis engine's result (the JSON contract of the analysis issue),
// both captures, and the user's notes.
import type { PacketList } from '../protocols/packet.ts';
import type { CaptureInterface } from '../capture-file/types.ts';
import type { AnalysisResult, CaptureKey } from '../analysis/types.ts';
import type { Note } from './notes.ts';

export type CaptureSide = CaptureKey;
export type ReportAnalysis = AnalysisResult;
export type ReportHop = AnalysisResult['lineage'][number]['hops'][number];
export type ReportCheckpoint = AnalysisResult['checkpoints'][number];
export type ReportFinding = AnalysisResult['findings'][number];

/** One side of the session as the exports need it. */
export interface ReportCapture {
  /** Display name (file name without directories). */
  name: string;
  file?: string;
  packets: PacketList;
  interfaces?: CaptureInterface[];
  /** Raw bytes per packet (same order as packets); empty entries for text imports. */
  frames?: Uint8Array[];
}

export interface ReportInput {
  a: ReportCapture;
  b: ReportCapture;
  result: ReportAnalysis;
  notes?: readonly Note[];
  /** ISO 8601; defaults to now. */
  generatedAt?: string;
  toolVersion?: string;
  title?: string;
}
