// Reads a handful of packets by frame number (ladder hops, evidence links) straight from their
// chunks, for views that need a few packets without scrolling a list to them.

import { useEffect, useState } from 'react';
import type { Packet } from '../../../../shared/protocols/packet.ts';
import { fromStoredChunk, plainPacket } from '../../../../shared/ingest/packet-columns.ts';
import { CHUNK_SIZE, type CaptureRecord, type HostSide } from '../../db/schema.ts';
import { db } from '../../db/store.ts';
import { refKey, type PacketRef } from './model.ts';

export async function readPacket(captureId: number, frame: number): Promise<Packet | undefined> {
  const row = frame - 1;
  const rec = await db.packetChunks.get([captureId, Math.floor(row / CHUNK_SIZE)]);
  if (!rec) return undefined;
  const rows = fromStoredChunk(rec);
  const p = rows.at(row % CHUNK_SIZE);
  // Rows are stored in file order, so row = frame - 1; check rather than trust it.
  if (p && p.frame === frame) return plainPacket(p);
  for (let k = 0; k < rows.length; k++) if (rows.cols.frame[k] === frame) return plainPacket(rows.at(k)!);
  return undefined;
}

/** Raw bytes of one packet (undefined for text imports or when missing). */
export async function readFrameBytes(captureId: number, frame: number): Promise<Uint8Array | undefined> {
  const row = frame - 1;
  const rec = await db.frameChunks.get([captureId, Math.floor(row / CHUNK_SIZE)]);
  if (!rec) return undefined;
  const i = row % CHUNK_SIZE;
  if (i + 1 >= rec.offsets.length) return undefined;
  const b = new Uint8Array(rec.bytes, rec.offsets[i]!, rec.offsets[i + 1]! - rec.offsets[i]!);
  return b.length ? b : undefined;
}

export function usePacketsByRef(captures: Partial<Record<HostSide, CaptureRecord>>, refs: PacketRef[]): Map<string, Packet> {
  const [map, setMap] = useState(new Map<string, Packet>());
  const key = refs.map(refKey).join(',') + `|${captures.A?.id}:${captures.A?.importedAt}|${captures.B?.id}:${captures.B?.importedAt}`;
  useEffect(() => {
    let live = true;
    void (async () => {
      const out = new Map<string, Packet>();
      for (const r of refs) {
        const c = captures[r.capture];
        if (!c) continue;
        const p = await readPacket(c.id, r.frame);
        if (p) out.set(refKey(r), p);
      }
      if (live) setMap(out);
    })();
    return () => {
      live = false;
    };
  }, [key]);
  return map;
}
