// runProbe as the app calls it (no hosts needed): options refused before anything runs or is written,
// a cancel before the start, and the record it leaves (probe.json).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PROBE_STEPS, ProbeInputError, complaint, runProbe, type ProbeOptions, type ProbeProgress } from '../../../electron/probe/index.ts';

const base = (outDir: string): ProbeOptions => ({
  a: { kind: 'local' }, b: { kind: 'ssh', destination: 'root@192.0.2.1:2222', identityFile: '/nonexistent/key' },
  target: '192.0.2.7', test: 'tcp', port: 80, outDir, settleMs: 0,
});

test('runProbe refuses bad options with a ProbeInputError before it creates or runs anything', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tdmprobe-engine-'));
  try {
    const out = join(dir, 'out');
    for (const patch of [{ target: 'gw.example.net' }, { port: 0 }, { b: { kind: 'ssh', destination: '-oProxyCommand=id' } }, { a: { kind: 'local', iface: 'eth0 x' } }] as const) {
      await assert.rejects(runProbe({ ...base(out), ...patch } as ProbeOptions), ProbeInputError, JSON.stringify(patch));
      assert.equal(existsSync(out), false);
    }
  } finally { rmSync(dir, { recursive: true, force: true }); }
});

test('runProbe with a signal already aborted: cancelled, every step skipped in order, probe.json says so', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tdmprobe-engine-'));
  try {
    const events: ProbeProgress[] = [];
    const ctl = new AbortController();
    ctl.abort();
    const r = await runProbe(base(dir), { signal: ctl.signal, onProgress: (p) => events.push(p) });
    assert.equal(r.cancelled, true);
    assert.equal(r.failed, undefined);
    assert.equal(r.analysis, undefined);
    assert.deepEqual(events.map((e) => `${e.step}:${e.state}`), PROBE_STEPS.map((s) => `${s}:skipped`));
    const doc = JSON.parse(readFileSync(join(dir, 'probe.json'), 'utf8'));
    assert.equal(doc.cancelled, true);
    assert.equal(doc.options.target, '192.0.2.7');
    assert.deepEqual(doc.files, { A: { capture: '', links: '', evidence: [] }, B: { capture: '', links: '', evidence: [] } });
  } finally { rmSync(dir, { recursive: true, force: true }); }
});

test('runProbe: a listener that throws does not stop the probe; an unreachable far end fails at connect naming it (A before B)', { timeout: 60_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tdmprobe-engine-'));
  try {
    // 192.0.2.1 (TEST-NET-1) is never routed to a real host: ssh fails (no route, or the connect timeout).
    const seen: string[] = [];
    const r = await runProbe({ ...base(dir), a: { kind: 'ssh', destination: 'ops@192.0.2.3' }, connectTimeoutSec: 2 },
      { onProgress: (p) => { seen.push(`${p.step}:${p.host ?? ''}:${p.state}`); throw new Error('listener bug'); } });
    assert.equal(r.failed?.step, 'connect');
    assert.equal(r.failed?.host, 'A');
    assert.ok(seen.includes('connect:A:failed') && seen.includes('connect:B:failed'), seen.join(' '));
    assert.deepEqual(seen.slice(-7), PROBE_STEPS.slice(1).map((s) => `${s}::skipped`));
    assert.match(r.failed!.message, /192\.0\.2\.3 cannot be reached over SSH/);
    assert.doesNotMatch(r.failed!.message, /\n/);
  } finally { rmSync(dir, { recursive: true, force: true }); }
});

test('a failing tool\'s reason: the last error line, past plugin noise and before usage text', () => {
  const swanctl = [
    "plugin 'test-vectors': failed to load - test_vectors_plugin_create not found and no plugin file available",
    "connecting to 'unix:///var/run/charon.vici' failed: No such file or directory",
    "Error: connecting to 'default' URI failed: No such file or directory",
    'strongSwan 5.9.8 swanctl', 'usage:', '  swanctl --list-conns [--raw|--pretty]', '           --uri             (-u)  service URI to connect to', '',
  ].join('\n');
  assert.equal(complaint(swanctl), "Error: connecting to 'default' URI failed: No such file or directory");
  assert.equal(complaint('sudo: a password is required\n'), 'sudo: a password is required');
  assert.equal(complaint('something odd\nmore'), 'something odd');
  assert.equal(complaint(''), undefined);
});
