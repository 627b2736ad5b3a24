// collectFlow's column path (PacketList.flowFieldsAt: a store's TCP/UDP rows read as numbers, no
// packet built) against its generic path (the same store behind a list that offers only `at`),
// member by member: on every flow of the lab captures (TANDEM_LAB_DIR) and on a store built here
// with the neighbours the column path must leave to the generic one (ICMP errors about the flow,
// IP length 0, packets the store keeps as objects), in both directions and for every tuple form.
// And the whole analysis of every lab pair (collectFlow, findForwarded's search for B5, the carriers'
// keys from Packet.wgNum) from the store against the same packets as the decoder's plain objects.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadCompact } from '../../../shared/ingest/load-capture.ts';
import { parseIpLink } from '../../../shared/capture-file/links.ts';
import { PacketStore, toPlainPacket } from '../../../shared/ingest/packet-store.ts';
import type { FlowFields, Packet, PacketList, TcpInfo } from '../../../shared/protocols/packet.ts';
import { analyze, type CaptureInput } from '../../../shared/analysis/index.ts';
import { preparePair, resolveDirections, sideOf, type Side } from '../../../shared/analysis/prepare.ts';
import { collectFlow, type InnerList } from '../../../shared/analysis/inner.ts';
import { innerTuples } from './helpers.ts';

/** The same packets behind a list that offers only `at` (the generic path), as plain objects (no wgNum either). */
function plainList(l: PacketList): PacketList {
  const at = (i: number): Packet | undefined => { const p = l.at(i); return p !== undefined ? toPlainPacket(p) : undefined; };
  return { length: l.length, at, [Symbol.iterator]: function* () { for (let i = 0; i < l.length; i++) yield at(i)!; } };
}

/** The side over the same arrays, its packets read the generic way. */
function generic(s: Side): Side {
  return { ...s, tm: { ...s.tm, packets: plainList(s.tm.packets) } };
}

function rows(l: InnerList): unknown[] {
  return [...l].map((x) => [x.ri, x.fwd, x.sig, x.relSeq, x.plen, x.ilen, x.icmpErr]);
}

function compareAll(A: Side, B: Side, what: string): { flows: number; members: number } {
  let flows = 0, members = 0;
  for (const s of [A, B]) {
    const g = generic(s);
    for (const t of innerTuples(s, true)) {
      const fast = collectFlow(s, t), slow = collectFlow(g, t);
      assert.deepEqual(rows(fast), rows(slow), `${what} ${s.key} ${JSON.stringify(t)}`);
      flows++; members += fast.length;
    }
  }
  return { flows, members };
}

function input(name: string, packets: PacketList, links?: Map<number, string>): CaptureInput {
  return { name, file: name, packets, interfaces: [], ...(links !== undefined ? { links: [...links.values()] } : {}) };
}

function sidesOf(a: CaptureInput, b: CaptureInput): [Side, Side] {
  const [pa, pb] = preparePair(a, b);
  const A = sideOf('A', a, pa), B = sideOf('B', b, pb);
  resolveDirections(A, B);
  return [A, B];
}

const dir = process.env.TANDEM_LAB_DIR ?? '/tmp/tandem-lab';
const scenarios = existsSync(dir) ? readdirSync(dir).filter((s) => existsSync(join(dir, s, 'B-any.pcap'))).sort() : [];
const skip = scenarios.length > 0 ? false : `no lab captures in ${dir} (set TANDEM_LAB_DIR)`;
if (skip) console.log(`# skip flow-fields lab: ${skip}`);

test('lab captures: the column path collects every flow exactly as the generic path', { skip }, async () => {
  let flows = 0, members = 0, fieldRows = 0;
  for (const s of scenarios) {
    for (const form of ['any', 'pcapng'] as const) {
      const load = async (h: string): Promise<CaptureInput> => {
        const f = join(dir, s, form === 'any' ? `${h}-any.pcap` : `${h}.pcapng`);
        const lf = join(dir, s, `${h}-links.txt`);
        const links = existsSync(lf) ? parseIpLink(readFileSync(lf, 'utf8')) : undefined;
        const r = await loadCompact(new Uint8Array(readFileSync(f)), { linkNames: links, summary: false });
        return input(f, r.packets, links);
      };
      const a = await load('A'), b = await load('B');
      const out: FlowFields = { src: '', dst: '', sport: 0, dport: 0, ipLen: 0, tcp: false, len: 0, flags: '', seq: 0, ack: 0, ts: false, tsval: 0, tsecr: 0 };
      for (const c of [a, b]) for (let i = 0; i < c.packets.length; i++) if (c.packets.flowFieldsAt!(i, out)) fieldRows++;
      const [A, B] = sidesOf(a, b);
      const n = compareAll(A, B, `${s} ${form}`);
      flows += n.flows; members += n.members;
    }
  }
  assert.ok(flows > 200 && members > 10000, `flows ${flows}, members ${members}`);
  assert.ok(fieldRows > 1000, `rows read as numbers: ${fieldRows}`);
});

test('lab pairs: the analysis from the column store equals the analysis from plain packets', { skip }, async () => {
  let pairs = 0, forwarded = 0;
  for (const s of scenarios) {
    const load = async (h: string): Promise<CaptureInput> => {
      const f = join(dir, s, `${h}-any.pcap`);
      const lf = join(dir, s, `${h}-links.txt`);
      const links = existsSync(lf) ? parseIpLink(readFileSync(lf, 'utf8')) : undefined;
      const r = await loadCompact(new Uint8Array(readFileSync(f)), { linkNames: links, summary: false });
      return input(f, r.packets, links);
    };
    const a = await load('A'), b = await load('B');
    const fast = analyze(a, b);
    const slow = analyze({ ...a, packets: plainList(a.packets) }, { ...b, packets: plainList(b.packets) });
    assert.deepEqual(fast, slow, s);
    pairs++;
    if (fast.checkpoints.some((c) => c.label === 'B5')) forwarded++;
  }
  assert.ok(pairs > 10, `pairs ${pairs}`);
  assert.ok(forwarded > 5, `pairs with a forwarded copy (B5) found: ${forwarded}`);
});

const base = { tsNsec: 0, iface: 'wg0', ifaceId: 0, linktype: 276, caplen: 0, summary: '', hatype: 65534 } as const;
let frame = 0;
function tcp(src: string, dst: string, sport: number, dport: number, t: Partial<TcpInfo> & { flags: string }, extra: Partial<Packet> = {}): Packet {
  frame++;
  const tc: TcpInfo = { seq: 1000 + frame * 10, ack: 5000 + frame, win: 500, len: 0, ...t };
  const ipLen = extra.ip?.len ?? 40 + tc.len + (tc.tsval !== undefined ? 12 : 0);
  return {
    ...base, frame, tsSec: 1700000000 + frame, dir: null, len: ipLen, src, dst, proto: 'tcp', sport, dport,
    ip: { v: 4, id: frame, ttl: 64, len: ipLen, df: true, proto: 6 }, tcp: tc, ...extra,
  };
}
function udp(src: string, dst: string, sport: number, dport: number, len: number): Packet {
  frame++;
  return {
    ...base, frame, tsSec: 1700000000 + frame, dir: null, len: 28 + len, src, dst, proto: 'udp', sport, dport,
    ip: { v: 4, id: frame, ttl: 64, len: 28 + len, df: false, proto: 17 }, udp: { len },
  };
}

test('edge packets: handshakes, timestamps, IP length 0, UDP on the same ports, ICMP errors and kept objects', () => {
  const X = '10.0.0.1', Y = '192.168.200.22', Z = '10.9.9.9';
  const ps: Packet[] = [
    tcp(X, Y, 40000, 80, { flags: 'S', mss: 1360, sackOk: true, tsval: 1, tsecr: 0, wscale: 7 }),
    tcp(Y, X, 80, 40000, { flags: 'S.', tsval: 9, tsecr: 1 }),
    tcp(X, Y, 40000, 80, { flags: '.', tsval: 2, tsecr: 9 }),
    tcp(X, Y, 40000, 80, { flags: 'P.', len: 100, tsval: 3, tsecr: 9 }),
    // An offloaded super-frame: IP length 0 (the length comes from the TCP header then).
    tcp(X, Y, 40000, 80, { flags: '.', len: 2800, tsval: 4, tsecr: 9 }, { ip: { v: 4, id: 1, ttl: 64, len: 0, df: true, proto: 6 } }),
    tcp(Y, X, 80, 40000, { flags: '.', sack: [[100, 200]], tsval: 10, tsecr: 3 }),
    // No timestamps: the relative ack joins the signature.
    tcp(Y, X, 80, 40000, { flags: '.', ack: 9999 }),
    // A packet the store keeps as an object (a comment), in the middle of the flow.
    tcp(X, Y, 40000, 80, { flags: 'P.', len: 10, tsval: 5, tsecr: 10 }, { comments: ['kept as an object'] }),
    udp(X, Y, 40000, 80, 64),
    udp(Y, X, 80, 40000, 12),
    tcp(X, Z, 40000, 80, { flags: 'S' }),
    tcp(X, Y, 40001, 80, { flags: 'S' }),
    // An ICMP error about the flow (generic path only: the store keeps ICMP as an object).
    { ...base, frame: ++frame, tsSec: 1700000100, dir: null, len: 56, src: Y, dst: X, proto: 'icmp',
      ip: { v: 4, id: 9, ttl: 64, len: 56, df: false, proto: 1 },
      icmp: { v: 4, type: 3, code: 3, orig: { src: X, dst: Y, proto: 6, sport: 40000, dport: 80 } } },
    tcp(X, Y, 40000, 80, { flags: 'F.', tsval: 6, tsecr: 10 }),
    tcp(Y, X, 80, 40000, { flags: 'R' }),
  ];
  const store = new PacketStore();
  for (const p of ps) store.push(p);
  const out: FlowFields = { src: '', dst: '', sport: 0, dport: 0, ipLen: 0, tcp: false, len: 0, flags: '', seq: 0, ack: 0, ts: false, tsval: 0, tsecr: 0 };
  const offered = ps.map((_, i) => store.flowFieldsAt(i, out));
  // Offered: column rows that are TCP or UDP with an IP length; not the super-frame, the kept object or the ICMP error.
  assert.deepEqual(offered.map((x, i) => (x ? i : -1)).filter((i) => i >= 0), [0, 1, 2, 3, 5, 6, 8, 9, 10, 11, 13, 14]);
  assert.equal(store.flowFieldsAt(-1, out), false);
  assert.equal(store.flowFieldsAt(ps.length, out), false);
  // The numbers offered are the packet's own.
  for (let i = 0; i < ps.length; i++) {
    if (!store.flowFieldsAt(i, out)) continue;
    const p = store.at(i)!;
    const t = p.tcp;
    assert.deepEqual([out.src, out.dst, out.sport, out.dport, out.ipLen, out.tcp, out.len], [p.src, p.dst, p.sport, p.dport, p.ip!.len, t !== undefined, t?.len ?? p.udp!.len], `packet ${i}`);
    if (t !== undefined) assert.deepEqual([out.flags, out.seq, out.ack, out.ts, out.ts ? out.tsval : undefined, out.ts ? out.tsecr : undefined], [t.flags, t.seq, t.ack, t.tsval !== undefined, t.tsval, t.tsecr], `packet ${i}`);
  }
  // Both orders of the two files' roles, so each packet is seen from either end of the tuple.
  const [A, B] = sidesOf(input('a', store), input('b', store));
  const n = compareAll(A, B, 'edge');
  assert.ok(n.members > 20, `members ${n.members}`);
  const main = collectFlow(A, { proto: 'tcp', src: X, dst: Y, sport: 40000, dport: 80 });
  assert.equal(main.length, 11, 'the flow: its ten TCP packets both ways and the ICMP error about it');
  assert.equal([...main].filter((x) => x.icmpErr).length, 1);
});

test('chunked scan: flows across the scan chunks (4096 rows), kept objects and skipped members at their edges', () => {
  const X = '10.0.0.1', Y = '192.168.200.22', Z = '10.9.9.9';
  const ps: Packet[] = [];
  // Two connections interleaved over three chunks and a bit; kept objects and the other flow's packets
  // on the rows either side of each chunk edge, so a scan stopping or resuming there is seen.
  const edges = new Set([0, 4094, 4095, 4096, 4097, 8191, 8192, 8193, 12287, 12288]);
  for (let i = 0; i < 12300; i++) {
    const kept = edges.has(i) && i % 2 === 0 ? { comments: ['kept'] } : {};
    if (i % 3 === 0 || (edges.has(i) && i % 2 === 1)) ps.push(tcp(X, Z, 40001, 443, { flags: 'P.', len: i % 50, tsval: i, tsecr: 1 }, kept));
    else ps.push(tcp(i % 3 === 1 ? X : Y, i % 3 === 1 ? Y : X, i % 3 === 1 ? 40000 : 80, i % 3 === 1 ? 80 : 40000, { flags: i === 1 ? 'S' : '.', len: i % 7, tsval: i, tsecr: 2 }, kept));
  }
  const store = new PacketStore();
  for (const p of ps) store.push(p);
  const [A] = sidesOf(input('a', store), input('b', store));
  const g = generic(A);
  const main = { proto: 'tcp', src: X, dst: Y, sport: 40000, dport: 80 }, other = { proto: 'tcp', src: X, dst: Z, sport: 40001, dport: 443 };
  const fast = collectFlow(A, main), slow = collectFlow(g, main);
  assert.deepEqual(rows(fast), rows(slow));
  assert.equal(fast.length, ps.filter((p) => p.dst !== Z).length);
  // With the other flow's members skipped unread (it has other addresses): the same members.
  const known = collectFlow(A, other);
  assert.equal(known.length, ps.length - fast.length);
  assert.deepEqual(rows(collectFlow(A, main, known)), rows(fast));
  assert.deepEqual(rows(collectFlow(A, other, fast)), rows(known));
  assert.deepEqual(rows(collectFlow(g, other, collectFlow(g, main))), rows(known));
});
