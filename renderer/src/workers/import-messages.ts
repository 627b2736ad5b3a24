// Messages between the UI thread and the import worker.

export interface ImportStart {
  type: 'start';
  captureId: number;
  file: File;
}

export interface ImportCancel { type: 'cancel' }

export type ToImportWorker = ImportStart | ImportCancel;

export interface ImportProgress {
  type: 'progress';
  captureId: number;
  /** Bytes of the file consumed so far (compressed bytes for .gz). */
  bytesRead: number;
  totalBytes: number;
  packets: number;
}

export interface ImportDone {
  type: 'done';
  captureId: number;
  status: 'complete' | 'partial' | 'cancelled';
  packets: number;
  problem?: string;
  ms: number;
}

export type FromImportWorker = ImportProgress | ImportDone;
