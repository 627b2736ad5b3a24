// The app:// handler that serves the renderer: real files in, real Responses out, and nothing
// outside the root ever served.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, writeFile, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { mimeTypeFor, resolveAppPath, serveAppRequest } from '../../../electron/main/app-protocol.ts';
import { CONTENT_SECURITY_POLICY } from '../../../electron/main/security.ts';

let dir = '';
let root = '';
const SECRET = 'secret outside the renderer root\n';

before(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'tandem-protocol-'));
  root = path.join(dir, 'renderer');
  await mkdir(path.join(root, 'assets'), { recursive: true });
  await writeFile(path.join(root, 'index.html'), '<!doctype html><script type="module" src="./assets/index-abc.js"></script>');
  await writeFile(path.join(root, 'assets', 'index-abc.js'), 'export const x = 1;\n');
  await writeFile(path.join(root, 'assets', 'parse.worker-def.js'), 'self.onmessage = () => {};\n');
  await writeFile(path.join(root, 'assets', 'index-abc.css'), 'body{margin:0}\n');
  await writeFile(path.join(dir, 'secret.txt'), SECRET);
  // A sibling folder whose name starts with the root's name: a naive prefix check would allow it.
  await mkdir(path.join(dir, 'renderer-evil'));
  await writeFile(path.join(dir, 'renderer-evil', 'x.js'), SECRET);
});

after(async () => {
  await rm(dir, { recursive: true, force: true });
});

test('serves index.html for the root URL with the CSP header', async () => {
  for (const url of ['app://tandem/', 'app://tandem', 'app://tandem/index.html']) {
    const res = await serveAppRequest(root, url);
    assert.equal(res.status, 200, url);
    assert.equal(res.headers.get('content-type'), 'text/html; charset=utf-8');
    assert.equal(res.headers.get('content-security-policy'), CONTENT_SECURITY_POLICY);
    assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
    assert.equal(await res.text(), await readFile(path.join(root, 'index.html'), 'utf8'));
  }
});

test('serves module scripts and workers with a JavaScript MIME type (module loading requires it)', async () => {
  for (const name of ['index-abc.js', 'parse.worker-def.js']) {
    const res = await serveAppRequest(root, `app://tandem/assets/${name}?v=1#frag`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'text/javascript; charset=utf-8');
    assert.equal(await res.text(), await readFile(path.join(root, 'assets', name), 'utf8'));
  }
  const css = await serveAppRequest(root, 'app://tandem/assets/index-abc.css');
  assert.equal(css.headers.get('content-type'), 'text/css; charset=utf-8');
  assert.equal(mimeTypeFor('x.wasm'), 'application/wasm');
  assert.equal(mimeTypeFor('x.unknown'), 'application/octet-stream');
});

test('HEAD answers without a body; other methods are refused', async () => {
  const head = await serveAppRequest(root, 'app://tandem/index.html', 'HEAD');
  assert.equal(head.status, 200);
  assert.equal(await head.text(), '');
  assert.equal((await serveAppRequest(root, 'app://tandem/index.html', 'POST')).status, 405);
});

test('missing files and folders are 404', async () => {
  assert.equal((await serveAppRequest(root, 'app://tandem/nope.js')).status, 404);
  assert.equal((await serveAppRequest(root, 'app://tandem/assets')).status, 404);
});

test('path traversal never reaches a file outside the root', async () => {
  const attempts = [
    'app://tandem/../secret.txt',
    'app://tandem/%2e%2e/secret.txt',
    'app://tandem/assets/%2E%2E/%2e%2e/secret.txt',
    'app://tandem/assets%2f..%2f..%2fsecret.txt',
    'app://tandem/%2e%2e%2fsecret.txt',
    'app://tandem/..%5csecret.txt',
    'app://tandem/assets/..%5c..%5csecret.txt',
    'app://tandem/%00/../secret.txt',
    'app://tandem/' + encodeURIComponent(path.join(dir, 'secret.txt')),
    'app://tandem/..%2frenderer-evil%2fx.js',
    'app://tandem/%E0%A4%A',
    'app://evil/secret.txt',
    'app://tandem.evil/index.html',
    'file:///etc/passwd',
  ];
  for (const url of attempts) {
    const res = await serveAppRequest(root, url);
    const body = await res.text();
    assert.notEqual(res.status, 200, url);
    assert.ok(!body.includes('secret outside'), url);
  }
});

test('resolveAppPath explains its refusals', () => {
  assert.deepEqual(resolveAppPath(root, 'app://tandem/assets/index-abc.js'), { ok: true, file: path.join(root, 'assets', 'index-abc.js') });
  assert.equal(resolveAppPath(root, 'app://tandem/a%2f..%2f..%2fsecret.txt').ok, false);
  const foreign = resolveAppPath(root, 'app://other/index.html');
  assert.equal(foreign.ok, false);
  assert.equal(!foreign.ok && foreign.status, 403);
  // The root itself (a folder) is not a file path that can be served.
  assert.equal(resolveAppPath(root + path.sep, 'app://tandem/index.html').ok, true);
});
