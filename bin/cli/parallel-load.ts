// Loads the captures `tandem analyze` compares: one on this thread and the other in a worker thread
// when the machine has a core for each (the worker's columns come back by transfer, nothing copied),
// or one after the other on this thread on a one-core machine, for small inputs (a worker costs
// more to start than they take to read) and with TANDEM_THREADS=1. Both paths run the same shared
// loadCompact.
import { availableParallelism } from 'node:os';
import { closeSync, existsSync, openSync, readSync, statSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { getHeapStatistics } from 'node:v8';
import { loadCompact, type LoadSummary } from '../../shared/ingest/load-capture.ts';
import { PacketStore, type PacketStoreImage } from '../../shared/ingest/packet-store.ts';
import type { CaptureInterface } from '../../shared/capture-file/types.ts';
import type { RecyclingSource } from '../../shared/capture-file/reader.ts';
import { captureStats, prepareCapture, type PreparedCapture } from '../../shared/analysis/prepare.ts';
import { mustBeFile, UsageError } from './io.ts';

export interface DecodeRequest {
  file: string;
  linkNames?: Map<number, string>;
  keepBytes: boolean;
  maxInflatedBytes?: number;
  maxInflateRatio?: number;
  /**
   * Also prepare the capture for the analysis (loadFiles, two captures on two threads): the worker
   * posts its WireGuard ports (PortsMessage), waits for the other capture's, then prepares.
   */
  prepare?: boolean;
}

/** A worker's capture is read; these are its WireGuard ports (the other side needs them to prepare its own). */
export interface PortsMessage { ports: number[] }

/** Raw frames packed back to back: frame i is bytes[ends[i-1] .. ends[i]). */
export interface PackedFrames { bytes: Uint8Array; ends: Float64Array }

export type DecodeReply =
  | { ok: true; image: PacketStoreImage; interfaces: CaptureInterface[]; summary: LoadSummary; frames: PackedFrames | null; prepared: PreparedCapture | null; loadMs: number; prepMs: number }
  | { ok: false; usage: boolean; message: string; stack?: string };

export interface LoadedFile {
  packets: PacketStore;
  frames: Uint8Array[];
  interfaces: CaptureInterface[];
  summary: LoadSummary;
  /** The analysis's preparation of this capture, made beside the other's (workers only; see DecodeRequest.prepare). */
  prepared?: PreparedCapture;
  /** Milliseconds the read and decode took where it ran (a worker's own time, without its start-up or the hand-over). */
  loadMs: number;
  /** Milliseconds from the end of the read to the preparation made (with the wait for the other worker's ports). */
  prepMs?: number;
}

/** One buffer for all of a capture's kept frames: a single transfer instead of one per packet. */
export function packFrames(frames: Uint8Array[]): PackedFrames {
  let total = 0;
  for (const f of frames) total += f.length;
  const bytes = new Uint8Array(total);
  const ends = new Float64Array(frames.length);
  let o = 0;
  for (let i = 0; i < frames.length; i++) { bytes.set(frames[i]!, o); o += frames[i]!.length; ends[i] = o; }
  return { bytes, ends };
}

/** Views into the packed buffer, one per frame (no copy). */
export function unpackFrames(p: PackedFrames): Uint8Array[] {
  const out: Uint8Array[] = new Array(p.ends.length);
  let o = 0;
  for (let i = 0; i < p.ends.length; i++) { const e = p.ends[i]!; out[i] = p.bytes.subarray(o, e); o = e; }
  return out;
}

/** Below this much input in all, one thread reads it sooner than a worker starts. */
const WORKER_MIN_BYTES = 8 << 20;

/**
 * Threads to load with: TANDEM_THREADS when set (1 forces this thread alone, 2 or more a worker for
 * each capture but one), else one per capture when there are cores for them and enough bytes to be
 * worth it.
 */
export function loadThreads(files: readonly string[], env: NodeJS.ProcessEnv = process.env): number {
  const forced = Number.parseInt(env.TANDEM_THREADS ?? '', 10);
  if (Number.isInteger(forced) && forced >= 1) return forced;
  let bytes = 0;
  for (const f of files) { try { bytes += statSync(f).size; } catch { /* readChunks reports it */ } }
  if (bytes < WORKER_MIN_BYTES) return 1;
  return Math.min(availableParallelism(), files.length);
}

/**
 * A worker running decode-worker beside this module: the bundle when built; from the sources
 * (tests, development) a small bootstrap registers tsx in the worker first, since the parent's
 * command line (`-e`, `--test` …) is not the worker's to inherit.
 */
function startWorker(req: DecodeRequest): Worker {
  const here = import.meta.url;
  // The heap bound this process runs under (--max-old-space-size) holds for each worker too. A
  // decode's garbage dies young (a batch of packets at a time), so a small young generation costs
  // no time, where V8's default (semi-spaces grown to 16 MiB) left each worker ~25 MiB larger while
  // both ran beside the main thread's columns: the load's peak.
  const opts = {
    workerData: req, execArgv: [],
    resourceLimits: { maxOldGenerationSizeMb: Math.max(64, Math.floor(getHeapStatistics().heap_size_limit / 2 ** 20)), maxYoungGenerationSizeMb: WORKER_YOUNG_MB },
  };
  if (!/\.[cm]?ts$/.test(here)) return new Worker(new URL('./decode-worker.mjs', here), opts);
  const boot = `import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))}).then((t) => { t.register(); return import(${JSON.stringify(new URL('./decode-worker.ts', here).href)}); });`;
  return new Worker(boot, { ...opts, eval: true });
}

function inWorker(req: DecodeRequest, started: Set<Worker>, onPorts: (w: Worker, m: PortsMessage) => void): Promise<LoadedFile> {
  return new Promise((resolve, reject) => {
    const w = startWorker(req);
    started.add(w);
    let settled = false;
    w.on('message', (m: DecodeReply | PortsMessage) => {
      if ('ports' in m) { onPorts(w, m); return; }
      settled = true;
      if (!m.ok) {
        reject(m.usage ? new UsageError(m.message) : Object.assign(new Error(m.message), { stack: m.stack }));
        return;
      }
      resolve({
        packets: PacketStore.fromImage(m.image), interfaces: m.interfaces, summary: m.summary,
        frames: m.frames !== null ? unpackFrames(m.frames) : [], loadMs: m.loadMs,
        ...(m.prepared !== null ? { prepared: m.prepared, prepMs: m.prepMs } : {}),
      });
    });
    w.once('error', (e) => { if (!settled) { settled = true; reject(e); } });
    w.once('exit', (code) => {
      started.delete(w);
      if (!settled) { settled = true; reject(new Error(`reading ${req.file} stopped: its worker thread exited with code ${code}`)); }
    });
  });
}

/**
 * Read size, in a worker and on this thread. glibc raises its mmap threshold to the size of a
 * large block once one is freed, after which a thread's freed blocks stay in its arena (or the
 * main heap), among the columns: 1 MiB reads left 30–50 MiB more resident after the load. Below
 * the default threshold (128 KiB) that never starts, and the CPU time is the same.
 */
export const WORKER_CHUNK_BYTES = 64 << 10;

/**
 * Frames decoded per batch. A batch's packets live until they are in the columns, so they are what
 * survives a scavenge (copied, then promoted as garbage to the old space): small batches keep that
 * little, at no cost in time.
 */
const LOAD_BATCH = 128;

/** A worker's young generation, MiB (see startWorker): 8 kept the load's peak lowest at the same CPU time; 4 cost a third more CPU. */
const WORKER_YOUNG_MB = 8;

/**
 * A capture file's bytes in pieces of `chunkBytes`, each in a buffer of its own (the reader keeps
 * views into them) until the reader sets `recycle` (a pcap read into a record sink copies each piece
 * as it comes): then one buffer is refilled, where a fresh one per read left tens of MiB of spent
 * pieces resident until a collection. Read synchronously: a stream's reads go through libuv's thread pool, and with
 * 64 KiB pieces the decoding thread sat idle waiting for them for a fifth of its time. Nothing else
 * runs on a decode worker, and on this thread the load is all there is to do. Refuses a missing
 * or irregular file in one line, as openCapture does.
 */
export function readChunks(file: string, chunkBytes = WORKER_CHUNK_BYTES): RecyclingSource {
  mustBeFile(file);
  const src: RecyclingSource = {
    // Set by the reader once it copies each chunk as it comes (readCapture): the last buffer is then refilled.
    recycle: false,
    [Symbol.asyncIterator]: () => (async function* () {
      // Opened on the first read, so a reader that never starts leaves no descriptor open.
      let fd: number;
      try { fd = openSync(file, 'r'); } catch (e) { throw new UsageError(`${file}: cannot open (${(e as NodeJS.ErrnoException).code ?? 'error'})`); }
      try {
        let last: Buffer | null = null;
        for (;;) {
          const b: Buffer = src.recycle && last !== null ? last : Buffer.allocUnsafeSlow(chunkBytes);
          last = b;
          const n = readSync(fd, b, 0, chunkBytes, null);
          if (n === 0) return;
          yield n === chunkBytes ? b : b.subarray(0, n);
        }
      } finally { closeSync(fd); }
    })(),
  };
  return src;
}

/** One capture read and decoded on the calling thread (the worker runs this too). */
export async function loadHere(req: DecodeRequest, chunkBytes = WORKER_CHUNK_BYTES): Promise<LoadedFile> {
  const t0 = performance.now();
  const r = await loadCompact(readChunks(req.file, chunkBytes), {
    batchSize: LOAD_BATCH,
    // The analysis compares payloads by hash for UDP datagrams only.
    linkNames: req.linkNames, keepBytes: req.keepBytes, summary: false, payloadHash: 'udp',
    ...(req.maxInflatedBytes !== undefined ? { maxInflatedBytes: req.maxInflatedBytes } : {}),
    ...(req.maxInflateRatio !== undefined ? { maxInflateRatio: req.maxInflateRatio } : {}),
  });
  return { ...r, loadMs: performance.now() - t0 };
}

/**
 * Every capture read and decoded, in the order given. With `threads` ≥ 2 capture `here` (by default
 * the largest) is read on this thread and each other one in a worker of its own: this thread would
 * otherwise sit idle through the load, and one isolate fewer is ~10 MiB less at the peak. When one
 * fails the others are stopped and the failure is thrown (a UsageError stays one, so the message is
 * the one the single-thread path gives).
 */
export async function loadFiles(reqs: DecodeRequest[], threads: number, here = largest(reqs)): Promise<LoadedFile[]> {
  // A bundle built before the worker had its own entry: read on this thread rather than fail.
  const url = import.meta.url;
  const noWorker = !/\.[cm]?ts$/.test(url) && !existsSync(new URL('./decode-worker.mjs', url));
  if (threads < 2 || reqs.length < 2 || noWorker) return Promise.all(reqs.map((r) => loadHere(r)));
  // A missing file is refused at once, as on one thread, not after the other capture is read.
  for (const r of reqs) mustBeFile(r.file);
  const started = new Set<Worker>();
  // Two captures to prepare: each side's WireGuard ports go to the other once both have read their capture.
  const pairing = reqs.length === 2 && reqs.every((r) => r.prepare === true);
  let theirPorts: (m: { w: Worker; ports: number[] }) => void = () => {};
  const portsCame = new Promise<{ w: Worker; ports: number[] }>((resolve) => { theirPorts = resolve; });
  const far = reqs.map((r, i) => (i === here ? null : inWorker(pairing ? r : { ...r, prepare: false }, started, (w, m) => theirPorts({ w, ports: m.ports }))));
  // Settled here or by the first to fail: a worker's failure while this thread reads is not left unhandled.
  const farDone = Promise.all(far);
  farDone.catch(() => {});
  try {
    const r = await loadHere(reqs[here]!);
    let own: LoadedFile = r;
    if (pairing) {
      const t0 = performance.now();
      const stats = captureStats(r.packets);
      // A worker that fails before its ports come ends the wait with its error.
      const other = await Promise.race([portsCame, farDone.then(() => { throw new Error('a worker finished without its WireGuard ports'); })]);
      other.w.postMessage([...stats.ports]);
      own = { ...r, prepared: prepareCapture(r.packets, stats, new Set(other.ports)), prepMs: performance.now() - t0 };
    }
    const done = await farDone;
    return done.map((x, i) => (i === here ? own : x!));
  } finally {
    // Gone before the caller goes on: a worker's heap would otherwise still be resident while the analysis builds its own.
    await Promise.all([...started].map((w) => w.terminate()));
  }
}

/** Index of the largest file (the first of equals; unreadable ones count as empty): read on this thread, which starts at once where a worker takes a while. */
function largest(reqs: readonly DecodeRequest[]): number {
  let best = 0, bestSize = -1;
  reqs.forEach((r, i) => {
    let size = 0;
    try { size = statSync(r.file).size; } catch { /* readChunks reports it */ }
    if (size > bestSize) { best = i; bestSize = size; }
  });
  return best;
}
