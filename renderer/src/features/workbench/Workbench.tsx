// The two-host workbench: verdict, display filter and checkpoint strip on top, host A and host B
// side by side on one timeline, and the analysis panels (findings, ladder, clock, notes, detail)
// below. The session worker does the heavy lifting; this component only arranges its results.

import React, { useCallback, useEffect, useLayoutEffect, useMemo, useRef, useState } from 'react';
import type { CheckpointLabel } from '../../../../shared/analysis/types.ts';
import { parseIpLink } from '../../../../shared/capture-file/links.ts';
import type { Packet } from '../../../../shared/protocols/packet.ts';
import { describeCheckpoint } from '../../../../shared/report/labels.ts';
import type { NoteTarget } from '../../../../shared/report/notes.ts';
import type { AnalysisRecord, AnalysisOptionsRecord, CaptureRecord, HostSide, NoteRecord } from '../../db/schema.ts';
import { saveOptions, targetKey } from '../../db/store.ts';
import type { Conversation } from '../../workers/session-messages.ts';
import { formatAddr } from '../packets/format.ts';
import { autoWidths, COLUMNS, filterFor, rowText, seconds, TIME_MODES, utcDateTime, utcTime, type ColumnKey, type TimeMode, type Widths } from './columns.ts';
import { ContextMenu, ConversationsPanel, GotoDialog, RoleSwapNotice, ShortcutsHelp, StatusBar, type MenuItem } from './Extras.tsx';
import { keepsGivenRoles } from './session-engine.ts';
import { LadderView } from './LadderView.tsx';
import { FilterBox, type FilterBoxHandle } from './FilterBox.tsx';
import { buildModel, clockMapper, refKey, runningMax, viewLength, viewLowerBound, viewTimeAt, type PacketRef } from './model.ts';
import { usePacketsByRef, readPacket } from './packets-by-ref.ts';
import { ClockPanel, DetailPanel, FindingsPanel, NotesPanel, VerdictBar } from './Panels.tsx';
import type { useSessionEngine } from './session-engine.ts';
import { TracePane, type PaneHandle } from './TracePane.tsx';

type Engine = ReturnType<typeof useSessionEngine>;
type Tab = 'findings' | 'detail' | 'ladder' | 'clock' | 'notes' | 'conversations';

interface Props {
  sessionId: number;
  captures: Partial<Record<HostSide, CaptureRecord>>;
  analysis: AnalysisRecord | undefined;
  options: AnalysisOptionsRecord;
  notes: NoteRecord[];
  engine: Engine;
  /** `ip -o link` text per host (interface names for SLL2 captures). */
  links: Partial<Record<HostSide, string>>;
  onOpenLinks: () => void;
}

const PANEL_KEY = 'tandem.panelHeight';
const WIDTHS_KEY = 'tandem.columnWidths';
/** Least height the two lists keep when the panels grow (header, pane title and about four rows). */
const MIN_PANES = 150;

/** What the workbench remembers per session across reloads. */
interface Saved {
  filter?: string;
  sel?: PacketRef;
  timeMode?: TimeMode;
  timeRef?: PacketRef;
  marks?: string[];
}
const savedKey = (id: number) => `tandem.wb.${id}`;
function readSaved(id: number): Saved {
  try {
    const v: unknown = JSON.parse(globalThis.localStorage?.getItem(savedKey(id)) ?? '{}');
    return v && typeof v === 'object' ? (v as Saved) : {};
  } catch {
    return {};
  }
}
function readWidths(): Widths {
  try {
    const v: unknown = JSON.parse(globalThis.localStorage?.getItem(WIDTHS_KEY) ?? '{}');
    const out: Widths = {};
    if (v && typeof v === 'object') for (const c of COLUMNS) { const w = (v as Record<string, unknown>)[c.key]; if (typeof w === 'number' && w >= c.min && w < 2000) out[c.key] = w; }
    return out;
  } catch {
    return {};
  }
}
const isRef = (r: unknown): r is PacketRef =>
  !!r && typeof r === 'object' && ((r as PacketRef).capture === 'A' || (r as PacketRef).capture === 'B') && Number.isInteger((r as PacketRef).frame) && (r as PacketRef).frame > 0;

async function copyText(text: string): Promise<void> {
  try {
    await navigator.clipboard.writeText(text);
  } catch {
    // Without clipboard permission (a plain browser tab): the old selection-based copy still works.
    const t = document.createElement('textarea');
    t.value = text;
    document.body.append(t);
    t.select();
    document.execCommand('copy');
    t.remove();
  }
}

const TABS: Array<{ key: Tab; label: string }> = [
  { key: 'findings', label: 'Findings' },
  { key: 'detail', label: 'Packet detail' },
  { key: 'ladder', label: 'Lineage' },
  { key: 'clock', label: 'Clock' },
  { key: 'notes', label: 'Notes' },
  { key: 'conversations', label: 'Conversations' },
];

export function Workbench({ sessionId, captures, analysis, options, notes, engine, links, onOpenLinks }: Props) {
  // Binary SLL2 files carry interface indexes only; tcpdump's printed text already names them.
  const unnamed = (['A', 'B'] as const).filter((h) => captures[h]?.format !== 'tcpdump-text' && captures[h]?.interfaces.some((i) => i.linktype === 276) && !links[h]);
  const linkNames = useMemo(
    () => ({ A: links.A ? parseIpLink(links.A) : undefined, B: links.B ? parseIpLink(links.B) : undefined }),
    [links.A, links.B],
  );
  const result = analysis?.result;
  const model = useMemo(() => buildModel(result), [result]);
  const { state } = engine;
  const saved = useMemo(() => readSaved(sessionId), [sessionId]);
  const [selected, setSelected] = useState<PacketRef | null>(() => (isRef(saved.sel) ? saved.sel : null));
  const [selectedPacket, setSelectedPacket] = useState<Packet | undefined>(undefined);
  const [tab, setTab] = useState<Tab>('findings');
  /** Target the notes form starts with when opened from a finding's ✎ button. */
  const [noteTarget, setNoteTarget] = useState<string | null>(null);
  const initialFilter = useMemo(() => (typeof saved.filter === 'string' ? saved.filter : state.filter.src), [saved]);
  /** The filter box's text as last typed (kept with the view; the box owns it, typing re-renders the box only). */
  const filterText = useRef(initialFilter);
  const [timeMode, setTimeMode] = useState<TimeMode>(() => (TIME_MODES.some((m) => m.key === saved.timeMode) ? saved.timeMode! : 'origin'));
  const [timeRef, setTimeRef] = useState<PacketRef | null>(() => (isRef(saved.timeRef) ? saved.timeRef : null));
  const [marks, setMarks] = useState<Set<string>>(() => new Set(Array.isArray(saved.marks) ? saved.marks.filter((m) => typeof m === 'string') : []));
  const [widths, setWidths] = useState<Widths>(readWidths);
  const [menu, setMenu] = useState<{ x: number; y: number; items: MenuItem[] } | null>(null);
  const [gotoOpen, setGotoOpen] = useState(false);
  const [helpOpen, setHelpOpen] = useState(false);
  const [keptRoles, setKeptRoles] = useState(() => keepsGivenRoles(sessionId));
  const [notice, setNotice] = useState<string | null>(null);
  const lastPane = useRef<HostSide>('A');
  const [sync, setSync] = useState(true);
  const panes = { A: useRef<PaneHandle>(null), B: useRef<PaneHandle>(null) };
  const filterBox = useRef<FilterBoxHandle>(null);
  const syncPausedUntil = useRef(0);
  const [panelHeight, setPanelHeight] = useState(() => Number(globalThis.localStorage?.getItem(PANEL_KEY)) || 0);
  const root = useRef<HTMLDivElement>(null);
  const panesBox = useRef<HTMLDivElement>(null);
  const statusBox = useRef<HTMLDivElement>(null);
  /** The tallest the panels may be: everything above the lists, the lists' minimum, the splitter and the status bar stay on screen. */
  const maxPanel = () => {
    const r = root.current;
    const panesEl = panesBox.current;
    if (!r || !panesEl) return 400;
    return Math.max(120, r.clientHeight - panesEl.offsetTop - MIN_PANES - 7 - (statusBox.current?.offsetHeight ?? 24));
  };
  /** "▴ larger": the panels take all the height the lists can spare, also when the window changes size. */
  const [big, setBig] = useState(false);
  const bigRef = useRef(false);
  bigRef.current = big;
  const setPanel = (h: number, remember = true) => {
    const v = Math.round(Math.max(120, Math.min(maxPanel(), h)));
    setPanelHeight(v);
    setBig(false);
    if (remember) globalThis.localStorage?.setItem(PANEL_KEY, String(v));
  };
  // First use: the lists get about two thirds of the height; later, a window made smaller keeps the panels within it.
  useLayoutEffect(() => {
    const fit = () => {
      const h = root.current?.clientHeight ?? 0;
      if (!h) return;
      setPanelHeight((cur) => {
        const want = bigRef.current ? Infinity : cur || Math.round(Math.min(300, Math.max(170, h * 0.3)));
        return Math.round(Math.max(120, Math.min(maxPanel(), want)));
      });
    };
    fit();
    window.addEventListener('resize', fit);
    return () => window.removeEventListener('resize', fit);
  }, []);
  const startDrag = (e: React.PointerEvent<HTMLDivElement>) => {
    // No text selection while dragging the divider.
    e.preventDefault();
    const startY = e.clientY;
    const startH = panelHeight;
    const move = (ev: PointerEvent) => setPanel(startH - (ev.clientY - startY));
    const up = () => {
      window.removeEventListener('pointermove', move);
      window.removeEventListener('pointerup', up);
    };
    window.addEventListener('pointermove', move);
    window.addEventListener('pointerup', up);
  };

  const baseSec = state.loaded?.baseSec ?? captures.A?.firstTs?.sec ?? 0;
  const baseNsec = state.loaded?.baseNsec ?? captures.A?.firstTs?.nsec ?? 0;
  const mapB = useMemo(() => clockMapper(result, baseSec + baseNsec / 1e9), [result, baseSec, baseNsec]);
  /** Seconds since A's first packet on A's clock, for a capture row (the worker's time column when loaded). */
  const common = useCallback(
    (host: HostSide, row: number, p?: Packet): number => {
      const times = state.loaded?.[host]?.times;
      const own = times && row < times.length ? times[row]! : p ? p.tsSec - baseSec + (p.tsNsec - baseNsec) / 1e9 : NaN;
      return host === 'B' ? mapB(own) : own;
    },
    [state.loaded, baseSec, baseNsec, mapB],
  );
  // While a new filter runs the previous result stays on screen (no flash of the unfiltered totals).
  const filterOn = state.filter.status === 'ok' || (state.filter.status === 'running' && (state.filter.A !== null || state.filter.B !== null));
  const rows = { A: filterOn ? state.filter.A : null, B: filterOn ? state.filter.B : null };
  const filtering = state.filter.status === 'running';
  const sorted = state.sort.A !== undefined || state.sort.B !== undefined;
  // The O(n) pass runs once per load; a filter result is only an index into it.
  const maxTimes = useMemo(() => {
    const l = state.loaded;
    return { A: l?.A ? runningMax(l.A.times) : null, B: l?.B ? runningMax(l.B.times) : null };
  }, [state.loaded]);
  const timelines = useMemo(() => ({
    A: maxTimes.A ? { max: maxTimes.A, rows: rows.A, map: (t: number) => t } : null,
    B: maxTimes.B ? { max: maxTimes.B, rows: rows.B, map: mapB } : null,
  }), [maxTimes, rows.A, rows.B, mapB]);

  const twin = selected ? model.twins.get(refKey(selected)) ?? null : null;
  const noted = useMemo(() => {
    const s = new Set<string>();
    for (const n of notes) if (n.target.startsWith('packet:')) s.add(n.target.slice(7).replace(':', '#'));
    return s;
  }, [notes]);

  const select = useCallback(
    (ref: PacketRef, reveal = true) => {
      setSelected(ref);
      setNoteTarget(null);
      lastPane.current = ref.capture;
      const t = model.twins.get(refKey(ref));
      // Revealing both packets scrolls both panes; scroll sync must not drag them apart again. A move
      // inside one list with no twin to show leaves sync on, so the other list follows the keyboard.
      if (reveal || t) syncPausedUntil.current = performance.now() + 400;
      const c = captures[ref.capture];
      if (c) void readPacket(c.id, ref.frame).then(setSelectedPacket);
      let shown = true;
      if (reveal) shown = panes[ref.capture].current?.revealRow(ref.frame - 1) ?? false;
      if (t) panes[t.capture].current?.revealRow(t.frame - 1);
      setNotice(shown ? null : `${refKey(ref)} is hidden by the display filter.`);
      return shown;
    },
    [captures, model],
  );

  // The selection kept from the last visit: its packet is read once, its row revealed once the rows exist.
  const pendingReveal = useRef<PacketRef | null>(selected);
  useEffect(() => {
    if (selected && !selectedPacket) {
      const c = captures[selected.capture];
      if (c) void readPacket(c.id, selected.frame).then(setSelectedPacket);
    }
  }, []);
  useEffect(() => {
    const r = pendingReveal.current;
    if (!r || !state.loaded || filtering) return;
    if (panes[r.capture].current?.revealRow(r.frame - 1)) pendingReveal.current = null;
  }, [state.loaded, filtering, state.filter.A, state.filter.B]);

  // Remembered per session: filter text, selection, time display, time reference, marks.
  const saveView = useRef(() => {});
  saveView.current = () => {
    const v: Saved = { filter: filterText.current, timeMode, marks: [...marks] };
    if (selected) v.sel = selected;
    if (timeRef) v.timeRef = timeRef;
    globalThis.localStorage?.setItem(savedKey(sessionId), JSON.stringify(v));
  };
  useEffect(() => saveView.current(), [sessionId, selected, timeMode, timeRef, marks]);
  const onFilterText = useCallback((text: string) => { filterText.current = text; saveView.current(); }, []);

  const onTopRow = (host: HostSide) => (viewIndex: number) => {
    // A pane sorted by a column has no timeline to follow.
    if (!sync || sorted || performance.now() < syncPausedUntil.current) return;
    const mine = timelines[host];
    const other: HostSide = host === 'A' ? 'B' : 'A';
    const theirs = timelines[other];
    if (!mine || !theirs || viewLength(mine) === 0) return;
    const t = viewTimeAt(mine, Math.min(viewIndex, viewLength(mine) - 1));
    panes[other].current?.scrollToViewIndex(viewLowerBound(theirs, t));
  };

  const labels = model.strip.filter((s) => s.ref !== null).map((s) => s.label);
  const currentLabel = selected ? model.badges.get(refKey(selected))?.[0] : undefined;
  const jumpCheckpoint = (delta: number) => {
    if (!labels.length) return;
    const i = currentLabel ? labels.indexOf(currentLabel) : -1;
    const next = labels[(i + delta + labels.length) % labels.length]!;
    select(model.checkpoints.get(next)!);
  };

  const toggleMark = (ref: PacketRef) => {
    setMarks((m) => {
      const next = new Set(m);
      const k = refKey(ref);
      if (next.has(k)) next.delete(k);
      else next.add(k);
      return next;
    });
  };

  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if ((e.ctrlKey || e.metaKey) && !e.altKey && (e.key === 'g' || e.key === 'G')) {
        e.preventDefault();
        setGotoOpen(true);
        return;
      }
      const el = e.target as HTMLElement | null;
      if (el && (el.tagName === 'INPUT' || el.tagName === 'TEXTAREA' || el.tagName === 'SELECT')) return;
      if ((e.ctrlKey || e.metaKey) && (e.key === 'm' || e.key === 'M')) {
        e.preventDefault();
        if (selected) toggleMark(selected);
        return;
      }
      if (e.ctrlKey || e.metaKey || e.altKey) return;
      if (e.key === '?') {
        e.preventDefault();
        setHelpOpen(true);
      } else if (e.key === ']') jumpCheckpoint(1);
      else if (e.key === '[') jumpCheckpoint(-1);
      else if (e.key === '/') {
        e.preventDefault();
        filterBox.current?.focus();
      } else return;
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  });

  const ladderRefs = useMemo(() => {
    if (!result) return [];
    const refs: PacketRef[] = result.checkpoints.map((c) => ({ capture: c.capture, frame: c.frame }));
    for (const l of result.lineage.slice(0, 8)) for (const h of l.hops) refs.push({ capture: h.capture, frame: h.frame });
    return refs;
  }, [result]);
  const ladderPackets = usePacketsByRef(captures, tab === 'ladder' ? ladderRefs : []);

  const noteTargets: NoteTarget[] = [];
  if (selected) noteTargets.push({ kind: 'packet', capture: selected.capture, frame: selected.frame });
  for (const l of (selected && model.badges.get(refKey(selected))) ?? []) noteTargets.push({ kind: 'checkpoint', label: l });
  // A checkpoint that never showed up is what people annotate most: each missing one is a target too.
  for (const s of model.strip) if (s.ref === null) noteTargets.push({ kind: 'checkpoint', label: s.label });
  noteTargets.push({ kind: 'session' });
  result?.findings.forEach((_, i) => noteTargets.push({ kind: 'finding', index: i }));

  const overrideClock = (o: AnalysisOptionsRecord['clockOverride'] | null) => {
    const next: AnalysisOptionsRecord = { ...options };
    if (o) next.clockOverride = o;
    else delete next.clockOverride;
    void saveOptions(sessionId, next);
  };

  // ---- time column
  const refTime = timeRef ? common(timeRef.capture, timeRef.frame - 1) : null;
  const modeInfo = TIME_MODES.find((m) => m.key === timeMode)!;
  const timeCellOf = useMemo(() => {
    const make = (host: HostSide) => (p: Packet, row: number, prevRow: number | null) => {
      const t = common(host, row, p);
      const whole = `${seconds(t)} s since A's first packet · ${utcDateTime(p)} (host ${host}'s clock)`;
      switch (timeMode) {
        case 'utc': return { text: utcTime(p), title: whole };
        case 'delta': {
          const d = prevRow === null ? 0 : t - common(host, prevRow);
          return { text: seconds(d), title: `${seconds(d)} s after the previous displayed packet · ${whole}` };
        }
        case 'ref': {
          if (refTime === null) return { text: seconds(t), title: whole };
          const d = t - refTime;
          const isRef = timeRef?.capture === host && timeRef.frame === p.frame;
          return { text: isRef ? '*REF*' : seconds(d), title: `${seconds(d)} s since ${refKey(timeRef!)} · ${whole}` };
        }
        default: return { text: seconds(t), title: whole };
      }
    };
    return { A: make('A'), B: make('B') };
  }, [common, timeMode, refTime, timeRef]);

  // ---- context menu, go to packet
  const applyFilter = (expr: string) => filterBox.current?.apply(expr);
  const openMenu = (host: HostSide) => (e: React.MouseEvent, p: Packet, _row: number, col: ColumnKey) => {
    const ref: PacketRef = { capture: host, frame: p.frame };
    const key = refKey(ref);
    const expr = filterFor(p, col, model.badges.get(key));
    const t = model.twins.get(key);
    const colLabel = COLUMNS.find((c) => c.key === col)?.label ?? col;
    const cur = filterText.current.trim();
    const items: MenuItem[] = [
      { key: 'filter', label: `Filter on ${colLabel}`, hint: expr, run: () => applyFilter(expr) },
      { key: 'filter-and', label: `…and with the current filter`, hint: cur ? `(${cur}) && ${expr}` : expr, disabled: !cur, run: () => applyFilter(`(${cur}) && ${expr}`) },
      { key: 'copy', label: 'Copy row', hint: 'tab-separated', run: () => void copyText(rowText(p, timeCellOf[host](p, p.frame - 1, null).text)) },
      { key: 'copy-filter', label: 'Copy as filter', hint: expr, run: () => void copyText(expr) },
      { key: 'mark', label: marks.has(key) ? 'Unmark' : 'Mark', hint: 'Ctrl+M', run: () => toggleMark(ref) },
      { key: 'note', label: 'Add a note…', run: () => { setNoteTarget(`packet:${host}:${p.frame}`); setTab('notes'); } },
      { key: 'twin', label: t ? `Go to twin ${refKey(t)}` : 'No twin on the other host', hint: 't', disabled: !t, run: () => t && select(t) },
      timeRef?.capture === host && timeRef.frame === p.frame
        ? { key: 'time-ref', label: 'Clear time reference', run: () => { setTimeRef(null); if (timeMode === 'ref') setTimeMode('origin'); } }
        : { key: 'time-ref', label: 'Set as time reference', run: () => { setTimeRef(ref); setTimeMode('ref'); } },
    ];
    setMenu({ x: e.clientX, y: e.clientY, items });
  };
  const gotoPacket = (host: HostSide, frame: number): string | null => {
    const shown = select({ capture: host, frame });
    panes[host].current?.focus();
    return shown ? null : `${host}#${frame} is hidden by the display filter; clear the filter to see it.`;
  };

  // ---- conversations
  const convFilter = (c: Conversation): string => {
    const addrs = `ip.addr == ${c.a} && ip.addr == ${c.b}`;
    if ((c.proto === 'tcp' || c.proto === 'udp') && c.aPort !== null && c.bPort !== null) return `${addrs} && ${c.proto}.port == ${c.aPort} && ${c.proto}.port == ${c.bPort}`;
    return c.proto === 'tcp' || c.proto === 'udp' || c.proto === 'icmp' || c.proto === 'esp' ? `${addrs} && ${c.proto}` : addrs;
  };
  const convFlow = (c: Conversation): string => {
    const [from, fromPort, to, toPort] = c.initiator === 'a' ? [c.a, c.aPort, c.b, c.bPort] : [c.b, c.bPort, c.a, c.aPort];
    if (c.proto === 'icmp') return `icmp ${from} > ${to}`;
    return `${c.proto} ${formatAddr(from, fromPort ?? undefined)} > ${formatAddr(to, toPort ?? undefined)}`;
  };

  // Whole numbers and times by default; a width the user dragged wins.
  const maxTimeAbs = useMemo(() => {
    let m = 0;
    for (const h of ['A', 'B'] as const) {
      const t = state.loaded?.[h]?.times;
      const mx = maxTimes[h];
      if (!t || !t.length || !mx) continue;
      const f = h === 'B' ? mapB : (x: number) => x;
      m = Math.max(m, Math.abs(f(t[0]!)), Math.abs(f(mx[mx.length - 1]!)));
    }
    return m;
  }, [state.loaded, maxTimes, mapB]);
  const maxFrame = Math.max(captures.A?.packetCount ?? 0, captures.B?.packetCount ?? 0);
  const maxLen = Math.max(state.loaded?.A?.maxLen ?? 0, state.loaded?.B?.maxLen ?? 0) || 65535;
  const negative = useMemo(() => {
    const t = state.loaded?.B?.times;
    return !!t && t.length > 0 && mapB(t[0]!) < 0;
  }, [state.loaded, mapB]);
  const colWidths = useMemo(
    () => ({ ...autoWidths(maxFrame, maxTimeAbs, maxLen, timeMode, negative), ...widths }),
    [maxFrame, maxTimeAbs, maxLen, timeMode, negative, widths],
  );

  const shownCount = (h: HostSide): number | null => (state.sort[h]?.order ? state.sort[h]!.order!.length : rows[h] ? rows[h]!.length : null);

  return (
    <div className="workbench" data-testid="workbench" ref={root}>
      <VerdictBar result={result} onSelect={(r) => select(r)} busy={state.task?.task === 'analyze' || state.task?.task === 'load'} />
      <RoleSwapNotice
        result={result}
        captures={captures}
        kept={keptRoles}
        onUndo={() => { setKeptRoles(true); engine.setKeepGivenRoles(true); }}
        onRedo={() => { setKeptRoles(false); engine.setKeepGivenRoles(false); }}
      />
      {unnamed.length > 0 && (
        <div className="links-hint" role="status" data-testid="links-hint">
          Host {unnamed.join(' and ')}: captured with <code>tcpdump -i any</code>, so interfaces are only numbered and the
          tunnel cannot be told from the uplink.
          <button type="button" className="btn small" onClick={onOpenLinks}>Add interface names…</button>
        </div>
      )}
      <div className="wb-toolbar">
        <FilterBox ref={filterBox} initial={initialFilter} filter={state.filter} onFilter={engine.setFilter} onText={onFilterText} />
        <label className="time-mode small" title={modeInfo.title}>
          Time
          <select data-testid="wb-time-mode" value={timeMode} onChange={(e) => setTimeMode(e.target.value as TimeMode)}>
            {TIME_MODES.map((m) => (
              <option key={m.key} value={m.key} disabled={m.key === 'ref' && !timeRef}>{m.key === 'ref' && timeRef ? `since ${refKey(timeRef)}` : m.label}</option>
            ))}
          </select>
        </label>
        <label className="sync-toggle small" title={sorted ? 'A pane sorted by a column does not follow the other one' : 'Keep both lists on the same moment'}>
          <input type="checkbox" data-testid="sync-toggle" checked={sync} onChange={(e) => setSync(e.target.checked)} /> scroll together
        </label>
      </div>
      {model.strip.length > 0 && (
        <div className="cp-strip" data-testid="checkpoint-strip" aria-label="Checkpoints ([ and ] to step)">
          {model.strip.map(({ label, ref }) => {
            const missing = ref === null;
            const first = result?.verdict.first_missing === label;
            const chipNotes = notes.filter((n) => n.target === `checkpoint:${label}`);
            return (
              <button
                key={label}
                type="button"
                className={`cp-chip${missing ? ' missing' : ''}${first ? ' first-missing' : ''}${currentLabel === label ? ' current' : ''}${chipNotes.length ? ' noted' : ''}`}
                data-host={label[0]}
                data-testid="cp-chip"
                data-label={label}
                data-missing={missing ? 'true' : undefined}
                aria-label={missing ? `${label} not seen: add a note` : undefined}
                title={(missing ? `${label} not seen — click to write a note about it` : `${label}: ${ref.capture}#${ref.frame}`) + ` (${describeCheckpoint(label)})` + chipNotes.map((n) => `\n✎ ${n.text}`).join('')}
                onClick={() => {
                  if (ref) select(ref);
                  else {
                    setNoteTarget(`checkpoint:${label}`);
                    setTab('notes');
                  }
                }}
              >
                {label}
              </button>
            );
          })}
          <span className="muted small cp-hint">[ ] step · t twin · / filter · ? keys</span>
        </div>
      )}
      <div className="wb-panes" ref={panesBox}>
        {(['A', 'B'] as const).map((host) => {
          const c = captures[host];
          if (!c) {
            return (
              <div key={host} className="trace-pane empty-pane" data-testid={`pane-${host}`}>
                <p>
                  <span className="host-badge" data-host={host}>{host}</span> <b>No capture for host {host} yet.</b>
                </p>
                <p>
                  Capture on {host === 'A' ? 'the client (host A)' : 'the server (host B)'} while you make one test connection, then open or drop the file here
                  {host === 'B' ? ' with “as host B”' : ''}:
                </p>
                <code className="cmd">sudo tcpdump -ni any -w {host.toLowerCase()}.pcap &apos;udp port 51820 or host 192.168.200.22&apos;</code>
                <p className="small">Use your tunnel&apos;s UDP port and the address you test against; both captures must run at the same time.</p>
              </div>
            );
          }
          const selRow = selected?.capture === host ? selected.frame - 1 : null;
          const twinRow = twin?.capture === host ? twin.frame - 1 : null;
          return (
            <TracePane
              key={`${c.id}:${c.importedAt}`}
              host={host}
              capture={c}
              rows={rows[host]}
              sort={state.sort[host]}
              filtering={filtering}
              filterActive={filterOn}
              model={model}
              noted={noted}
              marked={marks}
              selectedRow={selRow}
              twinRow={twinRow}
              widths={colWidths}
              userSized={widths}
              timeCell={timeCellOf[host]}
              timeTitle={modeInfo.title}
              onSelect={(row) => select({ capture: host, frame: row + 1 }, false)}
              onTopRow={onTopRow(host)}
              onTwin={() => twin && select(twin)}
              onSort={(key, desc) => engine.setSort(host, key, desc)}
              onResize={(key, w) => setWidths((cur) => {
                const next = { ...cur, [key]: w };
                globalThis.localStorage?.setItem(WIDTHS_KEY, JSON.stringify(next));
                return next;
              })}
              onContextMenu={openMenu(host)}
              handle={panes[host]}
            />
          );
        })}
      </div>
      <div
        className="wb-splitter"
        role="separator"
        aria-orientation="horizontal"
        aria-label="Resize the panels (arrow keys)"
        tabIndex={0}
        onPointerDown={startDrag}
        onKeyDown={(e) => {
          if (e.key === 'ArrowUp') setPanel(panelHeight + 40);
          else if (e.key === 'ArrowDown') setPanel(panelHeight - 40);
        }}
      />
      <div className="wb-panels" style={{ height: panelHeight }}>
        <div className="tabs" role="tablist">
          {TABS.map((t) => (
            <button
              key={t.key}
              type="button"
              role="tab"
              aria-selected={tab === t.key}
              className={`tab${tab === t.key ? ' active' : ''}`}
              data-testid={`tab-${t.key}`}
              onClick={() => setTab(t.key)}
            >
              {t.label}
              {t.key === 'findings' && result ? ` (${result.findings.length})` : ''}
              {t.key === 'notes' && notes.length ? ` (${notes.length})` : ''}
            </button>
          ))}
          <span className="spacer" />
          <button
            type="button"
            className="btn small ghost"
            data-testid="panel-size"
            title="Give the panels most of the height (the lists keep a few rows)"
            onClick={() => {
              if (big) setPanel(Math.round(Math.min(300, Math.max(170, (root.current?.clientHeight ?? 700) * 0.3))));
              else {
                setPanelHeight(maxPanel());
                setBig(true);
              }
            }}
          >
            {big ? '▾ smaller' : '▴ larger'}
          </button>
          {selected && (
            <span className="selection-info small" data-testid="selection-info">
              selected <b>{refKey(selected)}</b>
              {currentLabel ? ` (${currentLabel})` : ''}
              {twin ? <> · twin <b data-testid="twin-ref">{refKey(twin)}</b>{model.badges.get(refKey(twin))?.length ? ` (${model.badges.get(refKey(twin))!.join(' ')})` : ''}</> : model.marks.get(refKey(selected)) ? ' · no twin on the other host' : ''}
            </span>
          )}
        </div>
        <div className="tab-body">
          {tab === 'findings' && (result ? <FindingsPanel result={result} notes={notes} onSelect={(r) => select(r)} onNote={(t) => { setNoteTarget(targetKey(t)); setTab('notes'); }} /> : <NoResult engine={engine} analysis={analysis} />)}
          {tab === 'detail' && <DetailPanel capture={selected ? captures[selected.capture] : undefined} packet={selectedPacket} notes={notes} linkNames={selected ? linkNames[selected.capture] : undefined} />}
          {tab === 'ladder' && (result ? <LadderView result={result} packets={ladderPackets} baseRefS={baseSec} selected={selected} onSelect={(r) => select(r)} /> : <NoResult engine={engine} analysis={analysis} />)}
          {tab === 'clock' && (result ? <ClockPanel result={result} options={options} onOverride={overrideClock} pairs={state.clockPairs} mapB={mapB} onLoadPairs={engine.requestClockPairs} /> : <NoResult engine={engine} analysis={analysis} />)}
          {tab === 'notes' && <NotesPanel sessionId={sessionId} notes={notes} targets={noteTargets} preferred={noteTarget} onSelect={(r) => select(r)} />}
          {tab === 'conversations' && (
            <ConversationsPanel
              data={state.loaded ? state.conversations : null}
              ready={state.loaded !== null}
              baseTime={(h, t) => (h === 'B' ? mapB(t) : t)}
              onLoad={engine.requestConversations}
              onFilter={(c) => applyFilter(convFilter(c))}
              onTrace={(c) => void saveOptions(sessionId, { ...options, flow: convFlow(c) })}
            />
          )}
        </div>
      </div>
      <div ref={statusBox}>
        <StatusBar
          panes={(['A', 'B'] as const).filter((h) => captures[h]).map((h) => ({ host: h, shown: shownCount(h), total: captures[h]!.packetCount }))}
          selection={selected ? `${refKey(selected)}${currentLabel ? ` (${currentLabel})` : ''}${marks.has(refKey(selected)) ? ' · marked' : ''}` : null}
          filterMs={state.filter.status === 'ok' && state.filter.ms !== undefined ? state.filter.ms : null}
          filtering={filtering}
          onHelp={() => setHelpOpen(true)}
        />
      </div>
      {notice && (
        <div className="wb-notice" role="status" data-testid="wb-notice">
          {notice} <button type="button" className="btn small ghost" onClick={() => setNotice(null)}>✕</button>
        </div>
      )}
      {menu && <ContextMenu x={menu.x} y={menu.y} items={menu.items} onClose={() => setMenu(null)} />}
      {gotoOpen && <GotoDialog defaultHost={selected?.capture ?? lastPane.current} captures={captures} onGo={gotoPacket} onClose={() => setGotoOpen(false)} />}
      {helpOpen && <ShortcutsHelp onClose={() => setHelpOpen(false)} />}
    </div>
  );
}

function NoResult({ engine, analysis }: { engine: Engine; analysis: AnalysisRecord | undefined }) {
  if (analysis?.status === 'failed') return <p className="pad problem">The analysis failed: {analysis.error}</p>;
  if (engine.state.cancelled) {
    return (
      <p className="pad">
        Analysis cancelled.{' '}
        <button type="button" className="btn small" data-testid="rerun-analysis" onClick={engine.rerun}>Run analysis</button>
      </p>
    );
  }
  if (engine.state.task) return <p className="pad muted">Reading and analysing both captures… (Cancel stops it.)</p>;
  return <p className="pad muted">The analysis runs once both captures are imported.</p>;
}

export type { CheckpointLabel };
