// The reference outputs (the two tcpdump windows of the WireGuard troubleshooting article) and
// faults derived from them by deleting or rewriting lines, the way each failure would look.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { analyze, parseFlowSpec, type AnalysisResult, type CaptureInput } from '../../../shared/analysis/index.ts';
import { groundTruth, parseText, seedInput, seedText } from './helpers.ts';

const isPacket = (l: string): boolean => /^\d\d:\d\d:\d\d\.\d+ /.test(l);
/** Keeps banner lines and the packet lines `keep` accepts; `n` is the 1-based packet number. */
const keepPackets = (keep: (line: string, n: number) => boolean) => (lines: string[]): string[] => {
  let n = 0;
  return lines.filter((l) => !isPacket(l) || keep(l, ++n));
};

function labels(r: AnalysisResult, cap: 'A' | 'B'): Map<string, number> {
  return new Map(r.checkpoints.filter((c) => c.capture === cap).map((c) => [c.label, c.frame]));
}

function run(a: CaptureInput, b: CaptureInput, flow?: string): AnalysisResult {
  return analyze(a, b, flow !== undefined ? { flow } : {});
}

/** The verdict names this first missing checkpoint, class and host. */
function assertMissing(r: AnalysisResult, firstMissing: string, cls: string, host: string): void {
  assert.equal(r.verdict.first_missing, firstMissing);
  assert.equal(r.verdict.class, cls);
  assert.equal(r.verdict.host, host);
}

const A = (): CaptureInput => seedInput('endpoint-a.txt');
const B = (): CaptureInput => seedInput('host-beta.txt');

test('seed: checkpoints equal the .checkpoints.tsv ground truth, verdict ok', () => {
  const r = run(A(), B());
  assert.deepEqual(labels(r, 'A'), groundTruth('endpoint-a.checkpoints.tsv'));
  assert.deepEqual(labels(r, 'B'), groundTruth('host-beta.checkpoints.tsv'));
  assert.equal(r.verdict.status, 'ok');
  assert.equal(r.verdict.class, 'none');
  assert.equal(r.verdict.first_missing, null);
  assert.deepEqual(r.flow, { proto: 'tcp', src: '10.0.0.1', dst: '192.168.200.22', sport: 45734, dport: 80 });
  assert.equal(r.captures.A.role, 'initiator');
  assert.equal(r.captures.B.role, 'responder');
  const kinds = (c: 'A' | 'B') => Object.fromEntries(r.captures[c].interfaces.map((i) => [i.name, i.kind]));
  assert.deepEqual(kinds('A'), { wg0: 'tunnel', wlan0: 'wan' });
  assert.deepEqual(kinds('B'), { eth0: 'wan', wg0: 'tunnel', eth1: 'lan' });
  // Each label at most once.
  assert.equal(new Set(r.checkpoints.map((c) => c.label)).size, r.checkpoints.length);
  // Same clock on both hosts: the offset band must contain 0.
  assert.ok(r.clock.uncertainty_s !== null && Math.abs(r.clock.offset_s) <= r.clock.uncertainty_s);
  // The SYN's lineage: A1 → A4 → B3 → B4 → B5 with masquerade reported on the last hop.
  const syn = r.lineage[0]!;
  assert.deepEqual(syn.hops.map((h) => h.checkpoint), ['A1', 'A4', 'B3', 'B4', 'B5']);
  assert.match(syn.hops[4]!.transform ?? '', /SNAT 10\.0\.0\.1:45734 → 192\.168\.200\.2:45734/);
  assert.match(syn.hops[2]!.transform ?? '', /NAT 192\.168\.1\.11:51821 → 198\.51\.100\.1:51821/);
  for (const h of syn.hops.slice(1)) assert.ok(h.latency_s !== null && h.latency_s >= -r.clock.uncertainty_s! && h.latency_s < 0.01);
  const synack = r.lineage.find((l) => l.direction === 'reply')!;
  assert.deepEqual(synack.hops.map((h) => h.checkpoint), ['B6', 'B7', 'B8', 'A5', 'A6']);
  assert.match(synack.hops[1]!.transform ?? '', /un-SNAT 192\.168\.200\.2:45734 → 10\.0\.0\.1:45734/);
  // The article's odd line (the 200 OK entering B on eth0) is reported, without failing the verdict.
  const asym = r.findings.find((f) => f.class === 'asymmetric-routing');
  assert.ok(asym && asym.severity === 'warning' && asym.evidence.some((e) => e.capture === 'B' && e.frame === 18));
  assert.ok(r.findings.some((f) => f.class === 'nat' && f.checkpoint === 'B5'));
});

test('seed: an explicit --flow gives the same labels; bad selectors throw', () => {
  const r = run(A(), B(), 'tcp 192.168.200.22:80');
  assert.deepEqual(labels(r, 'A'), groundTruth('endpoint-a.checkpoints.tsv'));
  assert.deepEqual(labels(r, 'B'), groundTruth('host-beta.checkpoints.tsv'));
  assert.deepEqual(parseFlowSpec('udp 10.0.0.1:5000 -> 192.168.200.22:53'), { proto: 'udp', src: '10.0.0.1', sport: 5000, dst: '192.168.200.22', dport: 53 });
  assert.deepEqual(parseFlowSpec('tcp [fd00::22]:443'), { proto: 'tcp', dst: 'fd00::22', dport: 443 });
  assert.throws(() => parseFlowSpec('sctp 1.2.3.4:80'), /protocol/);
  assert.throws(() => parseFlowSpec('tcp 1.2.3:80'), /IPv4/);
  assert.throws(() => parseFlowSpec('tcp 1.2.3.4:99999'), /port/);
  assert.throws(() => parseFlowSpec(''), /empty/);
  assert.throws(() => run(A(), B(), 'tcp'), /flow/);
});

test('derived fault: B forwards nothing (eth1 lines removed) → B5 missing, firewall-or-routing on B', () => {
  // What B shows when its forward chain drops: the decrypted SYN, and no reply ever.
  const r = run(seedInput('endpoint-a.txt', keepPackets((_l, n) => n <= 4)), seedInput('host-beta.txt', keepPackets((_l, n) => n <= 4)));
  assert.equal(r.verdict.status, 'fail');
  assertMissing(r, 'B5', 'firewall-or-routing', 'B');
  const f = r.findings.find((x) => x.checkpoint === 'B5')!;
  assert.ok(f.next_steps.some((s) => s.includes('ip_forward')));
  assert.ok(f.evidence.some((e) => e.capture === 'B' && e.frame === 4));
});

test('derived fault: B silent after the initiation → B2 missing, wireguard-config-or-firewall on B', () => {
  const r = run(A(), seedInput('host-beta.txt', keepPackets((_l, n) => n === 1)));
  assertMissing(r, 'B2', 'wireguard-config-or-firewall', 'B');
  assert.equal(labels(r, 'B').get('B1'), 1);
});

test('derived fault: A never sees the 92-byte response → A3 missing, on the path', () => {
  const r = run(seedInput('endpoint-a.txt', keepPackets((_l, n) => n !== 3)), B());
  assertMissing(r, 'A3', 'firewall-or-routing', 'path');
});

test('derived fault: nothing decrypted on B (wg0 In removed) → B4 missing, wireguard-config on B', () => {
  const r = run(A(), seedInput('host-beta.txt', keepPackets((l) => !/ wg0 +In /.test(l))));
  assertMissing(r, 'B4', 'wireguard-config', 'B');
  assert.equal(labels(r, 'B').get('B3'), 3);
});

test('derived fault: no reply from the server (eth1 In removed) → B6 missing, site B', () => {
  const r = run(A(), seedInput('host-beta.txt', keepPackets((l) => !/ eth1 +In /.test(l) && !/ In {2}IP 192\.168\.200\.22/.test(l))));
  assertMissing(r, 'B6', 'firewall-or-routing', 'siteB');
});

test('derived fault: reply not put into the tunnel (wg0 Out removed on B) → B7 missing, firewall on B', () => {
  const r = run(A(), seedInput('host-beta.txt', keepPackets((l) => !/ wg0 +Out /.test(l))));
  assertMissing(r, 'B7', 'firewall', 'B');
});

test('derived fault: the reply leaves B by eth0 instead of wg0 → B7 missing, routing on B', () => {
  const rewrite = (lines: string[]): string[] => lines.map((l) => l.replace(/ wg0 {3}Out IP 192\.168\.200\.22\.80/, ' eth0  Out IP 192.168.200.22.80'));
  const r = run(A(), seedInput('host-beta.txt', rewrite));
  assertMissing(r, 'B7', 'routing', 'B');
});

test('derived fault: A decrypts nothing (wg0 In removed on A) → A6 missing, wireguard-config on A', () => {
  const r = run(seedInput('endpoint-a.txt', keepPackets((l) => !/ wg0 +In /.test(l))), B());
  assertMissing(r, 'A6', 'wireguard-config', 'A');
});

test('derived fault: the SYN leaves A on wlan0, not through the tunnel → A1 missing, routing on A', () => {
  const a = seedInput('endpoint-a.txt', (lines) => keepPackets((l) => !/UDP/.test(l) && !/ In /.test(l))(lines)
    .map((l) => l.replace(' wg0   Out IP 10.0.0.1.', ' wlan0 Out IP 192.168.1.11.')));
  const b = seedInput('host-beta.txt', keepPackets(() => false));
  const r = run(a, b);
  assertMissing(r, 'A1', 'routing', 'A');
  assert.match(r.findings[0]!.title, /wlan0/);
});

test('derived variant: handshake happened earlier (A2/A3/B1/B2 removed) → labels absent, verdict ok', () => {
  const r = run(seedInput('endpoint-a.txt', keepPackets((_l, n) => n !== 2 && n !== 3)),
    seedInput('host-beta.txt', keepPackets((_l, n) => n !== 1 && n !== 2)));
  assert.equal(r.verdict.status, 'ok');
  assert.equal(r.variant.handshake, 'recent');
  const a = labels(r, 'A'), b = labels(r, 'B');
  assert.equal(a.has('A2') || a.has('A3') || b.has('B1') || b.has('B2'), false);
  assert.equal(a.get('A4'), 2);
  assert.equal(b.get('B3'), 1);
  assert.equal(b.get('B8'), 6);
});

test('derived variant: point-to-point (the server is B itself, no eth1) → no B5/B6, verdict ok', () => {
  const p2p = (lines: string[]): string[] => keepPackets((l) => !/ eth1 /.test(l))(lines).map((l) => l.replaceAll('192.168.200.22', '10.0.0.2'));
  const r = run(seedInput('endpoint-a.txt', p2p), seedInput('host-beta.txt', p2p));
  assert.equal(r.verdict.status, 'ok', r.verdict.summary);
  assert.equal(r.variant.path, 'point-to-point');
  const b = labels(r, 'B');
  assert.equal(b.has('B5') || b.has('B6'), false);
  assert.ok(b.has('B7'));
});

/** A: the SYN, then handshake initiations every 5 s (and, optionally, a response after each). */
function retryingA(withResponses: boolean, dport = 51822): CaptureInput {
  const lines = [seedText('endpoint-a.txt').split('\n').find((l) => / wg0 +Out /.test(l))!];
  for (let i = 0; i < 4; i++) {
    const s = 20 + 5 * i;
    lines.push(`19:47:${s}.751785 wlan0 Out IP 192.168.1.11.51821 > 203.0.113.2.${dport}: UDP, length 148`);
    if (withResponses) lines.push(`19:47:${s}.753212 wlan0 In  IP 203.0.113.2.51822 > 192.168.1.11.51821: UDP, length 92`);
  }
  return { name: 'a.txt', packets: parseText(lines.join('\n')) };
}

test('derived fault: A2 repeated every 5 s, nothing reaches B → B1 missing, on the path', () => {
  const r = run(retryingA(false), { name: 'b.txt', packets: [] });
  assertMissing(r, 'B1', 'firewall-or-routing', 'path');
  assert.ok(r.findings.find((f) => f.checkpoint === 'B1')!.evidence.length >= 3);
});

test('derived fault: A2 and A3 interleaved and repeating → A4 missing, firewall on A', () => {
  const b: CaptureInput = { name: 'b.txt', packets: parseText([0, 1, 2, 3].map((i) => [
    `19:47:${20 + 5 * i}.752059 eth0  In  IP 198.51.100.1.51821 > 203.0.113.2.51822: UDP, length 148`,
    `19:47:${20 + 5 * i}.752802 eth0  Out IP 203.0.113.2.51822 > 198.51.100.1.51821: UDP, length 92`]).flat().join('\n')) };
  const r = run(retryingA(true), b);
  assertMissing(r, 'A4', 'firewall', 'A');
});

test('derived fault: A sends its handshake to the wrong port → wireguard-config on A', () => {
  const b = seedInput('host-beta.txt', keepPackets((l) => / length 32$/.test(l)));
  const r = run(retryingA(false, 51899), b);
  assertMissing(r, 'B1', 'wireguard-config', 'A');
});

test('derived fault: large segments vanish after small ones passed → mtu on the path', () => {
  const extra: string[] = [];
  for (const t of ['21.000000', '21.200000', '21.600000', '22.400000']) {
    extra.push(`19:47:${t} wg0   Out IP 10.0.0.1.45734 > 192.168.200.22.80: Flags [P.], seq 79:1447, ack 454, win 966, options [nop,nop,TS val 133589000 ecr 659394356], length 1368`);
    extra.push(`19:47:${t.slice(0, -1)}9 wlan0 Out IP 192.168.1.11.51821 > 203.0.113.2.51822: UDP, length 1456`);
  }
  const a = seedInput('endpoint-a.txt', (lines) => {
    const i = lines.findIndex((l) => l.includes('19:47:30.984489'));
    return [...lines.slice(0, i), ...extra, ...lines.slice(i)];
  });
  const r = run(a, B());
  assert.equal(r.verdict.status, 'fail');
  assert.equal(r.verdict.class, 'mtu');
  assert.equal(r.verdict.host, 'path');
  const f = r.findings.find((x) => x.class === 'mtu')!;
  assert.ok(f.evidence.length >= 2);
  assert.match(f.detail ?? '', /black hole/);
});

test('empty captures → inconclusive, no crash', () => {
  const r = run({ name: 'a', packets: [] }, { name: 'b', packets: [] });
  assert.equal(r.verdict.status, 'inconclusive');
  assert.equal(r.flow, null);
});

test('seed given in reverse order (Host β first): roles detected, each label stays with its file', () => {
  const r = run(B(), A());
  assert.equal(r.captures.A.role, 'responder');
  assert.equal(r.captures.B.role, 'initiator');
  assert.equal(r.verdict.status, 'ok');
  const inFile = (cap: 'A' | 'B') => new Map(r.checkpoints.filter((c) => c.capture === cap).map((c) => [c.label, c.frame]));
  assert.deepEqual(inFile('B'), groundTruth('endpoint-a.checkpoints.tsv'));
  assert.deepEqual(inFile('A'), groundTruth('host-beta.checkpoints.tsv'));
  assert.ok(r.findings.some((f) => /roles were swapped/.test(f.title)));
});

test('derived variant: hub-and-spoke (B forwards into its own tunnel to a third peer) → B5/B6 on wg0, verdict ok', () => {
  const hub = (lines: string[]): string[] => {
    const out: string[] = [];
    for (const l of lines) {
      if (/ eth1 {2}Out /.test(l)) {
        out.push(l.replace(' eth1  Out IP 192.168.200.2.', ' wg0   Out IP 10.0.0.1.'));
        out.push(l.replace(/ eth1 .*/, ' eth0  Out IP 203.0.113.2.51822 > 192.0.2.3.51823: UDP, length 96'));
      } else if (/ eth1 {2}In /.test(l)) {
        out.push(l.replace(/ eth1 .*/, ' eth0  In  IP 192.0.2.3.51823 > 203.0.113.2.51822: UDP, length 96'));
        out.push(l.replace(' eth1  In  IP ', ' wg0   In  IP ').replace('> 192.168.200.2.45734', '> 10.0.0.1.45734'));
      } else out.push(l);
    }
    return out;
  };
  const r = run(A(), seedInput('host-beta.txt', hub));
  assert.equal(r.verdict.status, 'ok', r.verdict.summary);
  assert.equal(r.variant.path, 'hub-and-spoke');
  const b = new Map(r.checkpoints.filter((c) => c.capture === 'B').map((c) => [c.label, c]));
  assert.equal(b.get('B5')!.iface, 'wg0');
  assert.equal(b.get('B5')!.dir, 'out');
  assert.equal(b.get('B6')!.iface, 'wg0');
  assert.equal(b.get('B7')!.iface, 'wg0');
  assert.equal(b.get('B4')!.frame, 4);
});

test('derived fault: A5/A6 repeated and A never answers → firewall on A', () => {
  const again = (lines: string[], pick: number[], shifts: string[]): string[] => {
    const pk = lines.filter(isPacket);
    const out = lines.filter((l) => !isPacket(l));
    for (let n = 1; n <= Math.max(...pick); n++) out.push(pk[n - 1]!);
    // The server retransmits its SYN-ACK after 1 s and 3 s.
    for (const s of shifts) for (const n of pick.filter((x) => x >= 5)) out.push(pk[n - 1]!.replace('19:47:20.', `19:47:${s}.`));
    return out;
  };
  const a = seedInput('endpoint-a.txt', (l) => again(l, [1, 2, 3, 4, 5, 6], ['21', '23']));
  const b = seedInput('host-beta.txt', (l) => again(l, [1, 2, 3, 4, 5, 6, 7, 8], ['21', '23']).filter((x) => !/ eth1 {2}Out /.test(x) || x.includes('20.753880')));
  const r = run(a, b);
  assert.equal(r.verdict.status, 'fail', r.verdict.summary);
  assert.equal(r.verdict.class, 'firewall');
  assert.equal(r.verdict.host, 'A');
  const f = r.findings.find((x) => x.checkpoint === 'A6' && x.class === 'firewall')!;
  assert.equal(f.evidence.filter((e) => e.capture === 'A').length, 3);
});
