// The one streaming entry point for capture files, shared by the UI worker, the Electron main process
// and the CLI. Detects the format by content (pcap, pcapng, gzip around either, tcpdump text), yields
// frames in batches, and never throws for bad input: damage ends the read with a fatal problem.

import type { CaptureFormat, CaptureInterface, CaptureProblem, RawFrame } from './types.ts';
import type { Packet } from '../protocols/packet.ts';
import type { RecordParser, RecordSink } from './record-parser.ts';
import { PcapParser, isPcapMagic } from './pcap.ts';
import { PcapngParser, type NameRecord } from './pcapng.ts';
import { TcpdumpTextParser, type TextImportOptions } from './tcpdump-text.ts';
import { LineSplitter } from './text/lines.ts';

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
  /** gzip'd input: refuse to inflate past this many bytes (default DEFAULT_MAX_INFLATED_BYTES; a clear fatal problem past it). */
  maxInflatedBytes?: number;
  /**
   * gzip'd input: refuse once inflated bytes exceed this many times the compressed bytes read (checked
   * past INFLATE_RATIO_GRACE bytes). Default DEFAULT_MAX_INFLATE_RATIO; Infinity turns the check off.
   */
  maxInflateRatio?: number;
  /**
   * Binary captures whose parser can (pcap) hand each record to this sink as it is parsed, in file
   * order, instead of yielding it as a RawFrame: their chunks then come with no frames (other
   * formats yield frames as usual). For a consumer that is done with each record at once.
   */
  sink?: RecordSink;
}

/**
 * 4 GiB: more than the app can hold for one host and more than tcpdump usually writes per file before
 * rotating (-C), yet a bomb stops long before it costs that much (the ratio check below usually first).
 */
export const DEFAULT_MAX_INFLATED_BYTES = 4 * 1024 ** 3;
/**
 * Real captures deflate 2-20x (a flood of one packet with live timestamps, some 50x); deflate's ceiling
 * is ~1030x, which only crafted or all-zero data reaches.
 */
export const DEFAULT_MAX_INFLATE_RATIO = 100;
/** The ratio is judged only past this many inflated bytes, so a small, very regular file always reads. */
export const INFLATE_RATIO_GRACE = 32 * 1024 * 1024;
/** Start of the fatal problem message when an inflate limit stops the read (front ends add how to raise it). */
export const INFLATE_LIMIT_MESSAGE = 'gzip data inflates past';
const GZIP_SLICE = 64 * 1024;

/** Flush a batch early once it holds this many bytes, so huge frames do not pile up. */
const MAX_BATCH_BYTES = 4 * 1024 * 1024;
const MIN_GATHER = 256 * 1024;

function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw signal.reason ?? new DOMException('The read was aborted', 'AbortError');
}

export type CaptureSource = AsyncIterable<Uint8Array> | Uint8Array | ReadableStream<Uint8Array>;

/**
 * A source that may refill the buffer of the chunk it handed out last once it is asked for the next
 * one: readCapture sets `recycle` when it copies each chunk as it comes and keeps none past the
 * next read (records handed to a sink). Fresh buffers per chunk are external memory that only a
 * collection frees, and a load that makes little other garbage collects rarely: tens of MiB of
 * spent chunks stayed resident.
 */
export interface RecyclingSource extends AsyncIterable<Uint8Array> { recycle: boolean }

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

/**
 * Decompresses gzip as a stream; `error` is set when the compressed data ends early or is corrupt.
 * Output is counted against a size cap and a ratio cap (a gzip bomb): past either the stream ends and
 * `limited` holds the fatal problem, which the reader reports instead of any record the cut left torn.
 */
class Gunzip {
  error: string | null = null;
  limited: CaptureProblem | null = null;
  private inflated = 0;
  /** Compressed bytes handed to the inflater so far. */
  private fed = 0;
  private reader: ReadableStreamDefaultReader<Uint8Array>;
  private readonly maxBytes: number;
  private readonly maxRatio: number;
  private stopped = false;
  constructor(input: Input, head: Uint8Array[], opts: ReadOptions) {
    this.maxBytes = positiveOr(opts.maxInflatedBytes, DEFAULT_MAX_INFLATED_BYTES);
    this.maxRatio = positiveOr(opts.maxInflateRatio, DEFAULT_MAX_INFLATE_RATIO);
    const ds = new DecompressionStream('gzip') as unknown as TransformStream<Uint8Array, Uint8Array>;
    this.reader = ds.readable.getReader();
    const writer = ds.writable.getWriter();
    // Compressed bytes go in one slice at a time, each write awaited: the inflater has then used what
    // `fed` counts, so the ratio is measured on consumed input. (A pipe would push the whole compressed
    // file in at once, holding it in memory and hiding a bomb's ratio until its end.)
    const pending = [...head];
    void (async () => {
      for (;;) {
        if (this.stopped) return;
        let c = pending.shift() ?? (await input.next());
        if (!c) break;
        if (c.length > GZIP_SLICE) { pending.unshift(c.subarray(GZIP_SLICE)); c = c.subarray(0, GZIP_SLICE); }
        this.fed += c.length;
        await writer.write(c);
      }
      await writer.close();
    })().catch(() => { /* the readable side reports the failure */ });
  }
  async next(): Promise<Uint8Array | null> {
    if (this.error || this.limited) return null;
    try {
      for (;;) {
        const r = await this.reader.read();
        if (r.done) return null;
        if (r.value.length === 0) continue;
        this.inflated += r.value.length;
        const packed = Math.max(1, this.fed);
        const ratio = this.inflated / packed;
        if (this.inflated > this.maxBytes || (this.inflated > INFLATE_RATIO_GRACE && ratio > this.maxRatio)) {
          // The chunk that crossed the line is dropped too: what was yielded before stays valid.
          const n = this.inflated > this.maxBytes ? this.maxBytes : this.inflated;
          this.limited = {
            fatal: true, offset: this.fed,
            message: `${INFLATE_LIMIT_MESSAGE} ${n} bytes (ratio ${ratio < 10 ? ratio.toFixed(1) : Math.round(ratio)})`,
          };
          return null;
        }
        return r.value;
      }
    } catch (e) {
      this.error = e instanceof Error ? e.message : String(e);
      return null;
    }
  }
  async close(): Promise<void> {
    this.stopped = true;
    await this.reader.cancel().catch(() => undefined);
  }
}

function positiveOr(v: number | undefined, fallback: number): number {
  return typeof v === 'number' && v > 0 && !Number.isNaN(v) ? v : fallback;
}

/** Bytes looked at to tell text from binary. */
const TEXT_PROBE = 4096;

function looksLikeText(b: Uint8Array): boolean {
  const n = Math.min(b.length, TEXT_PROBE);
  if (n === 0) return false;
  let bad = 0;
  for (let i = 0; i < n; i++) {
    const c = b[i]!;
    // A stray NUL in pasted text is one bad byte, not proof of binary (binary data has far more).
    if (c < 9 || (c > 13 && c < 32 && c !== 27)) bad++;
  }
  if (bad * 100 >= n) return false;
  // Binary data that avoids control bytes still fails as UTF-8: replacement characters give it away.
  const text = new TextDecoder('utf-8').decode(b.subarray(0, n));
  let replaced = 0;
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 0xfffd) replaced++;
  // A few stray Latin-1 bytes in pasted text are tolerated (up to 1%); binary has them by the dozen.
  return replaced <= Math.max(3, n / 100);
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
      gunzip = new Gunzip(input, [first], opts);
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
      summary.problems.push(gunzip?.limited ?? { fatal: true, offset: 0, message: gunzip?.error ? `compressed data unreadable: ${gunzip.error}` : 'empty file' });
      return summary;
    }
    let parser: RecordParser;
    if (first.length >= 4 && isPcapMagic(first)) { summary.format = 'pcap'; parser = new PcapParser(); }
    else if (first.length >= 4 && first[0] === 0x0a && first[1] === 0x0d && first[2] === 0x0d && first[3] === 0x0a) {
      summary.format = 'pcapng';
      parser = new PcapngParser();
    } else if (gunzip && first.length >= 2 && first[0] === 0x1f && first[1] === 0x8b) {
      // Not inflated a second time: one level keeps the bomb limits simple and is what capture tools write.
      summary.problems.push({ fatal: true, offset: 0, message: 'gzip inside gzip (compressed twice): gunzip it once, then open the result' });
      return summary;
    } else {
      // Text is judged on the same first bytes however small the pieces it arrives in.
      const parts = [first];
      let len = first.length;
      while (len < TEXT_PROBE) {
        const c = await next();
        if (!c) break;
        parts.push(c);
        len += c.length;
      }
      first = concat(parts, len);
      if (!looksLikeText(first)) {
        summary.problems.push({ fatal: true, offset: 0, message: 'not a pcap, pcapng or tcpdump text file' });
        return summary;
      }
      summary.format = 'tcpdump-text';
      return yield* readText(first, next, () => input.bytes, summary, opts, batchSize, gunzip);
    }

    // Binary records: `buf[pos, end)` holds unparsed bytes; `base` is the file offset of buf[0].
    let buf = first;
    let pos = 0;
    let end = buf.length;
    let base = 0;
    let eof = false;
    let out: RawFrame[] = [];
    let outBytes = 0;
    // Records handed to the sink in this batch (they count towards batchSize as frames do).
    const sink = parser.sinks === true ? opts.sink : undefined;
    // Records go to the sink and the bytes come straight from a recycling source: from here on no
    // chunk is read past the next read. Records in the buffer at hand go to the sink before anything
    // more is read, and what is left of it is copied first when more is gathered (below).
    const recycling = sink !== undefined && gunzip === null && !(source instanceof Uint8Array) && typeof (source as Partial<RecyclingSource>).recycle === 'boolean';
    if (recycling) (source as RecyclingSource).recycle = true;
    let sunk = 0;
    const gather: Uint8Array[] = [];
    let turn = 0;
    let ifaceCount = 0;
    let interfaces: CaptureInterface[] = [];
    for (;;) {
      throwIfAborted(signal);
      const before = out.length;
      if (sink !== undefined) {
        pos = parser.parse(buf, pos, end, base, out, batchSize - sunk, sink);
        sunk += parser.taken ?? 0;
        summary.frameCount += parser.taken ?? 0;
      } else pos = parser.parse(buf, pos, end, base, out, batchSize);
      for (let i = before; i < out.length; i++) outBytes += out[i]!.caplen;
      summary.frameCount += out.length - before;
      if (parser.interfaces.length !== ifaceCount) { ifaceCount = parser.interfaces.length; interfaces = parser.interfaces.slice(); }
      const held = out.length + sunk;
      if (held >= batchSize || outBytes >= MAX_BATCH_BYTES || ((parser.failed || eof) && held > 0)) {
        yield { interfaces, frames: out, bytesRead: input.bytes };
        out = [];
        outBytes = 0;
        sunk = 0;
        continue;
      }
      if (parser.failed) break;
      if (eof) { parser.finish(pos, end, base); break; }
      if (parser.skip) {
        // Bytes the parser skips are dropped as they arrive: a 100 MB block nobody reads costs no memory.
        let left = parser.skip - (end - pos);
        parser.skip = 0;
        if (left <= 0) { pos = end + left; continue; }
        let at = base + end;
        for (;;) {
          const c = await next();
          if (!c) { eof = true; buf = new Uint8Array(0); pos = end = 0; base = at; break; }
          if (c.length <= left) { left -= c.length; at += c.length; continue; }
          buf = c; base = at; pos = left; end = c.length;
          break;
        }
        continue;
      }
      // Need more input: gather chunks until the record the parser waits for is complete.
      // Gathering a few hundred KiB at a time keeps per-chunk overhead low with small (16 KiB gzip) pieces.
      const need = Math.max(parser.need, MIN_GATHER);
      if (recycling) {
        // Into this turn's gather buffer (buf is the other one, or a chunk): what is left of buf
        // before anything is read, then each chunk as it arrives, so the source may refill it.
        let nb = gather[turn] ?? null;
        if (nb === null || nb.length < need) nb = gather[turn] = new Uint8Array(Math.max(need, MIN_GATHER * 2));
        nb.set(buf.subarray(pos, end), 0);
        let o = end - pos;
        const held = o;
        while (o < need) {
          const c = await next();
          if (!c) { eof = true; break; }
          if (o + c.length > nb.length) { const g = new Uint8Array(Math.max(nb.length * 2, o + c.length)); g.set(nb.subarray(0, o)); nb = gather[turn] = g; }
          nb.set(c, o);
          o += c.length;
        }
        if (o === held) continue;
        turn ^= 1;
        base += pos;
        buf = nb.subarray(0, o);
        pos = 0;
        end = o;
        continue;
      }
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
        // A fresh buffer each time: views handed out earlier in this batch stay intact. Records that went
        // to a sink left no views: two buffers then take turns (fresh ones, dead at once, would pile up
        // as external memory between collections: the sink's reading makes little other garbage).
        let nb: Uint8Array;
        if (sink !== undefined) {
          const spare = gather[turn] ?? null;
          nb = spare !== null && spare.length >= have ? spare.subarray(0, have) : (gather[turn] = new Uint8Array(Math.max(have, MIN_GATHER * 2)));
          if (nb.length !== have) nb = nb.subarray(0, have);
          turn ^= 1;
        } else nb = new Uint8Array(have);
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
    if (gunzip?.limited) inflateLimitProblem(summary, gunzip.limited);
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

/** The inflate limit is the reason the read ended: a record torn by the cut is not damage of its own. */
function inflateLimitProblem(summary: CaptureSummary, limited: CaptureProblem): void {
  summary.problems = summary.problems.filter((p) => !p.fatal);
  summary.problems.push(limited);
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
  let packets: Packet[] = [];
  // Lines are split once, as they arrive; an overlong line is counted, not kept (text/lines.ts).
  const lines = new LineSplitter({
    line: (l) => { const p = parser.line(l); if (p) packets.push(p); },
    longLine: (head, n) => { const p = parser.longLine(head, n); if (p) packets.push(p); },
  });
  let chunk: Uint8Array | null = first;
  let decodedBytes = 0;
  while (chunk) {
    throwIfAborted(opts.signal);
    decodedBytes += chunk.length;
    lines.push(dec.decode(chunk, { stream: true }));
    if (packets.length >= batchSize) {
      summary.frameCount += packets.length;
      yield { interfaces: parser.interfaces.slice(), frames: [], bytesRead: bytes(), packets };
      packets = [];
    }
    chunk = await next();
  }
  lines.push(dec.decode());
  lines.end();
  const last = parser.end();
  if (last) packets.push(last);
  if (packets.length > 0) {
    summary.frameCount += packets.length;
    yield { interfaces: parser.interfaces.slice(), frames: [], bytesRead: bytes(), packets };
  }
  summary.problems.push(...parser.problems);
  summary.interfaces = parser.interfaces.slice();
  summary.skipped = { count: parser.skipped.count, examples: parser.skipped.examples.slice() };
  // Text with no packet line is not an empty capture: say what was read instead.
  // Only blank lines and tcpdump's own banners ("listening on …", "0 packets captured") is a capture in
  // which nothing was seen: real evidence, kept as an empty capture with a note.
  if (summary.frameCount === 0 && !gunzip?.limited) {
    summary.problems.push(parser.skipped.count > 0 ? parser.noPacketProblem()
      : { fatal: false, offset: 0, message: 'no packet lines: the text holds only blank lines or tcpdump banners (nothing was captured)' });
  }
  if (gunzip?.error) gzipProblem(summary, gunzip.error, decodedBytes);
  if (gunzip?.limited) inflateLimitProblem(summary, gunzip.limited);
  summary.complete = !summary.problems.some((p) => p.fatal);
  return summary;
}
