/// <reference lib="webworker" />
// Reads one host-evidence text off the UI thread: which command printed it and which lines the
// parser could not read (shared/evidence/collect.ts, the same code the analysis and the CLI use).

import { readEvidenceText, withoutSecrets } from '../../../../shared/evidence/collect.ts';
import { parseIpLink } from '../../../../shared/capture-file/links.ts';
import type { EvidenceAnswer, EvidenceReply, EvidenceRequest } from './evidence-messages.ts';

declare const self: DedicatedWorkerGlobalScope;

self.onmessage = (e: MessageEvent<EvidenceRequest>) => {
  const { id, name, text } = e.data;
  let reply: EvidenceReply;
  try {
    const reading: EvidenceAnswer = readEvidenceText(name, text);
    // `ip -o link` is read in the app, but as interface names for the capture, not as evidence.
    if (reading.format === null && parseIpLink(text.slice(0, 65536)).size > 0) {
      reading.error = `${reading.error ?? name}; it looks like \`ip -o link\`: interface names for the capture, not evidence`;
      reading.interfaceNames = true;
    }
    // Keys a dump prints are never needed (the parsers skip them), so they are not kept either.
    if (reading.format !== null) {
      const clean = withoutSecrets(reading.format, text);
      if (clean.removed > 0) { reading.text = clean.text; reading.secretsRemoved = clean.removed; }
    }
    reply = { id, reading };
  } catch (err) {
    reply = { id, error: err instanceof Error ? err.message : String(err) };
  }
  self.postMessage(reply);
};
