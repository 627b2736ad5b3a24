// The far end of a paired capture as the capture manager sees it: tcpdump on another host over SSH
// (electron/capture/remote.ts), turned into the same events a local capture sends.
//
// Why this runs in the main process and not in a helper: the packet work done here is pcap record
// framing (one 16-byte header per frame), one copy per frame and a spool append per batch; ssh does
// the cryptography in its own process and protocol decoding happens in the renderer's worker. ssh's
// stdout pipe hands over at most 64 KiB per read, and the reader awaits the next read between them,
// so a flood on the far end turns into many short turns of the event loop rather than one long one;
// IPC and window events keep being served in between (test/unit/electron/paired-capture.test.ts
// measures the event-loop delay during a burst). Moving it into the privileged capture helper would
// give that helper an ssh client and the user's keys, which it has no business holding.
import { RemoteCapture, RemoteCaptureError, type RemoteCaptureOptions, type RemoteErrorKind } from '../capture/remote.ts';
import type {
  CaptureCounters,
  CaptureEndSummary,
  CaptureEvent,
  LiveFrame,
  RemoteCaptureRequest,
  RemoteFailureKind,
} from '../../shared/ipc/contract.ts';
import { UserFacingError } from './ipc-dispatch.ts';
import { toInterfaces, toSummary } from './capture-summary.ts';

/** How far-end captures reach ssh; the defaults suit the app, tests point them into a namespace. */
export interface RemoteLaunch {
  /** ssh command and any wrapper before it; default ['ssh']. */
  ssh?: string[];
  /** known_hosts to use instead of the user's own. */
  knownHostsFile?: string;
  /** Default 'accept-new': a first visit remembers the key, a changed key is refused. */
  hostKeyPolicy?: 'accept-new' | 'yes';
  connectTimeoutSec?: number;
}

/** A far-end start that failed, with its kind for the UI. */
export class RemoteStartError extends UserFacingError {
  constructor(readonly kind: RemoteFailureKind, message: string) {
    super(message);
  }
}

// The shared contract names the same failure kinds as remote.ts; this line stops them drifting apart.
const asFailureKind = (k: RemoteErrorKind): RemoteFailureKind => k;

export interface RemoteRun {
  /** Resolves once tcpdump listens on the far end; rejects with a RemoteStartError. */
  ready: Promise<void>;
  /** Settles when the capture is over (the 'end' or 'failed' event has been sent by then). */
  summary: Promise<CaptureEndSummary>;
  stop(): void;
}

export function launchRemote(
  id: string,
  req: RemoteCaptureRequest,
  spoolPath: string,
  limits: { maxSeconds?: number },
  launch: RemoteLaunch,
  send: (ev: CaptureEvent) => void,
): RemoteRun {
  const startedAt = Date.now();
  let packets = 0, bytes = 0;
  const counters = (drops: number | null = null): CaptureCounters => ({ packets, bytes, drops, elapsedMs: Date.now() - startedAt });
  const opts: RemoteCaptureOptions = {
    host: req.host,
    interface: req.interface,
    filter: req.filter,
    sudo: req.sudo,
    spoolPath,
    ...(req.user !== undefined && { user: req.user }),
    ...(req.port !== undefined && { port: req.port }),
    ...(req.identityFile !== undefined && { identityFile: req.identityFile }),
    ...(limits.maxSeconds !== undefined && { maxSeconds: limits.maxSeconds }),
    ...(launch.ssh !== undefined && { ssh: launch.ssh }),
    ...(launch.knownHostsFile !== undefined && { knownHostsFile: launch.knownHostsFile }),
    ...(launch.hostKeyPolicy !== undefined && { hostKeyPolicy: launch.hostKeyPolicy }),
    ...(launch.connectTimeoutSec !== undefined && { connectTimeoutSec: launch.connectTimeoutSec }),
    onBatch: (batch) => {
      const frames: LiveFrame[] = new Array(batch.packets.length);
      for (let i = 0; i < batch.packets.length; i++) {
        const p = batch.packets[i]!;
        packets++;
        bytes += p.len;
        frames[i] = { ifaceId: p.ifaceId, tsSec: p.tsSec, tsNsec: p.tsNsec, caplen: p.caplen, len: p.len, data: p.data, dir: p.dir };
      }
      send({ type: 'batch', id, interfaces: toInterfaces(batch.interfaces), packets: frames, stats: counters() });
    },
  };
  let capture: RemoteCapture;
  try {
    capture = new RemoteCapture(opts);
  } catch (err) {
    // spawn itself failed (no ssh client on this machine).
    const message = `The SSH client could not be started (${err instanceof Error ? err.message : String(err)}); install OpenSSH's ssh.`;
    const failed = Promise.reject(new RemoteStartError('failed', message));
    failed.catch(() => undefined);
    return { ready: failed, summary: failed, stop: () => undefined };
  }
  let started = false;
  // A missing ssh binary surfaces as an 'error' event of the child, not as a throw.
  const spawnFailed = new Promise<never>((_, reject) => {
    capture.child.once('error', (err) => reject(new RemoteStartError('failed', `The SSH client could not be started (${err.message}); install OpenSSH's ssh.`)));
  });
  spawnFailed.catch(() => undefined);
  const ready = Promise.race([capture.started, spawnFailed]).then(
    () => {
      started = true;
      send({ type: 'started', id, interfaces: toInterfaces(capture.interfaces), warnings: [], spoolPath });
    },
    (err: unknown) => {
      throw err instanceof RemoteCaptureError ? new RemoteStartError(asFailureKind(err.kind), err.message) : err;
    },
  );
  ready.catch(() => undefined);
  const summary = Promise.race([capture.done, spawnFailed]).then(
    (s) => {
      const out: CaptureEndSummary = { ...toSummary(s), farEnd: { tcpdump: s.remote, links: s.links } };
      send({ type: 'end', id, summary: out });
      return out;
    },
    (err: unknown) => {
      const message = err instanceof Error ? err.message : String(err);
      // Before 'started' the failure is the start's answer; after it the window learns by event.
      if (started) send({ type: 'failed', id, message });
      throw err instanceof RemoteCaptureError ? new RemoteStartError(asFailureKind(err.kind), message) : err;
    },
  );
  summary.catch(() => undefined);
  return { ready, summary, stop: () => void capture.stop().catch(() => undefined) };
}
