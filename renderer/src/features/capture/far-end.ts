// The far end (SSH) part of the capture dialog: parsing what the user typed into the request the
// main process validates again, and remembering recent far ends in the app-wide settings row.
// Nothing secret is ever stored: keys stay in their files or in ssh-agent.

import {
  IpcValidationError,
  validateKeyPath,
  validateSshHost,
  validateSshUser,
  type RemoteCaptureRequest,
  type RemoteFailureKind,
} from '../../../../shared/ipc/contract.ts';
import { APP_SETTINGS_ID, type FarEndRecord, type FarEndSettings } from '../../db/schema.ts';
import { db } from '../../db/store.ts';

export const MAX_RECENT_FAR_ENDS = 8;

/** A short heading per failure kind; the sentence from the main process follows it. */
export const FAR_END_FAILURE_TITLES: Readonly<Record<RemoteFailureKind, string>> = {
  unreachable: 'The far end cannot be reached',
  auth: 'The SSH login was refused',
  'host-key': "The far end's host key is not trusted",
  'no-tcpdump': 'tcpdump is missing on the far end',
  permission: 'The far end may not capture',
  filter: 'The far end rejected the filter',
  interface: 'The far end has no such interface',
  failed: 'The far-end capture failed',
};

/** Runs a shared validator; its refusal becomes a sentence for the form. */
function asSentence<T>(check: () => T): T | { error: string } {
  try {
    return check();
  } catch (err) {
    if (err instanceof IpcValidationError) return { error: `${err.message[0]!.toUpperCase()}${err.message.slice(1)}.` };
    throw err;
  }
}

export interface Destination {
  host: string;
  user?: string;
  port?: number;
}

/**
 * "user@host", "host:2222", "user@[fe80::1]:22" or a bare IPv6 address → its parts, or one sentence
 * saying what is wrong. The same validators as the main process decide, so the form cannot send
 * what the main process would refuse.
 */
export function parseDestination(text: string): Destination | { error: string } {
  const s = text.trim();
  if (!s) return { error: 'Enter the far end as user@host or user@host:port.' };
  const at = s.lastIndexOf('@');
  const user = at >= 0 ? s.slice(0, at) : undefined;
  let rest = at >= 0 ? s.slice(at + 1) : s;
  let port: number | undefined;
  const bracket = /^\[([^\]]+)\](?::(\d+))?$/.exec(rest);
  if (bracket) {
    rest = bracket[1]!;
    if (bracket[2] !== undefined) port = Number(bracket[2]);
  } else if ((rest.match(/:/g) ?? []).length === 1) {
    const [h, p] = rest.split(':') as [string, string];
    if (!/^\d{1,5}$/.test(p)) return { error: `"${p}" is not a port number.` };
    rest = h;
    port = Number(p);
  }
  return asSentence((): Destination | { error: string } => {
    const out: Destination = { host: validateSshHost(rest, 'the host') };
    if (user !== undefined) out.user = validateSshUser(user, 'the user');
    if (port !== undefined) {
      if (!Number.isInteger(port) || port < 1 || port > 65535) return { error: 'The port must be from 1 to 65535.' };
      out.port = port;
    }
    return out;
  });
}

/** The key path as the main process accepts it, '' for agent/default keys, or an error sentence. */
export function checkKeyPath(text: string): string | { error: string } {
  const s = text.trim();
  if (!s) return '';
  return asSentence(() => validateKeyPath(s, 'the key file'));
}

/** `user@host:port` as the bar and the recent list show it. */
export function destinationLabel(r: RemoteCaptureRequest): string {
  const host = r.host.includes(':') ? `[${r.host}]` : r.host;
  return `${r.user ? `${r.user}@` : ''}${host}${r.port ? `:${r.port}` : ''}`;
}

export function remoteRequest(dest: Destination, identityFile: string, iface: string, filter: string, sudo: boolean): RemoteCaptureRequest {
  const req: RemoteCaptureRequest = { host: dest.host, interface: iface, filter, sudo };
  if (dest.user !== undefined) req.user = dest.user;
  if (dest.port !== undefined) req.port = dest.port;
  if (identityFile) req.identityFile = identityFile;
  return req;
}

export async function readFarEndSettings(): Promise<FarEndSettings> {
  const row = await db.settings.get(APP_SETTINGS_ID);
  return row?.farEnd ?? { enabled: false, recent: [] };
}

/** After a successful start: this far end becomes the first of the recent list (one entry per destination). */
export async function rememberFarEnd(rec: Omit<FarEndRecord, 'usedAt'>): Promise<void> {
  await db.transaction('rw', db.settings, async () => {
    const row = (await db.settings.get(APP_SETTINGS_ID)) ?? { sessionId: APP_SETTINGS_ID, options: {} };
    const recent = (row.farEnd?.recent ?? []).filter((r) => r.destination !== rec.destination);
    const entry: FarEndRecord = { destination: rec.destination, identityFile: rec.identityFile, interface: rec.interface, filter: rec.filter, sudo: rec.sudo, usedAt: Date.now() };
    await db.settings.put({ ...row, farEnd: { enabled: true, recent: [entry, ...recent].slice(0, MAX_RECENT_FAR_ENDS) } });
  });
}

/** A start without a far end: the dialog opens without one next time, the recent list stays. */
export async function rememberLocalOnly(): Promise<void> {
  await db.transaction('rw', db.settings, async () => {
    const row = await db.settings.get(APP_SETTINGS_ID);
    if (row?.farEnd?.enabled) await db.settings.put({ ...row, farEnd: { ...row.farEnd, enabled: false } });
  });
}
