// electron-builder.yml is checked against electron-builder's own schema (packaging itself needs
// the internet), and the files it points at exist in the shape electron-builder needs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

const ROOT = path.resolve(new URL('../../..', import.meta.url).pathname);
const require = createRequire(path.join(ROOT, 'package.json'));

interface BuilderConfig {
  appId?: string;
  productName?: string;
  files?: Array<string | { filter?: string[] }>;
  asarUnpack?: string[];
  npmRebuild?: boolean;
  linux?: { target?: Array<string | { target: string }>; category?: string; icon?: string };
}

test('electron-builder.yml passes electron-builder schema validation', async () => {
  const { getConfig, validateConfiguration } = require('app-builder-lib/out/util/config/config') as {
    getConfig: (dir: string, file: string | null, opts: null) => Promise<BuilderConfig>;
    validateConfiguration: (cfg: BuilderConfig, logger: unknown) => Promise<void>;
  };
  const { DebugLogger } = require('builder-util/out/DebugLogger') as { DebugLogger: new (enabled: boolean) => unknown };
  const cfg = await getConfig(ROOT, path.join(ROOT, 'electron-builder.yml'), null);
  await validateConfiguration(cfg, new DebugLogger(false));

  assert.equal(cfg.productName, 'Tandem');
  assert.ok(cfg.appId);
  assert.equal(cfg.npmRebuild, true);
  assert.equal(cfg.linux?.category, 'Network');
  assert.deepEqual(cfg.linux?.target, ['AppImage', 'deb']);
  assert.ok(cfg.asarUnpack?.some((p) => p.includes('cap') && p.endsWith('.node')));

  // package.json "main" must be inside what gets packed.
  const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { main: string };
  const patterns = (cfg.files ?? []).flatMap((f) => (typeof f === 'string' ? [f] : (f.filter ?? [])));
  const covers = patterns.some((p) => !p.startsWith('!') && (p === pkg.main || (p.endsWith('/**') && pkg.main.startsWith(p.slice(0, -2)))));
  assert.ok(covers, `files ${JSON.stringify(patterns)} do not include ${pkg.main}`);
});

test('the Linux icon is a 512×512 PNG', () => {
  const png = readFileSync(path.join(ROOT, 'build', 'icon.png'));
  assert.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  assert.equal(png.toString('ascii', 12, 16), 'IHDR');
  assert.equal(png.readUInt32BE(16), 512);
  assert.equal(png.readUInt32BE(20), 512);
});
