// Worker-thread entry of `tandem analyze`: reads and decodes one capture into the column store
// (the same shared loadCompact the single-thread path runs) and hands the columns to the main
// thread by transfer, not by copy. Bundled on its own to out/cli/decode-worker.mjs.
import { parentPort, workerData } from 'node:worker_threads';
import { UsageError } from './io.ts';
import { loadHere, packFrames, WORKER_CHUNK_BYTES, type DecodeReply, type DecodeRequest } from './parallel-load.ts';

async function run(req: DecodeRequest): Promise<void> {
  let reply: DecodeReply;
  const transfer: ArrayBuffer[] = [];
  try {
    const r = await loadHere(req, WORKER_CHUNK_BYTES);
    const { image, transfer: cols } = r.packets.toImage();
    transfer.push(...cols);
    const frames = req.keepBytes ? packFrames(r.frames) : null;
    if (frames !== null) transfer.push(frames.bytes.buffer as ArrayBuffer, frames.ends.buffer as ArrayBuffer);
    reply = { ok: true, image, interfaces: r.interfaces, summary: r.summary, frames, loadMs: r.loadMs };
  } catch (e) {
    reply = { ok: false, usage: e instanceof UsageError, message: e instanceof Error ? e.message : String(e), stack: e instanceof Error ? e.stack : undefined };
  }
  parentPort!.postMessage(reply, transfer);
}

if (parentPort !== null) void run(workerData as DecodeRequest);
