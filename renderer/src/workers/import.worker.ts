/// <reference lib="webworker" />
// Imports one capture file off the UI thread: streams the File through the shared reader and decoder,
// writes fixed-size packet chunks straight to IndexedDB and reports throttled progress. The common
// frame shapes go from their bytes straight into the chunk's columns (FrameChunker), the rest are decoded.
// Cancel terminates this worker (see import-jobs.ts). Chunks are written in batches, each in one
// transaction with the capture's packet count, so whatever moment the worker dies at, the record
// and its chunks agree. Chunks hold columns (shared/ingest/packet-columns.ts), not Packet objects.
// A file that yields nothing is removed again; a write that fails (storage full) rolls the whole
// capture back.

import { readCapture } from '../../../shared/capture-file/reader.ts';
import type { LoadSummary } from '../../../shared/ingest/load-capture.ts';
import { FrameChunker } from '../../../shared/ingest/frame-chunks.ts';
import { CHUNK_SIZE, chunkRange, openDb, type CaptureRecord, type FrameChunkRecord, type PacketChunkRecord, type Timestamp } from '../db/schema.ts';
import { describeOutcome, errorText, fileLabel, storageFailure, type Outcome } from '../features/import/import-text.ts';
import { importLockName, type FromImportWorker, type ImportDone, type ToImportWorker } from './import-messages.ts';

declare const self: DedicatedWorkerGlobalScope;

// Relaxed durability: an import that a crash cuts short is marked interrupted at start-up anyway.
const db = openDb(undefined, { relaxed: true });
// Each progress message re-renders the session view on the UI thread: four a second move the bar smoothly enough.
const PROGRESS_INTERVAL_MS = 250;
const MAX_WRITES_IN_FLIGHT = 2;
/** Chunks per transaction, at most (32 000 packets). */
const MAX_BATCH = 16;

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

/**
 * The raw frames of the chunk being filled, packed as they are read: one growing buffer per chunk
 * instead of a copy per packet (a million small ArrayBuffers cost more than the decode).
 */
class FramePacker {
  private buf = new Uint8Array(1 << 18);
  private pos = 0;
  private offsets = new Uint32Array(CHUNK_SIZE + 1);
  private n = 0;

  add(data: Uint8Array): void {
    if (this.pos + data.byteLength > this.buf.byteLength) {
      const grown = new Uint8Array(Math.max(this.buf.byteLength * 2, this.pos + data.byteLength));
      grown.set(this.buf.subarray(0, this.pos));
      this.buf = grown;
    }
    this.buf.set(data, this.pos);
    this.pos += data.byteLength;
    if (this.n + 1 >= this.offsets.length) {
      const more = new Uint32Array(this.offsets.length * 2);
      more.set(this.offsets);
      this.offsets = more;
    }
    this.offsets[++this.n] = this.pos;
  }

  /** The packed frames (frame i is bytes[offsets[i] .. offsets[i+1])), and a fresh start. */
  take(): { bytes: ArrayBuffer; offsets: Uint32Array } {
    const out = { bytes: this.buf.buffer.slice(0, this.pos), offsets: this.offsets.slice(0, this.n + 1) };
    this.pos = 0;
    this.n = 0;
    return out;
  }
}

const NO_BYTES = new Uint8Array(0);

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
  const rows = new FrameChunker(CHUNK_SIZE);
  const frames = new FramePacker();
  let chunkNo = 0;
  // Earliest and latest time seen, as numbers (no object per packet).
  let firstSec = Infinity, firstNsec = 0, lastSec = -Infinity, lastNsec = 0;
  const span = (): { firstTs: Timestamp | null; lastTs: Timestamp | null } =>
    firstSec === Infinity ? { firstTs: null, lastTs: null } : { firstTs: { sec: firstSec, nsec: firstNsec }, lastTs: { sec: lastSec, nsec: lastNsec } };
  let lastProgress = 0;
  // Chunks are committed in batches, one transaction each: few transactions is what makes the
  // writes fast (their count, not their bytes, dominates). Batches start at one chunk and double
  // up to MAX_BATCH, so a small file, an early Cancel or a full disk still has its first packets
  // committed at once. Up to MAX_WRITES_IN_FLIGHT commits overlap with parsing the next chunks;
  // they never reject: the first failure is kept and stops the import at the next flush.
  const inFlight: Promise<void>[] = [];
  let written = 0;
  let writeError: unknown = null;
  let batch: { packets: PacketChunkRecord[]; frames: FrameChunkRecord[] } = { packets: [], frames: [] };
  let batchLimit = 1;

  const commit = async (): Promise<void> => {
    if (batch.packets.length === 0) return;
    const { packets: pc, frames: fc } = batch;
    batch = { packets: [], frames: [] };
    batchLimit = Math.min(MAX_BATCH, batchLimit * 2);
    while (inFlight.length >= MAX_WRITES_IN_FLIGHT) await inFlight.shift();
    if (writeError) throw writeError;
    const count = queued;
    const times = span();
    const bytesRead = counter.read;
    const write = db
      .transaction('rw', [db.packetChunks, db.frameChunks, db.captures], async () => {
        await db.packetChunks.bulkPut(pc);
        await db.frameChunks.bulkPut(fc);
        await db.captures.update(captureId, { packetCount: count, bytesRead, ...times });
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

  /** Closes the chunk being filled; commits the batch when it is full (or `last`). */
  const flush = async (last = false): Promise<void> => {
    const n = rows.length;
    if (n > 0) {
      const chunk = chunkNo++;
      const { bytes, offsets } = frames.take();
      // Columns, not objects: IndexedDB then copies a few buffers instead of cloning 2000 object trees.
      batch.packets.push({ captureId, chunk, cols: rows.take().chunk });
      batch.frames.push({ captureId, chunk, bytes, offsets });
      queued += n;
    }
    if (last || batch.packets.length >= batchLimit) await commit();
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

  /** A packet's time into the capture's span. */
  const seen = (sec: number, nsec: number): void => {
    if (sec < firstSec || (sec === firstSec && nsec < firstNsec)) { firstSec = sec; firstNsec = nsec; }
    if (sec > lastSec || (sec === lastSec && nsec > lastNsec)) { lastSec = sec; lastNsec = nsec; }
  };

  // The reader and the decoders directly (what loadCapture does), so each frame's bytes are packed
  // from the reader's buffer straight into the chunk.
  const gen = readCapture(fileBytes(file, counter), { batchSize: CHUNK_SIZE, ...(maxInflatedBytes ? { maxInflatedBytes } : {}) });
  let ifaceCount = -1;
  try {
    for (;;) {
      const step = await gen.next();
      if (step.done) {
        const summary = step.value as LoadSummary;
        await flush(true);
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
          ...span(),
          importMs: Math.round(performance.now() - started),
          ...(outcome.problem ? { problem: outcome.problem } : {}),
          ...(skipped ? { skipped } : {}),
        };
        await stored(db.captures.update(captureId, fields));
        done(outcome, skipped ? { skipped } : {});
        return;
      }
      const read = step.value;
      if (read.interfaces.length !== ifaceCount) {
        ifaceCount = read.interfaces.length;
        await stored(db.captures.update(captureId, { interfaces: read.interfaces }));
      }
      if (read.packets && read.packets.length > 0) {
        // tcpdump text: decoded by the reader, no bytes.
        for (const p of read.packets) {
          seen(p.tsSec, p.tsNsec);
          rows.addPacket(p);
          frames.add(NO_BYTES);
          if (rows.length === CHUNK_SIZE) await flush();
        }
      } else {
        // Frame bytes are views valid until the next gen.next(): both adds read or copy them at once.
        for (const f of read.frames) {
          seen(f.tsSec, f.tsNsec);
          rows.addFrame(f, read.interfaces[f.ifaceId]!);
          frames.add(f.data);
          if (rows.length === CHUNK_SIZE) await flush();
        }
      }
      const now = performance.now();
      if (now - lastProgress >= PROGRESS_INTERVAL_MS) {
        lastProgress = now;
        post({ type: 'progress', captureId, bytesRead: counter.read, totalBytes: file.size, packets: queued + rows.length });
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
