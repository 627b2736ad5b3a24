// The analysis stage's memory savings, each checked against what it replaced on real captures
// (the WireGuard lab of TANDEM_LAB_DIR, the checked-in strongSwan captures, the four input forms):
// preparations lent to the analysis come back unchanged (flags copied only before a change, B's
// times put on A's clock where they are read); carrier pairing and associations in one working
// room pair as with arrays of their own; flows keep at most twice their members' room and make the
// carrier column on first use; the role scan that skips rows read in bulk decides as the packet scan does.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadCompact } from '../../../shared/ingest/load-capture.ts';
import { parseIpLink } from '../../../shared/capture-file/links.ts';
import { openCapture } from '../../../bin/cli/io.ts';
import { analyze, type CaptureInput } from '../../../shared/analysis/index.ts';
import { decideRoles } from '../../../shared/analysis/roles.ts';
import { preparePair, RECORD_BITS, resolveDirections, sideOf, tcAt, type PreparedCapture, type Side } from '../../../shared/analysis/prepare.ts';
import { collectFlow, type InnerList, type Tuple } from '../../../shared/analysis/inner.ts';
import { AssocRoom, associateDecap, associateEncap, pairCarriers } from '../../../shared/analysis/carriers.ts';
import { atOnly, innerTuples, IPSEC_CAPTURES as IPSEC, LAB_FORMS } from './helpers.ts';
import { synthBulk } from './synth.ts';

const LAB = process.env.TANDEM_LAB_DIR ?? '/tmp/tandem-lab';
const wg = existsSync(LAB) ? readdirSync(LAB).filter((s) => existsSync(join(LAB, s, 'A.pcapng')) && existsSync(join(LAB, s, 'B.txt'))).sort().map((s) => join(LAB, s)) : [];
const ipsec = existsSync(IPSEC) ? readdirSync(IPSEC).filter((s) => existsSync(join(IPSEC, s, 'A.pcapng'))).sort().map((s) => join(IPSEC, s)) : [];
const skip = wg.length > 0 ? false : `no lab captures in ${LAB} (set TANDEM_LAB_DIR)`;
if (skip) console.log(`# skip stage-memory (WireGuard lab): ${skip}`);
/** Every WireGuard scenario, and a few strongSwan ones (ESP, IKE only, NAT-T). */
const sets = [...wg, ...ipsec.filter((d) => /healthy|esp-drop-a-to-b|ike-blocked|natt/.test(d))];

async function load(path: string, links?: string): Promise<CaptureInput> {
  const linkNames = links !== undefined && existsSync(links) ? parseIpLink(readFileSync(links, 'utf8')) : undefined;
  const r = await loadCompact(openCapture(path), { summary: false, linkNames });
  return { name: path, file: path, packets: r.packets, interfaces: r.interfaces, ...(linkNames !== undefined ? { links: [...linkNames.values()] } : {}) };
}

/** Both captures of a set in one of the lab's input forms. */
async function pair(d: string, form: (typeof LAB_FORMS)[number]): Promise<[CaptureInput, CaptureInput]> {
  const a = await load(join(d, form.a), form.links ? join(d, 'A-links.txt') : undefined);
  const b = await load(join(d, form.b), form.links ? join(d, 'B-links.txt') : undefined);
  return [a, b];
}

/** A preparation's arrays as plain copies (to compare after an analysis). */
const snapshot = (p: PreparedCapture): unknown[] => [Array.from(p.t), Array.from(p.bits), Array.from(p.olen), Array.from(p.outerIdx), p.perm === null ? null : Array.from(p.perm)];

test('an analysis leaves the preparations it is given as they were, and analyses them again alike', { skip }, async () => {
  let n = 0, copied = 0, lent = 0;
  for (const d of sets) {
    for (const form of LAB_FORMS) {
      const [a, b] = await pair(d, form);
      const [pa, pb] = preparePair(a, b);
      const before = [snapshot(pa), snapshot(pb)];
      const withPrep = (c: CaptureInput, p: PreparedCapture): CaptureInput => ({ ...c, prepared: p });
      const once = JSON.stringify(analyze(withPrep(a, pa), withPrep(b, pb)));
      assert.deepEqual([snapshot(pa), snapshot(pb)], before, `${d} ${form.title}: preparations unchanged`);
      assert.equal(JSON.stringify(analyze(withPrep(a, pa), withPrep(b, pb))), once, `${d} ${form.title}: a second time`);
      // Without the preparations (the app's worker): the same result.
      assert.equal(JSON.stringify(analyze(a, b)), once, `${d} ${form.title}: prepared here`);
      // Given the other way round, the roles swap back and the preparations still stay as they were.
      analyze(withPrep(b, pb), withPrep(a, pa));
      assert.deepEqual([snapshot(pa), snapshot(pb)], before, `${d} ${form.title}: unchanged, given B first`);
      for (const p of [pa, pb]) if (p.hasDirInfo || p.local.length > 0) lent++; else copied++;
      n++;
    }
  }
  // Both ways of keeping the flags ran: lent (direction flags or own addresses) and copied at once.
  assert.ok(n >= 20 && lent > 0 && copied > 0, `${n} pairs, ${lent} lent, ${copied} copied at once`);
});

test('a side\'s flags stay the preparation\'s until one changes; orient then copies them first', { skip }, async () => {
  let kept = 0, copiedByOrient = 0;
  for (const d of sets) {
    for (const form of LAB_FORMS) {
      const [a, b] = await pair(d, form);
      const [pa, pb] = preparePair(a, b);
      const A = sideOf('A', a, pa), B = sideOf('B', b, pb);
      for (const [s, p] of [[A, pa], [B, pb]] as const) {
        assert.equal(s.tm.lentBits, p.hasDirInfo || p.local.length > 0, `${d} ${form.title} ${s.key}: lent when no direction is to be resolved`);
        assert.equal(s.tm.bits === p.bits, s.tm.lentBits);
      }
      const bitsA = Array.from(pa.bits), bitsB = Array.from(pb.bits);
      resolveDirections(A, B);
      for (const s of [A, B]) {
        for (const t of innerTuples(s).slice(0, 6)) {
          const f = collectFlow(s, t);
          // Which members have no direction yet: orient changes exactly those (and copies first when lent).
          const undirected: number[] = [];
          f.forEachAt((_fwd, ri) => { if ((s.tm.bits[ri]! & RECORD_BITS.dirMask) === 0) undirected.push(ri); });
          const wasLent = s.tm.lentBits, held = s.tm.bits;
          f.orient(s.key === 'B');
          if (undirected.length === 0) { assert.equal(s.tm.bits, held, 'no change, no copy'); if (wasLent) kept++; continue; }
          if (wasLent) { assert.notEqual(s.tm.bits, held, 'copied before the change'); assert.equal(s.tm.lentBits, false); copiedByOrient++; }
          for (const ri of undirected) assert.notEqual(s.tm.bits[ri]! & RECORD_BITS.dirMask, 0, `${d} ${form.title} ${s.key}: record ${ri} oriented`);
        }
      }
      assert.deepEqual([Array.from(pa.bits), Array.from(pb.bits)], [bitsA, bitsB], `${d} ${form.title}: the preparation's flags unchanged`);
    }
  }
  assert.ok(kept > 0, `flows that changed nothing kept the lent flags (${kept})`);
  assert.ok(copiedByOrient > 0, `flows with undirected members on lent flags copied them (${copiedByOrient})`);
});

test('B\'s records read on A\'s clock once the clock is known; A\'s read their own times', { skip }, async () => {
  const [a, b] = await pair(wg.find((d) => d.endsWith('healthy')) ?? wg[0]!, LAB_FORMS[1]);
  const [pa, pb] = preparePair(a, b);
  const A = sideOf('A', a, pa), B = sideOf('B', b, pb);
  assert.ok(B.recs.length > 10 && A.recs.length > 10);
  for (let i = 0; i < B.recs.length; i++) assert.equal(B.rec(i).tc, pb.t[i], 'before the fit: B\'s own times');
  // An offset and a skew as a fit gives them (B − A at B's time), then the records and flow members read them.
  const o = 2.75, s = 37e-6, ref = A.tm.t[0]!;
  B.tm.clk = { o, s, ref };
  const fB = collectFlow(B, innerTuples(B)[0]!);
  for (let i = 0; i < B.recs.length; i++) {
    const t = pb.t[i]!;
    assert.equal(B.rec(i).tc, t - (o + s * (t - o - ref)));
    assert.equal(tcAt(B.tm, i), B.rec(i).tc);
  }
  for (const x of fB) assert.equal(x.tc, B.rec(x.ri).tc);
  for (let i = 0; i < A.recs.length; i++) assert.equal(A.rec(i).tc, pa.t[i]);
  assert.equal(B.tm.t, pb.t, 'no second column of times');
});

/** Every carrier's partner each way and every inner's carrier, as record positions (-1: none). */
function pairingOf(a: CaptureInput, b: CaptureInput, room: AssocRoom | undefined, tuple: Tuple | null): { ab: number[]; ba: number[]; car: number[][] } {
  const [pa, pb] = preparePair(a, b);
  const A = sideOf('A', a, pa), B = sideOf('B', b, pb);
  resolveDirections(A, B);
  const cp = pairCarriers(A, B, 0, 0.05, 1, room);
  const car: number[][] = [];
  if (tuple !== null) {
    const fA = collectFlow(A, tuple), fB = collectFlow(B, tuple);
    const parts = (f: InnerList, fwd: boolean): InnerList => f.filterAt((x) => x === fwd);
    associateEncap(A, parts(fA, true), room);
    associateDecap(B, parts(fB, true), room);
    associateEncap(B, parts(fB, false), room);
    associateDecap(A, parts(fA, false), room);
    room?.release();
    for (const f of [fA, fB]) car.push(Array.from({ length: f.length }, (_, k) => f.fc.carAt(k)));
  }
  return { ab: Array.from(cp.aToB.to), ba: Array.from(cp.bToA.to), car };
}

test('carrier pairing and the associations after it in one working room pair as with arrays of their own', { skip }, async () => {
  let linked = 0;
  for (const d of sets) {
    for (const form of LAB_FORMS) {
      const [a, b] = await pair(d, form);
      const flow = analyze(a, b).flow;
      const tuple: Tuple | null = flow === null || flow.dst === null ? null : { proto: flow.proto, src: flow.src ?? '', dst: flow.dst, ...(flow.sport !== null ? { sport: flow.sport } : {}), ...(flow.dport !== null ? { dport: flow.dport } : {}) };
      const own = pairingOf(a, b, undefined, tuple);
      assert.deepEqual(pairingOf(a, b, new AssocRoom(), tuple), own, `${d} ${form.title}`);
      linked += own.ab.filter((x) => x >= 0).length;
    }
  }
  // Neighbours: identifiers on both ends (keyed merge), sizes only (ordered by time), and one of each.
  for (const seed of [3, 8]) {
    const bin = synthBulk({ rounds: 500, period: 0.001, wgFields: true, offset: 0, skewPpm: 0, seed });
    const txt = synthBulk({ rounds: 500, period: 0.001, wgFields: false, offset: 0, skewPpm: 0, seed });
    const t: Tuple = { proto: 'tcp', src: '10.0.0.1', dst: '192.168.200.22', sport: 45734, dport: 80 };
    for (const [x, y] of [[bin.a, bin.b], [txt.a, txt.b], [bin.a, txt.b], [txt.a, bin.b]] as const) {
      const a: CaptureInput = { name: 'a', packets: x }, b: CaptureInput = { name: 'b', packets: y };
      const own = pairingOf(a, b, undefined, t);
      assert.ok(own.ab.filter((v) => v >= 0).length > 400, `seed ${seed}: carriers paired`);
      assert.deepEqual(pairingOf(a, b, new AssocRoom(), t), own, `seed ${seed}`);
    }
  }
  assert.ok(linked > 0, 'lab carriers were paired');
});

test('the working room hands out zeroed values until it is full, then arrays of their own', () => {
  const room = new AssocRoom();
  room.reserve(10);
  const x = room.ints(4), y = room.u32(4);
  x.fill(7); y.fill(9);
  assert.deepEqual([...x], [7, 7, 7, 7]);
  assert.deepEqual([...y], [9, 9, 9, 9], 'apart from the first');
  const z = room.ints(4);
  assert.deepEqual([...z], [0, 0, 0, 0], 'past the room: a fresh array');
  z.fill(5);
  assert.deepEqual([...x, ...y], [7, 7, 7, 7, 9, 9, 9, 9], 'the others untouched');
  room.reset();
  assert.deepEqual([...room.ints(6)], [0, 0, 0, 0, 0, 0], 'reused, zeroed again');
});

test('a flow keeps at most twice its members\' room, exact when it is a small share, and no carrier column until associated', { skip }, async () => {
  let small = 0, kept = 0;
  for (const d of sets) {
    const [a, b] = await pair(d, LAB_FORMS[1]);
    const [pa, pb] = preparePair(a, b);
    const sides: Side[] = [sideOf('A', a, pa), sideOf('B', b, pb)];
    resolveDirections(sides[0]!, sides[1]!);
    for (const s of sides) {
      for (const t of innerTuples(s, true)) {
        const f = collectFlow(s, t);
        const room = f.fc.ri.length, n = f.length;
        assert.ok(room <= Math.max(1, 2 * n) || room === 1, `${d} ${s.key}: ${room} slots for ${n} members`);
        for (const c of [f.fc.sig, f.fc.rs, f.fc.plen, f.fc.ilen, f.fc.fl]) assert.equal(c.length, room, 'columns alike');
        if (2 * n <= s.recs.length - s.outer.length) { assert.equal(room, n, 'a small share: cut to size'); small++; } else kept++;
        for (let k = 0; k < n; k++) assert.equal(f.fc.carAt(k), -1);
        assert.equal(f.fc.car.length, Math.max(1, n), 'made on first use, one per member');
        assert.ok(f.fc.car.every((v) => v === -1));
      }
    }
  }
  assert.ok(small > 0 && kept > 0, `${small} cut, ${kept} kept`);
});

test('the role scan decides alike whether the list reads its rows in bulk or only as packets', { skip }, async () => {
  let n = 0, swaps = 0;
  for (const d of sets) {
    for (const form of LAB_FORMS) {
      const [a, b] = await pair(d, form);
      const plain = (c: CaptureInput): CaptureInput => ({ ...c, packets: atOnly(c.packets) });
      for (const [x, y] of [[a, b], [b, a]] as const) {
        const want = decideRoles(plain(x), plain(y));
        assert.deepEqual(decideRoles(x, y), want, `${d} ${form.title}${x === b ? ' (B first)' : ''}`);
        if (want.swap) swaps++;
        n++;
      }
    }
  }
  assert.ok(n >= 40 && swaps > 0, `${n} decisions, ${swaps} swaps`);
});
