// The HTML report: one self-contained file a colleague or vendor opens in any browser, offline.
// Everything is inline (styles, the SVG ladder); a Content-Security-Policy forbids every fetch, so the
// file cannot phone home even if a packet summary smuggled markup past the escaping.
import type { Packet } from '../protocols/packet.ts';
import type { Note } from './notes.ts';
import { packetKey } from './notes.ts';
import type { CaptureSide, ReportInput } from './types.ts';
import {
  buildModel, clockSentence, excerptBlocks, fmtSeconds, fmtSignedSeconds, oneSidedClock, timeOf, timeOnA,
  CLOCK_CONVENTION, type ReportModel,
} from './model.ts';
import { CHECKPOINTS } from './labels.ts';
import { layoutLadder, renderLadderSvg } from './ladder.ts';
import { esc } from './svg.ts';
import { visible } from '../util/shell.ts';
import { splitProse } from '../util/prose.ts';

export const REPORT_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:";

const CSS = `
:root { --ok:#2e7d32; --fail:#c62828; --warn:#ef6c00; --muted:#666; --line:#ddd; --a:#2f6fdf; --b:#b4571b; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; color:#111; margin:0; background:#fafafa; }
main { max-width: 1100px; margin: 0 auto; padding: 24px 28px 48px; background:#fff; }
h1 { font-size: 22px; margin: 0 0 4px; }
h2 { font-size: 17px; margin: 28px 0 10px; padding-bottom: 4px; border-bottom: 2px solid #222; }
h3 { font-size: 15px; margin: 16px 0 6px; }
.meta { color: var(--muted); font-size: 12.5px; margin: 0 0 14px; }
.meta b { color:#222; font-weight:600; }
code, .mono, td.t, td.s { font-family: ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: 12px; }
code { background:#f3f3f3; padding: 0 3px; border-radius: 3px; }
.verdict { border: 2px solid; border-radius: 6px; padding: 12px 16px; margin: 10px 0 6px; }
.verdict.ok { border-color: var(--ok); background:#f1f8f1; }
.verdict.fail { border-color: var(--fail); background:#fdf1f1; }
.verdict.inconclusive { border-color: var(--warn); background:#fff6ec; }
.verdict .status { font-size: 20px; font-weight: 700; letter-spacing: .02em; }
.verdict.ok .status { color: var(--ok); } .verdict.fail .status { color: var(--fail); } .verdict.inconclusive .status { color: var(--warn); }
.verdict .facts { margin-top: 4px; font-size: 13px; }
.verdict .facts span { margin-right: 16px; }
.verdict p { margin: 6px 0 0; font-size: 14.5px; }
.note { border-left: 4px solid #f9a825; background: #fffbe6; padding: 4px 10px; margin: 6px 0; font-size: 13px; white-space: pre-wrap; }
.note .who { color: var(--muted); font-size: 11px; margin-right: 6px; }
.finding { border: 1px solid var(--line); border-left: 5px solid var(--muted); border-radius: 4px; padding: 8px 14px 10px; margin: 10px 0; }
.finding.error { border-left-color: var(--fail); } .finding.warning { border-left-color: var(--warn); } .finding.info { border-left-color: var(--a); }
.finding h3 { margin: 2px 0 4px; }
.badge { display:inline-block; font-size: 11px; font-weight: 700; text-transform: uppercase; border-radius: 3px; padding: 1px 6px; margin-right: 6px; color:#fff; background: var(--muted); vertical-align: 1px; }
.badge.error { background: var(--fail); } .badge.warning { background: var(--warn); } .badge.info { background: var(--a); }
.badge.cp { background:#455a64; }
.finding .where { color: var(--muted); font-size: 12.5px; }
.finding ol { margin: 4px 0 0 0; padding-left: 22px; }
table { border-collapse: collapse; width: 100%; font-size: 12.5px; margin: 4px 0 8px; }
th, td { text-align: left; padding: 3px 6px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { background: #f0f0f0; font-weight: 600; }
tr.focus td { background: #fff3c4; font-weight: 600; }
tr.missing td { color: var(--fail); font-style: italic; }
tr.absent td { color: #999; }
tr.noterow td { border-bottom: none; padding-top: 0; }
td.s { word-break: break-word; }
.capA { color: var(--a); font-weight: 700; } .capB { color: var(--b); font-weight: 700; }
.ladder-wrap { overflow-x: auto; border: 1px solid var(--line); border-radius: 4px; padding: 6px; }
.ladder-wrap svg { max-width: 100%; height: auto; display:block; }
.excerpt { margin: 10px 0 14px; }
.excerpt h3 { font-size: 13.5px; }
.small { font-size: 12px; color: var(--muted); }
footer { margin-top: 36px; font-size: 11.5px; color: var(--muted); border-top: 1px solid var(--line); padding-top: 6px; }
@media print {
  body { background: #fff; font-size: 9pt; }
  code, .mono, td.t, td.s { font-size: 7.5pt; }
  table { font-size: 8pt; }
  h2 { font-size: 12.5pt; margin-top: 16px; }
  h3 { font-size: 10.5pt; }
  main { max-width: none; padding: 0; }
  h2 { break-after: avoid; }
  .finding, .verdict, .path, tr, .excerpt h3 { break-inside: avoid; }
  .ladder-wrap { overflow: visible; border: none; padding: 0; }
  a { color: inherit; text-decoration: none; }
  tr.focus td { background: #fff3c4 !important; -webkit-print-color-adjust: exact; print-color-adjust: exact; }
  .verdict, .badge, .note { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
}
@page { size: A4; margin: 12mm; }
`;

/**
 * Engine prose: its code spans (commands, any fence length) as <code>, the rest as text. Split
 * before escaping, by the one reading all renderers share (shared/util/prose.ts).
 */
function richText(s: string): string {
  return splitProse(s).map((p) => (p.code ? `<code>${esc(p.text)}</code>` : esc(p.text))).join('');
}

function notesHtml(notes: Note[] | undefined): string {
  if (!notes || notes.length === 0) return '';
  return notes.map((n) => `<div class="note"><span class="who">note · ${esc(n.createdAt.slice(0, 16).replace('T', ' '))}</span>${esc(n.text)}</div>`).join('');
}

function capTag(side: CaptureSide, frame?: number): string {
  return `<span class="cap${side}">${side}</span>${frame !== undefined ? `#${frame}` : ''}`;
}

function dirText(d: string | null | undefined): string { return d ?? ''; }

function packetTimeCells(m: ReportModel, side: CaptureSide, p: Packet | undefined): string {
  if (!p) return '<td class="t">—</td><td class="t">—</td>';
  const own = timeOf(p);
  const onA = side === 'B' && m.result.clock.pairs > 0 ? timeOnA(p, m.clock) : side === 'A' ? own : '';
  return `<td class="t">${esc(own)}</td><td class="t">${esc(onA)}</td>`;
}

function verdictHtml(m: ReportModel): string {
  const v = m.result.verdict;
  const status = ['ok', 'fail', 'inconclusive'].includes(v.status) ? v.status : 'inconclusive';
  const facts: string[] = [];
  if (v.first_missing) facts.push(`<span>first missing checkpoint: <b>${esc(v.first_missing)}</b> (${esc(m.describe(v.first_missing))})</span>`);
  if (v.class && v.class !== 'none') facts.push(`<span>class: <b>${esc(v.class)}</b></span>`);
  if (v.host) facts.push(`<span>fix on: <b>${esc(v.host)}</b></span>`);
  return `<section class="verdict ${status}" id="verdict"><div class="status">${esc(status.toUpperCase())}</div>` +
    (facts.length ? `<div class="facts">${facts.join('')}</div>` : '') +
    `<p>${esc(v.summary)}</p></section>`;
}

function findingsHtml(m: ReportModel): string {
  const fs = m.result.findings;
  if (fs.length === 0) return '<h2>Findings</h2><p class="small">No problems found on the traced path.</p>';
  const out: string[] = ['<h2>Findings</h2>'];
  fs.forEach((f, i) => {
    const sev = esc(f.severity);
    const ev = f.evidence.map((e) => {
      const p = m.packet(e.capture, e.frame);
      // A file without direction flags: the direction the analysis worked out for that packet, else "?".
      const dir = p?.dir ?? m.result.checkpoints.find((c) => c.capture === e.capture && c.frame === e.frame)?.dir ?? '?';
      return `<tr><td>${capTag(e.capture, e.frame)}</td>${packetTimeCells(m, e.capture, p)}<td>${esc(p?.iface ?? '')}</td><td>${esc(dirText(dir))}</td><td class="s">${esc(p?.summary ?? '(frame not in the capture)')}</td></tr>` +
        rowNotes(m, e.capture, e.frame, 6);
    }).join('');
    out.push(`<article class="finding ${sev}" id="finding-${i + 1}">` +
      `<h3><span class="badge ${sev}">${sev}</span>${f.checkpoint ? `<span class="badge cp">${esc(f.checkpoint)}</span>` : ''}${i + 1}. ${esc(f.title)}</h3>` +
      `<div class="where">fix on host <b>${esc(f.host)}</b> · class <b>${esc(f.class)}</b>${f.rule ? ` · rule <code>${esc(f.rule)}</code>` : ''}</div>` +
      (f.detail ? `<p>${richText(f.detail)}</p>` : '') +
      (f.evidence.length ? `<table><thead><tr><th>packet</th><th>time</th><th>on A's clock</th><th>iface</th><th>dir</th><th>summary</th></tr></thead><tbody>${ev}</tbody></table>` : '') +
      (f.host_evidence?.length ? `<div class="host-ev"><b>Host evidence</b><ul>${f.host_evidence.map((h) => `<li>host ${esc(h.host)} · ${esc(h.source)}<pre>${esc(h.text)}</pre></li>`).join('')}</ul></div>` : '') +
      (f.next_steps.length ? `<div><b>Next steps</b><ol>${f.next_steps.map((s) => `<li>${richText(s)}</li>`).join('')}</ol></div>` : '') +
      notesHtml(m.notes.finding.get(i)) +
      '</article>');
  });
  return out.join('\n');
}

function rowNotes(m: ReportModel, side: CaptureSide, frame: number, cols: number): string {
  const n = m.notes.packet.get(packetKey(side, frame));
  return n ? `<tr class="noterow"><td colspan="${cols}">${notesHtml(n)}</td></tr>` : '';
}

function ladderHtml(m: ReportModel): string {
  const r = m.result;
  const flow = r.flow;
  const flowText = flow ? `${flow.proto} ${flow.src ?? '*'}${flow.sport != null ? ':' + flow.sport : ''} → ${flow.dst ?? '*'}${flow.dport != null ? ':' + flow.dport : ''}` : 'no flow identified';
  const variant = r.variant ? `handshake ${r.variant.handshake}, path ${r.variant.path}, tunnel ${r.variant.tunnel}` : '';
  // Six packets keep the drawing within one printed page; the hop table lists the rest.
  const layout = layoutLadder(r, { packet: m.packet, clock: r.clock.pairs > 0 ? m.clock : undefined, describe: m.describe, maxChains: 6 });
  const traced = r.lineage_total ?? r.lineage.length;
  return `<section class="path"><h2>Path of the test flow</h2>` +
    `<p class="meta">Flow under test: <b>${esc(flowText)}</b>${variant ? ` · ${esc(variant)}` : ''} · ${traced} packet${traced === 1 ? '' : 's'} traced. ` +
    `Each vertical line is an interface; time runs downwards (left margin: time on A's clock); arrows follow one packet from hop to hop with what changed and how long it took. Red dashed arrows end where an expected packet never showed up.</p>` +
    `<div class="ladder-wrap">${renderLadderSvg(layout, 'ladder')}</div></section>` + hopTableHtml(m);
}

/** The ladder's arrows in words: every hop with its full transformation text. */
function hopTableHtml(m: ReportModel, max = 20): string {
  const lineage = m.result.lineage.slice(0, max);
  if (lineage.length === 0) return '<p class="small">No packet of the test flow could be followed across hops.</p>';
  const rows: string[] = [];
  lineage.forEach((l, i) => {
    l.hops.forEach((h, j) => {
      rows.push(`<tr>${j === 0 ? `<td rowspan="${l.hops.length + (l.lost_after ? 1 : 0)}"><b>${i + 1}.</b> ${esc(l.direction)}</td>` : ''}` +
        `<td>${capTag(h.capture, h.frame)}</td><td>${esc(h.checkpoint ?? '')}</td><td>${esc(h.stage)}</td><td>${esc(h.iface)}</td><td class="t">${esc(h.latency_s === null ? '' : fmtSeconds(h.latency_s))}</td>` +
        `<td>${esc(h.transform ?? '')}</td></tr>`);
    });
    if (l.lost_after) rows.push(`<tr class="missing"><td colspan="6">lost after ${esc(l.lost_after)}: the next hop never appeared</td></tr>`);
  });
  const more = m.result.lineage.length - lineage.length + Math.max(0, (m.result.lineage_total ?? 0) - m.result.lineage.length);
  return `<h3>Hops</h3><table><thead><tr><th>packet</th><th>seen as</th><th>label</th><th>stage</th><th>iface</th><th>latency</th><th>what changed</th></tr></thead><tbody>${rows.join('\n')}</tbody></table>` +
    (more > 0 ? `<p class="small">${more} more traced packet${more === 1 ? '' : 's'} not listed.</p>` : '');
}

function checkpointsHtml(m: ReportModel): string {
  const r = m.result;
  const rows: string[] = [];
  for (const side of ['A', 'B'] as const) {
    for (const spec of CHECKPOINTS.filter((c) => c.host === side)) {
      const c = m.checkpointByLabel.get(spec.label);
      const notes = m.notes.checkpoint.get(spec.label);
      // A0/A7 exist only behind a gateway; an endpoint's report does not list them as absent.
      if (!c && spec.gatewayOnly && r.verdict.first_missing !== spec.label && !notes) continue;
      if (!c) {
        const first = r.verdict.first_missing === spec.label;
        rows.push(`<tr class="${first ? 'missing' : 'absent'}"><td><b>${esc(spec.label)}</b></td><td>${esc(m.describe(spec.label))}</td><td colspan="6">${first ? 'first missing checkpoint — never seen' : 'not seen'}</td></tr>`);
      } else {
        const p = m.packet(c.capture, c.frame);
        rows.push(`<tr><td><b>${esc(c.label)}</b></td><td>${esc(m.describe(c.label))}</td><td>${capTag(c.capture, c.frame)}</td>${packetTimeCells(m, c.capture, p)}<td>${esc(c.iface)}</td><td>${esc(dirText(c.dir))}</td><td class="s">${esc(p?.summary ?? '')}</td></tr>`);
      }
      if (notes) rows.push(`<tr class="noterow"><td colspan="9">${notesHtml(notes)}</td></tr>`);
    }
  }
  // Labels outside this vocabulary (future variants) are listed as given.
  for (const c of r.checkpoints) {
    if (CHECKPOINTS.some((s) => s.label === c.label)) continue;
    const p = m.packet(c.capture, c.frame);
    rows.push(`<tr><td><b>${esc(c.label)}</b></td><td></td><td>${capTag(c.capture, c.frame)}</td>${packetTimeCells(m, c.capture, p)}<td>${esc(c.iface)}</td><td>${esc(dirText(c.dir))}</td><td class="s">${esc(p?.summary ?? '')}</td></tr>`);
  }
  return `<h2>Checkpoints</h2>` +
    `<table><thead><tr><th>label</th><th>meaning</th><th>packet</th><th>time</th><th>on A's clock</th><th>iface</th><th>dir</th><th>summary</th></tr></thead><tbody>${rows.join('\n')}</tbody></table>`;
}

function clockHtml(m: ReportModel): string {
  const c = m.result.clock;
  // Without a matched pair the engine's offset is only a starting guess: the sentence says so, no figures.
  const rows: Array<[string, string]> = !(c.pairs > 0) ? [['matched pairs', '0']] : [
    ['offset (B − A)', fmtSignedSeconds(c.offset_s)],
    ['skew', c.skew_observable === false ? `${c.skew_ppm.toFixed(3)} ppm (not observable: the pairs span too little time)` : `${c.skew_ppm.toFixed(3)} ppm`],
    ['uncertainty', oneSidedClock(c) ? 'one direction only (upper bound not known)' : `± ${fmtSeconds(c.uncertainty_s)}`],
    ['matched pairs', `${c.pairs}${c.pairs_a_to_b !== undefined ? ` (${c.pairs_a_to_b} A→B, ${c.pairs_b_to_a} B→A)` : ''}`],
  ];
  if (c.pairs > 0 && c.uncertainty_max_s != null && Number.isFinite(c.uncertainty_max_s) && c.uncertainty_max_s > (c.uncertainty_s ?? 0) * 1.01) {
    rows.push(['uncertainty far from the pairs', `± ${fmtSeconds(c.uncertainty_max_s)} (growing ${((c.drift_per_s ?? 0) * 1e6).toFixed(1)} µs per second away from them)`]);
  }
  if (c.pairs > 0 && c.method) rows.push(['method', c.method]);
  if (c.pairs > 0 && Number.isFinite(c.ref_s)) rows.push(['reference instant', `${c.ref_s.toFixed(6)} s (Unix, A's clock)`]);
  return `<h2>Clock alignment</h2><p>${esc(clockSentence(m.result))}</p>` +
    `<table style="width:auto"><tbody>${rows.map(([k, v]) => `<tr><th>${esc(k)}</th><td class="t">${esc(v)}</td></tr>`).join('')}</tbody></table>` +
    `<p class="small">Convention: ${esc(CLOCK_CONVENTION)}. Times "on A's clock" in this report apply that correction to B's packets.</p>`;
}

function capturesHtml(m: ReportModel): string {
  const rows = (['A', 'B'] as const).map((side) => {
    const info = m.result.captures[side];
    const cap = m.capture(side);
    const ifaces = (info?.interfaces ?? []).map((i) => `${i.name} (${i.kind})`).join(', ') || '—';
    return `<tr><td>${capTag(side)}</td><td>${esc(cap.name || info?.name || '')}</td><td>${info?.packets ?? cap.packets.length}</td><td>${esc(info?.role ?? '')}</td><td>${esc(ifaces)}</td></tr>`;
  }).join('');
  return `<h2>Captures</h2><table><thead><tr><th></th><th>file</th><th>packets</th><th>role</th><th>interfaces</th></tr></thead><tbody>${rows}</tbody></table>`;
}

function excerptsHtml(m: ReportModel): string {
  const out: string[] = ['<h2>Packet lists around the checkpoints</h2>',
    '<p class="small">Three packets either side of each checkpoint (highlighted), in each capture\'s own order and clock.</p>'];
  let any = false;
  for (const side of ['A', 'B'] as const) {
    const cap = m.capture(side);
    const frames = m.result.checkpoints.filter((c) => c.capture === side).map((c) => c.frame);
    // Annotated packets join the excerpts so their notes sit in context.
    for (const n of m.input.notes ?? []) if (n.target.kind === 'packet' && n.target.capture === side) frames.push(n.target.frame);
    const blocks = excerptBlocks(side, cap.packets, frames, 3);
    for (const b of blocks) {
      any = true;
      const first = b.packets[0].frame, last = b.packets[b.packets.length - 1].frame;
      const labels = [...b.focus].flatMap((f) => m.labelsByFrame.get(packetKey(side, f)) ?? []);
      out.push(`<div class="excerpt"><h3>${capTag(side)} ${esc(cap.name)} · frames ${first}–${last}${labels.length ? ` · ${esc(labels.join(', '))}` : ''}</h3><table><thead><tr><th>frame</th><th>label</th><th>time</th><th>iface</th><th>dir</th><th>summary</th></tr></thead><tbody>`);
      for (const p of b.packets) {
        const lab = m.labelsByFrame.get(packetKey(side, p.frame))?.join(' ') ?? '';
        out.push(`<tr${lab ? ' class="focus"' : ''}><td>${p.frame}</td><td>${esc(lab)}</td><td class="t">${esc(timeOf(p))}</td><td>${esc(p.iface)}</td><td>${esc(dirText(p.dir))}</td><td class="s">${esc(p.summary)}</td></tr>` +
          rowNotes(m, side, p.frame, 6));
      }
      out.push('</tbody></table></div>');
    }
  }
  if (!any) out.push('<p class="small">No checkpoints were labelled, so there is nothing to excerpt.</p>');
  return out.join('\n');
}

/** Packet notes whose frame is not in either capture (so no excerpt could show them). */
function strayNotesHtml(m: ReportModel): string {
  const stray = (m.input.notes ?? []).filter((n) => n.target.kind === 'packet' && !m.packet(n.target.capture, n.target.frame));
  const badFinding = (m.input.notes ?? []).filter((n) => n.target.kind === 'finding' && !m.result.findings[n.target.index]);
  const all = [...stray, ...badFinding];
  if (all.length === 0) return '';
  return `<h2>Other notes</h2>` + all.map((n) => {
    const t = n.target;
    const what = t.kind === 'packet' ? `packet ${t.capture}#${t.frame} (not in the capture)` : t.kind === 'finding' ? `finding ${t.index + 1} (no longer reported)` : '';
    return `<div class="small">${esc(what)}</div>${notesHtml([n])}`;
  }).join('');
}

/**
 * The finished document with every control and bidi/invisible format character that came from a
 * capture, a note or a host shown as a visible escape (`\u202e`), as the terminal and Markdown
 * outputs do: an override in a packet summary must not reorder the text after it, in the tables or
 * in the SVG ladder alike. The template itself holds none, so one pass over the whole page catches
 * every field; tab, line feed and carriage return stay (notes keep their line breaks).
 */
function visibleHtml(doc: string): string {
  return doc.replace(/[^\t\n\r]+/g, (run) => visible(run));
}

export function renderHtmlReport(input: ReportInput): string {
  const m = buildModel(input);
  const a = input.a, b = input.b;
  const session = m.notes.session;
  const body = [
    `<h1>${esc(m.title)}</h1>`,
    `<p class="meta">Host A: <b>${esc(a.name)}</b> (${a.packets.length} packets) · Host B: <b>${esc(b.name)}</b> (${b.packets.length} packets) · generated ${esc(m.generatedAt)} by Tandem ${esc(m.toolVersion)}</p>`,
    verdictHtml(m),
    session.length ? `<section id="session-notes"><h2>Notes</h2>${notesHtml(session)}</section>` : '',
    findingsHtml(m),
    ladderHtml(m),
    checkpointsHtml(m),
    clockHtml(m),
    capturesHtml(m),
    excerptsHtml(m),
    strayNotesHtml(m),
    `<footer>Made with Tandem ${esc(m.toolVersion)}. Frame numbers are 1-based positions in each capture file, as Wireshark counts them.</footer>`,
  ].filter(Boolean).join('\n');
  return visibleHtml(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${esc(REPORT_CSP)}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="Tandem ${esc(m.toolVersion)}">
<title>${esc(m.title)} — ${esc(m.result.verdict.status.toUpperCase())}</title>
<style>${CSS}</style>
</head>
<body>
<main>
${body}
</main>
</body>
</html>
`);
}
