// Lazily loaded packet chunks for the virtualized list: only the chunks under the viewport are
// read from IndexedDB, a small LRU keeps recently seen ones, and a version counter tells React
// to re-render when a chunk arrives. Chunks are column form (or old Packet arrays); a row becomes
// a plain Packet object the first time it is shown and stays the same object, so memoized rows
// do not re-render and the packet can be posted or cloned like any other.

import { useCallback, useEffect, useRef, useState } from 'react';
import type { Packet } from '../../../../shared/protocols/packet.ts';
import { fromStoredChunk, plainPacket, type LoadedChunk } from '../../../../shared/ingest/packet-columns.ts';
import { CHUNK_SIZE } from '../../db/schema.ts';
import { readPacketChunk } from '../../db/store.ts';

const MAX_CHUNKS = 24;

export interface PacketRows {
  /** The packet at 0-based row, or undefined while its chunk loads. */
  get(row: number): Packet | undefined;
  /** Ask for the chunks covering rows [from, to]. */
  want(from: number, to: number): void;
}

interface CachedChunk {
  rows: LoadedChunk;
  shown: Array<Packet | undefined>;
}

export function usePacketRows(captureId: number | null, packetCount: number): PacketRows {
  const cache = useRef(new Map<number, CachedChunk>());
  const pending = useRef(new Set<number>());
  const [, setVersion] = useState(0);

  useEffect(() => {
    cache.current = new Map();
    pending.current = new Set();
    setVersion((v) => v + 1);
  }, [captureId]);

  const load = useCallback(
    (chunk: number, refresh = false) => {
      if (captureId === null || pending.current.has(chunk) || (!refresh && cache.current.has(chunk))) return;
      const forCapture = captureId;
      const pendingSet = pending.current;
      pendingSet.add(chunk);
      void readPacketChunk(forCapture, chunk).then((rec) => {
        pendingSet.delete(chunk);
        if (!rec || pendingSet !== pending.current) return;
        const c = cache.current;
        const rows = fromStoredChunk(rec);
        c.set(chunk, { rows, shown: new Array<Packet | undefined>(rows.length) });
        if (c.size > MAX_CHUNKS) c.delete(c.keys().next().value!);
        setVersion((v) => v + 1);
      });
    },
    [captureId],
  );

  // While importing, chunks keep arriving: re-read a cached chunk that is shorter than it should be
  // (kept on screen meanwhile, so rows do not blink).
  useEffect(() => {
    for (const [chunk, cached] of cache.current) {
      const expected = Math.min(CHUNK_SIZE, packetCount - chunk * CHUNK_SIZE);
      if (cached.rows.length < expected) load(chunk, true);
    }
  }, [packetCount, load]);

  const get = (row: number): Packet | undefined => {
    const chunk = Math.floor(row / CHUNK_SIZE);
    const cached = cache.current.get(chunk);
    if (!cached) return undefined;
    // Refresh LRU position.
    cache.current.delete(chunk);
    cache.current.set(chunk, cached);
    const k = row - chunk * CHUNK_SIZE;
    let p = cached.shown[k];
    if (p === undefined) {
      const v = cached.rows.at(k);
      if (v !== undefined) p = cached.shown[k] = plainPacket(v);
    }
    return p;
  };

  const want = (from: number, to: number): void => {
    if (to < from) return;
    for (let c = Math.floor(from / CHUNK_SIZE); c <= Math.floor(to / CHUNK_SIZE); c++) load(c);
  };

  return { get, want };
}
