// The two-host analysis: align both captures, find the flow under test, label checkpoints,
// follow each packet hop by hop and say where the path breaks. Pure and deterministic.

import type { Packet } from '../protocols/packet.ts';
import type {
  AnalysisResult, AnalyzeOptions, CaptureInput, CaptureKey, CaptureSummary, Checkpoint, CheckpointLabel,
  ClockEstimate, FlowInfo, Hop, HopStage, Lineage, Role,
} from './types.ts';
import { parseFlowSpec } from './flow-spec.ts';
import { dirAt, ifaceNameOf, kindAt, outerAt, preparePair, resolveDirections, sideOf, tcAt, type Rec, type Side } from './prepare.ts';
import { collectFlow, emptyFlow, flowAgain, l4Proto, newFlowFields, SigIndex, tupleDir, type Inner, type InnerList, type Tuple } from './inner.ts';
import { ClockStream, driftPerSecond, fitClock, uncertaintyAt, type ClockFit, type ClockPair } from './clock.ts';
import { AssocRoom, associateDecap, associateEncap, isData, pairCarriers, type CarrierOf, type CarrierPairs, type PairMap } from './carriers.ts';
import { diagnose, type Facts } from './diagnose.ts';
import { refineByTunnel } from './tunnels/index.ts';
import { decideRoles } from './roles.ts';
import { isBackgroundNoise } from './noise.ts';
import { proseData } from '../util/shell.ts';

function isSynOnly(p: Packet): boolean {
  return p.tcp !== undefined && p.tcp.flags.includes('S') && !p.tcp.flags.includes('.');
}

function isAttempt(p: Packet): boolean {
  if (p.tcp !== undefined) return isSynOnly(p);
  if (p.icmp !== undefined) return p.icmp.type === 8 || p.icmp.type === 128;
  return p.udp !== undefined;
}

function tupleOf(p: Packet): Tuple {
  const t: Tuple = { proto: l4Proto(p), src: p.src!, dst: p.dst! };
  if (p.sport !== undefined && p.icmp === undefined) t.sport = p.sport;
  if (p.dport !== undefined && p.icmp === undefined) t.dport = p.dport;
  return t;
}

function reverse(t: Tuple): Tuple {
  const r: Tuple = { proto: t.proto, src: t.dst, dst: t.src };
  if (t.dport !== undefined) r.sport = t.dport;
  if (t.sport !== undefined) r.dport = t.sport;
  return r;
}

/** Finds the flow under test: the first connection attempt through the tunnel (or matching the user's selector). */
function findFlow(a: Side, b: Side, spec: ReturnType<typeof parseFlowSpec> | null): { tuple: Tuple; from: CaptureKey } | null {
  const specMatch = (p: Packet): 0 | 1 | -1 => {
    if (spec === null) return 1;
    if (p.src === undefined || p.dst === undefined) return 0;
    if (spec.proto !== 'any' && l4Proto(p) !== spec.proto) return 0;
    const ok = (src: string, sport: number | undefined, dst: string, dport: number | undefined): boolean =>
      dst === spec.dst && (spec.dport === undefined || dport === spec.dport) &&
      (spec.src === undefined || src === spec.src) && (spec.sport === undefined || sport === spec.sport);
    if (ok(p.src, p.sport, p.dst, p.dport)) return 1;
    if (ok(p.dst, p.dport, p.src, p.sport)) return -1;
    return 0;
  };
  const inner = (r: Rec): boolean => r.outer === null && r.p.src !== undefined && r.p.dst !== undefined &&
    (r.p.tcp !== undefined || r.p.udp !== undefined || r.p.icmp !== undefined);
  const passes: Array<{ s: Side; pred: (r: Rec) => boolean }> = [
    { s: a, pred: (r) => r.kind === 'tunnel' && r.dir !== 'in' && isAttempt(r.p) },
    { s: a, pred: (r) => r.kind === 'tunnel' && r.dir !== 'in' },
    { s: b, pred: (r) => r.kind === 'tunnel' && r.dir !== 'out' && isAttempt(r.p) },
    // No tunnel traffic at all: a connection attempt that went elsewhere (routing on A).
    { s: a, pred: (r) => r.dir !== 'in' && isAttempt(r.p) && (r.p.tcp !== undefined || r.p.icmp !== undefined || spec !== null) },
    { s: b, pred: (r) => r.kind === 'tunnel' },
  ];
  for (const { s, pred } of passes) {
    for (const r of s.recs) {
      if (!inner(r) || !pred(r)) continue;
      const m = specMatch(r.p);
      if (m === 0) continue;
      // Host housekeeping (link-local, multicast, ND/MLD, DHCP, mDNS, DNS…) is never the test unless the user names it.
      if (spec === null && isBackgroundNoise(r.p)) continue;
      const t = tupleOf(r.p);
      return { tuple: m === 1 ? t : reverse(t), from: s.key };
    }
  }
  return null;
}

function detectRole(self: Side, other: Side): Role {
  const sendsInit = self.hs.some((r) => r.dir === 'out' && r.wgType === 1);
  const getsInit = self.hs.some((r) => r.dir === 'in' && r.wgType === 1);
  if (sendsInit && !getsInit) return 'initiator';
  if (getsInit && !sendsInit) return 'responder';
  const oSends = other.hs.some((r) => r.dir === 'out' && r.wgType === 1);
  if (oSends && !sendsInit) return 'responder';
  if (self.outer.length > 0 || self.recs.some((r) => r.kind === 'tunnel')) return self.key === 'A' ? 'initiator' : 'responder';
  return 'unknown';
}

function summarize(s: Side, role: Role): CaptureSummary {
  return {
    file: s.input.file ?? null,
    name: s.input.name,
    packets: s.input.packets.length,
    role,
    interfaces: [...s.ifaces.values()].map((f) => ({ name: f.name, kind: f.kind })),
  };
}

function endpoint(p: Packet): string {
  return p.sport !== undefined && p.icmp === undefined ? `${p.src}:${p.sport}` : `${p.src}`;
}
function endpointDst(p: Packet): string {
  return p.dport !== undefined && p.icmp === undefined ? `${p.dst}:${p.dport}` : `${p.dst}`;
}

/** What changed between two sightings of the same packet. */
export function transformBetween(x: Packet, y: Packet, carrier: boolean, reply = false): string | null {
  const parts: string[] = [];
  const sx = endpoint(x), sy = endpoint(y), dx = endpointDst(x), dy = endpointDst(y);
  // On the way back a NAT undoes itself: the reply's destination changes where the request's source did.
  if (sx !== sy) parts.push(`${carrier ? 'NAT' : reply ? 'un-DNAT' : 'SNAT'} ${sx} → ${sy}`);
  if (dx !== dy) parts.push(`${carrier ? 'NAT' : reply ? 'un-SNAT' : 'DNAT'} ${dx} → ${dy}`);
  if (x.origin !== 'text' && y.origin !== 'text' && x.ip !== undefined && y.ip !== undefined) {
    if (x.ip.ttl !== y.ip.ttl && x.ip.ttl > 0 && y.ip.ttl > 0) parts.push(`TTL ${x.ip.ttl} → ${y.ip.ttl}`);
    if (x.ip.len !== y.ip.len) parts.push(`length ${x.ip.len} → ${y.ip.len}`);
  }
  if (x.tcp?.mss !== undefined && y.tcp?.mss !== undefined && x.tcp.mss !== y.tcp.mss) parts.push(`MSS ${x.tcp.mss} → ${y.tcp.mss}`);
  return parts.length > 0 ? parts.join('; ') : null;
}

function dirOf(r: Rec): 'in' | 'out' | null { return r.dir; }

/**
 * Analyses capture `a` (the host that opens the connection, Endpoint A) against capture `b`
 * (the host that receives it, Host β). When the files were given the other way round, the
 * analysis runs with the roles swapped and reports in terms of the files as given.
 */
export function analyze(a: CaptureInput, b: CaptureInput, opts: AnalyzeOptions = {}): AnalysisResult {
  if (opts.keepGivenRoles === true) return analyzeOriented(a, b, opts);
  const roles = decideRoles(a, b);
  if (roles.swap) {
    const o = opts.clockOverride;
    const swapped: AnalyzeOptions = { ...opts };
    // Host evidence belongs to the host, not to the position its file was given in.
    if (opts.evidence !== undefined) {
      swapped.evidence = {};
      if (opts.evidence.B !== undefined) swapped.evidence.A = opts.evidence.B;
      if (opts.evidence.A !== undefined) swapped.evidence.B = opts.evidence.A;
    }
    if (o !== undefined) {
      const k = 1 + (o.skew_ppm ?? 0) * 1e-6;
      swapped.clockOverride = { offset_s: -o.offset_s / k, skew_ppm: (1 / k - 1) * 1e6 };
    }
    return flipResult(analyzeOriented(b, a, swapped), roles.reason);
  }
  const r = analyzeOriented(a, b, opts);
  if (roles.conflict) {
    r.findings.push({
      severity: 'warning', checkpoint: null, host: 'A', class: 'none', rule: 'roles-unclear',
      title: 'The captures disagree about which host started the connection',
      detail: `Some packets make ${proseData(a.name)} the initiating host, others ${proseData(b.name)}; the analysis keeps the order given (first file = initiating host A). If the verdict blames the wrong side, check that both captures are of the same test.`,
      evidence: [], next_steps: ['Capture both ends during one test connection, started from the host given first.'],
    });
  }
  return r;
}

function flipKey(k: CaptureKey): CaptureKey { return k === 'A' ? 'B' : 'A'; }

/** The same result seen from the files' side after analysing with roles swapped. */
function flipResult(r: AnalysisResult, reason: string | null): AnalysisResult {
  const c = r.clock;
  const k = 1 + c.skew_ppm * 1e-6;
  const clock: ClockEstimate = {
    ...c, offset_s: -c.offset_s / k, skew_ppm: (1 / k - 1) * 1e6, ref_s: c.ref_s + c.offset_s,
    pairs_a_to_b: c.pairs_b_to_a, pairs_b_to_a: c.pairs_a_to_b,
  };
  // Hosts stay roles (A initiates, B responds), as the titles and next steps say; only the capture keys follow the files.
  const findings = r.findings.map((f) => ({ ...f, evidence: f.evidence.map((e) => ({ ...e, capture: flipKey(e.capture) })) }));
  findings.push({
    severity: 'info', checkpoint: null, host: 'B', class: 'none', rule: 'roles-swapped',
    title: 'The second capture is the initiating host: roles were swapped (A-labels are in capture B)',
    ...(reason !== null ? { detail: `Roles come from the packets, not from the order given: ${reason}.` } : {}),
    evidence: [], next_steps: ['Pass the initiating host\'s capture first to keep labels and files aligned.'],
  });
  return {
    ...r,
    captures: { A: { ...r.captures.B, role_swapped: true }, B: { ...r.captures.A, role_swapped: true } },
    clock,
    checkpoints: r.checkpoints.map((x) => ({ ...x, capture: flipKey(x.capture) })),
    lineage: r.lineage.map((l) => ({ ...l, hops: l.hops.map((h) => ({ ...h, capture: flipKey(h.capture) })) })),
    findings,
  };
}

/** One sighting on a packet's path while chains are followed (made into lineage hops at the end). */
interface ChainHop { side: Side; r: Rec; stage: HopStage; carrier: boolean }

/** One direction through the tunnel: where the inner packet enters and leaves, how its carrier is found, and the stage names. */
interface Crossing { from: Side; to: Side; enc: CarrierOf; pairs: PairMap; far: SigIndex; dec: CarrierOf; stages: readonly [HopStage, HopStage, HopStage, HopStage] }

function analyzeOriented(a: CaptureInput, b: CaptureInput, opts: AnalyzeOptions): AnalysisResult {
  const spec = opts.flow !== undefined ? parseFlowSpec(opts.flow) : null;
  const [pa, pb] = preparePair(a, b);
  let baseSec = pa.baseSec;
  if (!Number.isFinite(baseSec)) baseSec = pb.baseSec;
  if (!Number.isFinite(baseSec)) baseSec = 0;
  const A = sideOf('A', a, pa);
  // Each side keeps its own whole-second base so that clocks days apart (text without a date)
  // do not cost double precision; D is the difference of the bases, added back when reporting.
  let baseSecB = pb.baseSec;
  if (!Number.isFinite(baseSecB)) baseSecB = baseSec;
  const D = baseSecB - baseSec;
  const B = sideOf('B', b, pb);
  resolveDirections(A, B);

  const flowFound = findFlow(A, B, spec);
  const T: Tuple | null = flowFound?.tuple ?? (spec !== null ? { proto: spec.proto, src: spec.src ?? '', dst: spec.dst, ...(spec.sport !== undefined ? { sport: spec.sport } : {}), ...(spec.dport !== undefined ? { dport: spec.dport } : {}) } : null);

  const fA: InnerList = T !== null ? collectFlow(A, T) : emptyFlow(A);
  const fB: InnerList = T !== null ? collectFlow(B, T) : emptyFlow(B);
  // Files without direction flags (pcapng from dumpcap, plain pcap): the flow's orientation and the
  // host's role say it (A sends requests into its tunnel; B receives them there and forwards them).
  // (On the tunnel interface A's requests leave and B's arrive; elsewhere requests leave.)
  const orient = (list: InnerList, onA: boolean): void => list.orient(!onA);
  orient(fA, true);
  orient(fB, false);

  // ---- Clock: provisional from inner pairs (signatures need no clock), then carriers, then all.
  // A few thousand inner pairs pin the provisional clock; carriers give the bulk of the pairs.
  const INNER_PAIRS = 4000;
  // Before any clock: each sender's first tunnel packets, matched by signature among the receiver's
  // (the earliest unmatched one), read from the flows' columns.
  const innerPairs = (): ClockPair[] => {
    const out: ClockPair[] = [];
    const way = (from: InnerList, to: InnerList, fwd: boolean, aToB: boolean): void => {
      const sent = from.firstOnKind(fwd, true, INNER_PAIRS);
      const gotL = to.firstOnKind(fwd, true, INNER_PAIRS * 2);
      const got = new SigIndex(gotL);
      const sig = from.fc.sig, ri = from.fc.ri, idx = sent.idx, tS = from.fc.side.tm.t, tR = to.fc.side.tm.t;
      for (let j = 0; j < sent.length; j++) {
        const k = idx === null ? j : idx[j]!;
        const y = got.take(sig[k]!, -Infinity);
        if (y === null) continue;
        const ts = tS[ri[k]!]!, tr = tR[y.ri]!;
        out.push(aToB ? { a: ts, b: tr, aToB } : { a: tr, b: ts, aToB });
      }
      // Only this list's members were taken (marked used): the rest of the flows need no clearing.
      gotL.clearUsed();
    };
    way(fA, fB, true, true);
    way(fB, fA, false, false);
    return out;
  };
  const refT = A.recs.length > 0 ? A.tm.t[0]! : 0;
  const ip0 = innerPairs();
  let theta0 = 0;
  let tolEarly = 0.05;
  let window = 1.0;
  if (opts.clockOverride !== undefined) {
    theta0 = opts.clockOverride.offset_s - D; tolEarly = 0.005; window = 0.5;
  } else if (ip0.length > 0) {
    const f0 = fitClock(ip0, refT);
    theta0 = f0.offset;
    tolEarly = 0.003 + (f0.uncertainty ?? 0.05);
    window = 0.5;
  } else {
    // No inner pair: line up the first handshake initiation (or first carrier) seen on both ends.
    const ai = A.hs.find((r) => r.dir === 'out' && r.wgType === 1) ?? A.outer.find((r) => r.dir === 'out');
    const bi = (ai !== undefined ? B.outer.find((r) => r.dir === 'in' && r.wgType === ai.wgType && r.olen === ai.olen) : undefined) ?? B.outer.find((r) => r.dir === 'in');
    if (ai !== undefined && bi !== undefined) theta0 = bi.t - ai.t;
    tolEarly = 0.25; window = 2;
  }
  // One working room for carrier pairing and the four associations after it (the largest use's size, not the sum).
  const room = new AssocRoom();
  const cp: CarrierPairs = pairCarriers(A, B, theta0, tolEarly, window, room);
  // Carrier pairs in A-time order, straight into the fit (no object or column per pair); inner pairs
  // join only when carriers are few, since the carriers are the tighter bounds.
  // (cp.aToB.to is by position in A's carrier list, which is in record order.)
  const pairTo = cp.aToB.to;
  const stream = new ClockStream(refT);
  const nPaired = new Int32Array(2);
  streamPairs(stream, pairTo, A, B, nPaired);
  const nab = nPaired[0]!, nba = nPaired[1]!;
  const manyCarriers = nab + nba >= 200;
  const pairs: ClockPair[] = manyCarriers ? [] : [...ip0];
  if (!manyCarriers) {
    for (const aToB of [true, false]) {
      for (let k = 0; k < pairTo.length; k++) {
        const bi = pairTo[k]!;
        if (bi < 0) continue;
        const ai = A.outer.index(k);
        if ((dirAt(A.tm, ai) === 'out') === aToB) pairs.push({ a: A.tm.t[ai]!, b: B.tm.t[bi]!, aToB });
      }
    }
  }
  const nPairs = manyCarriers ? nab + nba : pairs.length;
  let clock: ClockEstimate;
  let clockFit: ClockFit | null = null;
  // B's clock → A's: θ(tB) = o + s·(tB − o − refT), B − A at B's time tB.
  let thO: number, thS: number;
  const refAbs = baseSec + refT;
  if (opts.clockOverride !== undefined) {
    const o = opts.clockOverride.offset_s - D;
    const s = (opts.clockOverride.skew_ppm ?? 0) * 1e-6;
    clock = { offset_s: opts.clockOverride.offset_s, skew_ppm: s * 1e6, uncertainty_s: 0, pairs: nPairs, ref_s: refAbs, method: 'override', pairs_a_to_b: 0, pairs_b_to_a: 0 };
    thO = o; thS = s;
  } else {
    const f = manyCarriers ? stream.fit() : fitClock(pairs, refT);
    clock = {
      offset_s: f.offset + D, skew_ppm: f.skew * 1e6, uncertainty_s: f.uncertainty ?? Infinity, pairs: nPairs, ref_s: refAbs,
      method: f.method, pairs_a_to_b: f.nAB, pairs_b_to_a: f.nBA, skew_observable: f.skewObservable,
    };
    if (f.from <= f.to) { clock.pairs_from_s = f.from; clock.pairs_to_s = f.to; clock.drift_per_s = driftPerSecond(f); }
    clockFit = f;
    thO = f.offset; thS = f.skew;
  }
  const tmB = B.tm;
  // B's times read on A's clock from here on (computed where read: no second column).
  tmB.clk = { o: thO, s: thS, ref: refT };
  // The packet farthest from the pairs (either capture, on A's clock) bounds how far the estimate reaches.
  let uFar = clock.uncertainty_s;
  if (clockFit !== null && clockFit.from <= clockFit.to) {
    const nB = tmB.t.length;
    const ends = [A.tm.t[0], A.tm.t[A.tm.t.length - 1], nB > 0 ? tcAt(tmB, 0) : undefined, nB > 0 ? tcAt(tmB, nB - 1) : undefined].filter((x): x is number => x !== undefined);
    for (const t of ends) uFar = Math.max(uFar, uncertaintyAt(clockFit, t - refT));
    clock.uncertainty_max_s = uFar;
  }
  // Matching tolerance: the band's width, widened to the far end's when the drift could not be observed.
  const uMatch = clockFit !== null && !clockFit.skewObservable && Number.isFinite(uFar) ? Math.min(uFar, 0.05) : clock.uncertainty_s;
  const tol = Math.max(0.0005, (Number.isFinite(uMatch) ? uMatch : 0.005) * 2 + 0.0002);

  // ---- Per-packet lineage (computed for the whole flow; only the first ones are reported).
  // Splits by direction read from the columns (a bulk flow has hundreds of thousands of members).
  // On the tunnel interface, either way, in one pass per flow; `off`: A's first request elsewhere.
  // (Their byte per member in the pairing's room, idle until the associations below.)
  const { fwd: aTunOut, rev: aTunIn, off: offTunnelA } = fA.ways(true, 'out', false, room.bytes(fA.length));
  const { fwd: bTunIn, rev: bTunOut } = fB.ways(true, 'in', false, room.bytes(fB.length));
  const encA = associateEncap(A, aTunOut, room);
  const decB = associateDecap(B, bTunIn, room);
  const encB = associateEncap(B, bTunOut, room);
  const decA = associateDecap(A, aTunIn, room);
  room.release();
  const bTunInIdx = new SigIndex(bTunIn);
  const aTunInIdx = new SigIndex(aTunIn);

  // B4 and its forwarded copy (B5) fix the flow's tuple on B's far side (after NAT).
  let b4: Inner | null = null;
  const a1: Inner | null = aTunOut.at(0) ?? null;
  if (a1 !== null) b4 = bTunInIdx.take(a1.sig, a1.rec.tc, Infinity, false, tol);
  if (b4 === null) b4 = bTunIn.at(0) ?? null;
  let lanTuple: Tuple | null = null;
  let fB2: InnerList = emptyFlow(B);
  let b5: Inner | null = null;
  let hub = false;
  if (b4 !== null) {
    const found = findForwarded(B, b4, T!, fB);
    if (found !== null) { lanTuple = found.tuple; fB2 = found.flow; b5 = found.b5; hub = found.b5.rec.kind === 'tunnel'; orient(fB2, false); }
  }
  // B's LAN side: off the tunnel interface (requests not arriving, replies not leaving), or for a
  // hub the tunnel interface again, requests leaving and replies arriving.
  const { fwd: bLanOut, rev: bLanIn } = fB2.ways(hub, 'out', hub);
  const bLanOutIdx = new SigIndex(bLanOut);
  const bTunOutIdx = new SigIndex(bTunOut);

  const hop = (side: Side, r: Rec, stage: HopStage): Hop => ({
    capture: side.key, frame: r.p.frame, checkpoint: null, stage, iface: ifaceNameOf(r.p), transform: null, latency_s: null,
  });
  // One packet through the tunnel, either way: the inner packet going in on one host, the carrier it
  // left in, that carrier arriving on the other host (paired, else the decrypted copy's carrier), and
  // the decrypted copy. Returns the decrypted copy (null when the far host never showed it).
  const AtoB: Crossing = { from: A, to: B, enc: encA, pairs: cp.aToB, far: bTunInIdx, dec: decB, stages: ['tunnel-out', 'encrypted-out', 'encrypted-in', 'decrypted-in'] };
  const BtoA: Crossing = { from: B, to: A, enc: encB, pairs: cp.bToA, far: aTunInIdx, dec: decA, stages: ['reply-tunnel-out', 'encrypted-reply-out', 'encrypted-reply-in', 'decrypted-reply-in'] };
  const cross = (chain: ChainHop[], tun: Inner, k: Crossing): Inner | null => {
    chain.push({ side: k.from, r: tun.rec, stage: k.stages[0], carrier: false });
    const c1 = k.enc.get(tun);
    if (c1 !== undefined) chain.push({ side: k.from, r: c1, stage: k.stages[1], carrier: true });
    let c2 = c1 !== undefined ? k.pairs.get(c1.i) : undefined;
    const y = k.far.take(tun.sig, tun.rec.tc, Infinity, true, tol);
    if (c2 === undefined && y !== null) c2 = k.dec.get(y);
    if (c2 !== undefined) chain.push({ side: k.to, r: c2, stage: k.stages[2], carrier: true });
    if (y !== null) chain.push({ side: k.to, r: y.rec, stage: k.stages[3], carrier: false });
    return y;
  };
  const reqHops: ChainHop[][] = [];
  // Chains are built for the first packets only (the report lists at most maxLineage of them);
  // whole-flow questions (MTU) use sequence coverage instead.
  const maxL = opts.maxLineage ?? 200;
  for (const x of aTunOut) {
    if (reqHops.length >= maxL) break;
    const chain: ChainHop[] = [];
    const y = cross(chain, x, AtoB);
    if (y !== null) {
      const z = bLanOutIdx.take(y.sig, y.rec.tc, Infinity, true, 1e-6);
      if (z !== null) chain.push({ side: B, r: z.rec, stage: 'forwarded-out', carrier: false });
    }
    reqHops.push(chain);
  }
  // Replies start where the server's answer enters B (or where B itself answers: point-to-point).
  // (One list and its side and stage, not an object per start: a bulk flow's replies are many.)
  const replyStarts = bLanIn.length > 0 ? bLanIn : bTunOut.length > 0 ? bTunOut : aTunIn;
  const startSide = bLanIn.length > 0 || bTunOut.length > 0 ? B : A;
  const startStage: HopStage = bLanIn.length > 0 ? 'reply-in' : bTunOut.length > 0 ? 'reply-tunnel-out' : 'decrypted-reply-in';
  // A reply that B puts into the tunnel for a request it never forwarded: B answered itself.
  const p2p = b5 === null && b4 !== null && bLanIn.length === 0 && bTunOut.some((x) => !x.icmpErr && x.rec.tc >= b4!.rec.tc);
  const repHops: ChainHop[][] = [];
  for (let si = 0; si < replyStarts.length; si++) {
    if (repHops.length >= maxL) break;
    const st = { side: startSide, x: replyStarts.at(si)!, stage: startStage };
    const chain: ChainHop[] = [];
    if (st.side === A) { chain.push({ side: A, r: st.x.rec, stage: 'decrypted-reply-in', carrier: false }); repHops.push(chain); continue; }
    let tun: Inner | null = st.x;
    if (st.stage === 'reply-in') {
      chain.push({ side: B, r: st.x.rec, stage: 'reply-in', carrier: false });
      tun = bTunOutIdx.take(st.x.sig, st.x.rec.tc, Infinity, true, 1e-6);
    }
    if (tun !== null) {
      if (st.stage !== 'reply-in') tun.used = true;
      cross(chain, tun, BtoA);
    }
    repHops.push(chain);
  }
  // Only up to where the capped chains reached, so the cap does not invent unmatched replies.
  const lastReplyTc = repHops.length >= maxL ? (repHops[repHops.length - 1]?.[0]?.r.tc ?? null) : null;
  // Replies B put into the tunnel without a LAN sighting (B answered itself, or it came in elsewhere).
  if (replyStarts.length > 0 && startStage === 'reply-in') {
    for (let ti = 0; ti < bTunOut.length && repHops.length < 2 * maxL; ti++) {
      const tun = bTunOut.at(ti)!;
      if (lastReplyTc !== null && tun.rec.tc > lastReplyTc) break;
      if (bTunOutIdx.isTaken(ti)) continue;
      const chain: ChainHop[] = [];
      cross(chain, tun, BtoA);
      repHops.push(chain);
    }
  }
  // Replies A saw that B never showed (B's capture missed them): list them alone.
  for (const x of aTunIn) {
    if (lastReplyTc !== null && x.rec.tc > lastReplyTc) break;
    if (x.used) continue;
    if (replyStarts.length > 0 && startSide === A) break;
    repHops.push([{ side: A, r: x.rec, stage: 'decrypted-reply-in', carrier: false }]);
  }

  // ---- Checkpoints.
  const labels = new Map<CheckpointLabel, { side: Side; r: Rec }>();
  const set = (l: CheckpointLabel, side: Side, r: Rec | null | undefined): void => {
    if (r !== null && r !== undefined && !labels.has(l)) labels.set(l, { side, r });
  };
  const firstReq = reqHops[0];
  if (firstReq !== undefined) {
    for (const h of firstReq) {
      const l: Record<string, CheckpointLabel> = h.side === A ? { 'tunnel-out': 'A1', 'encrypted-out': 'A4' } : { 'encrypted-in': 'B3', 'decrypted-in': 'B4', 'forwarded-out': 'B5' };
      const lab = l[h.stage];
      if (lab !== undefined) set(lab, h.side, h.r);
    }
  }
  if (!labels.has('B4') && b4 !== null) set('B4', B, b4.rec);
  if (!labels.has('B5') && b5 !== null) set('B5', B, b5.rec);
  const firstRep = repHops.find((c) => c.length > 0 && c[0]!.side === B) ?? repHops[0];
  if (firstRep !== undefined) {
    for (const h of firstRep) {
      const lab = ({ 'reply-in': 'B6', 'reply-tunnel-out': 'B7', 'encrypted-reply-out': 'B8', 'encrypted-reply-in': 'A5', 'decrypted-reply-in': 'A6' } as Record<string, CheckpointLabel>)[h.stage];
      if (lab !== undefined) set(lab, h.side, h.r);
    }
  }
  // Handshake (or IKE exchange) around the first request.
  const t0 = labels.get('A1')?.r.tc ?? (fA.find((x) => x.fwd)?.tc ?? (A.recs.at(0)?.tc ?? 0));
  // IKE messages (not NAT-T keepalives) play the handshake's part for IPsec.
  const isIke = (r: Rec): boolean => r.outer === 'ike' && r.p.nattKeepalive !== true && r.olen !== 1;
  const isInit = (r: Rec): boolean => (r.outer === 'wg' && r.wgType === 1) || isIke(r);
  const isResp = (r: Rec): boolean => (r.outer === 'wg' && r.wgType === 2) || isIke(r);
  const a2 = A.hs.find((r) => r.dir === 'out' && isInit(r) && r.tc >= t0 - 2);
  set('A2', A, a2);
  let b1: Rec | undefined = a2 !== undefined ? cp.aToB.get(a2.i) : undefined;
  if (b1 === undefined) b1 = B.hs.find((r) => r.dir === 'in' && isInit(r) && r.tc >= t0 - 2);
  set('B1', B, b1);
  if (b1 !== undefined) {
    const sender = b1.p.wg?.sender;
    const b2 = B.hs.find((r) => r.dir === 'out' && isResp(r) && r.tc >= b1!.tc && (sender === undefined || r.p.wg?.receiver === undefined || r.p.wg.receiver === sender));
    set('B2', B, b2);
  }
  if (a2 !== undefined) {
    const sender = a2.p.wg?.sender;
    const a3 = A.hs.find((r) => r.dir === 'in' && isResp(r) && r.tc >= a2.tc && (sender === undefined || r.p.wg?.receiver === undefined || r.p.wg.receiver === sender));
    set('A3', A, a3);
  } else if (labels.has('B2')) {
    set('A3', A, cp.bToA.get(labels.get('B2')!.r.i));
  }
  // Without an inner A1 (not captured or misrouted), the first data carriers still mark A4/B3.
  if (!labels.has('A4')) {
    const after = Math.max(labels.get('A3')?.r.tc ?? -Infinity, labels.get('A1')?.r.tc ?? -Infinity, t0 - 2);
    const c = A.outer.find((r) => r.dir === 'out' && isData(r) && r.tc >= after);
    if (c !== undefined && labels.has('A1') === false && aTunOut.length === 0 && fA.length === 0) set('A4', A, c);
    else if (c !== undefined && labels.has('A1')) set('A4', A, c);
  }
  if (!labels.has('B3')) {
    const a4 = labels.get('A4')?.r;
    let c = a4 !== undefined ? cp.aToB.get(a4.i) : undefined;
    if (c === undefined && labels.has('B4')) c = decB.get(bTunIn.find((x) => x.rec.is(labels.get('B4')!.r)));
    if (c === undefined && a4 !== undefined) {
      const ref = a4;
      c = B.outer.find((r) => r.dir === 'in' && isData(r) && r.tc >= ref.tc - tol && r.olen === ref.olen);
    }
    set('B3', B, c);
  }
  if (!labels.has('B8') && labels.has('B7')) {
    const b7 = labels.get('B7')!.r;
    set('B8', B, B.outer.find((r) => r.dir === 'out' && isData(r) && r.tc >= b7.tc));
  }
  if (!labels.has('A5')) {
    const b8 = labels.get('B8')?.r;
    let c = b8 !== undefined ? cp.bToA.get(b8.i) : undefined;
    // Without B8 a carrier arriving at A need not belong to the flow (an ICMP error, other traffic).
    if (c === undefined && labels.has('A4') && (b8 !== undefined || B.recs.length === 0)) {
      const ref = labels.get('A4')!.r;
      c = A.outer.find((r) => r.dir === 'in' && isData(r) && r.tc > ref.tc);
    }
    set('A5', A, c);
  }

  const checkpoints: Checkpoint[] = [];
  for (const [label, { side, r }] of labels) {
    checkpoints.push({ label, capture: side.key, frame: r.p.frame, iface: ifaceNameOf(r.p), dir: dirOf(r), t_s: r.tc - refT });
  }
  checkpoints.sort((x, y) => x.label.localeCompare(y.label));
  const labelOf = (r: Rec): CheckpointLabel | null => {
    for (const [label, x] of labels) if (x.r.is(r)) return label;
    return null;
  };

  // ---- Lineage output.
  const toLineage = (chain: ChainHop[], direction: 'request' | 'reply'): Lineage => {
    const hops: Hop[] = [];
    for (let i = 0; i < chain.length; i++) {
      const h = chain[i]!;
      const o = hop(h.side, h.r, h.stage);
      o.checkpoint = labelOf(h.r);
      if (i > 0) {
        const prev = chain[i - 1]!;
        o.latency_s = h.r.tc - prev.r.tc;
        if (prev.carrier === h.carrier) o.transform = transformBetween(prev.r.p, h.r.p, h.carrier, direction === 'reply');
      }
      hops.push(o);
    }
    const last: HopStage = direction === 'request' ? 'forwarded-out' : 'decrypted-reply-in';
    const l: Lineage = { direction, summary: chain[0]!.r.p.summary, hops };
    const end = chain[chain.length - 1]!.stage;
    const expectEnd = direction === 'request' ? (lanTuple !== null ? last : 'decrypted-in') : last;
    if (end !== expectEnd) l.lost_after = end;
    return l;
  };
  const allChains: Array<{ t: number; chain: ChainHop[]; dir: 'request' | 'reply' }> = [];
  for (const c of reqHops) if (c.length > 0) allChains.push({ t: c[0]!.r.tc, chain: c, dir: 'request' });
  for (const c of repHops) if (c.length > 0) allChains.push({ t: c[0]!.r.tc, chain: c, dir: 'reply' });
  allChains.sort((x, y) => x.t - y.t);
  const lineage = allChains.slice(0, maxL).map((c) => toLineage(c.chain, c.dir));

  const flow: FlowInfo | null = T === null ? null : {
    proto: T.proto, src: T.src === '' ? null : T.src, dst: T.dst, sport: T.sport ?? null, dport: T.dport ?? null,
  };
  const roleA = detectRole(A, B);
  const roleB = detectRole(B, A);

  const facts: Facts = {
    A, B, T, lanTuple, fA, fB, fB2, labels, cp, clock, tol, p2p, hub,
    aTunOut, aTunIn, bTunIn, bTunOut, bLanOut, bLanIn, reqChains: reqHops, repChains: repHops,
    flowFrom: flowFound?.from ?? null, roles: { A: roleA, B: roleB }, options: opts, offTunnelA,
  };
  const { findings, verdict, variant } = diagnose(facts);
  return refineByTunnel({
    captures: { A: summarize(A, roleA), B: summarize(B, roleB) },
    clock,
    flow,
    checkpoints,
    lineage,
    lineage_total: Math.max(allChains.length, aTunOut.length + replyStarts.length),
    findings,
    verdict,
    variant,
  }, a, b);
}

// Two whole-capture passes of the analysis as functions of their own: a loop compiled while it runs
// then returns, where inside analyzeOriented it would leave the compiled code at the first statement
// after it that had not run before (and recompile that large function).

/** Carrier pairs (A's carrier k → B record pairTo[k]) into the clock fit in A's order; n: [A→B, B→A] pairs. */
function streamPairs(stream: ClockStream, pairTo: Int32Array, A: Side, B: Side, n: Int32Array): void {
  let nab = 0, nba = 0;
  for (let k = 0; k < pairTo.length; k++) {
    const bi = pairTo[k]!;
    if (bi < 0) continue;
    const ai = A.outer.index(k);
    const out = dirAt(A.tm, ai) === 'out';
    if (out) nab++; else nba++;
    stream.add(A.tm.t[ai]!, B.tm.t[bi]!, out);
  }
  n[0] = nab; n[1] = nba;
}

/**
 * The copy of B4 that B sends on (B5): same signature, later, on another interface or leaving the
 * tunnel interface again (hub-and-spoke); its addresses give the flow's tuple behind B's NAT.
 */
function findForwarded(B: Side, b4: Inner, T: Tuple, fB: InnerList): { tuple: Tuple; flow: InnerList; b5: Inner } | null {
  const q = b4.rec.p;
  // Each header read once (packets may be views that build the object on every read); the
  // second after B4 holds a bulk transfer's tens of thousands of packets.
  const qt = q.tcp, qi = q.icmp, qu = q.udp;
  const t4 = b4.rec.t;
  const cands = new Map<string, Tuple>();
  const addCand = (t: Tuple): void => {
    const k = `${t.proto}|${t.src}|${t.sport}|${t.dst}|${t.dport}`;
    if (!cands.has(k)) cands.set(k, t);
  };
  // Read from the side's arrays (no record object per packet), the packet only for candidates.
  const tm = B.tm, perm = tm.perm;
  const ff = tm.packets.flowFieldsAt !== undefined ? newFlowFields() : null;
  // A TCP or UDP packet like B4, from its numbers (read from the list's columns or from the packet):
  // same length (and flags), and the same timestamps or a port in common.
  const like4 = (tcp: boolean, len: number, flags: string, tsval: number | undefined, tsecr: number | undefined, sport: number | undefined, dport: number | undefined): boolean => (tcp
    ? qt !== undefined && len === qt.len && flags === qt.flags &&
      (qt.tsval !== undefined ? tsval === qt.tsval && tsecr === qt.tsecr : sport === q.sport || dport === q.dport)
    : qu !== undefined && len === qu.len && (sport === q.sport || dport === q.dport));
  for (let i = b4.ri + 1; i < B.recs.length; i++) {
    if (tm.t[i]! - t4 > 1) break;
    const d = dirAt(tm, i);
    if (outerAt(tm, i) !== null || d === 'in') continue;
    if (kindAt(tm, i) === 'tunnel' && d !== 'out') continue;
    const j = perm === null ? i : perm[i]!;
    // A TCP or UDP packet the list offers as numbers: tested on them, the packet built only for a match.
    if (ff !== null && tm.packets.flowFieldsAt!(j, ff)) {
      if (like4(ff.tcp, ff.len, ff.flags, ff.ts ? ff.tsval : undefined, ff.ts ? ff.tsecr : undefined, ff.sport, ff.dport)) addCand(tupleOf(tm.packets.at(j)!));
      continue;
    }
    const p = tm.packets.at(j)!;
    if (p.src === undefined || p.dst === undefined) continue;
    let like = false;
    const pt = p.tcp;
    if (pt !== undefined) like = like4(true, pt.len, pt.flags, pt.tsval, pt.tsecr, p.sport, p.dport);
    else if (qi !== undefined && p.icmp !== undefined) {
      const pi = p.icmp;
      like = pi.type === qi.type && pi.code === qi.code && pi.seq === qi.seq;
    } else {
      const pu = p.udp;
      like = pu !== undefined && like4(false, pu.len, '', undefined, undefined, p.sport, p.dport);
    }
    if (like) addCand(tupleOf(p));
  }
  for (const t of cands.values()) {
    const same = tupleDir(b4.rec.p, t) === 1 && t.src === T.src && t.dst === T.dst;
    // B's flow under test is known: it is copied rather than collected again (fB is collectFlow(B, T)),
    // and a pass for another flow need not read its packets again.
    const flow = same ? flowAgain(fB) : collectFlow(B, t, fB);
    const b5 = flow.find((x) => x.fwd && x.sig === b4.sig && x.ri !== b4.ri && x.rec.t >= b4.rec.t &&
      (x.rec.kind !== 'tunnel' || x.rec.dir === 'out'));
    if (b5 !== undefined) return { tuple: t, flow, b5 };
  }
  return null;
}
