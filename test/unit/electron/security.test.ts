// The pure security policy of the desktop shell.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  CONTENT_SECURITY_POLICY,
  findDebugFlags,
  isAllowedNavigation,
  isPermissionAllowed,
  isSafeExternalUrl,
  userDataOverride,
} from '../../../electron/main/security.ts';

test('external links: https with a real host only', () => {
  assert.equal(isSafeExternalUrl('https://www.wireguard.com/quickstart/'), true);
  for (const url of ['http://example.com/', 'file:///etc/passwd', 'javascript:alert(1)', 'app://tandem/', 'https://user:pw@example.com/', 'https://localhost/', 'smb://host/share', '', 'https://' + 'a'.repeat(3000)]) {
    assert.equal(isSafeExternalUrl(url), false, url);
  }
});

test('navigation stays inside app://tandem', () => {
  assert.equal(isAllowedNavigation('app://tandem/index.html'), true);
  assert.equal(isAllowedNavigation('https://example.com/'), false);
  assert.equal(isAllowedNavigation('file:///home/user/capture.pcap'), false);
});

test('permissions: all denied except clipboard writes from our page', () => {
  assert.equal(isPermissionAllowed('clipboard-sanitized-write', 'app://tandem/index.html'), true);
  assert.equal(isPermissionAllowed('clipboard-sanitized-write', 'app://tandem'), true);
  assert.equal(isPermissionAllowed('clipboard-sanitized-write', 'https://example.com/'), false);
  for (const p of ['media', 'geolocation', 'notifications', 'clipboard-read', 'openExternal', 'serial', 'hid', 'fileSystem']) {
    assert.equal(isPermissionAllowed(p, 'app://tandem/index.html'), false, p);
  }
});

test('debugging switches are found in argv', () => {
  const argv = ['/opt/Tandem/tandem', '--inspect=0', '--remote-debugging-port=9222', '--enable-logging', 'capture.pcap', '--Remote-Debugging-Pipe'];
  assert.deepEqual(findDebugFlags(argv), ['--inspect=0', '--remote-debugging-port=9222', '--Remote-Debugging-Pipe']);
  assert.deepEqual(findDebugFlags(['/opt/Tandem/tandem', 'file.pcapng']), []);
});

test('CSP forbids inline and remote script, plugins, framing and form posts', () => {
  const directives = new Map(CONTENT_SECURITY_POLICY.split(';').map((d) => {
    const [name, ...values] = d.trim().split(/\s+/);
    return [name!, values];
  }));
  assert.deepEqual(directives.get('script-src'), ["'self'"]);
  assert.deepEqual(directives.get('object-src'), ["'none'"]);
  assert.deepEqual(directives.get('frame-ancestors'), ["'none'"]);
  assert.deepEqual(directives.get('form-action'), ["'none'"]);
  assert.ok(!CONTENT_SECURITY_POLICY.includes('unsafe-eval'));
  assert.ok(!CONTENT_SECURITY_POLICY.includes('unsafe-inline'));
});

test('TANDEM_USER_DATA becomes an absolute profile path', () => {
  assert.equal(userDataOverride({ TANDEM_USER_DATA: '/tmp/profile-1' }, '/work'), '/tmp/profile-1');
  assert.equal(userDataOverride({ TANDEM_USER_DATA: 'tmp/p' }, '/work'), '/work/tmp/p');
  assert.equal(userDataOverride({ TANDEM_USER_DATA: '' }, '/work'), undefined);
  assert.equal(userDataOverride({}, '/work'), undefined);
});

test('the PDF window runs no script and loads only its own report and inline data', async () => {
  const { PDF_CSP, PDF_WEB_PREFERENCES, isPdfRequestAllowed, pdfDocumentUrl, pdfTokenOf } = await import('../../../electron/main/security.ts');
  assert.equal(PDF_WEB_PREFERENCES.javascript, false);
  assert.equal(PDF_WEB_PREFERENCES.sandbox, true);
  assert.equal(PDF_WEB_PREFERENCES.nodeIntegration, false);
  assert.ok(!('preload' in PDF_WEB_PREFERENCES));
  assert.match(PDF_CSP, /default-src 'none'/);
  assert.doesNotMatch(PDF_CSP, /https?:|\*/);
  const token = '3f2b8c1e-1111-4a4a-9b9b-0123456789ab';
  const doc = pdfDocumentUrl(token);
  assert.equal(pdfTokenOf(doc), token);
  assert.equal(isPdfRequestAllowed(doc), true);
  assert.equal(isPdfRequestAllowed('data:image/png;base64,AAAA'), true);
  for (const url of ['https://example.com/x.png', 'file:///etc/passwd', 'tandem-pdf://report/../etc.html', 'tandem-pdf://other/abcdefgh.html', 'tandem-pdf://report/x.html', 'app://tandem/index.html', 'http://127.0.0.1/']) {
    assert.equal(isPdfRequestAllowed(url), false, url);
  }
});
