// Note targets are stored as short strings in NoteRecord.target; the exports read the structured
// NoteTarget of shared/report/notes.ts. Shared by the UI thread and the session worker.

import type { Note, NoteTarget } from '../../../shared/report/notes.ts';
import type { NoteRecord } from './schema.ts';

/** The string form of a note target kept in NoteRecord.target ("packet:A:17", "checkpoint:B4", "finding:0", "session"). */
export function targetKey(t: NoteTarget): string {
  switch (t.kind) {
    case 'session': return 'session';
    case 'packet': return `packet:${t.capture}:${t.frame}`;
    case 'checkpoint': return `checkpoint:${t.label}`;
    case 'finding': return `finding:${t.index}`;
  }
}

export function parseTargetKey(key: string): NoteTarget {
  const [kind, x, y] = key.split(':');
  if (kind === 'packet' && (x === 'A' || x === 'B') && Number(y) > 0) return { kind: 'packet', capture: x, frame: Number(y) };
  if (kind === 'checkpoint' && x) return { kind: 'checkpoint', label: x };
  if (kind === 'finding' && Number.isInteger(Number(x))) return { kind: 'finding', index: Number(x) };
  return { kind: 'session' };
}

/** Notes in the shape the exports read (shared/report/notes.ts). */
export function toReportNote(n: NoteRecord): Note {
  return { id: `note-${n.id}`, target: parseTargetKey(n.target), text: n.text, createdAt: new Date(n.createdAt).toISOString() };
}

