// Roles come from the packets, not from the order the files were given in: every real capture pair
// we have (IPsec lab sets in four input forms, the WireGuard lab fixtures, the seed text), given in
// reverse order, must yield the same verdict with every checkpoint still in the file that holds it,
// and say that the roles were swapped.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { loadCompact } from '../../../shared/ingest/load-capture.ts';
import { parseIpLink } from '../../../shared/capture-file/links.ts';
import { openCapture } from '../../../bin/cli/io.ts';
import { analyze, type AnalysisResult, type CaptureInput } from '../../../shared/analysis/index.ts';
import { decideRoles } from '../../../shared/analysis/roles.ts';
import type { Packet } from '../../../shared/protocols/packet.ts';
import { LAB_FORMS } from './helpers.ts';

const IPSEC = fileURLToPath(new URL('../../lab/ipsec/', import.meta.url));
const E2E = fileURLToPath(new URL('../../e2e/fixtures/', import.meta.url));

async function load(path: string, links?: string): Promise<CaptureInput> {
  const linkNames = links === undefined ? undefined : parseIpLink(readFileSync(links, 'utf8'));
  const r = await loadCompact(openCapture(path), { summary: false, linkNames });
  return { name: path.split('/').slice(-2).join('/'), file: path, packets: r.packets, interfaces: r.interfaces };
}

/** Checkpoints keyed by label, naming the file (not the position) that holds each. */
function byFile(r: AnalysisResult, names: Record<'A' | 'B', string>): Map<string, string> {
  return new Map(r.checkpoints.map((c) => [c.label, `${names[c.capture]}#${c.frame}`]));
}

async function checkBothOrders(dir: string, fa: string, fb: string, flow: string | undefined, links: boolean): Promise<void> {
  const a = await load(dir + fa, links ? `${dir}A-links.txt` : undefined);
  const b = await load(dir + fb, links ? `${dir}B-links.txt` : undefined);
  const opts = flow !== undefined ? { flow } : {};
  const given = analyze(a, b, opts);
  const reversed = analyze(b, a, opts);
  const ctx = `${dir} ${fa}/${fb}: ${JSON.stringify(given.verdict)} vs ${JSON.stringify(reversed.verdict)}`;
  assert.equal(given.captures.A.role_swapped, undefined, `given order must not swap: ${ctx}`);
  assert.equal(reversed.captures.A.role_swapped, true, `reversed order must swap: ${ctx}`);
  assert.equal(reversed.captures.B.role_swapped, true, ctx);
  assert.equal(reversed.captures.A.name, b.name, 'captures keep the files given');
  assert.equal(reversed.verdict.status, given.verdict.status, ctx);
  assert.equal(reversed.verdict.first_missing, given.verdict.first_missing, ctx);
  assert.equal(reversed.verdict.class, given.verdict.class, ctx);
  assert.equal(reversed.verdict.host, given.verdict.host, `hosts are roles, not file positions: ${ctx}`);
  assert.deepEqual(byFile(reversed, { A: b.name, B: a.name }), byFile(given, { A: a.name, B: b.name }), ctx);
  const swapNote = reversed.findings.find((f) => f.rule === 'roles-swapped');
  assert.ok(swapNote !== undefined && /roles were swapped/.test(swapNote.title), ctx);
  assert.match(swapNote!.detail ?? '', /from the packets/);
}

const FORMS = LAB_FORMS;

const ipsec = JSON.parse(readFileSync(`${IPSEC}scenarios.json`, 'utf8')) as { scenarios: Array<{ name: string; flow: string }> };
for (const s of ipsec.scenarios) {
  for (const f of FORMS) {
    const dir = `${IPSEC}captures/${s.name}/`;
    const need = [f.a, f.b, ...(f.links ? ['A-links.txt', 'B-links.txt'] : [])].filter((x) => !existsSync(dir + x));
    test(`IPsec ${s.name} from ${f.title}, files given in reverse: roles from the data`, { skip: need.length ? `no checked-in ${need.join(', ')}` : false }, async () => {
      await checkBothOrders(dir, f.a, f.b, s.flow, f.links);
    });
  }
}

for (const name of readdirSync(E2E)) {
  const dir = `${E2E}${name}/`;
  if (!existsSync(`${dir}A.pcapng`) || !existsSync(`${dir}B.pcapng`)) continue;
  test(`WireGuard lab ${name} (pcapng without direction flags), files given in reverse: roles from the data`, async () => {
    await checkBothOrders(dir, 'A.pcapng', 'B.pcapng', undefined, false);
  });
}

test('keepGivenRoles analyses in the order given', async () => {
  const dir = `${E2E}lab-b-no-forward/`;
  const a = await load(`${dir}A.pcapng`), b = await load(`${dir}B.pcapng`);
  const r = analyze(b, a, { keepGivenRoles: true });
  assert.equal(r.captures.A.role_swapped, undefined);
  assert.equal(r.captures.A.name, b.name);
  assert.ok(!r.findings.some((f) => f.rule === 'roles-swapped'));
});

// Neighbours of the signals, on small hand-made packet lists.
function pkt(frame: number, t: number, extra: Partial<Packet>): Packet {
  return { frame, tsSec: 1_700_000_000 + Math.floor(t), tsNsec: Math.round((t % 1) * 1e9), iface: '', ifaceId: 0, dir: null, linktype: 1, caplen: 100, len: 100, proto: 'udp', summary: '', ...extra };
}
const init = (frame: number, t: number, ttl: number, dir: Packet['dir'] = null): Packet => pkt(frame, t, {
  src: '198.51.100.1', dst: '203.0.113.2', sport: 51821, dport: 51822, proto: 'wireguard', dir,
  ip: { v: 4, ttl, len: 176, proto: 17 }, udp: { len: 148 }, wg: { type: 1, sender: 0x1234 },
});
const syn = (frame: number, t: number, dir: Packet['dir'] = null): Packet => pkt(frame, t, {
  src: '10.0.0.1', dst: '192.168.200.22', sport: 40000, dport: 80, proto: 'tcp', linktype: 101, iface: 'wg0', dir,
  ip: { v: 4, ttl: 64, len: 60, proto: 6 }, tcp: { flags: 'S', seq: 1, ack: 0, win: 64240, len: 0 },
});
const cap = (name: string, packets: Packet[]): CaptureInput => ({ name, packets });

test('TTL alone: the copy of the initiation with the higher TTL was sent there', () => {
  const initiator = cap('i', [init(1, 0.0, 64)]), responder = cap('r', [init(1, 0.01, 62)]);
  assert.equal(decideRoles(initiator, responder).swap, false);
  const d = decideRoles(responder, initiator);
  assert.equal(d.swap, true);
  assert.deepEqual(d.signals, ['ttl']);
  assert.match(d.reason ?? '', /higher TTL \(64 against 62\)/);
});

test('order alone (no TTL difference, no direction): the SYN before the handshake marks the initiator', () => {
  const initiator = cap('i', [syn(1, 0.0), init(2, 0.001, 64)]);
  const responder = cap('r', [init(1, 0.01, 64), syn(2, 0.02)]);
  assert.equal(decideRoles(initiator, responder).swap, false);
  assert.equal(decideRoles(responder, initiator).swap, true);
  assert.deepEqual(decideRoles(responder, initiator).signals, ['order']);
});

test('direction flags beat nothing; contradicting signals keep the given order and say so', () => {
  const i = cap('i', [init(1, 0, 64, 'out')]), r = cap('r', [init(1, 0.01, 62, 'in')]);
  assert.equal(decideRoles(r, i).swap, true);
  // Both files claim to send the initiation: no swap, a conflict.
  const both = decideRoles(cap('x', [init(1, 0, 64, 'out')]), cap('y', [init(1, 0, 64, 'out')]));
  assert.equal(both.swap, false);
  assert.equal(both.conflict, true);
});

test('no signal at all (two empty captures, or unrelated traffic): order given is kept', () => {
  assert.deepEqual(decideRoles(cap('a', []), cap('b', [])), { swap: false, signals: [], reason: null, conflict: false });
  const dns = pkt(1, 0, { src: '10.0.0.1', dst: '10.0.0.53', sport: 5000, dport: 53, udp: { len: 40 } });
  assert.equal(decideRoles(cap('a', [dns]), cap('b', [dns])).swap, false);
});
