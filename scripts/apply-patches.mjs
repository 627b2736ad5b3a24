// postinstall: applies patches/ (patch-package) and rebuilds the `cap` addon so the compiled
// binary carries the patch (cap+0.2.1.patch adds open()'s promiscuous switch and stats()).
// cap is an optional dependency: when it is not installed (no libpcap headers, or its build failed)
// there is nothing to patch and the install goes on. A patch that does not apply, or a rebuild that
// fails, is an error: both are deterministic (cap is pinned), so they fail here or nowhere.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { spawnSync } from 'node:child_process';

const require = createRequire(import.meta.url);
const say = (s) => console.log(`[apply-patches] ${s}`);

if (!existsSync('node_modules/cap/package.json')) {
  say('optional dependency cap is not installed; no patch to apply (live capture stays unavailable)');
  process.exit(0);
}

let patchPackage;
try {
  patchPackage = require.resolve('patch-package/dist/index.js');
} catch {
  // An install without devDependencies: the app then runs cap as published (no stats, always promiscuous).
  say('patch-package is not installed (devDependencies omitted?); cap stays unpatched');
  process.exit(0);
}

const run = (cmd, args, shell = false) => spawnSync(cmd, args, { stdio: 'inherit', shell }).status === 0;

if (!run(process.execPath, [patchPackage, '--error-on-fail'])) {
  say('applying the patches failed (see above)');
  process.exit(1);
}

/** True when the compiled addon loads in this Node and already has the patched API. */
function builtWithPatch() {
  const probe = "const c = require('cap'); process.exit(typeof c.Cap.prototype.stats === 'function' ? 0 : 1)";
  return spawnSync(process.execPath, ['-e', probe], { stdio: 'ignore' }).status === 0;
}

if (builtWithPatch()) {
  say('cap is patched and its addon is already built with the patch');
  process.exit(0);
}

say('rebuilding cap with the patch');
// Under npm, npm_execpath is npm's own CLI script; outside npm fall back to the npm on PATH.
const npmCli = process.env.npm_execpath;
const ok = npmCli && /\.[cm]?js$/.test(npmCli)
  ? run(process.execPath, [npmCli, 'rebuild', 'cap'])
  : run('npm', ['rebuild', 'cap'], process.platform === 'win32');
if (!ok || !builtWithPatch()) {
  say('rebuilding cap failed, or the rebuilt addon lacks stats(); see the node-gyp output above');
  process.exit(1);
}
say('cap rebuilt with the patch');
