// One session: header, import controls, a tab per capture (host A / host B) and its packet list.

import { useEffect, useState } from 'react';
import type { CaptureRecord, HostSide, SessionRecord } from '../../db/schema.ts';
import { deleteSession, renameSession } from '../../db/store.ts';
import { NoCaptures } from '../empty/EmptyState.tsx';
import { DropZone } from '../import/DropZone.tsx';
import { ImportProgress, OpenCapture } from '../import/ImportControls.tsx';
import { dropJobs, startImport, useImportJobs } from '../import/import-jobs.ts';
import { PacketList } from '../packets/PacketList.tsx';
import { CaptureInfo } from './CaptureInfo.tsx';
import { SessionHeader } from './SessionHeader.tsx';

interface Props {
  session: SessionRecord;
  captures: CaptureRecord[];
  onDeleted: () => void;
}

const other = (h: HostSide): HostSide => (h === 'A' ? 'B' : 'A');

export function SessionView({ session, captures, onDeleted }: Props) {
  const jobs = useImportJobs(session.id);
  const [activeId, setActiveId] = useState<number | null>(null);
  const [hostChoice, setHostChoice] = useState<HostSide | null>(null);

  const sorted = [...captures].sort((a, b) => a.host.localeCompare(b.host) || a.id - b.id);
  const freeHost: HostSide = !captures.some((c) => c.host === 'A') ? 'A' : !captures.some((c) => c.host === 'B') ? 'B' : 'A';
  const host = hostChoice ?? freeHost;
  const active = sorted.find((c) => c.id === activeId) ?? sorted[0];
  const running = jobs.some((j) => j.state !== 'done');

  useEffect(() => {
    setActiveId(null);
    setHostChoice(null);
  }, [session.id]);

  const onFiles = async (files: File[]) => {
    if (running) return;
    let h = host;
    for (const file of files.slice(0, 2)) {
      const replace = captures.find((c) => c.host === h);
      const id = await startImport(session.id, h, file, replace?.id);
      setActiveId(id);
      h = other(h);
    }
    setHostChoice(null);
  };

  const remove = async () => {
    dropJobs(session.id);
    await deleteSession(session.id);
    onDeleted();
  };

  return (
    <DropZone onFiles={(f) => void onFiles(f)}>
      <main className="session" data-testid="session-view" data-session-id={session.id}>
        <SessionHeader
          session={session}
          captureCount={captures.length}
          packetCount={captures.reduce((n, c) => n + c.packetCount, 0)}
          onRename={(name) => void renameSession(session.id, name)}
          onDelete={() => void remove()}
        />
        <div className="import-bar">
          <OpenCapture captures={captures} host={host} onHostChange={setHostChoice} onFiles={(f) => void onFiles(f)} disabled={running} />
          <span className="muted small hint">or drop pcap / pcapng / .gz / tcpdump text files anywhere here</span>
        </div>
        {jobs.length > 0 && (
          <div className="import-jobs">
            {jobs.map((j) => (
              <ImportProgress key={j.captureId} job={j} />
            ))}
          </div>
        )}
        {sorted.length === 0 ? (
          <NoCaptures />
        ) : (
          <>
            <div className="capture-tabs" role="tablist" aria-label="Captures">
              {sorted.map((c) => (
                <button
                  key={c.id}
                  type="button"
                  role="tab"
                  aria-selected={c.id === active?.id}
                  className={`capture-tab${c.id === active?.id ? ' active' : ''}`}
                  data-testid="capture-tab"
                  data-host={c.host}
                  data-status={c.status}
                  onClick={() => setActiveId(c.id)}
                >
                  <span className="host-badge" data-host={c.host}>{c.host}</span>
                  <span className="capture-tab-name">{c.fileName}</span>
                  <span className={`status-dot status-${c.status}`} title={c.status} />
                </button>
              ))}
            </div>
            {active && (
              <section className="capture" role="tabpanel" data-testid="capture-panel" data-capture-id={active.id}>
                <CaptureInfo capture={active} />
                <PacketList key={active.id} capture={active} />
              </section>
            )}
          </>
        )}
      </main>
    </DropZone>
  );
}
