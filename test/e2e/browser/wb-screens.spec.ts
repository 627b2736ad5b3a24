// Screenshots of the workbench for review (issue 14's acceptance): workbench, ladder, findings,
// clock, detail and conversations at 1280×800 and 1920×1080, light and dark, written to
// /work/screens (outside the repository). Each view is also checked to fit the window.

import { expect, test } from '@playwright/test';
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';

const FIXTURES = resolve(process.cwd(), 'test/e2e/fixtures');
const SCREENS = process.env['TANDEM_SCREENS'] ?? '/work/screens';
mkdirSync(SCREENS, { recursive: true });

for (const size of [{ width: 1280, height: 800 }, { width: 1920, height: 1080 }]) {
  test(`screens at ${size.width}x${size.height}, light and dark`, async ({ page }) => {
    await page.setViewportSize(size);
    await page.goto('/');
    await page.getByTestId(/^(create-first-session|new-session)$/).first().click();
    await page.getByTestId('file-input').setInputFiles([join(FIXTURES, 'lab-b-no-forward', 'A.pcapng'), join(FIXTURES, 'lab-b-no-forward', 'B.pcapng')]);
    const plan = page.getByTestId('import-plan-start');
    if (await plan.isVisible({ timeout: 2000 }).catch(() => false)) await plan.click();
    await expect(page.getByTestId('verdict')).toHaveAttribute('data-status', 'fail', { timeout: 30_000 });
    const dismiss = page.getByTestId('import-job').getByRole('button', { name: 'Dismiss' });
    while ((await dismiss.count()) > 0) await dismiss.first().click();
    await page.locator('[data-testid="cp-chip"][data-label="B4"]').click();
    for (const scheme of ['light', 'dark'] as const) {
      await page.emulateMedia({ colorScheme: scheme });
      const name = (view: string) => join(SCREENS, `${view}-${size.width}x${size.height}-${scheme}.png`);
      await page.getByTestId('tab-findings').click();
      await page.screenshot({ path: name('workbench') });
      await page.getByTestId('panel-size').click();
      await page.screenshot({ path: name('findings') });
      await page.getByTestId('tab-ladder').click();
      const hop = page.locator('[data-testid="ladder-hop"] circle.hit').last();
      await hop.hover();
      await page.screenshot({ path: name('ladder') });
      await page.getByTestId('tab-clock').click();
      await expect(page.getByTestId('clock-caption')).toContainText('tunnel packets');
      await page.screenshot({ path: name('clock') });
      await page.getByTestId('tab-detail').click();
      await page.screenshot({ path: name('detail') });
      await page.getByTestId('tab-conversations').click();
      await expect(page.getByTestId('conversations')).toBeVisible();
      await page.screenshot({ path: name('conversations') });
      await page.getByTestId('panel-size').click();
      expect(await page.evaluate('document.documentElement.scrollHeight <= window.innerHeight')).toBe(true);
      await page.locator('[data-testid="trace-row"][data-host="A"]').first().click({ button: 'right' });
      await page.screenshot({ path: name('context-menu') });
      await page.keyboard.press('Escape');
    }
  });
}
