// The UI side of the dissect worker: one worker for the window, one promise per request.

import type { CaptureInterface } from '../../../../shared/capture-file/types.ts';
import type { Field } from '../../../../shared/protocols/fields.ts';
import type { Packet } from '../../../../shared/protocols/packet.ts';
import type { DissectReply, DissectRequest } from '../../workers/dissect-messages.ts';

let worker: Worker | null = null;
let nextId = 1;
const waiting = new Map<number, { resolve: (f: Field[]) => void; reject: (e: Error) => void }>();

function dissectWorker(): Worker {
  if (worker !== null) return worker;
  const w = new Worker(new URL('../../workers/dissect.worker.ts', import.meta.url), { type: 'module', name: 'dissect' });
  w.onmessage = (e: MessageEvent<DissectReply>) => {
    const r = e.data;
    const job = waiting.get(r.id);
    if (!job) return;
    waiting.delete(r.id);
    if ('error' in r) job.reject(new Error(r.error)); else job.resolve(r.fields);
  };
  w.onerror = (e) => {
    // A worker that cannot start fails every request instead of leaving them pending.
    for (const job of waiting.values()) job.reject(new Error(e.message || 'the packet decoder stopped'));
    waiting.clear();
    worker = null;
  };
  worker = w;
  return w;
}

/** The layer tree of `packet`'s captured bytes, decoded off the UI thread. */
export function dissectInWorker(packet: Packet, bytes: Uint8Array, iface?: CaptureInterface, linkNames?: Map<number, string>): Promise<Field[]> {
  const id = nextId++;
  const req: DissectRequest = { id, packet, bytes };
  if (iface) req.iface = iface;
  if (linkNames) req.linkNames = [...linkNames];
  return new Promise((resolve, reject) => {
    waiting.set(id, { resolve, reject });
    dissectWorker().postMessage(req);
  });
}
