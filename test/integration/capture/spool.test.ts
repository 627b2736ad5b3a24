// The pcapng spool and the helper's wire format, on real captures from the corpus (no root needed).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, truncateSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PcapngSpool } from '../../../electron/capture/pcapng-spool.ts';
import { decodeBatch, encodeBatch, encodeEvent, MessageReader, KIND_BATCH } from '../../../electron/capture/protocol.ts';
import type { LivePacket } from '../../../electron/capture/session.ts';
import { readBack } from './lab.ts';

const corpus = (name: string) => new URL(`../../../../shared/corpus/tcpdump-tests/${name}`, import.meta.url);
const SOURCES = ['ikev2four.pcap', 'OSPFv2_Capture_FINAL.pcapng'];

function toLive(frames: { ifaceId: number; tsSec: number; tsNsec: number; caplen: number; len: number; data: Uint8Array }[]): LivePacket[] {
  return frames.map((f, i) => ({ frame: i + 1, ifaceId: 0, tsSec: f.tsSec, tsNsec: f.tsNsec, caplen: f.caplen, len: f.len, data: f.data, dir: (i % 3) as 0 | 1 | 2 }));
}

for (const name of SOURCES) {
  test(`spool rewrites ${name} losslessly and tshark reads it back`, { skip: existsSync(corpus(name)) ? false : `corpus file ${name} missing` }, async () => {
    const src = await readBack(readFileSync(corpus(name)));
    assert.ok(src.frames.length > 3);
    const dir = mkdtempSync(join(tmpdir(), 'tdmspool-'));
    try {
      const path = join(dir, 'spool.pcapng');
      const first = src.interfaces[0]!;
      const spool = new PcapngSpool(path, [{ name: 'veth-test', linktype: first.linktype, snaplen: first.snaplen || 65535 }]);
      // Two batches, as a live capture would append them.
      const half = src.frames.length >> 1;
      const asSpool = (fs: typeof src.frames) => fs.map((f) => ({ ifaceId: 0, tsSec: f.tsSec, tsNsec: f.tsNsec, data: f.data, len: f.len, dir: (f.frame % 3) as 0 | 1 | 2 }));
      spool.append(asSpool(src.frames.slice(0, half)));
      const afterFirst = spool.bytes;
      spool.append(asSpool(src.frames.slice(half)));
      spool.close();

      const back = await readBack(readFileSync(path));
      assert.equal(back.complete, true, back.problems.join('; '));
      assert.deepEqual(back.interfaces.map((i) => [i.name, i.linktype]), [['veth-test', first.linktype]]);
      assert.equal(back.frames.length, src.frames.length);
      back.frames.forEach((f, i) => {
        const s = src.frames[i]!;
        assert.deepEqual([f.tsSec, f.tsNsec, f.caplen, f.len], [s.tsSec, s.tsNsec, s.caplen, s.len]);
        assert.deepEqual(f.data, s.data);
        // Direction goes into epb_flags; unknown writes no option at all.
        assert.equal(f.epbFlags, s.frame % 3 === 0 ? undefined : s.frame % 3);
      });
      if (existsSync('/usr/bin/tshark')) {
        const n = execFileSync('tshark', ['-r', path, '-T', 'fields', '-e', 'frame.interface_name'], { encoding: 'utf8' }).trim().split('\n');
        assert.equal(n.length, src.frames.length);
        assert.ok(n.every((x) => x === 'veth-test'));
      }
      // A file cut inside the second batch still yields the whole first batch.
      truncateSync(path, afterFirst + 10);
      const cut = await readBack(readFileSync(path));
      assert.equal(cut.frames.length, half);
    } finally { rmSync(dir, { recursive: true, force: true }); }
  });
}

test('helper messages survive arbitrary chunking', async () => {
  const src = await readBack(readFileSync(corpus('ikev2four.pcap')));
  const live = toLive(src.frames);
  const stream = new Uint8Array([...encodeEvent({ type: 'error', kind: 'filter', message: 'x' }), ...encodeBatch(live), ...encodeBatch(live.slice(0, 2))]);
  const reader = new MessageReader();
  const got: LivePacket[] = [];
  let events = 0;
  // Feed in uneven pieces, as a pipe would.
  for (let pos = 0, step = 1; pos < stream.length; pos += step, step = (step * 7) % 61 + 1) {
    for (const m of reader.push(stream.subarray(pos, Math.min(stream.length, pos + step)))) {
      if (m.kind === KIND_BATCH) got.push(...decodeBatch(m.body, got.length + 1));
      else events++;
    }
  }
  assert.equal(events, 1);
  assert.equal(reader.leftover, 0);
  assert.equal(got.length, live.length + 2);
  got.slice(0, live.length).forEach((p, i) => {
    const s = live[i]!;
    assert.deepEqual([p.frame, p.tsSec, p.tsNsec, p.caplen, p.len, p.dir], [i + 1, s.tsSec, s.tsNsec, s.caplen, s.len, s.dir]);
    assert.deepEqual(p.data, s.data);
  });
});

test('64-bit nanosecond timestamps are split exactly', async () => {
  const { nanosWords } = await import('../../../electron/capture/pcapng-spool.ts');
  for (const [sec, nsec] of [[0, 0], [1, 999_999_999], [1_795_000_000, 123_456_789], [4_294_967_295, 999_999_999], [2_147_483_648, 1]]) {
    const v = BigInt(sec!) * 1_000_000_000n + BigInt(nsec!);
    assert.deepEqual(nanosWords(sec!, nsec!), [Number(v >> 32n), Number(v & 0xffffffffn)], `${sec}.${nsec}`);
  }
});
