// The workbench's smaller pieces: the row context menu, go-to-packet, the keyboard help, the
// status bar, the role swap notice and the conversations table.

import { useEffect, useLayoutEffect, useRef, useState } from 'react';
import type { AnalysisResult } from '../../../../shared/analysis/types.ts';
import type { CaptureRecord, HostSide } from '../../db/schema.ts';
import type { Conversation } from '../../workers/session-messages.ts';
import { formatAddr, formatBytes } from '../packets/format.ts';

/** Closes a popup on Escape, a pointer press outside it, the window losing focus or the tab being hidden. */
export function useDismiss(open: boolean, ref: React.RefObject<HTMLElement | null>, close: () => void): void {
  useEffect(() => {
    if (!open) return;
    const onKey = (e: KeyboardEvent) => {
      if (e.key === 'Escape') close();
    };
    const onDown = (e: PointerEvent) => {
      if (ref.current && !ref.current.contains(e.target as Node)) close();
    };
    const onHide = () => close();
    const onVis = () => {
      if (document.visibilityState === 'hidden') close();
    };
    window.addEventListener('keydown', onKey, true);
    window.addEventListener('pointerdown', onDown, true);
    window.addEventListener('blur', onHide);
    document.addEventListener('visibilitychange', onVis);
    return () => {
      window.removeEventListener('keydown', onKey, true);
      window.removeEventListener('pointerdown', onDown, true);
      window.removeEventListener('blur', onHide);
      document.removeEventListener('visibilitychange', onVis);
    };
  }, [open, close, ref]);
}

/** Keeps a fixed-position box inside the window: moved left/up when it would cross an edge. */
export function useKeepInWindow(ref: React.RefObject<HTMLElement | null>, x: number, y: number): { left: number; top: number } {
  const [pos, setPos] = useState({ left: x, top: y });
  useLayoutEffect(() => {
    const el = ref.current;
    if (!el) return;
    const r = el.getBoundingClientRect();
    const left = Math.max(4, Math.min(x, window.innerWidth - r.width - 4));
    const top = Math.max(4, y + r.height > window.innerHeight - 4 ? y - r.height : y);
    if (left !== pos.left || top !== pos.top) setPos({ left, top: Math.min(top, Math.max(4, window.innerHeight - r.height - 4)) });
  });
  return pos;
}

export interface MenuItem {
  key: string;
  label: string;
  hint?: string;
  disabled?: boolean;
  run: () => void;
}

export function ContextMenu({ x, y, items, onClose }: { x: number; y: number; items: MenuItem[]; onClose: () => void }) {
  const ref = useRef<HTMLDivElement>(null);
  useDismiss(true, ref, onClose);
  const pos = useKeepInWindow(ref, x, y);
  useEffect(() => {
    ref.current?.querySelector<HTMLButtonElement>('button:not(:disabled)')?.focus();
  }, []);
  return (
    <div
      ref={ref}
      className="menu context-menu"
      role="menu"
      data-testid="row-menu"
      style={{ position: 'fixed', left: pos.left, top: pos.top, right: 'auto' }}
      onKeyDown={(e) => {
        if (e.key !== 'ArrowDown' && e.key !== 'ArrowUp') return;
        e.preventDefault();
        const buttons = [...(ref.current?.querySelectorAll<HTMLButtonElement>('button:not(:disabled)') ?? [])];
        const i = buttons.indexOf(document.activeElement as HTMLButtonElement);
        buttons[(i + (e.key === 'ArrowDown' ? 1 : -1) + buttons.length) % buttons.length]?.focus();
      }}
    >
      {items.map((it) => (
        <button
          key={it.key}
          type="button"
          role="menuitem"
          className="menu-item"
          data-testid={`row-menu-${it.key}`}
          disabled={it.disabled}
          onClick={() => {
            onClose();
            it.run();
          }}
        >
          <span className="menu-label">{it.label}</span>
          {it.hint && <span className="muted small menu-hint">{it.hint}</span>}
        </button>
      ))}
    </div>
  );
}

/** Ctrl+G: "12" (the focused host) or "B 12" / "B#12". */
export function GotoDialog({ defaultHost, captures, onGo, onClose }: {
  defaultHost: HostSide;
  captures: Partial<Record<HostSide, CaptureRecord>>;
  onGo: (host: HostSide, frame: number) => string | null;
  onClose: () => void;
}) {
  const [text, setText] = useState('');
  const [error, setError] = useState<string | null>(null);
  const ref = useRef<HTMLFormElement>(null);
  useDismiss(true, ref, onClose);
  const submit = () => {
    const m = /^\s*(?:([ab])\s*[#:\s]?\s*)?(\d{1,9})\s*$/i.exec(text);
    if (!m) {
      setError('Type a frame number, e.g. 12, or a host and number, e.g. B 12.');
      return;
    }
    const host = (m[1]?.toUpperCase() as HostSide | undefined) ?? defaultHost;
    const frame = Number(m[2]);
    const c = captures[host];
    if (!c) return setError(`Host ${host} has no capture.`);
    if (frame < 1 || frame > c.packetCount) return setError(`Host ${host} has frames 1 to ${c.packetCount.toLocaleString('en-US')}.`);
    const problem = onGo(host, frame);
    if (problem) setError(problem);
    else onClose();
  };
  return (
    <form
      ref={ref}
      className="goto-dialog"
      data-testid="goto-dialog"
      role="dialog"
      aria-label="Go to packet"
      onSubmit={(e) => {
        e.preventDefault();
        submit();
      }}
    >
      <label>
        Go to packet
        <input
          autoFocus
          data-testid="goto-input"
          value={text}
          placeholder={`frame number (host ${defaultHost}), or B 12`}
          onChange={(e) => {
            setText(e.target.value);
            setError(null);
          }}
        />
      </label>
      <button type="submit" className="btn small primary">Go</button>
      {error && <div className="problem small" role="status" data-testid="goto-error">{error}</div>}
    </form>
  );
}

const SHORTCUTS: Array<[string, string]> = [
  ['↑ ↓ PgUp PgDn Home End', 'move the selection in the focused list (the other list follows with “scroll together”)'],
  ['t', 'jump to the same packet on the other host (its twin)'],
  ['[ ]', 'previous / next checkpoint'],
  ['/', 'focus the display filter (Esc clears it, Enter applies at once)'],
  ['Ctrl+G', 'go to a packet by number (“B 12” for host B)'],
  ['Ctrl+M', 'mark or unmark the selected packet'],
  ['right click', 'filter on a value, copy, mark, note, twin, time reference'],
  ['click a column header', 'sort ascending, descending, then file order; drag its right edge to resize'],
  ['?', 'this help; Esc closes it'],
];

export function ShortcutsHelp({ onClose }: { onClose: () => void }) {
  const ref = useRef<HTMLDivElement>(null);
  useDismiss(true, ref, onClose);
  return (
    <div className="modal-backdrop">
      <div ref={ref} className="modal shortcuts" role="dialog" aria-label="Keyboard shortcuts" data-testid="shortcuts">
        <h2>Keyboard shortcuts</h2>
        <table>
          <tbody>
            {SHORTCUTS.map(([k, v]) => (
              <tr key={k}>
                <th><kbd>{k}</kbd></th>
                <td>{v}</td>
              </tr>
            ))}
          </tbody>
        </table>
        <div className="modal-actions">
          <button type="button" className="btn" onClick={onClose}>Close</button>
        </div>
      </div>
    </div>
  );
}

export function StatusBar({ panes, selection, filterMs, filtering, onHelp }: {
  panes: Array<{ host: HostSide; shown: number | null; total: number }>;
  selection: string | null;
  filterMs: number | null;
  filtering: boolean;
  onHelp: () => void;
}) {
  return (
    <div className="status-bar" data-testid="status-bar" role="status">
      {panes.map((p) => (
        <span key={p.host} data-testid={`status-${p.host}`}>
          <span className="host-badge" data-host={p.host}>{p.host}</span>{' '}
          {filtering ? 'filtering…' : `${(p.shown ?? p.total).toLocaleString('en-US')} displayed`} of {p.total.toLocaleString('en-US')}
        </span>
      ))}
      <span data-testid="status-selection">{selection ? <>selected <b>{selection}</b></> : 'no selection'}</span>
      {filterMs !== null && <span data-testid="status-filter-ms">filter {filterMs} ms</span>}
      <span className="spacer" />
      <button type="button" className="btn small ghost" data-testid="shortcuts-button" onClick={onHelp} title="Keyboard shortcuts (?)">? shortcuts</button>
    </div>
  );
}

export function RoleSwapNotice({ result, captures, kept, onUndo, onRedo }: {
  result: AnalysisResult | undefined;
  captures: Partial<Record<HostSide, CaptureRecord>>;
  kept: boolean;
  onUndo: () => void;
  onRedo: () => void;
}) {
  const swapped = result?.captures.A.role_swapped === true || result?.captures.B.role_swapped === true;
  if (swapped) {
    return (
      <div className="role-notice" role="status" data-testid="role-swap-notice">
        <b>Hosts swapped for the analysis.</b> The packets show that <span className="mono">{captures.B?.fileName ?? 'the B capture'}</span> was
        taken on the host that starts the connection, so the analysis treated it as host A and{' '}
        <span className="mono">{captures.A?.fileName ?? 'the A capture'}</span> as host B. The panes keep your order.
        <button type="button" className="btn small" data-testid="role-swap-undo" onClick={onUndo}>Undo: analyse in my order</button>
      </div>
    );
  }
  if (!kept) return null;
  return (
    <div className="role-notice kept" role="status" data-testid="role-kept-notice">
      Analysed in the order you gave (A = first capture), without checking the roles against the packets.
      <button type="button" className="btn small ghost" data-testid="role-swap-redo" onClick={onRedo}>Let the packets decide</button>
    </div>
  );
}

function endpoint(addr: string, port: number | null): string {
  return formatAddr(addr, port ?? undefined);
}

export function ConversationsPanel({ data, ready, baseTime, onFilter, onTrace, onLoad }: {
  data: { A: Conversation[]; B: Conversation[]; ms: number } | null;
  /** The session worker holds the packets (asked again once it does). */
  ready: boolean;
  baseTime: (host: HostSide, t: number) => number;
  onFilter: (c: Conversation) => void;
  onTrace: (c: Conversation) => void;
  onLoad: () => void;
}) {
  const [host, setHost] = useState<HostSide>('A');
  useEffect(() => {
    if (!data && ready) onLoad();
  }, [data, ready]);
  if (!data) return <p className="pad muted" data-testid="conversations-loading">Counting conversations…</p>;
  const list = data[host];
  return (
    <div className="conversations" data-testid="conversations">
      <div className="conv-head">
        <div className="view-switch" role="tablist" aria-label="Host">
          {(['A', 'B'] as const).map((h) => (
            <button key={h} type="button" role="tab" aria-selected={host === h} className={`tab${host === h ? ' active' : ''}`} data-testid={`conv-host-${h}`} onClick={() => setHost(h)}>
              Host {h} ({data[h].length})
            </button>
          ))}
        </div>
        <span className="muted small">Click a row to filter both panes on it; “Trace” makes it the flow under test. Counted in {data.ms} ms.</span>
      </div>
      <table className="conv-table">
        <thead>
          <tr>
            <th>Proto</th><th>Endpoint 1</th><th>Endpoint 2</th><th className="num">Packets</th><th className="num">Bytes</th><th className="num">First (s)</th><th className="num">Last (s)</th><th />
          </tr>
        </thead>
        <tbody>
          {list.map((c, i) => (
            <tr key={i} data-testid="conversation" onClick={() => onFilter(c)} title="Filter both panes on this conversation">
              <td>{c.proto}</td>
              <td className="mono">{endpoint(c.a, c.aPort)}</td>
              <td className="mono">{endpoint(c.b, c.bPort)}</td>
              <td className="num">{c.packets.toLocaleString('en-US')}</td>
              <td className="num">{formatBytes(c.bytes)}</td>
              <td className="num">{baseTime(host, c.first).toFixed(6)}</td>
              <td className="num">{baseTime(host, c.last).toFixed(6)}</td>
              <td>
                {(c.proto === 'tcp' || c.proto === 'udp' || c.proto === 'icmp') && (
                  <button type="button" className="btn small" data-testid="conversation-trace" onClick={(e) => { e.stopPropagation(); onTrace(c); }}>
                    Trace
                  </button>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {list.length === 0 && <p className="muted pad">No IP conversations in this capture.</p>}
    </div>
  );
}
