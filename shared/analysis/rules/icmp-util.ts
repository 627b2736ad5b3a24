// ICMP errors as evidence: which ICMP error packets concern the flow under test or a carrier.

import type { Rec, Side } from '../prepare.ts';
import type { Facts } from '../facts.ts';

export function isIcmpError(ic: { v: 4 | 6; type: number }): boolean {
  return ic.v === 4 ? ic.type === 3 || ic.type === 11 : ic.type === 1 || ic.type === 2 || ic.type === 3;
}

/** ICMP errors about the flow under test (quoting it, or addressed to A's tunnel address), on either host. */
export function icmpErrorsFor(f: Facts): Array<{ side: Side; r: Rec }> {
  const out: Array<{ side: Side; r: Rec }> = [];
  const T = f.T;
  if (T === null) return out;
  for (const side of [f.B, f.A]) {
    for (const r of side.recs) {
      const ic = r.p.icmp;
      if (ic === undefined || r.outer !== null) continue;
      const isErr = ic.v === 4 ? ic.type === 3 : ic.type === 1;
      if (!isErr) continue;
      const o = ic.orig;
      const quotes = o !== undefined && o.dst === T.dst && (o.dport === undefined || T.dport === undefined || o.dport === T.dport);
      if (quotes || (o === undefined && r.p.dst === T.src)) out.push({ side, r });
    }
  }
  return out;
}

/** What an ICMP error says, in words and as a kind the rules branch on. */
export function icmpMeaning(ic: { v: 4 | 6; type: number; code: number; mtu?: number }):
  { kind: 'port' | 'host' | 'net' | 'admin' | 'frag' | 'ttl' | 'proto' | 'other'; text: string } {
  if (ic.v === 4) {
    if (ic.type === 11) return { kind: 'ttl', text: 'time exceeded (TTL expired in transit)' };
    if (ic.type === 3) {
      switch (ic.code) {
        case 0: case 6: case 11: return { kind: 'net', text: 'network unreachable' };
        case 1: case 7: case 12: return { kind: 'host', text: 'host unreachable' };
        case 2: return { kind: 'proto', text: 'protocol unreachable' };
        case 3: return { kind: 'port', text: 'port unreachable' };
        case 4: return { kind: 'frag', text: `fragmentation needed${ic.mtu !== undefined ? ` (next-hop MTU ${ic.mtu})` : ''}` };
        case 9: case 10: case 13: return { kind: 'admin', text: 'administratively prohibited' };
      }
    }
    return { kind: 'other', text: `ICMP type ${ic.type} code ${ic.code}` };
  }
  if (ic.type === 1) {
    switch (ic.code) {
      case 0: return { kind: 'net', text: 'no route to destination' };
      case 1: case 5: case 6: return { kind: 'admin', text: 'administratively prohibited' };
      case 3: return { kind: 'host', text: 'address unreachable' };
      case 4: return { kind: 'port', text: 'port unreachable' };
    }
  }
  if (ic.type === 2) return { kind: 'frag', text: `packet too big${ic.mtu !== undefined ? ` (MTU ${ic.mtu})` : ''}` };
  if (ic.type === 3) return { kind: 'ttl', text: 'hop limit exceeded' };
  return { kind: 'other', text: `ICMPv6 type ${ic.type} code ${ic.code}` };
}
