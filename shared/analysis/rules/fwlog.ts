// Firewall-log evidence: an NFLOG or pflog record of the test packet (or its carrier) that says
// it was dropped names the rule that did it. The record is a copy, never a checkpoint; its text
// (prefix, rule, interface) came from the capture and is quoted as data.

import { proseData } from '../../util/shell.ts';
import type { Packet } from '../../protocols/packet.ts';
import type { Tuple } from '../inner.ts';
import type { Facts } from '../facts.ts';
import type { CheckpointLabel, Finding } from '../types.ts';
import type { Side } from '../prepare.ts';
import { registerRule } from './registry.ts';

const DROP_WORD = /drop|reject|deny|block|refuse/i;

function matches(p: Packet, t: Tuple | null): boolean {
  if (t === null) return false;
  const fwd = p.src === t.src && p.dst === t.dst && (t.sport === undefined || p.sport === t.sport) && (t.dport === undefined || p.dport === t.dport);
  const rev = p.src === t.dst && p.dst === t.src && (t.dport === undefined || p.sport === t.dport) && (t.sport === undefined || p.dport === t.sport);
  return fwd || rev;
}

/** Whether the record says the packet was dropped: pflog's action, or words in the NFLOG prefix. */
export function saysDrop(p: Packet): boolean {
  const l = p.fwlog;
  if (l === undefined) return false;
  if (l.action !== undefined) return /^(block|drop|reject|deny)/i.test(l.action);
  return l.prefix !== undefined && DROP_WORD.test(l.prefix);
}

/** How the record names the rule, as quoted data. */
export function ruleName(p: Packet): string {
  const l = p.fwlog!;
  const parts: string[] = [];
  if (l.prefix !== undefined) parts.push(`log prefix "${proseData(l.prefix).replace(/"/g, '\\"')}"`);
  if (l.group !== undefined) parts.push(`NFLOG group ${l.group}`);
  if (l.rule !== undefined) parts.push(`pf rule "${proseData(l.rule).replace(/"/g, '\\"')}"`);
  if (l.action !== undefined && l.prefix === undefined) parts.push(`action "${proseData(l.action)}"`);
  if (l.ifname !== undefined) parts.push(`on "${proseData(l.ifname)}"${l.dir !== undefined ? ` ${l.dir}` : ''}`);
  return parts.join(', ') || 'an unnamed log rule';
}

function logged(f: Facts): Array<{ side: Side; p: Packet; carrier: boolean }> {
  const out: Array<{ side: Side; p: Packet; carrier: boolean }> = [];
  const carrierEnds = new Set<string>();
  for (const s of [f.A, f.B]) for (const r of s.outer) if (r.p.dport !== undefined) carrierEnds.add(`${r.p.dst}|${r.p.dport}`);
  for (const side of [f.A, f.B]) {
    for (const j of side.fwlog) {
      const p = side.input.packets.at(j);
      if (p === undefined || !saysDrop(p)) continue;
      const inner = matches(p, f.T) || matches(p, f.lanTuple);
      const carrier = !inner && p.dport !== undefined && carrierEnds.has(`${p.dst}|${p.dport}`);
      if (inner || carrier) out.push({ side, p, carrier });
    }
  }
  return out;
}

const MISSING = ['missing-a1', 'missing-a2', 'missing-b1', 'missing-b2', 'missing-a3', 'missing-a4', 'missing-b3', 'missing-b4',
  'missing-b5', 'missing-b6', 'missing-b7', 'missing-b8', 'missing-a5', 'missing-a6'] as const;

registerRule({
  id: 'fwlog-drop', sign: 'A firewall log (NFLOG prefix, pflog block) records the test packet or its carrier as dropped',
  classes: ['firewall'], host: 'the host whose log recorded it', evidence: 'the log record (rule, prefix)',
  tunnels: ['*'], overrides: MISSING,
  applies: (f) => f.A.fwlog.length + f.B.fwlog.length > 0,
  evaluate: (f) => {
    const hits = logged(f);
    if (hits.length === 0) return [];
    const x = hits[0]!;
    const host = x.side.key;
    // The verdict's checkpoint when the missing label is on the host whose log recorded the drop.
    const fm = f.firstMissing;
    const onHost = fm !== null && fm.startsWith(host);
    const cpt: CheckpointLabel | null = onHost ? fm : null;
    const what = x.carrier ? `the ${f.tunnel.name} carrier` : 'the test packet';
    const n = hits.filter((h) => h.side === x.side).length;
    const out: Finding = {
      rule: 'fwlog-drop', severity: onHost || fm === null ? 'error' : 'warning', checkpoint: cpt, host, class: 'firewall',
      title: `${host}'s firewall drops ${what}: ${ruleName(x.p)}`,
      detail: `${host}'s firewall log recorded ${what} (${proseData(x.p.summary)})${n > 1 ? ` ${n} times` : ''} under a rule that drops it: direct evidence of which rule, not a guess between firewall and routing.`,
      evidence: hits.slice(0, 4).map((h) => ({ capture: h.side.key, frame: h.p.frame })),
      next_steps: [
        `On ${host}: ${'`nft -a list ruleset`'} (or ${'`iptables-save -c`'}, ${'`pfctl -vvsr`'}) and find the rule logging with that prefix; allow the test traffic before it.`,
      ],
    };
    return [out];
  },
});
