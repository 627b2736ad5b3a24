// Shared helpers for the analysis tests: load the seed tcpdump text through the real text importer.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TcpdumpTextParser } from '../../../shared/capture-file/tcpdump-text.ts';
import type { Packet, PacketList } from '../../../shared/protocols/packet.ts';
import { loadAll, loadCompact } from '../../../shared/ingest/load-capture.ts';
import type { PacketStore } from '../../../shared/ingest/packet-store.ts';
import { parseIpLink } from '../../../shared/capture-file/links.ts';
import type { CaptureInput } from '../../../shared/analysis/index.ts';
import { l4Proto, type Tuple } from '../../../shared/analysis/inner.ts';
import { preparePair, resolveDirections, sideOf, type Side } from '../../../shared/analysis/prepare.ts';

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

/**
 * The WireGuard lab's capture sets that have SLL2 captures (TANDEM_LAB_DIR, else /tmp/tandem-lab),
 * and the reason a test skips without them (said once on stdout, naming `what`).
 */
export function labSets(what: string): { dir: string; scenarios: string[]; skip: string | false } {
  const dir = process.env.TANDEM_LAB_DIR ?? '/tmp/tandem-lab';
  const scenarios = existsSync(dir) ? readdirSync(dir).filter((s) => existsSync(join(dir, s, 'B-any.pcap'))).sort() : [];
  const skip = scenarios.length > 0 ? false : `no lab captures in ${dir} (run test/lab/lab.sh --out ${dir} all, or set TANDEM_LAB_DIR)`;
  if (skip) console.log(`# skip ${what}: ${skip}`);
  return { dir, scenarios, skip };
}

/** The strongSwan capture sets checked in with the IPsec lab (IKE, NAT-T, ESP in UDP and ESP): no root needed. */
export const IPSEC_CAPTURES = fileURLToPath(new URL('../../lab/ipsec/captures/', import.meta.url));
export const ipsecSets: string[] = existsSync(IPSEC_CAPTURES) ? readdirSync(IPSEC_CAPTURES).filter((s) => existsSync(join(IPSEC_CAPTURES, s, 'B-any.pcap'))).sort() : [];

/** One lab capture as the analysis takes it, with the host's `ip -o link` names when the file is there. */
export async function labInput(file: string, links: string): Promise<CaptureInput> {
  const linkNames = existsSync(links) ? parseIpLink(readFileSync(links, 'utf8')) : undefined;
  const r = await loadAll(new Uint8Array(readFileSync(file)), { linkNames });
  return { name: file, file, packets: r.packets, interfaces: r.interfaces, ...(linkNames !== undefined ? { links: [...linkNames.values()] } : {}) };
}

/** Both sides of lab scenario `name` under `dir`, prepared as the engine prepares them (SLL2, pcapng and tcpdump text forms). */
export async function labSides(dir: string, name: string, form: 'any' | 'pcapng' | 'txt'): Promise<[Side, Side]> {
  const d = join(dir, name);
  const f = (h: string): string => join(d, form === 'any' ? `${h}-any.pcap` : form === 'txt' ? `${h}.txt` : `${h}.pcapng`);
  const a = await labInput(f('A'), join(d, 'A-links.txt'));
  const b = await labInput(f('B'), join(d, 'B-links.txt'));
  const [pa, pb] = preparePair(a, b);
  const A = sideOf('A', a, pa), B = sideOf('B', b, pb);
  resolveDirections(A, B);
  return [A, B];
}
