// One live capture: a libpcap handle (through `cap`) per interface, every packet appended to a
// pcapng spool as it arrives, batches handed to the caller, stop after N packets / seconds / bytes.
//
// cap 0.2.1 is installed with our patch (patches/cap+0.2.1.patch, applied and rebuilt by the
// postinstall script): open() takes a 5th argument that turns promiscuous mode off, and stats()
// returns libpcap's counters. A cap without the patch is recognised by its missing stats(); then
// interfaces are always opened promiscuous (`promiscuous: false` becomes a warning) and `drops` is null.
//
// What cap still does not expose, and how this module copes:
// - no per-packet header: timestamps are taken in user space when libpcap hands the packet over
//   (monotonic clock anchored to the wall clock at start), so they carry the wake-up latency;
// - snaplen is fixed at 65535 inside cap: a smaller snaplen is applied here, a larger one is clamped;
// - no packet direction: recovered per link type (direction.ts) and written as epb_flags.
//
// Drop counts: `drops` is what the capture lost, packets that matched the filter but found libpcap's
// ring buffer full (pcap_stats ps_drop, summed over interfaces; tcpdump's "dropped by kernel").
// `ifDrops` is the interfaces' own receive drops during the capture (ps_ifdrop); it counts all
// traffic, not only the filter's, includes frames the kernel merely had no use for, and libpcap
// keeps it only for promiscuous handles, so it is reported apart and never added to `drops`.
import type { RawFrame } from '../../shared/capture-file/types.ts';
import { performance } from 'node:perf_hooks';
import { capLinktype, loadCap, newCap, type CapHandle, type CapStats } from './cap-binding.ts';
import { checkCapturePrivileges, isPermissionError, privilegeMessage } from './privileges.ts';
import { PcapngSpool, SpoolFullError } from './pcapng-spool.ts';
import { directionOf, type Direction } from './direction.ts';
import { interfaceIdentity } from './devices.ts';

/** cap opens every handle with this snapshot length. */
export const CAP_SNAPLEN = 65535;
/** Packet copies are carved out of slabs of this size. */
const SLAB = 1 << 20;

export interface CaptureOptions {
  /** Interface names as libpcap knows them; `any` is the Linux all-interfaces pseudo-device. */
  interfaces: string[];
  /** BPF capture filter (pcap-filter syntax); empty captures everything. */
  filter?: string;
  snaplen?: number;
  /** Default true. Only the patched cap can turn it off (see the module comment). */
  promiscuous?: boolean;
  /**
   * libpcap ring buffer per interface, bytes. Default 64 MiB: cap fixes snaplen at 65535 and on
   * interfaces with offloads libpcap then reserves a 64 KiB slot per packet, so 16 MiB holds only ~250.
   */
  bufferSize?: number;
  /** pcapng file that receives every packet as it is captured. */
  spoolPath: string;
  maxPackets?: number;
  maxSeconds?: number;
  /** Stop once this many captured bytes were spooled. */
  maxBytes?: number;
  /** Batch hand-over and spool write interval; capped at 200 ms. Default 100. */
  flushIntervalMs?: number;
  /** A batch is flushed early when it holds this many packets. Default 1000. */
  batchPackets?: number;
  /** Receives every batch after it is on disk. */
  onBatch?: (batch: CaptureBatch) => void;
}

export interface LiveInterface { id: number; name: string; linktype: number; snaplen: number }

/** A captured frame as the file readers describe one (frame is 1-based across interfaces), plus its direction. */
export interface LivePacket extends Pick<RawFrame, 'frame' | 'ifaceId' | 'tsSec' | 'tsNsec' | 'caplen' | 'len' | 'data'> {
  /** 1 inbound, 2 outbound, 0 unknown (recovered per link type, see direction.ts). */
  dir: Direction;
}

export interface CaptureBatch { interfaces: LiveInterface[]; packets: LivePacket[] }

export interface CaptureStats {
  packets: number;
  /** Sum of original (wire) lengths. */
  bytes: number;
  /** Sum of captured lengths (what the spool holds). */
  capturedBytes: number;
  /**
   * Packets that matched the filter but were lost because libpcap's buffer was full, summed over the
   * interfaces; null when the binding cannot report it (cap without our patch).
   */
  drops: number | null;
  /**
   * Receive drops of the interfaces themselves during the capture, all traffic (see the module
   * comment); null when unknown: unpatched binding, or no interface opened promiscuous.
   */
  ifDrops?: number | null;
  perInterface: { name: string; packets: number; bytes: number; drops?: number | null; ifDrops?: number | null }[];
  elapsedMs: number;
}

export type StopReason = 'count' | 'duration' | 'bytes' | 'stopped' | 'error';

export interface CaptureSummary extends CaptureStats {
  reason: StopReason; spoolPath: string; spoolBytes: number; warnings: string[];
  /** Set when reason is 'error' (e.g. the spool disk is full): one sentence. */
  error?: string;
}

/** A failure the user can act on; `kind` lets the UI pick the right hint. */
export class CaptureError extends Error {
  constructor(readonly kind: 'privilege' | 'filter' | 'interface' | 'unavailable' | 'options', message: string) { super(message); }
}

function openCap(device: string, filter: string, bufferSize: number, buffer: Buffer, promiscuous = true): { cap: CapHandle; linktype: number } {
  const mod = loadCap();
  if (mod instanceof Error) throw new CaptureError('unavailable', mod.message);
  // A failed open leaves the object unusable (never reopened, never closed): see cap-binding.ts.
  const cap = newCap(mod);
  // An unpatched cap ignores the 5th argument (and stays promiscuous).
  return { cap, linktype: capLinktype(cap.open(device, filter, bufferSize, buffer, promiscuous)) };
}

/** Whether this cap carries our patch (promiscuous switch and stats()). */
export function capIsPatched(cap: CapHandle): boolean {
  return typeof cap.stats === 'function';
}

/** Turns libpcap's text into one sentence of the right kind. */
function explainOpenError(device: string, filter: string, bufferSize: number, e: unknown): CaptureError {
  const msg = (e instanceof Error ? e.message : String(e)).trim();
  if (e instanceof CaptureError) return e;
  if (isPermissionError(msg)) return new CaptureError('privilege', privilegeMessage([]) + ` (libpcap: ${msg})`);
  if (filter) {
    // cap reports activation and compilation errors alike: retry without the filter to tell them apart.
    let filterAtFault = false;
    try {
      const probe = openCap(device, '', bufferSize, Buffer.alloc(64), false);
      probe.cap.close();
      filterAtFault = true;
    } catch { /* the interface itself fails: report the original error below */ }
    if (filterAtFault) return new CaptureError('filter', `The capture filter "${filter}" is invalid: ${msg}.`);
  }
  if (/No such device|doesn't exist|not exist/i.test(msg)) return new CaptureError('interface', `There is no interface "${device}" to capture on (libpcap: ${msg}).`);
  return new CaptureError('interface', `Capture on "${device}" could not start: ${msg}.`);
}

/**
 * Checks a BPF filter the way the capture will use it: by opening `device` with it (libpcap compiles
 * filters against the link type). Returns null when valid, else the compiler's message in one sentence.
 */
export function validateFilter(filter: string, device = 'any'): CaptureError | null {
  const priv = checkCapturePrivileges();
  if (!priv.ok) return new CaptureError('privilege', priv.message);
  try {
    // Not promiscuous: checking a filter should not change how the interface receives.
    const { cap } = openCap(device, filter, 1 << 20, Buffer.alloc(64), false);
    cap.close();
    return null;
  } catch (e) {
    return explainOpenError(device, filter, 1 << 20, e);
  }
}

interface Handle {
  cap: CapHandle; buffer: Buffer; iface: LiveInterface; packets: number; bytes: number; dir: ((f: Uint8Array) => Direction) | null;
  /** libpcap's counters as last read; kept after close, when they can no longer be read. */
  pcap: CapStats | null;
}

export class CaptureSession {
  readonly interfaces: LiveInterface[] = [];
  readonly warnings: string[] = [];
  private handles: Handle[] = [];
  private spool!: PcapngSpool;
  private pending: LivePacket[] = [];
  private slab = new Uint8Array(SLAB);
  private slabPos = 0;
  private timer: NodeJS.Timeout | undefined;
  private durationTimer: NodeJS.Timeout | undefined;
  private frame = 0;
  private stats = { packets: 0, bytes: 0, capturedBytes: 0 };
  private startHr = 0n;
  private wallOriginMs = 0;
  private stopping = false;
  private endResolve!: (s: CaptureSummary) => void;
  /** Resolves when the capture has stopped and the spool is closed. */
  readonly done: Promise<CaptureSummary>;
  private queue: CaptureBatch[] = [];
  private waiter: (() => void) | undefined;
  private finished = false;
  private iterating = false;
  private failure: string | undefined;
  private readonly snaplen: number;
  private readonly batchPackets: number;

  private constructor(private readonly opts: CaptureOptions) {
    this.done = new Promise((r) => { this.endResolve = r; });
    const want = opts.snaplen ?? CAP_SNAPLEN;
    this.snaplen = Math.min(want, CAP_SNAPLEN);
    if (want > CAP_SNAPLEN) this.warnings.push(`snaplen ${want} is larger than the ${CAP_SNAPLEN} bytes libpcap is opened with; frames are cut at ${CAP_SNAPLEN}`);
    this.batchPackets = Math.max(1, opts.batchPackets ?? 1000);
  }

  /** Validates everything (privileges, interfaces, filter) and starts; throws CaptureError before any packet is taken. */
  static start(opts: CaptureOptions): CaptureSession {
    if (opts.interfaces.length === 0) throw new CaptureError('options', 'No interface given to capture on.');
    if (opts.snaplen !== undefined && !(opts.snaplen >= 1)) throw new CaptureError('options', `snaplen must be a positive number (got ${opts.snaplen}).`);
    const mod = loadCap();
    if (mod instanceof Error) throw new CaptureError('unavailable', mod.message);
    const priv = checkCapturePrivileges();
    if (!priv.ok) throw new CaptureError('privilege', priv.message);
    const s = new CaptureSession(opts);
    s.open();
    return s;
  }

  private open(): void {
    const filter = this.opts.filter ?? '';
    const bufferSize = this.opts.bufferSize ?? 64 << 20;
    const names = [...new Set(this.opts.interfaces)];
    try {
      for (const name of names) {
        // One packet buffer per handle: cap copies into it before each 'packet' event. cap keeps only a
        // raw pointer, so the Buffer must stay referenced (it is, through this.handles) while open.
        const buffer = Buffer.alloc(CAP_SNAPLEN);
        let opened;
        try { opened = openCap(name, filter, bufferSize, buffer, this.promiscuous); } catch (e) { throw explainOpenError(name, filter, bufferSize, e); }
        const iface: LiveInterface = { id: this.interfaces.length, name, linktype: opened.linktype, snaplen: this.snaplen };
        this.interfaces.push(iface);
        this.handles.push({ cap: opened.cap, buffer, iface, packets: 0, bytes: 0, dir: directionOf(opened.linktype, interfaceIdentity(name)), pcap: null });
      }
      if (!this.promiscuous && !this.handles.every((h) => capIsPatched(h.cap))) {
        this.warnings.push('promiscuous mode cannot be turned off with this build of the cap binding (its patch is missing; run npm install); interfaces are opened promiscuous');
      }
      this.spool = new PcapngSpool(this.opts.spoolPath, this.interfaces.map((i) => ({ name: i.name, linktype: i.linktype, snaplen: i.snaplen })));
    } catch (e) {
      for (const h of this.handles) h.cap.close();
      if (e instanceof CaptureError) throw e;
      throw new CaptureError('options', `Cannot start the capture: ${e instanceof Error ? e.message : String(e)}.`);
    }
    this.startHr = process.hrtime.bigint();
    this.wallOriginMs = performance.timeOrigin;
    for (const h of this.handles) h.cap.on('packet', (n: number) => this.onPacket(h, n));
    const every = Math.min(200, Math.max(10, this.opts.flushIntervalMs ?? 100));
    this.timer = setInterval(() => this.flush(), every);
    if (this.opts.maxSeconds !== undefined && this.opts.maxSeconds > 0) {
      this.durationTimer = setTimeout(() => this.stop('duration'), this.opts.maxSeconds * 1000);
    }
  }

  private onPacket(h: Handle, n: number): void {
    if (this.stopping) return;
    // performance.now() is monotonic and cheap; at today's epoch a double still resolves ~0.25 µs.
    const ms = this.wallOriginMs + performance.now();
    const tsSec = Math.floor(ms / 1000);
    const tsNsec = Math.min(999_999_999, Math.round((ms - tsSec * 1000) * 1e6));
    const caplen = Math.min(n, this.snaplen);
    // cap reuses one buffer per handle: copy into a shared slab rather than one allocation per packet.
    if (this.slabPos + caplen > this.slab.length) { this.slab = new Uint8Array(Math.max(SLAB, caplen)); this.slabPos = 0; }
    const data = this.slab.subarray(this.slabPos, this.slabPos + caplen);
    data.set(h.buffer.subarray(0, caplen));
    this.slabPos += (caplen + 7) & ~7;
    this.pending.push({ frame: ++this.frame, ifaceId: h.iface.id, tsSec, tsNsec, caplen, len: n, data, dir: h.dir ? h.dir(data) : 0 });
    h.packets++; h.bytes += n;
    this.stats.packets++; this.stats.bytes += n; this.stats.capturedBytes += caplen;
    if (this.pending.length >= this.batchPackets) this.flush();
    const o = this.opts;
    if (o.maxPackets !== undefined && o.maxPackets > 0 && this.stats.packets >= o.maxPackets) this.stop('count');
    else if (o.maxBytes !== undefined && o.maxBytes > 0 && this.stats.capturedBytes >= o.maxBytes) this.stop('bytes');
  }

  /** Spool first, then hand over: whatever a consumer has seen is already on disk. */
  private flush(): void {
    if (this.pending.length === 0) return;
    const packets = this.pending;
    this.pending = [];
    try {
      this.spool.append(packets);
    } catch (e) {
      // Nothing more can be kept safe: hand over only the packets that are whole on disk, then stop.
      this.failure = `Writing the capture file ${this.opts.spoolPath} failed: ${e instanceof Error ? e.message : String(e)}.`;
      if (e instanceof SpoolFullError && e.kept > 0) this.handOver(packets.slice(0, e.kept));
      void this.stop('error');
      return;
    }
    this.handOver(packets);
  }

  private handOver(packets: LivePacket[]): void {
    const batch: CaptureBatch = { interfaces: this.interfaces, packets };
    this.opts.onBatch?.(batch);
    if (this.iterating) { this.queue.push(batch); this.wake(); }
  }

  private wake(): void { const w = this.waiter; this.waiter = undefined; w?.(); }

  private get promiscuous(): boolean { return this.opts.promiscuous !== false; }

  /** Reads libpcap's counters of every open handle into Handle.pcap (the last good reading stays). */
  private readPcapStats(): void {
    for (const h of this.handles) {
      if (!capIsPatched(h.cap)) continue;
      try { h.pcap = h.cap.stats!(); } catch { /* closed, or pcap_stats failed: keep the last reading */ }
    }
  }

  getStats(): CaptureStats {
    if (!this.stopping) this.readPcapStats();
    // libpcap keeps ps_ifdrop only for promiscuous handles, and the `any` pseudo-device has no counter.
    const ifDrops = (h: Handle) => (h.pcap && this.promiscuous && h.iface.name !== 'any' ? h.pcap.ifDropped : null);
    const per = this.handles.map((h) => ({ name: h.iface.name, packets: h.packets, bytes: h.bytes, drops: h.pcap?.dropped ?? null, ifDrops: ifDrops(h) }));
    const total = (xs: (number | null)[]) => (xs.length > 0 && xs.every((x) => x !== null) ? xs.reduce<number>((a, b) => a + b!, 0) : null);
    return {
      ...this.stats,
      drops: total(per.map((p) => p.drops)),
      ifDrops: total(per.map((p) => p.ifDrops)),
      perInterface: per,
      elapsedMs: Number(process.hrtime.bigint() - this.startHr) / 1e6,
    };
  }

  /** Stops capturing, writes what is pending and closes the spool. Idempotent. */
  stop(reason: StopReason = 'stopped'): Promise<CaptureSummary> {
    if (this.stopping) return this.done;
    this.stopping = true;
    clearInterval(this.timer);
    clearTimeout(this.durationTimer);
    // The last reading must come before close(): a closed handle has no counters any more.
    this.readPcapStats();
    for (const h of this.handles) { h.cap.removeAllListeners('packet'); h.cap.close(); }
    this.flush();
    try { this.spool.close(); } catch { /* the write error is already recorded */ }
    this.finished = true;
    this.wake();
    if (this.failure) reason = 'error';
    this.endResolve({
      ...this.getStats(), reason, spoolPath: this.opts.spoolPath, spoolBytes: this.spool.bytes, warnings: this.warnings,
      ...(this.failure && { error: this.failure }),
    });
    return this.done;
  }

  /** Batches as they are flushed; ends after stop(). Use either this or onBatch, or both. */
  async *batches(): AsyncGenerator<CaptureBatch> {
    this.iterating = true;
    while (true) {
      const b = this.queue.shift();
      if (b) { yield b; continue; }
      if (this.finished) return;
      await new Promise<void>((r) => { this.waiter = r; });
    }
  }
}
