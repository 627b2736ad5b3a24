// The workbench panes' columns: widths (resizable, remembered), cell text, what "filter on this
// value" writes for a cell, and the time display modes. Pure, so tests and both panes share it.

import { quoteFilterString } from '../../../../shared/filter/index.ts';
import { hex32 } from '../../../../shared/protocols/info.ts';
import type { Packet } from '../../../../shared/protocols/packet.ts';
import type { SortKey } from '../../workers/session-messages.ts';
import { formatAddr, formatInfo, formatProto } from '../packets/format.ts';

export type ColumnKey = 'cp' | SortKey;

export interface ColumnDef {
  key: ColumnKey;
  label: string;
  title: string;
  /** Default width in px; for a flexible column its least width. */
  width: number;
  min: number;
  /**
   * Share of the room left over (fr): Source, Destination and Info grow with the window, the
   * addresses down to their least width first; a column the user dragged keeps its px width.
   */
  flex?: number;
}

// Defaults that fit two panes side by side at 1280 px with the library open; No., Time and Length
// are sized from the data (autoWidths), and every column can be dragged wider.
export const COLUMNS: readonly ColumnDef[] = [
  { key: 'cp', label: 'CP', title: 'Checkpoint labels', width: 28, min: 22 },
  { key: 'no', label: 'No.', title: 'Frame number in its file', width: 34, min: 30 },
  { key: 'time', label: 'Time', title: '', width: 66, min: 44 },
  { key: 'iface', label: 'Iface', title: 'Interface and direction', width: 64, min: 30 },
  { key: 'src', label: 'Source', title: 'Source address and port', width: 60, min: 40, flex: 1 },
  { key: 'dst', label: 'Destination', title: 'Destination address and port', width: 60, min: 40, flex: 1 },
  { key: 'proto', label: 'Proto', title: 'Highest decoded protocol', width: 76, min: 34 },
  { key: 'len', label: 'Len', title: 'Length on the wire (bytes)', width: 40, min: 30 },
  { key: 'info', label: 'Info', title: 'What the packet is', width: 150, min: 60, flex: 2.5 },
];

/** Width of one character of the lists' monospace font (11.5 px) plus the cell's padding. */
const CHAR_PX = 6.95;
const PAD_PX = 12;

/**
 * Widths that show whole numbers and times: No. from the largest frame number, Time from the
 * longest time the mode prints (a leading sign and every integer digit), Length from the largest frame.
 */
export function autoWidths(maxFrame: number, maxAbsSeconds: number, maxLen: number, mode: TimeMode, negative: boolean): Widths {
  const fit = (chars: number) => Math.ceil(chars * CHAR_PX + PAD_PX);
  const intDigits = String(Math.floor(Math.max(0, maxAbsSeconds))).length;
  // "-12.345678": sign (when a time can be negative), integer digits, point, six decimals; UTC "02:37:59.059256".
  const timeChars = mode === 'utc' ? 15 : (negative || mode === 'delta' || mode === 'ref' ? 1 : 0) + intDigits + 7;
  return {
    no: Math.max(COLUMNS[1]!.width, fit(String(Math.max(1, maxFrame)).length)),
    time: Math.max(COLUMNS[2]!.width, fit(timeChars)),
    len: Math.max(COLUMNS[7]!.width, fit(String(Math.max(1, maxLen)).length)),
  };
}

export type Widths = Partial<Record<ColumnKey, number>>;

/** Columns that give way, in order and down to how far, when two panes share a narrow window. */
const GIVE: Array<[ColumnKey[], number]> = [[['proto'], 40], [['iface'], 36]];

/**
 * Fits the columns into `avail` px: the flexible ones are already at their least width when the
 * pane is narrow, then Protocol and Iface narrow (their full text is in the tooltip); never a
 * column the user sized, never a number or a time.
 */
export function fitWidths(w: Widths, avail: number, userSized: ReadonlySet<ColumnKey>): Widths {
  const out: Widths = { ...w };
  let excess = totalWidth(out) - avail;
  for (const [group, floor] of GIVE) {
    // Columns of one group (Source and Destination) give way together, in equal steps.
    const keys = group.filter((k) => !userSized.has(k));
    while (excess > 0 && keys.length) {
      const open = keys.filter((k) => (out[k] ?? COLUMNS.find((c) => c.key === k)!.width) > floor);
      if (!open.length) break;
      const step = Math.max(1, Math.ceil(excess / open.length));
      for (const k of open) {
        const cur = out[k] ?? COLUMNS.find((c) => c.key === k)!.width;
        const cut = Math.min(step, excess, cur - floor);
        out[k] = cur - cut;
        excess -= cut;
      }
    }
  }
  return out;
}

export function gridTemplate(w: Widths, userSized: Widths = {}): string {
  return COLUMNS.map((c) => (c.flex && userSized[c.key] === undefined ? `minmax(${w[c.key] ?? c.width}px, ${c.flex}fr)` : `${w[c.key] ?? c.width}px`)).join(' ');
}

export function totalWidth(w: Widths): number {
  return COLUMNS.reduce((n, c) => n + (w[c.key] ?? c.width), 0);
}

export type TimeMode = 'origin' | 'delta' | 'utc' | 'ref';

export const TIME_MODES: Array<{ key: TimeMode; label: string; title: string }> = [
  { key: 'origin', label: "since A's first packet", title: "Seconds since host A's first packet; B's times moved onto A's clock by the estimated offset and skew" },
  { key: 'delta', label: 'since previous displayed', title: 'Seconds since the previous packet shown in the same pane' },
  { key: 'utc', label: 'absolute (UTC)', title: "Time of day in UTC on each host's own clock (B uncorrected)" },
  { key: 'ref', label: 'since time reference', title: 'Seconds since the packet set as time reference (right-click a packet), on A’s clock' },
];

/** Seconds with microseconds, always with a sign for negative values. */
export function seconds(t: number): string {
  if (!Number.isFinite(t)) return '';
  return t.toFixed(6);
}

/** HH:MM:SS.uuuuuu of a packet's own timestamp, UTC. */
export function utcTime(p: Packet): string {
  const day = ((p.tsSec % 86400) + 86400) % 86400;
  const h = Math.floor(day / 3600);
  const m = Math.floor((day % 3600) / 60);
  const s = day % 60;
  const us = Math.floor(p.tsNsec / 1000);
  return `${String(h).padStart(2, '0')}:${String(m).padStart(2, '0')}:${String(s).padStart(2, '0')}.${String(us).padStart(6, '0')}`;
}

export function utcDateTime(p: Packet): string {
  return new Date(p.tsSec * 1000).toISOString().slice(0, 19).replace('T', ' ') + '.' + String(p.tsNsec).padStart(9, '0') + ' UTC';
}

/** What the Iface column shows: the name, or "ifN" for an unnamed SLL2 index, and the direction. */
export function ifaceCell(p: Packet): string {
  const name = p.iface || (p.ifindex !== undefined ? `if${p.ifindex}` : '');
  return `${name}${p.dir === 'in' || p.dir === 'out' ? ` ${p.dir}` : ''}`;
}

export function cellText(p: Packet, key: Exclude<ColumnKey, 'cp' | 'time'>): string {
  switch (key) {
    case 'no': return String(p.frame);
    case 'iface': return ifaceCell(p);
    case 'src': return formatAddr(p.src ?? p.arp?.spa, p.sport);
    case 'dst': return formatAddr(p.dst ?? p.arp?.tpa, p.dport);
    case 'proto': return formatProto(p);
    case 'len': return String(p.len);
    case 'info': return formatInfo(p);
  }
}

/** The display filter that selects packets sharing this cell's value (Wireshark's "Apply as Filter"). */
export function filterFor(p: Packet, key: ColumnKey, checkpoints: readonly string[] | undefined): string {
  switch (key) {
    case 'cp': return checkpoints?.length ? `checkpoint == ${quoteFilterString(checkpoints[0]!)}` : `frame.number == ${p.frame}`;
    case 'no':
    case 'time': return `frame.number == ${p.frame}`;
    case 'iface': {
      const name = p.iface || (p.ifindex !== undefined ? `if${p.ifindex}` : '');
      return name ? `iface == ${quoteFilterString(name)}` : `iface.id == ${p.ifaceId}`;
    }
    case 'src': {
      const a = p.src ?? p.arp?.spa;
      if (a === undefined) return `proto == ${quoteFilterString(p.proto)}`;
      return p.sport !== undefined ? `ip.src == ${a} && sport == ${p.sport}` : `ip.src == ${a}`;
    }
    case 'dst': {
      const a = p.dst ?? p.arp?.tpa;
      if (a === undefined) return `proto == ${quoteFilterString(p.proto)}`;
      return p.dport !== undefined ? `ip.dst == ${a} && dport == ${p.dport}` : `ip.dst == ${a}`;
    }
    case 'proto': return `proto == ${quoteFilterString(p.proto)}`;
    case 'len': return `frame.len == ${p.len}`;
    case 'info':
      if (p.wg) return p.wg.type === 4 && p.wg.receiver !== undefined ? `wg.receiver == ${hex32(p.wg.receiver)}` : `wg.type == ${p.wg.type}`;
      if (p.esp) return `esp.spi == ${hex32(p.esp.spi)}`;
      if (p.ike) return `ike.ispi == ${quoteFilterString(p.ike.ispi)}`;
      return `proto == ${quoteFilterString(p.proto)}`;
  }
}

/** One line for the clipboard: the columns as shown, tab-separated. */
export function rowText(p: Packet, time: string): string {
  return [p.frame, time, ifaceCell(p), cellText(p, 'src'), cellText(p, 'dst'), formatProto(p), p.len, formatInfo(p)].join('\t');
}
