// ICMP errors as evidence: an ICMP error that quotes a carrier datagram names who refused what.
// Port unreachable from the target host: nothing listens there. Administratively prohibited: a
// firewall says so (the target's own, or one on the path, by the ICMP's source). Host/net
// unreachable and TTL exceeded from a router: routing on the path. Frag-needed: the path MTU.

import { cmd, proseData } from '../../util/shell.ts';
import { code, ev, type Facts } from '../facts.ts';
import type { Rec, Side } from '../prepare.ts';
import type { CheckpointLabel, FailureClass, Finding, FixHost } from '../types.ts';
import { registerRule } from './registry.ts';
import { icmpMeaning, isIcmpError } from './icmp-util.ts';

interface CarrierIcmp { side: Side; r: Rec; from: string; target: string; port: number; kind: ReturnType<typeof icmpMeaning>['kind']; text: string }

/**
 * ICMP errors on either host whose quoted datagram is a carrier A sent (as A sent it, or as B
 * received it). Short tcpdump text may not carry the quoted header: then an error addressed to a
 * carrier's sender stands for the carrier that sender sent last.
 */
function carrierIcmp(f: Facts): CarrierIcmp[] {
  const targets = new Set<string>();
  const bySender = new Map<string, { dst: string; dport: number }>();
  const note = (r: Rec): void => {
    if (r.p.dport === undefined || r.p.dst === undefined) return;
    targets.add(`${r.p.dst}|${r.p.dport}`);
    if (r.p.src !== undefined && !bySender.has(r.p.src)) bySender.set(r.p.src, { dst: r.p.dst, dport: r.p.dport });
  };
  for (const r of f.A.outer) if (r.dir === 'out') note(r);
  for (const r of f.B.outer) if (r.dir === 'in') note(r);
  const out: CarrierIcmp[] = [];
  for (const side of [f.A, f.B]) {
    for (const r of side.recs) {
      if (r.outer !== null) continue;
      const p = r.p;
      const ic = p.icmp;
      if (ic === undefined || !isIcmpError(ic)) continue;
      const o = ic.orig;
      let target: string, port: number;
      if (o !== undefined && o.dport !== undefined) {
        if (o.proto !== 17 || !targets.has(`${o.dst}|${o.dport}`)) continue;
        target = o.dst; port = o.dport;
      } else {
        const c = p.dst !== undefined ? bySender.get(p.dst) : undefined;
        if (c === undefined || (o !== undefined && o.dst !== c.dst)) continue;
        target = c.dst; port = c.dport;
      }
      const m = icmpMeaning(ic);
      out.push({ side, r, from: p.src ?? '?', target, port, kind: m.kind, text: m.text });
    }
  }
  return out;
}

registerRule({
  id: 'icmp-carrier-refused', sign: 'A carrier datagram is answered with an ICMP error (port unreachable, administratively prohibited, host/net unreachable, TTL exceeded)',
  classes: ['wireguard-config', 'ipsec-config', 'firewall', 'routing'], host: 'A or B (port unreachable), B or path (prohibited), path (unreachable)',
  evidence: 'the ICMP error and the datagram it quotes', tunnels: ['*'], withoutFlow: true,
  overrides: ['missing-b1', 'missing-b2', 'missing-a3', 'missing-a4'],
  applies: (f) => f.firstMissing !== null && ['B1', 'B2', 'A3', 'A4'].includes(f.firstMissing) && carrierIcmp(f).length > 0,
  evaluate: (f) => {
    const all = carrierIcmp(f);
    // The refusing host's own word first (B's capture shows it leaving), then what A received.
    const x = all.find((y) => y.kind !== 'frag' && y.kind !== 'other') ?? all[0]!;
    const fromTarget = x.from === x.target || f.B.local.has(x.from);
    const evidence = [...all.slice(0, 3).map((y) => ev(y.side, y.r))];
    const a2 = f.L('A2');
    if (a2 !== undefined) evidence.unshift(ev(f.A, a2.r));
    const cite = `ICMP "${proseData(x.text)}" from ${proseData(x.from)} about UDP port ${x.port} at ${proseData(x.target)}`;
    let cls: FailureClass, host: FixHost, title: string, detail: string, steps: string[];
    let cpt: CheckpointLabel | null = f.firstMissing;
    if (x.kind === 'port' && fromTarget) {
      // The target's kernel answered: the datagram arrived and no socket is bound to that port.
      // Only a capture that lists B's interfaces (pcapng) can show the tunnel is absent on B; otherwise
      // the port A sends to is the first suspect.
      const tunnelRuns = [...f.B.ifaces.values()].some((i) => i.kind === 'tunnel') ||
        f.B.outer.some((r) => r.p.dport !== undefined && r.p.dport !== x.port && r.p.sport !== x.port && r.outer !== null);
      const tunnelAbsent = f.B.listed.length > 0 && !tunnelRuns;
      cls = f.tunnel.configClass; host = tunnelAbsent ? 'B' : 'A';
      cpt = 'B2';
      title = `B answers A's ${f.tunnel.words.init} with ICMP port unreachable: nothing listens on UDP ${x.port} at ${proseData(x.target)}`;
      detail = `${cite}. The datagram reached B and B's kernel refused it, so no ${f.tunnel.words.response} can exist. ` +
        (!tunnelAbsent
          ? `${tunnelRuns ? `B's capture shows its ${f.tunnel.name} tunnel running, so check` : 'Check'} first the port A sends to (A's peer endpoint), then the port B listens on (or whether ${f.tunnel.name} runs on B).`
          : `B's capture lists its interfaces and no tunnel among them: ${f.tunnel.name} may be down on B, or listen on another port.`);
      steps = [
        `On A: ${f.tunnel.show(f.ifw.tunA)}: the peer's endpoint port must be the one B listens on.`,
        `On B: ${code(cmd`ss -lun sport = :${x.port}`)} shows whether anything listens on UDP ${x.port}; ${f.tunnel.show(f.ifw.tunB)} shows the port B uses.`,
      ];
    } else if (x.kind === 'admin') {
      cls = 'firewall'; host = fromTarget ? 'B' : 'path';
      if (fromTarget) cpt = 'B2';
      title = fromTarget
        ? `B's firewall rejects A's ${f.tunnel.words.init} (ICMP administratively prohibited)`
        : `A firewall at ${proseData(x.from)} rejects A's ${f.tunnel.words.init} on the way (ICMP administratively prohibited)`;
      detail = `${cite}. A reject rule says so itself: it is a firewall, not routing.`;
      steps = fromTarget
        ? [`On B: ${code('nft list ruleset')}: the input chain rejects UDP ${x.port}; accept it on ${proseData(f.ifw.wanB)}.`]
        : [`On the device at ${proseData(x.from)}: its filter rejects UDP to ${proseData(x.target)}:${x.port}; allow it (both directions).`];
    } else if (x.kind === 'host' || x.kind === 'net' || x.kind === 'ttl') {
      cls = 'routing'; host = fromTarget ? 'B' : 'path';
      title = `A's ${f.tunnel.words.init} does not reach ${proseData(x.target)}: ${proseData(x.from)} reports ${proseData(x.text)}`;
      detail = `${cite}. A router on the way has no route to B's address (or the packet loops).`;
      steps = [`From A: ${code(cmd`traceroute -n ${x.target}`)}; on the router at ${proseData(x.from)}: its route to ${proseData(x.target)}.`];
    } else if (x.kind === 'frag') {
      cls = 'mtu'; host = 'path';
      title = `A's ${f.tunnel.words.init} is too large for the path: ${proseData(x.from)} reports ${proseData(x.text)}`;
      detail = `${cite}.`;
      steps = ['Lower the MTU on A\'s side of the tunnel path, or allow fragments; let ICMP "fragmentation needed" through.'];
    } else {
      cls = 'firewall-or-routing'; host = fromTarget ? 'B' : 'path';
      title = `A's ${f.tunnel.words.init} is answered with an ICMP error: ${proseData(x.text)}`;
      detail = `${cite}.`;
      steps = [];
    }
    const out: Finding = { rule: 'icmp-carrier-refused', severity: 'error', checkpoint: cpt, host, class: cls, title, detail, evidence, next_steps: steps };
    return [out];
  },
});

registerRule({
  id: 'destination-refuses-icmp', sign: 'The path works, but the destination (or a router next to it) answers the test connection with an ICMP error',
  classes: ['none', 'firewall', 'routing'], host: 'siteB (B when point-to-point)', evidence: 'the ICMP error at B6/B7',
  tunnels: ['*'], applies: (f) => (f.L('B6') ?? f.L('B7')) !== undefined,
  evaluate: (f) => {
    const b6 = f.L('B6') ?? f.L('B7')!;
    const ic = b6.r.p.icmp;
    if (ic === undefined || !isIcmpError(ic)) return [];
    const m = icmpMeaning(ic);
    const from = b6.r.p.src ?? '?';
    const fromDst = from === f.T!.dst || from === f.lanTuple?.dst;
    return [{
      rule: 'destination-refuses-icmp', severity: 'warning', checkpoint: b6 === f.L('B6') ? 'B6' : 'B7', host: f.p2p ? 'B' : 'siteB',
      class: m.kind === 'admin' ? 'firewall' : m.kind === 'host' || m.kind === 'net' || m.kind === 'ttl' ? 'routing' : 'none',
      title: `The tunnel works, but ${fromDst ? f.dst : `${proseData(from)} (on the way to ${f.dst})`} answers the connection with ICMP "${proseData(m.text)}"`,
      detail: m.kind === 'port' ? 'Nothing listens on that port at the destination.'
        : m.kind === 'admin' ? 'A firewall at the destination or next to it rejects the connection and says so.'
          : 'The answer comes back through the tunnel: the fault is beyond B, in site B.',
      evidence: [ev(b6.side, b6.r)],
      next_steps: m.kind === 'port'
        ? [`On ${proseData(f.T!.dst)}: ${code('ss -ltn')} / ${code('ss -lun')} (is the service listening on port ${f.T!.dport ?? '?'}?).`]
        : [`On ${proseData(from)}: its firewall rules and routes towards ${proseData(f.T!.src)}.`],
    }];
  },
});
