// Checkpoint vocabulary of the exports: what each label means, where on the path it sits, and the
// order a healthy exchange passes them in. Wording is ours; the facts come from the domain primer.
import type { Packet } from '../protocols/packet.ts';
import { PATH_ORDER as ENGINE_PATH_ORDER } from '../analysis/types.ts';

/** Interface role a checkpoint is observed on. */
export type IfaceRole = 'tunnel' | 'wan' | 'lan';

export interface CheckpointSpec {
  label: string;
  host: 'A' | 'B';
  role: IfaceRole;
  dir: 'in' | 'out';
  /** Short description; `{pkt}` is replaced by what the test packet is ("inner SYN", "inner packet"). */
  text: string;
  /** Only a site-to-site gateway has it (IPsec A0/A7): listed when seen or named missing, never as "not seen". */
  gatewayOnly?: true;
}

export const CHECKPOINTS: readonly CheckpointSpec[] = [
  { label: 'A0', host: 'A', role: 'lan', dir: 'in', gatewayOnly: true, text: 'request from the LAN host reaches gateway A' },
  { label: 'A1', host: 'A', role: 'tunnel', dir: 'out', text: '{pkt} leaves on the tunnel interface' },
  { label: 'A2', host: 'A', role: 'wan', dir: 'out', text: 'handshake initiation goes out on the physical interface' },
  { label: 'A3', host: 'A', role: 'wan', dir: 'in', text: 'handshake response comes back' },
  { label: 'A4', host: 'A', role: 'wan', dir: 'out', text: 'first encrypted data packet goes out' },
  { label: 'A5', host: 'A', role: 'wan', dir: 'in', text: 'encrypted reply comes in' },
  { label: 'A6', host: 'A', role: 'tunnel', dir: 'in', text: 'decrypted reply shows up on the tunnel interface' },
  { label: 'A7', host: 'A', role: 'lan', dir: 'out', gatewayOnly: true, text: 'gateway A hands the decrypted reply back to the LAN host' },
  { label: 'B1', host: 'B', role: 'wan', dir: 'in', text: 'handshake initiation arrives on the WAN interface' },
  { label: 'B2', host: 'B', role: 'wan', dir: 'out', text: 'handshake response goes back to the initiator' },
  { label: 'B3', host: 'B', role: 'wan', dir: 'in', text: 'first encrypted data arrives' },
  { label: 'B4', host: 'B', role: 'tunnel', dir: 'in', text: 'decrypted {pkt} appears on the tunnel interface' },
  { label: 'B5', host: 'B', role: 'lan', dir: 'out', text: '{pkt} is forwarded out the LAN interface' },
  { label: 'B6', host: 'B', role: 'lan', dir: 'in', text: 'reply comes in from the LAN' },
  { label: 'B7', host: 'B', role: 'tunnel', dir: 'out', text: 'reply goes out the tunnel interface, not yet encrypted' },
  { label: 'B8', host: 'B', role: 'wan', dir: 'out', text: 'encrypted reply leaves on the WAN interface' },
];

/**
 * Order in which a healthy first exchange meets the checkpoints (both hosts interleaved). A gateway
 * sees the request on its LAN side before anything else and the reply leaves there last.
 */
export const PATH_ORDER: readonly string[] = ['A0', ...ENGINE_PATH_ORDER, 'A7'];

const BY_LABEL = new Map(CHECKPOINTS.map((c) => [c.label, c]));

export function checkpointSpec(label: string): CheckpointSpec | undefined {
  return BY_LABEL.get(label);
}

/** "inner SYN", "inner ICMP echo request" … : what the test packet is, for checkpoint texts. */
export function testPacketWord(p: Packet | undefined): string {
  if (!p) return 'inner packet';
  if (p.tcp) {
    const f = p.tcp.flags;
    if (f.includes('S') && !f.includes('.')) return 'inner SYN';
    if (f.includes('S')) return 'inner SYN-ACK';
    return 'inner TCP segment';
  }
  if (p.icmp) return p.icmp.type === 8 || p.icmp.type === 128 ? 'inner echo request' : 'inner ICMP packet';
  if (p.proto === 'udp') return 'inner UDP datagram';
  return 'inner packet';
}

/** "inner SYN leaves on the tunnel interface"; falls back to the bare label for unknown ones. */
export function describeCheckpoint(label: string, testPacket?: Packet): string {
  const spec = BY_LABEL.get(label);
  if (!spec) return label;
  return spec.text.replace('{pkt}', testPacketWord(testPacket));
}
