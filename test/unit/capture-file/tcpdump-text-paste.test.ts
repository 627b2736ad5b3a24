// tcpdump text as people paste it (issue 15): forum code blocks and quote marks, -t without times, the
// -tt … -ttttt styles, -v lines that grep separated, masked addresses, DNS, pfSense/FreeBSD variants
// (isakmp, ESP, enc0, pflog -e), and the skipped-lines report down to the CLI's stderr and JSON.
// Expected values are written out by hand from each fixture line, not derived with the parser's code.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Packet } from '../../../shared/protocols/packet.ts';
import { splitEndpoint } from '../../../shared/capture-file/tcpdump-text.ts';
import { skippedLinesNote } from '../../../shared/capture-file/text/skipped.ts';
import { loadAll } from '../../../shared/ingest/load-capture.ts';
import { CORPUS, HAVE_TCPDUMP, readAll, run } from './helpers.ts';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const TEXT = ROOT + 'test/fixtures/text/';
const enc = new TextEncoder();

async function load(textOrFile: string, opts = {}) {
  const text = textOrFile.endsWith('.txt') ? readFileSync(TEXT + textOrFile, 'utf8') : textOrFile;
  const r = await readAll(enc.encode(text), opts);
  return { packets: r.packets, summary: r.summary };
}

const pick = (p: Packet, keys: Array<keyof Packet>) => Object.fromEntries(keys.map((k) => [k, p[k]]));
const hms = (h: number, m: number, s: number) => h * 3600 + m * 60 + s;

test('forum code block: indented packet lines and deeper -v continuations; prose lines reported as skipped', async () => {
  const { packets, summary } = await load('forum-indented.txt');
  assert.equal(packets.length, 3);
  assert.deepEqual(packets.map((p) => [p.tsSec, p.tsNsec]), [[hms(14, 2, 11), 402917000], [hms(14, 2, 16), 523301000], [hms(14, 2, 21), 643087000]]);
  assert.deepEqual(pick(packets[0]!, ['src', 'sport', 'dst', 'dport', 'proto']), { src: '203.0.113.45', sport: 41622, dst: '192.0.2.10', dport: 51820, proto: 'udp' });
  assert.deepEqual(packets[0]!.ip, { v: 4, ttl: 52, len: 176, id: 40211, df: false, proto: 17 });
  // The last continuation is indented with spaces then a tab: still deeper than its packet line.
  assert.deepEqual(pick(packets[2]!, ['src', 'dst', 'sport']), { src: '192.0.2.10', dst: '203.0.113.45', sport: 51820 });
  assert.equal(packets[2]!.udp?.len, 92);
  assert.ok(packets.every((p) => p.timeUnknown === undefined));
  assert.deepEqual(summary.skipped, { count: 2, examples: [
    { line: 1, text: 'Here is what I see on the server (wg0 is up, the handshake never completes):' },
    { line: 16, text: 'Any idea why?' },
  ] });
  assert.deepEqual(summary.problems, []);
  assert.equal(summary.complete, true);
});

test('code block neighbours: tabs, no-break spaces, CRLF, first line flush and the rest indented', async () => {
  const base = readFileSync(TEXT + 'forum-indented.txt', 'utf8');
  const variants: Record<string, string> = {
    tabs: base.replace(/^ {4}/gm, '\t'),
    nbsp: base.replace(/^ {4}/gm, '\u00a0\u00a0\u00a0\u00a0'),
    crlf: base.replace(/\n/g, '\r\n'),
    // Only the first code line flush left (a common copy mistake): the rest keeps its relative indent.
    flushFirst: base.replace('    $ sudo', '$ sudo'),
    // Copied from a rendered page: no-break spaces everywhere, '>' and '<' as HTML entities.
    html: base.replace(/ /g, '\u00a0').replace(/>/g, '&gt;'),
    // Quoted in a mail client: "> " before every line, or ">" alone.
    mailQuote: base.replace(/^/gm, '> '),
    tightQuote: base.replace(/^/gm, '>'),
  };
  for (const [name, text] of Object.entries(variants)) {
    const { packets, summary } = await load(text);
    assert.equal(packets.length, 3, name);
    assert.deepEqual(packets.map((p) => p.udp?.len), [148, 148, 92], name);
    assert.deepEqual(packets.map((p) => p.ip?.ttl), [52, 52, 64], name);
    assert.equal(summary.skipped?.count, 2, name);
  }
});

test('mail/forum quote marks ("> ", ">>", ">\\t"): packets read, IKE flags from [I]/[R], the rest reported', async () => {
  const { packets, summary } = await load('quoted-reply.txt');
  assert.equal(packets.length, 5);
  assert.deepEqual(packets.map((p) => p.proto), ['isakmp', 'isakmp', 'isakmp', 'isakmp', 'nat-keepalive']);
  assert.deepEqual(packets.map((p) => p.ike?.flags), [0x08, 0x20, 0x08, 0x08, undefined]);
  assert.deepEqual(packets.map((p) => p.ike?.exchange), [34, 34, 35, 35, undefined]);
  assert.equal(packets[2]!.ike?.nonEspMarker, true);
  assert.equal(packets[4]!.nattKeepalive, true);
  assert.deepEqual([packets[0]!.tsSec, packets[0]!.tsNsec], [hms(9, 15, 1), 100200000]);
  assert.deepEqual(summary.skipped?.examples.map((e) => e.line), [1, 2, 9]);
  assert.equal(summary.skipped?.count, 3);
});

test('-t output (no time): order kept, timeUnknown set, times only ordinal; -i any columns read', async () => {
  const { packets, summary } = await load('no-timestamp-t.txt');
  assert.equal(packets.length, 4);
  assert.ok(packets.every((p) => p.timeUnknown === true));
  const t = packets.map((p) => p.tsSec * 1e9 + p.tsNsec);
  assert.ok(t.every((x, i) => i === 0 || x > t[i - 1]!), 'strictly increasing placeholder times');
  assert.deepEqual(packets.map((p) => [p.iface, p.dir, p.proto]), [['wg0', 'out', 'icmp'], ['eth0', 'out', 'udp'], ['eth0', 'in', 'udp'], ['wg0', 'in', 'icmp']]);
  assert.deepEqual(pick(packets[1]!, ['src', 'sport', 'dst', 'dport']), { src: '192.0.2.33', sport: 40964, dst: '203.0.113.9', dport: 51820 });
  assert.equal(packets[0]!.linktype, 276);
  assert.equal(summary.skipped?.count, 0);
  // Neighbour: the same lines without the pasted command line and without interface columns.
  const bare = (await load('IP 192.0.2.1.1 > 192.0.2.2.2: UDP, length 10\nIP6 2001:db8::1 > 2001:db8::2: ICMP6, echo request, id 1, seq 1, length 64\nARP, Request who-has 192.0.2.2 tell 192.0.2.1, length 28\n')).packets;
  assert.deepEqual(bare.map((p) => [p.proto, p.timeUnknown]), [['udp', true], ['icmpv6', true], ['arp', true]]);
  const probe = (await load('ARP, Request who-has 192.0.2.2 (02:00:00:00:00:02) tell 192.0.2.1, length 28\n')).packets[0]!;
  assert.deepEqual([probe.src, probe.dst, probe.arp?.op], ['192.0.2.1', '192.0.2.2', 1]);
  assert.equal(bare[1]!.icmp?.type, 128);
});

test('the -tt, -ttt, -tttt, -ttttt styles of one exchange give the same intervals (and the absolute time where printed)', async () => {
  const start = Date.UTC(2024, 4, 6, 14, 2, 11) / 1000;
  const gaps = (ps: Packet[]) => ps.slice(1).map((p, i) => (p.tsSec - ps[i]!.tsSec) * 1e9 + (p.tsNsec - ps[i]!.tsNsec));
  for (const style of ['tt', 'ttt', 'tttt', 'ttttt']) {
    const { packets, summary } = await load(`style-${style}.txt`);
    assert.equal(packets.length, 3, style);
    assert.deepEqual(gaps(packets), [5120384000, 5119786000], style);
    assert.ok(packets.every((p) => p.timeUnknown === undefined), style);
    if (style === 'tt' || style === 'tttt') assert.deepEqual([packets[0]!.tsSec, packets[0]!.tsNsec], [start, 402917000], style);
    assert.equal(summary.skipped?.count, 0, style);
  }
});

test('grep kept only -v second lines: each is a packet of its own (no time), IKE and ESP fields intact', async () => {
  const { packets } = await load('grep-continuation.txt');
  assert.equal(packets.length, 4);
  assert.ok(packets.every((p) => p.timeUnknown === true));
  assert.deepEqual(packets.map((p) => p.ike?.msgid), [0, 0, 1, undefined]);
  assert.deepEqual(packets.map((p) => p.ike?.flags), [0x08, 0x20, 0x08, undefined]);
  assert.deepEqual(packets[3]!.esp, { spi: 0xc6f1a27e, seq: 1 });
  assert.deepEqual(pick(packets[3]!, ['sport', 'dport', 'proto']), { sport: 4500, dport: 4500, proto: 'esp' });
});

test('grep kept only -v header lines: each still gives its IP header; an orphan second line after a complete pair stands alone', async () => {
  const { packets, summary } = await load('grep-header.txt');
  assert.equal(packets.length, 5);
  assert.deepEqual(packets.slice(0, 3).map((p) => [p.proto, p.ip?.ttl, p.ip?.len, p.ip?.id, p.src]), [
    ['udp', 52, 176, 40211, undefined], ['udp', 52, 176, 40388, undefined], ['esp', 63, 132, 5, undefined]]);
  assert.deepEqual(summary.problems, []);
  assert.deepEqual(pick(packets[3]!, ['src', 'dst', 'proto', 'timeUnknown']), { src: '2001:db8::2', dst: '2001:db8::1', proto: 'udp', timeUnknown: undefined });
  // Line 6 lost its header: it takes the time of the packet before it and says the time is not its own.
  assert.deepEqual(pick(packets[4]!, ['src', 'dst', 'sport', 'timeUnknown', 'tsSec']), { src: '2001:db8::1', dst: '2001:db8::2', sport: 51820, timeUnknown: true, tsSec: hms(14, 2, 22) });
  assert.equal(packets[4]!.udp?.len, 92);
});

test('masked addresses keep their port; the mask text is the address', async () => {
  const { packets, summary } = await load('masked.txt');
  assert.deepEqual(packets.map((p) => [p.src, p.sport, p.dst, p.dport]), [
    ['115.***', 45705, '192.168.1.10', 51820],
    ['192.168.1.10', 51820, '115.***', 45705],
    ['<WANIP>', 35288, '203.0.113.5', 500],
    ['203.0.113.5', 500, '<WANIP>', 35288],
    ['x.x.x.x', 500, '203.0.113.5', 500],
    ['NNN.NNN.N.NNN', 55582, '10.0.0.1', 22],
    ['198.51.100.xxx', undefined, '10.0.0.1', undefined],
  ]);
  assert.deepEqual(summary.problems, []);
  // Neighbours of the rule, one by one.
  assert.deepEqual(splitEndpoint('10.0.0.1', false), { addr: '10.0.0.1' });
  assert.deepEqual(splitEndpoint('1.2.xxx.4', false), { addr: '1.2.xxx.4' });
  assert.deepEqual(splitEndpoint('203.0.113.*.4500', false), { addr: '203.0.113.*', port: 4500 });
  assert.deepEqual(splitEndpoint('a.b.c.d.51820', false), { addr: 'a.b.c.d', port: 51820 });
  assert.deepEqual(splitEndpoint('***.53', false), { addr: '***', port: 53 });
  assert.deepEqual(splitEndpoint('<WANIP>.99999', false), { addr: '<WANIP>.99999' });
  assert.deepEqual(splitEndpoint('2001:db8:xxxx::1.500', true), { addr: '2001:db8:xxxx::1', port: 500 });
});

test('DNS over UDP gets proto "dns" (queries, answers, NXDomain, IPv6, EDNS); DNS over TCP stays tcp', async () => {
  const { packets } = await load('dns.txt');
  assert.deepEqual(packets.map((p) => p.proto), ['dns', 'dns', 'dns', 'dns', 'dns', 'tcp']);
  assert.deepEqual(packets.map((p) => p.udp?.len), [33, 33, 49, 108, 44, undefined]);
  assert.deepEqual(packets.map((p) => p.ip?.proto), [17, 17, 17, 17, 17, 6]);
  assert.equal(packets[3]!.ip?.len, 20 + 8 + 108);
  // A port-53 line whose payload is not DNS text (tcpdump's plain UDP form) stays udp.
  const plain = (await load('12:00:00.000000 IP 192.0.2.1.53 > 192.0.2.2.40000: UDP, length 12\n')).packets[0]!;
  assert.equal(plain.proto, 'udp');
});

test('ICMPv6 from text has the name the binary decoder gives the same packets (tcpdump -n of icmpv6.pcap)', { skip: HAVE_TCPDUMP ? false : 'tcpdump missing' }, async () => {
  const file = CORPUS + 'icmpv6.pcap';
  const bin = (await loadAll(new Uint8Array(readFileSync(file)))).packets;
  const text = (await load(run('tcpdump', ['-n', '-r', file]).stdout)).packets;
  assert.equal(text.length, bin.length);
  const v6 = bin.filter((p) => p.icmp?.v === 6);
  assert.ok(v6.length > 0);
  for (const b of v6) assert.equal(text[b.frame - 1]!.proto, b.proto, `frame ${b.frame}`);
  const one = (await load('12:00:00.000000 IP6 2001:db8::1 > 2001:db8::2: ICMP6, packet too big, mtu 1280, length 1240\n')).packets[0]!;
  assert.equal(one.proto, v6[0]!.proto);
  assert.deepEqual([one.icmp?.type, one.icmp?.mtu], [2, 1280]);
});

test('pfSense/FreeBSD text: prompt recognised, isakmp phases with [E], ESP with upper-case hex', async () => {
  const { packets, summary } = await load('pfsense-isakmp.txt');
  assert.equal(summary.skipped?.count, 0, 'the pfSense prompt line is a command line, not an unknown line');
  assert.deepEqual(packets.map((p) => [p.proto, p.ike?.version, p.ike?.exchange, p.ike?.flags]), [
    ['isakmp', 1, 2, 0], ['isakmp', 1, 2, 0], ['isakmp', 1, 32, 0x01], ['esp', undefined, undefined, undefined], ['esp', undefined, undefined, undefined]]);
  assert.deepEqual(packets[4]!.esp, { spi: 0xc0ffee01, seq: 1 });
});

test('pflog -e text: fwlog {rule, reason, action, ifname, dir}; -ttt deltas; IPv6 and -v forms', async () => {
  const { packets, summary } = await load('pflog-e.txt');
  assert.equal(packets.length, 5);
  assert.deepEqual(summary.skipped?.count, 0);
  assert.deepEqual(packets.map((p) => p.fwlog), [
    { source: 'pflog', rule: '5/0', reason: 'match', action: 'block', ifname: 'em0', dir: 'in' },
    { source: 'pflog', rule: '5/0', reason: 'match', action: 'block', ifname: 'em0', dir: 'in' },
    { source: 'pflog', rule: '1.vpn_rules.2/0', reason: 'match', action: 'pass', ifname: 'em1', dir: 'out' },
    { source: 'pflog', rule: '9/0', reason: 'match', action: 'block', ifname: 'em0', dir: 'in' },
    { source: 'pflog', rule: '5/0', reason: 'match', action: 'block', ifname: 'em0', dir: 'in' },
  ]);
  assert.deepEqual(packets.map((p) => p.linktype), [117, 117, 117, 117, 117]);
  assert.deepEqual(packets.map((p) => p.proto), ['isakmp', 'isakmp', 'esp', 'udp', 'isakmp']);
  assert.deepEqual(pick(packets[3]!, ['src', 'dst', 'sport']), { src: '2001:db8::7', dst: '2001:db8::1', sport: 51820 });
  assert.equal(packets[3]!.ip?.v, 6);
  assert.deepEqual([packets[4]!.ip?.ttl, packets[4]!.ip?.len, packets[4]!.ike?.msgid], [56, 320, 0]);
  // FreeBSD/pfSense's own tcpdump prints the reason by name only, maybe with the rule's uid.
  const bsd = (await load([
    '12:00:00.000000 rule 5/match: block in on em0: 203.0.113.2.500 > 198.51.100.9.500: isakmp: phase 1 I ident',
    '12:00:00.100000 rule 12/match [uid 0]: pass out on igb1: 198.51.100.9.4500 > 203.0.113.2.4500: isakmp-nat-keep-alive',
    '12:00:00.200000 rule 3.vpn/sub.1/state-mismatch: block in on lagg0.20: 203.0.113.2.40000 > 198.51.100.9.22: Flags [R], seq 1, win 0, length 0',
    '12:00:00.300000 rule 4/unkn(99): unkn(42) unkn(7) on em0: 203.0.113.2 > 198.51.100.9: ICMP echo request, id 1, seq 1, length 64',
  ].join('\n'))).packets;
  assert.deepEqual(bsd.map((p) => p.fwlog), [
    { source: 'pflog', rule: '5/0', reason: 'match', action: 'block', ifname: 'em0', dir: 'in' },
    { source: 'pflog', rule: '12/0', reason: 'match', action: 'pass', ifname: 'igb1', dir: 'out' },
    { source: 'pflog', rule: '3.vpn/sub.1/10', reason: 'state-mismatch', action: 'block', ifname: 'lagg0.20', dir: 'in' },
    { source: 'pflog', rule: '4/99', reason: 'unkn(99)', action: 'unkn(42)', ifname: 'em0' },
  ]);
  assert.deepEqual(bsd.map((p) => p.proto), ['isakmp', 'nat-keepalive', 'tcp', 'icmp']);
  // -ttt: each line is the gap since the one before.
  assert.deepEqual(packets.map((p) => [p.tsSec, p.tsNsec]), [[0, 0], [1, 2011000], [5, 5538000], [5, 505538000], [7, 505538000]]);
});

test('enc0 text: the SA header is read (SPI, authentic/confidential) and the inner packet decoded', async () => {
  const { packets, summary } = await load('enc0.txt');
  assert.equal(summary.skipped?.count, 0);
  assert.deepEqual(packets.map((p) => [p.enc?.spi, p.enc?.flags, p.proto, p.src, p.dst]), [
    [0xc1a2b3c4, 0xc00, 'icmp', '10.10.0.5', '10.20.0.7'],
    [0x7d8e9fa0, 0xc00, 'icmp', '10.20.0.7', '10.10.0.5'],
    [0xc1a2b3c4, 0xc00, 'tcp', '10.10.0.5', '10.20.0.7'],
  ]);
  assert.equal(packets[2]!.tcp?.mss, 1460);
  assert.ok(packets.every((p) => p.linktype === 109));
  // The other printed forms: one flag, none, and the variant that drops "): " after the flags.
  const forms = (await load([
    '12:00:00.000000 (confidential): SPI 0x00000010: IP 10.0.0.1 > 10.0.0.2: ICMP echo request, id 1, seq 1, length 64',
    '12:00:00.100000 (unprotected): SPI 0x00000011: IP 10.0.0.1 > 10.0.0.2: ICMP echo request, id 1, seq 2, length 64',
    '12:00:00.200000 (confidential,SPI 0x00000012: IP 10.0.0.1 > 10.0.0.2: ICMP echo request, id 1, seq 3, length 64',
  ].join('\n'))).packets;
  assert.deepEqual(forms.map((p) => [p.enc?.spi, p.enc?.flags, p.icmp?.seq]), [[16, 0x400, 1], [17, 0, 2], [18, 0x400, 3]]);
});

test('IKE notify names from -v text, IKEv2 numbers and IKEv1 names, case and separators ignored', async () => {
  const text = [
    '12:00:00.000000 IP (tos 0x0, ttl 64, id 1, offset 0, flags [none], proto UDP (17), length 64)',
    '    192.0.2.1.500 > 198.51.100.2.500: isakmp 2.0 msgid 00000000: parent_sa ikev2_init[R]:',
    '    (n: prot_id=#0 type=14(no_protocol_chosen))',
    '12:00:01.000000 IP (tos 0x0, ttl 64, id 2, offset 0, flags [none], proto UDP (17), length 100)',
    '    192.0.2.1.500 > 198.51.100.2.500: isakmp 2.0 msgid 00000000: parent_sa ikev2_init[R]:',
    '    (n: prot_id=#0 type=16390(cookie) data=(0101010101010101))',
    '    (n: prot_id=#0 type=16388(nat_detection_source_ip))',
    '12:00:02.000000 IP (tos 0x0, ttl 64, id 3, offset 0, flags [none], proto UDP (17), length 68)',
    '    192.0.2.1.500 > 198.51.100.2.500: isakmp 1.0 msgid 00000000: phase 1 ? inf:',
    '    (n: doi=ipsec proto=isakmp type=NO-PROPOSAL-CHOSEN)',
    '12:00:03.000000 IP 192.0.2.1.500 > 198.51.100.2.500: isakmp 1.0 msgid 00000000: phase 1 ? inf: (n: doi=ipsec proto=isakmp type=invalid_spi)',
    '12:00:04.000000 IP 192.0.2.1.500 > 198.51.100.2.500: isakmp 1.0 msgid 00000000: phase 1 ? inf: (n: doi=ipsec proto=isakmp type=#24577)',
    '12:00:05.000000 IP 192.0.2.1.500 > 198.51.100.2.500: isakmp: parent_sa ikev2_init[I]',
  ].join('\n');
  const { packets } = await load(text);
  assert.deepEqual(packets.map((p) => p.ike?.notify), [[14], [16390, 16388], [14], [11], [24577], undefined]);
  assert.deepEqual(packets.map((p) => p.ike?.flags), [0x20, 0x20, 0, 0, 0, 0x08]);
});

test('a text with no packet line is a fatal problem naming the first lines it could not read', async () => {
  const { packets, summary } = await load('no-packets.txt');
  assert.equal(packets.length, 0);
  const fatal = summary.problems.filter((p) => p.fatal);
  assert.equal(fatal.length, 1);
  assert.match(fatal[0]!.message, /^no tcpdump packet line recognised; first lines not read: line 1: "interface: wg0", line 2: " {2}public key: \(hidden\)"/);
  assert.equal(summary.complete, false);
  assert.equal(summary.skipped?.count, 8);
  // Only banners (or blank lines): tcpdump saw nothing, which is evidence too: an empty capture with a note.
  for (const text of ['tcpdump: listening on eth0, link-type EN10MB (Ethernet), snapshot length 262144 bytes\n0 packets captured\n', '\n', ' \n\n']) {
    const banner = await load(text);
    assert.equal(banner.packets.length, 0);
    assert.equal(banner.summary.complete, true, JSON.stringify(text));
    assert.match(banner.summary.problems[0]!.message, /^no packet lines: the text holds only blank lines or tcpdump banners/);
  }
});

test('skipped examples are capped (5, 200 characters) and the note makes control characters visible', async () => {
  const lines = Array.from({ length: 9 }, (_, i) => `junk ${i} \x1b]0;title\x07 ${'z'.repeat(300)}`);
  const { summary } = await load(lines.join('\n') + '\n12:00:00.000000 IP 192.0.2.1.1 > 192.0.2.2.2: UDP, length 1\n');
  assert.equal(summary.skipped?.count, 9);
  assert.equal(summary.skipped?.examples.length, 5);
  assert.ok(summary.skipped!.examples.every((e) => e.text.length <= 201));
  const note = skippedLinesNote('paste.txt', summary.skipped)!;
  assert.ok([...note].every((c) => c.charCodeAt(0) >= 0x20 && c.charCodeAt(0) !== 0x7f), 'no control character in the note');
  assert.match(note, /^paste\.txt: 9 text lines skipped \(not tcpdump packet lines\), first: line 1 "junk 0 \\x1b\]0;title\\x07 z+…"/);
  assert.equal(skippedLinesNote('x', { count: 0, examples: [] }), null);
});

const runner = ROOT + 'test/hostile/run-cli.ts';
function cli(args: string[]) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', runner, ...args], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('CLI inspect: one stderr note for skipped lines; no packet line → exit 1 with the reason', () => {
  const ok = cli(['inspect', TEXT + 'forum-indented.txt']);
  assert.equal(ok.status, 0, ok.stderr);
  assert.equal(ok.stdout.trim().split('\n').length, 3);
  const notes = ok.stderr.split('\n').filter((l) => l.startsWith('note: '));
  assert.equal(notes.length, 1);
  assert.match(notes[0]!, /forum-indented\.txt: 2 text lines skipped \(not tcpdump packet lines\), first: line 1 "Here is what/);
  const none = cli(['inspect', TEXT + 'no-packets.txt']);
  assert.equal(none.status, 1);
  assert.match(none.stderr, /error: .*no-packets\.txt: no tcpdump packet line recognised; first lines not read: line 1: "interface: wg0"/);
  // The error names the lines already: no second report of the same lines.
  assert.equal(none.stderr.trim().split('\n').filter((l) => !l.startsWith('rss-kb=')).length, 1, none.stderr);
});

test('CLI analyze: the skipped-lines note on stderr and captures.X.skipped_lines in --json', () => {
  const r = cli(['analyze', TEXT + 'forum-indented.txt', TEXT + 'quoted-reply.txt', '--json', '-', '--keep-order']);
  assert.equal(r.status, 0, r.stderr);
  const json = JSON.parse(r.stdout) as { captures: Record<'A' | 'B', { skipped_lines?: { count: number; examples: Array<{ line: number; text: string }> } }> };
  assert.equal(json.captures.A.skipped_lines?.count, 2);
  assert.equal(json.captures.B.skipped_lines?.count, 3);
  assert.deepEqual(json.captures.B.skipped_lines?.examples[0], { line: 1, text: 'On Tuesday the other admin wrote:' });
  assert.equal(r.stderr.split('\n').filter((l) => l.includes('text lines skipped')).length, 2);
});

test('neighbours: IKE flag sets ([], [IR], [IVR], [EC]), a lone IPv6 -v header, mDNS and LLMNR', async () => {
  const { packets } = await load([
    '12:00:00.000000 IP 192.0.2.1.500 > 192.0.2.2.500: isakmp: child_sa  inf2[]',
    '12:00:00.100000 IP 192.0.2.1.500 > 192.0.2.2.500: isakmp: child_sa  child_sa[IR]',
    '12:00:00.200000 IP 192.0.2.1.500 > 192.0.2.2.500: isakmp: parent_sa ikev2_init[IVR]',
    '12:00:00.300000 IP 192.0.2.1.500 > 192.0.2.2.500: isakmp: phase 2/others I oakley-quick[EC]',
    '12:00:00.400000 IP6 (flowlabel 0x12345, hlim 255, next-header ICMPv6 (58) payload length: 32)',
    '12:00:00.500000 IP 192.0.2.7.5353 > 224.0.0.251.5353: 0 [2q] PTR (QM)? _ipps._tcp.local. PTR (QM)? _ipp._tcp.local. (45)',
    '12:00:00.600000 IP 192.0.2.7.61234 > 224.0.0.252.5355: 41530 A? wpad. (22)',
  ].join('\n'));
  assert.deepEqual(packets.slice(0, 4).map((p) => p.ike?.flags), [0, 0x28, 0x38, 0x03]);
  assert.deepEqual([packets[4]!.proto, packets[4]!.ip?.v, packets[4]!.ip?.ttl, packets[4]!.ip?.len, packets[4]!.src], ['icmpv6', 6, 255, 72, undefined]);
  assert.deepEqual(packets.slice(5).map((p) => [p.proto, p.udp?.len]), [['dns', 45], ['dns', 22]]);
});

test('many lines the reader cannot use: counted, five examples, per-line problems capped with a closing count', async () => {
  const junk = Array.from({ length: 3000 }, (_, i) => `note ${i}: nothing to see`).join('\n');
  const unknown = Array.from({ length: 250 }, (_, i) => `12:00:00.${String(i).padStart(6, '0')} LLDP, length 110: switch-${i}`).join('\n');
  const { packets, summary } = await load(`${junk}\n${unknown}\n`);
  assert.equal(summary.skipped?.count, 3000);
  assert.equal(summary.skipped?.examples.length, 5);
  // The unknown lines with a time are packets kept as they are, each with a problem, up to 100 listed.
  assert.equal(packets.length, 250);
  assert.equal(summary.problems.length, 101);
  assert.equal(summary.problems[100]!.message, '150 more text lines with problems not listed');
  assert.ok(summary.problems.every((p) => !p.fatal));
});
