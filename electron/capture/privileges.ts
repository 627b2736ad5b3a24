// Capture needs CAP_NET_RAW (packet sockets) and CAP_NET_ADMIN (promiscuous mode, some link types).
// The capture helper checks them up front so the user gets one sentence and the exact fix.
//
// The fix follows Wireshark's dumpcap arrangement: the capabilities go to a dedicated copy of the
// Node runtime (CAPTURE_RUNTIME) that only members of one group (CAPTURE_GROUP) may execute, never
// to the shared /usr/bin/node or to Electron, which every script and app on the machine runs.
//
// Why /usr/local/lib/tandem/capture-node: /usr/local is the administrator's own tree (no package
// manager writes there, so an upgrade neither removes nor overwrites it), lib/<app>/ is where an
// application's internal executables live, and everything on that path is root's: root-owned
// directories 0755 and the file 0750 root:tandem-capture, so no user can replace or modify it.
//
// The honest limit: unlike dumpcap, this copy is a general interpreter. A group member can run any
// script with it (`capture-node evil.js` or `capture-node --require evil.js helper.js`), and that
// script holds CAP_NET_RAW and CAP_NET_ADMIN, i.e. can sniff and reconfigure the host's network.
// The group is the boundary, exactly as with any capability-bearing interpreter; what the setup does
// avoid is handing those rights to every user and every Node program on the machine.
import { accessSync, constants, readFileSync, realpathSync, statSync } from 'node:fs';
import { userInfo } from 'node:os';
import path from 'node:path';

const CAP_NET_ADMIN = 12;
const CAP_NET_RAW = 13;

/** Where the capability-bearing Node copy lives (see the module comment for the choice). */
export const CAPTURE_RUNTIME = '/usr/local/lib/tandem/capture-node';
/** The only group allowed to execute CAPTURE_RUNTIME. */
export const CAPTURE_GROUP = 'tandem-capture';

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

/**
 * CAPTURE_RUNTIME (or `file`) when it can serve as the helper's runtime: a regular file this process
 * may execute, owned by root and writable by nobody else, in directories that are root's and
 * writable by nobody else. Anything else (missing, not in the group yet, a user-writable copy) is
 * ignored, so a tampered or half-finished setup is never used.
 */
export function dedicatedRuntime(file: string = CAPTURE_RUNTIME): string | undefined {
  if (!path.isAbsolute(file)) return undefined;
  try {
    accessSync(file, constants.X_OK);
    const st = statSync(file);
    if (!st.isFile() || st.uid !== 0 || (st.mode & 0o022) !== 0) return undefined;
    for (let dir = path.dirname(file); ; dir = path.dirname(dir)) {
      const d = statSync(dir);
      // The sticky /tmp (tests) is fine: nobody else can rename a root-owned entry in it.
      if (d.uid !== 0 || ((d.mode & 0o022) !== 0 && (d.mode & 0o1000) === 0)) return undefined;
      if (dir === path.dirname(dir)) break;
    }
    return file;
  } catch {
    return undefined;
  }
}

/** Whether `file` is a regular file this process may execute. */
export function isExecutableFile(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return statSync(file).isFile();
  } catch {
    return false;
  }
}

/**
 * A runtime that may hold the capture rights, for the helper or the CLI: TANDEM_CAPTURE_NODE (an
 * absolute path to an executable), else the dedicated copy when it passes dedicatedRuntime().
 */
export function captureRuntimeFrom(env: Readonly<Record<string, string | undefined>>, dedicated: string = CAPTURE_RUNTIME): string | undefined {
  const explicit = env.TANDEM_CAPTURE_NODE;
  if (explicit && path.isAbsolute(explicit) && isExecutableFile(explicit)) return explicit;
  return dedicatedRuntime(dedicated);
}

/**
 * The environment for a process that may run with capture capabilities: the caller's, minus the
 * variables that make a Node (or Electron, or OpenSSL, or the dynamic loader) run extra code or read
 * extra files. A runtime with file capabilities already ignores most of them (the kernel marks it
 * AT_SECURE and Node then skips NODE_OPTIONS and NODE_PATH; the loader skips LD_*), but the helper may
 * also run behind a wrapper or on a runtime that has no file capabilities, so they are dropped here.
 */
export function captureRuntimeEnv(base: Readonly<Record<string, string | undefined>> = process.env): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(base)) {
    if (v === undefined || /^(NODE_|LD_|ELECTRON_|OPENSSL_|SSL_CERT_|TSX_)/.test(k)) continue;
    env[k] = v;
  }
  return env;
}

/** A word safe to paste into a POSIX shell (quoted when needed). */
function shellWord(s: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/** The Node binary to copy: the one running now when it is plain Node (its ABI matches the built cap). */
function nodeToCopy(): string {
  const electron = (process.versions as Record<string, string | undefined>).electron !== undefined;
  if (!electron) {
    try {
      const exe = realpathSync(process.execPath);
      if (exe !== CAPTURE_RUNTIME) return shellWord(exe);
    } catch { /* fall through */ }
  }
  return '"$(command -v node)"';
}

function whoami(): string {
  try {
    const name = userInfo().username;
    if (name && name !== 'root') return shellWord(name);
  } catch { /* no passwd entry */ }
  return '"$USER"';
}

/**
 * The setup as separate root commands, in the order they must run: setcap comes last because
 * changing a file's owner drops its capabilities. Nothing here is ever run by Tandem itself.
 */
export function setupSteps(): { grant: string[]; revoke: string[] } {
  const dir = path.dirname(CAPTURE_RUNTIME);
  return {
    grant: [
      `sudo groupadd -f ${CAPTURE_GROUP}`,
      `sudo install -d -o root -g root -m 0755 ${dir}`,
      `sudo install -o root -g ${CAPTURE_GROUP} -m 0750 ${nodeToCopy()} ${CAPTURE_RUNTIME}`,
      `sudo setcap cap_net_raw,cap_net_admin=eip ${CAPTURE_RUNTIME}`,
      `sudo usermod -aG ${CAPTURE_GROUP} ${whoami()}`,
    ],
    revoke: [
      `sudo rm -f ${CAPTURE_RUNTIME}`,
      `sudo rmdir ${dir}`,
      `sudo groupdel ${CAPTURE_GROUP}`,
    ],
  };
}

/** The grant and revoke commands as one pasteable line each. */
export function fixCommands(): { grant: string; revoke: string } {
  const { grant, revoke } = setupSteps();
  return { grant: grant.join(' && '), revoke: revoke.join(' && ') };
}

export function privilegeMessage(missing: string[]): string {
  const { grant, revoke } = fixCommands();
  const what = missing.length ? missing.map((m) => m.toUpperCase()).join(' and ') : 'CAP_NET_RAW and CAP_NET_ADMIN';
  return `Packet capture is not permitted: the capture process lacks ${what}; give them to a dedicated copy of Node ` +
    `that only the ${CAPTURE_GROUP} group may run with \`${grant}\`, then log out and back in so the group membership applies ` +
    `(undo with \`${revoke}\`).`;
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
