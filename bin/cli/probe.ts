// `tandem probe`: the guided test from the command line — progress on stderr, then the same verdict
// text as `tandem analyze` on stdout (or the whole result as JSON).
import { writeFileSync } from 'node:fs';
import { runProbe, ProbeInputError } from '../../electron/probe/index.ts';
import { PROBE_STEPS, type ProbeEnd, type ProbeOptions, type ProbeProgress, type ProbeTestKind } from '../../electron/probe/types.ts';
import { jsonVisible, visible } from '../../shared/util/shell.ts';
import { renderText } from './analyze.ts';
import { UsageError } from './io.ts';

export const PROBE_HELP = `  tandem probe --a local|USER@HOST[:PORT] --b USER@HOST[:PORT] --target IP --test tcp:PORT|http:PORT|ping|udp:PORT
               [--key FILE] [--a-key FILE] [--b-key FILE] [--known-hosts FILE] [--sudo-a] [--sudo-b]
               [--a-iface IF] [--b-iface IF] [--snaplen N] [--settle SECONDS] [--out DIR] [--json FILE|-]
      The guided test: over SSH (key or agent only) collect each end's evidence (wg, routes, rules, firewall,
      sysctl, IPsec state), capture on both ends while A makes one test connection to the target behind B,
      collect counters and IKE log lines again, and analyse it all. Files go to --out (default
      ./tandem-probe-YYYYmmdd-HHMMSS); probe.json says what ran. Exit: 0 path ok, 3 path broken,
      4 inconclusive, 1 a probe step failed, 2 usage, 130 interrupted (Ctrl-C stops both ends cleanly).`;

const USAGE = `usage:\n${PROBE_HELP}`;

function stamp(d = new Date()): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}${p(d.getMonth() + 1)}${p(d.getDate())}-${p(d.getHours())}${p(d.getMinutes())}${p(d.getSeconds())}`;
}

const VALUE = new Set(['--a', '--b', '--target', '--test', '--key', '--a-key', '--b-key', '--known-hosts', '--a-iface', '--b-iface', '--snaplen', '--settle', '--out', '--json', '--timeout']);
const FLAG = new Set(['--sudo-a', '--sudo-b', '--help', '-h']);

export function parseProbeArgs(argv: string[], now = new Date()): { options: ProbeOptions; json?: string } | 'help' {
  const v: Record<string, string> = {};
  const f = new Set<string>();
  for (let i = 0; i < argv.length; i++) {
    let a = argv[i]!;
    let val: string | undefined;
    const eq = a.indexOf('=');
    if (a.startsWith('--') && eq > 0) { val = a.slice(eq + 1); a = a.slice(0, eq); }
    if (VALUE.has(a)) {
      val ??= argv[++i];
      if (val === undefined) throw new UsageError(`option ${a} needs a value`);
      if (v[a] !== undefined) throw new UsageError(`option ${a} given twice`);
      v[a] = val;
    } else if (FLAG.has(a) && val === undefined) f.add(a);
    else throw new UsageError(`unknown option "${visible(argv[i]!)}" (try: tandem probe --help)`);
  }
  if (f.has('--help') || f.has('-h')) return 'help';
  for (const need of ['--a', '--b', '--target', '--test']) if (v[need] === undefined) throw new UsageError(`probe needs ${need} (try: tandem probe --help)`);
  const tm = /^(tcp|http|udp):(\d{1,5})$|^(ping)$/.exec(v['--test']!);
  if (!tm) throw new UsageError(`--test must be tcp:PORT, http:PORT, udp:PORT or ping (got "${visible(v['--test']!)}")`);
  const test = (tm[1] ?? tm[3]) as ProbeTestKind;
  const port = tm[2] !== undefined ? Number(tm[2]) : undefined;
  if (port !== undefined && (port < 1 || port > 65535)) throw new UsageError(`--test port must be 1–65535 (got ${port})`);
  const end = (side: 'a' | 'b'): ProbeEnd => {
    const d = v[`--${side}`]!;
    const key = v[`--${side}-key`] ?? v['--key'];
    const e: ProbeEnd = d === 'local' ? { kind: 'local' } : { kind: 'ssh', destination: d };
    if (e.kind === 'ssh') {
      if (key !== undefined) e.identityFile = key;
      if (v['--known-hosts'] !== undefined) e.knownHostsFile = v['--known-hosts'];
    }
    if (f.has(`--sudo-${side}`)) e.sudo = true;
    if (v[`--${side}-iface`] !== undefined) e.iface = v[`--${side}-iface`];
    return e;
  };
  const num = (flag: string, min: number, max: number, integer: boolean): number | undefined => {
    const s = v[flag];
    if (s === undefined) return undefined;
    const n = Number(s);
    if (s.trim() === '' || !Number.isFinite(n) || n < min || n > max || (integer && !Number.isInteger(n))) throw new UsageError(`${flag} needs a number from ${min} to ${max} (got "${visible(s)}")`);
    return n;
  };
  const snaplen = num('--snaplen', 64, 262144, true);
  const settle = num('--settle', 0, 600, false);
  const timeout = num('--timeout', 1, 300, true);
  const options: ProbeOptions = {
    a: end('a'), b: end('b'), target: v['--target']!, test, ...(port !== undefined && { port }),
    outDir: v['--out'] ?? `tandem-probe-${stamp(now)}`,
    ...(snaplen !== undefined && { snaplen }), ...(settle !== undefined && { settleMs: Math.round(settle * 1000) }),
    ...(timeout !== undefined && { testTimeoutSec: timeout }),
  };
  return { options, ...(v['--json'] !== undefined && { json: v['--json'] }) };
}

function progressLine(p: ProbeProgress): string | null {
  // Per-host steps say "running" for both hosts at once: only their outcome is printed.
  if (p.state === 'skipped') return null;
  if (p.state === 'running' && p.host !== undefined && p.step !== 'test') return null;
  const n = PROBE_STEPS.indexOf(p.step) + 1;
  return `[${n}/${PROBE_STEPS.length}] ${p.step}${p.host ? ' ' + p.host : ''}: ${p.state === 'running' ? '' : p.state === 'done' ? '' : p.state + ' — '}${p.detail ?? p.state}`;
}

export async function probeCommand(argv: string[]): Promise<number> {
  const parsed = parseProbeArgs(argv);
  if (parsed === 'help') { process.stdout.write(USAGE + '\n'); return 0; }
  const { options, json } = parsed;
  const ctl = new AbortController();
  let interrupted = false;
  const onSigint = () => {
    // A second Ctrl-C does not wait: the far ends still stop, as their ssh channels close when we exit.
    if (interrupted) { process.stderr.write('stopped\n'); process.exit(130); }
    interrupted = true;
    process.stderr.write('stopping both ends (Ctrl-C)…\n');
    ctl.abort();
  };
  process.on('SIGINT', onSigint);
  process.on('SIGTERM', onSigint);
  let result;
  try {
    result = await runProbe(options, {
      signal: ctl.signal,
      onProgress: (p) => { const l = progressLine(p); if (l !== null) process.stderr.write(visible(l) + '\n'); },
    });
  } catch (e) {
    if (e instanceof ProbeInputError) throw new UsageError(e.message);
    throw e;
  } finally {
    process.off('SIGINT', onSigint);
    process.off('SIGTERM', onSigint);
  }
  if (json !== undefined) {
    const text = JSON.stringify(result, null, 2);
    if (json === '-') process.stdout.write(jsonVisible(text) + '\n');
    else {
      try { writeFileSync(json, text + '\n'); } catch (e) {
        process.stderr.write(`error: cannot write ${visible(json)} (${visible((e as NodeJS.ErrnoException).code ?? String(e))}); the files are in ${visible(result.outDir)}\n`);
      }
    }
  }
  process.stderr.write(`files: ${visible(result.outDir)}\n`);
  if (result.cancelled) { process.stderr.write('cancelled: both captures stopped; what was collected is kept\n'); return 130; }
  if (result.failed) {
    const f = result.failed;
    process.stderr.write(`error: probe failed at ${f.step}${f.host ? ` on ${f.host}` : ''}: ${visible(f.message)}\n`);
    return 1;
  }
  const a = result.analysis!;
  if (json !== '-') process.stdout.write(renderText(a) + '\n');
  return a.verdict.status === 'ok' ? 0 : a.verdict.status === 'fail' ? 3 : 4;
}
