// Running imports, one Web Worker each, observable from React with useSyncExternalStore.

import { useSyncExternalStore } from 'react';
import { addCapture, deleteCapture } from '../../db/store.ts';
import type { HostSide } from '../../db/schema.ts';
import type { FromImportWorker, ToImportWorker } from '../../workers/import-messages.ts';

export interface ImportJob {
  captureId: number;
  sessionId: number;
  host: HostSide;
  fileName: string;
  bytesRead: number;
  totalBytes: number;
  packets: number;
  state: 'running' | 'cancelling' | 'done';
  status?: 'complete' | 'partial' | 'cancelled';
  problem?: string;
  ms?: number;
}

const COMPLETE_JOB_LINGER_MS = 8000;
const workers = new Map<number, Worker>();
let jobs: ImportJob[] = [];
const listeners = new Set<() => void>();

function emit(): void {
  for (const l of listeners) l();
}

function patch(captureId: number, fields: Partial<ImportJob>): void {
  jobs = jobs.map((j) => (j.captureId === captureId ? { ...j, ...fields } : j));
  emit();
}

export async function startImport(sessionId: number, host: HostSide, file: File, replaceCaptureId?: number): Promise<number> {
  if (replaceCaptureId !== undefined) {
    cancelImport(replaceCaptureId);
    await deleteCapture(replaceCaptureId);
  }
  const captureId = await addCapture(sessionId, host, file);
  const worker = new Worker(new URL('../../workers/import.worker.ts', import.meta.url), { type: 'module', name: 'import' });
  workers.set(captureId, worker);
  jobs = [
    ...jobs.filter((j) => !(j.sessionId === sessionId && j.state === 'done')),
    { captureId, sessionId, host, fileName: file.name, bytesRead: 0, totalBytes: file.size, packets: 0, state: 'running' },
  ];
  emit();
  worker.onmessage = (ev: MessageEvent<FromImportWorker>) => {
    const m = ev.data;
    if (m.type === 'progress') {
      patch(captureId, { bytesRead: m.bytesRead, totalBytes: m.totalBytes, packets: m.packets });
    } else {
      patch(captureId, { state: 'done', status: m.status, packets: m.packets, ms: m.ms, ...(m.problem ? { problem: m.problem } : {}) });
      worker.terminate();
      workers.delete(captureId);
      // A clean import needs no lingering bar (its tab says so); partial and cancelled ones stay until dismissed.
      if (m.status === 'complete') setTimeout(() => dismissJob(captureId), COMPLETE_JOB_LINGER_MS);
    }
  };
  worker.onerror = (ev) => {
    patch(captureId, { state: 'done', status: 'partial', problem: `${file.name}: import worker failed (${ev.message})` });
    worker.terminate();
    workers.delete(captureId);
  };
  const start: ToImportWorker = { type: 'start', captureId, file };
  worker.postMessage(start);
  return captureId;
}

export function cancelImport(captureId: number): void {
  const w = workers.get(captureId);
  if (!w) return;
  const msg: ToImportWorker = { type: 'cancel' };
  w.postMessage(msg);
  patch(captureId, { state: 'cancelling' });
}

/** Stops a session's imports at once (before the session is deleted) and forgets its jobs. */
export function dropJobs(sessionId: number): void {
  for (const j of jobs) {
    if (j.sessionId !== sessionId) continue;
    workers.get(j.captureId)?.terminate();
    workers.delete(j.captureId);
  }
  jobs = jobs.filter((j) => j.sessionId !== sessionId);
  emit();
}

export function dismissJob(captureId: number): void {
  jobs = jobs.filter((j) => j.captureId !== captureId);
  emit();
}

function subscribe(l: () => void): () => void {
  listeners.add(l);
  return () => listeners.delete(l);
}

export function useImportJobs(sessionId: number | null): ImportJob[] {
  const all = useSyncExternalStore(subscribe, () => jobs);
  return sessionId === null ? [] : all.filter((j) => j.sessionId === sessionId);
}
