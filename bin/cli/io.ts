// Node-side I/O for the CLI: file streams in, buffered text out, one-line errors.
import { createReadStream, readFileSync, statSync } from 'node:fs';
import { basename } from 'node:path';
import { visible } from '../../shared/util/shell.ts';
import { INFLATE_LIMIT_MESSAGE } from '../../shared/capture-file/reader.ts';

/** A CLI failure the user caused (bad file, bad flag): printed as one line, never a stack trace. */
export class UsageError extends Error {}

/** `chunkBytes`: read size (analyze's decode workers read in smaller pieces, see bin/cli/parallel-load.ts). */
export function openCapture(file: string, chunkBytes = 1 << 20): AsyncIterable<Uint8Array> {
  mustBeFile(file);
  return createReadStream(file, { highWaterMark: chunkBytes >= 4096 ? chunkBytes : 1 << 20 });
}

/** Refuses, in one line, a capture path that is missing or not a regular file (a directory, a device). */
export function mustBeFile(file: string): void {
  let st;
  try { st = statSync(file); } catch { throw new UsageError(`${file}: cannot open (no such file)`); }
  if (!st.isFile()) throw new UsageError(`${file}: not a regular file`);
}

export function readText(file: string): string {
  try { return readFileSync(file, 'utf8'); } catch { throw new UsageError(`${file}: cannot read`); }
}

/** A file name for a message: its base name, with control and bidi characters made visible. */
export function displayName(file: string): string { return visible(basename(file)); }

/**
 * `--max-inflate SIZE`: bytes, or a number with K/M/G/T (powers of 1024, optional "iB"/"B").
 * A bound the user gives is theirs to choose, so it also turns off the ratio check.
 */
export function parseSize(flag: string, v: string | boolean | undefined): number | undefined {
  if (v === undefined) return undefined;
  const m = typeof v === 'string' ? /^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(?:i?b)?\s*$/i.exec(v) : null;
  const n = m ? Number(m[1]) * 1024 ** ' kmgt'.indexOf((m[2] || ' ').toLowerCase()) : NaN;
  if (!m || !Number.isFinite(n) || n < 1 || n > 2 ** 50) throw new UsageError(`${flag} needs a size such as 8G, 512M or 1000000 (got "${visible(String(v))}")`);
  return Math.floor(n);
}

/** Reader options for `--max-inflate`. */
export function inflateOptions(flags: Record<string, string | boolean>): { maxInflatedBytes?: number; maxInflateRatio?: number } {
  const max = parseSize('--max-inflate', flags['max-inflate']);
  return max === undefined ? {} : { maxInflatedBytes: max, maxInflateRatio: Infinity };
}

/** One line for a reader problem: `FILE: message at byte N`, plus how to lift an inflate limit. */
export function problemLine(file: string, p: { message: string; offset: number }): string {
  const hint = p.message.startsWith(INFLATE_LIMIT_MESSAGE) ? '; use --max-inflate SIZE to allow more' : '';
  return `${displayName(file)}: ${visible(p.message)} at byte ${p.offset}${hint}`;
}

/**
 * The reader's non-fatal problems (a record it repaired, a time it could not show, comments it cut) as
 * `note:` lines for stderr: the first few, then how many more. The packets are all there; these say
 * where the file was odd.
 */
export function problemNotes(file: string, problems: ReadonlyArray<{ fatal: boolean; message: string; offset: number }>, most = 3): string[] {
  const odd = problems.filter((p) => !p.fatal);
  const lines = odd.slice(0, most).map((p) => `note: ${problemLine(file, p)}`);
  if (odd.length > most) lines.push(`note: ${displayName(file)}: ${odd.length - most} more like these`);
  return lines;
}

/** Buffered writer for large outputs; stops quietly when the reader goes away (`| head`). */
export class Out {
  private parts: string[] = [];
  private size = 0;
  closed = false;
  constructor(private readonly stream: NodeJS.WritableStream = process.stdout) {
    stream.on('error', (e: NodeJS.ErrnoException) => { if (e.code === 'EPIPE') this.closed = true; else throw e; });
  }
  line(s: string): void {
    if (this.closed) return;
    this.parts.push(s, '\n');
    this.size += s.length + 1;
    if (this.size > 1 << 16) this.flushSync();
  }
  private flushSync(): void {
    if (this.parts.length === 0) return;
    const text = this.parts.join('');
    this.parts = [];
    this.size = 0;
    this.stream.write(text);
  }
  /** Waits until the stream drained, so a huge listing does not pile up in memory. */
  async drain(): Promise<void> {
    this.flushSync();
    const s = this.stream as NodeJS.WritableStream & { writableNeedDrain?: boolean };
    if (!s.writableNeedDrain || this.closed) return;
    // The reader may go away instead of reading on (EPIPE): that ends the wait too, or it never would.
    await new Promise<void>((r) => {
      const done = (): void => { s.off('drain', done); s.off('close', done); s.off('error', done); r(); };
      s.on('drain', done); s.on('close', done); s.on('error', done);
    });
  }
  async end(): Promise<void> { await this.drain(); }
}

/** Minimal flag parser: `--name value`, `--flag`, positionals. Unknown flags are an error. */
export function parseArgs(argv: string[], spec: Record<string, 'string' | 'boolean'>) {
  const flags: Record<string, string | boolean> = {};
  const positionals: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a.startsWith('--') && a.length > 2) {
      const eq = a.indexOf('=');
      const name = eq > 0 ? a.slice(2, eq) : a.slice(2);
      const kind = spec[name];
      if (!kind) throw new UsageError(`unknown option --${name}`);
      if (kind === 'boolean') flags[name] = true;
      else {
        const v = eq > 0 ? a.slice(eq + 1) : argv[++i];
        if (v === undefined) throw new UsageError(`option --${name} needs a value`);
        flags[name] = v;
      }
    } else positionals.push(a);
  }
  return { flags, positionals };
}
