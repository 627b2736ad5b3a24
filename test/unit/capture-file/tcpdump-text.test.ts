// tcpdump text import: the seed outputs (checked field by field against the text itself), text that
// tcpdump prints here from real captures in several timestamp styles and with -v (checked against the
// binary read of the same file and against tshark), and `ip link` parsing for SLL2 interface names.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parseIpLink } from '../../../shared/capture-file/index.ts';
import type { Packet } from '../../../shared/protocols/packet.ts';
import { CORPUS, FIXTURES, HAVE_TCPDUMP, HAVE_TSHARK, SEEDS, readAll, readFile, run, tsharkFields } from './helpers.ts';

const enc = new TextEncoder();
const DIRS: Record<string, string> = { In: 'in', Out: 'out', B: 'broadcast', M: 'multicast', P: 'otherhost' };

async function importText(text: string, opts = {}): Promise<{ packets: Packet[]; problems: unknown[]; format: string }> {
  const r = await readAll(enc.encode(text), opts);
  assert.equal(r.frames.length, 0);
  return { packets: r.packets, problems: r.summary.problems, format: r.summary.format };
}

/** An independent reading of one `-i any` seed line: whitespace split, nothing shared with the parser. */
function expectFromLine(line: string) {
  const w = line.split(/\s+/);
  const [time, iface, dir, ipv, src, gt, dstColon] = w;
  assert.equal(ipv, 'IP');
  assert.equal(gt, '>');
  const dst = dstColon!.replace(/:$/, '');
  const ep = (s: string) => { const p = s.split('.'); return p.length === 5 ? { a: p.slice(0, 4).join('.'), port: Number(p[4]) } : { a: s, port: undefined }; };
  const [hh, mm, ss] = time!.split(':');
  const [sec, frac] = ss!.split('.');
  const rest = line.slice(line.indexOf(': ') + 2);
  const num = (re: RegExp) => { const m = re.exec(rest); return m ? Number(m[1]) : undefined; };
  return {
    tsSec: Number(hh) * 3600 + Number(mm) * 60 + Number(sec), tsNsec: Number(frac) * 1000, iface, dir: DIRS[dir!],
    src: ep(src!).a, sport: ep(src!).port, dst: ep(dst).a, dport: ep(dst).port, rest,
    udpLen: rest.startsWith('UDP, length ') ? Number(rest.slice(12)) : undefined,
    flags: /^Flags \[([^\]]+)\]/.exec(rest)?.[1], seq: num(/seq (\d+)/), ack: num(/ack (\d+)/), win: num(/win (\d+)/),
    len: num(/length (\d+)/), mss: num(/mss (\d+)/), wscale: num(/wscale (\d+)/), tsval: num(/TS val (\d+)/),
    tsecr: num(/ecr (\d+)/), sackOk: rest.includes('sackOK') ? true : undefined,
  };
}

for (const seed of ['endpoint-a', 'host-beta']) {
  test(`seed capture ${seed}.txt: every packet line, every field`, async () => {
    const text = readFileSync(SEEDS + seed + '.txt', 'utf8');
    const lines = text.split('\n').filter((l) => /^\d\d:\d\d:\d\d\.\d{6} /.test(l));
    const { packets, problems, format } = await importText(text);
    assert.equal(format, 'tcpdump-text');
    assert.deepEqual(problems, []);
    assert.equal(packets.length, lines.length);
    packets.forEach((p, i) => {
      const e = expectFromLine(lines[i]!);
      const at = `${seed} frame ${i + 1}`;
      assert.equal(p.frame, i + 1, at);
      assert.equal(p.origin, 'text');
      for (const k of ['tsSec', 'tsNsec', 'iface', 'dir', 'src', 'dst', 'sport', 'dport'] as const) assert.equal(p[k], e[k], `${at} ${k}`);
      assert.equal(p.linktype, 276, `${at}: LINUX_SLL2 from the banner`);
      assert.equal(p.summary, lines[i]!.replace(/^\S+\s+\S+\s+\S+\s+/, ''), at);
      assert.equal(p.ip?.v, 4, at);
      if (e.udpLen !== undefined) {
        assert.equal(p.proto, 'udp', at);
        assert.deepEqual(p.udp, { len: e.udpLen }, at);
        assert.equal(p.ip?.len, 20 + 8 + e.udpLen, at);
      } else {
        assert.equal(p.proto, 'tcp', at);
        const t = p.tcp!;
        assert.equal(t.flags, e.flags, at);
        if (e.seq !== undefined) assert.equal(t.seq, e.seq, at);
        assert.equal(t.ack, e.ack ?? 0, at);
        for (const k of ['win', 'len', 'mss', 'wscale', 'tsval', 'tsecr', 'sackOk'] as const) assert.equal(t[k], e[k], `${at} tcp.${k}`);
      }
    });
  });
}

test('seed checkpoints land on the packets the domain describes', async () => {
  const a = (await importText(readFileSync(SEEDS + 'endpoint-a.txt', 'utf8'))).packets;
  const b = (await importText(readFileSync(SEEDS + 'host-beta.txt', 'utf8'))).packets;
  const label = (file: string) => new Map(readFileSync(SEEDS + file, 'utf8').trim().split('\n').slice(1).map((l) => l.split('\t') as [string, string]));
  const la = label('endpoint-a.checkpoints.tsv');
  const lb = label('host-beta.checkpoints.tsv');
  const at = (ps: Packet[], m: Map<string, string>, l: string) => ps[Number(m.get(l)) - 1]!;
  assert.deepEqual([at(a, la, 'A1').iface, at(a, la, 'A1').dir, at(a, la, 'A1').tcp?.flags], ['wg0', 'out', 'S']);
  assert.deepEqual([at(a, la, 'A2').iface, at(a, la, 'A2').dir, at(a, la, 'A2').udp?.len], ['wlan0', 'out', 148]);
  assert.deepEqual([at(a, la, 'A3').dir, at(a, la, 'A3').udp?.len], ['in', 92]);
  const b1 = at(b, lb, 'B1');
  const b2 = at(b, lb, 'B2');
  assert.deepEqual([b1.iface, b1.dir, b1.src, b1.udp?.len], ['eth0', 'in', '198.51.100.1', 148]);
  assert.deepEqual([b2.dst, b2.dport], [b1.src, b1.sport]);
});

test('relative sequence numbers are marked the way tcpdump decides them', async () => {
  const a = (await importText(readFileSync(SEEDS + 'endpoint-a.txt', 'utf8'))).packets;
  // 1 SYN and 6 SYN-ACK print absolute numbers; 7 (ack 1) and 9 (seq 1:79) are relative.
  assert.equal(a[0]!.tcp!.relative, undefined);
  assert.equal(a[0]!.tcp!.seq, 1045811890);
  assert.equal(a[5]!.tcp!.relative, undefined);
  assert.equal(a[5]!.tcp!.ack, 1045811891);
  assert.equal(a[6]!.tcp!.relative, true);
  assert.equal(a[8]!.tcp!.relative, true);
  // With -S on the pasted command line nothing is relative.
  const s = await importText(readFileSync(SEEDS + 'endpoint-a.txt', 'utf8').replace('tcpdump -niany', 'tcpdump -S -niany'));
  assert.ok(s.packets.every((p) => p.tcp?.relative === undefined));
});

test('pasted noise, -v continuation lines, unknown lines and -# numbering', async () => {
  const text = [
    'Endpoint A output:',
    'user@host:~$ sudo tcpdump -v -n -i eth0',
    'tcpdump: listening on eth0, link-type EN10MB (Ethernet), snapshot length 262144 bytes',
    '12:00:00.000001 IP (tos 0x0, ttl 63, id 4242, offset 0, flags [DF], proto UDP (17), length 176)',
    '    192.168.1.11.51821 > 203.0.113.2.51822: UDP, length 148',
    '12:00:00.500000 IP (tos 0x0, ttl 254, id 59168, offset 0, flags [DF], proto ICMP (1), length 576)',
    '    10.0.0.254 > 192.168.1.11: ICMP 203.0.113.2 unreachable - need to frag (mtu 1420), length 556',
    '\tIP (tos 0x0, ttl 63, id 1, offset 0, flags [DF], proto UDP (17), length 1500)',
    '    192.168.1.11.51821 > 203.0.113.2.51822: UDP, length 1472',
    '12:00:01.000000 STP 802.1d, Config, Flags [none], bridge-id 8000.00:11:22:33:44:55.8001, length 35',
    '    3  12:00:02.000000 IP6 fd00::1.500 > fd00::2.500: isakmp: parent_sa ikev2_init[I]',
    '^C',
    '3 packets captured',
  ].join('\n');
  const { packets, problems } = await importText(text);
  assert.equal(packets.length, 4);
  assert.deepEqual(packets.map((p) => p.frame), [1, 2, 3, 4]);
  const [u, icmp, stp, ike] = packets;
  assert.deepEqual(u!.ip, { v: 4, ttl: 63, len: 176, id: 4242, df: true, proto: 17 });
  assert.equal(u!.linktype, 1);
  assert.deepEqual(icmp!.icmp, { v: 4, type: 3, code: 4, mtu: 1420, orig: { src: '192.168.1.11', dst: '203.0.113.2', proto: 17, sport: 51821, dport: 51822 } });
  assert.equal(stp!.summary, 'STP 802.1d, Config, Flags [none], bridge-id 8000.00:11:22:33:44:55.8001, length 35');
  assert.equal(problems.length, 1, 'one non-fatal problem for the line not understood');
  assert.equal((problems[0] as { fatal: boolean }).fatal, false);
  assert.deepEqual([ike!.proto, ike!.src, ike!.sport, ike!.ip?.v], ['isakmp', 'fd00::1', 500, 6]);
  assert.equal(ike!.tsSec, 12 * 3600 + 2);
});

test('timestamps: -tttt, -tt, -ttt deltas, base date and midnight', async () => {
  const line = 'IP 10.0.0.1.1 > 10.0.0.2.2: UDP, length 1';
  const t4 = await importText(`2024-03-01 23:59:59.999999 ${line}\n2024-03-02 00:00:00.000001 ${line}\n`);
  assert.deepEqual(t4.packets.map((p) => [p.tsSec, p.tsNsec]), [[Date.UTC(2024, 2, 1, 23, 59, 59) / 1000, 999999000], [Date.UTC(2024, 2, 2) / 1000, 1000]]);
  const t2 = await importText(`1418145369.924505488 ${line}\n`);
  assert.deepEqual([t2.packets[0]!.tsSec, t2.packets[0]!.tsNsec], [1418145369, 924505488]);
  const t3 = await importText(`00:00:00.000000 ${line}\n00:00:01.500000 ${line}\n00:00:00.700000 ${line}\n`, { baseDate: '2024-03-01' });
  const base = Date.UTC(2024, 2, 1) / 1000;
  assert.deepEqual(t3.packets.map((p) => [p.tsSec - base, p.tsNsec]), [[0, 0], [1, 500000000], [2, 200000000]]);
  const day = await importText(`23:59:59.900000 ${line}\n00:00:00.100000 ${line}\n`, { baseDate: '2024-03-01' });
  assert.deepEqual(day.packets.map((p) => p.tsSec - base), [86399, 86400]);
});

// ---- Text that tcpdump prints here, against the binary read of the same file --------------------

const tcpdumpSkip = HAVE_TCPDUMP && HAVE_TSHARK ? false : 'tcpdump or tshark missing: cannot produce or check text output';
if (tcpdumpSkip) console.log(`skipped: ${tcpdumpSkip}`);

const TEXT_FILES = [FIXTURES + 'sll2-any.pcap', CORPUS + 'print-flags.pcap', CORPUS + 'tcp-handshake-nano.pcap', CORPUS + 'dns_tcp.pcap', CORPUS + 'espudp1.pcap', CORPUS + 'icmp-rfc5837.pcap'];

test('tcpdump -n output (default, -tttt, -tt, -v, -S) matches the binary capture and tshark', { skip: tcpdumpSkip }, async () => {
  for (const file of TEXT_FILES) {
    const bin = await readFile(file);
    const ts = tsharkFields(file, ['ip.src', 'ipv6.src', 'ip.dst', 'ipv6.dst', 'tcp.srcport', 'udp.srcport', 'tcp.dstport', 'udp.dstport',
      'ip.ttl', 'ip.id', 'ip.len', 'tcp.seq_raw', 'tcp.ack_raw', 'sll.pkttype']);
    for (const flags of [['-n'], ['-n', '-tttt'], ['-n', '-tt'], ['-n', '-v'], ['-n', '-S', '-tt'], ['-n', '-e']]) {
      const out = run('tcpdump', [...flags, '-r', file]);
      const text = `$ tcpdump ${flags.join(' ')} -r capture.pcap\n${out.stderr}${out.stdout}`;
      const { packets } = await importText(text);
      const at = (i: number) => `${file} ${flags.join(' ')} frame ${i + 1}`;
      assert.equal(packets.length, bin.frames.length, `${file} ${flags.join(' ')}: packet count`);
      packets.forEach((p, i) => {
        const f = bin.frames[i]!;
        // Text carries microseconds; -tttt and -tt carry the date, the default only the time of day.
        const us = Math.floor(f.tsNsec / 1000) * 1000;
        assert.equal(p.tsNsec, us, at(i));
        assert.equal(p.tsSec, flags.includes('-tttt') || flags.includes('-tt') ? f.tsSec : f.tsSec % 86400, at(i));
        const [s4, s6, d4, d6, tsp, usp, tdp, udp, ttl, id, ilen, seq, ack, pkttype] = ts[i]!;
        if (s4 || s6) {
          assert.equal(p.src, s4 || s6, at(i));
          assert.equal(p.dst, d4 || d6, at(i));
          const sport = tsp || usp;
          if (sport && p.proto !== 'icmp') assert.equal(String(p.sport), sport, at(i));
          if (tdp || udp) if (p.proto !== 'icmp') assert.equal(String(p.dport), tdp || udp, at(i));
        }
        if (flags.includes('-v') && s4) {
          assert.equal(String(p.ip?.ttl), ttl, at(i));
          assert.equal(String(p.ip?.id), String(Number(id)), at(i));
          assert.equal(String(p.ip?.len), ilen, at(i));
        }
        // With -e tcpdump prints the frame length, so caplen/len are exact (not estimated).
        if (flags.includes('-e')) assert.equal(p.len, f.len, at(i));
        if (flags.includes('-S') && p.tcp && p.summary.includes(', seq ')) assert.equal(String(p.tcp.seq), seq, at(i));
        if (flags.includes('-S') && p.tcp && p.summary.includes(', ack ')) assert.equal(String(p.tcp.ack), ack, at(i));
        // tcpdump prints the direction with the interface name (SLL2), not for Linux SLL v1.
        if (pkttype !== undefined && pkttype !== '' && p.iface !== '') {
          assert.equal(p.dir, { 0: 'in', 1: 'broadcast', 2: 'multicast', 3: 'otherhost', 4: 'out' }[Number(pkttype)], at(i));
        }
      });
    }
  }
});

test('ip -o link and ip link output give ifindex → name', () => {
  const o = parseIpLink(readFileSync(FIXTURES + 'sll2-any.ip-link.txt', 'utf8'));
  const plain = parseIpLink(readFileSync(FIXTURES + 'sll2-any.ip-link-plain.txt', 'utf8'));
  assert.deepEqual([...o], [[1, 'lo'], [2, 'veth-a']]);
  assert.deepEqual([...plain], [...o]);
  assert.deepEqual([...parseIpLink('3: wg0: <POINTOPOINT,NOARP,UP,LOWER_UP> mtu 1420\n5: eth0@if4: <BROADCAST> mtu 1500\n')], [[3, 'wg0'], [5, 'eth0']]);
});

test('every tcpdump expected output of the corpus imports: one packet per `-#` numbered line', async () => {
  const { readdirSync } = await import('node:fs');
  const outs = readdirSync(CORPUS).filter((f) => f.endsWith('.out'));
  assert.ok(outs.length > 800);
  let numbered = 0;
  let agree = 0;
  for (const f of outs) {
    const text = readFileSync(CORPUS + f, 'utf8');
    const t0 = performance.now();
    const { packets } = await importText(text);
    assert.ok(performance.now() - t0 < 10_000, f);
    // tcpdump's test runner prints with -#: "    N  ..." starts each packet (a few outputs lack it).
    const n = [...text.matchAll(/^\s{0,4}\d+ {2,}\S/gm)].length;
    if (n === 0) continue;
    numbered++;
    if (packets.length === n) agree++;
    else console.log(`differs: ${f}: ${packets.length} packets, ${n} numbered lines`);
  }
  console.log(`${agree}/${numbered} numbered tcpdump outputs give exactly one packet per numbered line`);
  assert.equal(agree, numbered);
});

test('tcpdump\'s own -t/-tt/-ttt/-tttt/-ttttt --nano outputs give the binary file\'s nanosecond times', async () => {
  const bin = (await readFile(CORPUS + 'tcp-handshake-nano.pcap')).frames;
  const first = bin[0]!;
  const day = first.tsSec - (first.tsSec % 86400);
  const cases: Array<[string, object, (f: { tsSec: number; tsNsec: number }) => [number, number]]> = [
    ['tcp-handshake-nano.out', { baseDate: day * 1000 }, (f) => [f.tsSec, f.tsNsec]],
    ['tcp-handshake-nano-tt.out', {}, (f) => [f.tsSec, f.tsNsec]],
    ['tcp-handshake-nano-tttt.out', {}, (f) => [f.tsSec, f.tsNsec]],
    // Deltas and offsets rebuild absolute times once the first packet's time is given as the base.
    ['tcp-handshake-nano-ttt.out', { timestamps: 'delta' }, (f) => diff(f, first)],
    ['tcp-handshake-nano-ttttt.out', { timestamps: 'since-first' }, (f) => diff(f, first)],
  ];
  for (const [file, opts, expect] of cases) {
    const { packets } = await importText(readFileSync(CORPUS + file, 'utf8'), opts);
    assert.equal(packets.length, bin.length, file);
    packets.forEach((p, i) => assert.deepEqual([p.tsSec, p.tsNsec], expect(bin[i]!), `${file} frame ${i + 1}`));
  }
  const t = await importText(readFileSync(CORPUS + 'tcp-handshake-nano-t.out', 'utf8'));
  assert.equal(t.packets.length, bin.length);
  assert.deepEqual([t.packets[0]!.src, t.packets[0]!.sport, t.packets[0]!.tcp?.len], ['131.155.215.69', 46656, 0]);
});

function diff(f: { tsSec: number; tsNsec: number }, base: { tsSec: number; tsNsec: number }): [number, number] {
  let s = f.tsSec - base.tsSec;
  let n = f.tsNsec - base.tsNsec;
  if (n < 0) { n += 1e9; s--; }
  return [s, n];
}

test('tcpdump\'s expected outputs (-n, -v…) agree with the binary decode of their .pcap: addresses, ports, protocol names', async () => {
  const { existsSync } = await import('node:fs');
  const { loadAll } = await import('../../../shared/ingest/load-capture.ts');
  const list = existsSync(CORPUS + 'TESTLIST') ? readFileSync(CORPUS + 'TESTLIST', 'utf8').split('\n') : [];
  let files = 0, compared = 0, unread = 0, arp = 0;
  const NAMED = new Set(['tcp', 'udp', 'icmp', 'icmpv6', 'esp', 'isakmp', 'nat-keepalive', 'arp']);
  for (const line of list) {
    const [name, pcap, out, ...opts] = line.trim().split(/\s+/);
    if (!name || name.startsWith('#') || !pcap || !out || !existsSync(CORPUS + pcap) || !existsSync(CORPUS + out)) continue;
    // Options that change the layout (-e, -x, -t…, -T, -E …) are covered elsewhere; keep plain and -v outputs.
    if (opts.some((o) => o !== '-n' && !/^-v+$/.test(o))) continue;
    const bin = (await loadAll(new Uint8Array(readFileSync(CORPUS + pcap)))).packets;
    const { packets: text } = await importText(readFileSync(CORPUS + out, 'utf8'));
    // Outputs of damaged captures may print a packet in pieces; the count test above covers them.
    if (text.length !== bin.length) continue;
    files++;
    for (let i = 0; i < bin.length; i++) {
      const b = bin[i]!, x = text[i]!;
      // ARP: the sender is the source; a request names its target, a reply's target is not printed.
      if (b.arp !== undefined && x.arp !== undefined && b.truncated === undefined) {
        assert.deepEqual([x.proto, x.arp.op, x.src, x.arp.op === 1 ? x.dst : b.dst], [b.proto, b.arp.op, b.src, b.dst], `${out} #${i + 1}: ${x.summary.slice(0, 120)}`);
        arp++;
        continue;
      }
      // Tunnels (the bytes give the inner packet, tcpdump's first line the outer) and damaged frames are not comparable field by field.
      if (b.outer !== undefined || b.ip === undefined || x.src === undefined || b.truncated !== undefined) continue;
      const at = `${out} #${i + 1}: ${x.summary.slice(0, 120)}`;
      // SCTP, DCCP…: tcpdump prints their ports, the binary decoder does not read those transports.
      if (![1, 6, 17, 50, 58].includes(b.ip.proto) && b.sport === undefined) {
        assert.deepEqual([x.src, x.dst], [b.src, b.dst], at);
        unread++;
        continue;
      }
      assert.deepEqual([x.src, x.dst, x.sport, x.dport], [b.src, b.dst, b.sport, b.dport], at);
      if (NAMED.has(x.proto)) assert.equal(x.proto, b.proto, at);
      compared++;
    }
  }
  console.log(`${files} expected outputs, ${compared} packets agree in addresses, ports and protocol name, ${unread} more (transports the binary decoder does not read) in addresses, ${arp} ARP`);
  assert.ok(files > 500 && compared > 4500 && unread > 1000, `${files} files, ${compared} + ${unread} packets`);
});
