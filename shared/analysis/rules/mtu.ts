// Path MTU black hole: data segments above some size never show up on the far end (by TCP
// sequence coverage, so GRO/TSO merging on either side does not count as loss) while smaller ones do.

import { cmd } from '../../util/shell.ts';
import { tcAt, type Rec, type Side } from '../prepare.ts';
import { Inner, type InnerList } from '../inner.ts';
import { code, ev, type Facts } from '../facts.ts';
import type { CheckpointLabel, Finding } from '../types.ts';
import { registerRule } from './registry.ts';

/**
 * Whether a range of `m` (sorted, disjoint [start, end)) holds `s`. `hint[0]`: the range the last
 * answer came from, tried first with the one after it (a flow's starts mostly ascend: the answer is
 * nearly always there), before a binary search.
 */
function covered(m: Array<[number, number]>, s: number, hint: Int32Array): boolean {
  const h = hint[0]!, n = m.length;
  if (h < n) {
    const r = m[h]!;
    if (s >= r[0]) {
      if (s < r[1]) return true;
      if (h + 1 >= n) return false;
      const q = m[h + 1]!;
      // Between range h and the next: not covered.
      if (s < q[0]) return false;
      if (s < q[1]) { hint[0] = h + 1; return true; }
    }
  }
  let lo = 0, hi = n - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const r = m[mid]!;
    if (s < r[0]) hi = mid - 1; else if (s >= r[1]) lo = mid + 1; else { hint[0] = mid; return true; }
  }
  return false;
}

/**
 * The data segments of `sent` (sent before `tEnd` less a millisecond, at a known sequence) whose
 * start `cov` does not cover: their flow positions into `lost`; sizes: [largest IP length that
 * arrived, smallest lost]. Read from the flow's columns (a bulk flow sends hundreds of thousands),
 * in a function of its own (compiled while it runs, returning rather than deoptimising after it).
 */
function sortLost(sent: InnerList, cov: Array<[number, number]>, tEnd: number, lost: number[], sizes: Float64Array): void {
  const fc = sent.fc, idx = sent.idx, plen = fc.plen, ilen = fc.ilen, ri = fc.ri, tm = fc.side.tm;
  let maxOk = 0, minLost = Infinity;
  const hint = new Int32Array(1);
  for (let j = 0; j < sent.length; j++) {
    const k = idx === null ? j : idx[j]!;
    const rel = fc.relSeq(k);
    if (plen[k] === 0 || rel < 0 || tcAt(tm, ri[k]!) > tEnd - 0.001) continue;
    if (covered(cov, rel, hint)) { if (ilen[k]! > maxOk) maxOk = ilen[k]!; } else { lost.push(k); if (ilen[k]! < minLost) minLost = ilen[k]!; }
  }
  sizes[0] = maxOk; sizes[1] = minLost;
}

function check(f: Facts, sent: InnerList, recv: InnerList, sendSide: Side, recvSide: Side, label: CheckpointLabel, dirText: string): Finding | null {
  if (sent.length === 0 || recv.length === 0) return null;
  // What arrived, as sorted, merged [start, end) sequence ranges (touching segments join).
  const cov = recv.coveredRanges();
  const tEnd = recvSide.recs.length > 0 ? recvSide.recs.at(recvSide.recs.length - 1)!.tc : -Infinity;
  const fc = sent.fc;
  const lostK: number[] = [];
  const sizes = new Float64Array(2);
  sortLost(sent, cov, tEnd, lostK, sizes);
  const maxOk = sizes[0]!, minLost = sizes[1]!;
  if (lostK.length < 2) return null;
  if (minLost <= maxOk || minLost < 500) return null;
  // The first four lost segments are the evidence.
  const lost = lostK.slice(0, 4).map((k) => new Inner(fc, k));
  const icmp: Array<{ side: Side; r: Rec }> = [];
  for (const s of [f.A, f.B]) for (const r of s.recs) {
    const ic = r.p.icmp;
    if (ic !== undefined && ((ic.v === 4 && ic.type === 3 && ic.code === 4) || (ic.v === 6 && ic.type === 2))) icmp.push({ side: s, r });
  }
  const mtus = icmp.map((x) => x.r.p.icmp?.mtu).filter((m): m is number => m !== undefined);
  return {
    rule: 'mtu-black-hole', severity: 'error', checkpoint: label, host: 'path', class: 'mtu',
    title: `Large packets vanish ${dirText}: ${lostK.length} segments of ≥ ${minLost} bytes never arrive, while packets up to ${maxOk} bytes do`,
    detail: icmp.length > 0
      ? `ICMP "fragmentation needed"/"packet too big" was seen (${mtus.length > 0 ? `next-hop MTU ${mtus.join(', ')}` : 'no MTU given'}), yet the sender kept sending large packets: the message is not reaching or not applied by the sender.`
      : 'No ICMP "fragmentation needed" (IPv4 type 3 code 4) or "packet too big" (ICMPv6 type 2) was captured: something on the path drops them — a path-MTU black hole.',
    evidence: lost.map((x) => ev(sendSide, x.rec)).concat(icmp.slice(0, 2).map((x) => ev(x.side, x.r))),
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
