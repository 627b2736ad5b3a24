// Issue 14 at size: sorting, conversations and the clock pairs over two captures of ~1.3 M packets
// each run in the session worker; the UI thread must show no long task (> 50 ms) meanwhile.
// Issue 17: the import stores column chunks, and a reopen of the big session shows its first rows
// and stored verdict within 1 s and answers a filter within 2 s (the packets are read back as
// columns, not rebuilt). The lab's bulk pair (/tmp/tandem-lab/bulk/A.pcapng, B.pcapng) is the
// usual input.
// Input: TANDEM_WB_BIG_A and TANDEM_WB_BIG_B (e.g. lab-healthy's files doubled with `mergecap -a`
// and cut with `editcap -r … 1-1300000`); without them the test is skipped and says so.

import { expect, test, type Page } from '@playwright/test';
import { existsSync } from 'node:fs';

const A = process.env['TANDEM_WB_BIG_A'] ?? '';
const B = process.env['TANDEM_WB_BIG_B'] ?? '';

function inPage<T = unknown>(page: Page, expression: string): Promise<T> {
  return page.evaluate(expression) as Promise<T>;
}

test('sorting and conversations over two 1.3 M-packet captures leave the UI thread free', async ({ page }) => {
  test.skip(!A || !B || !existsSync(A) || !existsSync(B), 'set TANDEM_WB_BIG_A and TANDEM_WB_BIG_B to two large captures to run this');
  test.setTimeout(20 * 60_000);
  await page.goto('/');
  await page.getByTestId(/^(create-first-session|new-session)$/).first().click();
  await page.getByTestId('file-input').setInputFiles([A, B]);
  const plan = page.getByTestId('import-plan-start');
  if (await plan.isVisible({ timeout: 3000 }).catch(() => false)) await plan.click();
  await expect.poll(async () => page.locator('[data-testid="import-job"][data-state="done"]').count(), { timeout: 15 * 60_000, intervals: [2000] }).toBe(2);
  await expect(page.getByTestId('verdict')).not.toHaveAttribute('data-status', 'pending', { timeout: 10 * 60_000 });
  await expect(page.getByTestId('task-bar')).toHaveCount(0, { timeout: 10 * 60_000 });
  await inPage(page, `(() => {
    window.longTasks = [];
    new PerformanceObserver((l) => { for (const e of l.getEntries()) window.longTasks.push(Math.round(e.duration)); }).observe({ type: 'longtask' });
  })()`);
  const t0 = Date.now();
  await page.locator('[data-testid="pane-A"] [data-testid="col-len"]').click();
  await expect(page.getByTestId('pane-sort-A')).toHaveText(/Len ↑$/, { timeout: 120_000 });
  const sortMs = Date.now() - t0;
  const t1 = Date.now();
  await page.getByTestId('tab-conversations').click();
  await expect(page.getByTestId('conversations')).toBeVisible({ timeout: 120_000 });
  const convMs = Date.now() - t1;
  const t2 = Date.now();
  await page.getByTestId('tab-clock').click();
  await expect(page.getByTestId('clock-caption')).toContainText('tunnel packets', { timeout: 120_000 });
  const clockMs = Date.now() - t2;
  // Scroll the sorted pane a little: rows come from many chunks.
  await page.getByTestId('trace-list-A').hover();
  for (let i = 0; i < 10; i++) await page.mouse.wheel(0, 2000);
  await page.waitForTimeout(500);
  const longTasks = await inPage<number[]>(page, 'window.longTasks');
  console.log(`sort ${sortMs} ms, conversations ${convMs} ms, clock pairs ${clockMs} ms (click → shown); long tasks: ${JSON.stringify(longTasks)}`);
  expect(longTasks.filter((d) => d > 50)).toEqual([]);

  // Every chunk was stored as columns (no Packet objects to clone back on a reopen).
  const forms = await inPage<{ cols: number; objects: number }>(page, `new Promise((resolve) => {
    const open = indexedDB.open('tandem');
    open.onsuccess = () => {
      const out = { cols: 0, objects: 0 };
      const cur = open.result.transaction('packetChunks').objectStore('packetChunks').openCursor();
      cur.onsuccess = () => {
        const c = cur.result;
        if (!c) { open.result.close(); resolve(out); return; }
        if (c.value.cols) out.cols++; else out.objects++;
        c.continue();
      };
    };
  })`);
  expect(forms.objects).toBe(0);
  expect(forms.cols).toBeGreaterThan(500);

  // Reopen: a fresh page load of the stored session, three times.
  const runs: Array<{ rows: number; verdict: number; usable: number }> = [];
  for (let i = 0; i < 3; i++) {
    const t = Date.now();
    await page.reload();
    await expect(page.locator('[data-testid="trace-row"][data-host="A"]').first()).toBeVisible({ timeout: 60_000 });
    await expect(page.locator('[data-testid="trace-row"][data-host="B"]').first()).toBeVisible({ timeout: 60_000 });
    const rows = Date.now() - t;
    await expect(page.getByTestId('verdict')).not.toHaveAttribute('data-status', 'pending', { timeout: 60_000 });
    const verdict = Date.now() - t;
    await page.getByTestId('filter-input').fill('frame.len > 0');
    await page.getByTestId('filter-input').press('Enter');
    await expect(page.getByTestId('filter-ms')).toBeVisible({ timeout: 60_000 });
    runs.push({ rows, verdict, usable: Date.now() - t });
    await page.getByTestId('filter-input').fill('');
    await page.getByTestId('filter-input').press('Enter');
  }
  console.log(`reopen: ${runs.map((r) => `rows ${r.rows} ms, verdict ${r.verdict} ms, filter answered ${r.usable} ms`).join('; ')}`);
  const best = (k: 'rows' | 'verdict' | 'usable') => Math.min(...runs.map((r) => r[k]));
  // The best of three: one run can lose the CPU to another process on a shared machine.
  expect(best('rows')).toBeLessThanOrEqual(1000);
  expect(best('verdict')).toBeLessThanOrEqual(1000);
  expect(best('usable')).toBeLessThanOrEqual(2000);
});
