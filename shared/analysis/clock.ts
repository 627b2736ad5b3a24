// Clock alignment from matched packet pairs.
//
// Model: B's clock reads θ(x) = offset + skew·x ahead of A's, x = A time − reference.
// A packet sent by A at a and received by B at b gives b − a = delay + θ ≥ θ: an upper bound.
// A packet sent by B at b and received by A at a gives b − a = θ − delay ≤ θ: a lower bound.
// The true θ line runs between the lower envelope of the first cloud and the upper envelope of
// the second (Moon/Skelly/Towsley use the first envelope alone; with both directions the band
// between them also bounds the offset). We pick the line with the largest vertical clearance
// from both envelopes; the clearance is the uncertainty. Only the convex hulls matter, so the
// work is linear after the pairs are sorted by time.

export interface ClockPair {
  /** A's timestamp of the packet (send or receive), seconds on the engine's time base. */
  a: number;
  /** B's timestamp of the same packet. */
  b: number;
  /** true: A sent it, B received it. */
  aToB: boolean;
}

export interface ClockFit {
  offset: number;
  skew: number;
  uncertainty: number | null;
  method: 'envelope' | 'one-way' | 'none';
  nAB: number;
  nBA: number;
  /** False when the pairs span too little time (or are too few) to show a skew: it was taken as 0. */
  skewObservable: boolean;
  /** The stretch the pairs cover, on the x axis (A time − ref); empty (from > to) without pairs. */
  from: number;
  to: number;
}

/**
 * Drift assumed when the pairs cannot show the skew: free-running quartz clocks of ordinary hosts
 * stay within about ±50 ppm of each other (NTP-disciplined ones far closer), so it is a fair bound.
 */
export const ASSUMED_MAX_SKEW = 50e-6;

/**
 * How fast the offset's uncertainty grows away from the pairs' stretch, in seconds per second:
 * the assumed drift bound when the skew was not observable; otherwise the slope error the band
 * allows over the stretch (two band widths across the span).
 */
export function driftPerSecond(f: Pick<ClockFit, 'skewObservable' | 'uncertainty' | 'from' | 'to'>): number {
  if (!f.skewObservable) return ASSUMED_MAX_SKEW;
  const span = f.to - f.from;
  const u = f.uncertainty ?? 0;
  return span > 0 ? Math.min(ASSUMED_MAX_SKEW, (2 * u) / span) : ASSUMED_MAX_SKEW;
}

/** The offset's uncertainty at x (A time − ref): the band's half-width, growing with distance from the pairs. */
export function uncertaintyAt(f: Pick<ClockFit, 'skewObservable' | 'uncertainty' | 'from' | 'to'>, x: number): number {
  const u = f.uncertainty ?? Infinity;
  if (f.from > f.to) return u;
  const away = x < f.from ? f.from - x : x > f.to ? x - f.to : 0;
  return u + away * driftPerSecond(f);
}

interface Pt { x: number; y: number }

function cross(o: Pt, a: Pt, b: Pt): number {
  return (a.x - o.x) * (b.y - o.y) - (a.y - o.y) * (b.x - o.x);
}

/** Lower hull (lower=true) or upper hull of points sorted by x. */
function hull(pts: Pt[], lower: boolean): Pt[] {
  const h: Pt[] = [];
  for (const p of pts) {
    while (h.length >= 2) {
      const c = cross(h[h.length - 2]!, h[h.length - 1]!, p);
      if (lower ? c <= 0 : c >= 0) h.pop(); else break;
    }
    h.push(p);
  }
  return h;
}

function minOver(h: Pt[], s: number): number {
  let m = Infinity;
  for (const p of h) { const v = p.y - s * p.x; if (v < m) m = v; }
  return m;
}

function maxOver(h: Pt[], s: number): number {
  let m = -Infinity;
  for (const p of h) { const v = p.y - s * p.x; if (v > m) m = v; }
  return m;
}

function edgeSlopes(h: Pt[], lo: number, hi: number, out: number[]): void {
  for (let i = 1; i < h.length; i++) {
    const dx = h[i]!.x - h[i - 1]!.x;
    if (dx <= 0) continue;
    const s = (h[i]!.y - h[i - 1]!.y) / dx;
    if (s > lo && s < hi) out.push(s);
  }
}

const MAX_SKEW = 500e-6;
/** Below this time span the slope is not observable against typical jitter: fit the offset only. */
const MIN_SPAN_FOR_SKEW = 2;
const MIN_PAIRS_FOR_SKEW = 8;

/** Pairs as columns: A's time of each packet and B's, per direction, in A-time order. */
export interface ClockColumns { abA: Float64Array; abB: Float64Array; baA: Float64Array; baB: Float64Array }

/** Hull of columnar points (x = a − ref, y = b − a) sorted by x, without one object per point. */
function hullCols(a: Float64Array, b: Float64Array, ref: number, lower: boolean): Pt[] {
  // The chain as positions into the columns (most of a bulk session's pairs are popped again):
  // a point object is made only for what stays on the hull. Same arithmetic as cross().
  const h = new Int32Array(a.length);
  let n = 0;
  for (let i = 0; i < a.length; i++) {
    const px = a[i]! - ref, py = b[i]! - a[i]!;
    while (n >= 2) {
      const o = h[n - 2]!, q = h[n - 1]!;
      const ox = a[o]! - ref, oy = b[o]! - a[o]!, qx = a[q]! - ref, qy = b[q]! - a[q]!;
      const c = (qx - ox) * (py - oy) - (qy - oy) * (px - ox);
      if (lower ? c <= 0 : c >= 0) n--; else break;
    }
    h[n++] = i;
  }
  const out: Pt[] = [];
  for (let k = 0; k < n; k++) { const i = h[k]!; out.push({ x: a[i]! - ref, y: b[i]! - a[i]! }); }
  return out;
}

/** The same fit over columns already sorted by A time (the engine's bulk path). */
export function fitClockColumns(c: ClockColumns, ref: number): ClockFit {
  const up = hullCols(c.abA, c.abB, ref, true);
  const lo = hullCols(c.baA, c.baB, ref, false);
  const span = (x: Float64Array): number => (x.length > 1 ? x[x.length - 1]! - x[0]! : 0);
  const xmax = Math.max(c.abA.length ? c.abA[c.abA.length - 1]! : -Infinity, c.baA.length ? c.baA[c.baA.length - 1]! : -Infinity) - ref;
  const xmin = Math.min(c.abA.length ? c.abA[0]! : Infinity, c.baA.length ? c.baA[0]! : Infinity) - ref;
  return fitHulls(up, lo, c.abA.length, c.baA.length, span(c.abA), span(c.baA), xmin, xmax);
}

export function fitClock(pairs: ClockPair[], ref: number): ClockFit {
  const up: Pt[] = [];
  const lo: Pt[] = [];
  for (const q of pairs) {
    if (q.aToB) up.push({ x: q.a - ref, y: q.b - q.a });
    else lo.push({ x: q.a - ref, y: q.b - q.a });
  }
  up.sort((p, q) => p.x - q.x);
  lo.sort((p, q) => p.x - q.x);
  const span = (pts: Pt[]): number => (pts.length > 1 ? pts[pts.length - 1]!.x - pts[0]!.x : 0);
  let xmin = Infinity, xmax = -Infinity;
  for (const p of up) { if (p.x < xmin) xmin = p.x; if (p.x > xmax) xmax = p.x; }
  for (const p of lo) { if (p.x < xmin) xmin = p.x; if (p.x > xmax) xmax = p.x; }
  return fitHulls(hull(up, true), hull(lo, false), up.length, lo.length, span(up), span(lo), xmin, xmax);
}

function fitHulls(hu: Pt[], hl: Pt[], nAB: number, nBA: number, spanU: number, spanL: number, from: number, to: number): ClockFit {
  const spanAll = to - from;
  if (nAB + nBA === 0) return { offset: 0, skew: 0, uncertainty: null, method: 'none', nAB, nBA, skewObservable: false, from: Infinity, to: -Infinity };
  // The slope is only observable when each bounding cloud itself spans some time.
  const spanOk = nAB > 0 && nBA > 0
    ? spanU >= MIN_SPAN_FOR_SKEW && spanL >= MIN_SPAN_FOR_SKEW
    : spanAll >= MIN_SPAN_FOR_SKEW;
  const fitSkew = spanOk && (nAB === 0 || nAB >= MIN_PAIRS_FOR_SKEW) && (nBA === 0 || nBA >= MIN_PAIRS_FOR_SKEW);

  if (nAB > 0 && nBA > 0) {
    // Clearance c(s) = (min_U − max_L)/2 is concave in s; its maximum sits at an edge slope of a hull.
    const cands = [0];
    if (fitSkew) {
      cands.push(-MAX_SKEW, MAX_SKEW);
      edgeSlopes(hu, -MAX_SKEW, MAX_SKEW, cands);
      edgeSlopes(hl, -MAX_SKEW, MAX_SKEW, cands);
    }
    let best = -Infinity, bs = 0, bo = 0;
    for (const s of cands) {
      const u = minOver(hu, s);
      const l = maxOver(hl, s);
      const c = (u - l) / 2;
      if (c > best + 1e-15 || (Math.abs(c - best) <= 1e-15 && Math.abs(s) < Math.abs(bs))) { best = c; bs = s; bo = (u + l) / 2; }
    }
    // Clocks rarely drift by more than the data can show: keep skew 0 when it fits (almost) as well.
    if (bs !== 0) {
      const u0 = minOver(hu, 0), l0 = maxOver(hl, 0);
      const c0 = (u0 - l0) / 2;
      if (c0 >= 0 && c0 >= best - Math.max(0.5e-6, 0.2 * best)) return { offset: (u0 + l0) / 2, skew: 0, uncertainty: c0, method: 'envelope', nAB, nBA, skewObservable: fitSkew, from, to };
    }
    return { offset: bo, skew: bs, uncertainty: Math.abs(best), method: 'envelope', nAB, nBA, skewObservable: fitSkew, from, to };
  }

  // One direction only: follow the envelope of that cloud (slope of the hull edge over the middle
  // of the span) and assume the smallest delay was zero; the offset is then a bound, not a value.
  const pts = nAB > 0 ? hu : hl;
  let s = 0;
  if (fitSkew && pts.length >= 2) {
    const mid = (pts[0]!.x + pts[pts.length - 1]!.x) / 2;
    for (let i = 1; i < pts.length; i++) {
      if (pts[i]!.x >= mid) {
        const dx = pts[i]!.x - pts[i - 1]!.x;
        if (dx > 0) s = (pts[i]!.y - pts[i - 1]!.y) / dx;
        break;
      }
    }
    if (s > MAX_SKEW || s < -MAX_SKEW) s = 0;
  }
  const off = nAB > 0 ? minOver(pts, s) : maxOver(pts, s);
  return { offset: off, skew: s, uncertainty: null, method: 'one-way', nAB, nBA, skewObservable: fitSkew, from, to };
}
