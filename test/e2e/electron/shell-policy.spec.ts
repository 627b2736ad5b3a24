// The part of the desktop shell that can be checked without the Electron binary: the built
// renderer served by the app:// handler's own code (electron/main/app-protocol.ts, same headers,
// same CSP, same MIME types), here behind a local HTTP server, in Debian's Chromium. If the CSP
// or a MIME type broke module scripts or the import worker, the import below would fail.

import { chromium, expect, test, type Browser } from '@playwright/test';
import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import { serveAppRequest } from '../../../electron/main/app-protocol.ts';
import { CONTENT_SECURITY_POLICY } from '../../../electron/main/security.ts';

const ROOT = process.cwd();
const RENDERER = join(ROOT, 'out', 'renderer');
const AFS = resolve(ROOT, '../shared/corpus/tcpdump-tests/afs.pcap');
const CHROMIUM = '/usr/bin/chromium';

let server: Server | undefined;
let browser: Browser | undefined;
let base = '';

test.beforeAll(async () => {
  if (!existsSync(join(RENDERER, 'index.html')) || !existsSync(CHROMIUM)) return;
  server = createServer((req, res) => {
    // Map http://127.0.0.1:PORT/<path> onto app://tandem/<path> and answer exactly as the shell does.
    void serveAppRequest(RENDERER, `app://tandem${req.url ?? '/'}`, req.method).then(async (response) => {
      res.writeHead(response.status, Object.fromEntries(response.headers));
      res.end(Buffer.from(await response.arrayBuffer()));
    });
  });
  await new Promise<void>((ok) => server!.listen(0, '127.0.0.1', ok));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
  });
});

test.afterAll(async () => {
  await browser?.close();
  await new Promise<void>((ok) => (server ? server.close(() => ok()) : ok()));
});

test('the built renderer runs under the shell CSP and MIME types: import works, nothing blocked', async () => {
  if (!browser) {
    const reason = `${existsSync(CHROMIUM) ? 'out/renderer not built (run npm run build)' : 'no /usr/bin/chromium'}: shell policy check not run`;
    console.log(`skip: ${reason}`);
    test.skip(true, reason);
    return;
  }
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  // Collect every CSP violation the page (or its worker) reports.
  await page.addInitScript(() => {
    const g = globalThis as unknown as { __csp: string[]; addEventListener(t: string, f: (e: { violatedDirective: string; blockedURI: string }) => void): void };
    g.__csp = [];
    g.addEventListener('securitypolicyviolation', (e) => g.__csp.push(`${e.violatedDirective} ${e.blockedURI}`));
  });
  const consoleErrors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') consoleErrors.push(m.text());
  });
  page.on('pageerror', (e) => consoleErrors.push(e.message));

  const response = await page.goto(`${base}/`);
  expect(response?.headers()['content-security-policy']).toBe(CONTENT_SECURITY_POLICY);
  await expect(page.getByTestId('empty-app')).toBeVisible();
  await page.getByTestId('create-first-session').click();
  await page.getByTestId('file-input').setInputFiles(AFS);
  await expect(page.locator('[data-testid="import-job"][data-state="done"]')).toHaveCount(1, { timeout: 45_000 });
  // The workbench is the default view; the single-capture list lives under Captures.
  await page.getByTestId('view-captures').click();
  await expect(page.getByTestId('packet-count')).toHaveText('601 packets');
  await expect(page.locator('[data-testid="packet-row"][data-frame="1"] [data-col="src"]')).toHaveText('131.151.32.21:7001');

  expect(await page.evaluate(() => (globalThis as unknown as { __csp: string[] }).__csp)).toEqual([]);
  expect(consoleErrors.filter((t) => /Content Security Policy|MIME type|Refused/i.test(t))).toEqual([]);
  await context.close();
});
