// Hostile capture files through the built CLI (`bin/tandem inspect` and `analyze`): each must end in
// bounded time and memory with at most one error line naming the file and the byte, every packet before
// the damage printed. Peak RSS (GNU time) is held to the file size (nothing is allocated because a header
// claims it); time only to a hang guard, with tcpdump's time on the same file printed beside it.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import * as g from './hostile-gen.ts';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const BIN = join(ROOT, 'bin/tandem');
const BUILT = existsSync(join(ROOT, 'out/cli/tandem.mjs'));
const GNU_TIME = '/usr/bin/time';
const HAVE_TIME = spawnSync(GNU_TIME, ['-f', '%e', 'true'], { stdio: 'ignore' }).status === 0;
const HAVE_TCPDUMP = spawnSync('tcpdump', ['--version'], { stdio: 'ignore' }).status === 0;
const skip = !BUILT ? 'the CLI is not built (npm run build:node)' : !HAVE_TIME ? 'GNU time (/usr/bin/time) is missing' : false;

const MiB = 1024 * 1024;

interface Run { status: number; stdout: string; stderr: string; sec: number; rssKiB: number }

/** Runs a command under GNU time: wall seconds and peak RSS come from time's own report file. */
function timed(cmd: string, args: string[], dir: string): Run {
  const report = join(dir, 'time.txt');
  const r = spawnSync(GNU_TIME, ['-f', '%e %M', '-o', report, cmd, ...args], { encoding: 'utf8', maxBuffer: 512 * MiB });
  const [sec, rss] = readFileSync(report, 'utf8').trim().split('\n').at(-1)!.split(' ').map(Number);
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr, sec: sec!, rssKiB: rss! };
}

interface Case {
  name: string;
  /** Writes the file; returns its path. */
  make(dir: string): string;
  /** Packets inspect must print. */
  packets: number;
  /** The fatal problem's line (after "error: NAME: "), or null for a complete read. */
  error: RegExp | null;
  /** tcpdump can read it (at least up to the damage): time is compared with tcpdump's. */
  tcpdump?: boolean;
  /** Peak RSS allowed per byte of file above the constant (default 3). */
  rssPerByte?: number;
}

function file(dir: string, name: string, parts: Parameters<typeof g.writeParts>[1]): string {
  const p = join(dir, name);
  g.writeParts(p, parts);
  return p;
}

const CASES: Case[] = [
  { name: 'pcapng-dsb-64MiB.pcapng', packets: 200, error: null, tcpdump: true, rssPerByte: 0.25,
    make: (d) => file(d, 'pcapng-dsb-64MiB.pcapng', [g.section(100), g.block(0x0a, Buffer.alloc(64 * MiB, 0x41)), ...g.epbs(100, true, 100)]) },
  { name: 'pcapng-custom-64MiB-BE.pcapng', packets: 200, error: null, tcpdump: true, rssPerByte: 0.25,
    make: (d) => file(d, 'pcapng-custom-64MiB-BE.pcapng', [g.section(100, false), g.block(0x40000bad, Buffer.alloc(64 * MiB, 0x42), false), ...g.epbs(100, false, 100)]) },
  { name: 'pcapng-comments-50MiB.pcapng', packets: 11, error: null, tcpdump: true,
    make: (d) => {
      const many = Array(800).fill(g.opt(1, Buffer.alloc(65532, 0x61)));
      return file(d, 'pcapng-comments-50MiB.pcapng', [g.shb(true, many), g.idb(), g.epb(true, 0, 1_700_000_000_000_000, g.udp(), many), ...g.epbs(10, true, 1)]);
    } },
  { name: 'pcapng-total-7ffffff0.pcapng', packets: 1000, error: /^bad block length 2147483632 \(block type 0x6\) at byte 64048$/, tcpdump: true,
    make: (d) => { const b = Buffer.from(g.epb()); b.writeUInt32LE(0x7ffffff0, 4); return file(d, 'pcapng-total-7ffffff0.pcapng', [g.section(1000), b, ...g.epbs(5)]); } },
  { name: 'pcapng-claims-120MiB.pcapng', packets: 1000, error: /^truncated block \(needs 125829120 bytes, \d+ left\) at byte 64048$/, tcpdump: true,
    make: (d) => { const b = Buffer.from(g.epb()); b.writeUInt32LE(120 * MiB, 4); return file(d, 'pcapng-claims-120MiB.pcapng', [g.section(1000), b, ...g.epbs(50)]); } },
  { name: 'pcapng-trailer-mismatch-BE.pcapng', packets: 3, error: /^block length 64 does not match its trailing copy 999 at byte \d+$/, tcpdump: true,
    make: (d) => file(d, 'pcapng-trailer-mismatch-BE.pcapng', [g.section(3, false), g.block(6, g.epb(false).subarray(8, -4), false, { trailer: 999 }), ...g.epbs(3, false)]) },
  { name: 'pcapng-idb-flood.pcapng', packets: 10000, error: /^more than 10000 interface descriptions .* at byte \d+$/,
    make: (d) => {
      const parts: Buffer[] = [g.shb()];
      for (let i = 0; i < 30_000; i++) parts.push(g.idb(), g.epb(true, i, 1_700_000_000_000_000 + i, g.udp(i)));
      return file(d, 'pcapng-idb-flood.pcapng', parts);
    } },
  { name: 'pcapng-100k-options.pcapng', packets: 5, error: null, tcpdump: true,
    make: (d) => file(d, 'pcapng-100k-options.pcapng', [g.shb(), g.idb(true, Array(100_000).fill(g.opt(3, Buffer.from('descr')))), ...g.epbs(5)]) },
  { name: 'pcapng-tsoffset-huge.pcapng', packets: 5, error: null,
    make: (d) => file(d, 'pcapng-tsoffset-huge.pcapng', [g.shb(), g.idb(true, [g.opt(14, g.i64(9_000_000_000_000_000_000n))]), ...g.epbs(5)]) },
  { name: 'pcapng-spb-first.pcapng', packets: 0, error: /^simple packet block before any interface description at byte 28$/, tcpdump: true,
    make: (d) => file(d, 'pcapng-spb-first.pcapng', [g.shb(), g.spb(), g.idb(), ...g.epbs(3)]) },
  { name: 'pcap-caplen-300k-BE.pcap', packets: 2000, error: /^bad packet record: caplen 300000 is larger than any plausible snapshot length at byte 96024$/, tcpdump: true,
    make: (d) => file(d, 'pcap-caplen-300k-BE.pcap', [g.pcapHeader(false), ...g.records(2000, false), g.record(false, 1, 0, g.udp(), 300_000, 300_000), ...g.records(5, false)]) },
  { name: 'pcap-ns-snaplen-max-16MiB-records.pcap', packets: 4, error: /^truncated packet record \(needs 16777216 bytes of data, 100 left\) at byte \d+$/, tcpdump: true,
    make: (d) => {
      const big = g.record(true, 1_700_000_000, 5, Buffer.alloc(16 * MiB, 0x45));
      return file(d, 'pcap-ns-snaplen-max-16MiB-records.pcap', [g.pcapHeader(true, true, 0xffffffff), ...g.records(2), big, big, g.record(true, 1, 0, Buffer.alloc(100), 16 * MiB, 16 * MiB)]);
    } },
  { name: 'pcap-header-cut.pcap', packets: 2000, error: /^truncated packet record header \(8 of 16 bytes\) at byte 96024$/, tcpdump: true,
    make: (d) => file(d, 'pcap-header-cut.pcap', [g.pcapHeader(), ...g.records(2000), g.record().subarray(0, 8)]) },
  { name: 'gzip-members.pcap.gz', packets: 8000, error: null,
    make: (d) => {
      const plain = Buffer.concat([g.pcapHeader(), ...g.records(8000)]);
      return file(d, 'gzip-members.pcap.gz', [0, 1, 2, 3].map((i) => gzipSync(plain.subarray(i * 96_006, (i + 1) * 96_006))));
    } },
  { name: 'gzip-bad-crc-middle.pcap.gz', packets: -1, error: /^compressed data ends early or is corrupt \(.*\) at byte \d+$/,
    make: (d) => {
      const plain = Buffer.concat([g.pcapHeader(), ...g.records(8000)]);
      const m = [0, 1, 2].map((i) => Buffer.from(gzipSync(plain.subarray(i * 128_008, (i + 1) * 128_008))));
      m[1]![m[1]!.length - 8]! ^= 0x10;
      return file(d, 'gzip-bad-crc-middle.pcap.gz', m);
    } },
  { name: 'gzip-of-gzip.pcapng.gz', packets: 0, error: /^gzip inside gzip \(compressed twice\): gunzip it once, then open the result at byte 0$/,
    make: (d) => file(d, 'gzip-of-gzip.pcapng.gz', [gzipSync(gzipSync(g.section(10)))]) },
  { name: 'text-200MiB-no-newline.txt', packets: 0, error: /^no tcpdump packet line recognised; .* at byte 0$/,
    make: (d) => file(d, 'text-200MiB-no-newline.txt', [{ repeat: 200 * MiB, byte: 0x61 }]) },
  { name: 'text-10MiB-line.txt', packets: 200, error: null,
    make: (d) => file(d, 'text-10MiB-line.txt', [g.textLines(100), { repeat: 10 * MiB, byte: 0x62 }, '\n', g.textLines(100, 100)]) },
  { name: 'text-million-blank.txt', packets: 20, error: null,
    make: (d) => file(d, 'text-million-blank.txt', [g.textLines(10), '\n'.repeat(1_000_000), g.textLines(10, 10)]) },
  { name: 'text-cr-only.txt', packets: 500, error: null,
    make: (d) => file(d, 'text-cr-only.txt', [g.textLines(500).replace(/\n/g, '\r')]) },
  { name: 'text-nul-bad-utf8.txt', packets: 100, error: null,
    make: (d) => file(d, 'text-nul-bad-utf8.txt', [g.textLines(50), Buffer.from([0, 0xff, 0xfe, 0x0a]), g.textLines(50, 50)]) },
];

test('hostile files through `tandem inspect` and `analyze`: bounded time and memory, one error line, packets before the damage kept', { skip }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'tandem-hostile-'));
  try {
    const ok = file(dir, 'ok.pcapng', [g.section(10)]);
    const base = timed(BIN, ['inspect', ok], dir);
    assert.equal(base.status, 0);
    // Node alone holds ~50 MiB here and a plain 10k-packet listing ~70 MiB (V8's heap growing), so the
    // constant is on top of what a tiny read costs rather than a bare 64 MiB.
    const rssFloor = Math.max(64 * 1024, base.rssKiB + 32 * 1024);
    const rows: string[] = [`baseline inspect of a 10-packet file: ${base.sec.toFixed(2)} s, ${(base.rssKiB / 1024).toFixed(0)} MiB`];
    for (const c of CASES) {
      const path = c.make(dir);
      const size = statSync(path).size;
      const r = timed(BIN, ['inspect', path], dir);
      const name = c.name;
      const errors = r.stderr.split('\n').filter((l) => l.startsWith('error:'));
      assert.doesNotMatch(r.stderr, /\n\s+at |TypeError|RangeError|NaN|Infinity|Invalid Date/, `${name}: no stack trace or broken number`);
      assert.doesNotMatch(r.stdout, /NaN|Infinity|Invalid/, `${name}: no broken time in the listing`);
      if (c.error) {
        assert.equal(r.status, 1, `${name}: exit 1 (${r.stderr})`);
        assert.equal(errors.length, 1, `${name}: one error line: ${r.stderr}`);
        const prefix = `error: ${name}: `;
        assert.ok(errors[0]!.startsWith(prefix), errors[0]);
        assert.match(errors[0]!.slice(prefix.length), c.error);
      } else {
        assert.equal(r.status, 0, `${name}: ${r.stderr}`);
        assert.equal(errors.length, 0);
      }
      const printed = r.stdout === '' ? 0 : r.stdout.trimEnd().split('\n').length;
      if (c.packets >= 0) assert.equal(printed, c.packets, `${name}: packets printed`);
      else assert.ok(printed > 0, `${name}: packets before the damage printed`);

      // Speed is a benchmark's business; here only a hang guard (a loop that never ends, or a cost that
      // grows with the square of a count, takes minutes on these files). tcpdump's time is printed beside.
      let ref = '';
      if (c.tcpdump && HAVE_TCPDUMP) {
        const t = timed('tcpdump', ['-n', '-r', path], dir);
        ref = `, tcpdump ${t.sec.toFixed(2)} s (${(r.sec / Math.max(t.sec, 0.01)).toFixed(0)}x)`;
      }
      const budget = 30;
      const rssLimit = rssFloor + ((c.rssPerByte ?? 3) * size) / 1024;
      rows.push(`${name}: ${(size / MiB).toFixed(1)} MiB, ${printed} packets, ${r.sec.toFixed(2)} s${ref}, RSS ${(r.rssKiB / 1024).toFixed(0)} MiB (limit ${(rssLimit / 1024).toFixed(0)})${errors[0] ? ' | ' + errors[0] : ''}`);
      assert.ok(r.sec <= budget, `${name}: ${r.sec} s > ${budget.toFixed(2)} s`);
      assert.ok(r.rssKiB <= rssLimit, `${name}: RSS ${r.rssKiB} KiB > ${rssLimit.toFixed(0)} KiB`);

      // analyze, with the hostile file as A: it warns once and analyses what was read; never a crash.
      if (size < 100 * MiB) {
        const a = timed(BIN, ['analyze', path, ok], dir);
        assert.ok(a.status === 0 || a.status === 1, `${name}: analyze exit ${a.status}: ${a.stderr}`);
        assert.doesNotMatch(a.stderr, /\n\s+at |TypeError|RangeError/, `${name}: analyze stderr`);
        assert.doesNotMatch(a.stdout, /NaN|Invalid Date/, `${name}: analyze output`);
        const warned = a.stderr.split('\n').filter((l) => l.startsWith(`warning: ${name}: `));
        assert.equal(warned.length, c.error ? 1 : 0, `${name}: analyze warns once: ${a.stderr}`);
        assert.ok(a.rssKiB <= rssLimit + 64 * 1024, `${name}: analyze RSS ${a.rssKiB} KiB`);
        rows.push(`  analyze: ${a.sec.toFixed(2)} s, RSS ${(a.rssKiB / 1024).toFixed(0)} MiB`);
      }
      rmSync(path);
    }
    console.log(rows.join('\n'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
