// pcap and pcapng readers against tshark on real corpus files and on files built with Wireshark's own
// tools (mergecap, editcap) or by hand for features the corpus lacks (big-endian sections, if_tsresol
// variants, if_tsoffset, SPB, obsolete PB, NRB/ISB/custom blocks). tshark is the oracle throughout.

import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CORPUS, FIXTURES, HAVE_TSHARK, epoch, readFile, run, tsharkFields } from './helpers.ts';

const skip = HAVE_TSHARK ? false : 'tshark is not installed (apt-get install tshark): cannot compare with it';
if (skip) console.log(`skipped: ${skip}`);

/** Link types whose pseudo-header tshark strips from frame.cap_len; the reader keeps the record bytes. */
const PSEUDO_HEADER_LINKTYPES = new Set([123, 139, 196, 197, 201, 204, 209, 259]);

const FILES = [
  // pcapng (Wireshark/dumpcap written, one or more interfaces, comments, odd timestamps)
  'OSPFv2_Capture_FINAL.pcapng', 'bgp-orf.pcapng', 'dhcp-option-108.pcapng', 'hdlc_slarp.pcapng', 'isis_sr.pcapng',
  'msnlb2.pcapng', 'nhrp.pcapng', 'of13_ericsson.pcapng', 'ospf3_auth.pcapng', 'time_2106_overflow.pcapng',
  'time_2107.pcapng', 'vsock-1.pcapng', 'empty.pcapng', 'ikev2pI2-segfault.pcapng', 'resp_4_infiniteloop.pcapng',
  // pcap: nanosecond magic, big-endian, FCS bits in the link-type field, SLL, raw IP, loopback
  'tcp-handshake-nano.pcap', 'afs.pcap', 'espudp1.pcap', 'ISAKMP_sa_setup.pcap', '02-sunrise-sunset-esp.pcap',
  'print-flags.pcap', 'udld-inf-loop-1.pcapng', 'ikev2four.pcap', 'gso-ipv6-vxlan-ipv4.pcap', 'bigtcp-ipv4-vxlan-ipv6.pcap',
];

const FIELDS = ['frame.time_epoch', 'frame.interface_name', 'frame.cap_len', 'frame.len'];

/**
 * Compares our read of `file` with tshark's (or with `expected` rows in tshark's format). tshark names an
 * unnamed pcapng interface "unknown" and gives SPBs (no timestamp) an empty time: both map to our defaults.
 */
async function compareWithTshark(file: string, expected?: string[][]): Promise<{ frames: number }> {
  const ours = await readFile(file);
  const theirs = expected ?? tsharkFields(file, FIELDS);
  assert.equal(ours.frames.length, theirs.length, `${file}: frame count`);
  for (let i = 0; i < theirs.length; i++) {
    const f = ours.frames[i]!;
    const [t, name, cap, len] = theirs[i]!;
    const iface = ours.interfaces[f.ifaceId]!;
    assert.equal(epoch(f), t || '0.000000000', `${file} frame ${i + 1}: timestamp`);
    assert.equal(iface.name, name === 'unknown' && iface.name === '' ? '' : name ?? '', `${file} frame ${i + 1}: interface name`);
    if (!PSEUDO_HEADER_LINKTYPES.has(iface.linktype)) {
      assert.equal(String(f.caplen), cap, `${file} frame ${i + 1}: caplen`);
      assert.equal(String(f.len), len, `${file} frame ${i + 1}: len`);
    }
  }
  return { frames: theirs.length };
}

test('pcap and pcapng corpus files agree with tshark (count, ns timestamps, interface names, lengths)', { skip }, async () => {
  const have = new Set(FILES.filter((f) => { try { readFileSync(CORPUS + f); return true; } catch { return false; } }));
  // Add every big-endian and nanosecond pcap of the corpus, whatever their names.
  for (const f of run('sh', ['-c', `cd '${CORPUS}' && ls *.pcap`]).stdout.split('\n').filter(Boolean)) {
    const head = readFileSync(CORPUS + f).subarray(0, 4);
    const magic = Buffer.from(head).toString('hex');
    // Invalid fractions (≥ 1 s) are carried into the seconds here; tshark and tcpdump each print them differently.
    if (f.startsWith('timestamp_invalid')) continue;
    if (magic === 'a1b2c3d4' || magic === '4d3cb2a1' || magic === 'a1b23c4d') have.add(f);
  }
  assert.ok(have.size >= 25, `only ${have.size} files selected`);
  // A file without packets still tells its interfaces.
  const empty = await readFile(CORPUS + 'empty.pcapng');
  assert.equal(empty.frames.length, 0);
  assert.equal(empty.summary.interfaces.length, Number(/Number of interfaces in file: (\d+)/.exec(run('capinfos', [CORPUS + 'empty.pcapng']).stdout)?.[1] ?? -1));
  let frames = 0;
  for (const f of have) frames += (await compareWithTshark(CORPUS + f)).frames;
  console.log(`${have.size} corpus files, ${frames} frames identical to tshark`);
});

test('link-type field with FCS bits is masked, both byte orders give the same frames', { skip }, async () => {
  const fcs = run('sh', ['-c', `cd '${CORPUS}' && for f in *.pcap; do [ "$(head -c 24 "$f" | tail -c 4 | od -An -tx1 | tr -d ' ')" = "01000030" ] && echo "$f"; done | head -3`]).stdout.split('\n').filter(Boolean);
  assert.ok(fcs.length > 0);
  for (const f of fcs) {
    const r = await readFile(CORPUS + f);
    assert.equal(r.interfaces[0]!.linktype, 1, `${f}: Ethernet once the FCS bits are masked`);
    await compareWithTshark(CORPUS + f);
  }
});

test('the SLL2 fixture (tcpdump -i any) reads like tshark reads it', { skip }, async () => {
  await compareWithTshark(FIXTURES + 'sll2-any.pcap');
  const r = await readFile(FIXTURES + 'sll2-any.pcap');
  assert.equal(r.interfaces[0]!.linktype, 276);
});

// ---- Files built for features the corpus lacks --------------------------------------------------

const tmp = mkdtempSync(join(tmpdir(), 'tandem-cf-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

test('mergecap multi-interface pcapng: per-interface link types and names', { skip }, async () => {
  const out = join(tmp, 'multi.pcapng');
  // Three inputs with different link types (Ethernet, raw IP, Linux SLL) become three IDBs.
  const inputs = ['afs.pcap', 'print-flags.pcap', 'tcp-handshake-nano.pcap'].map((f) => CORPUS + f);
  const sll = run('sh', ['-c', `cd '${CORPUS}' && for f in *.pcap; do [ "$(head -c 24 "$f" | tail -c 4 | od -An -tx1 | tr -d ' ')" = "71000000" ] && echo "$f" && break; done`]).stdout.trim();
  if (sll) inputs.push(CORPUS + sll);
  const m = run('mergecap', ['-F', 'pcapng', '-w', out, ...inputs]);
  assert.equal(m.status, 0, m.stderr);
  const r = await readFile(out);
  const lt = tsharkFields(out, ['frame.interface_id', 'frame.encap_type']);
  assert.equal(r.frames.length, lt.length);
  assert.ok(r.interfaces.length >= 2, 'several interfaces');
  for (let i = 0; i < lt.length; i++) assert.equal(String(r.frames[i]!.ifaceId), lt[i]![0], `frame ${i + 1}: interface id`);
  await compareWithTshark(out);
});

test('several sections (concatenated pcapng files), one of them big-endian', { skip }, async () => {
  const a = readFileSync(CORPUS + 'OSPFv2_Capture_FINAL.pcapng');
  const b = readFileSync(CORPUS + 'nhrp.pcapng');
  const out = join(tmp, 'sections.pcapng');
  writeFileSync(out, Buffer.concat([a, toBigEndian(new Uint8Array(b)), a]));
  // tshark 4.0 resolves a later section's interface names through the first section's list, against the
  // pcapng rule that interface ids are section-local: the oracle is tshark on each section's own file.
  const expected = [...tsharkFields(CORPUS + 'OSPFv2_Capture_FINAL.pcapng', FIELDS), ...tsharkFields(CORPUS + 'nhrp.pcapng', FIELDS),
    ...tsharkFields(CORPUS + 'OSPFv2_Capture_FINAL.pcapng', FIELDS)];
  assert.equal(tsharkFields(out, FIELDS).length, expected.length, 'tshark reads every section');
  const r = await compareWithTshark(out, expected);
  const ours = await readFile(out);
  assert.equal(ours.interfaces.length, 3);
  assert.deepEqual(ours.interfaces.map((i) => i.section), [0, 1, 2]);
  assert.ok(r.frames > 0);
});

interface IdbSpec { linktype: number; name?: string; tsresol?: number; tsoffset?: bigint; snaplen?: number }

/** A hand-built little- or big-endian pcapng: SHB, IDBs, then the given packet blocks. */
function buildPcapng(le: boolean, idbs: IdbSpec[], packets: Array<{ kind: 'epb' | 'spb' | 'pb' | 'nrb' | 'isb' | 'custom' | 'unknown'; iface?: number; ts?: bigint; data?: Uint8Array; comment?: string; flags?: number }>, shbComment?: string): Uint8Array {
  const blocks: Uint8Array[] = [];
  const opt = (code: number, v: Uint8Array): Uint8Array => {
    const b = new Uint8Array(4 + ((v.length + 3) & ~3));
    const dv = new DataView(b.buffer);
    dv.setUint16(0, code, le); dv.setUint16(2, v.length, le); b.set(v, 4);
    return b;
  };
  const blk = (type: number, body: Uint8Array[]): void => {
    const n = body.reduce((s, x) => s + x.length, 0);
    const b = new Uint8Array(12 + n);
    const dv = new DataView(b.buffer);
    dv.setUint32(0, type, le); dv.setUint32(4, 12 + n, le); dv.setUint32(8 + n, 12 + n, le);
    let o = 8;
    for (const x of body) { b.set(x, o); o += x.length; }
    blocks.push(b);
  };
  const u = (n: number, f: (dv: DataView) => void): Uint8Array => { const b = new Uint8Array(n); f(new DataView(b.buffer)); return b; };
  const pad = (d: Uint8Array): Uint8Array => { const b = new Uint8Array((d.length + 3) & ~3); b.set(d); return b; };
  const end = new Uint8Array(4);
  const text = (s: string): Uint8Array => new TextEncoder().encode(s);
  blk(0x0a0d0d0a, [u(16, (dv) => { dv.setUint32(0, 0x1a2b3c4d, le); dv.setUint16(4, 1, le); dv.setBigInt64(8, -1n, le); }),
    ...(shbComment ? [opt(1, text(shbComment)), end] : [])]);
  for (const i of idbs) {
    const opts: Uint8Array[] = [];
    if (i.name) opts.push(opt(2, text(i.name)));
    if (i.tsresol !== undefined) opts.push(opt(9, Uint8Array.of(i.tsresol)));
    if (i.tsoffset !== undefined) opts.push(opt(14, u(8, (dv) => dv.setBigInt64(0, i.tsoffset!, le))));
    if (opts.length) opts.push(end);
    blk(1, [u(8, (dv) => { dv.setUint16(0, i.linktype, le); dv.setUint32(4, i.snaplen ?? 0, le); }), ...opts]);
  }
  for (const p of packets) {
    const data = p.data ?? new Uint8Array(0);
    const ts = p.ts ?? 0n;
    const opts: Uint8Array[] = [];
    if (p.comment) opts.push(opt(1, text(p.comment)));
    if (p.flags !== undefined) opts.push(opt(2, u(4, (dv) => dv.setUint32(0, p.flags!, le))));
    if (opts.length) opts.push(end);
    if (p.kind === 'epb') {
      blk(6, [u(20, (dv) => {
        dv.setUint32(0, p.iface ?? 0, le); dv.setUint32(4, Number(ts >> 32n), le); dv.setUint32(8, Number(ts & 0xffffffffn), le);
        dv.setUint32(12, data.length, le); dv.setUint32(16, data.length, le);
      }), pad(data), ...opts]);
    } else if (p.kind === 'pb') {
      blk(2, [u(20, (dv) => {
        dv.setUint16(0, p.iface ?? 0, le); dv.setUint32(4, Number(ts >> 32n), le); dv.setUint32(8, Number(ts & 0xffffffffn), le);
        dv.setUint32(12, data.length, le); dv.setUint32(16, data.length, le);
      }), pad(data), ...opts]);
    } else if (p.kind === 'spb') {
      blk(3, [u(4, (dv) => dv.setUint32(0, data.length, le)), pad(data)]);
    } else if (p.kind === 'nrb') {
      blk(4, [u(4, (dv) => { dv.setUint16(0, 1, le); dv.setUint16(2, 4 + 10, le); }), pad(Uint8Array.of(192, 0, 2, 1, ...text('host.test'), 0)), u(4, () => {})]);
    } else if (p.kind === 'isb') {
      blk(5, [u(12, (dv) => dv.setUint32(0, p.iface ?? 0, le)), opt(1, text('stats')), end]);
    } else if (p.kind === 'custom') {
      blk(0x40000bad, [u(4, (dv) => dv.setUint32(0, 99999, le)), pad(text('custom payload'))]);
    } else {
      blk(0x7777, [pad(text('unknown block'))]);
    }
  }
  const n = blocks.reduce((s, b) => s + b.length, 0);
  const out = new Uint8Array(n);
  let o = 0;
  for (const b of blocks) { out.set(b, o); o += b.length; }
  return out;
}

/** Rewrites a little-endian pcapng (SHB, IDB, EPB, SPB, ISB, NRB only) in big-endian byte order. */
function toBigEndian(src: Uint8Array): Uint8Array {
  const b = src.slice();
  const dl = new DataView(src.buffer, src.byteOffset, src.byteLength);
  const db = new DataView(b.buffer);
  const sw32 = (p: number): void => db.setUint32(p, dl.getUint32(p, true), false);
  const sw16 = (p: number): void => db.setUint16(p, dl.getUint16(p, true), false);
  const opts = (p: number, end: number, widths: Record<number, number> = {}): void => {
    while (p + 4 <= end) {
      const code = dl.getUint16(p, true), len = dl.getUint16(p + 2, true);
      sw16(p); sw16(p + 2);
      if (widths[code] === 4) sw32(p + 4);
      if (widths[code] === 8) db.setBigUint64(p + 4, dl.getBigUint64(p + 4, true), false);
      if (code === 0) break;
      p += 4 + ((len + 3) & ~3);
    }
  };
  let p = 0;
  while (p + 12 <= src.length) {
    const type = dl.getUint32(p, true), total = dl.getUint32(p + 4, true);
    sw32(p); sw32(p + 4); sw32(p + total - 4);
    const body = p + 8, end = p + total - 4;
    if (type === 0x0a0d0d0a) { sw32(body); sw16(body + 4); sw16(body + 6); db.setBigInt64(body + 8, dl.getBigInt64(body + 8, true), false); opts(body + 16, end); }
    else if (type === 1) { sw16(body); sw16(body + 2); sw32(body + 4); opts(body + 8, end, { 14: 8, 4: 4 }); }
    else if (type === 6) { for (let k = 0; k < 20; k += 4) sw32(body + k); const cap = dl.getUint32(body + 12, true); opts(body + 20 + ((cap + 3) & ~3), end, { 2: 4, 4: 8 }); }
    else if (type === 3) sw32(body);
    else if (type === 5) { sw32(body); sw32(body + 4); sw32(body + 8); opts(body + 12, end, { 2: 8, 3: 8, 4: 8, 5: 8, 6: 8, 7: 8, 8: 8 }); }
    p += total;
  }
  return b;
}

test('hand-built pcapng: if_tsresol 10^-n and 2^-n, if_tsoffset, SPB, obsolete PB, NRB/ISB/custom/unknown blocks, both byte orders', { skip }, async () => {
  const ip = new Uint8Array(Buffer.from('450000280001000040060000c0000201c00002020050005000000001000000005002200000000000', 'hex'));
  const idbs: IdbSpec[] = [
    { linktype: 101, name: 'us-default', snaplen: 0 },
    { linktype: 101, name: 'ns', tsresol: 9 },
    { linktype: 101, name: 'binary-2^-20', tsresol: 0x80 | 20 },
    { linktype: 101, name: 'binary-2^-32', tsresol: 0x80 | 32 },
    { linktype: 101, name: 'ms+offset', tsresol: 3, tsoffset: 1000n },
    { linktype: 101, name: 'centiseconds', tsresol: 2 },
  ];
  const packets = [
    { kind: 'epb' as const, iface: 0, ts: 1700000000123456n, data: ip, comment: 'first', flags: 1 },
    { kind: 'epb' as const, iface: 1, ts: 1700000000123456789n, data: ip, flags: 2 },
    { kind: 'nrb' as const },
    { kind: 'epb' as const, iface: 2, ts: (1700000000n << 20n) + 987654n, data: ip },
    { kind: 'epb' as const, iface: 3, ts: (1700000000n << 32n) + 3000000000n, data: ip },
    { kind: 'isb' as const, iface: 0 },
    { kind: 'epb' as const, iface: 4, ts: 1699999000456n, data: ip, comment: 'two\ncomments' },
    { kind: 'custom' as const },
    { kind: 'epb' as const, iface: 5, ts: 170000000099n, data: ip },
    { kind: 'unknown' as const },
    { kind: 'pb' as const, iface: 1, ts: 1700000001000000001n, data: ip },
    { kind: 'spb' as const, data: ip },
  ];
  for (const le of [true, false]) {
    const file = join(tmp, `built-${le ? 'le' : 'be'}.pcapng`);
    writeFileSync(file, buildPcapng(le, idbs, packets, 'session comment'));
    // tshark lists a custom block as a record of its own (no time, protocol "data"); it is no frame for us.
    const rows = tsharkFields(file, [...FIELDS, 'frame.protocols']).filter((r) => !(r[0] === '' && r[4] === 'data'));
    assert.equal(rows.length, packets.filter((p) => ['epb', 'pb', 'spb'].includes(p.kind)).length);
    await compareWithTshark(file, rows);
    const r = await readFile(file);
    assert.equal(r.summary.complete, true);
    assert.deepEqual(r.summary.sectionComments, ['session comment']);
    assert.deepEqual(r.summary.nameRecords, [{ addr: '192.0.2.1', names: ['host.test'] }]);
    const tc = tsharkFields(file, ['frame.comment', 'frame.protocols']).filter((r) => r[1] !== 'data');
    assert.deepEqual(r.frames.map((f) => (f.comments ?? []).join(',')), tc.map((x) => (x[0] ?? '').replace(/\\n/g, '\n')));
    assert.equal(r.frames[0]!.epbFlags, 1);
    assert.equal(r.frames[1]!.epbFlags, 2);
  }
});
