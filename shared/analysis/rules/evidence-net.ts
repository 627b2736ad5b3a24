// Host evidence about forwarding on either end: the firewall rule that decides the test packet
// (with its counter), the route it takes (policy rules included), forwarding and rp_filter.
import { registerRule } from './registry.ts';
import { evidenceOf, findingsFor, issuesOf } from './evidence-common.ts';
import type { Facts } from '../facts.ts';
import type { IssueId } from '../../evidence/checks.ts';

const has = (id: IssueId) => (f: Facts): boolean => evidenceOf(f) !== null && issuesOf(f).some((x) => x.id === id);

registerRule({
  id: 'evidence-fw-drop', sign: 'An nft/iptables rule (or chain policy) drops the test packet where it vanished; its counter rose during the test',
  classes: ['firewall'], host: 'B (A for the carrier\'s answers)', evidence: 'the rule with its handle and counter delta',
  tunnels: ['*'], overrides: ['missing-b5', 'missing-b7', 'missing-b2', 'missing-a3', 'missing-a5'],
  applies: has('evidence-fw-drop'), evaluate: (f) => findingsFor(f, 'evidence-fw-drop'),
});

registerRule({
  id: 'evidence-route-missing', sign: 'The captured routing tables give the test packet no route, a blackhole, or the wrong interface',
  classes: ['routing'], host: 'A or B', evidence: 'the policy rule and route line chosen', tunnels: ['*'],
  overrides: ['missing-a1', 'a1-wrong-interface', 'missing-b5', 'missing-b7'],
  applies: has('evidence-route-missing'), evaluate: (f) => findingsFor(f, 'evidence-route-missing'),
});

registerRule({
  id: 'evidence-forwarding-off', sign: 'IP forwarding is disabled on B', classes: ['routing'], host: 'B',
  evidence: 'the sysctl line', tunnels: ['*'], overrides: ['missing-b5'],
  applies: has('evidence-forwarding-off'), evaluate: (f) => findingsFor(f, 'evidence-forwarding-off'),
});

registerRule({
  id: 'evidence-rp-filter', sign: 'Strict rp_filter on the arrival interface while the route back leaves by another', classes: ['asymmetric-routing'],
  host: 'B', evidence: 'the rp_filter sysctl and the route back', tunnels: ['*'], overrides: ['missing-b5'],
  applies: has('evidence-rp-filter'), evaluate: (f) => findingsFor(f, 'evidence-rp-filter'),
});
