// The guided test ("Run a test", issue 16 §2) as the main process runs it for a window: one test at a
// time in the whole app, in a folder of its own under the temp directory, with progress and the end
// relayed to the window that started it and to no other. The renderer then fetches the collected
// files by the names the end event listed; nothing it sends is ever used as a path as such.
// No `electron` import (like capture-manager.ts): windows are numeric owner ids, so unit tests drive
// this under plain Node with the real engine.
import { randomUUID } from 'node:crypto';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ProbeEnd, ProbeHooks, ProbeOptions, ProbeResult, ProbeStep, ProbeTestKind as EngineTestKind } from '../probe/types.ts';
import {
  eventChannelOf,
  isTrustedSenderUrl,
  type ProbeEndRequest,
  type ProbeEvent,
  type ProbeHostFileNames,
  type ProbeOutcome,
  type ProbeProgressInfo,
  type ProbeStartRequest,
  type ProbeStepName,
  type ProbeTestKind,
} from '../../shared/ipc/contract.ts';
import { visible } from '../../shared/util/shell.ts';
import { UserFacingError } from './ipc-dispatch.ts';

// The contract mirrors the engine's names (shared/ cannot import electron/): these lines fail to
// compile the day the two lists drift apart.
type Same<X, Y> = [X] extends [Y] ? ([Y] extends [X] ? true : false) : false;
const KINDS_MATCH: Same<ProbeTestKind, EngineTestKind> = true;
const STEPS_MATCH: Same<ProbeStepName, ProbeStep> = true;
void KINDS_MATCH;
void STEPS_MATCH;

/** The engine: electron/probe's runProbe, or a stand-in with the same contract. */
export type ProbeRunner = (o: ProbeOptions, hooks: ProbeHooks) => Promise<ProbeResult>;

export interface ProbeManagerOptions {
  run: ProbeRunner;
  /**
   * The engine's own check of its options (electron/probe checkOptions), run before a test is
   * accepted so that what it refuses is the answer to probe.start rather than a failed test.
   */
  check?: (o: ProbeOptions) => unknown;
  /** Delivers an event to the window with this owner id; a gone window is the caller's to ignore. */
  send: (ownerId: number, event: ProbeEvent) => void;
  /** Parent of the per-test folders; default the system temp directory. */
  tempRoot?: string;
  /**
   * Calls `gone` when the owner's window closes, crashes or loads another page; returns a function
   * that stops watching. The test is cancelled then (nobody is left to see it).
   */
  watchOwner?: (ownerId: number, gone: () => void) => () => void;
  /** What every SSH end gets besides the request (tests: their own known_hosts, a short timeout). */
  ssh?: { knownHostsFile?: string; connectTimeoutSec?: number };
  /** Upper bound for the test command on A; the engine's default otherwise. */
  testTimeoutSec?: number;
}

/** Bytes one probe.file may return (they are copied through IPC). Captures are headers only. */
export const MAX_PROBE_FILE_BYTES = 512 * 1024 * 1024;
const MAX_DETAIL = 400;
const MAX_TEST_OUTPUT = 4000;

interface Probe {
  id: string;
  ownerId: number;
  dir: string;
  controller: AbortController;
  /** Settles once the end event has been sent. */
  done: Promise<void>;
  /** Names the renderer may fetch, set when the test has ended. */
  files?: Set<string>;
  /** The owner's window went away: the folder goes as soon as the test has ended. */
  orphaned: boolean;
}

/** One line for a window: control and bidi characters made visible, bounded. */
function line(s: string, max = MAX_DETAIL): string {
  const v = visible(s.split(/\r?\n/).find((l) => l.trim() !== '') ?? s);
  return v.length > max ? `${v.slice(0, max - 1)}…` : v;
}

/** `user@host:port` as the engine takes it (an IPv6 host in brackets). */
export function destinationOf(end: { host: string; user?: string; port?: number }): string {
  const host = end.host.includes(':') ? `[${end.host}]` : end.host;
  return `${end.user !== undefined ? `${end.user}@` : ''}${host}${end.port !== undefined ? `:${end.port}` : ''}`;
}

function engineEnd(end: ProbeEndRequest, req: ProbeStartRequest, ssh: ProbeManagerOptions['ssh']): ProbeEnd {
  if (end.kind === 'local') return { kind: 'local', sudo: end.sudo };
  const out: ProbeEnd = { kind: 'ssh', destination: destinationOf(end), sudo: end.sudo };
  if (req.identityFile !== undefined) out.identityFile = req.identityFile;
  if (ssh?.knownHostsFile !== undefined) out.knownHostsFile = ssh.knownHostsFile;
  return out;
}

/** The engine's options for a validated request, writing into `outDir`. */
export function probeOptionsFor(req: ProbeStartRequest, outDir: string, o: Pick<ProbeManagerOptions, 'ssh' | 'testTimeoutSec'> = {}): ProbeOptions {
  const opts: ProbeOptions = { a: engineEnd(req.a, req, o.ssh), b: engineEnd(req.b, req, o.ssh), target: req.target, test: req.test, outDir };
  if (req.port !== undefined) opts.port = req.port;
  if (req.snaplen !== undefined) opts.snaplen = req.snaplen;
  if (req.settleSec !== undefined) opts.settleMs = req.settleSec * 1000;
  if (o.ssh?.connectTimeoutSec !== undefined) opts.connectTimeoutSec = o.ssh.connectTimeoutSec;
  if (o.testTimeoutSec !== undefined) opts.testTimeoutSec = o.testTimeoutSec;
  return opts;
}

const FILE_NAME = /^(?:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}\/)?[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;

/**
 * A file the engine reported, as a name relative to the test's folder, or '' when it is not a plain
 * file name inside it (never offered to the renderer then).
 */
export function fileNameIn(dir: string, file: string): string {
  if (!file) return '';
  const rel = path.isAbsolute(file) ? path.relative(dir, file) : path.normalize(file);
  const name = rel.split(path.sep).join('/');
  return FILE_NAME.test(name) && !name.split('/').some((p) => p === '.' || p === '..') ? name : '';
}

/** The end as the renderer sees it: names instead of paths, one-line texts, no analysis object. */
export function outcomeOf(dir: string, r: ProbeResult): ProbeOutcome {
  const host = (h: ProbeResult['files']['A'] | undefined): ProbeHostFileNames => ({
    capture: fileNameIn(dir, h?.capture ?? ''),
    links: fileNameIn(dir, h?.links ?? ''),
    evidence: (h?.evidence ?? []).map((f) => fileNameIn(dir, f)).filter((f) => f !== ''),
  });
  const out: ProbeOutcome = { files: { A: host(r.files?.A), B: host(r.files?.B) } };
  if (r.test) {
    // Line breaks stay (the panel shows the output as lines); everything else a terminal acts on is made visible.
    const output = r.test.output.split(/\r?\n/).map(visible).join('\n');
    out.test = { command: line(r.test.command, 1000), exitCode: r.test.exitCode, ok: r.test.ok, output: output.length > MAX_TEST_OUTPUT ? output.slice(-MAX_TEST_OUTPUT) : output };
  }
  if (r.failed) out.failed = { step: r.failed.step, ...(r.failed.host && { host: r.failed.host }), message: line(r.failed.message) };
  if (r.cancelled) out.cancelled = true;
  return out;
}

export class ProbeManager {
  private readonly probes = new Map<string, Probe>();
  private running: Probe | undefined;
  /** Set from the first line of start() until the test is registered: two quick starts make one test. */
  private starting = false;

  constructor(private readonly opts: ProbeManagerOptions) {}

  /** The test now running, if any (its id). */
  current(): string | undefined {
    return this.running?.id;
  }

  async start(ownerId: number, req: ProbeStartRequest): Promise<{ probeId: string }> {
    if (this.running || this.starting) throw new UserFacingError('A test is already running; cancel it or wait for it to end first.');
    this.starting = true;
    try {
      return await this.launch(ownerId, req);
    } finally {
      this.starting = false;
    }
  }

  private async launch(ownerId: number, req: ProbeStartRequest): Promise<{ probeId: string }> {
    // Earlier tests' folders go now: their files were imported when they ended, and only one test's
    // files are offered at a time.
    await this.removeFinished();
    const root = this.opts.tempRoot ?? os.tmpdir();
    if (this.opts.check) {
      try {
        this.opts.check(probeOptionsFor(req, path.join(root, 'tandem-probe-check'), this.opts));
      } catch (err) {
        throw new UserFacingError(line(err instanceof Error ? err.message : String(err)));
      }
    }
    const dir = await fs.mkdtemp(path.join(root, 'tandem-probe-')); // mode 0700
    const id = randomUUID();
    const controller = new AbortController();
    const probe: Probe = { id, ownerId, dir, controller, done: Promise.resolve(), orphaned: false };
    this.probes.set(id, probe);
    this.running = probe;
    const unwatch = this.opts.watchOwner?.(ownerId, () => {
      probe.orphaned = true;
      controller.abort();
    });
    // The step that last said "running" is the one a thrown error belongs to.
    let lastStep: ProbeStepName = 'connect';
    let lastHost: 'A' | 'B' | undefined;
    const send = (ev: ProbeEvent) => {
      if (probe.orphaned) return;
      try {
        this.opts.send(ownerId, ev);
      } catch {
        // A window that cannot take the event any more: the test carries on and ends as usual.
      }
    };
    const hooks: ProbeHooks = {
      signal: controller.signal,
      onProgress: (p) => {
        if (p.state === 'running') {
          lastStep = p.step;
          lastHost = p.host;
        }
        const progress: ProbeProgressInfo = { step: p.step, state: p.state };
        if (p.host) progress.host = p.host;
        if (p.detail) progress.detail = line(p.detail);
        send({ type: 'progress', probeId: id, progress });
      },
    };
    let run: Promise<ProbeResult>;
    try {
      run = this.opts.run(probeOptionsFor(req, dir, this.opts), hooks);
    } catch (err) {
      run = Promise.reject(err);
    }
    probe.done = run
      .then(
        (r) => outcomeOf(dir, r),
        (err: unknown): ProbeOutcome => {
          // The engine reports failures in its result; a throw is a bug or a spawn failure. Either
          // way the window gets the same kind of end, naming the step it happened in.
          const message = err instanceof Error ? err.message : String(err);
          const outcome: ProbeOutcome = { files: { A: { capture: '', links: '', evidence: [] }, B: { capture: '', links: '', evidence: [] } } };
          if (controller.signal.aborted) outcome.cancelled = true;
          else outcome.failed = { step: lastStep, ...(lastHost && { host: lastHost }), message: line(message || 'the test stopped without a reason') };
          return outcome;
        },
      )
      .then(async (outcome) => {
        probe.files = new Set([outcome.files.A, outcome.files.B].flatMap((h) => [h.capture, h.links, ...h.evidence]).filter((f) => f !== ''));
        if (this.running === probe) this.running = undefined;
        unwatch?.();
        send({ type: 'end', probeId: id, outcome });
        if (probe.orphaned) await this.remove(probe);
      })
      .catch(() => undefined); // a folder that would not go is left to the temp directory's own cleanup
    return { probeId: id };
  }

  /** Asks the test to stop on both hosts; its end event follows. Ending an ended test is fine. */
  cancel(ownerId: number, probeId: string): void {
    const probe = this.probes.get(probeId);
    if (!probe || probe.ownerId !== ownerId) throw new UserFacingError('That test was not started in this window.');
    probe.controller.abort();
  }

  /**
   * One collected file's bytes. Only names this test's end event listed are served, only from inside
   * its folder (after symlinks are resolved), only regular files, and only up to MAX_PROBE_FILE_BYTES.
   */
  async readFile(ownerId: number, probeId: string, name: string): Promise<Uint8Array> {
    const probe = this.probes.get(probeId);
    if (!probe || probe.ownerId !== ownerId) throw new UserFacingError('That test was not started in this window.');
    if (!probe.files) throw new UserFacingError('The test has not ended yet.');
    if (!probe.files.has(name)) throw new UserFacingError(`The test did not collect a file named "${visible(name)}".`);
    const root = await fs.realpath(probe.dir);
    let real: string;
    try {
      real = await fs.realpath(path.join(probe.dir, ...name.split('/')));
    } catch {
      throw new UserFacingError(`${visible(name)} is no longer there.`);
    }
    if (!real.startsWith(root + path.sep)) throw new UserFacingError(`${visible(name)} is not inside the test's folder.`);
    const handle = await fs.open(real, 'r');
    try {
      const stat = await handle.stat();
      if (!stat.isFile()) throw new UserFacingError(`${visible(name)} is not a regular file.`);
      if (stat.size > MAX_PROBE_FILE_BYTES) throw new UserFacingError(`${visible(name)} is ${Math.ceil(stat.size / 2 ** 20)} MiB, more than the ${MAX_PROBE_FILE_BYTES / 2 ** 20} MiB a test file may have.`);
      const buf = await handle.readFile();
      // A view's whole backing buffer would cross IPC: hand over exactly the file's bytes.
      return buf.byteOffset === 0 && buf.byteLength === buf.buffer.byteLength ? new Uint8Array(buf.buffer, 0, buf.byteLength) : new Uint8Array(buf);
    } finally {
      await handle.close();
    }
  }

  /** The app quits: every test is cancelled, waited for, and every folder removed. */
  async disposeAll(): Promise<void> {
    const all = [...this.probes.values()];
    for (const p of all) {
      p.orphaned = true;
      p.controller.abort();
    }
    await Promise.allSettled(all.map((p) => p.done));
    await Promise.allSettled(all.map((p) => this.remove(p)));
  }

  /** Ends when the test has sent its end event (for callers that wait, such as tests). */
  async settled(probeId: string): Promise<void> {
    await this.probes.get(probeId)?.done;
  }

  private async removeFinished(): Promise<void> {
    await Promise.allSettled([...this.probes.values()].filter((p) => p.files).map((p) => this.remove(p)));
  }

  private async remove(p: Probe): Promise<void> {
    this.probes.delete(p.id);
    await fs.rm(p.dir, { recursive: true, force: true });
  }
}

/** The part of a webContents that event delivery needs. */
export interface ProbeEventTarget {
  isDestroyed(): boolean;
  getURL(): string;
  send(channel: string, payload: ProbeEvent): void;
}

/** Delivers a test's event to its window while that window still shows our own page. */
export function deliverProbeEvent(target: ProbeEventTarget | undefined, event: ProbeEvent): boolean {
  if (!target || target.isDestroyed() || !isTrustedSenderUrl(target.getURL())) return false;
  target.send(eventChannelOf('probe'), event);
  return true;
}
