// Messages between the UI thread and the session worker (one per open session). The worker keeps
// both captures' packets in memory: analysis, display filtering and exports all need every packet,
// and reading them once beats re-reading IndexedDB for every keystroke in the filter box.

import type { HostSide } from '../db/schema.ts';

/** `pcapng` holds both hosts; `pcapng-A` / `pcapng-B` one host each (its own clock). */
export type ExportFormat = 'html' | 'md' | 'json' | 'pcapng' | 'pcapng-A' | 'pcapng-B';

export type ToSessionWorker =
  | { type: 'open'; sessionId: number }
  /** Runs the analysis with the session's stored settings and stores the result in Dexie. */
  | { type: 'analyze'; inputs: string }
  | { type: 'filter'; id: number; src: string }
  | { type: 'export'; id: number; format: ExportFormat; title: string }
  /** Re-decodes one capture from its stored raw frames with `ip -o link` names. */
  | { type: 'relink'; host: HostSide; text: string };

export interface SideTimes {
  captureId: number;
  count: number;
  /** Seconds since A's first packet of each row (B on its own clock; the UI corrects it). */
  times: Float64Array;
}

export type FromSessionWorker =
  | { type: 'progress'; task: string; done: number; total: number }
  | { type: 'loaded'; A: SideTimes | null; B: SideTimes | null; baseSec: number; ms: number }
  | { type: 'analyzed'; ms: number; error?: string }
  | { type: 'filtered'; id: number; ok: true; A: Uint32Array | null; B: Uint32Array | null; ms: number }
  | { type: 'filtered'; id: number; ok: false; error: string; at: number }
  | { type: 'exported'; id: number; name: string; mime: string; data: Uint8Array | string; ms: number }
  | { type: 'relinked'; host: HostSide; names: number; ms: number }
  | { type: 'error'; task: string; message: string };
