#!/usr/bin/env node
// Bounded, seeded fuzz run of the capture pipeline (issue 13): byte mutants of real captures (pcap,
// pcapng, gzip around either, tcpdump text) go through what `tandem inspect` and `tandem analyze` do
// with every export. Most cases run in a worker process (test/hostile/fuzz-worker.ts: in-process calls,
// fast); a watchdog kills it
// when one case stalls (a hang) and starts a new one after that case. A sample also runs the real CLI
// as a child process. Failures: an exception escaping the library, an exit status other than 0/1/2,
// a case over the time limit, or a process over 1 GiB.
//
//   node scripts/fuzz.mjs [--seed N] [--cases N] [--cli N] [--case-ms N] [--budget-s N] [--json]
// Reproduce one case: node scripts/fuzz.mjs --seed N --only INDEX
import { fork, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const workerScript = fileURLToPath(new URL('../test/hostile/fuzz-worker.ts', import.meta.url));
const cliRunner = join(root, 'test', 'hostile', 'run-cli.ts');
const GIB = 1024 * 1024 * 1024;

function opts(argv) {
  const o = { seed: 1, cases: 2000, cli: 12, caseMs: 10_000, budgetS: 75, json: false, only: undefined };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const num = () => { const v = Number(argv[++i]); if (!Number.isFinite(v) || v < 0) throw new Error(`${a} needs a number`); return v; };
    if (a === '--seed') o.seed = num();
    else if (a === '--cases') o.cases = num();
    else if (a === '--cli') o.cli = num();
    else if (a === '--case-ms') o.caseMs = num();
    else if (a === '--budget-s') o.budgetS = num();
    else if (a === '--only') o.only = num();
    else if (a === '--json') o.json = true;
    else throw new Error(`unknown option ${a}`);
  }
  return o;
}

/** Runs cases [from, to) in a worker process; resolves with its results, restarting after a hang or a crash of the process. */
function runWorker(o, from, to, deadline, stats) {
  return new Promise((resolve) => {
    const child = fork(workerScript, [], {
      execArgv: ['--import', 'tsx', '--max-old-space-size=1024'], cwd: root, stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    });
    let stderr = '';
    child.stderr.on('data', (d) => { if (stderr.length < 8192) stderr += d; });
    let current = from - 1;
    let next = from;
    let timer;
    const arm = () => { clearTimeout(timer); timer = setTimeout(() => { stats.hangs.push({ index: current, ms: o.caseMs }); child.kill('SIGKILL'); }, o.caseMs + 2000); };
    child.on('message', (m) => {
      if (m.type === 'start') { current = m.index; arm(); return; }
      if (m.type === 'done') {
        stats.cases++;
        stats.kinds[m.kind] = (stats.kinds[m.kind] ?? 0) + 1;
        stats.outcomes[m.outcome] = (stats.outcomes[m.outcome] ?? 0) + 1;
        stats.maxRss = Math.max(stats.maxRss, m.rss);
        stats.maxMs = Math.max(stats.maxMs, m.ms);
        if (m.error) stats.crashes.push({ index: m.index, kind: m.kind, error: m.error });
        if (m.ms > o.caseMs) stats.hangs.push({ index: m.index, ms: m.ms });
        if (m.rss > GIB) stats.memory.push({ index: m.index, rss: m.rss });
        next = m.index + 1;
      }
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      const killedByUs = stats.hangs.some((h) => h.index === current && h.ms === o.caseMs);
      if (code !== 0 && !killedByUs) stats.crashes.push({ index: current, kind: 'process', error: `worker exited ${code ?? signal}: ${stderr.trim().split('\n').slice(-3).join(' | ')}` });
      // Resume after the case that failed (or where it stopped).
      const resumeAt = code === 0 ? next : Math.max(next, current + 1);
      resolve(resumeAt);
    });
    child.send({ seed: o.seed, from, to, deadline, caseMs: o.caseMs });
  });
}

function runCli(args, timeoutMs) {
  return new Promise((resolve) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, ['--max-old-space-size=1024', '--import', 'tsx', cliRunner, ...args],
      { cwd: root, env: { ...process.env, TANDEM_REPORT_RSS: '1' }, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d) => { if (err.length < 65536) err += d; });
    let timedOut = false;
    const timer = setTimeout(() => { timedOut = true; child.kill('SIGKILL'); }, timeoutMs);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const rss = Number(/rss-kb=(\d+)/.exec(err)?.[1] ?? 0) * 1024;
      resolve({ code, signal, err, timedOut, rss, ms: performance.now() - t0 });
    });
  });
}

async function main() {
  const o = opts(process.argv.slice(2));
  const t0 = Date.now();
  const deadline = t0 + o.budgetS * 1000;
  const stats = { seed: o.seed, cases: 0, kinds: {}, outcomes: {}, crashes: [], hangs: [], memory: [], maxRss: 0, maxMs: 0, cli: { runs: 0, exits: {}, failures: [] } };
  const from = o.only ?? 0, to = o.only !== undefined ? o.only + 1 : o.cases;
  let at = from;
  while (at < to && Date.now() < deadline) at = await runWorker(o, at, to, deadline, stats);
  stats.stoppedAt = at;

  // The sample through the real CLI: mutants the worker writes on request.
  if (o.cli > 0 && o.only === undefined) {
    const dir = mkdtempSync(join(tmpdir(), 'tandem-fuzz-'));
    try {
      const files = await writeMutants(o, dir);
      for (const f of files) {
        if (Date.now() > deadline + 30_000) break;
        const other = files[(files.indexOf(f) + 1) % files.length];
        for (const args of [['inspect', f], ['analyze', f, other, '--html', join(dir, 'r.html'), '--md', join(dir, 'r.md'), '--report-json', join(dir, 'r.json'), '--pcapng', join(dir, 'r.pcapng')]]) {
          const r = await runCli(args, o.caseMs * 2);
          stats.cli.runs++;
          stats.cli.exits[String(r.code ?? r.signal)] = (stats.cli.exits[String(r.code ?? r.signal)] ?? 0) + 1;
          const bad = r.timedOut ? 'timed out' : ![0, 1, 2].includes(r.code) ? `exit ${r.code ?? r.signal}: ${r.err.trim().split('\n').slice(-2).join(' | ')}` : r.rss > GIB ? `RSS ${r.rss}` : /internal failure/.test(r.err) ? r.err.trim() : null;
          if (bad) stats.cli.failures.push({ file: f.split('/').pop(), args: args[0], why: bad });
        }
      }
    } finally { rmSync(dir, { recursive: true, force: true }); }
  }
  stats.seconds = Math.round((Date.now() - t0) / 100) / 10;
  const ok = stats.crashes.length === 0 && stats.hangs.length === 0 && stats.memory.length === 0 && stats.cli.failures.length === 0;
  if (o.json) process.stdout.write(JSON.stringify({ ok, ...stats }) + '\n');
  else {
    process.stdout.write(`fuzz seed ${stats.seed}: ${stats.cases} cases in ${stats.seconds} s (${Object.entries(stats.kinds).map(([k, n]) => `${k} ${n}`).join(', ')}); ` +
      `outcomes ${Object.entries(stats.outcomes).map(([k, n]) => `${k} ${n}`).join(', ')}; slowest ${Math.round(stats.maxMs)} ms, peak RSS ${Math.round(stats.maxRss / 2 ** 20)} MiB; ` +
      `CLI sample ${stats.cli.runs} runs (exits ${Object.entries(stats.cli.exits).map(([k, n]) => `${k}:${n}`).join(' ')})\n`);
    process.stdout.write(`crashes ${stats.crashes.length}, hangs ${stats.hangs.length}, over 1 GiB ${stats.memory.length}, CLI failures ${stats.cli.failures.length}\n`);
    for (const c of [...stats.crashes, ...stats.hangs, ...stats.memory, ...stats.cli.failures].slice(0, 20)) process.stdout.write(`  ${JSON.stringify(c)}\n`);
  }
  process.exitCode = ok ? 0 : 1;
}

/** The CLI sample's input files, written by a worker (it holds the corpus and the mutators). */
function writeMutants(o, dir) {
  return new Promise((resolve, reject) => {
    const child = fork(workerScript, [], { execArgv: ['--import', 'tsx'], cwd: root, stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
    child.on('message', (m) => { if (m.type === 'written') { resolve(m.files); child.kill(); } });
    child.on('exit', (c) => { if (c) reject(new Error(`mutant writer exited ${c}`)); });
    child.send({ write: { seed: o.seed, count: o.cli, dir } });
  });
}

await main();
