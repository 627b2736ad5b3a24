// "Run a test…" next to Capture (desktop app only): the form, then a panel with one row per step and
// host while the test runs on both ends, Cancel, and at the end what was brought into the session.
// The verdict itself is the workbench's, computed from the imported captures and evidence.

import { useEffect, useState } from 'react';
import { PROBE_TEST_KINDS, type ProbeTestKind } from '../../../../shared/ipc/contract.ts';
import { DEFAULT_PROBE_FORM, probeRequest, readProbeForm, rememberProbeForm, TEST_LABELS, type ProbeField, type ProbeForm } from './probe-form.ts';
import { canProbe, cancelProbe, dismissProbe, startProbe, useProbeRun, type ProbeRun, type StepRow } from './probe-run.ts';
import '../capture/capture.css';
import './probe.css';

const STEP_LABELS: Readonly<Record<StepRow['step'], string>> = {
  connect: 'Connect',
  'evidence-before': 'Collect host evidence',
  'capture-start': 'Start both captures',
  test: 'Run the test on A',
  settle: 'Wait for retries and replies',
  'capture-stop': 'Stop both captures',
  'evidence-after': 'Collect counters and log lines',
  analyze: 'Analyse',
};

function Field({ id, label, testId, value, onChange, problem, placeholder, disabled }: {
  id: string; label: string; testId: string; value: string; onChange: (v: string) => void; problem?: string; placeholder?: string; disabled?: boolean;
}) {
  return (
    <>
      <label htmlFor={id}>{label}</label>
      <input id={id} type="text" data-testid={testId} className={problem ? 'invalid' : ''} value={value} placeholder={placeholder} disabled={disabled}
        spellCheck={false} autoComplete="off" onChange={(e) => onChange(e.target.value)} />
      {problem && <span className="field-problem" role="alert" data-testid="probe-field-error" data-field={id.replace(/^probe-/, '')}>{problem}</span>}
    </>
  );
}

function ProbeDialog({ sessionId, onClose }: { sessionId: number; onClose: () => void }) {
  const [form, setForm] = useState<ProbeForm>(DEFAULT_PROBE_FORM);
  const [loaded, setLoaded] = useState(false);
  const [tried, setTried] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    let live = true;
    void readProbeForm().then((f) => {
      if (live) {
        setForm(f);
        setLoaded(true);
      }
    });
    return () => {
      live = false;
    };
  }, []);

  const set = (fields: Partial<ProbeForm>) => setForm((f) => ({ ...f, ...fields }));
  const checked = probeRequest(form);
  const problems: Partial<Record<ProbeField, string>> = tried && 'problems' in checked ? checked.problems : {};

  const start = async () => {
    setTried(true);
    if (!('request' in checked)) return;
    setBusy(true);
    setError(null);
    try {
      await startProbe(sessionId, checked.request);
      await rememberProbeForm(form);
      onClose();
    } catch (err) {
      setError((err instanceof Error ? err.message : String(err)).split('\n', 1)[0]!);
    } finally {
      setBusy(false);
    }
  };

  return (
    <div className="modal-backdrop" onClick={onClose}>
      <div className="modal capture-dialog probe-dialog" role="dialog" aria-label="Run a test" data-testid="probe-dialog" onClick={(e) => e.stopPropagation()} onKeyDown={(e) => e.key === 'Escape' && onClose()}>
        <h2>Run a test from A to a target behind B</h2>
        <p className="muted small">
          Both hosts capture while A makes one test connection; their routes, firewall and tunnel state are read before and after. Login uses the key
          file or your ssh-agent only: Tandem never asks for a password or passphrase and keeps none.
        </p>
        <div className="form-grid">
          <span>Host A</span>
          <span className="probe-a-kind" role="radiogroup" aria-label="Host A">
            <label><input type="radio" name="probe-a-kind" data-testid="probe-a-local" checked={form.aKind === 'local'} onChange={() => set({ aKind: 'local' })} /> this machine</label>
            <label><input type="radio" name="probe-a-kind" data-testid="probe-a-ssh" checked={form.aKind === 'ssh'} onChange={() => set({ aKind: 'ssh' })} /> over SSH</label>
          </span>
          {form.aKind === 'ssh' && (
            <Field id="probe-a" label="A over SSH" testId="probe-a" value={form.a} onChange={(v) => set({ a: v })} problem={problems.a} placeholder="user@host or user@host:port" />
          )}
          {form.aKind === 'local' && problems.a && <span className="field-problem">{problems.a}</span>}
          <Field id="probe-b" label="Host B over SSH" testId="probe-b" value={form.b} onChange={(v) => set({ b: v })} problem={problems.b} placeholder="user@host or user@host:port" />
          <Field id="probe-key" label="Key file" testId="probe-key" value={form.identityFile} onChange={(v) => set({ identityFile: v })} problem={problems.identityFile}
            placeholder="/home/you/.ssh/id_ed25519 (empty: ssh-agent or your default keys)" />
          <span>Privileges</span>
          <span className="probe-sudo">
            <label><input type="checkbox" data-testid="probe-a-sudo" checked={form.aSudo} onChange={(e) => set({ aSudo: e.target.checked })} /> <code>sudo -n</code> on A</label>
            <label><input type="checkbox" data-testid="probe-b-sudo" checked={form.bSudo} onChange={(e) => set({ bSudo: e.target.checked })} /> <code>sudo -n</code> on B</label>
            <span className="muted small">for tcpdump, nft, wg and the like; needs passwordless sudo there</span>
          </span>
          <Field id="probe-target" label="Target behind B" testId="probe-target" value={form.target} onChange={(v) => set({ target: v })} problem={problems.target} placeholder="e.g. 192.168.200.22" />
          <label htmlFor="probe-test">Test</label>
          <span className="probe-test">
            <select id="probe-test" data-testid="probe-test" value={form.test} onChange={(e) => set({ test: e.target.value as ProbeTestKind })}>
              {PROBE_TEST_KINDS.map((k) => (
                <option key={k} value={k}>{TEST_LABELS[k]}</option>
              ))}
            </select>
            {form.test !== 'ping' && (
              <label>port <input type="text" inputMode="numeric" data-testid="probe-port" className={problems.port ? 'invalid' : ''} value={form.port} onChange={(e) => set({ port: e.target.value })} /></label>
            )}
          </span>
          {problems.port && <span className="field-problem" role="alert" data-testid="probe-field-error" data-field="port">{problems.port}</span>}
          <Field id="probe-snaplen" label="Snapshot length" testId="probe-snaplen" value={form.snaplen} onChange={(v) => set({ snaplen: v })} problem={problems.snaplen} />
          <Field id="probe-settle" label="Wait after the test (s)" testId="probe-settle" value={form.settle} onChange={(v) => set({ settle: v })} problem={problems.settle} />
        </div>
        {error && (
          <div className="capture-error" role="alert" data-testid="probe-start-error">{error}</div>
        )}
        <div className="modal-actions">
          <button type="button" className="btn ghost" onClick={onClose}>Close</button>
          <button type="button" className="btn primary" data-testid="probe-start" disabled={busy || !loaded} onClick={() => void start()}>
            {busy ? 'Starting…' : 'Run the test'}
          </button>
        </div>
      </div>
    </div>
  );
}

/** The toolbar button and its form; renders nothing outside the desktop app. */
export function ProbeButton({ sessionId, disabled }: { sessionId: number; disabled?: boolean }) {
  const [open, setOpen] = useState(false);
  const run = useProbeRun();
  if (!canProbe()) return null;
  const busy = run !== null && run.state !== 'done';
  return (
    <>
      <button type="button" className="btn" data-testid="probe-open" disabled={disabled || busy} onClick={() => setOpen(true)}
        title="Capture on both hosts while A makes one test connection, with the hosts' routes, firewall and tunnel state">
        Run a test…
      </button>
      {open && <ProbeDialog sessionId={sessionId} onClose={() => setOpen(false)} />}
    </>
  );
}

const STATE_WORDS: Readonly<Record<StepRow['state'], string>> = { pending: 'waiting', running: 'running', done: 'done', failed: 'failed', skipped: 'skipped' };

function StepLine({ row }: { row: StepRow }) {
  const hosts = (['A', 'B'] as const).filter((h) => row.hosts[h]);
  return (
    <li className={`probe-step state-${row.state}`} data-testid="probe-step" data-step={row.step} data-state={row.state}>
      <span className="probe-step-mark" aria-hidden>{row.state === 'done' ? '✓' : row.state === 'failed' ? '✗' : row.state === 'running' ? '…' : row.state === 'skipped' ? '–' : '·'}</span>
      <span className="probe-step-name">{STEP_LABELS[row.step]}</span>
      <span className="probe-step-hosts">
        {hosts.map((h) => (
          <span key={h} className={`probe-host state-${row.hosts[h]!.state}`} data-testid="probe-step-host" data-host={h} data-state={row.hosts[h]!.state} title={row.hosts[h]!.detail}>
            <span className="host-badge" data-host={h}>{h}</span> {STATE_WORDS[row.hosts[h]!.state]}
          </span>
        ))}
        {hosts.length === 0 && row.state !== 'pending' && <span className="muted small">{STATE_WORDS[row.state]}</span>}
      </span>
      <span className="probe-step-detail small" data-testid="probe-step-detail">{row.detail ?? ''}</span>
    </li>
  );
}

function Summary({ run }: { run: ProbeRun }) {
  const o = run.outcome;
  if (run.state === 'starting' || run.state === 'running') return <span data-testid="probe-summary">Running: {run.label}</span>;
  if (run.state === 'cancelling') return <span data-testid="probe-summary">Cancelling on both hosts…</span>;
  const f = o?.failed;
  return (
    <span data-testid="probe-summary" data-ending={run.ending}>
      {run.ending === 'cancelled' && 'Cancelled. '}
      {f && (
        <span className="probe-failure" data-testid="probe-failure" data-step={f.step} data-host={f.host}>
          Failed at “{STEP_LABELS[f.step]}”{f.host ? <> on <span className="host-badge" data-host={f.host}>{f.host}</span></> : null}: {f.message}{' '}
        </span>
      )}
      {run.ending === 'ok' && `Finished: ${run.label}. `}
      {o?.test && (
        <span data-testid="probe-test-result" data-ok={o.test.ok ? 'true' : 'false'}>
          The test {o.test.ok ? 'succeeded' : `failed${o.test.exitCode !== null ? ` (exit ${o.test.exitCode})` : ''}`}.{' '}
        </span>
      )}
      {run.state === 'importing' && 'Bringing the collected files into the session…'}
      {run.state === 'done' && <Imported run={run} />}
    </span>
  );
}

function Imported({ run }: { run: ProbeRun }) {
  const { captures, evidence, links } = run.imported;
  if (run.importCancelled) return <span data-testid="probe-imported">Import stopped; nothing half-imported was kept.</span>;
  const parts: string[] = [];
  if (captures.length) parts.push(`${captures.length === 2 ? 'both captures' : `the capture of ${captures[0]}`} imported`);
  if (evidence) parts.push(`${evidence} evidence file${evidence === 1 ? '' : 's'} added`);
  return <span data-testid="probe-imported" data-captures={captures.join('')} data-evidence={evidence} data-links={links.join('')}>{parts.length ? `${parts.join(', ')}.` : 'Nothing was collected.'}</span>;
}

/** The running or last test of this window, in the session it belongs to. */
export function ProbePanel({ sessionId }: { sessionId: number }) {
  const run = useProbeRun();
  if (!run || run.sessionId !== sessionId) return null;
  const active = run.state !== 'done';
  const o = run.outcome;
  return (
    <section className={`probe-panel${active ? '' : ' finished'}`} data-testid="probe-panel" data-state={run.state} data-ending={run.ending} aria-label="Test">
      <div className="probe-head">
        <Summary run={run} />
        <span className="spacer" />
        {active ? (
          <button type="button" className="btn small danger" data-testid="probe-cancel" disabled={run.state === 'cancelling'} onClick={() => void cancelProbe()}>
            {run.state === 'cancelling' ? 'Cancelling…' : 'Cancel'}
          </button>
        ) : (
          <button type="button" className="btn small ghost" aria-label="Dismiss" data-testid="probe-dismiss" onClick={dismissProbe}>✕</button>
        )}
      </div>
      {/* A clean run folds its steps away (the verdict below is what matters); a failed or cancelled one keeps them open. */}
      <details className="probe-steps-box" open={run.ending !== 'ok' || undefined} data-testid="probe-steps">
        <summary className="small muted">Steps</summary>
        <ol className="probe-steps">
          {run.steps.map((r) => (
            <StepLine key={r.step} row={r} />
          ))}
        </ol>
      </details>
      {o?.test && (
        <details className="probe-test-output">
          <summary>Test command on A</summary>
          <pre data-testid="probe-test-command">{o.test.command}</pre>
          {o.test.output && <pre data-testid="probe-test-output">{o.test.output}</pre>}
        </details>
      )}
      {run.problems.length > 0 && (
        <ul className="probe-problems" data-testid="probe-problems">
          {run.problems.map((p, i) => (
            <li key={i}>{p}</li>
          ))}
        </ul>
      )}
    </section>
  );
}
