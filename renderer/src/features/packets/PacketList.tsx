// The virtualized packet table: only the rows on screen exist in the DOM, and only the chunks
// under them are read from IndexedDB, so a million-packet capture scrolls like a small one.

import { memo, useEffect, useRef, useState, type KeyboardEvent } from 'react';
import type { Packet } from '../../../../shared/protocols/packet.ts';
import type { CaptureRecord, Timestamp } from '../../db/schema.ts';
import { usePacketRows } from './chunk-cache.ts';
import { useFixedRows } from './fixed-rows.ts';
import { formatAddr, formatDir, formatInfo, formatProto, formatTime, type TimeMode } from './format.ts';

const ROW_HEIGHT = 22;
/** Height of the sticky column header inside the scroll box (matches .packet-head in styles.css). */
const HEAD_HEIGHT = 24;

const COLUMNS = [
  { key: 'no', label: 'No.' },
  { key: 'time', label: 'Time' },
  { key: 'iface', label: 'Interface' },
  { key: 'dir', label: 'Dir' },
  { key: 'src', label: 'Source' },
  { key: 'dst', label: 'Destination' },
  { key: 'proto', label: 'Protocol' },
  { key: 'len', label: 'Len' },
  { key: 'info', label: 'Info' },
] as const;

type ColumnKey = (typeof COLUMNS)[number]['key'];

interface RowProps {
  index: number;
  top: number;
  packet: Packet | undefined;
  selected: boolean;
  timeMode: TimeMode;
  firstTs: Timestamp | null;
  /** Show "#n" for unnamed interfaces when the file has several. */
  numberedIfaces: boolean;
  onSelect: (index: number) => void;
}

function cellText(p: Packet, key: ColumnKey, r: RowProps): string {
  switch (key) {
    case 'no': return String(p.frame);
    case 'time': return formatTime(p, r.timeMode, r.firstTs);
    case 'iface': return p.iface || (r.numberedIfaces ? `#${p.ifaceId}` : '');
    case 'dir': return formatDir(p.dir);
    case 'src': return formatAddr(p.src ?? p.arp?.spa, p.sport);
    case 'dst': return formatAddr(p.dst ?? p.arp?.tpa, p.dport);
    case 'proto': return formatProto(p);
    case 'len': return String(p.len);
    case 'info': return formatInfo(p);
  }
}

/** One row; memoized so scrolling renders only the rows that come into view. */
const PacketRow = memo(function PacketRow(r: RowProps) {
  const p = r.packet;
  const classes = ['packet-row', r.index % 2 ? 'odd' : 'even'];
  if (r.selected) classes.push('selected');
  if (!p) classes.push('loading');
  else {
    classes.push(`proto-${p.proto}`);
    if (p.truncated) classes.push('truncated');
  }
  return (
    <div
      role="row"
      aria-rowindex={r.index + 2}
      aria-selected={r.selected}
      className={classes.join(' ')}
      style={{ transform: `translateY(${r.top}px)` }}
      data-testid={p ? 'packet-row' : 'packet-row-loading'}
      data-row={r.index}
      data-frame={p?.frame}
      onClick={() => r.onSelect(r.index)}
    >
      {p ? (
        COLUMNS.map((c) => {
          const text = cellText(p, c.key, r);
          // Tooltips only where text is often cut off (long IPv6 addresses, long summaries).
          const title = c.key === 'info' ? p.summary : c.key === 'src' || c.key === 'dst' ? text : undefined;
          return (
            <div key={c.key} role="gridcell" className={`cell col-${c.key}`} data-col={c.key} title={title}>
              {text}
            </div>
          );
        })
      ) : (
        <div className="cell col-no">{r.index + 1}</div>
      )}
    </div>
  );
});

export function PacketList({ capture }: { capture: CaptureRecord }) {
  const scrollRef = useRef<HTMLDivElement>(null);
  const [timeMode, setTimeMode] = useState<TimeMode>('relative');
  const [selected, setSelected] = useState<number | null>(null);
  const rows = usePacketRows(capture.id, capture.packetCount);

  // Rows start below the sticky header (HEAD_HEIGHT); a fixed row height keeps the window arithmetic,
  // so the count growing during an import costs nothing per update.
  const win = useFixedRows(scrollRef, capture.packetCount, ROW_HEIGHT, HEAD_HEIGHT, 12);
  const { first, last } = win;

  useEffect(() => {
    rows.want(first, last);
  });

  useEffect(() => setSelected(null), [capture.id]);

  const onKeyDown = (e: KeyboardEvent<HTMLDivElement>) => {
    const n = capture.packetCount;
    if (n === 0) return;
    const page = Math.max(1, Math.floor((scrollRef.current?.clientHeight ?? 0) / ROW_HEIGHT) - 1);
    const moves: Record<string, number> = { ArrowDown: 1, ArrowUp: -1, PageDown: page, PageUp: -page, Home: -n, End: n };
    const delta = moves[e.key];
    if (delta === undefined) return;
    e.preventDefault();
    const next = Math.min(n - 1, Math.max(0, (selected ?? -1) + delta));
    setSelected(next);
    win.scrollToIndex(next, 'auto');
  };

  return (
    <div className="packet-pane">
      <div className="packet-toolbar">
        <span className="muted" data-testid="packet-count">
          {capture.packetCount.toLocaleString('en-US')} packets
        </span>
        <span className="spacer" />
        <label className="time-mode">
          Time
          <select data-testid="time-mode" value={timeMode} onChange={(e) => setTimeMode(e.target.value as TimeMode)}>
            <option value="relative">since first packet</option>
            <option value="absolute">absolute (UTC)</option>
          </select>
        </label>
      </div>
      <div
        className="packet-scroll"
        ref={scrollRef}
        tabIndex={0}
        role="grid"
        aria-rowcount={capture.packetCount + 1}
        aria-label={`Packets of ${capture.fileName}`}
        data-testid="packet-list"
        onKeyDown={onKeyDown}
        onScroll={() => win.onScroll()}
      >
        <div className="packet-row packet-head" role="row">
          {COLUMNS.map((c) => (
            <div key={c.key} role="columnheader" className={`cell col-${c.key}`}>
              {c.label}
            </div>
          ))}
        </div>
        <div className="packet-body" style={{ height: win.totalHeight }}>
          {Array.from({ length: Math.max(0, last - first + 1) }, (_, k) => first + k).map((i) => (
            <PacketRow
              key={win.keyOf(i)}
              index={i}
              top={i * ROW_HEIGHT}
              packet={rows.get(i)}
              selected={selected === i}
              timeMode={timeMode}
              firstTs={capture.firstTs}
              numberedIfaces={capture.interfaces.length > 1}
              onSelect={setSelected}
            />
          ))}
        </div>
      </div>
    </div>
  );
}
