// The lineage ladder drawn with React elements from shared/report's layout (the same geometry as the
// exported SVG), so a hop can be hovered (packet summary) and clicked (selects it in its pane).

import { useMemo, useRef, useState } from 'react';
import type { AnalysisResult } from '../../../../shared/analysis/types.ts';
import type { Packet } from '../../../../shared/protocols/packet.ts';
import { describeCheckpoint } from '../../../../shared/report/labels.ts';
import { layoutLadder, type LadderPoint } from '../../../../shared/report/ladder.ts';
import type { ClockModel } from '../../../../shared/report/model.ts';
import { refKey, type PacketRef } from './model.ts';
import { useKeepInWindow } from './Extras.tsx';

interface Box { x: number; y: number; w: number; h: number }
const overlap = (a: Box, b: Box): number =>
  Math.max(0, Math.min(a.x + a.w, b.x + b.w) - Math.max(a.x, b.x)) * Math.max(0, Math.min(a.y + a.h, b.y + b.h) - Math.max(a.y, b.y));
/** Width of bold 9.5 px label text, a little generous so neighbours keep a gap. */
const labelWidth = (t: string) => t.length * 6.1 + 2;

/** Axis-aligned box of a text of width w centred on (cx, cy) and rotated by `deg`. */
function rotatedBox(cx: number, cy: number, w: number, h: number, deg: number): Box {
  const r = (deg * Math.PI) / 180;
  const bw = Math.abs(w * Math.cos(r)) + Math.abs(h * Math.sin(r));
  const bh = Math.abs(w * Math.sin(r)) + Math.abs(h * Math.cos(r));
  return { x: cx - bw / 2, y: cy - bh / 2, w: bw, h: bh };
}

interface Props {
  result: AnalysisResult;
  packets: Map<string, Packet>;
  baseRefS: number;
  selected: PacketRef | null;
  onSelect: (ref: PacketRef) => void;
}

function arrowPath(a: { x1: number; y1: number; x2: number; y2: number }): string {
  if (a.x1 === a.x2) return `M${a.x1},${a.y1 + 4} C${a.x1 + 30},${a.y1 + 4} ${a.x2 + 30},${a.y2 - 4} ${a.x2 + 5},${a.y2 - 2}`;
  const s = 6 * Math.sign(a.x2 - a.x1);
  return `M${a.x1 + s},${a.y1} L${a.x2 - s},${a.y2}`;
}

export function LadderView({ result, packets, baseRefS, selected, onSelect }: Props) {
  const [hover, setHover] = useState<LadderPoint | null>(null);
  const layout = useMemo(() => {
    const clock: ClockModel = { offsetS: result.clock.offset_s || 0, skewPpm: result.clock.skew_ppm || 0, refS: result.clock.ref_s || baseRefS };
    return layoutLadder(result, {
      packet: (side, frame) => packets.get(`${side}#${frame}`),
      clock,
      describe: (l) => describeCheckpoint(l),
    });
  }, [result, packets, baseRefS]);
  const { width, height, columns } = layout;
  const arrowLabels = useMemo(() => layout.arrows.map((a) => {
    const mx = a.x1 === a.x2 ? a.x1 + 36 : (a.x1 + a.x2) / 2;
    const my = a.x1 === a.x2 ? (a.y1 + a.y2) / 2 + 3 : (a.y1 + a.y2) / 2;
    let angle = a.x1 === a.x2 ? 0 : (Math.atan2(a.y2 - a.y1, a.x2 - a.x1) * 180) / Math.PI;
    if (angle > 90) angle -= 180;
    if (angle < -90) angle += 180;
    const room = a.x1 === a.x2 ? 150 : Math.hypot(a.x2 - a.x1, a.y2 - a.y1) - 24;
    const max = Math.max(4, Math.floor(room / 5.6));
    const shown = a.text.length > max ? a.text.slice(0, max - 1) + '…' : a.text;
    const w = shown.length * 5.6;
    // The text sits 4 px above the arrow (start-anchored beside a self-arrow).
    const box = a.x1 === a.x2 ? { x: mx, y: my - 9, w, h: 11 } : rotatedBox(mx, my - 8, w, 11, angle);
    return { mx, my, angle, shown, box };
  }), [layout]);
  // Hop labels: beside the dot, on whichever side is free of other labels, dots and arrow texts and
  // inside the drawing (the first free spot of right-above, left-above, right-below, left-below).
  const hopLabels = useMemo(() => {
    const placed: Box[] = arrowLabels.filter((l) => l.shown).map((l) => l.box);
    for (const p of layout.points) placed.push({ x: p.x - 6, y: p.y - 6, w: 12, h: 12 });
    return layout.points.map((p) => {
      const text = p.checkpoint ? `${p.checkpoint} #${p.frame}` : `#${p.frame}`;
      const w = labelWidth(text);
      const spots = [
        { x: p.x + 9, y: p.y - 6, anchor: 'start' as const },
        { x: p.x - 9, y: p.y - 6, anchor: 'end' as const },
        { x: p.x + 9, y: p.y + 14, anchor: 'start' as const },
        { x: p.x - 9, y: p.y + 14, anchor: 'end' as const },
        { x: p.x + 9, y: p.y - 17, anchor: 'start' as const },
        { x: p.x - 9, y: p.y - 17, anchor: 'end' as const },
      ];
      let best = spots[0]!;
      let bestCost = Infinity;
      for (const s of spots) {
        const box = { x: s.anchor === 'start' ? s.x : s.x - w, y: s.y - 9, w, h: 11 };
        const outside = box.x < 0 || box.x + box.w > width || box.y < 0 || box.y + box.h > height ? 1e6 : 0;
        const cost = outside + placed.reduce((n, b) => n + overlap(box, b), 0);
        if (cost < bestCost) {
          best = s;
          bestCost = cost;
          if (cost === 0) break;
        }
      }
      placed.push({ x: best.anchor === 'start' ? best.x : best.x - w, y: best.y - 9, w, h: 11 });
      return { text, ...best };
    });
  }, [layout, arrowLabels, width, height]);
  const [mouse, setMouse] = useState({ x: 0, y: 0 });
  const card = useRef<HTMLDivElement>(null);
  const cardPos = useKeepInWindow(card, mouse.x + 14, mouse.y + 14);
  const hovered = hover ? packets.get(refKey(hover)) : undefined;
  const selKey = selected ? refKey(selected) : '';

  return (
    <div className="ladder-wrap" data-testid="ladder">
      <svg className="ladder-svg" viewBox={`0 0 ${width} ${height}`} width={width} height={height} role="img" aria-label="Lineage ladder">
        <defs>
          <marker id="wb-ah" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse">
            <path d="M0,0 L10,5 L0,10 z" className="ladder-head" />
          </marker>
          <marker id="wb-ahm" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse">
            <path d="M0,0 L10,5 L0,10 z" className="ladder-head-missing" />
          </marker>
        </defs>
        {(['A', 'B'] as const).map((host) => {
          const cols = columns.filter((c) => c.host === host);
          if (!cols.length) return null;
          const x1 = cols[0]!.x - 55;
          const x2 = cols[cols.length - 1]!.x + 55;
          return (
            <g key={host} className={`ladder-host host-${host}`}>
              <rect x={x1} y={4} width={x2 - x1} height={22} rx={4} />
              <text x={(x1 + x2) / 2} y={19} textAnchor="middle">Host {host}</text>
            </g>
          );
        })}
        {columns.map((c) => (
          <g key={c.key} className={`ladder-col host-${c.host}${c.placeholder ? ' placeholder' : ''}`}>
            <text x={c.x} y={42} textAnchor="middle" className="ladder-iface">{c.iface}</text>
            {c.role && <text x={c.x} y={55} textAnchor="middle" className="ladder-role">{c.role}</text>}
            <line x1={c.x} y1={layout.headerY} x2={c.x} y2={height - 8} />
          </g>
        ))}
        {layout.captions.map((cap, i) => (
          <text key={i} x={6} y={cap.kind === 'chain' ? cap.y : cap.y + 4} className={`ladder-caption ${cap.kind}`}>{cap.text}</text>
        ))}
        {layout.arrows.map((a, i) => {
          const { mx, my, angle, shown } = arrowLabels[i]!;
          return (
            <g key={i} className={`ladder-arrow${a.missing ? ' missing' : ''}`}>
              <path d={arrowPath(a)} markerEnd={`url(#${a.missing ? 'wb-ahm' : 'wb-ah'})`} />
              {a.text && (
                <g transform={`translate(${mx},${my}) rotate(${angle.toFixed(2)})`}>
                  <title>{a.text}</title>
                  <text y={a.x1 === a.x2 ? 0 : -4} textAnchor={a.x1 === a.x2 ? 'start' : 'middle'}>{shown}</text>
                </g>
              )}
            </g>
          );
        })}
        {layout.points.map((p, i) => {
          const key = refKey(p);
          const lab = hopLabels[i]!;
          return (
            <g
              key={`${key}-${p.y}`}
              className={`ladder-point host-${p.capture}${key === selKey ? ' selected' : ''}`}
              data-testid="ladder-hop"
              data-ref={key}
              data-checkpoint={p.checkpoint}
              onMouseEnter={(e) => {
                setMouse({ x: e.clientX, y: e.clientY });
                setHover(p);
              }}
              onMouseLeave={() => setHover((h) => (h === p ? null : h))}
              onClick={() => onSelect({ capture: p.capture, frame: p.frame })}
            >
              <circle cx={p.x} cy={p.y} r={key === selKey ? 7 : 5} />
              <circle cx={p.x} cy={p.y} r={11} className="hit" />
              <text x={lab.x} y={lab.y} textAnchor={lab.anchor} data-testid="ladder-hop-label">{lab.text}</text>
            </g>
          );
        })}
        {layout.misses.map((m, i) => (
          <g key={i} className="ladder-miss" data-testid="ladder-miss">
            <path d={`M${m.x - 6},${m.y - 6} L${m.x + 6},${m.y + 6} M${m.x + 6},${m.y - 6} L${m.x - 6},${m.y + 6}`} />
            <text x={m.x + 10 + (m.label.length + m.text.length) * 6 > width ? m.x - 10 : m.x + 10} y={m.y + 16} textAnchor={m.x + 10 + (m.label.length + m.text.length) * 6 > width ? 'end' : 'start'}>
              {`${m.label} not seen: ${m.text}`}
            </text>
          </g>
        ))}
        {layout.omittedChains > 0 && (
          <text x={6} y={height - 6} className="ladder-caption time">{layout.omittedChains} more traced packets not drawn</text>
        )}
      </svg>
      {hover && (
        // Fixed to the window and kept inside it, whatever the panel's scroll or size.
        <div ref={card} className="ladder-hover" data-testid="ladder-hover" style={{ position: 'fixed', left: cardPos.left, top: cardPos.top }}>
          <b>{hover.checkpoint ? `${hover.checkpoint} · ` : ''}{hover.capture}#{hover.frame}</b>
          <div>{hovered ? `${hovered.iface ? hovered.iface + ' ' : ''}${hovered.dir ?? ''} · ${hovered.summary}` : 'loading…'}</div>
          {hover.checkpoint && <div className="muted">{describeCheckpoint(hover.checkpoint, hovered)}</div>}
        </div>
      )}
    </div>
  );
}
