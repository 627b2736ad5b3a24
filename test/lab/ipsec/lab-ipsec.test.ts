// The real IPsec test network: lab-ipsec.sh builds two strongSwan gateways (IKEv2, PSK, userspace
// ESP over TUN, NAT-T through a NAT router) in network namespaces, breaks the path the way each
// scenario of scenarios.json says, and captures both gateways. `tandem analyze` must name the first
// missing checkpoint, class and host the domain rules prescribe, from pcapng and from SLL2 + `ip -o link`.
//
// TANDEM_IPSEC_LAB_DIR=/some/dir reuses captures made by `test/lab/ipsec/lab-ipsec.sh --out /some/dir all`
// (then neither root nor strongSwan is needed); otherwise a fresh set goes to a temp dir.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(new URL('.', import.meta.url));
const root = join(here, '..', '..', '..');
const cli = join(root, 'bin', 'tandem');

interface Expect { status: string; first_missing: string | null; class: string; host?: string }
interface Scenario { name: string; fault: string; flow: string; expect: Expect; present: string[]; why: string }
const table = JSON.parse(readFileSync(join(here, 'scenarios.json'), 'utf8')) as { scenarios: Scenario[] };
const scenarios = table.scenarios;

const haveCaptures = (dir: string): boolean => scenarios.every((s) => existsSync(join(dir, s.name, 'run.json')));

function whyNot(): string | null {
  const reuse = process.env.TANDEM_IPSEC_LAB_DIR;
  if (reuse && haveCaptures(reuse)) return null;
  if (process.getuid?.() !== 0) return 'the IPsec lab needs root to build network namespaces (or TANDEM_IPSEC_LAB_DIR with earlier captures)';
  const missing = ['ip', 'nft', 'tcpdump', 'dumpcap', 'curl', 'swanctl', '/usr/lib/ipsec/charon'].filter(
    (t) => spawnSync('sh', ['-c', `command -v ${t}`], { stdio: 'ignore' }).status !== 0);
  if (missing.length) return `the IPsec lab needs ${missing.join(', ')} (Debian: strongswan-charon strongswan-swanctl libcharon-extra-plugins)`;
  if (!existsSync('/usr/lib/ipsec/plugins/libstrongswan-kernel-libipsec.so')) return 'the IPsec lab needs the kernel-libipsec plugin (libcharon-extra-plugins)';
  if (!existsSync('/dev/net/tun')) return 'the IPsec lab needs /dev/net/tun';
  return null;
}

const skipReason = whyNot();
if (skipReason) console.log(`# skip IPsec lab: ${skipReason}`);
const skip = skipReason ?? false;
const haveTshark = spawnSync('sh', ['-c', 'command -v tshark'], { stdio: 'ignore' }).status === 0;

let labDir = '';
let tempDir = '';

function newest(dir: string): number {
  let m = 0;
  if (!existsSync(dir)) return m;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) m = Math.max(m, newest(p));
    else if (e.name.endsWith('.ts')) m = Math.max(m, statSync(p).mtimeMs);
  }
  return m;
}

before(() => {
  if (skip) return;
  // bin/tandem runs a bundle; rebuild it when the sources are newer so the tree's code is tested.
  const bundle = join(root, 'out', 'cli', 'tandem.mjs');
  if (!existsSync(bundle) || statSync(bundle).mtimeMs < Math.max(newest(join(root, 'bin', 'cli')), newest(join(root, 'shared')))) {
    const b = spawnSync(process.execPath, ['scripts/build-node.mjs'], { cwd: root, encoding: 'utf8' });
    assert.equal(b.status, 0, `building the CLI failed:\n${b.stderr}`);
  }
  const reuse = process.env.TANDEM_IPSEC_LAB_DIR;
  if (reuse && haveCaptures(reuse)) { labDir = reuse; return; }
  labDir = reuse ?? (tempDir = mkdtempSync(join(tmpdir(), 'tandem-ipsec-lab-')));
  const t0 = Date.now();
  const r = spawnSync('bash', [join(here, 'lab-ipsec.sh'), '--out', labDir, 'all'], { encoding: 'utf8', timeout: 170_000 });
  assert.equal(r.status, 0, `lab-ipsec.sh failed (${r.signal ?? r.status}):\n${r.stderr}`);
  console.log(`# IPsec lab: ${scenarios.length} scenarios captured in ${((Date.now() - t0) / 1000).toFixed(1)} s into ${labDir}`);
});

after(() => { if (tempDir) rmSync(tempDir, { recursive: true, force: true }); });

interface Result {
  checkpoints: { label: string; capture: string; frame: number; iface: string }[];
  lineage: { direction: string; hops: { capture: string; frame: number; checkpoint: string | null; iface: string }[] }[];
  findings: { severity: string; checkpoint: string | null; class: string; host: string; title: string }[];
  verdict: { status: string; first_missing: string | null; class: string; host: string | null; summary: string };
  variant: { tunnel: string };
}

function analyze(dir: string, flow: string, variant: 'pcapng' | 'any'): Result {
  const args = variant === 'pcapng'
    ? ['analyze', join(dir, 'A.pcapng'), join(dir, 'B.pcapng')]
    : ['analyze', join(dir, 'A-any.pcap'), join(dir, 'B-any.pcap'), '--a-links', join(dir, 'A-links.txt'), '--b-links', join(dir, 'B-links.txt')];
  args.push('--flow', flow, '--json', '-');
  const r = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', maxBuffer: 64 << 20, timeout: 60_000 });
  assert.equal(r.status, 0, `tandem ${args.join(' ')} exited ${r.status}:\n${r.stderr}`);
  return JSON.parse(r.stdout) as Result;
}

const show = (r: Result): string =>
  `verdict ${JSON.stringify(r.verdict)}\n  checkpoints ${r.checkpoints.map((c) => c.label).join(' ')}` +
  `\n  findings ${r.findings.map((f) => `${f.checkpoint}:${f.class}/${f.host} ${f.title}`).join(' | ')}`;

/** tshark's reading of one frame's ESP header: [spi, sequence]. */
function tsharkEsp(file: string, frame: number): [string, string] {
  const r = spawnSync('tshark', ['-r', file, '-Y', `frame.number == ${frame}`, '-T', 'fields', '-e', 'esp.spi', '-e', 'esp.sequence'], { encoding: 'utf8' });
  const [spi = '', seq = ''] = r.stdout.trim().split('\t');
  return [spi, seq];
}

for (const s of scenarios) {
  test(`IPsec lab ${s.name}: the captures show the fault`, { skip }, () => {
    const run = JSON.parse(readFileSync(join(labDir, s.name, 'run.json'), 'utf8')) as { curl_exit: number; curl_error: string; tunnel_up: boolean };
    if (s.expect.status === 'ok') assert.equal(run.curl_exit, 0, `${s.name}: curl failed: ${run.curl_error}`);
    else assert.notEqual(run.curl_exit, 0, `${s.name}: the test connection should fail`);
    for (const f of ['A.pcapng', 'B.pcapng', 'A-any.pcap', 'B-any.pcap', 'A-links.txt', 'B-links.txt']) {
      assert.ok(statSync(join(labDir, s.name, f)).size > 0, `${s.name}/${f} is empty`);
    }
  });
  for (const variant of ['pcapng', 'any'] as const) {
    test(`IPsec lab ${s.name}: verdict from ${variant === 'pcapng' ? 'pcapng' : 'SLL2 -i any with ip -o link'}`, { skip }, () => {
      const r = analyze(join(labDir, s.name), s.flow, variant);
      const e = s.expect;
      const ctx = `${s.name} (${s.fault}): expected ${JSON.stringify(e)}, got ${show(r)}`;
      assert.equal(r.variant.tunnel, 'ipsec', ctx);
      assert.equal(r.verdict.status, e.status, ctx);
      assert.equal(r.verdict.first_missing ?? null, e.first_missing, ctx);
      assert.equal(r.verdict.class, e.class, ctx);
      if (e.host !== undefined) assert.equal(r.verdict.host, e.host, ctx);
      const got = new Set(r.checkpoints.map((c) => c.label));
      assert.deepEqual(s.present.filter((l) => !got.has(l)), [], `${s.name}: checkpoints the captures show are missing; ${show(r)}`);
    });
  }
}

test('IPsec lab healthy: lineage follows the SYN from A\'s LAN side through ESP to B\'s LAN, ESP paired by SPI + sequence', { skip }, () => {
  const dir = join(labDir, 'healthy');
  const r = analyze(dir, scenarios[0]!.flow, 'pcapng');
  const req = r.lineage.find((l) => l.direction === 'request');
  assert.ok(req !== undefined, show(r));
  const labels = req.hops.map((h) => h.checkpoint);
  for (const l of ['A1', 'A4', 'B3', 'B4', 'B5']) assert.ok(labels.includes(l), `request lineage lacks ${l}: ${JSON.stringify(req.hops)}`);
  const cp = (l: string) => r.checkpoints.find((c) => c.label === l)!;
  assert.equal(cp('A0').iface, 'lan0');
  assert.equal(cp('A7').iface, 'lan0');
  assert.equal(cp('A1').iface, 'ipsec0');
  assert.equal(cp('B5').iface, 'eth1');
  if (!haveTshark) { console.log('# skip ESP cross-check: tshark not installed'); return; }
  // The ESP pair the engine chose is the same datagram on both gateways according to tshark.
  for (const [a, b] of [['A4', 'B3'], ['B8', 'A5']] as const) {
    const ea = tsharkEsp(join(dir, cp(a).capture === 'A' ? 'A.pcapng' : 'B.pcapng'), cp(a).frame);
    const eb = tsharkEsp(join(dir, cp(b).capture === 'A' ? 'A.pcapng' : 'B.pcapng'), cp(b).frame);
    assert.ok(ea[0] !== '' && ea[1] !== '', `${a}: tshark sees no ESP in frame ${cp(a).frame}`);
    assert.deepEqual(eb, ea, `${a} and ${b} should be the same ESP datagram (SPI, sequence)`);
  }
});
