// Left sidebar: the session library (create, select).

import { useState } from 'react';
import type { CaptureRecord, SessionRecord } from '../../db/schema.ts';
import { formatCount } from '../packets/format.ts';
import { NameInput } from './NameInput.tsx';

interface Props {
  sessions: SessionRecord[];
  captures: CaptureRecord[];
  selectedId: number | null;
  onSelect: (id: number) => void;
  onCreate: () => void;
  onRename: (id: number, name: string) => void;
}

export function SessionList({ sessions, captures, selectedId, onSelect, onCreate, onRename }: Props) {
  const [editingId, setEditingId] = useState<number | null>(null);
  return (
    <nav className="sidebar" aria-label="Sessions">
      <div className="brand">
        <span className="brand-mark" aria-hidden="true">⇄</span>
        <span className="brand-name">Tandem</span>
      </div>
      <div className="sidebar-head">
        <span className="sidebar-title">Sessions</span>
        <button type="button" className="btn small" data-testid="new-session" onClick={onCreate}>
          + New
        </button>
      </div>
      <ul className="session-list" data-testid="session-list">
        {sessions.map((s) => {
          const own = captures.filter((c) => c.sessionId === s.id);
          const packets = own.reduce((n, c) => n + c.packetCount, 0);
          const hosts = own.map((c) => c.host).sort().join(' + ');
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
                <span className="session-item-name" data-testid="session-item-name">{s.name}</span>
                <span className="session-item-meta">
                  {own.length === 0 ? 'no captures' : `${hosts} · ${formatCount(packets)} pkts`}
                </span>
              </button>
            </li>
          );
        })}
      </ul>
      {sessions.length === 0 && <p className="sidebar-empty">No sessions yet.</p>}
    </nav>
  );
}
