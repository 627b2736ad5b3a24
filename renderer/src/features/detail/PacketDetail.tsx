// Packet detail: the decoded layer tree above a hex view of the frame. Selecting a field lights
// up its bytes; clicking a byte selects the deepest field that covers it. Packets imported from
// tcpdump text have no bytes, so they show the decoded record as a tree and no hex view.

import { useVirtualizer } from '@tanstack/react-virtual';
import { memo, useCallback, useEffect, useId, useMemo, useRef, useState, type KeyboardEvent, type MouseEvent } from 'react';
import type { CaptureInterface } from '../../../../shared/capture-file/types.ts';
import type { Packet } from '../../../../shared/protocols/packet.ts';
import {
  ancestorIds, buildDetail, BYTES_PER_ROW, fieldAtOffset, hexRow, offsetWidth, rowCount, visibleNodes,
  type DetailModel, type FieldNode,
} from './detail-model.ts';
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

export function PacketDetail({ packet, bytes, iface, linkNames }: PacketDetailProps) {
  const model = useMemo(() => buildDetail(packet, bytes, iface, linkNames), [packet, bytes, iface, linkNames]);
  // Selection belongs to one packet: a new model starts with nothing selected and all collapsed.
  const [state, setState] = useState<{ model: DetailModel; selected: string | null; expanded: ReadonlySet<string> }>(
    () => ({ model, selected: null, expanded: new Set() }),
  );
  const current = state.model === model ? state : { model, selected: null, expanded: new Set<string>() };
  const selectedNode = current.selected !== null ? model.byId.get(current.selected) : undefined;

  const select = useCallback((node: FieldNode | undefined, reveal: boolean) => {
    setState((s) => {
      const base = s.model === model ? s : { model, selected: null, expanded: new Set<string>() };
      if (!node) return { ...base, selected: null };
      let expanded = base.expanded;
      if (reveal) {
        const need = ancestorIds(node).filter((id) => !expanded.has(id));
        if (need.length > 0) expanded = new Set([...expanded, ...need]);
      }
      return { model, selected: node.id, expanded };
    });
  }, [model]);

  const toggle = useCallback((node: FieldNode, open?: boolean) => {
    setState((s) => {
      const base = s.model === model ? s : { model, selected: null, expanded: new Set<string>() };
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
        <HexView bytes={model.bytes} range={range} onPick={(off) => select(fieldAtOffset(model.all, off), true)} />
      )}
    </div>
  );
}

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

  // Keep the active item visible after keyboard moves and byte clicks.
  useEffect(() => {
    if (!selected) return;
    const el = listRef.current?.querySelector<HTMLElement>(`[data-node="${selected.id}"]`);
    el?.scrollIntoView?.({ block: 'nearest' });
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
  onPick: (offset: number) => void;
}

function HexView({ bytes, range, onPick }: HexProps) {
  const scrollRef = useRef<HTMLDivElement>(null);
  const rows = rowCount(bytes);
  const width = offsetWidth(bytes.length);
  const virt = useVirtualizer({
    count: rows,
    getScrollElement: () => scrollRef.current,
    estimateSize: () => HEX_ROW_HEIGHT,
    overscan: 8,
  });

  // Bring the first byte of a newly selected field into view.
  const firstRow = range ? Math.floor(range.start / BYTES_PER_ROW) : -1;
  useEffect(() => {
    if (firstRow >= 0) virt.scrollToIndex(firstRow, { align: 'auto' });
  }, [firstRow, virt]);

  function onClick(e: MouseEvent<HTMLDivElement>) {
    const off = (e.target as HTMLElement).closest<HTMLElement>('[data-offset]')?.dataset.offset;
    if (off !== undefined) onPick(Number(off));
  }

  return (
    <div className="hex-view" data-testid="hex-view" ref={scrollRef} onClick={onClick} aria-label="Frame bytes">
      <div className="hex-sizer" style={{ height: virt.getTotalSize() }}>
        {virt.getVirtualItems().map((v) => (
          <HexLine key={v.index} bytes={bytes} row={v.index} width={width} top={v.start}
            selStart={range ? Math.max(range.start, v.index * BYTES_PER_ROW) : -1}
            selEnd={range ? Math.min(range.end, (v.index + 1) * BYTES_PER_ROW) : -1} />
        ))}
      </div>
    </div>
  );
}

interface LineProps { bytes: Uint8Array; row: number; width: number; top: number; selStart: number; selEnd: number }

/** One 16-byte line; memoized on the part of the selection that falls inside it. */
const HexLine = memo(function HexLine({ bytes, row, width, top, selStart, selEnd }: LineProps) {
  const r = hexRow(bytes, row, width);
  const base = row * BYTES_PER_ROW;
  const hex = [];
  const ascii = [];
  for (let i = 0; i < r.hex.length; i++) {
    const off = base + i;
    const sel = off >= selStart && off < selEnd;
    const cls = (sel ? 'selected' : '') + (i === 8 ? ' gap' : '');
    hex.push(
      <span key={i} className={'hex-byte ' + cls} data-testid={sel ? 'hex-byte-selected' : 'hex-byte'} data-offset={off}>{r.hex[i]}</span>,
    );
    ascii.push(<span key={i} className={'hex-char ' + cls} data-offset={off}>{r.ascii[i]}</span>);
  }
  return (
    <div className="hex-line" style={{ transform: `translateY(${top}px)` }}>
      <span className="hex-offset">{r.offset}</span>
      <span className="hex-bytes">{hex}</span>
      <span className="hex-ascii">{ascii}</span>
    </div>
  );
});
