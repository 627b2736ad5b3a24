// Our one-line summaries against what `tcpdump -n -S` prints for the same frames.
// tcpdump prints some layers with state (IKEv1 roles, relative sequence numbers without -S) or with
// more detail than we keep; the protocols the analysis leans on must match exactly.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { decodeFrame } from '../../../shared/protocols/index.ts';
import { CORPUS, FIXTURES, load } from './corpus.ts';

const hasTcpdump = spawnSync('tcpdump', ['--version'], { stdio: 'ignore' }).status === 0;
const FILES = [
  FIXTURES + 'wg-sll2.pcap', FIXTURES + 'pmtu.pcap',
  CORPUS + 'isakmp4500.pcap', CORPUS + '02-sunrise-sunset-esp.pcap', CORPUS + '802.1ad_QinQ.pcap',
  CORPUS + 'tcp-handshake-nano.pcap', CORPUS + 'vxlan.pcap', CORPUS + 'ikev2four.pcap', CORPUS + 'espudp1.pcap',
  CORPUS + 'icmpv6.pcap', CORPUS + 'dns_tcp.pcap',
];
/** Summaries of these protocols are meant to be tcpdump's line (or its beginning, before application detail). */
const EXACT = new Set(['tcp', 'udp', 'wireguard', 'esp', 'arp', 'icmp', 'nat-keepalive']);

/** tcpdump -# numbers each packet; lines without a number continue the packet above (tunnels). */
function tcpdumpLines(path: string): Map<number, string> {
  const out = execFileSync('tcpdump', ['-#', '-n', '-S', '-t', '-r', path], { stdio: ['ignore', 'pipe', 'ignore'], maxBuffer: 64 << 20 }).toString();
  const lines = new Map<number, string>();
  let cur = 0;
  for (const ln of out.split('\n')) {
    const m = /^\s*(\d+)\s+(.*)$/.exec(ln);
    if (m) {
      cur = Number(m[1]);
      // Drop the "iface Out " column of -i any captures: the summary covers the packet itself.
      lines.set(cur, m[2]!.replace(/^\S+\s+(In|Out|B|M|P)\s+/, ''));
    } else if (cur && ln.trim()) lines.set(cur, lines.get(cur)! + ': ' + ln.trim());
  }
  return lines;
}

test('summaries read like tcpdump -n -S', async (t) => {
  if (!hasTcpdump) {
    t.skip('tcpdump is not installed: summaries not compared');
    return;
  }
  let total = 0;
  let same = 0;
  const exactMisses: string[] = [];
  for (const f of FILES) {
    const lines = tcpdumpLines(f);
    const { frames, interfaces } = await load(f);
    for (const fr of frames) {
      const p = decodeFrame(fr, interfaces[fr.ifaceId]!);
      const theirs = lines.get(fr.frame) ?? '';
      total++;
      if (theirs.startsWith(p.summary)) same++;
      else if (EXACT.has(p.proto)) exactMisses.push(`${f.slice(f.lastIndexOf('/') + 1)}#${fr.frame}\n    ours:    ${p.summary}\n    tcpdump: ${theirs}`);
    }
  }
  console.log(`summaries equal to (or a prefix of) tcpdump's line: ${same}/${total} (${((same / total) * 100).toFixed(1)} %)`);
  for (const m of exactMisses) console.log('  ' + m);
  assert.deepEqual(exactMisses, []);
  assert.ok(same / total >= 0.9, `only ${same}/${total} summaries match`);
});
