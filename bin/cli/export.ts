// Writes the session exports (HTML, Markdown, JSON, PDF, annotated pcapng) for `tandem analyze`.
// The content comes from shared/report; this file only touches the disk and runs Chromium for PDF.
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import { delimiter, dirname, extname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { AnalysisResult } from '../../shared/analysis/types.ts';
import { parseNotes, type Note } from '../../shared/report/notes.ts';
import type { ReportCapture, ReportInput } from '../../shared/report/types.ts';
import { renderHtmlReport } from '../../shared/report/html.ts';
import { renderMarkdownReport } from '../../shared/report/markdown.ts';
import { renderJsonReport } from '../../shared/report/json.ts';
import { annotatedPcapngChunks } from '../../shared/report/pcapng-export.ts';
import { UsageError } from './io.ts';

/** A capture as the CLI loaded it: `loadAll(..., { keepBytes: true })` plus its name. */
export type LoadedCapture = ReportCapture;

export interface ExportRequest {
  a: LoadedCapture;
  b: LoadedCapture;
  result: AnalysisResult;
  notes?: Note[];
  html?: string;
  md?: string;
  json?: string;
  pdf?: string;
  pcapng?: string;
  /** Also write FILE-A.pcapng and FILE-B.pcapng next to the merged pcapng (each host alone). */
  perHost?: boolean;
  /** Move B's timestamps onto A's clock in the pcapng (default: yes for the merged file when the clock is known). */
  correctClock?: boolean;
  /** Path of a Chromium binary for the PDF (default: search PATH). */
  chromium?: string;
}

/** Flags `tandem analyze` accepts for exports (merge into its parseArgs spec). */
export const EXPORT_FLAGS = {
  html: 'string', md: 'string', pdf: 'string', pcapng: 'string', 'report-json': 'string', notes: 'string',
  'per-host': 'boolean', 'correct-clock': 'boolean', 'no-correct-clock': 'boolean',
} as const satisfies Record<string, 'string' | 'boolean'>;

export const EXPORT_HELP = `      --html F, --md F, --pdf F: report as one self-contained HTML file, Markdown, PDF (needs Chromium)
      --pcapng F: both hosts in one annotated pcapng (checkpoints, findings, notes as comments; B on A's clock
        unless --no-correct-clock); --per-host also writes F-A.pcapng and F-B.pcapng
      --report-json F: the analysis JSON plus notes; --notes F: notes (JSON array) to put in every export`;

/** The export part of a request from parsed flags; `needsBytes` says whether captures must keep raw bytes. */
export function exportOptionsFromFlags(flags: Record<string, string | boolean>): Omit<ExportRequest, 'a' | 'b' | 'result'> & { needsBytes: boolean } {
  const str = (k: string) => (typeof flags[k] === 'string' ? (flags[k] as string) : undefined);
  if (flags['per-host'] && !str('pcapng')) throw new UsageError('--per-host needs --pcapng FILE');
  if (flags['correct-clock'] && flags['no-correct-clock']) throw new UsageError('--correct-clock and --no-correct-clock exclude each other');
  const notesFile = str('notes');
  return {
    html: str('html'), md: str('md'), pdf: str('pdf'), pcapng: str('pcapng'), json: str('report-json'),
    perHost: flags['per-host'] === true,
    correctClock: flags['no-correct-clock'] ? false : flags['correct-clock'] ? true : undefined,
    notes: notesFile ? readNotes(notesFile) : undefined,
    needsBytes: str('pcapng') !== undefined,
  };
}

/** Version from the package.json above this module (works from bin/cli/ and from the out/cli/ bundle). */
export function toolVersion(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    const f = join(dir, 'package.json');
    if (existsSync(f)) {
      try {
        const pkg = JSON.parse(readFileSync(f, 'utf8')) as { name?: string; version?: string };
        if (pkg.name === 'tandem' && pkg.version) return pkg.version;
      } catch { /* keep looking */ }
    }
    dir = dirname(dir);
  }
  return 'unknown';
}

const CHROMIUM_NAMES = ['chromium', 'chromium-browser', 'google-chrome', 'google-chrome-stable', 'chrome'];

/** First Chromium-family browser: $TANDEM_CHROMIUM, then PATH, then Debian's /usr/bin/chromium. */
export function findChromium(): string | undefined {
  const env = process.env.TANDEM_CHROMIUM;
  if (env && existsSync(env)) return env;
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    for (const n of CHROMIUM_NAMES) { const p = join(dir, n); if (existsSync(p)) return p; }
  }
  return existsSync('/usr/bin/chromium') ? '/usr/bin/chromium' : undefined;
}

/** Prints an HTML file to PDF with headless Chromium (path from findChromium()); throws a one-line UsageError when that fails. */
export async function htmlToPdf(htmlFile: string, pdfFile: string, chromium: string | undefined): Promise<void> {
  if (!chromium) throw new UsageError('--pdf needs Chromium or Google Chrome (none found on PATH; set TANDEM_CHROMIUM to its path)');
  // A throw-away profile keeps the run from touching (or waiting on) the user's browser profile.
  const profile = mkdtempSync(join(tmpdir(), 'tandem-pdf-'));
  const args = [
    '--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', `--user-data-dir=${profile}`,
    '--no-pdf-header-footer', `--print-to-pdf=${resolve(pdfFile)}`, pathToFileURL(resolve(htmlFile)).href,
  ];
  try {
    rmSync(pdfFile, { force: true });
    const { code, stderr } = await new Promise<{ code: number | null; stderr: string }>((done, fail) => {
      const child = spawn(chromium, args, { stdio: ['ignore', 'ignore', 'pipe'] });
      let err = '';
      child.stderr.on('data', (d: Buffer) => { if (err.length < 8192) err += d.toString(); });
      const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
      child.on('error', (e) => { clearTimeout(timer); fail(e); });
      child.on('close', (c) => { clearTimeout(timer); done({ code: c, stderr: err }); });
    });
    if (code !== 0 || !existsSync(pdfFile)) {
      const last = stderr.split('\n').map((l) => l.trim()).filter(Boolean).pop() ?? `exit status ${code}`;
      throw new UsageError(`${pdfFile}: Chromium could not print the report (${last})`);
    }
  } catch (e) {
    if (e instanceof UsageError) throw e;
    throw new UsageError(`${pdfFile}: could not run ${chromium} (${(e as Error).message})`);
  } finally {
    rmSync(profile, { recursive: true, force: true });
  }
}

function writeText(file: string, text: string): void {
  try { writeFileSync(file, text); } catch (e) { throw new UsageError(`${file}: cannot write (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`); }
}

/** Streams the pcapng to disk chunk by chunk, so large captures never exist twice in memory. */
function writePcapng(file: string, input: ReportInput, opts: Parameters<typeof annotatedPcapngChunks>[1]): void {
  let fd: number;
  try { fd = openSync(file, 'w'); } catch (e) { throw new UsageError(`${file}: cannot write (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`); }
  try {
    for (const chunk of annotatedPcapngChunks(input, opts)) writeSync(fd, chunk);
  } finally {
    closeSync(fd);
  }
}

/** Notes from a JSON file (`--notes FILE`): an array of notes, or an object with a `notes` array (a JSON export). */
export function readNotes(file: string): Note[] {
  let value: unknown;
  try { value = JSON.parse(readFileSync(file, 'utf8')); } catch (e) {
    throw new UsageError(`${file}: cannot read notes (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  const { notes, problems } = parseNotes(value);
  if (problems.length && notes.length === 0) throw new UsageError(`${file}: ${problems[0]}`);
  for (const p of problems) process.stderr.write(`warning: ${file}: ${p} (skipped)\n`);
  return notes;
}

/** "out/x.pcapng" → "out/x-A.pcapng". */
export function perHostName(file: string, side: 'A' | 'B'): string {
  const ext = extname(file);
  return ext ? `${file.slice(0, -ext.length)}-${side}${ext}` : `${file}-${side}`;
}

/** Writes every requested export; returns the paths written, in a stable order. */
export async function writeExports(req: ExportRequest): Promise<string[]> {
  const input: ReportInput = {
    a: req.a, b: req.b, result: req.result, notes: req.notes ?? [],
    toolVersion: toolVersion(), generatedAt: new Date().toISOString(),
  };
  const written: string[] = [];
  let html: string | undefined;
  if (req.html || req.pdf) html = renderHtmlReport(input);
  if (req.html) { writeText(req.html, html!); written.push(req.html); }
  if (req.pdf) {
    // Chromium prints from a file: reuse the HTML export, or a temporary copy when none was asked for.
    let src = req.html;
    let tmp: string | undefined;
    if (!src) { tmp = mkdtempSync(join(tmpdir(), 'tandem-report-')); src = join(tmp, 'report.html'); writeText(src, html!); }
    try { await htmlToPdf(src, req.pdf, req.chromium ?? findChromium()); } finally { if (tmp) rmSync(tmp, { recursive: true, force: true }); }
    written.push(req.pdf);
  }
  if (req.md) { writeText(req.md, renderMarkdownReport(input)); written.push(req.md); }
  if (req.json) { writeText(req.json, renderJsonReport(input)); written.push(req.json); }
  if (req.pcapng) {
    writePcapng(req.pcapng, input, { correctClock: req.correctClock });
    written.push(req.pcapng);
    if (req.perHost) {
      for (const side of ['A', 'B'] as const) {
        const f = perHostName(req.pcapng, side);
        writePcapng(f, input, { sides: [side], correctClock: side === 'B' ? req.correctClock === true : false });
        written.push(f);
      }
    }
  }
  return written;
}
