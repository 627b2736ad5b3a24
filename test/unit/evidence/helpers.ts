// Fixture access for the host-evidence tests (test/fixtures/evidence: real tool output made by the
// scripts there, plus the hand-written IPsec logs in ipsec/hand/).
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { detectAndParse, addEvidence, emptyEvidence, type HostEvidence } from '../../../shared/evidence/index.ts';

export const EVID = fileURLToPath(new URL('../../fixtures/evidence/', import.meta.url));
export const fx = (rel: string): string => readFileSync(EVID + rel, 'utf8');
export const SCENARIOS = ['healthy', 'fw-drop', 'allowedips', 'no-forward', 'wrong-port', 'policy-route', 'ipt-drop'] as const;

/** One host's bundle from a scenario folder, in the order an engineer would paste them. */
export function hostOf(scenario: string, host: 'A' | 'B', withCounters = true): HostEvidence {
  const d = `wg/${scenario}/${host}/`;
  const fw = scenario === 'ipt-drop' && host === 'B' ? 'iptables' : 'nft';
  const files = ['wg-dump-after.txt', 'ip-o-addr.txt', 'ip-o-route-all.txt', 'ip-rule.txt', 'sysctl.txt'];
  if (withCounters) files.push(`before-${fw}.txt`, `after-${fw}.txt`, 'before-ip-s-link.txt', 'after-ip-s-link.txt', 'before-wg-transfer.txt', 'after-wg-transfer.txt');
  const h = emptyEvidence();
  for (const f of files) {
    const text = fx(d + f);
    if (text.trim() === '') continue;
    addEvidence(h, detectAndParse(text, f));
  }
  return h;
}
