// The UI side of the evidence worker: started on first use, one promise per text, and ended once
// nothing is waiting (evidence is added now and then; an idle worker would only hold memory).

import type { EvidenceAnswer, EvidenceReply, EvidenceRequest } from './evidence-messages.ts';

let worker: Worker | null = null;
let nextId = 1;
const waiting = new Map<number, { resolve: (r: EvidenceAnswer) => void; reject: (e: Error) => void }>();

function evidenceWorker(): Worker {
  if (worker !== null) return worker;
  const w = new Worker(new URL('./evidence.worker.ts', import.meta.url), { type: 'module', name: 'evidence' });
  w.onmessage = (e: MessageEvent<EvidenceReply>) => {
    const r = e.data;
    const job = waiting.get(r.id);
    if (!job) return;
    waiting.delete(r.id);
    if ('error' in r) job.reject(new Error(r.error)); else job.resolve(r.reading);
    if (waiting.size === 0 && worker === w) {
      w.terminate();
      worker = null;
    }
  };
  w.onerror = (e) => {
    // A worker that cannot start fails every request instead of leaving them pending.
    for (const job of waiting.values()) job.reject(new Error(e.message || 'the evidence reader stopped'));
    waiting.clear();
    if (worker === w) worker = null;
  };
  worker = w;
  return w;
}

/** Which command printed `text`, and the lines its parser could not read; parsed in the evidence worker. */
export function readEvidenceInWorker(name: string, text: string): Promise<EvidenceAnswer> {
  const id = nextId++;
  const req: EvidenceRequest = { id, name, text };
  return new Promise((resolve, reject) => {
    waiting.set(id, { resolve, reject });
    evidenceWorker().postMessage(req);
  });
}
