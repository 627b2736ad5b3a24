// Text for the packet list cells. Pure functions so they are cheap to call per visible row.

import { packetInfo } from '../../../../shared/protocols/info.ts';
import type { Packet } from '../../../../shared/protocols/packet.ts';
import type { Timestamp } from '../../db/schema.ts';

export type TimeMode = 'relative' | 'absolute';

const pad2 = (n: number): string => (n < 10 ? '0' : '') + n;
const pad9 = (n: number): string => String(n).padStart(9, '0');

function clock(totalSec: number, nsec: number): string {
  const h = Math.floor(totalSec / 3600);
  const m = Math.floor((totalSec % 3600) / 60);
  const s = totalSec % 60;
  return `${pad2(h)}:${pad2(m)}:${pad2(s)}.${pad9(nsec)}`;
}

/** HH:MM:SS.nnnnnnnnn: since the capture's first packet, or UTC time of day. */
export function formatTime(p: Packet, mode: TimeMode, first: Timestamp | null): string {
  if (mode === 'absolute' || !first) return clock(((p.tsSec % 86400) + 86400) % 86400, p.tsNsec);
  let sec = p.tsSec - first.sec;
  let nsec = p.tsNsec - first.nsec;
  if (nsec < 0) {
    nsec += 1_000_000_000;
    sec -= 1;
  }
  if (sec < 0) return '-' + clock(-sec - (nsec > 0 ? 1 : 0), nsec > 0 ? 1_000_000_000 - nsec : 0);
  return clock(sec, nsec);
}

/** Start of a capture in UTC; time of day only when the file had no dates (tcpdump's default text output). */
export function formatDate(ts: Timestamp | null, timeOfDayOnly = false): string {
  if (!ts) return '';
  const iso = new Date(ts.sec * 1000).toISOString();
  return (timeOfDayOnly ? iso.slice(11, 19) : iso.replace('T', ' ').slice(0, 19)) + ' UTC';
}

export function formatDir(dir: Packet['dir']): string {
  switch (dir) {
    case 'in': return 'in';
    case 'out': return 'out';
    case 'broadcast': return 'bcast';
    case 'multicast': return 'mcast';
    case 'otherhost': return 'other';
    default: return '';
  }
}

export function formatAddr(addr: string | undefined, port: number | undefined): string {
  if (addr === undefined) return '';
  if (port === undefined) return addr;
  return addr.includes(':') ? `[${addr}]:${port}` : `${addr}:${port}`;
}

const PROTO_LABELS: Record<string, string> = { wireguard: 'WireGuard', isakmp: 'ISAKMP', icmpv6: 'ICMPv6' };

export function formatProto(p: Packet): string {
  return PROTO_LABELS[p.proto] ?? p.proto.toUpperCase();
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 1024 * 1024 * 1024) return `${(n / 1024 / 1024).toFixed(1)} MiB`;
  return `${(n / 1024 / 1024 / 1024).toFixed(2)} GiB`;
}

export function formatCount(n: number): string {
  return n.toLocaleString('en-US');
}

/** The Info column: tunnel messages named as Wireshark names them, otherwise the summary without its address lead-in. */
export function formatInfo(p: Packet): string {
  return packetInfo(p);
}

/** A time span for humans: "0.123 s", "12.5 s", "4 min 03 s", "2 h 52 min". */
export function formatSpan(first: Timestamp, last: Timestamp): string {
  const s = last.sec - first.sec + (last.nsec - first.nsec) / 1e9;
  if (s < 60) return `${s.toFixed(3)} s`;
  const whole = Math.round(s);
  if (whole < 3600) return `${Math.floor(whole / 60)} min ${pad2(whole % 60)} s`;
  return `${Math.floor(whole / 3600)} h ${pad2(Math.floor((whole % 3600) / 60))} min`;
}
