// The IndexedDB schema (through Dexie). Shared by the UI thread and the import worker, which
// both open the same database. Every change to the stores gets a new db.version(n) block so
// existing users' data migrates instead of being dropped.
//
// Packets are stored in chunks of CHUNK_SIZE rows, not one record per packet: a million
// packets become 500 puts instead of a million, and the list reads one chunk per screen.
// Raw bytes live in a separate store so scrolling the list never deserialises them.

import Dexie, { type EntityTable } from 'dexie';
import type { Packet } from '../../../shared/protocols/packet.ts';
import type { CaptureInterface } from '../../../shared/capture-file/types.ts';
import type { SkippedLines } from '../../../shared/capture-file/reader.ts';
import type { AnalysisResult } from '../../../shared/analysis/types.ts';
import type { ColumnChunk } from '../../../shared/ingest/packet-columns.ts';
import type { EvidenceFormat } from '../../../shared/evidence/types.ts';

export const DB_NAME = 'tandem';
export const CHUNK_SIZE = 2000;

export type HostSide = 'A' | 'B';
/**
 * 'complete' and 'partial' captures are usable (shown, analysed). 'cancelled' (the user stopped the
 * import and has not chosen to keep what was read) and 'failed' (storage error, interrupted import)
 * are never analysed: they wait for Keep or Delete. Unreadable files are not stored at all.
 */
export type CaptureStatus = 'importing' | 'complete' | 'partial' | 'cancelled' | 'failed';

/** Whether a capture may be shown in the workbench and analysed. */
export function isUsable(c: { status: CaptureStatus }): boolean {
  return c.status === 'complete' || c.status === 'partial';
}

export interface Timestamp { sec: number; nsec: number }

export interface SessionRecord {
  id: number;
  name: string;
  createdAt: number;
  updatedAt: number;
}

export interface CaptureRecord {
  id: number;
  sessionId: number;
  host: HostSide;
  fileName: string;
  /** Unknown until the worker has sniffed the file. */
  format: 'pcap' | 'pcapng' | 'tcpdump-text' | '';
  compressed?: boolean;
  interfaces: CaptureInterface[];
  /** Packets written so far (grows while importing). */
  packetCount: number;
  /** File size in bytes as given. */
  bytes: number;
  status: CaptureStatus;
  /** One line, e.g. "a.pcap: truncated packet record at byte 1234". */
  problem?: string;
  firstTs: Timestamp | null;
  lastTs: Timestamp | null;
  sectionComments?: string[];
  /** tcpdump text: lines not understood as packets (no index, so no schema version change). */
  skipped?: SkippedLines;
  /** Input bytes consumed so far while importing (progress for the workbench panes). */
  bytesRead?: number;
  importedAt: number;
  /** Wall-clock import time in ms, once finished. */
  importMs?: number;
}

/**
 * CHUNK_SIZE packets; row r of a capture is row r % CHUNK_SIZE of chunk floor(r / CHUNK_SIZE). New
 * chunks hold columns (`cols`, shared/ingest/packet-columns.ts: a few buffers, fast to write and
 * read back); chunks written before, and by live capture, hold `packets`. Read them with
 * fromStoredChunk, which takes either (no store changed, so no schema version).
 */
export interface PacketChunkRecord {
  captureId: number;
  chunk: number;
  cols?: ColumnChunk;
  packets?: Packet[];
}

/** The raw bytes of one packet chunk: frame i is bytes[offsets[i] .. offsets[i+1]). */
export interface FrameChunkRecord {
  captureId: number;
  chunk: number;
  bytes: ArrayBuffer;
  offsets: Uint32Array;
}

export interface NoteRecord {
  id: number;
  sessionId: number;
  /** What the note is attached to, e.g. "session", "packet:A:17", "checkpoint:B4". */
  target: string;
  text: string;
  createdAt: number;
}

export interface AnalysisOptionsRecord {
  /** Flow selector as typed by the user ("tcp 192.168.200.22:80"); empty = automatic. */
  flow?: string;
  /** Manual clock difference of B relative to A. */
  clockOverride?: { offset_s: number; skew_ppm?: number };
}

/**
 * The latest analysis of a session (schema v2). `inputs` names the capture ids and packet counts
 * it was computed from, so a re-import or a new override makes it stale.
 */
export interface AnalysisRecord {
  sessionId: number;
  status: 'done' | 'failed';
  result?: AnalysisResult;
  error?: string;
  options: AnalysisOptionsRecord;
  inputs: string;
  ms: number;
  updatedAt: number;
}

/** Per-session settings (schema v2): analysis options and `ip -o link` text per host. */
export interface SessionSettingsRecord {
  sessionId: number;
  options: AnalysisOptionsRecord;
  links?: Partial<Record<HostSide, string>>;
  /** Only in the app-wide row (APP_SETTINGS_ID): the capture dialog's far-end (SSH) choices. */
  farEnd?: FarEndSettings;
  /** Host evidence per host, in the order added (no index, so no schema version change; see db/evidence.ts). */
  evidence?: Partial<Record<HostSide, EvidenceRecord[]>>;
}

/** One command output of a host (`wg show all dump`, `nft -j list ruleset` …), pasted or from a file. */
export interface EvidenceRecord {
  /** Unique within the session; the analysis key names it, so a removed-then-added text never looks unchanged. */
  id: string;
  /** File name, or the label given to a paste. */
  name: string;
  /** As given (at most 16 MiB). */
  text: string;
  addedAt: number;
  /** What detectAndParse recognised. */
  format: EvidenceFormat;
  /** Lines the parser could not read (the first ones; `problemCount` is the total). */
  problems: Array<{ line: number; message: string; text?: string }>;
  problemCount?: number;
  /** Private/preshared or ESP keys replaced in `text` before it was stored. */
  secretsRemoved?: number;
}

/**
 * Settings that belong to the app rather than to a session share the settings store under this key;
 * session ids start at 1, so no session ever owns it (and no schema change was needed).
 */
export const APP_SETTINGS_ID = 0;

/** One far end the user captured on. Connection facts only: never a password or passphrase. */
export interface FarEndRecord {
  /** As typed: user@host[:port]. */
  destination: string;
  /** Absolute path of the private key, or '' for ssh-agent and default keys. */
  identityFile: string;
  interface: string;
  /** The far end's filter; null means "the same as the local one". */
  filter: string | null;
  sudo: boolean;
  usedAt: number;
}

export interface FarEndSettings {
  /** Whether the last started capture included a far end (the dialog opens the same way). */
  enabled: boolean;
  /** Most recently used first. */
  recent: FarEndRecord[];
}

export type TandemDb = Dexie & {
  sessions: EntityTable<SessionRecord, 'id'>;
  captures: EntityTable<CaptureRecord, 'id'>;
  packetChunks: Dexie.Table<PacketChunkRecord, [number, number]>;
  frameChunks: Dexie.Table<FrameChunkRecord, [number, number]>;
  notes: EntityTable<NoteRecord, 'id'>;
  analyses: Dexie.Table<AnalysisRecord, number>;
  settings: Dexie.Table<SessionSettingsRecord, number>;
};

/** relaxed: commit once the OS has the data (bulk imports; a crash loses at most the import in progress). */
export function openDb(name = DB_NAME, opts: { relaxed?: boolean } = {}): TandemDb {
  const db = new Dexie(name, opts.relaxed ? { chromeTransactionDurability: 'relaxed' } : {}) as TandemDb;
  db.version(1).stores({
    sessions: '++id, updatedAt',
    captures: '++id, sessionId',
    packetChunks: '[captureId+chunk]',
    frameChunks: '[captureId+chunk]',
    notes: '++id, sessionId',
  });
  // v2 adds the stored analysis and per-session settings. Existing sessions get empty settings so
  // every session has a row; analyses are recomputed on first open (the worker notices none exists).
  db.version(2)
    .stores({
      analyses: 'sessionId, updatedAt',
      settings: 'sessionId',
    })
    .upgrade(async (tx) => {
      const ids = (await tx.table('sessions').toCollection().primaryKeys()) as number[];
      await tx.table('settings').bulkPut(ids.map((sessionId) => ({ sessionId, options: {} })));
    });
  return db;
}

/** Key range covering every chunk of one capture in a [captureId+chunk] store. */
export function chunkRange(captureId: number): [[number, number], [number, number]] {
  return [[captureId, 0], [captureId, Number.MAX_SAFE_INTEGER]];
}

/** Packs one chunk's raw frames into a single buffer plus offsets (offsets[i]..offsets[i+1] is frame i). */
export function packFrames(list: readonly Uint8Array[]): { bytes: ArrayBuffer; offsets: Uint32Array } {
  let size = 0;
  for (const f of list) size += f.byteLength;
  const bytes = new Uint8Array(size);
  const offsets = new Uint32Array(list.length + 1);
  let pos = 0;
  for (let i = 0; i < list.length; i++) {
    offsets[i] = pos;
    bytes.set(list[i]!, pos);
    pos += list[i]!.byteLength;
  }
  offsets[list.length] = pos;
  return { bytes: bytes.buffer, offsets };
}
