// MPLS label stacks (ethertypes 0x8847/0x8848, MPLS-in-UDP on 6635): labels are skipped to the bottom
// of the stack and the payload is guessed from its first nibble, as tcpdump and tshark do.

import { byEthertype, MAX_NEST, registerEthertype, registerUdpPort, type Ctx } from './registry.ts';

function dissectMpls(c: Ctx, off: number, end: number): boolean {
  const p = c.p;
  p.proto = 'mpls';
  const labels: number[] = [];
  let o = off;
  for (;;) {
    if (end - o < 4) {
      c.info = 'MPLS';
      c.trunc('MPLS');
      return true;
    }
    const w = c.u32(o);
    labels.push(w >>> 12);
    if (c.t) c.t.add('mpls.label', 'MPLS Label: ' + (w >>> 12) + ', TTL: ' + (w & 0xff), w >>> 12, o, 4);
    o += 4;
    if (w & 0x100) break;
    // A label stack with no bottom in sight is crafted: stop at the same bound as other nesting.
    if (labels.length >= MAX_NEST) {
      c.info = 'MPLS (label ' + labels.join(', label ') + ', …)';
      c.tooDeep();
      return true;
    }
  }
  c.info = 'MPLS (label ' + labels.join(', label ') + ')';
  const v = o < end ? c.d[o]! >> 4 : 0;
  if (v === 4 || v === 6) {
    if (c.beginInner('mpls')) byEthertype(c, v === 4 ? 0x0800 : 0x86dd, o, end);
  }
  return true;
}

function mplsLayer(c: Ctx, off: number, end: number): boolean {
  if (c.t) c.t.layer('mpls', 'MultiProtocol Label Switching Header', off, 0);
  return dissectMpls(c, off, end);
}

registerEthertype(0x8847, mplsLayer);
registerEthertype(0x8848, mplsLayer);
registerUdpPort(6635, (c, off, end) => end - off >= 4 && mplsLayer(c, off, end));
