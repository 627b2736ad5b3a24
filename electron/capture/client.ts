// Parent side of the capture helper: spawns it (optionally behind a wrapper such as `pkexec` or
// `ip netns exec NS`), decodes its messages and exposes batches, stats and the final summary.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { captureRuntimeEnv } from './privileges.ts';
import { decodeBatch, MessageReader, KIND_BATCH, type HelperEvent } from './protocol.ts';
import type { CaptureDevice } from './devices.ts';
import { CaptureError, type CaptureBatch, type CaptureOptions, type CaptureStats, type CaptureSummary, type LiveInterface } from './session.ts';

export interface HelperLaunch {
  /** Path of the helper entry (.ts runs through tsx, .js/.mjs/.cjs directly). Default: helper.ts next to this file. */
  helperPath?: string;
  /** Runtime executable; default process.execPath (run as plain Node inside Electron too). */
  node?: string;
  /** Command words put in front, e.g. ['ip', 'netns', 'exec', 'ns1'] or ['pkexec']. */
  wrapper?: string[];
  env?: NodeJS.ProcessEnv;
}

export interface HelperCallbacks {
  onStarted?: (interfaces: LiveInterface[], warnings: string[]) => void;
  onBatch?: (batch: CaptureBatch) => void;
  onStats?: (stats: CaptureStats) => void;
}

function command(launch: HelperLaunch, args: string[]): { cmd: string; argv: string[]; env: NodeJS.ProcessEnv } {
  // Inside a bundle this file's URL says nothing about where the helper is: the caller must say.
  const here = (import.meta as { url?: string }).url;
  if (!launch.helperPath && !here) throw new CaptureError('unavailable', 'The capture helper location is unknown (pass helperPath).');
  // The entry script comes from the app (its own location or the caller's helperPath), never from
  // the environment: the runtime may hold capture capabilities.
  const helper = launch.helperPath ?? fileURLToPath(new URL('./helper.ts', here));
  const node = launch.node ?? process.execPath;
  const nodeArgs = helper.endsWith('.ts') ? ['--import', tsxLoader(), helper] : [helper];
  const words = [...(launch.wrapper ?? []), node, ...nodeArgs, ...args];
  // No NODE_OPTIONS, NODE_PATH, LD_* and the like from our environment (see captureRuntimeEnv).
  return { cmd: words[0]!, argv: words.slice(1), env: { ...captureRuntimeEnv(), ...launch.env, ELECTRON_RUN_AS_NODE: '1' } };
}

/** tsx's loader as an absolute URL (sources only), so the helper does not resolve it from its working directory. */
function tsxLoader(): string {
  const meta = import.meta as { resolve?: (s: string) => string };
  try { return meta.resolve ? meta.resolve('tsx') : 'tsx'; } catch { return 'tsx'; }
}

export class CaptureHelper {
  readonly child: ChildProcess;
  interfaces: LiveInterface[] = [];
  /** Packets received from the helper so far (each one is already in the spool). */
  received = 0;
  readonly done: Promise<CaptureSummary>;
  private stderr = '';

  constructor(opts: Omit<CaptureOptions, 'onBatch'>, cb: HelperCallbacks = {}, launch: HelperLaunch = {}) {
    const { cmd, argv, env } = command(launch, [JSON.stringify(opts)]);
    this.child = spawn(cmd, argv, { env, stdio: ['pipe', 'pipe', 'pipe'] });
    const reader = new MessageReader();
    let error: CaptureError | undefined;
    let summary: CaptureSummary | undefined;
    this.child.stderr!.setEncoding('utf8');
    this.child.stderr!.on('data', (s: string) => { if (this.stderr.length < 8192) this.stderr += s; });
    this.child.stdin!.on('error', () => { /* helper already gone */ });
    this.child.stdout!.on('data', (chunk: Buffer) => {
      for (const m of reader.push(chunk)) {
        if (m.kind === KIND_BATCH) {
          const packets = decodeBatch(m.body, this.received + 1);
          this.received += packets.length;
          cb.onBatch?.({ interfaces: this.interfaces, packets });
          continue;
        }
        const ev: HelperEvent = m.event;
        if (ev.type === 'started') { this.interfaces = ev.interfaces; cb.onStarted?.(ev.interfaces, ev.warnings); }
        else if (ev.type === 'stats') cb.onStats?.(ev.stats);
        else if (ev.type === 'error') error = new CaptureError(ev.kind as CaptureError['kind'], ev.message);
        else if (ev.type === 'end') summary = ev.summary;
      }
    });
    this.done = new Promise((resolve, reject) => {
      this.child.on('error', (e) => reject(new CaptureError('unavailable', `The capture helper could not be started: ${e.message}.`)));
      this.child.on('close', (code, signal) => {
        if (summary) resolve(summary);
        else if (error) reject(error);
        else {
          const why = signal ? `was killed by ${signal}` : `exited with status ${code}`;
          const detail = this.stderr.trim().split('\n').filter((l) => !/This may not actually work/.test(l)).pop();
          reject(new CaptureError('unavailable', `The capture helper ${why}${detail ? `: ${detail}` : ''}.`));
        }
      });
    });
  }

  /** Asks the helper to stop (through stdin, which works across a privilege boundary where signals do not). */
  stop(): Promise<CaptureSummary> {
    if (this.child.stdin && !this.child.stdin.destroyed) this.child.stdin.end('stop\n');
    return this.done;
  }
}

/** Interface list as the (privileged) helper sees it. */
export function listDevicesViaHelper(launch: HelperLaunch = {}): Promise<CaptureDevice[]> {
  const { cmd, argv, env } = command(launch, ['--list']);
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, argv, { env, stdio: ['ignore', 'pipe', 'ignore'] });
    const reader = new MessageReader();
    let devices: CaptureDevice[] | undefined;
    let err: CaptureError | undefined;
    child.stdout.on('data', (c: Buffer) => {
      for (const m of reader.push(c)) {
        if (m.kind !== KIND_BATCH && m.event.type === 'devices') devices = m.event.devices;
        else if (m.kind !== KIND_BATCH && m.event.type === 'error') err = new CaptureError(m.event.kind as CaptureError['kind'], m.event.message);
      }
    });
    child.on('error', (e) => reject(new CaptureError('unavailable', `The capture helper could not be started: ${e.message}.`)));
    child.on('close', () => (devices ? resolve(devices) : reject(err ?? new CaptureError('unavailable', 'The capture helper gave no interface list.'))));
  });
}
