// The UI side of the session worker: starts it for the open session, reloads it when the captures
// change, asks for an analysis whenever the stored one is stale, and turns cancel into terminating
// the worker (an analysis is one synchronous call: nothing short of that stops it).

import { useCallback, useEffect, useRef, useState } from 'react';
import type { AnalysisOptionsRecord, CaptureRecord, HostSide } from '../../db/schema.ts';
import type { ExportFormat, FromSessionWorker, SideTimes, ToSessionWorker } from '../../workers/session-messages.ts';

export interface EngineTask {
  task: 'load' | 'analyze' | 'relink' | 'export' | 'filter';
  done: number;
  total: number;
}

export interface FilterState {
  src: string;
  status: 'idle' | 'running' | 'ok' | 'error';
  error?: string;
  at?: number;
  A: Uint32Array | null;
  B: Uint32Array | null;
  ms?: number;
}

export interface EngineState {
  loaded: { A: SideTimes | null; B: SideTimes | null; baseSec: number } | null;
  task: EngineTask | null;
  /** Set after the user cancelled: the automatic analysis waits for an explicit re-run. */
  cancelled: boolean;
  error: string | null;
  filter: FilterState;
}

/** What the stored analysis was computed from; a different key means it is stale. */
export function analysisInputs(captures: CaptureRecord[], options: AnalysisOptionsRecord): string {
  const caps = captures
    .filter((c) => c.status !== 'importing')
    .sort((x, y) => x.host.localeCompare(y.host) || x.id - y.id)
    .map((c) => `${c.host}:${c.id}:${c.packetCount}:${c.importedAt}`);
  return JSON.stringify({ caps, flow: options.flow?.trim() || '', clock: options.clockOverride ?? null });
}

const EMPTY_FILTER: FilterState = { src: '', status: 'idle', A: null, B: null };

export function useSessionEngine(sessionId: number, captures: CaptureRecord[], inputs: string, storedInputs: string | undefined | null) {
  const worker = useRef<Worker | null>(null);
  const [state, setState] = useState<EngineState>({ loaded: null, task: null, cancelled: false, error: null, filter: EMPTY_FILTER });
  const [generation, setGeneration] = useState(0);
  const filterId = useRef(0);
  const filterSrc = useRef('');
  const exports = useRef(new Map<number, (m: Extract<FromSessionWorker, { type: 'exported' }> | Error) => void>());
  const requested = useRef<string | null>(null);

  const ready = captures.length > 0 && captures.every((c) => c.status !== 'importing');
  const loadKey = ready ? analysisInputs(captures, {}) : '';

  const send = (m: ToSessionWorker) => worker.current?.postMessage(m);

  useEffect(() => {
    if (!ready) return;
    const w = new Worker(new URL('../../workers/session.worker.ts', import.meta.url), { type: 'module', name: 'session' });
    worker.current = w;
    requested.current = null;
    setState((s) => ({ ...s, loaded: null, task: { task: 'load', done: 0, total: 1 }, error: null }));
    w.onmessage = (ev: MessageEvent<FromSessionWorker>) => {
      const m = ev.data;
      switch (m.type) {
        case 'progress':
          setState((s) => ({ ...s, task: m.done >= m.total && m.task !== 'load' ? null : { task: m.task as EngineTask['task'], done: m.done, total: m.total } }));
          break;
        case 'loaded':
          setState((s) => ({ ...s, loaded: { A: m.A, B: m.B, baseSec: m.baseSec }, task: null }));
          // Re-apply the filter the user had typed to the new packets.
          if (filterSrc.current) w.postMessage({ type: 'filter', id: ++filterId.current, src: filterSrc.current } satisfies ToSessionWorker);
          break;
        case 'analyzed':
          setState((s) => ({ ...s, task: null, error: m.error ? `analysis failed: ${m.error}` : null }));
          break;
        case 'filtered':
          if (m.id !== filterId.current) break;
          setState((s) => ({
            ...s,
            filter: m.ok
              ? { src: filterSrc.current, status: 'ok', A: m.A, B: m.B, ms: m.ms }
              : { ...s.filter, src: filterSrc.current, status: 'error', error: m.error, at: m.at },
          }));
          break;
        case 'exported':
          exports.current.get(m.id)?.(m);
          exports.current.delete(m.id);
          setState((s) => ({ ...s, task: null }));
          break;
        case 'relinked':
          setState((s) => ({ ...s, task: null }));
          break;
        case 'error':
          setState((s) => ({ ...s, task: null, error: `${m.task}: ${m.message}` }));
          for (const [, cb] of exports.current) cb(new Error(m.message));
          exports.current.clear();
          break;
      }
    };
    w.onerror = (ev) => setState((s) => ({ ...s, task: null, error: `session worker failed: ${ev.message}` }));
    w.postMessage({ type: 'open', sessionId } satisfies ToSessionWorker);
    return () => {
      w.terminate();
      if (worker.current === w) worker.current = null;
    };
  }, [sessionId, loadKey, generation]);

  // Stale or missing analysis with both captures present: run it (once per input key).
  const both = captures.some((c) => c.host === 'A' && c.status !== 'importing') && captures.some((c) => c.host === 'B' && c.status !== 'importing');
  useEffect(() => {
    if (!ready || !both || state.cancelled || storedInputs === undefined) return;
    if (storedInputs === inputs || requested.current === inputs) return;
    requested.current = inputs;
    setState((s) => ({ ...s, task: { task: 'analyze', done: 0, total: 1 } }));
    send({ type: 'analyze', inputs });
  }, [ready, both, inputs, storedInputs, state.cancelled, generation, loadKey]);

  const cancel = useCallback(() => {
    // Terminating drops the in-memory packets too; a fresh worker reloads them.
    worker.current?.terminate();
    worker.current = null;
    for (const [, cb] of exports.current) cb(new Error('cancelled'));
    exports.current.clear();
    setState((s) => ({ ...s, task: null, cancelled: true }));
    setGeneration((g) => g + 1);
  }, []);

  const rerun = useCallback(() => {
    requested.current = null;
    setState((s) => ({ ...s, cancelled: false, task: { task: 'analyze', done: 0, total: 1 } }));
    send({ type: 'analyze', inputs });
    requested.current = inputs;
  }, [inputs]);

  const setFilter = useCallback((src: string) => {
    // Enter and the debounce both ask for the same text: filter it once.
    if (src === filterSrc.current) return;
    filterSrc.current = src;
    const id = ++filterId.current;
    if (src.trim() === '') {
      setState((s) => ({ ...s, filter: EMPTY_FILTER }));
      return;
    }
    setState((s) => ({ ...s, filter: { ...s.filter, src, status: 'running' } }));
    send({ type: 'filter', id, src });
  }, []);

  const exportAs = useCallback((format: ExportFormat, title: string) => {
    const id = Date.now() + Math.random();
    setState((s) => ({ ...s, task: { task: 'export', done: 0, total: 1 } }));
    return new Promise<Extract<FromSessionWorker, { type: 'exported' }>>((resolve, reject) => {
      exports.current.set(id, (m) => (m instanceof Error ? reject(m) : resolve(m)));
      send({ type: 'export', id, format, title });
    });
  }, []);

  const relink = useCallback((host: HostSide, text: string) => {
    setState((s) => ({ ...s, task: { task: 'relink', done: 0, total: 1 } }));
    send({ type: 'relink', host, text });
  }, []);

  return { state, cancel, rerun, setFilter, exportAs, relink };
}
