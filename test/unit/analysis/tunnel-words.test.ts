// Findings speak the tunnel's own language: no WireGuard word or command in an IPsec result and
// no IPsec one in a WireGuard result, over every capture the unit tests can load (the checked-in
// IPsec lab captures in all four input forms, the e2e WireGuard fixtures, the seed text and the
// synthetic download). And generic rules (tunnels '*') name no tunnel kind in their source.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { loadCompact } from '../../../shared/ingest/load-capture.ts';
import { parseIpLink } from '../../../shared/capture-file/links.ts';
import { openCapture } from '../../../bin/cli/io.ts';
import { analyze, type AnalysisResult, type CaptureInput } from '../../../shared/analysis/index.ts';
import { tunnelByKind } from '../../../shared/analysis/tunnels/index.ts';
import { ruleList } from '../../../shared/analysis/rules/index.ts';
import { seedInput } from './helpers.ts';
import { synthBulk } from './synth.ts';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const IPSEC = `${ROOT}test/lab/ipsec/captures/`;
const E2E = `${ROOT}test/e2e/fixtures/`;

async function load(path: string, links?: string): Promise<CaptureInput> {
  const linkNames = links === undefined ? undefined : parseIpLink(readFileSync(links, 'utf8'));
  const r = await loadCompact(openCapture(path), { summary: false, linkNames });
  return { name: path, file: path, packets: r.packets, interfaces: r.interfaces };
}

/** Everything a reader sees of a result: verdict, findings (titles, details, steps). */
const words = (r: AnalysisResult): string => JSON.stringify([r.verdict.summary, r.findings.map((f) => [f.title, f.detail, f.next_steps])]);

/** `kind`: what the capture is (a capture with no carrier at all leaves the result's kind unknown). */
function checkWords(r: AnalysisResult, what: string, kind: 'wireguard' | 'ipsec' = r.variant.tunnel === 'ipsec' ? 'ipsec' : 'wireguard'): void {
  const own = kind;
  const other = tunnelByKind(own === 'ipsec' ? 'wireguard' : 'ipsec')!;
  const m = other.vocabulary.exec(words(r));
  assert.equal(m, null, `${what} (${own}) uses ${other.name} wording: "${m?.[0]}" in ${words(r).slice(Math.max(0, (m?.index ?? 0) - 80), (m?.index ?? 0) + 80)}`);
}

const FORMS = [['A.pcapng', 'B.pcapng', false], ['A-any.pcap', 'B-any.pcap', true], ['A.pcapng', 'B.txt', false], ['A.txt', 'B.txt', false]] as const;

test('IPsec lab captures: no WireGuard word or command in any result', async () => {
  const dirs = existsSync(IPSEC) ? readdirSync(IPSEC) : [];
  let n = 0;
  for (const d of dirs) {
    for (const [fa, fb, links] of FORMS) {
      const pa = `${IPSEC}${d}/${fa}`, pb = `${IPSEC}${d}/${fb}`;
      if (!existsSync(pa) || !existsSync(pb)) continue;
      let a: CaptureInput, b: CaptureInput;
      try {
        a = await load(pa, links ? `${IPSEC}${d}/A-links.txt` : undefined);
        b = await load(pb, links ? `${IPSEC}${d}/B-links.txt` : undefined);
      } catch { continue; }
      const r = analyze(a, b);
      assert.equal(r.variant.tunnel, 'ipsec', `${d} ${fa}+${fb}`);
      checkWords(r, `${d} ${fa}+${fb}`, 'ipsec');
      n++;
    }
  }
  assert.ok(n >= 20, `only ${n} IPsec capture pairs loaded`);
});

test('WireGuard captures (e2e fixtures, seed text, synthetic): no IPsec word or command in any result', async () => {
  let n = 0;
  // The e2e fixtures, and the WireGuard lab's captures when a run left them (TANDEM_LAB_DIR).
  const lab = process.env.TANDEM_LAB_DIR;
  const dirs = [...(existsSync(E2E) ? readdirSync(E2E).map((d) => E2E + d) : []), ...(lab !== undefined && existsSync(lab) ? readdirSync(lab).map((d) => `${lab}/${d}`) : [])];
  if (lab === undefined) console.log('# WireGuard lab captures not scanned: set TANDEM_LAB_DIR to a lab.sh --out directory to include them');
  for (const d of dirs) {
    const pa = `${d}/A.pcapng`, pb = `${d}/B.pcapng`;
    if (!existsSync(pa) || !existsSync(pb)) continue;
    const r = analyze(await load(pa), await load(pb));
    assert.notEqual(r.variant.tunnel, 'ipsec', d);
    checkWords(r, d, 'wireguard');
    n++;
  }
  const seed = analyze(seedInput('endpoint-a.txt'), seedInput('host-beta.txt'));
  checkWords(seed, 'seed');
  // A failing seed variant: nothing comes out of B's tunnel (B4 missing).
  const cut = analyze(seedInput('endpoint-a.txt'), seedInput('host-beta.txt', (l) => l.filter((x) => !/wg0 +In /.test(x))));
  assert.equal(cut.verdict.status, 'fail');
  checkWords(cut, 'seed without B4');
  for (const wgFields of [true, false]) {
    const s = synthBulk({ rounds: 30, period: 0.01, wgFields, offset: 0.2, skewPpm: 10, seed: 3 });
    checkWords(analyze({ name: 'a', packets: s.a }, { name: 'b', packets: s.b }), `synth wgFields=${wgFields}`);
    n++;
  }
  assert.ok(n >= 3, `only ${n} WireGuard inputs`);
});

test('generic rules name no tunnel kind in their wording (it comes from the tunnel module)', () => {
  const wg = tunnelByKind('wireguard')!, ipsec = tunnelByKind('ipsec')!;
  const dir = `${ROOT}shared/analysis/rules/`;
  const generic = new Set(ruleList().filter((r) => r.tunnels.includes('*')).map((r) => r.id));
  // Files whose rules all apply to every tunnel kind.
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.ts'))) {
    const src = readFileSync(dir + file, 'utf8');
    const ids = [...src.matchAll(/\bid: '([a-z0-9-]+)'/g)].map((m) => m[1]!);
    if (ids.length === 0 || !ids.every((id) => generic.has(id))) continue;
    // Strings only: comments may explain which kinds a rule was written for.
    const strings = [...src.replace(/^\s*\/\/.*$/gm, '').matchAll(/'(?:[^'\\]|\\.)*'|`(?:[^`\\]|\\.)*`/g)].map((m) => m[0]).join('\n');
    for (const m of [wg, ipsec]) assert.equal(m.vocabulary.exec(strings), null, `${file} names ${m.name}: ${m.vocabulary.exec(strings)?.[0]}`);
  }
});
