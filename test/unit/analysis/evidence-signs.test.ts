// Firewall-log records and ICMP errors as evidence, on real lab captures with the evidence a host
// would add: an NFLOG copy of the dropped packet (as `dumpcap -i nflog:5` writes it next to the
// other interfaces), and ICMP errors quoting the handshake initiation (as the kernel sends them).
// Neighbours: the log record before/after the packet, a pass record, a hostile prefix, a record of
// other traffic; port unreachable vs administratively prohibited vs a router's host unreachable.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { loadCompact } from '../../../shared/ingest/load-capture.ts';
import { toPlainPacket } from '../../../shared/ingest/packet-store.ts';
import { openCapture } from '../../../bin/cli/io.ts';
import { analyze, type CaptureInput } from '../../../shared/analysis/index.ts';
import type { FirewallLogInfo, Packet } from '../../../shared/protocols/packet.ts';
import { seedInput } from './helpers.ts';

const FIX = fileURLToPath(new URL('../../e2e/fixtures/', import.meta.url));

async function load(path: string): Promise<{ name: string; file: string; packets: Packet[]; interfaces?: CaptureInput['interfaces'] }> {
  const r = await loadCompact(openCapture(path), { summary: false });
  return { name: path, file: path, packets: Array.from(r.packets, (p) => toPlainPacket(p)), interfaces: r.interfaces };
}

/** B's capture with an NFLOG copy of every packet `pick` selects, `dt` seconds after it. */
function withLog(b: Awaited<ReturnType<typeof load>>, pick: (p: Packet) => boolean, log: FirewallLogInfo, dt = 0): CaptureInput {
  const out: Packet[] = [];
  let frame = 0;
  const ifaceId = (b.interfaces?.length ?? 0);
  for (const p of b.packets) {
    out.push({ ...p, frame: ++frame });
    if (!pick(p)) continue;
    const ns = p.tsNsec + Math.round(dt * 1e9);
    out.push({ ...p, frame: ++frame, iface: 'nflog:5', ifaceId, linktype: 239, dir: null, tsSec: p.tsSec + Math.floor(ns / 1e9), tsNsec: ns % 1e9, fwlog: log });
  }
  return { ...b, packets: out, interfaces: [...(b.interfaces ?? []), { name: 'nflog:5', linktype: 239 }] };
}

const isB4 = (p: Packet): boolean => p.iface === 'wg0' && p.tcp !== undefined && p.tcp.flags === 'S';

test('NFLOG record of the dropped SYN: verdict firewall on B naming the prefix; the copy is no checkpoint', async () => {
  const a = await load(`${FIX}lab-b-no-forward/A.pcapng`);
  const b0 = await load(`${FIX}lab-b-no-forward/B.pcapng`);
  for (const dt of [0.00001, -0.00001]) {
    const b = withLog(b0, isB4, { source: 'nflog', prefix: 'tdm-fwd-drop ', group: 5 }, dt);
    const r = analyze(a, b);
    assert.deepEqual([r.verdict.status, r.verdict.first_missing, r.verdict.class, r.verdict.host], ['fail', 'B5', 'firewall', 'B'], JSON.stringify(r.verdict));
    const f = r.findings.find((x) => x.rule === 'fwlog-drop')!;
    assert.match(f.title, /log prefix "tdm-fwd-drop "/);
    assert.match(f.title, /NFLOG group 5/);
    const logFrames = new Set(Array.from(b.packets).filter((p) => p.fwlog !== undefined).map((p) => p.frame));
    assert.ok(f.evidence.some((e) => e.capture === 'B' && logFrames.has(e.frame)), 'the log record is the evidence');
    assert.ok(!r.checkpoints.some((c) => c.capture === 'B' && logFrames.has(c.frame)), 'a log copy became a checkpoint');
    assert.ok(!r.captures.B.interfaces.some((i) => i.name === 'nflog:5'), 'the log interface is not a path interface');
  }
});

test('NFLOG neighbours: a pass record, other traffic logged, or a hostile prefix', async () => {
  const a = await load(`${FIX}lab-b-no-forward/A.pcapng`);
  const b0 = await load(`${FIX}lab-b-no-forward/B.pcapng`);
  // A log rule that accepts: no drop evidence, the verdict stays open between firewall and routing.
  let r = analyze(a, withLog(b0, isB4, { source: 'nflog', prefix: 'tdm-fwd-seen ', group: 5 }));
  assert.equal(r.verdict.class, 'firewall-or-routing');
  // A drop record of something else (ARP, other hosts) is not about the test packet.
  r = analyze(a, withLog(b0, (p) => p.arp !== undefined, { source: 'nflog', prefix: 'drop-all ', group: 5 }));
  assert.equal(r.verdict.class, 'firewall-or-routing');
  assert.equal(r.findings.find((x) => x.rule === 'fwlog-drop'), undefined);
  // pflog's own action word, and a prefix with terminal escapes and quotes: shown as data.
  r = analyze(a, withLog(b0, isB4, { source: 'pflog', action: 'block', reason: 'match', rule: '5/0', ifname: 'wg0', dir: 'in' }));
  assert.equal(r.verdict.class, 'firewall');
  assert.match(r.verdict.summary, /pf rule "5\/0"/);
  r = analyze(a, withLog(b0, isB4, { source: 'nflog', prefix: 'DROP\u001b]0;owned\u0007"x', group: 5 }));
  const f = r.findings.find((x) => x.rule === 'fwlog-drop')!;
  // eslint-disable-next-line no-control-regex
  assert.ok(!/[\u0000-\u001f]/.test(f.title), JSON.stringify(f.title));
  assert.match(f.title, /\\x1b\]0;owned\\x07\\"x/);
});

/**
 * The seed exchange cut after the handshake initiation (A1, A2 on A; B1 on B), answered by an ICMP
 * error from B (B's capture shows it leave, A's arrive) or from a router before B (B sees nothing).
 */
function icmpSeed(type: number, code: number, from: 'B' | 'router', bLists?: 'wg0' | 'none'): { a: CaptureInput; b: CaptureInput } {
  const a = seedInput('endpoint-a.txt');
  const b = seedInput('host-beta.txt');
  const aInit = a.packets.at(1)!, bInit = b.packets.at(0)!;
  assert.equal(aInit.udp?.len, 148);
  assert.equal(bInit.udp?.len, 148);
  const src = from === 'B' ? aInit.dst! : '198.51.100.1';
  const icmp = (p: Packet, dst: string, frame: number, dir: 'in' | 'out'): Packet => {
    const q: Packet = { ...p, frame, dir, src, dst, proto: 'icmp', tsNsec: p.tsNsec + 300_000, summary: `IP ${src} > ${dst}: ICMP` };
    delete q.sport; delete q.dport; delete q.udp; delete q.wg;
    q.icmp = { v: 4, type, code, orig: { src: p.src!, dst: p.dst!, proto: 17, sport: p.sport, dport: p.dport } };
    return q;
  };
  const aPk = [a.packets.at(0)!, aInit, icmp(aInit, aInit.src!, 3, 'in')];
  const bPk = from === 'B' ? [bInit, icmp(bInit, bInit.src!, 2, 'out')] : [];
  const interfaces = bLists === 'wg0' ? [{ name: 'eth0', linktype: 1 }, { name: 'wg0', linktype: 12 }] : bLists === 'none' ? [{ name: 'eth0', linktype: 1 }, { name: 'eth1', linktype: 1 }] : undefined;
  return { a: { ...a, packets: aPk }, b: { ...b, packets: bPk, ...(interfaces ? { interfaces } : {}) } };
}

test('ICMP port unreachable from B for the initiation: nothing listens there, B2, tunnel config', () => {
  const { a, b } = icmpSeed(3, 3, 'B');
  let r = analyze(a, b);
  // Nothing says whether the tunnel runs on B: the port A sends to is the first suspect (host A).
  assert.equal(r.verdict.host, 'A', JSON.stringify(r.verdict));
  // B's capture lists its tunnel interface: host A again.
  let w = icmpSeed(3, 3, 'B', 'wg0');
  r = analyze(w.a, w.b);
  assert.equal(r.verdict.host, 'A', JSON.stringify(r.verdict));
  // B's capture lists its interfaces and no tunnel: it may be down on B (host B).
  w = icmpSeed(3, 3, 'B', 'none');
  r = analyze(w.a, w.b);
  assert.equal(r.verdict.host, 'B', JSON.stringify(r.verdict));
  // Short text without the quoted header: the error to A's carrier address still counts.
  w = icmpSeed(3, 3, 'B');
  for (const p of [...w.a.packets, ...w.b.packets]) if (p.icmp !== undefined) delete p.icmp.orig;
  r = analyze(w.a, w.b);
  assert.deepEqual([r.verdict.first_missing, r.verdict.class], ['B2', 'wireguard-config'], JSON.stringify(r.verdict));
  assert.equal(r.verdict.first_missing, 'B2', JSON.stringify(r.verdict));
  assert.equal(r.verdict.class, 'wireguard-config');
  const f = r.findings.find((x) => x.rule === 'icmp-carrier-refused')!;
  assert.match(f.title, /port unreachable/);
  assert.match(f.detail!, /UDP port 51822/);
  assert.ok(f.evidence.some((e) => e.capture === 'B') && f.evidence.some((e) => e.capture === 'A'));
});

test('ICMP neighbours: administratively prohibited from B (firewall on B), host unreachable from a router (routing on the path)', () => {
  let { a, b } = icmpSeed(3, 13, 'B');
  let r = analyze(a, b);
  assert.deepEqual([r.verdict.class, r.verdict.host], ['firewall', 'B'], JSON.stringify(r.verdict));
  ({ a, b } = icmpSeed(3, 1, 'router'));
  r = analyze(a, b);
  assert.deepEqual([r.verdict.first_missing, r.verdict.class, r.verdict.host], ['B1', 'routing', 'path'], JSON.stringify(r.verdict));
  ({ a, b } = icmpSeed(3, 13, 'router'));
  r = analyze(a, b);
  assert.deepEqual([r.verdict.first_missing, r.verdict.class, r.verdict.host], ['B1', 'firewall', 'path'], JSON.stringify(r.verdict));
  assert.match(r.verdict.summary, /198\.51\.100\.1/);
});

test('the destination answers the SYN with an ICMP error instead of SYN-ACK: named at B6 (port closed vs prohibited)', () => {
  for (const [code, want] of [[3, /port unreachable/], [13, /administratively prohibited/]] as const) {
    const a = seedInput('endpoint-a.txt'), b = seedInput('host-beta.txt');
    // B6: the server's answer entering B's LAN interface, rewritten into the ICMP error it would send.
    const pk = Array.from(b.packets);
    const syn = pk.find((p) => p.iface === 'eth1' && p.tcp?.flags === 'S')!;
    const i = pk.findIndex((p) => p.iface === 'eth1' && p.tcp?.flags === 'S.');
    const q: Packet = { ...pk[i]!, proto: 'icmp', summary: 'ICMP' };
    delete q.tcp; delete q.sport; delete q.dport;
    q.icmp = { v: 4, type: 3, code, orig: { src: syn.src!, dst: syn.dst!, proto: 6, sport: syn.sport, dport: syn.dport } };
    pk[i] = q;
    const r = analyze(a, { ...b, packets: pk });
    const f = r.findings.find((x) => x.rule === 'destination-refuses-icmp');
    assert.ok(f !== undefined, `${code}: ${r.findings.map((x) => x.rule).join(',')} ${JSON.stringify(r.checkpoints.map((c) => c.label))}`);
    assert.match(f.title, want);
    assert.equal(f.checkpoint, 'B6');
  }
});
