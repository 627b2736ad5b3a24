// Nesting is bounded (issue 13 item 11): stacked VLAN tags, MPLS labels without a bottom, IP-in-IP,
// GRE in GRE, IPv6 extension-header chains and NFLOG TLV runs end in bounded time, without a stack
// overflow, and say "too many nested headers"; ordinary depths decode as before.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeFrame, dissectFrame } from '../../../shared/protocols/index.ts';
import type { CaptureInterface, RawFrame } from '../../../shared/capture-file/types.ts';
import type { Packet } from '../../../shared/protocols/packet.ts';

const ETH = { name: 'eth0', linktype: 1 } as CaptureInterface;
const RAW = { name: 'raw', linktype: 101 } as CaptureInterface;

function frame(bytes: number[] | Uint8Array): RawFrame {
  const data = bytes instanceof Uint8Array ? bytes : Uint8Array.from(bytes);
  return { frame: 1, tsSec: 0, tsNsec: 0, ifaceId: 0, caplen: data.length, len: data.length, data, offset: 0 };
}

const be16 = (n: number) => [n >> 8, n & 0xff];
function ipv4(proto: number, payload: number[], src = [10, 0, 0, 1], dst = [10, 0, 0, 2]): number[] {
  return [0x45, 0, ...be16(20 + payload.length), 0, 1, 0, 0, 64, proto, 0, 0, ...src, ...dst, ...payload];
}
const udp = (sport: number, dport: number, body: number[] = [1, 2, 3, 4]) => [...be16(sport), ...be16(dport), ...be16(8 + body.length), 0, 0, ...body];
const MACS = [2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1];

/** Decodes on both paths (fast and tree) and returns the fast one, timing both. */
function both(f: RawFrame, iface: CaptureInterface): { p: Packet; ms: number } {
  const t0 = performance.now();
  const p = decodeFrame(f, iface);
  const tree = dissectFrame(f, iface);
  const ms = performance.now() - t0;
  assert.ok(tree.length > 0);
  return { p, ms };
}

function tooDeep(p: Packet, ms: number, what: string): void {
  assert.equal(p.truncated, 'too many nested headers', what);
  assert.match(p.summary, /\[too many nested headers\]/, what);
  assert.ok(ms < 2000, `${what}: ${ms.toFixed(0)} ms`);
}

test('65 000 stacked VLAN tags (802.1Q, 802.1ad and 0x9100 mixed) stop at the bound', () => {
  const types = [0x8100, 0x88a8, 0x9100];
  const n = 65_000;
  const inner = ipv4(17, udp(1, 2));
  const bytes = new Uint8Array(12 + 4 * n + 2 + inner.length);
  bytes.set(MACS, 0);
  let o = 12;
  for (let i = 0; i < n; i++) {
    bytes.set([...be16(types[i % 3]!), ...be16(i & 0xfff)], o);
    o += 4;
  }
  bytes.set([0x08, 0x00, ...inner], o);
  const { p, ms } = both(frame(bytes), ETH);
  tooDeep(p, ms, 'VLAN');
  assert.ok(p.vlan!.length > 0 && p.vlan!.length <= 32, `${p.vlan!.length} tags kept`);
  assert.equal(p.src, undefined, 'nothing past the bound is decoded');
});

test('ordinary stacks are unaffected: QinQ and 20 tags reach the UDP layer', () => {
  for (const tags of [1, 2, 20]) {
    const hdr: number[] = [...MACS];
    for (let i = 0; i < tags; i++) hdr.push(...be16(i === 0 ? 0x88a8 : 0x8100), ...be16(100 + i));
    const { p } = both(frame([...hdr, 0x08, 0x00, ...ipv4(17, udp(5353, 53))]), ETH);
    assert.equal(p.truncated, undefined, `${tags} tags`);
    assert.equal(p.proto, 'udp');
    assert.equal(p.vlan!.length, tags);
    assert.equal(p.dport, 53);
  }
});

test('an MPLS label stack without a bottom, 65 000 labels long, stops at the bound', () => {
  const labels: number[] = [];
  for (let i = 0; i < 65_000; i++) labels.push(0, 0x10, 0x00, 64); // S bit never set
  const { p, ms } = both(frame([...MACS, 0x88, 0x47, ...labels]), ETH);
  tooDeep(p, ms, 'MPLS');
  assert.equal(p.proto, 'mpls');
  // Three labels and a bottom still lead to the IP packet.
  const ok = [0, 0x10, 0x00, 64, 0, 0x20, 0x00, 64, 0, 0x30, 0x01, 64];
  const q = decodeFrame(frame([...MACS, 0x88, 0x47, ...ok, ...ipv4(17, udp(1000, 2000))]), ETH);
  assert.equal(q.truncated, undefined);
  assert.equal(q.proto, 'udp');
});

test('IP-in-IP and GRE-in-GRE nested 2 000 deep stop at the tunnel bound; 3 levels decode', () => {
  let ipip = udp(1, 2);
  for (let i = 0; i < 2000; i++) ipip = ipv4(i === 0 ? 17 : 4, ipip);
  const a = both(frame(ipip), RAW);
  tooDeep(a.p, a.ms, 'IP-in-IP');
  assert.equal(a.p.outer!.length, 8);
  let gre = udp(1, 2);
  for (let i = 0; i < 2000; i++) gre = ipv4(i === 0 ? 17 : 47, i === 0 ? gre : [0, 0, 0x08, 0x00, ...gre]);
  const g = both(frame(gre), RAW);
  tooDeep(g.p, g.ms, 'GRE');
  let three = udp(7, 9);
  for (let i = 0; i < 3; i++) three = ipv4(i === 0 ? 17 : 4, three, [10, 0, 0, i], [10, 0, 1, i]);
  const t = decodeFrame(frame(three), RAW);
  assert.equal(t.truncated, undefined);
  assert.equal(t.proto, 'udp');
  assert.equal(t.outer!.length, 2);
  assert.equal(t.src, '10.0.0.0', 'the innermost header owns the addresses');
});

test('an IPv6 chain of 8 000 destination-options headers stops at the bound', () => {
  const n = 8000;
  const ext: number[] = [];
  for (let i = 0; i < n; i++) ext.push(60, 0, 1, 4, 0, 0, 0, 0); // next: another destination-options header
  const body = [...ext, ...udp(1, 2)];
  const v6 = [0x60, 0, 0, 0, ...be16(body.length & 0xffff), 60, 64, ...new Array<number>(32).fill(0).map((_, i) => (i === 15 || i === 31 ? 1 : 0)), ...body];
  const { p, ms } = both(frame(v6), RAW);
  tooDeep(p, ms, 'IPv6 extension headers');
});

test('an NFLOG record of 20 000 tiny TLVs stops at the bound and keeps the group', () => {
  const tlvs: number[] = [];
  for (let i = 0; i < 20_000; i++) tlvs.push(4, 0, 2, 0); // empty "mark" TLVs, little-endian
  const { p, ms } = both(frame([2, 0, 0, 3, ...tlvs]), { name: 'nflog', linktype: 239 } as CaptureInterface);
  tooDeep(p, ms, 'NFLOG');
  assert.equal(p.fwlog!.group, 3);
});

test('mutated AH, PPTP, enc0, pflog, NFLOG and tunnel frames never hit a decoder error and finish quickly', async () => {
  const { load } = await import('./corpus.ts');
  const { fileURLToPath } = await import('node:url');
  const fx = fileURLToPath(new URL('../../fixtures/protocols/', import.meta.url));
  // A fixed-seed generator keeps any failure reproducible.
  let seed = 0x7a11d;
  const rnd = (n: number) => { seed = (Math.imul(seed, 1103515245) + 12345) >>> 0; return seed % n; };
  let runs = 0;
  const t0 = performance.now();
  for (const name of ['ah.pcap', 'pptp.pcap', 'enc.pcap', 'pflog.pcap', 'nflog.pcap', 'encaps.pcap']) {
    const l = await load(fx + name);
    const iface = l.interfaces[0]!;
    for (const fr of l.frames) {
      for (let k = 0; k < 200; k++) {
        const b = fr.data.slice(0, 1 + rnd(fr.data.length));
        for (let i = 0, n = 1 + rnd(6); i < n; i++) b[rnd(b.length)] = rnd(256);
        const f = { ...fr, data: b, caplen: b.length };
        const p = decodeFrame(f, iface);
        const tree = dissectFrame(f, iface);
        assert.ok(!(p.truncated ?? '').startsWith('decoder error'), `${name}#${fr.frame} mutant ${k}: ${p.truncated}`);
        assert.ok(tree.length > 0);
        assert.equal(typeof p.summary, 'string');
        // Whatever is left of a firewall-log record is still marked as a log copy.
        if (name === 'pflog.pcap' || name === 'nflog.pcap') assert.ok(p.fwlog !== undefined, `${name}#${fr.frame} mutant ${k}`);
        runs++;
      }
    }
  }
  const ms = performance.now() - t0;
  console.log(`${runs} mutants decoded in ${ms.toFixed(0)} ms`);
  assert.ok(runs > 6000 && ms < 30_000);
});
