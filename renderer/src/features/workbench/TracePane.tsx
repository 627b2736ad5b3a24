// One host's packets in the workbench: a virtualized list (H3's chunk cache underneath) showing the
// rows that pass the display filter, in file order or sorted by a column, with checkpoint badges,
// the selected packet, its twin from the other host, marks, and the traced packets that never made
// it across. Columns can be resized (drag a header edge) and sorted (click a header).

import { memo, useEffect, useImperativeHandle, useLayoutEffect, useMemo, useRef, useState, type KeyboardEvent, type MouseEvent as ReactMouseEvent, type Ref } from 'react';
import type { Packet } from '../../../../shared/protocols/packet.ts';
import type { CaptureRecord, HostSide } from '../../db/schema.ts';
import type { SortKey } from '../../workers/session-messages.ts';
import { usePacketRows } from '../packets/chunk-cache.ts';
import { useFixedRows } from '../packets/fixed-rows.ts';
import { cellText, COLUMNS, fitWidths, gridTemplate, totalWidth, type ColumnKey, type Widths } from './columns.ts';
import { lowerBound, type WorkbenchModel } from './model.ts';
import type { SortState } from './session-engine.ts';

const ROW_HEIGHT = 22;
const HEAD_HEIGHT = 24;

export interface PaneHandle {
  /** Scrolls so that view row `index` is at the top (scroll sync). */
  scrollToViewIndex(index: number): void;
  /** Brings capture row `row` into view (centred), if it is displayed; false when it is not. */
  revealRow(row: number): boolean;
  focus(): void;
}

/** What a time cell shows and its tooltip. */
export interface TimeCell {
  text: string;
  title: string;
}

interface Props {
  host: HostSide;
  capture: CaptureRecord;
  /** Capture rows passing the filter, ascending; null = all rows. */
  rows: Uint32Array | null;
  /** Column sort of this pane (its order replaces `rows` once the worker has it). */
  sort: SortState | undefined;
  /** A filter is being computed: the count says so instead of showing a stale total. */
  filtering: boolean;
  filterActive: boolean;
  model: WorkbenchModel;
  noted: Set<string>;
  marked: Set<string>;
  selectedRow: number | null;
  twinRow: number | null;
  widths: Widths;
  /** The widths the user dragged (kept as they are when the pane is narrow). */
  userSized: Widths;
  /** Time cell of capture row `row` displayed at view index `vi`. */
  timeCell: (p: Packet, row: number, prevRow: number | null) => TimeCell;
  timeTitle: string;
  onSelect: (row: number) => void;
  onTopRow: (viewIndex: number) => void;
  onTwin: () => void;
  onSort: (key: SortKey | null, desc: boolean) => void;
  onResize: (key: ColumnKey, width: number) => void;
  onContextMenu: (e: ReactMouseEvent, p: Packet, row: number, col: ColumnKey) => void;
  handle: Ref<PaneHandle>;
}

interface RowProps {
  viewIndex: number;
  row: number;
  top: number;
  packet: Packet | undefined;
  badges: string[] | undefined;
  mark: 'unmatched' | 'lost' | undefined;
  noted: boolean;
  marked: boolean;
  selected: boolean;
  twin: boolean;
  /** Memo-friendly: two strings rather than a fresh object per render. */
  time: string;
  timeTip: string;
  host: HostSide;
  onSelect: (row: number) => void;
  onContextMenu: Props['onContextMenu'];
}

const TraceRow = memo(function TraceRow(r: RowProps) {
  const p = r.packet;
  const cls = ['packet-row', 'trace-row', r.viewIndex % 2 ? 'odd' : 'even'];
  if (r.selected) cls.push('selected');
  if (r.twin) cls.push('twin');
  if (r.marked) cls.push('marked');
  if (r.mark) cls.push(`mark-${r.mark}`);
  if (r.badges) cls.push('has-checkpoint');
  if (!p) cls.push('loading');
  else cls.push(`proto-${p.proto}`);
  const cell = (key: Exclude<ColumnKey, 'cp' | 'time'>) => {
    const text = p ? cellText(p, key) : '';
    return <div className={`cell col-${key}`} role="gridcell" data-col={key} title={text}>{key === 'info' && r.noted ? <span className="note-mark" title="Has a note">✎ </span> : null}{text}</div>;
  };
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
      data-marked={r.marked ? 'true' : undefined}
      data-mark={r.mark}
      onClick={() => r.onSelect(r.row)}
      onContextMenu={(e) => {
        if (!p) return;
        e.preventDefault();
        const col = ((e.target as HTMLElement).closest('[data-col]') as HTMLElement | null)?.dataset['col'] as ColumnKey | undefined;
        r.onSelect(r.row);
        r.onContextMenu(e, p, r.row, col ?? 'info');
      }}
    >
      <div className="cell col-cp" role="gridcell" data-col="cp">
        {r.badges?.map((b) => (
          <span key={b} className="cp-badge" data-host={b[0]}>{b}</span>
        ))}
        {r.mark === 'lost' && <span className="lost-mark" title="Last place this traced packet was seen">✕</span>}
        {r.mark === 'unmatched' && !r.badges && <span className="unmatched-mark" title="No twin on the other host">?</span>}
      </div>
      {p ? (
        <>
          {cell('no')}
          <div className="cell col-time" role="gridcell" data-col="time" title={r.timeTip}>{r.time}</div>
          {cell('iface')}
          {cell('src')}
          {cell('dst')}
          {cell('proto')}
          {cell('len')}
          {cell('info')}
        </>
      ) : (
        <div className="cell col-no">{r.row + 1}</div>
      )}
    </div>
  );
});

export function TracePane(props: Props) {
  const { host, capture, rows, sort, model, selectedRow, twinRow, handle, widths } = props;
  const scrollRef = useRef<HTMLDivElement>(null);
  const data = usePacketRows(capture.id, capture.packetCount);
  const order = sort?.order ?? null;
  const count = order ? order.length : rows ? rows.length : capture.packetCount;
  const userScroll = useRef(true);

  // Fixed row height: the window is arithmetic, a new filter result (row count) costs nothing here.
  // A small overscan: every extra row is rendered again on each frame of a fast scroll.
  const win = useFixedRows(scrollRef, count, ROW_HEIGHT, HEAD_HEIGHT, 4);
  const { first, last } = win;
  const rowAt = (vi: number) => (order ? order[vi]! : rows ? rows[vi]! : vi);
  /** View index of capture row `row`, or -1 when it is not displayed. */
  const viewIndexOf = (row: number): number => {
    if (order) return sort?.pos?.[row] ?? -1;
    if (!rows) return row < capture.packetCount ? row : -1;
    const i = lowerBound(rows, row);
    return rows[i] === row ? i : -1;
  };

  useEffect(() => {
    if (last < first) return;
    if (!rows && !order) {
      data.want(first, last);
      return;
    }
    // Filtered or sorted rows may sit in several chunks: ask for each distinct one.
    for (let i = first; i <= last; i++) {
      const r = rowAt(i);
      data.want(r, r);
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
      const vi = viewIndexOf(row);
      if (vi < 0 || vi >= count) return false;
      win.scrollToIndex(vi, 'center');
      return true;
    },
    focus() {
      scrollRef.current?.focus();
    },
  }), [rows, order, count, win]);

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
    if ((e.key === 't' || e.key === 'T') && !e.ctrlKey && !e.metaKey) {
      e.preventDefault();
      props.onTwin();
      return;
    }
    const page = Math.max(1, Math.floor((scrollRef.current?.clientHeight ?? 0) / ROW_HEIGHT) - 1);
    const moves: Record<string, number> = { ArrowDown: 1, ArrowUp: -1, PageDown: page, PageUp: -page, Home: -count, End: count };
    const delta = moves[e.key];
    if (delta === undefined) return;
    e.preventDefault();
    const cur = selectedRow === null ? -1 : viewIndexOf(selectedRow);
    const next = Math.min(count - 1, Math.max(0, cur + delta));
    // Scroll first: the scroll event then carries the other pane along (scroll together).
    win.scrollToIndex(next, 'auto');
    props.onSelect(rowAt(next));
  };

  const startResize = (e: ReactMouseEvent, key: ColumnKey) => {
    e.preventDefault();
    e.stopPropagation();
    const startX = e.clientX;
    const def = COLUMNS.find((c) => c.key === key)!;
    // The width on screen (a flexible column is wider than its least width).
    const head = (e.currentTarget as HTMLElement).parentElement;
    const startW = head ? Math.round(head.getBoundingClientRect().width) : fitted[key] ?? def.width;
    const move = (ev: PointerEvent) => props.onResize(key, Math.max(def.min, Math.round(startW + ev.clientX - startX)));
    const up = () => {
      window.removeEventListener('pointermove', move);
      window.removeEventListener('pointerup', up);
    };
    window.addEventListener('pointermove', move);
    window.addEventListener('pointerup', up);
  };

  const clickHeader = (key: ColumnKey) => {
    if (key === 'cp') return;
    // Ascending, descending, then back to file order (Wireshark's three-state header).
    if (!sort || sort.key !== key) props.onSort(key, false);
    else if (!sort.desc) props.onSort(key, true);
    else props.onSort(null, false);
  };

  const timeProps = (p: Packet | undefined, row: number, vi: number) => {
    if (!p) return { time: '', timeTip: '' };
    const c = props.timeCell(p, row, vi > 0 ? rowAt(vi - 1) : null);
    return { time: c.text, timeTip: c.title };
  };

  const [avail, setAvail] = useState(0);
  useLayoutEffect(() => {
    const el = scrollRef.current;
    if (!el) return;
    setAvail(el.clientWidth);
    const ro = new ResizeObserver(() => setAvail(el.clientWidth));
    ro.observe(el);
    return () => ro.disconnect();
  }, []);
  const fitted = useMemo(
    () => (avail > 0 ? fitWidths(widths, avail, new Set(Object.keys(props.userSized) as ColumnKey[])) : widths),
    [widths, avail, props.userSized],
  );
  const template = gridTemplate(fitted, props.userSized);
  const minWidth = totalWidth(fitted);
  const importing = capture.status === 'importing';
  const total = capture.packetCount.toLocaleString('en-US');
  const countText = props.filtering
    ? `filtering… of ${total}`
    : rows ? `${rows.length.toLocaleString('en-US')} of ${total}` : total;
  const emptyText = importing
    ? `Importing…${capture.bytes > 0 && capture.bytesRead ? ` ${Math.min(100, Math.round((capture.bytesRead / capture.bytes) * 100))}% read;` : ''} packets appear here as they are read.`
    : capture.packetCount === 0
      ? 'This capture holds no packets.'
      : props.filtering || (sort && !order)
        ? ''
        : props.filterActive ? 'No packet of this host passes the filter.' : '';

  return (
    <div className="trace-pane" data-testid={`pane-${host}`} data-host={host} style={{ ['--cols' as string]: template, ['--cols-min' as string]: `${minWidth}px` }}>
      <div className="trace-pane-head">
        <span className="host-badge" data-host={host}>{host}</span>
        <span className="trace-file" title={capture.fileName}>{capture.fileName}</span>
        <span className="muted small" data-testid={`pane-count-${host}`} data-filtering={props.filtering ? 'true' : undefined}>
          {countText} packets
        </span>
        {sort && (
          <span className="muted small sort-note" data-testid={`pane-sort-${host}`}>
            sorted by {COLUMNS.find((c) => c.key === sort.key)?.label} {sort.desc ? '↓' : '↑'}{sort.order ? '' : ' …'}
          </span>
        )}
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
          {COLUMNS.map((c) => (
            <div
              key={c.key}
              className={`cell col-${c.key}${sort?.key === c.key ? ' sorted' : ''}`}
              role="columnheader"
              data-testid={`col-${c.key}`}
              aria-sort={sort?.key === c.key ? (sort.desc ? 'descending' : 'ascending') : undefined}
              title={(c.key === 'time' ? props.timeTitle : c.title) + (c.key === 'cp' ? '' : ' · click to sort')}
              onClick={() => clickHeader(c.key)}
            >
              {c.label}
              {sort?.key === c.key ? (sort.desc ? ' ▾' : ' ▴') : ''}
              {c.key !== 'info' && (
                <span
                  className="col-resize"
                  data-testid={`resize-${c.key}`}
                  aria-hidden="true"
                  onPointerDown={(e) => startResize(e, c.key)}
                  onClick={(e) => e.stopPropagation()}
                />
              )}
            </div>
          ))}
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
                marked={p ? props.marked.has(key) : false}
                selected={selectedRow === row}
                twin={twinRow === row}
                {...timeProps(p, row, vi)}
                host={host}
                onSelect={props.onSelect}
                onContextMenu={props.onContextMenu}
              />
            );
          })}
        </div>
        {count === 0 && emptyText && <div className="pane-empty muted" data-testid={`pane-empty-${host}`}>{emptyText}</div>}
      </div>
    </div>
  );
}

