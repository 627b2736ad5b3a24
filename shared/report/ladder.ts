// The lineage ladder: each capture interface is a vertical line, time runs downwards, and every hop of
// a traced packet is an arrow from the interface where it was seen to the next one, labelled with what
// changed and how long it took. A checkpoint that should have followed but never appeared is drawn as
// a dashed red arrow ending in a cross, where the packet ought to have been seen.
// Pure: layout is data (reusable by the UI), rendering is a string.
import type { Packet } from '../protocols/packet.ts';
import type { CaptureSide, ReportAnalysis } from './types.ts';
import { checkpointSpec, PATH_ORDER, type IfaceRole } from './labels.ts';
import { correctToA, fmtSeconds, transformText, type ClockModel } from './model.ts';
import { clockNs } from '../util/time.ts';
import { esc, num } from './svg.ts';

export interface LadderColumn {
  key: string;
  host: CaptureSide;
  iface: string;
  role?: IfaceRole;
  x: number;
  /** No capture interface plays this role: drawn dashed, only to place a missing hop. */
  placeholder?: boolean;
}

export interface LadderPoint {
  x: number;
  y: number;
  capture: CaptureSide;
  frame: number;
  checkpoint?: string;
}

export interface LadderArrow {
  x1: number; y1: number; x2: number; y2: number;
  text: string;
  missing?: boolean;
}

export interface LadderLayout {
  width: number;
  height: number;
  columns: LadderColumn[];
  points: LadderPoint[];
  arrows: LadderArrow[];
  /** Captions in the left margin (chain names, times). */
  captions: Array<{ y: number; text: string; kind: 'chain' | 'time' }>;
  /** Crosses where an expected checkpoint was not seen. */
  misses: Array<{ x: number; y: number; label: string; text: string }>;
  /** Chains left out to keep the drawing readable. */
  omittedChains: number;
  headerY: number;
}

export interface LadderOptions {
  packet?: (side: CaptureSide, frame: number) => Packet | undefined;
  clock?: ClockModel;
  /** At most this many lineage chains are drawn (default 8). */
  maxChains?: number;
  /** Describes a checkpoint label for missing-hop captions. */
  describe?: (label: string) => string;
}

const LEFT = 150, TOP = 64, ROW = 30, COL_GAP = 170, HOST_GAP = 260, RIGHT = 70;
// Left to right along the path: a gateway's LAN (A0/A7) comes before its tunnel, B's LAN after its own.
const ROLE_ORDER: Record<CaptureSide, IfaceRole[]> = { A: ['lan', 'tunnel', 'wan'], B: ['wan', 'tunnel', 'lan'] };

function roleFromKind(kind: string | undefined): IfaceRole | undefined {
  const k = (kind ?? '').toLowerCase();
  if (!k) return undefined;
  if (k.includes('tun') || k === 'wg' || k === 'wireguard' || k === 'inner') return 'tunnel';
  if (k.includes('wan') || k.includes('phys') || k.includes('uplink') || k.includes('outer') || k.includes('public')) return 'wan';
  if (k.includes('lan') || k.includes('inside') || k.includes('internal')) return 'lan';
  return undefined;
}

/** A hop as the ladder needs it: the engine's hops, plus handshake legs built from checkpoints. */
interface LadderHop {
  capture: CaptureSide;
  frame: number;
  checkpoint?: string | null;
  iface?: string;
  transform?: string | null;
  latency_s?: number | null;
}

interface Chain { name: string; hops: LadderHop[]; lostAfter?: string }

/** Where each lineage stage sits, named by the checkpoint that marks it for the first packet. */
const STAGE_LABEL: Record<string, string> = {
  'tunnel-out': 'A1', 'encrypted-out': 'A4', 'encrypted-in': 'B3', 'decrypted-in': 'B4', 'forwarded-out': 'B5',
  'reply-in': 'B6', 'reply-tunnel-out': 'B7', 'encrypted-reply-out': 'B8', 'encrypted-reply-in': 'A5', 'decrypted-reply-in': 'A6',
};
const STAGE_NEXT: Record<string, string> = {
  'tunnel-out': 'encrypted-out', 'encrypted-out': 'encrypted-in', 'encrypted-in': 'decrypted-in', 'decrypted-in': 'forwarded-out',
  'reply-in': 'reply-tunnel-out', 'reply-tunnel-out': 'encrypted-reply-out', 'encrypted-reply-out': 'encrypted-reply-in',
  'encrypted-reply-in': 'decrypted-reply-in',
};

function chainName(p: Packet | undefined, i: number): string {
  if (!p) return `packet ${i + 1}`;
  if (p.tcp) {
    const f = p.tcp.flags;
    const word = f.includes('S') ? (f.includes('.') ? 'SYN-ACK' : 'SYN') : f.includes('F') ? 'FIN' : f.includes('R') ? 'RST' : p.tcp.len > 0 ? `data ${p.tcp.len} B` : 'ACK';
    return `${i + 1}. TCP ${word}`;
  }
  if (p.wg) return `${i + 1}. ${['', 'handshake init', 'handshake resp', 'cookie', 'transport'][p.wg.type]}`;
  if (p.icmp) return `${i + 1}. ICMP ${p.icmp.type}/${p.icmp.code}`;
  return `${i + 1}. ${p.proto}`;
}

export function layoutLadder(result: ReportAnalysis, opts: LadderOptions = {}): LadderLayout {
  const packet = opts.packet ?? (() => undefined);
  const maxChains = opts.maxChains ?? 8;
  const present = new Map<string, ReportAnalysis['checkpoints'][number]>(result.checkpoints.map((c) => [c.label, c]));

  // Which role each interface plays: the engine's own kinds first, then what the checkpoints imply.
  const roles = new Map<string, IfaceRole>();
  for (const side of ['A', 'B'] as const) {
    for (const i of result.captures?.[side]?.interfaces ?? []) {
      const r = roleFromKind(i.kind);
      if (r) roles.set(`${side}:${i.name}`, r);
    }
  }
  for (const c of result.checkpoints) {
    const spec = checkpointSpec(c.label);
    const iface = c.iface ?? packet(c.capture, c.frame)?.iface;
    if (spec && iface && !roles.has(`${c.capture}:${iface}`)) roles.set(`${c.capture}:${iface}`, spec.role);
  }

  // Chains: the lineage, preceded by the handshake legs when the lineage does not already hold them.
  const chains: Chain[] = [];
  const inLineage = new Set<string>();
  for (const l of result.lineage ?? []) for (const h of l.hops) if (h.checkpoint) inLineage.add(h.checkpoint);
  const leg = (from: string, to: string, name: string) => {
    const f = present.get(from), t = present.get(to);
    if (!f || inLineage.has(from)) return;
    const hops: LadderHop[] = [{ capture: f.capture, frame: f.frame, checkpoint: from, iface: f.iface }];
    if (t && !inLineage.has(to)) hops.push({ capture: t.capture, frame: t.frame, checkpoint: to, iface: t.iface });
    chains.push({ name, hops });
  };
  leg('A2', 'B1', 'handshake init');
  leg('B2', 'A3', 'handshake resp');
  const lineage = (result.lineage ?? []).filter((l) => l.hops.length > 0);
  const drawn = lineage.slice(0, maxChains);
  drawn.forEach((l, i) => chains.push({ name: chainName(packet(l.hops[0].capture, l.hops[0].frame), i), hops: l.hops, lostAfter: l.lost_after }));

  const ifaceOf = (h: { capture: CaptureSide; frame: number; iface?: string }) => h.iface || packet(h.capture, h.frame)?.iface || '?';

  // Missing checkpoints: the verdict's first missing one and any a finding names that never appeared.
  const missing: string[] = [];
  const addMissing = (l: string | null | undefined) => { if (l && !present.has(l as never) && checkpointSpec(l) && !missing.includes(l)) missing.push(l); };
  // Each chain that stopped short needs the place of its next stage too.
  const chainMiss = (c: Chain) => (c.lostAfter && STAGE_NEXT[c.lostAfter] ? STAGE_LABEL[STAGE_NEXT[c.lostAfter]] : undefined);
  const columnsNeeded = new Set<string>();
  for (const c of chains) { const l = chainMiss(c); if (l) columnsNeeded.add(l); }
  addMissing(result.verdict?.first_missing);
  for (const f of result.findings ?? []) addMissing(f.checkpoint);

  // Columns: every interface seen in a hop or checkpoint, ordered by role along the path.
  const seen = new Map<string, { host: CaptureSide; iface: string }>();
  const note = (host: CaptureSide, iface: string) => { const k = `${host}:${iface}`; if (!seen.has(k)) seen.set(k, { host, iface }); };
  for (const c of chains) for (const h of c.hops) note(h.capture, ifaceOf(h));
  for (const c of result.checkpoints) note(c.capture, c.iface || ifaceOf(c));
  const columns: LadderColumn[] = [];
  let x = LEFT;
  for (const host of ['A', 'B'] as const) {
    const mine = [...seen.values()].filter((s) => s.host === host);
    const rank = (iface: string) => { const r = roles.get(`${host}:${iface}`); return r ? ROLE_ORDER[host].indexOf(r) : 9; };
    mine.sort((p, q) => rank(p.iface) - rank(q.iface));
    const cols: LadderColumn[] = mine.map((m) => ({ key: `${host}:${m.iface}`, host, iface: m.iface, role: roles.get(`${host}:${m.iface}`), x: 0 }));
    for (const l of [...missing, ...columnsNeeded]) {
      const spec = checkpointSpec(l)!;
      if (spec.host !== host || cols.some((c) => c.role === spec.role)) continue;
      cols.push({ key: `${host}:(${spec.role})`, host, iface: `(${spec.role})`, role: spec.role, x: 0, placeholder: true });
      cols.sort((p, q) => (p.role ? ROLE_ORDER[host].indexOf(p.role) : 9) - (q.role ? ROLE_ORDER[host].indexOf(q.role) : 9));
    }
    if (cols.length === 0) cols.push({ key: `${host}:?`, host, iface: '(no packets)', x: 0, placeholder: true });
    if (host === 'B') x += HOST_GAP - COL_GAP;
    for (const c of cols) { c.x = x; x += COL_GAP; }
    columns.push(...cols);
  }
  const width = x - COL_GAP + RIGHT + 40;
  const colFor = (host: CaptureSide, iface: string) => columns.find((c) => c.key === `${host}:${iface}`);
  const colForRole = (host: CaptureSide, role: IfaceRole) => columns.find((c) => c.host === host && c.role === role);

  const points: LadderPoint[] = [];
  const arrows: LadderArrow[] = [];
  const captions: LadderLayout['captions'] = [];
  const misses: LadderLayout['misses'] = [];
  const pointOf = new Map<string, LadderPoint>();
  const drawnMiss = new Set<string>();
  let row = 0;
  const yOf = (r: number) => TOP + 30 + r * ROW;

  const timeCaption = (h: LadderHop, y: number) => {
    const p = packet(h.capture, h.frame);
    if (!p) return;
    let [s, n] = [p.tsSec, p.tsNsec];
    if (h.capture === 'B' && opts.clock) [s, n] = correctToA(s, n, opts.clock);
    captions.push({ y, text: clockNs(s, n).slice(0, 15), kind: 'time' });
  };
  const latencyBetween = (a: LadderHop, b: LadderHop): number | undefined => {
    const pa = packet(a.capture, a.frame), pb = packet(b.capture, b.frame);
    if (!pa || !pb) return undefined;
    let [sa, na] = [pa.tsSec, pa.tsNsec];
    let [sb, nb] = [pb.tsSec, pb.tsNsec];
    if (opts.clock) {
      if (a.capture === 'B') [sa, na] = correctToA(sa, na, opts.clock);
      if (b.capture === 'B') [sb, nb] = correctToA(sb, nb, opts.clock);
    } else if (a.capture !== b.capture) return undefined;
    return sb - sa + (nb - na) / 1e9;
  };

  // Nearest checkpoint that did appear before `label` on a healthy path: where the packet was last seen.
  const predecessor = (label: string): string | undefined => {
    for (let i = PATH_ORDER.indexOf(label) - 1; i >= 0; i--) if (present.has(PATH_ORDER[i])) return PATH_ORDER[i];
    return undefined;
  };
  const drawMissing = (label: string) => {
    if (drawnMiss.has(label)) return;
    const spec = checkpointSpec(label)!;
    const col = colForRole(spec.host, spec.role);
    if (!col) return;
    const pred = predecessor(label);
    const from = pred ? pointOf.get(pred) : undefined;
    const y = from ? Math.max(from.y + ROW, yOf(row)) : yOf(row);
    row = (y - TOP - 30) / ROW + 1.4;
    if (from) arrows.push({ x1: from.x, y1: from.y, x2: col.x, y2: y, text: '', missing: true });
    misses.push({ x: col.x, y, label, text: opts.describe ? opts.describe(label) : label });
    drawnMiss.add(label);
  };

  for (const chain of chains) {
    captions.push({ y: yOf(row) - 11, text: chain.name, kind: 'chain' });
    let prev: { pt: LadderPoint; hop: LadderHop } | undefined;
    for (const h of chain.hops) {
      const col = colFor(h.capture, ifaceOf(h));
      if (!col) continue;
      const y = yOf(row++);
      const pt: LadderPoint = { x: col.x, y, capture: h.capture, frame: h.frame, checkpoint: h.checkpoint ?? undefined };
      points.push(pt);
      if (h.checkpoint) pointOf.set(h.checkpoint, pt);
      timeCaption(h, y);
      if (prev) {
        const lat = typeof h.latency_s === 'number' ? h.latency_s : latencyBetween(prev.hop, h);
        const parts = [lat !== undefined ? fmtSeconds(lat) : '', transformText(h.transform)].filter(Boolean);
        arrows.push({ x1: prev.pt.x, y1: prev.pt.y, x2: pt.x, y2: y, text: parts.join(' · ') });
      }
      prev = { pt, hop: h };
    }
    const next = chainMiss(chain);
    const spec = next ? checkpointSpec(next) : undefined;
    const col = spec ? colForRole(spec.host, spec.role) : undefined;
    if (prev && next && spec && col) {
      const y = yOf(row++);
      const stage = STAGE_NEXT[chain.lostAfter!];
      arrows.push({ x1: prev.pt.x, y1: prev.pt.y, x2: col.x, y2: y, text: '', missing: true });
      // Only the first exchange owns the checkpoint names; later packets are named by their stage.
      const first = chain.hops.some((h) => h.checkpoint);
      misses.push({ x: col.x, y, label: first ? next : stage, text: first && opts.describe ? opts.describe(next) : 'the next hop never appeared' });
      if (first) drawnMiss.add(next);
    }
    // A missing checkpoint is drawn right under the chain that holds the packet seen just before it.
    for (const label of missing) {
      const pred = predecessor(label);
      if (pred && chain.hops.some((h) => h.checkpoint === pred) && !drawnMiss.has(label)) { row -= 0.4; drawMissing(label); }
    }
    row += 0.6;
  }
  // Checkpoints that no chain drew still get a dot, so the ladder shows every labelled packet.
  for (const c of result.checkpoints) {
    if (pointOf.has(c.label)) continue;
    const col = colFor(c.capture, c.iface || ifaceOf(c));
    if (!col) continue;
    const existing = points.find((p) => p.capture === c.capture && p.frame === c.frame);
    if (existing) { existing.checkpoint ??= c.label; pointOf.set(c.label, existing); continue; }
    const y = yOf(row++);
    const pt: LadderPoint = { x: col.x, y, capture: c.capture, frame: c.frame, checkpoint: c.label };
    points.push(pt);
    pointOf.set(c.label, pt);
    timeCaption({ capture: c.capture, frame: c.frame }, y);
  }

  for (const label of missing) drawMissing(label);

  const height = Math.max(yOf(row) + 20, TOP + 90);
  return { width, height, columns, points, arrows, captions, misses, omittedChains: lineage.length - drawn.length, headerY: TOP };
}

export function renderLadderSvg(layout: LadderLayout, idPrefix = 'ladder'): string {
  const { width, height, columns } = layout;
  const o: string[] = [];
  const id = (s: string) => `${idPrefix}-${s}`;
  o.push(`<svg xmlns="http://www.w3.org/2000/svg" class="ladder" viewBox="0 0 ${num(width)} ${num(height)}" width="${num(width)}" height="${num(height)}" role="img" aria-label="Lineage ladder" font-family="system-ui, sans-serif" font-size="11">`);
  o.push(`<defs><marker id="${id('ah')}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#333"/></marker>` +
    `<marker id="${id('ahm')}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#c62828"/></marker></defs>`);
  o.push(`<rect x="0" y="0" width="${num(width)}" height="${num(height)}" fill="#fff"/>`);

  // Host headers spanning their columns, and the gap between them labelled as the path.
  for (const host of ['A', 'B'] as const) {
    const cols = columns.filter((c) => c.host === host);
    if (cols.length === 0) continue;
    const x1 = cols[0].x - 55, x2 = cols[cols.length - 1].x + 55;
    o.push(`<rect x="${num(x1)}" y="4" width="${num(x2 - x1)}" height="22" rx="4" fill="${host === 'A' ? '#e3f2fd' : '#e8f5e9'}" stroke="${host === 'A' ? '#1565c0' : '#2e7d32'}"/>`);
    o.push(`<text x="${num((x1 + x2) / 2)}" y="19" text-anchor="middle" font-weight="bold" font-size="12">Host ${host}</text>`);
  }
  const lastA = columns.filter((c) => c.host === 'A').pop(), firstB = columns.find((c) => c.host === 'B');
  if (lastA && firstB) o.push(`<text x="${num((lastA.x + firstB.x) / 2)}" y="19" text-anchor="middle" fill="#777" font-style="italic">network path</text>`);

  for (const c of columns) {
    const stroke = c.placeholder ? '#c62828' : c.host === 'A' ? '#1565c0' : '#2e7d32';
    o.push(`<text x="${num(c.x)}" y="42" text-anchor="middle" font-weight="bold"${c.placeholder ? ' fill="#c62828"' : ''}>${esc(c.iface)}</text>`);
    if (c.role) o.push(`<text x="${num(c.x)}" y="55" text-anchor="middle" fill="#666" font-size="10">${esc(c.role)}</text>`);
    o.push(`<line x1="${num(c.x)}" y1="${num(layout.headerY)}" x2="${num(c.x)}" y2="${num(height - 8)}" stroke="${stroke}" stroke-width="2"${c.placeholder ? ' stroke-dasharray="5 4"' : ''} opacity="0.55"/>`);
  }

  for (const cap of layout.captions) {
    if (cap.kind === 'chain') o.push(`<text x="6" y="${num(cap.y)}" font-weight="bold" fill="#333">${esc(cap.text)}</text>`);
    else o.push(`<text x="6" y="${num(cap.y + 4)}" fill="#777" font-size="10" font-family="ui-monospace, monospace">${esc(cap.text)}</text>`);
  }

  for (const a of layout.arrows) {
    const colour = a.missing ? '#c62828' : '#333';
    const dash = a.missing ? ' stroke-dasharray="6 4"' : '';
    let d: string;
    if (a.x1 === a.x2) {
      // Same interface twice: a small loop to the right keeps the arrow visible.
      d = `M${num(a.x1)},${num(a.y1 + 4)} C${num(a.x1 + 30)},${num(a.y1 + 4)} ${num(a.x2 + 30)},${num(a.y2 - 4)} ${num(a.x2 + 5)},${num(a.y2 - 2)}`;
    } else {
      const shrink = 6 * Math.sign(a.x2 - a.x1);
      d = `M${num(a.x1 + shrink)},${num(a.y1)} L${num(a.x2 - shrink)},${num(a.y2)}`;
    }
    o.push(`<path d="${d}" fill="none" stroke="${colour}" stroke-width="1.5"${dash} marker-end="url(#${id(a.missing ? 'ahm' : 'ah')})"/>`);
    if (a.text) {
      // The label runs along the arrow, cut to its length; the full text is in the tooltip and
      // in the hop table next to the drawing.
      const dx = a.x2 - a.x1, dy = a.y2 - a.y1;
      const same = a.x1 === a.x2;
      const room = same ? 150 : Math.hypot(dx, dy) - 24;
      const max = Math.max(4, Math.floor(room / 5.6));
      const shown = a.text.length > max ? a.text.slice(0, max - 1) + '…' : a.text;
      const mx = same ? a.x1 + 36 : (a.x1 + a.x2) / 2, my = same ? (a.y1 + a.y2) / 2 + 3 : (a.y1 + a.y2) / 2;
      let angle = same ? 0 : (Math.atan2(dy, dx) * 180) / Math.PI;
      if (angle > 90) angle -= 180;
      if (angle < -90) angle += 180;
      const fill = a.missing ? '#c62828' : '#222';
      o.push(`<g transform="translate(${num(mx)},${num(my)}) rotate(${angle.toFixed(2)})"><title>${esc(a.text)}</title>` +
        `<text x="0" y="${same ? 0 : -4}" text-anchor="${same ? 'start' : 'middle'}" fill="${fill}" font-size="10" paint-order="stroke" stroke="#fff" stroke-width="3">${esc(shown)}</text></g>`);
    }
  }

  for (const p of layout.points) {
    const colour = p.capture === 'A' ? '#1565c0' : '#2e7d32';
    o.push(`<circle cx="${num(p.x)}" cy="${num(p.y)}" r="4.5" fill="${colour}"><title>${esc(`${p.capture}#${p.frame}`)}</title></circle>`);
    const tag = p.checkpoint ? `${p.checkpoint} #${p.frame}` : `#${p.frame}`;
    // The tag goes on the side of the line that no arrow uses at this point.
    let right = 0, left = 0;
    for (const a of layout.arrows) {
      const other = a.x1 === p.x && a.y1 === p.y ? a.x2 : a.x2 === p.x && a.y2 === p.y ? a.x1 : undefined;
      if (other === undefined) continue;
      if (other > p.x || other === p.x) right++;
      else left++;
    }
    const onLeft = right > left;
    const below = right > 0 && left > 0;
    o.push(`<text x="${num(below ? p.x : onLeft ? p.x - 8 : p.x + 8)}" y="${num(below ? p.y + 15 : p.y + 3.5)}" text-anchor="${below ? 'middle' : onLeft ? 'end' : 'start'}" font-size="9.5" font-weight="bold" fill="${colour}" paint-order="stroke" stroke="#fff" stroke-width="3">${esc(tag)}</text>`);
  }

  for (const m of layout.misses) {
    const s = 6;
    o.push(`<path d="M${num(m.x - s)},${num(m.y - s)} L${num(m.x + s)},${num(m.y + s)} M${num(m.x + s)},${num(m.y - s)} L${num(m.x - s)},${num(m.y + s)}" stroke="#c62828" stroke-width="2.5"/>`);
    // Near the right edge the caption runs leftwards so it stays inside the drawing.
    const leftwards = m.x + 10 + (m.label.length + m.text.length + 11) * 6 > width;
    o.push(`<text x="${num(leftwards ? m.x - 10 : m.x + 10)}" y="${num(m.y + 16)}" text-anchor="${leftwards ? 'end' : 'start'}" fill="#c62828" font-size="10" font-weight="bold" paint-order="stroke" stroke="#fff" stroke-width="3">${esc(`${m.label} not seen: ${m.text}`)}</text>`);
  }
  if (layout.omittedChains > 0) {
    o.push(`<text x="6" y="${num(height - 6)}" fill="#777" font-size="10">${layout.omittedChains} more traced packet${layout.omittedChains === 1 ? '' : 's'} not drawn</text>`);
  }
  o.push('</svg>');
  return o.join('\n');
}

/** Layout + render in one call. */
export function ladderSvg(result: ReportAnalysis, opts: LadderOptions & { idPrefix?: string } = {}): string {
  return renderLadderSvg(layoutLadder(result, opts), opts.idPrefix);
}
