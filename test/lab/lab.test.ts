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
import { firstPacketNs, nsToSeconds, walkTimestamps } from './clock-shift.ts';
import { analyzeJson, assertMentions, assertRun, assertVerdict, missingTools, setUpLab, show, type AnalyzeResult, type Expect, type LabScenario } from './harness.ts';

const here = fileURLToPath(new URL('.', import.meta.url));

interface Scenario extends LabScenario {
  present?: string[];
  /** The verdict from input forms that do not carry B's firewall log (SLL2 `-i any`, text). */
  expect_without_log?: Expect;
  /**
   * The verdict when B is tcpdump text, which names only the interfaces that carried packets (so it
   * cannot show whether B has a tunnel interface at all); takes precedence over expect_without_log.
   */
  expect_b_text?: Expect;
}
/** A scenario's captures given the other way round: B's files in A's place. */
interface Swapped { name: string; of: string; fault: string; expect: Expect; why: string }
const table = JSON.parse(readFileSync(join(here, 'scenarios.json'), 'utf8')) as { scenarios: Scenario[]; extra: Scenario[]; swapped: Swapped[] };
const scenarios = [...table.scenarios, ...table.extra];
const ALL_LABELS = ['A1', 'A2', 'A3', 'A4', 'A5', 'A6', 'B1', 'B2', 'B3', 'B4', 'B5', 'B6', 'B7', 'B8'];

function haveCaptures(dir: string): boolean {
  return scenarios.every((s) => existsSync(join(dir, s.name, 'B.txt'))) &&
    ['clock-base', 'narrow-window-skew'].every((n) => existsSync(join(dir, n, 'clock.json')));
}

const lab = setUpLab({
  name: 'lab',
  subject: 'lab',
  reuseEnv: 'TANDEM_LAB_DIR',
  haveCaptures,
  whyNotFresh: () => {
    const missing = missingTools(['ip', 'nft', 'wireguard-go', 'wg', 'tcpdump', 'dumpcap', 'curl', 'python3']);
    return missing.length ? `lab needs ${missing.join(', ')} (not installed)` : null;
  },
  script: join(here, 'lab.sh'),
  tempPrefix: 'tandem-lab-',
  timeoutMs: 330_000,
  scenarioCount: scenarios.length,
});
const skip = lab.skip;

interface Result extends AnalyzeResult {
  clock: {
    offset_s: number; skew_ppm: number; uncertainty_s: number; pairs: number; ref_s?: number;
    skew_observable?: boolean; uncertainty_max_s?: number | null;
  };
}

function analyze(dir: string, a: string, b: string, links = false): Result {
  const args = ['analyze', join(dir, a), join(dir, b)];
  if (links) args.push('--a-links', join(dir, 'A-links.txt'), '--b-links', join(dir, 'B-links.txt'));
  return analyzeJson<Result>(args);
}

/**
 * Checks a verdict; `withLog` says whether B's input form carries its NFLOG records (only B.pcapng
 * does), `bText` whether B's input is tcpdump text.
 */
function checkVerdict(s: Scenario, r: Result, withLog: boolean, bText: boolean): void {
  const expect = (bText ? s.expect_b_text : undefined) ?? (withLog ? s.expect : s.expect_without_log ?? s.expect);
  assertVerdict({ ...s, expect }, r);
  // What the log names (its prefix) can only be quoted from a form that carries the log.
  assertMentions({ ...s, mentions: withLog || s.expect_without_log === undefined ? s.mentions : [] }, r);
  const got = new Set(r.checkpoints.map((c) => c.label));
  const want = s.expect.status === 'ok' ? ALL_LABELS : s.present ?? [];
  assert.deepEqual(want.filter((l) => !got.has(l)), [], `${s.name}: checkpoints the captures show are missing; ${show(r)}`);
}

/** The four input forms: files for A and B, whether SLL2 needs `ip -o link`, whether B's form holds NFLOG records. */
const FORMS = [
  { title: 'pcapng', a: 'A.pcapng', b: 'B.pcapng', links: false, log: true, bText: false },
  { title: 'SLL2 -i any with ip -o link', a: 'A-any.pcap', b: 'B-any.pcap', links: true, log: false, bText: false },
  // The remote side often only has a terminal: B as live `tcpdump -n -i any` text (no date, no payload).
  { title: 'A pcapng + B tcpdump text', a: 'A.pcapng', b: 'B.txt', links: false, log: false, bText: true },
  { title: 'tcpdump text on both ends', a: 'A.txt', b: 'B.txt', links: false, log: false, bText: true },
] as const;

for (const s of scenarios) {
  test(`lab ${s.name}: the captures show the fault`, { skip }, () => {
    // The test connection succeeds exactly when the network is healthy.
    const files = ['A.pcapng', 'B.pcapng', 'A-any.pcap', 'B-any.pcap', 'A-links.txt', 'B-links.txt', 'A.txt'];
    if (s.expect_without_log) files.push('B-nflog.pcap');
    assertRun(s, join(lab.dir(), s.name), files);
  });
  for (const f of FORMS) {
    test(`lab ${s.name}: verdict from ${f.title}`, { skip }, () => {
      checkVerdict(s, analyze(join(lab.dir(), s.name), f.a, f.b, f.links), f.log, f.bText);
    });
  }
}

// Roles come from the data: B's captures given as A (and A's as B) must give the unswapped verdict
// with the swap reported, or an honest "inconclusive" that names the roles.
for (const w of table.swapped) {
  for (const f of FORMS) {
    test(`lab ${w.name}: ${w.of} with A and B given the other way round, ${f.title}`, { skip }, () => {
      const dir = join(lab.dir(), w.of);
      const args = ['analyze', join(dir, f.b), join(dir, f.a)];
      if (f.links) args.push('--a-links', join(dir, 'B-links.txt'), '--b-links', join(dir, 'A-links.txt'));
      const r = analyzeJson<Result>(args);
      if (r.verdict.status === 'inconclusive') {
        assert.match(r.verdict.summary, /role|swap|order|initiat/i, `${w.name}: an inconclusive answer must say it is about the roles; ${show(r)}`);
        return;
      }
      assertVerdict({ ...w, fault: w.fault }, r);
      assert.equal(r.captures.A.role_swapped, true, `${w.name}: the swap must be reported (captures.A.role_swapped); ${show(r)}`);
    });
  }
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

// Matched pairs only in the first ~15 ms of a ~9 s capture: the pairs fix the offset near them, the
// skew stays unknown, and 40 ppm (applied to B's copy) moves the last packet by ~360 µs.
for (const variant of ['pcapng', 'any'] as const) {
  test(`lab clock: pairs in a narrow window (${variant}): skew unobservable, uncertainty grows to the last packet`, { skip }, () => {
    const dir = join(lab.dir(), 'narrow-window-skew');
    const clock = JSON.parse(readFileSync(join(dir, 'clock.json'), 'utf8')) as { ref_s: string; cases: ClockCase[] };
    const c = clock.cases[0]!;
    const aFile = variant === 'pcapng' ? 'A.pcapng' : 'A-any.pcap';
    const aBytes = readFileSync(join(dir, aFile));
    const aFirst = Number(nsToSeconds(firstPacketNs(aBytes)!));
    let aLast = aFirst;
    walkTimestamps(aBytes, (ns) => { aLast = Math.max(aLast, Number(nsToSeconds(ns))); });
    // Every cross-host packet belongs to the test connection in the first 50 ms (the late pings stay
    // on one LAN), so the last packet lies at least this far from any pair.
    const distance = aLast - aFirst - 0.05;
    assert.ok(distance > 8, `the capture should span ~9 s, spans ${(aLast - aFirst).toFixed(3)} s`);
    const r = analyze(dir, aFile, c[variant], variant === 'any');
    const msg = `applied ${c.offset_s} s / ${c.skew_ppm} ppm; estimated ${JSON.stringify(r.clock)}`;
    assert.equal(r.verdict.status, 'ok', show(r));
    assert.equal(r.clock.skew_observable, false, `skew cannot be observed from pairs 15 ms apart: ${msg}`);
    const need = Math.abs(c.skew_ppm) * 1e-6 * distance;
    const got = r.clock.uncertainty_max_s;
    assert.ok(got === null || (got !== undefined && got >= need),
      `uncertainty at the farthest packet must be at least ${(need * 1e6).toFixed(0)} µs (${c.skew_ppm} ppm over ${distance.toFixed(2)} s): ${msg}`);
    // Near the pairs the offset is still right.
    const want = truthAt(c, clock.ref_s, r.clock.ref_s ?? aFirst);
    assert.ok(Math.abs(r.clock.offset_s - want) <= 100e-6 + (r.clock.uncertainty_s ?? 0), msg);
  });
}
