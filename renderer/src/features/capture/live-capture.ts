// Live captures of this window, observable from React. A capture is a CaptureRecord that grows:
// the main process streams batches (window.tandem.onCaptureEvent), a worker decodes and stores
// them, and the record is closed with the spool file's name when the capture ends.

import { useSyncExternalStore } from 'react';
import { desktopApi } from '../../../../shared/ipc/client.ts';
import type { CaptureCounters, CaptureEndSummary, CaptureEvent, CaptureStartRequest } from '../../../../shared/ipc/contract.ts';
import type { HostSide } from '../../db/schema.ts';
import { addCapture, db, deleteCapture } from '../../db/store.ts';
import type { FromLiveWorker, ToLiveWorker } from './live-messages.ts';

export interface LiveCapture {
  /** Id the main process gave the capture ('' while starting). */
  id: string;
  sessionId: number;
  captureId: number;
  host: HostSide;
  label: string;
  state: 'starting' | 'running' | 'stopping' | 'done';
  counters: CaptureCounters;
  startedAt: number;
  /** Packets decoded and stored so far. */
  stored: number;
  warnings: string[];
  summary?: CaptureEndSummary;
  /** One sentence when the capture failed after it started. */
  error?: string;
}

const ZERO: CaptureCounters = { packets: 0, bytes: 0, drops: null, elapsedMs: 0 };
let captures: LiveCapture[] = [];
const listeners = new Set<() => void>();
const workers = new Map<number, Worker>();
/** Events that arrived before capture.start answered (the helper can be faster than the reply). */
let early: CaptureEvent[] = [];
let starting = 0;
let unsubscribe: (() => void) | null = null;

function emit(): void {
  for (const l of listeners) l();
}

function patch(captureId: number, fields: Partial<LiveCapture>): void {
  captures = captures.map((c) => (c.captureId === captureId ? { ...c, ...fields } : c));
  emit();
}

function send(captureId: number, m: ToLiveWorker): void {
  workers.get(captureId)?.postMessage(m);
}

function baseName(p: string): string {
  return p.split(/[\\/]/).pop() || p;
}

function onEvent(ev: CaptureEvent): void {
  const c = captures.find((x) => x.id === ev.id);
  if (!c) {
    if (starting > 0) early.push(ev);
    return;
  }
  switch (ev.type) {
    case 'started':
      patch(c.captureId, { warnings: ev.warnings });
      break;
    case 'batch':
      send(c.captureId, { type: 'batch', interfaces: ev.interfaces, packets: ev.packets });
      patch(c.captureId, { counters: ev.stats });
      break;
    case 'stats':
      patch(c.captureId, { counters: ev.stats });
      break;
    case 'end': {
      const s = ev.summary;
      patch(c.captureId, { state: 'stopping', summary: s, counters: { packets: s.packets, bytes: s.bytes, drops: s.drops, elapsedMs: s.elapsedMs } });
      send(c.captureId, {
        type: 'finish',
        status: s.reason === 'error' ? 'partial' : 'complete',
        fileName: baseName(s.spoolPath),
        bytes: s.spoolBytes,
        ...(s.error ? { problem: s.error } : {}),
      });
      break;
    }
    case 'failed':
      patch(c.captureId, { state: 'stopping', error: ev.message });
      send(c.captureId, { type: 'finish', status: 'partial', problem: ev.message });
      break;
  }
}

function subscribeEvents(): void {
  const api = desktopApi();
  if (unsubscribe || !api) return;
  unsubscribe = api.onCaptureEvent(onEvent);
}

/**
 * Starts a capture into a new capture record of `host`. Rejects with the main process's sentence
 * (privileges, filter, interface); the record is removed again then. On success the host's
 * previous capture, if any, is replaced.
 */
export async function startLiveCapture(sessionId: number, host: HostSide, req: CaptureStartRequest): Promise<void> {
  const api = desktopApi();
  if (!api) throw new Error('Live capture needs the desktop app.');
  subscribeEvents();
  const label = `live ${req.interfaces.join('+')}`;
  const previous = await db.captures.where('sessionId').equals(sessionId).filter((c) => c.host === host).primaryKeys();
  const captureId = await addCapture(sessionId, host, { name: label, size: 0 });
  await db.captures.update(captureId, { format: 'pcapng' });
  const worker = new Worker(new URL('./live.worker.ts', import.meta.url), { type: 'module', name: 'live-capture' });
  workers.set(captureId, worker);
  worker.onmessage = (e: MessageEvent<FromLiveWorker>) => {
    const m = e.data;
    if (m.type === 'stored') patch(captureId, { stored: m.packets });
    else {
      patch(captureId, { state: 'done', stored: m.packets, ...(m.problem ? { error: m.problem } : {}) });
      worker.terminate();
      workers.delete(captureId);
    }
  };
  worker.postMessage({ type: 'begin', captureId } satisfies ToLiveWorker);
  starting++;
  let id: string;
  try {
    ({ id } = await api['capture.start'](req));
  } catch (err) {
    starting--;
    worker.terminate();
    workers.delete(captureId);
    await deleteCapture(captureId);
    throw err;
  }
  starting--;
  captures = [
    ...captures.filter((c) => !(c.sessionId === sessionId && c.state === 'done')),
    { id, sessionId, captureId, host, label, state: 'running', counters: ZERO, startedAt: Date.now(), stored: 0, warnings: [] },
  ];
  emit();
  for (const key of previous) await deleteCapture(key);
  const mine = early.filter((e) => e.id === id);
  early = starting > 0 ? early.filter((e) => e.id !== id) : [];
  for (const e of mine) onEvent(e);
}

export async function stopLiveCapture(captureId: number): Promise<void> {
  const c = captures.find((x) => x.captureId === captureId);
  const api = desktopApi();
  if (!c || !api || c.state !== 'running') return;
  patch(captureId, { state: 'stopping' });
  try {
    await api['capture.stop'](c.id);
  } catch (err) {
    // Already over (the end event closes the record); keep the sentence for the bar.
    patch(captureId, { error: err instanceof Error ? err.message : String(err) });
  }
}

/**
 * Before a session is deleted: stops its captures (their spool files stay on disk) and ends their
 * workers at once, so no chunk is written for a capture that no longer exists.
 */
export function dropLiveCaptures(sessionId: number): void {
  const api = desktopApi();
  for (const c of captures) {
    if (c.sessionId !== sessionId) continue;
    if (c.state === 'running' && api) void api['capture.stop'](c.id).catch(() => undefined);
    workers.get(c.captureId)?.terminate();
    workers.delete(c.captureId);
  }
  captures = captures.filter((c) => c.sessionId !== sessionId);
  emit();
}

export function dismissLiveCapture(captureId: number): void {
  captures = captures.filter((c) => c.captureId !== captureId || c.state !== 'done');
  emit();
}

function subscribe(l: () => void): () => void {
  listeners.add(l);
  return () => listeners.delete(l);
}

export function useLiveCaptures(sessionId: number): LiveCapture[] {
  const all = useSyncExternalStore(subscribe, () => captures);
  return all.filter((c) => c.sessionId === sessionId);
}

/** Splits a message into text and `command` parts, so commands can be shown as copyable code. */
export function splitCommands(message: string): Array<{ code: boolean; text: string }> {
  const parts: Array<{ code: boolean; text: string }> = [];
  const re = /`([^`]+)`/g;
  let last = 0;
  for (let m = re.exec(message); m; m = re.exec(message)) {
    if (m.index > last) parts.push({ code: false, text: message.slice(last, m.index) });
    parts.push({ code: true, text: m[1]! });
    last = m.index + m[0].length;
  }
  if (last < message.length) parts.push({ code: false, text: message.slice(last) });
  return parts;
}
