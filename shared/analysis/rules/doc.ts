// RULES.md from the registry: one table of every diagnosis rule. Regenerate with
// `TANDEM_WRITE_RULES=1 node --import tsx --test test/unit/analysis/rules-doc.test.ts`.

import { ruleList } from './index.ts';

const cell = (s: string): string => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

export function rulesMarkdown(): string {
  const lines = [
    '# Diagnosis rules',
    '',
    'Generated from the rule registry (`shared/analysis/rules/`) by `shared/analysis/rules/doc.ts`; do not edit by hand.',
    'Each finding in `tandem analyze --json` names its rule in `rule`. Tunnels: `*` = every kind.',
    'Rules marked "post-pass" run in the tunnel module\'s refinement after the verdict (they read the gateway LAN side and whole IKE series).',
    '',
    '| id | sign | class | host | evidence | tunnels |',
    '|---|---|---|---|---|---|',
  ];
  for (const r of ruleList()) {
    lines.push(`| \`${r.id}\` | ${cell(r.sign)}${r.postPass === true ? ` (${r.producedBy ?? 'post-pass'})` : ''} | ${r.classes.map((c) => `\`${c}\``).join(', ')} | ${cell(r.host)} | ${cell(r.evidence)} | ${r.tunnels.join(', ')} |`);
  }
  lines.push('', '## Adding a rule', '',
    '1. Write `shared/analysis/rules/<id-or-family>.ts` calling `registerRule({ id, sign, classes, host, evidence, tunnels, applies, evaluate })`;',
    '   read only the facts (`shared/analysis/facts.ts`: labels, first missing checkpoint, flows, carriers, `evidence` from the host-evidence options).',
    '2. Add one `import` line to `shared/analysis/rules/index.ts`.',
    '3. Tunnel wording and commands come from `facts.tunnel` (`shared/analysis/tunnels/`); capture text goes into commands only through `cmd`/`shellQuote`.',
    '   Prose (title, detail, next steps) is plain text whose only markup is a code span: write a command as `` code(cmd`…`) ``, and a capture',
    '   value (interface name, address, log prefix, file name) outside a command as `proseData(value)` (`shared/util/shell.ts`), so a backtick',
    '   in it is shown as `\\x60` and never opens or closes a span in the HTML report, the Markdown report or the app.',
    '4. Regenerate this file (command at the top of `rules/doc.ts`).', '');
  return lines.join('\n');
}
