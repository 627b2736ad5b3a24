// Signs that are not a missing checkpoint: informational notes, repeated negotiations, resets,
// NAT, the packet that leaves A by another interface. Tunnel wording from facts.tunnel.

import { cmd } from '../../util/shell.ts';
import { ifaceNameOf } from '../prepare.ts';
import { code, ep, epd, ev } from '../facts.ts';
import { proseData } from '../../util/shell.ts';
import { registerRule } from './registry.ts';

registerRule({
  id: 'no-flow', sign: 'No test connection in either capture', classes: ['none'], host: 'A', evidence: 'none',
  tunnels: ['*'], withoutFlow: true, applies: (f) => f.T === null,
  evaluate: () => [{
    rule: 'no-flow', severity: 'warning', checkpoint: null, host: 'A', class: 'none', title: 'No flow under test',
    evidence: [], next_steps: [
      'Start both captures first, then make one test connection from A (e.g. `curl http://<address behind B>`).',
      'Capture on all interfaces: `tcpdump -ni any -w a.pcap udp port <tunnel port> or host <target>`.',
      'Or name the flow explicitly with --flow "tcp <dst>:<port>".',
    ],
  }],
});

registerRule({
  id: 'not-captured', sign: 'An interface a checkpoint needs was not captured', classes: ['none'], host: 'A or B',
  evidence: 'the capture\'s interface list', tunnels: ['*'], applies: (f) => f.notCaptured.length > 0,
  evaluate: (f) => [{
    rule: 'not-captured', severity: 'info', checkpoint: null, host: f.notCaptured[0]!.startsWith('A') ? 'A' : 'B', class: 'none',
    title: `Not captured: ${f.notCaptured.join(', ')}`,
    detail: 'Checkpoints on interfaces that were not captured are not expected; capture with -i any to see every hop.',
    evidence: [], next_steps: ['Capture on all interfaces: `tcpdump -ni any -w host.pcap ...` (and keep `ip -o link` output for SLL2 files).'],
  }],
});

registerRule({
  id: 'session-predates-capture', sign: 'Encrypted data but no negotiation: the session predates the capture', classes: ['none'],
  host: 'A', evidence: 'none', tunnels: ['*'], applies: (f) => f.variant.handshake === 'recent',
  evaluate: (f) => {
    const s = f.tunnel.say.recent(f.say);
    return [{ rule: 'session-predates-capture', severity: 'info', checkpoint: 'A2', host: 'A', class: 'none', title: s.title, ...(s.detail !== undefined ? { detail: s.detail } : {}), evidence: [], next_steps: s.next_steps }];
  },
});

registerRule({
  id: 'a1-wrong-interface', sign: 'The test connection leaves A by a non-tunnel interface', classes: ['routing'], host: 'A',
  evidence: 'the misrouted packet', tunnels: ['*'], applies: (f) => f.L('A1') === undefined && f.misroutedA1 !== undefined,
  evaluate: (f) => {
    const m = f.misroutedA1!;
    const name = proseData(ifaceNameOf(m.r.p)) || 'another interface';
    return [{
      rule: 'a1-wrong-interface', severity: 'error', checkpoint: 'A1', host: 'A', class: 'routing',
      title: `A sends the test connection out ${name} instead of the tunnel`,
      detail: `The first packet to ${f.dst} leaves A on ${name} (${m.r.kind}), so it never enters the tunnel: it dies before the tunnel.`,
      evidence: [ev(f.A, m.r)],
      next_steps: [
        `On A: ${code(cmd`ip route get ${f.T!.dst}`)} must name ${proseData(f.ifw.tunA)}; check ${code('ip rule')} and the routing table the tunnel uses.`,
        ...f.tunnel.say.routeSteps(f.say),
      ],
    }];
  },
});

registerRule({
  id: 'handshake-repeated', sign: 'The negotiation repeats several times before data flows', classes: ['firewall'], host: 'A',
  evidence: 'A\'s repeated initiations', tunnels: ['wireguard'],
  applies: (f) => f.resps.length >= 2 && f.inits.length >= 2 && f.L('A4') !== undefined,
  evaluate: (f) => [{
    rule: 'handshake-repeated', severity: 'warning', checkpoint: 'A3', host: 'A', class: 'firewall',
    title: `${f.tunnel.words.handshake[0]!.toUpperCase()}${f.tunnel.words.handshake.slice(1)} repeated ${f.inits.length} times before data flowed`,
    evidence: f.inits.slice(0, 3).map((r) => ev(f.A, r)), next_steps: [`On A: ${code('nft list ruleset')} (input of UDP replies from B).`],
  }],
});

registerRule({
  id: 'response-instead-of-data', sign: 'After sending data A receives another negotiation response instead of data', classes: ['firewall'],
  host: 'A', evidence: 'the extra response', tunnels: ['wireguard'], applies: (f) => f.L('A4') !== undefined,
  evaluate: (f) => {
    const a4 = f.L('A4')!;
    const nextIn = f.A.outer.find((r) => r.dir === 'in' && r.tc > a4.r.tc && r.olen !== 32);
    if (nextIn === undefined || nextIn.outer !== 'wg' || nextIn.wgType !== 2 || (f.L('A3') !== undefined && nextIn.is(f.L('A3')!.r))) return [];
    return [{
      rule: 'response-instead-of-data', severity: 'warning', checkpoint: 'A5', host: 'A', class: 'firewall',
      title: `A receives another ${f.tunnel.words.response} instead of data`,
      detail: `A repeated ${f.tunnel.words.response} means A keeps re-initiating: its firewall may be dropping what B sends.`,
      evidence: [ev(f.A, nextIn)], next_steps: [`On A: ${code('nft list ruleset')} / ${code('iptables-save')}.`],
    }];
  },
});

registerRule({
  id: 'reply-repeated-unanswered', sign: 'The decrypted reply reaches A several times and A never answers', classes: ['firewall'],
  host: 'A', evidence: 'the repeated replies on A\'s tunnel interface', tunnels: ['*'], applies: (f) => f.L('A6') !== undefined,
  evaluate: (f) => {
    const a6 = f.L('A6')!;
    // An answer rules the sign out before the replies are searched (a bulk flow's are hundreds of thousands).
    const answered = f.aTunOut.some((x) => x.rec.tc > a6.r.tc);
    if (answered) return [];
    const sig = f.aTunIn.find((x) => x.rec.is(a6.r))?.sig;
    const repeats = f.aTunIn.withSig(sig);
    if (repeats.length < 2) return [];
    return [{
      rule: 'reply-repeated-unanswered', severity: 'error', checkpoint: 'A6', host: 'A', class: 'firewall',
      title: `The reply reaches A's tunnel interface ${repeats.length} times but A never answers`,
      detail: 'A\'s own firewall drops the decrypted reply (input from the tunnel, established).',
      evidence: repeats.slice(0, 4).map((x) => ev(f.A, x.rec)),
      next_steps: [`On A: ${code('nft list ruleset')}: input on ${proseData(f.ifw.tunA)} must accept established traffic from ${proseData(f.T!.dst)}.`],
    }];
  },
});

registerRule({
  id: 'tcp-reset', sign: 'The path works, but the destination answers with a TCP reset', classes: ['none'], host: 'siteB (B when point-to-point)',
  evidence: 'the RST at B6/B7', tunnels: ['*'], applies: (f) => (f.L('B6') ?? f.L('B7')) !== undefined,
  evaluate: (f) => {
    const b6 = f.L('B6') ?? f.L('B7')!;
    if (b6.r.p.tcp === undefined || !b6.r.p.tcp.flags.includes('R')) return [];
    return [{
      rule: 'tcp-reset', severity: 'warning', checkpoint: b6 === f.L('B6') ? 'B6' : 'B7', host: f.p2p ? 'B' : 'siteB', class: 'none',
      title: `The tunnel works, but ${f.dst} answers the connection with a reset`,
      detail: 'Nothing listens on that port, or a firewall next to the server rejects with TCP RST.',
      evidence: [ev(b6.side, b6.r)],
      next_steps: [`On ${proseData(f.T!.dst)}: ${code('ss -ltn')} (is the service listening on port ${f.T!.dport ?? '?'}?) and its firewall rules.`],
    }];
  },
});

registerRule({
  id: 'forward-rewrite', sign: 'B rewrites the forwarded packet (SNAT, DNAT, MSS clamping)', classes: ['nat'], host: 'B',
  evidence: 'B4 and B5', tunnels: ['*'], applies: (f) => f.L('B4') !== undefined && f.L('B5') !== undefined,
  evaluate: (f) => {
    const b4 = f.L('B4')!, b5 = f.L('B5')!;
    const parts: string[] = [];
    if (ep(b4.r.p) !== ep(b5.r.p)) parts.push(`source ${proseData(ep(b4.r.p))} → ${proseData(ep(b5.r.p))} (SNAT/masquerade)`);
    if (epd(b4.r.p) !== epd(b5.r.p)) parts.push(`destination ${proseData(epd(b4.r.p))} → ${proseData(epd(b5.r.p))} (DNAT)`);
    const m4 = b4.r.p.tcp?.mss, m5 = b5.r.p.tcp?.mss;
    if (m4 !== undefined && m5 !== undefined && m4 !== m5) parts.push(`MSS ${m4} → ${m5} (clamping)`);
    if (parts.length === 0) return [];
    return [{
      rule: 'forward-rewrite', severity: 'info', checkpoint: 'B5', host: 'B', class: 'nat',
      title: `B rewrites the forwarded packet: ${parts.join('; ')}`,
      detail: 'Expected when B masquerades for the tunnel; if not intended, check B\'s nat table.',
      evidence: [ev(f.B, b4.r), ev(f.B, b5.r)], next_steps: [`On B: ${code('nft list table ip nat')} (or ${code('iptables -t nat -S')}).`],
    }];
  },
});

registerRule({
  id: 'carrier-nat', sign: 'A\'s carrier packets are NATed on the way', classes: ['nat'], host: 'path', evidence: 'A2/A4 and B1/B3',
  tunnels: ['*'], applies: (f) => (f.L('A2') ?? f.L('A4')) !== undefined && (f.L('B1') ?? f.L('B3')) !== undefined,
  evaluate: (f) => {
    const carA = f.L('A2') ?? f.L('A4')!, carB = f.L('B1') ?? f.L('B3')!;
    if (ep(carA.r.p) === ep(carB.r.p)) return [];
    return [{
      rule: 'carrier-nat', severity: 'info', checkpoint: carB === f.L('B1') ? 'B1' : 'B3', host: 'path', class: 'nat',
      title: `A's carrier packets are NATed on the way: ${proseData(ep(carA.r.p))} → ${proseData(ep(carB.r.p))}`,
      evidence: [ev(f.A, carA.r), ev(f.B, carB.r)], next_steps: [f.tunnel.say.natStep()],
    }];
  },
});

registerRule({
  id: 'odd-interface-name', sign: 'An interface name in a capture fails the kernel\'s rules and is shown as data, not put into commands',
  classes: ['none'], host: 'A or B', evidence: 'the interface list', tunnels: ['*'], withoutFlow: true,
  applies: (f) => f.oddNames.length > 0,
  evaluate: (f) => [{
    rule: 'odd-interface-name', severity: 'warning', checkpoint: null, host: 'A', class: 'none',
    title: 'An interface name in the captures cannot be used in a command',
    detail: f.oddNames.join(' '), evidence: [],
    next_steps: ['Find the real name on the host (`ip -o link`) and put it where the commands show a <placeholder>.'],
  }],
});
