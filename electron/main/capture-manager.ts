// Live captures started from windows: each local one runs in its own capture helper process (never in
// the main process), spools to a pcapng under the profile folder, and its batches go to the window that
// started it and to no other. A paired capture adds the far end over SSH (remote-capture.ts) as a
// second capture of the same window, started and stopped with the local one. No `electron` import:
// the window is just a numeric owner id and a send function, so unit tests drive this with real
// helpers under plain Node.
import { randomUUID } from 'node:crypto';
import { mkdirSync, realpathSync } from 'node:fs';
import path from 'node:path';
import { CaptureHelper, listDevicesViaHelper, type HelperLaunch } from '../capture/client.ts';
import { CAPTURE_RUNTIME, captureRuntimeFrom, isExecutableFile } from '../capture/privileges.ts';
import { CaptureError, type CaptureStats } from '../capture/session.ts';
import {
  eventChannelOf,
  isTrustedSenderUrl,
  type CaptureCounters,
  type CaptureDeviceInfo,
  type CaptureEndSummary,
  type CaptureEvent,
  type CaptureStartRequest,
  type LiveFrame,
  type PairedCaptureRequest,
  type PairedCaptureStarted,
} from '../../shared/ipc/contract.ts';
import { UserFacingError } from './ipc-dispatch.ts';
import { launchRemote, RemoteStartError, type RemoteLaunch } from './remote-capture.ts';
import { toInterfaces, toSummary } from './capture-summary.ts';

export interface CaptureManagerOptions {
  /** Folder receiving the spool files (created on first use). */
  spoolDir: string;
  /** How to start the helper: script path, runtime, optional wrapper (tests: `ip netns exec`). */
  launch: HelperLaunch;
  /** Delivers an event to the window with this owner id; a gone window is the caller's to ignore. */
  send: (ownerId: number, event: CaptureEvent) => void;
  /** How far-end captures reach ssh (tests: a namespace wrapper and their own known_hosts). */
  remote?: RemoteLaunch;
}

interface Tally {
  startedAt: number;
  packets: number;
  bytes: number;
  drops: number | null;
  ifDrops: number | null;
}

interface Running {
  id: string;
  ownerId: number;
  /** Asks the capture to end; `summary` settles once its spool is closed. */
  stop: () => void;
  summary: Promise<CaptureEndSummary>;
  /** The other half of a paired capture: a stop of either stops both. */
  partner?: string;
}

interface Launched {
  id: string;
  /** Resolves when packets are being taken; rejects with the sentence for the user. */
  ready: Promise<void>;
}

/**
 * The runtime for the capture helper, so the capture capabilities can sit on a small runtime of their
 * own instead of the whole app, in this order: TANDEM_CAPTURE_NODE (absolute paths only); the
 * dedicated capability-bearing copy of Node (privileges.ts CAPTURE_RUNTIME, `dedicated` in tests)
 * when it exists, is root's, and we may execute it (i.e. we are in its group); `node` on PATH.
 * Undefined means "use process.execPath" (Electron as Node, ELECTRON_RUN_AS_NODE; see client.ts).
 */
export function findHelperNode(env: Readonly<Record<string, string | undefined>>, dedicated: string = CAPTURE_RUNTIME): string | undefined {
  const own = captureRuntimeFrom(env, dedicated);
  if (own) return own;
  for (const dir of (env.PATH ?? '').split(path.delimiter)) {
    // Relative PATH entries would depend on the working directory: never trust them.
    if (!dir || !path.isAbsolute(dir)) continue;
    const file = path.join(dir, process.platform === 'win32' ? 'node.exe' : 'node');
    if (isExecutableFile(file)) {
      try {
        return realpathSync(file);
      } catch {
        return file;
      }
    }
  }
  return undefined;
}

/** A spool file name that sorts by time and never collides: 2026-11-22T03-10-00Z-<id>.pcapng. */
export function spoolFileName(id: string, now: Date): string {
  const stamp = now.toISOString().replace(/\.\d+Z$/, 'Z').replace(/:/g, '-');
  return `${stamp}-${id.slice(0, 8)}.pcapng`;
}

export function toDeviceInfo(d: { name: string; description?: string; addresses: { addr: string; netmask?: string }[]; loopback: boolean; up?: boolean; running?: boolean }): CaptureDeviceInfo {
  const info: CaptureDeviceInfo = {
    name: d.name,
    addresses: d.addresses.map((a) => (a.netmask ? { addr: a.addr, netmask: a.netmask } : { addr: a.addr })),
    loopback: d.loopback,
  };
  if (d.description) info.description = d.description;
  if (d.up !== undefined) info.up = d.up;
  if (d.running !== undefined) info.running = d.running;
  return info;
}

export class CaptureManager {
  private readonly running = new Map<string, Running>();

  constructor(private readonly opts: CaptureManagerOptions) {}

  /** Captures currently running for `ownerId` (all owners when omitted). */
  list(ownerId?: number): string[] {
    return [...this.running.values()].filter((r) => ownerId === undefined || r.ownerId === ownerId).map((r) => r.id);
  }

  async devices(): Promise<CaptureDeviceInfo[]> {
    try {
      return (await listDevicesViaHelper(this.opts.launch)).map(toDeviceInfo);
    } catch (err) {
      throw new UserFacingError(err instanceof Error ? err.message : String(err));
    }
  }

  /**
   * Starts the helper and resolves when it reports the interfaces open, or rejects with its one
   * sentence (privileges, filter, interface). Events for this capture go to `ownerId` only.
   */
  async start(ownerId: number, req: CaptureStartRequest): Promise<{ id: string }> {
    const local = this.launchLocal(ownerId, req);
    await local.ready;
    return { id: local.id };
  }

  /**
   * Starts this host's capture and the far end's together. Decision on partial failure: when only
   * the far end fails, the local capture keeps running and the answer says why the far end did not
   * start (the user sees it and may stop, or carry on with one side); when the local capture fails,
   * the far end is stopped again and the local sentence is the answer, since a pair without this
   * host's side is not what was asked for.
   */
  async startPaired(ownerId: number, req: PairedCaptureRequest): Promise<PairedCaptureStarted> {
    const local = this.launchLocal(ownerId, req.local);
    const remote = this.launchRemote(ownerId, req.remote, req.local.maxSeconds);
    // Both are launched at once; the local answer usually comes first (ssh still connecting), and a
    // local failure stops the far end right away instead of waiting out its connection attempt.
    try {
      await local.ready;
    } catch (err) {
      this.running.get(remote.id)?.stop();
      throw err;
    }
    try {
      await remote.ready;
    } catch (err) {
      const kind = err instanceof RemoteStartError ? err.kind : 'failed';
      return { id: local.id, remoteError: { kind, message: err instanceof Error ? err.message : String(err) } };
    }
    const a = this.running.get(local.id), b = this.running.get(remote.id);
    if (a && b) {
      a.partner = b.id;
      b.partner = a.id;
    } else if (!a) {
      // The local capture already ended (a tiny packet or time limit): the far end goes with it.
      b?.stop();
    }
    return { id: local.id, remoteId: remote.id };
  }

  private spoolPathFor(id: string): string {
    mkdirSync(this.opts.spoolDir, { recursive: true, mode: 0o700 });
    return path.join(this.opts.spoolDir, spoolFileName(id, new Date()));
  }

  private launchRemote(ownerId: number, req: PairedCaptureRequest['remote'], maxSeconds: number | undefined): Launched {
    const id = randomUUID();
    const spoolPath = this.spoolPathFor(id);
    const run = launchRemote(id, req, spoolPath, maxSeconds === undefined ? {} : { maxSeconds }, this.opts.remote ?? {}, (ev) => this.opts.send(ownerId, ev));
    const summary = run.summary.finally(() => this.running.delete(id));
    summary.catch(() => undefined);
    this.running.set(id, { id, ownerId, stop: run.stop, summary });
    return { id, ready: run.ready };
  }

  private launchLocal(ownerId: number, req: CaptureStartRequest): Launched {
    const id = randomUUID();
    const spoolPath = this.spoolPathFor(id);
    const send = (ev: CaptureEvent) => this.opts.send(ownerId, ev);
    const tally: Tally = { startedAt: Date.now(), packets: 0, bytes: 0, drops: null, ifDrops: null };
    const counters = (): CaptureCounters => ({
      packets: tally.packets,
      bytes: tally.bytes,
      drops: tally.drops,
      ifDrops: tally.ifDrops,
      elapsedMs: Date.now() - tally.startedAt,
    });
    let onStarted!: () => void;
    const started = new Promise<void>((resolve) => {
      onStarted = resolve;
    });
    const helper = new CaptureHelper(
      {
        interfaces: req.interfaces,
        filter: req.filter,
        snaplen: req.snaplen,
        promiscuous: req.promiscuous,
        spoolPath,
        ...(req.maxPackets !== undefined && { maxPackets: req.maxPackets }),
        ...(req.maxSeconds !== undefined && { maxSeconds: req.maxSeconds }),
        ...(req.maxBytes !== undefined && { maxBytes: req.maxBytes }),
      },
      {
        onStarted: (interfaces, warnings) => {
          onStarted();
          send({ type: 'started', id, interfaces: toInterfaces(interfaces), warnings: [...warnings], spoolPath });
        },
        onBatch: (batch) => {
          const packets: LiveFrame[] = new Array(batch.packets.length);
          for (let i = 0; i < batch.packets.length; i++) {
            const p = batch.packets[i]!;
            tally.packets++;
            tally.bytes += p.len;
            // Views into one batch message: structured clone carries that buffer once for all of them.
            packets[i] = { ifaceId: p.ifaceId, tsSec: p.tsSec, tsNsec: p.tsNsec, caplen: p.caplen, len: p.len, data: p.data, dir: p.dir };
          }
          send({ type: 'batch', id, interfaces: toInterfaces(batch.interfaces), packets, stats: counters() });
        },
        onStats: (stats: CaptureStats) => {
          tally.drops = stats.drops;
          tally.ifDrops = stats.ifDrops ?? null;
          send({ type: 'stats', id, stats: counters() });
        },
      },
      this.opts.launch,
    );
    const summary = helper.done.then(
      (s) => {
        const out = toSummary(s);
        this.endPartnerOf(id);
        this.running.delete(id);
        send({ type: 'end', id, summary: out });
        return out;
      },
      (err: unknown) => {
        this.endPartnerOf(id);
        this.running.delete(id);
        const message = err instanceof Error ? err.message : String(err);
        // Before 'started' the failure is start's answer; after it the window learns by event.
        if (helper.interfaces.length) send({ type: 'failed', id, message });
        throw new UserFacingError(message);
      },
    );
    summary.catch(() => undefined);
    this.running.set(id, { id, ownerId, stop: () => void helper.stop().catch(() => undefined), summary });
    const ready = (async () => {
      try {
        await Promise.race([started, summary.then(() => undefined)]);
      } catch (err) {
        // Failed before the first packet: the error is the answer to start, not an event to handle.
        throw err instanceof CaptureError ? new UserFacingError(err.message) : err;
      }
      if (!this.running.has(id) && !helper.interfaces.length) throw new UserFacingError('The capture ended before it started.');
    })();
    ready.catch(() => undefined);
    return { id, ready };
  }

  /** The local half ended (stopped, a limit, or an error): its far end stops with it. */
  private endPartnerOf(id: string): void {
    const partner = this.running.get(id)?.partner;
    if (partner) this.running.get(partner)?.stop();
  }

  /** Stops capture `id` if `ownerId` started it; resolves with the summary once the spool is closed. */
  async stop(ownerId: number, id: string): Promise<CaptureEndSummary> {
    const run = this.running.get(id);
    if (!run || run.ownerId !== ownerId) throw new UserFacingError('That capture is not running in this window.');
    run.stop();
    if (run.partner) this.running.get(run.partner)?.stop();
    return run.summary;
  }

  /** Stops every capture of a window that closed or navigated away (their spools stay on disk). */
  stopOwner(ownerId: number): void {
    for (const run of this.running.values()) {
      if (run.ownerId === ownerId) run.stop();
    }
  }

  stopAll(): Promise<unknown> {
    const runs = [...this.running.values()];
    for (const r of runs) r.stop();
    return Promise.allSettled(runs.map((r) => r.summary));
  }
}

/** The part of a webContents that event delivery needs. */
export interface EventTarget {
  isDestroyed(): boolean;
  getURL(): string;
  send(channel: string, payload: CaptureEvent): void;
}

/**
 * Delivers a capture event to the window that owns it, only while that window still shows our own
 * page: a window that navigated elsewhere (or closed) gets nothing. Returns whether it was sent.
 */
export function deliverCaptureEvent(target: EventTarget | undefined, event: CaptureEvent): boolean {
  if (!target || target.isDestroyed() || !isTrustedSenderUrl(target.getURL())) return false;
  target.send(eventChannelOf('capture'), event);
  return true;
}
