// Operations on the database, used by the UI thread. The import worker opens its own handle.

import { chunkRange, openDb, type CaptureRecord, type HostSide, type PacketChunkRecord, type SessionRecord, type TandemDb } from './schema.ts';

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
  await db.transaction('rw', [db.sessions, db.captures, db.packetChunks, db.frameChunks, db.notes], async () => {
    const captures = await db.captures.where('sessionId').equals(id).primaryKeys();
    for (const c of captures) await deleteCaptureRows(c);
    await db.notes.where('sessionId').equals(id).delete();
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
