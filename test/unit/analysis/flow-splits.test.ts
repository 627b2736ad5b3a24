// The analysis's column passes against the per-member tests they replace, on the flows of the lab
// captures (TANDEM_LAB_DIR) and of the bulk pair where present: InnerList.ways (a flow split by way,
// interface kind and direction in one pass), firstOnKind, orient, and SigIndex.take (built over a
// prefix of the list and extended on demand) against a plain scan of the list.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { CaptureInput } from '../../../shared/analysis/index.ts';
import { dirAt, kindAt, preparePair, RECORD_BITS, resolveDirections, setDirAt, sideOf, type Side } from '../../../shared/analysis/prepare.ts';
import { collectFlow, SigIndex, type InnerList } from '../../../shared/analysis/inner.ts';
import { innerTuples, loadStore } from './helpers.ts';

const dir = process.env.TANDEM_LAB_DIR ?? '/tmp/tandem-lab';
const scenarios = existsSync(dir) ? readdirSync(dir).filter((s) => existsSync(join(dir, s, 'B-any.pcap'))).sort() : [];
const skip = scenarios.length > 0 ? false : `no lab captures in ${dir} (set TANDEM_LAB_DIR)`;
if (skip) console.log(`# skip flow-splits: ${skip}`);
const BULK = '/tmp/tandem-lab/bulk';
const skipBulk = existsSync(join(BULK, 'A-any.pcap')) && existsSync(join(BULK, 'B-any.pcap')) ? false : `no bulk pair in ${BULK}`;
if (skipBulk) console.log(`# skip flow-splits (bulk): ${skipBulk}`);

async function input(file: string, links: string): Promise<CaptureInput> {
  const packets = await loadStore(file, links);
  return { name: file, file, packets };
}

/** Both sides of a capture pair, prepared and with directions resolved, as analyze() has them. */
async function sides(d: string): Promise<[Side, Side]> {
  const a = await input(join(d, 'A-any.pcap'), join(d, 'A-links.txt'));
  const b = await input(join(d, 'B-any.pcap'), join(d, 'B-links.txt'));
  const [pa, pb] = preparePair(a, b);
  const A = sideOf('A', a, pa), B = sideOf('B', b, pb);
  resolveDirections(A, B);
  return [A, B];
}

/** Flow positions of a list's members. */
const positions = (l: InnerList): number[] => Array.from({ length: l.length }, (_, j) => l.pos(j));

/** Every flow of a side (each inner tuple), and a subset of each (positions through an index). */
function* flowsOf(side: Side, max = Infinity): Generator<InnerList> {
  let n = 0;
  for (const t of innerTuples(side)) {
    if (n++ >= max) return;
    const all = collectFlow(side, t);
    yield all;
    yield all.filterAt((_f, _ri, k) => k % 3 !== 1);
  }
}

test('RECORD_BITS agrees with prepare\'s accessors for every value', () => {
  const L = RECORD_BITS;
  const tm = { bits: new Uint16Array(1) } as unknown as Side['tm'];
  for (let v = 0; v < 0x200; v++) {
    tm.bits[0] = v;
    assert.equal((v & L.kindMask) === L.tunnel, kindAt(tm, 0) === 'tunnel', `kind of ${v}`);
    const d = dirAt(tm, 0);
    if (d !== undefined) assert.equal(d === null ? 0 : d === 'in' ? L.dIn : L.dOut, v & L.dirMask, `direction of ${v}`);
  }
  for (const d of ['in', 'out', null] as const) {
    tm.bits[0] = 0x1ff & ~L.dirMask;
    setDirAt(tm, 0, d);
    assert.equal(tm.bits[0]! & L.dirMask, d === null ? 0 : d === 'in' ? L.dIn : L.dOut);
  }
});

test('ways splits every flow as the per-member tests do, and finds the first forward member off the kind', { skip }, async () => {
  let lists = 0, kept = 0, offs = 0;
  for (const s of scenarios) {
    for (const side of await sides(join(dir, s))) {
      const tm = side.tm;
      for (const l of flowsOf(side)) {
        for (const tunnel of [true, false]) for (const fwdDir of ['in', 'out'] as const) for (const strict of [true, false]) {
          lists++;
          const revDir = fwdDir === 'in' ? 'out' : 'in';
          const onKind = (ri: number): boolean => (kindAt(tm, ri) === 'tunnel') === tunnel;
          const dirOk = (ri: number, own: 'in' | 'out', other: 'in' | 'out'): boolean => (strict ? dirAt(tm, ri) === own : dirAt(tm, ri) !== other);
          const wantF = l.filterAt((fwd, ri) => fwd && onKind(ri) && dirOk(ri, fwdDir, revDir));
          const wantR = l.filterAt((fwd, ri) => !fwd && onKind(ri) && dirOk(ri, revDir, fwdDir));
          const wantOff = l.findAt((fwd, ri) => fwd && !onKind(ri));
          const got = l.ways(tunnel, fwdDir, strict);
          const what = `${s} ${side.key} ${JSON.stringify(l.fc.tuple)} tunnel=${tunnel} ${fwdDir} strict=${strict}`;
          assert.deepEqual(positions(got.fwd), positions(wantF), `${what}: forward`);
          assert.deepEqual(positions(got.rev), positions(wantR), `${what}: reverse`);
          assert.equal(got.off, wantOff?.k ?? -1, `${what}: off`);
          kept += got.fwd.length + got.rev.length;
          if (got.off >= 0) offs++;
        }
      }
    }
  }
  // The lab's flows must have exercised both outcomes.
  assert.ok(lists > 0 && kept > 0 && offs > 0, `lists ${lists}, kept ${kept}, offs ${offs}`);
});

test('firstOnKind gives the first members filterAt gives with a limit, for every limit edge', { skip }, async () => {
  let checked = 0;
  for (const s of scenarios.slice(0, 12)) {
    for (const side of await sides(join(dir, s))) {
      const tm = side.tm;
      for (const l of flowsOf(side)) {
        for (const fwd of [true, false]) for (const tunnel of [true, false]) for (const limit of [0, 1, 3, l.length - 1, l.length, l.length + 5]) {
          if (limit < 0) continue;
          const want = l.filterAt((f, ri) => f === fwd && (kindAt(tm, ri) === 'tunnel') === tunnel, limit);
          assert.deepEqual(positions(l.firstOnKind(fwd, tunnel, limit)), positions(want), `${s} ${side.key} fwd=${fwd} tunnel=${tunnel} limit=${limit}`);
          checked++;
        }
      }
    }
  }
  assert.ok(checked > 0);
});

test('orient gives undirected members the direction the per-member rule gives, and leaves directed ones', { skip }, async () => {
  let set = 0;
  for (const s of scenarios) {
    for (const side of await sides(join(dir, s))) {
      const tm = side.tm;
      for (const t of innerTuples(side)) {
        const l = collectFlow(side, t);
        for (const onA of [true, false]) {
          // Every member undirected (the case of files without direction flags), then a copy oriented the old way.
          const before = tm.bits.slice();
          l.forEachAt((_f, ri) => { if (ri % 4 !== 0) setDirAt(tm, ri, null); });
          const undirected = tm.bits.slice();
          l.forEachAt((fwd, ri) => {
            if (dirAt(tm, ri) !== null) return;
            const tunnelIn = onA ? !fwd : fwd;
            setDirAt(tm, ri, kindAt(tm, ri) === 'tunnel' ? (tunnelIn ? 'in' : 'out') : (fwd ? 'out' : 'in'));
            set++;
          });
          const want = tm.bits.slice();
          tm.bits.set(undirected);
          l.orient(!onA);
          assert.deepEqual(tm.bits, want, `${s} ${side.key} ${JSON.stringify(t)} onA=${onA}`);
          tm.bits.set(before);
        }
      }
    }
  }
  assert.ok(set > 0);
});

/** SigIndex.take's answer by a plain scan of the list (member order), with the same taken marks. */
class ScanIndex {
  private readonly taken: Uint8Array;
  private readonly sig: Float64Array;
  private readonly tc: Float64Array;
  private readonly k: Int32Array;
  constructor(l: InnerList) {
    const n = l.length;
    this.taken = new Uint8Array(n); this.sig = new Float64Array(n); this.tc = new Float64Array(n); this.k = new Int32Array(n);
    for (let j = 0; j < n; j++) { const x = l.at(j)!; this.sig[j] = x.sig; this.tc[j] = x.tc; this.k[j] = x.k; }
  }
  take(sig: number, t: number, tBefore: number, mark: boolean, tol: number): number {
    for (let j = 0; j < this.sig.length; j++) {
      if (this.taken[j] === 1 || this.sig[j] !== sig || this.tc[j]! < t - tol) continue;
      if (this.tc[j]! > tBefore) return -1;
      if (mark) this.taken[j] = 1;
      return this.k[j]!;
    }
    return -1;
  }
}

/**
 * Queries a list's SigIndex and a plain scan alike: each member's signature from its own time on
 * (the first answer taken), late members first (the index must look past its first members), a
 * signature no member has, a window that ends before the member, and peeks that take nothing.
 */
function compareTakes(l: InnerList, what: string, per = 300): { found: number; none: number } {
  const idx = new SigIndex(l), ref = new ScanIndex(l);
  let found = 0, none = 0;
  const ask = (sig: number, t: number, tBefore: number, mark: boolean, tol: number, q: string): void => {
    const want = ref.take(sig, t, tBefore, mark, tol);
    const got = idx.take(sig, t, tBefore, mark, tol);
    assert.equal(got?.k ?? -1, want, `${what}: ${q}`);
    if (want >= 0) found++; else none++;
  };
  const n = l.length;
  const order = [...Array.from({ length: Math.min(n, per) }, (_, j) => n - 1 - j * Math.max(1, Math.floor(n / per))).filter((j) => j >= 0),
    ...Array.from({ length: Math.min(n, per) }, (_, j) => j)];
  for (const j of order) {
    const x = l.at(j)!;
    ask(x.sig, x.tc, Infinity, false, 0, `peek ${j}`);
    ask(x.sig + 1, x.tc, Infinity, true, 0, `absent ${j}`);
    ask(x.sig, x.tc + 0.5, x.tc + 0.25, true, 0, `window before ${j}`);
    ask(x.sig, x.tc - 0.001, Infinity, true, 0.0005, `take ${j}`);
    ask(x.sig, -Infinity, Infinity, true, 0, `earliest ${j}`);
  }
  return { found, none };
}

test('SigIndex.take answers as a scan of the list does, on the lab flows', { skip }, async () => {
  let found = 0, none = 0;
  for (const s of scenarios) {
    for (const side of await sides(join(dir, s))) {
      for (const l of flowsOf(side, 3)) {
        const r = compareTakes(l, `${s} ${side.key} ${JSON.stringify(l.fc.tuple)}`);
        found += r.found; none += r.none;
      }
    }
  }
  assert.ok(found > 0 && none > 0, `found ${found}, none ${none}`);
});

test('SigIndex.take answers as a scan does on a bulk flow, past its first members', { skip: skipBulk, timeout: 300_000 }, async () => {
  const [A, B] = await sides(BULK);
  let big = 0;
  for (const side of [A, B]) {
    const t = innerTuples(side)[0]!;
    const all = collectFlow(side, t);
    // Both ways of the flow, each far longer than the index's first build.
    for (const l of [all.filterAt((fwd) => fwd), all.filterAt((fwd) => !fwd)]) {
      if (l.length <= 8192) continue;
      big++;
      const r = compareTakes(l, `bulk ${side.key} ${l.length}`, 60);
      assert.ok(r.found > 0 && r.none > 0, `found ${r.found}, none ${r.none}`);
    }
  }
  assert.ok(big > 0, 'no bulk flow longer than the first build');
});
