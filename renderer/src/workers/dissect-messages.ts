// Messages between the packet detail view and the dissect worker.

import type { CaptureInterface } from '../../../shared/capture-file/types.ts';
import type { Field } from '../../../shared/protocols/fields.ts';
import type { Packet } from '../../../shared/protocols/packet.ts';

export interface DissectRequest {
  id: number;
  packet: Packet;
  /** The captured frame (a copy travels; the caller's view stays usable). */
  bytes: Uint8Array;
  iface?: CaptureInterface;
  /** SLL2 interface index → name pairs. */
  linkNames?: Array<[number, string]>;
}

export type DissectReply = { id: number; fields: Field[] } | { id: number; error: string };
