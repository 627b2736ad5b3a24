// Shared by the hostile tests: run the CLI as a bounded child process, and the checks every output gets.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const runner = fileURLToPath(new URL('./run-cli.ts', import.meta.url));

export interface CliRun { code: number | null; signal: string | null; stdout: string; stderr: string; ms: number; rssKb: number; timedOut: boolean }

/**
 * `tandem ARGS` from the sources in a child with a V8 heap cap and a wall-clock limit; stdout and
 * stderr are kept up to `maxOutput` bytes each (the rest is counted, not stored).
 */
export function runCli(args: string[], o: { timeoutMs?: number; heapMb?: number; maxOutput?: number } = {}): Promise<CliRun> {
  const t0 = performance.now();
  const max = o.maxOutput ?? 4 << 20;
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [`--max-old-space-size=${o.heapMb ?? 512}`, '--import', 'tsx', runner, ...args],
      { cwd: repoRoot, env: { ...process.env, TANDEM_REPORT_RSS: '1', TANDEM_DEBUG: '' }, stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [], err: Buffer[] = [];
    let outLen = 0, errLen = 0, timedOut = false;
    child.stdout.on('data', (b: Buffer) => { if (outLen < max) out.push(b); outLen += b.length; });
    child.stderr.on('data', (b: Buffer) => { if (errLen < max) err.push(b); errLen += b.length; });
    const timer = setTimeout(() => { timedOut = true; child.kill('SIGKILL'); }, o.timeoutMs ?? 30_000);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      let stderr = Buffer.concat(err).toString('utf8');
      let rssKb = 0;
      stderr = stderr.replace(/rss-kb=(\d+)\n$/, (_m, n: string) => { rssKb = Number(n); return ''; });
      resolve({ code, signal, stdout: Buffer.concat(out).toString('utf8'), stderr, ms: performance.now() - t0, rssKb, timedOut });
    });
  });
}

/** Terminal-active characters: C0 except tab and newline, DEL, C1, and the bidi/invisible format characters. */
// eslint-disable-next-line no-control-regex
export const TERMINAL_ACTIVE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/;

/** The first terminal-active character in `s` with some context, or null. */
export function firstActive(s: string): string | null {
  const m = TERMINAL_ACTIVE.exec(s);
  return m ? JSON.stringify(s.slice(Math.max(0, m.index - 30), m.index + 30)) : null;
}

/**
 * Words of a suggested shell command that a POSIX shell would treat as syntax outside quotes
 * (`;`, `|`, `&`, `$`, backticks, redirections, parentheses, newlines, `#` starting a word, a
 * double-quoted `$` or backtick). A command built with cmd/shellQuote has none coming from data.
 */
export function unquotedSyntax(command: string): string[] {
  const found: string[] = [];
  let q: '' | "'" | '"' = '';
  for (let i = 0; i < command.length; i++) {
    const c = command[i]!;
    if (q === "'") { if (c === "'") q = ''; continue; }
    if (q === '"') {
      if (c === '"') q = '';
      else if (c === '$' || c === '`') found.push(`${c} inside double quotes at ${i}`);
      else if (c === '\\') i++;
      continue;
    }
    if (c === "'" || c === '"') { q = c; continue; }
    if (c === '\\') { i++; continue; }
    if (/[;&|`$<>()\n]/.test(c)) found.push(`${c} at ${i}`);
    if (c === '#' && (i === 0 || /\s/.test(command[i - 1]!))) found.push(`# at ${i}`);
  }
  if (q) found.push('unterminated quote');
  return found;
}

/** Code spans of engine text (`…`), where next steps put their commands. */
export function commandsIn(step: string): string[] {
  return [...step.matchAll(/`([^`]+)`/g)].map((m) => m[1]!);
}
