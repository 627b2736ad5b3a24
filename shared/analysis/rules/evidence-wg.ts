// WireGuard host evidence (`wg show all dump` of both ends): AllowedIPs, keys, endpoint port, keepalive.
import { registerRule } from './registry.ts';
import { evidenceOf, findingsFor, issuesOf } from './evidence-common.ts';
import type { Facts } from '../facts.ts';
import type { IssueId } from '../../evidence/checks.ts';

const has = (id: IssueId) => (f: Facts): boolean => evidenceOf(f) !== null && issuesOf(f).some((x) => x.id === id);

registerRule({
  id: 'evidence-wg-allowedips', sign: 'A peer\'s AllowedIPs lacks the test connection\'s inner source (on B) or destination (on A)',
  classes: ['wireguard-config'], host: 'B (A for the destination)', evidence: 'the peer line of `wg show all dump`',
  tunnels: ['wireguard'], overrides: ['missing-b4', 'missing-a2', 'missing-a4'],
  applies: has('evidence-wg-allowedips'), evaluate: (f) => findingsFor(f, 'evidence-wg-allowedips'),
});

registerRule({
  id: 'evidence-wg-keys', sign: 'The public keys of the two dumps do not pair up', classes: ['wireguard-config'],
  host: 'B or A', evidence: 'both interfaces\' public keys and the peers\' keys', tunnels: ['wireguard'],
  overrides: ['missing-b2', 'missing-a3'], applies: has('evidence-wg-keys'), evaluate: (f) => findingsFor(f, 'evidence-wg-keys'),
});

registerRule({
  id: 'evidence-wg-endpoint-port', sign: 'A\'s Endpoint port for B differs from B\'s ListenPort', classes: ['wireguard-config'],
  host: 'A', evidence: 'A\'s peer line and B\'s interface line', tunnels: ['wireguard'],
  overrides: ['missing-b1', 'missing-b2'], applies: has('evidence-wg-endpoint-port'), evaluate: (f) => findingsFor(f, 'evidence-wg-endpoint-port'),
});

registerRule({
  id: 'evidence-wg-keepalive', sign: 'A is behind NAT (B sees another address) and its peer has no PersistentKeepalive', classes: ['nat'],
  host: 'A', evidence: 'A\'s peer line, A\'s addresses, B\'s learnt endpoint', tunnels: ['wireguard'],
  applies: has('evidence-wg-keepalive'), evaluate: (f) => findingsFor(f, 'evidence-wg-keepalive'),
});
