// Shared view model of every export: packet look-up by frame, clock correction, excerpt windows.
// The renderers only format what this module works out, so HTML, Markdown and pcapng agree.
import type { Packet, PacketList } from '../protocols/packet.ts';
import { clockNs } from '../util/time.ts';
import type { CaptureSide, ReportAnalysis, ReportCapture, ReportInput } from './types.ts';
import { indexNotes, type NoteIndex } from './notes.ts';
import { describeCheckpoint, PATH_ORDER } from './labels.ts';

export interface ClockModel {
  offsetS: number;
  skewPpm: number;
  /** Reference instant of the estimate (A's clock, Unix seconds). */
  refS: number;
}

/**
 * The engine's convention (analysis/types.ts, ClockEstimate): B's clock reads
 *   t_B = t_A + offset + skew·(t_A − ref)
 * so a B timestamp maps onto A's clock as t_A = ref + (t_B − offset − ref) / (1 + skew), which to first
 * order is t_A ≈ t_B − offset − skew·(t_B − ref). The exact form is used: with an offset of seconds the
 * difference reaches tens of microseconds.
 */
export function clockModel(result: ReportAnalysis, a: ReportCapture): ClockModel {
  const c = result.clock;
  const first = a.packets.at(0);
  const ref = typeof c.ref_s === 'number' && Number.isFinite(c.ref_s) ? c.ref_s : first ? first.tsSec + first.tsNsec / 1e9 : 0;
  return { offsetS: finite(c.offset_s), skewPpm: finite(c.skew_ppm), refS: ref };
}

function finite(x: number | null | undefined): number { return typeof x === 'number' && Number.isFinite(x) ? x : 0; }

/** B's (sec, nsec) moved onto A's clock; exact to the nanosecond for offsets of days. */
export function correctToA(tsSec: number, tsNsec: number, clock: ClockModel): [number, number] {
  const refSec = Math.floor(clock.refS);
  // Seconds since ref on B's clock, kept small so the double stays precise.
  const d = tsSec - refSec + tsNsec / 1e9 - (clock.refS - refSec);
  const k = clock.skewPpm * 1e-6;
  const shift = d - (d - clock.offsetS) / (1 + k);
  const deltaNs = Math.round(shift * 1e9);
  const deltaSec = Math.floor(deltaNs / 1e9);
  const deltaRest = deltaNs - deltaSec * 1e9;
  let sec = tsSec - deltaSec;
  let nsec = tsNsec - deltaRest;
  if (nsec < 0) { nsec += 1e9; sec -= 1; }
  else if (nsec >= 1e9) { nsec -= 1e9; sec += 1; }
  return [sec, nsec];
}

export interface ReportModel {
  input: ReportInput;
  result: ReportAnalysis;
  notes: NoteIndex;
  clock: ClockModel;
  packet(side: CaptureSide, frame: number): Packet | undefined;
  capture(side: CaptureSide): ReportCapture;
  /** Label → checkpoint entry. */
  checkpointByLabel: Map<string, ReportAnalysis['checkpoints'][number]>;
  /** `A#12` → labels of checkpoints on that frame. */
  labelsByFrame: Map<string, string[]>;
  describe(label: string): string;
  generatedAt: string;
  toolVersion: string;
  title: string;
}

/** frame → position in `packets`. Packets normally sit at frame-1; a map, built on first need, covers inputs that were filtered or reordered. */
function frameIndex(packets: PacketList): (frame: number) => number | undefined {
  let map: Map<number, number> | undefined;
  return (frame) => {
    if (packets.at(frame - 1)?.frame === frame) return frame - 1;
    if (!map) { map = new Map(); for (let i = 0; i < packets.length; i++) map.set(packets.at(i)!.frame, i); }
    return map.get(frame);
  };
}

function frameLookup(packets: PacketList): (frame: number) => Packet | undefined {
  const indexOf = frameIndex(packets);
  return (frame) => {
    const i = indexOf(frame);
    return i === undefined ? undefined : packets.at(i);
  };
}

export function buildModel(input: ReportInput): ReportModel {
  const result = input.result;
  const lookA = frameLookup(input.a.packets);
  const lookB = frameLookup(input.b.packets);
  const packet = (side: CaptureSide, frame: number) => (side === 'A' ? lookA(frame) : lookB(frame));
  const checkpointByLabel = new Map<string, ReportAnalysis['checkpoints'][number]>();
  const labelsByFrame = new Map<string, string[]>();
  for (const c of result.checkpoints) {
    if (!checkpointByLabel.has(c.label)) checkpointByLabel.set(c.label, c);
    const k = `${c.capture}#${c.frame}`;
    const l = labelsByFrame.get(k);
    if (l) l.push(c.label);
    else labelsByFrame.set(k, [c.label]);
  }
  return {
    input,
    result,
    notes: indexNotes(input.notes),
    clock: clockModel(result, input.a),
    packet,
    capture: (side) => (side === 'A' ? input.a : input.b),
    checkpointByLabel,
    labelsByFrame,
    describe(label) {
      // A checkpoint that never appeared is described by the test packet itself (A1, else B4).
      const c = checkpointByLabel.get(label) ?? checkpointByLabel.get('A1') ?? checkpointByLabel.get('B4');
      return describeCheckpoint(label, c ? packet(c.capture, c.frame) : undefined);
    },
    generatedAt: input.generatedAt ?? new Date().toISOString(),
    toolVersion: input.toolVersion ?? 'unknown',
    title: input.title ?? 'Tandem two-ended capture report',
  };
}

/** Checkpoints in path order (unknown labels last, in their given order). */
export function orderedCheckpoints(result: ReportAnalysis): ReportAnalysis['checkpoints'] {
  const rank = (l: string) => { const i = PATH_ORDER.indexOf(l); return i < 0 ? PATH_ORDER.length : i; };
  return [...result.checkpoints].sort((x, y) => rank(x.label) - rank(y.label));
}

export function timeOf(p: Packet): string { return clockNs(p.tsSec, p.tsNsec); }

/** B packet's time on A's clock, HH:MM:SS.nnnnnnnnn. */
export function timeOnA(p: Packet, clock: ClockModel): string {
  const [s, n] = correctToA(p.tsSec, p.tsNsec, clock);
  return clockNs(s, n);
}

export interface ExcerptBlock {
  side: CaptureSide;
  /** Frames shown, contiguous in file order. */
  packets: Packet[];
  /** Frames the block is about (checkpoints). */
  focus: Set<number>;
}

/**
 * Packet-list excerpts of ±`radius` packets around each frame of interest, one side at a time;
 * windows that touch or overlap merge into one block so no packet shows twice.
 */
export function excerptBlocks(side: CaptureSide, packets: PacketList, frames: number[], radius = 3): ExcerptBlock[] {
  if (packets.length === 0 || frames.length === 0) return [];
  const indexOf = frameIndex(packets);
  const centres = [...new Set(frames)].map(indexOf).filter((i): i is number => i !== undefined).sort((x, y) => x - y);
  const blocks: ExcerptBlock[] = [];
  let start = -1, end = -1;
  let focus = new Set<number>();
  const flush = () => {
    if (start < 0) return;
    const list: Packet[] = [];
    for (let i = start; i <= end; i++) list.push(packets.at(i)!);
    blocks.push({ side, packets: list, focus });
  };
  for (const c of centres) {
    const lo = Math.max(0, c - radius), hi = Math.min(packets.length - 1, c + radius);
    if (start >= 0 && lo <= end + 1) { end = Math.max(end, hi); focus.add(packets.at(c)!.frame); continue; }
    flush();
    start = lo; end = hi; focus = new Set([packets.at(c)!.frame]);
  }
  flush();
  return blocks;
}

export function fmtSeconds(s: number | null | undefined): string {
  if (s === null || s === undefined || !Number.isFinite(s)) return '—';
  const a = Math.abs(s);
  if (a === 0) return '0 s';
  if (a < 1e-3) return `${(s * 1e6).toFixed(1)} µs`;
  if (a < 1) return `${(s * 1e3).toFixed(3)} ms`;
  return `${s.toFixed(6)} s`;
}

export function fmtSignedSeconds(s: number): string {
  return (s >= 0 ? '+' : '−') + fmtSeconds(Math.abs(s));
}

export function transformText(t: string | string[] | null | undefined): string {
  if (t === null || t === undefined) return '';
  return Array.isArray(t) ? t.join(', ') : t;
}

/**
 * Whether the offset is bounded from one side only: every matched pair went the same way, so there is
 * no width to give (the engine says Infinity; JSON carries it as null). Never shown as "±0".
 */
export function oneSidedClock(c: { uncertainty_s: number | null }): boolean {
  return c.uncertainty_s === null || !Number.isFinite(c.uncertainty_s);
}

/** One sentence on the clock estimate, for every export. */
export function clockSentence(result: ReportAnalysis): string {
  const c = result.clock;
  if (!c || !(c.pairs > 0)) return 'No packet pairs matched across the hosts, so the clocks could not be aligned; times are shown as each host recorded them.';
  return `B's clock reads ${fmtSignedSeconds(finite(c.offset_s))} relative to A's, drifting ${finite(c.skew_ppm).toFixed(2)} ppm, ` +
    `${oneSidedClock(c) ? 'bounded from one direction only' : `uncertainty ±${fmtSeconds(c.uncertainty_s)}`}, from ${c.pairs} matched pair${c.pairs === 1 ? '' : 's'}.`;
}

export const CLOCK_CONVENTION = 't_B = t_A + offset + skew·(t_A − ref), i.e. t_A ≈ t_B − offset − skew·(t_B − ref)';
