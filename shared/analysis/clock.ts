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

/**
 * Lower (lower=true) or upper hull of points given one at a time in x order: the chain holds the
 * coordinates of what is on it so far, and a point object is made only for what stays at the end
 * (most of a bulk session's pairs are popped again). Same arithmetic as cross().
 */
class HullChain {
  // The chain as a stack in typed arrays (grown by doubling): a million pushes and pops of plain
  // doubles, without an array's bookkeeping per step.
  private xs = new Float64Array(64);
  private ys = new Float64Array(64);
  private n = 0;
  constructor(private readonly lower: boolean) {}
  push(px: number, py: number): void {
    const xs = this.xs, ys = this.ys, lower = this.lower;
    let n = this.n;
    while (n >= 2) {
      const ox = xs[n - 2]!, oy = ys[n - 2]!, qx = xs[n - 1]!, qy = ys[n - 1]!;
      const c = (qx - ox) * (py - oy) - (qy - oy) * (px - ox);
      if (lower ? c <= 0 : c >= 0) n--; else break;
    }
    if (n === xs.length) this.grow();
    this.xs[n] = px; this.ys[n] = py;
    this.n = n + 1;
  }
  private grow(): void {
    const x = new Float64Array(this.xs.length * 2), y = new Float64Array(this.ys.length * 2);
    x.set(this.xs); y.set(this.ys);
    this.xs = x; this.ys = y;
  }
  points(): Pt[] {
    const out: Pt[] = [];
    for (let i = 0; i < this.n; i++) out.push({ x: this.xs[i]!, y: this.ys[i]! });
    return out;
  }
}

/**
 * The fit over pairs given one at a time, each direction's in A-time order (the engine's bulk
 * path): neither a column nor an object per pair, only the two hulls as they stand.
 */
export class ClockStream {
  private readonly up = new HullChain(true);
  private readonly lo = new HullChain(false);
  private nAB = 0;
  private nBA = 0;
  private abFirst = 0;
  private abLast = 0;
  private baFirst = 0;
  private baLast = 0;
  constructor(private readonly ref: number) {}
  /** One pair: A's and B's time of a packet that went from A to B (aToB) or back. */
  add(a: number, b: number, aToB: boolean): void {
    if (aToB) {
      if (this.nAB++ === 0) this.abFirst = a;
      this.abLast = a;
      this.up.push(a - this.ref, b - a);
    } else {
      if (this.nBA++ === 0) this.baFirst = a;
      this.baLast = a;
      this.lo.push(a - this.ref, b - a);
    }
  }
  fit(): ClockFit {
    const { nAB, nBA, ref } = this;
    const xmax = Math.max(nAB > 0 ? this.abLast : -Infinity, nBA > 0 ? this.baLast : -Infinity) - ref;
    const xmin = Math.min(nAB > 0 ? this.abFirst : Infinity, nBA > 0 ? this.baFirst : Infinity) - ref;
    const spanU = nAB > 1 ? this.abLast - this.abFirst : 0, spanL = nBA > 1 ? this.baLast - this.baFirst : 0;
    return fitHulls(this.up.points(), this.lo.points(), nAB, nBA, spanU, spanL, xmin, xmax);
  }
}

/** The same fit over columns already sorted by A time. */
export function fitClockColumns(c: ClockColumns, ref: number): ClockFit {
  const s = new ClockStream(ref);
  for (let i = 0; i < c.abA.length; i++) s.add(c.abA[i]!, c.abB[i]!, true);
  for (let i = 0; i < c.baA.length; i++) s.add(c.baA[i]!, c.baB[i]!, false);
  return s.fit();
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
