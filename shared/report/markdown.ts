// Compact Markdown for an issue tracker: verdict, findings, checkpoint table, clock, notes.
// GitHub/GitLab flavoured: packet summaries go in code spans, everything else is escaped text.
import type { Note } from './notes.ts';
import { describeTarget, packetKey } from './notes.ts';
import type { ReportInput } from './types.ts';
import { buildModel, clockSentence, orderedCheckpoints, timeOf, timeOnA } from './model.ts';
import { esc } from './svg.ts';
import { visible } from '../util/shell.ts';
import { splitProse } from '../util/prose.ts';

// Everything below that comes from a capture, a notes file or a far end is hostile: it is escaped so
// a Markdown renderer that passes raw HTML through (most issue trackers and wikis) shows it as text.
// Running text escapes every character that can open inline markup or an HTML tag or entity; line
// starts are escaped where a block could begin; packet text goes in code spans whose fence is longer
// than any backtick run inside. Control and bidi characters are made visible first.

/** One line of text: line breaks become spaces, control and bidi characters visible escapes. */
function oneLine(s: unknown): string {
  return visible(String(s ?? '').replace(/\r\n?|\n/g, ' '));
}

/** Inline text, inert: Markdown punctuation and HTML's `<` `&` are backslash-escaped (CommonMark renders `\x` as `x`). */
function text(s: unknown): string {
  return oneLine(s).replace(/[\\`*_[\]()<>&!|~]/g, '\\$&');
}

/** Text that starts a line: also no heading, quote, list item, rule or setext underline. */
function lineStart(s: unknown): string {
  return blockSafe(text(s));
}

/**
 * Already-escaped inline Markdown made safe at the start of a line (or of a list item): no leading
 * indentation (a code block), no block marker, and no backtick or tilde run of three or more, which
 * would open a fenced code block (a character reference for a space keeps the code span inline).
 */
function blockSafe(t: string): string {
  const u = t.replace(/^\s+/, '').replace(/^([#>+=-])/, '\\$1').replace(/^(\d+)([.)])/, '$1\\$2');
  return /^(`{3,}|~{3,})/.test(u) ? `&#32;${u}` : u;
}

/** Text in a table cell: inline text with pipes escaped (text() already does). */
function cell(s: unknown): string {
  return text(s);
}

/** A code span that holds any text: the fence is one backtick longer than the longest run inside. */
function codeSpan(s: unknown): string {
  const t = oneLine(s);
  if (!t) return '';
  let longest = 0;
  for (const m of t.matchAll(/`+/g)) longest = Math.max(longest, m[0].length);
  const fence = '`'.repeat(longest + 1);
  // A space on each side keeps a leading or trailing backtick from joining the fence (CommonMark strips one).
  const pad = t.startsWith('`') || t.endsWith('`') || (t.startsWith(' ') && t.endsWith(' ')) ? ' ' : '';
  return `${fence}${pad}${t}${pad}${fence}`;
}

/** A code span inside a table cell: GFM splits cells on `|` even inside code, so pipes are escaped there too. */
function cellCode(s: unknown): string {
  return codeSpan(s).replace(/\|/g, '\\|');
}

/**
 * Engine prose (next steps, details): its code spans (any fence length, shared/util/prose.ts) as code
 * spans with a fence of our own, the rest as inert text.
 */
function rich(s: unknown): string {
  return splitProse(String(s ?? '')).map((p) => (p.code ? codeSpan(p.text) : text(p.text))).join('');
}

function quoteNotes(notes: Note[] | undefined, indent = ''): string[] {
  if (!notes) return [];
  return notes.map((n) => `${indent}> **Note** (${text(n.createdAt.slice(0, 16).replace('T', ' '))}): ${n.text.split(/\r\n?|\n/).map(lineStart).join(`\n${indent}> `)}`);
}

export function renderMarkdownReport(input: ReportInput): string {
  const m = buildModel(input);
  const r = m.result;
  const v = r.verdict;
  const L: string[] = [];
  const status = v.status.toUpperCase();
  L.push(`### Tandem: ${text(status)}${v.first_missing ? ` — first missing ${text(v.first_missing)}` : ''}`);
  L.push('');
  L.push(lineStart(v.summary));
  const facts: string[] = [];
  if (v.class && v.class !== 'none') facts.push(`class **${text(v.class)}**`);
  if (v.host) facts.push(`fix on **${text(v.host)}**`);
  if (r.flow) facts.push(`flow ${codeSpan(`${r.flow.proto} ${r.flow.src ?? '*'}${r.flow.sport != null ? ':' + r.flow.sport : ''} > ${r.flow.dst ?? '*'}${r.flow.dport != null ? ':' + r.flow.dport : ''}`)}`);
  facts.push(`A: ${codeSpan(input.a.name)} (${input.a.packets.length} pkts)`, `B: ${codeSpan(input.b.name)} (${input.b.packets.length} pkts)`);
  L.push('');
  L.push(facts.join(' · '));
  if (m.notes.session.length) { L.push(''); L.push(...quoteNotes(m.notes.session)); }

  L.push('', '#### Findings', '');
  if (r.findings.length === 0) L.push('None.');
  r.findings.forEach((f, i) => {
    const head = `${i + 1}. **\\[${text(f.severity)}\\]${f.checkpoint ? ` ${text(f.checkpoint)}` : ''}** ${text(f.title)} — fix on ${text(f.host)}, class ${text(f.class)}${f.rule ? `, rule ${codeSpan(f.rule)}` : ''}`;
    // The why, under the title in the same item (a backslash at the end of a line is a hard break).
    const detail = f.detail ? blockSafe(rich(f.detail)) : '';
    L.push(detail ? `${head}\\` : head);
    if (detail) L.push(`   ${detail}`);
    if (f.evidence.length) {
      const ev = f.evidence.slice(0, 8).map((e) => `${e.capture}#${e.frame}`).join(', ');
      L.push(`   - evidence: ${ev}${f.evidence.length > 8 ? ` (+${f.evidence.length - 8} more)` : ''}`);
    }
    for (const h of f.host_evidence ?? []) {
      const lines = String(h.text).split(/\r\n?|\n/).filter((x) => x.trim() !== '').slice(0, 12);
      L.push(`   - host evidence (${text(h.host)}, ${text(h.source)}): ${lines.map((x) => codeSpan(x)).join(' ')}`);
    }
    for (const s of f.next_steps) L.push(`   - ${blockSafe(rich(s))}`);
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
      L.push(`| ${cell(c.label)} | ${cell(c.capture)}#${c.frame} | ${cell(own)} | ${cell(onA)} | ${cell(c.iface)} | ${cell(c.dir ?? '')} | ${cellCode(p?.summary ?? '')} |`);
    }
    if (v.first_missing) L.push(`| **${cell(v.first_missing)}** | — | | | | | not seen: ${cell(m.describe(v.first_missing))} |`);
  }
  for (const c of ordered) {
    const notes = m.notes.checkpoint.get(c.label);
    if (notes) { L.push(''); L.push(`${lineStart(c.label)}:`); L.push(...quoteNotes(notes)); }
  }

  L.push('', '#### Clock', '', lineStart(clockSentence(r)));

  // Packet notes (and notes whose target vanished) in one list, with what they point at.
  const rest = (input.notes ?? []).filter((n) => n.target.kind === 'packet' || (n.target.kind === 'finding' && !r.findings[n.target.index]) ||
    (n.target.kind === 'checkpoint' && !m.checkpointByLabel.has(n.target.label)));
  if (rest.length) {
    L.push('', '#### Notes', '');
    for (const n of rest) {
      const t = n.target;
      const p = t.kind === 'packet' ? m.packet(t.capture, t.frame) : undefined;
      const labels = t.kind === 'packet' ? m.labelsByFrame.get(packetKey(t.capture, t.frame)) : undefined;
      L.push(`- **${text(describeTarget(t))}**${labels ? ` (${text(labels.join(', '))})` : ''}${p ? ` ${codeSpan(p.summary)}` : ''}: ${text(n.text)}`);
    }
  }
  L.push('', `<sub>Tandem ${esc(m.toolVersion)} · ${esc(m.generatedAt)}</sub>`, '');
  return L.join('\n');
}
