// Packet detail: the decoded layer tree above a hex view of the frame. Selecting a field lights
// up its bytes and puts the hex view's byte cursor on its first byte; clicking a byte, or moving
// the cursor with the keyboard, selects the deepest field that covers it. Packets imported from
// tcpdump text have no bytes, so they show the decoded record as a tree and no hex view.

import { useVirtualizer } from '@tanstack/react-virtual';
import { memo, useCallback, useEffect, useId, useMemo, useRef, useState, type KeyboardEvent, type MouseEvent } from 'react';
import type { CaptureInterface } from '../../../../shared/capture-file/types.ts';
import type { Packet } from '../../../../shared/protocols/packet.ts';
import type { Field } from '../../../../shared/protocols/fields.ts';
import {
  ancestorIds, buildDetail, BYTES_PER_ROW, fieldAtOffset, hexRow, moveCursor, needsDissect, offsetWidth, rowCount, visibleNodes,
  type DetailModel, type FieldNode,
} from './detail-model.ts';
import { dissectInWorker } from './dissect-client.ts';
import './PacketDetail.css';

export interface PacketDetailProps {
  packet: Packet;
  /** Captured bytes of the frame; undefined for text imports or when bytes were not kept. */
  bytes: Uint8Array | undefined;
  iface: CaptureInterface | undefined;
  /** SLL2 interface index → name, from the capture host's `ip -o link`. */
  linkNames?: Map<number, string>;
}

const HEX_ROW_HEIGHT = 18;

/** The tree the dissect worker returned, and for which inputs (a newer selection must not show an older answer). */
interface Decoded { packet: Packet; bytes: Uint8Array; iface: CaptureInterface | undefined; linkNames: Map<number, string> | undefined; fields: Field[] | null; error?: string }

export function PacketDetail({ packet, bytes, iface, linkNames }: PacketDetailProps) {
  const [decoded, setDecoded] = useState<Decoded | null>(null);
  useEffect(() => {
    if (!needsDissect(bytes)) return;
    let live = true;
    dissectInWorker(packet, bytes, iface, linkNames).then(
      (fields) => { if (live) setDecoded({ packet, bytes, iface, linkNames, fields }); },
      (err: Error) => { if (live) setDecoded({ packet, bytes, iface, linkNames, fields: null, error: err.message }); },
    );
    return () => { live = false; };
  }, [packet, bytes, iface, linkNames]);
  const current = decoded !== null && decoded.packet === packet && decoded.bytes === bytes && decoded.iface === iface && decoded.linkNames === linkNames ? decoded : null;
  const model = useMemo(
    () => (!needsDissect(bytes) ? buildDetail(packet, bytes) : current?.fields ? buildDetail(packet, bytes, current.fields) : null),
    [packet, bytes, current],
  );
  if (model === null) {
    return (
      <div className="packet-detail" data-testid="packet-detail" aria-busy={current === null}>
        <p className="detail-no-bytes" data-testid="detail-decoding">{current?.error ? `cannot decode this packet: ${current.error}` : 'decoding…'}</p>
      </div>
    );
  }
  return <DetailView packet={packet} model={model} />;
}

/** Tree and hex view of one decoded packet. */
function DetailView({ packet, model }: { packet: Packet; model: DetailModel }) {
  // Selection belongs to one packet: a new model starts with nothing selected, all collapsed and
  // no byte cursor.
  const [state, setState] = useState<DetailState>(() => freshState(model));
  const current = state.model === model ? state : freshState(model);
  const selectedNode = current.selected !== null ? model.byId.get(current.selected) : undefined;

  /** Tree selection; a field with bytes also takes the byte cursor to its first byte. */
  const select = useCallback((node: FieldNode | undefined, reveal: boolean) => {
    setState((s) => {
      const base = s.model === model ? s : freshState(model);
      if (!node) return { ...base, selected: null };
      let expanded = base.expanded;
      if (reveal) {
        const need = ancestorIds(node).filter((id) => !expanded.has(id));
        if (need.length > 0) expanded = new Set([...expanded, ...need]);
      }
      const cursor = node.field.length > 0 ? node.field.start : base.cursor;
      return { model, selected: node.id, expanded, cursor };
    });
  }, [model]);

  /** Byte cursor (click or keys in the hex view): the deepest field holding that byte is selected and revealed. */
  const placeCursor = useCallback((offset: number) => {
    setState((s) => {
      const base = s.model === model ? s : freshState(model);
      const node = fieldAtOffset(model.all, offset);
      let expanded = base.expanded;
      if (node) {
        const need = ancestorIds(node).filter((id) => !expanded.has(id));
        if (need.length > 0) expanded = new Set([...expanded, ...need]);
      }
      return { model, selected: node ? node.id : base.selected, expanded, cursor: offset };
    });
  }, [model]);

  const toggle = useCallback((node: FieldNode, open?: boolean) => {
    setState((s) => {
      const base = s.model === model ? s : freshState(model);
      const isOpen = base.expanded.has(node.id);
      const want = open ?? !isOpen;
      if (want === isOpen) return base;
      const expanded = new Set(base.expanded);
      if (want) expanded.add(node.id); else expanded.delete(node.id);
      return { ...base, expanded };
    });
  }, [model]);

  const noBytes = model.bytes.length === 0;
  const range = selectedNode && selectedNode.field.length > 0
    ? { start: selectedNode.field.start, end: selectedNode.field.start + selectedNode.field.length }
    : null;

  return (
    <div className="packet-detail" data-testid="packet-detail">
      <FieldTree model={model} expanded={current.expanded} selected={selectedNode} onSelect={select} onToggle={toggle} />
      {noBytes ? (
        <p className="detail-no-bytes" data-testid="detail-no-bytes">
          {packet.origin === 'text' ? 'imported from tcpdump text: no bytes' : 'no bytes stored for this packet'}
        </p>
      ) : (
        <HexView bytes={model.bytes} range={range} cursor={current.cursor} field={selectedNode} onCursor={placeCursor} />
      )}
    </div>
  );
}

interface DetailState {
  model: DetailModel;
  selected: string | null;
  expanded: ReadonlySet<string>;
  /** Offset of the hex view's byte cursor, or null before the first click, key or field selection. */
  cursor: number | null;
}

const freshState = (model: DetailModel): DetailState => ({ model, selected: null, expanded: new Set(), cursor: null });

// ---- the layer tree

interface TreeProps {
  model: DetailModel;
  expanded: ReadonlySet<string>;
  selected: FieldNode | undefined;
  onSelect: (n: FieldNode | undefined, reveal: boolean) => void;
  onToggle: (n: FieldNode, open?: boolean) => void;
}

function FieldTree({ model, expanded, selected, onSelect, onToggle }: TreeProps) {
  const uid = useId();
  const listRef = useRef<HTMLDivElement>(null);
  const rows = useMemo(() => visibleNodes(model.roots, expanded), [model, expanded]);
  const itemId = (n: FieldNode) => `${uid}-f${n.id}`;

  // Keep the active item visible after keyboard moves and byte clicks. Only the tree scrolls:
  // scrollIntoView would also move the page and the tab around it.
  useEffect(() => {
    const list = listRef.current;
    if (!selected || !list) return;
    const el = list.querySelector<HTMLElement>(`[data-node="${selected.id}"]`);
    if (!el) return;
    const box = list.getBoundingClientRect();
    const item = el.getBoundingClientRect();
    if (item.top < box.top) list.scrollTop -= box.top - item.top;
    else if (item.bottom > box.bottom) list.scrollTop += Math.min(item.bottom - box.bottom, item.top - box.top);
  }, [selected, rows]);

  function onKeyDown(e: KeyboardEvent<HTMLDivElement>) {
    if (rows.length === 0) return;
    const i = selected ? rows.indexOf(selected) : -1;
    const cur = i >= 0 ? rows[i]! : undefined;
    let handled = true;
    switch (e.key) {
      case 'ArrowDown': onSelect(rows[Math.min(rows.length - 1, i + 1)], false); break;
      case 'ArrowUp': onSelect(rows[Math.max(0, i - 1)], false); break;
      case 'Home': onSelect(rows[0], false); break;
      case 'End': onSelect(rows[rows.length - 1], false); break;
      case 'ArrowRight':
        if (!cur) onSelect(rows[0], false);
        else if (cur.children.length > 0 && !expanded.has(cur.id)) onToggle(cur, true);
        else if (cur.children.length > 0) onSelect(cur.children[0], false);
        break;
      case 'ArrowLeft':
        if (cur && cur.children.length > 0 && expanded.has(cur.id)) onToggle(cur, false);
        else if (cur?.parent) onSelect(cur.parent, false);
        break;
      case 'Enter':
      case ' ':
        if (cur && cur.children.length > 0) onToggle(cur);
        break;
      case '*':
        // Expand everything under the current layer, as in Wireshark.
        if (cur) { const stack = [cur]; while (stack.length) { const n = stack.pop()!; if (n.children.length) { onToggle(n, true); stack.push(...n.children); } } }
        break;
      default: handled = false;
    }
    if (handled) e.preventDefault();
  }

  return (
    <div
      className="detail-tree"
      data-testid="detail-tree"
      role="tree"
      aria-label="Decoded layers"
      tabIndex={0}
      ref={listRef}
      aria-activedescendant={selected ? itemId(selected) : undefined}
      onKeyDown={onKeyDown}
    >
      {rows.map((n) => (
        <TreeRow key={n.id} node={n} domId={itemId(n)} open={expanded.has(n.id)} selected={n === selected}
          onSelect={onSelect} onToggle={onToggle} />
      ))}
    </div>
  );
}

interface RowProps {
  node: FieldNode;
  domId: string;
  open: boolean;
  selected: boolean;
  onSelect: (n: FieldNode | undefined, reveal: boolean) => void;
  onToggle: (n: FieldNode, open?: boolean) => void;
}

const TreeRow = memo(function TreeRow({ node, domId, open, selected, onSelect, onToggle }: RowProps) {
  const f = node.field;
  const hasKids = node.children.length > 0;
  const classes = ['detail-field'];
  if (node.depth === 0) classes.push('layer');
  if (selected) classes.push('selected');
  if (f.length === 0) classes.push('no-bytes');
  return (
    <div
      id={domId}
      className={classes.join(' ')}
      data-testid="detail-field"
      data-name={f.name}
      data-node={node.id}
      role="treeitem"
      aria-level={node.depth + 1}
      aria-expanded={hasKids ? open : undefined}
      aria-selected={selected}
      title={f.label + '\n' + (f.length > 0 ? `${f.name} · bytes ${f.start}–${f.start + f.length - 1}` : f.name)}
      style={{ paddingLeft: 6 + node.depth * 16 }}
      onClick={() => onSelect(node, false)}
      onDoubleClick={() => hasKids && onToggle(node)}
    >
      <span
        className={'twisty' + (hasKids ? (open ? ' open' : ' closed') : '')}
        aria-hidden="true"
        onClick={(e) => { if (hasKids) { e.stopPropagation(); onToggle(node); onSelect(node, false); } }}
      />
      <span className="label">{f.label}</span>
    </div>
  );
});

// ---- the hex view

interface HexProps {
  bytes: Uint8Array;
  range: { start: number; end: number } | null;
  cursor: number | null;
  /** The selected field, named in the cursor's status line. */
  field: FieldNode | undefined;
  onCursor: (offset: number) => void;
}

const hex2 = (n: number) => n.toString(16).padStart(2, '0');

/** What a screen reader says for a byte: where it is and what it holds. */
function byteLabel(bytes: Uint8Array, off: number): string {
  const b = bytes[off]!;
  const ch = b >= 0x20 && b < 0x7f ? `, character ${String.fromCharCode(b)}` : '';
  return `offset 0x${off.toString(16)} (${off}): 0x${hex2(b)}, decimal ${b}${ch}`;
}

/**
 * The frame's bytes as a grid of 16 per row. It takes focus; the arrow keys, Home/End and
 * Page Up/Down move a byte cursor, whose cell is the grid's active descendant so assistive
 * technology reads its offset and value.
 */
function HexView({ bytes, range, cursor, field, onCursor }: HexProps) {
  const uid = useId();
  const scrollRef = useRef<HTMLDivElement>(null);
  const rows = rowCount(bytes);
  const width = offsetWidth(bytes.length);
  const virt = useVirtualizer({
    count: rows,
    getScrollElement: () => scrollRef.current,
    estimateSize: () => HEX_ROW_HEIGHT,
    overscan: 8,
  });
  const byteId = (off: number) => `${uid}-b${off}`;
  const at = cursor !== null && cursor < bytes.length ? cursor : null;

  // Keep the cursor (or, before there is one, the selected field's first byte) in view.
  const focusRow = at !== null ? Math.floor(at / BYTES_PER_ROW) : range ? Math.floor(range.start / BYTES_PER_ROW) : -1;
  useEffect(() => {
    if (focusRow >= 0) virt.scrollToIndex(focusRow, { align: 'auto' });
  }, [focusRow, virt]);

  function onClick(e: MouseEvent<HTMLDivElement>) {
    const off = (e.target as HTMLElement).closest<HTMLElement>('[data-offset]')?.dataset.offset;
    if (off !== undefined) onCursor(Number(off));
  }

  function onKeyDown(e: KeyboardEvent<HTMLDivElement>) {
    const page = Math.max(1, Math.floor((scrollRef.current?.clientHeight ?? 0) / HEX_ROW_HEIGHT) - 1);
    const next = moveCursor(at, e.key, bytes.length, { ctrl: e.ctrlKey || e.metaKey, page });
    if (next === null) return;
    e.preventDefault();
    if (next !== at) onCursor(next);
  }

  return (
    <div className="hex-pane">
      <div
        className="hex-view"
        data-testid="hex-view"
        ref={scrollRef}
        role="grid"
        tabIndex={0}
        aria-label={`Frame bytes, ${bytes.length} in all (arrow keys, Home and End move the byte cursor)`}
        aria-rowcount={rows}
        aria-colcount={BYTES_PER_ROW}
        aria-activedescendant={at !== null ? byteId(at) : undefined}
        data-cursor={at ?? undefined}
        onClick={onClick}
        onKeyDown={onKeyDown}
      >
        <div className="hex-sizer" style={{ height: virt.getTotalSize() }}>
          {virt.getVirtualItems().map((v) => (
            <HexLine key={v.index} bytes={bytes} row={v.index} width={width} top={v.start} idPrefix={`${uid}-b`}
              selStart={range ? Math.max(range.start, v.index * BYTES_PER_ROW) : -1}
              selEnd={range ? Math.min(range.end, (v.index + 1) * BYTES_PER_ROW) : -1}
              cursorCol={at !== null && Math.floor(at / BYTES_PER_ROW) === v.index ? at % BYTES_PER_ROW : -1} />
          ))}
        </div>
      </div>
      <div className="hex-status" data-testid="hex-status">
        {at !== null ? (
          <>
            <span className="mono">0x{at.toString(16).padStart(width, '0')} ({at})</span>
            <span className="mono">0x{hex2(bytes[at]!)} = {bytes[at]}</span>
            {field && <span className="hex-status-field" title={field.field.label}>{field.field.label}</span>}
          </>
        ) : (
          <span>Click a byte, or focus the bytes and use the arrow keys.</span>
        )}
      </div>
    </div>
  );
}

interface LineProps {
  bytes: Uint8Array; row: number; width: number; top: number; idPrefix: string;
  selStart: number; selEnd: number;
  /** Column of the byte cursor in this line, -1 when it is elsewhere. */
  cursorCol: number;
}

/** One 16-byte line; memoized on the part of the selection and the cursor that fall inside it. */
const HexLine = memo(function HexLine({ bytes, row, width, top, idPrefix, selStart, selEnd, cursorCol }: LineProps) {
  const r = hexRow(bytes, row, width);
  const base = row * BYTES_PER_ROW;
  const hex = [];
  const ascii = [];
  for (let i = 0; i < r.hex.length; i++) {
    const off = base + i;
    const sel = off >= selStart && off < selEnd;
    const cls = (sel ? 'selected' : '') + (i === 8 ? ' gap' : '') + (i === cursorCol ? ' cursor' : '');
    hex.push(
      <span key={i} id={idPrefix + off} role="gridcell" aria-colindex={i + 1} aria-selected={sel}
        aria-label={byteLabel(bytes, off)} className={'hex-byte ' + cls}
        data-testid={sel ? 'hex-byte-selected' : 'hex-byte'} data-offset={off}>{r.hex[i]}</span>,
    );
    ascii.push(<span key={i} className={'hex-char ' + cls} data-offset={off}>{r.ascii[i]}</span>);
  }
  return (
    <div className="hex-line" role="row" aria-rowindex={row + 1} style={{ transform: `translateY(${top}px)` }}>
      <span className="hex-offset" aria-hidden="true">{r.offset}</span>
      <span className="hex-bytes">{hex}</span>
      <span className="hex-ascii" aria-hidden="true">{ascii}</span>
    </div>
  );
});
