// `npm test`: typecheck, lint, build, unit + integration tests, then the Playwright end-to-end tests.
// Ends with one closing line "N passed, N failed, N skipped" over every test that ran.
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync, existsSync, mkdirSync } from 'node:fs';
import { resolve } from 'node:path';

function hasXvfb() {
  return !process.env.DISPLAY && process.platform === 'linux' && spawnSync('sh', ['-c', 'command -v xvfb-run']).status === 0;
}

rmSync('out/test-counts', { recursive: true, force: true });

// The WireGuard lab's captures are made once, here, and shared: test/lab/lab.test.ts checks the CLI
// on them and the unit tests (test/unit/analysis/lab.test.ts and others) read them through
// TANDEM_LAB_DIR, instead of each making its own or skipping. Without root or the lab's tools the
// step says why and the tests that need the captures skip with the same reason.
function labCaptures() {
  if (process.env.TANDEM_LAB_DIR) return { skip: `TANDEM_LAB_DIR is set (${process.env.TANDEM_LAB_DIR}): reusing it` };
  if (process.getuid?.() !== 0) return { skip: 'not root: the lab needs network namespaces' };
  const tools = ['ip', 'nft', 'wireguard-go', 'wg', 'tcpdump', 'dumpcap', 'curl', 'python3'];
  const missing = tools.filter((t) => spawnSync('sh', ['-c', `command -v ${t}`], { stdio: 'ignore' }).status !== 0);
  if (missing.length) return { skip: `lab tools missing: ${missing.join(', ')}` };
  const dir = resolve('out/lab');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const r = spawnSync('bash', ['test/lab/lab.sh', '--out', dir, 'all'], { stdio: ['ignore', 'ignore', 'inherit'], timeout: 600_000 });
  if (r.status !== 0) return { failed: `test/lab/lab.sh exited ${r.signal ?? r.status}` };
  return { dir };
}

const steps = [
  ['typecheck', 'npm', ['run', '-s', 'typecheck']],
  ['lint', 'npm', ['run', '-s', 'lint']],
  ['build', 'npm', ['run', '-s', 'build']],
  ['unit and integration tests', 'npm', ['run', '-s', 'test:unit']],
  // The Electron journey needs a display; xvfb gives it one where no desktop session exists.
  hasXvfb() ? ['end-to-end tests', 'xvfb-run', ['-a', 'npm', 'run', '-s', 'test:e2e']] : ['end-to-end tests', 'npm', ['run', '-s', 'test:e2e']],
];
let failedStep = null;
for (const [name, cmd, args] of steps) {
  if (name === 'unit and integration tests' && failedStep === null) {
    console.log('\n=== lab captures (WireGuard lab, network namespaces)');
    const t0 = Date.now();
    const lab = labCaptures();
    if (lab.dir) process.env.TANDEM_LAB_DIR = lab.dir;
    if (lab.failed) failedStep = 'lab captures';
    console.log(`=== lab captures: ${lab.dir ? `ok (${lab.dir})` : lab.skip ? `skipped: ${lab.skip}` : `FAILED: ${lab.failed}`} in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  }
  console.log(`\n=== ${name}`);
  const t0 = Date.now();
  const r = spawnSync(cmd, args, { stdio: 'inherit' });
  console.log(`=== ${name}: ${r.status === 0 ? 'ok' : 'FAILED'} in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  if (r.status !== 0) { failedStep = name; if (name !== 'unit and integration tests') break; }
}
const total = { passed: 0, failed: 0, skipped: 0 };
for (const f of ['out/test-counts/unit.json', 'out/test-counts/e2e.json']) {
  if (!existsSync(f)) continue;
  const c = JSON.parse(readFileSync(f, 'utf8'));
  for (const k of Object.keys(total)) total[k] += c[k] ?? 0;
}
if (failedStep && total.failed === 0) total.failed = 1; // a failed typecheck/lint/build counts as a failure
console.log(`\n${total.passed} passed, ${total.failed} failed, ${total.skipped} skipped`);
process.exit(failedStep ? 1 : 0);
