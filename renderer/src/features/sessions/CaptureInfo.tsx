// One line of facts about a capture, and its problem (damaged or cut-off file) when there is one.

import type { CaptureRecord } from '../../db/schema.ts';
import { formatBytes, formatDate, formatSpan } from '../packets/format.ts';
import { discardCapture, keepCancelled } from '../import/import-jobs.ts';
import { SkippedList } from '../import/ImportControls.tsx';
import { skippedSummary } from '../import/import-text.ts';

const STATUS_TEXT: Record<CaptureRecord['status'], string> = {
  importing: 'importing…',
  complete: 'complete',
  partial: 'partial',
  cancelled: 'cancelled',
  failed: 'failed',
};

export function CaptureInfo({ capture: c }: { capture: CaptureRecord }) {
  const names = c.interfaces.map((i) => i.name).filter(Boolean);
  const skipped = skippedSummary(c.skipped);
  const unusable = c.status === 'cancelled' || c.status === 'failed';
  const rate = c.importMs && c.importMs > 0 ? Math.round((c.packetCount / c.importMs) * 1000) : null;
  return (
    <div className="capture-info">
      <div className="capture-facts">
        <span className={`status-pill status-${c.status}`} data-testid="capture-status">{STATUS_TEXT[c.status]}</span>
        {c.format && <span>{`${c.format}${c.compressed ? ' (gzip)' : ''}`}</span>}
        <span>{formatBytes(c.bytes)}</span>
        {names.length > 0 && (
          <span data-testid="capture-interfaces" title={names.join(', ')}>
            {names.length === 1 ? `interface ${names[0]}` : `${names.length} interfaces: ${names.join(', ')}`}
          </span>
        )}
        {c.firstTs && <span>{formatDate(c.firstTs, c.format === 'tcpdump-text' && c.firstTs.sec < 86400 * 2)}</span>}
        {c.firstTs && c.lastTs && (
          <span>span {formatSpan(c.firstTs, c.lastTs)}</span>
        )}
        {rate !== null && c.status !== 'importing' && (
          <span className="muted" data-testid="import-rate">
            {/* A rate over a few packets says nothing; show the time instead. */}
            {c.packetCount >= 1000 ? `imported at ${rate.toLocaleString('en-US')} packets/s` : `imported in ${(c.importMs! / 1000).toFixed(2)} s`}
          </span>
        )}
      </div>
      {c.problem && (
        <div className="capture-problem" role="status" data-testid="capture-problem">
          {c.problem}
        </div>
      )}
      {unusable && (
        <div className="capture-unusable" data-testid="capture-unusable">
          <span>Not used for the analysis until you keep it.</span>
          {c.packetCount > 0 && (
            <button type="button" className="btn small primary" data-testid="capture-keep" onClick={() => void keepCancelled(c.id)}>
              Keep the {c.packetCount.toLocaleString('en-US')} packets read so far
            </button>
          )}
          <button type="button" className="btn small" data-testid="capture-delete" onClick={() => void discardCapture(c.id)}>
            Delete
          </button>
        </div>
      )}
      {skipped && <SkippedList summary={skipped} />}
    </div>
  );
}
