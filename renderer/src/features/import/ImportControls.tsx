// "Open capture…" with the host it will be assigned to, and the progress of running imports.

import { useRef } from 'react';
import type { CaptureRecord, HostSide } from '../../db/schema.ts';
import { formatBytes, formatCount } from '../packets/format.ts';
import { cancelImport, discardCapture, dismissJob, keepCancelled, type ImportJob } from './import-jobs.ts';
import { fileLabel, skippedSummary } from './import-text.ts';
import './import.css';

export const ACCEPTED_FILES = '.pcap,.pcapng,.gz,.txt,.cap';

interface Props {
  captures: CaptureRecord[];
  host: HostSide;
  onHostChange: (h: HostSide) => void;
  onFiles: (files: File[]) => void;
  disabled: boolean;
}

export function OpenCapture({ captures, host, onHostChange, onFiles, disabled }: Props) {
  const input = useRef<HTMLInputElement>(null);
  const replaced = captures.find((c) => c.host === host);
  return (
    <div className="open-capture">
      <button type="button" className="btn primary" data-testid="open-capture" disabled={disabled} onClick={() => input.current?.click()}>
        Open capture…
      </button>
      <input
        ref={input}
        type="file"
        hidden
        multiple
        accept={ACCEPTED_FILES}
        data-testid="file-input"
        onChange={(e) => {
          const files = Array.from(e.target.files ?? []);
          e.target.value = '';
          if (files.length) onFiles(files);
        }}
      />
      <label className="host-choice">
        as host
        <select data-testid="host-select" value={host} onChange={(e) => onHostChange(e.target.value as HostSide)}>
          <option value="A">A</option>
          <option value="B">B</option>
        </select>
      </label>
      {replaced && <span className="muted small host-replaces" data-testid="host-replaces" title={`replaces ${fileLabel(replaced.fileName)}`}>replaces {fileLabel(replaced.fileName)}{replaced.status === 'partial' ? ' (partial)' : ''}</span>}
    </div>
  );
}

export function ImportProgress({ job }: { job: ImportJob }) {
  const fraction = job.totalBytes > 0 ? Math.min(1, job.bytesRead / job.totalBytes) : 0;
  const pct = Math.round(fraction * 100);
  const running = job.state !== 'done';
  const stored = job.status === 'complete' || job.status === 'partial';
  const pending = job.status === 'cancelled' && job.packets > 0 && job.captureId > 0;
  const skipped = skippedSummary(job.skipped);
  return (
    <div className={`import-job${running ? '' : ' finished'} status-${job.status ?? 'running'}`} data-testid="import-job" data-state={job.state} data-status={job.status ?? ''} data-host={job.host}>
      <div className="import-job-line">
        <span className="host-badge" data-host={job.host}>{job.host}</span>
        <span className="import-file" title={fileLabel(job.fileName)}>{fileLabel(job.fileName)}</span>
        {running || stored || pending ? (
          <div
            className="progress"
            role="progressbar"
            aria-valuemin={0}
            aria-valuemax={100}
            aria-valuenow={pct}
            aria-label={`Importing ${fileLabel(job.fileName)}`}
            data-testid="import-progress"
          >
            <div className="progress-fill" style={{ width: `${pct}%` }} />
          </div>
        ) : null}
        <span className="import-numbers" data-testid="import-numbers">
          {running
            ? `${pct}% · ${formatBytes(job.bytesRead)} of ${formatBytes(job.totalBytes)} · ${formatCount(job.packets)} packets`
            : stored
              ? `${job.status} · ${formatCount(job.packets)} packets${job.ms !== undefined ? ` in ${(job.ms / 1000).toFixed(2)} s` : ''}`
              : job.status === 'cancelled'
                ? `cancelled · ${formatCount(job.packets)} packets read`
                : job.status === 'unreadable' ? 'not imported' : 'failed'}
        </span>
        {running ? (
          <button type="button" className="btn small" data-testid="cancel-import" onClick={() => void cancelImport(job.captureId)}>
            Cancel
          </button>
        ) : (
          <>
            {pending && (
              <>
                <button type="button" className="btn small primary" data-testid="keep-partial" onClick={() => void keepCancelled(job.captureId)}>
                  Keep the {formatCount(job.packets)} packets read so far
                </button>
                <button type="button" className="btn small" data-testid="discard-partial" onClick={() => void discardCapture(job.captureId)}>
                  Discard
                </button>
              </>
            )}
            <button type="button" className="btn small ghost" aria-label="Dismiss" onClick={() => dismissJob(job.captureId)}>
              ✕
            </button>
          </>
        )}
      </div>
      {!running && job.problem && (
        <p className="import-problem" role={stored ? 'status' : 'alert'} data-testid="import-problem">
          {job.problem}
          {job.next && (
            <>
              {/[.!?]$/.test(job.problem) ? ' ' : '. '}
              <span className="import-next" data-testid="import-next">{job.next}</span>
            </>
          )}
        </p>
      )}
      {!running && skipped && <SkippedList summary={skipped} />}
    </div>
  );
}

export function SkippedList({ summary }: { summary: { head: string; examples: string[] } }) {
  return (
    <div className="import-skipped" data-testid="import-skipped">
      <span>{summary.head}</span>
      {summary.examples.length > 0 && (
        <ul>
          {summary.examples.map((e, i) => (
            <li key={i}>
              <code>{e}</code>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

/** Two files at once: which becomes A and which B is shown, and can be swapped, before anything starts. */
export function ImportPlanView({ files, left, onSwap, onStart, onCancel }: { files: [File, File]; left: string[]; onSwap: () => void; onStart: () => void; onCancel: () => void }) {
  return (
    <div className="import-plan" role="group" aria-label="Import plan" data-testid="import-plan">
      <span className="muted">Import as</span>
      {(['A', 'B'] as const).map((h, i) => (
        <span key={h} className="plan-slot" data-testid={`plan-${h}`}>
          <span className="host-badge" data-host={h}>{h}</span>
          <span className="import-file" title={fileLabel(files[i]!.name)}>{fileLabel(files[i]!.name)}</span>
        </span>
      ))}
      <button type="button" className="btn small" data-testid="import-plan-swap" onClick={onSwap} title="Swap hosts A and B">
        ⇄ Swap
      </button>
      <button type="button" className="btn small primary" data-testid="import-plan-start" onClick={onStart} autoFocus>
        Import both
      </button>
      <button type="button" className="btn small ghost" data-testid="import-plan-cancel" onClick={onCancel}>
        Cancel
      </button>
      {left.length > 0 && (
        <span className="muted small" data-testid="import-plan-left">
          Only two files at a time (one per host): {left.map(fileLabel).join(', ')} left out.
        </span>
      )}
    </div>
  );
}
