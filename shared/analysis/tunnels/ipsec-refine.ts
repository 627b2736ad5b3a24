// IPsec refinements of the two-host analysis (see ../README-ipsec.md), the IPsec module's post-pass. The core engine already treats
// IKE like a handshake and ESP like transport data (SPI + sequence pairing); this pass adds what only
// site-to-site IPsec gateways show: the LAN-side checkpoints A0/A7 on gateway A, traffic that leaves
// the WAN unencrypted, NAT applied before encryption, ESP lost one way while IKE passes, IKE that
// repeats unanswered, IKE messages lost as IP fragments, and "some hosts work" (selectors).
// Pure: reads the captures and the result, returns an amended copy.

import { isTunnelCarrier, type Packet } from '../../protocols/packet.ts';
import { cmd, isInterfaceName, shellQuote, proseData } from '../../util/shell.ts';
import { code } from '../facts.ts';
import type { AnalysisResult, CaptureInput, CaptureKey, Checkpoint, CheckpointLabel, Finding, IfaceKind } from '../types.ts';

type Kinds = Map<string, IfaceKind>;

/** Gateway-only labels: A0 request in on A's LAN side, A7 reply out on it (see README-ipsec.md). */
export const GATEWAY_LABELS = ['A0', 'A7'] as const;
const gw = (l: (typeof GATEWAY_LABELS)[number]): CheckpointLabel => l;

interface View {
  key: CaptureKey;
  packets: Packet[];
  byFrame: Map<number, Packet>;
  kinds: Kinds;
  t0: number;
}

const time = (p: Packet): number => p.tsSec + p.tsNsec * 1e-9;
/** Interface name as the result lists it: unnamed SLL2 interfaces read "if<index>" (same rule as prepare.ts's ifaceNameOf, kept local to avoid an import cycle). */
const ifName = (p: Packet): string => p.iface !== '' ? p.iface : p.ifindex !== undefined ? `if${p.ifindex}` : '';

function view(key: CaptureKey, input: CaptureInput, r: AnalysisResult): View {
  // IPsec refinement walks the packets many times with array methods: plain objects, built once.
  const packets = Array.from(input.packets);
  const byFrame = new Map<number, Packet>();
  for (const p of packets) byFrame.set(p.frame, p);
  const kinds: Kinds = new Map();
  for (const i of r.captures[key].interfaces) kinds.set(i.name, i.kind);
  return { key, packets, byFrame, kinds, t0: 0 };
}

const isOuter = isTunnelCarrier;

/** Same TCP segment / ICMP echo / UDP datagram, whatever NAT did to addresses and ports. */
function sameInner(p: Packet, q: Packet): boolean {
  if (p.tcp !== undefined && q.tcp !== undefined) {
    return p.tcp.seq === q.tcp.seq && p.tcp.flags === q.tcp.flags && p.tcp.len === q.tcp.len &&
      (p.tcp.tsval === undefined || q.tcp.tsval === undefined || p.tcp.tsval === q.tcp.tsval);
  }
  if (p.icmp !== undefined && q.icmp !== undefined) return p.icmp.type === q.icmp.type && p.icmp.seq === q.icmp.seq && p.icmp.id === q.icmp.id;
  if (p.udp !== undefined && q.udp !== undefined) return p.udp.len === q.udp.len && (p.payloadHash === undefined || p.payloadHash === q.payloadHash);
  return false;
}

const protoOf = (p: Packet): string => (p.tcp !== undefined ? 'tcp' : p.icmp !== undefined ? 'icmp' : p.udp !== undefined ? 'udp' : 'other');

const ev = (v: View, p: Packet): { capture: CaptureKey; frame: number } => ({ capture: v.key, frame: p.frame });

/** Replace the verdict's finding (same checkpoint and summary) by a better one, or add it. */
function replaceFinding(r: AnalysisResult, old: Finding | undefined, nu: Finding): void {
  // A finding settled by the hosts' own state (the selector line, the log line) stays the verdict: the
  // reading from the packets joins it instead of replacing it.
  if (old?.rule?.startsWith('evidence-') === true) {
    r.findings.splice(r.findings.indexOf(old) + 1, 0, nu);
    return;
  }
  if (old !== undefined) {
    const i = r.findings.indexOf(old);
    if (i >= 0) r.findings.splice(i, 1, nu);
    if (r.verdict.status === 'fail' && r.verdict.summary === old.title) {
      r.verdict = { ...r.verdict, class: nu.class, host: nu.host, summary: nu.title };
    }
  } else {
    r.findings.push(nu);
  }
}

const verdictFinding = (r: AnalysisResult): Finding | undefined =>
  r.findings.find((f) => f.severity === 'error' && f.title === r.verdict.summary);

/**
 * Addresses that belong to the capturing host, from IKE alone: the IKE_SA_INIT request (responder
 * SPI still zero) is sent by the initiator. For captures without direction flags.
 */
export function ikeLocalAddresses(packets: Iterable<Packet>, initiator: boolean): Set<string> {
  const out = new Set<string>();
  const seen = new Set<string>();
  for (const p of packets) {
    if (p.ike === undefined || p.src === undefined || p.dst === undefined) continue;
    const k = p.ike;
    let fromInitiator: boolean;
    if (k.version === 2 && k.flags !== undefined) {
      // The header says it: Initiator bit set by the original initiator, Response bit on answers.
      if ((k.flags & 0x20) !== 0 || k.exchange !== 34) continue;
      fromInitiator = (k.flags & 0x08) !== 0;
    } else {
      // No flags (IKEv1, or text without them): a zero responder SPI on the first message of an
      // SA only. A refusal (NO_PROPOSAL_CHOSEN) also carries a zero responder SPI but comes second.
      if (k.rspi !== '0000000000000000') continue;
      const key = k.ispi !== '' ? k.ispi : `${p.src}|${p.dst}`;
      const back = k.ispi !== '' ? k.ispi : `${p.dst}|${p.src}`;
      if (seen.has(back)) continue;
      seen.add(key);
      fromInitiator = true;
    }
    if (!fromInitiator) continue;
    out.add(initiator ? p.src : p.dst);
  }
  return out;
}

/**
 * Whether an IKE packet opens an SA as its initiator: IKEv2 by the header flags (Initiator set,
 * Response clear, IKE_SA_INIT); without flags, by the zero responder SPI.
 */
export function opensIke(p: Packet): boolean {
  const k = p.ike;
  if (k === undefined) return false;
  if (k.version === 2 && k.flags !== undefined) return k.exchange === 34 && (k.flags & 0x20) === 0 && (k.flags & 0x08) !== 0;
  return k.rspi === '0000000000000000';
}

/** Amends an IPsec analysis result; anything else is returned unchanged. */
export function refineIpsec(result: AnalysisResult, a: CaptureInput, b: CaptureInput): AnalysisResult {
  if (result.variant.tunnel !== 'ipsec' || result.flow === null || result.flow.dst === null) return result;
  const r: AnalysisResult = { ...result, findings: [...result.findings], checkpoints: [...result.checkpoints], verdict: { ...result.verdict } };
  const A = view('A', a, r);
  const B = view('B', b, r);
  // Checkpoint times count from capture A's first packet (pcapng from several interfaces is unsorted).
  let t0 = Infinity;
  for (const p of A.packets) { const t = time(p); if (t < t0) t0 = t; }
  A.t0 = Number.isFinite(t0) ? t0 : 0;
  const flow = result.flow;
  const cp = (l: string): Checkpoint | undefined => r.checkpoints.find((c) => c.label === l);
  const pkt = (v: View, c: Checkpoint | undefined): Packet | undefined => (c === undefined ? undefined : v.byFrame.get(c.frame));

  // Request-direction packets of the flow (the source may have been rewritten, so it is not required).
  const isReq = (p: Packet): boolean => !isOuter(p) && p.dst === flow.dst && protoOf(p) === flow.proto &&
    (flow.dport === null || p.dport === flow.dport || p.icmp !== undefined);
  const isRep = (p: Packet): boolean => !isOuter(p) && p.src === flow.dst && protoOf(p) === flow.proto &&
    (flow.dport === null || p.sport === flow.dport || p.icmp !== undefined);
  const kindA = (p: Packet): IfaceKind | undefined => A.kinds.get(ifName(p));

  const a1 = pkt(A, cp('A1'));
  const a6 = pkt(A, cp('A6'));

  // ---- A0: the request arrives on gateway A's LAN side (only when A forwards for a LAN).
  let a0: Packet | undefined;
  for (const p of A.packets) {
    if (kindA(p) !== 'lan' || !isReq(p) || p.dir === 'out') continue;
    if (a1 !== undefined ? sameInner(p, a1) && time(p) <= time(a1) + 0.5 : true) {
      if (a0 === undefined || time(p) < time(a0)) a0 = p;
      if (a1 === undefined) break;
    }
  }
  // A gateway that receives the request from its LAN; a client's own capture has no such copy.
  if (a0 !== undefined && cp('A0') === undefined) {
    r.checkpoints.push({ label: gw('A0'), capture: 'A', frame: a0.frame, iface: ifName(a0), dir: a0.dir === 'in' ? 'in' : null, t_s: time(a0) - A.t0 });
  }
  // ---- A7: the decrypted reply leaves gateway A towards the LAN host.
  if (a0 !== undefined && a6 !== undefined) {
    let a7: Packet | undefined;
    for (const p of A.packets) {
      if (kindA(p) !== 'lan' || !isRep(p) || p.dir === 'in' || p.dst !== a0.src || !sameInner(p, a6)) continue;
      if (time(p) + 1e-6 < time(a6)) continue;
      if (a7 === undefined || time(p) < time(a7)) a7 = p;
    }
    if (a7 !== undefined) r.checkpoints.push({ label: gw('A7'), capture: 'A', frame: a7.frame, iface: ifName(a7), dir: a7.dir === 'out' ? 'out' : null, t_s: time(a7) - A.t0 });
    else if (r.verdict.status === 'ok') {
      const f: Finding = {
        rule: 'ipsec-gateway-a7', severity: 'error', checkpoint: gw('A7'), host: 'A', class: 'firewall-or-routing',
        title: `Gateway A decrypts the reply but does not pass it to ${proseData(a0.src)} on its LAN`,
        detail: 'The reply comes out of the tunnel interface and never leaves the LAN side: forward firewall or routing on gateway A.',
        evidence: [ev(A, a6)], next_steps: [`On gateway A: ${code(cmd`ip route get ${a0.src ?? '?'}`)}, the forward chain (\`nft list ruleset\`), \`sysctl net.ipv4.ip_forward\`.`],
      };
      r.findings.push(f);
      r.verdict = { status: 'fail', first_missing: gw('A7'), class: f.class, host: f.host, summary: f.title };
    }
  }
  r.checkpoints.sort((x, y) => x.label.localeCompare(y.label));
  if (r.verdict.status === 'ok' && cp('A0') !== undefined && cp('A7') !== undefined) {
    r.verdict = { ...r.verdict, summary: `${r.verdict.summary} Gateway A's LAN side shows the request in (A0) and the reply out (A7).` };
  }

  const vf = verdictFinding(r);
  const wanA = [...A.kinds].find(([, k]) => k === 'wan')?.[0] ?? 'the WAN interface';
  const tunA = [...A.kinds].find(([, k]) => k === 'tunnel')?.[0] ?? 'the tunnel interface';

  // ---- Traffic that never enters the tunnel: it leaves the WAN unencrypted.
  if (r.verdict.status === 'fail' && r.verdict.first_missing === 'A1') {
    const clear = A.packets.filter((p) => isReq(p) && kindA(p) === 'wan' && p.dir !== 'in' && (a0 === undefined || p !== a0));
    // Hosts behind the peer that do answer through the tunnel. A packet that shows up on the tunnel
    // interface before its LAN-side copy came out of the tunnel (decrypted), so its source is remote;
    // this needs no direction flags. Without a LAN-side copy the direction flag decides.
    const lanCopies = new Map<string, number[]>();
    const sig = (p: Packet): string => `${p.src}>${p.dst}|${p.tcp ? `${p.tcp.seq}|${p.tcp.flags}` : p.icmp ? `${p.icmp.id}|${p.icmp.seq}` : p.udp?.len}`;
    for (const p of A.packets) {
      if (kindA(p) !== 'lan' || isOuter(p) || p.src === undefined) continue;
      const k = sig(p);
      const l = lanCopies.get(k);
      if (l === undefined) lanCopies.set(k, [time(p)]); else l.push(time(p));
    }
    const remote = new Map<string, Packet>();
    for (const p of A.packets) {
      if (kindA(p) !== 'tunnel' || isOuter(p) || p.src === undefined || p.src === flow.dst || remote.has(p.src)) continue;
      const l = lanCopies.get(sig(p));
      const near = l?.find((t) => Math.abs(t - time(p)) < 0.05);
      if (near !== undefined ? near > time(p) : p.dir === 'in') remote.set(p.src, p);
    }
    const working = [...remote.keys()];
    const through = remote;
    const ikeUp = A.packets.some((p) => p.ike !== undefined) && B.packets.some((p) => p.ike !== undefined);
    if (clear.length > 0 || working.length > 0) {
      const some = working.length > 0;
      const f: Finding = {
        rule: 'ipsec-bypass', severity: 'error', checkpoint: 'A1', host: 'A', class: some ? 'ipsec-config' : 'routing',
        title: some
          ? `Traffic to ${proseData(flow.dst)} bypasses the tunnel while ${proseData(working.slice(0, 2).join(', '))} goes through it: the traffic selectors do not cover ${proseData(flow.dst)}`
          : `A sends the test connection to ${proseData(flow.dst)} out ${clear[0] !== undefined ? proseData(ifName(clear[0])) : proseData(wanA)} unencrypted instead of into the tunnel`,
        detail: (clear.length > 0 ? `The request leaves ${proseData(ifName(clear[0]!))} in clear text (${clear.length} time${clear.length > 1 ? 's' : ''}). ` : '') +
          (some
            ? 'Some hosts behind the peer work and this one does not: the child SA\'s local/remote subnets (or their netmask) leave it out on one side, so no route or policy sends it into the tunnel.'
            : ikeUp
              ? 'IKE is up, but nothing for this destination is routed into the tunnel: a missing route (route-based tunnel) or a missing selector (policy-based).'
              : 'Nothing routes this destination into the tunnel.'),
        evidence: (a0 ? [ev(A, a0)] : []).concat(clear.slice(0, 3).map((p) => ev(A, p)), working.slice(0, 2).map((h) => ev(A, through.get(h)!))),
        next_steps: [
          `On gateway A: \`swanctl --list-sas\` — the child SA's remote traffic selectors must include ${proseData(flow.dst)}; the peer must list it as local.`,
          `On gateway A: ${code(cmd`ip route get ${flow.dst ?? '?'}`)} (and \`ip route show table 220\` for strongSwan) must point into ${isInterfaceName(tunA) ? proseData(shellQuote(tunA)) : 'the tunnel interface'}.`,
          'Selectors and subnet masks must agree on both gateways (a /24 on one side and a /16 on the other narrows or fails the child SA).',
        ],
      };
      replaceFinding(r, vf, f);
    }
  }

  // ---- NAT applied to tunnel traffic on gateway A: the source changes between A0 and A1.
  if (a0 !== undefined && a1 !== undefined && (a0.src !== a1.src || a0.dst !== a1.dst)) {
    const what = a0.src !== a1.src ? `source ${proseData(a0.src)} → ${proseData(a1.src)}` : `destination ${proseData(a0.dst)} → ${proseData(a1.dst)}`;
    const breaks = r.verdict.status === 'fail' && ['A4', 'B3', 'B4'].includes(r.verdict.first_missing ?? '');
    const f: Finding = {
      rule: 'ipsec-nat-before-encryption', severity: breaks ? 'error' : 'warning', checkpoint: breaks ? r.verdict.first_missing as CheckpointLabel : 'A1', host: 'A', class: 'nat',
      title: `Gateway A applies NAT to tunnel traffic (${what}) before encryption`,
      detail: breaks
        ? 'The rewritten packet no longer matches the traffic selectors, so it is not encrypted (or the peer discards it after decryption). NAT rules must exempt traffic between the two sites.'
        : 'The peer accepts it here, but hosts behind B see the gateway\'s address instead of the real client.',
      evidence: [ev(A, a0), ev(A, a1)],
      next_steps: [
        'On gateway A: `nft list ruleset` (or `iptables -t nat -S POSTROUTING`): add an accept/return rule for site-to-site traffic before the masquerade/SNAT rule.',
        'strongSwan with policies in the kernel: exempt packets matched by `meta ipsec exists` / `-m policy --dir out --pol ipsec`.',
      ],
    };
    if (breaks) replaceFinding(r, vf, f);
    else r.findings.push(f);
  }

  // ---- One-way ESP while IKE between the same endpoints passes: a filter, not a route.
  if (r.verdict.status === 'fail' && r.verdict.class === 'firewall-or-routing' && (r.verdict.first_missing === 'A5' || r.verdict.first_missing === 'B3')) {
    const toA = r.verdict.first_missing === 'A5';
    const carrier = toA ? pkt(B, cp('B8')) : pkt(A, cp('A4'));
    const recv = toA ? A : B;
    const sent = toA ? B : A;
    if (carrier !== undefined) {
      // IKE that made it in the same direction between the same addresses (and UDP port, under NAT-T).
      // The sender's own address survives NAT on the receiving side for A, the receiver's for B.
      const udp = carrier.esp !== undefined && carrier.sport !== undefined;
      const ikeIn = recv.packets.find((p) => p.ike !== undefined && p.dir !== 'out' &&
        (toA ? p.src === carrier.src : p.dst === carrier.dst) && (!udp || p.dport === carrier.dport));
      if (ikeIn !== undefined) {
        const f: Finding = {
          rule: 'ipsec-esp-one-way', severity: 'error', checkpoint: r.verdict.first_missing as CheckpointLabel, host: 'path', class: 'firewall',
          title: `ESP from ${toA ? 'B' : 'A'} is lost between the gateways while IKE on the same ${udp ? `UDP port ${carrier.dport}` : 'path'} gets through`,
          detail: `ESP flows one way only. The address pair is reachable (IKE from ${toA ? 'B' : 'A'} arrived), so a filter between the gateways drops ${udp ? 'UDP-encapsulated ' : ''}ESP${udp ? '' : ' (IP protocol 50)'}.`,
          evidence: [ev(sent, carrier), ev(recv, ikeIn)],
          next_steps: [
            udp ? `Allow UDP ${carrier.dport} in both directions on every firewall between the gateways (ESP shares it with IKE under NAT-T).`
              : 'Allow IP protocol 50 (ESP) in both directions on every firewall between the gateways; with NAT in between, force UDP encapsulation.',
            `Capture on the ${toA ? 'A' : 'B'} side's router to find the hop that drops it.`,
          ],
        };
        replaceFinding(r, vf, f);
      }
    }
  }

  // ---- IKE retransmissions without an answer, and IKE messages lost as IP fragments.
  ikeRetransmits(r, A, B);
  return r;
}

interface IkeMsg { key: string; sends: Packet[]; answered: boolean; fragmented: boolean }

function ikeRetransmits(r: AnalysisResult, A: View, B: View): void {
  for (const v of [A, B]) {
    const msgs = new Map<string, IkeMsg>();
    // Requests and responses share ispi + message ID; a retransmission repeats the same triple.
    const fragIds = new Set<number>();
    for (const p of v.packets) if (p.ip?.frag !== undefined && p.ip.frag.more && p.ike !== undefined && p.ip.id !== undefined) fragIds.add(p.ip.id);
    const trailed = ikeFollowedByFragment(v.packets);
    for (const p of v.packets) {
      if (p.ike === undefined || p.src === undefined || p.dst === undefined) continue;
      const k = `${p.ike.ispi}|${p.ike.msgid}|${p.ike.exchange}`;
      const dirKey = `${k}|${p.src}>${p.dst}`;
      const back = msgs.get(`${k}|${p.dst}>${p.src}`);
      if (back !== undefined) { back.answered = true; continue; }
      let m = msgs.get(dirKey);
      if (m === undefined) { m = { key: dirKey, sends: [], answered: false, fragmented: false }; msgs.set(dirKey, m); }
      m.sends.push(p);
      if ((p.ip?.id !== undefined && fragIds.has(p.ip.id)) || trailed.has(p)) m.fragmented = true;
    }
    for (const m of msgs.values()) {
      if (m.answered || m.sends.length < 2) continue;
      const first = m.sends[0]!;
      const gaps = m.sends.slice(1).map((p, i) => (time(p) - time(m.sends[i]!)).toFixed(1));
      const size = first.udp !== undefined && first.udp.len > 0 ? first.udp.len + 8 + (first.ip?.v === 6 ? 40 : 20) : (first.ip?.len ?? first.len);
      // Short text may print no length: say nothing rather than "0-byte".
      const sized = size > 28 ? `A ${size}-byte IKE message` : 'An IKE message';
      if (m.fragmented) {
        const cpl: CheckpointLabel = v.key === 'A' ? 'B1' : 'A3';
        const vf = r.verdict.status === 'fail' && r.verdict.first_missing === cpl ? verdictFinding(r) : undefined;
        replaceFinding(r, vf, {
          rule: 'ike-fragments-lost', severity: 'error', checkpoint: cpl, host: 'path', class: 'mtu',
          title: `${sized} leaves ${v.key} as IP fragments ${m.sends.length} times and is never answered: the fragments are lost`,
          detail: 'Large IKE messages (IKE_AUTH with certificates) do not fit the path MTU and travel as IP fragments; a firewall or NAT device in between drops the fragments.',
          evidence: m.sends.slice(0, 4).map((p) => ev(v, p)),
          next_steps: ['Enable IKEv2 fragmentation on both gateways (strongSwan `fragmentation = yes`), or allow IP fragments on the path.',
            'Smaller certificates / no certificate chain in IKE_AUTH also help.'],
        });
      } else if (v.key === 'A' && answeredBefore(msgs, first) && !seenOn(B, first) && r.verdict.status === 'fail' &&
        (r.verdict.first_missing === 'A4' || r.verdict.first_missing === 'B3')) {
        // An earlier exchange between the same gateways went both ways, this one never reaches B: the
        // path filters by port (NAT-T moves IKE from 500 to 4500) or by size, not by address.
        const port = first.dport ?? 0;
        replaceFinding(r, verdictFinding(r), {
          rule: 'ike-port-blocked', severity: 'error', checkpoint: r.verdict.first_missing, host: 'path', class: 'firewall',
          title: `IKE on UDP ${port} is lost between the gateways (${m.sends.length} tries) after the exchange on UDP ${answeredPort(msgs) ?? '?'} succeeded`,
          detail: port === 4500
            ? 'IKE_SA_INIT found a NAT and both gateways moved to UDP 4500 (NAT-T), which a firewall on the way drops; without the IKE_AUTH exchange no SA exists and no ESP can flow.'
            : 'Part of the IKE exchange passes, the rest never reaches the peer: a filter on the way.',
          evidence: [ev(A, first)].concat(m.sends.slice(1, 3).map((p) => ev(A, p))),
          next_steps: [`Allow UDP ${port} between the gateways in both directions (NAT-T needs UDP 500 and 4500).`,
            'On the peer, capture on its WAN: nothing on this port arrives there.'],
        });
      } else {
        r.findings.push({
          rule: 'ike-unanswered-retries', severity: 'warning', checkpoint: v.key === 'A' ? 'A3' : 'B2', host: v.key === 'A' ? 'path' : v.key, class: 'firewall-or-routing',
          title: `IKE ${first.sport === 4500 || first.dport === 4500 ? '(UDP 4500) ' : ''}request repeated ${m.sends.length} times without an answer`,
          detail: `${v.key} retransmits the same IKE message (intervals ${gaps.join(', ')} s) and nothing comes back. ` +
            (first.dport === 4500 ? 'The exchange moved to UDP 4500 (NAT-T): a firewall may allow 500 but not 4500.' :
              'UDP 500/4500 is blocked on the way or at the peer, or a NAT device in between needs NAT-T on both sides.'),
          evidence: m.sends.slice(0, 4).map((p) => ev(v, p)),
          next_steps: ['Allow UDP 500 and 4500 (and ESP, protocol 50, when no NAT is in between) towards the peer.',
            'Capture on the peer\'s WAN: if the requests arrive there, the peer ignores them (`swanctl --list-conns`, charon log).'],
        });
      }
    }
  }
}

/**
 * IKE packets whose IP datagram went out in pieces, told by the piece that follows. Plain
 * `tcpdump -n` text prints the first fragment as an ordinary IKE line (no IP ID, no flags) and the
 * rest as "a > b: ip-proto-17"; the importer marks those as later fragments. A later UDP fragment
 * between the same addresses on the same interface, right after the IKE line, belongs to it.
 */
function ikeFollowedByFragment(packets: readonly Packet[]): Set<Packet> {
  const out = new Set<Packet>();
  const lastIke = new Map<string, Packet>();
  for (const p of packets) {
    if (p.src === undefined || p.dst === undefined) continue;
    const k = `${ifName(p)}|${p.src}>${p.dst}`;
    if (p.ike !== undefined) { lastIke.set(k, p); continue; }
    const f = p.ip?.frag;
    if (f === undefined || (f.offset === 0 && f.more) || p.ip?.proto !== 17 || p.sport !== undefined) continue;
    const ike = lastIke.get(k);
    // The pieces of one datagram leave back to back; a piece much later belongs to something else.
    if (ike !== undefined && Math.abs(time(p) - time(ike)) < 0.05) out.add(ike);
  }
  return out;
}

/** Some other IKE message between the same two addresses was answered before this one was first sent. */
function answeredBefore(msgs: Map<string, IkeMsg>, first: Packet): boolean {
  for (const m of msgs.values()) {
    const p = m.sends[0]!;
    if (m.answered && p.src === first.src && p.dst === first.dst && time(p) < time(first)) return true;
  }
  return false;
}

function answeredPort(msgs: Map<string, IkeMsg>): number | undefined {
  for (const m of msgs.values()) if (m.answered) return m.sends[0]!.dport;
  return undefined;
}

/**
 * The other capture shows a copy of this IKE message (same SPIs, exchange and message ID). Text
 * captures may lack the SPIs ('' below -vv) and the message ID (-1 below -v): a field either side
 * does not know is not compared.
 */
function seenOn(v: View, p: Packet): boolean {
  const k = p.ike!;
  return v.packets.some((q) => q.ike !== undefined && q.ike.exchange === k.exchange &&
    (q.ike.ispi === k.ispi || q.ike.ispi === '' || k.ispi === '') &&
    (q.ike.msgid === k.msgid || q.ike.msgid < 0 || k.msgid < 0));
}
