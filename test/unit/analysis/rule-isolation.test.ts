// A rule that throws (a bug, or captures it did not expect) costs its own finding only: the
// analysis still answers, names the rule that failed in one line, and keeps the verdict.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { analyze } from '../../../shared/analysis/index.ts';
import { registerRule } from '../../../shared/analysis/rules/index.ts';
import { seedInput } from './helpers.ts';

test('a throwing rule is reported and skipped; the verdict stands', () => {
  const before = analyze(seedInput('endpoint-a.txt'), seedInput('host-beta.txt'));
  registerRule({
    id: 'test-throws', sign: 'A rule that always throws (test only)', classes: ['none'], host: 'A', evidence: 'none', tunnels: ['*'],
    applies: () => true,
    evaluate: () => { throw new Error('boom\u001b[2J'); },
  });
  const r = analyze(seedInput('endpoint-a.txt'), seedInput('host-beta.txt'));
  assert.deepEqual(r.verdict, before.verdict);
  const f = r.findings.find((x) => x.rule === 'test-throws')!;
  assert.equal(f.severity, 'info');
  assert.match(f.detail!, /boom\\x1b\[2J/);
});
