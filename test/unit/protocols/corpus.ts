// Test helper: read a corpus capture with the project's reader and decode every frame.

import { readFileSync, existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { readCapture } from '../../../shared/capture-file/reader.ts';
import type { CaptureInterface, RawFrame } from '../../../shared/capture-file/types.ts';

export const CORPUS = fileURLToPath(new URL('../../../../shared/corpus/tcpdump-tests/', import.meta.url));
export const FIXTURES = fileURLToPath(new URL('./fixtures/', import.meta.url));

export interface Loaded { frames: RawFrame[]; interfaces: CaptureInterface[]; complete: boolean }

/** All frames of a file, with their bytes copied out of the reader's reused buffers. */
export async function load(path: string): Promise<Loaded> {
  const bytes = readFileSync(path);
  const frames: RawFrame[] = [];
  let interfaces: CaptureInterface[] = [];
  const gen = readCapture(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  for (;;) {
    const r = await gen.next();
    if (r.done) return { frames, interfaces, complete: r.value.complete };
    interfaces = r.value.interfaces;
    for (const f of r.value.frames) frames.push({ ...f, data: f.data.slice() });
  }
}

export function corpusFile(name: string): string {
  return CORPUS + name;
}

export function exists(path: string): boolean {
  return existsSync(path);
}
