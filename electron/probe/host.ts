// Running one fixed script on one end: locally through `sh -c`, or on the far end through ssh with the
// far-end capture's own ssh arguments (key or agent only, BatchMode) — with a time limit, an output
// bound, and cancel that ends the ssh client and makes the far end's script kill its process group.
import { spawn } from 'node:child_process';
import { classifyRemoteFailure, sshArgs, type RemoteCaptureOptions } from '../capture/remote.ts';
import { remoteCommandFor } from './script.ts';
import { parseDestination } from './script.ts';
import type { ProbeEnd } from './types.ts';

export interface RunResult {
  code: number | null;
  stderr: string;
  timedOut: boolean;
  cancelled: boolean;
  /** stdout went past maxStdout and the rest was dropped. */
  truncated: boolean;
}

export interface RunOptions {
  input: string;
  timeoutMs: number;
  signal?: AbortSignal;
  onStdout?: (b: Buffer) => void;
  /** Stop reading stdout past this many bytes (the process is ended). Default 512 MiB. */
  maxStdout?: number;
  connectTimeoutSec?: number;
  /** Test hook: the ssh client command (default ['ssh']); e.g. ['ip', 'netns', 'exec', NS, 'ssh']. */
  ssh?: string[];
}

/** The far-end capture's options for an ssh end (interface and spool are placeholders where unused). */
export function remoteOptionsFor(end: ProbeEnd, extra: Partial<RemoteCaptureOptions> = {}): RemoteCaptureOptions {
  const d = parseDestination(end.destination ?? '');
  return {
    host: d.host, ...(d.user !== undefined && { user: d.user }), ...(d.port !== undefined && { port: d.port }),
    ...(end.identityFile !== undefined && { identityFile: end.identityFile }),
    ...(end.knownHostsFile !== undefined && { knownHostsFile: end.knownHostsFile }),
    interface: end.iface ?? 'any', spoolPath: '', ...(end.sudo && { sudo: true }), ...extra,
  };
}

/** argv for running `script` on `end`: [command, ...args]. */
export function commandFor(end: ProbeEnd, script: string, o: Pick<RunOptions, 'connectTimeoutSec' | 'ssh'> = {}): string[] {
  if (end.kind === 'local') return ['sh', '-c', script];
  const args = sshArgs(remoteOptionsFor(end, { connectTimeoutSec: o.connectTimeoutSec ?? 10 }));
  // sshArgs ends with the capture's own far-end command: ours takes its place after "--" and the destination.
  args[args.length - 1] = remoteCommandFor(script);
  return [...(o.ssh ?? ['ssh']), ...args];
}

const MAX_STDERR = 256 * 1024;

export function runScript(end: ProbeEnd, script: string, o: RunOptions): Promise<RunResult> {
  const [cmd, ...args] = commandFor(end, script, o);
  return new Promise((resolve) => {
    // Its own process group: a terminal's Ctrl-C reaches us, and we end it in order (see cancel).
    const child = spawn(cmd!, args, { stdio: ['pipe', 'pipe', 'pipe'], detached: true });
    let stderr = '', seen = 0, timedOut = false, cancelled = false, truncated = false, finished = false;
    const max = o.maxStdout ?? 512 * 1024 * 1024;
    child.stdin.on('error', () => { /* already gone */ });
    child.stdin.write(o.input);
    child.stdout.on('data', (b: Buffer) => {
      if (truncated) return;
      seen += b.length;
      if (seen > max) { truncated = true; stop(); return; }
      o.onStdout?.(b);
    });
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (s: string) => { if (stderr.length < MAX_STDERR) stderr += s.slice(0, MAX_STDERR - stderr.length); });
    // Closing stdin makes the far script kill its process group; the signal then ends the local client.
    const stop = () => {
      if (!child.stdin.destroyed) child.stdin.end();
      setTimeout(() => kill('SIGTERM'), 300).unref();
      setTimeout(() => kill('SIGKILL'), 3000).unref();
    };
    const kill = (sig: NodeJS.Signals) => {
      if (finished || child.pid === undefined) return;
      try { process.kill(-child.pid, sig); } catch { /* gone */ }
    };
    const timer = setTimeout(() => { timedOut = true; stop(); }, o.timeoutMs);
    const onAbort = () => { cancelled = true; stop(); };
    if (o.signal?.aborted) onAbort(); else o.signal?.addEventListener('abort', onAbort, { once: true });
    child.on('error', (e) => { stderr += `\n${e.message}`; });
    child.on('close', (code) => {
      finished = true;
      clearTimeout(timer);
      o.signal?.removeEventListener('abort', onAbort);
      resolve({ code, stderr, timedOut, cancelled, truncated });
    });
  });
}

/** One line for a failed ssh run, of the capture's kinds (unreachable, auth, host key …). */
export function sshFailure(end: ProbeEnd, r: RunResult): string {
  const o = remoteOptionsFor(end);
  return classifyRemoteFailure(o, r.code, r.stderr).message;
}

/** ssh exits 255 for its own failures (connection, authentication, host key). */
export function isSshFailure(end: ProbeEnd, r: RunResult): boolean {
  return end.kind === 'ssh' && r.code === 255;
}
