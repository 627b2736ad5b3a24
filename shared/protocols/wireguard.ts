// WireGuard, recognised on any UDP port by its fixed message sizes and zero reserved bytes.
// Transport data is only required to hold its 32-byte minimum: padding to 16 stops at the tunnel MTU,
// so full-size packets are not multiples of 16 (tshark's heuristic makes the same choice).
// Indices and counter are little-endian; they survive NAT and identify one datagram on both ends.

import { registerUdpHeuristic, type Ctx } from './registry.ts';
import type { WireGuardInfo } from './packet.ts';

const NAMES = ['', 'Handshake Initiation', 'Handshake Response', 'Cookie Reply', 'Transport Data'];

function dissectWireGuard(c: Ctx, off: number, end: number): boolean {
  const n = c.plen;
  const avail = end - off;
  if (avail < 4) return false;
  const d = c.d;
  const type = d[off]!;
  if (d[off + 1] !== 0 || d[off + 2] !== 0 || d[off + 3] !== 0) return false;
  if (type === 1 ? n !== 148 : type === 2 ? n !== 92 : type === 3 ? n !== 64 : type !== 4 || n < 32) return false;
  const p = c.p;
  p.proto = 'wireguard';
  const wg: WireGuardInfo = { type: type as 1 | 2 | 3 | 4 };
  p.wg = wg;
  const t = c.t;
  if (t) {
    t.layer('wg', 'WireGuard Protocol, ' + NAMES[type], off, avail);
    t.add('wg.type', 'Type: ' + NAMES[type] + ' (' + type + ')', type, off, 1);
    t.add('wg.reserved', 'Reserved: 000000', 0, off + 1, 3);
  }
  // Offsets of the clear-text fields per message type.
  const senderAt = type === 1 || type === 2 ? off + 4 : -1;
  const receiverAt = type === 2 ? off + 8 : type === 3 || type === 4 ? off + 4 : -1;
  if (senderAt >= 0) {
    if (senderAt + 4 > end) { c.trunc('WireGuard'); return true; }
    wg.sender = c.u32le(senderAt);
    if (t) t.add('wg.sender', 'Sender: 0x' + wg.sender.toString(16).padStart(8, '0'), wg.sender, senderAt, 4);
  }
  if (receiverAt >= 0) {
    if (receiverAt + 4 > end) { c.trunc('WireGuard'); return true; }
    wg.receiver = c.u32le(receiverAt);
    if (t) t.add('wg.receiver', 'Receiver: 0x' + wg.receiver.toString(16).padStart(8, '0'), wg.receiver, receiverAt, 4);
  }
  if (type === 4) {
    if (off + 16 > end) { c.trunc('WireGuard'); return true; }
    const lo = c.u32le(off + 8);
    const hi = c.u32le(off + 12);
    // Exact in a double below 2^53; beyond that go through BigInt (never in practice).
    wg.counter = hi < 0x200000 ? String(hi * 0x100000000 + lo) : ((BigInt(hi) << 32n) | BigInt(lo)).toString();
    if (t) {
      t.add('wg.counter', 'Counter: ' + wg.counter, wg.counter, off + 8, 8);
      t.add('wg.encrypted_packet', 'Encrypted Packet (' + (n - 16) + ' bytes)' + (n === 32 ? ', keepalive' : ''), undefined, off + 16, Math.max(0, avail - 16));
    }
  }
  return true;
}

registerUdpHeuristic(dissectWireGuard);
