// Carrier identity read from a column store's numbers (PacketList.tunnelIdsAt + each tunnel module's
// carrierKeyIds) against the packet path (carrierKey on the packet the store builds): the same group
// and ordinal for every packet of the WireGuard lab captures, the strongSwan captures and built
// neighbours (both kinds, ESP in UDP, missing fields, counters past 2^32 and 2^53, handshakes, IKE and
// NAT-T keepalives the store keeps whole), and the same analysis with the fast path on and off.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { PacketStore } from '../../../shared/ingest/packet-store.ts';
import type { Packet, TunnelIds, WireGuardInfo } from '../../../shared/protocols/packet.ts';
import { tunnelModules } from '../../../shared/analysis/tunnels/index.ts';
import { carrierIdsFromNumbers } from '../../../shared/analysis/carriers.ts';
import { analyze } from '../../../shared/analysis/index.ts';
import { preparePair } from '../../../shared/analysis/prepare.ts';
import { loadStore, IPSEC_CAPTURES, ipsecSets, labSets } from './helpers.ts';
import { synthBulk } from './synth.ts';

const { dir: lab, scenarios, skip: skipLab } = labSets('carrier-ids lab cases');

type Key = [number | string | null, number];

/** carriers.ts's chain on the packet: the first module that names a group. */
function packetKey(p: Packet, olen: number): Key {
  for (const m of tunnelModules()) {
    const ord = { n: -1 };
    const k = m.carrierKey(p, olen, ord);
    if (k !== null) return [k, ord.n];
  }
  return [null, -1];
}

/** The same chain from the numbers; undefined when a module leaves it open (the packet is asked then). */
function idsKey(x: TunnelIds, olen: number): Key | undefined {
  for (const m of tunnelModules()) {
    if (m.carrierKeyIds === undefined) return undefined;
    const ord = { n: -1 };
    const k = m.carrierKeyIds(x, olen, ord);
    if (k === undefined) return undefined;
    if (k !== null) return [k, ord.n];
  }
  return [null, -1];
}

const newIds = (): TunnelIds => ({ wgType: 9, wgSender: 9, wgReceiver: 9, wgCounter: 9, espSpi: 9, espSeq: 9 });

/**
 * Every packet of `store`: where the store offers its numbers, the packet has none of the fields they
 * cannot show, each module's answer from them equals its answer on the packet, and so does the chain.
 * Returns how many packets were offered as numbers and how many of those were keyed.
 */
function compare(store: PacketStore, what: string): { offered: number; keyed: number } {
  const x = newIds();
  let offered = 0, keyed = 0;
  for (let i = 0; i < store.length; i++) {
    const p = store.at(i)!;
    const olen = p.udp?.len ?? -1;
    if (!store.tunnelIdsAt(i, x)) continue;
    offered++;
    assert.equal(p.ike, undefined, `${what} #${i}: offered as numbers, so no IKE`);
    assert.equal(p.nattKeepalive, undefined, `${what} #${i}: no NAT-T keepalive`);
    // The numbers themselves: what the packet's headers say, -1 for what they lack.
    const w = p.wg;
    assert.equal(x.wgType, w?.type ?? 0, `${what} #${i}: type`);
    assert.equal(x.wgSender, w?.sender ?? -1, `${what} #${i}: sender`);
    assert.equal(x.wgReceiver, w?.receiver ?? -1, `${what} #${i}: receiver`);
    assert.equal(x.wgCounter, w?.counter !== undefined ? Number(w.counter) : -1, `${what} #${i}: counter`);
    assert.equal(x.espSpi, p.esp?.spi ?? -1, `${what} #${i}: spi`);
    assert.equal(x.espSeq, p.esp?.seq ?? -1, `${what} #${i}: seq`);
    for (const m of tunnelModules()) {
      if (m.carrierKeyIds === undefined) continue;
      const o1 = { n: -1 }, o2 = { n: -1 };
      const k1 = m.carrierKeyIds(x, olen, o1);
      if (k1 === undefined) continue;
      const k2 = m.carrierKey(p, olen, o2);
      assert.deepEqual([k1, k1 === null ? -1 : o1.n], [k2, k2 === null ? -1 : o2.n], `${what} #${i}: ${m.kind} from numbers and from the packet`);
    }
    const k = idsKey(x, olen);
    if (k !== undefined) assert.deepEqual(k, packetKey(p, olen), `${what} #${i}: the chain`);
    if (k !== undefined && k[0] !== null) keyed++;
  }
  return { offered, keyed };
}

function wgPacket(frame: number, wg: WireGuardInfo | undefined, over?: Partial<Packet>): Packet {
  const p: Packet = {
    frame, tsSec: 1700000000, tsNsec: frame * 1000, iface: 'eth0', ifaceId: 0, dir: 'out', linktype: 1, caplen: 170, len: 170,
    src: '192.0.2.1', dst: '198.51.100.7', proto: wg !== undefined ? 'wireguard' : 'udp', sport: 51820, dport: 51820,
    ip: { v: 4, id: frame, ttl: 64, len: 156, df: false, proto: 17 }, udp: { len: 128 }, summary: '', ...over,
  };
  if (wg !== undefined) p.wg = wg;
  return p;
}

/** Neighbours of the bulk case built here: every WireGuard type, fields missing, big counters, ESP, ESP in UDP, IKE, keepalives, TCP. */
function builtStore(): PacketStore {
  const s = new PacketStore();
  let f = 1;
  const counters = ['0', '1', '4294967295', '4294967296', '4294967297', String(2 ** 40 + 17), String(Number.MAX_SAFE_INTEGER), '18446744073709551615'];
  for (const c of counters) s.push(wgPacket(f++, { type: 4, receiver: 0x80000001, counter: c }));
  for (const w of [{ type: 4, receiver: 5 }, { type: 4, counter: '9' }, { type: 4 }, { type: 1, sender: 0xffffffff }, { type: 1 },
    { type: 2, sender: 1, receiver: 2 }, { type: 2, sender: 1 }, { type: 2, receiver: 2 }, { type: 3, receiver: 0 }, { type: 3 }] as WireGuardInfo[]) {
    s.push(wgPacket(f++, w));
  }
  // Plain UDP, ESP, ESP in UDP 4500, IKE and a NAT-T keepalive (the last two stay the decoder's objects).
  s.push(wgPacket(f++, undefined));
  s.push(wgPacket(f++, undefined, { proto: 'esp', sport: undefined, dport: undefined, udp: undefined, esp: { spi: 0xc0010203, seq: 7 }, ip: { v: 4, id: 1, ttl: 64, len: 156, df: false, proto: 50 } }));
  s.push(wgPacket(f++, undefined, { proto: 'esp', sport: 4500, dport: 4500, esp: { spi: 0x1234, seq: 4294967295 } }));
  s.push(wgPacket(f++, undefined, { proto: 'isakmp', sport: 500, dport: 500, ike: { ispi: '0011223344556677', rspi: '0000000000000000', version: 2, exchange: 34, msgid: 0 } }));
  s.push(wgPacket(f++, undefined, { proto: 'udp', sport: 4500, dport: 4500, udp: { len: 9 }, nattKeepalive: true }));
  s.push(wgPacket(f++, undefined, { proto: 'tcp', sport: 40000, dport: 80, udp: undefined, tcp: { flags: 'S', seq: 1, ack: 0, win: 500, len: 0 }, ip: { v: 4, id: 2, ttl: 64, len: 60, df: true, proto: 6 } }));
  return s;
}

test('tunnelIdsAt + carrierKeyIds: built neighbours give the packet path\'s keys, and only column rows are offered', () => {
  const s = builtStore();
  const { offered, keyed } = compare(s, 'built');
  // Offered: every row but the counter past 2^53, the IKE packet and the keepalive (kept whole).
  assert.equal(offered, s.length - 3);
  // Keyed: complete headers of each type (7 counters within 2^53, receiver-only 4 has no counter) and both ESP forms.
  assert.equal(keyed, 7 + 1 + 1 + 1 + 2);
  const x = newIds();
  for (const i of [-1, s.length, NaN]) assert.equal(s.tunnelIdsAt(i, x), false, `position ${i}`);
  // The big counters are exact (the high half is the tsecr column's, the low half tsval's).
  assert.equal(s.tunnelIdsAt(4, x), true);
  assert.equal(x.wgCounter, 4294967297);
  assert.equal(s.tunnelIdsAt(6, x), true);
  assert.equal(x.wgCounter, Number.MAX_SAFE_INTEGER);
});

test('a wrong answer from the numbers is caught: a module that misreads the counter differs from the packet path', () => {
  const s = builtStore();
  const wg = tunnelModules().find((m) => m.kind === 'wireguard')!;
  const good = wg.carrierKeyIds!;
  // Off by one for counters past 2^32 only: the kind of slip a split into 32-bit halves makes.
  (wg as { carrierKeyIds: typeof good }).carrierKeyIds = (x, olen, ord) => {
    const k = good(x, olen, ord);
    if (x.wgType === 4 && x.wgCounter > 0xffffffff) ord.n = x.wgCounter - 1;
    return k;
  };
  try {
    assert.throws(() => compare(s, 'broken'), /from numbers and from the packet/);
  } finally {
    (wg as { carrierKeyIds: typeof good }).carrierKeyIds = good;
  }
  compare(s, 'restored');
});

test('tunnelIdsAt + carrierKeyIds on every packet of the WireGuard lab captures', { skip: skipLab }, async () => {
  let offered = 0, keyed = 0;
  for (const sc of scenarios) {
    for (const h of ['A', 'B']) {
      const r = compare(await loadStore(join(lab, sc, `${h}-any.pcap`), join(lab, sc, `${h}-links.txt`)), `${sc}/${h}`);
      offered += r.offered; keyed += r.keyed;
    }
  }
  assert.ok(keyed > 100, `lab carriers keyed from numbers: ${keyed} of ${offered}`);
});

test('tunnelIdsAt + carrierKeyIds on every packet of the strongSwan captures', async () => {
  assert.ok(ipsecSets.length > 0, `IPsec capture sets in ${IPSEC_CAPTURES}`);
  let keyed = 0;
  for (const sc of ipsecSets) {
    for (const h of ['A', 'B']) keyed += compare(await loadStore(join(IPSEC_CAPTURES, sc, `${h}-any.pcap`)), `${sc}/${h}`).keyed;
  }
  assert.ok(keyed > 0, 'some ESP keyed from numbers');
});

/** The analysis with carrier identities from numbers and from packets. */
function both(a: Packet[] | PacketStore, b: Packet[] | PacketStore): [string, string] {
  try {
    carrierIdsFromNumbers(true);
    const fast = JSON.stringify(analyze({ name: 'a', packets: a }, { name: 'b', packets: b }));
    carrierIdsFromNumbers(false);
    const slow = JSON.stringify(analyze({ name: 'a', packets: a }, { name: 'b', packets: b }));
    return [fast, slow];
  } finally {
    carrierIdsFromNumbers(true);
  }
}

test('analysis: the same result with identities from numbers and from packets (lab, strongSwan)', { skip: skipLab }, async () => {
  let total = 0;
  for (const [dir, sets] of [[lab, scenarios], [IPSEC_CAPTURES, ipsecSets]] as const) {
    for (const sc of sets) {
      const link = (h: string): string | undefined => (existsSync(join(dir, sc, `${h}-links.txt`)) ? join(dir, sc, `${h}-links.txt`) : undefined);
      const a = await loadStore(join(dir, sc, 'A-any.pcap'), link('A')), b = await loadStore(join(dir, sc, 'B-any.pcap'), link('B'));
      // Counts the rows handed out as numbers: the fast path must be the one taken, and only when on.
      let used = 0;
      for (const s of [a, b]) {
        const read = s.tunnelIdsAt.bind(s);
        s.tunnelIdsAt = (i, x) => { const ok = read(i, x); if (ok) used++; return ok; };
      }
      carrierIdsFromNumbers(false);
      analyze({ name: 'a', packets: a }, { name: 'b', packets: b });
      assert.equal(used, 0, `${sc}: numbers not read when turned off`);
      carrierIdsFromNumbers(true);
      const [fast, slow] = both(a, b);
      assert.equal(fast, slow, sc);
      total += used;
    }
  }
  assert.ok(total > 500, `carriers read as numbers in the analyses: ${total}`);
});

test('analysis: a built bulk pair with counters past 2^32, in a store, the same either way', () => {
  const { a, b } = synthBulk({ rounds: 3000, period: 0.0002, wgFields: true, offset: 0.75, skewPpm: 20, seed: 11 });
  // Counters moved past 2^32 on both hosts alike (the same datagram keeps its counter across the path).
  const lift = (ps: Packet[]): PacketStore => {
    const s = new PacketStore();
    for (const p of ps) {
      if (p.wg?.counter !== undefined) p.wg = { ...p.wg, counter: String(Number(p.wg.counter) + 2 ** 32 - 1000) };
      // An IPv4 identification and DF flag, as a decoder gives them: the store keeps such packets as columns.
      if (p.ip?.v === 4) p.ip = { ...p.ip, id: p.frame & 0xffff, df: false };
      s.push(p);
    }
    return s;
  };
  const sa = lift(a), sb = lift(b);
  const x = newIds();
  let big = 0;
  for (let i = 0; i < sa.length; i++) if (sa.tunnelIdsAt(i, x) && x.wgCounter > 0xffffffff) big++;
  assert.ok(big > 1000, `counters past 2^32 offered as numbers: ${big}`);
  const [fast, slow] = both(sa, sb);
  assert.equal(fast, slow);
  const r = JSON.parse(fast) as { verdict: { status: string } };
  assert.equal(r.verdict.status, 'ok');
});

test('analysis: records reordered by time (file order not time order) read the right row either way', () => {
  const { a, b } = synthBulk({ rounds: 3000, period: 0.0002, wgFields: true, offset: 0.75, skewPpm: 20, seed: 5 });
  // Every 7th neighbour pair swapped in the file (two interfaces written out of step): the
  // preparation orders records by time, so a record's file position comes through its permutation.
  const store = (ps: Packet[]): PacketStore => {
    const q = ps.map((p) => (p.ip?.v === 4 ? { ...p, ip: { ...p.ip, id: p.frame & 0xffff, df: false } } : p));
    for (let k = 0; k + 1 < q.length; k += 7) { const x = q[k]!; q[k] = q[k + 1]!; q[k + 1] = x; }
    const s = new PacketStore();
    for (const p of q) s.push(p);
    return s;
  };
  const sa = store(a), sb = store(b);
  const [pa] = preparePair({ name: 'a', packets: sa }, { name: 'b', packets: sb });
  assert.notEqual(pa.perm, null, 'the records were reordered');
  const [fast, slow] = both(sa, sb);
  assert.equal(fast, slow);
  assert.equal((JSON.parse(fast) as { verdict: { status: string } }).verdict.status, 'ok');
});
