// Live captures started from windows: each runs in its own capture helper process (never in the
// main process), spools to a pcapng under the profile folder, and its batches go to the window that
// started it and to no other. No `electron` import: the window is just a numeric owner id and a
// send function, so unit tests drive this with real helpers under plain Node.
import { randomUUID } from 'node:crypto';
import { accessSync, constants, mkdirSync, realpathSync, statSync } from 'node:fs';
import path from 'node:path';
import { CaptureHelper, listDevicesViaHelper, type HelperLaunch } from '../capture/client.ts';
import { CaptureError, type CaptureStats, type CaptureSummary, type LiveInterface } from '../capture/session.ts';
import {
  eventChannelOf,
  isTrustedSenderUrl,
  type CaptureCounters,
  type CaptureDeviceInfo,
  type CaptureEndSummary,
  type CaptureEvent,
  type CaptureStartRequest,
  type LiveFrame,
  type LiveInterfaceInfo,
} from '../../shared/ipc/contract.ts';
import { UserFacingError } from './ipc-dispatch.ts';

export interface CaptureManagerOptions {
  /** Folder receiving the spool files (created on first use). */
  spoolDir: string;
  /** How to start the helper: script path, runtime, optional wrapper (tests: `ip netns exec`). */
  launch: HelperLaunch;
  /** Delivers an event to the window with this owner id; a gone window is the caller's to ignore. */
  send: (ownerId: number, event: CaptureEvent) => void;
}

interface Tally {
  startedAt: number;
  packets: number;
  bytes: number;
  drops: number | null;
}

interface Running {
  id: string;
  ownerId: number;
  helper: CaptureHelper;
  spoolPath: string;
  tally: Tally;
  summary: Promise<CaptureEndSummary>;
}

/**
 * A Node runtime for the helper other than the Electron binary, so the capture capabilities can be
 * granted to a small runtime instead of the whole app: TANDEM_CAPTURE_NODE, else `node` on PATH.
 * Undefined means "use process.execPath" (Electron as Node, ELECTRON_RUN_AS_NODE; see client.ts).
 */
export function findHelperNode(env: Readonly<Record<string, string | undefined>>): string | undefined {
  const usable = (file: string): boolean => {
    try {
      accessSync(file, constants.X_OK);
      return statSync(file).isFile();
    } catch {
      return false;
    }
  };
  const explicit = env.TANDEM_CAPTURE_NODE;
  if (explicit && path.isAbsolute(explicit) && usable(explicit)) return explicit;
  for (const dir of (env.PATH ?? '').split(path.delimiter)) {
    // Relative PATH entries would depend on the working directory: never trust them.
    if (!dir || !path.isAbsolute(dir)) continue;
    const file = path.join(dir, process.platform === 'win32' ? 'node.exe' : 'node');
    if (usable(file)) {
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

function toInterfaces(list: LiveInterface[]): LiveInterfaceInfo[] {
  return list.map((i) => ({ id: i.id, name: i.name, linktype: i.linktype, snaplen: i.snaplen }));
}

function toSummary(s: CaptureSummary): CaptureEndSummary {
  const out: CaptureEndSummary = {
    reason: s.reason,
    spoolPath: s.spoolPath,
    spoolBytes: s.spoolBytes,
    packets: s.packets,
    bytes: s.bytes,
    drops: s.drops,
    elapsedMs: s.elapsedMs,
    warnings: [...s.warnings],
  };
  if (s.error) out.error = s.error;
  return out;
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
    const id = randomUUID();
    mkdirSync(this.opts.spoolDir, { recursive: true, mode: 0o700 });
    const spoolPath = path.join(this.opts.spoolDir, spoolFileName(id, new Date()));
    const send = (ev: CaptureEvent) => this.opts.send(ownerId, ev);
    const tally: Tally = { startedAt: Date.now(), packets: 0, bytes: 0, drops: null };
    const counters = (): CaptureCounters => ({
      packets: tally.packets,
      bytes: tally.bytes,
      drops: tally.drops,
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
          send({ type: 'stats', id, stats: counters() });
        },
      },
      this.opts.launch,
    );
    const summary = helper.done.then(
      (s) => {
        const out = toSummary(s);
        this.running.delete(id);
        send({ type: 'end', id, summary: out });
        return out;
      },
      (err: unknown) => {
        this.running.delete(id);
        const message = err instanceof Error ? err.message : String(err);
        // Before 'started' the failure is start's answer; after it the window learns by event.
        if (helper.interfaces.length) send({ type: 'failed', id, message });
        throw new UserFacingError(message);
      },
    );
    summary.catch(() => undefined);
    this.running.set(id, { id, ownerId, helper, spoolPath, tally, summary });
    try {
      await Promise.race([started, summary.then(() => undefined)]);
    } catch (err) {
      // Failed before the first packet: the error is the answer to start, not an event to handle.
      throw err instanceof CaptureError ? new UserFacingError(err.message) : err;
    }
    if (!this.running.has(id) && !helper.interfaces.length) throw new UserFacingError('The capture ended before it started.');
    return { id };
  }

  /** Stops capture `id` if `ownerId` started it; resolves with the summary once the spool is closed. */
  async stop(ownerId: number, id: string): Promise<CaptureEndSummary> {
    const run = this.running.get(id);
    if (!run || run.ownerId !== ownerId) throw new UserFacingError('That capture is not running in this window.');
    void run.helper.stop().catch(() => undefined);
    return run.summary;
  }

  /** Stops every capture of a window that closed or navigated away (their spools stay on disk). */
  stopOwner(ownerId: number): void {
    for (const run of this.running.values()) {
      if (run.ownerId === ownerId) void run.helper.stop().catch(() => undefined);
    }
  }

  stopAll(): Promise<unknown> {
    return Promise.allSettled([...this.running.values()].map((r) => r.helper.stop()));
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
