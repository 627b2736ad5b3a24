// What both lab tests (lab.test.ts, ipsec/lab-ipsec.test.ts) share: deciding whether the lab can
// run here, making or reusing the captures, keeping the CLI bundle current, running
// `tandem analyze --json` and checking a verdict against a scenario's expectation.
import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = fileURLToPath(new URL('../..', import.meta.url));
const cli = join(root, 'bin', 'tandem');

export interface Expect { status: string; first_missing: string | null; class: string; host?: string }
export interface LabScenario {
  name: string;
  fault: string;
  expect: Expect;
  why: string;
  /** Words some finding must contain (evidence the verdict has to quote, e.g. an ICMP error or a log prefix). */
  mentions?: string[];
}

/** The part of `tandem analyze --json` every lab test reads. */
export interface AnalyzeResult {
  checkpoints: { label: string; capture: string; frame: number; iface: string }[];
  findings: { severity: string; checkpoint: string | null; class: string; host: string; title: string }[];
  verdict: { status: string; first_missing: string | null; class: string; host: string | null; summary: string };
  captures: { A: { role_swapped?: boolean }; B: { role_swapped?: boolean } };
}

/** The tools of `tools` that are not on PATH (names or absolute paths). */
export function missingTools(tools: readonly string[]): string[] {
  return tools.filter((t) => spawnSync('sh', ['-c', `command -v ${t}`], { stdio: 'ignore' }).status !== 0);
}

/** Newest modification time of the .ts sources under a folder. */
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

/** bin/tandem runs a bundle; rebuild it when the sources are newer so the tree's code is tested. */
function ensureCliBundle(): void {
  const bundle = join(root, 'out', 'cli', 'tandem.mjs');
  if (!existsSync(bundle) || statSync(bundle).mtimeMs < Math.max(newest(join(root, 'bin', 'cli')), newest(join(root, 'shared')))) {
    const b = spawnSync(process.execPath, ['scripts/build-node.mjs'], { cwd: root, encoding: 'utf8' });
    assert.equal(b.status, 0, `building the CLI failed:\n${b.stderr}`);
  }
}

export interface LabOptions {
  /** Log name, e.g. "lab" or "IPsec lab". */
  name: string;
  /** How skip messages name the lab, e.g. "lab" or "the IPsec lab". */
  subject: string;
  /** Environment variable naming a folder of earlier captures to reuse. */
  reuseEnv: string;
  /** True when a folder holds a complete capture set. */
  haveCaptures: (dir: string) => boolean;
  /** Why the lab cannot make fresh captures here besides not being root (missing tools...), or null. */
  whyNotFresh: () => string | null;
  /** The lab script, run as `bash SCRIPT --out DIR all`. */
  script: string;
  /** Prefix of the temporary capture folder. */
  tempPrefix: string;
  timeoutMs: number;
  scenarioCount: number;
}

export interface Lab {
  /** A reason to skip every lab test (already printed), or false. */
  skip: string | false;
  /** The capture folder; valid once the `before` hook has run. */
  dir: () => string;
}

/**
 * Decides whether the lab can run, prints why not, and registers the hooks that rebuild the CLI,
 * make the captures (or reuse those in $reuseEnv) and remove a temporary capture folder at the end.
 */
export function setUpLab(o: LabOptions): Lab {
  const reuse = process.env[o.reuseEnv];
  const reusable = reuse !== undefined && reuse !== '' && o.haveCaptures(reuse);
  let reason: string | null = null;
  if (!reusable) {
    reason = process.getuid?.() !== 0
      ? `${o.subject} needs root to build network namespaces (or ${o.reuseEnv} with earlier captures)`
      : o.whyNotFresh();
  }
  if (reason) console.log(`# skip ${o.name}: ${reason}`);
  const skip = reason ?? false;

  let labDir = '';
  let tempDir = '';
  before(() => {
    if (skip) return;
    ensureCliBundle();
    if (reuse && o.haveCaptures(reuse)) { labDir = reuse; return; }
    labDir = reuse ?? (tempDir = mkdtempSync(join(tmpdir(), o.tempPrefix)));
    const t0 = Date.now();
    const r = spawnSync('bash', [o.script, '--out', labDir, 'all'], { encoding: 'utf8', timeout: o.timeoutMs });
    assert.equal(r.status, 0, `${o.script.split('/').pop()} failed (${r.signal ?? r.status}):\n${r.stderr}`);
    console.log(`# ${o.name}: ${o.scenarioCount} scenarios captured in ${((Date.now() - t0) / 1000).toFixed(1)} s into ${labDir}`);
  });
  after(() => { if (tempDir) rmSync(tempDir, { recursive: true, force: true }); });
  return { skip, dir: () => labDir };
}

/** Runs `tandem ARGS --json -` and parses its answer; a non-zero exit fails the test. */
export function analyzeJson<R>(args: string[]): R {
  const full = [...args, '--json', '-'];
  const r = spawnSync(process.execPath, [cli, ...full], { encoding: 'utf8', maxBuffer: 64 << 20, timeout: 60_000 });
  assert.equal(r.status, 0, `tandem ${full.join(' ')} exited ${r.status}:\n${r.stderr}`);
  return JSON.parse(r.stdout) as R;
}

/** The parts of a result worth reading when a lab assertion fails. */
export function show(r: AnalyzeResult): string {
  return `verdict ${JSON.stringify(r.verdict)}\n  checkpoints ${r.checkpoints.map((c) => c.label).join(' ')}` +
    `\n  findings ${r.findings.map((f) => `${f.checkpoint}:${f.class}/${f.host} ${f.title}`).join(' | ')}`;
}

/** A scenario's failure context: the fault, what was expected and what came out. */
export function context(s: LabScenario, r: AnalyzeResult): string {
  return `${s.name} (${s.fault}): expected ${JSON.stringify(s.expect)}, got ${show(r)}`;
}

/** Status, first missing checkpoint, class and (if the scenario names one) host of the verdict. */
export function assertVerdict(s: LabScenario, r: AnalyzeResult): void {
  const v = r.verdict;
  const e = s.expect;
  const ctx = context(s, r);
  assert.equal(v.status, e.status, ctx);
  assert.equal(v.first_missing ?? null, e.first_missing, ctx);
  assert.equal(v.class, e.class, ctx);
  if (e.host !== undefined) assert.equal(v.host, e.host, ctx);
}

/** Every word of `s.mentions` appears in some finding (title, detail or evidence), case-insensitively. */
export function assertMentions(s: LabScenario, r: AnalyzeResult): void {
  const text = JSON.stringify(r.findings).toLowerCase();
  for (const m of s.mentions ?? []) assert.ok(text.includes(m.toLowerCase()), `${s.name}: no finding mentions "${m}"; ${show(r)}`);
}

/** The test connection succeeded exactly when the network is healthy, and every file has content. */
export function assertRun(s: LabScenario, dir: string, files: readonly string[]): void {
  const run = JSON.parse(readFileSync(join(dir, 'run.json'), 'utf8')) as { curl_exit: number; curl_error: string };
  if (s.expect.status === 'ok') assert.equal(run.curl_exit, 0, `${s.name}: curl failed: ${run.curl_error}`);
  else assert.notEqual(run.curl_exit, 0, `${s.name}: the test connection should fail`);
  for (const f of files) {
    assert.ok(statSync(join(dir, f)).size > 0, `${s.name}/${f} is empty`);
  }
}
