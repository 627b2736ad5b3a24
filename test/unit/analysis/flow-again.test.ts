// flowAgain (B's flow under test copied instead of collected a second time, in findForwarded) against
// a fresh collectFlow of the same tuple, on every lab host and tuple, after the flow was used the way
// the analysis uses it (members taken, carriers associated, direction bits written by orient): the
// copy must hold exactly the columns a fresh pass gives, with nothing taken and no carrier yet.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Side } from '../../../shared/analysis/prepare.ts';
import { collectFlow, flowAgain, type InnerList } from '../../../shared/analysis/inner.ts';
import { associateDecap, associateEncap } from '../../../shared/analysis/carriers.ts';
import { innerTuples, labSets, labSides } from './helpers.ts';

const { dir, scenarios, skip } = labSets('flow-again');
const sides = (name: string, form: 'any' | 'txt'): Promise<[Side, Side]> => labSides(dir, name, form);

/** Every column an Inner reads, per member, and the list's shape. */
function rows(l: InnerList): unknown[] {
  return [l.length, l.idx, l.fc.tuple, ...[...l].map((x) => [x.ri, x.fwd, x.sig, x.relSeq, x.plen, x.ilen, x.icmpErr, x.used, x.carI])];
}

test('flowAgain gives what collectFlow gives again, after the flow was taken from and associated', { skip }, async () => {
  let compared = 0, used = 0, cars = 0;
  for (const [name, form] of scenarios.flatMap((s) => [[s, 'any'], [s, 'txt']] as const)) {
    for (const side of await sides(name, form)) {
      for (const t of innerTuples(side, true).slice(0, 16)) {
        const first = collectFlow(side, t);
        if (first.length === 0) continue;
        // Used as the analysis uses B's flow: oriented, associated both ways, members taken.
        first.orient(side.key === 'A');
        const tun = first.ways(true, 'in', false);
        associateDecap(side, tun.fwd);
        associateEncap(side, tun.rev);
        for (let j = 0; j < first.length; j += 3) first.at(j)!.used = true;
        used += Math.ceil(first.length / 3);
        for (const x of first) if (x.carI >= 0) cars++;
        const again = flowAgain(first);
        const fresh = collectFlow(side, t);
        assert.deepEqual(rows(again), rows(fresh), `${name} ${form} ${side.key} ${JSON.stringify(t)}`);
        assert.notEqual(again.fc, first.fc, 'a copy, not the same columns');
        // The copy is its own: marking it leaves the first flow as it was.
        again.at(1 % again.length)!.used = true;
        assert.equal(first.at(1 % first.length)!.used, (1 % first.length) % 3 === 0);
        compared++;
      }
    }
  }
  assert.ok(compared > 100, `flows compared: ${compared}`);
  assert.ok(used > 0 && cars > 0, `members taken ${used}, associated ${cars}: the copy dropped both`);
});

test('flowAgain refuses a part of a flow (only a whole collectFlow result is copied)', { skip }, async () => {
  const [A] = await sides(scenarios.includes('healthy') ? 'healthy' : scenarios[0]!, 'any');
  const t = innerTuples(A)[0]!;
  const l = collectFlow(A, t);
  assert.ok(l.length > 1);
  assert.throws(() => flowAgain(l.filterAt((fwd) => fwd)), /whole flow/);
});
