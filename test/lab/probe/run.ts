// Running `bin/tandem probe` inside a lab host, reading what it wrote, and replaying its files through
// `bin/tandem analyze` (host evidence imported as files, no SSH) for the "same findings" check.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AnalysisResult, Finding } from '../../../shared/analysis/types.ts';
import type { ProbeResult } from '../../../electron/probe/types.ts';
import type { Host } from './hosts.ts';

export const root = fileURLToPath(new URL('../../../', import.meta.url));
const cli = join(root, 'bin', 'tandem');

function newest(dir: string): number {
  let m = 0;
  if (!existsSync(dir)) return m;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) m = Math.max(m, newest(p));
    else if (e.name.endsWith('.ts')) m = Math.max(m, statSync(p).mtimeMs);
  }
  return m;
}

/** bin/tandem runs a bundle: rebuild it (under the shared build lock) when any source it takes in is newer. */
export function ensureCli(): void {
  const bundle = join(root, 'out', 'cli', 'tandem.mjs');
  const src = Math.max(...['bin/cli', 'shared', 'electron/probe', 'electron/capture'].map((d) => newest(join(root, d))));
  if (existsSync(bundle) && statSync(bundle).mtimeMs >= src) return;
  const b = spawnSync('flock', ['/tmp/tandem-build.lock', process.execPath, 'scripts/build-node.mjs'], { cwd: root, encoding: 'utf8', timeout: 120_000 });
  assert.equal(b.status, 0, `building the CLI failed:\n${b.stderr}`);
}

/** Whether this tree has the probe command yet (another helper writes it). */
export function haveProbeCli(): boolean {
  return existsSync(join(root, 'bin', 'cli', 'probe.ts'));
}

export interface ProbeRun {
  code: number | null;
  stdout: string;
  stderr: string;
  outDir: string;
  /** outDir/analysis.json, when written. */
  analysis?: AnalysisResult;
  /** outDir/probe.json, when written. */
  probe?: ProbeResult & Record<string, unknown>;
  ms: number;
}

/**
 * `tandem probe ARGS --out DIR --json DIR/stdout.json` on HOST (in its namespaces). `during` runs
 * while the probe does, e.g. to start an IKE exchange once the captures are up.
 */
export async function runProbe(host: Host, args: string[], outDir: string, during?: (seen: (re: RegExp, ms?: number) => Promise<boolean>) => Promise<void>): Promise<ProbeRun> {
  const t0 = Date.now();
  const child = spawn('nsenter', ['-t', String(host.holder.pid), '-m', '-n', '--', process.execPath, cli, 'probe', ...args, '--out', outDir, '--json', '-'],
    { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '', stderr = '';
  child.stdout.on('data', (c: Buffer) => { stdout += c.toString(); });
  child.stderr.on('data', (c: Buffer) => { stderr += c.toString(); });
  const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
  let closed = false;
  const exited = new Promise<number | null>((res) => child.on('close', (code) => { closed = true; res(code); }));
  // Resolves once the probe's progress (stderr) shows RE; false when it ends or ms pass first.
  const seen = async (re: RegExp, ms = 30_000): Promise<boolean> => {
    for (const t0 = Date.now(); Date.now() - t0 < ms && !closed; await new Promise((r) => setTimeout(r, 50))) if (re.test(stderr)) return true;
    return re.test(stderr);
  };
  if (during) await during(seen);
  const code = await exited;
  clearTimeout(timer);
  const read = <T>(f: string): T | undefined => (existsSync(join(outDir, f)) ? JSON.parse(readFileSync(join(outDir, f), 'utf8')) as T : undefined);
  const analysis = read<AnalysisResult>('analysis.json');
  const probe = read<ProbeResult & Record<string, unknown>>('probe.json');
  return { code, stdout, stderr, outDir, ...(analysis && { analysis }), ...(probe && { probe }), ms: Date.now() - t0 };
}

/** What a failed assertion shows about a probe run. */
export function explain(r: ProbeRun): string {
  const f = (r.analysis?.findings ?? []).map((x) => `  ${x.severity} ${x.rule} ${x.class} ${x.host}: ${x.title}\n${(x.host_evidence ?? []).map((q) => `      ${q.host} ${q.source}: ${q.text}`).join('\n')}`).join('\n');
  return `exit ${r.code} in ${r.ms} ms; verdict ${JSON.stringify(r.analysis?.verdict)}\nfindings:\n${f}\nstderr:\n${r.stderr.slice(-3000)}\nprobe.json failed: ${JSON.stringify(r.probe?.failed)} test: ${JSON.stringify(r.probe?.test)}`;
}

/** The finding of one rule (the first), or a failed assertion naming what there was. */
export function finding(r: ProbeRun, rule: string): Finding {
  const f = r.analysis?.findings.find((x) => x.rule === rule);
  assert.ok(f, `no ${rule} finding\n${explain(r)}`);
  return f;
}

/** The quoted host evidence of a finding as "HOST text" lines. */
export function quotes(f: Finding): string[] {
  return (f.host_evidence ?? []).map((q) => `${q.host} ${q.text}`);
}

/**
 * The files the probe saved for one host, from its own folder: the capture, `ip -o link`, and the
 * evidence files in the order probe.json lists them (before/after readings depend on order).
 * Every other file in the folder must be one probe.json accounts for.
 */
export function savedFiles(r: ProbeRun, h: 'A' | 'B'): { capture: string; links: string; evidence: string[] } {
  const listed = r.probe?.files?.[h];
  assert.ok(listed, `probe.json lists no files for ${h}\n${explain(r)}`);
  const dir = join(r.outDir, h);
  const inDir = readdirSync(dir).map((n) => join(dir, n));
  const abs = (p: string) => (p.startsWith('/') ? p : join(r.outDir, p));
  const known = new Set([listed.capture, listed.links, ...listed.evidence].filter(Boolean).map(abs));
  for (const f of inDir) {
    // Files the probe could not read as evidence are kept beside the others, marked.
    if (known.has(f) || /\.(unread|stderr)$|\.err\.txt$/.test(f)) continue;
    assert.fail(`${h}/${basename(f)} is in the probe's folder but not in probe.json's list`);
  }
  return { capture: abs(listed.capture), links: listed.links ? abs(listed.links) : '', evidence: listed.evidence.map(abs) };
}

/** `tandem analyze` on the probe's own files, evidence imported from them, for the flow a user would name. */
export function replay(r: ProbeRun, flow: string): AnalysisResult {
  const A = savedFiles(r, 'A'), B = savedFiles(r, 'B');
  const args = ['analyze', A.capture, B.capture];
  if (A.links) args.push('--a-links', A.links);
  if (B.links) args.push('--b-links', B.links);
  for (const f of A.evidence) args.push('--a-evidence', f);
  for (const f of B.evidence) args.push('--b-evidence', f);
  args.push('--flow', flow);
  args.push('--json', '-');
  const x = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', maxBuffer: 64 << 20, timeout: 60_000 });
  assert.equal(x.status, 0, `tandem ${args.join(' ')} exited ${x.status}:\n${x.stderr}`);
  return JSON.parse(x.stdout) as AnalysisResult;
}

/** What must agree between the probe's analysis and the replay: verdict and each finding's rule, class, host and quotes. */
export function essence(a: AnalysisResult): unknown {
  return {
    verdict: { status: a.verdict.status, first_missing: a.verdict.first_missing, class: a.verdict.class, host: a.verdict.host, summary: a.verdict.summary },
    findings: a.findings.map((f) => ({ rule: f.rule, severity: f.severity, class: f.class, host: f.host, checkpoint: f.checkpoint, title: f.title, host_evidence: f.host_evidence ?? [] })),
  };
}

/**
 * Every quote that names "FILE line N" must come from that file of that host's folder, and for the
 * formats quoted as printed (routes, rules, sysctl, iptables-save, log lines) line N must hold it.
 * Returns the quotes that do not, as lines for a failure message.
 */
export function wrongSources(r: ProbeRun): string[] {
  const bad: string[] = [];
  for (const f of r.analysis?.findings ?? []) {
    for (const q of f.host_evidence ?? []) {
      const m = /^(\S+) line (\d+)$/.exec(q.source);
      if (!m) continue;
      const file = join(r.outDir, q.host, m[1]!);
      if (!existsSync(file)) { bad.push(`${f.rule}: ${q.host} ${q.source} — no such file in ${q.host}/`); continue; }
      // JSON and wg dumps are quoted re-rendered, not as printed: only the file is checked.
      if (/\.json$|^wg-/.test(m[1]!)) continue;
      // Compared with runs of white space made one space (ip rule prints a tab after the priority).
      const flat = (x: string) => x.replace(/\s+/g, ' ').trim();
      const line = flat(readFileSync(file, 'utf8').split('\n')[Number(m[2]) - 1] ?? '');
      const text = flat(q.text);
      if (line === '' || !(text.includes(line) || line.includes(text))) bad.push(`${f.rule}: ${q.host} ${q.source} is "${line}", the quote says "${text}"`);
    }
  }
  return bad;
}

/** Runs every check even when an earlier one fails, then fails with all their messages. */
export function allOf(...checks: Array<() => void>): void {
  const failed: string[] = [];
  for (const c of checks) {
    try { c(); } catch (e) { failed.push(e instanceof Error ? e.message : String(e)); }
  }
  if (failed.length > 0) throw new assert.AssertionError({ message: failed.join('\n-----\n') });
}
