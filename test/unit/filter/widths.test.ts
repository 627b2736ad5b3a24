// Issue 14, item 10: the filter accepts what the Iface column shows for an unnamed SLL2 interface
// ("if3"), and refuses a literal the field cannot hold (tcp.port == 99999) with a clear message at
// the literal's position. Expected counts from `tshark -r A-any.pcap -T fields -e sll.ifindex`
// (12 frames on index 3, 16 on index 2).

import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { compileFilter, quoteFilterString } from '../../../shared/filter/index.ts';
import { parse } from '../../../shared/filter/parse.ts';
import type { Packet } from '../../../shared/protocols/packet.ts';
import { packetsOf } from './helpers.ts';

const ANY = fileURLToPath(new URL('../../e2e/fixtures/lab-healthy/A-any.pcap', import.meta.url));

function count(src: string, packets: Packet[]): number {
  const f = compileFilter(src);
  assert.ok(f.ok, `${src}: ${f.ok ? '' : f.error}`);
  return packets.filter((p) => f.predicate(p)).length;
}

test('iface == ifN matches unnamed SLL2 interfaces, as the column shows them', async () => {
  const { packets } = await packetsOf(ANY);
  assert.equal(packets.length, 28);
  assert.ok(packets.every((p) => p.iface === '' && p.ifindex !== undefined));
  assert.equal(count('iface == if3', packets), 12);
  assert.equal(count('iface == "if2"', packets), 16);
  assert.equal(count('iface in {if2 if3}', packets), 28);
  assert.equal(count('iface contains "if"', packets), 28);
  assert.equal(count('iface == if4', packets), 0);
  // A named interface is matched by its name only.
  const named = packets.map((p) => ({ ...p, iface: p.ifindex === 3 ? 'wg0' : 'wlan0' }));
  assert.equal(count('iface == wg0', named), 12);
  assert.equal(count('iface == if3', named), 0);
});

test('literals a field cannot hold are refused at their position', () => {
  const cases: Array<[string, string]> = [
    ['tcp.port == 99999', '99999'],
    ['udp.port in {53 70000}', '70000'],
    ['port >= 65536', '65536'],
    ['ip.ttl > 256', '256'],
    ['tcp.dstport in {1..70000}', '70000'],
    ['wg.type == 0x100', '0x100'],
    ['vlan.id == 4096', '4096'],
    ['esp.spi == 0x100000000', '0x100000000'],
  ];
  for (const [src, lit] of cases) {
    const f = compileFilter(src);
    assert.equal(f.ok, false, src);
    if (f.ok) continue;
    assert.match(f.error, /too big for [\w.]+: it holds at most \d+/, src);
    assert.equal(f.at, src.indexOf(lit), `${src}: position`);
  }
  for (const ok of ['tcp.port == 65535', 'ip.ttl == 255', 'esp.spi == 0xffffffff', 'vlan.id == 4095', 'frame.len > 100000', 'tcp.seq == 4294967295']) {
    assert.equal(compileFilter(ok).ok, true, ok);
  }
});

test('quoteFilterString round-trips any text through the parser', () => {
  for (const s of ['wg0', 'a"b', 'back\\slash', 'tab\there', 'new\nline', '"', '']) {
    const n = parse(`iface == ${quoteFilterString(s)}`);
    assert.equal(n.k, 'cmp');
    if (n.k === 'cmp') assert.equal(n.value.text, s);
  }
});
