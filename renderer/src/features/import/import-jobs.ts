// Running imports, one Web Worker each, observable from React with useSyncExternalStore.
//
// Trust rules: a file that yields nothing is not stored; a storage failure rolls the capture back;
// a cancelled import is never analysed and is deleted unless the user keeps what was read. A
// capture being replaced is removed only once its successor is stored, so a bad file never costs
// the user the good capture it was meant to replace.

import { useSyncExternalStore } from 'react';
import type { SkippedLines } from '../../../../shared/capture-file/reader.ts';
import { addCapture, db, deleteCapture } from '../../db/store.ts';
import type { HostSide } from '../../db/schema.ts';
import type { FromImportWorker, ToImportWorker } from '../../workers/import-messages.ts';
import { errorText, fileLabel, storageFailure } from './import-text.ts';

export type JobStatus = 'complete' | 'partial' | 'cancelled' | 'unreadable' | 'failed';

export interface ImportJob {
  /** The capture record; negative when none could be created (the job only reports why). */
  captureId: number;
  sessionId: number;
  host: HostSide;
  fileName: string;
  bytesRead: number;
  totalBytes: number;
  packets: number;
  state: 'running' | 'done';
  status?: JobStatus;
  problem?: string;
  next?: string;
  skipped?: SkippedLines;
  ms?: number;
  /** The usable capture of the same host that this import replaces once it is stored. */
  replaces?: number;
}

/** gzip'd files inflate to at most the reader's default (4 GiB) unless set otherwise under this localStorage key. */
export const MAX_INFLATE_KEY = 'tandem.maxInflatedBytes';

const COMPLETE_JOB_LINGER_MS = 8000;
const workers = new Map<number, Worker>();
let jobs: ImportJob[] = [];
let nextFailedId = -1;
const listeners = new Set<() => void>();

function emit(): void {
  for (const l of listeners) l();
}

function patch(captureId: number, fields: Partial<ImportJob>): void {
  jobs = jobs.map((j) => (j.captureId === captureId ? { ...j, ...fields } : j));
  emit();
}

function jobOf(captureId: number): ImportJob | undefined {
  return jobs.find((j) => j.captureId === captureId);
}

/** The user's inflate limit, or undefined for the shared reader's default. */
function maxInflatedBytes(): number | undefined {
  const v = Number(globalThis.localStorage?.getItem(MAX_INFLATE_KEY));
  return Number.isSafeInteger(v) && v > 0 ? v : undefined;
}

/** Removes a capture whose import did not produce a usable one; if even that fails, marks it failed. */
async function removeUnusable(captureId: number, problem: string | undefined): Promise<void> {
  try {
    await deleteCapture(captureId);
  } catch {
    await db.captures.update(captureId, { status: 'failed', ...(problem ? { problem } : {}) }).catch(() => undefined);
  }
}

/** A usable capture replaced a previous one of the same host: the old one goes now. */
async function retire(job: ImportJob | undefined): Promise<void> {
  if (job?.replaces !== undefined) await deleteCapture(job.replaces).catch(() => undefined);
}

function finishWorker(captureId: number): void {
  workers.get(captureId)?.terminate();
  workers.delete(captureId);
}

/** One file to import into a host, and the usable capture of that host it replaces once stored. */
export interface ImportRequest {
  host: HostSide;
  file: File;
  replaceCaptureId?: number;
}

export async function startImport(sessionId: number, host: HostSide, file: File, replaceCaptureId?: number): Promise<number> {
  const [id] = await startImports(sessionId, [{ host, file, ...(replaceCaptureId !== undefined ? { replaceCaptureId } : {}) }]);
  return id!;
}

/** Why addCapture failed, kept until the job list is updated in order. */
class RecordFailure {
  constructor(readonly cause: unknown) {}
}

/**
 * Starts several imports (a pair dropped together): every capture record is added first, then every
 * worker starts. A record added once another import is writing waits behind that import's chunk
 * transactions (they hold the captures store too): the bulk pair's second worker started 0.4 to 1.2 s
 * after the first in 2 of 5 runs that way, never more than 0.22 s apart in 6 runs this way.
 * Returns the capture ids in request order (negative: no record could be added).
 */
export async function startImports(sessionId: number, requests: readonly ImportRequest[]): Promise<number[]> {
  const records: (number | RecordFailure)[] = [];
  for (const r of requests) {
    try {
      records.push(await addCapture(sessionId, r.host, r.file));
    } catch (err) {
      records.push(new RecordFailure(err));
    }
  }
  // Jobs are listed in request order, whether their record could be added or not.
  return requests.map((r, i) => {
    const rec = records[i]!;
    return typeof rec === 'number' ? runWorker(sessionId, rec, r) : listRecordFailure(sessionId, r, rec.cause);
  });
}

/** Not even the record could be written (storage full): say so where the file was dropped. */
function listRecordFailure(sessionId: number, r: ImportRequest, err: unknown): number {
  const o = storageFailure(r.file.name, err, 0);
  const captureId = nextFailedId--;
  jobs = [...jobs, { captureId, sessionId, host: r.host, fileName: r.file.name, bytesRead: 0, totalBytes: r.file.size, packets: 0, state: 'done', status: 'failed', ...(o.problem ? { problem: o.problem } : {}), ...(o.next ? { next: o.next } : {}) }];
  emit();
  return captureId;
}

/** Starts the worker that imports `file` into the capture record `captureId`. */
function runWorker(sessionId: number, captureId: number, { host, file, replaceCaptureId }: ImportRequest): number {
  const worker = new Worker(new URL('../../workers/import.worker.ts', import.meta.url), { type: 'module', name: 'import' });
  workers.set(captureId, worker);
  jobs = [
    ...jobs.filter((j) => !(j.sessionId === sessionId && j.state === 'done' && j.status !== 'cancelled')),
    { captureId, sessionId, host, fileName: file.name, bytesRead: 0, totalBytes: file.size, packets: 0, state: 'running', ...(replaceCaptureId !== undefined ? { replaces: replaceCaptureId } : {}) },
  ];
  emit();
  worker.onmessage = (ev: MessageEvent<FromImportWorker>) => {
    const m = ev.data;
    if (!workers.has(captureId)) return; // cancelled meanwhile
    if (m.type === 'progress') {
      patch(captureId, { bytesRead: m.bytesRead, totalBytes: m.totalBytes, packets: m.packets });
      return;
    }
    finishWorker(captureId);
    patch(captureId, {
      state: 'done',
      status: m.status,
      packets: m.packets,
      ms: m.ms,
      ...(m.problem ? { problem: m.problem } : {}),
      ...(m.next ? { next: m.next } : {}),
      ...(m.skipped ? { skipped: m.skipped } : {}),
    });
    if (m.status === 'complete' || m.status === 'partial') {
      void retire(jobOf(captureId));
      // A clean import needs no lingering bar (its pane says so); the others stay until dismissed.
      if (m.status === 'complete' && !m.problem && !m.skipped) setTimeout(() => dismissJob(captureId), COMPLETE_JOB_LINGER_MS);
    } else if (!m.removed) {
      void removeUnusable(captureId, m.problem);
    }
  };
  worker.onerror = (ev) => {
    ev.preventDefault();
    if (!workers.has(captureId)) return;
    finishWorker(captureId);
    const problem = `${fileLabel(file.name)} could not be imported: the import worker stopped (${errorText(ev.message || 'no reason given')}), so nothing was kept.`;
    patch(captureId, { state: 'done', status: 'failed', packets: 0, problem, next: 'Reload the window and import the file again.' });
    void removeUnusable(captureId, problem);
  };
  const limit = maxInflatedBytes();
  const start: ToImportWorker = { type: 'start', captureId, file, ...(limit ? { maxInflatedBytes: limit } : {}) };
  worker.postMessage(start);
  return captureId;
}

/**
 * Stops an import at once by terminating its worker (a message could wait behind a long
 * synchronous parse). Chunk writes commit with the packet count, so the record tells exactly what
 * was stored; it becomes 'cancelled' (never analysed) until the user keeps or discards it.
 */
export async function cancelImport(captureId: number): Promise<void> {
  const job = jobOf(captureId);
  if (!job || !workers.has(captureId)) return;
  finishWorker(captureId);
  const name = fileLabel(job.fileName);
  try {
    // A read-write transaction on captures runs after every chunk write the worker had already
    // started (IndexedDB orders overlapping transactions), so the count read here is final.
    const rec = await db.transaction('rw', db.captures, async () => {
      const r = await db.captures.get(captureId);
      if (r && r.packetCount > 0) await db.captures.update(captureId, { status: 'cancelled', problem: `${name}: import cancelled at byte ${r.bytesRead ?? 0}` });
      return r;
    });
    const packets = rec?.packetCount ?? 0;
    if (packets === 0) {
      await deleteCapture(captureId);
      patch(captureId, { state: 'done', status: 'cancelled', packets: 0, problem: `${name}: import cancelled before any packet was stored; nothing was kept.` });
      return;
    }
    patch(captureId, { state: 'done', status: 'cancelled', packets, problem: `${name}: import cancelled at byte ${rec?.bytesRead ?? 0}` });
  } catch (err) {
    await removeUnusable(captureId, undefined);
    patch(captureId, { state: 'done', status: 'cancelled', packets: 0, problem: `${name}: import cancelled; ${errorText(err)}` });
  }
}

/** "Keep the N packets read so far": the cancelled capture becomes a partial, usable one. */
export async function keepCancelled(captureId: number): Promise<void> {
  const job = jobOf(captureId);
  const rec = await db.captures.get(captureId);
  if (!rec || (rec.status !== 'cancelled' && rec.status !== 'failed')) return;
  const why = rec.status === 'cancelled' ? `${fileLabel(rec.fileName)}: import cancelled at byte ${rec.bytesRead ?? 0}` : rec.problem ?? `${fileLabel(rec.fileName)}: import stopped`;
  const problem = `${why}; the ${rec.packetCount.toLocaleString('en-US')} packets read before it are kept`;
  await db.captures.update(captureId, { status: 'partial', problem });
  if (job) {
    patch(captureId, { status: 'partial', packets: rec.packetCount, problem });
    await retire(job);
  } else {
    // Kept later from the Captures view: the capture it was meant to replace goes now.
    const older = await db.captures.where('sessionId').equals(rec.sessionId).filter((c) => c.host === rec.host && c.id !== rec.id && (c.status === 'complete' || c.status === 'partial')).primaryKeys();
    for (const id of older) await deleteCapture(id).catch(() => undefined);
  }
}

/** Deletes a cancelled or failed capture (from its import bar or from the Captures view). */
export async function discardCapture(captureId: number): Promise<void> {
  finishWorker(captureId);
  if (jobOf(captureId)) dismissJob(captureId);
  else if (captureId > 0) await removeUnusable(captureId, undefined);
}

/** Stops a session's imports at once (before the session is deleted) and forgets its jobs. */
export function dropJobs(sessionId: number): void {
  for (const j of jobs) {
    if (j.sessionId !== sessionId) continue;
    finishWorker(j.captureId);
  }
  jobs = jobs.filter((j) => j.sessionId !== sessionId);
  emit();
}

/** Hides a finished job; a cancelled import nobody chose to keep is deleted with it. */
export function dismissJob(captureId: number): void {
  const job = jobOf(captureId);
  jobs = jobs.filter((j) => j.captureId !== captureId);
  emit();
  if (job?.status === 'cancelled' && captureId > 0) void removeUnusable(captureId, undefined);
}

function subscribe(l: () => void): () => void {
  listeners.add(l);
  return () => listeners.delete(l);
}

export function useImportJobs(sessionId: number | null): ImportJob[] {
  const all = useSyncExternalStore(subscribe, () => jobs);
  return sessionId === null ? [] : all.filter((j) => j.sessionId === sessionId);
}
