/// <reference lib="webworker" />
// Imports one capture file off the UI thread: streams the File through the shared loader,
// writes fixed-size packet chunks straight to IndexedDB and reports throttled progress.
// Cancel terminates this worker (see import-jobs.ts). Every chunk write updates the capture's
// packet count in the same transaction, so whatever moment the worker dies at, the record and
// its chunks agree. A file that yields nothing is removed again; a write that fails (storage
// full) rolls the whole capture back.

import { loadCapture } from '../../../shared/ingest/load-capture.ts';
import type { Packet } from '../../../shared/protocols/packet.ts';
import { CHUNK_SIZE, chunkRange, openDb, packFrames, type CaptureRecord, type Timestamp } from '../db/schema.ts';
import { describeOutcome, errorText, fileLabel, storageFailure, type Outcome } from '../features/import/import-text.ts';
import { importLockName, type FromImportWorker, type ImportDone, type ToImportWorker } from './import-messages.ts';

declare const self: DedicatedWorkerGlobalScope;

const db = openDb();
const PROGRESS_INTERVAL_MS = 100;
const MAX_WRITES_IN_FLIGHT = 3;

function post(msg: FromImportWorker): void {
  self.postMessage(msg);
}

self.onmessage = (ev: MessageEvent<ToImportWorker>) => {
  const msg = ev.data;
  if (msg.type !== 'start') return;
  const run = () => importFile(msg.captureId, msg.file, msg.maxInflatedBytes);
  const locks = (self.navigator as Navigator & { locks?: LockManager }).locks;
  if (locks) void locks.request(importLockName(msg.captureId), run);
  else void run();
};

/** Reads the file as a stream, counting consumed bytes for the progress bar. */
async function* fileBytes(file: File, counter: { read: number }): AsyncGenerator<Uint8Array> {
  const reader = file.stream().getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      counter.read += value.byteLength;
      yield value;
    }
  } finally {
    reader.releaseLock();
  }
}

function isEarlier(a: Timestamp, b: Timestamp): boolean {
  return a.sec < b.sec || (a.sec === b.sec && a.nsec < b.nsec);
}

/** Removes the capture and every chunk written for it, all or nothing. */
async function removeCapture(captureId: number): Promise<void> {
  const [lo, hi] = chunkRange(captureId);
  await db.transaction('rw', [db.captures, db.packetChunks, db.frameChunks], async () => {
    await db.packetChunks.where('[captureId+chunk]').between(lo, hi, true, true).delete();
    await db.frameChunks.where('[captureId+chunk]').between(lo, hi, true, true).delete();
    await db.captures.delete(captureId);
  });
}

async function importFile(captureId: number, file: File, maxInflatedBytes: number | undefined): Promise<void> {
  const started = performance.now();
  const counter = { read: 0 };
  let queued = 0;
  let packets: Packet[] = [];
  let frames: Uint8Array[] = [];
  let chunkNo = 0;
  let firstTs: Timestamp | null = null;
  let lastTs: Timestamp | null = null;
  let lastProgress = 0;
  // Up to MAX_WRITES_IN_FLIGHT chunk writes overlap with parsing the next chunks. They never
  // reject: the first failure is kept and stops the import at the next flush.
  const inFlight: Promise<void>[] = [];
  let written = 0;
  let writeError: unknown = null;

  const flush = async (): Promise<void> => {
    if (packets.length === 0) return;
    const chunkPackets = packets;
    const chunkFrames = frames;
    const chunk = chunkNo++;
    packets = [];
    frames = [];
    const { bytes, offsets } = packFrames(chunkFrames);
    while (inFlight.length >= MAX_WRITES_IN_FLIGHT) await inFlight.shift();
    if (writeError) throw writeError;
    queued += chunkPackets.length;
    const count = queued;
    const span = { firstTs, lastTs };
    const bytesRead = counter.read;
    const write = db
      .transaction('rw', [db.packetChunks, db.frameChunks, db.captures], async () => {
        await db.packetChunks.put({ captureId, chunk, packets: chunkPackets });
        await db.frameChunks.put({ captureId, chunk, bytes, offsets });
        await db.captures.update(captureId, { packetCount: count, bytesRead, ...span });
      })
      .then(
        () => {
          if (!writeError) written = count;
        },
        (err: unknown) => {
          writeError ??= err;
        },
      );
    inFlight.push(write);
  };

  const done = (o: Outcome, extra: Partial<ImportDone> = {}): void => {
    const ms = Math.round(performance.now() - started);
    post({ type: 'progress', captureId, bytesRead: counter.read, totalBytes: file.size, packets: o.status === 'complete' || o.status === 'partial' ? written : 0 });
    post({ type: 'done', captureId, status: o.status, packets: written, ms, ...(o.problem ? { problem: o.problem } : {}), ...(o.next ? { next: o.next } : {}), ...extra });
  };

  /** A write failed: roll the capture back so no half-written record is left. */
  const rollBack = async (err: unknown): Promise<void> => {
    const outcome = storageFailure(file.name, err, written);
    let removed = true;
    try {
      await removeCapture(captureId);
    } catch {
      removed = false;
      // The UI thread tries again; if that fails too, start-up marks it failed (never analysed).
      await db.captures.update(captureId, { status: 'failed', problem: outcome.problem }).catch(() => undefined);
    }
    done(outcome, { removed });
  };

  const gen = loadCapture(fileBytes(file, counter), { keepBytes: true, batchSize: CHUNK_SIZE, ...(maxInflatedBytes ? { maxInflatedBytes } : {}) });
  let ifaceCount = -1;
  try {
    for (;;) {
      const step = await gen.next();
      if (step.done) {
        const summary = step.value;
        await flush();
        await Promise.all(inFlight);
        if (writeError) throw writeError;
        const outcome = describeOutcome(file.name, summary, written);
        const skipped = summary.skipped && summary.skipped.count > 0 ? summary.skipped : undefined;
        if (outcome.status === 'unreadable') {
          await stored(removeCapture(captureId));
          done(outcome, { removed: true, ...(skipped ? { skipped } : {}) });
          return;
        }
        const fields: Partial<CaptureRecord> = {
          format: summary.format,
          compressed: summary.compressed,
          sectionComments: summary.sectionComments,
          status: outcome.status === 'partial' ? 'partial' : 'complete',
          packetCount: written,
          bytesRead: counter.read,
          firstTs,
          lastTs,
          importMs: Math.round(performance.now() - started),
          ...(outcome.problem ? { problem: outcome.problem } : {}),
          ...(skipped ? { skipped } : {}),
        };
        await stored(db.captures.update(captureId, fields));
        done(outcome, skipped ? { skipped } : {});
        return;
      }
      const loaded = step.value;
      if (loaded.interfaces.length !== ifaceCount) {
        ifaceCount = loaded.interfaces.length;
        await stored(db.captures.update(captureId, { interfaces: loaded.interfaces }));
      }
      for (let i = 0; i < loaded.packets.length; i++) {
        const p = loaded.packets[i]!;
        const ts = { sec: p.tsSec, nsec: p.tsNsec };
        if (!firstTs || isEarlier(ts, firstTs)) firstTs = ts;
        if (!lastTs || isEarlier(lastTs, ts)) lastTs = ts;
        packets.push(p);
        frames.push(loaded.frames[i] ?? new Uint8Array(0));
        if (packets.length === CHUNK_SIZE) await flush();
      }
      const now = performance.now();
      if (now - lastProgress >= PROGRESS_INTERVAL_MS) {
        lastProgress = now;
        post({ type: 'progress', captureId, bytesRead: counter.read, totalBytes: file.size, packets: queued + packets.length });
      }
    }
  } catch (err) {
    await Promise.all(inFlight);
    // Any database failure (the chunk writes, the interface or final update) rolls back.
    if (writeError || err instanceof StoreFailure) {
      await rollBack(writeError ?? (err as StoreFailure).cause);
      return;
    }
    // The reader never throws for bad input, so this is a bug: keep nothing half-done either.
    const problem = `${fileLabel(file.name)} could not be imported: ${errorText(err)}, so nothing was kept.`;
    await removeCapture(captureId).catch(() => db.captures.update(captureId, { status: 'failed', problem }).catch(() => undefined));
    done({ status: 'failed', problem, next: 'Reload the window and import the file again; if it happens again, please report it with the file.' }, { removed: true });
  }
}

/** Marks a database failure, so it is told apart from a bug in reading. */
class StoreFailure {
  constructor(readonly cause: unknown) {}
}

function stored<T>(p: Promise<T>): Promise<T> {
  return p.catch((e: unknown) => {
    throw new StoreFailure(e);
  });
}
