// The UI side of the session worker: starts it for the open session, reloads it when the captures
// change, asks for an analysis whenever the stored one is stale, and turns cancel into terminating
// the worker (an analysis is one synchronous call: nothing short of that stops it).

import { useCallback, useEffect, useRef, useState } from 'react';
import { flushSync } from 'react-dom';
import type { AnalysisOptionsRecord, CaptureRecord, HostSide } from '../../db/schema.ts';
import type { ClockPairs, Conversation, ExportFormat, FromSessionWorker, SideTimes, SortKey, ToSessionWorker } from '../../workers/session-messages.ts';

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

export interface SortState {
  key: SortKey;
  desc: boolean;
  /** View order (capture rows) and its inverse (row → view index, -1 when filtered out); null while the worker sorts. */
  order: Uint32Array | null;
  pos: Int32Array | null;
}

export interface EngineState {
  loaded: { A: SideTimes | null; B: SideTimes | null; baseSec: number; baseNsec: number } | null;
  sort: Partial<Record<HostSide, SortState>>;
  conversations: { A: Conversation[]; B: Conversation[]; ms: number } | null;
  clockPairs: ClockPairs | null;
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

/** A filter from no filter says "filtering…" only once it has taken this long. */
const FILTERING_SHOWN_AFTER_MS = 150;

const EMPTY_FILTER: FilterState = { src: '', status: 'idle', A: null, B: null };

/** The user's "keep the order I gave" choice after a role swap, per session. */
const keepRolesKey = (sessionId: number) => `tandem.keepRoles.${sessionId}`;
export function keepsGivenRoles(sessionId: number): boolean {
  return globalThis.localStorage?.getItem(keepRolesKey(sessionId)) === '1';
}

export function useSessionEngine(sessionId: number, captures: CaptureRecord[], inputs: string, storedInputs: string | undefined | null) {
  const worker = useRef<Worker | null>(null);
  const [state, setState] = useState<EngineState>({ loaded: null, sort: {}, conversations: null, clockPairs: null, task: null, cancelled: false, error: null, filter: EMPTY_FILTER });
  const sortId = useRef(0);
  const sortLatest = useRef<Partial<Record<HostSide, number>>>({});
  const sortWanted = useRef<Partial<Record<HostSide, { key: SortKey; desc: boolean }>>>({});
  const filterRows = useRef<{ A: Uint32Array | null; B: Uint32Array | null }>({ A: null, B: null });
  const [generation, setGeneration] = useState(0);
  const filterId = useRef(0);
  const filterSrc = useRef('');
  /** Shows "filtering…" for a filter asked for from no filter, if its answer is slow (see setFilter). */
  const runningTimer = useRef<ReturnType<typeof setTimeout> | null>(null);
  const filterStatus = useRef<FilterState['status']>('idle');
  filterStatus.current = state.filter.status;
  const exports = useRef(new Map<number, (m: Extract<FromSessionWorker, { type: 'exported' }> | Error) => void>());
  const requested = useRef<string | null>(null);

  const ready = captures.length > 0 && captures.every((c) => c.status !== 'importing');
  const loadKey = ready ? analysisInputs(captures, {}) : '';

  const send = (m: ToSessionWorker) => worker.current?.postMessage(m);

  /** Asks again for every pane's sort over the current filter result (a copy: the UI keeps its own). */
  const resort = (w: Worker | null = worker.current) => {
    for (const host of ['A', 'B'] as const) {
      const want = sortWanted.current[host];
      if (!want || !w) continue;
      const rows = filterRows.current[host]?.slice() ?? null;
      const id = ++sortId.current;
      sortLatest.current[host] = id;
      w.postMessage({ type: 'sort', id, host, key: want.key, desc: want.desc, rows } satisfies ToSessionWorker, rows ? [rows.buffer] : []);
    }
    // The old order indexes rows of the old filter: dropped until the new one arrives.
    setState((s) => {
      let sort = s.sort;
      for (const host of ['A', 'B'] as const) if (sort[host]) sort = { ...sort, [host]: { ...sort[host], order: null, pos: null } };
      return sort === s.sort ? s : { ...s, sort };
    });
  };

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
          setState((s) => ({ ...s, loaded: { A: m.A, B: m.B, baseSec: m.baseSec, baseNsec: m.baseNsec }, conversations: null, clockPairs: null, task: null }));
          // Re-apply the filter the user had typed to the new packets (the sort follows the filter).
          if (filterSrc.current) {
            setState((s) => ({ ...s, filter: { ...s.filter, src: filterSrc.current, status: 'running' } }));
            w.postMessage({ type: 'filter', id: ++filterId.current, src: filterSrc.current } satisfies ToSessionWorker);
          } else {
            filterRows.current = { A: null, B: null };
            resort(w);
          }
          break;
        case 'sorted':
          // Only the newest request of that pane counts (the user may click headers faster than a sort).
          if (m.id !== sortLatest.current[m.host]) break;
          setState((s) => {
            const cur = s.sort[m.host];
            return cur ? { ...s, sort: { ...s.sort, [m.host]: { ...cur, order: m.order, pos: m.pos } } } : s;
          });
          break;
        case 'conversations':
          setState((s) => ({ ...s, conversations: { A: m.A, B: m.B, ms: m.ms } }));
          break;
        case 'clockPairs':
          setState((s) => ({ ...s, clockPairs: m.pairs }));
          break;
        case 'analyzed':
          setState((s) => ({ ...s, task: null, error: m.error ? `analysis failed: ${m.error}` : null }));
          break;
        case 'filtered':
          if (m.id !== filterId.current) break;
          if (runningTimer.current !== null) { clearTimeout(runningTimer.current); runningTimer.current = null; }
          // The counts are what the user waits for: rendered in this task rather than in a later
          // scheduler task, which would queue behind the panes' row reads and miss the next frame.
          flushSync(() => {
            if (m.ok) {
              filterRows.current = { A: m.A, B: m.B };
              resort(w);
            }
            setState((s) => ({
              ...s,
              filter: m.ok
                ? { src: filterSrc.current, status: 'ok', A: m.A, B: m.B, ms: m.ms }
                : { ...s.filter, src: filterSrc.current, status: 'error', error: m.error, at: m.at },
            }));
          });
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
      if (runningTimer.current !== null) { clearTimeout(runningTimer.current); runningTimer.current = null; }
    };
  }, [sessionId, loadKey, generation]);

  // Stale or missing analysis with both captures present: run it (once per input key).
  const both = captures.some((c) => c.host === 'A' && c.status !== 'importing') && captures.some((c) => c.host === 'B' && c.status !== 'importing');
  useEffect(() => {
    if (!ready || !both || state.cancelled || storedInputs === undefined) return;
    if (storedInputs === inputs || requested.current === inputs) return;
    requested.current = inputs;
    setState((s) => ({ ...s, task: { task: 'analyze', done: 0, total: 1 } }));
    send({ type: 'analyze', inputs, keepGivenRoles: keepsGivenRoles(sessionId) });
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
    send({ type: 'analyze', inputs, keepGivenRoles: keepsGivenRoles(sessionId) });
    requested.current = inputs;
  }, [inputs, sessionId]);

  /** Undo of a role swap (or back to the data's roles): remembered for the session, then analysed again. */
  const setKeepGivenRoles = useCallback((keep: boolean) => {
    if (keep) globalThis.localStorage?.setItem(keepRolesKey(sessionId), '1');
    else globalThis.localStorage?.removeItem(keepRolesKey(sessionId));
    setState((s) => ({ ...s, cancelled: false, task: { task: 'analyze', done: 0, total: 1 } }));
    send({ type: 'analyze', inputs, keepGivenRoles: keep });
    requested.current = inputs;
  }, [inputs, sessionId]);

  /** Column sort of one pane; null goes back to file order. */
  const setSort = useCallback((host: HostSide, key: SortKey | null, desc = false) => {
    if (key === null) {
      delete sortWanted.current[host];
      setState((s) => {
        const sort = { ...s.sort };
        delete sort[host];
        return { ...s, sort };
      });
      return;
    }
    sortWanted.current[host] = { key, desc };
    setState((s) => ({ ...s, sort: { ...s.sort, [host]: { key, desc, order: s.sort[host]?.order ?? null, pos: s.sort[host]?.pos ?? null } } }));
    const rows = filterRows.current[host]?.slice() ?? null;
    const id = ++sortId.current;
    sortLatest.current[host] = id;
    worker.current?.postMessage({ type: 'sort', id, host, key, desc, rows } satisfies ToSessionWorker, rows ? [rows.buffer] : []);
  }, []);

  const requestConversations = useCallback(() => send({ type: 'conversations', id: Date.now() }), []);
  const requestClockPairs = useCallback(() => send({ type: 'clockPairs', id: Date.now() }), []);

  const setFilter = useCallback((src: string) => {
    // Enter and the debounce both ask for the same text: filter it once.
    if (src === filterSrc.current) return;
    filterSrc.current = src;
    const id = ++filterId.current;
    if (runningTimer.current !== null) { clearTimeout(runningTimer.current); runningTimer.current = null; }
    if (src.trim() === '') {
      filterRows.current = { A: null, B: null };
      resort();
      setState((s) => ({ ...s, filter: EMPTY_FILTER }));
      return;
    }
    const running = () => setState((s) => ({ ...s, filter: { ...s.filter, src, status: 'running' } }));
    // From no filter the panes show the totals, which stay true until the answer: a quick answer
    // then replaces them in one render of both panes instead of two ("filtering…", then counts).
    // After another filter its counts and time must go at once (they no longer match the text).
    if (filterStatus.current === 'idle') {
      runningTimer.current = setTimeout(() => {
        runningTimer.current = null;
        if (filterId.current === id) running();
      }, FILTERING_SHOWN_AFTER_MS);
    } else running();
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

  return { state, cancel, rerun, setFilter, exportAs, relink, setSort, setKeepGivenRoles, requestConversations, requestClockPairs };
}
