// Runs every *.test.ts under test/ (Playwright's e2e specs excepted) with node's own test runner.
// Node 20 does not expand globs itself, so the list is gathered here. Totals go to out/test-counts/.
import { readdirSync, statSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

function walk(dir, out = []) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) { if (name !== 'e2e' && name !== 'node_modules') walk(p, out); }
    else if (name.endsWith('.test.ts')) out.push(p);
  }
  return out;
}

const filter = process.argv.slice(2);
const files = walk('test').filter((f) => filter.length === 0 || filter.some((x) => f.includes(x))).sort();
if (files.length === 0) { console.error('no test files matched'); process.exit(1); }
mkdirSync('out/test-counts', { recursive: true });
const r = spawnSync(process.execPath, [
  '--import', 'tsx', '--test', '--test-concurrency=2',
  '--test-reporter=spec', '--test-reporter-destination=stdout',
  '--test-reporter=./scripts/count-reporter.mjs', '--test-reporter-destination=out/test-counts/unit.json',
  ...files,
], { stdio: 'inherit' });
process.exit(r.status ?? 1);
