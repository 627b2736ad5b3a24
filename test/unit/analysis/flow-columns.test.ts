// The engine's column structures on the real lab captures (TANDEM_LAB_DIR), each against a plain
// reference written the slow, obvious way: collectFlow's skip of an already-known flow, the
// signature table and index (SigTable, SigIndex.take), the column filters of InnerList, the
// inner → carrier association (associateEncap/Decap) with its shortcuts, and the clock fit's bulk path.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { CaptureInput } from '../../../shared/analysis/index.ts';
import { dirAt, preparePair, resolveDirections, sideOf, type Side } from '../../../shared/analysis/prepare.ts';
import { collectFlow, SigIndex, SigTable, sortAscending, type InnerList, type Tuple } from '../../../shared/analysis/inner.ts';
import { associateDecap, associateEncap, isData } from '../../../shared/analysis/carriers.ts';
import { moduleOfOuter } from '../../../shared/analysis/tunnels/index.ts';
import { parseText, innerTuples, labSets, labSides } from './helpers.ts';
import { fitClock, fitClockColumns, type ClockPair } from '../../../shared/analysis/clock.ts';

const { dir, scenarios, skip } = labSets('flow-columns');
/** Both sides of a lab scenario, prepared as the engine prepares them. */
const sides = (name: string, form: 'any' | 'pcapng' | 'txt'): Promise<[Side, Side]> => labSides(dir, name, form);

/** A flow's members as plain rows (every column an Inner reads), for deep comparison. */
function rows(l: InnerList): unknown[] {
  return [...l].map((x) => [x.ri, x.fwd, x.sig, x.relSeq, x.plen, x.ilen, x.icmpErr, x.carI]);
}

test('collectFlow with a known flow to skip gives what a full pass gives, for every tuple on every lab host', { skip }, async () => {
  let compared = 0, skipped = 0;
  // Column-held packets (pcap) and the text reader's objects, whose ICMP errors may quote less.
  for (const [name, form] of scenarios.flatMap((s) => [[s, 'any'], [s, 'txt']] as const)) {
    for (const side of await sides(name, form)) {
      const tuples = innerTuples(side);
      // Neighbours too: the same addresses with ports left open, and the same tuple as 'any' protocol.
      for (const t of tuples.slice()) {
        tuples.push({ proto: t.proto, src: t.src, dst: t.dst });
        tuples.push({ ...t, proto: 'any' });
      }
      const knowns = tuples.slice(0, 12).map((t) => collectFlow(side, t)).filter((k) => k.length > 0);
      for (const t of tuples) {
        const full = rows(collectFlow(side, t));
        for (const k of knowns) {
          const sameAddr = (k.fc.tuple.src === t.src && k.fc.tuple.dst === t.dst) || (k.fc.tuple.src === t.dst && k.fc.tuple.dst === t.src);
          if (!sameAddr) skipped++;
          assert.deepEqual(rows(collectFlow(side, t, k)), full, `${name} ${form} ${side.key} ${JSON.stringify(t)} knowing ${JSON.stringify(k.fc.tuple)}`);
          compared++;
        }
      }
    }
  }
  // The skip must have been exercised, not only the fallback.
  assert.ok(compared > 1000 && skipped > 500, `compared ${compared}, with a skip ${skipped}`);
});

test('an ICMP error about the new flow inside a known flow is still found (the skip reads ICMP members)', { skip }, async () => {
  // path-reject-icmp: the router's ICMP errors quote the flow; a known flow that holds them (the
  // errors go to the flow's source, so a flow between the same two hosts under 'any') must not hide them.
  let seen = 0;
  for (const [name, form] of scenarios.flatMap((s) => [[s, 'any'], [s, 'txt']] as const)) {
    for (const side of await sides(name, form)) {
      for (const t of innerTuples(side).filter((x) => x.proto === 'tcp' || x.proto === 'udp')) {
        const full = collectFlow(side, t);
        const errs = [...full].filter((x) => x.icmpErr);
        if (errs.length === 0) continue;
        for (const e of errs) {
          const p = e.rec.p;
          const known = collectFlow(side, { proto: 'icmp', src: p.src!, dst: p.dst! });
          assert.ok(known.length > 0);
          assert.deepEqual(rows(collectFlow(side, t, known)), rows(full), `${name} ${side.key} ${JSON.stringify(t)}`);
          seen++;
        }
      }
    }
  }
  assert.ok(seen > 0, 'no lab capture held an ICMP error about a flow');
});

test('SigTable keeps neighbouring, colliding and repeated signatures apart', { skip }, async () => {
  // Real flow columns with their signatures replaced: runs of consecutive integers, values near
  // 2^53, colliding keys and repeats.
  const [A] = await sides(scenarios[0]!, 'pcapng');
  const flow = collectFlow(A, innerTuples(A)[0]!);
  assert.ok(flow.length > 0);
  const sigs = flow.fc.sig;
  const saved = sigs.slice();
  try {
    // Keys a step apart take neighbouring slots; keys 2^16 apart share one slot (tables this small
    // have far fewer slots), so every lookup walks one long probe chain.
    for (const [base, step] of [[0, 1], [1e6, 1], [2 ** 52, 1], [2 ** 53 - 4096, 1], [0, 65536], [2 ** 52, 65536]] as const) {
      for (let j = 0; j < flow.length; j++) sigs[flow.pos(j)] = base + (j % Math.max(1, flow.length >> 1)) * step;
      const table = new SigTable(flow.length, flow);
      for (let j = flow.length - 1; j >= 0; j--) table.set(sigs[flow.pos(j)]!, j);
      for (let j = 0; j < flow.length; j++) {
        const s = sigs[flow.pos(j)]!;
        assert.equal(table.get(s), j % Math.max(1, flow.length >> 1), `base ${base} member ${j}`);
      }
      assert.equal(table.get(base + (flow.length + 7) * step), -1);
      // replace() answers what get() answered before (member `half` repeats member 0's signature).
      const half = Math.max(1, flow.length >> 1);
      if (half < flow.length) {
        const s0 = sigs[flow.pos(0)]!;
        assert.equal(table.replace(s0, half), 0);
        assert.equal(table.get(s0), half);
      }
    }
  } finally {
    sigs.set(saved);
  }
});

test('SigTable and SigIndex.take match a linear scan on real flows', { skip }, async () => {
  let queries = 0;
  for (const name of scenarios) {
    const [A, B] = await sides(name, 'pcapng');
    for (const side of [A, B]) {
      for (const t of innerTuples(side).slice(0, 6)) {
        const whole = collectFlow(side, t);
        // The whole flow and subsets of it (the engine indexes subsets: positions go through their index).
        for (const flow of [whole, whole.filter((x) => x.fwd), whole.filter((x) => !x.fwd)]) {
          if (flow.length === 0) continue;
          // The table: every signature maps to the first member with it.
          const table = new SigTable(flow.length, flow);
          for (let j = flow.length - 1; j >= 0; j--) table.set(flow.fc.sig[flow.pos(j)]!, j);
          for (let j = 0; j < flow.length; j++) {
            const s = flow.fc.sig[flow.pos(j)]!;
            let first = 0;
            while (flow.fc.sig[flow.pos(first)] !== s) first++;
            assert.equal(table.get(s), first);
          }
          assert.equal(table.get(2 ** 52 + 12345), -1);
          // take(): the first untaken member with the signature in [t − tol, tBefore], marking it when asked.
          const idx = new SigIndex(flow);
          const taken = new Uint8Array(flow.length);
          const members = [...flow];
          for (let q = 0; q < members.length * 2; q++) {
            const x = members[(q * 7919) % members.length]!;
            const t0 = x.tc + ((q % 5) - 2) * 0.01, tol = (q % 3) * 0.005, before = q % 4 === 0 ? x.tc + 0.02 : Infinity, mark = q % 2 === 0;
            let want = -1;
            for (let j = 0; j < members.length; j++) {
              const y = members[j]!;
              if (taken[j] === 1 || y.sig !== x.sig || y.tc < t0 - tol) continue;
              if (y.tc <= before) want = j;
              break;
            }
            const got = idx.take(x.sig, t0, before, mark, tol);
            assert.equal(got === null ? -1 : members.findIndex((m) => m.k === got.k), want, `${name} query ${q}`);
            if (got !== null && mark) taken[want] = 1;
            queries++;
          }
          for (let j = 0; j < members.length; j++) assert.equal(idx.isTaken(j), taken[j] === 1);
        }
      }
    }
  }
  assert.ok(queries > 1000, `${queries} queries`);
});

test('InnerList column filters (filterAt, withSig) agree with filters over Inner objects', { skip }, async () => {
  for (const name of scenarios) {
    const [A, B] = await sides(name, 'any');
    for (const side of [A, B]) {
      for (const t of innerTuples(side).slice(0, 4)) {
        const flow = collectFlow(side, t);
        const keys = (l: InnerList): number[] => [...l].map((x) => x.k);
        for (const fwd of [true, false]) {
          for (const not of ['in', 'out'] as const) {
            const a = flow.filterAt((f, i) => f === fwd && side.rec(i).kind === 'tunnel' && dirAt(side.tm, i) !== not);
            const b = flow.filter((x) => x.fwd === fwd && x.rec.kind === 'tunnel' && x.rec.dir !== not);
            assert.deepEqual(keys(a), keys(b));
            // On a subset as well (positions through the subset's index).
            assert.deepEqual(keys(b.filterAt((f) => f)), keys(b.filter((x) => x.fwd)));
          }
        }
        const first = flow.at(0);
        if (first !== undefined) assert.deepEqual(keys(flow.withSig(first.sig)), keys(flow.filter((x) => x.sig === first.sig)));
        assert.equal(flow.withSig(undefined).length, 0);
      }
    }
  }
});

test('sortAscending sorts what a full sort sorts: in order, retransmitted, reversed, repeated, empty', () => {
  // A transfer's sequence starts with retransmissions and reordering mixed in, and the worst cases.
  const n = 5000;
  let seed = 7;
  const rnd = (): number => { seed = (Math.imul(seed, 1103515245) + 12345) >>> 0; return seed / 2 ** 32; };
  const inOrder = Array.from({ length: n }, (_, k) => k * 1448);
  const cases: number[][] = [
    [], [5], inOrder,
    inOrder.map((v, k) => (k % 97 === 0 && k > 0 ? v - 1448 * 40 : v)),
    inOrder.map((v) => (rnd() < 0.02 ? Math.floor(rnd() * n) * 1448 : v)),
    [...inOrder].reverse(),
    [4e9, ...inOrder],
    inOrder.map((v) => v % 10),
    Array.from({ length: n }, () => Math.floor(rnd() * 2 ** 32)),
  ];
  for (const c of cases) assert.deepEqual([...sortAscending(Float64Array.from(c))], [...c].sort((x, y) => x - y));
});

/** The association as first written: for each inner, the first unused data carrier in its window whose size fits. */
function referenceAssociate(side: Side, inners: InnerList, after: boolean): number[] {
  const carriers = [...side.outer].filter((r) => r.dir === (after ? 'out' : 'in') && isData(r));
  const used = new Uint8Array(carriers.length);
  const out: number[] = [];
  for (const x of inners) {
    const t = x.rec.t;
    const from = after ? t - 1e-6 : t - 0.25, to = after ? t + 0.25 : t + 1e-6;
    let pick = -1, loose = -1, steps = 0;
    for (let k = 0; k < carriers.length && steps < 256; k++) {
      const c = carriers[k]!;
      if (c.t < from || used[k] === 1) continue;
      if (c.t > to) break;
      steps++;
      const m = c.outer === null ? undefined : moduleOfOuter(c.outer);
      if (m !== undefined && m.innerFits(c.olen, x.ilen)) { pick = k; break; }
      if (loose < 0) loose = k;
    }
    if (pick < 0 && x.ilen > 1500 && loose >= 0) pick = loose;
    if (pick >= 0) used[pick] = 1;
    out.push(pick < 0 ? -1 : carriers[pick]!.i);
  }
  return out;
}

test('associateEncap/Decap pick what a plain scan picks (super-frames, small packets, both directions)', { skip }, async () => {
  let linked = 0;
  for (const name of scenarios) {
    for (const form of ['any', 'pcapng'] as const) {
      const [A, B] = await sides(name, form);
      for (const side of [A, B]) {
        for (const t of innerTuples(side).slice(0, 6)) {
          for (const fwd of [true, false]) {
            for (const after of [true, false]) {
              // A fresh flow each time: association writes its result into the flow's columns.
              const inners = collectFlow(side, t).filter((x) => x.fwd === fwd && x.rec.kind === 'tunnel');
              const want = referenceAssociate(side, inners, after);
              (after ? associateEncap : associateDecap)(side, inners);
              assert.deepEqual([...inners].map((x) => x.carI), want, `${name} ${form} ${side.key} ${JSON.stringify(t)} fwd ${fwd} after ${after}`);
              linked += want.filter((c) => c >= 0).length;
            }
          }
        }
      }
    }
  }
  assert.ok(linked > 100, `${linked} inners linked`);
});

/**
 * tcpdump -i any text of one host: inner TCP on wg0 each way and WireGuard carriers on wlan0, in
 * groups half a second apart: offloaded super-frames (2896 bytes of payload) with two full-size
 * carriers, a super-frame whose only carrier comes after the association window, a small segment
 * with its fitting carrier, and a mid-size one with a larger decoy carrier first.
 */
function offloadText(): string {
  const lines: string[] = [];
  const at = (s: number): string => {
    const h = 12, m = Math.floor(s / 60), sec = s - m * 60;
    return `${h}:${String(m).padStart(2, '0')}:${sec.toFixed(6).padStart(9, '0')}`;
  };
  const carrier = (s: number, dir: 'Out' | 'In', len: number): void => {
    lines.push(dir === 'Out' ? `${at(s)} wlan0 Out IP 192.168.1.11.51821 > 203.0.113.2.51822: UDP, length ${len}`
      : `${at(s)} wlan0 In  IP 203.0.113.2.51822 > 192.168.1.11.51821: UDP, length ${len}`);
  };
  const inner = (s: number, dir: 'Out' | 'In', seq: number, len: number): void => {
    const ends = dir === 'Out' ? '10.0.0.1.40000 > 192.168.200.22.80' : '192.168.200.22.80 > 10.0.0.1.40000';
    lines.push(`${at(s)} wg0   ${dir === 'Out' ? 'Out' : 'In '} IP ${ends}: Flags [.], seq ${seq}:${seq + len}, ack 1, win 502, length ${len}`);
  };
  carrier(0.5, 'Out', 148);
  carrier(0.501, 'In', 92);
  let seq = 1;
  for (let g = 0; g < 40; g++) {
    const t = 1 + g * 0.5;
    for (const dir of ['Out', 'In'] as const) {
      // Outgoing inners precede their carriers; incoming ones follow theirs.
      const c = (dt: number, len: number): void => carrier(dir === 'Out' ? t + dt : t + 0.1 - dt, dir, len);
      const x = (len: number): void => { inner(dir === 'Out' ? t : t + 0.1, dir, seq, len); seq += len; };
      if (g % 4 === 0) { if (dir === 'In') { c(0.0002, 1452); c(0.0001, 1452); x(2896); } else { x(2896); c(0.0001, 1452); c(0.0002, 1452); } }
      if (g % 4 === 1) { if (dir === 'In') { c(0.4, 1452); x(2896); } else { x(2896); c(0.4, 1452); } }
      if (g % 4 === 2) { if (dir === 'In') { c(0.0001, 176); x(100); } else { x(100); c(0.0001, 176); } }
      if (g % 4 === 3) { if (dir === 'In') { c(0.0002, 1452); c(0.0001, 1072); x(1000); } else { x(1000); c(0.00005, 1452); c(0.0001, 1072); } }
    }
  }
  return lines.sort().join('\n') + '\n';
}

test('association with offloaded super-frames: a carrier outside the window is never taken, fitting ones are', async () => {
  const text = offloadText();
  const a: CaptureInput = { name: 'A.txt', file: 'A.txt', packets: parseText(text) };
  const b: CaptureInput = { name: 'B.txt', file: 'B.txt', packets: parseText(text) };
  const [pa, pb] = preparePair(a, b);
  const A = sideOf('A', a, pa);
  resolveDirections(A, sideOf('B', b, pb));
  const T: Tuple = { proto: 'tcp', src: '10.0.0.1', dst: '192.168.200.22', sport: 40000, dport: 80 };
  let fromWindow = 0, none = 0;
  for (const fwd of [true, false]) {
    const inners = collectFlow(A, T).filter((x) => x.fwd === fwd && x.rec.kind === 'tunnel');
    assert.equal(inners.length, 40, 'every inner segment read');
    const want = referenceAssociate(A, inners, fwd);
    (fwd ? associateEncap : associateDecap)(A, inners);
    assert.deepEqual([...inners].map((x) => x.carI), want);
    // The plain scan's own answers, so the comparison means something: super-frames take a
    // carrier in their window, the one whose carrier came too late takes none.
    for (const [k, x] of [...inners].entries()) {
      if (x.ilen <= 1500) continue;
      if (k % 2 === 0) { assert.ok(want[k]! >= 0, `super-frame ${k} has a carrier`); fromWindow++; } else { assert.equal(want[k], -1, `super-frame ${k}`); none++; }
    }
  }
  assert.ok(fromWindow >= 20 && none >= 20, `${fromWindow} with, ${none} without`);
});

test('fitClockColumns (the bulk path, hull kept as column positions) fits what fitClock fits', () => {
  let seed = 11;
  const rnd = (): number => { seed = (Math.imul(seed, 1103515245) + 12345) >>> 0; return seed / 2 ** 32; };
  // Pair clouds as the engine meets them: offset and drift, one-way delays with a long tail,
  // repeated send times, one direction only, a handful of pairs, none.
  const cloud = (nAB: number, nBA: number, offset: number, skewPpm: number, jitter: number, span: number): ClockPair[] => {
    const out: ClockPair[] = [];
    const at = (t: number): number => t + offset + skewPpm * 1e-6 * t;
    for (let k = 0; k < nAB; k++) { const a = 1000 + (k / nAB) * span; out.push({ a, b: at(a) + 0.0002 + jitter * rnd() ** 3, aToB: true }); }
    for (let k = 0; k < nBA; k++) { const a = 1000 + (k / nBA) * span + 0.00001; out.push({ a, b: at(a) - 0.0002 - jitter * rnd() ** 3, aToB: false }); }
    return out;
  };
  const cases = [cloud(3000, 2500, 0.37, 0, 0.002, 10), cloud(3000, 2500, -12.5, 40, 0.01, 300), cloud(500, 0, 2, 5, 0.001, 60),
    cloud(0, 400, 2, -5, 0.001, 60), cloud(3, 2, 0.1, 0, 0.0001, 1), cloud(0, 0, 0, 0, 0, 0),
    cloud(2000, 2000, 1, 0, 0, 5).map((p, k) => ({ ...p, a: 1000 + Math.floor(k / 7) * 0.001 }))];
  for (const pairs of cases) {
    const ref = 1000;
    const sorted = [...pairs].sort((x, y) => x.a - y.a);
    const col = (aToB: boolean, f: (p: ClockPair) => number): Float64Array => Float64Array.from(sorted.filter((p) => p.aToB === aToB).map(f));
    const cols = { abA: col(true, (p) => p.a), abB: col(true, (p) => p.b), baA: col(false, (p) => p.a), baB: col(false, (p) => p.b) };
    assert.deepEqual(fitClockColumns(cols, ref), fitClock(pairs, ref));
  }
});
