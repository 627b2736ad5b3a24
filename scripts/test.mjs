// `npm test`: typecheck, lint, build, unit + integration tests, then the Playwright end-to-end tests.
// Ends with one closing line "N passed, N failed, N skipped" over every test that ran.
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync, existsSync } from 'node:fs';

function hasXvfb() {
  return !process.env.DISPLAY && process.platform === 'linux' && spawnSync('sh', ['-c', 'command -v xvfb-run']).status === 0;
}

rmSync('out/test-counts', { recursive: true, force: true });
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
