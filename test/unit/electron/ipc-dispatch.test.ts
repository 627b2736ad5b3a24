// The gate in front of every IPC handler: sender check, argument validation, clean error replies.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { dispatch, describeError, UserFacingError, type Handlers } from '../../../electron/main/ipc-dispatch.ts';

interface Ctx {
  dir: string;
  calls: string[];
}

// Real work behind the gate: file.save writes into a temp folder; file.open fails on a folder.

const handlers: Handlers<Ctx> = {
  'app.info': (ctx) => {
    ctx.calls.push('app.info');
    return { name: 'Tandem', version: '0.0.0', platform: process.platform, arch: process.arch, versions: { electron: '', chrome: '', node: process.versions.node }, packaged: false };
  },
  'file.save': async (ctx, req) => {
    ctx.calls.push('file.save');
    const { writeFile } = await import('node:fs/promises');
    const file = path.join(ctx.dir, req.suggestedName);
    await writeFile(file, req.data);
    return { saved: true, path: file };
  },
  'file.open': async (ctx) => {
    ctx.calls.push('file.open');
    // Reading a folder fails with EISDIR: the reply must say so in words.
    await readFile(ctx.dir);
    return [];
  },
  // The capture and PDF operations are driven for real in capture-manager.test.ts; here they only
  // show what reached them past the gate.
  'capture.devices': (ctx) => {
    ctx.calls.push('capture.devices');
    return [];
  },
  'capture.start': (ctx, req) => {
    ctx.calls.push(`capture.start ${req.interfaces.join(',')}`);
    return { id: 'c1' };
  },
  'capture.stop': (ctx, id) => {
    ctx.calls.push(`capture.stop ${id}`);
    throw new UserFacingError('That capture is not running in this window.');
  },
  'capture.startPaired': (ctx, req) => {
    ctx.calls.push(`capture.startPaired ${req.remote.host}`);
    return { id: 'c1', remoteId: 'c2' };
  },
  'report.pdf': (ctx, req) => {
    ctx.calls.push('report.pdf');
    return new TextEncoder().encode(req.html.slice(0, 4));
  },
  // The guided test runs for real in probe-ipc.test.ts.
  'probe.start': (ctx, req) => {
    ctx.calls.push(`probe.start ${req.target}`);
    return { probeId: 'p1' };
  },
  'probe.cancel': (ctx, id) => {
    ctx.calls.push(`probe.cancel ${id}`);
  },
  'probe.file': (ctx, id, name) => {
    ctx.calls.push(`probe.file ${id} ${name}`);
    return new Uint8Array(0);
  },
};

const trusted = { url: 'app://tandem/index.html', topLevel: true };

async function withCtx(fn: (ctx: Ctx) => Promise<void>): Promise<void> {
  const ctx = { dir: await mkdtemp(path.join(tmpdir(), 'tandem-ipc-')), calls: [] };
  try {
    await fn(ctx);
  } finally {
    await rm(ctx.dir, { recursive: true, force: true });
  }
}

test('a trusted sender with valid arguments reaches the handler', async () => {
  await withCtx(async (ctx) => {
    const data = new TextEncoder().encode('frame bytes');
    const reply = await dispatch('file.save', trusted, [{ suggestedName: 'out.bin', data }], handlers, ctx);
    assert.deepEqual(reply, { ok: true, value: { saved: true, path: path.join(ctx.dir, 'out.bin') } });
    assert.deepEqual(new Uint8Array(await readFile(path.join(ctx.dir, 'out.bin'))), data);
    assert.deepEqual(ctx.calls, ['file.save']);
  });
});

test('a wrong sender URL or a sub-frame is refused before the handler runs', async () => {
  await withCtx(async (ctx) => {
    const senders = [
      { url: 'https://example.com/', topLevel: true },
      { url: 'file:///tmp/evil.html', topLevel: true },
      { url: 'app://tandem.evil/', topLevel: true },
      { url: undefined, topLevel: true },
      { url: 'app://tandem/index.html', topLevel: false },
    ];
    for (const sender of senders) {
      const reply = await dispatch('app.info', sender, [], handlers, ctx);
      assert.equal(reply.ok, false, JSON.stringify(sender));
      assert.match(!reply.ok ? reply.error : '', /did not come from the Tandem window/);
    }
    assert.deepEqual(ctx.calls, []);
  });
});

test('bad arguments give a one-line "Invalid request" reply and the handler does not run', async () => {
  await withCtx(async (ctx) => {
    const cases: unknown[][] = [
      [{ suggestedName: '../../.bashrc', data: new Uint8Array(1) }],
      [{ suggestedName: 'a.pcap', data: 'text' }],
      [],
    ];
    for (const args of cases) {
      const reply = await dispatch('file.save', trusted, args, handlers, ctx);
      assert.equal(reply.ok, false);
      const error = !reply.ok ? reply.error : '';
      assert.match(error, /^Invalid request: file\.save/);
      assert.ok(!error.includes('\n') && !error.includes('    at '), error);
    }
    assert.deepEqual(ctx.calls, []);
  });
});

test('a failing handler becomes a plain sentence, not a stack trace', async () => {
  await withCtx(async (ctx) => {
    const reply = await dispatch('file.open', trusted, [], handlers, ctx);
    assert.deepEqual(reply, { ok: false, error: 'file.open failed: that is a folder, not a file.' });
  });
  assert.equal(describeError('file.open', new UserFacingError('Too big.')), 'Too big.');
  const multi = describeError('app.info', new Error('first line\n    at secret (/x.js:1:1)'));
  assert.equal(multi, 'app.info failed: first line');
});

test('capture and pdf operations pass the same gate: validated arguments in, sentence errors out', async () => {
  await withCtx(async (ctx) => {
    const start = { interfaces: ['lo'], filter: 'udp', snaplen: 65535, promiscuous: false };
    assert.deepEqual(await dispatch('capture.start', trusted, [start], handlers, ctx), { ok: true, value: { id: 'c1' } });
    const evil = await dispatch('capture.start', { url: 'https://example.com/', topLevel: true }, [start], handlers, ctx);
    assert.equal(evil.ok, false);
    const bad = await dispatch('capture.start', trusted, [{ ...start, interfaces: ['../etc'] }], handlers, ctx);
    assert.match(!bad.ok ? bad.error : '', /^Invalid request: capture\.start: interfaces\[0\]/);
    assert.deepEqual(await dispatch('capture.stop', trusted, ['c1'], handlers, ctx), { ok: false, error: 'That capture is not running in this window.' });
    const pdf = await dispatch('report.pdf', trusted, [{ html: '<!doctype html>' }], handlers, ctx);
    assert.deepEqual(pdf, { ok: true, value: new TextEncoder().encode('<!do') });
    assert.equal((await dispatch('report.pdf', trusted, [{ html: '' }], handlers, ctx)).ok, false);
    assert.deepEqual(ctx.calls, ['capture.start lo', 'capture.stop c1', 'report.pdf']);
  });
});

test('capture.startPaired reaches its handler only with a valid far end', async () => {
  await withCtx(async (ctx) => {
    const local = { interfaces: ['lo'], filter: 'udp', snaplen: 65535, promiscuous: false };
    const remote = { host: 'peer.example', user: 'ops', port: 2222, identityFile: '/home/ops/.ssh/id_ed25519', interface: 'any', filter: 'udp', sudo: true };
    assert.deepEqual(await dispatch('capture.startPaired', trusted, [{ local, remote }], handlers, ctx), { ok: true, value: { id: 'c1', remoteId: 'c2' } });
    const injected = await dispatch('capture.startPaired', trusted, [{ local, remote: { ...remote, host: '-oProxyCommand=touch /tmp/x' } }], handlers, ctx);
    assert.match(!injected.ok ? injected.error : '', /^Invalid request: capture\.startPaired: remote\.host must not start with "-"/);
    const foreign = await dispatch('capture.startPaired', { url: 'https://example.com/', topLevel: true }, [{ local, remote }], handlers, ctx);
    assert.equal(foreign.ok, false);
    assert.deepEqual(ctx.calls, ['capture.startPaired peer.example']);
  });
});
