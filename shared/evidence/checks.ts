// The checks that turn host evidence into issues about one test flow: WireGuard peers and keys,
// the route the packet takes, the firewall rule that decides it (with its counter), forwarding,
// reverse-path filtering, and IPsec selectors, proposals and authentication. Pure functions over
// the two hosts' bundles; the diagnosis rules (shared/analysis/rules/evidence-*.ts) turn their
// issues into findings when they agree with what the captures show.
import type { CaptureKey, CheckpointLabel, FailureClass } from '../analysis/types.ts';
import { cmd, proseCode, proseData } from '../util/shell.ts';
import { familyOf, prefixContains, type Family } from './net.ts';
import type { HostEvidence } from './types.ts';
import { endpointPortMismatch, pairDumps, peerForAddress, peersWithoutKeepalive, quotePeer, wgTransferDelta, type WgPeer } from './wg.ts';
import { linkDelta } from './links.ts';
import { ownerOf, routeLookup, type RouteDecision } from './iproute.ts';
import { counterDelta, evaluateFirewall, policyDelta, quoteRule, type FwDecision, type FwPacket } from './firewall.ts';
import { forwardingEnabled, quoteSysctl, rpFilter } from './sysctl.ts';
import { proposalMismatch, selectorsCover } from './ipsec.ts';
import { checkNat } from './nat.ts';

export interface TestFlow { proto: string; src: string; dst: string; sport?: number; dport?: number }
export interface Quote { host: CaptureKey; source: string; text: string }

export type IssueId =
  | 'evidence-wg-allowedips' | 'evidence-wg-keys' | 'evidence-wg-endpoint-port' | 'evidence-wg-keepalive'
  | 'evidence-fw-drop' | 'evidence-route-missing' | 'evidence-forwarding-off' | 'evidence-rp-filter'
  | 'evidence-ipsec-ts' | 'evidence-ipsec-proposal' | 'evidence-ipsec-auth'
  | 'evidence-nat-no-masquerade' | 'evidence-nat-snat-foreign' | 'evidence-nat-dnat-listen' | 'evidence-nat-endpoint' | 'evidence-nat-tunnel';

export interface Issue {
  id: IssueId;
  host: CaptureKey;
  class: FailureClass;
  /** The checkpoints whose absence this issue explains (the first missing one must be among them to call it the cause). */
  explains: CheckpointLabel[];
  title: string;
  detail: string;
  quotes: Quote[];
  next_steps: string[];
}

// Capture and far-end values in running prose (see proseData in shared/util/shell.ts).
const v = proseData;
/** "FILE line N" for a quote: the fact's own item when it has one, else the last item of that kind. */
const src = (h: HostEvidence, k: keyof HostEvidence['from'], line?: number, file?: string): string =>
  `${file ?? h.from[k] ?? k}${line !== undefined && line > 0 ? ` line ${line}` : ''}`;

/** B's tunnel interface: the WireGuard device, or the one that owns B's address in A's tunnel subnet. */
function tunnelIface(h: HostEvidence): string | undefined {
  return h.wg?.interfaces[0]?.iface ?? h.wg?.peers[0]?.iface;
}

/** B's peer entry for A: by A's public key when A's dump is there, else B's only peer. */
function peerForA(a: HostEvidence | undefined, b: HostEvidence): WgPeer | null {
  if (!b.wg) return null;
  if (a?.wg) {
    const p = pairDumps(a.wg, b.wg).peerOnB;
    if (p) return p;
  }
  return b.wg.peers.length === 1 ? b.wg.peers[0]! : null;
}

export function checkWgAllowedIps(a: HostEvidence | undefined, b: HostEvidence | undefined, flow: TestFlow): Issue[] {
  const out: Issue[] = [];
  if (b?.wg && b.wg.peers.length > 0) {
    const want = peerForA(a, b);
    const hit = peerForAddress(b.wg, flow.src);
    if (want && (hit === null || hit.peer.publicKey !== want.publicKey)) {
      const other = hit ? ` (it belongs to peer ${v(hit.peer.publicKey)} through ${v(hit.prefix.text)})` : '';
      out.push({
        id: 'evidence-wg-allowedips', host: 'B', class: 'wireguard-config', explains: ['B4'],
        title: `B's peer ${v(want.publicKey)} does not allow A's tunnel address ${v(flow.src)}`,
        detail: `B decrypts A's packet and drops it: its source ${v(flow.src)} is outside that peer's AllowedIPs (${v(want.allowedIps.map((p) => p.text).join(', ')) || 'none'})${other}. It dies at tunnel policy.`,
        quotes: [{ host: 'B', source: src(b, 'wg-dump', want.line), text: quotePeer(want) }],
        next_steps: [`On B: add ${v(flow.src)}/${familyOf(flow.src) === 6 ? 128 : 32} (or A's tunnel subnet) to that peer's AllowedIPs, e.g. ${proseCode(cmd`wg set ${want.iface} peer ${want.publicKey} allowed-ips ${[...want.allowedIps.map((p) => p.text), `${flow.src}/${familyOf(flow.src) === 6 ? 128 : 32}`].join(',')}`)}, and in its config file.`],
      });
    }
  }
  if (a?.wg && a.wg.peers.length > 0 && peerForAddress(a.wg, flow.dst) === null) {
    const p = b?.wg && a.wg ? pairDumps(a.wg, b.wg).peerOnA : a.wg.peers.length === 1 ? a.wg.peers[0]! : null;
    out.push({
      id: 'evidence-wg-allowedips', host: 'A', class: 'wireguard-config', explains: ['A2', 'A4'],
      title: `No peer on A allows the destination ${v(flow.dst)}`,
      detail: `A routes the packet into the tunnel, but WireGuard finds no peer whose AllowedIPs covers ${v(flow.dst)} and drops it before encryption.`,
      quotes: p ? [{ host: 'A', source: src(a, 'wg-dump', p.line), text: quotePeer(p) }] : [],
      next_steps: [`On A: add the destination network to B's peer AllowedIPs${p ? ` (peer ${v(p.publicKey)})` : ''}.`],
    });
  }
  return out;
}

export function checkWgKeys(a: HostEvidence | undefined, b: HostEvidence | undefined): Issue[] {
  if (!a?.wg || !b?.wg || a.wg.interfaces.length === 0 || b.wg.interfaces.length === 0) return [];
  const pair = pairDumps(a.wg, b.wg);
  if (pair.problems.length === 0) return [];
  const quotes: Quote[] = [];
  const ai = a.wg.interfaces[0]!, bi = b.wg.interfaces[0]!;
  quotes.push({ host: 'A', source: src(a, 'wg-dump', ai.line), text: `${ai.iface} public key ${ai.publicKey} listen-port ${ai.listenPort ?? '(none)'}` });
  quotes.push({ host: 'B', source: src(b, 'wg-dump', bi.line), text: `${bi.iface} public key ${bi.publicKey} listen-port ${bi.listenPort ?? '(none)'}` });
  for (const p of b.wg.peers.slice(0, 4)) quotes.push({ host: 'B', source: src(b, 'wg-dump', p.line), text: quotePeer(p) });
  for (const p of a.wg.peers.slice(0, 4)) quotes.push({ host: 'A', source: src(a, 'wg-dump', p.line), text: quotePeer(p) });
  const bLacksA = !pair.peerOnB;
  return [{
    id: 'evidence-wg-keys', host: bLacksA ? 'B' : 'A', class: 'wireguard-config', explains: ['B2', 'A3'],
    title: bLacksA ? `B has no peer with A's public key ${v(ai.publicKey)}` : `A's peer for B does not carry B's public key ${v(bi.publicKey)}`,
    detail: `The keys of the two dumps do not pair up: ${pair.problems.map(v).join('; ')}. B cannot answer a handshake from a key it does not know.`,
    quotes,
    next_steps: bLacksA
      ? [`On B: set the peer's public key to A's (${v(ai.publicKey)}): ${proseCode(cmd`wg show ${bi.iface} peers`)}, then fix the [Peer] PublicKey in B's config.`]
      : [`On A: the [Peer] PublicKey for B must be ${v(bi.publicKey)} (${proseCode(cmd`wg show ${ai.iface} peers`)}).`],
  }];
}

export function checkWgEndpointPort(a: HostEvidence | undefined, b: HostEvidence | undefined): Issue[] {
  if (!a?.wg || !b?.wg) return [];
  const m = endpointPortMismatch(a.wg, b.wg);
  if (!m) return [];
  return [{
    id: 'evidence-wg-endpoint-port', host: 'A', class: 'wireguard-config', explains: ['B1', 'B2'],
    title: `A sends to port ${m.endpointPort} but B's WireGuard listens on ${m.listenPort}`,
    detail: `A's peer entry for B has Endpoint port ${m.endpointPort}; B's ${v(m.iface.iface)} has ListenPort ${m.listenPort}. Unless a port forward in front of B maps one to the other, A's handshakes never reach WireGuard on B.`,
    quotes: [
      { host: 'A', source: src(a, 'wg-dump', m.peer.line), text: quotePeer(m.peer) },
      { host: 'B', source: src(b, 'wg-dump', m.iface.line), text: `${m.iface.iface} public key ${m.iface.publicKey} listen-port ${m.listenPort}` },
    ],
    next_steps: [`On A: set the peer's Endpoint to port ${m.listenPort}: ${proseCode(cmd`wg set ${m.peer.iface} peer ${m.peer.publicKey} endpoint ${`${m.peer.endpoint!.host.includes(':') ? `[${m.peer.endpoint!.host}]` : m.peer.endpoint!.host}:${m.listenPort}`}`)}, and in the config file.`],
  }];
}

/**
 * No PersistentKeepalive on A's peer while B sees A from an address A does not own (A is behind
 * NAT): the NAT mapping expires while the tunnel is idle and B can no longer reach A.
 */
export function checkWgKeepalive(a: HostEvidence | undefined, b: HostEvidence | undefined): Issue[] {
  if (!a?.wg) return [];
  const lacking = peersWithoutKeepalive(a.wg);
  if (lacking.length === 0) return [];
  const seen = b ? peerForA(a, b)?.endpoint : null;
  const natted = seen && a.addrs ? ownerOf(a.addrs, seen.host) === null : null;
  if (natted !== true) return [];
  const p = lacking[0]!;
  return [{
    id: 'evidence-wg-keepalive', host: 'A', class: 'nat', explains: [],
    title: `A is behind NAT (B sees it as ${v(seen!.host)}:${seen!.port}) and sends no keepalive`,
    detail: 'Without PersistentKeepalive the NAT in front of A forgets the mapping when the tunnel is idle; traffic that B starts then never arrives.',
    quotes: [{ host: 'A', source: src(a, 'wg-dump', p.line), text: quotePeer(p) }],
    next_steps: [`On A: ${proseCode(cmd`wg set ${p.iface} peer ${p.publicKey} persistent-keepalive 25`)} (PersistentKeepalive = 25 in the config).`],
  }];
}

function fwQuote(h: HostEvidence, host: CaptureKey, d: FwDecision): Quote[] {
  const kind = h.firewall!.kind;
  if (d.decidedBy) return [{ host, source: src(h, 'firewall', d.decidedBy.rule.line), text: quoteRule(d.decidedBy, kind) }];
  if (d.policyChain) {
    const { table, chain } = d.policyChain;
    const pc = chain.policyCounter ? ` [${chain.policyCounter.packets}:${chain.policyCounter.bytes}]` : '';
    return [{ host, source: src(h, 'firewall'), text: kind === 'nft' ? `table ${table.family} ${table.name} chain ${chain.name}: policy ${chain.policy}` : `*${table.name} :${chain.name} ${chain.policy?.toUpperCase()}${pc}` }];
  }
  return [];
}

/** Evaluate one hook; an issue when the packet is dropped or rejected. */
export function checkFirewall(h: HostEvidence | undefined, host: CaptureKey, hook: string, pkt: FwPacket, explains: CheckpointLabel[], what: string): Issue[] {
  if (!h?.firewall) return [];
  const d = evaluateFirewall(h.firewall, hook, pkt);
  if (d.verdict === 'accept') return [];
  const quotes = fwQuote(h, host, d);
  const delta = !h.firewallBefore ? null : d.decidedBy ? counterDelta(h.firewallBefore, d.decidedBy)
    : d.policyChain ? policyDelta(h.firewallBefore, d.policyChain.table, d.policyChain.chain) : null;
  const its = d.decidedBy ? 'Its counter' : 'The policy\'s counter';
  const counted = delta === null ? '' : delta > 0 ? ` ${its} rose by ${delta} packet${delta === 1 ? '' : 's'} during the test.` : ` ${its} did not move during the test, so the test packet may not have reached it.`;
  const uncertain = d.uncertain.length > 0 ? ` ${d.uncertain.length} earlier rule${d.uncertain.length === 1 ? '' : 's'} could not be evaluated (${d.uncertain.slice(0, 2).map((u) => `"${v(u.rule.text.slice(0, 60))}"`).join(', ')}).` : '';
  const by = d.decidedBy
    ? `the rule ${d.decidedBy.rule.handle !== null ? `with handle ${d.decidedBy.rule.handle}` : `#${d.decidedBy.rule.index}`} in chain ${v(d.decidedBy.chain.name)}`
    : `the ${v(d.policyChain!.chain.name)} chain's policy`;
  const fix = h.firewall.kind === 'nft'
    ? d.decidedBy && d.decidedBy.rule.handle !== null
      ? `${proseCode(cmd`nft delete rule ${d.decidedBy.table.family} ${d.decidedBy.table.name} ${d.decidedBy.chain.name} handle ${d.decidedBy.rule.handle}`)} if it is not wanted, or add an accept rule before it for this flow.`
      : 'add an accept rule for this flow before the drop (`nft -a list ruleset` shows the handles).'
    : d.decidedBy
      ? `${proseCode(cmd`iptables -t ${d.decidedBy.table.name} -D ${d.decidedBy.chain.name} ${d.decidedBy.rule.index}`)} if it is not wanted, or insert an ACCEPT rule for this flow before it (${proseCode(cmd`iptables -t ${d.decidedBy.table.name} -I ${d.decidedBy.chain.name} ${d.decidedBy.rule.index}` + ' …')}).`
      : `add an ACCEPT rule for this flow (${proseCode(cmd`iptables -A ${d.policyChain!.chain.name}` + ' …')}) or change the policy.`;
  return [{
    id: 'evidence-fw-drop', host, class: 'firewall', explains,
    title: `${host}'s firewall ${d.verdict === 'reject' ? 'rejects' : 'drops'} ${what}: ${by}`,
    detail: `Walking the packet (${v(pkt.proto)} ${v(pkt.src)}${pkt.sport !== undefined ? ':' + pkt.sport : ''} → ${v(pkt.dst)}${pkt.dport !== undefined ? ':' + pkt.dport : ''}, in ${v(pkt.iif ?? '?')}, out ${v(pkt.oif ?? '?')}, ${pkt.ctstate ?? 'new'}) through the ${hook} hook ends at ${by}.${counted}${uncertain}`,
    quotes,
    next_steps: [`On ${host}: ${fix}`],
  }];
}

function routeQuote(h: HostEvidence, host: CaptureKey, d: RouteDecision): Quote[] {
  const q: Quote[] = [];
  if (d.rule && d.rule.line > 0) q.push({ host, source: src(h, 'ip-rule', d.rule.line, d.rule.file), text: d.rule.text });
  if (d.route) q.push({ host, source: src(h, 'ip-route', d.route.line, d.route.file), text: d.route.text });
  return q;
}

/** The device whose own network (an address's prefix) holds `addr`. */
function connectedDev(h: HostEvidence, addr: string): string | null {
  const full = familyOf(addr) === 6 ? 128 : 32;
  return h.addrs?.find((x) => x.prefix.len > 0 && x.prefix.len < full && prefixContains(x.prefix, addr))?.dev ?? null;
}

/**
 * Which way the forwarding host sends the packet: no route, a blackhole, or a route out another
 * interface than the one whose network holds the destination (typically a policy rule).
 */
export function checkRoute(h: HostEvidence | undefined, host: CaptureKey, q: { dst: string; src?: string; iif?: string }, expectDev: string | null, explains: CheckpointLabel[], what: string): Issue[] {
  if (!h?.routes || h.routes.length === 0) return [];
  const d = routeLookup(h.routes, h.rules ?? null, q);
  const quotes = routeQuote(h, host, d);
  const want = expectDev ?? connectedDev(h, q.dst);
  const cmdGet = cmd`ip route get ${q.dst}` + (q.src ? cmd` from ${q.src}` : '') + (q.iif ? cmd` iif ${q.iif}` : '');
  if (d.outcome === 'no-route' || d.outcome === 'blackhole' || d.outcome === 'unreachable' || d.outcome === 'prohibit') {
    return [{
      id: 'evidence-route-missing', host, class: 'routing', explains,
      title: d.outcome === 'no-route' ? `${host} has no route for ${what} (${v(q.dst)})` : `${host} routes ${what} (${v(q.dst)}) into a ${d.outcome} route`,
      detail: `Looking it up as ${proseCode(cmdGet)} would: ${d.steps.map(v).join('; ')}.`,
      quotes,
      next_steps: [`On ${host}: add a route for ${v(q.dst)}${want ? ` via ${v(want)}` : ''} in the table the rules pick, then ${proseCode(cmdGet)}.`],
    }];
  }
  if (d.outcome === 'route' && want !== null && d.route!.dev !== null && d.route!.dev !== want) {
    return [{
      id: 'evidence-route-missing', host, class: 'routing', explains,
      title: `${host} sends ${what} out ${v(d.route!.dev)} instead of ${v(want)}${d.rule && d.rule.pref !== 32766 && d.rule.pref !== 0 ? ` (policy rule ${d.rule.pref}, table ${v(d.table ?? '?')})` : ''}`,
      detail: `${proseCode(cmdGet)} on the captured tables: ${d.steps.map(v).join('; ')}. ${v(q.dst)} is on ${v(want)}'s network, but this route takes the packet elsewhere.`,
      quotes,
      next_steps: [`On ${host}: add ${v(q.dst)}'s network via ${v(want)} to table ${v(d.table ?? 'main')}, or narrow the rule${d.rule ? ` "${v(d.rule.text)}"` : ''}.`],
    }];
  }
  return [];
}

/** Whether `addr` is one of the host's own addresses (its `ip -o addr`, or a local route). */
function isOwnAddress(h: HostEvidence, addr: string): boolean {
  if (h.addrs && ownerOf(h.addrs, addr) !== null) return true;
  return h.routes?.some((r) => r.type === 'local' && r.dst.len === (familyOf(addr) === 6 ? 128 : 32) && prefixContains(r.dst, addr)) ?? false;
}

export function checkForwarding(h: HostEvidence | undefined, host: CaptureKey, family: Family, explains: CheckpointLabel[]): Issue[] {
  if (!h?.sysctl) return [];
  const on = forwardingEnabled(h.sysctl, family);
  if (on !== false) return [];
  const key = family === 4 ? 'net.ipv4.ip_forward' : 'net.ipv6.conf.all.forwarding';
  return [{
    id: 'evidence-forwarding-off', host, class: 'routing', explains,
    title: `Forwarding is disabled on ${host} (${key} = 0)`,
    detail: `${host} decrypts the packet but the kernel does not forward between interfaces: it dies after decryption.`,
    quotes: [{ host, source: src(h, 'sysctl', h.sysctl.lines[key]), text: quoteSysctl(h.sysctl, key) }],
    next_steps: [`On ${host}: ${proseCode(cmd`sysctl -w ${key}=1`)} and make it permanent in /etc/sysctl.d/.`],
  }];
}

/** Strict reverse-path filtering on the interface the packet arrives on while the route back to its source leaves elsewhere. */
export function checkRpFilter(h: HostEvidence | undefined, host: CaptureKey, pkt: { src: string; dst: string; iif: string }, explains: CheckpointLabel[]): Issue[] {
  if (!h?.sysctl || !h.routes || familyOf(pkt.src) !== 4) return [];
  const rp = rpFilter(h.sysctl, pkt.iif);
  if (!rp || rp.mode !== 1) return [];
  // The kernel's reverse lookup (fib_validate_source) runs as if the host sent to the source itself.
  const back = routeLookup(h.routes, h.rules ?? null, { dst: pkt.src, src: pkt.dst });
  if (back.outcome !== 'route' || back.route!.dev === null || back.route!.dev === pkt.iif) return [];
  return [{
    id: 'evidence-rp-filter', host, class: 'asymmetric-routing', explains,
    title: `${host} drops packets from ${v(pkt.src)} on ${v(pkt.iif)}: strict rp_filter, and the route back leaves by ${v(back.route!.dev)}`,
    detail: `With ${v(rp.key)} = 1 the kernel accepts a packet only on the interface it would use to reach its source; the route to ${v(pkt.src)} goes out ${v(back.route!.dev)}.`,
    quotes: [{ host, source: src(h, 'sysctl', h.sysctl.lines[rp.key]), text: quoteSysctl(h.sysctl, rp.key) }, ...routeQuote(h, host, back)],
    next_steps: [`On ${host}: route ${v(pkt.src)} back via ${v(pkt.iif)}, or set ${v(rp.key)} to 2 (loose) — the kernel uses the larger of conf.all and conf.${v(pkt.iif)}.`],
  }];
}

/** IPsec: the child SA selectors (or xfrm policies) on A must cover the flow, and B's must too (mirrored). */
export function checkIpsecSelectors(a: HostEvidence | undefined, b: HostEvidence | undefined, flow: TestFlow): Issue[] {
  const out: Issue[] = [];
  for (const [h, host, side] of [[a, 'A', 'local-to-remote'], [b, 'B', 'remote-to-local']] as const) {
    if (!h || (!h.ipsecConns?.length && !h.xfrmPolicies?.length)) continue;
    const c = selectorsCover(h.ipsecConns ?? [], h.xfrmPolicies ?? [], flow.src, flow.dst, side);
    if (c.covered || c.candidates.length === 0) continue;
    const firstConn = h.ipsecConns?.find((x) => x.children.length > 0);
    const first = firstConn?.children[0];
    out.push({
      id: 'evidence-ipsec-ts', host, class: 'ipsec-config', explains: host === 'A' ? ['A1', 'A2', 'A4'] : ['B3', 'B4', 'B5'],
      title: `${host}'s IPsec selectors do not cover ${v(flow.src)} → ${v(flow.dst)}`,
      detail: `No child SA or policy on ${host} matches the flow, so ${host === 'A' ? 'A does not encrypt it (it leaves in clear or is dropped)' : 'B does not accept it from the tunnel'}: it dies at tunnel policy. Present: ${c.candidates.slice(0, 4).map(v).join('; ')}.`,
      quotes: first ? [{ host, source: src(h, h.from.swanctl ? 'swanctl' : h.from['ipsec-status'] ? 'ipsec-status' : 'xfrm-policy', first.line, firstConn?.file), text: first.text }]
        : (h.xfrmPolicies ?? []).slice(0, 2).map((p) => ({ host, source: src(h, 'xfrm-policy', p.line, p.file), text: p.text })),
      next_steps: [`On ${host}: widen local_ts/remote_ts of the child SA to include ${v(host === 'A' ? flow.src : flow.dst)} and ${v(host === 'A' ? flow.dst : flow.src)} (both gateways, mirrored), then reload (\`swanctl --load-all\`).`],
    });
  }
  for (const [h, host] of [[a, 'A'], [b, 'B']] as const) {
    const ts = h?.ipsecLog?.find((e) => e.kind === 'ts');
    if (!h || !ts) continue;
    out.push({
      id: 'evidence-ipsec-ts', host: host === 'A' ? 'B' : 'A', class: 'ipsec-config', explains: ['A4', 'B3', 'B4'],
      title: `The traffic selectors were refused (${host}'s log)`,
      detail: 'The IKE SA came up but the child SA did not: one side proposed selectors the other does not accept. They must mirror each other.',
      quotes: [{ host, source: src(h, 'ipsec-log', ts.line, ts.file), text: ts.text }],
      next_steps: ['Compare local_ts/remote_ts on both gateways: A\'s local must be B\'s remote and the other way round.'],
    });
  }
  return out;
}

export function checkIpsecLogs(a: HostEvidence | undefined, b: HostEvidence | undefined): Issue[] {
  const out: Issue[] = [];
  for (const [h, host] of [[a, 'A'], [b, 'B']] as const) {
    if (!h?.ipsecLog) continue;
    const mm = proposalMismatch(h.ipsecLog);
    const np = h.ipsecLog.find((e) => e.kind === 'proposal');
    if (mm || np) {
      const quotes: Quote[] = mm
        ? [mm.received, mm.configured].map((e) => ({ host, source: src(h, 'ipsec-log', e.line, e.file), text: e.text }))
        : [{ host, source: src(h, 'ipsec-log', np!.line, np!.file), text: np!.text }];
      if (mm && np) quotes.push({ host, source: src(h, 'ipsec-log', np.line, np.file), text: np.text });
      out.push({
        id: 'evidence-ipsec-proposal', host: 'B', class: 'ipsec-config', explains: ['B2', 'A3', 'A4'],
        title: mm ? 'The IKE/ESP proposals of the two gateways have no algorithm set in common' : `No proposal was chosen (${host}'s log)`,
        detail: mm ? `Received ${v(mm.received.proposals!.list.join(', '))}; configured ${v(mm.configured.proposals!.list.join(', '))}.` : 'One gateway refused every proposal the other offered.',
        quotes,
        next_steps: ['Make the proposals overlap: the same encryption, integrity/PRF and DH group on both gateways (swanctl.conf `proposals` / `esp_proposals`).'],
      });
    }
    const auth = h.ipsecLog.find((e) => e.kind === 'auth');
    const id = h.ipsecLog.find((e) => e.kind === 'id');
    if (auth || id) {
      const quotes = [id, auth].filter((e) => e !== undefined).map((e) => ({ host, source: src(h, 'ipsec-log', e!.line, e!.file), text: e!.text }));
      const psk = auth && /MAC mismatched|preshared|pre-shared|PSK/i.test(auth.text);
      out.push({
        id: 'evidence-ipsec-auth', host: 'B', class: 'ipsec-config', explains: ['B2', 'A3', 'A4', 'B3'],
        title: id ? `The peer's identity is not accepted (${host}'s log)` : psk ? `The pre-shared keys differ (${host}'s log)` : `Authentication failed (${host}'s log)`,
        detail: id ? 'No connection on the responder matches the IDs the initiator presents.' : 'The IKE SA is refused at authentication: both gateways must use the same secret for the same pair of IDs.',
        quotes,
        next_steps: id ? ['Make local id on one gateway equal remote id on the other (swanctl.conf `id` / `remote.id`), on both sides.']
          : ['Set the same PSK for the two IDs on both gateways (swanctl.conf `secrets { ike-… }`), then `swanctl --load-creds`.'],
      });
    }
  }
  return out;
}

export interface CheckContext {
  tunnel: 'wireguard' | 'ipsec' | 'unknown';
  /** The flow's source as B sees it after decryption (A may NAT into the tunnel); default flow.src. */
  bSrc?: string;
  /** Destination (and port) as B forwards it, after any DNAT on B (the forward hook sees it so); default flow.dst. */
  bDst?: string; bDport?: number;
  /** Interface names from the captures, used when the evidence does not name them. */
  tunA?: string; tunB?: string; lanB?: string;
  /** The source B5 carried in B's capture (after any source NAT on B), when the captures show B5. */
  b5Src?: string;
  /** The source A0 carried on IPsec gateway A's LAN side (before A's own NAT), when the captures show A0. */
  a0Src?: string;
  /** The captures' first missing checkpoint, for checks whose finding is no fault by itself (no masquerade). */
  firstMissing?: CheckpointLabel | null;
  /** A's handshake as B captured it (B1): the carrier's addresses and ports after any NAT on the way. */
  bCarrier?: { src: string; dst: string; sport: number; dport: number };
}

/** WireGuard when a host has a wg device, IPsec when a host has IKE connections, SAs or xfrm policies and none has one. */
function tunnelOfEvidence(a: HostEvidence | undefined, b: HostEvidence | undefined): CheckContext['tunnel'] {
  const hosts = [a, b].filter((h): h is HostEvidence => h !== undefined);
  if (hosts.some((h) => (h.wg?.interfaces.length ?? 0) > 0)) return 'wireguard';
  if (hosts.some((h) => (h.ipsecConns?.length ?? 0) > 0 || (h.xfrmPolicies?.length ?? 0) > 0 || (h.xfrmStates?.length ?? 0) > 0)) return 'ipsec';
  return 'unknown';
}

/**
 * Every check for one test flow, in path order: A's routing and peers, the carrier between the
 * hosts (ports, keys, input firewalls), B's tunnel policy, forwarding, route and forward firewall,
 * then the reply's way back.
 */
export function runChecks(a: HostEvidence | undefined, b: HostEvidence | undefined, flow: TestFlow, ctx: CheckContext): Issue[] {
  // The captures may show no tunnel packet at all (the test never entered the tunnel): the hosts' own
  // state then says which kind it is.
  if (ctx.tunnel === 'unknown') ctx = { ...ctx, tunnel: tunnelOfEvidence(a, b) };
  const out: Issue[] = [];
  const fam = familyOf(flow.dst) ?? 4;
  const bSrc = ctx.bSrc ?? flow.src;
  const tunA = (a && tunnelIface(a)) ?? ctx.tunA ?? null;
  const tunB = (b && tunnelIface(b)) ?? ctx.tunB ?? null;
  // A: the test connection must be routed into the tunnel.
  if (ctx.tunnel !== 'ipsec' && tunA !== null) out.push(...checkRoute(a, 'A', { dst: flow.dst }, tunA, ['A1'], 'the test connection'));
  if (ctx.tunnel !== 'ipsec') {
    out.push(...checkWgEndpointPort(a, b), ...checkWgKeys(a, b), ...checkWgAllowedIps(a, b, { ...flow, src: bSrc }), ...checkWgKeepalive(a, b));
    // The carrier through each host's input firewall: A's handshake into B, B's answer into A.
    const aPeer = a?.wg && b?.wg ? pairDumps(a.wg, b.wg).peerOnA : a?.wg?.peers.length === 1 ? a.wg.peers[0]! : null;
    const bPeer = a && b ? peerForA(a, b) : null;
    const aPort = a?.wg?.interfaces[0]?.listenPort ?? undefined, bPort = b?.wg?.interfaces[0]?.listenPort ?? undefined;
    // Where A's handshake comes from: B's peer Endpoint, else (a server that waits for its clients) the
    // handshake as B captured it; where it goes: A's Endpoint for B, else B's own address of that family.
    const from = bPeer?.endpoint ? { host: bPeer.endpoint.host, port: bPeer.endpoint.port }
      : ctx.bCarrier && (bPort === undefined || ctx.bCarrier.dport === bPort) ? { host: ctx.bCarrier.src, port: ctx.bCarrier.sport } : null;
    if (from !== null && bPort !== undefined && b?.firewall) {
      const ownB = aPeer?.endpoint?.host ?? (ctx.bCarrier && b.addrs && ownerOf(b.addrs, ctx.bCarrier.dst) ? ctx.bCarrier.dst : undefined)
        ?? b.addrs?.find((x) => x.family === familyOf(from.host) && x.dev !== tunB && x.dev !== 'lo')?.addr;
      if (ownB) {
        const iif = b.routes ? routeLookup(b.routes, b.rules ?? null, { dst: from.host }).route?.dev ?? undefined : undefined;
        out.push(...checkFirewall(b, 'B', 'input', { family: familyOf(ownB) ?? 4, proto: 'udp', src: from.host, dst: ownB, sport: from.port, dport: bPort, iif, ctstate: 'new' }, ['B2'], 'A\'s handshake'));
      }
    }
    if (aPeer?.endpoint && aPort !== undefined && a?.firewall && a.addrs) {
      const iif = a.routes ? routeLookup(a.routes, a.rules ?? null, { dst: aPeer.endpoint.host }).route?.dev ?? undefined : undefined;
      const own = a.addrs.find((x) => x.dev === iif && x.family === familyOf(aPeer.endpoint!.host))?.addr;
      if (own) out.push(...checkFirewall(a, 'A', 'input', { family: familyOf(own) ?? 4, proto: 'udp', src: aPeer.endpoint.host, dst: own, sport: aPeer.endpoint.port, dport: aPort, iif, ctstate: 'established' }, ['A3', 'A5'], 'B\'s answers'));
    }
  } else {
    out.push(...checkIpsecSelectors(a, b, flow), ...checkIpsecLogs(a, b));
  }
  // NAT on B (nat.ts): the forwarded packet's source towards the LAN, WireGuard's own port and answers;
  // on IPsec gateway A: a source NAT that moves LAN traffic out of the selectors.
  const nat = checkNat(a, b, flow, ctx);
  if (nat.some((x) => x.id === 'evidence-nat-tunnel' && x.title.endsWith(`→ ${v(flow.src)}`))) {
    // The flow's source is A's NAT result: selectors "not covering" it are that NAT's echo, not a second fault.
    for (let i = out.length - 1; i >= 0; i--) if (out[i]!.id === 'evidence-ipsec-ts' && out[i]!.title.includes(v(flow.src))) out.splice(i, 1);
  }
  out.push(...nat);
  // B: forward the decrypted packet to the destination, and the reply back into the tunnel.
  if (b) {
    flow = { ...flow, dst: ctx.bDst ?? flow.dst, ...(ctx.bDport !== undefined ? { dport: ctx.bDport } : {}) };
    if (isOwnAddress(b, flow.dst)) {
      // The target is B itself: nothing is forwarded, so forwarding and the LAN route do not apply;
      // the decrypted packet meets B's input hook, and the reply leaves through output.
      const iif = tunB ?? undefined;
      const inPkt: FwPacket = { family: fam, proto: flow.proto, src: bSrc, dst: flow.dst, ...(flow.sport !== undefined ? { sport: flow.sport } : {}), ...(flow.dport !== undefined ? { dport: flow.dport } : {}), ...(iif !== undefined ? { iif } : {}), ctstate: 'new' };
      out.push(...checkFirewall(b, 'B', 'input', inPkt, ['B5'], 'the test packet to B itself'));
      const outPkt: FwPacket = { family: fam, proto: flow.proto, src: flow.dst, dst: bSrc, ...(flow.dport !== undefined ? { sport: flow.dport } : {}), ...(flow.sport !== undefined ? { dport: flow.sport } : {}), ...(iif !== undefined ? { oif: iif } : {}), ctstate: 'established' };
      out.push(...checkFirewall(b, 'B', 'output', outPkt, ['B7'], 'B\'s reply'));
      if (tunB !== null && ctx.tunnel !== 'ipsec') out.push(...checkRoute(b, 'B', { dst: bSrc, src: flow.dst }, tunB, ['B7'], 'the reply'));
      confirmWithCounters(b, out, tunB, null, a);
      return out;
    }
    out.push(...checkForwarding(b, 'B', fam, ['B5']));
    const iif = tunB ?? undefined;
    if (iif !== undefined) out.push(...checkRpFilter(b, 'B', { src: bSrc, dst: flow.dst, iif }, ['B5']));
    const lan = ctx.lanB ?? null;
    out.push(...checkRoute(b, 'B', { dst: flow.dst, src: bSrc, ...(iif !== undefined ? { iif } : {}) }, b.addrs ? null : lan, ['B5'], 'the decrypted packet'));
    const oif = b.routes ? routeLookup(b.routes, b.rules ?? null, { dst: flow.dst, src: bSrc, ...(iif !== undefined ? { iif } : {}) }).route?.dev ?? lan ?? undefined : lan ?? undefined;
    const fwd: FwPacket = { family: fam, proto: flow.proto, src: bSrc, dst: flow.dst, ...(flow.sport !== undefined ? { sport: flow.sport } : {}), ...(flow.dport !== undefined ? { dport: flow.dport } : {}), ...(iif !== undefined ? { iif } : {}), ...(oif !== undefined ? { oif } : {}), ctstate: 'new' };
    // A wrong route already explains B5; the forward chain judged with that wrong output interface would only echo it.
    if (!out.some((x) => x.host === 'B' && x.id === 'evidence-route-missing' && x.explains.includes('B5'))) {
      out.push(...checkFirewall(b, 'B', 'forward', fwd, ['B5'], 'the forwarded test packet'));
    }
    const reply: FwPacket = { family: fam, proto: flow.proto, src: flow.dst, dst: bSrc, ...(flow.dport !== undefined ? { sport: flow.dport } : {}), ...(flow.sport !== undefined ? { dport: flow.sport } : {}), ...(oif !== undefined ? { iif: oif } : {}), ...(iif !== undefined ? { oif: iif } : {}), ctstate: 'established' };
    out.push(...checkFirewall(b, 'B', 'forward', reply, ['B7'], 'the reply'));
    if (tunB !== null && ctx.tunnel !== 'ipsec') out.push(...checkRoute(b, 'B', { dst: bSrc, src: flow.dst, ...(oif !== undefined ? { iif: oif } : {}) }, tunB, ['B7'], 'the reply'));
    confirmWithCounters(b, out, tunB, oif ?? null, a);
  }
  return out;
}

/**
 * The counters read before and after the test, quoted beside B's issues: packets that came in on
 * the tunnel and did not leave on the LAN side confirm a loss inside B; bytes a peer received
 * confirm that A's packets reached WireGuard.
 */
function confirmWithCounters(b: HostEvidence, issues: Issue[], tunB: string | null, oif: string | null, a: HostEvidence | undefined): void {
  const mine = issues.filter((x) => x.host === 'B');
  if (mine.length === 0) return;
  if (b.links && b.linksBefore && tunB !== null) {
    const d = linkDelta(b.linksBefore, b.links);
    const tin = d.find((x) => x.dev === tunB), lout = oif !== null ? d.find((x) => x.dev === oif) : undefined;
    if (tin?.rx.packets !== undefined) {
      const text = `${tunB} RX +${tin.rx.packets} packets${lout?.tx.packets !== undefined ? `, ${oif} TX +${lout.tx.packets} packets` : ''} between the two readings`;
      for (const x of mine) if (x.explains.includes('B5')) x.quotes.push({ host: 'B', source: 'ip -s link (before/after)', text });
    }
  }
  if (b.wgBefore && (b.wgTransfer ?? b.wg)) {
    const peer = a ? peerForA(a, b) : b.wg?.peers.length === 1 ? b.wg.peers[0]! : null;
    const row = peer ? wgTransferDelta(b.wgBefore, (b.wgTransfer ?? b.wg)!).find((r) => r.publicKey === peer.publicKey) : undefined;
    if (row) {
      for (const x of mine) {
        if (x.id === 'evidence-wg-allowedips') x.quotes.push({ host: 'B', source: 'wg show transfer (before/after)', text: `peer ${row.publicKey} received ${row.rx} bytes, sent ${row.tx} bytes during the test` });
      }
    }
  }
}
