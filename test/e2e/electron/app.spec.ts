// The desktop journey with Playwright's _electron: the real main process, preload and app://
// protocol around the built renderer. Same steps and selectors as test/e2e/browser/journey.spec.ts
// (create a session, import a real capture through the file input, rows shown), then quit and
// relaunch on the same profile: the session is still there; delete it.
//
// Needs the Electron binary (not downloadable on machines without GitHub access) and, on Linux,
// a display (run the suite under `xvfb-run -a`). Without them the tests skip with a one-line reason.
//
// Expected values come from tshark for the same file:
//   tshark -r afs.pcap -c 1 -T fields -e ip.src -e udp.srcport -e ip.dst -e udp.dstport -e frame.len
//   capinfos -c afs.pcap  → 601 packets

import { _electron as electron, expect, test, type ElectronApplication, type Locator, type Page } from '@playwright/test';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const ROOT = process.cwd();
const MAIN = join(ROOT, 'out', 'electron', 'main.cjs');
const AFS = resolve(ROOT, '../shared/corpus/tcpdump-tests/afs.pcap');

/** Why the desktop journey cannot run here, or undefined when it can. */
function skipReason(): string | undefined {
  try {
    // The electron package resolves to its binary's path and throws when path.txt is missing.
    const binary = createRequire(join(ROOT, 'package.json'))('electron') as unknown;
    if (typeof binary !== 'string' || !existsSync(binary)) throw new Error('binary not on disk');
  } catch {
    return 'Electron binary not installed (download blocked here): desktop journey not run';
  }
  if (process.platform === 'linux' && !process.env['DISPLAY'] && !process.env['WAYLAND_DISPLAY']) {
    return 'no display for the Electron window (run under xvfb-run -a): desktop journey not run';
  }
  if (!existsSync(MAIN) || !existsSync(join(ROOT, 'out', 'renderer', 'index.html'))) {
    return 'out/electron or out/renderer missing (run npm run build first): desktop journey not run';
  }
  return undefined;
}

const SKIP = skipReason();

function skipIfUnavailable(): void {
  if (SKIP) {
    console.log(`skip: ${SKIP}`);
    test.skip(true, SKIP);
  }
}

async function launch(userData: string): Promise<{ app: ElectronApplication; page: Page }> {
  const app = await electron.launch({
    args: [MAIN],
    cwd: ROOT,
    env: { ...process.env, TANDEM_USER_DATA: userData } as Record<string, string>,
    timeout: 30_000,
  });
  const page = await app.firstWindow();
  await page.waitForLoadState('domcontentloaded');
  return { app, page };
}

function cell(page: Page, frame: number, col: string): Locator {
  return page.locator(`[data-testid="packet-row"][data-frame="${frame}"] [data-col="${col}"]`);
}

test.describe('desktop app', () => {
  let userData = '';

  test.beforeEach(() => {
    userData = mkdtempSync(join(tmpdir(), 'tandem-e2e-profile-'));
  });

  test.afterEach(() => {
    if (userData) rmSync(userData, { recursive: true, force: true });
  });

  test('journey: create session, import, quit, relaunch → persisted, delete', async () => {
    skipIfUnavailable();
    let { app, page } = await launch(userData);
    try {
      expect(page.url()).toBe('app://tandem/index.html');
      expect(await app.evaluate(({ app: a }) => a.getPath('userData'))).toBe(userData);

      await expect(page.getByTestId('empty-app')).toBeVisible();
      await page.getByTestId('create-first-session').click();
      await expect(page.getByTestId('session-item')).toHaveCount(1);
      await expect(page.getByTestId('empty-session')).toBeVisible();

      await page.getByTestId('file-input').setInputFiles(AFS);
      await expect(page.getByTestId('import-job').first()).toBeVisible();
      await expect(page.locator('[data-testid="import-job"][data-state="done"]')).toHaveCount(1, { timeout: 45_000 });
      // The workbench is the default view; the single-capture list lives under Captures.
      await page.getByTestId('view-captures').click();
      await expect(page.getByTestId('packet-count')).toHaveText('601 packets');
      await expect(cell(page, 1, 'no')).toHaveText('1');
      await expect(cell(page, 1, 'src')).toHaveText('131.151.32.21:7001');
      await expect(cell(page, 1, 'dst')).toHaveText('131.151.1.59:7000');
      await expect(cell(page, 1, 'proto')).toHaveText('UDP');
      await expect(cell(page, 1, 'len')).toHaveText('86');
    } finally {
      await app.close();
    }

    // A new process on the same profile reads the session back from IndexedDB.
    ({ app, page } = await launch(userData));
    try {
      await expect(page.getByTestId('session-item')).toHaveCount(1);
      await page.getByTestId('session-item').click();
      await expect(page.getByTestId('capture-tab')).toHaveCount(1);
      // The workbench is the default view; the single-capture list lives under Captures.
      await page.getByTestId('view-captures').click();
      await expect(page.getByTestId('packet-count')).toHaveText('601 packets');
      await expect(cell(page, 1, 'src')).toHaveText('131.151.32.21:7001');
      await expect(cell(page, 1, 'len')).toHaveText('86');

      await page.getByTestId('delete-session').click();
      await page.getByTestId('confirm-delete-yes').click();
      await expect(page.getByTestId('session-item')).toHaveCount(0);
      await expect(page.getByTestId('empty-app')).toBeVisible();
    } finally {
      await app.close();
    }

    ({ app, page } = await launch(userData));
    try {
      await expect(page.getByTestId('empty-app')).toBeVisible();
      await expect(page.getByTestId('session-item')).toHaveCount(0);
    } finally {
      await app.close();
    }
  });

  test('shell: sandboxed window, typed bridge only, validated IPC, CSP, no navigation', async () => {
    skipIfUnavailable();
    const { app, page } = await launch(userData);
    try {
      const prefs = await app.evaluate(({ BrowserWindow }) => {
        const win = BrowserWindow.getAllWindows()[0]!;
        // Present at run time though missing from electron.d.ts.
        const contents = win.webContents as unknown as { getLastWebPreferences(): Record<string, unknown> | null };
        const p = contents.getLastWebPreferences();
        return {
          count: BrowserWindow.getAllWindows().length,
          size: win.getSize(),
          sandbox: p?.sandbox,
          contextIsolation: p?.contextIsolation,
          nodeIntegration: p?.nodeIntegration,
          webSecurity: p?.webSecurity,
        };
      });
      expect(prefs).toEqual({ count: 1, size: [1280, 800], sandbox: true, contextIsolation: true, nodeIntegration: false, webSecurity: true });

      // No Node in the page; the bridge holds exactly the contract's operations.
      const surface = await page.evaluate(() => {
        const g = globalThis as Record<string, unknown>;
        return { require: typeof g['require'], process: typeof g['process'], api: Object.keys(globalThis.tandem ?? {}).sort() };
      });
      expect(surface).toEqual({ require: 'undefined', process: 'undefined', api: ['app.info', 'file.open', 'file.save'] });

      const info = await page.evaluate(() => globalThis.tandem!['app.info']());
      expect(info.name).toBe('Tandem');
      expect(info.packaged).toBe(false);
      expect(info.versions.electron).toMatch(/^41\./);

      // The main process refuses bad arguments with a one-line message (before any dialog).
      const refused = await page.evaluate(() =>
        globalThis.tandem!['file.save']({ suggestedName: '../../.bashrc', data: new Uint8Array(4) }).then(
          () => 'accepted',
          (err: Error) => err.message,
        ),
      );
      expect(refused).toMatch(/^Invalid request: file\.save: suggestedName must not contain path separators/);

      // Responses carry the CSP header; new windows and foreign navigation are denied.
      const csp = await page.evaluate(async () => (await fetch('./index.html')).headers.get('content-security-policy'));
      expect(csp).toContain("script-src 'self'");
      expect(await page.evaluate(() => (globalThis as unknown as { open(u: string): unknown }).open('file:///etc/hostname') === null)).toBe(true);
      await page.evaluate(() => {
        (globalThis as unknown as { location: { href: string } }).location.href = 'file:///etc/hostname';
      });
      await page.waitForTimeout(500);
      expect(page.url()).toBe('app://tandem/index.html');
      expect(await app.evaluate(({ BrowserWindow }) => BrowserWindow.getAllWindows().length)).toBe(1);
    } finally {
      await app.close();
    }
  });
});
