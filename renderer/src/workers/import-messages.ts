// Messages between the UI thread and the import worker. Cancel is not a message: the UI
// terminates the worker, which works even while it is stuck in a long synchronous parse.

import type { SkippedLines } from '../../../shared/capture-file/reader.ts';

export interface ImportStart {
  type: 'start';
  captureId: number;
  file: File;
  /** gzip'd files: refuse to inflate past this many bytes (a gzip bomb ends with a one-line error). */
  maxInflatedBytes?: number;
}

export type ToImportWorker = ImportStart;

export interface ImportProgress {
  type: 'progress';
  captureId: number;
  /** Bytes of the file consumed so far (compressed bytes for .gz). */
  bytesRead: number;
  totalBytes: number;
  packets: number;
}

/**
 * complete/partial: stored and usable. unreadable: nothing usable in the file, nothing stored.
 * failed: could not be stored (e.g. storage full), rolled back.
 */
export type ImportOutcome = 'complete' | 'partial' | 'unreadable' | 'failed';

export interface ImportDone {
  type: 'done';
  captureId: number;
  status: ImportOutcome;
  packets: number;
  /** One line for the user (file name included, capture text made visible). */
  problem?: string;
  /** What to do next, for unreadable and failed imports. */
  next?: string;
  skipped?: SkippedLines;
  /** The worker removed the record itself (roll back); the UI only checks. */
  removed?: boolean;
  ms: number;
}

export type FromImportWorker = ImportProgress | ImportDone;

/** Held by the worker while importing, so start-up can tell a live import from one a closed window left behind. */
export function importLockName(captureId: number): string {
  return `tandem-import-${captureId}`;
}
