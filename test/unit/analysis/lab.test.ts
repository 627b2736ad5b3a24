// The engine on the real lab captures of test/lab (network namespaces + wireguard-go), when a
// capture set exists: TANDEM_LAB_DIR, or /tmp/tandem-lab as `test/lab/lab.sh all` leaves it.
// Expected verdicts come from test/lab/scenarios.json (the domain primer's reading of each fault).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadAll } from '../../../shared/ingest/load-capture.ts';
import { parseIpLink } from '../../../shared/capture-file/links.ts';
import { analyze, type CaptureInput } from '../../../shared/analysis/index.ts';

const dir = process.env.TANDEM_LAB_DIR ?? '/tmp/tandem-lab';
const table = JSON.parse(readFileSync(new URL('../../lab/scenarios.json', import.meta.url), 'utf8')) as {
  scenarios: Array<{ name: string; expect: Expect; expect_without_log?: Expect; present?: string[] }>;
};
type Expect = { status: string; first_missing: string | null; class: string; host?: string };

async function load(file: string, links?: string): Promise<CaptureInput> {
  const linkNames = links !== undefined && existsSync(links) ? parseIpLink(readFileSync(links, 'utf8')) : undefined;
  const r = await loadAll(new Uint8Array(readFileSync(file)), { linkNames });
  return { name: file, file, packets: r.packets, interfaces: r.interfaces, ...(linkNames !== undefined ? { links: [...linkNames.values()] } : {}) };
}

for (const s of table.scenarios) {
  for (const kind of ['pcapng', 'sll2'] as const) {
    const d = join(dir, s.name);
    const fa = join(d, kind === 'pcapng' ? 'A.pcapng' : 'A-any.pcap');
    const fb = join(d, kind === 'pcapng' ? 'B.pcapng' : 'B-any.pcap');
    const why = existsSync(fa) && existsSync(fb) ? false : `no lab capture ${fa} (run test/lab/lab.sh --out ${dir} all, or set TANDEM_LAB_DIR)`;
    if (why) console.log(`# skip ${s.name} [${kind}]: ${why}`);
    // SLL2 files hold no firewall-log (NFLOG) records: the scenario's verdict without them.
    const e = kind === 'sll2' && s.expect_without_log !== undefined ? s.expect_without_log : s.expect;
    test(`lab ${s.name} [${kind}]: ${e.status} ${e.first_missing ?? '-'} ${e.class}`, { skip: why }, async () => {
      const a = await load(fa, kind === 'sll2' ? join(d, 'A-links.txt') : undefined);
      const b = await load(fb, kind === 'sll2' ? join(d, 'B-links.txt') : undefined);
      const r = analyze(a, b);
      assert.equal(r.verdict.status, e.status, r.verdict.summary);
      assert.equal(r.verdict.first_missing, e.first_missing);
      assert.equal(r.verdict.class, e.class);
      if (e.host !== undefined) assert.equal(r.verdict.host, e.host);
      if (s.present !== undefined) assert.deepEqual(r.checkpoints.map((c) => c.label).sort(), [...s.present].sort());
    });
  }
}

const clockDir = join(dir, 'clock-base');
const clockJson = join(clockDir, 'clock.json');
const clockWhy = existsSync(clockJson) ? false : `no ${clockJson} (made by test/lab/lab.sh)`;
if (clockWhy) console.log(`# skip lab clock: ${clockWhy}`);
test('lab clock-shifted copies of B: offset within 100 µs, skew within 5 ppm', { skip: clockWhy }, async () => {
  const cj = JSON.parse(readFileSync(clockJson, 'utf8')) as { ref_s: string; cases: Array<{ name: string; offset_s: number; skew_ppm: number; pcapng: string; any: string }> };
  for (const c of cj.cases) {
    for (const kind of ['pcapng', 'sll2'] as const) {
      const a = kind === 'sll2' ? await load(join(clockDir, 'A-any.pcap'), join(clockDir, 'A-links.txt')) : await load(join(clockDir, 'A.pcapng'));
      const b = kind === 'sll2' ? await load(join(clockDir, c.any), join(clockDir, 'B-links.txt')) : await load(join(clockDir, c.pcapng));
      const r = analyze(a, b);
      // The copy's clock reads offset + skew·(t − ref); our offset holds at r.clock.ref_s.
      const truth = c.offset_s + c.skew_ppm * 1e-6 * (r.clock.ref_s - Number(cj.ref_s));
      const err = r.clock.offset_s - truth;
      console.log(`# ${c.name} [${kind}]: offset error ${(err * 1e6).toFixed(2)} µs, skew error ${(r.clock.skew_ppm - c.skew_ppm).toFixed(3)} ppm, ±${(r.clock.uncertainty_s * 1e6).toFixed(2)} µs, ${r.clock.pairs} pairs`);
      assert.ok(Math.abs(err) < 100e-6, `${c.name} ${kind}: offset ${r.clock.offset_s} vs ${truth}`);
      assert.ok(Math.abs(r.clock.skew_ppm - c.skew_ppm) < 5, `${c.name} ${kind}: skew ${r.clock.skew_ppm}`);
      assert.equal(r.verdict.status, 'ok');
    }
  }
});

const mixedWhy = existsSync(join(clockDir, 'B.txt')) && existsSync(join(clockDir, 'A.pcapng')) ? false : `no ${join(clockDir, 'B.txt')} (made by test/lab/lab.sh)`;
if (mixedWhy) console.log(`# skip lab mixed formats: ${mixedWhy}`);
test('lab mixed formats: A as pcapng (no direction flags) against B as tcpdump text without a date', { skip: mixedWhy }, async () => {
  const a = await load(join(clockDir, 'A.pcapng'));
  const b = await load(join(clockDir, 'B.txt'));
  const pc = analyze(a, await load(join(clockDir, 'B.pcapng')));
  const r = analyze(a, b);
  assert.equal(r.verdict.status, 'ok', r.verdict.summary);
  assert.deepEqual(r.checkpoints.map((c) => c.label), pc.checkpoints.map((c) => c.label));
  // Same A frames whichever format B came in.
  assert.deepEqual(r.checkpoints.filter((c) => c.capture === 'A'), pc.checkpoints.filter((c) => c.capture === 'A').map((c) => ({ ...c, t_s: r.checkpoints.find((x) => x.label === c.label)!.t_s })));
  // The text has no date: the offset is whole days plus what the clocks really differ (nothing here).
  const frac = r.clock.offset_s - Math.round(r.clock.offset_s / 86400) * 86400;
  assert.ok(Math.abs(frac) < 100e-6, `offset ${r.clock.offset_s}`);
  // Reversed order gives the same labels, attached to the same files.
  const s = analyze(b, a);
  assert.equal(s.verdict.status, 'ok');
  assert.deepEqual(s.checkpoints.filter((c) => c.capture === 'B').map((c) => [c.label, c.frame]), r.checkpoints.filter((c) => c.capture === 'A').map((c) => [c.label, c.frame]));
});
