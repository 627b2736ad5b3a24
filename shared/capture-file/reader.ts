// The one streaming entry point for capture files, shared by the UI worker, the Electron main process
// and the CLI. Detects the format by content (pcap, pcapng, gzip around either, tcpdump text), yields
// frames in batches, and never throws for bad input: damage ends the read with a fatal problem.

import type { CaptureFormat, CaptureInterface, CaptureProblem, RawFrame } from './types.ts';
import type { Packet } from '../protocols/packet.ts';
import type { RecordParser } from './record-parser.ts';
import { PcapParser, isPcapMagic } from './pcap.ts';
import { PcapngParser, type NameRecord } from './pcapng.ts';
import { TcpdumpTextParser, type TextImportOptions } from './tcpdump-text.ts';

export interface CaptureChunk {
  /** Every interface known so far (grows while a pcapng file is read). */
  interfaces: CaptureInterface[];
  /**
   * Frames of this batch, in file order. Their `data` are views into the reader's buffers and are
   * valid only until the next `next()` call on the generator: copy (`slice()`) what must be kept.
   */
  frames: RawFrame[];
  /** Input bytes consumed so far (compressed bytes for gzip), for progress bars. */
  bytesRead: number;
  /** tcpdump text only: the packets parsed from the text (frames is then empty). */
  packets?: Packet[];
}

export interface CaptureSummary {
  format: CaptureFormat | 'unknown';
  compressed: boolean;
  /** True when the whole input was read without a fatal problem. */
  complete: boolean;
  problems: CaptureProblem[];
  sectionComments: string[];
  frameCount: number;
  /** Every interface of the file, also when it holds no frames. */
  interfaces: CaptureInterface[];
  /** pcapng name resolution records, when the file has any. */
  nameRecords?: NameRecord[];
  /** tcpdump text only: lines that were not understood as packets (count, and the first few, made visible). */
  skipped?: SkippedLines;
}

/** Text lines the text reader could not use: reported to the user, never dropped in silence. */
export interface SkippedLines {
  count: number;
  /** The first few, 1-based line numbers, text cut to a sane length (hostile: escape before display). */
  examples: Array<{ line: number; text: string }>;
}

export interface ReadOptions extends TextImportOptions {
  signal?: AbortSignal;
  /** Frames (or text packets) per chunk; default 2000. */
  batchSize?: number;
  /** gzip'd input: refuse to inflate past this many bytes (default set in reader.ts; a clear fatal problem past it). */
  maxInflatedBytes?: number;
}

/** Flush a batch early once it holds this many bytes, so huge frames do not pile up. */
const MAX_BATCH_BYTES = 4 * 1024 * 1024;
const MIN_GATHER = 256 * 1024;

function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw signal.reason ?? new DOMException('The read was aborted', 'AbortError');
}

export type CaptureSource = AsyncIterable<Uint8Array> | Uint8Array | ReadableStream<Uint8Array>;

async function* iterate(source: CaptureSource): AsyncGenerator<Uint8Array> {
  if (source instanceof Uint8Array) { if (source.length > 0) yield source; return; }
  if (!(Symbol.asyncIterator in source)) {
    // A web ReadableStream (File.stream() in a worker) is not async-iterable in every browser.
    const reader = (source as ReadableStream<Uint8Array>).getReader();
    try {
      for (;;) {
        const r = await reader.read();
        if (r.done) return;
        if (r.value.length > 0) yield r.value;
      }
    } finally {
      await reader.cancel().catch(() => undefined);
    }
  }
  for await (const c of source as AsyncIterable<Uint8Array>) if (c.length > 0) yield c;
}

/** Pulls chunks from an iterator, counting what was consumed. */
class Input {
  bytes = 0;
  constructor(private readonly it: AsyncIterator<Uint8Array>) {}
  async next(): Promise<Uint8Array | null> {
    const r = await this.it.next();
    if (r.done) return null;
    this.bytes += r.value.length;
    return r.value;
  }
  async close(): Promise<void> { await this.it.return?.(); }
}

/** Decompresses gzip as a stream; `error` is set when the compressed data ends early or is corrupt. */
class Gunzip {
  error: string | null = null;
  private reader: ReadableStreamDefaultReader<Uint8Array>;
  constructor(input: Input, head: Uint8Array[]) {
    const pending = [...head];
    const raw = new ReadableStream<Uint8Array>({
      async pull(ctrl) {
        const c = pending.shift() ?? (await input.next());
        if (c) ctrl.enqueue(c);
        else ctrl.close();
      },
    });
    this.reader = raw.pipeThrough(new DecompressionStream('gzip') as unknown as TransformStream<Uint8Array, Uint8Array>).getReader();
  }
  async next(): Promise<Uint8Array | null> {
    if (this.error) return null;
    try {
      for (;;) {
        const r = await this.reader.read();
        if (r.done) return null;
        if (r.value.length > 0) return r.value;
      }
    } catch (e) {
      this.error = e instanceof Error ? e.message : String(e);
      return null;
    }
  }
  async close(): Promise<void> { await this.reader.cancel().catch(() => undefined); }
}

function looksLikeText(b: Uint8Array): boolean {
  const n = Math.min(b.length, 4096);
  if (n === 0) return false;
  let bad = 0;
  for (let i = 0; i < n; i++) {
    const c = b[i]!;
    if (c === 0) return false;
    if (c < 9 || (c > 13 && c < 32 && c !== 27)) bad++;
  }
  if (bad * 100 >= n) return false;
  // Binary data that avoids control bytes still fails as UTF-8: replacement characters give it away.
  const text = new TextDecoder('utf-8').decode(b.subarray(0, n));
  let replaced = 0;
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 0xfffd) replaced++;
  return replaced <= 3;
}

/**
 * Reads a capture from bytes or a byte stream. Yields chunks of frames (or, for tcpdump text, packets)
 * and returns a summary. Throws only when `signal` aborts the read.
 */
export async function* readCapture(
  source: CaptureSource,
  opts: ReadOptions = {},
): AsyncGenerator<CaptureChunk, CaptureSummary> {
  const signal = opts.signal;
  const batchSize = Math.max(1, opts.batchSize ?? 2000);
  const input = new Input(iterate(source));
  const summary: CaptureSummary = { format: 'unknown', compressed: false, complete: false, problems: [], sectionComments: [], frameCount: 0, interfaces: [] };
  let gunzip: Gunzip | null = null;
  try {
    throwIfAborted(signal);
    // Gather enough bytes to recognise the format.
    const head: Uint8Array[] = [];
    let headLen = 0;
    while (headLen < 4) {
      const c = await input.next();
      if (!c) break;
      head.push(c);
      headLen += c.length;
    }
    let first = concat(head, headLen);
    let next: () => Promise<Uint8Array | null> = () => input.next();
    if (first.length >= 2 && first[0] === 0x1f && first[1] === 0x8b) {
      summary.compressed = true;
      gunzip = new Gunzip(input, [first]);
      const g = gunzip;
      next = () => g.next();
      const dhead: Uint8Array[] = [];
      let dlen = 0;
      while (dlen < 4) {
        const c = await next();
        if (!c) break;
        dhead.push(c);
        dlen += c.length;
      }
      first = concat(dhead, dlen);
    }
    if (first.length === 0) {
      summary.problems.push({ fatal: true, offset: 0, message: gunzip?.error ? `compressed data unreadable: ${gunzip.error}` : 'empty file' });
      return summary;
    }
    let parser: RecordParser;
    if (first.length >= 4 && isPcapMagic(first)) { summary.format = 'pcap'; parser = new PcapParser(); }
    else if (first.length >= 4 && first[0] === 0x0a && first[1] === 0x0d && first[2] === 0x0d && first[3] === 0x0a) {
      summary.format = 'pcapng';
      parser = new PcapngParser();
    } else if (looksLikeText(first)) {
      summary.format = 'tcpdump-text';
      return yield* readText(first, next, () => input.bytes, summary, opts, batchSize, gunzip);
    } else {
      summary.problems.push({ fatal: true, offset: 0, message: 'not a pcap, pcapng or tcpdump text file' });
      return summary;
    }

    // Binary records: `buf[pos, end)` holds unparsed bytes; `base` is the file offset of buf[0].
    let buf = first;
    let pos = 0;
    let end = buf.length;
    let base = 0;
    let eof = false;
    let out: RawFrame[] = [];
    let outBytes = 0;
    let ifaceCount = 0;
    let interfaces: CaptureInterface[] = [];
    for (;;) {
      throwIfAborted(signal);
      const before = out.length;
      pos = parser.parse(buf, pos, end, base, out, batchSize);
      for (let i = before; i < out.length; i++) outBytes += out[i]!.caplen;
      summary.frameCount += out.length - before;
      if (parser.interfaces.length !== ifaceCount) { ifaceCount = parser.interfaces.length; interfaces = parser.interfaces.slice(); }
      if (out.length >= batchSize || outBytes >= MAX_BATCH_BYTES || ((parser.failed || eof) && out.length > 0)) {
        yield { interfaces, frames: out, bytesRead: input.bytes };
        out = [];
        outBytes = 0;
        continue;
      }
      if (parser.failed) break;
      if (eof) { parser.finish(pos, end, base); break; }
      // Need more input: gather chunks until the record the parser waits for is complete.
      // Gathering a few hundred KiB at a time keeps per-chunk overhead low with small (16 KiB gzip) pieces.
      const need = Math.max(parser.need, MIN_GATHER);
      const parts: Uint8Array[] = [];
      let have = end - pos;
      while (have < need) {
        const c = await next();
        if (!c) { eof = true; break; }
        parts.push(c);
        have += c.length;
      }
      if (parts.length === 0) continue;
      if (pos === end && parts.length === 1) {
        base += end;
        buf = parts[0]!;
      } else {
        // A fresh buffer each time: views handed out earlier in this batch stay intact.
        const nb = new Uint8Array(have);
        nb.set(buf.subarray(pos, end), 0);
        let o = end - pos;
        for (const p of parts) { nb.set(p, o); o += p.length; }
        base += pos;
        buf = nb;
      }
      pos = 0;
      end = buf.length;
    }
    summary.problems.push(...parser.problems);
    summary.sectionComments = parser.sectionComments;
    summary.interfaces = parser.interfaces.slice();
    if (parser instanceof PcapngParser && parser.nameRecords.length > 0) summary.nameRecords = parser.nameRecords;
    if (gunzip?.error) gzipProblem(summary, gunzip.error, base + end);
    summary.complete = !summary.problems.some((p) => p.fatal);
    return summary;
  } finally {
    await gunzip?.close();
    await input.close();
  }
}

/** Marks a gzip failure: it explains a truncated last record, or is itself the fatal problem. */
function gzipProblem(summary: CaptureSummary, error: string, offset: number): void {
  const fatal = summary.problems.find((p) => p.fatal);
  if (fatal) fatal.message = `compressed data ends early or is corrupt (${error}); ${fatal.message}`;
  else summary.problems.push({ fatal: true, offset, message: `compressed data ends early or is corrupt (${error})` });
}

function concat(parts: Uint8Array[], len: number): Uint8Array {
  if (parts.length === 1) return parts[0]!;
  const b = new Uint8Array(len);
  let o = 0;
  for (const p of parts) { b.set(p, o); o += p.length; }
  return b;
}

async function* readText(
  first: Uint8Array, next: () => Promise<Uint8Array | null>, bytes: () => number, summary: CaptureSummary,
  opts: ReadOptions, batchSize: number, gunzip: Gunzip | null,
): AsyncGenerator<CaptureChunk, CaptureSummary> {
  const parser = new TcpdumpTextParser(opts);
  const dec = new TextDecoder('utf-8');
  let carry = '';
  let packets: Packet[] = [];
  let chunk: Uint8Array | null = first;
  let decodedBytes = 0;
  while (chunk) {
    throwIfAborted(opts.signal);
    decodedBytes += chunk.length;
    const text = carry + dec.decode(chunk, { stream: true });
    const lines = text.split('\n');
    carry = lines.pop()!;
    for (const l of lines) {
      const p = parser.line(l);
      if (p) packets.push(p);
    }
    if (packets.length >= batchSize) {
      summary.frameCount += packets.length;
      yield { interfaces: parser.interfaces.slice(), frames: [], bytesRead: bytes(), packets };
      packets = [];
    }
    chunk = await next();
  }
  const tail = carry + dec.decode();
  if (tail !== '') { const p = parser.line(tail); if (p) packets.push(p); }
  const last = parser.end();
  if (last) packets.push(last);
  if (packets.length > 0) {
    summary.frameCount += packets.length;
    yield { interfaces: parser.interfaces.slice(), frames: [], bytesRead: bytes(), packets };
  }
  summary.problems.push(...parser.problems);
  summary.interfaces = parser.interfaces.slice();
  if (summary.frameCount === 0) summary.problems.push({ fatal: false, offset: 0, message: 'no tcpdump packet lines found in the text' });
  if (gunzip?.error) gzipProblem(summary, gunzip.error, decodedBytes);
  summary.complete = !summary.problems.some((p) => p.fatal);
  return summary;
}
