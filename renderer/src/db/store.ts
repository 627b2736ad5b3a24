// Operations on the database, used by the UI thread. The import worker opens its own handle.

import type { NoteTarget } from '../../../shared/report/notes.ts';
import { targetKey } from './note-targets.ts';
export { parseTargetKey, targetKey, toReportNote } from './note-targets.ts';
import { chunkRange, openDb, type AnalysisOptionsRecord, type CaptureRecord, type HostSide, type NoteRecord, type PacketChunkRecord, type SessionRecord, type SessionSettingsRecord, type TandemDb } from './schema.ts';

export const db: TandemDb = openDb();

export async function createSession(name?: string): Promise<number> {
  const now = Date.now();
  const count = await db.sessions.count();
  return db.sessions.add({ name: name ?? `Session ${count + 1}`, createdAt: now, updatedAt: now } as SessionRecord);
}

export async function renameSession(id: number, name: string): Promise<void> {
  const trimmed = name.trim();
  if (!trimmed) return;
  await db.sessions.update(id, { name: trimmed, updatedAt: Date.now() });
}

async function deleteCaptureRows(captureId: number): Promise<void> {
  const [lo, hi] = chunkRange(captureId);
  await db.packetChunks.where('[captureId+chunk]').between(lo, hi, true, true).delete();
  await db.frameChunks.where('[captureId+chunk]').between(lo, hi, true, true).delete();
  await db.captures.delete(captureId);
}

/** Deletes a session with its captures, packet chunks and notes, all or nothing. */
export async function deleteSession(id: number): Promise<void> {
  await db.transaction('rw', [db.sessions, db.captures, db.packetChunks, db.frameChunks, db.notes, db.analyses, db.settings], async () => {
    const captures = await db.captures.where('sessionId').equals(id).primaryKeys();
    for (const c of captures) await deleteCaptureRows(c);
    await db.notes.where('sessionId').equals(id).delete();
    await db.analyses.delete(id);
    await db.settings.delete(id);
    await db.sessions.delete(id);
  });
}

export async function deleteCapture(captureId: number): Promise<void> {
  await db.transaction('rw', [db.captures, db.packetChunks, db.frameChunks], () => deleteCaptureRows(captureId));
}

/** Registers a capture before its import starts, so the UI can show it at once. */
export async function addCapture(sessionId: number, host: HostSide, file: { name: string; size: number }): Promise<number> {
  const id = await db.captures.add({
    sessionId,
    host,
    fileName: file.name,
    format: '',
    interfaces: [],
    packetCount: 0,
    bytes: file.size,
    status: 'importing',
    firstTs: null,
    lastTs: null,
    importedAt: Date.now(),
  } as Omit<CaptureRecord, 'id'> as CaptureRecord);
  await db.sessions.update(sessionId, { updatedAt: Date.now() });
  return id;
}

export function readPacketChunk(captureId: number, chunk: number): Promise<PacketChunkRecord | undefined> {
  return db.packetChunks.get([captureId, chunk]);
}

/** Imports interrupted by a closed window stay 'importing' forever; call once at start-up. */
export async function markStaleImports(): Promise<void> {
  await db.captures.where('sessionId').above(-1).filter((c) => c.status === 'importing').modify({ status: 'cancelled', problem: 'import interrupted (the window was closed)' });
}

/**
 * Copies a session with its captures (packet and frame chunks), notes, settings and analysis, so a
 * user can try another flow or clock override without losing the first. Chunks are copied one at a
 * time to keep memory flat for large captures.
 */
export async function duplicateSession(id: number): Promise<number> {
  const src = await db.sessions.get(id);
  if (!src) throw new Error(`session ${id} does not exist`);
  const now = Date.now();
  const copyId = await db.sessions.add({ name: `${src.name} (copy)`, createdAt: now, updatedAt: now } as SessionRecord);
  const captures = await db.captures.where('sessionId').equals(id).toArray();
  for (const c of captures) {
    const { id: oldId, ...rest } = c;
    const newId = await db.captures.add({ ...rest, sessionId: copyId } as CaptureRecord);
    const [lo, hi] = chunkRange(oldId);
    const chunks = await db.packetChunks.where('[captureId+chunk]').between(lo, hi, true, true).primaryKeys();
    for (const [, n] of chunks) {
      await db.transaction('rw', [db.packetChunks, db.frameChunks], async () => {
        const p = await db.packetChunks.get([oldId, n]);
        const f = await db.frameChunks.get([oldId, n]);
        if (p) await db.packetChunks.put({ ...p, captureId: newId });
        if (f) await db.frameChunks.put({ ...f, captureId: newId });
      });
    }
  }
  const notes = await db.notes.where('sessionId').equals(id).toArray();
  await db.notes.bulkAdd(notes.map(({ id: _id, ...n }) => ({ ...n, sessionId: copyId }) as NoteRecord));
  const settings = await db.settings.get(id);
  await db.settings.put({ ...(settings ?? { options: {} }), sessionId: copyId });
  return copyId;
}

export async function readSettings(sessionId: number): Promise<SessionSettingsRecord> {
  return (await db.settings.get(sessionId)) ?? { sessionId, options: {} };
}

export async function saveOptions(sessionId: number, options: AnalysisOptionsRecord): Promise<void> {
  const cur = await readSettings(sessionId);
  await db.settings.put({ ...cur, options });
}

export async function saveLinks(sessionId: number, host: HostSide, text: string): Promise<void> {
  const cur = await readSettings(sessionId);
  await db.settings.put({ ...cur, links: { ...cur.links, [host]: text } });
}

export async function addNote(sessionId: number, target: NoteTarget, text: string): Promise<number> {
  const id = await db.notes.add({ sessionId, target: targetKey(target), text: text.trim(), createdAt: Date.now() } as NoteRecord);
  await db.sessions.update(sessionId, { updatedAt: Date.now() });
  return id;
}

export async function deleteNote(id: number): Promise<void> {
  await db.notes.delete(id);
}
