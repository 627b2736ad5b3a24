// IPsec: the seed exchange re-expressed as IKE + ESP (what a strongSwan tunnel over a TUN device
// shows): the handshake becomes IKE_SA_INIT on UDP 500, transport data ESP with SPI + sequence.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { analyze, type CaptureInput } from '../../../shared/analysis/index.ts';
import type { Packet } from '../../../shared/protocols/packet.ts';
import { seedInput } from './helpers.ts';

/** WireGuard carriers → IKE/ESP; wg0 → ipsec0. ESP sequence numbers count per direction from 1. */
function toIpsec(input: CaptureInput, dropIface?: RegExp): CaptureInput {
  const seq = new Map<number, number>();
  const out: Packet[] = [];
  for (const p0 of input.packets) {
    if (dropIface?.test(`${p0.iface} ${p0.dir}`)) continue;
    const p: Packet = { ...p0, iface: p0.iface === 'wg0' ? 'ipsec0' : p0.iface };
    const l = p0.udp?.len;
    if (l !== undefined && p0.tcp === undefined) {
      if (l === 32) continue; // no keepalives in IPsec
      const fromA = p0.sport === 51821;
      if (l === 148 || l === 92) {
        p.sport = 500; p.dport = 500; p.proto = 'isakmp';
        p.udp = { len: l === 148 ? 336 : 280 };
        p.ike = { ispi: '0123456789abcdef', rspi: l === 148 ? '0000000000000000' : 'fedcba9876543210', version: 2, exchange: 34, msgid: 0 };
      } else {
        const spi = fromA ? 0xc0000001 : 0xc0000002;
        const n = (seq.get(spi) ?? 0) + 1;
        seq.set(spi, n);
        delete p.udp; delete p.sport; delete p.dport;
        p.proto = 'esp';
        // ESP: 8 header + IV 16 + padded payload + ICV 16, in place of WireGuard's 32-byte overhead.
        p.ip = { v: 4, ttl: 64, len: 20 + 8 + 16 + (l - 32) + 16, proto: 50 };
        p.esp = { spi, seq: n };
      }
    }
    out.push(p);
  }
  return { ...input, packets: out };
}

test('IPsec variant of the seed: checkpoints from IKE and ESP, ESP paired by SPI + sequence, verdict ok', () => {
  const r = analyze(toIpsec(seedInput('endpoint-a.txt')), toIpsec(seedInput('host-beta.txt')));
  assert.equal(r.variant.tunnel, 'ipsec');
  assert.equal(r.verdict.status, 'ok', r.verdict.summary);
  const frame = (l: string) => r.checkpoints.find((c) => c.label === l)?.frame;
  assert.deepEqual(['A1', 'A2', 'A3', 'A4', 'A5', 'A6'].map(frame), [1, 2, 3, 4, 5, 6]);
  assert.deepEqual(['B1', 'B2', 'B3', 'B4', 'B5', 'B6', 'B7', 'B8'].map(frame), [1, 2, 3, 4, 5, 6, 7, 8]);
  assert.equal(r.captures.A.interfaces.find((i) => i.name === 'ipsec0')?.kind, 'tunnel');
  assert.ok(r.clock.pairs >= 10);
});

test('IPsec variant: nothing leaves B\'s ipsec0 after decryption → B4 missing, ipsec-config on B', () => {
  const r = analyze(toIpsec(seedInput('endpoint-a.txt')), toIpsec(seedInput('host-beta.txt'), /^ipsec0 in$|^wg0 in$/));
  assert.equal(r.verdict.first_missing, 'B4');
  assert.equal(r.verdict.class, 'ipsec-config');
  assert.equal(r.verdict.host, 'B');
});
