#!/usr/bin/env node
// `npm start` (after the build): open the desktop window, or say in one paragraph why it cannot.
// The Electron binary is not part of `npm install` here (package.json allowScripts skips its
// download), so it is fetched on first start where the download host is reachable.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const ELECTRON_DIR = path.join(ROOT, 'node_modules', 'electron');

/** One paragraph on stderr, wrapped for a terminal, then exit 1. */
function explainAndExit(text) {
  const words = text.replace(/\s+/g, ' ').trim().split(' ');
  const lines = [];
  let line = '';
  for (const word of words) {
    if (line && line.length + 1 + word.length > 88) {
      lines.push(line);
      line = word;
    } else {
      line = line ? `${line} ${word}` : word;
    }
  }
  if (line) lines.push(line);
  process.stderr.write(`\n${lines.join('\n')}\n\n`);
  process.exit(1);
}

/** Path of the Electron executable, or undefined when it is not on disk. Mirrors electron/index.js. */
function electronBinary() {
  if (!existsSync(path.join(ELECTRON_DIR, 'package.json'))) return undefined;
  const pathFile = path.join(ELECTRON_DIR, 'path.txt');
  const relative = existsSync(pathFile) ? readFileSync(pathFile, 'utf8').trim() : undefined;
  const override = process.env.ELECTRON_OVERRIDE_DIST_PATH;
  if (override) {
    const candidate = path.join(override, relative || (process.platform === 'win32' ? 'electron.exe' : 'electron'));
    return existsSync(candidate) ? candidate : undefined;
  }
  if (!relative) return undefined;
  const candidate = path.join(ELECTRON_DIR, 'dist', relative);
  return existsSync(candidate) ? candidate : undefined;
}

/** One attempt to download the binary with Electron's own installer; quiet, bounded in time. */
function tryDownload() {
  const installer = path.join(ELECTRON_DIR, 'install.js');
  if (!existsSync(installer)) return { ok: false, why: 'node_modules/electron/install.js is missing' };
  process.stderr.write('Electron binary not found; trying to download it once (node node_modules/electron/install.js)…\n');
  const result = spawnSync(process.execPath, [installer], {
    cwd: ELECTRON_DIR,
    encoding: 'utf8',
    timeout: 5 * 60 * 1000,
    env: { ...process.env, ELECTRON_SKIP_BINARY_DOWNLOAD: '' },
  });
  if (result.status === 0) return { ok: true, why: '' };
  // The installer prints a stack; keep only the first line that names the cause.
  const output = `${result.stderr ?? ''}\n${result.stdout ?? ''}`;
  const cause =
    output.match(/(getaddrinfo \S+ \S+|ECONNREFUSED[^\n]*|ETIMEDOUT[^\n]*|EAI_AGAIN[^\n]*|HTTPError[^\n]*|fetch failed)/)?.[1] ??
    (result.error ? result.error.message : output.split('\n').find((l) => l.trim())?.trim() ?? `exit code ${result.status}`);
  return { ok: false, why: cause.slice(0, 160) };
}

function main() {
  const mainBundle = path.join(ROOT, 'out', 'electron', 'main.cjs');
  const renderer = path.join(ROOT, 'out', 'renderer', 'index.html');
  if (!existsSync(mainBundle) || !existsSync(renderer)) {
    explainAndExit(
      `Tandem is not built yet (${path.relative(ROOT, existsSync(mainBundle) ? renderer : mainBundle)} is missing). ` +
        'Run "npm run build" (or simply "npm start", which builds first) and try again.',
    );
  }

  if (!existsSync(path.join(ELECTRON_DIR, 'package.json'))) {
    explainAndExit(
      'The Tandem window cannot open because the electron package is not installed. Run "npm install" in ' +
        `${ROOT} first. Without Electron, the command-line tool (bin/tandem inspect FILE) and the browser build ` +
        '("npm run preview", then open http://127.0.0.1:4173/) still work.',
    );
  }

  let binary = electronBinary();
  if (!binary && !process.env.ELECTRON_OVERRIDE_DIST_PATH) {
    const download = tryDownload();
    binary = electronBinary();
    if (!binary) {
      explainAndExit(
        'The Tandem window cannot open because the Electron binary is not downloaded: npm installs only ' +
          "Electron's type definitions, and fetching the binary from its download host (GitHub) failed on " +
          `this machine (${download.why}). To open the desktop app, run "npm start" on a machine with internet ` +
          'access, or unpack an Electron 41 release for this platform and set ELECTRON_OVERRIDE_DIST_PATH to ' +
          'its folder. Everything else works without it: "bin/tandem inspect FILE" prints a decoded capture in ' +
          'the terminal, and "npm run preview" serves the same app to a Chromium-based browser at http://127.0.0.1:4173/.',
      );
    }
  } else if (!binary) {
    explainAndExit(
      `The Tandem window cannot open because ELECTRON_OVERRIDE_DIST_PATH (${process.env.ELECTRON_OVERRIDE_DIST_PATH}) ` +
        'does not contain an Electron executable. Point it at the folder of an unpacked Electron 41 release ' +
        '(the one holding the "electron" executable), or unset it so npm start can download Electron itself.',
    );
  }

  if (process.platform === 'linux' && typeof process.getuid === 'function' && process.getuid() === 0) {
    explainAndExit(
      "The Tandem window will not open as root: Electron refuses to run as root with Chromium's sandbox " +
        'enabled, and Tandem keeps that sandbox on rather than weaken it. Run "npm start" as a normal user. ' +
        'Live capture does not need the whole app to be root; it uses a small capture helper that can be ' +
        'granted the capture capabilities on its own.',
    );
  }

  if (process.platform === 'linux' && !process.env.DISPLAY && !process.env.WAYLAND_DISPLAY) {
    explainAndExit(
      'The Tandem window cannot open because there is no graphical display (neither DISPLAY nor ' +
        'WAYLAND_DISPLAY is set). Start it from a desktop session, or under a virtual display with ' +
        '"xvfb-run -a npm start".',
    );
  }

  // The app folder: Electron reads package.json "main" (out/electron/main.cjs) from it.
  const child = spawn(binary, [ROOT, ...process.argv.slice(2)], { stdio: 'inherit', cwd: ROOT });
  const forward = (signal) => () => child.kill(signal);
  process.on('SIGINT', forward('SIGINT'));
  process.on('SIGTERM', forward('SIGTERM'));
  child.on('error', (err) => explainAndExit(`The Tandem window could not be started: ${err.message}.`));
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
}

main();
