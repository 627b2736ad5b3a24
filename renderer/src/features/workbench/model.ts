// What the workbench derives from an AnalysisResult: checkpoint badges per packet, the twin of a
// packet on the other host, the packets of the traced flow that never reached the other side, and
// B's times moved onto A's clock.

import type { AnalysisResult, CheckpointLabel, HopStage } from '../../../../shared/analysis/types.ts';
import { PATH_ORDER } from '../../../../shared/analysis/types.ts';
import { checkpointSpec } from '../../../../shared/report/labels.ts';
import type { HostSide } from '../../db/schema.ts';

export type PacketRef = { capture: HostSide; frame: number };
export const refKey = (r: PacketRef): string => `${r.capture}#${r.frame}`;

/** Checkpoints that see the same packet on both hosts (inner mirrors inner, carrier mirrors carrier). */
export const CHECKPOINT_TWINS: ReadonlyArray<[CheckpointLabel, CheckpointLabel]> = [
  ['A1', 'B4'], ['A2', 'B1'], ['A3', 'B2'], ['A4', 'B3'], ['A5', 'B8'], ['A6', 'B7'],
];

/** A lineage stage and the stage on the other host that carries the same packet. */
const STAGE_TWIN: Partial<Record<HopStage, HopStage[]>> = {
  'tunnel-out': ['decrypted-in', 'forwarded-out'],
  'encrypted-out': ['encrypted-in'],
  'encrypted-in': ['encrypted-out'],
  'decrypted-in': ['tunnel-out'],
  'forwarded-out': ['tunnel-out'],
  'reply-in': ['decrypted-reply-in'],
  'reply-tunnel-out': ['decrypted-reply-in'],
  'encrypted-reply-out': ['encrypted-reply-in'],
  'encrypted-reply-in': ['encrypted-reply-out'],
  'decrypted-reply-in': ['reply-tunnel-out', 'reply-in'],
};

/**
 * The strip's order: the engine's path with a site-to-site gateway's LAN side around it (IPsec A0
 * before A1, A7 after A6), as shared/analysis/README-ipsec.md lists the path.
 */
export const STRIP_ORDER: readonly CheckpointLabel[] = ['A0', ...PATH_ORDER, 'A7'];

/** A0/A7 exist only where A is a gateway for a LAN: shown when seen or named as the first missing one, never as "not seen". */
export function isGatewayOnly(label: CheckpointLabel): boolean {
  return checkpointSpec(label)?.gatewayOnly === true;
}

export interface WorkbenchModel {
  /** `A#12` → checkpoint labels on that packet. */
  badges: Map<string, CheckpointLabel[]>;
  twins: Map<string, PacketRef>;
  /** Packets of the traced flow with no twin on the other host; 'lost' marks the last place a lost packet was seen. */
  marks: Map<string, 'unmatched' | 'lost'>;
  checkpoints: Map<CheckpointLabel, PacketRef>;
  /** Checkpoints in path order, present or not (gateway-only ones only when seen or first missing). */
  strip: Array<{ label: CheckpointLabel; ref: PacketRef | null }>;
}

export function buildModel(result: AnalysisResult | undefined): WorkbenchModel {
  const badges = new Map<string, CheckpointLabel[]>();
  const twins = new Map<string, PacketRef>();
  const marks = new Map<string, 'unmatched' | 'lost'>();
  const checkpoints = new Map<CheckpointLabel, PacketRef>();
  if (!result) return { badges, twins, marks, checkpoints, strip: [] };
  for (const c of result.checkpoints) {
    const ref = { capture: c.capture, frame: c.frame };
    checkpoints.set(c.label, ref);
    const k = refKey(ref);
    const list = badges.get(k);
    if (list) list.push(c.label);
    else badges.set(k, [c.label]);
  }
  // Several labels on one packet read in path order (the first one is the packet's "current" label).
  for (const list of badges.values()) if (list.length > 1) list.sort((x, y) => STRIP_ORDER.indexOf(x) - STRIP_ORDER.indexOf(y));
  for (const [x, y] of CHECKPOINT_TWINS) {
    const a = checkpoints.get(x);
    const b = checkpoints.get(y);
    if (a && b) {
      twins.set(refKey(a), b);
      twins.set(refKey(b), a);
    }
  }
  for (const l of result.lineage) {
    for (const h of l.hops) {
      const key = refKey(h);
      if (twins.has(key)) continue;
      const wanted = STAGE_TWIN[h.stage] ?? [];
      const other = l.hops.find((o) => o.capture !== h.capture && wanted.includes(o.stage));
      if (other) twins.set(key, { capture: other.capture, frame: other.frame });
    }
    for (const h of l.hops) if (!twins.has(refKey(h))) marks.set(refKey(h), 'unmatched');
    const last = l.hops[l.hops.length - 1];
    // The engine says lost_after when it knows; otherwise a chain that stops before its natural
    // end (forwarded out of B for a request, decrypted on A for a reply) was lost after its last hop.
    const end = l.direction === 'reply' ? 'decrypted-reply-in' : result.variant.path === 'point-to-point' ? 'decrypted-in' : 'forwarded-out';
    if (last && (l.lost_after || (last.stage !== end && result.verdict.status !== 'ok'))) marks.set(refKey(last), 'lost');
  }
  const strip = STRIP_ORDER
    .filter((label) => !isGatewayOnly(label) || checkpoints.has(label) || result.verdict.first_missing === label)
    .map((label) => ({ label, ref: checkpoints.get(label) ?? null }));
  return { badges, twins, marks, checkpoints, strip };
}

/** Maps B clock seconds (relative to the session base) onto A's clock with the analysis' estimate. */
export function clockMapper(result: AnalysisResult | undefined, baseSec: number): (tB: number) => number {
  const c = result?.clock;
  if (!c) return (t) => t;
  const offset = Number.isFinite(c.offset_s) ? c.offset_s : 0;
  const k = (Number.isFinite(c.skew_ppm) ? c.skew_ppm : 0) * 1e-6;
  const ref = Number.isFinite(c.ref_s) && c.ref_s > 0 ? c.ref_s - baseSec : 0;
  return (t) => ref + (t - offset - ref) / (1 + k);
}

/** Index of the first entry of a non-decreasing array that is >= t (a.length when none is). */
export function lowerBound(a: ArrayLike<number>, t: number): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (a[mid]! < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Running maximum of the capture's packet times (files written from several interfaces are not
 * strictly in time order), so scroll sync can binary-search it. Built once per loaded capture:
 * a filter result only indexes into it, so a new filter costs no pass over all packets.
 */
export function runningMax(times: Float64Array): Float64Array {
  const out = new Float64Array(times.length);
  let max = -Infinity;
  for (let i = 0; i < times.length; i++) {
    const t = times[i]!;
    if (t > max) max = t;
    out[i] = max;
  }
  return out;
}

/** One pane's rows on the common timeline: `map` must be non-decreasing (a clock correction is). */
export interface ViewTimeline {
  max: Float64Array;
  /** Capture rows passing the filter, ascending; null = all rows. */
  rows: Uint32Array | null;
  map: (t: number) => number;
}

export function viewLength(v: ViewTimeline): number {
  return v.rows ? v.rows.length : v.max.length;
}

/** Common-timeline time of view row `i`; non-decreasing in i because the rows are ascending. */
export function viewTimeAt(v: ViewTimeline, i: number): number {
  return v.map(v.max[v.rows ? v.rows[i]! : i]!);
}

/** First view row whose time is >= t (O(log n), nothing allocated). */
export function viewLowerBound(v: ViewTimeline, t: number): number {
  let lo = 0;
  let hi = viewLength(v);
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (viewTimeAt(v, mid) < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
