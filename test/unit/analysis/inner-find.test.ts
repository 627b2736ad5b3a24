// InnerList.findAt (the first member by a test on the columns) against find (the same test on each
// member's objects), over the flows of the lab captures (TANDEM_LAB_DIR) and edge lists.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadCompact } from '../../../shared/ingest/load-capture.ts';
import { parseIpLink } from '../../../shared/capture-file/links.ts';
import type { CaptureInput } from '../../../shared/analysis/index.ts';
import { dirAt, kindAt, preparePair, resolveDirections, sideOf, type Side } from '../../../shared/analysis/prepare.ts';
import { collectFlow, emptyFlow, type InnerList } from '../../../shared/analysis/inner.ts';
import { innerTuples } from './helpers.ts';

const dir = process.env.TANDEM_LAB_DIR ?? '/tmp/tandem-lab';
const scenarios = existsSync(dir) ? readdirSync(dir).filter((s) => existsSync(join(dir, s, 'B-any.pcap'))).sort() : [];
const skip = scenarios.length > 0 ? false : `no lab captures in ${dir} (set TANDEM_LAB_DIR)`;
if (skip) console.log(`# skip inner-find: ${skip}`);

async function load(file: string, links: string): Promise<CaptureInput> {
  const linkNames = existsSync(links) ? parseIpLink(readFileSync(links, 'utf8')) : undefined;
  // The column store, as the CLI loads a bulk capture.
  const r = await loadCompact(new Uint8Array(readFileSync(file)), { linkNames, summary: false });
  return { name: file, file, packets: r.packets, interfaces: r.interfaces, ...(linkNames !== undefined ? { links: [...linkNames.values()] } : {}) };
}


/** Same member (flow position) or both none. */
function sameMember(l: InnerList, x: ReturnType<InnerList['find']>, y: ReturnType<InnerList['find']>, what: string): void {
  assert.equal(y?.k, x?.k, what);
  if (y !== undefined) assert.equal(y.fc, l.fc, what);
}

test('findAt finds the member find finds, on every flow of the lab captures and on subsets', { skip }, async () => {
  let flows = 0, found = 0, none = 0;
  for (const s of scenarios) {
    const d = join(dir, s);
    const a = await load(join(d, 'A-any.pcap'), join(d, 'A-links.txt'));
    const b = await load(join(d, 'B-any.pcap'), join(d, 'B-links.txt'));
    const [pa, pb] = preparePair(a, b);
    const A = sideOf('A', a, pa), B = sideOf('B', b, pb);
    resolveDirections(A, B);
    for (const side of [A, B]) {
      const tm = side.tm;
      for (const t of innerTuples(side)) {
        const all = collectFlow(side, t);
        // A subset too (positions through an index), as the engine's splits are.
        const lists = [all, all.filterAt((fwd) => !fwd)];
        for (const l of lists) {
          flows++;
          const preds: Array<[string, (fwd: boolean, ri: number, k: number) => boolean, (x: NonNullable<ReturnType<InnerList['find']>>) => boolean]> = [
            // The test diagnose asks: a request that did not go into the tunnel.
            ['forward, not tunnel', (fwd, ri) => fwd && kindAt(tm, ri) !== 'tunnel', (x) => x.fwd && x.rec.kind !== 'tunnel'],
            ['reverse, tunnel, in', (fwd, ri) => !fwd && kindAt(tm, ri) === 'tunnel' && dirAt(tm, ri) === 'in', (x) => !x.fwd && x.rec.kind === 'tunnel' && x.rec.dir === 'in'],
            ['last member', (_f, _r, k) => k === l.pos(l.length - 1), (x) => x.k === l.pos(l.length - 1)],
            ['nothing', () => false, () => false],
          ];
          for (const [what, at, obj] of preds) {
            const x = l.find(obj), y = l.findAt(at);
            sameMember(l, x, y, `${s} ${side.key} ${JSON.stringify(t)}: ${what}`);
            if (y !== undefined) found++; else none++;
          }
        }
      }
    }
  }
  assert.ok(flows > 100, `flows searched: ${flows}`);
  assert.ok(found > 100 && none > 100, `found ${found}, none ${none}`);
});

test('findAt on an empty flow finds nothing and never calls the test', () => {
  const fake = { key: 'A', tm: { t: new Float64Array(0) } } as unknown as Side;
  const l = emptyFlow(fake);
  let calls = 0;
  assert.equal(l.findAt(() => { calls++; return true; }), undefined);
  assert.equal(calls, 0);
});
