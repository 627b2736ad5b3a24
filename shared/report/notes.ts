// User notes: free text the user attaches while troubleshooting. The UI stores them, every export
// carries them next to what they annotate.
import { visible } from '../util/shell.ts';

export type NoteTarget =
  | { kind: 'session' }
  | { kind: 'packet'; capture: 'A' | 'B'; frame: number }
  | { kind: 'checkpoint'; label: string }
  | { kind: 'finding'; index: number };

export interface Note {
  id: string;
  target: NoteTarget;
  text: string;
  /** ISO 8601. */
  createdAt: string;
}

/** Notes grouped by what they annotate, each group in creation order. */
export interface NoteIndex {
  session: Note[];
  /** Key `A#12`. */
  packet: Map<string, Note[]>;
  checkpoint: Map<string, Note[]>;
  finding: Map<number, Note[]>;
}

export function packetKey(capture: 'A' | 'B', frame: number): string {
  return `${capture}#${frame}`;
}

export function indexNotes(notes: readonly Note[] | undefined): NoteIndex {
  const idx: NoteIndex = { session: [], packet: new Map(), checkpoint: new Map(), finding: new Map() };
  const sorted = [...(notes ?? [])].sort((x, y) => (x.createdAt < y.createdAt ? -1 : x.createdAt > y.createdAt ? 1 : 0));
  const push = <K>(m: Map<K, Note[]>, k: K, n: Note) => {
    const list = m.get(k);
    if (list) list.push(n);
    else m.set(k, [n]);
  };
  for (const n of sorted) {
    const t = n.target;
    switch (t.kind) {
      case 'session': idx.session.push(n); break;
      case 'packet': push(idx.packet, packetKey(t.capture, t.frame), n); break;
      case 'checkpoint': push(idx.checkpoint, t.label, n); break;
      case 'finding': push(idx.finding, t.index, n); break;
    }
  }
  return idx;
}

/** One line saying what a note is attached to, for exports that list notes flat. */
export function describeTarget(t: NoteTarget): string {
  switch (t.kind) {
    case 'session': return 'session';
    case 'packet': return `packet ${t.capture}#${t.frame}`;
    case 'checkpoint': return `checkpoint ${t.label}`;
    case 'finding': return `finding ${t.index + 1}`;
  }
}

/** Frames are 1-based positions in a file; no capture holds more packets than a 32-bit count. */
export const MAX_NOTE_FRAME = 0xffffffff;
const MAX_FINDING_INDEX = 100_000;
const MAX_LABEL = 64;

function wholeIn(v: unknown, lo: number, hi: number): boolean {
  return typeof v === 'number' && Number.isInteger(v) && v >= lo && v <= hi;
}

/** A value from the notes file for an error line: JSON, cut short, with control characters made visible. */
function shortJson(v: unknown): string {
  let s: string;
  try { s = JSON.stringify(v) ?? String(v); } catch { s = String(v); }
  if (s.length > 60) s = s.slice(0, 57) + '...';
  return visible(s);
}

/**
 * Validates notes read from outside (a `--notes` file, an import): keeps well-formed entries and
 * says what was wrong with the others, so one bad entry does not lose the rest.
 */
export function parseNotes(value: unknown): { notes: Note[]; problems: string[] } {
  const notes: Note[] = [];
  const problems: string[] = [];
  const list = Array.isArray(value) ? value : value && typeof value === 'object' && Array.isArray((value as { notes?: unknown }).notes) ? (value as { notes: unknown[] }).notes : undefined;
  if (!list) return { notes, problems: ['expected a JSON array of notes (or an object with a "notes" array)'] };
  list.forEach((raw, i) => {
    const n = raw as Partial<Note> & { target?: Record<string, unknown> };
    const t = n?.target;
    const bad = (why: string) => problems.push(`note ${i + 1}: ${why}`);
    if (!n || typeof n !== 'object') return bad('not an object');
    if (typeof n.text !== 'string' || n.text === '') return bad('no text');
    let target: NoteTarget | undefined;
    // Numbers are range-checked, not just "integers": 1e300 and 2^53 are integers to JavaScript, and a
    // frame there would make every loop that walks frames around a note (frame + 1 === frame) spin.
    if (!t || typeof t !== 'object') target = { kind: 'session' };
    else if (t.kind === 'session') target = { kind: 'session' };
    else if (t.kind === 'packet') {
      if (t.capture !== 'A' && t.capture !== 'B') return bad(`packet target needs capture "A" or "B" (got ${shortJson(t.capture)})`);
      if (!wholeIn(t.frame, 1, MAX_NOTE_FRAME)) return bad(`packet frame must be a whole number from 1 to ${MAX_NOTE_FRAME} (got ${shortJson(t.frame)})`);
      target = { kind: 'packet', capture: t.capture, frame: t.frame as number };
    } else if (t.kind === 'checkpoint') {
      if (typeof t.label !== 'string' || t.label === '' || t.label.length > MAX_LABEL) return bad(`checkpoint label must be a string of 1 to ${MAX_LABEL} characters (got ${shortJson(t.label)})`);
      target = { kind: 'checkpoint', label: t.label };
    } else if (t.kind === 'finding') {
      if (!wholeIn(t.index, 0, MAX_FINDING_INDEX)) return bad(`finding index must be a whole number from 0 to ${MAX_FINDING_INDEX} (got ${shortJson(t.index)})`);
      target = { kind: 'finding', index: t.index as number };
    }
    if (!target) return bad(`target ${shortJson(t)} is not session, packet {capture, frame}, checkpoint {label} or finding {index}`);
    notes.push({
      id: typeof n.id === 'string' && n.id ? n.id : `note-${i + 1}`,
      target,
      text: n.text,
      createdAt: typeof n.createdAt === 'string' ? n.createdAt : '',
    });
  });
  return { notes, problems };
}
