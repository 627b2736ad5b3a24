// NAT in the host evidence: which nat-table rule (nft `type nat` chains, iptables' *nat table)
// rewrites the test flow on its way through a host, and what that means for the path: a gateway
// that forwards tunnel traffic onto its LAN without masquerade (the LAN then needs a route back),
// an SNAT to an address the gateway does not own, a DNAT that sends WireGuard's own port elsewhere,
// and a source NAT that rewrites WireGuard's own UDP so the far end sees another endpoint.
import type { CaptureKey } from '../analysis/types.ts';
import { cmd, proseCode, proseData } from '../util/shell.ts';
import { familyOf, formatAddr, formatPrefix, parseAddr, prefixContains, type Family, type Prefix } from './net.ts';
import { ownerOf, routeLookup, type IfAddress } from './iproute.ts';
import {
  counterDelta, hookChains, quoteRule, ruleVerdict,
  type FwChain, type FwNat, type FwPacket, type FwRuleRef, type FwRuleset, type FwTable,
} from './firewall.ts';
import { pairDumps, type WgPeer } from './wg.ts';
import { selectorsCover } from './ipsec.ts';
import type { HostEvidence } from './types.ts';
import type { CheckContext, Issue, Quote, TestFlow } from './checks.ts';

export interface NatDecision {
  /** What the first NAT rule that matches does; 'none' when no rule rewrites the packet. */
  action: FwNat['type'] | 'none' | 'drop';
  decidedBy: FwRuleRef | null;
  /** The nat base chains of the hook that were walked, by priority (empty: no NAT there at all). */
  chains: Array<{ table: FwTable; chain: FwChain }>;
  /** Rules that matched on the way (jumps included). */
  trace: FwRuleRef[];
  /** Rules with a match we do not model, before the decision; a NAT rule among them makes 'none' unsure. */
  uncertain: FwRuleRef[];
}

/** The NAT base chains of a hook (nft chains of type nat; iptables' nat table), lowest priority first. */
export function natChains(rs: FwRuleset, hook: string, fam: Family): Array<{ table: FwTable; chain: FwChain }> {
  return hookChains(rs, hook, fam, 'nat');
}

/**
 * Walk the first packet of a connection through the nat chains of `hook` (prerouting/output for
 * DNAT, postrouting/input for SNAT). A NAT statement ends the walk; accept ends one base chain and
 * the next one (by priority) still runs, as in the kernel.
 */
export function evaluateNat(rs: FwRuleset, hook: string, pkt: FwPacket): NatDecision {
  const trace: FwRuleRef[] = [], uncertain: FwRuleRef[] = [];
  const chains = natChains(rs, hook, pkt.family);
  type Out = { kind: 'nat' | 'drop'; ref: FwRuleRef } | { kind: 'accept' | 'return' };
  const run = (table: FwTable, chain: FwChain, depth: number): Out => {
    if (depth > 32) return { kind: 'return' };
    for (const rule of chain.rules) {
      const ref = { table, chain, rule };
      const hit = ruleVerdict(ref, pkt, uncertain);
      if (hit === null) continue;
      const v = hit.verdict;
      trace.push(ref);
      if (!v || v.kind === 'continue') continue;
      if (v.kind === 'nat') return { kind: 'nat', ref };
      if (v.kind === 'drop' || v.kind === 'reject') return { kind: 'drop', ref };
      if (v.kind === 'accept' || v.kind === 'queue') return { kind: 'accept' };
      if (v.kind === 'return') return { kind: 'return' };
      const target = table.chains.find((c) => c.name === v.target);
      if (!target) continue;
      const sub = run(table, target, depth + 1);
      if (sub.kind !== 'return') return sub;
      if (v.kind === 'goto') return { kind: 'return' };
    }
    return { kind: 'return' };
  };
  for (const { table, chain } of chains) {
    const o = run(table, chain, 0);
    if (o.kind === 'nat') return { action: o.ref.rule.nat?.type ?? 'masquerade', decidedBy: o.ref, chains, trace, uncertain };
    if (o.kind === 'drop') return { action: 'drop', decidedBy: o.ref, chains, trace, uncertain };
    // A nat chain's policy drop drops the first packet of the connection.
    if (o.kind === 'return' && chain.policy === 'drop') return { action: 'drop', decidedBy: null, chains, trace, uncertain };
  }
  return { action: 'none', decidedBy: null, chains, trace, uncertain };
}

/** How a NAT rule's rewrite reads in a sentence: "masquerade", "SNAT to 192.0.2.1", "DNAT to 192.168.1.5:51820". */
export function describeNat(n: FwNat | undefined): string {
  if (!n) return 'NAT';
  const to = n.addr !== null ? (n.addr.includes(':') && n.port !== null ? `[${n.addr}]` : n.addr) + (n.port !== null ? `:${n.port}` : '') : n.port !== null ? `:${n.port}` : '';
  const name = n.type === 'masquerade' ? 'masquerade' : n.type === 'redirect' ? 'redirect' : n.type.toUpperCase();
  return to ? `${name} to ${proseData(to)}` : name;
}

/** True when the port (or "p-q" range) of a NAT mapping leaves `port` as it is or may keep it. */
function portKept(map: string | null, port: number): boolean {
  if (map === null) return true;
  const m = /^(\d+)(?:-(\d+))?$/.exec(map.trim());
  return m !== null && port >= Number(m[1]) && port <= Number(m[2] ?? m[1]);
}

/** True when a NAT mapping to `map` (an address or "a-b" range) can leave `addr` as it is. */
function addrKept(map: string, addr: string): boolean {
  const dash = map.indexOf('-');
  if (dash < 0) { const m = parseAddr(map), a = parseAddr(addr); return m !== null && a !== null && m.family === a.family && m.addr === a.addr; }
  const lo = parseAddr(map.slice(0, dash)), hi = parseAddr(map.slice(dash + 1)), a = parseAddr(addr);
  return lo !== null && hi !== null && a !== null && a.family === lo.family && a.addr >= lo.addr && a.addr <= hi.addr;
}

// Capture and far-end values in running prose (see proseData in shared/util/shell.ts).
const v = proseData;
const srcName = (h: HostEvidence, line?: number): string => `${h.from.firewall ?? 'firewall'}${line !== undefined && line > 0 ? ` line ${line}` : ''}`;

function ruleQuote(h: HostEvidence, host: CaptureKey, ref: FwRuleRef): Quote {
  return { host, source: srcName(h, ref.rule.line), text: quoteRule(ref, h.firewall!.kind) };
}

/** ", its counter rose by 2 packets during the test" (or did not move), when both readings are there. */
function counted(h: HostEvidence, ref: FwRuleRef): string {
  const d = h.firewallBefore ? counterDelta(h.firewallBefore, ref) : null;
  if (d === null) return '';
  return d > 0 ? ` Its counter rose by ${d} packet${d === 1 ? '' : 's'} during the test.` : ' Its counter did not move during the test.';
}

/** " 1 earlier NAT rule could not be evaluated (…)": a rule we cannot judge may have taken the packet first. */
function unsure(d: NatDecision): string {
  const u = d.uncertain.filter((x) => ['nat', 'jump', 'goto', 'accept', 'return'].includes(x.rule.verdict?.kind ?? ''));
  if (u.length === 0) return '';
  return ` ${u.length} earlier rule${u.length === 1 ? '' : 's'} could not be evaluated (${u.slice(0, 2).map((x) => `"${v(x.rule.text.slice(0, 60))}"`).join(', ')}) and may take the packet first.`;
}

function where(ref: FwRuleRef): string {
  return `${ref.rule.handle !== null ? `the rule with handle ${ref.rule.handle}` : `rule #${ref.rule.index}`} in chain ${v(ref.chain.name)}`;
}

/** The network of the address `h` has on `dev` that holds `addr` (e.g. the tunnel subnet), else addr's host prefix. */
function subnetOf(addrs: readonly IfAddress[] | undefined, addr: string, dev?: string): string {
  const fam = familyOf(addr) ?? 4;
  const full = fam === 6 ? 128 : 32;
  const hit = addrs?.find((x) => (dev === undefined || x.dev === dev) && x.prefix.len > 0 && x.prefix.len < full && prefixContains(x.prefix, addr));
  return hit ? formatPrefix(hit.prefix) : `${addr}/${full}`;
}

const firstAddr = (addrs: readonly IfAddress[] | undefined, dev: string, fam: Family): string | null =>
  addrs?.find((x) => x.dev === dev && x.family === fam)?.addr ?? null;

/** The nft command that appends a rule to an existing nat chain of this hook, or the three that create one. */
function nftAppend(rs: FwRuleset, hook: string, fam: Family, rule: string): string[] {
  const base = natChains(rs, hook, fam)[0];
  if (base) return [`${cmd`nft add rule ${base.table.family} ${base.table.name} ${base.chain.name}`} ${rule}`];
  const fname = fam === 6 ? 'ip6' : 'ip';
  return [cmd`nft add table ${fname} nat`, `nft 'add chain ${fname} nat ${hook} { type nat hook ${hook} priority ${hook === 'postrouting' ? 'srcnat' : 'dstnat'}; }'`, `${cmd`nft add rule ${fname} nat ${hook}`} ${rule}`];
}

/**
 * The NAT checks for one test flow on B (the gateway that forwards it): the forwarded packet's
 * source NAT towards the LAN, a DNAT of WireGuard's listen port, and a source NAT of WireGuard's
 * own answers. Each issue quotes the rule (with handle or position and counter delta).
 */
export function checkNat(a: HostEvidence | undefined, b: HostEvidence | undefined, flow: TestFlow, ctx: CheckContext): Issue[] {
  if (!b?.firewall) return ctx.tunnel === 'ipsec' ? checkIpsecTunnelNat(a, flow, ctx) : [];
  const out: Issue[] = [];
  const fw = b.firewall;
  const fam = familyOf(flow.dst) ?? 4;
  const tunB = b.wg?.interfaces[0]?.iface ?? b.wg?.peers[0]?.iface ?? ctx.tunB;
  if (ctx.tunnel !== 'ipsec') out.push(...checkListenDnat(a, b, fw), ...checkEndpointSnat(a, b, fw));
  else out.push(...checkIpsecTunnelNat(a, flow, ctx));
  // The decrypted test packet as B forwards it onto its LAN.
  const bSrc = ctx.bSrc ?? flow.src;
  const dst = ctx.bDst ?? flow.dst;
  const dport = ctx.bDport ?? flow.dport;
  const oif = (b.routes ? routeLookup(b.routes, b.rules ?? null, { dst, src: bSrc, ...(tunB !== undefined ? { iif: tunB } : {}) }).route?.dev : null) ?? ctx.lanB ?? undefined;
  if (oif === undefined || oif === tunB) return out;
  // A route out of another interface than the one whose network holds the destination is the routing
  // check's finding (checks.ts); masquerade on the wrong way out would only echo it.
  const full = fam === 6 ? 128 : 32;
  const connected = b.addrs?.find((x) => x.prefix.len > 0 && x.prefix.len < full && prefixContains(x.prefix, dst))?.dev;
  if (connected !== undefined && connected !== oif) return out;
  const pkt: FwPacket = {
    family: fam, proto: flow.proto, src: bSrc, dst, ...(flow.sport !== undefined ? { sport: flow.sport } : {}),
    ...(dport !== undefined ? { dport } : {}), ...(tunB !== undefined ? { iif: tunB } : {}), oif, ctstate: 'new',
  };
  const d = evaluateNat(fw, 'postrouting', pkt);
  const how = `${v(flow.proto)} ${v(bSrc)}${flow.sport !== undefined ? ':' + flow.sport : ''} → ${v(dst)}${dport !== undefined ? ':' + dport : ''}, in ${v(tunB ?? '?')}, out ${v(oif)}`;
  const lanAddr = firstAddr(b.addrs, oif, fam);
  const tunnelNet = subnetOf(b.addrs, bSrc, tunB);
  // Forwarding without masquerade is a valid design when site B routes the tunnel subnet back to B:
  // it is only worth saying when the captures show the answer missing (B6).
  if (d.action === 'none' && ctx.firstMissing === 'B6') {
    // The captures are the stronger witness: B5 leaving with another source means something did NAT it.
    const capturedOther = ctx.b5Src !== undefined && ctx.b5Src !== bSrc;
    const natUnsure = unsure(d) !== '';
    const onLan = b.addrs?.some((x) => x.dev === oif && x.prefix.len > 0 && prefixContains(x.prefix, bSrc)) ?? false;
    if (!capturedOther && !onLan && !(natUnsure && ctx.b5Src === undefined)) {
      const quotes: Quote[] = [];
      const passed = d.chains.flatMap(({ table, chain }) => chain.rules.map((rule) => ({ table, chain, rule })));
      for (const ref of passed.slice(0, 4)) quotes.push(ruleQuote(b, 'B', ref));
      const nearMiss = passed.find((r) => r.rule.verdict?.kind === 'nat' && (r.rule.nat?.type === 'masquerade' || r.rule.nat?.type === 'snat'));
      const chainsText = d.chains.length === 0
        ? `B's ruleset has no ${fam === 6 ? 'IPv6' : 'IPv4'} nat chain on the postrouting hook, so nothing rewrites the source`
        : `none of the ${passed.length} rule${passed.length === 1 ? '' : 's'} in B's nat postrouting chain${d.chains.length === 1 ? '' : 's'} (${d.chains.map((c) => v(c.chain.name)).join(', ')}) matches it`;
      // An accept (or a RETURN in the base chain) that matched ends NAT for the packet: a NAT exemption.
      const exempt = d.trace.find((r) => r.rule.verdict?.kind === 'accept' || (r.rule.verdict?.kind === 'return' && r.chain.hook !== null));
      const miss = exempt
        ? ` ${where(exempt)[0]!.toUpperCase()}${where(exempt).slice(1)} exempts it from NAT (${v(exempt.rule.verdict!.kind)}) before any masquerade.${counted(b, exempt)}`
        : nearMiss ? ` The ${describeNat(nearMiss.rule.nat)} rule (${where(nearMiss)}) does not cover it: ${v(nearMiss.rule.matches.map((m) => m.text).join(' ') || 'its matches')}.${counted(b, nearMiss)}` : '';
      if (exempt && !quotes.some((q) => q.text === quoteRule(exempt, fw.kind))) quotes.unshift(ruleQuote(b, 'B', exempt));
      const match = `${cmd`oifname ${oif} ${fam === 6 ? 'ip6' : 'ip'} saddr ${tunnelNet}`} masquerade`;
      const ipt = fam === 6 ? 'ip6tables' : 'iptables';
      // Appending after an exemption would never be reached: insert before it instead.
      const masq = fw.kind === 'nft'
        ? exempt && exempt.rule.handle !== null
          ? [`${cmd`nft insert rule ${exempt.table.family} ${exempt.table.name} ${exempt.chain.name} position ${exempt.rule.handle}`} ${match}`]
          : nftAppend(fw, 'postrouting', fam, match)
        : exempt
          ? [cmd`${ipt} -t nat -I ${exempt.chain.name} ${exempt.rule.index} -s ${tunnelNet} -o ${oif} -j MASQUERADE`]
          : [cmd`${ipt} -t nat -A POSTROUTING -s ${tunnelNet} -o ${oif} -j MASQUERADE`];
      out.push({
        id: 'evidence-nat-no-masquerade', host: 'B', class: 'routing', explains: ['B6'],
        title: `B forwards A's tunnel address ${v(bSrc)} onto ${v(oif)} without masquerade: ${v(dst)} must route ${v(tunnelNet)} back via B`,
        detail: `Walking the forwarded packet (${how}) through the postrouting hook: ${chainsText}.${miss} So ${v(dst)} sees ${v(bSrc)} as the source and answers it through its own default gateway unless it (or site B's router) has a route for ${v(tunnelNet)} via B${lanAddr ? ` (${v(lanAddr)})` : ''}: the return path is broken, not the service.`,
        quotes,
        next_steps: [
          `On B, masquerade tunnel traffic leaving on ${v(oif)}: ${masq.map((c) => proseCode(c)).join(', then ')}.`,
          `Or keep A's address visible and route it back: on ${v(dst)} (or site B's router) ${proseCode(cmd`ip route add ${tunnelNet} via ${lanAddr ?? 'B-LAN-ADDRESS'}`)}.`,
        ],
      });
    }
  } else if (d.action === 'snat' && d.decidedBy?.rule.nat?.addr && b.addrs) {
    const to = d.decidedBy.rule.nat.addr;
    // A range is left alone: part of it may well be B's.
    if (!to.includes('-') && familyOf(to) !== null && ownerOf(b.addrs, to) === null) {
      out.push({
        id: 'evidence-nat-snat-foreign', host: 'B', class: 'nat', explains: ['B6'],
        title: `B rewrites the forwarded packet's source to ${v(to)}, an address B does not have`,
        detail: `Walking the forwarded packet (${how}) through the postrouting hook ends at ${where(d.decidedBy)}: ${describeNat(d.decidedBy.rule.nat)}.${counted(b, d.decidedBy)}${unsure(d)} ${v(dst)} answers ${v(to)}, which is not one of B's addresses (\`ip -o addr\`), so the reply never comes back to B to be un-NATed.`,
        quotes: [ruleQuote(b, 'B', d.decidedBy)],
        next_steps: [fw.kind === 'nft' && d.decidedBy.rule.handle !== null
          ? `On B: SNAT to B's own LAN address${lanAddr ? ` ${v(lanAddr)}` : ''} or masquerade instead: replace the rule (${proseCode(cmd`nft delete rule ${d.decidedBy.table.family} ${d.decidedBy.table.name} ${d.decidedBy.chain.name} handle ${d.decidedBy.rule.handle}`)}, then add one with \`masquerade\`).`
          : `On B: SNAT to B's own LAN address${lanAddr ? ` ${v(lanAddr)}` : ''} or use MASQUERADE (${proseCode(cmd`iptables -t ${d.decidedBy.table.name} -R ${d.decidedBy.chain.name} ${d.decidedBy.rule.index}` + ' … -j MASQUERADE')}).`],
      });
    }
  }
  return out;
}

/** B's peer entry for A (by A's key when A's dump is there, else B's only peer), and A's for B. */
function peers(a: HostEvidence | undefined, b: HostEvidence): { aPeer: WgPeer | null; bPeer: WgPeer | null } {
  if (a?.wg && b.wg) { const p = pairDumps(a.wg, b.wg); return { aPeer: p.peerOnA, bPeer: p.peerOnB }; }
  return { aPeer: a?.wg?.peers.length === 1 ? a.wg.peers[0]! : null, bPeer: b.wg?.peers.length === 1 ? b.wg.peers[0]! : null };
}

/** B's address that A sends its handshakes to: A's Endpoint for B, else the address on B's default route's device. */
function bCarrierAddr(aPeer: WgPeer | null, b: HostEvidence, fam: Family): string | null {
  if (aPeer?.endpoint) return aPeer.endpoint.host;
  if (!b.routes || !b.addrs) return null;
  const dev = routeLookup(b.routes, b.rules ?? null, { dst: fam === 6 ? '2001:db8::1' : '192.0.2.1' }).route?.dev;
  return dev ? firstAddr(b.addrs, dev, fam) : null;
}

/** A DNAT (or redirect) in B's prerouting that takes A's handshakes to WireGuard's listen port somewhere else. */
function checkListenDnat(a: HostEvidence | undefined, b: HostEvidence, fw: FwRuleset): Issue[] {
  const port = b.wg?.interfaces[0]?.listenPort ?? null;
  if (port === null) return [];
  const { aPeer, bPeer } = peers(a, b);
  const dst = bCarrierAddr(aPeer, b, 4);
  if (dst === null) return [];
  const fam = familyOf(dst) ?? 4;
  // A's source as B sees it: B's record of A's endpoint, else A's own address towards B (no NAT between).
  const aSrc = bPeer?.endpoint?.host ?? (a?.addrs && a.routes ? firstAddr(a.addrs, routeLookup(a.routes, a.rules ?? null, { dst }).route?.dev ?? '', fam) : null);
  const iif = b.addrs ? ownerOf(b.addrs, dst)?.dev : undefined;
  const pkt: FwPacket = {
    family: fam, proto: 'udp', src: aSrc ?? '', dst, dport: aPeer?.endpoint?.port ?? port,
    ...(bPeer?.endpoint ? { sport: bPeer.endpoint.port } : a?.wg?.interfaces[0]?.listenPort ? { sport: a.wg.interfaces[0].listenPort } : {}),
    ...(iif !== undefined ? { iif } : {}), ctstate: 'new',
  };
  const d = evaluateNat(fw, 'prerouting', pkt);
  const n = d.decidedBy?.rule.nat;
  if (!d.decidedBy || !n || (n.type !== 'dnat' && n.type !== 'redirect')) return [];
  const elsewhere = n.type === 'dnat' && n.addr !== null && !n.addr.includes('-') && b.addrs !== undefined && ownerOf(b.addrs, n.addr) === null;
  const otherPort = n.port !== null && !(n.port === String(port));
  if (!elsewhere && !otherPort) return [];
  const ref = d.decidedBy;
  const del = fw.kind === 'nft' && ref.rule.handle !== null
    ? cmd`nft delete rule ${ref.table.family} ${ref.table.name} ${ref.chain.name} handle ${ref.rule.handle}`
    : cmd`iptables -t nat -D ${ref.chain.name} ${ref.rule.index}`;
  return [{
    id: 'evidence-nat-dnat-listen', host: 'B', class: 'nat', explains: ['B2'],
    title: `B's prerouting ${describeNat(n)} sends A's handshakes (udp port ${pkt.dport}) away from WireGuard`,
    detail: `A's handshake (udp ${v(aSrc ?? '?')} → ${v(dst)}:${pkt.dport}${iif !== undefined ? `, in ${v(iif)}` : ''}) matches ${where(ref)} in the nat prerouting hook.${counted(b, ref)}${unsure(d)} WireGuard on B listens on ${v(dst)}:${port}, so it never sees the handshake and never answers; the packet goes ${elsewhere ? `to ${v(n.addr!)} instead` : `to port ${v(n.port!)} instead`}.`,
    quotes: [ruleQuote(b, 'B', ref), ...(b.wg?.interfaces[0] ? [{ host: 'B' as const, source: `${b.from['wg-dump'] ?? 'wg-dump'} line ${b.wg.interfaces[0].line}`, text: `${b.wg.interfaces[0].iface} listen-port ${port}` }] : [])],
    next_steps: [`On B: remove the port forward if WireGuard runs on B (${proseCode(del)}), or narrow it so it does not catch udp port ${port}.`],
  }];
}

/** A source NAT on B that rewrites WireGuard's own answers (address or port), so A sees them come from elsewhere. */
function checkEndpointSnat(a: HostEvidence | undefined, b: HostEvidence, fw: FwRuleset): Issue[] {
  const port = b.wg?.interfaces[0]?.listenPort ?? null;
  const { aPeer, bPeer } = peers(a, b);
  if (port === null || !bPeer?.endpoint) return [];
  const aAddr = bPeer.endpoint.host;
  const fam = familyOf(aAddr) ?? 4;
  const src = bCarrierAddr(aPeer, b, fam);
  if (src === null) return [];
  const oif = b.routes ? routeLookup(b.routes, b.rules ?? null, { dst: aAddr, src }).route?.dev ?? undefined : undefined;
  const pkt: FwPacket = { family: fam, proto: 'udp', src, dst: aAddr, sport: port, dport: bPeer.endpoint.port, ...(oif !== undefined ? { oif } : {}), ctstate: 'new' };
  const d = evaluateNat(fw, 'postrouting', pkt);
  const n = d.decidedBy?.rule.nat;
  if (!d.decidedBy || !n || (n.type !== 'snat' && n.type !== 'masquerade')) return [];
  const masqAddr = n.type === 'masquerade' && oif !== undefined ? firstAddr(b.addrs, oif, fam) : null;
  const newAddr = n.type === 'snat' ? n.addr : masqAddr;
  const addrChanged = newAddr !== null && !addrKept(newAddr, src);
  const portChanged = !portKept(n.port, port);
  if (!addrChanged && !portChanged) return [];
  const ref = d.decidedBy;
  const exempt = fw.kind === 'nft'
    ? `${cmd`nft insert rule ${ref.table.family} ${ref.table.name} ${ref.chain.name}`} udp sport ${port} accept`
    : cmd`iptables -t nat -I ${ref.chain.name} 1 -p udp --sport ${port} -j RETURN`;
  const shown = `${addrChanged ? v(newAddr!) : v(src)}:${portChanged ? `(${v(n.port!)})` : port}`;
  return [{
    id: 'evidence-nat-endpoint', host: 'B', class: 'nat', explains: ['A3', 'A5'],
    title: `B's ${describeNat(n)} rewrites WireGuard's own UDP: A gets B's answers from ${shown} instead of ${v(src)}:${port}`,
    detail: `B's answers to A (udp ${v(src)}:${port} → ${v(aAddr)}:${bPeer.endpoint.port}${oif !== undefined ? `, out ${v(oif)}` : ''}) match ${where(ref)} in the nat postrouting hook.${counted(b, ref)}${unsure(d)} A (and any stateful firewall or NAT in front of it) expects them from the Endpoint it sends to; answers from another address or port are dropped as unrelated or move A's Endpoint.`,
    quotes: [ruleQuote(b, 'B', ref)],
    next_steps: [`On B: exempt WireGuard's port from that rule, e.g. ${proseCode(exempt)} before it, or restrict the rule to forwarded traffic (\`oifname\`/\`ip saddr\` of the LAN).`],
  }];
}

/**
 * IPsec gateway A: a source NAT that also catches the LAN's traffic for the remote site. The
 * rewritten source no longer matches the local traffic selector, so the packet is not encrypted.
 * The captures already show the rewrite (A0 → A1, the tunnel module's own finding); this names
 * the rule, so it is a warning beside that finding rather than a second cause.
 */
function checkIpsecTunnelNat(a: HostEvidence | undefined, flow: TestFlow, ctx: CheckContext): Issue[] {
  if (!a?.firewall) return [];
  const conns = a.ipsecConns ?? [], pols = a.xfrmPolicies ?? [];
  // The LAN source before A's NAT: A0's when known; else the flow's own; else (the tunnel-side capture
  // shows the packet already rewritten) a host of each local traffic selector, kept only when A's NAT
  // turns it into exactly the source the captures show.
  const local = [...conns.flatMap((c) => c.children.flatMap((ch) => ch.localTs)), ...pols.filter((x) => x.dir === 'out' && x.tmpl.length > 0).map((x) => x.src)];
  const seen = new Set<string>();
  const candidates: Array<{ src: string; shown: string; direct: boolean }> = [];
  for (const src of [ctx.a0Src, flow.src]) if (src !== undefined && !seen.has(src)) { seen.add(src); candidates.push({ src, shown: src, direct: true }); }
  for (const p of local) {
    const h = firstHost(p);
    if (h !== null && !seen.has(h)) { seen.add(h); candidates.push({ src: h, shown: `${formatPrefix(p)} (e.g. ${h})`, direct: false }); }
  }
  for (const c of candidates) {
    const hit = tunnelNatFor(a, flow, ctx, c.src, c.shown, conns, pols);
    if (hit && (c.direct || hit.to === flow.src)) return [hit.issue];
  }
  return [];
}

/** The first host address of a prefix (the address itself for a /32 or /128). */
function firstHost(p: Prefix): string | null {
  const text = formatPrefix(p);
  const base = parseAddr(text.slice(0, text.lastIndexOf('/')));
  if (!base) return null;
  const full = base.family === 6 ? 128 : 32;
  return formatAddr(base.family, p.len >= full - 1 ? base.addr : base.addr + 1n);
}

function tunnelNatFor(a: HostEvidence, flow: TestFlow, ctx: CheckContext, src: string, shown: string, conns: NonNullable<HostEvidence['ipsecConns']>, pols: NonNullable<HostEvidence['xfrmPolicies']>): { to: string | null; issue: Issue } | null {
  const fam = familyOf(flow.dst) ?? 4;
  const full = fam === 6 ? 128 : 32;
  const iif = a.addrs?.find((x) => x.prefix.len > 0 && x.prefix.len < full && prefixContains(x.prefix, src))?.dev;
  const oif = (a.routes ? routeLookup(a.routes, a.rules ?? null, { dst: flow.dst, src, ...(iif !== undefined ? { iif } : {}) }).route?.dev : null) ?? ctx.tunA ?? undefined;
  const pkt: FwPacket = {
    family: fam, proto: flow.proto, src, dst: flow.dst, ...(flow.sport !== undefined ? { sport: flow.sport } : {}), ...(flow.dport !== undefined ? { dport: flow.dport } : {}),
    ...(iif !== undefined ? { iif } : {}), ...(oif !== undefined ? { oif } : {}), ctstate: 'new',
  };
  const fw = a.firewall;
  if (!fw) return null;
  const d = evaluateNat(fw, 'postrouting', pkt);
  const n = d.decidedBy?.rule.nat;
  if (!d.decidedBy || !n || (n.type !== 'snat' && n.type !== 'masquerade')) return null;
  // An exemption we cannot evaluate (`-m policy --pol ipsec -j ACCEPT`, `meta ipsec exists accept`) is
  // most likely the very fix: say nothing rather than blame the rule after it.
  if (d.uncertain.some((x) => x.rule.verdict?.kind === 'accept' || x.rule.verdict?.kind === 'return')) return null;
  const to = n.type === 'snat' ? n.addr : oif !== undefined ? firstAddr(a.addrs, oif, fam) : null;
  const known = conns.length > 0 || pols.length > 0;
  const before = known ? selectorsCover(conns, pols, src, flow.dst, 'local-to-remote') : null;
  const after = known && to !== null && !to.includes('-') ? selectorsCover(conns, pols, to, flow.dst, 'local-to-remote') : null;
  // With selectors known: only when NAT moves the packet out of them. Without: the rewrite of tunnel traffic itself.
  if (before !== null && (!before.covered || after === null || after.covered)) return null;
  const ref = d.decidedBy;
  const fix = fw.kind === 'nft'
    ? `${cmd`nft insert rule ${ref.table.family} ${ref.table.name} ${ref.chain.name} position ${ref.rule.handle ?? 0}`} ${cmd`${fam === 6 ? 'ip6' : 'ip'} daddr ${flow.dst}`} accept`
    : cmd`iptables -t nat -I ${ref.chain.name} ${ref.rule.index} -m policy --dir out --pol ipsec -j ACCEPT`;
  return { to, issue: {
    id: 'evidence-nat-tunnel', host: 'A', class: 'nat', explains: ['A1'],
    title: `Gateway A's ${describeNat(n)} (${where(ref)}) also rewrites LAN traffic for the tunnel: ${v(shown)} → ${v(to ?? '?')}`,
    detail: `Walking the LAN packet (${v(flow.proto)} ${v(src)} → ${v(flow.dst)}${iif !== undefined ? `, in ${v(iif)}` : ''}${oif !== undefined ? `, out ${v(oif)}` : ''}) through the postrouting hook ends at that rule.${counted(a, ref)}${unsure(d)}${before?.by ? ` The local traffic selector (${v(before.by)}) covers ${v(src)} but not ${v(to ?? '?')}, so the rewritten packet is not encrypted.` : ' The rewritten source must still match the local traffic selector, or nothing is encrypted.'}`,
    quotes: [{ host: 'A', source: srcName(a, ref.rule.line), text: quoteRule(ref, fw.kind) }],
    next_steps: [`On gateway A: exempt site-to-site traffic before that rule, e.g. ${proseCode(fix)}${fw.kind === 'nft' ? ' (or match `meta ipsec exists` / `rt ipsec exists` there)' : ''}.`],
  } };
}
