// The contract between the streaming reader and the binary format parsers (pcap, pcapng).

import type { CaptureInterface, CaptureProblem, RawFrame } from './types.ts';

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
  parse(buf: Uint8Array, pos: number, end: number, base: number, out: RawFrame[], limit: number): number;
  /** Called once at end of input with the unparsed remainder. */
  finish(pos: number, end: number, base: number): void;
}
