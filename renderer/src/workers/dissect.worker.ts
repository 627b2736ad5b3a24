/// <reference lib="webworker" />
// Answers the packet detail view: one frame in, its layer tree out (see dissect.ts).

import { dissectDetail } from './dissect.ts';
import type { DissectReply, DissectRequest } from './dissect-messages.ts';

declare const self: DedicatedWorkerGlobalScope;

self.onmessage = (e: MessageEvent<DissectRequest>) => {
  const { id, packet, bytes, iface, linkNames } = e.data;
  let reply: DissectReply;
  try {
    reply = { id, fields: dissectDetail(packet, bytes, iface, linkNames ? new Map(linkNames) : undefined) };
  } catch (err) {
    reply = { id, error: err instanceof Error ? err.message : String(err) };
  }
  self.postMessage(reply);
};
