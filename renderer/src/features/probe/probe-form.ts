// The "Run a test" form: what the user typed → the request the main process validates again (with
// the same validators, so the form cannot send what main would refuse), and the last values kept in
// the app-wide settings row next to the far-end capture's. No secret is ever stored: keys stay in
// their files or in ssh-agent.

import {
  IpcValidationError,
  MAX_PROBE_SETTLE_SEC,
  MAX_PROBE_SNAPLEN,
  MIN_PROBE_SNAPLEN,
  PROBE_TEST_KINDS,
  validateProbeTarget,
  type ProbeEndRequest,
  type ProbeStartRequest,
  type ProbeTestKind,
} from '../../../../shared/ipc/contract.ts';
import { APP_SETTINGS_ID, type SessionSettingsRecord } from '../../db/schema.ts';
import { db } from '../../db/store.ts';
import { checkKeyPath, parseDestination } from '../capture/far-end.ts';

export interface ProbeForm {
  /** Host A: this machine, or a host over SSH. */
  aKind: 'local' | 'ssh';
  /** user@host[:port] of A when aKind is 'ssh'. */
  a: string;
  aSudo: boolean;
  /** user@host[:port] of B. */
  b: string;
  bSudo: boolean;
  identityFile: string;
  target: string;
  test: ProbeTestKind;
  port: string;
  snaplen: string;
  settle: string;
}

export const DEFAULT_PROBE_FORM: ProbeForm = {
  aKind: 'local', a: '', aSudo: false, b: '', bSudo: false, identityFile: '', target: '', test: 'tcp', port: '80', snaplen: '256', settle: '3',
};

export const TEST_LABELS: Readonly<Record<ProbeTestKind, string>> = {
  tcp: 'TCP connect',
  http: 'HTTP GET',
  ping: 'ping',
  udp: 'UDP datagram',
};

export type ProbeField = 'a' | 'b' | 'identityFile' | 'target' | 'port' | 'snaplen' | 'settle';

/** A whole number from lo to hi, or undefined. */
function wholeIn(s: string, lo: number, hi: number): number | undefined {
  const t = s.trim();
  if (!/^\d{1,9}$/.test(t)) return undefined;
  const n = Number(t);
  return n >= lo && n <= hi ? n : undefined;
}

function sshEnd(text: string, sudo: boolean, who: string): ProbeEndRequest | { error: string } {
  if (!text.trim()) return { error: `Enter ${who} as user@host or user@host:port.` };
  const d = parseDestination(text);
  if ('error' in d) return d;
  const end: ProbeEndRequest = { kind: 'ssh', host: d.host, sudo };
  if (d.user !== undefined) end.user = d.user;
  if (d.port !== undefined) end.port = d.port;
  return end;
}

/**
 * The request for a filled-in form, or one sentence per field that is wrong. Each sentence is a
 * single line; the typed text never becomes part of markup (React escapes it where it is shown).
 */
export function probeRequest(f: ProbeForm): { request: ProbeStartRequest } | { problems: Partial<Record<ProbeField, string>> } {
  const problems: Partial<Record<ProbeField, string>> = {};
  const a = f.aKind === 'local' ? ({ kind: 'local', sudo: f.aSudo } as const) : sshEnd(f.a, f.aSudo, 'host A');
  if ('error' in a) problems.a = a.error;
  const b = sshEnd(f.b, f.bSudo, 'host B');
  if ('error' in b) problems.b = b.error;
  const key = checkKeyPath(f.identityFile);
  if (typeof key !== 'string') problems.identityFile = key.error;
  let target = '';
  try {
    target = validateProbeTarget(f.target.trim(), 'the target');
  } catch (err) {
    if (!(err instanceof IpcValidationError)) throw err;
    problems.target = 'The target must be an IPv4 or IPv6 address (the host behind B to test).';
  }
  const port = f.test === 'ping' ? undefined : wholeIn(f.port, 1, 65535);
  if (f.test !== 'ping' && port === undefined) problems.port = 'The port must be a whole number from 1 to 65535.';
  const snaplen = wholeIn(f.snaplen, MIN_PROBE_SNAPLEN, MAX_PROBE_SNAPLEN);
  if (snaplen === undefined) problems.snaplen = `The snapshot length must be from ${MIN_PROBE_SNAPLEN} to ${MAX_PROBE_SNAPLEN} bytes.`;
  const settle = wholeIn(f.settle, 1, MAX_PROBE_SETTLE_SEC);
  if (settle === undefined) problems.settle = `The wait after the test must be from 1 to ${MAX_PROBE_SETTLE_SEC} seconds.`;
  if (Object.keys(problems).length > 0 || 'error' in a || 'error' in b || typeof key !== 'string') return { problems };
  const request: ProbeStartRequest = { a, b, target, test: f.test, snaplen: snaplen!, settleSec: settle! };
  if (port !== undefined) request.port = port;
  if (key) request.identityFile = key;
  return { request };
}

/**
 * The flow under test in the workbench's Flow syntax, as the engine gives it to its own analysis
 * ("tcp 192.168.200.22:80", "udp [2001:db8::22]:53", "icmp 192.168.200.22"), so the app's verdict is
 * about the same packets as the probe's.
 */
export function flowOf(r: Pick<ProbeStartRequest, 'test' | 'target' | 'port'>): string {
  const v6 = r.target.includes(':');
  const addr = v6 ? r.target.toLowerCase() : r.target;
  if (r.test === 'ping') return `icmp ${addr}`;
  return `${r.test === 'udp' ? 'udp' : 'tcp'} ${v6 ? `[${addr}]` : addr}:${r.port}`;
}

/** "TCP connect to 192.168.200.22:80" and the like, for the progress panel. */
export function testLabel(r: Pick<ProbeStartRequest, 'test' | 'target' | 'port'>): string {
  const host = r.target.includes(':') && r.port !== undefined ? `[${r.target}]` : r.target;
  return `${TEST_LABELS[r.test]} to ${host}${r.port !== undefined ? `:${r.port}` : ''}`;
}

// The form's last values live in the app-wide settings row (APP_SETTINGS_ID), in a field of their own.
type AppSettingsRow = SessionSettingsRecord & { probe?: Partial<ProbeForm> };

/** A stored value is used only when it has the right type (the row is shared and may be older). */
function fromStored(s: Partial<ProbeForm> | undefined): ProbeForm {
  const out: ProbeForm = { ...DEFAULT_PROBE_FORM };
  if (!s || typeof s !== 'object') return out;
  for (const k of Object.keys(DEFAULT_PROBE_FORM) as (keyof ProbeForm)[]) {
    const v = s[k];
    if (typeof v === typeof DEFAULT_PROBE_FORM[k]) (out as unknown as Record<string, unknown>)[k] = v;
  }
  if (out.aKind !== 'local' && out.aKind !== 'ssh') out.aKind = 'local';
  if (!PROBE_TEST_KINDS.includes(out.test)) out.test = 'tcp';
  return out;
}

export async function readProbeForm(): Promise<ProbeForm> {
  const row = (await db.settings.get(APP_SETTINGS_ID)) as AppSettingsRow | undefined;
  return fromStored(row?.probe);
}

/** After a start the main process accepted: these values open the form next time. */
export async function rememberProbeForm(f: ProbeForm): Promise<void> {
  await db.transaction('rw', db.settings, async () => {
    const row: AppSettingsRow = ((await db.settings.get(APP_SETTINGS_ID)) as AppSettingsRow | undefined) ?? { sessionId: APP_SETTINGS_ID, options: {} };
    await db.settings.put({ ...row, probe: { ...f } } as AppSettingsRow);
  });
}
