// Captured frames into stored column chunks (packet-columns.ts), as the app's import writes them.
// The common shapes (IP with TCP, UDP, WireGuard or ESP) go from their bytes straight into the
// chunk's columns with their summaries (FastDecoder with summaries); every other frame is decoded in
// full and added as a packet. A chunk is the same as encodeChunk of decodeFrame's packets, byte for
// byte (test/unit/ingest/chunk-writer.test.ts): only the work differs, less than half of it on the
// lab's bulk captures (`scripts/bench-decode.ts FILE chunks` against `chunks-decoded`).

import type { CaptureInterface, RawFrame } from '../capture-file/types.ts';
import { decodeFrame } from '../protocols/index.ts';
import type { Packet } from '../protocols/packet.ts';
import { FastDecoder } from './fast-decode.ts';
import { ChunkWriter, type ColumnChunk } from './packet-columns.ts';

export class FrameChunker {
  private readonly writer: ChunkWriter;
  private readonly fast: FastDecoder;

  /** `rows`: rows per chunk (take() may come earlier, at the end of a file). */
  constructor(rows: number) {
    this.writer = new ChunkWriter(rows);
    this.fast = new FastDecoder(this.writer, undefined, 'all', true);
  }

  /** Rows added since the last take(). */
  get length(): number { return this.writer.length; }

  /** Adds one frame (its bytes are read now, not kept). */
  addFrame(f: RawFrame, iface: CaptureInterface): void {
    if (!this.fast.tryPush(f, iface)) this.writer.pushPacket(decodeFrame(f, iface));
  }

  /** Adds a packet decoded elsewhere (a tcpdump text line). */
  addPacket(p: Packet): void {
    this.writer.pushPacket(p);
  }

  /** The chunk of the rows added since the last take(), and its buffers for postMessage; the next chunk starts empty. */
  take(): { chunk: ColumnChunk; transfer: ArrayBuffer[] } {
    const out = this.writer.take();
    // Ids are the chunk's own: the decoder's address cache must not carry them into the next one.
    this.fast.forgetIds();
    return out;
  }
}
