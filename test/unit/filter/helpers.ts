// Test helpers: decode real captures through the project's single ingest path, and hand them to the
// filter as the session worker holds them (column chunks).

import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadAll } from '../../../shared/ingest/load-capture.ts';
import { ChunkPackets, encodeChunk, fromStoredChunk, type LoadedChunk } from '../../../shared/ingest/packet-columns.ts';
import { parseIpLink } from '../../../shared/capture-file/links.ts';
import type { Packet } from '../../../shared/protocols/packet.ts';

export const CORPUS = fileURLToPath(new URL('../../../../shared/corpus/tcpdump-tests/', import.meta.url));
export const WG_SLL2 = fileURLToPath(new URL('../protocols/fixtures/wg-sll2.pcap', import.meta.url));

const cache = new Map<string, Promise<{ packets: Packet[]; frames: Uint8Array[] }>>();

/**
 * Packets (and copied frame bytes) of a capture file; loaded once per test process.
 * A sibling `NAME.ip-link.txt` (the capture host's `ip -o link`) names SLL2 interfaces.
 */
export function packetsOf(path: string): Promise<{ packets: Packet[]; frames: Uint8Array[] }> {
  let p = cache.get(path);
  if (p === undefined) {
    const b = readFileSync(path);
    const links = path.replace(/\.pcap(ng)?$/, '.ip-link.txt');
    const linkNames = links !== path && existsSync(links) ? parseIpLink(readFileSync(links, 'utf8')) : undefined;
    p = loadAll(new Uint8Array(b.buffer, b.byteOffset, b.byteLength), { keepBytes: true, linkNames });
    cache.set(path, p);
  }
  return p;
}

export const LAB = process.env['TANDEM_LAB_DIR'] ?? fileURLToPath(new URL('../../../out/lab/', import.meta.url));

/**
 * The packets of the named corpus files (those present), the WireGuard SLL2 fixture and, per lab
 * run, its files named in `labFiles`, one after the other (the summary tests cut their needles from these).
 */
export async function summaryPackets(corpusFiles: readonly string[], labFiles: readonly string[]): Promise<Packet[]> {
  const files = [...corpusFiles.map((f) => CORPUS + f).filter((f) => existsSync(f)), WG_SLL2];
  if (existsSync(LAB)) {
    for (const run of readdirSync(LAB).sort()) for (const f of labFiles) if (existsSync(join(LAB, run, f))) files.push(join(LAB, run, f));
  } else console.log(`# ${LAB} missing: corpus only (run test/lab/lab.sh for the lab captures)`);
  const out: Packet[] = [];
  // One at a time: a spread of a bulk capture's packets would pass a million arguments.
  for (const f of files) for (const p of (await packetsOf(f)).packets) out.push(p);
  return out;
}

/** Chunks of `size` rows, or of the sizes in turn (a live capture's and old sessions' uneven chunks, empty ones too). */
export function chunked(packets: Packet[], size: number | number[]): ChunkPackets {
  const chunks: LoadedChunk[] = [];
  const sizes = Array.isArray(size) ? size : [size];
  for (let i = 0, j = 0; i < packets.length; j++) {
    const n = sizes[j % sizes.length]!;
    // Through a structured clone, as IndexedDB gives the chunks back to the session worker.
    chunks.push(fromStoredChunk(structuredClone({ cols: encodeChunk(packets.slice(i, i + n)).chunk })));
    i += n;
  }
  return new ChunkPackets(chunks);
}

/** Deterministic choices (the same cases every run). */
export function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 4294967296);
}

/**
 * A row drawn at random (`r`) from `chunks` (each of two rows or more; the last row is never drawn, so
 * a next one exists): its chunk and position, its summary and the lengths of its own text and of its
 * rebuilt lead-in; null when the row drawn is a plain one (no lead-in of its own).
 */
export function drawRow(chunks: readonly LoadedChunk[], r: () => number): { ch: LoadedChunk; k: number; whole: string; ownLen: number; leadLen: number } | null {
  const ch = chunks[Math.floor(r() * chunks.length)]!;
  const k = Math.floor(r() * (ch.length - 1));
  if (ch.cols.isPlain[k] === 1) return null;
  const whole = ch.summaryAt(k);
  const ownLen = ch.sumOff[k + 1]! - ch.sumOff[k]!;
  return { ch, k, whole, ownLen, leadLen: whole.length - ownLen };
}
