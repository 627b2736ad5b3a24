// Rules the IPsec module's post-pass applies (tunnels/ipsec-refine.ts): they read the gateway's
// LAN side and whole IKE retransmission series, which the post-pass walks once for all of them.
// Declared here so their ids are known and documented with the rest.

import { declarePostPass } from './registry.ts';

declarePostPass({
  id: 'ipsec-gateway-a7', sign: 'Gateway A decrypts the reply but does not pass it to the LAN host (A7 missing)',
  classes: ['firewall-or-routing'], host: 'A', evidence: 'A6', tunnels: ['ipsec'],
});
declarePostPass({
  id: 'ipsec-bypass', sign: 'The test traffic leaves gateway A unencrypted, or other hosts go through the tunnel and this one does not (selectors)',
  classes: ['ipsec-config', 'routing'], host: 'A', evidence: 'A0, the clear-text copies on the WAN, working hosts', tunnels: ['ipsec'],
});
declarePostPass({
  id: 'ipsec-nat-before-encryption', sign: 'Gateway A rewrites tunnel traffic (NAT) before encryption', classes: ['nat'], host: 'A',
  evidence: 'A0 and A1', tunnels: ['ipsec'],
});
declarePostPass({
  id: 'ipsec-esp-one-way', sign: 'ESP is lost one way while IKE on the same path gets through', classes: ['firewall'], host: 'path',
  evidence: 'the lost ESP and the IKE that arrived', tunnels: ['ipsec'],
});
declarePostPass({
  id: 'ike-fragments-lost', sign: 'A large IKE message leaves as IP fragments, repeats and is never answered', classes: ['mtu'], host: 'path',
  evidence: 'the fragmented retries', tunnels: ['ipsec'],
});
declarePostPass({
  id: 'ike-port-blocked', sign: 'IKE on one UDP port (4500 after NAT-T) never reaches B after the exchange on the other succeeded',
  classes: ['firewall'], host: 'path', evidence: 'the lost retries', tunnels: ['ipsec'],
});
declarePostPass({
  id: 'ike-unanswered-retries', sign: 'An IKE request is retransmitted without an answer', classes: ['firewall-or-routing'], host: 'path (or B)',
  evidence: 'the retries and their intervals', tunnels: ['ipsec'],
});

// Produced by the role decision in analyze.ts (shared/analysis/roles.ts), listed for the table.
declarePostPass({
  id: 'roles-swapped', sign: 'The second capture is the initiating host: the analysis swapped the roles', classes: ['none'], host: 'B',
  evidence: 'who sends the first initiation / IKE_SA_INIT / SYN', tunnels: ['*'], producedBy: 'role decision',
});
declarePostPass({
  id: 'roles-unclear', sign: 'The captures disagree about which host started the connection', classes: ['none'], host: 'A',
  evidence: 'contradicting initiations', tunnels: ['*'], producedBy: 'role decision',
});
