// Replies that come back by another interface than the request left (rp_filter, stateful firewalls).

import { cmd, proseData } from '../../util/shell.ts';
import { ifaceNameOf } from '../prepare.ts';
import { code, ev } from '../facts.ts';
import type { Finding } from '../types.ts';
import { registerRule } from './registry.ts';

registerRule({
  id: 'asymmetric-lan-reply', sign: 'Replies from the destination enter B on another interface than the request left',
  classes: ['asymmetric-routing'], host: 'siteB (fatal) or B', evidence: 'the replies on the other interface',
  tunnels: ['*'], applies: (f) => f.L('B5') !== undefined && !f.hub,
  evaluate: (f) => {
    const b5 = f.L('B5')!;
    // On the flow's columns, B5's interface read once (a bulk flow's replies are tens of thousands).
    const k5 = b5.r.ifKey, B = f.B;
    // Replies off the tunnel interface not leaving B: without a hub that is bLanIn (analyze's split), so
    // only its members are read, else fB2's.
    const from = f.hub ? f.fB2.ways(false, 'out', false).rev : f.bLanIn;
    const odd = from.filterAt((_, i) => B.rec(i).ifKey !== k5);
    if (odd.length === 0) return [];
    const first = odd.at(0)!;
    const fatal = f.L('B7') === undefined && first.rec.is(f.L('B6')?.r);
    const out: Finding = {
      rule: 'asymmetric-lan-reply', severity: fatal ? 'error' : 'warning', checkpoint: 'B6', host: fatal ? 'siteB' : 'B', class: 'asymmetric-routing',
      title: `${odd.length} repl${odd.length === 1 ? 'y' : 'ies'} from ${proseData(f.lanTuple?.dst ?? '?')} entered B on ${proseData(ifaceNameOf(first.rec.p))}, not on ${proseData(ifaceNameOf(b5.r.p))} where the request left`,
      detail: 'Replies that come back by another interface than the request left are dropped by rp_filter and stateful firewalls.',
      evidence: odd.slice(0, 4).map((x) => ev(f.B, x.rec)),
      next_steps: [`On B: ${code('sysctl net.ipv4.conf.all.rp_filter')} and per-interface values.`,
        `On the server side: ${code(cmd`ip route get ${b5.r.p.src ?? '?'}`)} must point back via B's ${proseData(f.ifw.lanB)}.`],
    };
    return [out];
  },
});

registerRule({
  id: 'asymmetric-carrier', sign: 'B answers A\'s carrier traffic out another interface than it arrived on',
  classes: ['asymmetric-routing'], host: 'B', evidence: 'B1/B3 and B2/B8',
  tunnels: ['*'], applies: (f) => (f.L('B1') ?? f.L('B3')) !== undefined && (f.L('B2') ?? f.L('B8')) !== undefined,
  evaluate: (f) => {
    const b1 = f.L('B1') ?? f.L('B3')!;
    const b2 = f.L('B2') ?? f.L('B8')!;
    if (b1.r.ifKey === b2.r.ifKey) return [];
    return [{
      rule: 'asymmetric-carrier', severity: 'warning', checkpoint: b2 === f.L('B2') ? 'B2' : 'B8', host: 'B', class: 'asymmetric-routing',
      title: `B answers A's carrier traffic out ${proseData(ifaceNameOf(b2.r.p))} though it arrived on ${proseData(ifaceNameOf(b1.r.p))}`,
      evidence: [ev(f.B, b1.r), ev(f.B, b2.r)],
      next_steps: [`On B: ${code(cmd`ip route get ${b1.r.p.src ?? '?'}`)} and ${code('ip rule')}.`],
    }];
  },
});
