// LINKTYPE_NFLOG (239): what `tcpdump -i nflog:N` records from Linux netfilter `log group N` rules
// (nftables and iptables NFLOG). A 4-byte header (family, version, resource id = the group, in
// network order) is followed by TLVs whose length and type are in the capturing host's byte order
// (libpcap writes them as the kernel gave them), each padded to 4 bytes; the values themselves are
// netlink attributes in network order. The payload TLV holds the logged IP packet; the prefix TLV
// the rule's `log prefix`, which is capture data like any other (kept as text, never trusted).

import { byEthertype, registerLinktype, type Ctx } from './registry.ts';
import { cString } from './fields.ts';
import type { FirewallLogInfo } from './packet.ts';

const T_PACKET_HDR = 1;
const T_INDEV = 4;
const T_OUTDEV = 5;
const T_PAYLOAD = 9;
const T_PREFIX = 10;
const T_UID = 11;
const T_GID = 14;
/** Longest prefix kept: the kernel allows 64 bytes, a crafted file anything. */
const PREFIX_MAX = 128;
const HOOKS = ['prerouting', 'input', 'forward', 'output', 'postrouting'];
/** More TLVs than netfilter defines (about 20) is a crafted record: stop there. */
const TLV_MAX = 64;

const TLV_NAMES: Record<number, string> = {
  1: 'packet header', 2: 'mark', 3: 'timestamp', 4: 'input device', 5: 'output device', 6: 'physical input device',
  7: 'physical output device', 8: 'hardware address', 9: 'payload', 10: 'prefix', 11: 'uid', 12: 'sequence',
  13: 'global sequence', 14: 'gid', 15: 'hardware type', 16: 'hardware header', 17: 'hardware header length',
};

/** What the prefix says the rule did, in pf's words, only when it says it plainly. */
function actionOf(prefix: string): string | undefined {
  if (/\b(drop(ped)?|den(y|ied)|block(ed)?)\b/i.test(prefix)) return 'block';
  if (/\breject(ed)?\b/i.test(prefix)) return 'reject';
  if (/\b(accept(ed)?|allow(ed)?|pass(ed)?)\b/i.test(prefix)) return 'pass';
  return undefined;
}

function dissectNflog(c: Ctx, off: number, end: number): boolean {
  const p = c.p;
  p.proto = 'nflog';
  const d = c.d;
  if (end - off < 4) {
    // Even a cut record came from the log, not from a path: keep the mark.
    p.fwlog = { source: 'nflog' };
    c.trunc('NFLOG');
    return true;
  }
  const family = d[off]!;
  const version = d[off + 1]!;
  const group = c.u16(off + 2);
  const fw: FirewallLogInfo = { source: 'nflog', group };
  p.fwlog = fw;
  const t = c.t;
  if (t) {
    t.layer('nflog', 'Linux Netfilter NFLOG, group ' + group, off, end - off);
    t.add('nflog.family', 'Family: ' + family, family, off, 1);
    t.add('nflog.version', 'Version: ' + version, version, off + 1, 1);
    t.add('nflog.res_id', 'Resource id: ' + group, group, off + 2, 2);
  }
  let o = off + 4;
  // The byte order of the TLV headers: the one under which the first TLV fits the record.
  let le = true;
  if (end - o >= 4) {
    const lenLe = d[o]! | (d[o + 1]! << 8);
    const lenBe = (d[o]! << 8) | d[o + 1]!;
    if (!(lenLe >= 4 && o + lenLe <= end) && lenBe >= 4 && o + lenBe <= end) le = false;
  }
  let payStart = -1;
  let payEnd = -1;
  for (let n = 0; end - o >= 4; n++) {
    if (n >= TLV_MAX) {
      c.tooDeep();
      break;
    }
    const len = le ? d[o]! | (d[o + 1]! << 8) : (d[o]! << 8) | d[o + 1]!;
    // Attribute flags (nested, network order) sit in the top two bits of the type.
    const type = (le ? d[o + 2]! | (d[o + 3]! << 8) : (d[o + 2]! << 8) | d[o + 3]!) & 0x3fff;
    if (len < 4) {
      c.info = 'bad TLV length ' + len + ' at offset ' + (o - off);
      break;
    }
    const v = o + 4;
    const vend = o + len;
    if (t) t.add('nflog.tlv', (TLV_NAMES[type] ?? 'TLV type ' + type) + ', length ' + len, type, o, Math.min(len, end - o));
    if (vend > end) {
      // Only the payload may be cut by the snap length; keep what made it.
      if (type === T_PAYLOAD) { payStart = v; payEnd = end; } else c.trunc('NFLOG');
      break;
    }
    const vlen = len - 4;
    if (type === T_PAYLOAD) { payStart = v; payEnd = vend; }
    else if (type === T_PREFIX) {
      fw.prefix = cString(d, v, Math.min(vlen, PREFIX_MAX));
      if (t) t.add('nflog.prefix', 'Prefix: ' + fw.prefix, fw.prefix, v, vlen);
    } else if ((type === T_INDEV || type === T_OUTDEV) && vlen >= 4) {
      const idx = c.u32(v);
      if (type === T_INDEV) fw.indev = idx; else fw.outdev = idx;
      if (t) t.add(type === T_INDEV ? 'nflog.ifindex_indev' : 'nflog.ifindex_outdev', (type === T_INDEV ? 'Input' : 'Output') + ' interface index: ' + idx, idx, v, 4);
    } else if (type === T_PACKET_HDR && vlen >= 3) {
      const hook = d[v + 2]!;
      // Hook numbers name the chain only for the IP families (bridge and netdev number theirs differently).
      if ((family === 2 || family === 10) && hook < HOOKS.length) fw.hook = HOOKS[hook]!;
      if (t) {
        t.add('nflog.protocol', 'Hardware protocol: 0x' + c.u16(v).toString(16).padStart(4, '0'), c.u16(v), v, 2);
        t.add('nflog.hook', 'Netfilter hook: ' + (fw.hook ?? hook) + ' (' + hook + ')', hook, v + 2, 1);
      }
    } else if (t && (type === T_UID || type === T_GID) && vlen >= 4) {
      t.add(type === T_UID ? 'nflog.uid' : 'nflog.gid', (type === T_UID ? 'UID: ' : 'GID: ') + (c.u32(v) | 0), c.u32(v) | 0, v, 4);
    }
    o += (len + 3) & ~3;
  }
  if (fw.prefix !== undefined) {
    const a = actionOf(fw.prefix);
    if (a !== undefined) fw.action = a;
  }
  // One device known: the log was taken on the way in (prerouting, input) or out (output, postrouting).
  if (fw.indev !== undefined && fw.outdev === undefined) fw.dir = 'in';
  else if (fw.outdev !== undefined && fw.indev === undefined) fw.dir = 'out';
  const names = c.opts?.linkNames;
  if (names !== undefined) {
    const name = names.get(fw.indev ?? -1) ?? names.get(fw.outdev ?? -1);
    if (name !== undefined) fw.ifname = name;
  }
  if (payStart < 0) {
    if (c.info === '') c.info = 'NFLOG group ' + group + ', no payload';
    return true;
  }
  // AF_INET 2, AF_INET6 10 on Linux; the version nibble settles anything else (AF_UNSPEC from bridge/netdev hooks).
  let ethertype = family === 2 ? 0x0800 : family === 10 ? 0x86dd : 0;
  if (ethertype === 0 && payEnd > payStart) ethertype = d[payStart]! >> 4 === 4 ? 0x0800 : d[payStart]! >> 4 === 6 ? 0x86dd : 0;
  if (ethertype === 0 || !byEthertype(c, ethertype, payStart, payEnd)) c.info = 'NFLOG group ' + group + ', family ' + family + ', length ' + (payEnd - payStart);
  return true;
}

registerLinktype(239, dissectNflog);
