// Host evidence about NAT on B (shared/evidence/nat.ts): the nat-table rule that rewrites (or fails
// to rewrite) the test flow, quoted with its handle or position and its counter delta.
import { registerRule } from './registry.ts';
import { evidenceOf, findingsFor, issuesOf } from './evidence-common.ts';
import type { Facts } from '../facts.ts';
import type { IssueId } from '../../evidence/checks.ts';

const has = (id: IssueId) => (f: Facts): boolean => evidenceOf(f) !== null && issuesOf(f).some((x) => x.id === id);

registerRule({
  id: 'evidence-nat-no-masquerade',
  sign: 'B forwards the tunnel address onto its LAN with no nat rule rewriting it, and the destination never answers (B6 missing)',
  classes: ['routing'], host: 'B (masquerade) or site B (route back)', evidence: 'the nat postrouting chain walked, the near-miss masquerade rule and its counter',
  tunnels: ['*'], overrides: ['missing-b6'],
  applies: has('evidence-nat-no-masquerade'),
  // Routing the tunnel subnet on site B instead of masquerading is a valid design: only a finding when B6 is what is missing.
  evaluate: (f) => findingsFor(f, 'evidence-nat-no-masquerade').filter((x) => x.severity === 'error'),
});

registerRule({
  id: 'evidence-nat-snat-foreign', sign: 'B\'s postrouting SNATs the forwarded packet to an address B does not own',
  classes: ['nat'], host: 'B', evidence: 'the SNAT rule with its handle and counter delta, `ip -o addr`',
  tunnels: ['*'], overrides: ['missing-b6'],
  applies: has('evidence-nat-snat-foreign'), evaluate: (f) => findingsFor(f, 'evidence-nat-snat-foreign'),
});

registerRule({
  id: 'evidence-nat-dnat-listen', sign: 'A DNAT/redirect in B\'s prerouting takes WireGuard\'s listen port elsewhere, so B never answers the handshake',
  classes: ['nat'], host: 'B', evidence: 'the DNAT rule with its handle and counter delta, the listen port from `wg show`',
  tunnels: ['wireguard'], overrides: ['missing-b2'],
  applies: has('evidence-nat-dnat-listen'), evaluate: (f) => findingsFor(f, 'evidence-nat-dnat-listen'),
});

registerRule({
  id: 'evidence-nat-endpoint', sign: 'A source NAT on B rewrites WireGuard\'s own UDP (address or port), so A gets the answers from elsewhere',
  classes: ['nat'], host: 'B', evidence: 'the SNAT/masquerade rule with its handle and counter delta',
  tunnels: ['wireguard'], overrides: ['missing-a3', 'missing-a5'],
  applies: has('evidence-nat-endpoint'), evaluate: (f) => findingsFor(f, 'evidence-nat-endpoint'),
});

registerRule({
  id: 'evidence-nat-tunnel', sign: 'IPsec gateway A\'s source NAT also rewrites LAN traffic for the tunnel, moving it out of the local traffic selector',
  classes: ['nat'], host: 'A', evidence: 'the SNAT/masquerade rule with its handle and counter delta, the child SA or xfrm policy',
  tunnels: ['ipsec'],
  applies: has('evidence-nat-tunnel'), evaluate: (f) => findingsFor(f, 'evidence-nat-tunnel'),
});
