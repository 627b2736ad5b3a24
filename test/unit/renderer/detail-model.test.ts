// Packet detail helpers on real frames: byte ranges and byte-to-field lookup against tshark's
// PDML positions, hex rows against `tshark -x`, and the tree of a text-imported packet.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { loadAll } from '../../../shared/ingest/load-capture.ts';
import { parseIpLink } from '../../../shared/capture-file/links.ts';
import {
  ancestorIds, buildDetail, fieldAtOffset, hexRow, offsetWidth, rowCount, visibleNodes, type FieldNode,
} from '../../../renderer/src/features/detail/detail-model.ts';
import { dissectDetail } from '../../../renderer/src/workers/dissect.ts';
import type { CaptureInterface } from '../../../shared/capture-file/types.ts';
import type { Packet } from '../../../shared/protocols/packet.ts';

/** The detail model as the view builds it: the tree from the dissect worker's function, then the model. */
function detailOf(p: Packet, bytes: Uint8Array | undefined, iface?: CaptureInterface, linkNames?: Map<number, string>) {
  return buildDetail(p, bytes, bytes && bytes.length > 0 ? dissectDetail(p, bytes, iface, linkNames) : undefined);
}

const hasTshark = spawnSync('tshark', ['-v'], { stdio: 'ignore' }).status === 0;
const WG = fileURLToPath(new URL('../protocols/fixtures/wg-sll2.pcap', import.meta.url));
const CORPUS = fileURLToPath(new URL('../../../../shared/corpus/tcpdump-tests/', import.meta.url));
const SEED = fileURLToPath(new URL('../../../../shared/reference/seed-captures/', import.meta.url));

async function load(path: string, linkNames?: Map<number, string>) {
  const b = readFileSync(path);
  return loadAll(new Uint8Array(b.buffer, b.byteOffset, b.byteLength), { keepBytes: true, linkNames });
}

/** name → [pos, size] of the fields tshark shows for one frame (first occurrence). */
function pdml(path: string, frame: number): Map<string, [number, number]> {
  const xml = execFileSync('tshark', ['-n', '-r', path, '-Y', `frame.number == ${frame}`, '-T', 'pdml'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  const out = new Map<string, [number, number]>();
  for (const m of xml.matchAll(/<field name="([^"]+)"[^>]*? size="(\d+)" pos="(\d+)"/g)) {
    if (!out.has(m[1]!)) out.set(m[1]!, [Number(m[3]), Number(m[2])]);
  }
  return out;
}

test('byte ranges of fields and the byte-to-field lookup match tshark', async (t) => {
  if (!hasTshark) { t.skip('tshark is not installed (apt-get install tshark): positions not compared'); return; }
  const cases: Array<[string, number, string[]]> = [
    [WG, 13, ['ip.ttl', 'ip.proto', 'ip.src', 'ip.dst', 'udp.srcport', 'udp.dstport', 'udp.length', 'wg.type', 'wg.sender']],
    [WG, 15, ['ip.src', 'udp.dstport', 'wg.type', 'wg.receiver', 'wg.counter']],
    [CORPUS + '08-sunrise-sunset-esp2.pcap', 1, ['ip.src', 'ip.dst', 'esp.spi', 'esp.sequence']],
    [CORPUS + 'mptcp-v0.pcap', 1, ['ip.src', 'tcp.srcport', 'tcp.dstport', 'tcp.seq', 'tcp.window_size_value']],
    [CORPUS + 'ISAKMP_sa_setup.pcap', 1, ['ip.src', 'udp.srcport', 'isakmp.ispi']],
  ];
  let checked = 0;
  for (const [file, frame, names] of cases) {
    const { packets, frames, interfaces } = await load(file);
    const p = packets[frame - 1]!;
    const model = detailOf(p, frames[frame - 1], interfaces[p.ifaceId]);
    const theirs = pdml(file, frame);
    for (const name of names) {
      const ref = theirs.get(name);
      assert.ok(ref, `tshark shows ${name} in ${file}#${frame}`);
      const [pos, size] = ref;
      const ours = model.all.find((n) => n.field.name === name);
      assert.ok(ours, `our tree has ${name} in ${file}#${frame}`);
      assert.deepEqual([ours.field.start, ours.field.length], [pos, size], `${name} range`);
      // Clicking any byte of the field selects it (it is the deepest, narrowest field there).
      for (const off of [pos, pos + size - 1]) {
        const hit = fieldAtOffset(model.all, off);
        assert.equal(hit?.field.name, name, `byte ${off} of ${file}#${frame}`);
      }
      checked++;
    }
  }
  console.log(`detail: ${checked} field ranges agree with tshark PDML`);
});

test('byte lookup picks the deepest field and falls back to the layer', async () => {
  const { packets, frames, interfaces } = await load(WG);
  const p = packets[12]!;
  const m = detailOf(p, frames[12], interfaces[0]);
  // Every captured byte belongs to something: at least the frame layer.
  for (let off = 0; off < m.bytes.length; off++) {
    const hit = fieldAtOffset(m.all, off)!;
    assert.ok(hit.field.start <= off && off < hit.field.start + hit.field.length);
    for (const n of m.all) {
      const f = n.field;
      if (f.length > 0 && f.start <= off && off < f.start + f.length) assert.ok(n.depth <= hit.depth);
    }
  }
  assert.equal(fieldAtOffset(m.all, m.bytes.length), undefined);
  // Ancestors of a deep field are exactly the layers to expand to reveal it.
  const src = m.all.find((n) => n.field.name === 'ip.src')!;
  const ids = ancestorIds(src);
  assert.deepEqual(ids.map((id) => m.byId.get(id)!.field.name), ['ip']);
  const collapsed = visibleNodes(m.roots, new Set());
  assert.deepEqual(collapsed.map((n) => n.field.name), m.roots.map((n) => n.field.name));
  const open = visibleNodes(m.roots, new Set(ids));
  assert.ok(open.includes(src));
  assert.equal(open.length, m.roots.length + m.byId.get(ids[0]!)!.children.length);
});

test('hex rows match tshark -x', async (t) => {
  if (!hasTshark) { t.skip('tshark is not installed (apt-get install tshark): hex rows not compared'); return; }
  for (const [file, frame] of [[WG, 13], [CORPUS + 'mptcp-v0.pcap', 5]] as const) {
    const { frames } = await load(file);
    const bytes = frames[frame - 1]!;
    const dump = execFileSync('tshark', ['-n', '-r', file, '-Y', `frame.number == ${frame}`, '-x'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    const lines = dump.split('\n').filter((l) => /^[0-9a-f]{4} {2}/.test(l));
    assert.equal(lines.length, rowCount(bytes));
    lines.forEach((line, i) => {
      const r = hexRow(bytes, i);
      // tshark: "0010  06 6d 00 00 ... 65 13   .m..E...Q.@.@.e."
      const m = /^([0-9a-f]{4}) {2}((?:[0-9a-f]{2} ?)+?)\s{2,}(.*)$/.exec(line)!;
      assert.equal(r.offset, m[1]);
      assert.deepEqual(r.hex, m[2]!.trim().split(' '));
      assert.equal(r.ascii.join(''), m[3]);
    });
  }
});

test('hex rows of a jumbo frame: wider offsets, short last row', async () => {
  const { frames } = await load(CORPUS + 'bigtcp-ipv4.pcap');
  const big = frames.reduce((a, b) => (b.length > a.length ? b : a));
  assert.ok(big.length > 0x10000, 'a BIG TCP frame longer than 64 KiB');
  const w = offsetWidth(big.length);
  assert.equal(w, 5);
  const last = rowCount(big) - 1;
  const r = hexRow(big, last);
  assert.equal(r.hex.length, big.length - last * 16 || 16);
  assert.equal(parseInt(r.offset, 16), last * 16);
  assert.equal(r.offset.length, 5);
  assert.equal(parseInt(r.hex[0]!, 16), big[last * 16]);
  assert.equal(offsetWidth(60), 4);
});

test('a text-imported packet shows its record as a tree, without bytes', async () => {
  const { packets } = await load(SEED + 'endpoint-a.txt');
  const p = packets.find((x) => x.tcp !== undefined && x.origin === 'text')!;
  assert.ok(p, 'a TCP packet in the text import');
  const m = detailOf(p, undefined);
  assert.equal(m.bytes.length, 0);
  const names = m.all.map((n: FieldNode) => n.field.name);
  for (const n of ['frame', 'ip', 'ip.src', 'ip.dst', 'tcp', 'tcp.srcport', 'tcp.flags', 'tcp.seq']) assert.ok(names.includes(n), n);
  const byName = (n: string) => m.all.find((x) => x.field.name === n)!.field;
  assert.equal(byName('ip.src').value, p.src);
  assert.equal(byName('tcp.dstport').value, p.dport);
  assert.equal(byName('tcp.flags').value, p.tcp!.flags);
  assert.equal(byName('frame.interface_name').value, p.iface);
  assert.ok(m.all.every((n) => n.field.length === 0));
  assert.equal(fieldAtOffset(m.all, 0), undefined);
});

test('SLL2 interface names reach the frame line when the caller passes them', async () => {
  const linkNames = parseIpLink(readFileSync(WG.replace(/\.pcap$/, '.ip-link.txt'), 'utf8'));
  const { packets, frames, interfaces } = await load(WG, linkNames);
  const i = packets.findIndex((p) => p.iface !== '' && p.iface !== 'any');
  const p = packets[i]!;
  const m = detailOf(p, frames[i], interfaces[p.ifaceId], linkNames);
  const flat = JSON.stringify(m.roots.map((r) => [r.field.label, r.children.map((c) => c.field.label)]));
  assert.ok(flat.includes(p.iface), `tree mentions ${p.iface}`);
});
