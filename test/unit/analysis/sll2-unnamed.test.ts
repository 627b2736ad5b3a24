// `tcpdump -i any` (LINUX_SLL2) captures analysed without the `ip -o link` listing: the engine has to
// tell interfaces apart by the SLL2 ifindex and spot tunnels by the SLL2 ARPHRD type. The verdict and
// the interface kinds must match the run that had the names. Runs on the lab captures in
// TANDEM_LAB_DIR (default /tmp/tandem-lab, made by test/lab/lab.sh) and on the checked-in e2e fixtures.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadAll, loadCompact } from '../../../shared/ingest/load-capture.ts';
import { toPlainPacket } from '../../../shared/ingest/packet-store.ts';
import { parseIpLink } from '../../../shared/capture-file/links.ts';
import { openCapture } from '../../../bin/cli/io.ts';
import { analyze, type AnalysisResult, type CaptureInput } from '../../../shared/analysis/index.ts';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
type Expect = { status: string; first_missing: string | null; class: string; host?: string };
const table = JSON.parse(readFileSync(join(ROOT, 'test/lab/scenarios.json'), 'utf8')) as {
  scenarios: Array<{ name: string; expect: Expect; expect_without_log?: Expect }>;
  extra?: Array<{ name: string; expect: Expect; expect_without_log?: Expect }>;
};
// SLL2 (-i any) files carry no firewall-log records: where a scenario relies on them, its verdict without them.
const expected = new Map([...table.scenarios, ...(table.extra ?? [])].map((s) => [s.name, s.expect_without_log ?? s.expect]));

async function load(path: string, links?: Map<number, string>): Promise<CaptureInput> {
  const r = await loadCompact(openCapture(path), { summary: false, linkNames: links });
  return { name: path, file: path, packets: r.packets, interfaces: r.interfaces };
}

const linksOf = (path: string): Map<number, string> => parseIpLink(readFileSync(path, 'utf8'));
const show = (r: AnalysisResult): string => `${JSON.stringify(r.verdict)} ${r.checkpoints.map((c) => c.label).join(' ')}`;

/** Unnamed interfaces ("if<N>") must get the kind the named run gave interface N. */
function sameKinds(unnamed: AnalysisResult, named: AnalysisResult, key: 'A' | 'B', links: Map<number, string>): void {
  const byName = new Map(named.captures[key].interfaces.map((i) => [i.name, i.kind]));
  for (const i of unnamed.captures[key].interfaces) {
    const m = /^if(\d+)$/.exec(i.name);
    assert.ok(m, `${key}: unnamed SLL2 interface should read if<index>, got "${i.name}"`);
    const name = links.get(Number(m[1]));
    assert.ok(name !== undefined, `${key}: ${i.name} is not in the links file`);
    assert.equal(i.kind, byName.get(name), `${key}: ${i.name} (${name})`);
  }
}

function sameVerdict(unnamed: AnalysisResult, named: AnalysisResult, name: string): void {
  assert.equal(unnamed.verdict.status, named.verdict.status, `${name}: ${show(unnamed)} vs named ${show(named)}`);
  assert.equal(unnamed.verdict.first_missing, named.verdict.first_missing, `${name}: ${show(unnamed)} vs named ${show(named)}`);
  assert.equal(unnamed.verdict.class, named.verdict.class, `${name}: ${show(unnamed)} vs named ${show(named)}`);
  const e = expected.get(name);
  if (e !== undefined) {
    assert.equal(unnamed.verdict.status, e.status, show(unnamed));
    assert.equal(unnamed.verdict.first_missing, e.first_missing, show(unnamed));
    assert.equal(unnamed.verdict.class, e.class, show(unnamed));
  }
}

const LAB = process.env.TANDEM_LAB_DIR ?? '/tmp/tandem-lab';
const labScenarios = existsSync(LAB)
  ? readdirSync(LAB).filter((n) => ['A-any.pcap', 'B-any.pcap', 'A-links.txt', 'B-links.txt'].every((f) => existsSync(join(LAB, n, f)))).sort()
  : [];
const labSkip = labScenarios.length > 0 ? false : `no lab captures with A-any.pcap/B-any.pcap and links files under ${LAB} (make them with test/lab/lab.sh --out ${LAB} all)`;
if (labSkip) console.log(`# skip lab SLL2 cases: ${labSkip}`);

test('lab SLL2 captures without link names: same verdict and interface kinds as with names', { skip: labSkip }, async () => {
  for (const n of labScenarios) {
    const d = join(LAB, n);
    const la = linksOf(join(d, 'A-links.txt')), lb = linksOf(join(d, 'B-links.txt'));
    const named = analyze(await load(join(d, 'A-any.pcap'), la), await load(join(d, 'B-any.pcap'), lb));
    const unnamed = analyze(await load(join(d, 'A-any.pcap')), await load(join(d, 'B-any.pcap')));
    sameVerdict(unnamed, named, n);
    sameKinds(unnamed, named, 'A', la);
    sameKinds(unnamed, named, 'B', lb);
  }
});

const FIX = join(ROOT, 'test/e2e/fixtures');
const fixtures = readdirSync(FIX).filter((n) => n.startsWith('lab-') && existsSync(join(FIX, n, 'A-any.pcap')) &&
  existsSync(join(FIX, n, 'A-links.txt')) && existsSync(join(FIX, n, 'B.pcapng')));
if (fixtures.length === 0) console.log('# skip fixture SLL2 cases: no test/e2e/fixtures/lab-* holds A-any.pcap with A-links.txt and B.pcapng');

for (const n of fixtures) {
  // The fixtures carry only A's SLL2 file: pair it with B's pcapng.
  test(`fixture ${n}: A-any.pcap without link names gives the verdict it gives with them`, async () => {
    const d = join(FIX, n);
    const scenario = (JSON.parse(readFileSync(join(d, 'run.json'), 'utf8')) as { scenario: string }).scenario;
    const la = linksOf(join(d, 'A-links.txt'));
    const b = await load(join(d, 'B.pcapng'));
    const named = analyze(await load(join(d, 'A-any.pcap'), la), b);
    const unnamed = analyze(await load(join(d, 'A-any.pcap')), b);
    sameVerdict(unnamed, named, scenario);
    sameKinds(unnamed, named, 'A', la);
    assert.ok(unnamed.captures.A.interfaces.some((i) => i.kind === 'tunnel'), 'the wg0 tunnel is found from the SLL2 hatype alone');
  });
}

test('SLL2 hatype survives the compact packet store', { skip: fixtures.length === 0 ? 'no SLL2 fixture' : false }, async () => {
  const path = join(FIX, fixtures[0]!, 'A-any.pcap');
  const plain = await loadAll(openCapture(path), { summary: false });
  const compact = await loadCompact(openCapture(path), { summary: false });
  assert.equal(plain.packets.length, compact.packets.length);
  const types = new Set<number | undefined>();
  for (let i = 0; i < plain.packets.length; i++) {
    const p = plain.packets[i]!, c = compact.packets.at(i)!;
    assert.equal(c.hatype, p.hatype, `frame ${p.frame}`);
    assert.equal(toPlainPacket(c).hatype, p.hatype, `frame ${p.frame}`);
    types.add(p.hatype);
  }
  // tcpdump -i any on the lab host sees Ethernet (veth, 1) and wireguard-go's tun (ARPHRD_NONE, 65534).
  assert.ok(types.has(1) && types.has(65534), `hatypes seen: ${[...types].join(',')}`);
});
