// Messages between the UI thread and the live-capture worker, which decodes captured frames and
// appends them to a capture's packet and frame chunks (the same layout a file import writes).
import type { LiveFrame, LiveInterfaceInfo } from '../../../../shared/ipc/contract.ts';

export type ToLiveWorker =
  | { type: 'begin'; captureId: number }
  | { type: 'batch'; interfaces: LiveInterfaceInfo[]; packets: LiveFrame[] }
  /** The capture ended: write what is pending and close the record. */
  | { type: 'finish'; status: 'complete' | 'partial'; problem?: string; fileName?: string; bytes?: number };

export type FromLiveWorker =
  /** Packets now in IndexedDB (the last chunk may still grow). */
  | { type: 'stored'; captureId: number; packets: number }
  | { type: 'finished'; captureId: number; packets: number; ms: number; problem?: string };
