// The layering rules are only worth something if lint really rejects a bad import: lint sample
// sources as if they stood at the given paths and check which are refused.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ESLint } from 'eslint';

const eslint = new ESLint();

async function layeringErrors(filePath: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath });
  return result.messages.filter((m) => m.ruleId === 'no-restricted-imports' || m.ruleId === '@typescript-eslint/no-restricted-imports').map((m) => m.message);
}

const cases: Array<[string, string, boolean]> = [
  // [file, import line, refused?]
  ['shared/capture-file/x.ts', "import { readFileSync } from 'node:fs';", true],
  ['shared/capture-file/x.ts', "import { readFileSync } from 'fs';", true],
  ['shared/analysis/x.ts', "import React from 'react';", true],
  ['shared/analysis/x.ts', "import { db } from '../../renderer/src/db/schema.ts';", true],
  ['shared/analysis/x.ts', "import { app } from 'electron';", true],
  ['shared/analysis/x.ts', "import type { Packet } from '../protocols/packet.ts';", false],
  ['shared/report/x.ts', "import { isoNs } from '../util/time.ts';", false],
  ['shared/protocols/x.ts', "import { decodeTcp } from './tcp.ts';", true],
  ['shared/protocols/x.ts', "import { registerIpProto } from './registry.ts';", false],
  ['shared/protocols/x.ts', "import type { RawFrame } from '../capture-file/types.ts';", false],
  ['shared/protocols/x.ts', "import { readCapture } from '../capture-file/reader.ts';", true],
  ['electron/main/x.ts', "import { App } from '../../renderer/src/app/App.tsx';", true],
  ['electron/main/x.ts', "import { readFileSync } from 'node:fs';", false],
  ['renderer/src/x.ts', "import { ipcRenderer } from 'electron';", true],
  ['renderer/src/x.ts', "import { readFileSync } from 'node:fs';", true],
  ['renderer/src/x.ts', "import { startCapture } from '../../electron/capture/session.ts';", true],
  ['renderer/src/x.ts', "import Dexie from 'dexie';", false],
  // No parsing on the UI thread: decoders, readers, ingest and analysis only inside workers.
  ['renderer/src/features/detail/x.tsx', "import { dissectFrame } from '../../../../shared/protocols/index.ts';", true],
  ['renderer/src/features/x.ts', "import { readCapture } from '../../../shared/capture-file/reader.ts';", true],
  ['renderer/src/features/x.ts', "import { analyze } from '../../../shared/analysis/index.ts';", true],
  ['renderer/src/features/x.ts', "import { loadCapture } from '../../../shared/ingest/load-capture.ts';", true],
  ['renderer/src/features/x.ts', "import type { Packet } from '../../../shared/protocols/packet.ts';", false],
  ['renderer/src/features/x.ts', "import type { AnalysisResult } from '../../../shared/analysis/index.ts';", false],
  ['renderer/src/features/x.ts', "import { PATH_ORDER } from '../../../shared/analysis/types.ts';", false],
  ['renderer/src/workers/x.ts', "import { dissectFrame } from '../../../shared/protocols/index.ts';", false],
  ['renderer/src/features/capture/x.worker.ts', "import { decodeFrame } from '../../../../shared/protocols/index.ts';", false],
];

for (const [file, line, refused] of cases) {
  test(`${refused ? 'refuses' : 'allows'} in ${file}: ${line}`, async () => {
    const errors = await layeringErrors(file, `${line}\nexport const _use = 1;\n`);
    if (refused) assert.ok(errors.length > 0 && errors[0].includes('Bad layering'), `expected a layering error, got ${JSON.stringify(errors)}`);
    else assert.deepEqual(errors, []);
  });
}
