// The preparation's one pass reads column rows by their numbers and asks the tunnel modules
// without the WireGuard-framing hint first, asking again (with it) only where the other capture's
// ports make a conversation WireGuard-like. Checked here: each module's row answer against its
// packet answer (every row of the strongSwan and WireGuard lab captures and of hand-made rows the
// store keeps as numbers: ESP in UDP, ESP, IKE ports, WireGuard headers of every type), and the carriers, lengths and
// directions prepareCapture gives against a reference written the slow, obvious way (every packet
// asked once, with the hint its conversation has), on a store, on plain packets and on a list
// without bulk reads. Also: a preparation made twice from one CaptureStats, and the time order of
// multi-interface files whose interfaces are themselves slightly out of order.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ColumnView, PacketStore, toPlainPacket } from '../../../shared/ingest/packet-store.ts';
import { atOnly, loadStore, IPSEC_CAPTURES, ipsecSets, labSets } from './helpers.ts';
import {
  captureStats, ifaceKeyOf, newPacketRows, prepareCapture, RECORD_BITS, wireguardConversations, type ConvCounts, type ConvStats, type PreparedCapture,
} from '../../../shared/analysis/prepare.ts';
import { tunnelModules } from '../../../shared/analysis/tunnels/index.ts';
import type { CarrierScratch } from '../../../shared/analysis/tunnels/types.ts';
import type { Packet, PacketList } from '../../../shared/protocols/packet.ts';
import { mulberry32 } from './synth.ts';

const { dir: lab, scenarios, skip: skipLab } = labSets('prepare-rows lab cases');


function storeOf(packets: Packet[]): PacketStore {
  const s = new PacketStore();
  for (const p of packets) s.push(p);
  return s;
}

/**
 * Every held row's carrierRow answer (when it gives one) against carrier on the same packet, both
 * ways of the hint. Returns how many rows there were and how many of them the preparation's chain
 * (modules in order, no hint, the first claim ends it) could not settle by numbers alone.
 */
function checkRowAnswers(store: PacketStore, what: string): { rows: number; open: number } {
  const n = store.length;
  const chunk = 1 << 12;
  const rows = newPacketRows(Math.min(Math.max(n, 1), chunk));
  const a: CarrierScratch = { outer: null, wgType: 0, olen: -1 }, b: CarrierScratch = { outer: null, wgType: 0, olen: -1 };
  let held = 0, open = 0;
  for (let c0 = 0; c0 < n; c0 += chunk) {
    const c1 = Math.min(n, c0 + chunk);
    store.readRows(c0, c1, rows);
    for (let j = c0; j < c1; j++) {
      if (rows.held[j - c0] !== 1) continue;
      const p = store.at(j)!;
      held++;
      for (const m of tunnelModules()) {
        const r = m.carrierRow === undefined ? -1 : m.carrierRow(rows, j - c0, false, a);
        if (r < 0) { open++; break; }
        if (r === 1) break;
      }
      for (const m of tunnelModules()) {
        if (m.carrierRow === undefined) continue;
        for (const like of [false, true]) {
          const r = m.carrierRow(rows, j - c0, like, a);
          if (r < 0) continue;
          const want = m.carrier(p, like, b);
          if ((r === 1) !== want) assert.fail(`${what}: packet ${j} (${p.proto}), ${m.kind}, hint ${like}: row says ${r}, packet says ${want}`);
          if (want) assert.deepEqual(a, b, `${what}: packet ${j}, ${m.kind}, hint ${like}: what the row fills`);
        }
      }
    }
  }
  return { rows: held, open };
}

const T0 = 1_700_000_000;
type Opts = Partial<Packet>;

/** A plain UDP (or WireGuard, ESP-in-UDP) packet the store can keep as a column row. */
function udp(j: number, src: string, dst: string, sport: number, dport: number, ulen: number, o: Opts = {}): Packet {
  return {
    frame: j + 1, tsSec: T0 + Math.floor(j / 100), tsNsec: (j % 100) * 10_000_000, iface: 'eth0', ifaceId: 0, dir: j % 2 === 0 ? 'out' : 'in',
    linktype: 1, caplen: ulen + 42, len: ulen + 42, src, dst, sport, dport, proto: 'udp',
    ip: { v: 4, id: j & 0xffff, ttl: 64, len: ulen + 28, df: false, proto: 17 }, udp: { len: ulen }, summary: '', ...o,
  };
}

/**
 * One host's packets with every carrier question the rows must settle or leave open: decoded
 * WireGuard of each type, WireGuard-sized UDP without a header on odd ports (a conversation of
 * three and one of two), an undecoded datagram inside a decoded WireGuard conversation, ESP in
 * UDP 4500 (decoded, so held as a row) beside undecoded 4500 datagrams in a conversation that also
 * has WireGuard headers, ESP, IKE, DNS, TCP, ICMP and a firewall-log copy.
 */
function mixed(): Packet[] {
  const out: Packet[] = [];
  const add = (f: (j: number) => Packet): void => { out.push(f(out.length)); };
  const A = '192.168.1.11', B = '203.0.113.2';
  for (let k = 0; k < 12; k++) {
    const type = ([1, 2, 3, 4] as const)[k % 4]!;
    const len = type === 1 ? 148 : type === 2 ? 92 : type === 3 ? 64 : 32 + 16 * k;
    add((j) => udp(j, k % 2 === 0 ? A : B, k % 2 === 0 ? B : A, 51820, 51820, len, {
      proto: 'wireguard', wg: type === 4 ? { type, receiver: 7, counter: String(k) } : type === 3 ? { type, receiver: 7 } : { type, sender: 9, ...(type === 2 ? { receiver: 7 } : {}) },
    }));
    // Undecoded: a datagram of the decoded conversation, and WireGuard-sized ones on odd ports.
    if (k === 5) add((j) => udp(j, A, B, 51820, 51820, 96));
    if (k < 3) add((j) => udp(j, A, B, 40000, 40001, [148, 92, 80][k]!));
    if (k < 2) add((j) => udp(j, A, B, 41000, 51999, 64 + 16 * k));
    // UDP 4500: decoded WireGuard (so the conversation counts as WireGuard), ESP in UDP, and undecoded datagrams.
    if (k < 4) {
      add((j) => udp(j, A, B, 4500, 4500, 128, { proto: 'wireguard', wg: { type: 4, receiver: 3, counter: String(100 + k) } }));
      add((j) => udp(j, A, B, 4500, 4500, 144, { proto: 'esp', esp: { spi: 0x1000 + k, seq: k } }));
      add((j) => udp(j, B, A, 4500, 4500, 160));
    }
    add((j) => udp(j, A, '9.9.9.9', 53000 + k, 53, 40 + k));
    add((j) => ({
      ...udp(j, A, B, 0, 0, 0), proto: 'esp', sport: undefined, dport: undefined, udp: undefined,
      ip: { v: 4, id: j, ttl: 64, len: 120, df: false, proto: 50 }, esp: { spi: 0xabc, seq: k },
    }));
    add((j) => ({
      ...udp(j, '10.0.0.1', '192.168.200.22', 40000, 80, 0), proto: 'tcp', iface: 'wg0', linktype: 101, udp: undefined,
      ip: { v: 4, id: j, ttl: 63, len: 1420, df: true, proto: 6 }, tcp: { flags: '.', seq: k * 1368, ack: 1, win: 500, len: 1368 },
    }));
  }
  add((j) => udp(j, A, B, 500, 500, 300, { proto: 'isakmp', ike: { ispi: '0011223344556677', rspi: '0000000000000000', version: 2, exchange: 34, msgid: 0 } }));
  add((j) => udp(j, A, B, 4500, 4500, 1, { proto: 'nat-keepalive', nattKeepalive: true }));
  add((j) => ({
    ...udp(j, A, B, 0, 0, 0), proto: 'icmp', sport: undefined, dport: undefined, udp: undefined,
    ip: { v: 4, id: j, ttl: 64, len: 84, df: false, proto: 1 }, icmp: { v: 4, type: 8, code: 0, id: 1, seq: 1 },
  }));
  add((j) => udp(j, A, B, 51820, 51820, 96, { proto: 'nflog', fwlog: { source: 'nflog', prefix: 'drop', group: 1 } }));
  return out;
}

/** Carrier kind, message type and payload length per file position, found the obvious way. */
function reference(packets: Packet[], otherPorts: ReadonlySet<number>): Array<{ outer: string | null; wgType: number; olen: number }> {
  const keyOf = (p: Packet): string | null => {
    const wg = p.wg;
    if ((wg === undefined && (p.udp === undefined || p.tcp !== undefined)) || p.outer !== undefined) return null;
    const x = `${p.src}:${p.sport}`, y = `${p.dst}:${p.dport}`;
    return x < y ? `${x}|${y}` : `${y}|${x}`;
  };
  const stats = new Map<string, ConvCounts>();
  const names: string[] = [];
  for (const p of packets) {
    const k = keyOf(p);
    if (k === null) continue;
    let s = stats.get(k);
    if (s === undefined) { s = { n: 0, shaped: 0, hs: 0, wg: 0 }; stats.set(k, s); names.push(k); }
    s.n++;
    if (p.wg !== undefined) { s.wg++; continue; }
    const l = p.udp?.len ?? -1;
    if (l === 148 || l === 92) s.hs++;
    if (l >= 32 && (l % 16 === 0 || l === 148 || l === 92 || l >= 1232)) s.shaped++;
  }
  const cs: ConvStats = { keys: new Int32Array(0), names, stats, firstSec: Infinity };
  const wgConv = wireguardConversations(cs, otherPorts);
  return packets.map((p) => {
    const k = keyOf(p);
    const like = k !== null && wgConv.has(k);
    const o: CarrierScratch = { outer: null, wgType: 0, olen: -1 };
    if (p.outer === undefined) for (const m of tunnelModules()) if (m.carrier(p, like, o)) return { outer: o.outer, wgType: o.wgType, olen: o.olen };
    return { outer: null, wgType: 0, olen: -1 };
  });
}

const OUTER_NAMES = [null, 'wg', 'esp', 'ike'];

/** A preparation's carriers against the reference, record by record (a tunnel interface's carriers count as inner traffic). */
function checkCarriers(prep: PreparedCapture, packets: Packet[], otherPorts: ReadonlySet<number>, what: string): void {
  const ref = reference(packets, otherPorts);
  const B = RECORD_BITS;
  let carriers = 0;
  for (let i = 0; i < prep.t.length; i++) {
    const j = prep.perm === null ? i : prep.perm[i]!;
    const b = prep.bits[i]!, want = ref[j]!;
    assert.equal(prep.olen[i], want.olen, `${what}: record ${i} (packet ${j}) length`);
    if ((b & B.kindMask) === B.tunnel) { assert.equal(b & (B.outerMask | B.wgTypeMask), 0, `${what}: record ${i} on a tunnel interface`); continue; }
    assert.equal(OUTER_NAMES[(b & B.outerMask) >> B.outerShift], want.outer, `${what}: record ${i} (packet ${j}, ${packets[j]!.proto} ${packets[j]!.sport}) carrier kind`);
    assert.equal((b & B.wgTypeMask) >> B.wgShift, want.wgType, `${what}: record ${i} (packet ${j}) WireGuard type`);
    if (want.outer !== null) carriers++;
  }
  assert.equal(prep.outerIdx.length, carriers, `${what}: carrier list`);
}

/** The same packets as a store, plain objects and a list without bulk reads: one preparation, and the reference's carriers. */
function prepareForms(packets: Packet[], otherPorts: ReadonlySet<number>, what: string): PreparedCapture {
  return prepareStore(storeOf(packets), otherPorts, what);
}

function prepareStore(store: PacketStore, otherPorts: ReadonlySet<number>, what: string): PreparedCapture {
  const plain = [...store].map(toPlainPacket);
  const prep = (l: PacketList): PreparedCapture => prepareCapture(l, captureStats(l), otherPorts);
  const viaStore = prep(store);
  assert.deepEqual(viaStore, prep(plain), `${what}: store vs plain packets`);
  assert.deepEqual(viaStore, prep(atOnly(store)), `${what}: store vs a list without bulk reads`);
  checkCarriers(viaStore, plain, otherPorts, what);
  return viaStore;
}

test('carrierRow: every column row it settles is settled as carrier settles the packet (hand-made rows of every carrier form)', () => {
  const store = storeOf(mixed());
  const plainRows = [...store].filter((p) => !(p instanceof ColumnView)).length;
  const { rows, open } = checkRowAnswers(store, 'hand-made');
  assert.ok(plainRows > 0, 'some packets stay whole (ICMP, IKE, keepalive, firewall log)');
  // TCP and WireGuard headers are settled by the row; ESP and header-less UDP are left to the packet.
  assert.ok(open > 0 && open < rows, `rows ${rows}, open ${open}`);
});

test('carrierRow on the lab captures: rows settle what the packets say, and most rows need no packet', { skip: skipLab }, async () => {
  for (const s of scenarios) {
    for (const f of ['A-any.pcap', 'B-any.pcap', 'A.pcapng']) {
      const store = await loadStore(join(lab, s, f));
      const { rows, open } = checkRowAnswers(store, `${s}/${f}`);
      // WireGuard and TCP (nearly all of a lab capture): no packet built for them.
      if (rows > 1000) assert.ok(open * 10 < rows, `${s}/${f}: ${open} of ${rows} rows need their packet`);
    }
  }
});

test('prepareCapture: carriers as the obvious reference finds them, with and without the other host\'s ports', () => {
  const packets = mixed();
  for (const other of [new Set<number>(), new Set([51999]), new Set([51820, 41000])]) {
    const prep = prepareForms(packets, other, `other ports ${[...other].join(',') || 'none'}`);
    assert.equal(prep.fwlog.length, 1);
  }
  // The other host's port turns the two-datagram conversation into WireGuard: its packets become carriers.
  const two = packets.flatMap((p, j) => (p.dport === 51999 ? [j] : []));
  const outerAt = (prep: PreparedCapture, j: number): number => {
    const i = prep.perm === null ? j : prep.perm.indexOf(j);
    return (prep.bits[i]! & RECORD_BITS.outerMask) >> RECORD_BITS.outerShift;
  };
  const without = prepareCapture(packets, captureStats(packets), new Set()), withPort = prepareCapture(packets, captureStats(packets), new Set([51999]));
  assert.deepEqual(two.map((j) => outerAt(without, j)), [0, 0]);
  assert.deepEqual(two.map((j) => outerAt(withPort, j)), [1, 1]);
  // UDP 4500 without a header, in a conversation with WireGuard headers: IKE without the hint, WireGuard with it (the conversation has headers).
  const bare4500 = packets.findIndex((p) => p.sport === 4500 && p.udp?.len === 160);
  assert.equal(outerAt(without, bare4500), 1);
});

test('prepareCapture: a WireGuard conversation nobody decoded, long and busy, on a store and as plain packets', () => {
  const rnd = mulberry32(7);
  const packets: Packet[] = [];
  for (let j = 0; j < 50_000; j++) {
    const len = j % 500 === 0 ? 148 : j % 500 === 1 ? 92 : 32 + 16 * Math.floor(rnd() * 80);
    packets.push(j % 3 === 2
      ? udp(j, '10.1.1.1', '10.2.2.2', 5353, 5353, 33 + Math.floor(rnd() * 200))
      : udp(j, j % 2 === 0 ? '192.168.1.11' : '203.0.113.2', j % 2 === 0 ? '203.0.113.2' : '192.168.1.11', 31000, 31001, len));
  }
  const prep = prepareForms(packets, new Set(), 'undecoded WireGuard');
  assert.ok(prep.outerIdx.length > 30_000, `carriers ${prep.outerIdx.length}`);
});

test('prepareCapture: one CaptureStats prepared twice gives the same preparation both times', () => {
  const store = storeOf(mixed());
  const st = captureStats(store);
  const first = prepareCapture(store, st, new Set([51999]));
  const again = prepareCapture(store, st, new Set([51999]));
  assert.deepEqual(again, first);
  assert.deepEqual(prepareCapture(store, st, new Set()), prepareCapture(store, captureStats(store), new Set()));
});

/** Packets of `ifaces` file interfaces written in blocks of `block`, each interface's own times `shake`n now and then. */
function blocks(n: number, ifaces: number, block: number, shake: (j: number) => number): Packet[] {
  const out: Packet[] = [];
  for (let j = 0; j < n; j++) {
    const b = Math.floor(j / block), f = b % ifaces;
    // Interface f's k-th packet of its blocks: its own clock runs in order but for the shake.
    const k = Math.floor(b / ifaces) * block + (j % block);
    const ns = 10_000_000_000 + k * 1_000_003 + f * 13 + shake(j);
    out.push({ ...udp(j, '192.168.1.11', '203.0.113.2', 1000 + f, 2000, 64), tsSec: T0 + Math.floor(ns / 1e9), tsNsec: ns % 1e9, ifaceId: f, iface: '', dir: null });
  }
  return out;
}

test('prepareCapture: multi-interface files whose interfaces are a little out of order themselves are put in (time, position) order', () => {
  const cases: Array<[string, Packet[]]> = [
    ['two interfaces, a few microseconds of disorder in each', blocks(30_000, 2, 700, (j) => (j % 97 === 5 ? -2_500_000 : 0))],
    ['five interfaces, ties across them', blocks(20_000, 5, 333, (j) => (j % 50 === 0 ? -1_000_003 : 0))],
    ['one interface far out of order (a full sort)', blocks(20_000, 3, 500, (j) => (j % 1500 < 500 && j % 3 === 0 ? -400_000_000 : 0))],
    ['seventeen interfaces (merged another way)', blocks(17_000, 17, 50, (j) => (j % 41 === 0 ? -3_000_000 : 0))],
    // Each block's first packet before the end of its interface's block before: disorder only where the interface resumes.
    ['disorder only where an interface resumes', blocks(20_000, 2, 400, (j) => (j % 400 === 0 && j > 800 ? -5_000_000 : 0))],
    // An interface change at every packet: more stretches than the pass notes, so the order comes from every packet's id.
    ['interfaces alternating at every packet', blocks(140_000, 2, 1, (j) => (j % 333 === 0 ? -4_000_003 : 0))],
  ];
  for (const [what, packets] of cases) {
    const prep = prepareForms(packets, new Set(), what);
    const base = packets.reduce((m, p) => Math.min(m, p.tsSec), Infinity);
    const tOf = (p: Packet): number => (p.tsSec - base) + p.tsNsec * 1e-9;
    const want = packets.map((p, j) => ({ j, t: tOf(p) })).sort((x, y) => x.t - y.t || x.j - y.j);
    assert.deepEqual(prep.perm, Int32Array.from(want, (x) => x.j), `${what}: time order`);
    assert.deepEqual(prep.t, Float64Array.from(want, (x) => x.t), `${what}: times`);
  }
});

test('prepareCapture: a time that is not a number still leaves every record in the list once', () => {
  const packets = blocks(3000, 2, 100, (j) => (j % 13 === 0 ? -5_000_000 : 0));
  packets[1500] = { ...packets[1500]!, tsNsec: Number.NaN };
  const prep = prepareCapture(packets, captureStats(packets), new Set());
  assert.deepEqual([...prep.perm!].sort((x, y) => x - y), packets.map((_, j) => j));
  assert.deepEqual(prep, prepareCapture(atOnly(packets), captureStats(atOnly(packets)), new Set()));
});

test('prepareCapture: interfaces by name, SLL2 index and file interface id, odd numbers included, listed and counted as the obvious way does', () => {
  // Unnamed interfaces whose numbers are not small whole ones (a hostile file's) keep keys of their own.
  const sane: Array<Partial<Packet>> = [
    { iface: 'eth0' }, { iface: '', ifindex: 3 }, { iface: '', ifindex: 70_000 }, { iface: '', ifaceId: 2 }, { iface: '', ifaceId: 1 },
    { iface: 'wg0' }, { iface: '', ifindex: 3, ifaceId: 9 }, { iface: '', ifindex: 2 ** 27 },
  ];
  const odd: Array<Partial<Packet>> = [...sane, { iface: '', ifaceId: 1.5 }, { iface: '', ifaceId: -1 }, { iface: '', ifindex: 2.5 }, { iface: '', ifaceId: 2 ** 40 }];
  const make = (forms: Array<Partial<Packet>>): Packet[] => {
    const rnd = mulberry32(11);
    const out: Packet[] = [];
    for (let j = 0; j < 6000; j++) {
      // Mostly two interfaces alternating (the `-i any` pattern), now and then any of them.
      const f = rnd() < 0.8 ? forms[j % 2]! : forms[Math.floor(rnd() * forms.length)]!;
      out.push(udp(j, '192.168.1.11', '203.0.113.2', 51820, 51820, 96, { ifaceId: 0, ...f }));
    }
    return out;
  };
  const obvious = (packets: Packet[]): Array<[string, number]> => {
    const counts = new Map<string, number>();
    for (const p of packets) counts.set(ifaceKeyOf(p), (counts.get(ifaceKeyOf(p)) ?? 0) + 1);
    return [...counts];
  };
  // What the store holds (some of these stay whole packets), as plain objects and behind `at` alone.
  const sanePackets = make(sane);
  const viaStore = prepareForms(sanePackets, new Set(), 'interface numbers');
  assert.deepEqual(viaStore.ifaces.map((f) => [f.key, f.count]), obvious(sanePackets));
  assert.equal(viaStore.ifaces.length, sane.length - 1, 'ifindex 3 with another file interface id is the same interface');
  // Numbers no column holds, as plain packets (the decoder's objects).
  const oddPackets = make(odd);
  const prep = prepareCapture(oddPackets, captureStats(oddPackets), new Set());
  assert.deepEqual(prep.ifaces.map((f) => [f.key, f.count]), obvious(oddPackets));
  assert.equal(prep.ifaces.length, odd.length - 1);
  assert.deepEqual(prep, prepareCapture(atOnly(oddPackets), captureStats(atOnly(oddPackets)), new Set()));
});

test('real captures (strongSwan IPsec sets, and the WireGuard lab when present): rows and packets agree, carriers as the reference finds them', async () => {
  const sets: Array<[string, string]> = ipsecSets.map((x) => [IPSEC_CAPTURES, x]);
  if (skipLab === false) for (const x of scenarios) sets.push([lab, x]);
  assert.ok(ipsecSets.length > 0, `IPsec capture sets in ${IPSEC_CAPTURES}`);
  let esp = 0;
  for (const [dir, x] of sets) {
    for (const [a, b] of [['A-any.pcap', 'B-any.pcap'], ['A.pcapng', 'B.pcapng']] as const) {
      const d = join(dir, x);
      const links = a.endsWith('-any.pcap');
      const A = await loadStore(join(d, a), links ? join(d, 'A-links.txt') : undefined);
      const B = await loadStore(join(d, b), links ? join(d, 'B-links.txt') : undefined);
      checkRowAnswers(A, `${x}/${a}`);
      checkRowAnswers(B, `${x}/${b}`);
      const pa = prepareStore(A, captureStats(B).ports, `${x}/${a}`);
      prepareStore(B, new Set(pa.ports), `${x}/${b}`);
      if ((pa.outerBits & (1 << 2)) !== 0) esp++;
    }
  }
  assert.ok(esp > 0, 'some of the captures carry ESP');
});
