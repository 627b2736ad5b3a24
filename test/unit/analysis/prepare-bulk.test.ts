// The per-capture preparation's bulk paths against the plain ones: a store's readTimes against
// reading each packet, and prepareCapture over a store (columns read in bulk) against the same
// packets as plain objects and behind a list without readTimes. Times, the time order (nearly
// sorted, interleaved interface runs, many interface blocks, shuffled), interface counts and firewall-log records are also
// checked against references written the slow, obvious way.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PacketStore, toPlainPacket } from '../../../shared/ingest/packet-store.ts';
import { atOnly, loadStore } from './helpers.ts';
import { captureStats, ifaceKeyOf, prepareCapture, type PreparedCapture } from '../../../shared/analysis/prepare.ts';
import type { Packet, PacketList } from '../../../shared/protocols/packet.ts';
import { mulberry32 } from './synth.ts';

const lab = process.env.TANDEM_LAB_DIR ?? '/tmp/tandem-lab';
const scenarios = existsSync(lab) ? readdirSync(lab).filter((s) => existsSync(join(lab, s, 'B-any.pcap'))).sort() : [];
const skipLab = scenarios.length > 0 ? false : `no lab captures in ${lab} (run test/lab/lab.sh --out ${lab} all, or set TANDEM_LAB_DIR)`;
if (skipLab) console.log(`# skip prepare-bulk lab cases: ${skipLab}`);
const CORPUS = fileURLToPath(new URL('../../../../shared/corpus/tcpdump-tests/', import.meta.url));



function prepare(p: PacketList, other: ReadonlySet<number>): PreparedCapture {
  return prepareCapture(p, captureStats(p), other);
}

/** What a preparation must say about times and order, computed the obvious way from plain packets. */
function checkAgainstReference(packets: Packet[], prep: PreparedCapture, what: string): void {
  const base = Math.min(...packets.map((p) => p.tsSec));
  const tOf = (p: Packet): number => (p.tsSec - base) + p.tsNsec * 1e-9;
  const kept = packets.map((p, j) => ({ p, j, t: tOf(p) })).filter((x) => x.p.fwlog === undefined);
  kept.sort((x, y) => x.t - y.t || x.j - y.j);
  assert.equal(prep.baseSec, packets.length > 0 ? base : Infinity, `${what}: base`);
  // Compared as typed arrays: element by element on a 40 000-packet capture would take seconds.
  assert.deepEqual(prep.perm ?? Int32Array.from(packets, (_, j) => j), Int32Array.from(kept, (x) => x.j), `${what}: time order`);
  assert.deepEqual(prep.t, Float64Array.from(kept, (x) => x.t), `${what}: times`);
  assert.deepEqual(prep.fwlog, packets.flatMap((p, j) => (p.fwlog !== undefined ? [j] : [])), `${what}: firewall-log records`);
  const counts = new Map<string, number>();
  for (const x of kept) counts.set(ifaceKeyOf(x.p), (counts.get(ifaceKeyOf(x.p)) ?? 0) + 1);
  assert.deepEqual(prep.ifaces.map((f) => [f.key, f.count]), [...counts], `${what}: interfaces in first-seen order with their counts`);
}

/** Store, plain objects and the generic list prepared alike; the store's times also read one by one. */
function checkForms(store: PacketStore, other: ReadonlySet<number>, what: string): PreparedCapture {
  const plain = [...store].map(toPlainPacket);
  const viaStore = prepare(store, other);
  assert.deepEqual(viaStore, prepare(plain, other), `${what}: store vs plain packets`);
  assert.deepEqual(viaStore, prepare(atOnly(store), other), `${what}: store vs list without readTimes`);
  checkAgainstReference(plain, viaStore, what);
  return viaStore;
}

/** readTimes over [from, to) against each packet's own fields. */
function checkReadTimes(store: PacketStore, from: number, to: number): void {
  const m = to - from;
  const sec = new Float64Array(m).fill(-1), nsec = new Float64Array(m).fill(-1), ifc = new Int32Array(m).fill(-1);
  store.readTimes(from, to, sec, nsec, ifc);
  for (let i = from; i < to; i++) {
    const p = store.at(i)!;
    if (sec[i - from] !== p.tsSec || nsec[i - from] !== p.tsNsec || ifc[i - from] !== p.ifaceId) {
      assert.fail(`readTimes ${from}..${to}: packet ${i} reads ${sec[i - from]}/${nsec[i - from]}/${ifc[i - from]}, at() says ${p.tsSec}/${p.tsNsec}/${p.ifaceId}`);
    }
  }
}

type Order = 'sorted' | 'jitter' | 'runs' | 'blocks' | 'shuffled';

/**
 * A `tcpdump -i any`-like capture of `n` packets: WireGuard carriers on eth0 (ifindex 2) and their
 * inner TCP on wg0 (ifindex 4), alternating, with a third interface now and then, some named
 * interfaces, a few packets the columns cannot hold (ICMP) and firewall-log copies; times in the
 * order asked for. Spans several store pages (32 768 rows each).
 */
function synth(n: number, order: Order, seed: number): Packet[] {
  const rnd = mulberry32(seed);
  const out: Packet[] = [];
  for (let j = 0; j < n; j++) {
    // Whole seconds change every ~3000 packets; a page boundary is crossed inside a second.
    let ns = j * 333_337;
    const ifx = j % 97 === 0 ? 3 : j % 2 === 0 ? 2 : 4;
    if (order === 'jitter' && j % 500 === 7) ns -= 400_000; // written after the packet before it, now and then
    let ifaceId = 0;
    if (order === 'runs') { ifaceId = j % 3; ns = Math.floor(j / 3) * 999_991 + ifaceId * 17; }
    // Twenty interfaces written in blocks of 100, each in order: too many runs to merge one by one (a full sort); even ones tie.
    if (order === 'blocks') { ifaceId = Math.floor(j / 100) % 20; ns = (Math.floor(j / 2000) * 100 + (j % 100)) * 1_000_003 + (ifaceId % 2) * ifaceId * 7; }
    const tsSec = 1_700_000_000 + Math.floor(ns / 1e9);
    const tsNsec = ns % 1e9;
    // 'runs' is a multi-interface pcapng of unnamed interfaces: no SLL2 index, the file's interface id tells them apart.
    const link = order === 'runs' || order === 'blocks' ? { linktype: 1 } : { ifindex: ifx, hatype: ifx === 4 ? 65534 : 1, linktype: 276 };
    const base = {
      frame: j + 1, tsSec, tsNsec, iface: j % 1000 < 10 ? 'eth9' : '', ifaceId, ...link,
      dir: (j % 4 < 2 ? 'out' : 'in') as Packet['dir'], summary: '',
    };
    let p: Packet;
    if (j % 211 === 0) {
      p = { ...base, caplen: 84, len: 84, src: '10.0.0.1', dst: '192.168.200.22', proto: 'icmp', ip: { v: 4, id: j & 0xffff, ttl: 64, len: 84, df: false, proto: 1 }, icmp: { v: 4, type: 8, code: 0, id: 1, seq: j & 0xffff } };
    } else if (ifx === 2) {
      p = {
        ...base, caplen: 1452, len: 1452, src: j % 4 < 2 ? '192.168.1.11' : '203.0.113.2', dst: j % 4 < 2 ? '203.0.113.2' : '192.168.1.11',
        proto: 'wireguard', sport: 51820, dport: 51820, ip: { v: 4, id: j & 0xffff, ttl: 64, len: 1452, df: true, proto: 17 }, udp: { len: 1424 },
        wg: { type: 4, receiver: 77, counter: String(j) },
      };
    } else {
      p = {
        ...base, caplen: 1420, len: 1420, src: '10.0.0.1', dst: '192.168.200.22', proto: 'tcp', sport: 40000, dport: 80,
        ip: { v: 4, id: j & 0xffff, ttl: 63, len: 1420, df: true, proto: 6 }, tcp: { flags: '.', seq: j * 1368, ack: 1, win: 500, len: 1368 },
      };
    }
    if (j % 1009 === 5) { p.proto = 'nflog'; p.fwlog = { source: 'nflog', prefix: 'drop', group: 1 }; }
    out.push(p);
  }
  if (order === 'shuffled') {
    // Times moved around at random (ties included): too much for the insertion sort, so a full sort.
    const secs = out.map((p) => [p.tsSec, p.tsNsec] as const);
    for (let j = secs.length - 1; j > 0; j--) { const k = Math.floor(rnd() * (j + 1)); [secs[j], secs[k]] = [secs[k]!, secs[j]!]; }
    out.forEach((p, j) => { p.tsSec = secs[j]![0]; p.tsNsec = j % 50 === 0 ? 0 : secs[j]![1]; });
  }
  return out;
}

function storeOf(packets: Packet[]): PacketStore {
  const s = new PacketStore();
  for (const p of packets) s.push(p);
  return s;
}

test('readTimes: every range, page boundaries, plain packets and an image round trip read what at() reads', () => {
  const store = storeOf(synth(70_000, 'runs', 1));
  const again = PacketStore.fromImage(structuredClone(store.toImage().image));
  for (const s of [store, again]) {
    checkReadTimes(s, 0, s.length);
    for (const [a, b] of [[0, 0], [0, 1], [32_767, 32_769], [1, 32_768], [32_768, 65_536], [65_535, 70_000], [69_999, 70_000], [12_345, 67_890]] as const) checkReadTimes(s, a, b);
  }
  assert.throws(() => store.readTimes(0, store.length + 1, new Float64Array(1), new Float64Array(1), new Int32Array(1)), RangeError);
  // A page of plain packets only (nothing went into its columns), and an empty store.
  const plainOnly = storeOf(synth(40_000, 'sorted', 2).map((p) => ({ ...p, comments: ['kept as is'] })));
  checkReadTimes(plainOnly, 0, plainOnly.length);
  checkReadTimes(new PacketStore(), 0, 0);
});

for (const order of ['sorted', 'jitter', 'runs', 'blocks', 'shuffled'] as const) {
  test(`prepareCapture, ${order} times: the store's bulk reads agree with plain packets and with the reference`, () => {
    const packets = synth(40_000, order, 3);
    const prep = checkForms(storeOf(packets), new Set([51820]), order);
    assert.equal(prep.perm === null, order === 'sorted' && !packets.some((p) => p.fwlog !== undefined), 'a permutation exactly when the file is out of order or has firewall-log records');
    // Three interfaces alternating (and a named one among them): each counted once per packet.
    assert.equal(prep.ifaces.reduce((n, f) => n + f.count, 0), packets.filter((p) => p.fwlog === undefined).length);
    assert.ok(prep.ifaces.length >= 4, order === 'runs' || order === 'blocks' ? 'eth9 and interface ids' : 'eth9 and ifindexes 2, 3, 4');
  });
}

test('prepareCapture: a few microseconds of disorder are put right without a full sort, and a permutation still results past the budget', () => {
  // Neighbours of the insertion sort's give-up point: one displaced packet, a long displacement, equal times.
  const mk = (ts: number[]): Packet[] => ts.map((x, j) => ({
    frame: j + 1, tsSec: 100 + Math.floor(x), tsNsec: Math.round((x % 1) * 1e9), iface: 'eth0', ifaceId: 0, dir: null, linktype: 1, caplen: 60, len: 60, proto: 'arp', summary: '',
  }));
  for (const ts of [[0, 1, 2, 1.5, 3], [5, 0, 1, 2, 3, 4], [1, 1, 0, 1, 1], [3, 2, 1, 0], [0.5, 0.5, 0.5], [], [7]]) {
    const p = mk(ts);
    const prep = prepare(p, new Set());
    checkAgainstReference(p, prep, `times ${ts.join(',')}`);
    assert.deepEqual(prep, prepare(storeOf(p), new Set()), `times ${ts.join(',')}: store`);
  }
});

test('prepareCapture on the NFLOG corpus capture: firewall-log copies kept aside alike on every path', async () => {
  const store = await loadStore(join(CORPUS, 'nflog.pcap'));
  const prep = checkForms(store, new Set(), 'nflog.pcap');
  assert.ok(prep.fwlog.length > 0, 'the capture holds NFLOG records');
});

test('prepareCapture on the lab captures (SLL2 with and without names, multi-interface pcapng): bulk and generic paths agree', { skip: skipLab }, async () => {
  for (const s of scenarios) {
    const d = join(lab, s);
    for (const [a, b, links] of [['A-any.pcap', 'B-any.pcap', true], ['A-any.pcap', 'B-any.pcap', false], ['A.pcapng', 'B.pcapng', false]] as const) {
      const A = await loadStore(join(d, a), links ? join(d, 'A-links.txt') : undefined);
      const B = await loadStore(join(d, b), links ? join(d, 'B-links.txt') : undefined);
      const pa = checkForms(A, captureStats(B).ports, `${s}/${a}${links ? ' + links' : ''}`);
      checkForms(B, new Set(pa.ports), `${s}/${b}${links ? ' + links' : ''}`);
    }
  }
});
