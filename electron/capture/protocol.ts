// Wire format between the capture helper and its parent, on the helper's stdout:
// every message is [u32 LE length of the rest][u8 kind][payload].
// kind 1: UTF-8 JSON control message (HelperEvent); kind 2: a packet batch, binary:
// [u32 count] then per packet [u32 ifaceId][u32 tsSec][u32 tsNsec][u32 caplen][u32 len][u32 dir][caplen bytes].
import type { CaptureDevice } from './devices.ts';
import type { Direction } from './direction.ts';
import type { CaptureStats, CaptureSummary, LiveInterface, LivePacket } from './session.ts';

/** Per-packet header size in a batch message. */
const HDR = 24;

export const KIND_JSON = 1;
export const KIND_BATCH = 2;

export type HelperEvent =
  | { type: 'started'; interfaces: LiveInterface[]; warnings: string[]; spoolPath: string }
  | { type: 'stats'; stats: CaptureStats }
  | { type: 'error'; kind: string; message: string }
  | { type: 'end'; summary: CaptureSummary }
  | { type: 'devices'; devices: CaptureDevice[] };

const enc = new TextEncoder();
const dec = new TextDecoder();

export function encodeEvent(ev: HelperEvent): Uint8Array {
  const body = enc.encode(JSON.stringify(ev));
  const out = new Uint8Array(5 + body.length);
  new DataView(out.buffer).setUint32(0, 1 + body.length, true);
  out[4] = KIND_JSON;
  out.set(body, 5);
  return out;
}

export function encodeBatch(packets: LivePacket[]): Uint8Array {
  let size = 9;
  for (const p of packets) size += HDR + p.caplen;
  const out = new Uint8Array(size);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, size - 4, true);
  out[4] = KIND_BATCH;
  dv.setUint32(5, packets.length, true);
  let pos = 9;
  for (const p of packets) {
    dv.setUint32(pos, p.ifaceId, true); dv.setUint32(pos + 4, p.tsSec, true); dv.setUint32(pos + 8, p.tsNsec, true);
    dv.setUint32(pos + 12, p.caplen, true); dv.setUint32(pos + 16, p.len, true); dv.setUint32(pos + 20, p.dir, true);
    out.set(p.data.subarray(0, p.caplen), pos + HDR);
    pos += HDR + p.caplen;
  }
  return out;
}

/** Packets of one batch message; `data` are views into the message bytes. `frame` counts from `firstFrame`. */
export function decodeBatch(body: Uint8Array, firstFrame: number): LivePacket[] {
  const dv = new DataView(body.buffer, body.byteOffset, body.byteLength);
  const n = dv.getUint32(0, true);
  const out: LivePacket[] = [];
  let pos = 4;
  for (let i = 0; i < n; i++) {
    if (pos + HDR > body.length) throw new Error('capture helper sent a truncated batch');
    const caplen = dv.getUint32(pos + 12, true);
    out.push({
      frame: firstFrame + i, ifaceId: dv.getUint32(pos, true), tsSec: dv.getUint32(pos + 4, true), tsNsec: dv.getUint32(pos + 8, true),
      caplen, len: dv.getUint32(pos + 16, true), dir: (dv.getUint32(pos + 20, true) & 3) as Direction, data: body.subarray(pos + HDR, pos + HDR + caplen),
    });
    pos += HDR + caplen;
  }
  return out;
}

export type Message = { kind: typeof KIND_JSON; event: HelperEvent } | { kind: typeof KIND_BATCH; body: Uint8Array };

/** Reassembles messages from arbitrary stdout chunks. */
export class MessageReader {
  private buf = new Uint8Array(0);
  private len = 0;

  push(chunk: Uint8Array): Message[] {
    if (this.len + chunk.length > this.buf.length) {
      const next = new Uint8Array(Math.max(this.len + chunk.length, this.buf.length * 2, 1 << 16));
      next.set(this.buf.subarray(0, this.len));
      this.buf = next;
    }
    this.buf.set(chunk, this.len);
    this.len += chunk.length;
    const out: Message[] = [];
    let pos = 0;
    const dv = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength);
    while (this.len - pos >= 4) {
      const size = dv.getUint32(pos, true);
      if (this.len - pos - 4 < size) break;
      const kind = this.buf[pos + 4];
      // Copy out: the accumulation buffer is reused for the next chunk.
      const body = this.buf.slice(pos + 5, pos + 4 + size);
      if (kind === KIND_JSON) out.push({ kind: KIND_JSON, event: JSON.parse(dec.decode(body)) as HelperEvent });
      else if (kind === KIND_BATCH) out.push({ kind: KIND_BATCH, body });
      else throw new Error(`capture helper sent an unknown message kind ${kind}`);
      pos += 4 + size;
    }
    this.buf.copyWithin(0, pos, this.len);
    this.len -= pos;
    return out;
  }

  /** Bytes of an incomplete message left over (non-zero after the helper was killed mid-write). */
  get leftover(): number { return this.len; }
}
