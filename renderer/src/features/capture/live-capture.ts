// Live captures of this window, observable from React. A capture is a CaptureRecord that grows:
// the main process streams batches (window.tandem.onCaptureEvent), a worker decodes and stores
// them, and the record is closed with the spool file's name when the capture ends. A paired capture
// is two such records, this host as A and the far end (SSH) as B, started and stopped together.

import { useSyncExternalStore } from 'react';
import { desktopApi } from '../../../../shared/ipc/client.ts';
import type { CaptureCounters, CaptureEndSummary, CaptureEvent, CaptureStartRequest, RemoteCaptureRequest, RemoteFailureKind } from '../../../../shared/ipc/contract.ts';
import type { HostSide } from '../../db/schema.ts';
import { addCapture, db, deleteCapture, saveLinks } from '../../db/store.ts';
import type { FromLiveWorker, ToLiveWorker } from './live-messages.ts';
import { destinationLabel } from './far-end.ts';

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
  /** captureId of the other half of a paired capture (stopped together). */
  partner?: number;
  /** Set on the far-end half: where it runs. */
  farEnd?: { destination: string; interface: string };
  /** On the local half of a pair whose far end did not start: why (the local one runs on). */
  farEndError?: { kind: RemoteFailureKind; message: string };
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
      // The far end's interface table names the frames of a `tcpdump -i any` capture on host B.
      if (c.farEnd && s.farEnd?.links) void saveLinks(c.sessionId, c.host, s.farEnd.links);
      patch(c.captureId, { state: 'stopping', summary: s, counters: { packets: s.packets, bytes: s.bytes, drops: s.drops, ifDrops: s.ifDrops ?? null, elapsedMs: s.elapsedMs } });
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

interface Opened {
  captureId: number;
  previous: number[];
}

/** A new, empty capture record of `host` with its storing worker; `previous` are the host's older records. */
async function openRecord(sessionId: number, host: HostSide, label: string): Promise<Opened> {
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
  return { captureId, previous };
}

/** A record that never got a capture: its worker ends and the record goes. */
async function discardRecord(captureId: number): Promise<void> {
  workers.get(captureId)?.terminate();
  workers.delete(captureId);
  await deleteCapture(captureId);
}

/** Replays events that arrived before the start answered, for the captures that now exist. */
function replayEarly(ids: string[]): void {
  const mine = early.filter((e) => ids.includes(e.id));
  early = starting > 0 ? early.filter((e) => !ids.includes(e.id)) : [];
  for (const e of mine) onEvent(e);
}

function fresh(sessionId: number, id: string, captureId: number, host: HostSide, label: string): LiveCapture {
  return { id, sessionId, captureId, host, label, state: 'running', counters: ZERO, startedAt: Date.now(), stored: 0, warnings: [] };
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
  const rec = await openRecord(sessionId, host, label);
  starting++;
  let id: string;
  try {
    ({ id } = await api['capture.start'](req));
  } catch (err) {
    starting--;
    if (starting === 0) early = [];
    await discardRecord(rec.captureId);
    throw err;
  }
  starting--;
  captures = [...captures.filter((c) => !(c.sessionId === sessionId && c.state === 'done')), fresh(sessionId, id, rec.captureId, host, label)];
  emit();
  for (const key of rec.previous) await deleteCapture(key);
  replayEarly([id]);
}

export interface PairedStartResult {
  /** Set when the far end did not start; this host's capture runs regardless. */
  farEndError?: { kind: RemoteFailureKind; message: string };
}

/**
 * Starts this host's capture as A and the far end's (tcpdump over SSH) as B, in one call to the main
 * process. Rejects only when this host's capture cannot start (then neither runs); a far end that
 * fails is reported in the result while the local capture keeps going.
 */
export async function startPairedCapture(sessionId: number, local: CaptureStartRequest, remote: RemoteCaptureRequest): Promise<PairedStartResult> {
  const api = desktopApi();
  if (!api) throw new Error('Live capture needs the desktop app.');
  subscribeEvents();
  const localLabel = `live ${local.interfaces.join('+')}`;
  const destination = destinationLabel(remote);
  const remoteLabel = `ssh ${destination} ${remote.interface}`;
  const a = await openRecord(sessionId, 'A', localLabel);
  const b = await openRecord(sessionId, 'B', remoteLabel);
  starting++;
  let answer;
  try {
    answer = await api['capture.startPaired']({ local, remote });
  } catch (err) {
    starting--;
    if (starting === 0) early = [];
    await discardRecord(a.captureId);
    await discardRecord(b.captureId);
    throw err;
  }
  starting--;
  const kept = captures.filter((c) => !(c.sessionId === sessionId && c.state === 'done'));
  const localLive = fresh(sessionId, answer.id, a.captureId, 'A', localLabel);
  if (answer.remoteId) {
    localLive.partner = b.captureId;
    const farLive: LiveCapture = { ...fresh(sessionId, answer.remoteId, b.captureId, 'B', remoteLabel), partner: a.captureId, farEnd: { destination, interface: remote.interface } };
    captures = [...kept, localLive, farLive];
  } else {
    if (answer.remoteError) localLive.farEndError = answer.remoteError;
    captures = [...kept, localLive];
  }
  emit();
  for (const key of a.previous) await deleteCapture(key);
  if (answer.remoteId) for (const key of b.previous) await deleteCapture(key);
  else await discardRecord(b.captureId);
  replayEarly(answer.remoteId ? [answer.id, answer.remoteId] : [answer.id]);
  return answer.remoteError ? { farEndError: answer.remoteError } : {};
}

export async function stopLiveCapture(captureId: number): Promise<void> {
  const c = captures.find((x) => x.captureId === captureId);
  const api = desktopApi();
  if (!c || !api || c.state !== 'running') return;
  patch(captureId, { state: 'stopping' });
  // The main process stops the other half of a pair with this one.
  const partner = c.partner === undefined ? undefined : captures.find((x) => x.captureId === c.partner);
  if (partner?.state === 'running') patch(partner.captureId, { state: 'stopping' });
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
