import { createReadStream, readFileSync } from 'node:fs';
import { loadAll } from '../shared/ingest/load-capture.ts';
import { parseIpLink } from '../shared/capture-file/links.ts';
const gc = (globalThis as any).gc;
const a = await loadAll(createReadStream('/tmp/tandem-lab/bulk/B-any.pcap'), { linkNames: parseIpLink(readFileSync('/tmp/tandem-lab/bulk/B-links.txt', 'utf8')) });
gc(); const h0 = process.memoryUsage().heapUsed;
console.log('heap', (h0 / 2 ** 20).toFixed(0), 'per packet', (h0 / a.packets.length).toFixed(0));
for (const p of a.packets) p.summary = '';
gc(); const h1 = process.memoryUsage().heapUsed;
console.log('no summary: per packet', (h1 / a.packets.length).toFixed(0));
const cache = new Map<string, string>();
for (const p of a.packets) { if (p.src) { let s = cache.get(p.src); if (!s) cache.set(p.src, s = p.src); p.src = s; } if (p.dst) { let s = cache.get(p.dst); if (!s) cache.set(p.dst, s = p.dst); p.dst = s; } }
gc(); const h2 = process.memoryUsage().heapUsed;
console.log('interned addrs: per packet', (h2 / a.packets.length).toFixed(0));
