// The first missing checkpoint: one rule per label, each applying when that label is the first
// one a healthy run would show and these captures do not. Later absences follow from it and are
// not separate findings. Tunnel-specific wording comes from the tunnel module (facts.tunnel).

import { cmd, proseData } from '../../util/shell.ts';
import { ifaceNameOf } from '../prepare.ts';
import { code, ep, epd, ev, type Facts } from '../facts.ts';
import type { CheckpointLabel, Finding } from '../types.ts';
import type { Said } from '../tunnels/types.ts';
import { registerRule } from './registry.ts';
import { icmpErrorsFor } from './icmp-util.ts';

const missing = (l: CheckpointLabel) => (f: Facts): boolean => f.firstMissing === l;

/** A finding from the module's wording, with the rule's checkpoint, host and evidence. */
function said(s: Said, base: Omit<Finding, 'title' | 'next_steps' | 'class'> & { class: Finding['class'] }, extra: string[] = []): Finding {
  const out: Finding = { ...base, class: s.class ?? base.class, title: s.title, next_steps: [...s.next_steps, ...extra] };
  if (s.detail !== undefined) out.detail = s.detail;
  return out;
}

registerRule({
  id: 'missing-a1', sign: 'No packet of the test connection on A\'s tunnel interface (A1 missing)',
  classes: ['routing'], host: 'A', evidence: 'none (an absence); the tunnel interface was captured',
  tunnels: ['*'], applies: (f) => missing('A1')(f) && f.misroutedA1 === undefined,
  evaluate: (f) => [{
    rule: 'missing-a1', severity: 'error', checkpoint: 'A1', host: 'A', class: 'routing',
    title: 'A never sends the test connection into the tunnel',
    detail: `No packet to ${f.dst} appears on A's tunnel interface: A has no usable route for it through the tunnel.`,
    evidence: [],
    next_steps: [...f.tunnel.say.routeSteps(f.say), `On A: ${code(cmd`ip route get ${f.T!.dst}`)} and ${code('ip rule')}.`],
  }],
});

registerRule({
  id: 'missing-a2', sign: 'The test connection enters A\'s tunnel but no negotiation leaves A (A2 missing)',
  classes: ['routing', 'wireguard-config', 'ipsec-config'], host: 'A', evidence: 'A1',
  tunnels: ['*'], applies: missing('A2'),
  evaluate: (f) => {
    const anyOut = f.A.outer.some((r) => r.dir === 'out');
    const s = f.tunnel.say.noStart(f.say, anyOut);
    const peer = f.bListen?.replace(/:\d+$/, '');
    return [said(s, {
      rule: 'missing-a2', severity: 'error', checkpoint: 'A2', host: 'A', class: anyOut ? 'routing' : f.tunnel.configClass,
      evidence: f.L('A1') ? [ev(f.A, f.L('A1')!.r)] : [],
    }, [`On A: ${code(peer !== undefined ? cmd`ip route get ${peer}` : 'ip route get <B public address>')} and ${code('ip rule')}.`])];
  },
});

registerRule({
  id: 'missing-b1', sign: 'A\'s negotiation leaves A and never reaches B (B1 missing)',
  classes: ['firewall-or-routing', 'wireguard-config', 'ipsec-config'], host: 'path (A when A sends to the wrong endpoint)',
  evidence: 'A2 and A\'s retries', tunnels: ['*'], applies: missing('B1'),
  evaluate: (f) => {
    const a2 = f.L('A2');
    const target = a2 !== undefined ? epd(a2.r.p) : null;
    if (target !== null && f.bListen !== null && target !== f.bListen) {
      const s = f.tunnel.say.wrongEndpoint({ ...f.say, target });
      return [said(s, { rule: 'missing-b1', severity: 'error', checkpoint: 'B1', host: 'A', class: f.tunnel.configClass, evidence: [ev(f.A, a2!.r)] })];
    }
    const inits = f.inits.length > 0 ? f.inits : f.A.hs.filter((r) => r.dir === 'out');
    const reps = inits.length;
    const port = (f.bListen ?? target ?? '').split(':')[1];
    return [{
      rule: 'missing-b1', severity: 'error', checkpoint: 'B1', host: 'path', class: 'firewall-or-routing',
      title: `A's ${f.tunnel.words.init} never reaches B`,
      detail: `A sent ${reps > 1 ? `${reps} of them (retried)` : 'it'} to ${proseData(target ?? '?')}; B's capture shows none. It dies between the hosts or in front of B.`,
      evidence: (a2 ? [ev(f.A, a2.r)] : []).concat(inits.filter((r) => a2 === undefined || !r.is(a2.r)).slice(0, 3).map((r) => ev(f.A, r))),
      next_steps: [
        `Check firewalls/routers in front of B: they must let UDP to ${proseData(f.bListen ?? target ?? 'B')} in.`,
        `On B: ${code(a2?.r.p.src !== undefined ? cmd`ip route get ${a2.r.p.src}` : 'ip route get <A public address>')} (must leave via ${proseData(f.ifw.wanB)}); ${code('nft list ruleset')} for input drops.`,
        `On B: ${code('tcpdump -ni ' + f.ifw.wanB + (port !== undefined && /^\d+$/.test(port) ? ` udp port ${port}` : ' udp'))} while A retries.`,
      ],
    }];
  },
});

registerRule({
  id: 'missing-b2', sign: 'B receives the negotiation and does not answer (B2 missing)',
  classes: ['wireguard-config-or-firewall', 'ipsec-config'], host: 'B', evidence: 'B1 and its repeats',
  tunnels: ['*'], applies: missing('B2'),
  evaluate: (f) => {
    const bIn = f.bInits.length > 0 ? f.bInits : f.B.hs.filter((r) => r.dir === 'in');
    return [said(f.tunnel.say.noAnswer(f.say), {
      rule: 'missing-b2', severity: 'error', checkpoint: 'B2', host: 'B', class: f.tunnel.configClass, evidence: bIn.slice(0, 4).map((r) => ev(f.B, r)),
    })];
  },
});

registerRule({
  id: 'missing-a3', sign: 'B answers the negotiation but the answer never reaches A (A3 missing)',
  classes: ['routing', 'firewall-or-routing'], host: 'B (answers elsewhere) or path', evidence: 'B1, B2',
  tunnels: ['*'], applies: missing('A3'),
  evaluate: (f) => {
    const b1 = f.L('B1'), b2 = f.L('B2');
    if (b1 !== undefined && b2 !== undefined && epd(b2.r.p) !== ep(b1.r.p)) {
      return [{
        rule: 'missing-a3', severity: 'error', checkpoint: 'A3', host: 'B', class: 'routing',
        title: `B answers to ${proseData(epd(b2.r.p))}, not to where the ${f.tunnel.words.init} came from (${proseData(ep(b1.r.p))})`,
        evidence: [ev(f.B, b1.r), ev(f.B, b2.r)],
        next_steps: [`On B: ${code(cmd`ip route get ${b1.r.p.src ?? '?'}`)}; ${code('ip rule')}; check SNAT rules on ${proseData(f.ifw.wanB)} (${code('nft list ruleset')}).`],
      }];
    }
    const bResps = f.bResps.length > 0 ? f.bResps : f.B.hs.filter((r) => r.dir === 'out');
    return [{
      rule: 'missing-a3', severity: 'error', checkpoint: 'A3', host: 'path', class: 'firewall-or-routing',
      title: `B's ${f.tunnel.words.response} never reaches A`,
      detail: 'B answers, but nothing arrives on A: the return path (a firewall or the NAT in front of A) drops it.',
      evidence: (b2 ? [ev(f.B, b2.r)] : []).concat(bResps.filter((r) => b2 === undefined || !r.is(b2.r)).slice(0, 3).map((r) => ev(f.B, r))),
      next_steps: [
        `Check the NAT router/firewall in front of A: it must let replies from ${proseData(f.bListen ?? 'B')} back to ${proseData(f.L('A2') ? ep(f.L('A2')!.r.p) : 'A')}.`,
        `On A: ${code('tcpdump -ni ' + f.ifw.wanA + ' udp')} while retrying.`,
      ],
    }];
  },
});

registerRule({
  id: 'missing-a4', sign: 'A gets the negotiation answer but sends no encrypted data (A4 missing)',
  classes: ['firewall', 'ipsec-config'], host: 'A', evidence: 'A2/A3 and their repeats',
  tunnels: ['*'], applies: missing('A4'),
  evaluate: (f) => {
    const s = f.tunnel.say.noDataAfterHandshake(f.say);
    const a = f.inits.length > 0 ? f.inits : f.A.hs.filter((r) => r.dir === 'out');
    const b = f.resps.length > 0 ? f.resps : f.A.hs.filter((r) => r.dir === 'in');
    return [said(s, {
      rule: 'missing-a4', severity: 'error', checkpoint: 'A4', host: 'A', class: 'firewall',
      evidence: a.slice(0, 3).map((r) => ev(f.A, r)).concat(b.slice(0, 3).map((r) => ev(f.A, r))),
    })];
  },
});

registerRule({
  id: 'missing-b3', sign: 'A\'s encrypted data never reaches B (B3 missing)',
  classes: ['firewall-or-routing'], host: 'path', evidence: 'A4',
  tunnels: ['*'], applies: missing('B3'),
  evaluate: (f) => [{
    rule: 'missing-b3', severity: 'error', checkpoint: 'B3', host: 'path', class: 'firewall-or-routing',
    title: 'A\'s encrypted data never reaches B',
    evidence: f.L('A4') ? [ev(f.A, f.L('A4')!.r)] : [],
    next_steps: [`Check firewalls between A and B for the carrier traffic to ${proseData(f.bListen ?? 'B')}.`, `On B: ${code('tcpdump -ni ' + f.ifw.wanB)}.`],
  }],
});

registerRule({
  id: 'missing-b4', sign: 'B receives encrypted data but nothing comes out of its tunnel (B4 missing)',
  classes: ['wireguard-config', 'ipsec-config'], host: 'B', evidence: 'B3',
  tunnels: ['*'], applies: missing('B4'),
  evaluate: (f) => [said(f.tunnel.say.noDecrypt(f.say), {
    rule: 'missing-b4', severity: 'error', checkpoint: 'B4', host: 'B', class: f.tunnel.configClass,
    evidence: f.L('B3') ? [ev(f.B, f.L('B3')!.r)] : [],
  })],
});

registerRule({
  id: 'missing-b5', sign: 'B decrypts the packet but does not forward it (B5 missing); an ICMP error from B names why',
  classes: ['firewall-or-routing', 'firewall', 'routing'], host: 'B', evidence: 'B4, ICMP errors from B',
  tunnels: ['*'], applies: missing('B5'),
  evaluate: (f) => {
    const T = f.T!;
    const rej = icmpErrorsFor(f);
    const b4ev = f.L('B4') ? [ev(f.B, f.L('B4')!.r)] : [];
    if (rej.length > 0) {
      const x = rej[0]!;
      const ic = x.r.p.icmp!;
      const code4 = ic.code;
      const admin = ic.v === 4 ? (code4 === 9 || code4 === 10 || code4 === 13) : code4 === 1;
      const noRoute = ic.v === 4 ? (code4 === 0 || code4 === 1) : (code4 === 0 || code4 === 3);
      return [{
        rule: 'missing-b5', severity: 'error', checkpoint: 'B5', host: 'B', class: admin ? 'firewall' : noRoute ? 'routing' : 'firewall-or-routing',
        title: admin ? `B's firewall rejects the forwarded packet (ICMP "administratively prohibited" back to ${f.say.aTunAddr})`
          : `B refuses to forward to ${f.dst} and says so with ICMP type ${ic.type} code ${code4}`,
        detail: 'It dies after decryption, on B: the ICMP error comes from B itself.',
        evidence: b4ev.concat(rej.slice(0, 3).map((y) => ev(y.side, y.r))),
        next_steps: admin
          ? [`On B: ${code('nft list ruleset')}: find the reject rule in the forward chain for ${proseData(f.ifw.tunB)} → ${proseData(f.ifw.lanB)}.`]
          : [`On B: ${code(cmd`ip route get ${T.dst}`)} must leave via ${proseData(f.ifw.lanB)}.`, `On B: ${code('sysctl net.ipv4.ip_forward')} (must be 1).`],
      }];
    }
    return [{
      rule: 'missing-b5', severity: 'error', checkpoint: 'B5', host: 'B', class: 'firewall-or-routing',
      title: `B decrypts the packet but does not forward it to ${f.dst}`,
      detail: 'It dies after decryption: forwarding is off, the forward chain drops it, or B has no route to the destination.',
      evidence: b4ev,
      next_steps: [
        `On B: ${code('sysctl net.ipv4.ip_forward')} (must be 1).`,
        `On B: ${code('nft list ruleset')}: forward must accept ${proseData(f.ifw.tunB)} → ${proseData(f.ifw.lanB)} to ${f.dst}.`,
        `On B: ${code(cmd`ip route get ${T.dst}`)} (must leave via ${proseData(f.ifw.lanB)}).`,
      ],
    }];
  },
});

registerRule({
  id: 'missing-b6', sign: 'B forwards the packet and the destination never answers (B6 missing)',
  classes: ['firewall-or-routing', 'routing'], host: 'siteB', evidence: 'B5',
  tunnels: ['*'], applies: missing('B6'),
  evaluate: (f) => {
    const T = f.T!;
    const b5 = f.L('B5');
    const snat = b5 !== undefined && b5.r.p.src !== T.src;
    const src = b5?.r.p.src ?? '?';
    return [{
      rule: 'missing-b6', severity: 'error', checkpoint: 'B6', host: 'siteB', class: snat || b5 === undefined ? 'firewall-or-routing' : 'routing',
      title: `${f.dst} never answers B's forwarded packet`,
      detail: snat
        ? `B masquerades as ${proseData(src)}: the destination host's own firewall, a firewall in site B, or a missing service drops the connection (on the wire the two look the same).`
        : `B forwards with A's tunnel address ${proseData(T.src)} as source: site B needs a route back to ${proseData(T.src)} via B, and its firewalls must allow it.`,
      evidence: b5 ? [ev(f.B, b5.r)] : [],
      next_steps: snat
        ? [`On ${proseData(T.dst)}: is the service listening, and does its firewall (${code('nft list ruleset')}) accept ${proseData(src)}?`, `On B: ${code('tcpdump -ni ' + f.ifw.lanB + ' ' + cmd`host ${T.dst}`)}.`]
        : [`On ${proseData(T.dst)} / site B's router: ${code(cmd`ip route get ${T.src}`)} must point to B.`, `Or masquerade on B: ${code('nft add rule ip nat postrouting oifname ' + f.ifw.lanB + ' masquerade')}.`],
    }];
  },
});

registerRule({
  id: 'missing-b7', sign: 'The reply reaches B but does not go back into the tunnel (B7 missing)',
  classes: ['firewall', 'routing'], host: 'B', evidence: 'B6 (and the reply leaving elsewhere)',
  tunnels: ['*'], applies: missing('B7'),
  evaluate: (f) => {
    const T = f.T!;
    const b6 = f.L('B6');
    const wrong = b6 !== undefined ? findElsewhere(f, b6.r) : null;
    if (wrong !== null) {
      return [{
        rule: 'missing-b7', severity: 'error', checkpoint: 'B7', host: 'B', class: 'routing',
        title: `B sends the reply out ${proseData(ifaceNameOf(wrong.p))} instead of the tunnel`,
        detail: 'The return path is broken: B routes A\'s tunnel address elsewhere.',
        evidence: [ev(f.B, b6!.r), ev(f.B, wrong)],
        next_steps: [`On B: ${code(cmd`ip route get ${T.src}`)} must name ${proseData(f.ifw.tunB)}; check ${code('ip rule')}.`],
      }];
    }
    return [{
      rule: 'missing-b7', severity: 'error', checkpoint: 'B7', host: 'B', class: 'firewall',
      title: 'B receives the reply but does not send it into the tunnel',
      detail: 'The return path dies on B: its firewall drops the established reply (or conntrack does not know the connection).',
      evidence: b6 ? [ev(f.B, b6.r)] : (f.L('B4') ? [ev(f.B, f.L('B4')!.r)] : []),
      next_steps: [`On B: ${code('nft list ruleset')}: forward must accept established replies ${proseData(f.ifw.lanB)} → ${proseData(f.ifw.tunB)}.`, `On B: ${code(cmd`ip route get ${T.src}`)} (must name ${proseData(f.ifw.tunB)}).`],
    }];
  },
});

registerRule({
  id: 'missing-b8', sign: 'B puts the reply into its tunnel but sends nothing encrypted (B8 missing)',
  classes: ['wireguard-config', 'ipsec-config'], host: 'B', evidence: 'B7',
  tunnels: ['*'], applies: missing('B8'),
  evaluate: (f) => [said(f.tunnel.say.noEncryptReply(f.say), {
    rule: 'missing-b8', severity: 'error', checkpoint: 'B8', host: 'B', class: f.tunnel.configClass,
    evidence: f.L('B7') ? [ev(f.B, f.L('B7')!.r)] : [],
  })],
});

registerRule({
  id: 'missing-a5', sign: 'B\'s encrypted reply never reaches A (A5 missing)',
  classes: ['firewall-or-routing'], host: 'path', evidence: 'B8',
  tunnels: ['*'], applies: missing('A5'),
  evaluate: (f) => [{
    rule: 'missing-a5', severity: 'error', checkpoint: 'A5', host: 'path', class: 'firewall-or-routing',
    title: 'B\'s encrypted reply never reaches A',
    evidence: f.L('B8') ? [ev(f.B, f.L('B8')!.r)] : [],
    next_steps: ['Check the NAT router/firewall in front of A (established UDP replies).', `On A: ${code('tcpdump -ni ' + f.ifw.wanA)}.`],
  }],
});

registerRule({
  id: 'missing-a6', sign: 'A receives the encrypted reply but nothing comes out of its tunnel (A6 missing)',
  classes: ['wireguard-config', 'ipsec-config'], host: 'A', evidence: 'A5',
  tunnels: ['*'], applies: missing('A6'),
  evaluate: (f) => [said(f.tunnel.say.noDecryptReply(f.say), {
    rule: 'missing-a6', severity: 'error', checkpoint: 'A6', host: 'A', class: f.tunnel.configClass,
    evidence: f.L('A5') ? [ev(f.A, f.L('A5')!.r)] : [],
  })],
});

/** The reply (B6's signature) leaving B on a non-tunnel interface other than where it came in. */
function findElsewhere(f: Facts, b6: import('../prepare.ts').Rec): import('../prepare.ts').Rec | null {
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
