// One session: header, import controls, then either the two-host workbench or, per capture, its
// file facts and full packet list (the "Captures" view).

import { useEffect, useState } from 'react';
import { isUsable, type CaptureRecord, type HostSide, type SessionRecord } from '../../db/schema.ts';
import { db, deleteSession, duplicateSession, renameSession, saveLinks, saveOptions } from '../../db/store.ts';
import { useLiveQuery } from '../../db/use-live-query.ts';
import { ExportMenu, FlowInput, LinkNamesDialog, TaskBar } from '../workbench/SessionTools.tsx';
import { analysisInputs, useSessionEngine } from '../workbench/session-engine.ts';
import { Workbench } from '../workbench/Workbench.tsx';
import { NoCaptures } from '../empty/EmptyState.tsx';
import { DropZone } from '../import/DropZone.tsx';
import { ImportPlanView, ImportProgress, OpenCapture } from '../import/ImportControls.tsx';
import { discardCapture, dropJobs, startImports, useImportJobs, type ImportRequest } from '../import/import-jobs.ts';
import { PacketList } from '../packets/PacketList.tsx';
import { CaptureButton, LiveCaptures } from '../capture/CaptureControls.tsx';
import { dropLiveCaptures } from '../capture/live-capture.ts';
import { ProbeButton, ProbePanel } from '../probe/ProbeControls.tsx';
import { dropProbe } from '../probe/probe-run.ts';
import { CaptureInfo } from './CaptureInfo.tsx';
import { SessionHeader } from './SessionHeader.tsx';
import { HostEvidenceButton } from '../evidence/HostEvidence.tsx';
import { evidenceInputs } from '../../db/evidence.ts';

interface Props {
  session: SessionRecord;
  captures: CaptureRecord[];
  onDeleted: () => void;
  onDuplicated: (id: number) => void;
}

type View = 'workbench' | 'captures';

interface Plan {
  /** files[0] becomes host A, files[1] host B. */
  files: [File, File];
  /** Names of further files that were dropped but are not imported. */
  left: string[];
}

export function SessionView({ session, captures: all, onDeleted, onDuplicated }: Props) {
  const jobs = useImportJobs(session.id);
  const [plan, setPlan] = useState<Plan | null>(null);
  // Cancelled and failed captures wait for Keep or Delete in the Captures view: they never reach the
  // workbench or the analysis. Importing ones are passed on so the engine waits for them.
  const captures = all.filter((c) => isUsable(c) || c.status === 'importing');
  const [activeId, setActiveId] = useState<number | null>(null);
  const [hostChoice, setHostChoice] = useState<HostSide | null>(null);
  const [view, setView] = useState<View>('workbench');
  const [linksOpen, setLinksOpen] = useState(false);
  const stored = useLiveQuery(async () => ({ rec: await db.analyses.get(session.id) }), [session.id]);
  const settings = useLiveQuery(async () => (await db.settings.get(session.id)) ?? { sessionId: session.id, options: {} }, [session.id]);
  const notes = useLiveQuery(() => db.notes.where('sessionId').equals(session.id).toArray(), [session.id], []);
  const options = settings?.options ?? {};
  // Host evidence is an input too: adding or removing an item makes the stored analysis stale.
  const inputs = analysisInputs(captures, options) + evidenceInputs(settings?.evidence);
  const engine = useSessionEngine(session.id, captures, inputs, stored === undefined || settings === undefined ? undefined : stored.rec?.inputs ?? null);
  const newest = (h: HostSide) => captures.filter((c) => c.host === h).sort((x, y) => y.id - x.id)[0];
  const byHost = { A: newest('A'), B: newest('B') };

  const sorted = [...all].sort((a, b) => a.host.localeCompare(b.host) || a.id - b.id);
  const freeHost: HostSide = !captures.some((c) => c.host === 'A') ? 'A' : !captures.some((c) => c.host === 'B') ? 'B' : 'A';
  const host = hostChoice ?? freeHost;
  const active = sorted.find((c) => c.id === activeId) ?? sorted[0];
  const running = jobs.some((j) => j.state !== 'done');

  useEffect(() => {
    setActiveId(null);
    setHostChoice(null);
  }, [session.id]);

  /** An import into host h: leftovers of that host go, a usable capture is replaced once the new one is stored. */
  const requestFor = async (h: HostSide, file: File): Promise<ImportRequest> => {
    for (const c of all) if (c.host === h && (c.status === 'cancelled' || c.status === 'failed')) await discardCapture(c.id);
    const replace = captures.filter((c) => c.host === h && isUsable(c)).sort((x, y) => y.id - x.id)[0];
    return { host: h, file, ...(replace ? { replaceCaptureId: replace.id } : {}) };
  };

  /** Starts the imports together (see startImports) and shows the last one that has a record. */
  const importInto = async (...pairs: [HostSide, File][]) => {
    const requests: ImportRequest[] = [];
    for (const [h, file] of pairs) requests.push(await requestFor(h, file));
    const ids = (await startImports(session.id, requests)).filter((id) => id > 0);
    if (ids.length > 0) setActiveId(ids[ids.length - 1]!);
  };

  const onFiles = async (files: File[]) => {
    if (running) return;
    if (files.length >= 2) {
      setPlan({ files: [files[0]!, files[1]!], left: files.slice(2).map((f) => f.name) });
      return;
    }
    setPlan(null);
    await importInto([host, files[0]!]);
    setHostChoice(null);
  };

  const startPlan = async () => {
    if (!plan || running) return;
    setPlan(null);
    await importInto(['A', plan.files[0]], ['B', plan.files[1]]);
    setHostChoice(null);
  };

  const remove = async () => {
    dropJobs(session.id);
    dropLiveCaptures(session.id);
    dropProbe(session.id);
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
          onDuplicate={() => void duplicateSession(session.id).then(onDuplicated)}
          extra={<ExportMenu disabled={!stored?.rec?.result || engine.state.task !== null} sessionName={session.name} engine={engine} />}
        />
        <div className="import-bar">
          <OpenCapture captures={captures} host={host} onHostChange={setHostChoice} onFiles={(f) => void onFiles(f)} disabled={running} />
          <CaptureButton sessionId={session.id} host={host} disabled={running} />
          <ProbeButton sessionId={session.id} disabled={running} />
          <button type="button" className="btn small" data-testid="link-names" disabled={captures.length === 0} onClick={() => setLinksOpen(true)} title="Interface names for tcpdump -i any captures (SLL2)">
            Interface names…
          </button>
          <HostEvidenceButton sessionId={session.id} evidence={settings?.evidence} captures={byHost} links={settings?.links ?? {}} onLinks={(h, text) => { void saveLinks(session.id, h, text); engine.relink(h, text); }} />
          <FlowInput value={options.flow ?? ''} detected={stored?.rec?.result?.flow ?? null} onApply={(flow) => void saveOptions(session.id, { ...options, flow })} />
          <span className="spacer" />
          {sorted.length > 0 && (
            <div className="view-switch" role="tablist" aria-label="View">
              <button type="button" role="tab" aria-selected={view === 'workbench'} className={`tab${view === 'workbench' ? ' active' : ''}`} data-testid="view-workbench" onClick={() => setView('workbench')}>
                Workbench
              </button>
              <button type="button" role="tab" aria-selected={view === 'captures'} className={`tab${view === 'captures' ? ' active' : ''}`} data-testid="view-captures" onClick={() => setView('captures')}>
                Captures
              </button>
            </div>
          )}
        </div>
        {/* The import plan and rows come first under the toolbar: a task bar that appears when the
            analysis starts then opens below them, and never moves a row's Cancel or Keep button. */}
        {plan && (
          <ImportPlanView
            files={plan.files}
            left={plan.left}
            onSwap={() => setPlan({ ...plan, files: [plan.files[1], plan.files[0]] })}
            onStart={() => void startPlan()}
            onCancel={() => setPlan(null)}
          />
        )}
        {jobs.length > 0 && (
          <div className="import-jobs">
            {jobs.map((j) => (
              <ImportProgress key={j.captureId} job={j} />
            ))}
          </div>
        )}
        <TaskBar engine={engine} />
        <LiveCaptures sessionId={session.id} />
        <ProbePanel sessionId={session.id} />
        {linksOpen && (
          <LinkNamesDialog
            captures={byHost}
            initial={settings?.links ?? {}}
            onClose={() => setLinksOpen(false)}
            onApply={(h, text) => {
              void saveLinks(session.id, h, text);
              engine.relink(h, text);
              setLinksOpen(false);
            }}
          />
        )}
        {sorted.length === 0 ? (
          <NoCaptures />
        ) : view === 'workbench' ? (
          <>
          <HostProblems captures={byHost} />
          <Workbench sessionId={session.id} captures={byHost} analysis={stored?.rec} options={options} notes={notes} engine={engine} links={settings?.links ?? {}} onOpenLinks={() => setLinksOpen(true)} />
          </>
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

/** A partial capture's reason, shown above the workbench panes (not only in the Captures view). */
function HostProblems({ captures }: { captures: Partial<Record<HostSide, CaptureRecord>> }) {
  const lines = (['A', 'B'] as const).flatMap((h) => {
    const c = captures[h];
    return c && c.status === 'partial' && c.problem ? [{ h, text: c.problem }] : [];
  });
  if (lines.length === 0) return null;
  return (
    <div className="host-problems" role="status">
      {lines.map(({ h, text }) => (
        <p key={h} className="capture-problem" data-testid={`host-problem-${h}`}>
          <span className="host-badge" data-host={h}>{h}</span> partial: {text}
        </p>
      ))}
    </div>
  );
}
