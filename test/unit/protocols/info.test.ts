// The Info text (shared/protocols/info.ts) against Wireshark's own Info column on real captures:
// WireGuard from the lab (tshark's "datalen=N" suffix aside, which the Packet record does not keep),
// IKEv2 and IKEv1 exchanges and ESP from tcpdump's test corpus (tshark prints SPI only; we add seq,
// checked against tshark's esp.sequence).

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { hex32, ikeExchangeName, packetInfo } from '../../../shared/protocols/info.ts';
import type { Packet } from '../../../shared/protocols/packet.ts';
import { CORPUS, packetsOf } from '../filter/helpers.ts';

const LAB_A = fileURLToPath(new URL('../../e2e/fixtures/lab-healthy/A.pcapng', import.meta.url));

function tshark(file: string, fields: string[], extra: string[] = []): string[][] | null {
  try {
    const out = execFileSync('tshark', ['-r', file, ...extra, '-T', 'fields', ...fields.flatMap((f) => ['-e', f])], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    return out.trimEnd().split('\n').map((l) => l.split('\t'));
  } catch {
    return null;
  }
}

test('WireGuard messages read as Wireshark names them', async (t) => {
  const rows = tshark(LAB_A, ['frame.number', '_ws.col.Info'], ['-d', 'udp.port==51820,wg', '-Y', 'wg']);
  if (!rows) return t.skip('tshark is not installed');
  const { packets } = await packetsOf(LAB_A);
  assert.equal(rows.length, 14);
  for (const [frame, info] of rows) {
    const want = info!.replace(/, datalen=\d+$/, '');
    assert.equal(packetInfo(packets[Number(frame) - 1]!), want, `frame ${frame}`);
  }
});

test('IKEv2 and IKEv1 exchanges with Initiator/Responder and Request/Response', async (t) => {
  for (const name of ['ikev2four.pcap', 'ISAKMP_sa_setup.pcap']) {
    const file = CORPUS + name;
    if (!existsSync(file)) return t.skip(`${name} is not in the corpus`);
    const rows = tshark(file, ['frame.number', '_ws.col.Info']);
    if (!rows) return t.skip('tshark is not installed');
    const { packets } = await packetsOf(file);
    let checked = 0;
    for (const [frame, info] of rows) {
      const p = packets[Number(frame) - 1]!;
      // A frame Wireshark calls malformed is compared on what it could read.
      const want = info!.replace(/\[Malformed Packet\]$/, '').trim();
      if (!p.ike || want.includes(',')) continue;
      // Beyond Wireshark's text we name error notifies and COOKIE (why an exchange stalls).
      const got = packetInfo(p);
      assert.ok(got === want || /^, [A-Z_]+(, [A-Z_]+)*$/.test(got.slice(want.length)) && got.startsWith(want), `${name} frame ${frame}: ${got} / ${want}`);
      checked++;
    }
    assert.ok(checked >= 2, `${name}: ${checked} frames compared`);
  }
});

test('ESP: SPI as Wireshark prints it, then the sequence number', async (t) => {
  for (const name of ['02-sunrise-sunset-esp.pcap', 'espudp1.pcap']) {
    const file = CORPUS + name;
    if (!existsSync(file)) return t.skip(`${name} is not in the corpus`);
    const rows = tshark(file, ['frame.number', '_ws.col.Info', 'esp.sequence']);
    if (!rows) return t.skip('tshark is not installed');
    const { packets } = await packetsOf(file);
    let checked = 0;
    for (const [frame, info, seq] of rows) {
      const p = packets[Number(frame) - 1]!;
      if (!p.esp || !/^ESP \(SPI=0x[0-9a-f]+\)$/i.test(info!)) continue;
      assert.equal(packetInfo(p).toLowerCase(), `${info}, seq=${seq}`.toLowerCase(), `${name} frame ${frame}`);
      checked++;
    }
    assert.ok(checked >= 2, `${name}: ${checked} frames compared`);
  }
});

test('other packets keep the summary without the address lead-in; truncation is said', () => {
  const base = { frame: 1, tsSec: 0, tsNsec: 0, iface: '', ifaceId: 0, dir: null, linktype: 1, caplen: 60, len: 60 } satisfies Partial<Packet>;
  const tcp: Packet = { ...base, proto: 'tcp', src: '10.0.0.1', dst: '10.0.0.2', sport: 1, dport: 2, summary: 'IP 10.0.0.1.1 > 10.0.0.2.2: Flags [S], seq 1, length 0' };
  assert.equal(packetInfo(tcp), 'Flags [S], seq 1, length 0');
  assert.equal(packetInfo({ ...tcp, truncated: 'truncated in TCP header' }), 'Flags [S], seq 1, length 0 [truncated in TCP header]');
  const keep: Packet = { ...base, proto: 'udp', src: '10.0.0.1', dst: '10.0.0.2', sport: 4500, dport: 4500, nattKeepalive: true, summary: 'IP 10.0.0.1.4500 > 10.0.0.2.4500: isakmp-nat-keep-alive' };
  assert.equal(packetInfo(keep), 'NAT-keepalive');
  const cookie: Packet = { ...base, proto: 'wireguard', wg: { type: 3, receiver: 0x1a }, summary: 'x' };
  assert.equal(packetInfo(cookie), 'Cookie Reply, receiver=0x0000001A');
  assert.equal(hex32(0xffffffff), '0xFFFFFFFF');
  assert.equal(ikeExchangeName(2, 99), 'exchange 99');
  const refused: Packet = { ...base, proto: 'isakmp', ike: { ispi: '0102030405060708', rspi: '0000000000000000', version: 2, exchange: 34, msgid: 0, flags: 0x20, notify: [14, 16388] }, summary: 'x' };
  assert.equal(packetInfo(refused), 'IKE_SA_INIT MID=00 Responder Response, NO_PROPOSAL_CHOSEN');
});
