// Left sidebar: the session library (create, select).

import { useEffect, useState } from 'react';
import { isUsable, type CaptureRecord, type NoteRecord, type SessionRecord } from '../../db/schema.ts';
import { formatCount, formatSpan } from '../packets/format.ts';
import { NameInput } from './NameInput.tsx';

interface Props {
  sessions: SessionRecord[];
  captures: CaptureRecord[];
  selectedId: number | null;
  onSelect: (id: number) => void;
  onCreate: () => void;
  onRename: (id: number, name: string) => void;
  verdicts: Map<number, string>;
  notes: NoteRecord[];
}

const RAIL_KEY = 'tandem.sidebarFolded';
const VERDICT_LABEL: Record<string, string> = { ok: 'OK', fail: 'FAIL', inconclusive: '?', failed: 'error' };

/** Time covered by a session's captures together. */
function sessionSpan(own: CaptureRecord[]): string {
  const firsts = own.map((c) => c.firstTs).filter((t) => t !== null);
  const lasts = own.map((c) => c.lastTs).filter((t) => t !== null);
  if (!firsts.length || !lasts.length) return '';
  const first = firsts.reduce((a, b) => (b.sec < a.sec || (b.sec === a.sec && b.nsec < a.nsec) ? b : a));
  const last = lasts.reduce((a, b) => (b.sec > a.sec || (b.sec === a.sec && b.nsec > a.nsec) ? b : a));
  return formatSpan(first, last);
}

export function SessionList({ sessions, captures, selectedId, onSelect, onCreate, onRename, verdicts, notes }: Props) {
  const [editingId, setEditingId] = useState<number | null>(null);
  const [query, setQuery] = useState('');
  const q = query.trim().toLowerCase();
  const shown = q
    ? sessions.filter((s) => s.name.toLowerCase().includes(q) || notes.some((n) => n.sessionId === s.id && n.text.toLowerCase().includes(q)))
    : sessions;
  // Two packet lists side by side want the width: the library folds into a rail (remembered).
  const [collapsed, setCollapsed] = useState(() => globalThis.localStorage?.getItem(RAIL_KEY) === '1');
  const fold = (v: boolean) => {
    setCollapsed(v);
    globalThis.localStorage?.setItem(RAIL_KEY, v ? '1' : '0');
  };
  if (collapsed) {
    const current = sessions.find((s) => s.id === selectedId);
    return (
      <nav className="sidebar rail" aria-label="Sessions" data-testid="sidebar-rail">
        <button type="button" className="btn ghost rail-btn" data-testid="expand-sidebar" title="Show the session library" onClick={() => fold(false)}>
          <span className="brand-mark" aria-hidden="true">⇄</span>
          <span className="rail-label">Sessions ({sessions.length})</span>
        </button>
        <button type="button" className="btn small rail-new" data-testid="new-session" title="New session" onClick={onCreate}>+</button>
        {current && <span className="rail-current" title={current.name}>{current.name}</span>}
      </nav>
    );
  }
  return (
    <nav className="sidebar" aria-label="Sessions">
      <div className="brand">
        <span className="brand-mark" aria-hidden="true">⇄</span>
        <span className="brand-name">Tandem</span>
        <span className="spacer" />
        <button type="button" className="btn ghost small" data-testid="collapse-sidebar" title="Fold the library to give the packet lists more room" onClick={() => fold(true)}>«</button>
      </div>
      <div className="sidebar-head">
        <span className="sidebar-title">Sessions</span>
        <button type="button" className="btn small" data-testid="new-session" onClick={onCreate}>
          + New
        </button>
      </div>
      {sessions.length > 0 && (
        <input
          className="session-search"
          type="search"
          data-testid="session-search"
          placeholder="Search names and notes"
          aria-label="Search sessions by name or note text"
          value={query}
          onChange={(e) => setQuery(e.target.value)}
        />
      )}
      {sessions.length === 0 && <p className="sidebar-empty">No sessions yet.</p>}
      {sessions.length > 0 && shown.length === 0 && <p className="sidebar-empty">Nothing matches “{query}”.</p>}
      <ul className="session-list" data-testid="session-list">
        {shown.map((s) => {
          // Cancelled and failed captures wait in the Captures view; the library lists what the session uses.
          const own = captures.filter((c) => c.sessionId === s.id && (isUsable(c) || c.status === 'importing')).sort((a, b) => a.host.localeCompare(b.host));
          const verdict = verdicts.get(s.id);
          const span = sessionSpan(own);
          if (s.id === editingId) {
            return (
              <li key={s.id} className="session-item editing">
                <NameInput
                  className="rename-input small"
                  testId="session-item-input"
                  initial={s.name}
                  onSave={(name) => onRename(s.id, name)}
                  onDone={() => setEditingId(null)}
                />
              </li>
            );
          }
          return (
            <li key={s.id}>
              <button
                type="button"
                className={`session-item${s.id === selectedId ? ' active' : ''}`}
                data-testid="session-item"
                data-session-id={s.id}
                aria-current={s.id === selectedId ? 'true' : undefined}
                title="Double-click to rename"
                onClick={() => onSelect(s.id)}
                onDoubleClick={() => setEditingId(s.id)}
                onKeyDown={(e) => {
                  if (e.key === 'F2') setEditingId(s.id);
                }}
              >
                <span className="session-item-top">
                  <span className="session-item-name" data-testid="session-item-name">{s.name}</span>
                  {verdict && (
                    <span className={`verdict-chip status-${verdict}`} data-testid="session-item-verdict">{VERDICT_LABEL[verdict] ?? verdict}</span>
                  )}
                </span>
                {own.length === 0 ? (
                  <span className="session-item-meta">no captures</span>
                ) : (
                  own.map((c) => (
                    <span key={c.id} className="session-item-meta" title={c.fileName}>
                      <b>{c.host}</b> {c.fileName} · {formatCount(c.packetCount)}
                    </span>
                  ))
                )}
                {span && <span className="session-item-meta">span {span}</span>}
              </button>
            </li>
          );
        })}
      </ul>
      <ThemeToggle />
    </nav>
  );
}

const THEME_KEY = 'tandem.theme';
type Theme = 'system' | 'light' | 'dark';

function applyTheme(t: Theme): void {
  if (t === 'system') delete document.documentElement.dataset['theme'];
  else document.documentElement.dataset['theme'] = t;
}

/** Light, dark, or whatever the OS says; remembered per browser profile. */
function ThemeToggle() {
  const [theme, setTheme] = useState<Theme>(() => (globalThis.localStorage?.getItem(THEME_KEY) as Theme | null) ?? 'system');
  useEffect(() => {
    applyTheme(theme);
    globalThis.localStorage?.setItem(THEME_KEY, theme);
  }, [theme]);
  return (
    <label className="theme-toggle small muted">
      Theme{' '}
      <select data-testid="theme" value={theme} onChange={(e) => setTheme(e.target.value as Theme)}>
        <option value="system">system</option>
        <option value="light">light</option>
        <option value="dark">dark</option>
      </select>
    </label>
  );
}
