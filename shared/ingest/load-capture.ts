// Read + decode in one streaming pass: the single ingest path shared by the import worker,
// the Electron main process and the CLI. Raw bytes are copied only when the caller keeps them.
import type { CaptureInterface, CaptureProblem, CaptureFormat } from '../capture-file/types.ts';
import { readCapture } from '../capture-file/reader.ts';
import { decodeFrame } from '../protocols/index.ts';
import type { Packet } from '../protocols/packet.ts';

export interface LoadedChunk {
  interfaces: CaptureInterface[];
  packets: Packet[];
  /** Copied raw bytes, one per packet (empty for text imports); only filled with keepBytes. */
  frames: Uint8Array[];
  /** Input bytes consumed so far (compressed bytes for gzip'd files): drives progress bars. */
  bytesRead: number;
}

export interface LoadSummary {
  format: CaptureFormat;
  compressed: boolean;
  complete: boolean;
  problems: CaptureProblem[];
  sectionComments: string[];
  frameCount: number;
}

export interface LoadOptions {
  signal?: AbortSignal;
  /** SLL2 ifindex → interface name, from the capture host's `ip -o link`. */
  linkNames?: Map<number, string>;
  keepBytes?: boolean;
  batchSize?: number;
}

const EMPTY = new Uint8Array(0);

export async function* loadCapture(
  source: Uint8Array | AsyncIterable<Uint8Array>,
  opts: LoadOptions = {},
): AsyncGenerator<LoadedChunk, LoadSummary> {
  const reader = readCapture(source, { signal: opts.signal, batchSize: opts.batchSize });
  const decodeOpts = opts.linkNames ? { linkNames: opts.linkNames } : undefined;
  for (;;) {
    const step = await reader.next();
    if (step.done) return step.value as LoadSummary;
    const chunk = step.value;
    if (chunk.packets && chunk.packets.length > 0) {
      const packets = chunk.packets;
      yield { interfaces: chunk.interfaces, packets, frames: opts.keepBytes ? packets.map(() => EMPTY) : [], bytesRead: chunk.bytesRead };
      continue;
    }
    const packets: Packet[] = new Array(chunk.frames.length);
    const frames: Uint8Array[] = opts.keepBytes ? new Array(chunk.frames.length) : [];
    for (let i = 0; i < chunk.frames.length; i++) {
      const f = chunk.frames[i];
      packets[i] = decodeFrame(f, chunk.interfaces[f.ifaceId], decodeOpts);
      if (opts.keepBytes) frames[i] = f.data.slice();
    }
    yield { interfaces: chunk.interfaces, packets, frames, bytesRead: chunk.bytesRead };
  }
}

/** Convenience for small inputs and tests: everything in memory. */
export async function loadAll(source: Uint8Array | AsyncIterable<Uint8Array>, opts: LoadOptions = {}) {
  const packets: Packet[] = [];
  const frames: Uint8Array[] = [];
  let interfaces: CaptureInterface[] = [];
  const it = loadCapture(source, opts);
  for (;;) {
    const step = await it.next();
    if (step.done) return { packets, frames, interfaces, summary: step.value };
    interfaces = step.value.interfaces;
    for (const p of step.value.packets) packets.push(p);
    for (const f of step.value.frames) frames.push(f);
  }
}
