// The in-process half of scripts/fuzz.mjs: builds case `index` of run `seed` (a byte mutant of one
// corpus capture), runs it through what `inspect` and `analyze` do with every export, and reports each
// case to the parent, which watches the time. Any exception escaping the library is a crash: the
// readers promise problems, never throws, for bad input; analysis and exports must cope with whatever
// the readers produced.
import { readFileSync, existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import MarkdownIt from 'markdown-it';
import { loadAll, loadCapture } from '../../shared/ingest/load-capture.ts';
import { packetToJson } from '../../shared/ingest/packet-json.ts';
import { analyze } from '../../shared/analysis/index.ts';
import { renderHtmlReport } from '../../shared/report/html.ts';
import { renderMarkdownReport } from '../../shared/report/markdown.ts';
import { renderJsonReport } from '../../shared/report/json.ts';
import { annotatedPcapngChunks } from '../../shared/report/pcapng-export.ts';
import { visible } from '../../shared/util/shell.ts';
import { parseNotes } from '../../shared/report/notes.ts';
import type { ReportCapture } from '../../shared/report/types.ts';
import { SEEDS, seedPcapng } from './make-fixtures.ts';

// tcpdump's test corpus sits in shared/ beside the checkout (as laid out for sessions and CI).
const CORPUS_DIR = fileURLToPath(new URL('../../../shared/corpus/tcpdump-tests/', import.meta.url));
const PROTOCOLS = new URL('../fixtures/protocols/', import.meta.url);

interface Entry { name: string; kind: 'text' | 'pcap' | 'pcapng'; bytes: Uint8Array }

/** Captures the mutants start from: the seed pair as text and as pcapng, real pcaps of the protocols Tandem decodes. */
export async function corpus(): Promise<Entry[]> {
  const out: Entry[] = [];
  for (const f of ['endpoint-a.txt', 'host-beta.txt']) out.push({ name: f, kind: 'text', bytes: readFileSync(new URL(f, SEEDS)) });
  for (const f of ['endpoint-a.txt', 'host-beta.txt']) out.push({ name: f.replace('.txt', '.pcapng'), kind: 'pcapng', bytes: await seedPcapng(f) });
  for (const f of ['encaps.pcap', 'enc.pcap', 'nflog.pcap', 'ah.pcap']) {
    const u = new URL(f, PROTOCOLS);
    if (existsSync(u)) out.push({ name: f, kind: 'pcap', bytes: readFileSync(u) });
  }
  // A few from tcpdump's own tests (IKE, ESP, pcapng sections), when that corpus is on this machine.
  for (const f of ['ISAKMP_sa_setup.pcap', 'ikev2-id-short.pcap', 'espudp1.pcap', '02-sunrise-sunset-esp.pcap', 'isis_sr.pcapng', 'bgp-orf.pcapng']) {
    const p = CORPUS_DIR + f;
    if (existsSync(p)) out.push({ name: f, kind: f.endsWith('.pcapng') ? 'pcapng' : 'pcap', bytes: readFileSync(p) });
  }
  return out;
}

/** mulberry32: small, seeded, the same sequence on every machine. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const INTERESTING32 = [0, 1, 0x7f, 0x80, 0xff, 0xffff, 0x10000, 0x40000, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff];
const TEXT_BITS = ['\x1b]0;t\x07', '\u202e', '\x00', '\n', '99999999999999999999', '4294967295', '-1', 'length 2000000000', '[|', '> ', ': ', '(', ')', 'ESP(spi=0x', 'seq ', '\r', ' '.repeat(300)];

function mutateBytes(src: Uint8Array, r: () => number): Uint8Array {
  let b = new Uint8Array(src);
  const n = 1 + Math.floor(r() * 4);
  for (let k = 0; k < n && b.length > 0; k++) {
    const at = Math.floor(r() * b.length);
    switch (Math.floor(r() * 7)) {
      case 0: b[at] = b[at]! ^ (1 << Math.floor(r() * 8)); break;
      case 1: b[at] = [0, 0xff, 0x7f, 0x80, 0x01][Math.floor(r() * 5)]!; break;
      case 2: { // a 32-bit length field, either byte order
        const v = INTERESTING32[Math.floor(r() * INTERESTING32.length)]!;
        if (at + 4 <= b.length) new DataView(b.buffer).setUint32(at, v, r() < 0.5);
        break;
      }
      case 3: b = b.slice(0, at); break; // truncate
      case 4: { // duplicate a slice
        const len = Math.min(b.length - at, 1 + Math.floor(r() * 256));
        const c = new Uint8Array(b.length + len);
        c.set(b.subarray(0, at + len)); c.set(b.subarray(at, at + len), at + len); c.set(b.subarray(at + len), at + 2 * len);
        b = c;
        break;
      }
      case 5: { // delete a slice
        const len = Math.min(b.length - at, 1 + Math.floor(r() * 64));
        const c = new Uint8Array(b.length - len);
        c.set(b.subarray(0, at)); c.set(b.subarray(at + len), at);
        b = c;
        break;
      }
      default: { // random bytes in
        const len = 1 + Math.floor(r() * 16);
        const c = new Uint8Array(b.length + len);
        c.set(b.subarray(0, at));
        for (let i = 0; i < len; i++) c[at + i] = Math.floor(r() * 256);
        c.set(b.subarray(at), at + len);
        b = c;
      }
    }
  }
  return b;
}

function mutateText(src: Uint8Array, r: () => number): Uint8Array {
  const lines = new TextDecoder().decode(src).split('\n');
  const n = 1 + Math.floor(r() * 4);
  for (let k = 0; k < n; k++) {
    const i = Math.floor(r() * lines.length);
    const l = lines[i] ?? '';
    switch (Math.floor(r() * 5)) {
      case 0: lines.splice(i, 0, l, l); break;
      case 1: lines.splice(i, 1); break;
      case 2: { const at = Math.floor(r() * (l.length + 1)); lines[i] = l.slice(0, at) + TEXT_BITS[Math.floor(r() * TEXT_BITS.length)] + l.slice(at); break; }
      case 3: lines[i] = l.replace(/\d+/, () => ['0', '4294967295', '1e300', '18446744073709551616', '-7'][Math.floor(r() * 5)]!); break;
      default: lines[i] = l.replace(/\S+/, () => (r() < 0.5 ? '<img src=x onerror=1>' : '$(id);`id`')); break;
    }
  }
  return new TextEncoder().encode(lines.join('\n'));
}

export interface FuzzCase { index: number; kind: string; name: string; bytes: Uint8Array }

/** Case `index` of run `seed`: deterministic, so any failure reproduces with --seed and --only. */
export function makeCase(entries: Entry[], seed: number, index: number): FuzzCase {
  const r = prng((seed * 0x9e3779b1 + index * 0x85ebca6b) >>> 0);
  // Each format gets a third of the cases, however many files of it the corpus has.
  const kinds = ['text', 'pcap', 'pcapng'].filter((k) => entries.some((x) => x.kind === k));
  const kind = kinds[Math.floor(r() * kinds.length)];
  const pool = entries.filter((x) => x.kind === kind);
  const e = pool[Math.floor(r() * pool.length)]!;
  const gz = r() < 0.2;
  let bytes = e.kind === 'text' && r() < 0.7 ? mutateText(e.bytes, r) : mutateBytes(e.bytes, r);
  if (gz) {
    const z = gzipSync(r() < 0.6 ? bytes : e.bytes);
    // Either a clean gzip of a mutant or a mutant of a clean gzip (corrupt or torn compressed data).
    bytes = r() < 0.5 ? new Uint8Array(z) : mutateBytes(new Uint8Array(z), r);
  }
  return { index, kind: gz ? `${e.kind}.gz` : e.kind, name: e.name, bytes };
}

/** A notes file's worth of random JSON: odd targets, numbers at the edges, hostile text. */
function randomNotes(r: () => number): unknown {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const nums = [0, 1, 2, 5, 9, -1, 1.5, 2 ** 31, 2 ** 32 - 1, 2 ** 32, 2 ** 53, 1e300, Number.MAX_SAFE_INTEGER, '3', null];
  return Array.from({ length: 1 + Math.floor(r() * 6) }, () => ({
    id: pick(['n', '', 7, undefined]),
    text: pick(['plain', TEXT_BITS.join(' '), '<img src=x onerror=1>\n# h', '', 42]),
    createdAt: pick(['2026-01-01T00:00:00Z', '\x1b[2J<b>', 5, undefined]),
    target: pick([
      undefined, { kind: 'session' }, { kind: 'packet', capture: pick(['A', 'B', 'C']), frame: pick(nums) },
      { kind: 'checkpoint', label: pick(['B5', '', '<svg onload=1>', 'x'.repeat(70)]) }, { kind: 'finding', index: pick(nums) }, { kind: 'other' },
    ]),
  }));
}

async function load(bytes: Uint8Array, name: string): Promise<ReportCapture> {
  const r = await loadAll(bytes, { keepBytes: true });
  return { name, file: name, packets: r.packets, frames: r.frames, interfaces: r.interfaces };
}

let partner: { a: ReportCapture; b: ReportCapture } | undefined;
const md = new MarkdownIt({ html: true });
const MD_OWN = new Set(['h3', 'h4', 'p', 'strong', 'em', 'code', 'ol', 'ul', 'li', 'table', 'thead', 'tbody', 'tr', 'th', 'td', 'blockquote', 'sub', 'br']);

/** One case: inspect's path (every packet as JSON and as a visible line), then every second case analyze + every export. */
export async function runCase(entries: Entry[], c: FuzzCase): Promise<string> {
  let outcome = 'complete';
  const it = loadCapture(c.bytes, {});
  for (;;) {
    const step = await it.next();
    if (step.done) {
      const fatal = step.value.problems.find((p) => p.fatal);
      if (fatal) { outcome = 'damaged'; visible(fatal.message); }
      break;
    }
    for (const p of step.value.packets) { JSON.stringify(packetToJson(p)); visible(p.summary); }
  }
  if (c.index % 2 === 0) {
    partner ??= { a: await load(new Uint8Array(readFileSync(new URL('endpoint-a.txt', SEEDS))), 'a.txt'), b: await load(new Uint8Array(readFileSync(new URL('host-beta.txt', SEEDS))), 'b.txt') };
    const m = await load(c.bytes, c.name);
    const [a, b] = c.index % 4 === 0 ? [m, partner.b] : [partner.a, m];
    const result = analyze(a, b, {});
    // Every other analysed case also carries notes read from random JSON (what --notes would accept).
    const notes = c.index % 4 === 2 ? parseNotes(randomNotes(prng(c.index))).notes : [];
    const input = { a, b, result, notes, toolVersion: 'fuzz', generatedAt: '2026-01-01T00:00:00Z' };
    renderHtmlReport(input);
    // The Markdown, rendered as a tracker would (raw HTML on), makes only the report's own elements.
    const html = md.render(renderMarkdownReport(input));
    for (const m of html.matchAll(/<\/?([A-Za-z][\w-]*)([^>]*)>/g)) {
      if (!MD_OWN.has(m[1]!.toLowerCase()) || m[2]!.trim() !== '') throw new Error(`Markdown report renders markup from data: ${m[0].slice(0, 80)}`);
    }
    renderJsonReport(input);
    let size = 0;
    for (const chunk of annotatedPcapngChunks(input, {})) size += chunk.length;
    if (size > 256 * 1024 * 1024) throw new Error(`pcapng export of ${size} bytes from a ${c.bytes.length}-byte input`);
    outcome += '+analyzed';
  }
  return outcome;
}

process.on('message', (m: { seed: number; from: number; to: number; deadline: number; write?: { seed: number; count: number; dir: string } }) => {
  void (async () => {
    const entries = await corpus();
    if (m.write) {
      const files: string[] = [];
      for (let i = 0; i < m.write.count; i++) {
        // A separate index range from the in-process cases, so the sample adds coverage.
        const c = makeCase(entries, m.write.seed, 1_000_000 + i);
        const f = join(m.write.dir, `m${i}-${c.name.replace(/[^\w.-]/g, '_')}${c.kind.endsWith('.gz') ? '.gz' : ''}`);
        writeFileSync(f, c.bytes);
        files.push(f);
      }
      process.send!({ type: 'written', files });
      return;
    }
    for (let i = m.from; i < m.to && Date.now() < m.deadline; i++) {
      process.send!({ type: 'start', index: i });
      const c = makeCase(entries, m.seed, i);
      const t0 = performance.now();
      let error: string | undefined, outcome = 'crash';
      try {
        // Self-test of the harness (fuzz.test.ts): a planted crash or hang must be reported.
        if (process.env.TANDEM_FUZZ_PLANT === 'crash' && i === 3) throw new Error('planted crash');
        if (process.env.TANDEM_FUZZ_PLANT === 'hang' && i === 3) for (;;) { /* planted hang */ }
        outcome = await runCase(entries, c);
      } catch (e) { error = `${c.kind} from ${c.name}: ${e instanceof Error ? e.stack?.split('\n').slice(0, 3).join(' | ') : String(e)}`; }
      process.send!({ type: 'done', index: i, kind: c.kind, outcome, error, ms: performance.now() - t0, rss: process.memoryUsage().rss });
    }
    process.disconnect();
  })();
});
