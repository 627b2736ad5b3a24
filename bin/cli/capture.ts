// `tandem capture`: live capture to a pcapng file from the command line, with the same capture
// code the app's helper runs (electron/capture, no Electron involved). Runs the capture in this
// process when it holds the capture capabilities (root, say); otherwise it starts itself again on
// the dedicated capture runtime when that is set up (`tandem capture --setup-privileges` prints how).
import { spawn } from 'node:child_process';
import { realpathSync } from 'node:fs';
import { resolve } from 'node:path';
import { UsageError } from './io.ts';
import { validateKeyPath, validateRemoteCapture } from '../../shared/ipc/contract.ts';
import { visible } from '../../shared/util/shell.ts';
import { captureRuntimeEnv, captureRuntimeFrom, checkCapturePrivileges, setupSteps, CAPTURE_GROUP, CAPTURE_RUNTIME } from '../../electron/capture/privileges.ts';
import { formatDevice, listDevices } from '../../electron/capture/devices.ts';
import { CaptureError, CaptureSession, type CaptureOptions, type CaptureStats } from '../../electron/capture/session.ts';
import { RemoteCapture, RemoteCaptureError, type RemoteCaptureOptions, type RemoteSummary } from '../../electron/capture/remote.ts';

const USAGE = `usage: tandem capture -i IFACE [-i IFACE…] [-f FILTER | FILTER…] -w FILE.pcapng [-c N] [-G SECONDS]
                      [--max-bytes N] [--snaplen N] [--no-promisc] [--buffer-size BYTES]
                      [--remote [USER@]HOST[:PORT] --remote-iface IFACE --remote-write FILE.pcapng
                       [--remote-key KEYFILE] [--remote-filter FILTER] [--remote-sudo] [--remote-known-hosts FILE]]
       tandem capture --list
       tandem capture --setup-privileges
  -i IFACE     interface to capture on (repeatable; "any" = all interfaces, Linux)
  -f FILTER    BPF capture filter (pcap-filter syntax); words after the options are taken as the filter too
  -w FILE      pcapng file written as packets arrive (one interface block per -i, names kept)
  -c N         stop after N packets;  -G SECONDS  stop after SECONDS;  --max-bytes N  stop after N captured bytes
  -p, --no-promisc   do not put the interface into promiscuous mode
  --buffer-size B    libpcap buffer per interface in bytes (default 64 MiB); the last line says how many packets did not fit
  --remote …   also capture on a far host at the same time with its tcpdump over SSH (key auth only);
               both ends start together and stop together (the remote filter defaults to -f)
  --setup-privileges  print (not run) the root commands that let you capture without sudo, and how to undo them
Stops cleanly on Ctrl-C. Needs CAP_NET_RAW and CAP_NET_ADMIN: run as root, or set up the dedicated capture
runtime once (--setup-privileges), which this command then uses by itself.`;

interface CaptureArgs { list: boolean; help: boolean; setupPrivileges: boolean; options: Omit<CaptureOptions, 'onBatch'>; remote?: RemoteCaptureOptions }

/** One status line on stderr; interface names, filters and far-end messages in it are data, made visible. */
function say(line: string): void { process.stderr.write(visible(line) + '\n'); }

/** Contract field → the flag a CLI user typed, for the validators' messages. */
const REMOTE_FLAG: Record<string, string> = {
  host: '--remote (host)', user: '--remote (user)', port: '--remote (port)', identityFile: '--remote-key',
  interface: '--remote-iface', filter: '--remote-filter', sudo: '--remote-sudo',
};

/**
 * The far end goes through the app's own validators (shared/ipc/contract.ts): a host or user that ssh
 * would read as an option (`-oProxyCommand=…`), an odd interface or filter is refused before ssh runs.
 * Key and known-hosts paths may be relative here (ssh reads them from the working folder); they are
 * checked as the absolute paths they stand for.
 */
function checkRemote(o: RemoteCaptureOptions): void {
  try {
    validateRemoteCapture({
      host: o.host, ...(o.user !== undefined && { user: o.user }), ...(o.port !== undefined && { port: o.port }),
      ...(o.identityFile !== undefined && { identityFile: resolve(o.identityFile) }),
      interface: o.interface, filter: o.filter ?? '', sudo: o.sudo === true,
    });
    if (o.knownHostsFile !== undefined) validateKeyPath(resolve(o.knownHostsFile), '--remote-known-hosts');
  } catch (e) {
    const msg = (e as Error).message.replace(/^capture\.startPaired: remote\.(\w+)/, (_m, f: string) => REMOTE_FLAG[f] ?? `--remote ${f}`);
    throw new UsageError(visible(msg));
  }
}

/** `[user@]host[:port]`, with IPv6 literals in brackets. */
function parseRemoteTarget(t: string): { user?: string; host: string; port?: number } {
  const m = /^(?:([^@]+)@)?(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(t);
  if (!m) throw new UsageError(`--remote needs [USER@]HOST[:PORT] (got "${visible(t)}")`);
  return { ...(m[1] && { user: m[1] }), host: m[2]!.replace(/^\[|\]$/g, ''), ...(m[3] && { port: Number(m[3]) }) };
}

function positiveNumber(flag: string, v: string | undefined, integer = true): number {
  if (v === undefined) throw new UsageError(`option ${flag} needs a value`);
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0 || (integer && !Number.isInteger(n))) throw new UsageError(`option ${flag} needs a positive ${integer ? 'integer' : 'number'} (got "${v}")`);
  return n;
}

/** tcpdump-style short options (repeatable -i) plus a few long ones; io.ts parseArgs only knows --long flags. */
export function parseCaptureArgs(argv: string[]): CaptureArgs {
  const interfaces: string[] = [];
  const filterWords: string[] = [];
  let filter: string | undefined, file: string | undefined;
  let count: number | undefined, seconds: number | undefined, bytes: number | undefined, snaplen: number | undefined, bufferSize: number | undefined;
  let promiscuous = true, list = false, help = false, setupPrivileges = false;
  const remote: Record<string, string | boolean> = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const val = () => { const v = argv[++i]; if (v === undefined) throw new UsageError(`option ${a} needs a value`); return v; };
    switch (a) {
      case '-i': case '--interface': interfaces.push(val()); break;
      case '-f': case '--filter': filter = val(); break;
      case '-w': case '--write': file = val(); break;
      case '-c': case '--count': count = positiveNumber(a, argv[++i]); break;
      case '-G': case '--seconds': seconds = positiveNumber(a, argv[++i], false); break;
      case '--max-bytes': bytes = positiveNumber(a, argv[++i]); break;
      case '-s': case '--snaplen': snaplen = positiveNumber(a, argv[++i]); break;
      case '--buffer-size': bufferSize = positiveNumber(a, argv[++i]); break;
      case '-p': case '--no-promisc': promiscuous = false; break;
      case '-D': case '--list': list = true; break;
      case '-h': case '--help': help = true; break;
      case '--setup-privileges': setupPrivileges = true; break;
      case '--remote': case '--remote-iface': case '--remote-write': case '--remote-key': case '--remote-filter': case '--remote-known-hosts':
        remote[a.slice(2)] = val(); break;
      case '--remote-sudo': remote['remote-sudo'] = true; break;
      default:
        if (a.startsWith('-') && a.length > 1) throw new UsageError(`unknown option ${a} (try: tandem capture --help)`);
        filterWords.push(a);
    }
  }
  if (filter !== undefined && filterWords.length) throw new UsageError(`give the filter either with -f or as trailing words, not both (extra: ${filterWords.join(' ')})`);
  const options: Omit<CaptureOptions, 'onBatch'> = {
    interfaces, spoolPath: file ?? '', filter: filter ?? filterWords.join(' '), promiscuous,
    ...(count !== undefined && { maxPackets: count }), ...(seconds !== undefined && { maxSeconds: seconds }),
    ...(bytes !== undefined && { maxBytes: bytes }), ...(snaplen !== undefined && { snaplen }), ...(bufferSize !== undefined && { bufferSize }),
  };
  if (!list && !help && !setupPrivileges) {
    if (interfaces.length === 0) throw new UsageError('capture needs at least one -i IFACE (see: tandem capture --list)');
    if (!file) throw new UsageError('capture needs -w FILE.pcapng');
  }
  let remoteOptions: RemoteCaptureOptions | undefined;
  if (Object.keys(remote).length) {
    if (typeof remote.remote !== 'string' || typeof remote['remote-iface'] !== 'string' || typeof remote['remote-write'] !== 'string') {
      throw new UsageError('remote capture needs --remote [USER@]HOST[:PORT], --remote-iface IFACE and --remote-write FILE');
    }
    remoteOptions = {
      ...parseRemoteTarget(remote.remote), interface: remote['remote-iface'], spoolPath: remote['remote-write'],
      filter: typeof remote['remote-filter'] === 'string' ? remote['remote-filter'] : options.filter,
      ...(typeof remote['remote-key'] === 'string' && { identityFile: remote['remote-key'] }),
      ...(remote['remote-sudo'] === true && { sudo: true }),
      ...(typeof remote['remote-known-hosts'] === 'string' && { knownHostsFile: remote['remote-known-hosts'] }),
      ...(snaplen !== undefined && { snaplen }), ...(seconds !== undefined && { maxSeconds: seconds }),
    };
    checkRemote(remoteOptions);
  }
  return { list, help, setupPrivileges, options, ...(remoteOptions && { remote: remoteOptions }) };
}

/** What --setup-privileges prints: a commented script for the user to read and run (or not). */
export function setupPrivilegesText(): string {
  const { grant, revoke } = setupSteps();
  return [
    `# Capture without sudo: give CAP_NET_RAW and CAP_NET_ADMIN to a dedicated copy of Node, ${CAPTURE_RUNTIME},`,
    `# that only members of the group ${CAPTURE_GROUP} may execute (like Wireshark's dumpcap and its wireshark group),`,
    '# instead of to the node every script on this machine runs. Tandem (app and CLI) uses that copy by itself.',
    '# Note: the copy is a full Node, so group members can run any script with those rights; add only people',
    '# you would let sniff and reconfigure this host\'s network. Re-run the setup after upgrading Node.',
    '# Tandem runs none of this itself. To set up, run:',
    ...grant,
    '# then log out and back in (group membership applies to new logins), or start a shell with `newgrp ' + CAPTURE_GROUP + '`.',
    '#',
    '# To take the rights back:',
    ...revoke.map((c) => `#   ${c}`),
    '',
  ].join('\n');
}

/** A runtime to start this command again on when this process cannot capture: TANDEM_CAPTURE_NODE, else the dedicated one. */
function captureRuntime(): string | undefined {
  if (process.env.TANDEM_CAPTURE_RELAUNCHED === '1') return undefined; // already on it: no loop
  if (checkCapturePrivileges().ok) return undefined;
  const runtime = captureRuntimeFrom(process.env);
  if (!runtime) return undefined;
  try { if (realpathSync(process.execPath) === realpathSync(runtime)) return undefined; } catch { return undefined; }
  return runtime;
}

/**
 * Runs this same command line on `runtime` (the script is the one this process was started with,
 * so from the app's own files) with the cleaned environment, and returns its exit status. Ctrl-C
 * reaches both processes from the terminal; this one only waits for the capture to finish.
 */
function relaunch(runtime: string): Promise<number> {
  const child = spawn(runtime, [...process.execArgv, ...process.argv.slice(1)], {
    stdio: 'inherit',
    env: { ...captureRuntimeEnv(), TANDEM_CAPTURE_RELAUNCHED: '1' },
  });
  const ignore = () => undefined;
  const forward = () => { child.kill('SIGTERM'); };
  process.on('SIGINT', ignore);
  process.on('SIGTERM', forward);
  return new Promise<number>((resolve) => {
    child.on('error', (e) => { say(`error: could not start the capture runtime ${runtime}: ${e.message}`); resolve(1); });
    child.on('close', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
  }).finally(() => {
    process.off('SIGINT', ignore);
    process.off('SIGTERM', forward);
  });
}

function kb(n: number): string { return n < 10_000 ? `${n} B` : n < 10_000_000 ? `${(n / 1000).toFixed(1)} kB` : `${(n / 1e6).toFixed(1)} MB`; }
function drops(s: CaptureStats): string { return s.drops === null ? 'drops n/a' : `${s.drops} dropped`; }

/** The end-of-capture sentence about what libpcap lost; see session.ts for what each counter means. */
function dropReport(s: CaptureStats): string {
  if (s.drops === null) return 'drop count not available (the cap binding lacks its patch: run npm install)';
  let out = `${s.drops} dropped by the kernel`;
  if (s.drops > 0) {
    const per = s.perInterface.length > 1 ? ` (${s.perInterface.map((p) => `${p.name} ${p.drops ?? '?'}`).join(', ')})` : '';
    out += `${per} because the capture buffer was full; a larger --buffer-size or a narrower filter helps`;
  }
  if (s.ifDrops) out += `; the interface itself dropped ${s.ifDrops} received packets (all traffic, not only the filter's)`;
  return out;
}

export async function captureCommand(argv: string[]): Promise<number> {
  const args = parseCaptureArgs(argv);
  if (args.help) { process.stdout.write(USAGE + '\n'); return 0; }
  if (args.setupPrivileges) { process.stdout.write(setupPrivilegesText()); return 0; }
  if (args.list) {
    let devices;
    try { devices = listDevices(); } catch (e) { say(`error: ${(e as Error).message}`); return 1; }
    process.stdout.write(devices.map(formatDevice).join('\n') + '\n');
    return 0;
  }
  const runtime = captureRuntime();
  if (runtime) return relaunch(runtime);
  let session: CaptureSession;
  try {
    session = CaptureSession.start(args.options);
  } catch (e) {
    if (e instanceof CaptureError) { say(`error: ${e.message}`); return e.kind === 'options' ? 2 : 1; }
    throw e;
  }
  let remote: RemoteCapture | undefined;
  if (args.remote) {
    remote = new RemoteCapture(args.remote);
    try {
      await remote.started;
    } catch (e) {
      await session.stop('error');
      if (e instanceof RemoteCaptureError) { say(`error: ${e.message}`); return 1; }
      throw e;
    }
    // Whichever end stops first (limit, Ctrl-C, lost connection) stops the other.
    void session.done.then(() => remote!.stop());
    void remote.done.then(() => session.stop('stopped'), () => session.stop('error'));
  }
  const names = session.interfaces.map((i) => i.name).join(', ');
  for (const w of session.warnings) say(`warning: ${w}`);
  say(`capturing on ${names}${args.options.filter ? ` (filter: ${args.options.filter})` : ''} to ${args.options.spoolPath}` +
    `${args.remote ? ` and on ${args.remote.host}:${args.remote.interface} to ${args.remote.spoolPath}` : ''}; Ctrl-C stops`);
  const tty = process.stderr.isTTY === true;
  let lastLine = 0;
  const progress = setInterval(() => {
    const s = session.getStats();
    const line = `${s.packets} packets, ${kb(s.capturedBytes)}, ${drops(s)}${remote ? `; ${args.remote!.host}: ${remote.packets} packets` : ''}`;
    if (tty) process.stderr.write(`\r${visible(line)}\x1b[K`);
    else if (s.elapsedMs - lastLine >= 2000) { lastLine = s.elapsedMs; say(line); }
  }, 500);
  const onSignal = () => { void session.stop('stopped'); };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    const sum = await session.done;
    if (tty) process.stderr.write('\r\x1b[K');
    const per = sum.perInterface.length > 1 ? ` (${sum.perInterface.map((p) => `${p.name} ${p.packets}`).join(', ')})` : '';
    const why = { count: 'packet limit reached', duration: 'time limit reached', bytes: 'byte limit reached', stopped: 'stopped', error: 'error' }[sum.reason];
    say(`${sum.packets} packets captured${per}, ${kb(sum.bytes)} on the wire, in ${(sum.elapsedMs / 1000).toFixed(1)} s (${why}); ` +
      `${dropReport(sum)}; wrote ${sum.spoolPath} (${kb(sum.spoolBytes)})`);
    if (sum.error) say(`error: ${sum.error}`);
    if (remote) {
      let rs: RemoteSummary;
      try { rs = await remote.stop(); } catch (e) { say(`error: ${(e as Error).message}`); return 1; }
      say(`${args.remote!.host}: ${rs.packets} packets captured on ${args.remote!.interface}, ${kb(rs.bytes)} on the wire; ` +
        `${rs.drops === null ? 'drop count not reported' : `${rs.drops} dropped by the kernel there`}; wrote ${rs.spoolPath} (${kb(rs.spoolBytes)})`);
      for (const w of rs.warnings) say(`warning: ${w}`);
    }
    return sum.error ? 1 : 0;
  } finally {
    clearInterval(progress);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
