// Field-by-field agreement between our decoders and tshark on real corpus captures.
// tshark runs with IP reassembly off so that every frame is judged on its own bytes, as ours are.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { promisify } from 'node:util';
import { decodeFrame } from '../../../shared/protocols/index.ts';
import type { Packet } from '../../../shared/protocols/packet.ts';
import { CORPUS, FIXTURES, load } from './corpus.ts';

const run = promisify(execFile);
const hasTshark = spawnSync('tshark', ['-v'], { stdio: 'ignore' }).status === 0;

const SUPPORTED_LINKTYPES = new Set([0, 1, 9, 12, 14, 50, 101, 108, 109, 113, 117, 228, 229, 239, 276]);
/** Files that exercise what tunnel troubleshooting needs; all of them are compared when readable. */
const WANTED = /sunrise-sunset-esp|espudp|esp_|isakmp|ike|wg|gre[-_.]|_gre|vxlan|geneve|mpls-|qinq|icmp-|icmpv6[-_]|ipv6-|frag|mtu|tcp-|tcp_rst|LINKTYPE|gso-ipv4-v|pptp|nflog|_AH|ah-|ppp/i;

type Extract = (p: Packet) => Array<string | number | boolean | undefined>;

const v4 = (a: string | undefined): boolean => a !== undefined && !a.includes(':');
const v6 = (a: string | undefined): boolean => a !== undefined && a.includes(':');
const origOf = (p: Packet) => p.icmp?.orig;
const isTcp = (p: Packet) => p.ip?.proto === 6 && p.sport !== undefined;
const isUdp = (p: Packet) => p.ip?.proto === 17 && p.sport !== undefined;
/** Fields of layers a tunnel's outer part has and our flat record does not keep (outer TTL, outer UDP of VXLAN). */
const OUTER_LAYER_FIELD = /^(ip|ipv6|udp)\./;

/** Our values in tshark's occurrence order: outer tunnel headers, the packet itself, then an ICMP quote. */
function addrs(p: Packet, which: 'src' | 'dst', fam: (a: string | undefined) => boolean): string[] {
  const out: string[] = [];
  for (const o of p.outer ?? []) if (fam(o[which])) out.push(o[which]!);
  if (fam(p[which]) && p.ip) out.push(p[which]!);
  const q = origOf(p);
  if (q && fam(q[which])) out.push(q[which]);
  return out;
}

const FIELDS: Record<string, Extract> = {
  'ip.src': (p) => addrs(p, 'src', v4),
  'ip.dst': (p) => addrs(p, 'dst', v4),
  'ipv6.src': (p) => addrs(p, 'src', v6),
  'ipv6.dst': (p) => addrs(p, 'dst', v6),
  'ip.ttl': (p) => [p.ip?.v === 4 ? p.ip.ttl : undefined],
  'ip.id': (p) => [p.ip?.v === 4 ? p.ip.id : undefined, origOf(p)?.id],
  'ip.flags.df': (p) => [p.ip?.v === 4 ? (p.ip.df ? 1 : 0) : undefined],
  // tshark 4.0 prints the raw field (8-byte units); ours is in bytes.
  'ip.frag_offset': (p) => [p.ip?.v === 4 ? (p.ip.frag?.offset ?? 0) / 8 : undefined],
  'ip.flags.mf': (p) => [p.ip?.v === 4 ? (p.ip.frag?.more ? 1 : 0) : undefined],
  'ipv6.fraghdr.offset': (p) => [p.ip?.v === 6 && p.ip.frag ? p.ip.frag.offset / 8 : undefined],
  'ipv6.fraghdr.ident': (p) => [p.ip?.v === 6 && p.ip.frag ? p.ip.id : undefined],
  'ipv6.hlim': (p) => [p.ip?.v === 6 ? p.ip.ttl : undefined],
  'tcp.srcport': (p) => [isTcp(p) ? p.sport : undefined, origOf(p)?.proto === 6 ? origOf(p)!.sport : undefined],
  'tcp.dstport': (p) => [isTcp(p) ? p.dport : undefined, origOf(p)?.proto === 6 ? origOf(p)!.dport : undefined],
  'tcp.seq_raw': (p) => [p.tcp?.seq],
  'tcp.ack_raw': (p) => [p.tcp?.ack],
  'tcp.flags': (p) => [p.tcp?.flags],
  'tcp.window_size_value': (p) => [p.tcp?.win],
  'tcp.len': (p) => [p.tcp?.len],
  'tcp.options.mss_val': (p) => [p.tcp?.mss],
  'tcp.options.wscale.shift': (p) => [p.tcp?.wscale],
  'tcp.options.timestamp.tsval': (p) => [p.tcp?.tsval],
  'tcp.options.timestamp.tsecr': (p) => [p.tcp?.tsecr],
  'udp.srcport': (p) => [isUdp(p) ? p.sport : undefined, origOf(p)?.proto === 17 ? origOf(p)!.sport : undefined],
  'udp.dstport': (p) => [isUdp(p) ? p.dport : undefined, origOf(p)?.proto === 17 ? origOf(p)!.dport : undefined],
  'icmp.type': (p) => [p.icmp?.v === 4 ? p.icmp.type : undefined],
  'icmp.code': (p) => [p.icmp?.v === 4 ? p.icmp.code : undefined],
  'icmp.mtu': (p) => [p.icmp?.v === 4 ? p.icmp.mtu : undefined],
  'icmpv6.type': (p) => [p.icmp?.v === 6 ? p.icmp.type : undefined],
  'icmpv6.mtu': (p) => [p.icmp?.v === 6 ? p.icmp.mtu : undefined],
  'wg.type': (p) => [p.wg?.type],
  'wg.sender': (p) => [p.wg?.sender],
  'wg.receiver': (p) => [p.wg?.receiver],
  'wg.counter': (p) => [p.wg?.counter],
  'esp.spi': (p) => [p.esp?.spi],
  'esp.sequence': (p) => [p.esp?.seq],
  'isakmp.ispi': (p) => [p.ike?.ispi],
  'isakmp.rspi': (p) => [p.ike?.rspi],
  'isakmp.exchangetype': (p) => [p.ike?.exchange],
  'isakmp.messageid': (p) => [p.ike?.msgid],
  // GRE version 1 (PPTP) splits the key into payload length and call ID; tshark names only those.
  'gre.key': (p) => [p.gre?.proto === 0x880b ? undefined : p.gre?.key],
  'gre.key.call_id': (p) => [p.gre?.proto === 0x880b && p.gre.key !== undefined ? p.gre.key & 0xffff : undefined],
  'ppp.protocol': (p) => [p.ppp?.proto],
  'ah.spi': (p) => [p.ah?.spi],
  'nflog.res_id': (p) => [p.fwlog?.source === 'nflog' ? p.fwlog.group : undefined],
  'vxlan.vni': (p) => [p.vxlan?.vni],
  'arp.src.proto_ipv4': (p) => [p.arp?.spa],
  'arp.dst.proto_ipv4': (p) => [p.arp?.tpa],
  'sll.ifindex': (p) => [p.ifindex],
};
const NAMES = Object.keys(FIELDS);

/** tshark prints TCP flags as a bit mask; turn it into tcpdump's letters (its documented order). */
function tcpdumpFlags(mask: number): string {
  const letters: Array<[number, string]> = [[0x01, 'F'], [0x02, 'S'], [0x04, 'R'], [0x08, 'P'], [0x10, '.'], [0x20, 'U'], [0x40, 'E'], [0x80, 'W'], [0x100, 'e']];
  let s = '';
  for (const [b, ch] of letters) if (mask & b) s += ch;
  return s || 'none';
}

/** One canonical text per value: hex numbers become decimal, booleans and case do not matter. */
function norm(field: string, v: string | number | boolean): string {
  let s = String(v).trim();
  if (field !== 'tcp.flags') s = s.toLowerCase();
  if (s === 'true') s = '1';
  if (s === 'false') s = '0';
  if (/^0x[0-9a-fA-F]+$/.test(s)) {
    if (field === 'tcp.flags') return tcpdumpFlags(Number(s));
    s = BigInt(s).toString();
  }
  return s;
}

interface Tally { compared: number; agreed: number; skipped: number; mismatches: string[] }

function compareFrame(file: string, p: Packet, cols: string[], tally: Tally): void {
  const tunnelled = (p.outer?.length ?? 0) > 0;
  const quoting = origOf(p) !== undefined;
  NAMES.forEach((name, i) => {
    const theirs = (cols[i + 1] ?? '').split(',').filter((s) => s !== '').map((s) => norm(name, s));
    const ours = FIELDS[name]!(p).filter((v): v is string | number | boolean => v !== undefined).map((v) => norm(name, v));
    if (theirs.length === 0 && ours.length === 0) return;
    if (tunnelled && ours.length === 0 && OUTER_LAYER_FIELD.test(name)) { tally.skipped++; return; }
    // Fields of an ICMP error's quoted header that the record does not keep (its TTL, its fragment header).
    if (quoting && ours.length === 0 && !name.startsWith('icmp')) { tally.skipped++; return; }
    let a = ours;
    let b = theirs;
    if (a.length !== b.length && a.length > 0 && b.length > 0) {
      // Values of headers we do not keep (outer UDP of VXLAN, TTL of a quoted header): line up what we have.
      if (tunnelled && !quoting) { a = a.slice(-1); b = b.slice(-1); }
      else if (quoting && !tunnelled) { b = b.slice(0, a.length); }
      else { tally.skipped++; return; }
    }
    tally.compared++;
    if (a.length === b.length && a.every((v, k) => v === b[k])) tally.agreed++;
    else tally.mismatches.push(`${file}#${p.frame} ${name}: ours=${ours.join(',')} tshark=${theirs.join(',')}`);
  });
}

async function tshark(path: string): Promise<Map<number, string[]>> {
  const args = ['-n', '-o', 'ip.defragment:FALSE', '-o', 'ipv6.defragment:FALSE', '-o', 'tcp.analyze_sequence_numbers:FALSE',
    '-r', path, '-T', 'fields', '-E', 'separator=/t', '-e', 'frame.number', ...NAMES.flatMap((n) => ['-e', n])];
  let stdout = '';
  try {
    ({ stdout } = await run('tshark', args, { maxBuffer: 256 * 1024 * 1024, timeout: 30_000 }));
  } catch (e) {
    // tshark exits non-zero on a cut-off file after printing the frames it read: keep those.
    stdout = (e as { stdout?: string }).stdout ?? '';
  }
  const rows = new Map<number, string[]>();
  for (const line of stdout.split('\n')) {
    if (!line) continue;
    const cols = line.split('\t');
    rows.set(Number(cols[0]), cols);
  }
  return rows;
}

/**
 * BIG TCP super-frames carry IP length 0; tshark 4.0 stops at such a header while tcpdump and we
 * decode what follows, so there is nothing to compare them with.
 */
const TSHARK_REFUSES = /^bigtcp-/;
const refused: string[] = [];

const loadedCache = new Map<string, Awaited<ReturnType<typeof load>>>();

async function pickFiles(): Promise<string[]> {
  const names = readdirSync(CORPUS).filter((n) => /\.(pcap|pcapng|cap)$/.test(n)).sort();
  const picked: string[] = [FIXTURES + 'wg-sll2.pcap', FIXTURES + 'pmtu.pcap'];
  let others = 0;
  for (const n of names) {
    const wanted = WANTED.test(n);
    if (TSHARK_REFUSES.test(n)) { refused.push(n); continue; }
    // A sample of the rest keeps the comparison honest on ordinary traffic.
    if (!wanted && others++ % 40 !== 0) continue;
    const l = await load(CORPUS + n);
    if (l.frames.length === 0 || !l.interfaces.every((i) => SUPPORTED_LINKTYPES.has(i.linktype))) continue;
    loadedCache.set(CORPUS + n, l);
    picked.push(CORPUS + n);
  }
  return picked;
}

test('decoders agree with tshark on corpus captures', { timeout: 180_000 }, async (t) => {
  if (!hasTshark) {
    t.skip('tshark is not installed (apt-get install tshark): agreement not measured');
    return;
  }
  const files = await pickFiles();
  const tally: Tally = { compared: 0, agreed: 0, skipped: 0, mismatches: [] };
  let frameCountMismatch = 0;
  let wgFields = 0;
  let espFields = 0;
  let ikeFields = 0;
  const queue = [...files];
  const worker = async (): Promise<void> => {
    for (let f = queue.shift(); f !== undefined; f = queue.shift()) {
      const [rows, loaded] = await Promise.all([tshark(f), loadedCache.get(f) ?? load(f)]);
      loadedCache.delete(f);
      const short = f.slice(f.lastIndexOf('/') + 1);
      if (rows.size !== loaded.frames.length) frameCountMismatch++;
      for (const fr of loaded.frames) {
        const cols = rows.get(fr.frame);
        if (!cols) continue;
        const p = decodeFrame(fr, loaded.interfaces[fr.ifaceId]!);
        if (p.wg) wgFields++;
        if (p.esp) espFields++;
        if (p.ike) ikeFields++;
        compareFrame(short, p, cols, tally);
      }
    }
  };
  await Promise.all([worker(), worker()]);
  const ratio = tally.agreed / tally.compared;
  console.log(`tshark agreement: ${files.length} files, ${tally.agreed}/${tally.compared} fields agree (${(ratio * 100).toFixed(3)} %), ` +
    `${tally.skipped} skipped (outer-tunnel and ICMP-quote fields the flat record does not keep), ${frameCountMismatch} files with a different frame count; ` +
    `packets with WireGuard ${wgFields}, ESP ${espFields}, IKE ${ikeFields}`);
  const byField = new Map<string, number>();
  for (const m of tally.mismatches) {
    const k = m.split(' ')[1]!;
    byField.set(k, (byField.get(k) ?? 0) + 1);
  }
  console.log('disagreements by field: ' + [...byField].map(([k, n]) => k + ' ' + n).join(', '));
  console.log(`not compared: ${refused.length} BIG TCP files (tshark does not decode IP length 0): ${refused.join(' ')}`);
  for (const m of tally.mismatches.slice(0, 30)) console.log('  ' + m);
  if (process.env.MISMATCH_LOG) (await import('node:fs')).writeFileSync(process.env.MISMATCH_LOG, tally.mismatches.join('\n'));
  assert.ok(files.length >= 40, `only ${files.length} files compared`);
  assert.ok(wgFields > 0 && espFields > 0 && ikeFields > 0, 'WireGuard, ESP and IKE must all be exercised');
  assert.ok(ratio >= 0.999, `agreement ${(ratio * 100).toFixed(3)} % is below 99.9 %`);
});
