// Test helpers for the capture-file readers: corpus paths, whole-file reads, and tshark as the oracle.

import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { readCapture, type CaptureSource, type CaptureSummary } from '../../../shared/capture-file/index.ts';
import type { CaptureInterface, RawFrame } from '../../../shared/capture-file/types.ts';
import type { Packet } from '../../../shared/protocols/packet.ts';

export const CORPUS = fileURLToPath(new URL('../../../../shared/corpus/tcpdump-tests/', import.meta.url));
export const SEEDS = fileURLToPath(new URL('../../../../shared/reference/seed-captures/', import.meta.url));
export const FIXTURES = fileURLToPath(new URL('./fixtures/', import.meta.url));

export interface ReadResult {
  frames: RawFrame[];
  packets: Packet[];
  interfaces: CaptureInterface[];
  summary: CaptureSummary;
  chunks: number;
}

/** Reads a whole capture, copying frame data out of the reader's buffers. */
export async function readAll(source: CaptureSource, opts: Parameters<typeof readCapture>[1] = {}): Promise<ReadResult> {
  const frames: RawFrame[] = [];
  const packets: Packet[] = [];
  let interfaces: CaptureInterface[] = [];
  let chunks = 0;
  const g = readCapture(source, opts);
  let r = await g.next();
  while (!r.done) {
    chunks++;
    interfaces = r.value.interfaces;
    for (const f of r.value.frames) frames.push({ ...f, data: f.data.slice() });
    if (r.value.packets) packets.push(...r.value.packets);
    r = await g.next();
  }
  return { frames, packets, interfaces, summary: r.value, chunks };
}

export function readFile(path: string, opts: Parameters<typeof readCapture>[1] = {}): Promise<ReadResult> {
  return readAll(new Uint8Array(readFileSync(path)), opts);
}

function has(tool: string): boolean {
  return spawnSync(tool, ['--version'], { stdio: 'ignore' }).status === 0;
}

export const HAVE_TSHARK = has('tshark');
export const HAVE_TCPDUMP = spawnSync('tcpdump', ['--version'], { stdio: 'ignore' }).status === 0;
export const HAVE_CAPINFOS = spawnSync('capinfos', ['-h'], { stdio: 'ignore' }).status === 0;

/** Runs a tool and returns stdout (stderr ignored); throws when it cannot start. */
export function run(tool: string, args: string[], input?: Uint8Array): { stdout: string; stderr: string; status: number } {
  const r = spawnSync(tool, args, { input, maxBuffer: 256 * 1024 * 1024, encoding: 'utf8' });
  if (r.error) throw r.error;
  return { stdout: r.stdout, stderr: r.stderr, status: r.status ?? -1 };
}

/** tshark's view of each frame: the requested fields, tab separated. */
export function tsharkFields(file: string, fields: string[]): string[][] {
  const args = ['-n', '-r', file, '-T', 'fields', '-E', 'occurrence=f'];
  // Frame-level fields need no dissection: skipping it makes tshark several times faster.
  if (fields.every((f) => f.startsWith('frame.') && f !== 'frame.protocols')) args.push('--disable-protocol', 'ALL');
  for (const f of fields) args.push('-e', f);
  return run('tshark', args).stdout.split('\n').filter((l) => l !== '').map((l) => l.split('\t'));
}

export function epoch(f: { tsSec: number; tsNsec: number }): string {
  return `${f.tsSec}.${String(f.tsNsec).padStart(9, '0')}`;
}
