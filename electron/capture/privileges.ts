// Capture needs CAP_NET_RAW (packet sockets) and CAP_NET_ADMIN (promiscuous mode, some link types).
// The capture helper checks them up front so the user gets one sentence and the exact fix.
import { readFileSync, realpathSync } from 'node:fs';

const CAP_NET_ADMIN = 12;
const CAP_NET_RAW = 13;

export interface PrivilegeCheck {
  ok: boolean;
  /** Capability names this process lacks, e.g. ['cap_net_raw']. */
  missing: string[];
  /** One sentence plus the commands, empty when ok. */
  message: string;
  grantCommand: string;
  revokeCommand: string;
}

/** Effective capability mask of this process, or undefined off Linux. */
export function effectiveCapabilities(): bigint | undefined {
  try {
    const m = /^CapEff:\s*([0-9a-f]+)$/m.exec(readFileSync('/proc/self/status', 'utf8'));
    return m ? BigInt('0x' + m[1]) : undefined;
  } catch { return undefined; }
}

function runtimePath(): string {
  try { return realpathSync(process.execPath); } catch { return process.execPath; }
}

export function fixCommands(): { grant: string; revoke: string } {
  const exe = runtimePath();
  return { grant: `sudo setcap cap_net_raw,cap_net_admin=eip ${exe}`, revoke: `sudo setcap -r ${exe}` };
}

export function privilegeMessage(missing: string[]): string {
  const { grant, revoke } = fixCommands();
  const what = missing.length ? missing.map((m) => m.toUpperCase()).join(' and ') : 'CAP_NET_RAW and CAP_NET_ADMIN';
  return `Packet capture is not permitted: the capture process lacks ${what}; grant it with \`${grant}\` (undo with \`${revoke}\`).`;
}

export function checkCapturePrivileges(): PrivilegeCheck {
  const { grant, revoke } = fixCommands();
  const eff = effectiveCapabilities();
  // Not Linux (or /proc hidden): let libpcap decide and translate its error instead.
  if (eff === undefined) return { ok: true, missing: [], message: '', grantCommand: grant, revokeCommand: revoke };
  const missing: string[] = [];
  if (!(eff & (1n << BigInt(CAP_NET_RAW)))) missing.push('cap_net_raw');
  if (!(eff & (1n << BigInt(CAP_NET_ADMIN)))) missing.push('cap_net_admin');
  return { ok: missing.length === 0, missing, message: missing.length ? privilegeMessage(missing) : '', grantCommand: grant, revokeCommand: revoke };
}

/** libpcap's wording when the socket or promiscuous mode is refused. */
export function isPermissionError(message: string): boolean {
  return /Operation not permitted|permission|EPERM|EACCES/i.test(message);
}
