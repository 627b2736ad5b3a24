/// <reference lib="webworker" />
// The import path for live capture: batches of raw frames arrive from the UI thread (which got them
// from the main process), are decoded here with the same decoders as a file import, and appended to
// the capture's chunks. The last chunk is partial while the capture runs and is rewritten in place
// as it fills, at most every FLUSH_MS, so the packet list grows without a write per batch. Chunks are
// stored in column form as a file import stores them (packet-columns.ts), so a reopen reads them the
// same fast way; the chunk being filled keeps its decoded packets here until it is full.

import { encodeChunk } from '../../../../shared/ingest/packet-columns.ts';
import { decodeFrame } from '../../../../shared/protocols/index.ts';
import type { CaptureInterface, RawFrame } from '../../../../shared/capture-file/types.ts';
import type { Packet } from '../../../../shared/protocols/packet.ts';
import type { LiveInterfaceInfo } from '../../../../shared/ipc/contract.ts';
import { CHUNK_SIZE, openDb, packFrames, type CaptureRecord, type Timestamp } from '../../db/schema.ts';
import type { FromLiveWorker, ToLiveWorker } from './live-messages.ts';

declare const self: DedicatedWorkerGlobalScope;

const FLUSH_MS = 200;
const db = openDb();

let captureId = -1;
let interfaces: CaptureInterface[] = [];
let ifaceKey = '';
/** Chunk being filled: decoded rows and raw bytes. Rows before it are already written for good. */
let chunkNo = 0;
let packets: Packet[] = [];
let frames: Uint8Array[] = [];
let total = 0;
/** Captured bytes so far, shown as the record's size until the spool's size is known. */
let capturedBytes = 0;
let firstTs: Timestamp | null = null;
let lastTs: Timestamp | null = null;
let dirty = false;
let timer: ReturnType<typeof setTimeout> | undefined;
let writing: Promise<void> = Promise.resolve();
let writeError: unknown = null;
const started = performance.now();

function post(m: FromLiveWorker): void {
  self.postMessage(m);
}

function toInterfaces(list: LiveInterfaceInfo[]): CaptureInterface[] {
  return list.map((i) => ({ id: i.id, name: i.name, linktype: i.linktype, snaplen: i.snaplen, section: 0 }));
}

/** Writes the current chunk (complete or partial) and the capture's counters; writes run in order. */
function write(): Promise<void> {
  clearTimeout(timer);
  timer = undefined;
  if (!dirty) return writing;
  dirty = false;
  const id = captureId;
  const chunk = chunkNo;
  const cols = encodeChunk(packets).chunk;
  const { bytes, offsets } = packFrames(frames);
  const fields: Partial<CaptureRecord> = { packetCount: total, firstTs, lastTs, bytes: capturedBytes };
  if (ifaceKey) fields.interfaces = interfaces;
  if (packets.length === CHUNK_SIZE) {
    // Full: the next batch starts a new chunk; this one is never rewritten.
    chunkNo++;
    packets = [];
    frames = [];
  }
  writing = writing.then(() =>
    db
      .transaction('rw', [db.packetChunks, db.frameChunks, db.captures], async () => {
        await db.packetChunks.put({ captureId: id, chunk, cols });
        await db.frameChunks.put({ captureId: id, chunk, bytes, offsets });
        await db.captures.update(id, fields);
      })
      .then(
        () => post({ type: 'stored', captureId: id, packets: fields.packetCount! }),
        (err: unknown) => {
          writeError ??= err;
        },
      ),
  );
  return writing;
}

function schedule(): void {
  if (timer === undefined) timer = setTimeout(() => void write(), FLUSH_MS);
}

function isEarlier(a: Timestamp, b: Timestamp): boolean {
  return a.sec < b.sec || (a.sec === b.sec && a.nsec < b.nsec);
}

function addBatch(list: LiveInterfaceInfo[], batch: Extract<ToLiveWorker, { type: 'batch' }>['packets']): void {
  const key = list.map((i) => `${i.id}:${i.name}:${i.linktype}`).join('|');
  if (key !== ifaceKey) {
    ifaceKey = key;
    interfaces = toInterfaces(list);
  }
  for (const f of batch) {
    const iface = interfaces[f.ifaceId];
    if (!iface) continue;
    total++;
    capturedBytes += f.caplen;
    const raw: RawFrame = { frame: total, offset: 0, ifaceId: f.ifaceId, tsSec: f.tsSec, tsNsec: f.tsNsec, caplen: f.caplen, len: f.len, data: f.data };
    if (f.dir) raw.epbFlags = f.dir & 3;
    packets.push(decodeFrame(raw, iface));
    frames.push(f.data);
    const ts = { sec: f.tsSec, nsec: f.tsNsec };
    if (!firstTs || isEarlier(ts, firstTs)) firstTs = ts;
    if (!lastTs || isEarlier(lastTs, ts)) lastTs = ts;
    dirty = true;
    if (packets.length === CHUNK_SIZE) void write();
  }
  if (dirty) schedule();
}

async function finish(m: Extract<ToLiveWorker, { type: 'finish' }>): Promise<void> {
  await write();
  let problem = m.problem;
  let status: CaptureRecord['status'] = m.status;
  if (writeError) {
    status = 'partial';
    problem = `could not store every packet (${writeError instanceof Error ? writeError.message : String(writeError)})`;
  }
  const ms = Math.round(performance.now() - started);
  const fields: Partial<CaptureRecord> = { status, packetCount: total, firstTs, lastTs, importMs: ms, format: 'pcapng' };
  if (problem) fields.problem = problem;
  if (m.fileName) fields.fileName = m.fileName;
  if (m.bytes !== undefined) fields.bytes = m.bytes;
  await db.captures.update(captureId, fields);
  post({ type: 'finished', captureId, packets: total, ms, ...(problem ? { problem } : {}) });
}

self.onmessage = (ev: MessageEvent<ToLiveWorker>) => {
  const m = ev.data;
  if (m.type === 'begin') captureId = m.captureId;
  else if (m.type === 'batch') addBatch(m.interfaces, m.packets);
  else void finish(m);
};
