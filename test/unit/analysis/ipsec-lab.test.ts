// IPsec analysis on real strongSwan captures: the capture sets in test/lab/ipsec/captures/ were
// recorded by `test/lab/ipsec/lab-ipsec.sh --checked-in all` (two gateways, NAT-T, userspace ESP). They
// are checked in so the verdicts are tested without root, from every input form the lab writes:
// pcapng, SLL2 (-i any) named through `ip -o link`, A pcapng with B as live `tcpdump -n -i any` text,
// and text from both gateways. The expectations come from test/lab/ipsec/scenarios.json, which
// derives them from the domain rules. tshark (when installed) cross-checks the packets chosen.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { loadCompact } from '../../../shared/ingest/load-capture.ts';
import { parseIpLink } from '../../../shared/capture-file/links.ts';
import { openCapture } from '../../../bin/cli/io.ts';
import { analyze, type AnalysisResult, type CaptureInput } from '../../../shared/analysis/index.ts';
import { ikeLocalAddresses, refineIpsec } from '../../../shared/analysis/tunnels/ipsec-refine.ts';
import { LAB_FORMS, seedInput } from './helpers.ts';

const LAB = fileURLToPath(new URL('../../lab/ipsec/', import.meta.url));
const table = JSON.parse(readFileSync(`${LAB}scenarios.json`, 'utf8')) as {
  scenarios: Array<{ name: string; flow: string; expect: { status: string; first_missing: string | null; class: string; host?: string }; present: string[] }>;
};
const haveTshark = spawnSync('sh', ['-c', 'command -v tshark'], { stdio: 'ignore' }).status === 0;

async function load(path: string, links?: string): Promise<CaptureInput> {
  const linkNames = links === undefined ? undefined : parseIpLink(readFileSync(links, 'utf8'));
  const r = await loadCompact(openCapture(path), { summary: false, linkNames });
  const fatal = r.summary.problems.find((p) => p.fatal);
  // A gateway that saw nothing leaves a blank text capture: as the CLI does, analyse it as empty.
  const blank = path.endsWith('.txt') && readFileSync(path, 'utf8').trim() === '';
  if (!blank) assert.equal(fatal, undefined, `${path}: ${fatal?.message}`);
  return { name: path, file: path, packets: r.packets, interfaces: r.interfaces, ...(linkNames !== undefined ? { links: [...linkNames.values()] } : {}) };
}

const FORMS = LAB_FORMS;
type Form = (typeof FORMS)[number];

async function run(name: string, flow: string, form: Form = FORMS[0]): Promise<{ r: AnalysisResult; a: CaptureInput; b: CaptureInput }> {
  const dir = `${LAB}captures/${name}/`;
  const a = await load(dir + form.a, form.links ? `${dir}A-links.txt` : undefined);
  const b = await load(dir + form.b, form.links ? `${dir}B-links.txt` : undefined);
  return { r: analyze(a, b, { flow }), a, b };
}

const show = (r: AnalysisResult): string => `${JSON.stringify(r.verdict)} ${r.checkpoints.map((c) => c.label).join(' ')}`;

for (const s of table.scenarios) {
  for (const form of FORMS) {
    const files = [form.a, form.b, ...(form.links ? ['A-links.txt', 'B-links.txt'] : [])];
    const missing = files.filter((f) => !existsSync(`${LAB}captures/${s.name}/${f}`));
    const skip = missing.length ? `no checked-in ${missing.join(', ')} for ${s.name}` : false;
    test(`IPsec capture ${s.name}: verdict and checkpoints from ${form.title}`, { skip }, async () => {
      const { r } = await run(s.name, s.flow, form);
      const e = s.expect;
      const ctx = `${s.name} from ${form.title}: ${show(r)}`;
      assert.equal(r.variant.tunnel, 'ipsec', ctx);
      assert.equal(r.verdict.status, e.status, ctx);
      assert.equal(r.verdict.first_missing, e.first_missing, ctx);
      assert.equal(r.verdict.class, e.class, ctx);
      if (e.host !== undefined) assert.equal(r.verdict.host, e.host, ctx);
      const got = new Set<string>(r.checkpoints.map((c) => c.label));
      assert.deepEqual(s.present.filter((l) => !got.has(l)), [], ctx);
    });
  }
}

/** tshark's fields of one frame. */
function fields(file: string, frame: number, ...f: string[]): string[] {
  const r = spawnSync('tshark', ['-r', file, '-Y', `frame.number == ${frame}`, '-T', 'fields', ...f.flatMap((x) => ['-e', x])], { encoding: 'utf8' });
  return r.stdout.trim().split('\t');
}

test('IPsec capture healthy: A0/A7 are the LAN-side copies of A1/A6, ESP pairs agree with tshark', async () => {
  const { r } = await run('healthy', 'tcp 10.2.0.22:80');
  const cp = (l: string) => r.checkpoints.find((c) => c.label === l)!;
  assert.equal(cp('A0').iface, 'lan0');
  assert.equal(cp('A7').iface, 'lan0');
  assert.ok(cp('A0').t_s <= cp('A1').t_s && cp('A7').t_s >= cp('A6').t_s);
  if (!haveTshark) { console.log('# skip tshark cross-check: tshark not installed'); return; }
  const A = `${LAB}captures/healthy/A.pcapng`, B = `${LAB}captures/healthy/B.pcapng`;
  const tcp = (f: number) => fields(A, f, 'frame.interface_name', 'tcp.seq_raw', 'tcp.flags.str');
  assert.deepEqual(tcp(cp('A0').frame).slice(1), tcp(cp('A1').frame).slice(1));
  assert.deepEqual(tcp(cp('A7').frame).slice(1), tcp(cp('A6').frame).slice(1));
  const esp = (file: string, f: number) => fields(file, f, 'esp.spi', 'esp.sequence');
  assert.deepEqual(esp(B, cp('B3').frame), esp(A, cp('A4').frame));
  assert.deepEqual(esp(A, cp('A5').frame), esp(B, cp('B8').frame));
});

test('IKE_SA_INIT settles which address is the capturing host\'s, with no answer and no direction flags', async () => {
  const a = await load(`${LAB}captures/ike-blocked/A.pcapng`);
  assert.deepEqual([...ikeLocalAddresses(a.packets, true)], ['192.168.1.2']);
  assert.deepEqual([...ikeLocalAddresses(a.packets, false)], ['198.51.100.2']);
});

test('refineIpsec leaves a WireGuard result alone', () => {
  const a = seedInput('endpoint-a.txt'), b = seedInput('host-beta.txt');
  const r = analyze(a, b);
  assert.equal(r.variant.tunnel, 'wireguard');
  assert.deepEqual(refineIpsec(r, a, b), r);
});
