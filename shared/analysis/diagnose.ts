// Findings and verdict: what the checkpoints (and their absence) say about where the path breaks.

import { ifaceNameOf, type Rec, type Side } from './prepare.ts';
import type { Inner, InnerList, Tuple } from './inner.ts';
import type { CarrierPairs } from './carriers.ts';
import type {
  AnalysisResult, CaptureKey, CheckpointLabel, ClockEstimate, FailureClass, Finding, HopStage, Role, Verdict,
} from './types.ts';
import { PATH_ORDER } from './types.ts';

type Chain = Array<{ side: Side; r: Rec; stage: HopStage; carrier: boolean }>;

export interface Facts {
  A: Side; B: Side;
  T: Tuple | null;
  lanTuple: Tuple | null;
  fA: InnerList; fB: InnerList; fB2: InnerList;
  labels: Map<CheckpointLabel, { side: Side; r: Rec }>;
  cp: CarrierPairs;
  clock: ClockEstimate;
  tol: number;
  p2p: boolean;
  hub: boolean;
  aTunOut: InnerList; aTunIn: InnerList; bTunIn: InnerList; bTunOut: InnerList; bLanOut: InnerList; bLanIn: InnerList;
  reqChains: Chain[]; repChains: Chain[];
  flowFrom: CaptureKey | null;
  roles: { A: Role; B: Role };
}

const ev = (side: Side, r: Rec): { capture: CaptureKey; frame: number } => ({ capture: side.key, frame: r.p.frame });

function ep(p: { src?: string; sport?: number }): string {
  return p.sport !== undefined ? `${p.src}:${p.sport}` : `${p.src ?? '?'}`;
}
function epd(p: { dst?: string; dport?: number }): string {
  return p.dport !== undefined ? `${p.dst}:${p.dport}` : `${p.dst ?? '?'}`;
}

/** Whether the capture saw all interfaces (tcpdump -i any, or several interfaces listed). */
function seesAllInterfaces(s: Side): boolean {
  return s.multiIface;
}

function ifaceNames(s: Side, kind: 'tunnel' | 'wan' | 'lan'): string[] {
  return [...s.ifaces.values()].filter((f) => f.kind === kind).map((f) => f.name || '(unnamed)');
}

export function diagnose(f: Facts): { findings: Finding[]; verdict: Verdict; variant: AnalysisResult['variant'] } {
  const { A, B, T, labels } = f;
  const findings: Finding[] = [];
  const L = (l: CheckpointLabel): { side: Side; r: Rec } | undefined => labels.get(l);
  const tunnelKind: AnalysisResult['variant']['tunnel'] =
    A.outer.some((r) => r.outer === 'esp' || r.outer === 'ike') || B.outer.some((r) => r.outer === 'esp' || r.outer === 'ike') ? 'ipsec'
      : (A.outer.length + B.outer.length > 0 ? 'wireguard' : 'unknown');
  const ipsec = tunnelKind === 'ipsec';
  const cfgClass: FailureClass = ipsec ? 'ipsec-config' : 'wireguard-config';
  const tunShow = ipsec ? 'swanctl --list-sas (or ipsec statusall)' : 'wg show';
  const dst = T !== null ? (T.dport !== undefined ? `${T.dst}:${T.dport}` : T.dst) : '?';
  const tunA = ifaceNames(A, 'tunnel')[0] ?? 'wg0';
  const tunB = ifaceNames(B, 'tunnel')[0] ?? 'wg0';
  const wanA = ifaceNames(A, 'wan')[0] ?? 'the WAN interface';
  const wanB = ifaceNames(B, 'wan')[0] ?? 'the WAN interface';
  const lanB = ifaceNames(B, 'lan')[0] ?? 'the LAN interface';
  const aTunAddr = T?.src ?? '?';

  // Handshake state and topology variant.
  const hsSeen = L('A2') !== undefined || L('B1') !== undefined;
  const dataSeen = A.outer.some((r) => r.dir === 'out' && r.wgType === 4) || B.outer.some((r) => r.dir === 'in' && r.wgType === 4) ||
    A.outer.some((r) => r.outer === 'esp');
  const handshake: AnalysisResult['variant']['handshake'] = hsSeen ? 'seen' : (dataSeen ? 'recent' : 'missing');
  const path: AnalysisResult['variant']['path'] = f.hub ? 'hub-and-spoke' : f.p2p ? 'point-to-point' : (L('B5') !== undefined ? 'forwarded' : 'unknown');
  const variant = { handshake, path, tunnel: tunnelKind };

  if (T === null) {
    const v: Verdict = {
      status: 'inconclusive', first_missing: null, class: 'none', host: null,
      summary: A.recs.length === 0 || B.recs.length === 0
        ? 'One of the captures is empty; capture on both hosts while making the test connection.'
        : 'No test connection found in either capture (no inner packet on a tunnel interface and no connection attempt).',
    };
    findings.push({
      severity: 'warning', checkpoint: null, host: 'A', class: 'none', title: 'No flow under test',
      evidence: [], next_steps: [
        'Start both captures first, then make one test connection from A (e.g. `curl http://<address behind B>`).',
        'Capture on all interfaces: `tcpdump -ni any -w a.pcap udp port <wg port> or host <target>`.',
        'Or name the flow explicitly with --flow "tcp <dst>:<port>".',
      ],
    });
    return { findings, verdict: v, variant };
  }

  // Which labels a healthy run would show in these captures.
  const expected = new Set<CheckpointLabel>(PATH_ORDER);
  const aHasTunnel = [...A.ifaces.values()].some((x) => x.kind === 'tunnel') || seesAllInterfaces(A);
  const bHasTunnel = [...B.ifaces.values()].some((x) => x.kind === 'tunnel') || seesAllInterfaces(B);
  const aHasWan = A.outer.length > 0 || seesAllInterfaces(A);
  const bHasWan = B.outer.length > 0 || seesAllInterfaces(B);
  const notCaptured: string[] = [];
  if (!aHasTunnel) { expected.delete('A1'); expected.delete('A6'); notCaptured.push(`A's tunnel interface`); }
  if (!bHasTunnel) { expected.delete('B4'); expected.delete('B7'); notCaptured.push(`B's tunnel interface`); }
  if (!aHasWan) { for (const l of ['A2', 'A3', 'A4', 'A5'] as const) expected.delete(l); notCaptured.push(`A's WAN interface`); }
  if (!bHasWan) { for (const l of ['B1', 'B2', 'B3', 'B8'] as const) expected.delete(l); notCaptured.push(`B's WAN interface`); }
  if (handshake === 'recent') for (const l of ['A2', 'A3', 'B1', 'B2'] as const) expected.delete(l);
  if (f.p2p) { expected.delete('B5'); expected.delete('B6'); }
  if (!seesAllInterfaces(B) && f.lanTuple === null && L('B7') !== undefined) { expected.delete('B5'); expected.delete('B6'); }

  if (notCaptured.length > 0) {
    findings.push({
      severity: 'info', checkpoint: null, host: notCaptured[0]!.startsWith('A') ? 'A' : 'B', class: 'none',
      title: `Not captured: ${notCaptured.join(', ')}`,
      detail: 'Checkpoints on interfaces that were not captured are not expected; capture with -i any to see every hop.',
      evidence: [], next_steps: ['Capture on all interfaces: `tcpdump -ni any -w host.pcap ...` (and keep `ip -o link` output for SLL2 files).'],
    });
  }
  if (handshake === 'recent') {
    findings.push({
      severity: 'info', checkpoint: 'A2', host: 'A', class: 'none',
      title: 'No handshake in the capture: the peers already had a session',
      detail: 'A handshake completed shortly before the capture started, so A2, A3, B1 and B2 are not expected.',
      evidence: [], next_steps: [`\`${tunShow}\` on both hosts shows the time of the latest handshake.`],
    });
  }

  const add = (x: Finding): void => { findings.push(x); };
  const inits = A.hs.filter((r) => r.dir === 'out' && r.outer === 'wg' && r.wgType === 1);
  const resps = A.hs.filter((r) => r.dir === 'in' && r.outer === 'wg' && r.wgType === 2);
  const bInits = B.hs.filter((r) => r.dir === 'in' && r.outer === 'wg' && r.wgType === 1);
  const bResps = B.hs.filter((r) => r.dir === 'out' && r.outer === 'wg' && r.wgType === 2);
  // B's own carrier endpoint: where it receives, or what it sends from.
  let bListen: string | null = null;
  for (const r of B.outer) {
    if (r.dir === 'in') { bListen = epd(r.p); break; }
    if (r.dir === 'out') { bListen = ep(r.p); break; }
  }
  const misroutedA1 = f.fA.find((x) => x.fwd && x.rec.kind !== 'tunnel');

  // A1 on the wrong interface is a finding even when the tunnel is carrying something else.
  if (L('A1') === undefined && misroutedA1 !== undefined) {
    add({
      severity: 'error', checkpoint: 'A1', host: 'A', class: 'routing',
      title: `A sends the test connection out ${ifaceNameOf(misroutedA1.rec.p) || 'another interface'} instead of the tunnel`,
      detail: `The first packet to ${dst} leaves A on ${ifaceNameOf(misroutedA1.rec.p) || '?'} (${misroutedA1.rec.kind}), so it never enters the tunnel: it dies before the tunnel.`,
      evidence: [ev(A, misroutedA1.rec)],
      next_steps: [
        `On A: \`ip route get ${T.dst}\` must name ${tunA}; check \`ip rule\` and the routing table the tunnel uses.`,
        `On A: \`${tunShow}\`: the peer's allowed IPs must include ${T.dst}.`,
      ],
    });
  }

  const missingFinding = (l: CheckpointLabel): Finding | null => {
    switch (l) {
      case 'A1': {
        if (misroutedA1 !== undefined) return null;
        return {
          severity: 'error', checkpoint: 'A1', host: 'A', class: 'routing',
          title: `A never sends the test connection into the tunnel`,
          detail: `No packet to ${dst} appears on A's tunnel interface: A has no usable route for it through the tunnel.`,
          evidence: [],
          next_steps: [`On A: \`${tunShow}\` (interface up, allowed IPs include ${T.dst}).`, `On A: \`ip route get ${T.dst}\` and \`ip rule\`.`],
        };
      }
      case 'A2': {
        const anyOut = A.outer.some((r) => r.dir === 'out');
        return {
          severity: 'error', checkpoint: 'A2', host: 'A', class: anyOut ? 'routing' : cfgClass,
          title: ipsec ? 'A never starts the IKE exchange' : 'A never sends a handshake initiation',
          detail: anyOut
            ? 'A sends other carrier traffic but no handshake for this connection; check its route to the peer.'
            : 'No carrier packet leaves A at all: the peer has no endpoint configured on A, or A has no route to it.',
          evidence: L('A1') ? [ev(A, L('A1')!.r)] : [],
          next_steps: [
            `On A: \`${tunShow}\`: the peer needs an endpoint${bListen ? ` (B listens on ${bListen})` : ''}.`,
            `On A: \`ip route get ${bListen?.split(':')[0] ?? '<B public address>'}\` and \`ip rule\`.`,
          ],
        };
      }
      case 'B1': {
        const a2 = L('A2');
        const target = a2 !== undefined ? epd(a2.r.p) : null;
        if (target !== null && bListen !== null && target !== bListen) {
          return {
            severity: 'error', checkpoint: 'B1', host: 'A', class: cfgClass,
            title: `A sends its handshake to ${target}, but B listens on ${bListen}`,
            detail: `A's endpoint setting for the peer is wrong; nothing arrives at B.`,
            evidence: [ev(A, a2!.r)],
            next_steps: [`On A: fix the peer's Endpoint (\`wg set ${tunA} peer <key> endpoint ${bListen}\`) and check with \`${tunShow}\`.`],
          };
        }
        const reps = inits.length;
        return {
          severity: 'error', checkpoint: 'B1', host: 'path', class: 'firewall-or-routing',
          title: `A's ${ipsec ? 'IKE request' : 'handshake initiation'} never reaches B`,
          detail: `A sent ${reps > 1 ? `${reps} initiations (retried about every 5 s)` : 'it'} to ${target ?? '?'}; B's capture shows none. It dies between the hosts or in front of B.`,
          evidence: (a2 ? [ev(A, a2.r)] : []).concat(inits.slice(1, 4).map((r) => ev(A, r))),
          next_steps: [
            `Check firewalls/routers in front of B: they must let UDP to ${bListen ?? target ?? 'B'} in.`,
            `On B: \`ip route get ${a2?.r.p.src ?? '<A public address>'}\` (must leave via ${wanB}); \`nft list ruleset\` for input drops.`,
            `On B: \`tcpdump -ni ${wanB} udp port ${(bListen ?? target ?? ':').split(':')[1] ?? ''}\` while A retries.`,
          ],
        };
      }
      case 'B2':
        return {
          severity: 'error', checkpoint: 'B2', host: 'B', class: ipsec ? 'ipsec-config' : 'wireguard-config-or-firewall',
          title: ipsec ? 'B receives the IKE request but does not answer' : 'B receives the handshake initiation but does not answer',
          detail: ipsec ? 'B rejects the proposal or has no matching connection.' : 'B has no peer with A\'s public key, the keys or preshared key do not match, or B\'s own firewall drops the initiation.',
          evidence: bInits.slice(0, 4).map((r) => ev(B, r)),
          next_steps: ipsec ? ['On B: `swanctl --list-conns`, `journalctl -u strongswan` for the rejected proposal.'] : [
            `On B: \`wg show ${tunB}\`: a peer with A's public key must exist; compare keys with \`wg show\` on A.`,
            'On both: `wg show all preshared-keys` must agree.',
            `On B: \`nft list ruleset\`: input must accept UDP to ${bListen ?? 'the listen port'} on ${wanB}.`,
          ],
        };
      case 'A3': {
        const b1 = L('B1'), b2 = L('B2');
        if (b1 !== undefined && b2 !== undefined && (epd(b2.r.p) !== ep(b1.r.p))) {
          return {
            severity: 'error', checkpoint: 'A3', host: 'B', class: 'routing',
            title: `B answers to ${epd(b2.r.p)}, not to where the initiation came from (${ep(b1.r.p)})`,
            evidence: [ev(B, b1.r), ev(B, b2.r)],
            next_steps: [`On B: \`ip route get ${b1.r.p.src}\`; \`ip rule\`; check SNAT rules on ${wanB} (\`nft list ruleset\`).`],
          };
        }
        return {
          severity: 'error', checkpoint: 'A3', host: 'path', class: 'firewall-or-routing',
          title: 'B\'s handshake response never reaches A',
          detail: 'B answers, but nothing arrives on A: the return path (a firewall or the NAT in front of A) drops it.',
          evidence: (b2 ? [ev(B, b2.r)] : []).concat(bResps.slice(1, 4).map((r) => ev(B, r))),
          next_steps: [
            `Check the NAT router/firewall in front of A: it must let replies from ${bListen ?? 'B'} back to ${L('A2') ? ep(L('A2')!.r.p) : 'A'}.`,
            `On A: \`tcpdump -ni ${wanA} udp\` while retrying.`,
          ],
        };
      }
      case 'A4':
        return {
          severity: 'error', checkpoint: 'A4', host: 'A', class: 'firewall',
          title: 'A gets the handshake response but never sends data',
          detail: `${resps.length > 1 ? `Initiations and responses alternate (${inits.length}/${resps.length}): ` : ''}A's own firewall drops the response after tcpdump saw it (or the preshared keys differ).`,
          evidence: inits.slice(0, 3).map((r) => ev(A, r)).concat(resps.slice(0, 3).map((r) => ev(A, r))),
          next_steps: [
            `On A: \`nft list ruleset\` / \`iptables-save\`: input must accept UDP from ${bListen ?? 'B'} to ${L('A2') ? ep(L('A2')!.r.p) : 'the listen port'} (established).`,
            'On both: `wg show all preshared-keys` must agree.',
          ],
        };
      case 'B3':
        return {
          severity: 'error', checkpoint: 'B3', host: 'path', class: 'firewall-or-routing',
          title: 'A\'s encrypted data never reaches B',
          evidence: L('A4') ? [ev(A, L('A4')!.r)] : [],
          next_steps: [`Check firewalls between A and B for UDP to ${bListen ?? 'B'}.`, `On B: \`tcpdump -ni ${wanB} udp\`.`],
        };
      case 'B4':
        return {
          severity: 'error', checkpoint: 'B4', host: 'B', class: cfgClass,
          title: `B decrypts nothing for ${aTunAddr}: it dies at the tunnel policy`,
          detail: ipsec ? 'The traffic selectors on B do not cover A\'s inner source.' : `B's allowed IPs for A's peer do not include A's tunnel address ${aTunAddr}, so B drops the decrypted packet.`,
          evidence: L('B3') ? [ev(B, L('B3')!.r)] : [],
          next_steps: [ipsec ? 'On B: `swanctl --list-sas` and the local/remote traffic selectors.' : `On B: \`wg show ${tunB} allowed-ips\` must list ${aTunAddr} for A's peer.`],
        };
      case 'B5': {
        const rej = icmpErrorsFor(f);
        if (rej.length > 0) {
          const x = rej[0]!;
          const code = x.r.p.icmp!.code;
          const admin = x.r.p.icmp!.v === 4 ? (code === 9 || code === 10 || code === 13) : code === 1;
          const noRoute = x.r.p.icmp!.v === 4 ? (code === 0 || code === 1) : (code === 0 || code === 3);
          return {
            severity: 'error', checkpoint: 'B5', host: 'B', class: admin ? 'firewall' : noRoute ? 'routing' : 'firewall-or-routing',
            title: admin ? `B's firewall rejects the forwarded packet (ICMP "administratively prohibited" back to ${aTunAddr})`
              : `B refuses to forward to ${dst} and says so with ICMP type ${x.r.p.icmp!.type} code ${code}`,
            detail: 'It dies after decryption, on B: the ICMP error comes from B itself.',
            evidence: (L('B4') ? [ev(B, L('B4')!.r)] : []).concat(rej.slice(0, 3).map((y) => ev(y.side, y.r))),
            next_steps: admin
              ? [`On B: \`nft list ruleset\`: find the reject rule in the forward chain for ${tunB} → ${lanB}.`]
              : [`On B: \`ip route get ${T.dst}\` must leave via ${lanB}.`, 'On B: `sysctl net.ipv4.ip_forward` (must be 1).'],
          };
        }
        return {
          severity: 'error', checkpoint: 'B5', host: 'B', class: 'firewall-or-routing',
          title: `B decrypts the packet but does not forward it to ${dst}`,
          detail: 'It dies after decryption: forwarding is off, the forward chain drops it, or B has no route to the destination.',
          evidence: L('B4') ? [ev(B, L('B4')!.r)] : [],
          next_steps: [
            'On B: `sysctl net.ipv4.ip_forward` (must be 1).',
            `On B: \`nft list ruleset\`: forward must accept ${tunB} → ${lanB} to ${dst}.`,
            `On B: \`ip route get ${T.dst}\` (must leave via ${lanB}).`,
          ],
        };
      }
      case 'B6': {
        const b5 = L('B5');
        const snat = b5 !== undefined && b5.r.p.src !== T.src;
        return {
          severity: 'error', checkpoint: 'B6', host: 'siteB', class: snat || b5 === undefined ? 'firewall-or-routing' : 'routing',
          title: `${dst} never answers B's forwarded packet`,
          detail: snat
            ? `B masquerades as ${b5!.r.p.src}; the destination or a firewall in site B drops the connection.`
            : `B forwards with A's tunnel address ${T.src} as source: site B needs a route back to ${T.src} via B, and its firewalls must allow it.`,
          evidence: b5 ? [ev(B, b5.r)] : [],
          next_steps: snat
            ? [`On ${T.dst}: is the service listening, and does its firewall accept ${b5!.r.p.src}?`, `On B: \`tcpdump -ni ${lanB} host ${T.dst}\`.`]
            : [`On ${T.dst} / site B's router: \`ip route get ${T.src}\` must point to B.`, `Or masquerade on B: \`nft add rule ip nat postrouting oifname ${lanB} masquerade\`.`],
        };
      }
      case 'B7': {
        const b6 = L('B6');
        const wrong = b6 !== undefined ? findElsewhere(B, b6.r, f) : null;
        if (wrong !== null) {
          return {
            severity: 'error', checkpoint: 'B7', host: 'B', class: 'routing',
            title: `B sends the reply out ${ifaceNameOf(wrong.p)} instead of the tunnel`,
            detail: 'The return path is broken: B routes A\'s tunnel address elsewhere.',
            evidence: [ev(B, b6!.r), ev(B, wrong)],
            next_steps: [`On B: \`ip route get ${T.src}\` must name ${tunB}; check \`ip rule\`.`],
          };
        }
        return {
          severity: 'error', checkpoint: 'B7', host: 'B', class: 'firewall',
          title: 'B receives the reply but does not send it into the tunnel',
          detail: 'The return path dies on B: its firewall drops the established reply (or conntrack does not know the connection).',
          evidence: b6 ? [ev(B, b6.r)] : (L('B4') ? [ev(B, L('B4')!.r)] : []),
          next_steps: [`On B: \`nft list ruleset\`: forward must accept established replies ${lanB} → ${tunB}.`, `On B: \`ip route get ${T.src}\` (must name ${tunB}).`],
        };
      }
      case 'B8':
        return {
          severity: 'error', checkpoint: 'B8', host: 'B', class: cfgClass,
          title: 'B puts the reply into the tunnel but sends nothing encrypted back',
          evidence: L('B7') ? [ev(B, L('B7')!.r)] : [],
          next_steps: [`On B: \`${tunShow}\`: the reply's source address must be inside A's allowed IPs on B, and A's peer needs a known endpoint.`],
        };
      case 'A5':
        return {
          severity: 'error', checkpoint: 'A5', host: 'path', class: 'firewall-or-routing',
          title: 'B\'s encrypted reply never reaches A',
          evidence: L('B8') ? [ev(B, L('B8')!.r)] : [],
          next_steps: ['Check the NAT router/firewall in front of A (established UDP replies).', `On A: \`tcpdump -ni ${wanA} udp\`.`],
        };
      case 'A6':
        return {
          severity: 'error', checkpoint: 'A6', host: 'A', class: cfgClass,
          title: `A receives the encrypted reply but nothing from ${T.dst} comes out of its tunnel`,
          detail: `A's allowed IPs for B's peer must include the reply's source ${T.dst}.`,
          evidence: L('A5') ? [ev(A, L('A5')!.r)] : [],
          next_steps: [`On A: \`${tunShow}\` (allowed IPs of B's peer must include ${T.dst}).`],
        };
    }
    return null;
  };

  let firstMissing: CheckpointLabel | null = null;
  for (const l of PATH_ORDER) {
    if (!expected.has(l) || labels.has(l)) continue;
    // Nothing left A: later absences follow from it and are not separate findings.
    if (firstMissing === null) firstMissing = l;
    const x = missingFinding(l);
    if (x !== null && l === firstMissing) add(x);
  }

  // ---- Signs that show even when every label is present.
  if (resps.length >= 2 && inits.length >= 2 && L('A4') !== undefined) {
    add({
      severity: 'warning', checkpoint: 'A3', host: 'A', class: 'firewall',
      title: `Handshake repeated ${inits.length} times before data flowed`,
      evidence: inits.slice(0, 3).map((r) => ev(A, r)), next_steps: ['On A: `nft list ruleset` (input of UDP replies from B).'],
    });
  }
  const a4 = L('A4');
  if (a4 !== undefined) {
    const nextIn = A.outer.find((r) => r.dir === 'in' && r.tc > a4.r.tc && r.olen !== 32);
    if (nextIn !== undefined && nextIn.outer === 'wg' && nextIn.wgType === 2 && (L('A3') === undefined || !nextIn.is(L('A3')!.r))) {
      add({
        severity: 'warning', checkpoint: 'A5', host: 'A', class: 'firewall',
        title: 'A receives another 92-byte handshake response instead of data',
        detail: 'A repeated handshake response means A keeps re-initiating: its firewall may be dropping what B sends.',
        evidence: [ev(A, nextIn)], next_steps: ['On A: `nft list ruleset` / `iptables-save`.'],
      });
    }
  }
  // A5/A6 repeated and A never answers: A's firewall drops the decrypted reply.
  const a6 = L('A6');
  if (a6 !== undefined) {
    const sig = f.aTunIn.find((x) => x.rec.is(a6.r))?.sig;
    const repeats = f.aTunIn.filter((x) => x.sig === sig);
    const answered = f.aTunOut.some((x) => x.rec.tc > a6.r.tc);
    if (repeats.length >= 2 && !answered) {
      add({
        severity: 'error', checkpoint: 'A6', host: 'A', class: 'firewall',
        title: `The reply reaches A's tunnel interface ${repeats.length} times but A never answers`,
        detail: 'A\'s own firewall drops the decrypted reply (input from the tunnel, established).',
        evidence: repeats.slice(0, 4).map((x) => ev(A, x.rec)),
        next_steps: [`On A: \`nft list ruleset\`: input on ${tunA} must accept established traffic from ${T.dst}.`],
      });
    }
  }
  // The path works but the server (or a firewall near it) refuses the connection.
  const b6 = L('B6') ?? L('B7');
  if (b6 !== undefined && b6.r.p.tcp !== undefined && b6.r.p.tcp.flags.includes('R')) {
    add({
      severity: 'warning', checkpoint: b6 === L('B6') ? 'B6' : 'B7', host: f.p2p ? 'B' : 'siteB', class: 'none',
      title: `The tunnel works, but ${dst} answers the connection with a reset`,
      detail: 'Nothing listens on that port, or a firewall next to the server rejects with TCP RST.',
      evidence: [ev(b6.side, b6.r)],
      next_steps: [`On ${T.dst}: \`ss -ltn\` (is the service listening on port ${T.dport ?? '?'}?) and its firewall rules.`],
    });
  }
  // Address rewriting on B (B4 → B5) and NAT on the carrier path (A2/A4 → B1/B3).
  const b4 = L('B4'), b5 = L('B5');
  if (b4 !== undefined && b5 !== undefined) {
    const parts: string[] = [];
    if (ep(b4.r.p) !== ep(b5.r.p)) parts.push(`source ${ep(b4.r.p)} → ${ep(b5.r.p)} (SNAT/masquerade)`);
    if (epd(b4.r.p) !== epd(b5.r.p)) parts.push(`destination ${epd(b4.r.p)} → ${epd(b5.r.p)} (DNAT)`);
    const m4 = b4.r.p.tcp?.mss, m5 = b5.r.p.tcp?.mss;
    if (m4 !== undefined && m5 !== undefined && m4 !== m5) parts.push(`MSS ${m4} → ${m5} (clamping)`);
    if (parts.length > 0) {
      add({
        severity: 'info', checkpoint: 'B5', host: 'B', class: 'nat',
        title: `B rewrites the forwarded packet: ${parts.join('; ')}`,
        detail: 'Expected when B masquerades for the tunnel; if not intended, check B\'s nat table.',
        evidence: [ev(B, b4.r), ev(B, b5.r)], next_steps: ['On B: `nft list table ip nat` (or `iptables -t nat -S`).'],
      });
    }
  }
  const carA = L('A2') ?? L('A4'), carB = L('B1') ?? L('B3');
  if (carA !== undefined && carB !== undefined && ep(carA.r.p) !== ep(carB.r.p)) {
    add({
      severity: 'info', checkpoint: carB === L('B1') ? 'B1' : 'B3', host: 'path', class: 'nat',
      title: `A's carrier packets are NATed on the way: ${ep(carA.r.p)} → ${ep(carB.r.p)}`,
      evidence: [ev(A, carA.r), ev(B, carB.r)], next_steps: ['Normal behind a home router; keep-alives (PersistentKeepalive = 25) keep the mapping open.'],
    });
  }
  // Replies that enter or leave B on an unexpected interface.
  asymmetry(f, add);
  // Large packets that vanish while small ones pass.
  mtu(f, add);

  const order = (x: Finding): number => (x.checkpoint === null ? 99 : PATH_ORDER.indexOf(x.checkpoint));
  const errors = findings.filter((x) => x.severity === 'error').sort((x, y) => order(x) - order(y));
  let verdict: Verdict;
  if (errors.length > 0) {
    const e = errors[0]!;
    verdict = { status: 'fail', first_missing: firstMissing, class: e.class, host: e.host, summary: e.title };
  } else if (firstMissing !== null) {
    verdict = { status: 'inconclusive', first_missing: firstMissing, class: 'none', host: null, summary: `${firstMissing} not seen` };
  } else {
    const n = [...expected].filter((l) => labels.has(l)).length;
    verdict = {
      status: 'ok', first_missing: null, class: 'none', host: null,
      summary: `The test connection to ${dst} passes all ${n} expected checkpoints${handshake === 'recent' ? ' (session already established)' : ''}${f.p2p ? ' (point-to-point)' : ''}.`,
    };
  }
  findings.sort((x, y) => sevRank(x.severity) - sevRank(y.severity) || order(x) - order(y));
  return { findings, verdict, variant };
}

/** ICMP errors about the flow under test (quoting it, or addressed to A's tunnel address), on either host. */
function icmpErrorsFor(f: Facts): Array<{ side: Side; r: Rec }> {
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

function sevRank(s: Finding['severity']): number { return s === 'error' ? 0 : s === 'warning' ? 1 : 2; }

/** The reply (B6's signature) leaving B on a non-tunnel interface other than where it came in. */
function findElsewhere(B: Side, b6: Rec, f: Facts): Rec | null {
  const sig = f.bLanIn.find((x) => x.rec.is(b6))?.sig;
  if (sig === undefined || f.T === null) return null;
  // The same reply after B undid the NAT has A's original tuple reversed.
  for (const x of f.fB) {
    if (x.fwd || x.sig !== sig || x.rec.is(b6) || x.rec.tc < b6.tc) continue;
    if (x.rec.kind !== 'tunnel' && x.rec.dir === 'out') return x.rec;
  }
  for (const x of f.fB2) {
    if (x.fwd || x.sig !== sig || x.rec.is(b6) || x.rec.tc < b6.tc) continue;
    if (x.rec.ifKey !== b6.ifKey && x.rec.dir === 'out') return x.rec;
  }
  return null;
}

function asymmetry(f: Facts, add: (x: Finding) => void): void {
  const b5 = f.labels.get('B5');
  const { B } = f;
  if (b5 !== undefined && !f.hub) {
    const odd = f.fB2.filter((x) => !x.fwd && x.rec.dir !== 'out' && x.rec.kind !== 'tunnel' && x.rec.ifKey !== b5.r.ifKey);
    const b7 = f.labels.get('B7');
    if (odd.length > 0) {
      const first = odd.at(0)!;
      const fatal = b7 === undefined && first.rec.is(f.labels.get('B6')?.r);
      add({
        severity: fatal ? 'error' : 'warning', checkpoint: 'B6', host: fatal ? 'siteB' : 'B', class: 'asymmetric-routing',
        title: `${odd.length} repl${odd.length === 1 ? 'y' : 'ies'} from ${f.lanTuple?.dst ?? '?'} entered B on ${ifaceNameOf(first.rec.p)}, not on ${ifaceNameOf(b5.r.p)} where the request left`,
        detail: 'Replies that come back by another interface than the request left are dropped by rp_filter and stateful firewalls.',
        evidence: odd.slice(0, 4).map((x) => ev(B, x.rec)),
        next_steps: ['On B: `sysctl net.ipv4.conf.all.rp_filter` and per-interface values.', `On the server side: \`ip route get ${b5.r.p.src}\` must point back via B's ${ifaceNameOf(b5.r.p)}.`],
      });
    }
  }
  // Carrier replies leaving B by another interface than the requests arrived on.
  const b1 = f.labels.get('B1') ?? f.labels.get('B3');
  const b2 = f.labels.get('B2') ?? f.labels.get('B8');
  if (b1 !== undefined && b2 !== undefined && b1.r.ifKey !== b2.r.ifKey) {
    add({
      severity: 'warning', checkpoint: b2 === f.labels.get('B2') ? 'B2' : 'B8', host: 'B', class: 'asymmetric-routing',
      title: `B answers A's carrier traffic out ${ifaceNameOf(b2.r.p)} though it arrived on ${ifaceNameOf(b1.r.p)}`,
      evidence: [ev(B, b1.r), ev(B, b2.r)],
      next_steps: [`On B: \`ip route get ${b1.r.p.src}\` and \`ip rule\`.`],
    });
  }
}

/** Sorted, merged [start, end) sequence ranges. */
function coverage(items: Iterable<Inner>): Array<[number, number]> {
  const r: Array<[number, number]> = [];
  for (const x of items) if (x.relSeq >= 0 && x.plen > 0) r.push([x.relSeq, x.relSeq + x.plen]);
  r.sort((p, q) => p[0] - q[0]);
  const m: Array<[number, number]> = [];
  for (const x of r) {
    const last = m[m.length - 1];
    if (last !== undefined && x[0] <= last[1]) { if (x[1] > last[1]) last[1] = x[1]; } else m.push([x[0], x[1]]);
  }
  return m;
}

function covered(m: Array<[number, number]>, s: number): boolean {
  let lo = 0, hi = m.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const [a, b] = m[mid]!;
    if (s < a) hi = mid - 1; else if (s >= b) lo = mid + 1; else return true;
  }
  return false;
}

/**
 * Path MTU black hole: data segments above some size never show up on the far end (by TCP
 * sequence coverage, so GRO/TSO merging on either side does not count as loss) while smaller
 * ones do.
 */
function mtu(f: Facts, add: (x: Finding) => void): void {
  if (f.T === null || f.T.proto !== 'tcp') return;
  const check = (sent: InnerList, recv: InnerList, sendSide: Side, recvSide: Side, label: CheckpointLabel, dirText: string): void => {
    if (sent.length === 0 || recv.length === 0) return;
    const cov = coverage(recv);
    const tEnd = recvSide.recs.length > 0 ? recvSide.recs.at(recvSide.recs.length - 1)!.tc : -Infinity;
    let maxOk = 0;
    const lost: Inner[] = [];
    for (const x of sent) {
      if (x.plen === 0 || x.relSeq < 0 || x.rec.tc > tEnd - 0.001) continue;
      if (covered(cov, x.relSeq)) { if (x.ilen > maxOk) maxOk = x.ilen; } else lost.push(x);
    }
    if (lost.length < 2) return;
    let minLost = Infinity;
    for (const x of lost) if (x.ilen < minLost) minLost = x.ilen;
    if (minLost <= maxOk || minLost < 500) return;
    const icmp: Array<{ side: Side; r: Rec }> = [];
    for (const s of [f.A, f.B]) for (const r of s.recs) {
      const ic = r.p.icmp;
      if (ic !== undefined && ((ic.v === 4 && ic.type === 3 && ic.code === 4) || (ic.v === 6 && ic.type === 2))) icmp.push({ side: s, r });
    }
    const mtus = icmp.map((x) => x.r.p.icmp?.mtu).filter((m): m is number => m !== undefined);
    add({
      severity: 'error', checkpoint: label, host: 'path', class: 'mtu',
      title: `Large packets vanish ${dirText}: ${lost.length} segments of ≥ ${minLost} bytes never arrive, while packets up to ${maxOk} bytes do`,
      detail: icmp.length > 0
        ? `ICMP "fragmentation needed"/"packet too big" was seen (${mtus.length > 0 ? `next-hop MTU ${mtus.join(', ')}` : 'no MTU given'}), yet the sender kept sending large packets: the message is not reaching or not applied by the sender.`
        : 'No ICMP "fragmentation needed" (IPv4 type 3 code 4) or "packet too big" (ICMPv6 type 2) was captured: something on the path drops them — a path-MTU black hole.',
      evidence: lost.slice(0, 4).map((x) => ev(sendSide, x.rec)).concat(icmp.slice(0, 2).map((x) => ev(x.side, x.r))),
      next_steps: [
        `Clamp the TCP MSS on the tunnel: \`nft add rule inet filter forward tcp flags syn tcp option maxseg size set rt mtu\`.`,
        'Or lower the tunnel MTU (`ip link set dev wg0 mtu 1380`, or MTU = in the wg-quick config) on both ends.',
        'Let ICMP type 3 code 4 (and ICMPv6 type 2) through every firewall on the path.',
        `Confirm: \`ping -M do -s 1372 ${f.T!.dst}\` from A fails while \`-s 1200\` passes.`,
      ],
    });
  };
  check(f.aTunOut, f.bTunIn, f.A, f.B, 'B4', 'from A to B');
  check(f.bTunOut, f.aTunIn, f.B, f.A, 'A6', 'from B to A');
}
