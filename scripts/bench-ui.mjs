// UI benchmark of the workbench (issue 5): drives the built renderer in Debian's Chromium with two
// captures of >= 500 000 packets each and prints
//   - import time of both files (worker, IndexedDB writes),
//   - time to first rows when a stored session is opened (navigation → rows visible in both panes),
//   - time until the verdict shows (packets read into the session worker + analysis),
//   - display-filter latency over both captures (worker's own time, and Enter → counts shown; each
//     filter is run on a fresh text once, then its cached result is measured separately),
//   - scroll frame time while both panes scroll together, and long tasks (> 50 ms) on the UI thread.
//
// Input: TANDEM_BENCH_A / TANDEM_BENCH_B, else the lab's bulk run (/tmp/tandem-lab/bulk/A.pcapng,
// B.pcapng: a real 400 MB download through the tunnel, both ends), else a generated pair made of
// corpus frames (scripts/bench.mjs writes /tmp/tandem-bench/mix-500000.pcap; editcap shifts B by 1 ms).
// Usage: npx vite build && node scripts/bench-ui.mjs
// Functions passed to page.evaluate run in the page: its globals are the browser's.
/* global document, window, requestAnimationFrame */
import { chromium } from '@playwright/test';
import { spawnSync } from 'node:child_process';
import { createReadStream, existsSync, mkdirSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import { extname, join, normalize } from 'node:path';

const ROOT = process.env.TANDEM_BENCH_ROOT ?? 'out/renderer';
const MIME = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css', '.svg': 'image/svg+xml', '.map': 'application/json' };

const PER_SIDE = Number(process.env.TANDEM_BENCH_PACKETS ?? 500_000);

function pickInputs() {
  const a = process.env.TANDEM_BENCH_A, b = process.env.TANDEM_BENCH_B;
  if (a && b) return [a, b];
  const lab = '/tmp/tandem-lab/bulk';
  if (existsSync(join(lab, 'A.pcapng')) && existsSync(join(lab, 'B.pcapng'))) {
    // The first PER_SIDE packets of each end (the run holds more): the size the issue asks about.
    mkdirSync('/tmp/tandem-bench-ui', { recursive: true });
    const out = ['A', 'B'].map((h) => {
      const dst = `/tmp/tandem-bench-ui/${h}-${PER_SIDE}.pcapng`;
      if (!existsSync(dst)) spawnSync('editcap', ['-r', join(lab, `${h}.pcapng`), dst, `1-${PER_SIDE}`]);
      return existsSync(dst) ? dst : join(lab, `${h}.pcapng`);
    });
    return out;
  }
  const mix = '/tmp/tandem-bench/mix-500000.pcap';
  // scripts/bench.mjs (npm run bench) writes this file as its first step.
  if (!existsSync(mix)) throw new Error('no benchmark input: run npm run bench once, or set TANDEM_BENCH_A and TANDEM_BENCH_B');
  const shifted = '/tmp/tandem-bench/mix-500000-b.pcap';
  if (existsSync(mix) && !existsSync(shifted)) spawnSync('editcap', ['-t', '0.001', mix, shifted]);
  if (!existsSync(mix) || !existsSync(shifted)) throw new Error('no benchmark input: set TANDEM_BENCH_A and TANDEM_BENCH_B');
  return [mix, shifted];
}

function packetsOf(file) {
  const r = spawnSync('capinfos', ['-c', '-M', file], { encoding: 'utf8' });
  const m = /Number of packets:\s+(\d+)/.exec(r.stdout ?? '');
  return m ? Number(m[1]) : NaN;
}

function serve() {
  const server = createServer((req, res) => {
    const path = normalize(decodeURIComponent(new URL(req.url, 'http://x').pathname)).replace(/^(\.\.[/\\])+/, '');
    let file = join(ROOT, path);
    if (!existsSync(file) || statSync(file).isDirectory()) file = join(ROOT, 'index.html');
    res.writeHead(200, { 'content-type': MIME[extname(file)] ?? 'application/octet-stream' });
    createReadStream(file).pipe(res);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

const stats = (xs) => {
  const s = [...xs].sort((p, q) => p - q);
  const q = (f) => s[Math.min(s.length - 1, Math.floor(f * s.length))];
  return { n: s.length, median: q(0.5), p95: q(0.95), max: s[s.length - 1] };
};
const ms = (x) => `${x.toFixed(0)} ms`;

if (!existsSync(join(ROOT, 'index.html'))) spawnSync('npx', ['vite', 'build'], { stdio: 'inherit' });
const [fileA, fileB] = pickInputs();
const countA = packetsOf(fileA), countB = packetsOf(fileB);
console.log(`Tandem UI benchmark — ${new Date().toISOString()}`);
console.log(`  A: ${fileA} (${countA.toLocaleString('en-US')} packets, ${(statSync(fileA).size / 2 ** 20).toFixed(0)} MiB)`);
console.log(`  B: ${fileB} (${countB.toLocaleString('en-US')} packets, ${(statSync(fileB).size / 2 ** 20).toFixed(0)} MiB)`);

const server = await serve();
const url = `http://127.0.0.1:${server.address().port}/`;
const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--js-flags=--max-old-space-size=4096'],
});
try {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  page.on('pageerror', (e) => console.log(`  page error: ${e.message}`));
  if (process.env.TANDEM_BENCH_VERBOSE) page.on('console', (m) => console.log(`  console: ${m.text()}`));
  await page.goto(url);
  await page.evaluate(() => localStorage.setItem('tandem.sidebarFolded', '1'));
  await page.getByTestId('create-first-session').click();

  let t0 = Date.now();
  await page.getByTestId('file-input').setInputFiles([fileA, fileB]);
  await page.waitForFunction(() => document.querySelectorAll('[data-testid="import-job"][data-state="done"]').length === 2, null, { timeout: 600_000, polling: 250 });
  const importMs = Date.now() - t0;
  console.log(`\nimport (both files, one worker each, to IndexedDB): ${(importMs / 1000).toFixed(1)} s = ${Math.round((countA + countB) / (importMs / 1000)).toLocaleString('en-US')} packets/s`);

  await page.waitForSelector('[data-testid="verdict"]:not([data-status="pending"])', { timeout: 600_000 });
  console.log(`analysis done ${((Date.now() - t0 - importMs) / 1000).toFixed(1)} s after the imports (packets read into the worker + analyze)`);

  // Time to first rows: reopen the stored session from scratch (a fresh page load).
  const reopen = [];
  for (let i = 0; i < 3; i++) {
    t0 = Date.now();
    await page.reload();
    await page.waitForSelector('[data-testid="trace-row"][data-host="A"]', { timeout: 60_000 });
    await page.waitForSelector('[data-testid="trace-row"][data-host="B"]', { timeout: 60_000 });
    reopen.push(Date.now() - t0);
  }
  t0 = Date.now();
  await page.waitForSelector('[data-testid="verdict"]:not([data-status="pending"])', { timeout: 600_000 });
  const verdictStatus = await page.getByTestId('verdict').getAttribute('data-status');
  console.log(`time to first rows (reload → rows in both panes): median ${ms(stats(reopen).median)} (${reopen.map(ms).join(', ')})`);
  console.log(`stored verdict shown ${ms(Date.now() - t0)} after the rows (status ${verdictStatus})`);

  // Filtering runs once the worker holds the packets: wait for its load to finish.
  await page.waitForFunction(() => !document.querySelector('[data-testid="task-bar"][data-task="load"]'), null, { timeout: 600_000, polling: 200 });

  // Long tasks on the UI thread from here on.
  await page.evaluate(() => {
    window.__long = [];
    window.__loaf = [];
    new PerformanceObserver((l) => { for (const e of l.getEntries()) window.__long.push(e.duration); }).observe({ type: 'longtask', buffered: false });
    // Long animation frames name the scripts that ran in them: where a long task's time went.
    new PerformanceObserver((l) => {
      for (const e of l.getEntries()) {
        if (e.duration < 50) continue;
        const scripts = (e.scripts ?? []).map((s) => ({ invoker: s.invoker, fn: s.sourceFunctionName, src: `${(s.sourceURL ?? '').split('/').pop()}:${s.sourceCharPosition}`, ms: Math.round(s.duration), layout: Math.round(s.forcedStyleAndLayoutDuration ?? 0) }));
        window.__loaf.push({ ms: Math.round(e.duration), blocking: Math.round(e.blockingDuration ?? 0), render: Math.round(e.renderStart ? e.startTime + e.duration - e.renderStart : 0), scripts });
      }
    }).observe({ type: 'long-animation-frame', buffered: false });
  });
  // TANDEM_BENCH_PROFILE=1: sample the UI thread with the CDP profiler during filter + scroll.
  const cdp = process.env.TANDEM_BENCH_PROFILE ? await context.newCDPSession(page) : null;
  if (cdp) {
    await cdp.send('Profiler.enable');
    await cdp.send('Profiler.setSamplingInterval', { interval: 200 });
    await cdp.send('Profiler.start');
  }

  console.log('\ndisplay filter over both captures (worker time / Enter → counts on screen):');
  const filters = ['udp', 'tcp.flags.syn && !tcp.flags.ack', 'ip.addr == 10.0.0.1 && tcp.port == 80', 'wg.type == 4 && frame.len > 1400', 'iface == "wg0"', 'checkpoint'];
  const applyFilter = async (text) => {
    await page.getByTestId('filter-input').fill('');
    await page.waitForFunction(() => !document.querySelector('[data-testid="filter-ms"]'), null, { polling: 20 });
    const t = Date.now();
    await page.getByTestId('filter-input').fill(text);
    await page.getByTestId('filter-input').press('Enter');
    await page.waitForSelector('[data-testid="filter-ms"]', { polling: 'raf' });
    return { wall: Date.now() - t, worker: Number((await page.getByTestId('filter-ms').textContent()).replace(/\D/g, '')) };
  };
  const allWorker = [];
  for (const f of filters) {
    const runs = [];
    const wall = [];
    // Extra parentheses make each run a new text, so the worker's result cache does not answer.
    for (let i = 0; i < 5; i++) {
      const r = await applyFilter('('.repeat(i) + f + ')'.repeat(i));
      runs.push(r.worker);
      wall.push(r.wall);
      allWorker.push(r.worker);
    }
    const counts = `${await page.getByTestId('pane-count-A').textContent()} | ${await page.getByTestId('pane-count-B').textContent()}`;
    const cached = await applyFilter(f);
    console.log(`  ${f.padEnd(40)} worker median ${ms(stats(runs).median).padStart(6)} (max ${ms(stats(runs).max)}), on screen ${ms(stats(wall).median)}, cached ${ms(cached.worker)}  [${counts}]`);
  }
  const all = stats(allWorker);
  console.log(`  all filters: worker median ${ms(all.median)}, p95 ${ms(all.p95)} over ${(countA + countB).toLocaleString('en-US')} packets`);
  await page.getByTestId('filter-input').fill('');
  await page.waitForFunction(() => !document.querySelector('[data-testid="filter-ms"]'), null, { polling: 20 });

  // Scroll: pane A moves by 60 rows per frame for 3 s; B follows on the common timeline.
  const frames = await page.evaluate(async () => {
    const el = document.querySelector('[data-testid="trace-list-A"]');
    const out = [];
    let last = performance.now();
    const end = last + 3000;
    await new Promise((resolve) => {
      const step = (now) => {
        out.push(now - last);
        last = now;
        el.scrollTop += 60 * 22;
        if (now < end) requestAnimationFrame(step);
        else resolve();
      };
      requestAnimationFrame(step);
    });
    return out.slice(1);
  });
  const fs = stats(frames);
  console.log(`\nscroll (both panes, 60 rows per frame, 3 s): ${fs.n} frames, frame time median ${fs.median.toFixed(1)} ms, p95 ${fs.p95.toFixed(1)} ms, max ${fs.max.toFixed(1)} ms`);
  const blank = await page.locator('[data-testid="trace-row-loading"]').count();
  console.log(`  rows still loading right after the scroll: ${blank}`);
  const long = await page.evaluate(() => window.__long);
  console.log(`long tasks (> 50 ms) on the UI thread during filter + scroll: ${long.length}${long.length ? ` (max ${Math.max(...long).toFixed(0)} ms)` : ''}`);
  if (process.env.TANDEM_BENCH_VERBOSE) {
    for (const f of await page.evaluate(() => window.__loaf)) {
      console.log(`  long frame ${f.ms} ms (blocking ${f.blocking}, render ${f.render}): ${f.scripts.map((x) => `${x.invoker} ${x.fn}@${x.src} ${x.ms} ms${x.layout ? ` (layout ${x.layout})` : ''}`).join('; ')}`);
    }
  }
  if (cdp) {
    const { profile } = await cdp.send('Profiler.stop');
    // Self time per function, from the sample counts.
    const dt = (profile.endTime - profile.startTime) / 1000 / Math.max(1, profile.samples.length);
    const hits = new Map();
    for (const id of profile.samples) hits.set(id, (hits.get(id) ?? 0) + 1);
    const self = new Map();
    for (const n of profile.nodes) {
      const c = n.callFrame;
      const k = `${c.functionName || '(anon)'} ${c.url.split('/').pop()}:${c.lineNumber + 1}:${c.columnNumber + 1}`;
      self.set(k, (self.get(k) ?? 0) + (hits.get(n.id) ?? 0) * dt);
    }
    console.log('  UI thread self time, top functions:');
    for (const [k, v] of [...self].filter(([k]) => !k.startsWith('(idle)') && !k.startsWith('(program)')).sort((p, q) => q[1] - p[1]).slice(0, 15)) console.log(`    ${v.toFixed(0).padStart(6)} ms  ${k}`);
  }
} finally {
  await browser.close();
  server.close();
}
