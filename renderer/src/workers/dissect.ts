// The layer tree of one captured frame, for the packet detail view. Byte parsing, so it runs in
// dissect.worker.ts and never on the UI thread (lint keeps UI code away from the decoders).

import type { CaptureInterface, RawFrame } from '../../../shared/capture-file/types.ts';
import { dissectFrame, type Field } from '../../../shared/protocols/index.ts';
import type { Packet } from '../../../shared/protocols/packet.ts';

/** The frame as the reader delivered it, rebuilt from the stored record and bytes (direction flags and comments included). */
function rawFrameOf(p: Packet, bytes: Uint8Array): RawFrame {
  const f: RawFrame = {
    frame: p.frame, offset: 0, ifaceId: p.ifaceId, tsSec: p.tsSec, tsNsec: p.tsNsec,
    caplen: Math.min(p.caplen, bytes.length), len: p.len, data: bytes,
  };
  const fl = p.dir === 'in' ? 1 : p.dir === 'out' ? 2 : undefined;
  if (fl !== undefined) f.epbFlags = fl;
  if (p.comments) f.comments = p.comments;
  return f;
}

/** Decodes `bytes` (packet `p`'s captured frame) into the detail tree. */
export function dissectDetail(p: Packet, bytes: Uint8Array, iface?: CaptureInterface, linkNames?: Map<number, string>): Field[] {
  const i = iface ?? { id: p.ifaceId, name: p.iface, linktype: p.linktype, snaplen: 0, section: 0 };
  return dissectFrame(rawFrameOf(p, bytes), i, linkNames ? { linkNames } : undefined);
}
