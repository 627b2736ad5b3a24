// The real test network: builds every scenario of scenarios.json with lab.sh (network namespaces,
// nftables, wireguard-go), captures both ends, and checks that `tandem analyze` names the first
// missing checkpoint, class and host the domain primer prescribes, on pcapng and on SLL2 + `ip -o link`.
// Clock-shifted copies of B check the offset/skew estimate against the shift we applied ourselves.
//
// TANDEM_LAB_DIR=/some/dir reuses captures made earlier by `test/lab/lab.sh --out /some/dir all`
// (then neither root nor the network tools are needed); otherwise a fresh set goes to a temp dir.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { firstPacketNs, nsToSeconds } from './clock-shift.ts';

const here = fileURLToPath(new URL('.', import.meta.url));
const root = join(here, '..', '..');
const cli = join(root, 'bin', 'tandem');

interface Expect { status: string; first_missing: string | null; class: string; host?: string }
interface Scenario { name: string; fault: string; expect: Expect; present?: string[]; why: string }
const table = JSON.parse(readFileSync(join(here, 'scenarios.json'), 'utf8')) as { scenarios: Scenario[]; extra: Scenario[] };
const scenarios = [...table.scenarios, ...table.extra];
const ALL_LABELS = ['A1', 'A2', 'A3', 'A4', 'A5', 'A6', 'B1', 'B2', 'B3', 'B4', 'B5', 'B6', 'B7', 'B8'];

function haveCaptures(dir: string): boolean {
  return scenarios.every((s) => existsSync(join(dir, s.name, 'B.txt'))) && existsSync(join(dir, 'clock-base', 'clock.json'));
}

/** Why the lab cannot run here, or null. */
function whyNot(): string | null {
  const reuse = process.env.TANDEM_LAB_DIR;
  if (reuse && haveCaptures(reuse)) return null;
  if (process.getuid?.() !== 0) return 'lab needs root to build network namespaces (or TANDEM_LAB_DIR with earlier captures)';
  const missing = ['ip', 'nft', 'wireguard-go', 'wg', 'tcpdump', 'dumpcap', 'curl'].filter(
    (t) => spawnSync('sh', ['-c', `command -v ${t}`], { stdio: 'ignore' }).status !== 0);
  if (missing.length) return `lab needs ${missing.join(', ')} (not installed)`;
  return null;
}

const skipReason = whyNot();
if (skipReason) console.log(`# skip lab: ${skipReason}`);
const skip = skipReason ?? false;

let labDir = '';
let tempDir = '';

/** Newest modification time under a folder (sources only). */
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

before(() => {
  if (skip) return;
  // bin/tandem runs a bundle; rebuild it when the sources are newer so we test the code in the tree.
  const bundle = join(root, 'out', 'cli', 'tandem.mjs');
  if (!existsSync(bundle) || statSync(bundle).mtimeMs < Math.max(newest(join(root, 'bin', 'cli')), newest(join(root, 'shared')))) {
    const b = spawnSync(process.execPath, ['scripts/build-node.mjs'], { cwd: root, encoding: 'utf8' });
    assert.equal(b.status, 0, `building the CLI failed:\n${b.stderr}`);
  }
  const reuse = process.env.TANDEM_LAB_DIR;
  if (reuse && haveCaptures(reuse)) { labDir = reuse; return; }
  labDir = reuse ?? (tempDir = mkdtempSync(join(tmpdir(), 'tandem-lab-')));
  const t0 = Date.now();
  const r = spawnSync('bash', [join(here, 'lab.sh'), '--out', labDir, 'all'], { encoding: 'utf8', timeout: 330_000 });
  assert.equal(r.status, 0, `lab.sh failed (${r.signal ?? r.status}):\n${r.stderr}`);
  console.log(`# lab: ${scenarios.length} scenarios captured in ${((Date.now() - t0) / 1000).toFixed(1)} s into ${labDir}`);
});

after(() => { if (tempDir) rmSync(tempDir, { recursive: true, force: true }); });

interface Result {
  clock: { offset_s: number; skew_ppm: number; uncertainty_s: number; pairs: number; ref_s?: number };
  checkpoints: { label: string; capture: string; frame: number; iface: string }[];
  findings: { severity: string; checkpoint: string | null; class: string; host: string; title: string }[];
  verdict: { status: string; first_missing: string | null; class: string; host: string | null; summary: string };
}

function analyze(dir: string, a: string, b: string, links = false): Result {
  const args = ['analyze', join(dir, a), join(dir, b)];
  if (links) args.push('--a-links', join(dir, 'A-links.txt'), '--b-links', join(dir, 'B-links.txt'));
  args.push('--json', '-');
  const r = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', maxBuffer: 64 << 20, timeout: 60_000 });
  assert.equal(r.status, 0, `tandem ${args.join(' ')} exited ${r.status}:\n${r.stderr}`);
  return JSON.parse(r.stdout) as Result;
}

function show(r: Result): string {
  return `verdict ${JSON.stringify(r.verdict)}\n  checkpoints ${r.checkpoints.map((c) => c.label).join(' ')}` +
    `\n  findings ${r.findings.map((f) => `${f.checkpoint}:${f.class}/${f.host} ${f.title}`).join(' | ')}`;
}

function checkVerdict(s: Scenario, r: Result): void {
  const v = r.verdict;
  const e = s.expect;
  const ctx = `${s.name} (${s.fault}): expected ${JSON.stringify(e)}, got ${show(r)}`;
  assert.equal(v.status, e.status, ctx);
  assert.equal(v.first_missing ?? null, e.first_missing, ctx);
  assert.equal(v.class, e.class, ctx);
  if (e.host !== undefined) assert.equal(v.host, e.host, ctx);
  if (e.status === 'ok') {
    const got = new Set(r.checkpoints.map((c) => c.label));
    assert.deepEqual(ALL_LABELS.filter((l) => !got.has(l)), [], `${s.name}: every checkpoint should be present; ${show(r)}`);
  }
}

for (const s of scenarios) {
  test(`lab ${s.name}: the captures show the fault`, { skip }, () => {
    const run = JSON.parse(readFileSync(join(labDir, s.name, 'run.json'), 'utf8')) as { curl_exit: number; curl_error: string };
    // The test connection succeeds exactly when the network is healthy.
    if (s.expect.status === 'ok') assert.equal(run.curl_exit, 0, `${s.name}: curl failed: ${run.curl_error}`);
    else assert.notEqual(run.curl_exit, 0, `${s.name}: the test connection should fail`);
    for (const f of ['A.pcapng', 'B.pcapng', 'A-any.pcap', 'B-any.pcap', 'A-links.txt', 'B-links.txt', 'A.txt']) {
      assert.ok(statSync(join(labDir, s.name, f)).size > 0, `${s.name}/${f} is empty`);
    }
  });
  test(`lab ${s.name}: verdict from pcapng`, { skip }, () => {
    checkVerdict(s, analyze(join(labDir, s.name), 'A.pcapng', 'B.pcapng'));
  });
  test(`lab ${s.name}: verdict from SLL2 -i any with ip -o link`, { skip }, () => {
    checkVerdict(s, analyze(join(labDir, s.name), 'A-any.pcap', 'B-any.pcap', true));
  });
  // The remote side often only has a terminal: B as live `tcpdump -n -i any` text (no date, no payload).
  test(`lab ${s.name}: verdict from A pcapng + B tcpdump text`, { skip }, () => {
    checkVerdict(s, analyze(join(labDir, s.name), 'A.pcapng', 'B.txt'));
  });
  test(`lab ${s.name}: verdict from tcpdump text on both ends`, { skip }, () => {
    checkVerdict(s, analyze(join(labDir, s.name), 'A.txt', 'B.txt'));
  });
}

interface ClockCase { name: string; offset_s: number; skew_ppm: number; pcapng: string; any: string }

/** The applied clock difference at the instant the engine reports its offset for. */
function truthAt(c: { offset_s: number; skew_ppm: number }, refS: string, at: number): number {
  return c.offset_s + c.skew_ppm * 1e-6 * (at - Number(refS));
}

function checkClock(label: string, r: Result, c: { offset_s: number; skew_ppm: number }, refS: string, aFirst: number): void {
  const at = r.clock.ref_s ?? aFirst;
  const want = truthAt(c, refS, at);
  const msg = `${label}: applied offset ${c.offset_s} s / skew ${c.skew_ppm} ppm (offset ${want.toFixed(6)} s at ${at}); ` +
    `estimated ${r.clock.offset_s} s / ${r.clock.skew_ppm} ppm (±${r.clock.uncertainty_s} s, ${r.clock.pairs} pairs)`;
  assert.ok(Math.abs(r.clock.offset_s - want) <= 100e-6, msg);
  assert.ok(Math.abs(r.clock.skew_ppm - c.skew_ppm) <= 5, msg);
}

test('lab clock: unshifted captures share one clock (offset 0, skew 0)', { skip }, () => {
  const dir = join(labDir, 'clock-base');
  const clock = JSON.parse(readFileSync(join(dir, 'clock.json'), 'utf8')) as { ref_s: string };
  const aFirst = Number(nsToSeconds(firstPacketNs(readFileSync(join(dir, 'A.pcapng')))!));
  checkClock('clock-base pcapng', analyze(dir, 'A.pcapng', 'B.pcapng'), { offset_s: 0, skew_ppm: 0 }, clock.ref_s, aFirst);
});

for (const variant of ['pcapng', 'any'] as const) {
  test(`lab clock: shifted copies of B (${variant}) give back the applied offset and skew`, { skip }, () => {
    const dir = join(labDir, 'clock-base');
    const clock = JSON.parse(readFileSync(join(dir, 'clock.json'), 'utf8')) as { ref_s: string; cases: ClockCase[] };
    assert.ok(clock.cases.length >= 2);
    const aFile = variant === 'pcapng' ? 'A.pcapng' : 'A-any.pcap';
    const aFirst = Number(nsToSeconds(firstPacketNs(readFileSync(join(dir, aFile)))!));
    for (const c of clock.cases) {
      const r = analyze(dir, aFile, c[variant], variant === 'any');
      checkClock(`${c.name} ${variant}`, r, c, clock.ref_s, aFirst);
      assert.equal(r.verdict.status, 'ok', `${c.name} ${variant}: a clock shift alone must not break the verdict; ${show(r)}`);
    }
  });
}
