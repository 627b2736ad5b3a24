// A PacketStore's image (PacketStore.toImage / fromImage) carries every packet exactly: through a
// real structuredClone, and through a real MessagePort with the column buffers transferred.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MessageChannel } from 'node:worker_threads';
import { loadAll, loadCompact } from '../../../shared/ingest/load-capture.ts';
import { PacketStore, PacketStoreImageError, toPlainPacket, type PacketStoreImage } from '../../../shared/ingest/packet-store.ts';
import { parseIpLink } from '../../../shared/capture-file/links.ts';
import type { Packet } from '../../../shared/protocols/packet.ts';

const CORPUS = fileURLToPath(new URL('../../../../shared/corpus/tcpdump-tests/', import.meta.url));
const LAB = process.env.TANDEM_LAB_DIR ?? fileURLToPath(new URL('../../../out/lab/', import.meta.url));

/** Sends `image` over a real MessagePort, moving `transfer`; resolves with what arrived. */
function overPort(image: PacketStoreImage, transfer: ArrayBuffer[]): Promise<PacketStoreImage> {
  const { port1, port2 } = new MessageChannel();
  return new Promise((resolve) => {
    port2.once('message', (m: PacketStoreImage) => { port1.close(); port2.close(); resolve(m); });
    port1.postMessage(image, transfer);
  });
}

const plainAll = (s: { length: number; at(i: number): Packet | undefined }): Packet[] => {
  const out: Packet[] = [];
  for (let i = 0; i < s.length; i++) out.push(toPlainPacket(s.at(i)!));
  return out;
};

/** Lab captures of several shapes (SLL2 with link names, pcapng with several interfaces, tcpdump text), and corpus files. */
function inputs(): Array<{ name: string; bytes: Uint8Array; links?: Map<number, string> }> {
  const out: Array<{ name: string; bytes: Uint8Array; links?: Map<number, string> }> = [];
  for (const sc of ['healthy', 'mtu-blackhole', 'b-wrong-key', 'ipv6-linklocal-noise']) {
    const d = join(LAB, sc);
    if (!existsSync(d)) continue;
    for (const f of ['A-any.pcap', 'B.pcapng', 'A.txt']) {
      if (!existsSync(join(d, f))) continue;
      const lf = join(d, f.startsWith('A') ? 'A-links.txt' : 'B-links.txt');
      out.push({ name: `${sc}/${f}`, bytes: new Uint8Array(readFileSync(join(d, f))), ...(f.endsWith('-any.pcap') && existsSync(lf) ? { links: parseIpLink(readFileSync(lf, 'utf8')) } : {}) });
    }
  }
  const corpus = readdirSync(CORPUS).filter((f) => /\.(pcap|pcapng)$/.test(f)).sort();
  // Every 7th corpus file: many link types, ESP, IKE, ICMP, tunnels, truncation, comments.
  for (let i = 0; i < corpus.length; i += 7) out.push({ name: corpus[i]!, bytes: new Uint8Array(readFileSync(join(CORPUS, corpus[i]!))) });
  return out;
}

test('toImage → structuredClone → fromImage gives back every packet, summaries and SACK blocks included', async () => {
  const list = inputs();
  if (!list.some((x) => x.name.includes('/'))) console.log(`# no lab captures under ${LAB}: corpus files only`);
  let packets = 0, columnHeld = 0, plainHeld = 0, files = 0;
  for (const { name, bytes, links } of list) {
    const want = await loadAll(bytes, { linkNames: links });
    const store = (await loadCompact(bytes, { linkNames: links })).packets;
    if (want.packets.length === 0) continue;
    files++;
    const { image } = store.toImage();
    const back = PacketStore.fromImage(structuredClone(image));
    assert.equal(back.length, want.packets.length, name);
    for (let i = 0; i < back.length; i++) {
      const p = back.at(i)!;
      if (p.constructor === Object) plainHeld++; else columnHeld++;
      assert.deepStrictEqual(toPlainPacket(p), want.packets[i], `${name} #${i + 1}`);
    }
    packets += back.length;
  }
  console.log(`# ${packets} packets from ${files} files: ${columnHeld} column-held, ${plainHeld} plain`);
  assert.ok(files >= 20 && columnHeld > 500 && plainHeld > 100, 'both forms were exercised');
});

test('over a MessagePort with the buffers transferred: every packet equal, the sender\'s buffers detached', async () => {
  let checked = 0;
  for (const { name, bytes, links } of inputs()) {
    const store = (await loadCompact(bytes, { linkNames: links, summary: false })).packets;
    if (store.length === 0) continue;
    const before = plainAll(store);
    const { image, transfer } = store.toImage();
    const got = await overPort(image, transfer);
    // A transferred buffer is gone from the sender: the columns moved rather than being copied.
    assert.ok(transfer.every((b) => b.byteLength === 0), `${name}: buffers detached after transfer`);
    const back = PacketStore.fromImage(got);
    assert.deepStrictEqual(plainAll(back), before, name);
    checked += back.length;
  }
  assert.ok(checked > 1000, `${checked} packets checked`);
  console.log(`# ${checked} packets through a MessagePort`);
});

test('a rebuilt store keeps growing past its last page, and summaries written later survive another round trip', async () => {
  const f = readdirSync(CORPUS).find((x) => x === 'ikev2pI2.pcap') ?? readdirSync(CORPUS).find((x) => x.endsWith('.pcap'))!;
  const bytes = new Uint8Array(readFileSync(join(CORPUS, f)));
  const want = (await loadAll(bytes)).packets;
  const store = new PacketStore();
  // Over two pages (32 768 rows each) so a full page and a short last page both travel.
  const n = 70_000;
  for (let i = 0; i < n; i++) store.push({ ...want[i % want.length]!, frame: i + 1 });
  store.at(5)!.summary = 'five';
  const back = PacketStore.fromImage(structuredClone(store.toImage().image));
  assert.equal(back.length, n);
  for (let i = 0; i < 3000; i++) back.push({ ...want[i % want.length]!, frame: n + i + 1 });
  back.at(n + 10)!.summary = 'later';
  const again = PacketStore.fromImage(structuredClone(back.toImage().image));
  assert.equal(again.length, n + 3000);
  assert.equal(again.at(5)!.summary, 'five');
  assert.equal(again.at(n + 10)!.summary, 'later');
  for (const i of [0, 32_767, 32_768, 65_535, 65_536, n - 1, n, n + 2999]) {
    const src = want[i % want.length]!;
    const expectSummary = i === 5 ? 'five' : i === n + 10 ? 'later' : src.summary;
    assert.deepStrictEqual(toPlainPacket(again.at(i)!), { ...src, frame: i + 1, summary: expectSummary }, `row ${i}`);
  }
});

test('fromImage refuses what is not an image of this version, with a one-line reason', () => {
  const good = new PacketStore().toImage().image;
  const cases: Array<[unknown, RegExp]> = [
    [null, /wrong kind/],
    [{ ...good, kind: 'other' }, /wrong kind/],
    [{ ...good, version: 2 }, /version 2/],
    [{ ...good, tables: { ...good.tables, addrs: [1] } }, /table addrs/],
    [{ ...good, length: 3 }, /0 rows for 3 packets/],
    [{ ...good, pages: [{ n: 5, frame0: 1, cols: { src: new Float64Array(5) }, one: {}, summaries: null, sack: null, plain: null }], length: 5 }, /column src/],
    [{ ...good, pages: [{ n: 5, frame0: 1, cols: { tsSec: new Uint32Array(2) }, one: {}, summaries: null, sack: null, plain: null }], length: 5 }, /column tsSec/],
    [{ ...good, pages: [{ n: 5, frame0: 1, cols: {}, one: { ttl: 'x' }, summaries: null, sack: null, plain: null }], length: 5 }, /column ttl/],
    [{ ...good, pages: [{ n: 40_000, frame0: 1, cols: {}, one: {}, summaries: null, sack: null, plain: null }], length: 40_000 }, /page 0 has 40000 rows/],
    [{ ...good, pages: [{ n: 5, frame0: 1, cols: {}, one: {}, summaries: null, sack: null, plain: null, trunc: new Uint32Array(3) }], length: 5 }, /page 0 cut TCP headers/],
    [{ ...good, pages: [{ n: 5, frame0: 1, cols: {}, one: {}, summaries: null, sack: null, plain: null, trunc: new Uint8Array(4096) }], length: 5 }, /page 0 cut TCP headers/],
  ];
  for (const [img, re] of cases) {
    assert.throws(() => PacketStore.fromImage(img as PacketStoreImage), (e: unknown) => e instanceof PacketStoreImageError && re.test(e.message) && !e.message.includes('\n'));
  }
});

test('columns that change mid-page, outgrow their narrow type or skip frame numbers read back exactly', async () => {
  // Real TCP and UDP packets of the shapes the columns hold (a probe store says which).
  const base: Packet[] = [];
  for (const f of readdirSync(CORPUS).filter((x) => x.endsWith('.pcap')).sort().slice(0, 400)) {
    const probe = new PacketStore();
    for (const p of (await loadAll(new Uint8Array(readFileSync(join(CORPUS, f))))).packets) {
      probe.push(p);
      if (probe.at(probe.length - 1)!.constructor !== Object && p.ifindex === undefined) base.push(p);
    }
    if (base.length > 300) break;
  }
  assert.ok(base.length > 300, `${base.length} column-held packets to vary`);
  const want: Packet[] = [];
  const store = new PacketStore();
  for (let i = 0; i < 75_000; i++) {
    const p = base[i % base.length]!;
    const q: Packet = {
      ...p,
      // Gaps in the numbering after row 40 000 (a filtered file), one interface then two, one link type then another.
      frame: i < 40_000 ? i + 1 : 2 * i + 7,
      ifaceId: i < 20_000 ? 0 : i % 3, iface: i < 20_000 ? 'eth0' : `if${i % 300}`,
      // Over 65 536 addresses (16-bit ids widen to 32), frames longer than 64 KiB (GSO), seconds across the 2038 mark.
      src: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`,
      caplen: i % 1000 === 999 ? 70_000 + i : p.caplen, len: i % 1000 === 999 ? 70_000 + i : p.len,
      tsSec: 2_147_483_000 + i, ifindex: i % 5 === 0 ? 7 : undefined, hatype: undefined,
      // Now and then an IP length over the frame's (hostile, or a header rewritten on the way): `len` is kept as their difference.
      ...(i % 997 === 0 && p.ip !== undefined ? { ip: { ...p.ip, len: Math.min(0xffff, p.len + 100 + (i % 7)) } } : {}),
    };
    if (q.ifindex === undefined) delete q.ifindex;
    delete q.hatype;
    want.push(q);
    store.push(q);
  }
  const check = (s: PacketStore, label: string): void => {
    assert.equal(s.length, want.length, label);
    for (let i = 0; i < want.length; i += i < 1000 ? 1 : 37) assert.deepStrictEqual(toPlainPacket(s.at(i)!), want[i], `${label} row ${i}`);
    for (const i of [19_999, 20_000, 39_999, 40_000, 65_535, 65_536, 65_537, 74_999]) assert.deepStrictEqual(toPlainPacket(s.at(i)!), want[i], `${label} row ${i}`);
  };
  check(store, 'as pushed');
  const { image, transfer } = store.toImage();
  check(PacketStore.fromImage(await overPort(image, transfer)), 'through a port');
  // The common case stays lean: one interface, consecutive frames, one link type keep no array.
  const lean = new PacketStore();
  for (let i = 0; i < 32_768; i++) lean.push({ ...base[i % base.length]!, frame: i + 1, ifaceId: 0, iface: 'eth0' });
  const leanImage = lean.toImage().image, li = leanImage.pages[0]!;
  for (const c of ['frame', 'ifaceId', 'name', 'linktype'] as const) assert.equal(li.cols[c], undefined, `${c} held as one value`);
  // Address ids as narrow as the table allows: a byte for up to 256 addresses, two up to 65 536.
  const addrs = leanImage.tables.addrs.length;
  assert.ok(addrs > 1, `${addrs} addresses in the lean store`);
  assert.equal(li.cols.src?.BYTES_PER_ELEMENT, addrs <= 256 ? 1 : 2, `${addrs} addresses: ids of the narrowest width`);
  assert.equal(image.pages[0]!.cols.src?.BYTES_PER_ELEMENT, 2, 'the first page of the varied store: 32 768 addresses, 16-bit ids');
  assert.equal(image.pages[2]!.cols.src?.BYTES_PER_ELEMENT, 4, 'over 65 536 addresses: 32-bit ids');
});

test('the dense columns of a page travel as one buffer; SACK blocks cross a port and a rebuilt page takes more', async () => {
  // Real TCP packets the columns hold, given SACK blocks of their own (one or two per packet).
  const base: Packet[] = [];
  for (const f of readdirSync(CORPUS).filter((x) => x.endsWith('.pcap')).sort()) {
    for (const p of (await loadAll(new Uint8Array(readFileSync(join(CORPUS, f))))).packets) {
      const probe = new PacketStore();
      probe.push(p);
      if (p.tcp !== undefined && probe.at(0)!.constructor !== Object) base.push(p);
    }
    if (base.length > 200) break;
  }
  assert.ok(base.length > 200, `${base.length} column-held TCP packets`);
  const make = (i: number): Packet => {
    const p = base[i % base.length]!;
    const t = p.tcp!;
    const { sack: _old, ...tcp } = t;
    const blocks: Array<[number, number]> = i % 3 === 0 ? [[(t.ack + i) >>> 0, (t.ack + i + 1448) >>> 0]] : i % 3 === 1 ? [[i, i + 10], [i + 20, i + 30]] : [];
    return { ...p, frame: i + 1, tcp: blocks.length > 0 ? { ...tcp, sack: blocks } : tcp };
  };
  const n = 40_000;
  const store = new PacketStore();
  const want: Packet[] = [];
  for (let i = 0; i < n; i++) { const q = make(i); want.push(toPlainPacket(q)); store.push(q); }
  const { image, transfer } = store.toImage();
  // One buffer holds every dense column of a page; each buffer is listed once (a repeat makes postMessage throw).
  const c0 = image.pages[0]!.cols;
  assert.ok(c0.seq !== undefined && c0.tsNsec !== undefined && c0.dir !== undefined && c0.hash !== undefined);
  assert.ok(c0.seq.buffer === c0.tsNsec.buffer && c0.dir.buffer === c0.seq.buffer && c0.hash.buffer === c0.seq.buffer, 'dense columns share a buffer');
  assert.equal(new Set(transfer).size, transfer.length, 'no buffer listed twice');
  const back = PacketStore.fromImage(await overPort(image, transfer));
  assert.equal(back.length, n);
  for (let i = 0; i < n; i++) assert.deepStrictEqual(toPlainPacket(back.at(i)!), want[i], `row ${i} through a port`);
  // The last page came as typed arrays; pushing more SACK blocks onto it keeps both the old and the new.
  for (let i = n; i < n + 2000; i++) { const q = make(i); want.push(toPlainPacket(q)); back.push(q); }
  const again = PacketStore.fromImage(structuredClone(back.toImage().image));
  assert.equal(again.length, n + 2000);
  for (let i = 32_000; i < n + 2000; i++) assert.deepStrictEqual(toPlainPacket(again.at(i)!), want[i], `row ${i} after more pushes`);
  // An image whose SACK lists are not what toImage writes is refused, not read.
  const bad = structuredClone(again.toImage().image);
  bad.pages[1]!.sack = { rows: new Uint16Array(2), start: new Uint32Array(1), edges: new Float64Array(0) };
  assert.throws(() => PacketStore.fromImage(bad), (e: unknown) => e instanceof PacketStoreImageError && /page 1 SACK blocks/.test(e.message));
});

test('a rebuilt store holds its own copy of the image\'s tables: the image changed afterwards, or a store growing, leaves the other alone', () => {
  const base = { tsNsec: 0, iface: 'wg0', ifaceId: 0, linktype: 276, caplen: 0, summary: '', hatype: 65534, dir: null } as const;
  const udp = (frame: number, src: string, dst: string): Packet => ({
    ...base, frame, tsSec: 1700000000 + frame, len: 92, src, dst, proto: 'udp', sport: 40000, dport: 51820,
    ip: { v: 4, id: frame, ttl: 64, len: 92, df: false, proto: 17 }, udp: { len: 64 },
  });
  const store = new PacketStore();
  store.push(udp(1, '10.0.0.1', '10.0.0.2'));
  const image = structuredClone(store.toImage().image);
  const back = PacketStore.fromImage(image);
  image.tables.addrs[0] = '192.0.2.99';
  image.tables.addrs.push('192.0.2.100');
  assert.equal(back.at(0)!.src, '10.0.0.1');
  back.push(udp(2, '10.0.0.3', '10.0.0.1'));
  assert.deepEqual(image.tables.addrs, ['192.0.2.99', '10.0.0.2', '192.0.2.100']);
  assert.deepEqual([back.at(1)!.src, back.at(1)!.dst], ['10.0.0.3', '10.0.0.1']);
});
