// Text that the real tcpdump prints for IKE notifies and flags, pflog (-e) and enc0 captures, parsed and
// compared field by field with the binary decode of the same file and with tshark. The captures are
// built by test/fixtures/text/make-pcaps.py (documentation addresses); tcpdump runs at -n, -e, -v.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { TcpdumpTextParser } from '../../../shared/capture-file/tcpdump-text.ts';
import { loadAll } from '../../../shared/ingest/load-capture.ts';
import type { Packet } from '../../../shared/protocols/packet.ts';
import { HAVE_TCPDUMP, HAVE_TSHARK, run, tsharkFields } from './helpers.ts';

const TEXT = fileURLToPath(new URL('../../fixtures/text/', import.meta.url));
const skip = HAVE_TCPDUMP && HAVE_TSHARK ? false : 'tcpdump or tshark missing: cannot print or check the captures';
if (skip) console.log(`skipped: ${skip}`);

function parse(text: string): Packet[] {
  const p = new TcpdumpTextParser();
  const out: Packet[] = [];
  for (const l of text.split('\n')) { const x = p.line(l); if (x) out.push(x); }
  const last = p.end();
  if (last) out.push(last);
  assert.deepEqual(p.skipped.count, 0, 'tcpdump\'s own output leaves no line unread');
  return out;
}

async function both(file: string, flags: string[]) {
  const out = run('tcpdump', ['-n', ...flags, '-r', TEXT + file]);
  assert.equal(out.status, 0, out.stderr);
  const bin = (await loadAll(new Uint8Array(readFileSync(TEXT + file)))).packets;
  return { text: parse(out.stderr + out.stdout), bin };
}

test('IKE: flags at every verbosity, notify types from -v, equal to the bytes and to tshark', { skip }, async () => {
  // Every notify of a message, not only the first: occurrence=a.
  const ts = run('tshark', ['-n', '-r', TEXT + 'ike-notify.pcap', '-T', 'fields', '-E', 'occurrence=a', '-E', 'aggregator=,', '-e', 'isakmp.flags', '-e', 'isakmp.notify.msgtype'])
    .stdout.split('\n').filter((l) => l !== '').map((l) => l.split('\t'));
  for (const flags of [[], ['-v'], ['-vv'], ['-e', '-v']]) {
    const { text, bin } = await both('ike-notify.pcap', flags);
    assert.equal(text.length, bin.length);
    text.forEach((x, i) => {
      const b = bin[i]!, at = `${flags.join(' ') || '-n'} #${i + 1}`;
      const [tf, tn] = ts[i]!;
      // IKEv2 I/V/R and IKEv1 E are what tcpdump prints; they must be the header's bits.
      const mask = b.ike!.version === 2 ? 0x38 : 0x01;
      assert.equal(x.ike?.flags, b.ike!.flags! & mask, at);
      assert.equal(x.ike?.flags, Number(tf) & mask, `${at} vs tshark`);
      if (flags.length === 0) assert.equal(x.ike?.notify, undefined, `${at}: -n prints no payloads`);
      else {
        // tcpdump cannot show notifies inside an encrypted IKEv1 message; the bytes cannot either.
        assert.deepEqual(x.ike?.notify, b.ike!.notify, at);
        assert.deepEqual(x.ike?.notify ?? [], tn ? tn.split(',').map(Number) : [], `${at} vs tshark`);
      }
    });
    if (flags.length > 0) assert.deepEqual(text.map((p) => p.ike?.notify?.[0]), [undefined, 14, 17, 16390, 24, 38, 11, 14, undefined]);
  }
});

test('pflog -e (and -e -v): fwlog equals the pfloghdr the bytes carry and tshark\'s pflog fields', { skip }, async () => {
  const ts = tsharkFields(TEXT + 'pflog.pcap', ['pflog.rulenr', 'pflog.action', 'pflog.ifname', 'pflog.dir']);
  for (const flags of [['-e'], ['-e', '-v'], ['-e', '-tttt']]) {
    const { text, bin } = await both('pflog.pcap', flags);
    assert.equal(text.length, bin.length);
    text.forEach((x, i) => {
      const b = bin[i]!, at = `${flags.join(' ')} #${i + 1}`;
      assert.deepEqual(x.fwlog, b.fwlog, at);
      assert.deepEqual([x.src, x.dst, x.sport, x.dport], [b.src, b.dst, b.sport, b.dport], at);
      assert.equal(x.linktype, 117, at);
      const [rulenr, action, ifname, dir] = ts[i]!;
      assert.equal(x.fwlog!.rule!.split(/[./]/)[0], rulenr, `${at} rule vs tshark`);
      assert.equal(x.fwlog!.ifname, ifname, at);
      // tshark: action 0 pass, 1 block; dir 1 in, 2 out.
      assert.equal(x.fwlog!.action, { 0: 'pass', 1: 'block' }[Number(action)], at);
      assert.equal(x.fwlog!.dir, { 1: 'in', 2: 'out' }[Number(dir)], at);
    });
  }
  // Without -e tcpdump prints no pflog header: plain packets, no fwlog invented.
  const { text } = await both('pflog.pcap', []);
  assert.ok(text.every((p) => p.fwlog === undefined && p.src !== undefined));
});

test('enc0 (-n and -e): SPI and authentic/confidential flags equal the enc header; inner packet as decoded', { skip }, async () => {
  const ts = tsharkFields(TEXT + 'enc.pcap', ['enc.spi', 'enc.flags']);
  for (const flags of [[], ['-e'], ['-v']]) {
    const { text, bin } = await both('enc.pcap', flags);
    assert.equal(text.length, bin.length);
    text.forEach((x, i) => {
      const b = bin[i]!, at = `${flags.join(' ') || '-n'} #${i + 1}`;
      assert.deepEqual(x.enc, { spi: b.enc!.spi, flags: b.enc!.flags & 0xc00 }, at);
      assert.equal(x.enc!.spi, Number(ts[i]![0]), `${at} vs tshark`);
      assert.deepEqual([x.proto, x.src, x.dst, x.sport, x.dport], [b.proto === 'udp' && x.proto === 'dns' ? 'dns' : b.proto, b.src, b.dst, b.sport, b.dport], at);
      assert.equal(x.linktype, 109, at);
    });
  }
});
