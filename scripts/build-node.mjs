// Bundles the Node-side entry points with esbuild: the CLI (plain Node) and Electron's main and
// preload (CommonJS, the format Electron's sandboxed preload requires). The renderer is Vite's job.
import { build } from 'esbuild';
import { existsSync } from 'node:fs';

const common = { bundle: true, platform: 'node', target: 'node20', sourcemap: 'linked', logLevel: 'warning', legalComments: 'none' };
const entries = [
  { entryPoints: ['bin/cli/main.ts'], outfile: 'out/cli/tandem.mjs', format: 'esm', external: ['cap'],
    banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" } },
  // analyze's decode worker (bin/cli/parallel-load.ts starts it from beside tandem.mjs).
  { entryPoints: ['bin/cli/decode-worker.ts'], outfile: 'out/cli/decode-worker.mjs', format: 'esm', external: ['cap'],
    banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" } },
  { entryPoints: ['electron/capture/helper.ts'], outfile: 'out/electron/capture-helper.mjs', format: 'esm', external: ['cap'],
    banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" } },
  // electron/capture/client.ts reads import.meta.url only when no helperPath is given; main always gives one.
  { entryPoints: ['electron/main/index.ts'], outfile: 'out/electron/main.cjs', format: 'cjs', external: ['electron', 'cap'],
    logOverride: { 'empty-import-meta': 'silent' } },
  { entryPoints: ['electron/preload/index.ts'], outfile: 'out/electron/preload.cjs', format: 'cjs', external: ['electron'] },
];

for (const e of entries) {
  if (!existsSync(e.entryPoints[0])) continue;
  await build({ ...common, ...e });
}
