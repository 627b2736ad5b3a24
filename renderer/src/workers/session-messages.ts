// Messages between the UI thread and the session worker (one per open session). The worker keeps
// both captures' packets in memory: analysis, display filtering and exports all need every packet,
// and reading them once beats re-reading IndexedDB for every keystroke in the filter box.

import type { HostSide } from '../db/schema.ts';

/** `pcapng` holds both hosts; `pcapng-A` / `pcapng-B` one host each (its own clock). */
export type ExportFormat = 'html' | 'md' | 'json' | 'pcapng' | 'pcapng-A' | 'pcapng-B';

export type ToSessionWorker =
  | { type: 'open'; sessionId: number }
  /** Runs the analysis with the session's stored settings and stores the result in Dexie. */
  | { type: 'analyze'; inputs: string; keepGivenRoles?: boolean }
  /** Orders `rows` (null = every row) of one host by a column; the answer carries the order and its inverse. */
  | { type: 'sort'; id: number; host: HostSide; key: SortKey; desc: boolean; rows: Uint32Array | null }
  /** Conversations per host (endpoint pairs with packets, bytes, first and last time). */
  | { type: 'conversations'; id: number }
  /** Tunnel packets seen on both hosts, matched by their identity (WireGuard index/counter, ESP SPI/seq, IKE SPIs/message id). */
  | { type: 'clockPairs'; id: number }
  | { type: 'filter'; id: number; src: string }
  | { type: 'export'; id: number; format: ExportFormat; title: string }
  /** Re-decodes one capture from its stored raw frames with `ip -o link` names. */
  | { type: 'relink'; host: HostSide; text: string };

export type SortKey = 'no' | 'time' | 'iface' | 'src' | 'dst' | 'proto' | 'len' | 'info';

export interface Conversation {
  proto: string;
  a: string;
  aPort: number | null;
  b: string;
  bPort: number | null;
  packets: number;
  bytes: number;
  /** The endpoint that sent the conversation's first packet. */
  initiator: 'a' | 'b';
  /** Seconds since A's first packet (B on its own clock). */
  first: number;
  last: number;
}

/** Cross-host pairs as columns; times in seconds since A's first packet, each on its own host's clock. */
export interface ClockPairs {
  tA: Float64Array;
  tB: Float64Array;
  /** 1 when the packet went from A to B, 0 from B to A. */
  aToB: Uint8Array;
  /** Pairs found before the list was thinned to the ones plotted. */
  total: number;
}

export interface SideTimes {
  captureId: number;
  count: number;
  /** Seconds since A's first packet of each row (B on its own clock; the UI corrects it). */
  times: Float64Array;
  /** Largest frame length (sizes the Length column). */
  maxLen: number;
}

export type FromSessionWorker =
  | { type: 'progress'; task: string; done: number; total: number }
  /** baseSec + baseNsec: A's first packet (B's when there is no A), the origin of every time shown. */
  | { type: 'loaded'; A: SideTimes | null; B: SideTimes | null; baseSec: number; baseNsec: number; ms: number }
  | { type: 'sorted'; id: number; host: HostSide; order: Uint32Array; pos: Int32Array; ms: number }
  | { type: 'conversations'; id: number; A: Conversation[]; B: Conversation[]; ms: number }
  | { type: 'clockPairs'; id: number; pairs: ClockPairs; ms: number }
  | { type: 'analyzed'; ms: number; error?: string }
  | { type: 'filtered'; id: number; ok: true; A: Uint32Array | null; B: Uint32Array | null; ms: number }
  | { type: 'filtered'; id: number; ok: false; error: string; at: number }
  | { type: 'exported'; id: number; name: string; mime: string; data: Uint8Array | string; ms: number }
  | { type: 'relinked'; host: HostSide; names: number; ms: number }
  | { type: 'error'; task: string; message: string };
