// The WireGuard counter read as a number from a column store (Packet.wgNum) against the text the
// decoder gives (wg.counter): the carrier identity the tunnel modules make (carrierKey) must be the
// same either way, on edge values built here and on every carrier of the lab captures.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadAll, loadCompact } from '../../../shared/ingest/load-capture.ts';
import { PacketStore, plainCopy } from '../../../shared/ingest/packet-store.ts';
import type { Packet, WireGuardInfo } from '../../../shared/protocols/packet.ts';
import { tunnelModules } from '../../../shared/analysis/tunnels/index.ts';

/** Every module's carrier identity of `p`: [group, ordinal] per module (null group: not its carrier). */
function keys(p: Packet): Array<[number | string | null, number]> {
  return tunnelModules().map((m) => {
    const ord = { n: -1 };
    const k = m.carrierKey(p, p.udp?.len ?? -1, ord);
    return [k, k === null ? -1 : ord.n];
  });
}

/** A WireGuard datagram over IPv4/UDP that a store keeps as columns (counter within 2^53). */
function wgPacket(frame: number, wg: WireGuardInfo): Packet {
  return {
    frame, tsSec: 1700000000, tsNsec: frame * 1000, iface: 'eth0', ifaceId: 0, dir: 'out', linktype: 1, caplen: 170, len: 170,
    src: '192.0.2.1', dst: '198.51.100.7', proto: 'wireguard', sport: 51820, dport: 51820,
    ip: { v: 4, id: frame, ttl: 64, len: 156, df: false, proto: 17 }, udp: { len: 128 }, wg, summary: '',
  };
}

test('wgNum: the counter as a number, exactly what the text says, at the edges of its two halves', () => {
  const counters = ['0', '1', '4294967295', '4294967296', '4294967297', '8589934591', String(2 ** 52 + 3), String(Number.MAX_SAFE_INTEGER)];
  const cases: WireGuardInfo[] = [
    ...counters.map((c): WireGuardInfo => ({ type: 4, receiver: 0xdeadbeef, counter: c })),
    { type: 4, receiver: 7 },
    { type: 4, counter: '5' },
    { type: 1, sender: 0xffffffff },
    { type: 2, sender: 1, receiver: 2 },
    { type: 3, receiver: 0 },
    { type: 1 },
  ];
  const store = new PacketStore();
  cases.forEach((w, j) => store.push(wgPacket(j + 1, w)));
  // Neighbours that are not WireGuard: plain UDP and ESP in the columns.
  const udp = wgPacket(100, { type: 4 });
  delete udp.wg;
  store.push({ ...udp, proto: 'udp' });
  const esp = wgPacket(101, { type: 4 });
  delete esp.wg; delete esp.udp; delete esp.sport; delete esp.dport;
  store.push({ ...esp, proto: 'esp', esp: { spi: 0x1000, seq: 42 }, ip: { ...esp.ip!, proto: 50 } });
  let keyed = 0;
  for (let i = 0; i < store.length; i++) {
    const v = store.at(i)!;
    assert.equal(store.at(i)!.constructor === Object, false, `packet ${i} is held as columns`);
    const w = v.wg, n = v.wgNum;
    assert.equal(n === undefined, w === undefined, `packet ${i}: wgNum offered exactly when wg is`);
    if (w !== undefined) {
      const { counter, ...rest } = w;
      assert.deepEqual(n, counter !== undefined ? { ...rest, counter: Number(counter) } : rest, `packet ${i}`);
      if (counter !== undefined) assert.equal(String(n!.counter), counter, `packet ${i}: exact`);
    }
    const plain = plainCopy(v);
    assert.equal('wgNum' in plain, false, 'not data: the plain copy has no wgNum');
    assert.equal(JSON.stringify(v).includes('wgNum'), false, 'not data: never serialised');
    const kv = keys(v), kp = keys(plain);
    assert.deepEqual(kv, kp, `packet ${i}: carrier identity from the number and from the text`);
    if (kv.some(([k]) => k !== null)) keyed++;
  }
  assert.equal(keyed, cases.length - 3 + 1, 'every complete WireGuard header and the ESP datagram are keyed');
});

test('a counter beyond 2^53 stays the decoder\'s object (no wgNum): the key reads the text as before', () => {
  const store = new PacketStore();
  store.push(wgPacket(1, { type: 4, receiver: 3, counter: '18446744073709551615' }));
  const p = store.at(0)!;
  assert.equal(p.wgNum, undefined);
  assert.equal(p.wg?.counter, '18446744073709551615');
  const [k, n] = keys(p)[0]!;
  assert.equal(k, 3);
  assert.equal(n, Number('18446744073709551615'));
});

const dir = process.env.TANDEM_LAB_DIR ?? '/tmp/tandem-lab';
const scenarios = existsSync(dir) ? readdirSync(dir).filter((s) => existsSync(join(dir, s, 'A-any.pcap'))).sort() : [];
const skip = scenarios.length > 0 ? false : `no lab captures in ${dir} (set TANDEM_LAB_DIR)`;
if (skip) console.log(`# skip carrier-key lab: ${skip}`);

test('lab captures: every carrier keyed the same from the column store and from the decoder', { skip }, async () => {
  let carriers = 0, counted = 0;
  for (const s of scenarios) {
    for (const f of ['A-any.pcap', 'B-any.pcap', 'A.pcapng', 'B.pcapng']) {
      const file = join(dir, s, f);
      if (!existsSync(file)) continue;
      const bytes = new Uint8Array(readFileSync(file));
      const decoded = (await loadAll(bytes)).packets;
      const store = (await loadCompact(bytes, { summary: false })).packets;
      assert.equal(store.length, decoded.length, file);
      for (let i = 0; i < store.length; i++) {
        const v = store.at(i)!, d = decoded[i]!;
        if (d.wg === undefined && d.esp === undefined && d.ike === undefined) continue;
        carriers++;
        if (v.wgNum?.counter !== undefined) counted++;
        assert.deepEqual(keys(v), keys(d), `${file} frame ${d.frame}`);
      }
    }
  }
  assert.ok(carriers > 1000, `carriers read: ${carriers}`);
  assert.ok(counted > 1000, `counters read as numbers: ${counted}`);
});
