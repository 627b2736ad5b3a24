// The application shell: session library on the left, the selected session on the right.

import { useEffect, useState } from 'react';
import { createSession, db, markStaleImports, renameSession, sessionCreateError } from '../db/store.ts';
import { useLiveQuery } from '../db/use-live-query.ts';
import { NoSessions } from '../features/empty/EmptyState.tsx';
import { SessionList } from '../features/sessions/SessionList.tsx';
import { SessionView } from '../features/sessions/SessionView.tsx';

const SELECTED_KEY = 'tandem.selectedSession';

function readSelected(): number | null {
  const v = Number(globalThis.localStorage?.getItem(SELECTED_KEY));
  return Number.isInteger(v) && v > 0 ? v : null;
}

export function App() {
  const sessions = useLiveQuery(() => db.sessions.reverse().toArray(), []);
  const captures = useLiveQuery(() => db.captures.toArray(), [], []);
  // Only what the library shows: the verdict of each session and the note texts for search.
  const verdicts = useLiveQuery(
    async () => new Map((await db.analyses.toArray()).map((a) => [a.sessionId, a.result?.verdict.status ?? 'failed'] as const)),
    [],
    new Map<number, string>(),
  );
  const notes = useLiveQuery(() => db.notes.toArray(), [], []);
  const [selectedId, setSelectedId] = useState<number | null>(readSelected);

  useEffect(() => {
    void markStaleImports();
  }, []);

  const select = (id: number | null) => {
    setSelectedId(id);
    if (id === null) globalThis.localStorage?.removeItem(SELECTED_KEY);
    else globalThis.localStorage?.setItem(SELECTED_KEY, String(id));
  };

  const [createError, setCreateError] = useState<string | null>(null);
  const create = async () => {
    try {
      select(await createSession());
      setCreateError(null);
    } catch (err) {
      setCreateError(sessionCreateError(err));
    }
  };

  if (!sessions) return <div className="app loading" data-testid="app-loading" />;

  const selected = sessions.find((s) => s.id === selectedId) ?? sessions[0];

  return (
    <div className="app" data-testid="app">
      {createError && (
        <div className="app-error" role="alert" data-testid="app-error">
          {createError}
          <button type="button" className="btn small ghost" aria-label="Dismiss" onClick={() => setCreateError(null)}>✕</button>
        </div>
      )}
      <SessionList
        sessions={sessions}
        captures={captures}
        selectedId={selected?.id ?? null}
        onSelect={select}
        onCreate={() => void create()}
        onRename={(id, name) => void renameSession(id, name)}
        verdicts={verdicts}
        notes={notes}
      />
      {selected ? (
        <SessionView
          key={selected.id}
          session={selected}
          captures={captures.filter((c) => c.sessionId === selected.id)}
          onDeleted={() => select(null)}
          onDuplicated={(id) => select(id)}
        />
      ) : (
        <NoSessions onCreate={() => void create()} />
      )}
    </div>
  );
}
