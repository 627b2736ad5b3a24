// The lean load paths used for bulk analysis (no summaries, column store, second-pass summaries)
// must describe every packet exactly as the ordinary decode does.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fillSummaries, loadAll, loadCompact } from '../../../shared/ingest/load-capture.ts';
import { toPlainPacket } from '../../../shared/ingest/packet-store.ts';
import type { Packet } from '../../../shared/protocols/packet.ts';

const CORPUS = fileURLToPath(new URL('../../../../shared/corpus/tcpdump-tests/', import.meta.url));
const files = readdirSync(CORPUS).filter((f) => /\.(pcap|pcapng)$/.test(f)).sort();

const noSummary = (p: Packet): Packet => ({ ...p, summary: '' });

test('summary: false and compact: true decode the whole corpus to the same packets, less the summary', async () => {
  let packets = 0, viewed = 0, files2 = 0, sackViewed = 0, cutViewed = 0;
  for (const f of files) {
    const bytes = new Uint8Array(readFileSync(join(CORPUS, f)));
    const full = await loadAll(bytes);
    if (full.packets.length === 0) continue;
    files2++;
    const lean = await loadAll(bytes, { summary: false });
    const compact = await loadCompact(bytes, { summary: false });
    const compactSum = await loadCompact(bytes);
    assert.equal(lean.packets.length, full.packets.length, f);
    assert.equal(compact.packets.length, full.packets.length, f);
    for (let i = 0; i < full.packets.length; i++) {
      const want = full.packets[i]!;
      assert.deepStrictEqual(lean.packets[i], noSummary(want), `${f} #${i + 1}`);
      const v = compact.packets.at(i)!;
      if (v.constructor !== Object) { viewed++; if (want.tcp?.sack !== undefined) sackViewed++; if (want.truncated !== undefined) cutViewed++; }
      assert.deepStrictEqual(toPlainPacket(v), noSummary(want), `${f} #${i + 1} (compact)`);
      // Reads through the view agree field by field too (the engine reads them this way).
      assert.equal(v.src, want.src); assert.equal(v.sport, want.sport); assert.deepEqual(v.tcp, want.tcp);
      assert.deepEqual(v.ip, want.ip); assert.deepEqual(v.wg, want.wg); assert.deepEqual(v.icmp, want.icmp);
      assert.equal(compactSum.packets.at(i)!.summary, want.summary, `${f} #${i + 1} (compact, summary)`);
      assert.deepStrictEqual(JSON.parse(JSON.stringify(v)), JSON.parse(JSON.stringify(noSummary(want))));
    }
    packets += full.packets.length;
  }
  console.log(`# ${packets} packets in ${files2} files; ${viewed} held as columns (${sackViewed} with SACK blocks, ${cutViewed} with a cut TCP header)`);
  assert.ok(viewed > packets / 4, 'the common shapes go to columns');
  assert.ok(sackViewed > 0, 'TCP packets with SACK blocks go to columns too');
  assert.ok(cutViewed > 0, 'TCP headers cut inside their options go to columns too');
});

test('fillSummaries gives the chosen frames the summary the full decode has, and leaves the rest empty', async () => {
  let checked = 0;
  for (const f of files) {
    const bytes = new Uint8Array(readFileSync(join(CORPUS, f)));
    const full = await loadAll(bytes);
    if (full.packets.length < 3) continue;
    const compact = await loadCompact(bytes, { summary: false });
    const wanted = new Set([1, Math.ceil(full.packets.length / 2), full.packets.length]);
    const n = await fillSummaries(bytes, compact.packets, wanted);
    assert.equal(n, wanted.size, f);
    for (let i = 0; i < full.packets.length; i++) {
      const frame = full.packets[i]!.frame;
      assert.equal(compact.packets.at(i)!.summary, wanted.has(frame) ? full.packets[i]!.summary : '', `${f} #${frame}`);
      if (wanted.has(frame)) checked++;
    }
  }
  assert.ok(checked > 100, `${checked} summaries checked`);
});
