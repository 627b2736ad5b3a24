// "Open capture…" with the host it will be assigned to, and the progress of running imports.

import { useRef } from 'react';
import type { CaptureRecord, HostSide } from '../../db/schema.ts';
import { formatBytes, formatCount } from '../packets/format.ts';
import { cancelImport, dismissJob, type ImportJob } from './import-jobs.ts';

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
      {replaced && <span className="muted small">replaces {replaced.fileName}</span>}
    </div>
  );
}

export function ImportProgress({ job }: { job: ImportJob }) {
  const fraction = job.totalBytes > 0 ? Math.min(1, job.bytesRead / job.totalBytes) : 0;
  const pct = Math.round(fraction * 100);
  const running = job.state !== 'done';
  return (
    <div className={`import-job${running ? '' : ' finished'} status-${job.status ?? 'running'}`} data-testid="import-job" data-state={job.state} data-status={job.status ?? ''}>
      <span className="host-badge" data-host={job.host}>{job.host}</span>
      <span className="import-file" title={job.fileName}>{job.fileName}</span>
      <div
        className="progress"
        role="progressbar"
        aria-valuemin={0}
        aria-valuemax={100}
        aria-valuenow={pct}
        aria-label={`Importing ${job.fileName}`}
        data-testid="import-progress"
      >
        <div className="progress-fill" style={{ width: `${pct}%` }} />
      </div>
      <span className="import-numbers">
        {running
          ? `${pct}% · ${formatBytes(job.bytesRead)} of ${formatBytes(job.totalBytes)} · ${formatCount(job.packets)} packets`
          : `${job.status} · ${formatCount(job.packets)} packets${job.ms !== undefined ? ` in ${(job.ms / 1000).toFixed(2)} s` : ''}`}
      </span>
      {running ? (
        <button type="button" className="btn small" data-testid="cancel-import" disabled={job.state === 'cancelling'} onClick={() => cancelImport(job.captureId)}>
          {job.state === 'cancelling' ? 'Cancelling…' : 'Cancel'}
        </button>
      ) : (
        <button type="button" className="btn small ghost" aria-label="Dismiss" onClick={() => dismissJob(job.captureId)}>
          ✕
        </button>
      )}
    </div>
  );
}
