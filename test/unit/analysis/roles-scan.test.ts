// The role scan's bulk shortcut: once a capture's WireGuard initiation and tunnel SYN are found, the
// scan asks the store row by row which packets it keeps whole (tunnelIdsAt) instead of reading every
// row's columns. The decision must be the one the packet path gives (a list with `at` only) and the
// one a plain array gives, on the WireGuard lab captures, the strongSwan captures (IKE after the SYN
// is what the shortcut must still see) and a built capture with IKE late behind a long WireGuard run.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { PacketStore, toPlainPacket } from '../../../shared/ingest/packet-store.ts';
import type { Packet, PacketList } from '../../../shared/protocols/packet.ts';
import { decideRoles } from '../../../shared/analysis/roles.ts';
import { atOnly, loadStore, IPSEC_CAPTURES, ipsecSets, labSets } from './helpers.ts';

const { dir: lab, scenarios, skip: skipLab } = labSets('roles-scan lab cases');

/** The decision for the two lists as a store, behind `at` only, and as plain objects: all three must agree. */
function agree(a: PacketStore, b: PacketStore, what: string): void {
  const plain = (s: PacketStore): Packet[] => [...s].map((p) => toPlainPacket(p));
  const d = (x: PacketList, y: PacketList): unknown => decideRoles({ name: 'a', packets: x }, { name: 'b', packets: y });
  const fast = d(a, b);
  assert.deepEqual(fast, d(atOnly(a), atOnly(b)), `${what}: store and packet path`);
  assert.deepEqual(fast, d(plain(a), plain(b)), `${what}: store and plain packets`);
  // Given the other way round, the same three agree too.
  assert.deepEqual(d(b, a), d(atOnly(b), atOnly(a)), `${what} swapped`);
}

test('role scan: lab and strongSwan captures decide alike as a store, by packet and as plain objects', async () => {
  const sets: Array<[string, string, boolean]> = [...ipsecSets.map((s): [string, string, boolean] => [IPSEC_CAPTURES, s, false]),
    ...(skipLab ? [] : scenarios.map((s): [string, string, boolean] => [lab, s, true]))];
  assert.ok(ipsecSets.length > 0, `IPsec capture sets in ${IPSEC_CAPTURES}`);
  for (const [dir, s, links] of sets) {
    const f = (h: string): Promise<PacketStore> => loadStore(join(dir, s, `${h}-any.pcap`), links ? join(dir, s, `${h}-links.txt`) : undefined);
    agree(await f('A'), await f('B'), s);
  }
});

/** A WireGuard initiation, a tunnel SYN, then `bulk` transport datagrams, then IKE from the far side. */
function built(bulk: number, ikeFirst: boolean, dir: 'in' | 'out'): PacketStore {
  const s = new PacketStore();
  let f = 0;
  const base = (over: Partial<Packet>): Packet => ({
    frame: ++f, tsSec: 1700000000 + Math.floor(f / 1000), tsNsec: (f % 1000) * 1000000, iface: 'eth0', ifaceId: 0, dir, linktype: 1, caplen: 100, len: 100,
    src: '192.0.2.1', dst: '198.51.100.7', proto: 'udp', summary: '', ip: { v: 4, id: f & 0xffff, ttl: 64, len: 100, df: false, proto: 17 }, ...over,
  });
  const ike = (): Packet => base({ proto: 'isakmp', sport: 500, dport: 500, udp: { len: 80 }, dir: dir === 'in' ? 'out' : 'in', src: '198.51.100.7', dst: '192.0.2.1',
    ike: { ispi: '00112233445566ff', rspi: '0000000000000000', version: 2, exchange: 34, msgid: 0, flags: 0x08 } });
  if (ikeFirst) s.push(ike());
  s.push(base({ proto: 'wireguard', sport: 51820, dport: 51820, udp: { len: 148 }, wg: { type: 1, sender: 7 } }));
  s.push(base({ proto: 'tcp', iface: 'wg0', src: '10.0.0.1', dst: '10.0.0.2', sport: 40000, dport: 80, ip: { v: 4, id: 1, ttl: 64, len: 60, df: true, proto: 6 },
    tcp: { flags: 'S', seq: 1, ack: 0, win: 500, len: 0 } }));
  for (let k = 0; k < bulk; k++) s.push(base({ proto: 'wireguard', sport: 51820, dport: 51820, udp: { len: 128 }, wg: { type: 4, receiver: 9, counter: String(k) } }));
  s.push(ike());
  return s;
}

test('role scan: IKE far behind the initiation and the SYN is still seen (both orders, both directions)', () => {
  for (const ikeFirst of [false, true]) {
    for (const bulk of [10, 5000, 9000]) {
      agree(built(bulk, ikeFirst, 'out'), built(bulk, ikeFirst, 'in'), `bulk ${bulk}, IKE first ${ikeFirst}`);
    }
  }
});
