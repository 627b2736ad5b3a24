// The real test network: builds every scenario of scenarios.json with lab.sh (network namespaces,
// nftables, wireguard-go), captures both ends, and checks that `tandem analyze` names the first
// missing checkpoint, class and host the domain primer prescribes, on pcapng and on SLL2 + `ip -o link`.
// Clock-shifted copies of B check the offset/skew estimate against the shift we applied ourselves.
//
// TANDEM_LAB_DIR=/some/dir reuses captures made earlier by `test/lab/lab.sh --out /some/dir all`
// (then neither root nor the network tools are needed); otherwise a fresh set goes to a temp dir.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { firstPacketNs, nsToSeconds } from './clock-shift.ts';
import { analyzeJson, assertRun, assertVerdict, missingTools, setUpLab, show, type AnalyzeResult, type LabScenario } from './harness.ts';

const here = fileURLToPath(new URL('.', import.meta.url));

interface Scenario extends LabScenario { present?: string[] }
const table = JSON.parse(readFileSync(join(here, 'scenarios.json'), 'utf8')) as { scenarios: Scenario[]; extra: Scenario[] };
const scenarios = [...table.scenarios, ...table.extra];
const ALL_LABELS = ['A1', 'A2', 'A3', 'A4', 'A5', 'A6', 'B1', 'B2', 'B3', 'B4', 'B5', 'B6', 'B7', 'B8'];

function haveCaptures(dir: string): boolean {
  return scenarios.every((s) => existsSync(join(dir, s.name, 'B.txt'))) && existsSync(join(dir, 'clock-base', 'clock.json'));
}

const lab = setUpLab({
  name: 'lab',
  subject: 'lab',
  reuseEnv: 'TANDEM_LAB_DIR',
  haveCaptures,
  whyNotFresh: () => {
    const missing = missingTools(['ip', 'nft', 'wireguard-go', 'wg', 'tcpdump', 'dumpcap', 'curl']);
    return missing.length ? `lab needs ${missing.join(', ')} (not installed)` : null;
  },
  script: join(here, 'lab.sh'),
  tempPrefix: 'tandem-lab-',
  timeoutMs: 330_000,
  scenarioCount: scenarios.length,
});
const skip = lab.skip;

interface Result extends AnalyzeResult {
  clock: { offset_s: number; skew_ppm: number; uncertainty_s: number; pairs: number; ref_s?: number };
}

function analyze(dir: string, a: string, b: string, links = false): Result {
  const args = ['analyze', join(dir, a), join(dir, b)];
  if (links) args.push('--a-links', join(dir, 'A-links.txt'), '--b-links', join(dir, 'B-links.txt'));
  return analyzeJson<Result>(args);
}

function checkVerdict(s: Scenario, r: Result): void {
  assertVerdict(s, r);
  if (s.expect.status === 'ok') {
    const got = new Set(r.checkpoints.map((c) => c.label));
    assert.deepEqual(ALL_LABELS.filter((l) => !got.has(l)), [], `${s.name}: every checkpoint should be present; ${show(r)}`);
  }
}

for (const s of scenarios) {
  test(`lab ${s.name}: the captures show the fault`, { skip }, () => {
    // The test connection succeeds exactly when the network is healthy.
    assertRun(s, join(lab.dir(), s.name), ['A.pcapng', 'B.pcapng', 'A-any.pcap', 'B-any.pcap', 'A-links.txt', 'B-links.txt', 'A.txt']);
  });
  test(`lab ${s.name}: verdict from pcapng`, { skip }, () => {
    checkVerdict(s, analyze(join(lab.dir(), s.name), 'A.pcapng', 'B.pcapng'));
  });
  test(`lab ${s.name}: verdict from SLL2 -i any with ip -o link`, { skip }, () => {
    checkVerdict(s, analyze(join(lab.dir(), s.name), 'A-any.pcap', 'B-any.pcap', true));
  });
  // The remote side often only has a terminal: B as live `tcpdump -n -i any` text (no date, no payload).
  test(`lab ${s.name}: verdict from A pcapng + B tcpdump text`, { skip }, () => {
    checkVerdict(s, analyze(join(lab.dir(), s.name), 'A.pcapng', 'B.txt'));
  });
  test(`lab ${s.name}: verdict from tcpdump text on both ends`, { skip }, () => {
    checkVerdict(s, analyze(join(lab.dir(), s.name), 'A.txt', 'B.txt'));
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
  const dir = join(lab.dir(), 'clock-base');
  const clock = JSON.parse(readFileSync(join(dir, 'clock.json'), 'utf8')) as { ref_s: string };
  const aFirst = Number(nsToSeconds(firstPacketNs(readFileSync(join(dir, 'A.pcapng')))!));
  checkClock('clock-base pcapng', analyze(dir, 'A.pcapng', 'B.pcapng'), { offset_s: 0, skew_ppm: 0 }, clock.ref_s, aFirst);
});

for (const variant of ['pcapng', 'any'] as const) {
  test(`lab clock: shifted copies of B (${variant}) give back the applied offset and skew`, { skip }, () => {
    const dir = join(lab.dir(), 'clock-base');
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
