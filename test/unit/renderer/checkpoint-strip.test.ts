// The workbench's checkpoint strip (model.ts buildModel) on the IPsec lab's analyses, as
// `bin/tandem analyze test/lab/ipsec/captures/<pair>/A.pcapng …/B.pcapng --json -` reports them.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { loadAll } from '../../../shared/ingest/load-capture.ts';
import { analyze } from '../../../shared/analysis/index.ts';
import { buildModel } from '../../../renderer/src/features/workbench/model.ts';

const pair = (name: string) => fileURLToPath(new URL(`../../lab/ipsec/captures/${name}/`, import.meta.url));
const WG_PATH = ['A1', 'A2', 'B1', 'B2', 'A3', 'A4', 'B3', 'B4', 'B5', 'B6', 'B7', 'B8', 'A5', 'A6'];

test('a gateway pair: A0 first and A7 last, both with their packets and badges', async () => {
  const dir = pair('healthy');
  const result = await analyzePair(dir);
  const m = buildModel(result);
  assert.deepEqual(m.strip.map((s) => s.label), ['A0', ...WG_PATH, 'A7']);
  assert.deepEqual(m.strip[0]!.ref, { capture: 'A', frame: 9 });
  assert.deepEqual(m.strip.at(-1)!.ref, { capture: 'A', frame: 10 });
  assert.deepEqual(m.badges.get('A#9'), ['A0']);
  assert.deepEqual(m.badges.get('A#10'), ['A7']);
});

test('A7 is left out when the path breaks before the reply could reach it', async () => {
  const m = buildModel(await analyzePair(pair('return-route-missing')));
  assert.deepEqual(m.strip.map((s) => s.label), ['A0', ...WG_PATH]);
  assert.equal(m.strip.find((s) => s.label === 'B6')!.ref, null);
});

test('no analysis, no strip', () => {
  assert.deepEqual(buildModel(undefined).strip, []);
});

async function analyzePair(dir: string) {
  const load = async (host: 'A' | 'B') => {
    const r = await loadAll(new Uint8Array(readFileSync(dir + `${host}.pcapng`)));
    return { name: `${host}.pcapng`, packets: r.packets, interfaces: r.interfaces };
  };
  return analyze(await load('A'), await load('B'));
}
