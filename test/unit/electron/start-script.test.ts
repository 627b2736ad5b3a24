// scripts/start.mjs (npm start): where the window cannot open it must say why in one paragraph,
// exit 1 and never print a stack; where an Electron executable exists it must hand over to it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const ROOT = path.resolve(new URL('../../..', import.meta.url).pathname);
const START = path.join(ROOT, 'scripts', 'start.mjs');
const BUILT = existsSync(path.join(ROOT, 'out', 'electron', 'main.cjs')) && existsSync(path.join(ROOT, 'out', 'renderer', 'index.html'));

const IS_ROOT = process.platform === 'linux' && process.getuid?.() === 0;
// As root, the normal-user paths are exercised by dropping to "nobody" with util-linux's setpriv.
const SETPRIV = ['/usr/bin/setpriv', '/bin/setpriv'].find((p) => existsSync(p));

function runStart(env: Record<string, string>, asNormalUser = false): { status: number | null; stderr: string; stdout: string } {
  const base = { ...process.env };
  delete base.DISPLAY;
  delete base.WAYLAND_DISPLAY;
  const argv = asNormalUser && IS_ROOT ? [SETPRIV!, '--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, START] : [process.execPath, START];
  const r = spawnSync(argv[0]!, argv.slice(1), { cwd: ROOT, env: { ...base, ...env }, encoding: 'utf8', timeout: 30_000 });
  return { status: r.status, stderr: r.stderr, stdout: r.stdout };
}

/** A folder holding a stand-in `electron` executable that records its arguments and exits 7. */
function fakeElectron(t: { after(fn: () => void): void }): { dist: string; record: string } {
  const dist = mkdtempSync(path.join(tmpdir(), 'tandem-fake-dist-'));
  chmodSync(dist, 0o777); // writable for the unprivileged run too
  t.after(() => rmSync(dist, { recursive: true, force: true }));
  const record = path.join(dist, 'args.txt');
  writeFileSync(path.join(dist, 'electron'), `#!/bin/sh\nprintf '%s\\n' "$@" > '${record}'\nexit 7\n`);
  chmodSync(path.join(dist, 'electron'), 0o755);
  return { dist, record };
}

function assertOneParagraph(stderr: string): void {
  assert.ok(!/^\s+at /m.test(stderr), `stack trace printed:\n${stderr}`);
  const paragraphs = stderr.trim().split(/\n\s*\n/);
  assert.equal(paragraphs.length, 1, stderr);
}

test('an ELECTRON_OVERRIDE_DIST_PATH without an executable: one paragraph, exit 1', (t) => {
  const empty = mkdtempSync(path.join(tmpdir(), 'tandem-no-electron-'));
  t.after(() => rmSync(empty, { recursive: true, force: true }));
  const r = runStart({ ELECTRON_OVERRIDE_DIST_PATH: empty });
  assert.equal(r.status, 1);
  assertOneParagraph(r.stderr);
  assert.match(r.stderr, BUILT ? /ELECTRON_OVERRIDE_DIST_PATH/ : /not built yet/);
});

test('as root it refuses to start Electron (the Chromium sandbox stays on)', { skip: IS_ROOT ? false : 'not running as root' }, (t) => {
  if (!BUILT) return t.skip('out/ not built (npm run build): root refusal not checked');
  const { dist, record } = fakeElectron(t);
  const r = runStart({ ELECTRON_OVERRIDE_DIST_PATH: dist, DISPLAY: ':99' });
  assert.equal(r.status, 1);
  assertOneParagraph(r.stderr);
  assert.match(r.stderr, /as root/);
  assert.equal(existsSync(record), false, 'Electron must not be started as root');
});

const userSkip = IS_ROOT && !SETPRIV ? 'running as root without setpriv to drop to a normal user' : false;

test('as a normal user it runs Electron on the app folder and passes its exit code through', { skip: userSkip }, (t) => {
  if (!BUILT) return t.skip('out/ not built (npm run build): hand-over to Electron not checked');
  const { dist, record } = fakeElectron(t);
  const r = runStart({ ELECTRON_OVERRIDE_DIST_PATH: dist, DISPLAY: ':99' }, true);
  assert.equal(r.status, 7, r.stderr);
  assert.deepEqual(readFileSync(record, 'utf8').trim().split('\n'), [ROOT]);
});

test('as a normal user without a display it explains instead of letting Electron crash', { skip: process.platform !== 'linux' ? 'Linux only' : userSkip }, (t) => {
  if (!BUILT) return t.skip('out/ not built (npm run build): display check not run');
  const { dist, record } = fakeElectron(t);
  const r = runStart({ ELECTRON_OVERRIDE_DIST_PATH: dist }, true);
  assert.equal(r.status, 1);
  assertOneParagraph(r.stderr);
  assert.match(r.stderr, /no graphical display/);
  assert.equal(existsSync(record), false);
});
