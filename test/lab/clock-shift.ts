// Gives a capture a different clock: every packet time t becomes
//   t + offset + skew·(t − ref)
// so B's copy reads as if its clock were `offset` seconds ahead of A's at `ref` and ran `skew` ppm fast.
// Works on the raw bytes of pcap (µs or ns) and pcapng (any if_tsresol, with if_tsoffset) and changes
// nothing but the timestamps, so the copy keeps its format (an SLL2 pcap stays an SLL2 pcap).
//
// CLI: node --import tsx test/lab/clock-shift.ts [--offset S] [--skew-ppm P] (--ref UNIX_S | --ref-from FILE) IN OUT
import { readFileSync, writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

export interface Shift {
  /** Seconds added at the reference instant. */
  offsetNs: bigint;
  /** Parts per million; positive: the shifted clock runs fast. */
  skewPpm: number;
  /** Reference instant, ns since the Unix epoch. */
  refNs: bigint;
}

/** Parses a decimal seconds string ("1795313678.161808960", "-12.25") into exact nanoseconds. */
export function secondsToNs(s: string): bigint {
  const m = /^([+-]?)(\d*)(?:\.(\d{0,9})\d*)?$/.exec(s.trim());
  if (!m || (m[2] === '' && (m[3] ?? '') === '')) throw new Error(`not a number of seconds: ${s}`);
  const ns = BigInt(m[2] || '0') * 1_000_000_000n + BigInt((m[3] ?? '').padEnd(9, '0'));
  return m[1] === '-' ? -ns : ns;
}

export function nsToSeconds(ns: bigint): string {
  const neg = ns < 0n;
  const a = neg ? -ns : ns;
  return `${neg ? '-' : ''}${a / 1_000_000_000n}.${(a % 1_000_000_000n).toString().padStart(9, '0')}`;
}

function divRound(n: bigint, d: bigint): bigint {
  // Round half away from zero; d > 0.
  return n >= 0n ? (n + d / 2n) / d : -((-n + d / 2n) / d);
}

/** How one interface counts time: units per second and the if_tsoffset in seconds. */
interface Clock { perSec: bigint; offsetSec: bigint }

function toNs(units: bigint, c: Clock): bigint {
  return c.offsetSec * 1_000_000_000n + (c.perSec === 1_000_000_000n ? units : divRound(units * 1_000_000_000n, c.perSec));
}

function fromNs(ns: bigint, c: Clock): bigint {
  const rel = ns - c.offsetSec * 1_000_000_000n;
  return c.perSec === 1_000_000_000n ? rel : divRound(rel * c.perSec, 1_000_000_000n);
}

function apply(ns: bigint, s: Shift): bigint {
  // The skew term is at most a few ms: a double is exact enough for it.
  const drift = Math.round((s.skewPpm * Number(ns - s.refNs)) / 1e6);
  return ns + s.offsetNs + BigInt(drift);
}

/** Visits every packet timestamp of a pcap or pcapng buffer; `edit` may return a replacement (ns). */
export function walkTimestamps(bytes: Uint8Array, edit: (ns: bigint) => bigint | void): void {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magicBE = dv.getUint32(0, false);
  if (magicBE === 0x0a0d0d0a) { walkPcapng(dv, edit); return; }
  const pcapMagics: Record<number, [boolean, bigint]> = {
    0xa1b2c3d4: [false, 1_000_000n], 0xd4c3b2a1: [true, 1_000_000n],
    0xa1b23c4d: [false, 1_000_000_000n], 0x4d3cb2a1: [true, 1_000_000_000n],
  };
  const pm = pcapMagics[magicBE];
  if (!pm) throw new Error('neither pcap nor pcapng');
  const [le, perSec] = pm;
  const c: Clock = { perSec, offsetSec: 0n };
  for (let at = 24; at + 16 <= dv.byteLength;) {
    const sec = BigInt(dv.getUint32(at, le));
    const frac = BigInt(dv.getUint32(at + 4, le));
    const caplen = dv.getUint32(at + 8, le);
    const r = edit(sec * 1_000_000_000n + (perSec === 1_000_000n ? frac * 1000n : frac));
    if (r !== undefined) {
      const u = fromNs(r, c);
      dv.setUint32(at, Number(u / perSec), le);
      dv.setUint32(at + 4, Number(u % perSec), le);
    }
    at += 16 + caplen;
  }
}

function walkPcapng(dv: DataView, edit: (ns: bigint) => bigint | void): void {
  let le = true;
  let clocks: Clock[] = [];
  const get64 = (at: number): bigint => (BigInt(dv.getUint32(at, le)) << 32n) | BigInt(dv.getUint32(at + 4, le));
  const set64 = (at: number, v: bigint): void => {
    dv.setUint32(at, Number((v >> 32n) & 0xffffffffn), le);
    dv.setUint32(at + 4, Number(v & 0xffffffffn), le);
  };
  const shift64 = (at: number, c: Clock | undefined): void => {
    if (!c) return;
    const r = edit(toNs(get64(at), c));
    if (r !== undefined) set64(at, fromNs(r, c));
  };
  for (let at = 0; at + 12 <= dv.byteLength;) {
    let type = dv.getUint32(at, le);
    if (type === 0x0a0d0d0a) {
      le = dv.getUint32(at + 8, true) === 0x1a2b3c4d;
      type = 0x0a0d0d0a;
      clocks = [];
    }
    const len = dv.getUint32(at + 4, le);
    if (len < 12 || at + len > dv.byteLength) break;
    if (type === 1) {
      const c: Clock = { perSec: 1_000_000n, offsetSec: 0n };
      for (let o = at + 16; o + 4 <= at + len - 4;) {
        const code = dv.getUint16(o, le);
        const olen = dv.getUint16(o + 2, le);
        if (code === 0) break;
        if (code === 9 && olen >= 1) {
          const r = dv.getUint8(o + 4);
          c.perSec = r & 0x80 ? 1n << BigInt(r & 0x7f) : 10n ** BigInt(r & 0x7f);
        } else if (code === 14 && olen === 8) {
          c.offsetSec = dv.getBigInt64(o + 4, le);
        }
        o += 4 + ((olen + 3) & ~3);
      }
      clocks.push(c);
    } else if (type === 6) {
      shift64(at + 12, clocks[dv.getUint32(at + 8, le)]);
    }
    // Interface statistics blocks (type 5) are left alone: dumpcap writes their times in µs whatever
    // if_tsresol says, so they cannot be shifted reliably, and they are not packets.
    at += len;
  }
}

/** A shifted copy of a capture file's bytes. */
export function shiftCapture(bytes: Uint8Array, s: Shift): Uint8Array {
  const out = bytes.slice();
  walkTimestamps(out, (ns) => apply(ns, s));
  return out;
}

/** Earliest packet time in a capture, ns since the epoch (null when it has no packets). */
export function firstPacketNs(bytes: Uint8Array): bigint | null {
  let min: bigint | null = null;
  walkTimestamps(bytes, (ns) => { if (min === null || ns < min) min = ns; });
  return min;
}

function main(argv: string[]): void {
  let offset = '0';
  let skew = 0;
  let ref: bigint | null = null;
  const files: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--offset') offset = argv[++i]!;
    else if (a === '--skew-ppm') skew = Number(argv[++i]);
    else if (a === '--ref') ref = secondsToNs(argv[++i]!);
    else if (a === '--ref-from') ref = firstPacketNs(readFileSync(argv[++i]!));
    else files.push(a);
  }
  if (files.length !== 2 || !Number.isFinite(skew)) {
    process.stderr.write('usage: clock-shift.ts [--offset S] [--skew-ppm P] (--ref UNIX_S | --ref-from FILE) IN OUT\n');
    process.exit(2);
  }
  const input = readFileSync(files[0]!);
  const refNs = ref ?? firstPacketNs(input) ?? 0n;
  writeFileSync(files[1]!, shiftCapture(input, { offsetNs: secondsToNs(offset), skewPpm: skew, refNs }));
  process.stdout.write(JSON.stringify({ ref_s: nsToSeconds(refNs), offset_s: Number(offset), skew_ppm: skew }) + '\n');
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) main(process.argv.slice(2));
