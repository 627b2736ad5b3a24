// The packet list's cell text, checked on real corpus packets against what tshark/tcpdump print
// for the same frames (values read from their output, noted next to each assertion).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { loadAll } from '../../../shared/ingest/load-capture.ts';
import { formatAddr, formatInfo, formatSpan, formatTime } from '../../../renderer/src/features/packets/format.ts';

const corpus = (name: string) => readFileSync(new URL(`../../../../shared/corpus/tcpdump-tests/${name}`, import.meta.url));

test('time column: relative to the first packet and absolute UTC time of day, to the nanosecond', async () => {
  const { packets } = await loadAll(corpus('afs.pcap'));
  const first = { sec: packets[0]!.tsSec, nsec: packets[0]!.tsNsec };
  // tshark -T fields -e frame.time_relative: frame 2 0.019872000, frame 601 129.429532000
  assert.equal(formatTime(packets[1]!, 'relative', first), '00:00:00.019872000');
  assert.equal(formatTime(packets[600]!, 'relative', first), '00:02:09.429532000');
  // TZ=UTC tcpdump -nr afs.pcap: 21:46:16.463334
  assert.equal(formatTime(packets[0]!, 'absolute', first), '21:46:16.463334000');
  // tshark: frame.time_relative of the last frame is 129.43 s
  assert.equal(formatSpan(first, { sec: packets[600]!.tsSec, nsec: packets[600]!.tsNsec }), '2 min 09 s');
});

test('source/destination: IPv6 with a port is bracketed', async () => {
  const { packets } = await loadAll(corpus('LINKTYPE_IPV6.pcap'));
  const p = packets[0]!;
  // tshark -e ipv6.src -e udp.srcport -e ipv6.dst -e udp.dstport: 2001:db8::1 12345 2620:fe::9 53
  assert.equal(formatAddr(p.src, p.sport), '[2001:db8::1]:12345');
  assert.equal(formatAddr(p.dst, p.dport), '[2620:fe::9]:53');
});

test('info column drops the addresses the Source/Destination columns already show', async () => {
  const { packets } = await loadAll(corpus('mptcp-v0.pcap'));
  // tcpdump -nr: "IP 10.2.1.2.35961 > 10.1.1.2.22: Flags [S], seq 2912457561, win 14600, options [...], length 0"
  assert.match(formatInfo(packets[0]!), /^Flags \[S\], seq 2912457561, win 14600, options \[mss 1460,/);
});

test('info column names tunnel messages as Wireshark does', async () => {
  const { packets } = await loadAll(corpus('02-sunrise-sunset-esp.pcap'));
  // tshark: "ESP (SPI=0x12345678)", esp.sequence 1; tcpdump: "ESP(spi=0x12345678,seq=0x1)".
  assert.equal(formatInfo(packets[0]!), 'ESP (SPI=0x12345678), seq=1');
});
