// Test helper: decode a real capture through the project's single ingest path.

import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { loadAll } from '../../../shared/ingest/load-capture.ts';
import { parseIpLink } from '../../../shared/capture-file/links.ts';
import type { Packet } from '../../../shared/protocols/packet.ts';

export const CORPUS = fileURLToPath(new URL('../../../../shared/corpus/tcpdump-tests/', import.meta.url));
export const WG_SLL2 = fileURLToPath(new URL('../protocols/fixtures/wg-sll2.pcap', import.meta.url));

const cache = new Map<string, Promise<{ packets: Packet[]; frames: Uint8Array[] }>>();

/**
 * Packets (and copied frame bytes) of a capture file; loaded once per test process.
 * A sibling `NAME.ip-link.txt` (the capture host's `ip -o link`) names SLL2 interfaces.
 */
export function packetsOf(path: string): Promise<{ packets: Packet[]; frames: Uint8Array[] }> {
  let p = cache.get(path);
  if (p === undefined) {
    const b = readFileSync(path);
    const links = path.replace(/\.pcap(ng)?$/, '.ip-link.txt');
    const linkNames = links !== path && existsSync(links) ? parseIpLink(readFileSync(links, 'utf8')) : undefined;
    p = loadAll(new Uint8Array(b.buffer, b.byteOffset, b.byteLength), { keepBytes: true, linkNames });
    cache.set(path, p);
  }
  return p;
}
