// Text import of IKE / ESP / NAT-T lines, checked against the binary decode of the very same file:
// tcpdump (run here, at -n, -n -v and -n -vv) prints the corpus's IPsec captures and the IPsec lab
// captures (split into one pcap per interface, since tcpdump reads one link type per file), the text
// importer parses that output, and every field it fills must agree with what the decoder read from
// the bytes. Fields tcpdump did not print stay unknown (SPIs '', msgid -1) and are not compared.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TcpdumpTextParser } from '../../../shared/capture-file/tcpdump-text.ts';
import { readCapture } from '../../../shared/capture-file/reader.ts';
import { loadAll } from '../../../shared/ingest/load-capture.ts';
import type { Packet } from '../../../shared/protocols/packet.ts';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const CORPUS = join(ROOT, '../shared/corpus/tcpdump-tests');
const LAB = join(ROOT, 'test/lab/ipsec/captures');
const haveTcpdump = spawnSync('sh', ['-c', 'command -v tcpdump'], { stdio: 'ignore' }).status === 0;
const noTcpdump = haveTcpdump ? false : 'tcpdump is not installed (needed to print the captures as text)';
if (noTcpdump) console.log(`# skip: ${noTcpdump}`);

/** Well-formed IPsec captures of the corpus (the -oobr/-segfault fuzz files are not meant to decode alike). */
const CORPUS_FILES = ['02-sunrise-sunset-esp.pcap', '08-sunrise-sunset-esp2.pcap', 'espudp1.pcap', 'isakmp4500.pcap',
  'ISAKMP_sa_setup.pcap', 'ikev2four.pcap', 'ikev2pI2.pcap', 'ikev2-id-normal.pcap'];

function parse(text: string): Packet[] {
  const p = new TcpdumpTextParser({ baseDate: '2024-01-01' });
  const out: Packet[] = [];
  for (const line of text.split('\n')) { const x = p.line(line); if (x) out.push(x); }
  const last = p.end();
  if (last) out.push(last);
  return out;
}

function tcpdump(file: string, ...flags: string[]): string {
  const r = spawnSync('tcpdump', ['-n', ...flags, '-r', file], { encoding: 'utf8', maxBuffer: 64 << 20 });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout;
}

interface Tally { esp: number; ike: number; ikeFlags: number; ikeNotify: number; ikeSpi: number; ikeMsgid: number; keepalive: number; udpLen: number; ipsec: number; laterFrag: number }
const tally = (): Tally => ({ esp: 0, ike: 0, ikeFlags: 0, ikeNotify: 0, ikeSpi: 0, ikeMsgid: 0, keepalive: 0, udpLen: 0, ipsec: 0, laterFrag: 0 });

/** Compares text packets with the decoded ones, field by field where the text knows the field. */
function compare(label: string, text: Packet[], bin: Packet[], t: Tally): void {
  assert.equal(text.length, bin.length, `${label}: packet count`);
  for (let i = 0; i < bin.length; i++) {
    const x = text[i]!, b = bin[i]!;
    const at = `${label} #${i + 1}: ${x.summary.slice(0, 140)}`;
    // ARP and the like: outside this test (tcpdump-text.test.ts covers them).
    if (b.outer !== undefined || b.ip === undefined) continue;
    assert.equal(x.src, b.src, at);
    assert.equal(x.dst, b.dst, at);
    assert.equal(x.sport, b.sport, at);
    assert.equal(x.dport, b.dport, at);
    // A later IPv4 fragment ("ip-proto-17"): the text knows it is one even when the offset is not printed.
    if (b.ip.v === 4 && b.ip.frag !== undefined && b.ip.frag.offset > 0) {
      assert.ok(x.ip?.frag !== undefined, `${at}: later fragment not marked`);
      assert.equal(x.ip.proto, b.ip.proto, at);
      if (x.ip.frag.offset > 0) assert.deepEqual(x.ip.frag, b.ip.frag, at);
      t.laterFrag++;
    } else if (x.ip?.frag !== undefined) {
      assert.deepEqual(x.ip.frag, b.ip.frag, `${at}: marked as a fragment`);
    }
    if (b.esp !== undefined || b.ike !== undefined || b.nattKeepalive === true) t.ipsec++;
    // tcpdump prints every ESP header it can read; the text must carry it whenever the bytes do.
    if (b.esp !== undefined) {
      assert.deepEqual(x.esp, b.esp, at);
      t.esp++;
    } else assert.equal(x.esp, undefined, at);
    assert.equal(x.nattKeepalive, b.nattKeepalive, at);
    if (b.nattKeepalive) t.keepalive++;
    if (x.ike !== undefined) {
      assert.ok(b.ike !== undefined, `${at}: text has IKE, bytes do not`);
      assert.equal(x.ike.version, b.ike.version, at);
      assert.equal(x.ike.exchange, b.ike.exchange, at);
      assert.equal(x.ike.nonEspMarker, b.ike.nonEspMarker, at);
      if (x.ike.msgid >= 0) { assert.equal(x.ike.msgid, b.ike.msgid, at); t.ikeMsgid++; }
      if (x.ike.ispi !== '') { assert.equal(x.ike.ispi, b.ike.ispi, at); t.ikeSpi++; }
      if (x.ike.rspi !== '') assert.equal(x.ike.rspi, b.ike.rspi, at);
      // The flag bits tcpdump prints (IKEv2 I/V/R, IKEv1 E/C), at every verbosity.
      if (b.ike.flags !== undefined) {
        assert.equal(x.ike.flags, b.ike.flags & (b.ike.version === 2 ? 0x38 : 0x03), `${at}: flags`);
        t.ikeFlags++;
      }
      // Notifies are printed from -v on; what the text names must be what the bytes hold.
      if (x.ike.notify !== undefined) { assert.deepEqual(x.ike.notify, b.ike.notify, `${at}: notify`); t.ikeNotify++; }
      t.ike++;
    }
    if (x.udp !== undefined && (x.esp !== undefined || x.ike !== undefined || x.nattKeepalive)) {
      assert.equal(x.udp.len, b.udp?.len, at);
      t.udpLen++;
    }
  }
}

for (const f of CORPUS_FILES) {
  const path = join(CORPUS, f);
  test(`corpus ${f}: tcpdump text agrees with the binary decode`, { skip: noTcpdump || (existsSync(path) ? false : `${f} not in the corpus`) }, async () => {
    const bin = (await loadAll(new Uint8Array(readFileSync(path)))).packets;
    for (const flags of [[], ['-v'], ['-vv']]) {
      const t = tally();
      compare(`${f} ${flags.join(' ')}`, parse(tcpdump(path, ...flags)), bin, t);
      assert.ok(t.ipsec > 0, `${f}: no IPsec packets decoded`);
      console.log(`${f} -n ${flags.join(' ')}: ${JSON.stringify(t)}`);
      assert.equal(t.esp + t.ike + t.keepalive, t.ipsec, `${f} ${flags.join(' ')}: some IPsec packets lost in text`);
    }
  });
}

// tcpdump's own expected outputs (checked in next to the captures): real text that needs no tcpdump here.
const testlist = existsSync(join(CORPUS, 'TESTLIST')) ? readFileSync(join(CORPUS, 'TESTLIST'), 'utf8').split('\n') : [];
for (const line of testlist) {
  const [name, pcap, out, ...opts] = line.trim().split(/\s+/);
  if (name === undefined || name.startsWith('#') || !CORPUS_FILES.includes(pcap ?? '') || out === undefined) continue;
  // -E decrypts and -e adds link headers: this test is about the plain IPsec lines.
  if (opts.some((o) => o.startsWith('-E') || o.includes('e') || o.startsWith('-T'))) continue;
  test(`corpus ${out} (tcpdump ${opts.join(' ') || '-n'} of ${pcap}): parsed text agrees with the binary decode`, async () => {
    const bin = (await loadAll(new Uint8Array(readFileSync(join(CORPUS, pcap!))))).packets;
    const t = tally();
    compare(out, parse(readFileSync(join(CORPUS, out), 'utf8')), bin, t);
    assert.ok(t.ipsec > 0);
    assert.equal(t.esp + t.ike + t.keepalive, t.ipsec, `${out}: some IPsec packets lost in text`);
  });
}

/** One classic pcap per interface of a pcapng file (tcpdump refuses files that mix link types). */
async function splitByInterface(file: string, dir: string): Promise<string[]> {
  const parts = new Map<number, Uint8Array[]>();
  let ifaces: Array<{ name: string; linktype: number }> = [];
  for await (const c of readCapture(new Uint8Array(readFileSync(file)))) {
    ifaces = c.interfaces;
    for (const fr of c.frames) {
      const h = new Uint8Array(16);
      const v = new DataView(h.buffer);
      v.setUint32(0, fr.tsSec, true); v.setUint32(4, fr.tsNsec, true); v.setUint32(8, fr.caplen, true); v.setUint32(12, fr.len, true);
      let l = parts.get(fr.ifaceId);
      if (l === undefined) parts.set(fr.ifaceId, l = []);
      l.push(h, fr.data.slice(0, fr.caplen));
    }
  }
  const out: string[] = [];
  for (const [id, l] of parts) {
    const g = new Uint8Array(24);
    const v = new DataView(g.buffer);
    // Nanosecond pcap, version 2.4.
    v.setUint32(0, 0xa1b23c4d, true); v.setUint16(4, 2, true); v.setUint16(6, 4, true);
    v.setUint32(16, 262144, true); v.setUint32(20, ifaces[id]!.linktype, true);
    const name = join(dir, `${ifaces[id]!.name || 'if' + id}.pcap`);
    writeFileSync(name, Buffer.concat([g, ...l]));
    out.push(name);
  }
  return out;
}

const labNames = existsSync(LAB) ? readdirSync(LAB).filter((n) => existsSync(join(LAB, n, 'A.pcapng'))).sort() : [];

test('IPsec lab captures: tcpdump text of every interface agrees with the binary decode', { skip: noTcpdump || (labNames.length ? false : 'no IPsec lab captures') }, async () => {
  const tmp = mkdtempSync(join(tmpdir(), 'tandem-ipsec-text-'));
  const total = tally();
  const byFlags = new Map<string, Tally>();
  try {
    for (const n of labNames) {
      for (const h of ['A', 'B']) {
        const dir = mkdtempSync(join(tmp, `${n}-${h}-`));
        for (const part of await splitByInterface(join(LAB, n, `${h}.pcapng`), dir)) {
          const bin = (await loadAll(new Uint8Array(readFileSync(part)))).packets;
          for (const flags of [[], ['-v'], ['-vv']]) {
            const k = flags.join(' ') || '-n';
            let t = byFlags.get(k);
            if (t === undefined) byFlags.set(k, t = tally());
            compare(`${n}/${h} ${part.slice(dir.length + 1)} ${k}`, parse(tcpdump(part, ...flags)), bin, t);
          }
        }
      }
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  for (const [k, t] of byFlags) {
    console.log(`${k}: ${JSON.stringify(t)}`);
    for (const x of Object.keys(total) as Array<keyof Tally>) total[x] += t[x];
    // Every ESP and IKE packet of the lab comes back from the text, at every verbosity.
    assert.ok(t.esp > 0 && t.ike > 0, `${k}: ${JSON.stringify(t)}`);
    assert.equal(t.esp + t.ike + t.keepalive, t.ipsec, `${k}: some IPsec packets lost in text: ${JSON.stringify(t)}`);
  }
  // ike-frag-lost sends IKE_SA_INIT in two IP fragments: the second is recognised at every verbosity.
  if (labNames.includes('ike-frag-lost')) for (const [k, t] of byFlags) assert.ok(t.laterFrag > 0, `${k}: no later fragment recognised`);
  // Message IDs from -v on, SPIs from -vv on.
  assert.equal(byFlags.get('-v')!.ikeMsgid, byFlags.get('-v')!.ike);
  assert.equal(byFlags.get('-vv')!.ikeSpi, byFlags.get('-vv')!.ike);
  // Flags from every IKE line; the lab's IKE_SA_INIT messages carry clear notifies (NAT-D, fragmentation…).
  for (const [k, t] of byFlags) assert.equal(t.ikeFlags, t.ike, k);
  assert.ok(byFlags.get('-v')!.ikeNotify > 0 && byFlags.get('-n')!.ikeNotify === 0);
});

test('plain -n text: a later IPv4 fragment ("ip-proto-17") is a fragment, not a line the importer failed to read', () => {
  const p = new TcpdumpTextParser({ baseDate: '2024-01-01' });
  const lines = [
    '07:08:21.983540 wan0  Out IP 192.168.1.2.500 > 198.51.100.2.500: isakmp: parent_sa ikev2_init[I]',
    '07:08:21.983549 wan0  Out IP 192.168.1.2 > 198.51.100.2: ip-proto-17',
    '07:08:21.983600 wan0  Out IP (tos 0x0, ttl 64, id 46257, offset 552, flags [none], proto UDP (17), length 194)',
    '    192.168.1.2 > 198.51.100.2: ip-proto-17',
    '07:08:21.983700 wan0  Out IP 192.168.1.2 > 198.51.100.2: ip-proto-99 12',
  ];
  const out: Packet[] = [];
  for (const l of lines) { const x = p.line(l); if (x) out.push(x); }
  out.push(p.end()!);
  assert.equal(out.length, 4);
  const [ike, frag, fragV, other] = out as [Packet, Packet, Packet, Packet];
  assert.equal(ike.ike?.exchange, 34);
  assert.equal(ike.ip?.frag, undefined);
  // Offset not printed: recorded as 0, like other fields plain -n leaves out.
  assert.deepEqual(frag.ip?.frag, { offset: 0, more: false });
  assert.equal(frag.ip?.proto, 17);
  assert.equal(frag.proto, 'ip');
  assert.equal(frag.sport, undefined);
  assert.deepEqual(fragV.ip?.frag, { offset: 552, more: false });
  assert.equal(fragV.ip?.id, 46257);
  assert.equal(fragV.proto, 'ip');
  // A protocol tcpdump has no printer for is shown by number too, fragment or not: nothing is assumed.
  assert.equal(other.ip?.proto, 99);
  assert.equal(other.ip?.frag, undefined);
  assert.deepEqual(p.problems, []);
});
