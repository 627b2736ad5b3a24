// Shared helpers for the analysis tests: load the seed tcpdump text through the real text importer.
import { existsSync, readFileSync } from 'node:fs';
import { TcpdumpTextParser } from '../../../shared/capture-file/tcpdump-text.ts';
import type { Packet, PacketList } from '../../../shared/protocols/packet.ts';
import { loadCompact } from '../../../shared/ingest/load-capture.ts';
import type { PacketStore } from '../../../shared/ingest/packet-store.ts';
import { parseIpLink } from '../../../shared/capture-file/links.ts';
import type { CaptureInput } from '../../../shared/analysis/index.ts';
import { l4Proto, type Tuple } from '../../../shared/analysis/inner.ts';
import type { Side } from '../../../shared/analysis/prepare.ts';

export const SEEDS = new URL('../../../../shared/reference/seed-captures/', import.meta.url);

export function parseText(text: string): Packet[] {
  const p = new TcpdumpTextParser({ baseDate: '2024-01-01' });
  const out: Packet[] = [];
  for (const line of text.split('\n')) {
    const x = p.line(line);
    if (x) out.push(x);
  }
  const last = p.end();
  if (last) out.push(last);
  return out;
}

export function seedText(name: string): string {
  return readFileSync(new URL(name, SEEDS), 'utf8');
}

export function seedInput(name: string, transform?: (lines: string[]) => string[]): CaptureInput {
  let lines = seedText(name).split('\n');
  if (transform) lines = transform(lines);
  return { name, file: name, packets: parseText(lines.join('\n')) };
}

/** label → 1-based packet number from a `.checkpoints.tsv` ground-truth file. */
export function groundTruth(name: string): Map<string, number> {
  const m = new Map<string, number>();
  for (const line of seedText(name).split('\n').slice(1)) {
    const [l, n] = line.trim().split('\t');
    if (l && n) m.set(l, Number(n));
  }
  return m;
}

/** The four input forms the lab writes for each capture set: files for A and B, and whether SLL2 needs the `ip -o link` names. */
export const LAB_FORMS = [
  { title: 'pcapng', a: 'A.pcapng', b: 'B.pcapng', links: false },
  { title: 'SLL2 + ip -o link', a: 'A-any.pcap', b: 'B-any.pcap', links: true },
  { title: 'A pcapng + B text', a: 'A.pcapng', b: 'B.txt', links: false },
  { title: 'text on both ends', a: 'A.txt', b: 'B.txt', links: false },
] as const;

/**
 * Every distinct inner tuple on a side (non-carrier packets with addresses), in the order first
 * seen; with `variants`, each also reversed, without ports, and with proto 'any'.
 */
export function innerTuples(s: Side, variants = false): Tuple[] {
  const seen = new Map<string, Tuple>();
  const add = (t: Tuple): void => { seen.set(JSON.stringify(t), t); };
  for (const r of s.recs) {
    if (r.outer !== null) continue;
    const p = r.p;
    if (p.src === undefined || p.dst === undefined) continue;
    const t: Tuple = { proto: l4Proto(p), src: p.src, dst: p.dst };
    if (p.sport !== undefined && p.icmp === undefined) { t.sport = p.sport; t.dport = p.dport; }
    add(t);
    if (!variants) continue;
    add({ proto: t.proto, src: t.dst, dst: t.src, ...(t.dport !== undefined ? { sport: t.dport, dport: t.sport } : {}) });
    add({ proto: t.proto, src: t.src, dst: t.dst });
    add({ ...t, proto: 'any' });
  }
  return [...seen.values()];
}

/** A capture file as the CLI's bulk load makes it (summary: false: the fast decoder writes the columns); `links`: an `ip -o link` file naming SLL2 interfaces. */
export async function loadStore(file: string, links?: string): Promise<PacketStore> {
  const linkNames = links !== undefined && existsSync(links) ? parseIpLink(readFileSync(links, 'utf8')) : undefined;
  return (await loadCompact(new Uint8Array(readFileSync(file)), { linkNames, summary: false })).packets as PacketStore;
}

/** The same packets behind a list that offers only `at` (the engine's generic path, without the store's bulk reads). */
export function atOnly(p: PacketList): PacketList {
  return { length: p.length, at: (i) => p.at(i), [Symbol.iterator]: () => p[Symbol.iterator]() };
}
