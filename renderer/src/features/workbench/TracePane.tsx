// One host's packets in the workbench: a virtualized list (H3's chunk cache underneath) showing the
// rows that pass the display filter, with checkpoint badges, the selected packet, its twin from the
// other host, and the traced packets that never made it across.

import { memo, useEffect, useImperativeHandle, useRef, type KeyboardEvent, type Ref } from 'react';
import type { Packet } from '../../../../shared/protocols/packet.ts';
import type { CaptureRecord, HostSide } from '../../db/schema.ts';
import { usePacketRows } from '../packets/chunk-cache.ts';
import { useFixedRows } from '../packets/fixed-rows.ts';
import { formatAddr, formatInfo } from '../packets/format.ts';
import { lowerBound, type WorkbenchModel } from './model.ts';

const ROW_HEIGHT = 22;
const HEAD_HEIGHT = 24;

export interface PaneHandle {
  /** Scrolls so that view row `index` is at the top (scroll sync). */
  scrollToViewIndex(index: number): void;
  /** Brings capture row `row` into view (centred), if it passes the filter. */
  revealRow(row: number): void;
  focus(): void;
}

interface Props {
  host: HostSide;
  capture: CaptureRecord;
  /** Capture rows passing the filter, ascending; null = all rows. */
  rows: Uint32Array | null;
  model: WorkbenchModel;
  noted: Set<string>;
  selectedRow: number | null;
  twinRow: number | null;
  /** Common-timeline seconds of a packet (B corrected onto A's clock). */
  timeOf: (p: Packet) => number;
  onSelect: (row: number) => void;
  onTopRow: (viewIndex: number) => void;
  onTwin: () => void;
  handle: Ref<PaneHandle>;
}

/** Index of `row` in the ascending list, or of the nearest row after it. */
function viewIndexOf(rows: Uint32Array | null, row: number): number {
  return rows ? lowerBound(rows, row) : row;
}

interface RowProps {
  viewIndex: number;
  row: number;
  top: number;
  packet: Packet | undefined;
  badges: string[] | undefined;
  mark: 'unmatched' | 'lost' | undefined;
  noted: boolean;
  selected: boolean;
  twin: boolean;
  time: string;
  host: HostSide;
  onSelect: (row: number) => void;
}

const TraceRow = memo(function TraceRow(r: RowProps) {
  const p = r.packet;
  const cls = ['packet-row', 'trace-row', r.viewIndex % 2 ? 'odd' : 'even'];
  if (r.selected) cls.push('selected');
  if (r.twin) cls.push('twin');
  if (r.mark) cls.push(`mark-${r.mark}`);
  if (r.badges) cls.push('has-checkpoint');
  if (!p) cls.push('loading');
  else cls.push(`proto-${p.proto}`);
  const iface = p ? `${p.iface || (p.ifindex !== undefined ? `if${p.ifindex}` : '')}${p.dir === 'in' || p.dir === 'out' ? ` ${p.dir}` : ''}` : '';
  return (
    <div
      role="row"
      aria-selected={r.selected}
      className={cls.join(' ')}
      style={{ transform: `translateY(${r.top}px)` }}
      data-testid={p ? 'trace-row' : 'trace-row-loading'}
      data-host={r.host}
      data-row={r.row}
      data-frame={p?.frame}
      data-checkpoints={r.badges?.join(' ')}
      data-twin={r.twin ? 'true' : undefined}
      data-mark={r.mark}
      onClick={() => r.onSelect(r.row)}
    >
      <div className="cell col-cp" role="gridcell">
        {r.badges?.map((b) => (
          <span key={b} className="cp-badge" data-host={b[0]}>{b}</span>
        ))}
        {r.mark === 'lost' && <span className="lost-mark" title="Last place this traced packet was seen">✕</span>}
        {r.mark === 'unmatched' && !r.badges && <span className="unmatched-mark" title="No twin on the other host">?</span>}
      </div>
      {p ? (
        <>
          <div className="cell col-no" role="gridcell">{p.frame}</div>
          <div className="cell col-time" role="gridcell">{r.time}</div>
          <div className="cell col-iface" role="gridcell" title={iface}>{iface}</div>
          <div className="cell col-src" role="gridcell" title={formatAddr(p.src ?? p.arp?.spa, p.sport)}>{formatAddr(p.src ?? p.arp?.spa, p.sport)}</div>
          <div className="cell col-dst" role="gridcell" title={formatAddr(p.dst ?? p.arp?.tpa, p.dport)}>{formatAddr(p.dst ?? p.arp?.tpa, p.dport)}</div>
          <div className="cell col-info" role="gridcell" title={p.summary}>
            {r.noted && <span className="note-mark" title="Has a note">✎ </span>}
            {formatInfo(p)}
          </div>
        </>
      ) : (
        <div className="cell col-no">{r.row + 1}</div>
      )}
    </div>
  );
});

export function TracePane(props: Props) {
  const { host, capture, rows, model, selectedRow, twinRow, handle } = props;
  const scrollRef = useRef<HTMLDivElement>(null);
  const data = usePacketRows(capture.id, capture.packetCount);
  const count = rows ? rows.length : capture.packetCount;
  const userScroll = useRef(true);

  // Fixed row height: the window is arithmetic, a new filter result (row count) costs nothing here.
  // A small overscan: every extra row is rendered again on each frame of a fast scroll.
  const win = useFixedRows(scrollRef, count, ROW_HEIGHT, HEAD_HEIGHT, 4);
  const { first, last } = win;
  const rowAt = (vi: number) => (rows ? rows[vi]! : vi);

  useEffect(() => {
    if (last < first) return;
    if (!rows) {
      data.want(first, last);
      return;
    }
    // Filtered rows may sit in several chunks: ask for each distinct one.
    let prev = -1;
    for (let i = first; i <= last; i++) {
      const r = rows[i]!;
      const c = Math.floor(r / 2000);
      if (c !== prev) data.want(r, r);
      prev = c;
    }
  });

  useImperativeHandle(handle, () => ({
    scrollToViewIndex(index: number) {
      const el = scrollRef.current;
      if (!el) return;
      userScroll.current = false;
      el.scrollTop = Math.max(0, index) * ROW_HEIGHT;
    },
    revealRow(row: number) {
      const vi = viewIndexOf(rows, row);
      if (vi >= count) return;
      win.scrollToIndex(vi, 'center');
    },
    focus() {
      scrollRef.current?.focus();
    },
  }), [rows, count, win]);

  const onScroll = () => {
    const el = scrollRef.current;
    if (!el) return;
    // One read of scrollTop, before any DOM change: a read after new rows are committed forces a layout.
    const scrollTop = el.scrollTop;
    // A scroll we caused to follow the other pane must not bounce back to it.
    if (!userScroll.current) userScroll.current = true;
    else props.onTopRow(Math.floor(scrollTop / ROW_HEIGHT));
    // Our own rows last: the other pane's scrollTop was written while layout was still clean.
    win.onScroll(scrollTop);
  };

  const onKeyDown = (e: KeyboardEvent<HTMLDivElement>) => {
    if (count === 0) return;
    if (e.key === 't' || e.key === 'T') {
      e.preventDefault();
      props.onTwin();
      return;
    }
    const page = Math.max(1, Math.floor((scrollRef.current?.clientHeight ?? 0) / ROW_HEIGHT) - 1);
    const moves: Record<string, number> = { ArrowDown: 1, ArrowUp: -1, PageDown: page, PageUp: -page, Home: -count, End: count };
    const delta = moves[e.key];
    if (delta === undefined) return;
    e.preventDefault();
    const cur = selectedRow === null ? -1 : viewIndexOf(rows, selectedRow);
    const next = Math.min(count - 1, Math.max(0, cur + delta));
    props.onSelect(rowAt(next));
    win.scrollToIndex(next, 'auto');
  };

  return (
    <div className="trace-pane" data-testid={`pane-${host}`} data-host={host}>
      <div className="trace-pane-head">
        <span className="host-badge" data-host={host}>{host}</span>
        <span className="trace-file" title={capture.fileName}>{capture.fileName}</span>
        <span className="muted small" data-testid={`pane-count-${host}`}>
          {rows ? `${rows.length.toLocaleString('en-US')} of ${capture.packetCount.toLocaleString('en-US')}` : capture.packetCount.toLocaleString('en-US')} packets
        </span>
      </div>
      <div
        className="packet-scroll trace-scroll"
        ref={scrollRef}
        tabIndex={0}
        role="grid"
        aria-label={`Host ${host} packets (${capture.fileName})`}
        data-testid={`trace-list-${host}`}
        onKeyDown={onKeyDown}
        onScroll={onScroll}
      >
        <div className="packet-row trace-row packet-head" role="row">
          <div className="cell col-cp" role="columnheader">CP</div>
          <div className="cell col-no" role="columnheader">No.</div>
          <div className="cell col-time" role="columnheader" title="Seconds since A's first packet; B's times moved onto A's clock by the estimated offset and skew">Time</div>
          <div className="cell col-iface" role="columnheader">Iface</div>
          <div className="cell col-src" role="columnheader">Source</div>
          <div className="cell col-dst" role="columnheader">Destination</div>
          <div className="cell col-info" role="columnheader">Info</div>
        </div>
        <div className="packet-body trace-body" style={{ height: win.totalHeight }}>
          {Array.from({ length: Math.max(0, last - first + 1) }, (_, k) => {
            const vi = first + k;
            const row = rowAt(vi);
            const p = data.get(row);
            const key = p ? `${host}#${p.frame}` : '';
            return (
              <TraceRow
                key={win.keyOf(vi)}
                viewIndex={vi}
                row={row}
                top={vi * ROW_HEIGHT}
                packet={p}
                badges={p ? model.badges.get(key) : undefined}
                mark={p ? model.marks.get(key) : undefined}
                noted={p ? props.noted.has(key) : false}
                selected={selectedRow === row}
                twin={twinRow === row}
                time={p ? props.timeOf(p).toFixed(6) : ''}
                host={host}
                onSelect={props.onSelect}
              />
            );
          })}
        </div>
        {count === 0 && <div className="pane-empty muted">No packet of this host passes the filter.</div>}
      </div>
    </div>
  );
}
