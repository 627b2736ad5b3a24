// LINKTYPE_PFLOG (117): packets logged by pf (OpenBSD, FreeBSD, pfSense, OPNsense, macOS) on pflog0,
// each behind a pfloghdr that names the rule, the action and the interface. The record is
// evidence of what the firewall did, and the packet a copy of one seen elsewhere: `fwlog` marks it.
//
// Header (offsets): 0 length, 1 af, 2 action, 3 reason, 4 ifname[16], 20 ruleset[16],
// 36 rulenr, 40 subrulenr (network order; subrulenr 0xffffffff: no anchor), 44 uid, 48 pid,
// 52 rule_uid, 56 rule_pid (host order), 60 dir, then padding (FreeBSD adds a rule identifier).
// The packet starts at `length` rounded up to 4 bytes.

import { byEthertype, registerLinktype, type Ctx } from './registry.ts';
import { cString } from './fields.ts';
import type { FirewallLogInfo } from './packet.ts';

/** Fewest bytes a header can have: everything up to and including `dir`. */
const MIN_LEN = 61;

const ACTIONS = ['pass', 'block', 'scrub', 'noscrub', 'nat', 'nonat', 'binat', 'nobinat', 'rdr', 'nordr', 'synproxy-drop', 'defer', 'match', 'divert', 'rt', 'afrt'];
const REASONS = ['match', 'bad-offset', 'fragment', 'short', 'normalize', 'memory', 'bad-timestamp', 'congestion', 'ip-option',
  'proto-cksum', 'state-mismatch', 'state-insert', 'state-limit', 'src-limit', 'synproxy'];
const DIRS = ['in/out', 'in', 'out', 'fwd'];

function dissectPflog(c: Ctx, off: number, end: number): boolean {
  const p = c.p;
  p.proto = 'pflog';
  const d = c.d;
  if (end - off < MIN_LEN) {
    // Even a cut record came from the log, not from a path: keep the mark.
    p.fwlog = { source: 'pflog' };
    c.trunc('PFLOG');
    return true;
  }
  const length = d[off]!;
  const af = d[off + 1]!;
  const action = d[off + 2]!;
  const reason = d[off + 3]!;
  const ifname = cString(d, off + 4, 16);
  const ruleset = cString(d, off + 20, 16);
  const rulenr = c.u32(off + 36);
  const subrulenr = c.u32(off + 40);
  const dir = d[off + 60]!;
  const actionName = ACTIONS[action] ?? 'unkn(' + action + ')';
  const reasonName = REASONS[reason] ?? 'unkn(' + reason + ')';
  // tcpdump prints "rule 5/0(match)": rule number (and anchor.subrule), then the reason code and name.
  const rule = (subrulenr === 0xffffffff ? String(rulenr) : rulenr + '.' + ruleset + '.' + subrulenr) + '/' + reason;
  const fw: FirewallLogInfo = { source: 'pflog', action: actionName, reason: reasonName, rule };
  if (ifname !== '') fw.ifname = ifname;
  if (dir === 1) fw.dir = 'in';
  else if (dir === 2) fw.dir = 'out';
  p.fwlog = fw;
  const t = c.t;
  const hl = (length + 3) & ~3;
  if (t) {
    t.layer('pflog', 'PF Log ' + actionName + ' ' + (DIRS[dir] ?? dir) + ' on ' + ifname + ', rule ' + rule, off, Math.min(Math.max(hl, MIN_LEN), end - off));
    t.add('pflog.length', 'Header Length: ' + length, length, off, 1);
    t.add('pflog.af', 'Address Family: ' + af, af, off + 1, 1);
    t.add('pflog.action', 'Action: ' + actionName + ' (' + action + ')', action, off + 2, 1);
    t.add('pflog.reason', 'Reason: ' + reasonName + ' (' + reason + ')', reason, off + 3, 1);
    t.add('pflog.ifname', 'Interface: ' + ifname, ifname, off + 4, 16);
    t.add('pflog.ruleset', 'Ruleset: ' + ruleset, ruleset, off + 20, 16);
    t.add('pflog.rulenr', 'Rule Number: ' + (rulenr | 0), rulenr | 0, off + 36, 4);
    t.add('pflog.subrulenr', 'Sub Rule Number: ' + (subrulenr | 0), subrulenr | 0, off + 40, 4);
    t.add('pflog.dir', 'Direction: ' + (DIRS[dir] ?? dir) + ' (' + dir + ')', dir, off + 60, 1);
  }
  c.prefix += 'rule ' + rule + '(' + reasonName + '): ' +
    actionName + ' ' + (DIRS[dir] ?? 'unkn(' + dir + ')') + ' on ' + ifname + ': ';
  if (length < MIN_LEN) {
    c.info = 'invalid header length ' + length;
    return true;
  }
  const o = off + hl;
  if (o > end) {
    c.trunc('PFLOG');
    return true;
  }
  // AF_INET6 is 24 on OpenBSD, 28 on FreeBSD, 30 on macOS; the version nibble settles anything else.
  let type = af === 2 ? 0x0800 : af === 24 || af === 28 || af === 30 || af === 10 ? 0x86dd : 0;
  if (type === 0 && o < end) type = d[o]! >> 4 === 4 ? 0x0800 : d[o]! >> 4 === 6 ? 0x86dd : 0;
  if (type === 0 || !byEthertype(c, type, o, end)) c.info = 'AF ' + af + ', length ' + (end - o);
  return true;
}

registerLinktype(117, dissectPflog);
