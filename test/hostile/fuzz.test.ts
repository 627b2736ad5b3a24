// Issue 13: the bounded fuzz run in CI. scripts/fuzz.mjs feeds 5000 seeded byte mutants of
// real captures (pcap, pcapng, gzip, tcpdump text) through inspect's and analyze's paths with every
// export, and a sample through the real CLI; any crash, hang or run over 1 GiB fails. The harness is
// checked first: a planted crash and a planted hang must be caught.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));
const script = fileURLToPath(new URL('../../scripts/fuzz.mjs', import.meta.url));
const SEED = Number(process.env.TANDEM_FUZZ_SEED ?? 1326);

interface Report { ok: boolean; cases: number; kinds: Record<string, number>; outcomes: Record<string, number>; crashes: unknown[]; hangs: unknown[]; memory: unknown[]; maxRss: number; maxMs: number; seconds: number; cli: { runs: number; exits: Record<string, number>; failures: unknown[] } }

function fuzz(args: string[], env: Record<string, string> = {}, timeout = 100_000): Report {
  const r = spawnSync(process.execPath, ['--import', 'tsx', script, '--json', ...args], { cwd: root, encoding: 'utf8', timeout, env: { ...process.env, ...env } });
  assert.equal(r.error, undefined, String(r.error));
  const line = r.stdout.trim().split('\n').pop() ?? '';
  assert.ok(line.startsWith('{'), `fuzz printed no report: ${r.stdout}${r.stderr}`);
  return JSON.parse(line) as Report;
}

test('fuzz harness catches a planted crash and a planted hang', { timeout: 60_000 }, () => {
  const crash = fuzz(['--seed', '7', '--cases', '8', '--cli', '0'], { TANDEM_FUZZ_PLANT: 'crash' });
  assert.equal(crash.ok, false);
  assert.equal(crash.crashes.length, 1, JSON.stringify(crash.crashes));
  assert.equal(crash.cases, 8);
  const hang = fuzz(['--seed', '7', '--cases', '8', '--cli', '0', '--case-ms', '1500'], { TANDEM_FUZZ_PLANT: 'hang' });
  assert.equal(hang.ok, false);
  assert.equal(hang.hangs.length, 1, JSON.stringify(hang.hangs));
  // The run goes on after the hung case.
  assert.equal(hang.cases, 7);
});

test('bounded fuzz run: no crash, hang or run over 1 GiB', { timeout: 120_000 }, () => {
  const r = fuzz(['--seed', String(SEED), '--cases', '5000', '--cli', '8', '--budget-s', '55', '--case-ms', '10000']);
  console.log(`# fuzz seed ${SEED}: ${r.cases} cases in ${r.seconds} s ${JSON.stringify(r.kinds)}; outcomes ${JSON.stringify(r.outcomes)}; ` +
    `slowest ${Math.round(r.maxMs)} ms; peak RSS ${Math.round(r.maxRss / 2 ** 20)} MiB; CLI ${r.cli.runs} runs ${JSON.stringify(r.cli.exits)}`);
  console.log(`# crashes ${r.crashes.length}, hangs ${r.hangs.length}, over 1 GiB ${r.memory.length}, CLI failures ${r.cli.failures.length}`);
  assert.deepEqual(r.crashes, []);
  assert.deepEqual(r.hangs, []);
  assert.deepEqual(r.memory, []);
  assert.deepEqual(r.cli.failures, []);
  assert.ok(r.cases >= 1000, `only ${r.cases} cases ran within the budget`);
  for (const k of ['text', 'pcap', 'pcapng', 'text.gz', 'pcap.gz', 'pcapng.gz']) assert.ok((r.kinds[k] ?? 0) > 0, `no ${k} mutants`);
});
