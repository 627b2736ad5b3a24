// Path MTU black hole: data segments above some size never show up on the far end (by TCP
// sequence coverage, so GRO/TSO merging on either side does not count as loss) while smaller ones do.

import { cmd } from '../../util/shell.ts';
import type { Rec, Side } from '../prepare.ts';
import type { Inner, InnerList } from '../inner.ts';
import { code, ev, type Facts } from '../facts.ts';
import type { CheckpointLabel, Finding } from '../types.ts';
import { registerRule } from './registry.ts';

function covered(m: Array<[number, number]>, s: number): boolean {
  let lo = 0, hi = m.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const [a, b] = m[mid]!;
    if (s < a) hi = mid - 1; else if (s >= b) lo = mid + 1; else return true;
  }
  return false;
}

function check(f: Facts, sent: InnerList, recv: InnerList, sendSide: Side, recvSide: Side, label: CheckpointLabel, dirText: string): Finding | null {
  if (sent.length === 0 || recv.length === 0) return null;
  // What arrived, as sorted, merged [start, end) sequence ranges (touching segments join).
  const cov = recv.coveredRanges();
  const tEnd = recvSide.recs.length > 0 ? recvSide.recs.at(recvSide.recs.length - 1)!.tc : -Infinity;
  let maxOk = 0;
  const lost: Inner[] = [];
  for (const x of sent) {
    if (x.plen === 0 || x.relSeq < 0 || x.tc > tEnd - 0.001) continue;
    if (covered(cov, x.relSeq)) { if (x.ilen > maxOk) maxOk = x.ilen; } else lost.push(x);
  }
  if (lost.length < 2) return null;
  let minLost = Infinity;
  for (const x of lost) if (x.ilen < minLost) minLost = x.ilen;
  if (minLost <= maxOk || minLost < 500) return null;
  const icmp: Array<{ side: Side; r: Rec }> = [];
  for (const s of [f.A, f.B]) for (const r of s.recs) {
    const ic = r.p.icmp;
    if (ic !== undefined && ((ic.v === 4 && ic.type === 3 && ic.code === 4) || (ic.v === 6 && ic.type === 2))) icmp.push({ side: s, r });
  }
  const mtus = icmp.map((x) => x.r.p.icmp?.mtu).filter((m): m is number => m !== undefined);
  return {
    rule: 'mtu-black-hole', severity: 'error', checkpoint: label, host: 'path', class: 'mtu',
    title: `Large packets vanish ${dirText}: ${lost.length} segments of ≥ ${minLost} bytes never arrive, while packets up to ${maxOk} bytes do`,
    detail: icmp.length > 0
      ? `ICMP "fragmentation needed"/"packet too big" was seen (${mtus.length > 0 ? `next-hop MTU ${mtus.join(', ')}` : 'no MTU given'}), yet the sender kept sending large packets: the message is not reaching or not applied by the sender.`
      : 'No ICMP "fragmentation needed" (IPv4 type 3 code 4) or "packet too big" (ICMPv6 type 2) was captured: something on the path drops them — a path-MTU black hole.',
    evidence: lost.slice(0, 4).map((x) => ev(sendSide, x.rec)).concat(icmp.slice(0, 2).map((x) => ev(x.side, x.r))),
    next_steps: [
      `Clamp the TCP MSS on the tunnel: ${code('nft add rule inet filter forward tcp flags syn tcp option maxseg size set rt mtu')}.`,
      f.tunnel.say.mtuStep(f.say),
      'Let ICMP type 3 code 4 (and ICMPv6 type 2) through every firewall on the path.',
      `Confirm: ${code(cmd`ping -M do -s 1372 ${f.T!.dst}`)} from A fails while ${code('-s 1200')} passes.`,
    ],
  };
}

registerRule({
  id: 'mtu-black-hole', sign: 'Large packets vanish while small ones pass (path MTU black hole)', classes: ['mtu'], host: 'path',
  evidence: 'the lost segments, any ICMP frag-needed/packet-too-big', tunnels: ['*'], applies: (f) => f.T !== null && f.T.proto === 'tcp',
  evaluate: (f) => {
    const out: Finding[] = [];
    const x = check(f, f.aTunOut, f.bTunIn, f.A, f.B, 'B4', 'from A to B');
    if (x !== null) out.push(x);
    const y = check(f, f.bTunOut, f.aTunIn, f.B, f.A, 'A6', 'from B to A');
    if (y !== null) out.push(y);
    return out;
  },
});
