// The analysis panels under the two panes: verdict and findings, clock estimate with its override,
// notes, and the packet detail of the current selection.

import { Fragment, useEffect, useMemo, useState } from 'react';
import type { AnalysisResult, Finding } from '../../../../shared/analysis/types.ts';
import type { Packet } from '../../../../shared/protocols/packet.ts';
import { describeTarget, type NoteTarget } from '../../../../shared/report/notes.ts';
import type { AnalysisOptionsRecord, CaptureRecord, NoteRecord } from '../../db/schema.ts';
import { addNote, deleteNote, parseTargetKey, targetKey } from '../../db/store.ts';
import { PacketDetail } from '../detail/PacketDetail.tsx';
import { refKey, type PacketRef } from './model.ts';
import { readFrameBytes } from './packets-by-ref.ts';
import type { ClockPairs } from '../../workers/session-messages.ts';
import { visible } from '../../../../shared/util/shell.ts';
import { splitProse } from '../../../../shared/util/prose.ts';

export function RefLink({ r, onSelect, label }: { r: PacketRef; onSelect: (r: PacketRef) => void; label?: string }) {
  return (
    <button type="button" className="ref-link" data-testid="ref-link" data-ref={refKey(r)} data-host={r.capture} onClick={() => onSelect(r)}>
      {label ?? `${r.capture}#${r.frame}`}
    </button>
  );
}

const VERDICT_TEXT = { ok: 'OK', fail: 'FAIL', inconclusive: 'INCONCLUSIVE' } as const;

export function VerdictBar({ result, onSelect, busy }: { result: AnalysisResult | undefined; onSelect: (r: PacketRef) => void; busy: boolean }) {
  if (!result) {
    return (
      <div className="verdict-bar pending" data-testid="verdict" data-status="pending">
        <span className="verdict-pill">{busy ? 'analysing…' : 'no analysis yet'}</span>
        <span className="muted">The verdict appears once both ends are imported and analysed.</span>
      </div>
    );
  }
  const v = result.verdict;
  const flow = result.flow;
  return (
    <div className={`verdict-bar status-${v.status}`} data-testid="verdict" data-status={v.status}>
      <span className="verdict-pill" data-testid="verdict-status">{VERDICT_TEXT[v.status]}</span>
      <span className="verdict-summary" data-testid="verdict-summary">{v.summary}</span>
      {v.first_missing && <span className="verdict-meta">first missing <b>{v.first_missing}</b></span>}
      {v.host && v.class !== 'none' && <span className="verdict-meta">{v.class} · fix on {v.host}</span>}
      <span className="spacer" />
      {flow && (
        <span className="verdict-meta mono" title="Flow under test">
          {flow.proto} {flow.src}{flow.sport != null ? `:${flow.sport}` : ''} → {flow.dst}{flow.dport != null ? `:${flow.dport}` : ''}
        </span>
      )}
      {result.findings[0]?.evidence[0] && v.status !== 'ok' && <RefLink r={result.findings[0].evidence[0]} onSelect={onSelect} label="show evidence" />}
    </div>
  );
}

function NoteList({ notes }: { notes: NoteRecord[] }) {
  if (!notes.length) return null;
  return (
    <ul className="inline-notes">
      {notes.map((n) => (
        <li key={n.id} data-testid="inline-note">✎ {n.text}</li>
      ))}
    </ul>
  );
}

export function FindingsPanel({ result, notes, onSelect, onNote }: { result: AnalysisResult; notes: NoteRecord[]; onSelect: (r: PacketRef) => void; onNote: (t: NoteTarget) => void }) {
  const v = result.verdict;
  const byFinding = (i: number) => notes.filter((n) => n.target === `finding:${i}`);
  return (
    <div className="findings" data-testid="findings">
      <div className={`finding-verdict status-${v.status}`}>
        <b>{VERDICT_TEXT[v.status]}</b> — {v.summary}
      </div>
      {result.findings.length === 0 && <p className="muted">No findings.</p>}
      <ol className="finding-list">
        {result.findings.map((f: Finding, i) => (
          <li key={i} className={`finding sev-${f.severity}`} data-testid="finding">
            <div className="finding-head">
              <span className={`sev sev-${f.severity}`}>{f.severity}</span>
              {f.checkpoint && <span className="cp-badge" data-host={f.checkpoint[0]}>{f.checkpoint}</span>}
              <span className="finding-title">{f.title}</span>
              <span className="spacer" />
              <span className="muted small" title={f.rule !== undefined ? `rule ${f.rule} (shared/analysis/RULES.md)` : undefined}>{f.class} · fix on {f.host}{f.rule !== undefined && <> · <code data-testid="finding-rule">{f.rule}</code></>}</span>
              <button type="button" className="btn small ghost" title="Add a note to this finding" onClick={() => onNote({ kind: 'finding', index: i })}>✎</button>
            </div>
            {f.detail && <div className="finding-detail"><EngineText text={f.detail} /></div>}
            {f.evidence.length > 0 && (
              <div className="finding-evidence">
                evidence:{' '}
                {f.evidence.slice(0, 12).map((e) => (
                  <RefLink key={refKey(e)} r={e} onSelect={onSelect} />
                ))}
                {f.evidence.length > 12 && <span className="muted"> +{f.evidence.length - 12}</span>}
              </div>
            )}
            {f.host_evidence !== undefined && f.host_evidence.length > 0 && (
              <div className="finding-host-evidence" data-testid="host-evidence">
                host evidence:
                {f.host_evidence.map((h, j) => (
                  // Quoted from a host's command output: control and bidi characters are shown as escapes (line breaks and tabs kept).
                  <div key={j} data-testid="host-evidence-quote"><span className="muted small" data-testid="host-evidence-source">host {h.host} · {visible(h.source)}</span><pre>{h.text.split(/([\n\t])/).map((x) => (x === '\n' || x === '\t' ? x : visible(x))).join('')}</pre></div>
                ))}
              </div>
            )}
            {f.next_steps.length > 0 && (
              <ul className="next-steps">
                {f.next_steps.map((s, j) => (
                  <li key={j}><EngineText text={s} /></li>
                ))}
              </ul>
            )}
            <NoteList notes={byFinding(i)} />
          </li>
        ))}
      </ol>
    </div>
  );
}

/**
 * Engine prose: its code spans (commands) as code, the rest as plain text, split by the reading the
 * reports share (shared/util/prose.ts). React escapes both.
 */
function EngineText({ text }: { text: string }): React.JSX.Element {
  return <>{splitProse(text).map((p, k) => (p.code ? <code key={k}>{p.text}</code> : <Fragment key={k}>{p.text}</Fragment>))}</>;
}

interface Delay { t: number; d: number; dir: 'AB' | 'BA' }

/**
 * One-way delay of every tunnel packet seen on both hosts, after clock correction: sent → received
 * on the common clock, so A→B is B's time minus A's and B→A the other way round.
 */
function pairDelays(pairs: ClockPairs, mapB: (t: number) => number): Delay[] {
  const out: Delay[] = [];
  for (let i = 0; i < pairs.tA.length; i++) {
    const a = pairs.tA[i]!;
    const b = mapB(pairs.tB[i]!);
    const ab = pairs.aToB[i] === 1;
    out.push({ t: a, d: ab ? b - a : a - b, dir: ab ? 'AB' : 'BA' });
  }
  return out;
}

function fmtS(s: number): string {
  const a = Math.abs(s);
  if (!Number.isFinite(s)) return '∞';
  if (a >= 1) return `${s.toFixed(3)} s`;
  if (a >= 1e-3) return `${(s * 1e3).toFixed(3)} ms`;
  return `${(s * 1e6).toFixed(1)} µs`;
}

export function ClockPanel({ result, options, onOverride, pairs, mapB, onLoadPairs }: {
  result: AnalysisResult;
  options: AnalysisOptionsRecord;
  onOverride: (o: AnalysisOptionsRecord['clockOverride'] | null) => void;
  pairs: ClockPairs | null;
  mapB: (t: number) => number;
  onLoadPairs: () => void;
}) {
  const c = result.clock;
  useEffect(() => {
    if (!pairs) onLoadPairs();
  }, [pairs]);
  const delays = useMemo(() => (pairs ? pairDelays(pairs, mapB) : []), [pairs, mapB]);
  const nAB = delays.filter((d) => d.dir === 'AB').length;
  const t0 = delays.length ? Math.min(...delays.map((d) => d.t)) : 0;
  const t1 = delays.length ? Math.max(...delays.map((d) => d.t)) : 1;
  const [offsetMs, setOffsetMs] = useState(options.clockOverride ? String(options.clockOverride.offset_s * 1e3) : '');
  const [skew, setSkew] = useState(options.clockOverride?.skew_ppm !== undefined ? String(options.clockOverride.skew_ppm) : '');
  const W = 360;
  const H = 140;
  const P = 44;
  // The range always includes zero: a point under the zero line is a packet that "arrived before it left".
  const hi = Math.max(1e-6, ...delays.map((d) => d.d)) * 1.15;
  const lo = Math.min(0, ...delays.map((d) => d.d * 1.15));
  const x = (t: number) => P + 6 + (t1 > t0 ? (t - t0) / (t1 - t0) : 0.5) * (W - 12);
  const y = (d: number) => 10 + ((hi - d) / (hi - lo)) * (H - 20);
  const valid = offsetMs.trim() !== '' && Number.isFinite(Number(offsetMs)) && (skew.trim() === '' || Number.isFinite(Number(skew)));
  return (
    <div className="clock-panel" data-testid="clock-panel">
      <dl className="clock-facts">
        <dt>offset (B − A)</dt><dd data-testid="clock-offset">{fmtS(c.offset_s)}</dd>
        <dt>skew</dt><dd data-testid="clock-skew">{c.skew_ppm.toFixed(2)} ppm{c.skew_observable === false && c.pairs > 0
          ? ` (not observable: the pairs span ${fmtS((c.pairs_to_s ?? 0) - (c.pairs_from_s ?? 0))})` : ''}</dd>
        <dt>uncertainty</dt><dd>± {c.uncertainty_s === null || !Number.isFinite(c.uncertainty_s) ? 'unbounded' : fmtS(c.uncertainty_s)}</dd>
        {c.uncertainty_max_s != null && Number.isFinite(c.uncertainty_max_s) && c.uncertainty_max_s > (c.uncertainty_s ?? 0) * 1.01 && (
          <><dt>far from the pairs</dt><dd data-testid="clock-far">± {fmtS(c.uncertainty_max_s)} at the farthest packet ({((c.drift_per_s ?? 0) * 1e6).toFixed(1)} µs per second away)</dd></>
        )}
        <dt>matched pairs</dt><dd>{c.pairs} used by the estimate ({c.pairs_a_to_b} A→B, {c.pairs_b_to_a} B→A)</dd>
        <dt>method</dt><dd data-testid="clock-method">{c.method}</dd>
      </dl>
      <figure className="clock-plot">
        <svg viewBox={`0 0 ${W + P} ${H}`} width={W + P} height={H} role="img" aria-label="One-way delays of matched packets after clock correction">
          <line x1={P} y1={y(0)} x2={W + P} y2={y(0)} className="axis" />
          <text x={2} y={y(hi) + 4} className="tick">{fmtS(hi)}</text>
          <text x={2} y={y(0) - 3} className="tick">0</text>
          {lo < 0 && <text x={2} y={y(lo)} className="tick">{fmtS(lo)}</text>}
          {/* A→B as filled dots, B→A as open diamonds drawn last: both directions stay visible where they overlap. */}
          {delays.map((d, i) =>
            d.dir === 'AB' ? (
              <circle key={i} cx={x(d.t)} cy={y(d.d)} r={3} className="pt AB" data-testid="clock-pt" data-dir="AB">
                <title>{`A→B ${fmtS(d.d)} at ${d.t.toFixed(6)} s`}</title>
              </circle>
            ) : null,
          )}
          {delays.map((d, i) =>
            d.dir === 'BA' ? (
              <path key={i} d={`M${x(d.t)},${y(d.d) - 4.5} l4.5,4.5 l-4.5,4.5 l-4.5,-4.5 z`} className="pt BA" data-testid="clock-pt" data-dir="BA">
                <title>{`B→A ${fmtS(d.d)} at ${d.t.toFixed(6)} s`}</title>
              </path>
            ) : null,
          )}
        </svg>
        <figcaption className="muted small" data-testid="clock-caption">
          {pairs
            ? <>{pairs.total} tunnel packets seen on both hosts ({nAB} A→B <span className="AB-key">●</span>, {delays.length - nAB} B→A <span className="BA-key">◇</span>
              {pairs.total > delays.length ? `; ${delays.length} drawn` : ''}), matched by WireGuard index and counter, ESP SPI and sequence, IKE SPIs and message ID.</>
            : 'Matching the tunnel packets of both hosts…'}{' '}
          One-way delay after correction, over time; points below zero mean the estimate is off: a packet cannot arrive before it was sent.
        </figcaption>
      </figure>
      <form
        className="clock-override"
        onSubmit={(e) => {
          e.preventDefault();
          if (!valid) return;
          const o: { offset_s: number; skew_ppm?: number } = { offset_s: Number(offsetMs) / 1e3 };
          if (skew.trim() !== '') o.skew_ppm = Number(skew);
          onOverride(o);
        }}
      >
        <label>
          Offset override (ms)
          <input data-testid="clock-override-offset" value={offsetMs} onChange={(e) => setOffsetMs(e.target.value)} placeholder={(c.offset_s * 1e3).toFixed(3)} inputMode="decimal" />
        </label>
        <label>
          skew (ppm)
          <input data-testid="clock-override-skew" value={skew} onChange={(e) => setSkew(e.target.value)} placeholder="0" inputMode="decimal" />
        </label>
        <button type="submit" className="btn small" data-testid="clock-override-apply" disabled={!valid}>Apply and re-run</button>
        {options.clockOverride && (
          <button type="button" className="btn small ghost" onClick={() => { setOffsetMs(''); setSkew(''); onOverride(null); }}>
            Use the estimate
          </button>
        )}
      </form>
    </div>
  );
}

export function NotesPanel({ sessionId, notes, targets, preferred, onSelect }: { sessionId: number; notes: NoteRecord[]; targets: NoteTarget[]; preferred?: string | null; onSelect: (r: PacketRef) => void }) {
  const [text, setText] = useState('');
  const pick = () => Math.max(0, preferred ? targets.findIndex((t) => targetKey(t) === preferred) : 0);
  const [targetIdx, setTargetIdx] = useState(pick);
  useEffect(() => setTargetIdx(pick()), [targets.map(targetKey).join(), preferred]);
  const target = targets[targetIdx] ?? { kind: 'session' as const };
  const save = async () => {
    const t = text.trim();
    if (!t) return;
    // Clear at once: the user may start the next note before the write finishes.
    setText('');
    try {
      await addNote(sessionId, target, t);
    } catch {
      setText(t);
    }
  };
  return (
    <div className="notes-panel" data-testid="notes-panel">
      <form className="note-form" onSubmit={(e) => { e.preventDefault(); void save(); }}>
        <select data-testid="note-target" value={targetIdx} onChange={(e) => setTargetIdx(Number(e.target.value))} aria-label="Note is about">
          {targets.map((t, i) => (
            <option key={targetKey(t)} value={i}>{describeTarget(t)}</option>
          ))}
        </select>
        <input data-testid="note-text" value={text} onChange={(e) => setText(e.target.value)} placeholder="Write what you saw or tried…" aria-label="Note text" />
        <button type="submit" className="btn small primary" data-testid="note-add" disabled={!text.trim()}>Add note</button>
      </form>
      {notes.length === 0 && <p className="muted">No notes yet. Notes go into every export next to what they are about.</p>}
      <ul className="note-list">
        {[...notes].sort((a, b) => b.createdAt - a.createdAt).map((n) => {
          const t = parseTargetKey(n.target);
          return (
            <li key={n.id} data-testid="note" data-target={n.target}>
              <span className="note-target">
                {t.kind === 'packet' ? <RefLink r={{ capture: t.capture, frame: t.frame }} onSelect={onSelect} label={describeTarget(t)} /> : describeTarget(t)}
              </span>
              <span className="note-text" data-testid="note-body">{n.text}</span>
              <span className="muted small">{new Date(n.createdAt).toLocaleString()}</span>
              <button type="button" className="btn small ghost" aria-label="Delete note" onClick={() => void deleteNote(n.id)}>✕</button>
            </li>
          );
        })}
      </ul>
    </div>
  );
}

export function DetailPanel({ capture, packet, notes, linkNames }: { capture: CaptureRecord | undefined; packet: Packet | undefined; notes: NoteRecord[]; linkNames: Map<number, string> | undefined }) {
  const [bytes, setBytes] = useState<Uint8Array | undefined>(undefined);
  useEffect(() => {
    setBytes(undefined);
    if (!capture || !packet) return;
    let live = true;
    void readFrameBytes(capture.id, packet.frame).then((b) => live && setBytes(b));
    return () => {
      live = false;
    };
  }, [capture?.id, capture?.importedAt, packet?.frame]);
  if (!capture || !packet) return <p className="muted pad">Select a packet in either list to see its layers and bytes.</p>;
  const own = notes.filter((n) => n.target === `packet:${capture.host}:${packet.frame}`);
  return (
    <div className="detail-panel" data-testid="detail-panel" data-ref={`${capture.host}#${packet.frame}`}>
      <NoteList notes={own} />
      <PacketDetail packet={packet} bytes={bytes} iface={capture.interfaces[packet.ifaceId]} {...(linkNames ? { linkNames } : {})} />
    </div>
  );
}
