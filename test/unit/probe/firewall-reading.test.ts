// Which firewall reading the probe hands to the analysis when a host answered to nft, iptables-save and
// iptables-legacy-save: the one that holds the rules in a form the evidence reader can judge.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { firewallReading } from '../../../electron/probe/index.ts';

const NFT_NATIVE = '{"nftables": [{"metainfo": {}}, {"table": {"family": "inet", "name": "filter"}}, {"rule": {"family": "inet", "table": "filter", "chain": "forward", "expr": [{"drop": null}]}}]}';
const NFT_XT = '{"nftables": [{"table": {"family": "ip", "name": "filter"}}, {"rule": {"family": "ip", "table": "filter", "chain": "FROM_TUNNEL", "expr": [{"xt": {"type": "match", "name": "multiport"}}, {"drop": null}]}}]}';
const NFT_EMPTY = '{"nftables": [{"metainfo": {"version": "1.0.9"}}]}';
const IPT_RULES = '$ iptables-save -c\n*filter\n:FORWARD ACCEPT [0:0]\n[5:300] -A FORWARD -d 192.168.200.22/32 -p tcp -j DROP\nCOMMIT\n';
const IPT_EMPTY = '$ iptables-save -c\n# Warning: iptables-legacy tables present, use iptables-legacy-save to see them\n';

function kept(files: Record<string, string>): string[] {
  const dir = mkdtempSync(join(tmpdir(), 'tdm-fw-'));
  try {
    const paths = Object.entries(files).map(([name, text]) => { const p = join(dir, name); writeFileSync(p, text); return p; });
    const aside = new Set(firewallReading(paths).map((d) => d.path));
    return paths.filter((p) => !aside.has(p)).map((p) => basename(p));
  } finally { rmSync(dir, { recursive: true, force: true }); }
}

test('nft with readable rules is kept; iptables-save of the same host set aside', () => {
  assert.deepEqual(kept({ 'nft.json': NFT_NATIVE, 'iptables.txt': IPT_EMPTY }), ['nft.json']);
  assert.deepEqual(kept({ 'nft.json': NFT_NATIVE, 'iptables.txt': IPT_RULES }), ['nft.json']);
});

test('iptables-nft rules (opaque xt matches in nft) are read from iptables-save, counters first', () => {
  assert.deepEqual(kept({ 'nft.json': NFT_XT, 'iptables.txt': IPT_RULES }), ['iptables.txt']);
  assert.deepEqual(kept({ 'nft.after.json': NFT_XT, 'iptables.after.txt': IPT_RULES }), ['iptables.after.txt']);
});

test('legacy tables: nft empty, iptables-save warns, iptables-legacy-save has the rules', () => {
  assert.deepEqual(kept({ 'nft.json': NFT_EMPTY, 'iptables.txt': IPT_EMPTY, 'iptables-legacy.txt': IPT_RULES }), ['iptables-legacy.txt']);
  // Before and after are judged apart.
  assert.deepEqual(kept({ 'nft.json': NFT_EMPTY, 'iptables.txt': IPT_EMPTY, 'iptables-legacy.txt': IPT_RULES, 'nft.after.json': NFT_EMPTY, 'iptables.after.txt': IPT_EMPTY, 'iptables-legacy.after.txt': IPT_RULES }),
    ['iptables-legacy.txt', 'iptables-legacy.after.txt']);
});

test('a single reading is never set aside', () => {
  assert.deepEqual(kept({ 'nft.json': NFT_EMPTY }), ['nft.json']);
  assert.deepEqual(kept({ 'iptables.txt': IPT_RULES, 'wg-dump.txt': 'x' }), ['iptables.txt', 'wg-dump.txt']);
});
