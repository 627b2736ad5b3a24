// Issue 13 item 6: frames rebuilt from tcpdump text trust no length in the text. Each transport the
// rebuild knows (UDP, TCP, ICMP, ESP; IPv4 and IPv6) with absurd, negative and non-numeric lengths:
// at most SYNTH_SNAPLEN bytes, the claimed length kept as the original length, no exception; lengths
// that fit stay exact, so ordinary text exports are unchanged.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readCapture } from '../../shared/capture-file/reader.ts';
import { synthesizeFrame, SYNTH_SNAPLEN } from '../../shared/capture-file/pcapng-writer.ts';
import type { Packet } from '../../shared/protocols/packet.ts';

async function parse(text: string): Promise<Packet[]> {
  const it = readCapture(new TextEncoder().encode(text));
  const out: Packet[] = [];
  for (;;) { const r = await it.next(); if (r.done) return out; out.push(...(r.value.packets ?? [])); }
}

const LINES = (len: string) => [
  `12:00:00.000001 IP 10.0.0.1.1000 > 10.0.0.2.2000: UDP, length ${len}`,
  `12:00:00.000002 IP6 2001:db8::1.1000 > 2001:db8::2.2000: UDP, length ${len}`,
  `12:00:00.000003 IP 10.0.0.1.1001 > 10.0.0.2.80: Flags [P.], seq 1:2, ack 1, win 502, length ${len}`,
  `12:00:00.000004 IP6 2001:db8::1.1001 > 2001:db8::2.80: Flags [P.], seq 1:2, ack 1, win 502, length ${len}`,
  `12:00:00.000005 IP 10.0.0.1 > 10.0.0.2: ICMP echo request, id 1, seq 1, length ${len}`,
  `12:00:00.000006 IP 10.0.0.1 > 10.0.0.2: ESP(spi=0x00000001,seq=0x1), length ${len}`,
].join('\n') + '\n';

test('rebuilt frames stay within the snap length whatever length the text claims', async () => {
  for (const len of ['2000000000', '4294967295', '99999999999999999999', '70000', '65536']) {
    const packets = await parse(LINES(len));
    assert.ok(packets.length >= 4, `${len}: parsed ${packets.length}`);
    for (const p of packets) {
      const f = synthesizeFrame(p);
      assert.ok(f.data.length <= SYNTH_SNAPLEN, `${len}: ${f.data.length} bytes`);
      assert.ok(f.len >= f.data.length && f.len <= 0xffffffff, `${len}: len ${f.len}`);
      assert.equal(f.truncated, f.data.length < f.len);
      // The IP header is whole and says IPv4 or IPv6.
      assert.ok(f.data[0] === 0x45 || f.data[0] === 0x60, `${len}: version byte ${f.data[0]}`);
    }
    assert.ok(packets.map(synthesizeFrame).some((f) => f.truncated), `${len}: some frame is cut`);
  }
});

test('lengths that fit are rebuilt exactly; NaN, negative and missing lengths give a header-only frame', async () => {
  for (const p of await parse(LINES('1200'))) {
    const f = synthesizeFrame(p);
    assert.equal(f.truncated, false);
    assert.equal(f.len, f.data.length);
    const v6 = f.data[0] === 0x60;
    const ipLen = v6 ? ((f.data[4]! << 8) | f.data[5]!) + 40 : (f.data[2]! << 8) | f.data[3]!;
    assert.equal(ipLen, f.data.length, 'IP length field matches the bytes');
  }
  const [udp] = await parse(LINES('8'));
  for (const bad of [NaN, -5, -Infinity, Infinity, 1.5e308]) {
    const f = synthesizeFrame({ ...udp!, udp: { len: bad } });
    assert.ok(f.data.length <= SYNTH_SNAPLEN, `${bad}`);
    assert.ok(Number.isInteger(f.len) && f.len >= 28, `${bad}: len ${f.len}`);
  }
});
