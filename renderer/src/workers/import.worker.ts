/// <reference lib="webworker" />
// Imports one capture file off the UI thread: streams the File through the shared loader,
// writes fixed-size packet chunks straight to IndexedDB, reports throttled progress, and
// honours cancel (what was already written stays, the capture is marked 'cancelled').

import { loadCapture, type LoadSummary } from '../../../shared/ingest/load-capture.ts';
import type { Packet } from '../../../shared/protocols/packet.ts';
import { CHUNK_SIZE, openDb, packFrames, type CaptureRecord, type Timestamp } from '../db/schema.ts';
import type { FromImportWorker, ToImportWorker } from './import-messages.ts';

declare const self: DedicatedWorkerGlobalScope;

const db = openDb();
const PROGRESS_INTERVAL_MS = 100;
const MAX_WRITES_IN_FLIGHT = 3;
let controller: AbortController | null = null;

function post(msg: FromImportWorker): void {
  self.postMessage(msg);
}

self.onmessage = (ev: MessageEvent<ToImportWorker>) => {
  const msg = ev.data;
  if (msg.type === 'cancel') {
    controller?.abort();
  } else if (msg.type === 'start') {
    controller = new AbortController();
    void importFile(msg.captureId, msg.file, controller.signal);
  }
};

/** Reads the file as a stream, counting consumed bytes for the progress bar. */
async function* fileBytes(file: File, signal: AbortSignal, counter: { read: number }): AsyncGenerator<Uint8Array> {
  const reader = file.stream().getReader();
  try {
    for (;;) {
      if (signal.aborted) return;
      const { done, value } = await reader.read();
      if (done) return;
      counter.read += value.byteLength;
      yield value;
    }
  } finally {
    reader.releaseLock();
  }
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function isEarlier(a: Timestamp, b: Timestamp): boolean {
  return a.sec < b.sec || (a.sec === b.sec && a.nsec < b.nsec);
}

function describeProblem(fileName: string, summary: LoadSummary): string | undefined {
  const p = summary.problems.find((x) => x.fatal) ?? summary.problems[0];
  if (p) return `${fileName}: ${p.message} at byte ${p.offset}`;
  if (!summary.complete) return `${fileName}: the file ends early`;
  return undefined;
}

async function importFile(captureId: number, file: File, signal: AbortSignal): Promise<void> {
  const started = performance.now();
  const counter = { read: 0 };
  let stored = 0;
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
    stored += chunkPackets.length;
    const count = stored;
    const span = { firstTs, lastTs };
    const write = db
      .transaction('rw', [db.packetChunks, db.frameChunks, db.captures], async () => {
        await db.packetChunks.put({ captureId, chunk, packets: chunkPackets });
        await db.frameChunks.put({ captureId, chunk, bytes, offsets });
        await db.captures.update(captureId, { packetCount: count, ...span });
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

  const finish = async (fields: Partial<CaptureRecord>, status: 'complete' | 'partial' | 'cancelled'): Promise<void> => {
    try {
      await flush();
    } catch {
      // writeError is reported below.
    }
    await Promise.all(inFlight);
    if (writeError) {
      status = 'partial';
      fields = { ...fields, problem: `${file.name}: could not store packets (${errorText(writeError)}); ${written} kept` };
    }
    const ms = Math.round(performance.now() - started);
    try {
      await db.captures.update(captureId, { ...fields, status, packetCount: written, firstTs, lastTs, importMs: ms });
    } catch (err) {
      fields = { ...fields, problem: `${file.name}: could not store the import result (${errorText(err)})` };
    }
    post({ type: 'progress', captureId, bytesRead: counter.read, totalBytes: file.size, packets: written });
    post({ type: 'done', captureId, status, packets: written, ms, ...(fields.problem ? { problem: fields.problem } : {}) });
  };

  const gen = loadCapture(fileBytes(file, signal, counter), { signal, keepBytes: true, batchSize: CHUNK_SIZE });
  let ifaceCount = -1;
  try {
    for (;;) {
      const step = await gen.next();
      if (step.done) {
        const summary = step.value;
        const problem = describeProblem(file.name, summary);
        const fields: Partial<CaptureRecord> = {
          format: summary.format,
          compressed: summary.compressed,
          sectionComments: summary.sectionComments,
        };
        if (problem) fields.problem = problem;
        const status = signal.aborted ? 'cancelled' : problem ? 'partial' : 'complete';
        await finish(fields, status);
        return;
      }
      const loaded = step.value;
      if (loaded.interfaces.length !== ifaceCount) {
        ifaceCount = loaded.interfaces.length;
        await db.captures.update(captureId, { interfaces: loaded.interfaces });
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
        post({ type: 'progress', captureId, bytesRead: counter.read, totalBytes: file.size, packets: stored + packets.length });
      }
    }
  } catch (err) {
    if (signal.aborted) {
      await finish({ problem: `${file.name}: import cancelled at byte ${counter.read}` }, 'cancelled');
    } else if (err === writeError) {
      await finish({}, 'partial');
    } else {
      await finish({ problem: `${file.name}: ${errorText(err)}` }, 'partial');
    }
  }
}
