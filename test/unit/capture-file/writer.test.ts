// pcapng writer: read → write → read gives the same frames plus our comments, and Wireshark's tools
// accept the file (capinfos, tshark shows comments, interface names and directions). Text-imported
// packets get synthesized bytes that tshark decodes back to the printed fields.

import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PcapngWriter, synthesizeFrame } from '../../../shared/capture-file/index.ts';
import { CORPUS, FIXTURES, HAVE_TSHARK, SEEDS, readAll, readFile, run, tsharkFields } from './helpers.ts';

const tmp = mkdtempSync(join(tmpdir(), 'tandem-w-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
const tsharkSkip = HAVE_TSHARK ? false : 'tshark is not installed: cannot check what Wireshark sees';

async function roundTrip(file: string) {
  const src = await readFile(file);
  const w = new PcapngWriter({ comment: `Tandem session: ${file}` });
  const ids = src.interfaces.map((i) => w.addInterface({ name: i.name || `if${i.id}`, description: `from ${i.id}`, linktype: i.linktype, snaplen: i.snaplen }));
  src.frames.forEach((f, k) => {
    w.addPacket({
      ifaceId: ids[f.ifaceId]!, tsSec: f.tsSec, tsNsec: f.tsNsec, data: f.data, len: f.len,
      comments: k % 3 === 0 ? [`checkpoint A${k}`, 'note: second comment'] : undefined, dir: k % 2 ? 'in' : 'out',
    });
  });
  const bytes = w.toBytes();
  const chunked = [...w.chunks()];
  assert.deepEqual(Buffer.concat(chunked), Buffer.from(bytes));
  const back = await readAll(bytes);
  return { src, back, bytes };
}

test('read → write pcapng → read gives identical frames plus the comments', async () => {
  for (const f of [CORPUS + 'afs.pcap', CORPUS + 'OSPFv2_Capture_FINAL.pcapng', CORPUS + 'tcp-handshake-nano.pcap', FIXTURES + 'sll2-any.pcap']) {
    const { src, back } = await roundTrip(f);
    assert.equal(back.summary.complete, true);
    assert.deepEqual(back.summary.sectionComments, [`Tandem session: ${f}`]);
    assert.equal(back.frames.length, src.frames.length);
    back.frames.forEach((b, k) => {
      const a = src.frames[k]!;
      assert.deepEqual([b.tsSec, b.tsNsec, b.caplen, b.len, b.ifaceId], [a.tsSec, a.tsNsec, a.caplen, a.len, a.ifaceId]);
      assert.deepEqual(b.data, a.data);
      assert.deepEqual(b.comments, k % 3 === 0 ? [`checkpoint A${k}`, 'note: second comment'] : undefined);
      assert.equal(b.epbFlags, k % 2 ? 1 : 2);
    });
    assert.deepEqual(back.interfaces.map((i) => [i.linktype, i.snaplen]), src.interfaces.map((i) => [i.linktype, i.snaplen]));
  }
});

test('tshark and capinfos accept the written file: comments, interface names, directions', { skip: tsharkSkip }, async () => {
  const { src, bytes } = await roundTrip(FIXTURES + 'sll2-any.pcap');
  const out = join(tmp, 'rt.pcapng');
  writeFileSync(out, bytes);
  const rows = tsharkFields(out, ['frame.comment', 'frame.interface_name', 'frame.time_epoch']);
  assert.equal(rows.length, src.frames.length);
  const all = run('tshark', ['-r', out, '-T', 'fields', '-E', 'occurrence=a', '-E', 'aggregator=|', '-e', 'frame.comment']).stdout.split('\n');
  assert.equal(all[0], 'checkpoint A0|note: second comment');
  assert.equal(all[1], '');
  assert.ok(rows.every((r) => r[1] === 'if0'));
  const verbose = run('tshark', ['-r', out, '-c', '2', '-V']).stdout;
  assert.match(verbose, /\(outbound\)/);
  assert.match(verbose, /\(inbound\)/);
  const ci = run('capinfos', [out]);
  assert.equal(ci.status, 0, ci.stderr);
  assert.match(ci.stdout, /Tandem session/);
  assert.match(ci.stdout, /Tandem/);
});

test('text-imported packets export with synthesized bytes that tshark decodes to the printed fields', { skip: tsharkSkip }, async () => {
  for (const seed of ['endpoint-a', 'host-beta']) {
    const r = await readAll(new Uint8Array(readFileSync(SEEDS + seed + '.txt')));
    const w = new PcapngWriter({ comment: `${seed} imported from tcpdump text` });
    const ifaces = new Map<string, number>();
    for (const p of r.packets) {
      const { linktype, data } = synthesizeFrame(p);
      let id = ifaces.get(p.iface);
      if (id === undefined) { id = w.addInterface({ name: p.iface, linktype }); ifaces.set(p.iface, id); }
      w.addPacket({ ifaceId: id, tsSec: p.tsSec, tsNsec: p.tsNsec, data, comments: [`frame ${p.frame}`], dir: p.dir === 'in' ? 'in' : 'out' });
    }
    const out = join(tmp, `${seed}.pcapng`);
    writeFileSync(out, w.toBytes());
    const t = tsharkFields(out, ['frame.interface_name', 'ip.src', 'ip.dst', 'tcp.srcport', 'udp.srcport', 'tcp.dstport', 'udp.dstport', 'udp.length',
      'tcp.flags.str', 'tcp.seq_raw', 'tcp.ack_raw', 'tcp.window_size_value', 'tcp.len', 'tcp.options.mss_val', 'tcp.options.timestamp.tsval',
      'tcp.options.timestamp.tsecr', 'tcp.options.wscale.shift', 'frame.comment', 'ip.checksum.status', 'frame.time_epoch']);
    assert.equal(t.length, r.packets.length);
    r.packets.forEach((p, i) => {
      const [name, src, dst, tsp, usp, tdp, udp, ulen, flags, seq, ack, win, tlen, mss, tsval, tsecr, ws, comment] = t[i]!;
      const at = `${seed} frame ${i + 1}`;
      assert.deepEqual([name, src, dst, comment], [p.iface, p.src, p.dst, `frame ${p.frame}`], at);
      assert.equal(t[i]![19], `${p.tsSec}.${String(p.tsNsec).padStart(9, '0')}`, at);
      if (p.udp) assert.deepEqual([usp, udp, ulen], [String(p.sport), String(p.dport), String(p.udp.len + 8)], at);
      if (p.tcp) {
        assert.equal(tsp, String(p.sport), at);
        if (p.dport !== undefined) assert.equal(tdp, String(p.dport), at);
        assert.deepEqual([seq, ack, win, tlen], [p.tcp.seq, p.tcp.ack, p.tcp.win, p.tcp.len].map(String), at);
        assert.equal(flags!.replace(/·/g, '').includes('S'), p.tcp.flags.includes('S'), at);
        assert.equal(mss, p.tcp.mss === undefined ? '' : String(p.tcp.mss), at);
        assert.equal(tsval, p.tcp.tsval === undefined ? '' : String(p.tcp.tsval), at);
        assert.equal(tsecr, p.tcp.tsecr === undefined ? '' : String(p.tcp.tsecr), at);
        assert.equal(ws, p.tcp.wscale === undefined ? '' : String(p.tcp.wscale), at);
      }
    });
  }
});

test('a later fragment from plain tcpdump text (offset not printed) exports as a later fragment, not as a headerless datagram', { skip: tsharkSkip }, async () => {
  const text = '12:00:00.000001 IP 192.168.1.2 > 198.51.100.2: ip-proto-17\n';
  const r = await readAll(new TextEncoder().encode(text));
  assert.equal(r.packets.length, 1);
  const p = r.packets[0]!;
  assert.ok(p.ip?.frag, 'the text importer marks the line as a fragment');
  const { linktype, data } = synthesizeFrame(p);
  const w = new PcapngWriter({});
  const id = w.addInterface({ name: 'eth0', linktype });
  w.addPacket({ ifaceId: id, tsSec: p.tsSec, tsNsec: p.tsNsec, data });
  const out = join(tmp, 'later-fragment.pcapng');
  writeFileSync(out, w.toBytes());
  const [row] = tsharkFields(out, ['ip.proto', 'ip.frag_offset', 'ip.flags.mf', 'udp.srcport', '_ws.expert.message']);
  assert.equal(row![0], '17');
  assert.ok(Number(row![1]) >= 1, `fragment offset ${row![1]} must mark a later fragment`);
  assert.equal(row![3], '', 'no UDP header is invented for a later fragment');
  assert.doesNotMatch(row![4] ?? '', /Malformed/i);
});
