// The Info text of a packet list row, worded as Wireshark words its Info column for the tunnel
// protocols (WireGuard, ESP, IKE), from the decoded Packet fields alone. Other packets keep the
// tcpdump-like summary without its "IP src > dst: " prefix, which the address columns show.
// Pure: the renderer's formatter and the CLI share it.

import type { IkeInfo, Packet } from './packet.ts';

/** 0x + eight upper-case hex digits, as Wireshark prints 32-bit indexes and SPIs. */
export function hex32(n: number): string {
  return '0x' + (n >>> 0).toString(16).toUpperCase().padStart(8, '0');
}

const IKE2_EXCHANGES: Record<number, string> = {
  34: 'IKE_SA_INIT',
  35: 'IKE_AUTH',
  36: 'CREATE_CHILD_SA',
  37: 'INFORMATIONAL',
  38: 'IKE_SESSION_RESUME',
  43: 'IKE_INTERMEDIATE',
  44: 'IKE_FOLLOWUP_KE',
};

const IKE1_EXCHANGES: Record<number, string> = {
  1: 'Base',
  2: 'Identity Protection (Main Mode)',
  3: 'Authentication Only',
  4: 'Aggressive',
  5: 'Informational',
  32: 'Quick Mode',
  33: 'New Group Mode',
};

const IKE2_NOTIFIES: Record<number, string> = {
  7: 'INVALID_SYNTAX',
  14: 'NO_PROPOSAL_CHOSEN',
  17: 'INVALID_KE_PAYLOAD',
  24: 'AUTHENTICATION_FAILED',
  34: 'SINGLE_PAIR_REQUIRED',
  35: 'NO_ADDITIONAL_SAS',
  36: 'INTERNAL_ADDRESS_FAILURE',
  37: 'FAILED_CP_REQUIRED',
  38: 'TS_UNACCEPTABLE',
  43: 'TEMPORARY_FAILURE',
  44: 'CHILD_SA_NOT_FOUND',
  16390: 'COOKIE',
};

export function ikeExchangeName(version: 1 | 2, exchange: number): string {
  const name = (version === 2 ? IKE2_EXCHANGES : IKE1_EXCHANGES)[exchange];
  return name ?? `exchange ${exchange}`;
}

function ikeInfo(ike: IkeInfo): string {
  const name = ikeExchangeName(ike.version, ike.exchange);
  const mid = ike.msgid.toString(16).padStart(2, '0');
  // IKEv1 has no initiator/response bits: Wireshark names the exchange only.
  if (ike.version !== 2) return name;
  const parts = [`${name} MID=${mid}`];
  if (ike.flags !== undefined) {
    parts.push((ike.flags & 0x08) !== 0 ? 'Initiator' : 'Responder');
    parts.push((ike.flags & 0x20) !== 0 ? 'Response' : 'Request');
  }
  return parts.join(' ');
}

/** Strips tcpdump's "IP a > b: " lead-in when the packet's own addresses are shown elsewhere. */
function bareSummary(p: Packet): string {
  return p.src !== undefined ? p.summary.replace(/^IP6? \S+ > \S+: /, '') : p.summary;
}

/** The Info column text of one packet. */
export function packetInfo(p: Packet): string {
  let text: string;
  const wg = p.wg;
  if (wg !== undefined) {
    switch (wg.type) {
      case 1:
        text = `Handshake Initiation, sender=${wg.sender === undefined ? '?' : hex32(wg.sender)}`;
        break;
      case 2:
        text = `Handshake Response, sender=${wg.sender === undefined ? '?' : hex32(wg.sender)}, receiver=${wg.receiver === undefined ? '?' : hex32(wg.receiver)}`;
        break;
      case 3:
        text = `Cookie Reply, receiver=${wg.receiver === undefined ? '?' : hex32(wg.receiver)}`;
        break;
      default:
        text = `Transport Data, receiver=${wg.receiver === undefined ? '?' : hex32(wg.receiver)}, counter=${wg.counter ?? '?'}`;
        // A transport message with an empty payload (16-byte tag only) is WireGuard's keepalive.
        if (p.udp !== undefined && p.udp.len === 32) text += ' (keepalive)';
        break;
    }
  } else if (p.esp !== undefined) {
    text = `ESP (SPI=${hex32(p.esp.spi)}), seq=${p.esp.seq}`;
  } else if (p.ike !== undefined) {
    text = ikeInfo(p.ike);
    // Error notifies (below 16384) and COOKIE say why an exchange stalls; routine status notifies are left out, as Wireshark does.
    const said = (p.ike.notify ?? []).filter((n) => n < 16384 || n === 16390);
    if (said.length) text += `, ${said.map((n) => IKE2_NOTIFIES[n] ?? `notify ${n}`).join(', ')}`;
  } else if (p.nattKeepalive) {
    text = 'NAT-keepalive';
  } else {
    text = bareSummary(p);
  }
  return p.truncated ? `${text} [${p.truncated}]` : text;
}
