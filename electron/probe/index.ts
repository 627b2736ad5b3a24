// The guided test's engine (issue 16 §2): connect to both ends, collect their evidence, capture on both
// while A makes one test connection to the target, collect counters and log lines again, and analyse it
// all as `tandem analyze` would. Node only (child_process); the CLI and the app's main process run it.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { RemoteCapture, classifyRemoteFailure, type RemoteSummary } from '../capture/remote.ts';
import { MAX_TEXT_CHARS, detectAndParse, parseWgDump } from '../../shared/evidence/index.ts';
import { LINKTYPE_LINUX_SLL2, parseIpLink } from '../../shared/capture-file/links.ts';
import { visible } from '../../shared/util/shell.ts';
import { analyzeArgs, analyzeProbe } from './analyze.ts';
import { isSshFailure, remoteOptionsFor, runScript, sshFailure, type RunResult } from './host.ts';
import {
  EVIDENCE_AFTER, EVIDENCE_BEFORE, SectionSplitter, blankWgDump, blankXfrmKeys, buildFilter, checkOptions, evidenceAfterScript,
  evidenceBeforeScript, evidenceInput, flowFor, logOffsets, parseSshConnection, parseTestOutput, stderrBySection, testInput, testScript,
  ProbeInputError, type EvidenceCommand, type Section,
} from './script.ts';
import { PROBE_STEPS, type ProbeEnd, type ProbeHooks, type ProbeHostFiles, type ProbeOptions, type ProbeProgress, type ProbeResult, type ProbeStep } from './types.ts';

export { PROBE_STEPS, ProbeInputError };
export type * from './types.ts';

type Host = 'A' | 'B';
const HOSTS: readonly Host[] = ['A', 'B'];

/** A step that failed: which one, on which host, and one line for people. */
class StepFailure extends Error {
  constructor(readonly step: ProbeStep, readonly host: Host | undefined, message: string) { super(message); }
}
class Cancelled extends Error {}

const oneLine = (s: string, max = 300) => {
  const t = visible(s.replace(/\s*\n\s*/g, ' ').trim());
  return t.length > max ? t.slice(0, max - 1) + '…' : t;
};

interface LocalCapture { child: ChildProcess; done: Promise<{ code: number | null; stderr: string }>; started: Promise<void> }

/**
 * Runs the probe. Options are checked first (a ProbeInputError is thrown for a bad target, port,
 * destination or interface, before anything runs). Everything after that ends in the result: a
 * failed step names itself and its host, a cancel sets `cancelled`; files collected so far stay in outDir.
 */
export async function runProbe(o: ProbeOptions, hooks: ProbeHooks = {}): Promise<ProbeResult> {
  const target = checkOptions(o);
  const outDir = resolve(o.outDir);
  try {
    for (const h of ['A', 'B']) mkdirSync(join(outDir, h), { recursive: true });
  } catch (e) {
    throw new ProbeInputError(`cannot create the output folder ${visible(outDir)} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  const ends: Record<Host, ProbeEnd> = { A: o.a, B: o.b };
  const files: Record<Host, ProbeHostFiles> = { A: { capture: '', links: '', evidence: [] }, B: { capture: '', links: '', evidence: [] } };
  const result: ProbeResult = { outDir, files };
  const t0 = Date.now();
  const log: Array<ProbeProgress & { atMs: number }> = [];
  const notes: string[] = [];
  const counters: Partial<Record<Host, RemoteSummary['remote']>> = {};
  let current: ProbeStep = 'connect';
  const progress = (p: ProbeProgress) => {
    const q = { ...p, ...(p.detail !== undefined && { detail: oneLine(p.detail, 400) }) };
    log.push({ ...q, atMs: Date.now() - t0 });
    try { hooks.onProgress?.(q); } catch { /* a listener's bug must not stop the probe */ }
  };
  // One controller for everything the probe starts; the caller's signal aborts it.
  const ctl = new AbortController();
  const onCallerAbort = () => ctl.abort();
  if (hooks.signal?.aborted) ctl.abort(); else hooks.signal?.addEventListener('abort', onCallerAbort, { once: true });
  const checkCancel = () => { if (ctl.signal.aborted) throw new Cancelled(); };
  const connectTimeoutSec = o.connectTimeoutSec ?? 10;
  const marker = 'TDM' + randomBytes(12).toString('hex');
  const where = (h: Host) => (ends[h].kind === 'local' ? 'this host' : visible(ends[h].destination ?? ''));
  const captures: Partial<Record<Host, RemoteCapture | LocalCapture>> = {};
  const sshSessions: Array<{ client: string; server: string; port: number }> = [];
  let testStartEpoch = Math.floor(Date.now() / 1000);
  let analyzeList: string[] | undefined;
  let captureFilter: string | undefined;
  /** Each host's interface names (its `ip -o link`), to keep other namespaces' WireGuard devices out of its wg output. */
  const linkNames: Partial<Record<Host, Set<string>>> = {};
  /** Sizes of the classic log files before the test, per host (evidence-after reads from there on). */
  const logSizes: Partial<Record<Host, number[]>> = {};

  /** Runs one script; ssh failures and time-outs become a StepFailure of this step and host. */
  const run = async (h: Host, script: string, input: string, timeoutMs: number, onStdout?: (b: Buffer) => void, partial = false): Promise<RunResult> => {
    const r = await runScript(ends[h], script, { input, timeoutMs, signal: ctl.signal, connectTimeoutSec, ...(onStdout && { onStdout }) });
    // partial: the caller keeps what arrived before a cancel or time-out, then ends the step itself.
    if (partial && (r.cancelled || r.timedOut)) return r;
    if (r.cancelled) throw new Cancelled();
    if (isSshFailure(ends[h], r)) throw new StepFailure(current, h, sshFailure(ends[h], r));
    if (r.timedOut) throw new StepFailure(current, h, `${where(h)} did not finish within ${Math.round(timeoutMs / 1000)} s`);
    return r;
  };

  const perHost = async (step: ProbeStep, fn: (h: Host) => Promise<string>): Promise<void> => {
    current = step;
    checkCancel();
    const outcomes = await Promise.allSettled(HOSTS.map(async (h) => {
      progress({ step, host: h, state: 'running', detail: where(h) });
      try {
        const detail = await fn(h);
        progress({ step, host: h, state: 'done', detail });
      } catch (e) {
        progress({ step, host: h, state: 'failed', detail: e instanceof Cancelled ? 'cancelled' : e instanceof Error ? e.message : String(e) });
        if (e instanceof Cancelled || e instanceof StepFailure) throw e;
        throw new StepFailure(step, h, e instanceof Error ? e.message : String(e));
      }
    }));
    // Cancel wins over a failure it caused; otherwise A's failure is named before B's.
    if (ctl.signal.aborted) throw new Cancelled();
    for (const x of outcomes) if (x.status === 'rejected') throw x.reason;
  };

  try {
    // 1. connect: ssh works (key or agent), tcpdump exists and may capture on the interface, sudo -n when asked.
    await perHost('connect', async (h) => {
      const e = ends[h];
      let out = '';
      const r = await run(h, CONNECT_SCRIPT, [marker, e.sudo ? '1' : '0', e.iface ?? 'any'].join('\n') + '\n', (connectTimeoutSec + 20) * 1000,
        (b) => { if (out.length < 65536) out += b.toString('utf8'); });
      return connectVerdict(e, out, r.stderr, marker, where(h));
    });

    // 2. evidence-before: one session per host, every command's output to its own file.
    await perHost('evidence-before', async (h) => collect(h, EVIDENCE_BEFORE, evidenceBeforeScript(), 0));

    // 3. capture-start on both ends with a filter from the target, the test port and the tunnels' ports.
    current = 'capture-start';
    checkCancel();
    const wgPorts: number[] = [];
    for (const h of HOSTS) {
      const f = files[h].evidence.find((x) => x.endsWith('/wg-dump.txt'));
      if (!f) continue;
      const d = parseWgDump(readFileSync(f, 'utf8')).facts;
      for (const i of d.interfaces) if (i.listenPort) wgPorts.push(i.listenPort);
      for (const p of d.peers) if (p.endpoint) wgPorts.push(p.endpoint.port);
    }
    const filter = captureFilter = buildFilter({ target: target.addr, test: o.test, ...(o.port !== undefined && { port: o.port }), wgPorts, sshSessions });
    await perHost('capture-start', async (h) => {
      const e = ends[h];
      const iface = e.iface ?? 'any';
      if (e.kind === 'ssh') {
        const spoolPath = join(outDir, h, 'capture.pcapng');
        const rc = new RemoteCapture({ ...remoteOptionsFor(e), interface: iface, filter, snaplen: o.snaplen ?? 256, bufferKiB: 8192, spoolPath, connectTimeoutSec });
        captures[h] = rc;
        files[h].capture = spoolPath;
        await raceStart(rc.started, 30_000, ctl.signal, () => `${where(h)}: tcpdump did not start within 30 s`);
      } else {
        const path = join(outDir, h, 'capture.pcap');
        const lc = startLocalCapture(e, iface, filter, o.snaplen ?? 256, path);
        captures[h] = lc;
        files[h].capture = path;
        await raceStart(lc.started, 30_000, ctl.signal, () => 'tcpdump did not start within 30 s on this host');
      }
      return `tcpdump -i ${iface} capturing (${filter.length > 120 ? filter.slice(0, 117) + '…' : filter})`;
    });

    // 4. The test connection from A.
    current = 'test';
    checkCancel();
    testStartEpoch = Math.floor(Date.now() / 1000) - 2;
    progress({ step: 'test', host: 'A', state: 'running', detail: `${o.test}${o.port ? ':' + o.port : ''} to ${target.addr}` });
    const timeoutSec = o.testTimeoutSec ?? 10;
    let tout = '';
    try {
      const r = await run('A', testScript(o.test), testInput(marker, target.addr, o.port, timeoutSec, target.family), (timeoutSec * 2 + 20) * 1000, (b) => { if (tout.length < 65536) tout += b.toString('utf8'); });
      const t = parseTestOutput(tout, marker);
      if (t.form === '') throw new StepFailure('test', 'A', `no test tool on ${where('A')}${r.stderr.trim() ? ': ' + oneLine(r.stderr) : ''}`);
      const output = [t.output, r.stderr.trim()].filter(Boolean).join('\n').split('\n').slice(-10).join('\n');
      result.test = { command: visible(t.form), exitCode: t.status, ok: t.status === 0, output: visible(output).slice(-4000) };
      progress({ step: 'test', host: 'A', state: 'done', detail: `${t.status === 0 ? 'succeeded' : `failed (exit ${t.status ?? '?'})`}: ${t.form}${output ? ' — ' + oneLine(output, 160) : ''}` });
    } catch (e) {
      progress({ step: 'test', host: 'A', state: 'failed', detail: e instanceof Cancelled ? 'cancelled' : (e as Error).message });
      throw e;
    }

    // 5. settle: replies, retransmissions and handshake retries still arrive.
    current = 'settle';
    checkCancel();
    const settle = o.settleMs ?? 3000;
    progress({ step: 'settle', state: 'running', detail: `${(settle / 1000).toFixed(1)} s` });
    await sleep(settle, ctl.signal);
    checkCancel();
    progress({ step: 'settle', state: 'done' });

    // 6. capture-stop on both.
    await perHost('capture-stop', async (h) => stopCapture(h));
    // A host that saw nothing of the test is a finding, not a failure: tcpdump writes its file header only
    // with the first packet, so give such a host an empty capture the analysis reads as "nothing seen".
    for (const h of ['A', 'B'] as const) {
      const f = files[h].capture;
      if (f === '' || (existsSync(f) && statSync(f).size > 0)) continue;
      writeFileSync(f, emptyPcap((ends[h].iface ?? 'any') === 'any' ? LINKTYPE_LINUX_SLL2 : LINKTYPE_ETHERNET, o.snaplen ?? 256));
      notes.push(`${h}: no packet was captured during the test`);
    }

    // 7. evidence-after: counters and log lines.
    await perHost('evidence-after', async (h) => collect(h, EVIDENCE_AFTER, evidenceAfterScript(), testStartEpoch));

    // 8. analyze.
    current = 'analyze';
    checkCancel();
    progress({ step: 'analyze', state: 'running' });
    const flow = flowFor(o.test, target.addr, o.port);
    const input = { A: files.A, B: files.B, flow };
    analyzeList = analyzeArgs(input);
    try {
      const { result: analysis, warnings } = await analyzeProbe(input, ctl.signal);
      notes.push(...warnings);
      result.analysis = analysis;
      writeFileSync(join(outDir, 'analysis.json'), JSON.stringify(analysis, null, 2) + '\n');
      const v = analysis.verdict;
      progress({ step: 'analyze', state: 'done', detail: `${v.status}${v.first_missing ? ', first missing ' + v.first_missing : ''}${v.class && v.class !== 'none' ? ` (${v.class}, fix on ${v.host})` : ''}` });
    } catch (e) {
      if (ctl.signal.aborted) throw new Cancelled();
      throw new StepFailure('analyze', undefined, (e as Error).message);
    }
  } catch (e) {
    if (e instanceof Cancelled || ctl.signal.aborted) result.cancelled = true;
    else if (e instanceof StepFailure) result.failed = { step: e.step, ...(e.host && { host: e.host }), message: oneLine(e.message) };
    else result.failed = { step: current, message: oneLine(e instanceof Error ? e.message : String(e)) };
    // Later steps did not run.
    const at = PROBE_STEPS.indexOf(current);
    for (const s of PROBE_STEPS.slice(log.some((x) => x.step === current) ? at + 1 : at)) progress({ step: s, state: 'skipped' });
  } finally {
    hooks.signal?.removeEventListener('abort', onCallerAbort);
    // Captures still running (failure or cancel): stop them on both hosts, keep what they wrote.
    await Promise.all(HOSTS.map(async (h) => { if (captures[h]) await stopCapture(h).catch(() => ''); }));
    writeProbeJson();
  }
  return result;

  // --- helpers that share the probe's state ---

  async function collect(h: Host, list: readonly EvidenceCommand[], script: string, since: number): Promise<string> {
    const splitter = new SectionSplitter(marker);
    const r = await run(h, script, evidenceInput(marker, ends[h].sudo === true, target.family, since, logSizes[h]), 120_000, (b) => splitter.push(b), true);
    // A section still open when the run was cut short is incomplete: only finished ones are saved.
    const sections = splitter.end().filter((s) => !(r.cancelled || r.timedOut) || s.status !== null);
    const errs = stderrBySection(r.stderr, marker);
    if (r.cancelled || r.timedOut) {
      save(h, list, sections, errs, since);
      if (r.cancelled) throw new Cancelled();
      throw new StepFailure(current, h, `${where(h)} did not finish within 120 s (the ${sections.length} outputs that arrived are kept)`);
    }
    if (sections.length === 0) throw new StepFailure(current, h, `no output from ${where(h)}${r.stderr.trim() ? ': ' + oneLine(r.stderr) : ` (exit ${r.code ?? 'signal'})`}`);
    return save(h, list, sections, errs, since);
  }

  /** Writes each finished section to its file (secrets removed, checked by the evidence reader); returns the step's one-line detail. */
  function save(h: Host, list: readonly EvidenceCommand[], sections: Section[], errs: Map<number, string>, since: number): string {
    const saved: string[] = [], missing: string[] = [], failed: string[] = [];
    const why = (id: number, status: number | null) => oneLine(complaint(errs.get(id) ?? '') ?? `exit ${status ?? 'cut off'}`, 100);
    for (const s of sections) {
      const c = list.find((x) => x.id === s.id);
      if (!c) continue;
      const name = c.command.split(' ').slice(0, c.command.startsWith('ip ') ? 3 : 2).join(' ');
      if (s.status === 127) { missing.push(c.tool); continue; }
      let text = s.text.toString('utf8');
      if (c.file === 'log-sizes.txt') { logSizes[h] = logOffsets(text); continue; }
      if (c.file === 'ssh-connection.txt') {
        const sc = parseSshConnection(text);
        if (sc) sshSessions.push(sc);
        continue;
      }
      if (s.dropped > 0) notes.push(`${h} ${c.command}: output cut at 16 MiB (${s.dropped} bytes dropped)`);
      if (/^wg show all dump/.test(c.command)) text = blankWgDump(text);
      if (/^wg show all/.test(c.command) && linkNames[h]) text = onlyOwnInterfaces(text, linkNames[h]);
      if (/^ip xfrm state/.test(c.command)) text = blankXfrmKeys(text);
      if (text.trim() === '') {
        if (s.status !== 0 && s.status !== 1) failed.push(`${name} (${why(s.id, s.status)})`);
        continue;
      }
      if (s.status !== 0 && !c.file.startsWith('ike-log')) {
        failed.push(`${name} (${why(s.id, s.status)})`);
        if (s.status === null) continue;
      }
      let body = c.echo ? `$ ${c.command.replace(/\$T/, String(since))}\n${text}` : text;
      // The evidence reader (and `tandem analyze`) take at most MAX_TEXT_CHARS: the echoed line must not push a full output past it.
      if (body.length > MAX_TEXT_CHARS) { body = body.slice(0, MAX_TEXT_CHARS); if (s.dropped === 0) notes.push(`${h} ${c.command}: output cut at 16 MiB`); }
      const path = join(outDir, h, c.file);
      if (c.file === 'ip-link.txt') {
        linkNames[h] = new Set(parseIpLink(text).values());
        writeFileSync(path, body);
        files[h].links = path;
        continue;
      }
      try {
        detectAndParse(body, c.file);
      } catch {
        // Kept for people to read, but not handed to the analysis.
        writeFileSync(path + '.unread', body);
        notes.push(`${h} ${c.command}: output not recognised as evidence (kept as ${c.file}.unread)`);
        continue;
      }
      writeFileSync(path, body);
      files[h].evidence.push(path);
      saved.push(c.file.replace(/\.(?:after\.)?(?:txt|json)$/, ''));
    }
    for (const d of firewallReading(files[h].evidence)) {
      files[h].evidence = files[h].evidence.filter((f) => f !== d.path);
      renameSync(d.path, d.path + '.unread');
      notes.push(`${h}: ${d.why} (kept as ${basename(d.path)}.unread)`);
    }
    if (failed.length) notes.push(`${h}: ${failed.join('; ')}`);
    return `${saved.length} files${saved.length ? ` (${saved.join(', ')})` : ''}${missing.length ? `; not installed: ${[...new Set(missing)].join(', ')}` : ''}${failed.length ? `; failed: ${failed.join('; ')}` : ''}`;
  }

  async function stopCapture(h: Host): Promise<string> {
    const c = captures[h];
    if (!c) return 'no capture';
    delete captures[h];
    if (c instanceof RemoteCapture) {
      const killer = setTimeout(() => { try { process.kill(-c.child.pid!, 'SIGTERM'); } catch { /* gone */ } }, 15_000);
      try {
        const s = await c.stop();
        counters[h] = s.remote;
        if (!files[h].links && s.links) {
          const p = join(outDir, h, 'ip-link.txt');
          writeFileSync(p, s.links.split('\n').filter((l) => /^\d+:\s/.test(l) && !/\sinet6?\s/.test(l)).join('\n') + '\n');
          files[h].links = p;
        }
        for (const w of s.warnings) notes.push(`${h}: ${w}`);
        return `${s.packets} packets${s.remote ? `, ${s.remote.droppedByKernel} dropped by kernel` : ''}`;
      } catch (e) {
        throw new StepFailure('capture-stop', h, (e as Error).message);
      } finally { clearTimeout(killer); }
    }
    try { process.kill(-c.child.pid!, 'SIGINT'); } catch { /* gone */ }
    const killer = setTimeout(() => { try { process.kill(-c.child.pid!, 'SIGKILL'); } catch { /* gone */ } }, 10_000);
    const { stderr } = await c.done;
    clearTimeout(killer);
    const n = (re: RegExp) => { const m = re.exec(stderr); return m ? Number(m[1]) : undefined; };
    const captured = n(/(\d+) packets? captured/), drop = n(/(\d+) packets? dropped by kernel/), rbf = n(/(\d+) packets? received by filter/);
    counters[h] = captured === undefined || drop === undefined ? null : { captured, receivedByFilter: rbf ?? captured, droppedByKernel: drop };
    return captured === undefined ? 'stopped' : `${captured} packets, ${drop ?? '?'} dropped by kernel`;
  }

  function writeProbeJson(): void {
    const v = result.analysis?.verdict;
    const doc = {
      tool: 'tandem probe', version: 1,
      // No secret is ever an option (keys are files, passwords are never asked for): the options as given.
      options: { ...o, outDir },
      started: new Date(t0).toISOString(), finished: new Date().toISOString(),
      steps: log,
      filter: captureFilter,
      test: result.test,
      counters,
      files,
      analyze: analyzeList ? { args: analyzeList, json: join(outDir, 'analysis.json') } : undefined,
      verdict: v ? { status: v.status, class: v.class, host: v.host, first_missing: v.first_missing, summary: v.summary } : undefined,
      failed: result.failed,
      cancelled: result.cancelled === true,
      notes,
    };
    try { writeFileSync(join(outDir, 'probe.json'), JSON.stringify(doc, null, 2) + '\n'); } catch { /* the folder went away: the result still returns */ }
  }
}

// ---------------------------------------------------------------------------------------------

/**
 * The connect check's script (same framing rules as the evidence scripts): says it is there, whether
 * tcpdump exists, whether `sudo -n` works when asked, and whether tcpdump may open the interface
 * (`tcpdump -d` opens it and compiles a filter without capturing).
 */
const CONNECT_SCRIPT = [
  'IFS= read -r M && IFS= read -r S && IFS= read -r i || exit 125',
  'exec </dev/null',
  'PATH=$PATH:/usr/sbin:/sbin:/usr/local/sbin',
  'echo "$M ok"',
  'if ! command -v tcpdump >/dev/null 2>&1; then echo "$M no-tcpdump"; exit 0; fi',
  'P=',
  'if [ "$S" = 1 ]; then if sudo -n true >/dev/null; then P="sudo -n"; else echo "$M no-sudo"; exit 0; fi; fi',
  '$P tcpdump -i "$i" -d udp >/dev/null',
  'echo "$M tcpdump $?"',
].join('; ');

function connectVerdict(e: ProbeEnd, out: string, stderr: string, marker: string, where: string): string {
  const has = (w: string) => out.split('\n').some((l) => l.trim() === `${marker} ${w}` || l.startsWith(`${marker} ${w} `));
  if (!has('ok')) throw new Error(`${where} did not run the check${stderr.trim() ? `: ${oneLine(stderr)}` : ''}`);
  if (has('no-tcpdump')) throw new Error(`tcpdump is not installed (or not on the PATH) on ${where}`);
  if (has('no-sudo')) throw new Error(`sudo -n does not work on ${where} (a password is needed or sudo is not allowed): ${oneLine(stderr, 160)}`);
  const m = new RegExp(`^${marker} tcpdump (\\d+)$`, 'm').exec(out);
  if (!m) throw new Error(`${where} did not finish the check${stderr.trim() ? `: ${oneLine(stderr)}` : ''}`);
  if (m[1] !== '0') {
    const d = e.kind === 'ssh' ? parseDest(e) : { host: 'this host', user: undefined };
    throw new Error(classifyRemoteFailure({ host: d.host, ...(d.user !== undefined && { user: d.user }), interface: e.iface ?? 'any', filter: 'udp' }, Number(m[1]), stderr).message);
  }
  return `${where}: tcpdump may capture on ${e.iface ?? 'any'}${e.sudo ? ' (sudo -n)' : ''}`;
}

function parseDest(e: ProbeEnd): { host: string; user?: string } {
  const o = remoteOptionsFor(e);
  return { host: o.host, ...(o.user !== undefined && { user: o.user }) };
}

function startLocalCapture(e: ProbeEnd, iface: string, filter: string, snaplen: number, path: string): LocalCapture {
  const argv = ['tcpdump', '-n', '-U', '--immediate-mode', '-B', '8192', '-s', String(snaplen), '-i', iface, '-w', '-', '--', filter];
  const [cmd, ...args] = e.sudo ? ['sudo', '-n', ...argv] : argv;
  // Its own process group: a terminal's Ctrl-C must not stop it before we do (in order, with counters).
  const child = spawn(cmd!, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  const out = createWriteStream(path);
  child.stdout!.pipe(out);
  let stderr = '';
  let markStarted!: () => void, failStart!: (e: Error) => void;
  const started = new Promise<void>((res, rej) => { markStarted = res; failStart = rej; });
  started.catch(() => undefined);
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (s: string) => {
    if (stderr.length < 65536) stderr += s;
    if (/listening on/.test(stderr)) markStarted();
  });
  child.on('error', (err) => { stderr += `\n${err.message}`; });
  const done = new Promise<{ code: number | null; stderr: string }>((res) => {
    child.on('close', (code) => {
      out.end(() => res({ code, stderr }));
      if (!/listening on/.test(stderr)) failStart(classifyRemoteFailure({ host: 'this host', interface: iface, filter }, code, stderr));
    });
  });
  return { child, done, started };
}

/**
 * `wg show all` lists every WireGuard device whose userspace control socket it can see, and those
 * sockets (/var/run/wireguard) may be shared with other network namespaces: a device that is not in
 * this host's own link table is not this host's, and its lines are left out.
 */
export function onlyOwnInterfaces(text: string, names: Set<string>): string {
  if (names.size === 0) return text;
  return text.split('\n').filter((l) => {
    const f = l.split('\t');
    return f.length < 4 || names.has(f[0]!);
  }).join('\n');
}

/**
 * The line of a tool's stderr that says why it failed: the last one that reads like an error, past
 * start-up noise (strongSwan's "plugin … failed to load") and before any usage text it prints after it.
 */
export function complaint(stderr: string): string | undefined {
  const lines = stderr.split('\n').map((l) => l.trim()).filter(Boolean);
  const errors = lines.filter((l) => /error|fail|denied|not found|cannot|can't|unable|no such|refused|permission|not permitted|invalid/i.test(l) && !/^plugin '[^']*': failed to load/.test(l));
  return errors.pop() ?? lines[0];
}

function raceStart(started: Promise<void>, ms: number, signal: AbortSignal, late: () => string): Promise<void> {
  return new Promise((res, rej) => {
    const t = setTimeout(() => rej(new Error(late())), ms);
    const onAbort = () => { clearTimeout(t); rej(new Cancelled()); };
    signal.addEventListener('abort', onAbort, { once: true });
    started.then(() => { clearTimeout(t); signal.removeEventListener('abort', onAbort); res(); }, (e) => { clearTimeout(t); signal.removeEventListener('abort', onAbort); rej(e); });
  });
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((res) => {
    const t = setTimeout(done, ms);
    function done() { clearTimeout(t); signal.removeEventListener('abort', done); res(); }
    signal.addEventListener('abort', done, { once: true });
  });
}

const LINKTYPE_ETHERNET = 1;

/** A pcap file header and no packets (little-endian, microseconds). */
function emptyPcap(linktype: number, snaplen: number): Uint8Array {
  const b = Buffer.alloc(24);
  b.writeUInt32LE(0xa1b2c3d4, 0); b.writeUInt16LE(2, 4); b.writeUInt16LE(4, 6);
  b.writeUInt32LE(snaplen, 16); b.writeUInt32LE(linktype, 20);
  return b;
}

/**
 * One firewall reading per phase for the analysis. Taken: `nft -j`, `iptables-save` and, where it exists,
 * `iptables-legacy-save`. An iptables reading that holds rules wins when nft does not show them readably
 * (iptables-nft rules are opaque "xt" matches in nft's JSON; legacy ones are not in nft at all), the legacy
 * one first when only it has rules; otherwise nft is kept. Returns the files to set aside and why.
 */
export function firewallReading(evidence: readonly string[]): Array<{ path: string; why: string }> {
  const out: Array<{ path: string; why: string }> = [];
  for (const after of [false, true]) {
    const pick = (re: RegExp) => evidence.find((f) => re.test(f) && /\.after\./.test(f) === after);
    const nft = pick(/[/\\]nft(?:\.after)?\.json$/);
    const ipt = pick(/[/\\]ip6?tables(?:\.after)?\.txt$/);
    const legacy = pick(/[/\\]iptables-legacy(?:\.after)?\.txt$/);
    // `iptables-save -c` puts each rule's counters first: "[5:300] -A FORWARD …".
    const rules = (f: string | undefined) => f !== undefined && /^(?:\[\d+:\d+\]\s*)?-A /m.test(readFileSync(f, 'utf8'));
    const nftText = nft !== undefined ? readFileSync(nft, 'utf8') : '';
    const opaque = /"xt"\s*:/.test(nftText), nftRules = /"rule"\s*:/.test(nftText);
    const candidates = [nft, ipt, legacy].filter((f): f is string => f !== undefined);
    if (candidates.length < 2) continue;
    const keep = rules(legacy) && !rules(ipt) && (opaque || !nftRules) ? legacy
      : rules(ipt) && (opaque || !nftRules) ? ipt
        : nft ?? (rules(legacy) ? legacy : ipt);
    for (const f of candidates) if (f !== keep) out.push({ path: f, why: `${basename(keep!)} holds the firewall rules, ${basename(f)} set aside` });
  }
  return out;
}
