// End-to-end tests: `browser` drives the built renderer (out/renderer) in Debian's Chromium with
// real IndexedDB; `electron` (test/e2e/electron) drives the desktop shell where its binary exists.
import { defineConfig } from '@playwright/test';

const chromiumArgs = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--no-first-run',
  '--disable-sync',
  '--disable-quic',
];

export default defineConfig({
  testDir: 'test/e2e',
  outputDir: 'test-results',
  timeout: 60_000,
  workers: 1,
  // One retry on CI only: a busy 2-core machine occasionally loses a Chromium launch; a real failure fails twice.
  retries: process.env['CI'] ? 1 : 0,
  // The count reporter feeds the closing "N passed, N failed, N skipped" line of `npm test`.
  reporter: [['list'], ['./scripts/pw-count-reporter.mjs']],
  use: {
    viewport: { width: 1280, height: 800 },
    screenshot: 'only-on-failure',
    trace: 'off',
  },
  webServer: {
    command: 'npx vite preview --host 127.0.0.1 --port 4173 --strictPort',
    url: 'http://127.0.0.1:4173/',
    reuseExistingServer: !process.env['CI'],
    timeout: 30_000,
  },
  projects: [
    {
      name: 'browser',
      testDir: 'test/e2e/browser',
      use: {
        baseURL: 'http://127.0.0.1:4173/',
        browserName: 'chromium',
        launchOptions: { executablePath: '/usr/bin/chromium', args: chromiumArgs },
      },
    },
    {
      name: 'electron',
      testDir: 'test/e2e/electron',
    },
  ],
});
