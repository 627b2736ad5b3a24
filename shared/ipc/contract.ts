// The IPC contract between the renderer and the Electron main process.
// One map from operation name to signature types both ends: the preload exposes exactly these
// functions on `window.tandem`, and the main process registers one handler per operation.
// Pure TypeScript (no Node, DOM or Electron) so the renderer, preload, main and tests share it.
import type { RawFrame } from '../capture-file/types.ts';

/** What the main process tells the renderer about the running app. */
export interface AppInfo {
  name: string;
  version: string;
  /** process.platform of the main process, e.g. 'linux'. */
  platform: string;
  arch: string;
  versions: { electron: string; chrome: string; node: string };
  /** False while running from a source checkout (npm start, tests). */
  packaged: boolean;
}

/** A file-type filter for the native open/save dialogs. Extensions without the dot, e.g. 'pcapng'. */
export interface FileFilter {
  name: string;
  extensions: string[];
}

export interface SaveFileRequest {
  /** Base name proposed in the dialog; never a path. */
  suggestedName: string;
  data: Uint8Array;
  filters?: FileFilter[];
}

export interface SaveFileResult {
  /** False when the user cancelled the dialog. */
  saved: boolean;
  /** Absolute path written, when saved. */
  path?: string;
}

export interface OpenFileRequest {
  filters?: FileFilter[];
  /** Allow picking several files at once (default false). */
  multiple?: boolean;
}

export interface OpenedFile {
  /** Base name of the chosen file (no directory: the renderer has no use for host paths). */
  name: string;
  data: Uint8Array;
}

/**
 * Every operation the renderer may ask of the main process. Each returns a promise; a failure
 * rejects with an Error whose message is a short sentence meant for the user.
 * Later operations (live capture, issue 7) are added here and nowhere else. Pushes from the main
 * process (capture batches, stats) will follow the same rule: a TandemEvents map from event name
 * to payload, one `tandem:event:<name>` channel each, and one hand-written `on…(listener)`
 * function per event in the preload that returns its unsubscribe function.
 */
export interface TandemApi {
  'app.info'(): Promise<AppInfo>;
  /** Shows a save dialog and writes `data` to the chosen file. */
  'file.save'(req: SaveFileRequest): Promise<SaveFileResult>;
  /** Shows an open dialog and returns the chosen files' bytes; empty when cancelled. */
  'file.open'(req?: OpenFileRequest): Promise<OpenedFile[]>;
  /** Interfaces the capture helper can open (issue 7). */
  'capture.devices'(): Promise<CaptureDeviceInfo[]>;
  /**
   * Starts a live capture in the privileged helper; resolves once packets are being taken. Batches
   * and the end summary then arrive through `onCaptureEvent`, to this window only. Rejects with one
   * sentence (privileges: the sentence carries the grant and revoke commands in backticks).
   */
  'capture.start'(req: CaptureStartRequest): Promise<{ id: string }>;
  /** Stops a capture this window started; resolves with its summary once the spool is closed. */
  'capture.stop'(id: string): Promise<CaptureEndSummary>;
  /**
   * Starts a local capture (host A) and, at the same time, tcpdump on a far end over SSH (host B).
   * Stopping either id stops both. If only the far end fails, the local capture keeps running and
   * the answer carries the far end's failure; if the local one fails, neither runs and it rejects.
   */
  'capture.startPaired'(req: PairedCaptureRequest): Promise<PairedCaptureStarted>;
  /** Prints self-contained report HTML to PDF in a sandboxed, script-free offscreen window. */
  'report.pdf'(req: ReportPdfRequest): Promise<Uint8Array>;
  /**
   * Starts the guided test (issue 16): evidence, captures on A and B, one test connection, evidence
   * again. Resolves once it runs; progress and the end arrive through `onProbeEvent`, to this window
   * only. One test at a time in the whole app.
   */
  'probe.start'(req: ProbeStartRequest): Promise<{ probeId: string }>;
  /** Stops a test this window started on both hosts; the end event follows with `cancelled`. */
  'probe.cancel'(probeId: string): Promise<void>;
  /** The bytes of one file the finished test collected, by the name its end event listed. */
  'probe.file'(probeId: string, name: string): Promise<Uint8Array>;
}

// ---------------------------------------------------------------------------------------------
// Live capture (issue 7) and PDF export (issue 6).

export interface CaptureDeviceInfo {
  name: string;
  description?: string;
  addresses: { addr: string; netmask?: string }[];
  loopback: boolean;
  /** Administratively up; undefined for pseudo-devices such as `any`. */
  up?: boolean;
  running?: boolean;
}

export interface CaptureStartRequest {
  /** One or more interface names; `any` is Linux's all-interfaces device. */
  interfaces: string[];
  /** BPF capture filter; empty captures everything. */
  filter: string;
  snaplen: number;
  promiscuous: boolean;
  maxPackets?: number;
  maxSeconds?: number;
  maxBytes?: number;
}

/** One captured frame as it crosses IPC: the RawFrame fields the renderer needs to decode it. */
export interface LiveFrame extends Pick<RawFrame, 'ifaceId' | 'tsSec' | 'tsNsec' | 'caplen' | 'len' | 'data'> {
  /** Direction as pcapng epb_flags bits 0-1: 1 inbound, 2 outbound, 0 unknown. */
  dir?: number;
}

export interface LiveInterfaceInfo {
  id: number;
  name: string;
  linktype: number;
  snaplen: number;
}

export interface CaptureCounters {
  packets: number;
  /** Wire bytes. */
  bytes: number;
  /** libpcap drops; null when the capture binding cannot report them. */
  drops: number | null;
  /**
   * Receive drops of the captured interfaces themselves during the capture (all traffic, not only
   * what the filter selects); absent or null when libpcap does not keep them (the `any` device,
   * handles opened without promiscuous mode).
   */
  ifDrops?: number | null;
  elapsedMs: number;
}

export interface CaptureEndSummary extends CaptureCounters {
  reason: 'count' | 'duration' | 'bytes' | 'stopped' | 'error';
  /** The pcapng on disk holding every packet of the capture. */
  spoolPath: string;
  spoolBytes: number;
  warnings: string[];
  error?: string;
  /** Only for a far-end (SSH) capture: what its own tcpdump reported. */
  farEnd?: FarEndSummary;
}

/** Pushed from the main process to the window that started capture `id`. */
export type CaptureEvent =
  | { type: 'started'; id: string; interfaces: LiveInterfaceInfo[]; warnings: string[]; spoolPath: string }
  | { type: 'batch'; id: string; interfaces: LiveInterfaceInfo[]; packets: LiveFrame[]; stats: CaptureCounters }
  | { type: 'stats'; id: string; stats: CaptureCounters }
  | { type: 'end'; id: string; summary: CaptureEndSummary }
  /** The helper died without a summary; what was spooled stays on disk. */
  | { type: 'failed'; id: string; message: string };

// ---------------------------------------------------------------------------------------------
// Far-end capture over SSH (issue 7): tcpdump on the other host, streamed back as host B.

/** How a far-end start can fail; each has its own sentence (see electron/capture/remote.ts). */
export type RemoteFailureKind = 'unreachable' | 'auth' | 'host-key' | 'no-tcpdump' | 'permission' | 'filter' | 'interface' | 'failed';

/** The far end of a paired capture. Authentication is by key file or ssh-agent only: no secrets here. */
export interface RemoteCaptureRequest {
  /** Host name, ssh_config alias, IPv4 or IPv6 address (IPv6 without brackets). */
  host: string;
  user?: string;
  port?: number;
  /** Absolute path of a private key file; without it ssh uses the agent and its default keys. */
  identityFile?: string;
  /** Interface on the far end (`any` for all). */
  interface: string;
  /** BPF filter for the far end's tcpdump; empty captures everything. */
  filter: string;
  /** Run tcpdump through `sudo -n` there. */
  sudo: boolean;
}

export interface PairedCaptureRequest {
  local: CaptureStartRequest;
  remote: RemoteCaptureRequest;
}

export interface PairedCaptureStarted {
  /** The local capture (host A). */
  id: string;
  /** The far-end capture (host B), when it started. */
  remoteId?: string;
  /** Why the far end did not start; the local capture runs on regardless. */
  remoteError?: { kind: RemoteFailureKind; message: string };
}

export interface FarEndSummary {
  /** tcpdump's closing counters on the far end; null when it did not get to print them. */
  tcpdump: { captured: number; receivedByFilter: number; droppedByKernel: number } | null;
  /** The far end's `ip -o link` and `ip -o addr` output ('' when unavailable). */
  links: string;
}

export interface ReportPdfRequest {
  /** A complete, self-contained HTML document (inline styles and SVG, no external resources). */
  html: string;
}

// ---------------------------------------------------------------------------------------------
// The guided test, "Run a test" (issue 16 §2). The engine is electron/probe (ProbeOptions there);
// these are the parts the renderer sends and sees. The main process checks that both stay in step.

export type ProbeTestKind = 'tcp' | 'http' | 'ping' | 'udp';
export const PROBE_TEST_KINDS: readonly ProbeTestKind[] = ['tcp', 'http', 'ping', 'udp'];
export type ProbeStepName = 'connect' | 'evidence-before' | 'capture-start' | 'test' | 'settle' | 'capture-stop' | 'evidence-after' | 'analyze';
export const PROBE_STEP_NAMES: readonly ProbeStepName[] = ['connect', 'evidence-before', 'capture-start', 'test', 'settle', 'capture-stop', 'evidence-after', 'analyze'];

/** One end of the test: this machine, or a host over SSH (key file or agent, never a password). */
export type ProbeEndRequest =
  | { kind: 'local'; sudo: boolean }
  | { kind: 'ssh'; host: string; user?: string; port?: number; sudo: boolean };

export interface ProbeStartRequest {
  /** Host A starts the test connection: this machine or a host over SSH. */
  a: ProbeEndRequest;
  /** Host B, in front of the target: always over SSH. */
  b: ProbeEndRequest;
  /** Absolute path of the private key for the SSH ends; without it ssh uses the agent and default keys. */
  identityFile?: string;
  /** The target behind B: an IPv4 or IPv6 address. */
  target: string;
  test: ProbeTestKind;
  /** tcp, http, udp: the destination port (refused for ping). */
  port?: number;
  snaplen?: number;
  /** Seconds to keep capturing after the test, for retransmissions and replies. */
  settleSec?: number;
}

export interface ProbeProgressInfo {
  step: ProbeStepName;
  host?: 'A' | 'B';
  state: 'running' | 'done' | 'failed' | 'skipped';
  /** One line, control characters already made visible. */
  detail?: string;
}

/** What one host contributed, as names for `probe.file` ('' when none). */
export interface ProbeHostFileNames {
  capture: string;
  links: string;
  evidence: string[];
}

/** The end of a test as the renderer sees it: no host paths, no analysis (the app analyses itself). */
export interface ProbeOutcome {
  files: { A: ProbeHostFileNames; B: ProbeHostFileNames };
  test?: { command: string; exitCode: number | null; ok: boolean; output: string };
  failed?: { step: ProbeStepName; host?: 'A' | 'B'; message: string };
  cancelled?: boolean;
}

export type ProbeEvent =
  | { type: 'progress'; probeId: string; progress: ProbeProgressInfo }
  | { type: 'end'; probeId: string; outcome: ProbeOutcome };

/** Main → renderer pushes: event name → payload. One channel each, `tandem:event:<name>`. */
export interface TandemEvents {
  capture: CaptureEvent;
  probe: ProbeEvent;
}
export type EventName = keyof TandemEvents;

export function eventChannelOf<K extends EventName>(name: K): `tandem:event:${K}` {
  return `${CHANNEL_PREFIX}event:${name}` as `tandem:event:${K}`;
}

/** The subscriptions the preload adds next to the operations; each returns its unsubscribe. */
export interface TandemSubscriptions {
  onCaptureEvent(listener: (event: CaptureEvent) => void): () => void;
  onProbeEvent(listener: (event: ProbeEvent) => void): () => void;
}

/** Everything `window.tandem` holds in the desktop app. */
export type TandemBridge = TandemApi & TandemSubscriptions;

export type Operation = keyof TandemApi;
export type OperationArgs<K extends Operation> = Parameters<TandemApi[K]>;
export type OperationResult<K extends Operation> = Awaited<ReturnType<TandemApi[K]>>;

/** Every channel name starts with this; the preload never touches channels outside it. */
export const CHANNEL_PREFIX = 'tandem:';

// A Record over Operation makes the compiler insist on every operation, and nothing else.
const OPERATION_SET: Record<Operation, true> = {
  'app.info': true,
  'file.save': true,
  'file.open': true,
  'capture.devices': true,
  'capture.start': true,
  'capture.stop': true,
  'capture.startPaired': true,
  'report.pdf': true,
  'probe.start': true,
  'probe.cancel': true,
  'probe.file': true,
};
export const OPERATIONS = Object.freeze(Object.keys(OPERATION_SET) as Operation[]);

export function channelOf<K extends Operation>(op: K): `tandem:${K}` {
  return `${CHANNEL_PREFIX}${op}` as `tandem:${K}`;
}

/**
 * What actually crosses the wire. Handlers never throw across IPC (Electron would wrap the
 * message in "Error invoking remote method …"); they answer with this envelope and the
 * preload turns a failure back into a plain Error.
 */
export type IpcReply<T> = { ok: true; value: T } | { ok: false; error: string };

// ---------------------------------------------------------------------------------------------
// Runtime validation. Arguments come from a renderer that is treated as untrusted.

/** Upper bound on bytes written by one file.save (a large capture export still fits). */
export const MAX_SAVE_BYTES = 1024 * 1024 * 1024;
/** Upper bound on the total bytes returned by one file.open (copied through IPC, so bounded). */
export const MAX_OPEN_BYTES = 1024 * 1024 * 1024;
export const MAX_NAME_LENGTH = 255;
export const MAX_FILTERS = 16;
export const MAX_EXTENSIONS_PER_FILTER = 16;

export class IpcValidationError extends Error {
  override name = 'IpcValidationError';
}

function fail(message: string): never {
  throw new IpcValidationError(message);
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v) as unknown;
  return proto === Object.prototype || proto === null;
}

function onlyKeys(obj: Record<string, unknown>, allowed: readonly string[], what: string): void {
  for (const key of Object.keys(obj)) {
    if (!allowed.includes(key)) fail(`${what}: unexpected field "${key.slice(0, 40)}"`);
  }
}

function argCount(args: readonly unknown[], min: number, max: number, op: string): void {
  if (args.length < min || args.length > max) {
    fail(`${op}: expected ${min === max ? min : `${min} to ${max}`} argument(s), got ${args.length}`);
  }
}

// Control characters, path separators and names that mean "this or the parent directory".
// eslint-disable-next-line no-control-regex
const BAD_NAME_CHARS = /[\u0000-\u001f\u007f/\\]/;

/** A file base name the user will see in a dialog: no directories, no control characters. */
export function validateFileName(v: unknown, what = 'file name'): string {
  if (typeof v !== 'string') fail(`${what} must be a string`);
  if (v.length === 0 || v.length > MAX_NAME_LENGTH) fail(`${what} must be 1 to ${MAX_NAME_LENGTH} characters`);
  if (BAD_NAME_CHARS.test(v)) fail(`${what} must not contain path separators or control characters`);
  if (v === '.' || v === '..') fail(`${what} must not be "." or ".."`);
  return v;
}

const EXTENSION = /^(\*|[A-Za-z0-9][A-Za-z0-9._-]{0,15})$/;

export function validateFilters(v: unknown): FileFilter[] | undefined {
  if (v === undefined) return undefined;
  if (!Array.isArray(v)) fail('filters must be an array');
  if (v.length > MAX_FILTERS) fail(`at most ${MAX_FILTERS} filters are allowed`);
  return v.map((f: unknown, i) => {
    if (!isPlainObject(f)) fail(`filters[${i}] must be an object`);
    onlyKeys(f, ['name', 'extensions'], `filters[${i}]`);
    if (typeof f.name !== 'string' || f.name.length === 0 || f.name.length > 100) {
      fail(`filters[${i}].name must be a string of 1 to 100 characters`);
    }
    if (!Array.isArray(f.extensions) || f.extensions.length === 0 || f.extensions.length > MAX_EXTENSIONS_PER_FILTER) {
      fail(`filters[${i}].extensions must be an array of 1 to ${MAX_EXTENSIONS_PER_FILTER} extensions`);
    }
    const extensions = f.extensions.map((e: unknown, j) => {
      if (typeof e !== 'string' || !EXTENSION.test(e)) fail(`filters[${i}].extensions[${j}] is not a valid extension`);
      return e;
    });
    return { name: f.name, extensions };
  });
}

function validateBytes(v: unknown, max: number, what: string): Uint8Array {
  // Structured clone keeps Uint8Array intact; a Node Buffer is a Uint8Array too.
  if (!(v instanceof Uint8Array)) fail(`${what} must be a Uint8Array`);
  if (v.byteLength > max) fail(`${what} is too large (${v.byteLength} bytes, limit ${max})`);
  return v;
}

export function validateSaveRequest(v: unknown): SaveFileRequest {
  if (!isPlainObject(v)) fail('file.save: request must be an object');
  onlyKeys(v, ['suggestedName', 'data', 'filters'], 'file.save');
  const suggestedName = validateFileName(v.suggestedName, 'file.save: suggestedName');
  const data = validateBytes(v.data, MAX_SAVE_BYTES, 'file.save: data');
  const filters = validateFilters(v.filters);
  return filters ? { suggestedName, data, filters } : { suggestedName, data };
}

export function validateOpenRequest(v: unknown): OpenFileRequest {
  if (v === undefined) return {};
  if (!isPlainObject(v)) fail('file.open: request must be an object');
  onlyKeys(v, ['filters', 'multiple'], 'file.open');
  if (v.multiple !== undefined && typeof v.multiple !== 'boolean') fail('file.open: multiple must be a boolean');
  const filters = validateFilters(v.filters);
  const req: OpenFileRequest = {};
  if (filters) req.filters = filters;
  if (v.multiple !== undefined) req.multiple = v.multiple;
  return req;
}

export const MAX_CAPTURE_INTERFACES = 16;
export const MAX_FILTER_LENGTH = 4096;
/** Report HTML is inline (SVG, styles); 64 MiB leaves room for long packet excerpts. */
export const MAX_REPORT_HTML = 64 * 1024 * 1024;
// Linux interface names: up to 15 bytes, no slash, no whitespace (plus libpcap pseudo-devices).
const IFACE_NAME = /^[A-Za-z0-9][A-Za-z0-9_.:@-]{0,63}$/;

/** Whether `s` is an interface name the capture operations accept (the form checks with the same rule). */
export function isInterfaceName(s: string): boolean { return IFACE_NAME.test(s); }
const CAPTURE_ID = /^[A-Za-z0-9-]{1,64}$/;

function positiveInt(v: unknown, max: number, what: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > max) fail(`${what} must be a whole number from 1 to ${max}`);
  return v;
}

export function validateCaptureStart(v: unknown): CaptureStartRequest {
  if (!isPlainObject(v)) fail('capture.start: request must be an object');
  onlyKeys(v, ['interfaces', 'filter', 'snaplen', 'promiscuous', 'maxPackets', 'maxSeconds', 'maxBytes'], 'capture.start');
  const ifs = v.interfaces;
  if (!Array.isArray(ifs) || ifs.length === 0 || ifs.length > MAX_CAPTURE_INTERFACES) {
    fail(`capture.start: interfaces must list 1 to ${MAX_CAPTURE_INTERFACES} interface names`);
  }
  const interfaces = ifs.map((n: unknown, i) => {
    if (typeof n !== 'string' || !IFACE_NAME.test(n)) fail(`capture.start: interfaces[${i}] is not an interface name`);
    return n;
  });
  if (new Set(interfaces).size !== interfaces.length) fail('capture.start: an interface is listed twice');
  if (typeof v.filter !== 'string' || v.filter.length > MAX_FILTER_LENGTH) fail(`capture.start: filter must be a string of at most ${MAX_FILTER_LENGTH} characters`);
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u0008\u000b-\u001f\u007f]/.test(v.filter)) fail('capture.start: filter must not contain control characters');
  const snaplen = positiveInt(v.snaplen, 262144, 'capture.start: snaplen');
  if (typeof v.promiscuous !== 'boolean') fail('capture.start: promiscuous must be a boolean');
  const req: CaptureStartRequest = { interfaces, filter: v.filter, snaplen, promiscuous: v.promiscuous };
  if (v.maxPackets !== undefined) req.maxPackets = positiveInt(v.maxPackets, 1e9, 'capture.start: maxPackets');
  if (v.maxSeconds !== undefined) req.maxSeconds = positiveInt(v.maxSeconds, 7 * 86400, 'capture.start: maxSeconds');
  if (v.maxBytes !== undefined) req.maxBytes = positiveInt(v.maxBytes, Number.MAX_SAFE_INTEGER, 'capture.start: maxBytes');
  return req;
}

export function validateCaptureId(v: unknown): string {
  if (typeof v !== 'string' || !CAPTURE_ID.test(v)) fail('capture id is not valid');
  return v;
}

// Far-end fields end up as ssh and tcpdump arguments: anything that could be read as an option
// (a leading '-') or that is not plainly a name is refused here, before ssh ever sees it.
const SSH_HOST_NAME = /^[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,62})(?:\.[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,62}))*\.?$/;
const SSH_HOST_IPV6 = /^[0-9A-Fa-f:.]{2,45}(?:%[A-Za-z0-9_.-]{1,15})?$/;
const SSH_USER = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,31}$/;
export const MAX_KEY_PATH = 4096;

export function validateSshHost(v: unknown, what = 'host'): string {
  if (typeof v !== 'string' || v.length === 0 || v.length > 253) fail(`${what} must be a host name or address of 1 to 253 characters`);
  if (v.startsWith('-')) fail(`${what} must not start with "-"`);
  if (!SSH_HOST_NAME.test(v) && !(v.includes(':') && SSH_HOST_IPV6.test(v))) fail(`${what} is not a host name or IP address`);
  return v;
}

export function validateSshUser(v: unknown, what = 'user'): string {
  if (typeof v !== 'string' || !SSH_USER.test(v)) fail(`${what} must be a user name (letters, digits, "_", "." or "-", not starting with "-" or ".")`);
  return v;
}

export function validateKeyPath(v: unknown, what = 'key file'): string {
  if (typeof v !== 'string' || v.length === 0 || v.length > MAX_KEY_PATH) fail(`${what} must be a path of 1 to ${MAX_KEY_PATH} characters`);
  if (!v.startsWith('/')) fail(`${what} must be an absolute path`);
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(v)) fail(`${what} must not contain control characters`);
  if (v.split('/').includes('..')) fail(`${what} must not contain ".." segments`);
  return v;
}

export function validateRemoteCapture(v: unknown): RemoteCaptureRequest {
  const what = 'capture.startPaired: remote';
  if (!isPlainObject(v)) fail(`${what} must be an object`);
  onlyKeys(v, ['host', 'user', 'port', 'identityFile', 'interface', 'filter', 'sudo'], what);
  const host = validateSshHost(v.host, `${what}.host`);
  if (typeof v.interface !== 'string' || !IFACE_NAME.test(v.interface)) fail(`${what}.interface is not an interface name`);
  if (typeof v.filter !== 'string' || v.filter.length > MAX_FILTER_LENGTH) fail(`${what}.filter must be a string of at most ${MAX_FILTER_LENGTH} characters`);
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u0008\u000b-\u001f\u007f]/.test(v.filter)) fail(`${what}.filter must not contain control characters`);
  if (v.filter.trimStart().startsWith('-')) fail(`${what}.filter must not start with "-"`);
  if (typeof v.sudo !== 'boolean') fail(`${what}.sudo must be a boolean`);
  const req: RemoteCaptureRequest = { host, interface: v.interface, filter: v.filter, sudo: v.sudo };
  if (v.user !== undefined) req.user = validateSshUser(v.user, `${what}.user`);
  if (v.port !== undefined) req.port = positiveInt(v.port, 65535, `${what}.port`);
  if (v.identityFile !== undefined) req.identityFile = validateKeyPath(v.identityFile, `${what}.identityFile`);
  return req;
}

export function validatePairedCaptureStart(v: unknown): PairedCaptureRequest {
  if (!isPlainObject(v)) fail('capture.startPaired: request must be an object');
  onlyKeys(v, ['local', 'remote'], 'capture.startPaired');
  return { local: validateCaptureStart(v.local), remote: validateRemoteCapture(v.remote) };
}

export function validateReportPdf(v: unknown): ReportPdfRequest {
  if (!isPlainObject(v)) fail('report.pdf: request must be an object');
  onlyKeys(v, ['html'], 'report.pdf');
  if (typeof v.html !== 'string' || v.html.length === 0) fail('report.pdf: html must be a non-empty string');
  if (v.html.length > MAX_REPORT_HTML) fail(`report.pdf: html is too large (${v.html.length} characters, limit ${MAX_REPORT_HTML})`);
  return { html: v.html };
}

// The guided test's request: the same host, user, port and key rules as the far-end capture, since
// these fields become ssh arguments too; the target becomes an argument of the test command on A.

/** True for a plain dotted-quad IPv4 address (no leading zeros, which some tools read as octal). */
export function isIpv4Address(s: string): boolean {
  const parts = s.split('.');
  return parts.length === 4 && parts.every((p) => /^(?:0|[1-9]\d{0,2})$/.test(p) && Number(p) <= 255);
}

/** True for an IPv6 address in text form ("::" once at most, an optional dotted IPv4 tail, no zone). */
export function isIpv6Address(s: string): boolean {
  if (s.length < 2 || s.length > 45 || !s.includes(':')) return false;
  const halves = s.split('::');
  if (halves.length > 2) return false;
  let groups = 0;
  for (let h = 0; h < halves.length; h++) {
    const half = halves[h]!;
    if (half === '') continue;
    const parts = half.split(':');
    for (let i = 0; i < parts.length; i++) {
      const g = parts[i]!;
      const last = h === halves.length - 1 && i === parts.length - 1;
      if (last && g.includes('.')) {
        if (!isIpv4Address(g)) return false;
        groups += 2;
      } else if (/^[0-9A-Fa-f]{1,4}$/.test(g)) groups++;
      else return false;
    }
  }
  return halves.length === 2 ? groups <= 7 : groups === 8;
}

export function validateProbeTarget(v: unknown, what = 'target'): string {
  if (typeof v !== 'string' || !(isIpv4Address(v) || isIpv6Address(v))) fail(`${what} must be an IPv4 or IPv6 address`);
  return v;
}

function validateProbeEnd(v: unknown, what: string, mayBeLocal: boolean): ProbeEndRequest {
  if (!isPlainObject(v)) fail(`${what} must be an object`);
  if (typeof v.sudo !== 'boolean') fail(`${what}.sudo must be a boolean`);
  if (v.kind === 'local') {
    if (!mayBeLocal) fail(`${what} must be a host over SSH`);
    onlyKeys(v, ['kind', 'sudo'], what);
    return { kind: 'local', sudo: v.sudo };
  }
  if (v.kind !== 'ssh') fail(`${what}.kind must be ${mayBeLocal ? '"local" or "ssh"' : '"ssh"'}`);
  onlyKeys(v, ['kind', 'host', 'user', 'port', 'sudo'], what);
  const end: ProbeEndRequest = { kind: 'ssh', host: validateSshHost(v.host, `${what}.host`), sudo: v.sudo };
  if (v.user !== undefined) end.user = validateSshUser(v.user, `${what}.user`);
  if (v.port !== undefined) end.port = positiveInt(v.port, 65535, `${what}.port`);
  return end;
}

export const MAX_PROBE_SETTLE_SEC = 120;
export const MAX_PROBE_SNAPLEN = 262144;
/** Below this the tunnel headers and the inner packet's no longer fit. */
export const MIN_PROBE_SNAPLEN = 64;

export function validateProbeStart(v: unknown): ProbeStartRequest {
  const what = 'probe.start';
  if (!isPlainObject(v)) fail(`${what}: request must be an object`);
  onlyKeys(v, ['a', 'b', 'identityFile', 'target', 'test', 'port', 'snaplen', 'settleSec'], what);
  const a = validateProbeEnd(v.a, `${what}: a`, true);
  const b = validateProbeEnd(v.b, `${what}: b`, false);
  const target = validateProbeTarget(v.target, `${what}: target`);
  if (typeof v.test !== 'string' || !(PROBE_TEST_KINDS as readonly string[]).includes(v.test)) fail(`${what}: test must be one of ${PROBE_TEST_KINDS.join(', ')}`);
  const test = v.test as ProbeTestKind;
  const req: ProbeStartRequest = { a, b, target, test };
  if (test === 'ping') {
    if (v.port !== undefined) fail(`${what}: port is not used by a ping test`);
  } else {
    req.port = positiveInt(v.port, 65535, `${what}: port`);
  }
  if (v.identityFile !== undefined) req.identityFile = validateKeyPath(v.identityFile, `${what}: identityFile`);
  if (v.snaplen !== undefined) {
    req.snaplen = positiveInt(v.snaplen, MAX_PROBE_SNAPLEN, `${what}: snaplen`);
    if (req.snaplen < MIN_PROBE_SNAPLEN) fail(`${what}: snaplen must be from ${MIN_PROBE_SNAPLEN} to ${MAX_PROBE_SNAPLEN}`);
  }
  if (v.settleSec !== undefined) req.settleSec = positiveInt(v.settleSec, MAX_PROBE_SETTLE_SEC, `${what}: settleSec`);
  return req;
}

const PROBE_ID = /^[A-Za-z0-9-]{1,64}$/;

export function validateProbeId(v: unknown): string {
  if (typeof v !== 'string' || !PROBE_ID.test(v)) fail('probe id is not valid');
  return v;
}

// A name from the test's end event: "A/capture.pcap" style, one folder deep at most, plain
// characters only. The main process also insists the name is one it listed for that test.
const PROBE_FILE_NAME = /^(?:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}\/)?[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;

export function validateProbeFileName(v: unknown): string {
  if (typeof v !== 'string' || !PROBE_FILE_NAME.test(v) || v.split('/').some((p) => p === '.' || p === '..')) fail('probe.file: name is not a file of the test');
  return v;
}

/** One validator per operation: raw IPC arguments in, typed arguments out, or IpcValidationError. */
export const validators: { [K in Operation]: (args: readonly unknown[]) => OperationArgs<K> } = {
  'app.info': (args) => {
    argCount(args, 0, 0, 'app.info');
    return [];
  },
  'file.save': (args) => {
    argCount(args, 1, 1, 'file.save');
    return [validateSaveRequest(args[0])];
  },
  'file.open': (args) => {
    argCount(args, 0, 1, 'file.open');
    return [validateOpenRequest(args[0])];
  },
  'capture.devices': (args) => {
    argCount(args, 0, 0, 'capture.devices');
    return [];
  },
  'capture.start': (args) => {
    argCount(args, 1, 1, 'capture.start');
    return [validateCaptureStart(args[0])];
  },
  'capture.stop': (args) => {
    argCount(args, 1, 1, 'capture.stop');
    return [validateCaptureId(args[0])];
  },
  'capture.startPaired': (args) => {
    argCount(args, 1, 1, 'capture.startPaired');
    return [validatePairedCaptureStart(args[0])];
  },
  'report.pdf': (args) => {
    argCount(args, 1, 1, 'report.pdf');
    return [validateReportPdf(args[0])];
  },
  'probe.start': (args) => {
    argCount(args, 1, 1, 'probe.start');
    return [validateProbeStart(args[0])];
  },
  'probe.cancel': (args) => {
    argCount(args, 1, 1, 'probe.cancel');
    return [validateProbeId(args[0])];
  },
  'probe.file': (args) => {
    argCount(args, 2, 2, 'probe.file');
    return [validateProbeId(args[0]), validateProbeFileName(args[1])];
  },
};

/** The URL every trusted renderer page is served from (see electron/main/app-protocol.ts). */
export const APP_SCHEME = 'app';
export const APP_HOST = 'tandem';
export const APP_ORIGIN = `${APP_SCHEME}://${APP_HOST}`;

/** True when `url` is a page of our own renderer (scheme app, host tandem, nothing else). */
export function isTrustedSenderUrl(url: unknown): boolean {
  if (typeof url !== 'string' || url.length === 0 || url.length > 8192) return false;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return false;
  }
  return (
    parsed.protocol === `${APP_SCHEME}:` &&
    parsed.host === APP_HOST &&
    parsed.username === '' &&
    parsed.password === ''
  );
}
