// `bin/tandem … | head`: when the reader of stdout goes away, the CLI stops quietly with status 0
// (no stack trace, no "unsettled await" exit 13, no hang), whichever command was writing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const corpus = fileURLToPath(new URL('../../../../shared/corpus/tcpdump-tests/', import.meta.url));
// 2282 packets: far more output than a pipe buffer holds (64 KiB), so the writer must wait on the reader.
const big = corpus + 'arp-oobr.pcap';
const built = existsSync(root + 'out/cli/tandem.mjs');

/** Runs bin/tandem, reads stdout until `keep` bytes arrived, then closes the pipe; resolves with status and stderr. */
function readThenHangUp(args: string[], keep: number): Promise<{ code: number | null; signal: string | null; err: string; got: number }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [root + 'bin/tandem', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let got = 0, err = '';
    p.stderr.on('data', (d) => { err += d; });
    p.stdout.on('data', (d: Buffer) => {
      got += d.length;
      if (got >= keep) p.stdout.destroy();
    });
    const timer = setTimeout(() => p.kill('SIGKILL'), 20_000);
    p.on('close', (code, signal) => { clearTimeout(timer); resolve({ code, signal, err, got }); });
  });
}

for (const [name, args] of [
  ['inspect (text lines)', ['inspect', big]],
  ['inspect --json (one object per frame)', ['inspect', big, '--json']],
] as const) {
  test(`${name}: the reader hanging up after the first lines ends the CLI with status 0 and nothing on stderr`,
    { skip: !built ? 'out/cli/tandem.mjs not built (npm run build:node)' : !existsSync(big) ? `corpus file ${big} missing` : false, timeout: 30_000 }, async () => {
      const r = await readThenHangUp([...args], 200);
      assert.ok(r.got >= 200, 'no output before the hang-up');
      assert.equal(r.signal, null, `killed by ${r.signal} (hung after the reader left)`);
      assert.equal(r.code, 0, r.err);
      assert.equal(r.err, '');
    });
}

test('the same file read to the end still prints every packet (the hang-up path does not cut normal output)',
  { skip: !built ? 'out/cli/tandem.mjs not built (npm run build:node)' : !existsSync(big) ? `corpus file ${big} missing` : false, timeout: 30_000 }, async () => {
    const p = spawn(process.execPath, [root + 'bin/tandem', 'inspect', big], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    p.stdout.setEncoding('utf8').on('data', (d) => { out += d; });
    const code = await new Promise<number | null>((r) => p.on('close', r));
    assert.equal(code, 0);
    assert.equal(out.trimEnd().split('\n').length, 2282);
  });
