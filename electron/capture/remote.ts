// Capture on the far end over SSH: the remote host's own tcpdump writes pcap to stdout (`-U -w -`),
// which is parsed here as it streams in, spooled to a local pcapng file and handed over in batches
// like a local capture. Key authentication only (BatchMode): no password is ever asked for or stored.
// The app runs this in its main process (electron/main/remote-capture.ts says why that is safe): the
// work here is record framing, copying and spooling; protocol decoding happens in the renderer's worker.
import { spawn, type ChildProcess } from 'node:child_process';
import { readCapture } from '../../shared/capture-file/reader.ts';
import { LINKTYPE_LINUX_SLL2, parseIpLink, sll2InterfaceIndex } from '../../shared/capture-file/links.ts';
import { PcapngSpool } from './pcapng-spool.ts';
import { directionOf, identityFromIpOutput, type Direction } from './direction.ts';
import type { CaptureBatch, CaptureSummary, LiveInterface, LivePacket, StopReason } from './session.ts';

export interface RemoteCaptureOptions {
  host: string;
  user?: string;
  port?: number;
  /** Private key file (ssh -i); otherwise the ssh agent / default keys. */
  identityFile?: string;
  /** Where the host key is remembered; default ssh's own known_hosts. */
  knownHostsFile?: string;
  /** 'accept-new' trusts a host on first use (default); 'yes' requires a known key. */
  hostKeyPolicy?: 'accept-new' | 'yes';
  interface: string;
  filter?: string;
  /** Default 65535 (see bufferKiB). */
  snaplen?: number;
  /**
   * tcpdump -B, KiB. Default 65536. In immediate mode libpcap gives every packet a ring slot of about
   * snaplen bytes, so tcpdump's defaults (2 MiB, snaplen 262144) hold just 8 packets and drop bursts.
   */
  bufferKiB?: number;
  /** Remote tcpdump command; default "tcpdump". */
  tcpdump?: string;
  /** Run tcpdump through `sudo -n` on the remote host. */
  sudo?: boolean;
  spoolPath: string;
  maxPackets?: number;
  maxSeconds?: number;
  connectTimeoutSec?: number;
  flushIntervalMs?: number;
  onBatch?: (batch: CaptureBatch) => void;
  /** ssh client command; default ['ssh']. */
  ssh?: string[];
}

export type RemoteErrorKind = 'unreachable' | 'auth' | 'host-key' | 'no-tcpdump' | 'permission' | 'filter' | 'interface' | 'failed';

export class RemoteCaptureError extends Error {
  constructor(readonly kind: RemoteErrorKind, message: string) { super(message); }
}

export interface RemoteSummary extends CaptureSummary {
  /** The far end's `ip -o link` and `ip -o addr` output ('' when `ip` is missing there). */
  links: string;
  /** Counters tcpdump printed when it stopped (null if it did not get to print them). */
  remote: { captured: number; receivedByFilter: number; droppedByKernel: number } | null;
}

const LINKS_BEGIN = '--- tandem: ip -o link ---';
const LINKS_END = '--- tandem: end ---';

/**
 * The command ssh hands to the far end's login shell (bash, dash, zsh, fish, tcsh: whatever the account
 * has). It is one constant string with no value of ours in it, written so every common shell reads it
 * the same way: `exec sh -c '…'` where the script has no quote, backslash or newline (fish reads
 * \' and \\ inside single quotes, csh refuses a newline there; `$!` is safe: csh expands history
 * only when interactive). The values (tcpdump path, interface, snaplen, buffer, filter) follow on
 * stdin, one per line, and sh reads them with `read -r`: no shell ever parses them as code.
 *
 * After that, tcpdump runs in the background, stopped with SIGINT (so it prints its counters) as soon
 * as our end of the SSH channel closes stdin. Background jobs of a non-interactive shell get /dev/null
 * as stdin, hence the copy of the channel on fd 3.
 */
function remoteCommand(o: RemoteCaptureOptions): string {
  const run = o.sudo ? 'sudo -n "$t"' : '"$t"';
  const script = [
    'IFS= read -r t && IFS= read -r i && IFS= read -r n && IFS= read -r b && IFS= read -r f || exit 125',
    'exec 3<&0 </dev/null',
    // The far end's interface table, so frames of an `any` (SLL2) capture get their interface names back.
    `{ echo "${LINKS_BEGIN}"; ip -o link 2>/dev/null; ip -o addr 2>/dev/null; echo "${LINKS_END}"; } >&2`,
    `${run} -n -U --immediate-mode --time-stamp-precision=nano -B "$b" -w - -i "$i" -s "$n" -- "$f" &`,
    'p=$!',
    // A background job of a non-interactive shell starts with SIGINT ignored until tcpdump sets its own
    // handler: a stop that comes that early would be lost, so the signal repeats until tcpdump is gone.
    '{ read -r _ <&3; while kill -INT $p 2>/dev/null; do sleep 1; done; } &',
    'r=$!',
    'wait $p; s=$?',
    'kill $r 2>/dev/null',
    'exit $s',
  ].join('; ').replace(/&;/g, '&');
  if (/['\\\n]/.test(script)) throw new Error('remote script must stay free of quotes, backslashes and newlines');
  return `exec sh -c '${script}'`;
}

/**
 * The values for remoteCommand's script, one per line. A filter may span lines in a form; BPF reads
 * any white space alike, so line breaks become spaces. Other fields passed the validators, which
 * allow no line break; one here is a caller's bug, refused rather than sent.
 */
export function remoteInput(o: RemoteCaptureOptions): string {
  const values = [o.tcpdump ?? 'tcpdump', o.interface, String(o.snaplen ?? 65535), String(o.bufferKiB ?? 65536)];
  // eslint-disable-next-line no-control-regex
  if (values.some((v) => /[\n\r\u0000]/.test(v))) throw new RemoteCaptureError('failed', 'A far-end capture value holds a line break or NUL.');
  // eslint-disable-next-line no-control-regex
  return [...values, (o.filter ?? '').replace(/[\r\n\u0000]/g, ' ')].join('\n') + '\n';
}

export function sshArgs(o: RemoteCaptureOptions): string[] {
  const a = ['-T', '-e', 'none', '-o', 'BatchMode=yes', '-o', `ConnectTimeout=${o.connectTimeoutSec ?? 10}`, '-o', 'ServerAliveInterval=15',
    '-o', `StrictHostKeyChecking=${o.hostKeyPolicy ?? 'accept-new'}`];
  if (o.knownHostsFile) a.push('-o', `UserKnownHostsFile=${o.knownHostsFile}`);
  if (o.identityFile) a.push('-i', o.identityFile, '-o', 'IdentitiesOnly=yes');
  if (o.port) a.push('-p', String(o.port));
  // "--": the destination can never be read as an option, whatever the validators upstream let through.
  a.push('--', o.user ? `${o.user}@${o.host}` : o.host, remoteCommand(o));
  return a;
}

/** ssh's and tcpdump's stderr → one sentence of the right kind. */
export function classifyRemoteFailure(o: Pick<RemoteCaptureOptions, 'host' | 'interface' | 'filter' | 'user'>, code: number | null, stderr: string): RemoteCaptureError {
  const where = o.user ? `${o.user}@${o.host}` : o.host;
  const lines = stderr.split('\n').map((l) => l.trim()).filter(Boolean);
  const last = (re: RegExp) => lines.filter((l) => re.test(l)).pop();
  let l: string | undefined;
  if ((l = last(/Host key verification failed|REMOTE HOST IDENTIFICATION HAS CHANGED|No .*host key is known/i)))
    return new RemoteCaptureError('host-key', `The host key of ${o.host} is unknown or has changed, so the connection was refused (${l}).`);
  if ((l = last(/Permission denied \(|Too many authentication failures|no such identity|Load key .*: /i)))
    return new RemoteCaptureError('auth', `SSH authentication to ${where} failed: check the user name and that the key is in its authorized_keys (${l}).`);
  if ((l = last(/Could not resolve hostname|Connection refused|No route to host|Network is unreachable|timed out|Connection closed by|Connection reset/i)))
    return new RemoteCaptureError('unreachable', `${o.host} cannot be reached over SSH (${l}).`);
  if (code === 127 || (l = last(/tcpdump.*(not found|No such file)/i)))
    return new RemoteCaptureError('no-tcpdump', `tcpdump is not installed (or not on the PATH) on ${o.host}.`);
  if ((l = last(/a password is required|Operation not permitted|permission|not permitted/i)))
    return new RemoteCaptureError('permission', `${where} may not capture on ${o.host}: run as root, grant tcpdump CAP_NET_RAW, or allow passwordless sudo for tcpdump (${l}).`);
  if ((l = last(/syntax error|can't parse filter|unknown (host|port|protocol)|illegal/i)))
    return new RemoteCaptureError('filter', `The capture filter "${o.filter ?? ''}" was rejected on ${o.host}: ${l.replace(/^tcpdump: /, '')}.`);
  if ((l = last(/No such device|doesn't exist|no suitable device|That device is not up/i)))
    return new RemoteCaptureError('interface', `There is no usable interface "${o.interface}" on ${o.host} (${l.replace(/^tcpdump: /, '')}).`);
  return new RemoteCaptureError('failed', `Remote capture on ${o.host} failed (exit ${code ?? 'signal'}${lines.length ? `: ${lines[lines.length - 1]}` : ''}).`);
}

function parseCounters(stderr: string): RemoteSummary['remote'] {
  const n = (re: RegExp) => { const m = re.exec(stderr); return m ? Number(m[1]) : undefined; };
  const captured = n(/(\d+) packets? captured/), rbf = n(/(\d+) packets? received by filter/), drop = n(/(\d+) packets? dropped by kernel/);
  return captured === undefined || drop === undefined ? null : { captured, receivedByFilter: rbf ?? captured, droppedByKernel: drop };
}

export class RemoteCapture {
  readonly child: ChildProcess;
  interfaces: LiveInterface[] = [];
  /** Resolves once tcpdump on the far end is listening; rejects with a RemoteCaptureError. */
  readonly started: Promise<void>;
  readonly done: Promise<RemoteSummary>;
  private stderr = '';
  private reason: StopReason = 'stopped';
  private spool: PcapngSpool | undefined;
  private pending: LivePacket[] = [];
  private stats = { packets: 0, bytes: 0, capturedBytes: 0 };
  private t0 = performance.now();
  private linktype = 0;
  private snaplen = 0;
  private names: Map<number, string> | undefined;
  private dir: ((f: Uint8Array) => Direction) | null = null;
  private stopRequested = false;
  private ifaceIds = new Map<string, number>();
  private perIface = new Map<number, { packets: number; bytes: number }>();

  constructor(private readonly o: RemoteCaptureOptions) {
    const [cmd, ...pre] = o.ssh ?? ['ssh'];
    const input = remoteInput(o);
    // Its own process group: a terminal's Ctrl-C must not kill ssh before we stop the far end cleanly
    // (closing stdin); if this process dies instead, the closed pipe stops the far end all the same.
    const child = spawn(cmd!, [...pre, ...sshArgs(o)], { stdio: ['pipe', 'pipe', 'pipe'], detached: true });
    this.child = child;
    this.child.stdin!.on('error', () => { /* ssh already gone */ });
    // The far end's script reads its arguments first; the channel then stays open until stop().
    this.child.stdin!.write(input);
    this.child.stderr!.setEncoding('utf8');
    let markStarted!: () => void, failStart!: (e: Error) => void;
    this.started = new Promise((res, rej) => { markStarted = res; failStart = rej; });
    this.started.catch(() => undefined);
    this.child.stderr!.on('data', (s: string) => {
      if (this.stderr.length < 262144) this.stderr += s;
      if (/listening on/.test(this.stderr)) markStarted();
    });
    const timer = setInterval(() => this.flush(), Math.min(200, o.flushIntervalMs ?? 100));
    const limit = o.maxSeconds ? setTimeout(() => { this.reason = 'duration'; this.stop(); }, o.maxSeconds * 1000) : undefined;
    const exited = new Promise<number | null>((r) => this.child.on('close', (code) => r(code)));
    this.done = (async () => {
      let readProblem: string | undefined;
      try {
        const reader = readCapture(child.stdout, { batchSize: 1 });
        for (;;) {
          const r = await reader.next();
          if (r.done) { if (!r.value.complete && this.stats.packets > 0) readProblem = r.value.problems.map((p) => p.message).join('; '); break; }
          this.take(r.value.interfaces, r.value.frames);
        }
      } finally {
        clearInterval(timer);
        clearTimeout(limit);
      }
      const code = await exited;
      this.flush();
      this.spool?.close();
      const remote = parseCounters(this.stderr);
      if (!this.spool && (code !== 0 || !/listening on/.test(this.stderr))) {
        const a = this.stderr.indexOf(LINKS_BEGIN), b = this.stderr.indexOf(LINKS_END);
        const messages = a >= 0 && b > a ? this.stderr.slice(0, a) + this.stderr.slice(b + LINKS_END.length) : this.stderr;
        const err = classifyRemoteFailure(o, code, messages);
        failStart(err);
        throw err;
      }
      markStarted();
      const warnings = readProblem ? [`the stream from ${o.host} ended inside a record: ${readProblem}`] : [];
      if (code !== 0 && !this.stopRequested) {
        const last = this.stderr.trim().split('\n').filter((l) => !/^\d+ packets? /.test(l)).pop();
        warnings.push(`the capture on ${o.host} ended by itself (exit ${code ?? 'signal'}${last ? `: ${last}` : ''})`);
      }
      return {
        ...this.stats, drops: remote?.droppedByKernel ?? null,
        perInterface: this.interfaces.map((i) => ({ name: i.name, ...(this.perIface.get(i.id) ?? { packets: 0, bytes: 0 }) })),
        elapsedMs: performance.now() - this.t0, reason: this.reason, spoolPath: o.spoolPath, spoolBytes: this.spool?.bytes ?? 0, warnings, remote,
        links: this.links(),
      };
    })();
    this.done.catch(() => undefined);
  }

  private take(ifaces: { linktype: number; snaplen: number }[], frames: { tsSec: number; tsNsec: number; caplen: number; len: number; data: Uint8Array }[]): void {
    if (!this.spool && ifaces.length) {
      const i = ifaces[0]!;
      this.linktype = i.linktype;
      this.snaplen = i.snaplen;
      this.spool = new PcapngSpool(this.o.spoolPath, []);
      if (i.linktype === LINKTYPE_LINUX_SLL2) this.names = parseIpLink(this.links());
      this.dir = directionOf(i.linktype, identityFromIpOutput(this.links(), this.o.interface));
    }
    for (const f of frames) {
      if (this.o.maxPackets && this.stats.packets >= this.o.maxPackets) { this.reason = 'count'; this.stop(); return; }
      this.stats.packets++; this.stats.bytes += f.len; this.stats.capturedBytes += f.caplen;
      // The reader's buffers are reused (and Buffer#slice would not copy): keep a real copy.
      const data = new Uint8Array(f.data);
      const ifaceId = this.ifaceFor(data);
      const pi = this.perIface.get(ifaceId) ?? { packets: 0, bytes: 0 };
      pi.packets++; pi.bytes += f.len;
      this.perIface.set(ifaceId, pi);
      this.pending.push({ frame: this.stats.packets, ifaceId, dir: this.dir ? this.dir(data) : 0, tsSec: f.tsSec, tsNsec: f.tsNsec, caplen: f.caplen, len: f.len, data });
    }
    if (this.pending.length >= 1000) this.flush();
  }

  /**
   * One spool interface per far-end interface: an `any` capture (SLL2) is split by the ifindex in each
   * frame and named from `ip -o link`, as dumpcap would have written it; otherwise the one named interface.
   */
  private ifaceFor(frame: Uint8Array): number {
    const index = this.names ? sll2InterfaceIndex(frame) : -1;
    const name = index >= 0 ? this.names!.get(index) : undefined;
    const key = name ?? this.o.interface;
    let id = this.ifaceIds.get(key);
    if (id === undefined) {
      const where = `${this.o.user ? this.o.user + '@' : ''}${this.o.host}`;
      id = this.spool!.addInterface({ name: key, description: `tcpdump -i ${this.o.interface} on ${where} over SSH`, linktype: this.linktype, snaplen: this.snaplen });
      this.ifaceIds.set(key, id);
      this.interfaces.push({ id, name: key, linktype: this.linktype, snaplen: this.snaplen });
    }
    return id;
  }

  /** Packets received so far (each is in the spool once its batch is flushed). */
  get packets(): number { return this.stats.packets; }

  /** The far end's `ip -o link` output, once it has arrived on stderr. */
  links(): string {
    const a = this.stderr.indexOf(LINKS_BEGIN), b = this.stderr.indexOf(LINKS_END);
    return a >= 0 && b > a ? this.stderr.slice(a + LINKS_BEGIN.length, b).trim() : '';
  }

  private flush(): void {
    if (!this.spool || this.pending.length === 0) return;
    const packets = this.pending;
    this.pending = [];
    this.spool.append(packets);
    this.o.onBatch?.({ interfaces: this.interfaces, packets });
  }

  /** Closes our end of the channel: the far end stops tcpdump with SIGINT, which flushes and reports its counters. */
  stop(): Promise<RemoteSummary> {
    this.stopRequested = true;
    if (this.child.stdin && !this.child.stdin.destroyed) this.child.stdin.end();
    return this.done;
  }
}
