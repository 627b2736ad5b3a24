// WireGuard as a tunnel module: UDP carriers with message types 1–4 (initiation 148 B, response
// 92 B, cookie 64 B, transport data), peers and allowed IPs, `wg` commands.

import { proseData, shellQuote } from '../../util/shell.ts';
import { code as c } from '../facts.ts';
import type { SayCtx, TunnelModule } from './types.ts';


export const wireguard: TunnelModule = {
  kind: 'wireguard',
  name: 'WireGuard',
  outers: ['wg'],
  ifaceHint: /^(wg|nordlynx|wt\d)/i,
  carrier: (p, likeWg, out) => {
    // Only the type is read here: the numeric form (offered by column stores) makes no counter text.
    const wg = p.wgNum ?? p.wg;
    if (wg !== undefined) {
      out.outer = 'wg'; out.wgType = wg.type; out.olen = p.udp?.len ?? (p.len - 28);
      return true;
    }
    const udp = p.udp;
    // Undecoded (text, odd port): the conversation's sizes fit the framing; the type follows from the size.
    if (!likeWg || udp === undefined || p.tcp !== undefined || p.esp !== undefined || p.ike !== undefined || p.nattKeepalive === true) return false;
    out.outer = 'wg'; out.olen = udp.len; out.wgType = udp.len === 148 ? 1 : udp.len === 92 ? 2 : 4;
    return true;
  },
  carrierRow: (r, x, likeWg, out) => {
    const w = r.wgType[x]!, l4 = r.l4[x]!;
    if (w !== 0) {
      // A WireGuard header on UDP (a column row's only form): the UDP length is the payload's.
      if (l4 !== 2) return -1;
      out.outer = 'wg'; out.wgType = w; out.olen = r.l4len[x]!;
      return 1;
    }
    // No header: only UDP in a WireGuard-like conversation can be one, unless it is ESP in UDP (the row does not say).
    return likeWg && l4 === 2 ? -1 : 0;
  },
  // Transport data: receiver index + counter; handshakes: the sender/receiver indexes.
  carrierKey: (p, _olen, ord) => {
    // A column store's packets offer the counter as a number: no decimal text made (and parsed
    // back) per datagram of a bulk session. Number() of either form is the counter.
    const w = p.wgNum ?? p.wg;
    if (w === undefined) return null;
    switch (w.type) {
      case 4:
        if (w.receiver === undefined || w.counter === undefined) return null;
        ord.n = Number(w.counter);
        return w.receiver;
      case 1: if (w.sender === undefined) return null; ord.n = w.sender; return 'h1';
      case 2: if (w.sender === undefined || w.receiver === undefined) return null; ord.n = w.sender; return `h2|${w.receiver}`;
      case 3: if (w.receiver === undefined) return null; ord.n = w.receiver; return 'h3';
    }
    return null;
  },
  // carrierKey from the numbers: -1 marks what the header lacks.
  carrierKeyIds: (x, _olen, ord) => {
    switch (x.wgType) {
      case 0: return null;
      case 4:
        if (x.wgReceiver < 0 || x.wgCounter < 0) return null;
        ord.n = x.wgCounter;
        return x.wgReceiver;
      case 1: if (x.wgSender < 0) return null; ord.n = x.wgSender; return 'h1';
      case 2: if (x.wgSender < 0 || x.wgReceiver < 0) return null; ord.n = x.wgSender; return `h2|${x.wgReceiver}`;
      case 3: if (x.wgReceiver < 0) return null; ord.n = x.wgReceiver; return 'h3';
    }
    return undefined;
  },
  // 16-byte header + plaintext padded to 16 + 16-byte tag (padding stops at the tunnel MTU).
  innerFits: (olen, ilen) => olen === 32 + Math.ceil(ilen / 16) * 16 || olen === ilen + 32,
  defaultDevice: 'wg0',
  sessionSeen: (A, B) => A.outer.some((r) => r.dir === 'out' && r.wgType === 4) || B.outer.some((r) => r.dir === 'in' && r.wgType === 4),
  handshakes: (A, B) => ({
    inits: A.hs.filter((r) => r.dir === 'out' && r.outer === 'wg' && r.wgType === 1),
    resps: A.hs.filter((r) => r.dir === 'in' && r.outer === 'wg' && r.wgType === 2),
    bInits: B.hs.filter((r) => r.dir === 'in' && r.outer === 'wg' && r.wgType === 1),
    bResps: B.hs.filter((r) => r.dir === 'out' && r.outer === 'wg' && r.wgType === 2),
  }),
  configClass: 'wireguard-config',
  words: { init: 'handshake initiation', response: 'handshake response', handshake: 'handshake', policy: 'allowed IPs' },
  show: (iface) => c(iface === '' ? 'wg show' : 'wg show ' + iface),
  say: {
    routeSteps: (x: SayCtx) => [
      `On A: ${c('wg show')} (interface up, the peer's allowed IPs include ${x.dstAddr}).`,
    ],
    noStart: (x, otherOut) => ({
      title: 'A never sends a handshake initiation',
      detail: otherOut
        ? 'A sends other carrier traffic but no handshake for this connection; check its route to the peer.'
        : 'No carrier packet leaves A at all: the peer has no endpoint configured on A, or A has no route to it.',
      next_steps: [
        `On A: ${c('wg show')}: the peer needs an endpoint${x.bListen !== null ? ` (B listens on ${x.bListen})` : ''}.`,
      ],
    }),
    wrongEndpoint: (x) => ({
      title: `A sends its handshake to ${x.target ?? '?'}, but B listens on ${x.bListen ?? '?'}`,
      detail: 'A\'s endpoint setting for the peer is wrong; nothing arrives at B.',
      next_steps: [`On A: fix the peer's Endpoint (${c('wg set ' + x.tunA + ' peer <key> endpoint ' + (x.bListen !== null ? shellQuote(x.bListen) : '<B address:port>'))}) and check with ${c('wg show')}.`],
      class: 'wireguard-config',
    }),
    noAnswer: (x) => ({
      title: 'B receives the handshake initiation but does not answer',
      detail: 'B has no peer with A\'s public key, the keys or preshared key do not match, or B\'s own firewall drops the initiation.',
      class: 'wireguard-config-or-firewall',
      next_steps: [
        `On B: ${c('wg show ' + x.tunB)}: a peer with A's public key must exist; compare keys with ${c('wg show')} on A.`,
        `On both: ${c('wg show all preshared-keys')} must agree.`,
        `On B: ${c('nft list ruleset')}: input must accept UDP to ${x.bListen ?? 'the listen port'} on ${proseData(x.wanB)}.`,
      ],
    }),
    noDataAfterHandshake: (x) => ({
      title: 'A gets the handshake response but never sends data',
      detail: `${x.resps > 1 ? `Initiations and responses alternate (${x.inits}/${x.resps}): ` : ''}A's own firewall drops the response after tcpdump saw it (or the preshared keys differ).`,
      class: 'firewall',
      next_steps: [
        `On A: ${c('nft list ruleset')} / ${c('iptables-save')}: input must accept UDP from ${x.bListen ?? 'B'} (established).`,
        `On both: ${c('wg show all preshared-keys')} must agree.`,
      ],
    }),
    noDecrypt: (x) => ({
      title: `B decrypts nothing for ${x.aTunAddr}: it dies at the tunnel policy`,
      detail: `B's allowed IPs for A's peer do not include A's tunnel address ${x.aTunAddr}, so B drops the decrypted packet.`,
      next_steps: [`On B: ${c('wg show ' + x.tunB + ' allowed-ips')} must list ${x.aTunAddr} for A's peer.`],
    }),
    noEncryptReply: () => ({
      title: 'B puts the reply into the tunnel but sends nothing encrypted back',
      next_steps: [`On B: ${c('wg show')}: the reply's source address must be inside A's allowed IPs on B, and A's peer needs a known endpoint.`],
    }),
    noDecryptReply: (x) => ({
      title: `A receives the encrypted reply but nothing from ${x.dstAddr} comes out of its tunnel`,
      detail: `A's allowed IPs for B's peer must include the reply's source ${x.dstAddr}.`,
      next_steps: [`On A: ${c('wg show')} (allowed IPs of B's peer must include ${x.dstAddr}).`],
    }),
    recent: () => ({
      title: 'No handshake in the capture: the peers already had a session',
      detail: 'A handshake completed shortly before the capture started, so A2, A3, B1 and B2 are not expected.',
      next_steps: [`${c('wg show')} on both hosts shows the time of the latest handshake.`],
    }),
    natStep: () => 'Normal behind a home router; keep-alives (PersistentKeepalive = 25) keep the mapping open.',
    mtuStep: (x) => `Or lower the tunnel MTU (${c('ip link set dev ' + x.tunA + ' mtu 1380')}, or MTU = in the wg-quick config) on both ends.`,
  },
  vocabulary: /\bwg(-quick)?\b|WireGuard|PersistentKeepalive|allowed IPs|preshared-keys|handshake initiation|handshake response/,
};
