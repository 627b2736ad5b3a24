// Display-filter language: syntax errors with positions, every operator and every field family,
// judged on packets decoded from real captures against plain reads of the Packet record.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileFilter, fieldList } from '../../../shared/filter/index.ts';
import type { Packet } from '../../../shared/protocols/packet.ts';
import { CORPUS, WG_SLL2, packetsOf } from './helpers.ts';

function pred(src: string) {
  const r = compileFilter(src);
  if (!r.ok) assert.fail(`"${src}" should compile: ${r.error} at ${r.at}`);
  return r.predicate;
}
function frames(ps: Packet[], src: string, ctx?: (p: Packet) => { checkpoint?: string }): number[] {
  const f = pred(src);
  return ps.filter((p) => f(p, ctx?.(p))).map((p) => p.frame);
}
function where(ps: Packet[], f: (p: Packet) => boolean): number[] {
  return ps.filter(f).map((p) => p.frame);
}

async function mixed(): Promise<Packet[]> {
  const files = [WG_SLL2, CORPUS + 'mptcp-v0.pcap', CORPUS + '08-sunrise-sunset-esp2.pcap', CORPUS + 'ISAKMP_sa_setup.pcap',
    CORPUS + 'icmpv6.pcap', CORPUS + 'afs.pcap'];
  const out: Packet[] = [];
  for (const f of files) out.push(...(await packetsOf(f)).packets);
  // Renumber so frames stay unique across files (the filter reads frame.number from the record).
  return out.map((p, i) => ({ ...p, frame: i + 1 }));
}

test('syntax errors name the position of the offending token', () => {
  const cases: Array<[string, number, RegExp]> = [
    ['foo == 1', 0, /unknown field 'foo'/],
    ['tcp && bogus.field', 7, /unknown field/],
    ['ip.addr = 10.0.0.1', 8, /==/],
    ['(tcp || udp', 11, /expected '\)'/],
    ['tcp.port == ', 12, /expected a value/],
    ['tcp.port == http', 12, /not a number/],
    ['ip.src == 10.0.0.300', 10, /not an IP address/],
    ['ip.src == 10.0.0.0/33', 19, /prefix/],
    ['tcp udp', 4, /missing && or \|\|/],
    ['iface == "wg0', 9, /unterminated string/],
    ['tcp.port in {80 443', 19, /expected '}'/],
    ['tcp == 1', 0, /is a protocol/],
    ['iface > "a"', 0, /numeric field/],
    ['frame.len contains "x"', 0, /string field/],
    ['summary matches "("', 16, /regular expression/],
    ['tcp.flags.syn == 2', 17, /0 or 1/],
    ['tcp & udp', 4, /&&/],
    ['frame.len > 1 $', 14, /unexpected character/],
  ];
  for (const [src, at, msg] of cases) {
    const r = compileFilter(src);
    assert.equal(r.ok, false, src);
    if (!r.ok) {
      assert.equal(r.at, at, `${src}: ${r.error}`);
      assert.match(r.error, msg, src);
    }
  }
  const empty = compileFilter('   ');
  assert.ok(empty.ok && empty.predicate({} as Packet));
});

test('every documented field name compiles', () => {
  const list = fieldList();
  assert.ok(list.length > 60);
  for (const f of list) {
    const r = compileFilter(f.name);
    assert.ok(r.ok, f.name);
    assert.deepEqual(r.ok && r.fields, [f.name]);
  }
});

test('comparison operators agree with plain reads of the record', async () => {
  const ps = await mixed();
  const lens = [...new Set(ps.map((p) => p.len))].sort((a, b) => a - b);
  const mid = lens[Math.floor(lens.length / 2)]!;
  assert.deepEqual(frames(ps, `frame.len == ${mid}`), where(ps, (p) => p.len === mid));
  assert.deepEqual(frames(ps, `frame.len eq ${mid}`), where(ps, (p) => p.len === mid));
  assert.deepEqual(frames(ps, `frame.len != ${mid}`), where(ps, (p) => p.len !== mid));
  assert.deepEqual(frames(ps, `frame.len < ${mid}`), where(ps, (p) => p.len < mid));
  assert.deepEqual(frames(ps, `frame.len <= ${mid}`), where(ps, (p) => p.len <= mid));
  assert.deepEqual(frames(ps, `frame.len > ${mid}`), where(ps, (p) => p.len > mid));
  assert.deepEqual(frames(ps, `frame.len >= 0x${mid.toString(16)}`), where(ps, (p) => p.len >= mid));
  assert.deepEqual(frames(ps, `frame.len ge ${mid} && frame.len le ${mid}`), where(ps, (p) => p.len === mid));
  assert.deepEqual(frames(ps, 'frame.number in {3 5 10..12}'), [3, 5, 10, 11, 12]);
  assert.deepEqual(frames(ps, 'frame.number in {3, 5}'), [3, 5]);

  // Boolean structure on real selections: union, intersection, complement, precedence.
  const a = new Set(frames(ps, 'udp'));
  const b = new Set(frames(ps, 'frame.len > 200'));
  assert.deepEqual(frames(ps, 'udp || frame.len > 200'), where(ps, (p) => a.has(p.frame) || b.has(p.frame)));
  assert.deepEqual(frames(ps, 'udp or frame.len > 200'), frames(ps, 'udp || frame.len > 200'));
  assert.deepEqual(frames(ps, 'udp and frame.len > 200'), where(ps, (p) => a.has(p.frame) && b.has(p.frame)));
  assert.deepEqual(frames(ps, '!udp'), where(ps, (p) => !a.has(p.frame)));
  assert.deepEqual(frames(ps, 'not udp'), frames(ps, '!udp'));
  assert.deepEqual(frames(ps, 'tcp || udp && frame.len > 200'), frames(ps, 'tcp || (udp && frame.len > 200)'));
  assert.notDeepEqual(frames(ps, 'tcp || udp && frame.len > 200'), frames(ps, '(tcp || udp) && frame.len > 200'));
  assert.deepEqual(frames(ps, '!!tcp'), frames(ps, 'tcp'));
});

test('string operators: ==, !=, contains, matches, in', async () => {
  const ps = await mixed();
  assert.deepEqual(frames(ps, 'proto == "esp"'), where(ps, (p) => p.proto === 'esp'));
  assert.deepEqual(frames(ps, 'proto == esp'), where(ps, (p) => p.proto === 'esp'));
  assert.deepEqual(frames(ps, 'proto != "esp"'), where(ps, (p) => p.proto !== 'esp'));
  assert.deepEqual(frames(ps, 'proto in {"esp" isakmp}'), where(ps, (p) => p.proto === 'esp' || p.proto === 'isakmp'));
  assert.deepEqual(frames(ps, 'summary contains "ICMP"'), where(ps, (p) => p.summary.includes('ICMP')));
  assert.deepEqual(frames(ps, 'summary matches "^ip6? .*udp"'), where(ps, (p) => /^ip6? .*udp/i.test(p.summary)));
  assert.deepEqual(frames(ps, 'summary ~ "wireguard"'), where(ps, (p) => /wireguard/i.test(p.summary)));
  assert.ok(frames(ps, 'proto == "esp"').length > 0 && frames(ps, 'summary contains "ICMP"').length > 0);
});

test('address fields: exact, CIDR, IPv6, outer tunnel headers, != means none equal', async () => {
  // ARP keeps its protocol addresses in src/dst for the columns, but ip.* never matches them (as in Wireshark).
  const all = await mixed();
  const arp = all.filter((p) => p.arp !== undefined && p.ip === undefined);
  assert.ok(arp.length > 0 && arp.every((p) => p.src !== undefined));
  assert.deepEqual(frames(arp, 'ip.addr == 0.0.0.0/0 || ip.src == 0.0.0.0/0 || ip.dst == 0.0.0.0/0'), []);
  assert.deepEqual(frames(arp, `arp.spa == ${arp[0]!.arp!.spa}`).length > 0, true);
  const ps = all.filter((p) => !arp.includes(p));
  const v4 = ps.filter((p) => p.src !== undefined && !p.src.includes(':'));
  const s = v4[0]!.src!;
  assert.deepEqual(frames(ps, `ip.src == ${s}`), where(ps, (p) => p.src === s));
  assert.deepEqual(frames(ps, `ip.addr == ${s}`), where(ps, (p) => p.src === s || p.dst === s));
  assert.deepEqual(frames(ps, `ip.addr != ${s}`), where(ps, (p) => p.src !== s && p.dst !== s));
  assert.deepEqual(frames(ps, `ip.addr == ${s}/32`), frames(ps, `ip.addr == ${s}`));
  const inNet = (a: string | undefined, net: string) => a !== undefined && a.startsWith(net);
  const [o1, o2] = s.split('.');
  assert.deepEqual(frames(ps, `ip.addr == ${o1}.${o2}.0.0/16`), where(ps, (p) => inNet(p.src, `${o1}.${o2}.`) || inNet(p.dst, `${o1}.${o2}.`)));
  assert.deepEqual(frames(ps, 'ip.src == 0.0.0.0/0'), where(ps, (p) => p.src !== undefined && !p.src.includes(':')));
  assert.deepEqual(frames(ps, `ip.dst in {${s} 10.0.0.0/8}`), where(ps, (p) => p.dst === s || inNet(p.dst, '10.')));
  assert.deepEqual(frames(ps, `src == ${s}`), frames(ps, `ip.src == ${s}`));
  // IPv6 literals are canonicalised: a long spelling finds the same packets.
  assert.deepEqual(frames(ps, 'ipv6.dst == ff02:0:0:0:0:0:0:1'), where(ps, (p) => p.dst === 'ff02::1'));
  assert.ok(frames(ps, 'ipv6.dst == ff02::1').length > 0);
  assert.deepEqual(frames(ps, 'ipv6.addr == fe80::/10'), where(ps, (p) => [p.src, p.dst].some((a) => a?.startsWith('fe80:'))));
  assert.deepEqual(frames(ps, 'ipv6.src == fe80::/10'), frames(ps, 'ip.src == fe80::/10'));
  // Tunnels: the outer header's addresses match too (Wireshark matches every occurrence).
  const { packets } = await packetsOf(CORPUS + 'bigtcp-ipv4-vxlan-ipv4.pcap');
  const outer = packets.find((p) => p.outer?.[0]?.src !== undefined)!;
  const os = outer.outer![0]!.src!;
  assert.notEqual(outer.src, os);
  assert.deepEqual(frames(packets, `ip.src == ${os}`), where(packets, (p) => p.src === os || (p.outer ?? []).some((o) => o.src === os)));
  assert.ok(frames(packets, `ip.src == ${os} && vxlan`).length > 0);
});

test('field families read the right parts of the record', async () => {
  const ps = await mixed();
  const tcp = (p: Packet) => p.tcp !== undefined;
  const has = (f: string, p: Packet) => tcp(p) && p.tcp!.flags.includes(f);
  assert.deepEqual(frames(ps, 'tcp.flags.syn'), where(ps, (p) => has('S', p)));
  assert.deepEqual(frames(ps, 'tcp.flags.syn && !tcp.flags.ack'), where(ps, (p) => has('S', p) && !has('.', p)));
  assert.deepEqual(frames(ps, 'tcp.flags.ack == 0'), where(ps, (p) => tcp(p) && !has('.', p)));
  assert.deepEqual(frames(ps, 'tcp.flags.fin || tcp.flags.reset || tcp.flags.push'), where(ps, (p) => has('F', p) || has('R', p) || has('P', p)));
  assert.deepEqual(frames(ps, 'tcp.flags == 0x010'), where(ps, (p) => p.tcp?.flags === '.'));
  assert.deepEqual(frames(ps, 'tcp.port in {80 443}'), where(ps, (p) => tcp(p) && [80, 443].some((x) => p.sport === x || p.dport === x)));
  const t0 = ps.find(tcp)!;
  assert.deepEqual(frames(ps, `tcp.seq == ${t0.tcp!.seq} && tcp.ack == ${t0.tcp!.ack}`), where(ps, (p) => p.tcp?.seq === t0.tcp!.seq && p.tcp?.ack === t0.tcp!.ack));
  assert.deepEqual(frames(ps, 'tcp.len > 0'), where(ps, (p) => (p.tcp?.len ?? 0) > 0));
  assert.deepEqual(frames(ps, 'udp.port == 51821'), where(ps, (p) => p.udp !== undefined && (p.sport === 51821 || p.dport === 51821)));
  assert.deepEqual(frames(ps, 'udp.srcport == 7001 || udp.dstport == 7001'), frames(ps, 'udp.port == 7001'));
  assert.deepEqual(frames(ps, 'port == 22'), where(ps, (p) => p.sport === 22 || p.dport === 22));
  assert.deepEqual(frames(ps, 'sport == 22'), where(ps, (p) => p.sport === 22));
  assert.deepEqual(frames(ps, 'icmp.type == 3'), where(ps, (p) => p.icmp?.v === 4 && p.icmp.type === 3));
  assert.deepEqual(frames(ps, 'icmp.orig.src == 131.151.1.59'), where(ps, (p) => p.icmp?.orig?.src === '131.151.1.59'));
  assert.deepEqual(frames(ps, 'icmpv6 && icmpv6.code == 0'), where(ps, (p) => p.icmp?.v === 6 && p.icmp.code === 0));
  assert.deepEqual(frames(ps, 'ip.ttl < 64'), where(ps, (p) => p.ip?.v === 4 && p.ip.ttl < 64));
  assert.deepEqual(frames(ps, 'ip.proto == 17'), where(ps, (p) => p.ip?.proto === 17));
  assert.deepEqual(frames(ps, 'ip.flags.df'), where(ps, (p) => p.ip?.v === 4 && p.ip.df === true));
  assert.deepEqual(frames(ps, 'wg.type == 4 && wg.counter >= 2'), where(ps, (p) => p.wg?.type === 4 && Number(p.wg.counter) >= 2));
  assert.deepEqual(frames(ps, 'wg.type in {1 2}'), where(ps, (p) => p.wg?.type === 1 || p.wg?.type === 2));
  const w = ps.find((p) => p.wg?.sender !== undefined)!;
  assert.deepEqual(frames(ps, `wg.sender == ${w.wg!.sender}`), where(ps, (p) => p.wg?.sender === w.wg!.sender));
  assert.deepEqual(frames(ps, 'esp.spi == 0x12345678'), where(ps, (p) => p.esp?.spi === 0x12345678));
  assert.ok(frames(ps, 'esp.spi == 0x12345678').length > 0);
  const ike = ps.find((p) => p.ike !== undefined)!;
  assert.deepEqual(frames(ps, `ike.ispi == 0x${ike.ike!.ispi.toUpperCase()}`), where(ps, (p) => p.ike?.ispi === ike.ike!.ispi));
  assert.deepEqual(frames(ps, `ike.msgid == ${ike.ike!.msgid} && ike.version == ${ike.ike!.version}`),
    where(ps, (p) => p.ike?.msgid === ike.ike!.msgid && p.ike.version === ike.ike!.version));
  assert.deepEqual(frames(ps, 'frame.len > 1400'), where(ps, (p) => p.len > 1400));
  assert.deepEqual(frames(ps, 'frame.cap_len < 100'), where(ps, (p) => p.caplen < 100));
  assert.deepEqual(frames(ps, 'iface.index == 3'), where(ps, (p) => p.ifindex === 3));
  assert.deepEqual(frames(ps, 'dir == "in"'), where(ps, (p) => p.dir === 'in'));
  assert.deepEqual(frames(ps, 'dir'), where(ps, (p) => p.dir !== null));
});

test('interface names and checkpoints', async () => {
  const ps = await mixed();
  // Interface names as the capture reader gives them (pcapng IDB or `ip -o link` for SLL2).
  assert.ok(frames(ps, 'iface == "h2wg0a"').length > 0);
  assert.deepEqual(frames(ps, 'iface == "h2wg0a"'), where(ps, (p) => p.iface === 'h2wg0a'));
  assert.deepEqual(frames(ps, 'iface contains "wg"'), where(ps, (p) => p.iface.includes('wg')));
  assert.deepEqual(frames(ps, 'iface'), where(ps, (p) => p.iface !== ''));

  // Checkpoints come from the analysis through the context argument.
  const labels = new Map<number, string>([[3, 'A1'], [7, 'B4'], [9, 'A1']]);
  const ctx = (p: Packet) => ({ checkpoint: labels.get(p.frame) });
  assert.deepEqual(frames(ps, 'checkpoint', ctx), [3, 7, 9]);
  assert.deepEqual(frames(ps, 'checkpoint == "A1"', ctx), [3, 9]);
  assert.deepEqual(frames(ps, 'checkpoint == B4 || frame.number == 1', ctx), [1, 7]);
  assert.deepEqual(frames(ps, 'checkpoint in {A1 B4} && frame.number > 3', ctx), [7, 9]);
  assert.deepEqual(frames(ps, 'checkpoint'), []);
});

test('throughput over 1 000 000 packets (printed, not asserted)', async () => {
  const ps = await mixed();
  const n = 1_000_000;
  const big: Packet[] = new Array(n);
  for (let i = 0; i < n; i++) big[i] = ps[i % ps.length]!;
  const filters = [
    'ip.addr == 192.168.1.11 && udp.port == 51821',
    'tcp.flags.syn && !tcp.flags.ack',
    'ip.src == 192.168.0.0/16',
    'wg.type == 1 || esp.spi == 0x12345678',
    'tcp.port in {80 443 22}',
    'frame.len > 1400',
    'summary contains "unreachable"',
  ];
  const lines: string[] = [];
  for (const src of filters) {
    const f = pred(src);
    let hits = 0;
    for (let i = 0; i < 50_000; i++) if (f(big[i]!)) hits++; // warm-up
    hits = 0;
    const t0 = performance.now();
    for (let i = 0; i < n; i++) if (f(big[i]!)) hits++;
    const ms = performance.now() - t0;
    lines.push(`  ${ms.toFixed(1).padStart(6)} ms  ${String(hits).padStart(7)} hits  ${src}`);
  }
  console.log(`filter throughput, 1 000 000 packets, one core:\n${lines.join('\n')}`);
});
