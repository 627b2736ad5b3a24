// The machine-readable form of one decoded frame (`tandem inspect --json`, JSON exports).
import type { Packet } from '../protocols/packet.ts';
import { isoNs } from '../util/time.ts';

export type PacketJson = Omit<Packet, 'tsSec' | 'tsNsec'> & { time: string };

export function packetToJson(p: Packet): PacketJson {
  const { tsSec, tsNsec, frame, ...rest } = p;
  return { frame, time: isoNs(tsSec, tsNsec), ...rest };
}
