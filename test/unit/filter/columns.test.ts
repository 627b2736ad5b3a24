// The session worker filters column chunks by reading the columns in place (shared/filter/columns.ts).
// On real captures of many kinds, for every filter field with values taken from the capture itself,
// that path must pass exactly the rows the per-packet predicate passes on the decoded packets, with
// checkpoint labels, plain rows (what the columns cannot hold) and chunks of every size in the mix.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compileFilter, fieldList, quoteFilterString } from '../../../shared/filter/index.ts';
import { columnFilter } from '../../../shared/filter/columns.ts';
import { fieldSpec } from '../../../shared/filter/fields.ts';
import type { Packet } from '../../../shared/protocols/packet.ts';
import { loadAll } from '../../../shared/ingest/load-capture.ts';
import { CORPUS, WG_SLL2, chunked, packetsOf, rng } from './helpers.ts';

const LAB = process.env['TANDEM_LAB_DIR'] ?? fileURLToPath(new URL('../../../out/lab/', import.meta.url));

// TCP with options and SACK, UDP, IPv6/ICMPv6, ESP, IKE, AH, GRE/PPTP/Geneve tunnels, QinQ VLANs,
// ARP, NFLOG, SLL2 WireGuard (named and unnamed interfaces), frames past 64 KiB (GSO/BIG TCP: plain rows).
const FILES = [
  'mptcp-v0.pcap', 'ssh.pcap', 'afs.pcap', 'icmpv6.pcap', '08-sunrise-sunset-esp2.pcap', 'ISAKMP_sa_setup.pcap',
  'various_gre.pcap', 'geneve.pcap', 'bigtcp-ipv4.pcap', 'gso-ipv6.pcap', 'spb.pcap', 'arp-oobr.pcap',
  'nflog.pcap', '802.1ad_QinQ.pcap', 'OSPFv3_with_AH.pcap', 'pptp.pcap', 'dns_fwdptr.pcap', 'quic_retry.pcap',
  // Many IP rows the columns hold: routing protocols, OpenFlow and RESP over TCP, VRRP, edns.
  'pim-packet-assortment.pcap', 'of13_ericsson.pcapng', 'vrrp.pcap', 'resp_3_malicious.pcap', 'babel_rfc6126bis.pcap', 'edns-opts.pcap',
].map((f) => CORPUS + f).filter((f) => existsSync(f));

function labFiles(): string[] {
  if (!existsSync(LAB)) {
    console.log(`# ${LAB} missing: corpus only (run test/lab/lab.sh for the lab captures)`);
    return [];
  }
  const out: string[] = [];
  for (const run of readdirSync(LAB).sort().slice(0, 3)) {
    for (const f of ['A.pcapng', 'A-any.pcap', 'B-any.pcap']) if (existsSync(join(LAB, run, f))) out.push(join(LAB, run, f));
  }
  return out;
}

/** Filters on every field, with values the capture holds (first, middle and last seen) and one it may not. */
function filtersFor(packets: Packet[], labels: Map<number, { checkpoint: string }>): string[] {
  const out: string[] = [];
  for (const { name, type } of fieldList()) {
    const spec = fieldSpec(name)!;
    const seen: Array<number | string | boolean> = [];
    for (const p of packets) {
      for (const g of spec.gets) {
        const v = g(p, labels.get(p.frame));
        if (v !== undefined && !seen.includes(v)) seen.push(v);
      }
      if (seen.length >= 40) break;
    }
    const pick = seen.length ? [seen[0]!, seen[seen.length >> 1]!, seen[seen.length - 1]!] : [];
    out.push(name, `!${name}`);
    if (type === 'proto') continue;
    if (type === 'num') {
      for (const v of pick) {
        const n = Number(v);
        out.push(`${name} == ${n}`, `${name} != ${n}`, `${name} > ${n}`, `${name} <= ${n}`, `${name} < ${n}`, `${name} >= ${n}`);
        if (Number.isInteger(n)) out.push(`${name} in {${n} ${n + 2}..${n + 40}}`, `${name} == ${n}.5`, `${name} > ${n}.5`);
      }
      if (name !== 'frame.time_epoch') out.push(`${name} == 0`, `${name} >= 1`);
    } else if (type === 'str') {
      for (const v of pick) {
        const s = String(v);
        out.push(`${name} == ${quoteFilterString(s)}`, `${name} != ${quoteFilterString(s)}`, `${name} contains ${quoteFilterString(s.slice(0, 2))}`);
      }
      out.push(`${name} matches "^[a-m]"`, `${name} in {"wg0" "eth0" "tcp" "udp"}`);
    } else if (type === 'addr') {
      for (const v of pick) {
        const s = String(v);
        out.push(`${name} == ${s}`, `${name} != ${s}`);
        if (!s.includes(':')) out.push(`${name} == ${s.split('.').slice(0, 3).join('.')}.0/24`, `${name} == ${s}/9`);
        else out.push(`${name} == ${s}/64`);
      }
    } else if (type === 'bool') {
      out.push(`${name} == 1`, `${name} == 0`);
    }
  }
  return out;
}

/** Packets of a capture; `raw:` first: decoded without its ip-link names (SLL2 rows keep only their index). */
async function decode(file: string): Promise<Packet[]> {
  if (!file.startsWith('raw:')) return (await packetsOf(file)).packets;
  return (await loadAll(new Uint8Array(readFileSync(file.slice(4))))).packets;
}

test('filters over column chunks pass exactly the rows the per-packet predicate passes (real captures, every field)', { timeout: 600_000 }, async () => {
  const files = [...FILES, WG_SLL2, `raw:${WG_SLL2}`, ...labFiles()];
  assert.ok(files.length >= 12, `too few captures found: ${files.length}`);
  let filters = 0, compared = 0, someNotAll = 0, rows = 0, plainRows = 0;
  for (const file of files) {
    const packets = await decode(file);
    if (packets.length === 0) continue;
    rows += packets.length;
    // Labels on a few frames, as an analysis puts them (several labels, most packets unlabelled).
    const labels = new Map<number, { checkpoint: string }>();
    for (let i = 0; i < packets.length; i += 7) labels.set(packets[i]!.frame, { checkpoint: i % 2 ? 'A1' : 'B3' });
    const leaves = filtersFor(packets, labels).filter((f) => compileFilter(f).ok);
    const r = rng(packets.length);
    const combos: string[] = [];
    for (let i = 0; i < 120; i++) {
      const a = leaves[Math.floor(r() * leaves.length)]!, b = leaves[Math.floor(r() * leaves.length)]!;
      const c = leaves[Math.floor(r() * leaves.length)]!;
      combos.push(`${a} && ${b}`, `${a} || !(${b})`, `(${a} || ${b}) && !${c.startsWith('!') ? c.slice(1) : c}`, `${a} && (${b} || checkpoint == "A1")`);
    }
    const all = [...leaves, ...combos, 'checkpoint', 'checkpoint == "B3" || udp', '!checkpoint && tcp'];
    const lists = [chunked(packets, 2000), chunked(packets, 13)];
    const uneven = [chunked(packets, 1), chunked(packets, [5, 0, 64, 1, 300])];
    for (const c of lists[0]!.chunks) for (let k = 0; k < c.length; k++) plainRows += c.cols.isPlain[k]!;
    for (const src of all) {
      const compiled = compileFilter(src);
      assert.ok(compiled.ok, `${src}: ${compiled.ok ? '' : compiled.error}`);
      const want: number[] = [];
      packets.forEach((p, i) => { if (compiled.predicate(p, labels.get(p.frame) ?? {})) want.push(i); });
      const fast = columnFilter(src);
      for (const list of lists) {
        const got = [...fast.run(list, labels)];
        assert.deepStrictEqual(got, want, `${file.split('/').pop()} (chunks of ${list.chunks[0]?.length}): ${src}`);
        compared++;
      }
      if (!src.includes('&&')) {
        for (const list of uneven) assert.deepStrictEqual([...fast.run(list, labels)], want, `${file.split('/').pop()} (uneven chunks): ${src}`);
        compared += uneven.length;
      }
      // Run twice: remembered answers (per chunk, per run) must not leak into the next run.
      assert.deepStrictEqual([...fast.run(lists[0]!, labels)], want, `second run: ${src}`);
      filters++;
      if (want.length > 0 && want.length < packets.length) someNotAll++;
    }
  }
  console.log(`column filters: ${filters} filters on ${files.length} captures (${rows} packets, ${plainRows} plain), ${compared} comparisons, ${someNotAll} selecting a proper subset; all equal`);
  // The filters must discriminate (a run where every filter passes all or nothing proves little).
  assert.ok(someNotAll > filters / 4, `only ${someNotAll} of ${filters} filters selected a proper subset`);
  // Plain rows (ICMP, ARP, tunnels, frames past 64 KiB …) must be in the mix, beside column rows.
  assert.ok(plainRows > 0 && plainRows < rows, `plain rows ${plainRows} of ${rows}`);
});

test('a column filter refuses what compileFilter refuses, with the same message', () => {
  for (const src of ['tcp.port == 99999', 'nosuch.field', 'udp &&', 'tcp.flags.str > 3', 'ip.addr == 10.0.0.300']) {
    const c = compileFilter(src);
    assert.equal(c.ok, false, src);
    assert.throws(() => columnFilter(src), (e: Error) => !c.ok && e.message === c.error, src);
  }
});

test('without labels (no analysis yet) a checkpoint filter passes what the predicate passes with no context', async () => {
  const { packets } = await packetsOf(WG_SLL2);
  const list = chunked(packets, [7, 30]);
  let some = 0;
  for (const src of ['checkpoint', '!checkpoint', 'checkpoint == "A1" || udp', '!(checkpoint) && wg.type == 1']) {
    const c = compileFilter(src);
    assert.ok(c.ok, src);
    const want = packets.flatMap((p, i) => (c.predicate(p, {}) ? [i] : []));
    assert.deepStrictEqual([...columnFilter(src).run(list)], want, src);
    assert.deepStrictEqual([...columnFilter(src).run(list, new Map())], want, src);
    if (want.length > 0) some++;
  }
  assert.ok(some >= 2, 'the negated forms select packets');
});

/** Rows `want` would pass by the per-packet predicate with these labels. */
function byPredicate(src: string, packets: Packet[], labels: Map<number, { checkpoint: string }>): number[] {
  const c = compileFilter(src);
  assert.ok(c.ok, src);
  return packets.flatMap((p, i) => (c.predicate(p, labels.get(p.frame) ?? {}) ? [i] : []));
}

const LABEL_FILTERS = ['checkpoint', '!checkpoint', 'checkpoint == "A1"', 'checkpoint == "B3" || udp', '!checkpoint && wg.type == 1'];

test('labels on the first frames only (as an analysis puts them): the frames after the last label are unlabelled', async () => {
  const { packets } = await packetsOf(WG_SLL2);
  assert.ok(packets.length > 20);
  const labels = new Map([[packets[0]!.frame, { checkpoint: 'A1' }], [packets[3]!.frame, { checkpoint: 'B3' }]]);
  for (const list of [chunked(packets, [7, 30]), chunked(packets, 1)]) {
    for (const src of LABEL_FILTERS) assert.deepStrictEqual([...columnFilter(src).run(list, labels)], byPredicate(src, packets, labels), src);
  }
  const one = new Map([[packets.at(-1)!.frame, { checkpoint: 'A1' }]]);
  assert.deepStrictEqual([...columnFilter('checkpoint').run(chunked(packets, 7), one)], [packets.length - 1], 'a label on the last frame');
});

test('a label on a frame past the byte table (frame >= 2^24) is still found', async () => {
  const { packets: real } = await packetsOf(WG_SLL2);
  // Frame numbers as a capture of more than 16 M packets has them, from the fifth row on.
  const packets = real.map((p, i) => (i < 4 ? p : { ...p, frame: 2 ** 24 + i }));
  const list = chunked(packets, [7, 30]);
  // The label goes on a row the columns hold (plain rows get the whole predicate, not the column path).
  const isPlain = list.chunks.flatMap((c) => [...c.cols.isPlain]);
  const at = isPlain.findIndex((x, i) => i >= 4 && x === 0);
  assert.ok(at > 0, 'a column row past the renumbered start');
  const far = packets[at]!.frame;
  const labels = new Map([[packets[1]!.frame, { checkpoint: 'B3' }], [far, { checkpoint: 'A1' }], [far + 1_000_000, { checkpoint: 'A1' }]]);
  for (const src of LABEL_FILTERS) assert.deepStrictEqual([...columnFilter(src).run(list, labels)], byPredicate(src, packets, labels), src);
  assert.deepStrictEqual([...columnFilter('checkpoint').run(list, labels)], [1, at]);
});
