// Worker-thread entry of `tandem analyze`: reads and decodes one capture into the column store
// (the same shared loadCompact the single-thread path runs) and hands the columns to the main
// thread by transfer, not by copy. Bundled on its own to out/cli/decode-worker.mjs.
import { parentPort, workerData } from 'node:worker_threads';
import { UsageError } from './io.ts';
import { loadHere, packFrames, WORKER_CHUNK_BYTES, type DecodeReply, type DecodeRequest, type PortsMessage } from './parallel-load.ts';
import { captureStats, prepareCapture, type PreparedCapture } from '../../shared/analysis/prepare.ts';

/** The analysis's per-capture preparation, here beside the main thread's: it needs that capture's WireGuard ports, asked for through the main thread. */
async function prepare(r: Awaited<ReturnType<typeof loadHere>>): Promise<PreparedCapture> {
  const stats = captureStats(r.packets);
  const other = new Promise<number[]>((resolve) => parentPort!.once('message', resolve));
  parentPort!.postMessage({ ports: [...stats.ports] } satisfies PortsMessage);
  return prepareCapture(r.packets, stats, new Set(await other));
}

async function run(req: DecodeRequest): Promise<void> {
  let reply: DecodeReply;
  const transfer: ArrayBuffer[] = [];
  try {
    const r = await loadHere(req, WORKER_CHUNK_BYTES);
    const t0 = performance.now();
    const prepared = req.prepare === true ? await prepare(r) : null;
    const prepMs = performance.now() - t0;
    if (prepared !== null) {
      transfer.push(prepared.t.buffer as ArrayBuffer, prepared.olen.buffer as ArrayBuffer, prepared.bits.buffer as ArrayBuffer, prepared.outerIdx.buffer as ArrayBuffer);
      if (prepared.perm !== null) transfer.push(prepared.perm.buffer as ArrayBuffer);
    }
    const { image, transfer: cols } = r.packets.toImage();
    transfer.push(...cols);
    const frames = req.keepBytes ? packFrames(r.frames) : null;
    if (frames !== null) transfer.push(frames.bytes.buffer as ArrayBuffer, frames.ends.buffer as ArrayBuffer);
    reply = { ok: true, image, interfaces: r.interfaces, summary: r.summary, frames, prepared, loadMs: r.loadMs, prepMs };
  } catch (e) {
    reply = { ok: false, usage: e instanceof UsageError, message: e instanceof Error ? e.message : String(e), stack: e instanceof Error ? e.stack : undefined };
  }
  parentPort!.postMessage(reply, transfer);
}

if (parentPort !== null) void run(workerData as DecodeRequest);
