// Link types that carry a bare IP packet (101 RAW and its old numbers 12/14, 228 IPv4, 229 IPv6)
// and BSD loopback (0 NULL in the writer's byte order, 108 LOOP in network order).

import { byEthertype, registerLinktype, type Ctx } from './registry.ts';

function byVersion(c: Ctx, off: number, end: number): boolean {
  c.p.proto = 'raw';
  if (end - off < 1) {
    c.trunc('IP');
    return true;
  }
  const v = c.u8(off) >> 4;
  if (c.t) c.t.layer('raw', 'Raw packet data', off, 0);
  if (v === 4) return byEthertype(c, 0x0800, off, end) || true;
  if (v === 6) return byEthertype(c, 0x86dd, off, end) || true;
  c.info = 'IP version ' + v + ', length ' + (end - off);
  return true;
}

const onlyV4: (c: Ctx, off: number, end: number) => boolean = (c, off, end) => {
  c.p.proto = 'raw';
  return byEthertype(c, 0x0800, off, end) || true;
};
const onlyV6: (c: Ctx, off: number, end: number) => boolean = (c, off, end) => {
  c.p.proto = 'raw';
  return byEthertype(c, 0x86dd, off, end) || true;
};

/** Address family numbers of AF_INET6 differ between systems (Linux 10, BSDs 24/28/30). */
function dissectNull(c: Ctx, off: number, end: number): boolean {
  c.p.proto = 'null';
  if (end - off < 4) {
    c.trunc('NULL');
    return true;
  }
  // The family is a host-order u32: whichever reading is small is the right one.
  const be = c.u32(off);
  const le = c.u32le(off);
  const fam = be < 0x10000 ? be : le;
  if (c.t) {
    c.t.layer('null', 'Null/Loopback', off, 4);
    c.t.add('null.family', 'Family: ' + fam, fam, off, 4);
  }
  if (fam === 2) return byEthertype(c, 0x0800, off + 4, end) || true;
  if (fam === 10 || fam === 24 || fam === 28 || fam === 30) return byEthertype(c, 0x86dd, off + 4, end) || true;
  c.info = 'AF ' + fam + ', length ' + (end - off);
  return true;
}

registerLinktype(101, byVersion);
registerLinktype(12, byVersion);
registerLinktype(14, byVersion);
registerLinktype(228, onlyV4);
registerLinktype(229, onlyV6);
registerLinktype(0, dissectNull);
registerLinktype(108, dissectNull);
