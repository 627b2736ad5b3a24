// Every real frame cut at every length decodes without throwing, says where it was cut, and reads
// nothing past its end: a cut frame that is a view into a larger buffer (as the reader hands them out)
// must decode exactly like the same bytes copied into a buffer of their own.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { decodeFrame, dissectFrame } from '../../../shared/protocols/index.ts';
import type { RawFrame } from '../../../shared/capture-file/types.ts';
import { CORPUS, FIXTURES, load } from './corpus.ts';

const FILES = [
  FIXTURES + 'wg-sll2.pcap', FIXTURES + 'pmtu.pcap',
  ...['isakmp4500.pcap', 'espudp1.pcap', 'ikev2four.pcap', '802.1ad_QinQ.pcap', 'vxlan.pcap', 'various_gre.pcap',
    'tcp-handshake-nano.pcap', 'icmpv6.pcap', 'ipv6-routing-header.pcap', 'ipv6-srh-ext-header.pcap', 'LINKTYPE_IPV4.pcap',
    'LINKTYPE_IPV6.pcap', 'dns-badcookie.pcap', 'erspan-type-ii-2.pcap', 'mpls-over-udp.pcap', 'gso-ipv4-vxlan-ipv4.pcap',
    'bigtcp-ipv6-hbh.pcap', 'wccp_redirect_gre.pcap', 'ip_ts_opts_asan.pcap', 'arp-oobr.pcap'].map((n) => CORPUS + n),
];

test('frames cut at every length decode without throwing or over-reading', async () => {
  let cuts = 0;
  let truncatedSeen = 0;
  for (const f of FILES) {
    const { frames, interfaces } = await load(f);
    // A few frames per file keep the run short; each is cut at every length.
    for (const fr of frames.slice(0, 12)) {
      const iface = interfaces[fr.ifaceId]!;
      const n = Math.min(fr.data.length, 400);
      for (let k = 0; k <= n; k++) {
        const own: RawFrame = { ...fr, caplen: k, data: fr.data.slice(0, k) };
        const view: RawFrame = { ...fr, caplen: k, data: fr.data.subarray(0, k) };
        const a = decodeFrame(own, iface);
        const b = decodeFrame(view, iface);
        assert.deepEqual(b, a, `${f}#${fr.frame} cut at ${k}: a view decodes differently from a copy`);
        assert.ok(!a.truncated?.startsWith('decoder error'), `${f}#${fr.frame} cut at ${k}: ${a.truncated}`);
        assert.equal(typeof a.summary, 'string');
        if (a.truncated) truncatedSeen++;
        if (k % 16 === 0) dissectFrame(own, iface);
        cuts++;
      }
    }
  }
  console.log(`${cuts} cut frames decoded, ${truncatedSeen} reported as truncated`);
  assert.ok(truncatedSeen > 0);
});

test('a frame cut inside the TCP header says so', async () => {
  const { frames, interfaces } = await load(FIXTURES + 'wg-sll2.pcap');
  // The first SYN in the fixture: SLL2 (20) + IPv4 (20) + TCP with options.
  const syn = frames.find((f) => decodeFrame(f, interfaces[f.ifaceId]!).tcp?.flags === 'S')!;
  const cut = decodeFrame({ ...syn, caplen: 50, data: syn.data.subarray(0, 50) }, interfaces[syn.ifaceId]!);
  assert.equal(cut.truncated, 'truncated in TCP header');
  assert.equal(cut.proto, 'tcp');
  assert.equal(cut.src, '10.0.0.1');
  assert.equal(cut.sport, 59630);
  assert.equal(cut.tcp, undefined);
  const inIp = decodeFrame({ ...syn, caplen: 30, data: syn.data.subarray(0, 30) }, interfaces[syn.ifaceId]!);
  assert.equal(inIp.truncated, 'truncated in IP header');
});

test('every frame of the whole corpus decodes without a decoder error', async () => {
  let n = 0;
  for (const name of readdirSync(CORPUS).filter((x) => /\.(pcap|pcapng|cap)$/.test(x))) {
    const { frames, interfaces } = await load(CORPUS + name);
    for (const fr of frames) {
      const p = decodeFrame(fr, interfaces[fr.ifaceId]!);
      assert.ok(!p.truncated?.startsWith('decoder error'), `${name}#${fr.frame}: ${p.truncated}`);
      n++;
    }
  }
  console.log(`${n} corpus frames decoded`);
  assert.ok(n > 5000);
});
