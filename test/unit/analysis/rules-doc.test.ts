// RULES.md is generated from the rule registry: the checked-in file must match it, and every
// rule must be well-formed (unique kebab-case id, a sign, at least one class and tunnel kind).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { rulesMarkdown } from '../../../shared/analysis/rules/doc.ts';
import { ruleList } from '../../../shared/analysis/rules/index.ts';

const FILE = fileURLToPath(new URL('../../../shared/analysis/RULES.md', import.meta.url));

test('RULES.md matches the rule registry', () => {
  const want = rulesMarkdown();
  if (process.env.TANDEM_WRITE_RULES === '1') writeFileSync(FILE, want);
  let have = '';
  try { have = readFileSync(FILE, 'utf8'); } catch { /* missing: reported below */ }
  assert.equal(have, want, 'shared/analysis/RULES.md is stale: run TANDEM_WRITE_RULES=1 node --import tsx --test test/unit/analysis/rules-doc.test.ts');
});

test('every rule has a unique kebab-case id, a sign, classes and tunnel kinds', () => {
  const ids = new Set<string>();
  for (const r of ruleList()) {
    assert.match(r.id, /^[a-z0-9]+(-[a-z0-9]+)*$/, r.id);
    assert.ok(!ids.has(r.id), `duplicate ${r.id}`);
    ids.add(r.id);
    assert.ok(r.sign.length > 10 && r.classes.length > 0 && r.tunnels.length > 0 && r.host !== '' && r.evidence !== '', r.id);
    for (const o of r.overrides ?? []) assert.ok(ruleList().some((x) => x.id === o), `${r.id} overrides unknown rule ${o}`);
  }
  assert.ok(ids.size >= 30, `only ${ids.size} rules`);
});
