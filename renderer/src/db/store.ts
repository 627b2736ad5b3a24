// Operations on the database, used by the UI thread. The import worker opens its own handle.

import type { NoteTarget } from '../../../shared/report/notes.ts';
import { targetKey } from './note-targets.ts';
export { parseTargetKey, targetKey, toReportNote } from './note-targets.ts';
import { visible } from '../../../shared/util/shell.ts';
import { importLockName } from '../workers/import-messages.ts';
import { isQuotaError } from '../features/import/import-text.ts';
import { chunkRange, openDb, type AnalysisOptionsRecord, type CaptureRecord, type HostSide, type NoteRecord, type PacketChunkRecord, type SessionRecord, type SessionSettingsRecord, type TandemDb } from './schema.ts';

export const db: TandemDb = openDb();

export async function createSession(name?: string): Promise<number> {
  const now = Date.now();
  const count = await db.sessions.count();
  return db.sessions.add({ name: name ?? `Session ${count + 1}`, createdAt: now, updatedAt: now } as SessionRecord);
}

/** One sentence for a failed "New session" (storage full is the usual cause). */
export function sessionCreateError(err: unknown): string {
  const quota = isQuotaError(err);
  const why = quota ? "the browser's storage for Tandem is full" : visible(err instanceof Error ? err.message : String(err));
  return `Could not create a session: ${why}.${quota ? ' Delete sessions you no longer need (or free disk space) and try again.' : ''}`;
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

/**
 * Start-up clean-up of what a closed or reloaded window left behind. An import that was still
 * running is marked failed (never analysed; the user may keep its packets or delete it) unless
 * another window's worker still holds its lock; a cancelled import nobody chose to keep is
 * deleted; chunks whose capture record is gone are deleted. Returns what it did, for tests.
 */
export async function markStaleImports(): Promise<{ interrupted: number; deleted: number; orphanChunks: number } | null> {
  // Never rejects: a failed clean-up (storage trouble) must not break start-up; it runs again next time.
  return cleanUpImports().catch(() => null);
}

async function cleanUpImports(): Promise<{ interrupted: number; deleted: number; orphanChunks: number }> {
  // Typed loosely: this module is also type-checked without the DOM lib (unit tests).
  const locks = (globalThis as { navigator?: { locks?: { query(): Promise<{ held?: Array<{ name?: string }> }> } } }).navigator?.locks;
  const held = new Set<string>();
  if (locks) for (const l of (await locks.query()).held ?? []) if (l.name) held.add(l.name);
  const all = await db.captures.toArray();
  let interrupted = 0;
  let deleted = 0;
  for (const c of all) {
    if (c.status === 'importing' && !held.has(importLockName(c.id))) {
      if (c.packetCount === 0) {
        await deleteCapture(c.id);
        deleted++;
      } else {
        await db.captures.update(c.id, { status: 'failed', problem: `${visible(c.fileName)}: import interrupted (the window was closed or reloaded) after ${c.packetCount.toLocaleString('en-US')} packets` });
        interrupted++;
      }
    } else if (c.status === 'cancelled') {
      await deleteCapture(c.id);
      deleted++;
    }
  }
  const ids = new Set(await db.captures.toCollection().primaryKeys());
  let orphanChunks = 0;
  for (const table of [db.packetChunks, db.frameChunks]) {
    const orphans = (await table.toCollection().primaryKeys()).filter(([captureId]) => !ids.has(captureId));
    if (orphans.length) await table.bulkDelete(orphans);
    orphanChunks += orphans.length;
  }
  return { interrupted, deleted, orphanChunks };
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
