// What an import tells the user: one line saying what happened to which file, and the next step.
// Pure functions (used by the import worker and the UI thread). Everything from the file (its
// name, its text lines) goes through visible() so control characters cannot act on the screen.

import type { SkippedLines } from '../../../../shared/capture-file/reader.ts';
import type { LoadSummary } from '../../../../shared/ingest/load-capture.ts';
import { visible } from '../../../../shared/util/shell.ts';
import type { ImportOutcome } from '../../workers/import-messages.ts';

export interface Outcome {
  status: ImportOutcome;
  problem?: string;
  next?: string;
}

const NEXT_EXPORT = 'Export it from Wireshark as pcap or pcapng (File › Export Specified Packets), or save the output of `tcpdump -n` as a text file and import that.';
const NEXT_EMPTY = 'Pick the file tcpdump wrote, and stop tcpdump with Ctrl-C (not kill -9) so it can finish writing it.';
const NEXT_TEXT = 'Import the output of `tcpdump -n` (one packet per line, each starting with its time); the lines it could not read are listed below.';
const NEXT_INFLATE = 'If it is a genuine capture, unpack it yourself (gunzip) and import the uncompressed file.';
const NEXT_DAMAGED = 'Copy the file again (compare its size with the original); a file cut off later keeps the packets before the cut.';

export function fileLabel(name: string): string {
  return visible(name);
}

/** Classifies a finished read. `packets` is what was read (and stored). */
export function describeOutcome(fileName: string, summary: LoadSummary, packets: number): Outcome {
  const name = fileLabel(fileName);
  const fatal = summary.problems.find((p) => p.fatal);
  const first = fatal ?? summary.problems[0];
  const isText = summary.format === 'tcpdump-text';
  // A pcap/pcapng with a valid header and no packets is a real (empty) capture: the analysis says so.
  // Anything else that yielded nothing is not a capture and is not stored.
  if (packets === 0 && (fatal || isText || (summary.format as string) === 'unknown')) {
    // The text reader lists the lines it could not read; they are shown below the sentence.
    if (isText && (!fatal || /no tcpdump packet line/.test(fatal.message))) {
      return { status: 'unreadable', problem: `${name} could not be read: no tcpdump packet line was recognised, so nothing was stored.`, next: NEXT_TEXT };
    }
    const msg = fatal ? visible(fatal.message) : 'unknown format';
    const where = fatal ? ` at byte ${fatal.offset}` : '';
    const next = /empty file/.test(msg) ? NEXT_EMPTY : /inflat/.test(msg) ? NEXT_INFLATE : /not a pcap/.test(msg) ? NEXT_EXPORT : NEXT_DAMAGED;
    return { status: 'unreadable', problem: `${name} could not be read: ${msg}${where}, so nothing was stored.`, next };
  }
  if (fatal || !summary.complete) {
    const problem = first ? `${name}: ${visible(first.message)} at byte ${first.offset}` : `${name}: the file ends early`;
    return { status: 'partial', problem, ...(first && /inflat/.test(first.message) ? { next: `The packets before it are kept. ${NEXT_INFLATE}` } : {}) };
  }
  if (first) return { status: 'complete', problem: `${name}: ${visible(first.message)} at byte ${first.offset}` };
  return { status: 'complete' };
}

export function isQuotaError(err: unknown): boolean {
  // Dexie wraps the DOMException; the original is in `inner`.
  for (let e = err as { name?: string; inner?: unknown } | null | undefined, depth = 0; e && depth < 4; e = e.inner as typeof e, depth++) {
    if (e.name === 'QuotaExceededError') return true;
  }
  return false;
}

export function errorText(err: unknown): string {
  return visible(err instanceof Error ? err.message : String(err));
}

/** Why a write to IndexedDB failed, as a clause ("the browser's storage for Tandem is full"). */
export function storageReason(err: unknown): string {
  return isQuotaError(err) ? "the browser's storage for Tandem is full" : `the database refused the write (${errorText(err)})`;
}

export function storageFailure(fileName: string, err: unknown, packets: number): Outcome {
  return {
    status: 'failed',
    problem: `${fileName ? fileLabel(fileName) : 'The capture'} could not be stored: ${storageReason(err)} after ${packets.toLocaleString('en-US')} packets, so nothing was kept.`,
    next: isQuotaError(err)
      ? 'Delete sessions you no longer need (or free disk space), then import the file again.'
      : 'Reload the window and import the file again.',
  };
}

/** "3 lines not understood" and the first examples, each made visible and cut to a sane length. */
export function skippedSummary(s: SkippedLines | undefined): { head: string; examples: string[] } | null {
  if (!s || s.count <= 0) return null;
  const head = `${s.count.toLocaleString('en-US')} line${s.count === 1 ? '' : 's'} not understood`;
  const examples = s.examples.slice(0, 5).map((e) => {
    const t = visible(e.text);
    return `line ${e.line}: ${t.length > 160 ? `${t.slice(0, 160)}…` : t}`;
  });
  return { head, examples };
}
