// Compact Markdown for an issue tracker: verdict, findings, checkpoint table, clock, notes.
// GitHub/GitLab flavoured: pipes in cells are escaped, packet summaries go in code spans.
import type { Note } from './notes.ts';
import { describeTarget, packetKey } from './notes.ts';
import type { ReportInput } from './types.ts';
import { buildModel, clockSentence, orderedCheckpoints, timeOf, timeOnA } from './model.ts';

/** Text in a table cell: no line breaks, pipes escaped. */
function cell(s: unknown): string {
  return String(s ?? '').replace(/\r?\n/g, ' ').replace(/\|/g, '\\|');
}

/** A code span that survives backticks inside the text. */
function codeSpan(s: string): string {
  const t = s.replace(/\r?\n/g, ' ');
  if (!t) return '';
  const fence = t.includes('`') ? '``' : '`';
  return `${fence}${fence === '``' ? ' ' : ''}${t}${fence === '``' ? ' ' : ''}${fence}`;
}

/** Escapes characters that would start Markdown constructs in running text. */
function text(s: string): string {
  return s.replace(/([\\*_[\]<>#])/g, '\\$1');
}

function quoteNotes(notes: Note[] | undefined, indent = ''): string[] {
  if (!notes) return [];
  return notes.map((n) => `${indent}> **Note** (${n.createdAt.slice(0, 16).replace('T', ' ')}): ${n.text.split(/\r?\n/).map(text).join(`\n${indent}> `)}`);
}

export function renderMarkdownReport(input: ReportInput): string {
  const m = buildModel(input);
  const r = m.result;
  const v = r.verdict;
  const L: string[] = [];
  const status = v.status.toUpperCase();
  L.push(`### Tandem: ${status}${v.first_missing ? ` — first missing ${v.first_missing}` : ''}`);
  L.push('');
  L.push(text(v.summary));
  const facts: string[] = [];
  if (v.class && v.class !== 'none') facts.push(`class **${v.class}**`);
  if (v.host) facts.push(`fix on **${v.host}**`);
  if (r.flow) facts.push(`flow ${codeSpan(`${r.flow.proto} ${r.flow.src ?? '*'}${r.flow.sport != null ? ':' + r.flow.sport : ''} > ${r.flow.dst ?? '*'}${r.flow.dport != null ? ':' + r.flow.dport : ''}`)}`);
  facts.push(`A: ${codeSpan(input.a.name)} (${input.a.packets.length} pkts)`, `B: ${codeSpan(input.b.name)} (${input.b.packets.length} pkts)`);
  L.push('');
  L.push(facts.join(' · '));
  if (m.notes.session.length) { L.push(''); L.push(...quoteNotes(m.notes.session)); }

  L.push('', '#### Findings', '');
  if (r.findings.length === 0) L.push('None.');
  r.findings.forEach((f, i) => {
    L.push(`${i + 1}. **[${f.severity}]${f.checkpoint ? ` ${f.checkpoint}` : ''}** ${text(f.title)} — fix on ${f.host}, class ${f.class}`);
    if (f.evidence.length) {
      const ev = f.evidence.slice(0, 8).map((e) => `${e.capture}#${e.frame}`).join(', ');
      L.push(`   - evidence: ${ev}${f.evidence.length > 8 ? ` (+${f.evidence.length - 8} more)` : ''}`);
    }
    for (const s of f.next_steps) L.push(`   - ${s.replace(/\r?\n/g, ' ')}`);
    L.push(...quoteNotes(m.notes.finding.get(i), '   '));
  });

  L.push('', '#### Checkpoints', '');
  const ordered = orderedCheckpoints(r);
  if (ordered.length === 0) L.push('No checkpoints labelled.');
  else {
    L.push('| label | packet | time | on A\'s clock | iface | dir | summary |', '|---|---|---|---|---|---|---|');
    for (const c of ordered) {
      const p = m.packet(c.capture, c.frame);
      const own = p ? timeOf(p) : '';
      const onA = p ? (c.capture === 'B' ? (r.clock.pairs > 0 ? timeOnA(p, m.clock) : '') : own) : '';
      L.push(`| ${cell(c.label)} | ${c.capture}#${c.frame} | ${own} | ${onA} | ${cell(c.iface)} | ${cell(c.dir ?? '')} | ${cell(codeSpan(p?.summary ?? ''))} |`);
    }
    if (v.first_missing) L.push(`| **${cell(v.first_missing)}** | — | | | | | not seen: ${cell(m.describe(v.first_missing))} |`);
  }
  for (const c of ordered) {
    const notes = m.notes.checkpoint.get(c.label);
    if (notes) { L.push(''); L.push(`${c.label}:`); L.push(...quoteNotes(notes)); }
  }

  L.push('', '#### Clock', '', clockSentence(r));

  // Packet notes (and notes whose target vanished) in one list, with what they point at.
  const rest = (input.notes ?? []).filter((n) => n.target.kind === 'packet' || (n.target.kind === 'finding' && !r.findings[n.target.index]) ||
    (n.target.kind === 'checkpoint' && !m.checkpointByLabel.has(n.target.label)));
  if (rest.length) {
    L.push('', '#### Notes', '');
    for (const n of rest) {
      const t = n.target;
      const p = t.kind === 'packet' ? m.packet(t.capture, t.frame) : undefined;
      const labels = t.kind === 'packet' ? m.labelsByFrame.get(packetKey(t.capture, t.frame)) : undefined;
      L.push(`- **${describeTarget(t)}**${labels ? ` (${labels.join(', ')})` : ''}${p ? ` ${codeSpan(p.summary)}` : ''}: ${text(n.text.replace(/\r?\n/g, ' '))}`);
    }
  }
  L.push('', `<sub>Tandem ${m.toolVersion} · ${m.generatedAt}</sub>`, '');
  return L.join('\n');
}
