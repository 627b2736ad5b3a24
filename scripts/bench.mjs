// `npm run bench`: speed and memory next to tcpdump and tshark, on the same input, in the same run.
// Machines here are noisy, so the figures that matter are the ratios, not the absolute times.
//
//  1. read + decode: a generated pcap of >= 500 000 real frames (taken from the tcpdump corpus,
//     replayed with increasing timestamps): `bin/tandem inspect` vs `tcpdump -nr` vs `tshark -r`.
//  2. analyze: two >= 500 000-packet lab captures (TANDEM_BENCH_A / TANDEM_BENCH_B, or the lab's
//     bulk run in /tmp/tandem-lab/bulk): `bin/tandem analyze` (both captures decoded at once, one on
//     the main thread and one in a worker, and TANDEM_THREADS=1: one after the other on one thread) vs tcpdump and tshark
//     reading both; wall time as a ratio of tcpdump's, peak RSS, and peak bytes per packet. Each
//     analyze run also prints its stages (TANDEM_TIMING=1: load, analysis, summaries, with the peak
//     so far), and the load on two threads (each also prepares its capture for the analysis) beside
//     the slower thread's own time. tcpdump's system share is printed too: on SLL2 files it looks up
//     every packet's interface name with system calls, so its wall time (the ratio's reference) moves
//     with what system calls cost on the machine; analyze's wall time against tcpdump's user CPU is the
//     steadier comparison between machines.
//
// `node scripts/bench.mjs [--only 1|2] [--runs N]`: one section only; section 2 N times in a row,
// each row's figures printed per run and as min / median / max.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, openSync, writeSync, closeSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { availableParallelism, loadavg } from 'node:os';

const CORPUS = '../shared/corpus/tcpdump-tests';
const WORK = process.env.TANDEM_BENCH_DIR ?? '/tmp/tandem-bench';
const N = Number(process.env.TANDEM_BENCH_PACKETS ?? 500_000);
mkdirSync(WORK, { recursive: true });
const argOf = (name) => { const i = process.argv.indexOf(name); return i > 0 ? process.argv[i + 1] : undefined; };
const ONLY = argOf('--only');
const RUNS = Math.max(1, Number(argOf('--runs') ?? process.env.TANDEM_BENCH_RUNS ?? 1) || 1);

/** Runs a shell command under GNU time; returns wall seconds, CPU seconds (user + system) and peak RSS in MiB. */
function measure(label, cmd, env) {
  const r = spawnSync('/usr/bin/time', ['-f', '%e %M %U %S', 'sh', '-c', `{ ${cmd}; } > /dev/null`], { encoding: 'utf8', env: { ...process.env, ...env } });
  const lines = r.stderr.trim().split('\n');
  const [wall, kb, user, sys] = (lines.pop() ?? '').split(' ').map(Number);
  if (!Number.isFinite(wall)) return { label, ok: false, err: r.stderr.trim().split('\n').slice(-2).join(' ') };
  // `tandem analyze` with TANDEM_TIMING=1 adds a line of stage times (bin/cli/analyze.ts).
  const timing = lines.find((l) => l.startsWith('timing: '));
  return { label, ok: true, wall, rssMiB: kb / 1024, cpu: user + sys, user, sys, status: r.status, ...(timing ? { timing: timing.slice(8) } : {}) };
}

function have(tool) { return spawnSync('sh', ['-c', `command -v ${tool}`]).status === 0; }

/** Ethernet frames from the corpus's little-endian µs pcaps: real packets of many protocols. */
function corpusFrames() {
  const frames = [];
  for (const name of readdirSync(CORPUS).sort()) {
    if (!name.endsWith('.pcap')) continue;
    const b = readFileSync(join(CORPUS, name));
    if (b.length < 24 || b.readUInt32LE(0) !== 0xa1b2c3d4 || b.readUInt32LE(20) !== 1) continue;
    let off = 24;
    while (off + 16 <= b.length) {
      const incl = b.readUInt32LE(off + 8), orig = b.readUInt32LE(off + 12);
      if (incl > 65535 || incl > orig || off + 16 + incl > b.length) break;
      frames.push(b.subarray(off + 16, off + 16 + incl));
      off += 16 + incl;
    }
    if (frames.length > 20000) break;
  }
  return frames;
}

function generatePcap(file, count) {
  if (existsSync(file)) return;
  const frames = corpusFrames();
  const fd = openSync(file, 'w');
  const hdr = Buffer.alloc(24);
  hdr.writeUInt32LE(0xa1b2c3d4, 0); hdr.writeUInt16LE(2, 4); hdr.writeUInt16LE(4, 6);
  hdr.writeUInt32LE(262144, 16); hdr.writeUInt32LE(1, 20);
  writeSync(fd, hdr);
  let t = 1_700_000_000 * 1e6;
  const parts = [];
  let size = 0;
  for (let i = 0; i < count; i++) {
    const f = frames[i % frames.length];
    const rh = Buffer.alloc(16);
    t += 37;
    rh.writeUInt32LE(Math.floor(t / 1e6), 0); rh.writeUInt32LE(t % 1e6, 4);
    rh.writeUInt32LE(f.length, 8); rh.writeUInt32LE(f.length, 12);
    parts.push(rh, f); size += 16 + f.length;
    if (size > 8 << 20) { writeSync(fd, Buffer.concat(parts)); parts.length = 0; size = 0; }
  }
  writeSync(fd, Buffer.concat(parts));
  closeSync(fd);
}

function row(r, packets, ref) {
  if (!r.ok) return `  ${r.label.padEnd(34)} failed: ${r.err}`;
  const rate = packets / r.wall;
  const ratio = ref?.ok ? `  ${(ref.wall / r.wall).toFixed(2)}× tcpdump's rate` : '';
  return `  ${r.label.padEnd(34)} ${r.wall.toFixed(2).padStart(7)} s  ${(rate / 1e3).toFixed(0).padStart(6)} k pkt/s  peak ${r.rssMiB.toFixed(0).padStart(5)} MiB${ratio}`;
}

console.log(`Tandem benchmark — ${new Date().toISOString()}`);
if (!existsSync('out/cli/tandem.mjs')) spawnSync('npm', ['run', '-s', 'build:node'], { stdio: 'inherit' });

// 1. read + decode
if (ONLY !== '2') section1();
function section1() {
const file = join(WORK, `mix-${N}.pcap`);
generatePcap(file, N);
console.log(`\n1. read + decode: ${file} (${N} frames, ${(statSync(file).size / 2 ** 20).toFixed(0)} MiB)`);
const tcpdump = have('tcpdump') ? measure('tcpdump -nr FILE', `tcpdump -nr ${file}`) : null;
const results = [
  measure('tandem inspect FILE', `bin/tandem inspect ${file}`),
  measure('tandem inspect FILE --json', `bin/tandem inspect ${file} --json`),
];
if (tcpdump) console.log(row(tcpdump, N));
for (const r of results) console.log(row(r, N, tcpdump));
if (have('tshark')) console.log(row(measure('tshark -r FILE', `tshark -n -r ${file}`), N, tcpdump));
// The engine alone (read + decode, no printing), in process; then the app import's chunk building,
// from the bytes (what its worker does) and from decoded packets (what it did before), the same file.
for (const [mode, label] of [['packets', 'read+decode only (in process)'], ['chunks', 'app import chunks (in process)'], ['chunks-decoded', '  same, decoded then encoded']]) {
  const inproc = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/bench-decode.ts', file, mode], { encoding: 'utf8' });
  try {
    const j = JSON.parse(inproc.stdout.trim().split('\n').pop());
    const ratio = tcpdump?.ok ? `  ${((j.frames / j.seconds) / (N / tcpdump.wall)).toFixed(2)}× tcpdump's rate` : '';
    console.log(`  ${label.padEnd(34)} ${j.seconds.toFixed(2).padStart(7)} s  ${(j.rate / 1e3).toFixed(0).padStart(6)} k pkt/s  peak ${j.rssMiB.toFixed(0).padStart(5)} MiB${ratio}`);
  } catch { console.log(`  ${label}: failed: ` + inproc.stderr.trim().split('\n').pop()); }
}
// Memory independence of file size: the same read on a file twice as long.
const file2 = join(WORK, `mix-${2 * N}.pcap`);
generatePcap(file2, 2 * N);
const big = measure('tandem inspect (2× file)', `bin/tandem inspect ${file2}`);
if (big.ok && results[0].ok) console.log(`  peak memory ${results[0].rssMiB.toFixed(0)} MiB at ${N} frames, ${big.rssMiB.toFixed(0)} MiB at ${2 * N}: ratio ${(big.rssMiB / results[0].rssMiB).toFixed(2)}`);
}

// 2. analyze two large lab captures (tcpdump -i any SLL2 files: every tool reads them)
if (ONLY !== '1') section2();
function section2() {
  const LAB = process.env.TANDEM_BENCH_LAB ?? '/tmp/tandem-lab/bulk';
  const A = process.env.TANDEM_BENCH_A ?? join(LAB, 'A-any.pcap');
  const B = process.env.TANDEM_BENCH_B ?? join(LAB, 'B-any.pcap');
  console.log('\n2. analyze two large captures');
  if (!existsSync(A) || !existsSync(B)) {
    console.log(`  skipped: ${A} / ${B} not found — make them with \`test/lab/lab.sh --out /tmp/tandem-lab --bulk 400\` (root) or set TANDEM_BENCH_A/B`);
    return;
  }
  const count = (f) => Number(spawnSync('sh', ['-c', `tcpdump -nr ${f} 2>/dev/null | wc -l`], { encoding: 'utf8' }).stdout.trim());
  const pk = count(A) + count(B);
  const links = (side) => { const f = join(LAB, `${side}-links.txt`); return existsSync(f) ? ` --${side.toLowerCase()}-links ${f}` : ''; };
  const cores = availableParallelism();
  console.log(`  A=${A} B=${B} (${pk} packets together; ${cores} cores, load average ${loadavg()[0].toFixed(2)}; ${RUNS} run${RUNS > 1 ? 's' : ''})`);
  const analyzeCmd = `bin/tandem analyze ${A} ${B}${links('A')}${links('B')}`;
  const runs = [];
  for (let k = 0; k < RUNS; k++) {
    if (RUNS > 1) console.log(`  run ${k + 1} (load average ${loadavg()[0].toFixed(2)} on ${cores} cores)`);
    // Same run, back to back: the ratios compare tools under the same load.
    const td = measure('tcpdump -nr A; tcpdump -nr B', `tcpdump -nr ${A}; tcpdump -nr ${B}`);
    const an = measure('tandem analyze A B (2 threads)', analyzeCmd, { TANDEM_THREADS: '', TANDEM_TIMING: '1' });
    const one = measure('tandem analyze A B (1 thread)', analyzeCmd, { TANDEM_THREADS: '1', TANDEM_TIMING: '1' });
    const ts = have('tshark') ? measure('tshark -r A; tshark -r B', `tshark -n -r ${A}; tshark -n -r ${B}`) : null;
    console.log(row2(td, pk));
    // tcpdump gives SLL2 packets their interface names with a few system calls each (socket, ioctl,
    // close): most of its time where system calls are dear, so its wall time moves with the machine.
    if (td.ok) console.log(`    of which system time ${td.sys.toFixed(2)} s (${((100 * td.sys) / Math.max(td.cpu, 1e-9)).toFixed(0)}% of its CPU), user ${td.user.toFixed(2)} s`);
    console.log(row2(an, pk, td));
    if (an.timing) console.log(`    stages: ${an.timing}`);
    console.log(row2(one, pk, td));
    if (one.timing) console.log(`    stages: ${one.timing}`);
    const ld = loadTimes(an);
    // Two threads at best take as long as the slower one alone (each one's own times are in the stage line).
    if (ld) console.log(`  load and preparation on two threads ${ld.wall.toFixed(2)} s = ${(ld.wall / ld.larger).toFixed(2)}× the slower thread's own time (${ld.larger.toFixed(2)} s); load on one thread ${loadTimes(one)?.wall.toFixed(2) ?? '?'} s`);
    if (ts) console.log(row2(ts, pk, td));
    if (an.ok && one.ok) console.log(`  two threads vs one: ${(one.wall / an.wall).toFixed(2)}× faster wall, ${(an.cpu / one.cpu).toFixed(2)}× the CPU time, ${(an.rssMiB / one.rssMiB).toFixed(2)}× the peak`);
    runs.push({ td, an, one, ts });
  }
  if (RUNS > 1) {
    const spread = (label, xs, unit, digits = 2) => {
      const v = xs.filter((x) => Number.isFinite(x)).sort((x, y) => x - y);
      if (v.length === 0) return;
      console.log(`  ${label.padEnd(44)} min ${v[0].toFixed(digits)}${unit}  median ${v[Math.floor(v.length / 2)].toFixed(digits)}${unit}  max ${v[v.length - 1].toFixed(digits)}${unit}`);
    };
    console.log(`  spread over ${RUNS} runs`);
    const ok = (r) => r !== null && r.ok;
    spread('tcpdump both, wall', runs.map((r) => (ok(r.td) ? r.td.wall : NaN)), ' s');
    spread('analyze (2 threads), wall', runs.map((r) => (ok(r.an) ? r.an.wall : NaN)), ' s');
    spread('analyze (1 thread), wall', runs.map((r) => (ok(r.one) ? r.one.wall : NaN)), ' s');
    spread('analyze (2 threads) / tcpdump wall (target ≤ 0.15)', runs.map((r) => (ok(r.an) && ok(r.td) ? r.an.wall / r.td.wall : NaN)), '×');
    spread('analyze (1 thread) / tcpdump wall', runs.map((r) => (ok(r.one) && ok(r.td) ? r.one.wall / r.td.wall : NaN)), '×');
    // CPU seconds barely move with the machine's load, where wall time does: the steadier comparison on a shared machine.
    spread('tcpdump both, CPU', runs.map((r) => (ok(r.td) ? r.td.cpu : NaN)), ' s');
    spread('analyze (2 threads), CPU', runs.map((r) => (ok(r.an) ? r.an.cpu : NaN)), ' s');
    spread('analyze (1 thread), CPU', runs.map((r) => (ok(r.one) ? r.one.cpu : NaN)), ' s');
    spread('analyze (2 threads) / tcpdump CPU', runs.map((r) => (ok(r.an) && ok(r.td) ? r.an.cpu / r.td.cpu : NaN)), '×');
    // tcpdump's own work without its per-packet system calls: the reference that moves least between machines.
    spread('tcpdump both, system share of CPU', runs.map((r) => (ok(r.td) ? (100 * r.td.sys) / r.td.cpu : NaN)), '%', 0);
    spread('analyze (2 threads) wall / tcpdump user CPU', runs.map((r) => (ok(r.an) && ok(r.td) ? r.an.wall / r.td.user : NaN)), '×');
    spread('analyze (2 threads) peak (target ≤ 256 MiB)', runs.map((r) => (ok(r.an) ? r.an.rssMiB : NaN)), ' MiB', 0);
    spread('analyze (2 threads) peak per packet (≤ 200 B)', runs.map((r) => (ok(r.an) ? (r.an.rssMiB * 2 ** 20) / pk : NaN)), ' B', 0);
    spread('analyze (1 thread) peak', runs.map((r) => (ok(r.one) ? r.one.rssMiB : NaN)), ' MiB', 0);
    spread('load and preparation on two threads, wall', runs.map((r) => loadTimes(r.an)?.wall ?? NaN), ' s');
    spread('load on two threads / the slower thread alone', runs.map((r) => { const l = loadTimes(r.an); return l ? l.wall / l.larger : NaN; }), '×');
    spread('load on one thread, wall', runs.map((r) => loadTimes(r.one)?.wall ?? NaN), ' s');
    spread('peak at the end of the load (2 threads)', runs.map((r) => loadTimes(r.an)?.peak ?? NaN), ' MiB', 0);
  }
}

/**
 * From a TANDEM_TIMING line: the load's wall time, the longer of the two captures' own times (load,
 * plus preparation where two threads prepared: it includes the wait for the other's ports), and the
 * peak RSS when it ended.
 */
function loadTimes(r) {
  const m = r?.ok && r.timing ? /^load \([^:]*: A ([\d.]+) s, B ([\d.]+) s(?:; prepared: A ([\d.]+) s, B ([\d.]+) s)?\) ([\d.]+) s, peak (\d+) MiB/.exec(r.timing) : null;
  return m ? { wall: Number(m[5]), larger: Math.max(Number(m[1]) + Number(m[3] ?? 0), Number(m[2]) + Number(m[4] ?? 0)), peak: Number(m[6]) } : null;
}

/** A section-2 row: wall, CPU, rate, peak and bytes per packet; against tcpdump, the wall-time ratio. */
function row2(r, packets, ref) {
  if (!r.ok) return `  ${r.label.padEnd(34)} failed: ${r.err}`;
  const ratio = ref?.ok ? `  ${(r.wall / ref.wall).toFixed(3)}× tcpdump's wall time` : '';
  return `  ${r.label.padEnd(34)} ${r.wall.toFixed(2).padStart(7)} s (cpu ${r.cpu.toFixed(2).padStart(6)} s) ${(packets / r.wall / 1e3).toFixed(0).padStart(6)} k pkt/s  peak ${r.rssMiB.toFixed(0).padStart(5)} MiB = ${((r.rssMiB * 2 ** 20) / packets).toFixed(0).padStart(4)} B/pkt${ratio}`;
}
