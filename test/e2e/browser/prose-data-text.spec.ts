// Capture text in the app's findings stays data: the lab pair where B has IP forwarding off, with
// B's LAN interface renamed in the pcapng's interface block to e`1` (a name Linux accepts). The
// next steps show exactly the engine's commands as code; the name is text, its backticks written
// \x60, so no code element comes from it (before, `1` became code).
import { expect, test } from '@playwright/test';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

const FIXTURES = resolve(process.cwd(), 'test/e2e/fixtures/lab-b-no-forward');
const OUT = resolve(process.cwd(), 'test-results/prose-data-text');

test('a backticked interface name in the findings panel is text, the commands are code', async ({ page }) => {
  mkdirSync(OUT, { recursive: true });
  const raw = readFileSync(join(FIXTURES, 'B.pcapng'));
  // Same length, so the block layout stays valid; the name occurs once, in B's interface block.
  const at = raw.indexOf('eth1');
  expect(at).toBeGreaterThan(0);
  expect(raw.indexOf('eth1', at + 1)).toBe(-1);
  const b = Buffer.from(raw);
  b.write('e`1`', at, 'latin1');
  const fileB = join(OUT, 'B.pcapng');
  writeFileSync(fileB, b);

  await page.goto('/');
  await expect(page.getByTestId('app')).toBeVisible();
  const before = await page.getByTestId('session-item').count();
  await page.getByTestId(before === 0 ? 'create-first-session' : 'new-session').click();
  await page.getByTestId('file-input').setInputFiles([join(FIXTURES, 'A.pcapng'), fileB]);
  await page.getByTestId('import-plan-start').click();
  await expect(page.getByTestId('verdict')).toHaveAttribute('data-status', 'fail', { timeout: 30_000 });
  await page.getByTestId('tab-findings').click();
  const steps = page.getByTestId('finding').first().locator('.next-steps');
  await expect(steps.locator('code')).toHaveText(['sysctl net.ipv4.ip_forward', 'nft list ruleset', 'ip route get 192.168.200.22']);
  await expect(steps).toContainText("forward must accept wg0 → 'e\\x601\\x60' to 192.168.200.22:80.");
  await expect(steps).toContainText("(must leave via 'e\\x601\\x60').");
});
