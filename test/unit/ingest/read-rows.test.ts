// A store's bulk row read (PacketList.readRows) against each packet's own fields, and the
// conversation pass that uses it (conversationStats) against the same packets behind a list
// without it: lab captures (-i any, pcapng, text), corpus files with odd link types and plain
// rows among column ones, and chunks that start and end inside pages.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PacketStore, toPlainPacket } from '../../../shared/ingest/packet-store.ts';
import { atOnly, loadStore } from '../analysis/helpers.ts';
import { conversationStats, newPacketRows, type ConvStats } from '../../../shared/analysis/prepare.ts';
import type { Packet } from '../../../shared/protocols/packet.ts';

const lab = process.env.TANDEM_LAB_DIR ?? '/tmp/tandem-lab';
const scenarios = existsSync(lab) ? readdirSync(lab).filter((s) => existsSync(join(lab, s, 'B-any.pcap'))).sort() : [];
const skipLab = scenarios.length > 0 ? false : `no lab captures in ${lab} (run test/lab/lab.sh --out ${lab} all, or set TANDEM_LAB_DIR)`;
if (skipLab) console.log(`# skip read-rows lab cases: ${skipLab}`);
const CORPUS = fileURLToPath(new URL('../../../../shared/corpus/tcpdump-tests/', import.meta.url));



/** What readRows must say of packet p, by the PacketRows contract, from the packet's own fields. */
function expected(p: Packet): Record<string, unknown> {
  const l4 = p.tcp !== undefined ? 1 : p.udp !== undefined ? 2 : 0;
  const d = p.dir;
  return {
    src: p.src, dst: p.dst, l4, sport: l4 !== 0 ? p.sport : 'any', dport: l4 !== 0 ? p.dport : 'any',
    l4len: p.tcp !== undefined ? p.tcp.len : p.udp !== undefined ? p.udp.len : 'any', wgType: p.wg?.type ?? 0,
    dir: d === null ? 0 : d === 'in' ? 1 : d === 'out' ? 2 : 'other', iface: p.iface, ifindex: p.ifindex ?? -1,
  };
}

/** readRows over [from, to) against at(); returns how many rows were held. */
function checkRows(store: PacketStore, from: number, to: number, what: string): number {
  const r = newPacketRows(to - from + 3);
  r.held.fill(7);
  store.readRows(from, to, r);
  let held = 0;
  for (let i = from; i < to; i++) {
    const x = i - from, p = store.at(i)!;
    // A plain packet (the decoder's object) is never marked held; a view always is.
    assert.equal(r.held[x], p.constructor === Object ? 0 : 1, `${what}: packet ${i} held`);
    if (r.held[x] === 0) continue;
    held++;
    // Fields a column view never has (what readers of held rows may skip).
    assert.ok(p.outer === undefined && p.fwlog === undefined && p.ike === undefined && p.nattKeepalive === undefined, `${what}: packet ${i} is a plain column row`);
    // Ports and lengths may hold anything without TCP or UDP; any direction code above 2 is "other".
    const l4 = r.l4[x]!;
    const got = {
      src: r.addrs[r.src[x]!], dst: r.addrs[r.dst[x]!], l4, sport: l4 !== 0 ? r.sport[x] : 'any', dport: l4 !== 0 ? r.dport[x] : 'any',
      l4len: l4 !== 0 ? r.l4len[x] : 'any', wgType: r.wgType[x], dir: r.dir[x]! > 2 ? 'other' : r.dir[x], iface: r.names[r.iface[x]!], ifindex: r.ifindex[x],
    };
    assert.deepEqual(got, expected(p), `${what}: packet ${i}`);
  }
  return held;
}


function sameStats(a: ConvStats, b: ConvStats, what: string): void {
  assert.deepEqual(a.names, b.names, `${what}: conversation names in first-seen order`);
  assert.deepEqual(a.keys, b.keys, `${what}: conversation of each packet`);
  assert.deepEqual([...a.stats], [...b.stats], `${what}: counts`);
  assert.equal(a.firstSec, b.firstSec, `${what}: first second`);
}

function checkStats(store: PacketStore, what: string): ConvStats {
  const cs = conversationStats(store);
  sameStats(cs, conversationStats(atOnly(store)), `${what}: store vs list without readRows`);
  sameStats(cs, conversationStats([...store].map(toPlainPacket)), `${what}: store vs plain packets`);
  return cs;
}

test('readRows gives each lab packet the fields at() has; conversations come out the same through it', { skip: skipLab }, async () => {
  let rows = 0, convs = 0;
  for (const s of scenarios) {
    for (const side of ['A', 'B']) {
      for (const f of [`${side}-any.pcap`, `${side}.pcapng`]) {
        const file = join(lab, s, f);
        if (!existsSync(file)) continue;
        const store = await loadStore(file, f.endsWith('.pcap') ? join(lab, s, `${side}-links.txt`) : undefined);
        const n = store.length;
        rows += checkRows(store, 0, n, `${s}/${f}`);
        // A chunk from inside the capture (offsets that are not row 0 of the chunk arrays).
        if (n > 10) checkRows(store, 3, n - 4, `${s}/${f} [3, n-4)`);
        convs += checkStats(store, `${s}/${f}`).names.length;
      }
    }
  }
  console.log(`# ${rows} held rows checked, ${convs} conversations`);
  assert.ok(rows > 2000 && convs > 50, `lab rows ${rows}, conversations ${convs}`);
});

test('readRows across pages, with plain packets among column rows (corpus files of many link types)', async () => {
  const files = readdirSync(CORPUS).filter((f) => /\.(pcap|pcapng)$/.test(f)).sort();
  let stores = 0, plainAmong = 0;
  // Every corpus file in one store (rows of many shapes, plain decoder objects between them), seven
  // times over so that chunks cross pages; each copy with its frames numbered on.
  const all: Packet[] = [];
  for (const f of files) {
    let s: PacketStore;
    try { s = await loadStore(join(CORPUS, f)); } catch { continue; }
    stores++;
    for (const p of s) all.push(toPlainPacket(p));
  }
  const big = new PacketStore();
  for (let copy = 0; copy < 7; copy++) for (const p of all) big.push({ ...p, frame: big.length + 1 });
  for (let i = 0; i < big.length; i++) if (big.at(i)!.constructor === Object) plainAmong++;
  const n = big.length;
  const held = checkRows(big, 0, n, 'corpus');
  // Chunks that straddle page boundaries (32 768 rows a page) and end inside one.
  for (const [a, b] of [[32_760, 32_780], [1, 65_539], [n - 70_001, n - 1]] as const) if (a >= 0 && b <= n && a < b) checkRows(big, a, b, `corpus [${a}, ${b})`);
  checkStats(big, 'corpus');
  console.log(`# ${stores} corpus files, ${n} packets: ${held} column rows, ${plainAmong} plain`);
  assert.ok(n > 65_540, `the corpus store spans pages (${n} packets)`);
  assert.ok(plainAmong > 1000 && held > 10_000, `${plainAmong} plain, ${held} held`);
  // Asking past the end or for more than the arrays hold is refused, not read out of bounds.
  assert.throws(() => big.readRows(0, n + 1, newPacketRows(n + 1)), RangeError);
  assert.throws(() => big.readRows(0, 10, newPacketRows(5)), RangeError);
});

const bulk = '/tmp/tandem-lab/bulk/B-any.pcap';
const skipBulk = existsSync(bulk) ? false : `no bulk capture at ${bulk} (scripts/bench.mjs makes it)`;
if (skipBulk) console.log(`# skip read-rows bulk case: ${skipBulk}`);

test('a bulk -i any capture (a million packets): conversations through readRows as without it; rows across a page boundary', { skip: skipBulk, timeout: 120_000 }, async () => {
  const store = await loadStore(bulk, '/tmp/tandem-lab/bulk/B-links.txt');
  const held = checkRows(store, 32_768 - 5_000, 32_768 + 5_000, 'bulk');
  const cs = conversationStats(store);
  sameStats(cs, conversationStats(atOnly(store)), 'bulk: store vs list without readRows');
  console.log(`# bulk: ${store.length} packets, ${cs.names.length} conversations, ${held} of 10000 rows held`);
  assert.ok(held > 9000, `${held} held`);
});
