// IPsec host evidence: selectors (swanctl, `ipsec statusall`, xfrm policies) against the test flow,
// and what the IKE daemons logged (proposals, authentication, identities, refused selectors).
import { registerRule } from './registry.ts';
import { evidenceOf, findingsFor, issuesOf } from './evidence-common.ts';
import type { Facts } from '../facts.ts';
import type { IssueId } from '../../evidence/checks.ts';

const has = (id: IssueId) => (f: Facts): boolean => evidenceOf(f) !== null && issuesOf(f).some((x) => x.id === id);

registerRule({
  id: 'evidence-ipsec-ts', sign: 'The child SA selectors (or xfrm policies) do not cover the test flow, or a log line says they were refused',
  classes: ['ipsec-config'], host: 'A or B', evidence: 'the child SA line, or the TS_UNACCEPTABLE log line', tunnels: ['ipsec'],
  overrides: ['missing-a1', 'a1-wrong-interface', 'missing-a2', 'missing-a4', 'missing-b3', 'missing-b4', 'missing-b5'],
  applies: has('evidence-ipsec-ts'), evaluate: (f) => findingsFor(f, 'evidence-ipsec-ts'),
});

registerRule({
  id: 'evidence-ipsec-proposal', sign: 'The gateways\' proposals do not intersect (NO_PROPOSAL_CHOSEN, received vs configured proposals)',
  classes: ['ipsec-config'], host: 'B', evidence: 'the received/configured proposals log lines', tunnels: ['ipsec'],
  overrides: ['missing-b2', 'missing-a3', 'missing-a4'],
  applies: has('evidence-ipsec-proposal'), evaluate: (f) => findingsFor(f, 'evidence-ipsec-proposal'),
});

registerRule({
  id: 'evidence-ipsec-auth', sign: 'Authentication or identity refused (AUTHENTICATION_FAILED, MAC mismatched, no matching peer config)',
  classes: ['ipsec-config'], host: 'B', evidence: 'the log line', tunnels: ['ipsec'],
  overrides: ['missing-b2', 'missing-a3', 'missing-a4', 'missing-b3'],
  applies: has('evidence-ipsec-auth'), evaluate: (f) => findingsFor(f, 'evidence-ipsec-auth'),
});
