// The guided test of this window, observable from React. The main process runs it (probe.start) and
// pushes progress and the end (window.tandem.onProbeEvent); at the end the collected files are
// fetched as bytes (probe.file) and go through the app's normal paths: the two captures through the
// import worker as hosts A and B of the session, the `ip -o link` texts as the hosts' interface
// names, the evidence texts into the session's host evidence. What a failed or cancelled test
// collected is brought in the same way.

import { useSyncExternalStore } from 'react';
import { desktopApi } from '../../../../shared/ipc/client.ts';
import type { ProbeEvent, ProbeOutcome, ProbeStartRequest } from '../../../../shared/ipc/contract.ts';
import { visible } from '../../../../shared/util/shell.ts';
import { addEvidenceText, listEvidence, removeEvidence } from '../../db/evidence.ts';
import { isUsable, type HostSide } from '../../db/schema.ts';
import { db, readSettings, saveLinks, saveOptions } from '../../db/store.ts';
import { cancelImport, discardCapture, startImport } from '../import/import-jobs.ts';
import type { FromSessionWorker, ToSessionWorker } from '../../workers/session-messages.ts';
import { flowOf, testLabel } from './probe-form.ts';
import { applyProgress, emptySteps, type StepRow } from './steps.ts';
export type { StepRow, StepState } from './steps.ts';

export interface ProbeRun {
  /** The main process's id ('' until probe.start answered). */
  probeId: string;
  sessionId: number;
  label: string;
  /** The flow under test, set as the session's Flow when the files come in. */
  flow: string;
  state: 'starting' | 'running' | 'cancelling' | 'importing' | 'done';
  steps: StepRow[];
  outcome?: ProbeOutcome;
  /** How it ended, once it has. */
  ending?: 'ok' | 'failed' | 'cancelled';
  /** What was brought into the session. */
  imported: { captures: HostSide[]; evidence: number; links: HostSide[] };
  /** Files that could not be fetched or stored, one line each. */
  problems: string[];
  /** Set when the user cancelled while the collected files were being brought in. */
  importCancelled?: boolean;
}

let run: ProbeRun | null = null;
const listeners = new Set<() => void>();
let unsubscribe: (() => void) | null = null;
/** Events that came before probe.start answered (progress can beat the reply). */
let early: ProbeEvent[] = [];
/** Import jobs this run started (capture ids), so Cancel can stop them. */
let jobs: number[] = [];

function emit(): void {
  for (const l of listeners) l();
}

function set(next: ProbeRun | null): void {
  run = next;
  emit();
}

function patch(fields: Partial<ProbeRun>): void {
  if (run) set({ ...run, ...fields });
}

function onEvent(ev: ProbeEvent): void {
  if (!run) return;
  if (!run.probeId) {
    early.push(ev);
    return;
  }
  if (ev.probeId !== run.probeId) return;
  if (ev.type === 'progress') {
    patch({ steps: applyProgress(run.steps, ev.progress), ...(run.state === 'starting' ? { state: 'running' } : {}) });
    return;
  }
  // One end per test; a repeated one (or one after the files came in) changes nothing.
  if (run.state === 'importing' || run.state === 'done') return;
  void finish(run, ev.outcome);
}

function subscribeEvents(): void {
  const api = desktopApi();
  if (unsubscribe || !api || typeof api.onProbeEvent !== 'function') return;
  unsubscribe = api.onProbeEvent(onEvent);
}

/** True when the desktop shell offers the guided test. */
export function canProbe(): boolean {
  const api = desktopApi();
  return api !== undefined && typeof api['probe.start'] === 'function' && typeof api.onProbeEvent === 'function';
}

/** Starts a test for the session; rejects with the main process's sentence when it refuses. */
export async function startProbe(sessionId: number, req: ProbeStartRequest): Promise<void> {
  const api = desktopApi();
  if (!api || !canProbe()) throw new Error('Running a test needs the desktop app.');
  if (run && run.state !== 'done') throw new Error('A test is already running; cancel it or wait for it to end first.');
  subscribeEvents();
  early = [];
  jobs = [];
  set({ probeId: '', sessionId, label: testLabel(req), flow: flowOf(req), state: 'starting', steps: emptySteps(), imported: { captures: [], evidence: 0, links: [] }, problems: [] });
  let probeId: string;
  try {
    ({ probeId } = await api['probe.start'](req));
  } catch (err) {
    set(null);
    throw err;
  }
  const cancelledMeanwhile = run?.state === 'cancelling';
  patch({ probeId });
  // Cancel pressed before main answered: it goes out now that the test has an id.
  if (cancelledMeanwhile) await api['probe.cancel'](probeId).catch(() => undefined);
  const queued = early;
  early = [];
  for (const ev of queued) onEvent(ev);
}

/**
 * Cancel: while the test runs, the main process stops it on both hosts (the end event follows);
 * while the collected files are being brought in, the imports stop and nothing half-imported stays.
 */
export async function cancelProbe(): Promise<void> {
  const api = desktopApi();
  if (!run || !api) return;
  if (run.state === 'starting' || run.state === 'running') {
    const id = run.probeId;
    patch({ state: 'cancelling' });
    if (id) await api['probe.cancel'](id).catch((err: unknown) => patch({ problems: [...(run?.problems ?? []), oneLine(err)] }));
  } else if (run.state === 'importing') {
    patch({ importCancelled: true });
    for (const id of jobs) {
      await cancelImport(id);
      await discardCapture(id);
    }
  }
}

/**
 * The session is being deleted: its test stops on both hosts and nothing it collected is brought in
 * (finish() finds the session gone). Other sessions' tests are left alone.
 */
export function dropProbe(sessionId: number): void {
  if (!run || run.sessionId !== sessionId) return;
  if (run.state === 'starting' || run.state === 'running') void cancelProbe();
  else if (run.state === 'done') set(null);
}

/** Hides a finished test's panel. */
export function dismissProbe(): void {
  if (run && run.state === 'done') set(null);
}

function oneLine(err: unknown): string {
  const s = err instanceof Error ? err.message : String(err);
  return visible(s.split('\n', 1)[0] ?? '').slice(0, 300);
}

/** How evidence from a test is named in the session ("test B: before-nft.txt"). */
export const EVIDENCE_PREFIX = (host: HostSide): string => `test ${host}: `;

function baseName(name: string): string {
  return name.split('/').pop() || name;
}

/** The names the end event offered, as they will appear in the session. */
export function captureFileName(host: HostSide, name: string): string {
  return `test-${host}-${baseName(name)}`;
}

async function fetchBytes(probeId: string, name: string): Promise<Uint8Array> {
  return desktopApi()!['probe.file'](probeId, name);
}

/** Like a drop onto a host: the host's failed leftovers go, its usable capture is replaced once the new one is stored. */
async function importCapture(sessionId: number, host: HostSide, file: File): Promise<number> {
  const all = await db.captures.where('sessionId').equals(sessionId).filter((c) => c.host === host).toArray();
  for (const c of all) if (c.status === 'cancelled' || c.status === 'failed') await discardCapture(c.id);
  const replace = all.filter((c) => isUsable(c)).sort((x, y) => y.id - x.id)[0];
  return startImport(sessionId, host, file, replace?.id);
}

async function finish(r: ProbeRun, outcome: ProbeOutcome): Promise<void> {
  const ending: ProbeRun['ending'] = outcome.cancelled ? 'cancelled' : outcome.failed ? 'failed' : 'ok';
  let steps = r.steps;
  // The failing step is marked even if its own "failed" report never came.
  if (outcome.failed && !steps.some((s) => s.state === 'failed')) {
    const f = outcome.failed;
    steps = applyProgress(steps, { step: f.step, state: 'failed', detail: f.message, ...(f.host ? { host: f.host } : {}) });
  }
  patch({ state: 'importing', outcome, ending, steps });
  const problems: string[] = [];
  const imported: ProbeRun['imported'] = { captures: [], evidence: 0, links: [] };
  const linkTexts: Partial<Record<HostSide, string>> = {};
  const captureIds: Partial<Record<HostSide, number>> = {};
  const stillOurs = () => run?.probeId === r.probeId && !run.importCancelled;
  // A session deleted while its test ran gets nothing (no orphaned evidence or captures).
  const sessionGone = async () => (await db.sessions.get(r.sessionId)) === undefined;
  if (await sessionGone()) {
    if (run?.probeId === r.probeId) patch({ state: 'done', imported, problems: [...run.problems, 'The session was deleted while the test ran; nothing was brought in.'] });
    return;
  }
  // Flow, links and evidence first: the analysis that follows the captures' import then has them all.
  if (outcome.files.A.capture || outcome.files.B.capture) {
    const cur = await readSettings(r.sessionId);
    if (cur.options.flow !== r.flow) await saveOptions(r.sessionId, { ...cur.options, flow: r.flow });
  }
  for (const host of ['A', 'B'] as const) {
    const files = outcome.files[host];
    // A new test's evidence replaces the previous test's for that host (before/after counters of two
    // runs must not meet); what the user added by hand stays.
    if (files.evidence.length > 0 && stillOurs()) {
      const old = (await listEvidence(db, r.sessionId))[host].filter((e) => e.name.startsWith(EVIDENCE_PREFIX(host)));
      for (const e of old) await removeEvidence(db, r.sessionId, host, e.id);
    }
    // Interface names belong to this test's capture; without one they would mislabel an older capture.
    if (files.links && files.capture && stillOurs()) {
      try {
        const text = new TextDecoder().decode(await fetchBytes(r.probeId, files.links));
        await saveLinks(r.sessionId, host, text);
        linkTexts[host] = text;
      } catch (err) {
        problems.push(`${host}: interface names (${files.links}) not kept: ${oneLine(err)}`);
      }
    }
    for (const name of files.evidence) {
      if (!stillOurs()) break;
      if (name === files.links) continue;
      try {
        const text = new TextDecoder().decode(await fetchBytes(r.probeId, name));
        if (text.trim() === '') continue;
        await addEvidenceText(db, r.sessionId, host, `${EVIDENCE_PREFIX(host)}${baseName(name)}`, text);
        imported.evidence++;
      } catch (err) {
        problems.push(`${host}: evidence ${name} not kept: ${oneLine(err)}`);
      }
    }
  }
  const gone = await sessionGone();
  for (const host of ['A', 'B'] as const) {
    const name = outcome.files[host].capture;
    if (!name || !stillOurs() || gone) continue;
    try {
      const bytes = await fetchBytes(r.probeId, name);
      if (!stillOurs()) break;
      const id = await importCapture(r.sessionId, host, new File([bytes as Uint8Array<ArrayBuffer>], captureFileName(host, name), { type: 'application/octet-stream' }));
      if (id > 0) {
        jobs.push(id);
        captureIds[host] = id;
        imported.captures.push(host);
      }
    } catch (err) {
      problems.push(`${host}: capture ${name} not imported: ${oneLine(err)}`);
    }
  }
  // A `tcpdump -i any` capture names its interfaces by index only: once a capture is stored, its
  // frames are decoded again with the host's `ip -o link` names, as "Interface names…" does.
  for (const host of ['A', 'B'] as const) {
    const id = captureIds[host], text = linkTexts[host];
    if (id === undefined || text === undefined || !stillOurs()) continue;
    try {
      if (!(await storedFully(id, stillOurs))) continue;
      await relinkInWorker(r.sessionId, host, text);
      imported.links.push(host);
    } catch (err) {
      problems.push(`${host}: interface names not applied: ${oneLine(err)}`);
    }
  }
  if (run?.probeId === r.probeId) patch({ state: 'done', imported, problems: [...run.problems, ...problems] });
}

/** Waits for an import to end; true when it left a usable capture. */
async function storedFully(captureId: number, go: () => boolean): Promise<boolean> {
  for (;;) {
    const c = await db.captures.get(captureId);
    if (!c) return false;
    if (c.status !== 'importing') return isUsable(c);
    if (!go()) return false;
    await new Promise((res) => setTimeout(res, 150));
  }
}

/** The session worker's relink, in a worker of its own (the workbench's may be busy or restarting). */
function relinkInWorker(sessionId: number, host: HostSide, text: string): Promise<void> {
  const w = new Worker(new URL('../../workers/session.worker.ts', import.meta.url), { type: 'module', name: 'probe-relink' });
  return new Promise<void>((resolve, reject) => {
    w.onmessage = (ev: MessageEvent<FromSessionWorker>) => {
      const m = ev.data;
      if (m.type === 'relinked') {
        w.terminate();
        resolve();
      } else if (m.type === 'error') {
        w.terminate();
        reject(new Error(m.message));
      }
    };
    w.onerror = (ev) => {
      ev.preventDefault();
      w.terminate();
      reject(new Error(ev.message || 'the worker stopped'));
    };
    w.postMessage({ type: 'open', sessionId } satisfies ToSessionWorker);
    w.postMessage({ type: 'relink', host, text } satisfies ToSessionWorker);
  });
}

function subscribe(l: () => void): () => void {
  listeners.add(l);
  return () => listeners.delete(l);
}

/** The test of this window (whatever session it belongs to), or null. */
export function useProbeRun(): ProbeRun | null {
  return useSyncExternalStore(subscribe, () => run);
}
