// Session title with inline rename and a confirmed delete.

import { useState, type ReactNode } from 'react';
import type { SessionRecord } from '../../db/schema.ts';
import { NameInput } from './NameInput.tsx';

interface Props {
  session: SessionRecord;
  captureCount: number;
  packetCount: number;
  onRename: (name: string) => void;
  onDelete: () => void;
  onDuplicate: () => void;
  extra?: ReactNode;
}

export function SessionHeader({ session, captureCount, packetCount, onRename, onDelete, onDuplicate, extra }: Props) {
  const [editing, setEditing] = useState(false);
  const [confirming, setConfirming] = useState(false);
  const startEdit = () => setEditing(true);

  return (
    <header className="session-header">
      <div className="session-title-row">
        {editing ? (
          <NameInput
            className="rename-input"
            testId="session-name-input"
            initial={session.name}
            onSave={onRename}
            onDone={() => setEditing(false)}
          />
        ) : (
          <h1 className="session-title" data-testid="session-title" onDoubleClick={startEdit} title="Double-click to rename">
            {session.name}
          </h1>
        )}
        <span className="session-sub muted">
          {captureCount} of 2 captures · {packetCount.toLocaleString('en-US')} packets · created{' '}
          {new Date(session.createdAt).toLocaleString()}
        </span>
        <span className="spacer" />
        {!editing && (
          <button type="button" className="btn ghost" data-testid="rename-session" onClick={startEdit}>
            Rename
          </button>
        )}
        {extra}
        <button type="button" className="btn ghost" data-testid="duplicate-session" onClick={onDuplicate}>
          Duplicate
        </button>
        <button type="button" className="btn ghost danger" data-testid="delete-session" onClick={() => setConfirming(true)}>
          Delete
        </button>
      </div>
      {confirming && (
        <div className="confirm-bar" role="alertdialog" aria-label="Confirm delete" data-testid="confirm-delete">
          <span>
            Delete “{session.name}” with its {captureCount} capture{captureCount === 1 ? '' : 's'} and notes? This cannot be undone.
          </span>
          <span className="spacer" />
          <button type="button" className="btn danger" data-testid="confirm-delete-yes" onClick={onDelete}>
            Delete session
          </button>
          <button type="button" className="btn ghost" data-testid="confirm-delete-no" autoFocus onClick={() => setConfirming(false)}>
            Keep
          </button>
        </div>
      )}
    </header>
  );
}
