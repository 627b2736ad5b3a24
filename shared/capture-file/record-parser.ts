// The contract between the streaming reader and the binary format parsers (pcap, pcapng).

import type { CaptureInterface, CaptureProblem, RawFrame } from './types.ts';

/**
 * Takes each parsed record where it lies in the reader's buffer, instead of a RawFrame with a view
 * per record (the bulk load's fast path: most records never need either). Called in file order,
 * synchronously; `buf` is valid only during the call: copy what must be kept.
 */
export interface RecordSink {
  record(buf: Uint8Array, start: number, frame: number, offset: number, iface: CaptureInterface, tsSec: number, tsNsec: number, caplen: number, len: number): void;
}

export interface RecordParser {
  /** Interfaces known so far (grows while reading pcapng). */
  interfaces: CaptureInterface[];
  problems: CaptureProblem[];
  sectionComments: string[];
  /** Set after a fatal problem: nothing more will be parsed. */
  failed: boolean;
  /** Bytes needed from the returned position before the next record can be parsed. */
  need: number;
  /**
   * Bytes from the returned position the parser has no use for (the body of a big block it skips):
   * the reader drops them as they arrive rather than buffering them, then resets this to 0.
   */
  skip?: number;
  /**
   * Parses whole records from buf[pos, end) and appends frames to `out` until `limit` frames are there.
   * `base` is the file offset of buf[0]. Frame data are views into `buf`. Returns the new position.
   */
  parse(buf: Uint8Array, pos: number, end: number, base: number, out: RawFrame[], limit: number, sink?: RecordSink): number;
  /**
   * Parsers that can hand records to a sink (pcap): with one given, records go to it rather than to
   * `out` (`limit` counts both), and `taken` says how many the last parse call handed over.
   */
  readonly sinks?: boolean;
  taken?: number;
  /** Called once at end of input with the unparsed remainder. */
  finish(pos: number, end: number, base: number): void;
}
