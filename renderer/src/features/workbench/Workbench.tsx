// The two-host workbench: verdict, display filter and checkpoint strip on top, host A and host B
// side by side on one timeline, and the analysis panels (findings, ladder, clock, notes, detail)
// below. The session worker does the heavy lifting; this component only arranges its results.

import React, { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import type { CheckpointLabel } from '../../../../shared/analysis/types.ts';
import { parseIpLink } from '../../../../shared/capture-file/links.ts';
import type { Packet } from '../../../../shared/protocols/packet.ts';
import { describeCheckpoint } from '../../../../shared/report/labels.ts';
import type { NoteTarget } from '../../../../shared/report/notes.ts';
import type { AnalysisRecord, AnalysisOptionsRecord, CaptureRecord, HostSide, NoteRecord } from '../../db/schema.ts';
import { saveOptions, targetKey } from '../../db/store.ts';
import { LadderView } from './LadderView.tsx';
import { buildModel, clockMapper, refKey, runningMax, viewLength, viewLowerBound, viewTimeAt, type PacketRef } from './model.ts';
import { usePacketsByRef, readPacket } from './packets-by-ref.ts';
import { ClockPanel, DetailPanel, FindingsPanel, NotesPanel, VerdictBar } from './Panels.tsx';
import type { useSessionEngine } from './session-engine.ts';
import { TracePane, type PaneHandle } from './TracePane.tsx';

type Engine = ReturnType<typeof useSessionEngine>;
type Tab = 'findings' | 'detail' | 'ladder' | 'clock' | 'notes';

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

const TABS: Array<{ key: Tab; label: string }> = [
  { key: 'findings', label: 'Findings' },
  { key: 'detail', label: 'Packet detail' },
  { key: 'ladder', label: 'Lineage' },
  { key: 'clock', label: 'Clock' },
  { key: 'notes', label: 'Notes' },
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
  const [selected, setSelected] = useState<PacketRef | null>(null);
  const [selectedPacket, setSelectedPacket] = useState<Packet | undefined>(undefined);
  const [tab, setTab] = useState<Tab>('findings');
  /** Target the notes form starts with when opened from a finding's ✎ button. */
  const [noteTarget, setNoteTarget] = useState<string | null>(null);
  const [filterText, setFilterText] = useState(state.filter.src);
  const [sync, setSync] = useState(true);
  const panes = { A: useRef<PaneHandle>(null), B: useRef<PaneHandle>(null) };
  const filterBox = useRef<HTMLInputElement>(null);
  const syncPausedUntil = useRef(0);
  const [panelHeight, setPanelHeight] = useState(() => Number(globalThis.localStorage?.getItem(PANEL_KEY)) || 280);
  const root = useRef<HTMLDivElement>(null);
  const setPanel = (h: number) => {
    const max = (root.current?.clientHeight ?? 800) - 200;
    const v = Math.round(Math.max(120, Math.min(max, h)));
    setPanelHeight(v);
    globalThis.localStorage?.setItem(PANEL_KEY, String(v));
  };
  const startDrag = (e: React.PointerEvent<HTMLDivElement>) => {
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
  const mapB = useMemo(() => clockMapper(result, baseSec), [result, baseSec]);
  const timeOf = useMemo(
    () => ({
      A: (p: Packet) => p.tsSec - baseSec + p.tsNsec / 1e9,
      B: (p: Packet) => mapB(p.tsSec - baseSec + p.tsNsec / 1e9),
    }),
    [baseSec, mapB],
  );
  const rows = { A: state.filter.status === 'ok' ? state.filter.A : null, B: state.filter.status === 'ok' ? state.filter.B : null };
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

  // Debounced: each keystroke restarts the wait, the worker gets the last text.
  useEffect(() => {
    const t = setTimeout(() => engine.setFilter(filterText), 120);
    return () => clearTimeout(t);
  }, [filterText]);

  const select = useCallback(
    (ref: PacketRef, reveal = true) => {
      setSelected(ref);
      setNoteTarget(null);
      // Revealing both packets scrolls both panes; scroll sync must not drag them apart again.
      syncPausedUntil.current = performance.now() + 400;
      const c = captures[ref.capture];
      if (c) void readPacket(c.id, ref.frame).then(setSelectedPacket);
      if (reveal) panes[ref.capture].current?.revealRow(ref.frame - 1);
      const t = model.twins.get(refKey(ref));
      if (t) panes[t.capture].current?.revealRow(t.frame - 1);
    },
    [captures, model],
  );

  const onTopRow = (host: HostSide) => (viewIndex: number) => {
    if (!sync || performance.now() < syncPausedUntil.current) return;
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

  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      const el = e.target as HTMLElement | null;
      if (el && (el.tagName === 'INPUT' || el.tagName === 'TEXTAREA' || el.tagName === 'SELECT')) return;
      if (e.key === ']') jumpCheckpoint(1);
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
  noteTargets.push({ kind: 'session' });
  result?.findings.forEach((_, i) => noteTargets.push({ kind: 'finding', index: i }));

  const overrideClock = (o: AnalysisOptionsRecord['clockOverride'] | null) => {
    const next: AnalysisOptionsRecord = { ...options };
    if (o) next.clockOverride = o;
    else delete next.clockOverride;
    void saveOptions(sessionId, next);
  };

  const filterError = state.filter.status === 'error' ? state.filter : null;

  return (
    <div className="workbench" data-testid="workbench" ref={root}>
      <VerdictBar result={result} onSelect={(r) => select(r)} busy={state.task?.task === 'analyze' || state.task?.task === 'load'} />
      {unnamed.length > 0 && (
        <div className="links-hint" role="status" data-testid="links-hint">
          Host {unnamed.join(' and ')}: captured with <code>tcpdump -i any</code>, so interfaces are only numbered and the
          tunnel cannot be told from the uplink.
          <button type="button" className="btn small" onClick={onOpenLinks}>Add interface names…</button>
        </div>
      )}
      <div className="wb-toolbar">
        <div className={`filter-box${filterError ? ' invalid' : state.filter.status === 'ok' ? ' valid' : ''}`}>
          <input
            ref={filterBox}
            data-testid="filter-input"
            aria-label="Display filter"
            aria-invalid={filterError ? true : undefined}
            placeholder="Display filter, e.g. ip.addr == 10.0.0.1 && udp.port == 51821   ( / )"
            value={filterText}
            spellCheck={false}
            onChange={(e) => setFilterText(e.target.value)}
            onKeyDown={(e) => {
              if (e.key === 'Escape') setFilterText('');
              if (e.key === 'Enter') engine.setFilter(filterText);
            }}
          />
          {filterError && (
            <div className="filter-error" data-testid="filter-error" role="status">
              <span className="mono">{filterText.slice(0, filterError.at ?? 0)}<mark>{filterText.slice(filterError.at ?? 0, (filterError.at ?? 0) + 1) || ' '}</mark></span>{' '}
              at {(filterError.at ?? 0) + 1}: {filterError.error}
            </div>
          )}
          {state.filter.status === 'ok' && <span className="filter-ms muted small" data-testid="filter-ms">{state.filter.ms} ms</span>}
        </div>
        <label className="sync-toggle small">
          <input type="checkbox" checked={sync} onChange={(e) => setSync(e.target.checked)} /> scroll together
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
                disabled={missing}
                title={(missing ? `${label} not seen` : `${label}: ${ref.capture}#${ref.frame}`) + ` (${describeCheckpoint(label)})` + chipNotes.map((n) => `\n✎ ${n.text}`).join('')}
                onClick={() => ref && select(ref)}
              >
                {label}
              </button>
            );
          })}
          <span className="muted small cp-hint">[ ] step · t twin · / filter</span>
        </div>
      )}
      <div className="wb-panes">
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
              model={model}
              noted={noted}
              selectedRow={selRow}
              twinRow={twinRow}
              timeOf={timeOf[host]}
              onSelect={(row) => select({ capture: host, frame: row + 1 }, false)}
              onTopRow={onTopRow(host)}
              onTwin={() => twin && select(twin)}
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
            onClick={() => setPanel(panelHeight >= (root.current?.clientHeight ?? 800) - 260 ? 280 : (root.current?.clientHeight ?? 800) - 200)}
          >
            {panelHeight >= (root.current?.clientHeight ?? 800) - 260 ? '▾ smaller' : '▴ larger'}
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
          {tab === 'clock' && (result ? <ClockPanel result={result} options={options} onOverride={overrideClock} /> : <NoResult engine={engine} analysis={analysis} />)}
          {tab === 'notes' && <NotesPanel sessionId={sessionId} notes={notes} targets={noteTargets} preferred={noteTarget} onSelect={(r) => select(r)} />}
        </div>
      </div>
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
