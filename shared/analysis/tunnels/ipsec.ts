// IPsec as a tunnel module: IKE on UDP 500/4500 for the negotiation, ESP (or ESP in UDP 4500) for
// data, SAs with traffic selectors, strongSwan/libreswan commands and log wording. The IKE stage
// model is in ike-stages.ts; gateway-only refinements in ipsec-refine.ts.

import { shellQuote } from '../../util/shell.ts';
import { refineIpsec } from './ipsec-refine.ts';
import { code as c } from '../facts.ts';
import type { TunnelModule } from './types.ts';

const SAS = c('swanctl --list-sas') + ' (or ' + c('ipsec statusall') + ')';

let lastSpi = -1, lastKey = '';

export const ipsec: TunnelModule = {
  kind: 'ipsec',
  name: 'IPsec',
  outers: ['esp', 'ike'],
  ifaceHint: /^(ipsec|vti|xfrm|enc\d)/i,
  carrier: (p, _likeWg, out) => {
    if (p.esp !== undefined) {
      const ip = p.ip;
      out.outer = 'esp'; out.wgType = 0; out.olen = ip ? ip.len - 20 : p.len;
      return true;
    }
    const udp = p.udp;
    // IKE and NAT-T keepalives, and anything on the IKE ports the decoder could not read.
    if (p.ike !== undefined || p.nattKeepalive === true || (udp !== undefined && (p.sport === 500 || p.dport === 500 || p.sport === 4500 || p.dport === 4500))) {
      out.outer = 'ike'; out.wgType = 0; out.olen = udp?.len ?? -1;
      return true;
    }
    return false;
  },
  // A TCP column row has neither ESP nor IKE (the store keeps such packets whole); for others the packet tells.
  carrierRow: (r, x) => (r.l4[x] === 1 ? 0 : -1),
  // ESP: SPI + sequence number; IKE: SPIs, exchange and length, ordered by message ID.
  carrierKey: (p, olen, ord) => {
    if (p.esp !== undefined) { ord.n = p.esp.seq; return `E|${p.esp.spi}`; }
    if (p.ike !== undefined) { ord.n = p.ike.msgid; return `K|${p.ike.ispi}|${p.ike.rspi}|${p.ike.exchange}|${olen}`; }
    return null;
  },
  // The numbers of a packet held as numbers: ESP or nothing (such a packet never has IKE).
  carrierKeyIds: (x, _olen, ord) => {
    if (x.espSpi < 0) return null;
    ord.n = x.espSeq;
    // One SA's datagrams come in runs: its group text is made once per run, not per datagram.
    if (x.espSpi !== lastSpi) { lastSpi = x.espSpi; lastKey = `E|${x.espSpi}`; }
    return lastKey;
  },
  // ESP adds a header, IV, padding and ICV whose sizes depend on the algorithms: only "larger" is sure.
  innerFits: (olen, ilen) => olen > ilen,
  defaultDevice: '<tunnel interface>',
  sessionSeen: (A) => A.outerKinds.has('esp'),
  // IKE exchanges are judged by the stage model (ike-stages.ts), not as initiation/response pairs.
  handshakes: () => ({ inits: [], resps: [], bInits: [], bResps: [] }),
  configClass: 'ipsec-config',
  words: { init: 'IKE request', response: 'IKE response', handshake: 'IKE exchange', policy: 'traffic selectors' },
  show: () => SAS,
  say: {
    routeSteps: (x) => [
      `On A: ${SAS}: a child SA whose remote traffic selectors include ${x.dstAddr} must be installed.`,
      `On A: ${c('ip xfrm policy')} must hold an outbound policy that covers ${x.dstAddr} (route-based: a route into the tunnel device).`,
    ],
    noStart: (x, otherOut) => ({
      title: 'A never starts the IKE exchange',
      detail: otherOut
        ? 'A sends other IPsec traffic but no IKE for this connection; check its route to the peer.'
        : 'No IKE or ESP leaves A at all: no connection is loaded or started for this peer on A (no trap policy, no auto=start), or A has no route to it.',
      next_steps: [
        `On A: ${c('swanctl --list-conns')}: a connection to the peer${x.bListen !== null ? ` (${x.bListen})` : ''} must be loaded; start it with ${c('swanctl --initiate --child <name>')} or set start_action=trap.`,
      ],
    }),
    wrongEndpoint: (x) => ({
      title: `A sends its IKE requests to ${x.target ?? '?'}, but B uses ${x.bListen ?? '?'}`,
      detail: 'A\'s remote address (or port) for the peer is wrong; nothing arrives at B.',
      class: 'ipsec-config',
      next_steps: [`On A: the connection's remote_addrs (strongSwan) or right= (libreswan) must be ${x.bListen !== null ? shellQuote(x.bListen.replace(/:\d+$/, '')) : 'B\'s address'}; check with ${c('swanctl --list-conns')}.`],
    }),
    noAnswer: () => ({
      title: 'B receives the IKE request but does not answer',
      detail: 'B has no connection that matches A (addresses, IKE version, identities) or ignores it; its IKE daemon log says why.',
      class: 'ipsec-config',
      next_steps: [
        `On B: ${c('swanctl --list-conns')}: a connection whose remote_addrs include A's address must be loaded.`,
        `On B: ${c('journalctl -u strongswan')} (charon) or ${c('journalctl -u ipsec')} (pluto): look for "no IKE config found", "no matching connection" or "ignoring".`,
      ],
    }),
    noDataAfterHandshake: (x) => ({
      title: 'A gets IKE answers from B but sends no ESP',
      detail: `No ESP leaves A: the negotiation did not finish (see A's IKE log), or A has no outbound policy for this traffic (the child SA's traffic selectors do not cover ${x.aTunAddr} → ${x.dstAddr}).`,
      class: 'ipsec-config',
      next_steps: [
        `On A: ${SAS}: the child SA and its traffic selectors; ${c('ip xfrm policy')} for an "out" policy covering ${x.dstAddr}.`,
      ],
    }),
    noDecrypt: (x) => ({
      title: `B decrypts nothing for ${x.aTunAddr}: it dies at the tunnel policy`,
      detail: 'The traffic selectors on B do not cover A\'s inner source.',
      next_steps: [`On B: ${SAS} and the child SA's local/remote traffic selectors (must include ${x.aTunAddr}).`],
    }),
    noEncryptReply: (x) => ({
      title: 'B puts the reply into the tunnel but sends no ESP back',
      next_steps: [`On B: ${SAS}: the child SA's local selectors must include the reply's source ${x.dstAddr}; ${c('ip xfrm policy')} for the "out" policy.`],
    }),
    noDecryptReply: (x) => ({
      title: `A receives ESP from B but nothing from ${x.dstAddr} comes out of its tunnel`,
      detail: `A's inbound policy (traffic selectors) must include the reply's source ${x.dstAddr}.`,
      next_steps: [`On A: ${SAS} and ${c('ip xfrm policy')} (the "in"/"fwd" policies must cover ${x.dstAddr}).`],
    }),
    recent: () => ({
      title: 'No IKE exchange in the capture: the SAs were already up',
      detail: 'IKE completed before the capture started, so A2, A3, B1 and B2 are not expected.',
      next_steps: [`${SAS} on both gateways shows the SAs and their age.`],
    }),
    natStep: () => 'Normal behind a NAT router: NAT-T moves IKE and ESP to UDP 4500, and NAT-T keepalives keep the mapping open.',
    mtuStep: (x) => `Or lower the MTU of the tunnel path (${c('ip link set dev ' + x.tunA + ' mtu 1380')} on a route-based tunnel device) on both ends.`,
  },
  vocabulary: /\bIKE|\bESP\b|IPsec|swanctl|strongSwan|charon|pluto|libreswan|Openswan|xfrm|ipsec statusall|traffic selectors|child SA|CHILD_SA/,
  refine: refineIpsec,
};
