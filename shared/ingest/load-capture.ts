// Read + decode in one streaming pass: the single ingest path shared by the import worker,
// the Electron main process and the CLI. Raw bytes are copied only when the caller keeps them.
import type { CaptureInterface, CaptureProblem, CaptureFormat } from '../capture-file/types.ts';
import { readCapture, type SkippedLines } from '../capture-file/reader.ts';
import type { RecordSink } from '../capture-file/record-parser.ts';
import { decodeFrame, type DecodeOptions } from '../protocols/index.ts';
import type { Packet, PacketList } from '../protocols/packet.ts';
import { PacketStore } from './packet-store.ts';
import { FastDecoder } from './fast-decode.ts';

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
  /** tcpdump text: lines not understood as packets. */
  skipped?: SkippedLines;
}

export interface LoadOptions {
  signal?: AbortSignal;
  /** SLL2 ifindex → interface name, from the capture host's `ip -o link`. */
  linkNames?: Map<number, string>;
  keepBytes?: boolean;
  batchSize?: number;
  /** false: packets come without their summary text (see DecodeOptions.summary); fillSummaries adds it later. */
  summary?: boolean;
  /** Which payloads get a payloadHash (DecodeOptions.payloadHash). */
  payloadHash?: 'all' | 'udp';
  /** gzip'd input: inflate limit in bytes (ReadOptions.maxInflatedBytes). */
  maxInflatedBytes?: number;
  /** gzip'd input: inflated/compressed ratio limit (ReadOptions.maxInflateRatio). */
  maxInflateRatio?: number;
}

const EMPTY = new Uint8Array(0);

export async function* loadCapture(
  source: Uint8Array | AsyncIterable<Uint8Array>,
  opts: LoadOptions = {},
): AsyncGenerator<LoadedChunk, LoadSummary> {
  const reader = readCapture(source, { signal: opts.signal, batchSize: opts.batchSize, maxInflatedBytes: opts.maxInflatedBytes, maxInflateRatio: opts.maxInflateRatio });
  const decodeOpts: DecodeOptions | undefined = opts.linkNames || opts.summary === false || opts.payloadHash !== undefined
    ? { linkNames: opts.linkNames, summary: opts.summary, payloadHash: opts.payloadHash } : undefined;
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

/** Everything in memory, packets collected by `add`. */
async function collect<L>(source: Uint8Array | AsyncIterable<Uint8Array>, opts: LoadOptions, packets: L, add: (p: Packet) => void) {
  const frames: Uint8Array[] = [];
  let interfaces: CaptureInterface[] = [];
  const it = loadCapture(source, opts);
  for (;;) {
    const step = await it.next();
    if (step.done) return { packets, frames, interfaces, summary: step.value };
    interfaces = step.value.interfaces;
    for (const p of step.value.packets) add(p);
    for (const f of step.value.frames) frames.push(f);
  }
}

/** Convenience for small inputs and tests: everything in memory as plain packet objects. */
export function loadAll(source: Uint8Array | AsyncIterable<Uint8Array>, opts: LoadOptions = {}) {
  const packets: Packet[] = [];
  return collect(source, opts, packets, (p) => { packets.push(p); });
}

/**
 * For bulk analysis: the common packet shapes kept as typed-array columns (see PacketStore), a
 * fraction of the memory. Packets are read-only views built on each read, except `summary`.
 * Without summaries (`summary: false`) the common frame shapes go straight from their bytes into
 * the columns (fast-decode.ts); the rest, and everything when summaries are wanted, is decoded.
 */
export async function loadCompact(source: Uint8Array | AsyncIterable<Uint8Array>, opts: LoadOptions = {}) {
  const store = new PacketStore();
  if (opts.summary !== false) return collect(source, opts, store, (p) => { store.push(p); });
  const fast = new FastDecoder(store, opts.linkNames, opts.payloadHash);
  const decodeOpts: DecodeOptions = { linkNames: opts.linkNames, summary: false, payloadHash: opts.payloadHash };
  const frames: Uint8Array[] = [];
  const keep = opts.keepBytes === true;
  let interfaces: CaptureInterface[] = [];
  // pcap records come straight from the reader's buffer: a RawFrame (and its view) only for those the fast path leaves.
  const sink: RecordSink = {
    record(buf, start, frame, offset, iface, tsSec, tsNsec, caplen, len) {
      if (!fast.tryPushAt(buf, start, caplen, frame, tsSec, tsNsec, caplen, len, iface.id, undefined, iface)) {
        const data = buf.subarray(start, start + caplen);
        store.push(decodeFrame({ frame, offset, ifaceId: iface.id, tsSec, tsNsec, caplen, len, data }, iface, decodeOpts));
      }
      if (keep) frames.push(buf.slice(start, start + caplen));
    },
  };
  const reader = readCapture(source, { signal: opts.signal, batchSize: opts.batchSize, maxInflatedBytes: opts.maxInflatedBytes, maxInflateRatio: opts.maxInflateRatio, sink });
  for (;;) {
    const step = await reader.next();
    if (step.done) return { packets: store, frames, interfaces, summary: step.value as LoadSummary };
    const chunk = step.value;
    interfaces = chunk.interfaces;
    if (chunk.packets && chunk.packets.length > 0) {
      for (const p of chunk.packets) { store.push(p); if (keep) frames.push(EMPTY); }
      continue;
    }
    const list = chunk.frames;
    for (let i = 0; i < list.length; i++) {
      const f = list[i]!;
      const iface = interfaces[f.ifaceId]!;
      if (!fast.tryPush(f, iface)) store.push(decodeFrame(f, iface, decodeOpts));
      if (keep) frames.push(f.data.slice());
    }
  }
}

/**
 * Second pass for captures loaded with `summary: false`: reads the capture again and decodes,
 * with their summary, only the frames `wanted` names, writing the text into `packets` (file
 * order, packets[frame - 1]). Reading alone is cheap next to decoding, so this costs little
 * more than one read of the file. Returns how many summaries were filled.
 */
export async function fillSummaries(
  source: Uint8Array | AsyncIterable<Uint8Array>,
  packets: PacketList,
  wanted: ReadonlySet<number>,
  opts: Pick<LoadOptions, 'linkNames' | 'signal' | 'batchSize' | 'maxInflatedBytes' | 'maxInflateRatio'> = {},
): Promise<number> {
  if (wanted.size === 0) return 0;
  let last = 0;
  for (const f of wanted) if (f > last) last = f;
  const decodeOpts: DecodeOptions | undefined = opts.linkNames ? { linkNames: opts.linkNames } : undefined;
  const reader = readCapture(source, { signal: opts.signal, batchSize: opts.batchSize, maxInflatedBytes: opts.maxInflatedBytes, maxInflateRatio: opts.maxInflateRatio });
  let filled = 0;
  try {
    for (;;) {
      const step = await reader.next();
      if (step.done) break;
      const chunk = step.value;
      // Text imports come decoded, summaries included.
      if (chunk.packets && chunk.packets.length > 0) continue;
      const frames = chunk.frames;
      for (let i = 0; i < frames.length; i++) {
        const f = frames[i]!;
        if (!wanted.has(f.frame)) continue;
        const p = packets.at(f.frame - 1);
        if (p === undefined || p.frame !== f.frame) continue;
        p.summary = decodeFrame(f, chunk.interfaces[f.ifaceId]!, decodeOpts).summary;
        filled++;
      }
      if (frames.length > 0 && frames[frames.length - 1]!.frame >= last) break;
    }
  } finally {
    await reader.return?.(undefined as never);
  }
  return filled;
}
