// Issue 14, items 3–11 and 13 and the comforts a Wireshark user expects, in Debian's Chromium against
// the built renderer with real lab captures (test/e2e/fixtures, copied from the lab's runs).
//
// Expected values come from tshark on the same files, not from the app:
//  - lab-healthy/A.pcapng: `tshark -d udp.port==51820,wg -T fields -e frame.number -e
//    frame.time_relative -e _ws.col.Protocol -e frame.len -e _ws.col.Info`: frame 1 at 0.000000000,
//    frame 2 at 0.002364941, frame 15 "Handshake Initiation, sender=0x0805B746" (190 bytes, 0.000341670),
//    16 "Handshake Response, sender=0x48D09932, receiver=0x0805B746" (0.001849016), 17 "Transport Data,
//    receiver=0x48D09932, counter=0"; 14 WireGuard frames (15–28); lengths 42 (frames 13, 14) to 346
//    (frame 22); `-t u` puts frame 1 at 02:37:59.059256533 UTC.
//  - lab-healthy/B.pcapng: the same 14 WireGuard messages (B frames 3–16): 8 travel A→B (the initiation
//    and receiver 0x48D09932, counters 0–6) and 6 B→A (the response and receiver 0x0805B746, 0–4).
//  - `tshark -q -z conv,tcp` on A: one TCP conversation 10.0.0.1:39782 <-> 192.168.200.22:80, 12 frames.
//  - lab-healthy/A-any.pcap (SLL2, no names): `-e sll.ifindex` gives 3 for 12 frames and 2 for 16.
//  - lab-b-no-forward: B5 is not seen (run.json: curl timed out; B had IP forwarding off).

import { expect, test, type Locator, type Page } from '@playwright/test';
import { copyFileSync, mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

const FIXTURES = resolve(process.cwd(), 'test/e2e/fixtures');
const HEALTHY = join(FIXTURES, 'lab-healthy');
const SCREENS = '/work/screens';
mkdirSync(SCREENS, { recursive: true });

function row(page: Page, host: 'A' | 'B', frame: number): Locator {
  return page.locator(`[data-testid="trace-row"][data-host="${host}"][data-frame="${frame}"]`);
}
function cell(page: Page, host: 'A' | 'B', frame: number, col: string): Locator {
  return row(page, host, frame).locator(`[data-col="${col}"]`);
}
function firstRow(page: Page, host: 'A' | 'B'): Locator {
  return page.locator(`[data-testid="trace-row"][data-host="${host}"][data-row]`).first();
}

async function newSessionWith(page: Page, files: string[]): Promise<void> {
  await page.goto('/');
  await expect(page.getByTestId('app')).toBeVisible();
  const before = await page.getByTestId('session-item').count();
  await page.getByTestId(before === 0 ? 'create-first-session' : 'new-session').click();
  await expect(page.getByTestId('empty-session')).toBeVisible();
  await page.getByTestId('file-input').setInputFiles(files);
  // Two files: the import shows which becomes A and which B before it starts (helper "import"'s plan step).
  const plan = page.getByTestId('import-plan-start');
  if (files.length > 1 && (await plan.isVisible({ timeout: 2000 }).catch(() => false))) await plan.click();
  await expect
    .poll(async () => page.locator('[data-testid="import-job"][data-state="done"]').count(), { timeout: 30_000 })
    .toBe(files.length);
  await expect(page.getByTestId('workbench')).toBeVisible();
}

async function healthy(page: Page): Promise<void> {
  await newSessionWith(page, [join(HEALTHY, 'A.pcapng'), join(HEALTHY, 'B.pcapng')]);
  await expect(page.getByTestId('verdict')).toHaveAttribute('data-status', 'ok', { timeout: 20_000 });
}

/** Runs browser-side code given as text (this file is type-checked without the DOM library). */
function inPage<T = unknown>(page: Page, expression: string): Promise<T> {
  return page.evaluate(expression) as Promise<T>;
}

/** WCAG contrast ratio of two CSS colours (rgb/rgba as computed by the browser). */
function contrast(fg: string, bg: string): number {
  const parse = (c: string) => (c.match(/[\d.]+/g) ?? []).slice(0, 3).map(Number);
  const lum = (c: number[]) => {
    const [r, g, b] = c.map((v) => {
      const s = v / 255;
      return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
    });
    return 0.2126 * r! + 0.7152 * g! + 0.0722 * b!;
  };
  const a = lum(parse(fg));
  const b = lum(parse(bg));
  return (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
}

test('item 3: Home/End/PageDown in one list carry the other along with "scroll together"', async ({ page }) => {
  await healthy(page);
  const listB = page.getByTestId('trace-list-B');
  const topB = () => listB.evaluate((el) => el.scrollTop);
  // Rows without a twin on the other host (ARP, the NAT's and the tunnel's own traffic) are the
  // case the issue saw: nothing else moved the other list. "not checkpoint && not wg" keeps them.
  await page.getByTestId('filter-input').fill('arp || tcp');
  await expect(page.getByTestId('pane-count-B')).toHaveText(/ of 42 packets/);
  const shownB = Number((await page.getByTestId('pane-count-B').textContent())!.split(' ')[0]);
  test.skip(shownB < 16, 'B needs more rows than fit in its list for this check');
  await page.getByTestId('trace-list-A').focus();
  await page.keyboard.press('End');
  await expect.poll(topB).toBeGreaterThan(0);
  const afterEnd = await topB();
  await page.keyboard.press('Home');
  await expect.poll(topB).toBeLessThan(afterEnd);
  // Off: the other list stays where it is.
  await page.getByTestId('sync-toggle').uncheck();
  const before = await topB();
  await page.getByTestId('trace-list-A').focus();
  await page.keyboard.press('ArrowDown');
  await page.keyboard.press('End');
  await page.waitForTimeout(300);
  const twinShown = await page.locator('[data-testid="trace-row"][data-host="B"][data-twin="true"]').count();
  if (twinShown === 0) expect(await topB()).toBe(before);
});

test('item 4: numbers and times fit their cells and have tooltips, also after a column is narrowed and widened', async ({ page }) => {
  await healthy(page);
  const cut = () => inPage<string[]>(page, `(() => {
    const bad = [];
    for (const c of document.querySelectorAll('[data-testid="trace-row"] [data-col="no"], [data-testid="trace-row"] [data-col="time"], [data-testid="trace-row"] [data-col="len"]')) {
      if (c.scrollWidth > c.clientWidth) bad.push(c.textContent);
      if (!c.title) bad.push('no title: ' + c.textContent);
    }
    return bad;
  })()`);
  expect(await cut()).toEqual([]);
  // Absolute time is longer: still whole.
  await page.getByTestId('wb-time-mode').selectOption('utc');
  await expect(cell(page, 'A', 1, 'time')).toHaveText('02:37:59.059256');
  expect(await cut()).toEqual([]);
  await expect(cell(page, 'A', 1, 'time')).toHaveAttribute('title', /2026-|20\d\d-\d\d-\d\d 02:37:59\.059256533 UTC/);
});

test('item 5: times count from A\'s first packet itself, the same in the header, the cells and the Captures view', async ({ page }) => {
  await healthy(page);
  await expect(page.locator('[data-testid="pane-A"] [data-testid="col-time"]')).toHaveAttribute('title', /since host A's first packet/);
  await expect(cell(page, 'A', 1, 'time')).toHaveText('0.000000');
  await expect(cell(page, 'A', 2, 'time')).toHaveText('0.002365');
  await expect(cell(page, 'A', 15, 'time')).toHaveText('0.000342');
  await page.getByTestId('view-captures').click();
  await page.locator('[data-testid="capture-tab"][data-host="A"]').click();
  const capRow = page.locator('[data-testid="packet-row"][data-frame="2"] [data-col="time"]');
  // The Captures view prints nanoseconds: the same instant, to the digits the workbench shows.
  await expect(capRow).toHaveText(/^00:00:00\.0023649/);
});

test('item 6: the Export menu closes on Escape, a click elsewhere and leaving the window', async ({ page }) => {
  await healthy(page);
  const menu = page.getByTestId('export-menu');
  await page.getByTestId('export').click();
  await expect(menu).toBeVisible();
  await page.getByTestId('trace-list-A').focus();
  await page.keyboard.press('Escape');
  await expect(menu).toBeHidden();
  await page.getByTestId('export').click();
  await expect(menu).toBeVisible();
  await page.getByTestId('verdict').click();
  await expect(menu).toBeHidden();
  await page.getByTestId('export').click();
  await page.getByTestId('view-captures').click();
  await expect(menu).toBeHidden();
  await page.getByTestId('export').click();
  await expect(menu).toBeVisible();
  await inPage(page, `window.dispatchEvent(new Event('blur'))`);
  await expect(menu).toBeHidden();
});

test('item 7: the lists get more rows by default, "larger" stays inside the window, the split is resizable', async ({ page }) => {
  await healthy(page);
  // The finished import rows belong to the import bar (dismissable): the default is judged without them.
  const dismiss = page.getByTestId('import-job').getByRole('button', { name: 'Dismiss' });
  while ((await dismiss.count()) > 0) await dismiss.first().click();
  await expect(page.getByTestId('import-job')).toHaveCount(0);
  const visibleRows = () => inPage<number>(page, `(() => {
    const list = document.querySelector('[data-testid="trace-list-B"]');
    const box = list.getBoundingClientRect();
    return [...list.querySelectorAll('[data-testid="trace-row"]')].filter((r) => {
      const b = r.getBoundingClientRect();
      return b.top >= box.top + 20 && b.bottom <= box.bottom + 1;
    }).length;
  })()`);
  expect(await visibleRows()).toBeGreaterThanOrEqual(12);
  const fits = () => inPage<{ page: boolean; status: boolean }>(page, `({
    page: document.documentElement.scrollHeight <= window.innerHeight,
    status: document.querySelector('[data-testid="status-bar"]').getBoundingClientRect().bottom <= window.innerHeight,
  })`);
  await page.getByTestId('panel-size').click();
  await expect(page.getByTestId('panel-size')).toHaveText(/smaller/);
  expect(await fits()).toEqual({ page: true, status: true });
  expect(await visibleRows()).toBeGreaterThanOrEqual(3);
  await page.screenshot({ path: join(SCREENS, 'item7-larger-1280x800.png') });
  // A smaller window keeps it inside too.
  await page.setViewportSize({ width: 1280, height: 640 });
  await page.waitForTimeout(200);
  expect(await fits()).toEqual({ page: true, status: true });
  await page.setViewportSize({ width: 1280, height: 800 });
  if (/smaller/.test((await page.getByTestId('panel-size').textContent()) ?? '')) await page.getByTestId('panel-size').click();
  await expect(page.getByTestId('panel-size')).toHaveText(/larger/);
  // The splitter: dragging it up gives the panels room.
  const split = page.getByRole('separator', { name: /Resize the panels/ });
  const before = await page.locator('.wb-panels').evaluate((el) => el.getBoundingClientRect().height);
  const box = (await split.boundingBox())!;
  await page.mouse.move(box.x + 50, box.y + 3);
  await page.mouse.down();
  await page.mouse.move(box.x + 50, box.y - 80, { steps: 4 });
  await page.mouse.up();
  const after = await page.locator('.wb-panels').evaluate((el) => el.getBoundingClientRect().height);
  expect(after - before).toBeGreaterThan(60);
});

test('item 8: ladder hop labels do not overlap or leave the drawing; the hover card stays in the window', async ({ page }) => {
  await healthy(page);
  await page.getByTestId('tab-ladder').click();
  await expect(page.getByTestId('ladder')).toBeVisible();
  const problems = await inPage<{ out: string[]; n: number }>(page, `(() => {
    const svg = document.querySelector('.ladder-svg');
    const vb = svg.viewBox.baseVal;
    const boxes = [...svg.querySelectorAll('[data-testid="ladder-hop-label"]')].map((t) => ({ t: t.textContent, b: t.getBBox() }));
    const out = [];
    for (const { t, b } of boxes) if (b.x < 0 || b.y < 0 || b.x + b.width > vb.width || b.y + b.height > vb.height) out.push('outside: ' + t);
    for (let i = 0; i < boxes.length; i++) {
      for (let j = i + 1; j < boxes.length; j++) {
        const a = boxes[i].b, c = boxes[j].b;
        const w = Math.min(a.x + a.width, c.x + c.width) - Math.max(a.x, c.x);
        const h = Math.min(a.y + a.height, c.y + c.height) - Math.max(a.y, c.y);
        if (w > 1 && h > 1) out.push('overlap: ' + boxes[i].t + ' / ' + boxes[j].t);
      }
    }
    return { out, n: boxes.length };
  })()`);
  expect(problems.n).toBeGreaterThan(4);
  expect(problems.out).toEqual([]);
  // The hop furthest right: its card must not be cut at the window's edge.
  const hops = page.locator('[data-testid="ladder-hop"] circle.hit');
  const n = await hops.count();
  let right = 0;
  let rightX = -1;
  for (let i = 0; i < n; i++) {
    const b = (await hops.nth(i).boundingBox())!;
    if (b.x > rightX) { rightX = b.x; right = i; }
  }
  await page.setViewportSize({ width: 900, height: 700 });
  await hops.nth(right).scrollIntoViewIfNeeded();
  await hops.nth(right).hover();
  const card = page.getByTestId('ladder-hover');
  await expect(card).toBeVisible();
  const cb = (await card.boundingBox())!;
  const vp = page.viewportSize()!;
  expect(cb.x).toBeGreaterThanOrEqual(0);
  expect(cb.x + cb.width).toBeLessThanOrEqual(vp.width);
  expect(cb.y + cb.height).toBeLessThanOrEqual(vp.height);
});

test('item 9: the current checkpoint chip stays readable under the mouse, light and dark', async ({ page }) => {
  await healthy(page);
  for (const scheme of ['light', 'dark'] as const) {
    await page.emulateMedia({ colorScheme: scheme });
    for (const label of ['A1', 'B4']) {
      const chip = page.locator(`[data-testid="cp-chip"][data-label="${label}"]`);
      await chip.click();
      await expect(chip).toHaveClass(/current/);
      await chip.hover();
      await page.waitForTimeout(50);
      const color = await chip.evaluate((el) => el.ownerDocument.defaultView!.getComputedStyle(el).color);
      const bg = await chip.evaluate((el) => el.ownerDocument.defaultView!.getComputedStyle(el).backgroundColor);
      expect(contrast(color, bg), `${label} ${scheme}: ${color} on ${bg}`).toBeGreaterThanOrEqual(3);
    }
  }
});

test('item 10: iface == if3 matches what the column shows; impossible ports are refused; counts never flash the totals', async ({ page }) => {
  await newSessionWith(page, [join(HEALTHY, 'A-any.pcap'), join(HEALTHY, 'B.pcapng')]);
  await expect(cell(page, 'A', 1, 'iface')).toHaveText(/^if3/);
  await page.getByTestId('filter-input').fill('iface == if3');
  await expect(page.getByTestId('pane-count-A')).toHaveText('12 of 28 packets');
  await page.getByTestId('filter-input').fill('iface == "if2"');
  await expect(page.getByTestId('pane-count-A')).toHaveText('16 of 28 packets');
  for (const bad of ['tcp.port == 99999', 'udp.port in {80 70000}', 'ip.ttl > 256', 'wg.type == 0x100']) {
    await page.getByTestId('filter-input').fill(bad);
    await expect(page.getByTestId('filter-error')).toContainText('too big', { timeout: 5000 });
  }
  await page.getByTestId('filter-input').fill('tcp.port == 65535');
  await expect(page.getByTestId('pane-count-A')).toHaveText('0 of 28 packets');
  // Record every text the count shows while the filter changes: never the bare total.
  await page.getByTestId('filter-input').fill('udp');
  await expect(page.getByTestId('pane-count-A')).toHaveText(/of 28 packets/);
  await inPage(page, `(() => {
    window.seen = [];
    const el = document.querySelector('[data-testid="pane-count-A"]');
    new MutationObserver(() => window.seen.push(el.textContent)).observe(el, { childList: true, characterData: true, subtree: true });
  })()`);
  await page.getByTestId('filter-input').fill('tcp');
  await expect(page.getByTestId('pane-count-A')).toHaveText('12 of 28 packets');
  const seen = await inPage<string[]>(page, 'window.seen');
  expect(seen.filter((t) => t === '28 packets')).toEqual([]);
});

test('item 11: the clock plot draws every pair found on both hosts, A→B and B→A told apart', async ({ page }) => {
  await healthy(page);
  await page.getByTestId('tab-clock').click();
  await expect(page.getByTestId('clock-caption')).toContainText('14 tunnel packets seen on both hosts');
  await expect(page.locator('[data-testid="clock-pt"][data-dir="AB"]')).toHaveCount(8);
  await expect(page.locator('[data-testid="clock-pt"][data-dir="BA"]')).toHaveCount(6);
  // Different shapes, not only colours.
  const tags = await page.locator('[data-testid="clock-pt"]').evaluateAll((els) => [...new Set(els.map((e) => `${e.getAttribute('data-dir')}:${e.tagName}`))].sort());
  expect(tags).toEqual(['AB:circle', 'BA:path']);
});

test('item 13: a note on a missing checkpoint, from its chip', async ({ page }) => {
  const dir = join(FIXTURES, 'lab-b-no-forward');
  await newSessionWith(page, [join(dir, 'A.pcapng'), join(dir, 'B.pcapng')]);
  await expect(page.getByTestId('verdict')).toHaveAttribute('data-status', 'fail', { timeout: 20_000 });
  const b5 = page.locator('[data-testid="cp-chip"][data-label="B5"]');
  await expect(b5).toHaveAttribute('data-missing', 'true');
  await b5.click();
  await expect(page.getByTestId('notes-panel')).toBeVisible();
  await expect(page.getByTestId('note-target').locator('option:checked')).toHaveText('checkpoint B5');
  await page.getByTestId('note-text').fill('ip_forward is 0 on B: nothing leaves eth1');
  await page.getByTestId('note-add').click();
  await expect(page.locator('[data-testid="note"][data-target="checkpoint:B5"]')).toContainText('ip_forward is 0');
  await expect(b5).toHaveClass(/noted/);
  await expect(b5).toHaveAttribute('title', /ip_forward is 0/);
});

test('Info, Protocol and Length columns name tunnel messages as Wireshark does', async ({ page }) => {
  await healthy(page);
  await page.getByTestId('filter-input').fill('wg');
  await expect(page.getByTestId('pane-count-A')).toHaveText('14 of 28 packets');
  await expect(cell(page, 'A', 15, 'info')).toHaveText('Handshake Initiation, sender=0x0805B746');
  await expect(cell(page, 'A', 16, 'info')).toHaveText('Handshake Response, sender=0x48D09932, receiver=0x0805B746');
  await expect(cell(page, 'A', 17, 'info')).toHaveText('Transport Data, receiver=0x48D09932, counter=0');
  await expect(cell(page, 'A', 15, 'proto')).toHaveText('WireGuard');
  await expect(cell(page, 'A', 15, 'len')).toHaveText('190');
  await expect(cell(page, 'B', 4, 'info')).toHaveText('Handshake Response, sender=0x48D09932, receiver=0x0805B746');
});

test('column sorting (asc, desc, file order) and resizing', async ({ page }) => {
  await healthy(page);
  const head = page.locator('[data-testid="pane-A"] [data-testid="col-len"]');
  await head.click();
  await expect(page.getByTestId('pane-sort-A')).toHaveText(/sorted by Len ↑$/);
  await expect(firstRow(page, 'A')).toHaveAttribute('data-frame', '13');
  await head.click();
  await expect(page.getByTestId('pane-sort-A')).toHaveText(/Len ↓$/);
  await expect(firstRow(page, 'A')).toHaveAttribute('data-frame', '22');
  await head.click();
  await expect(page.getByTestId('pane-sort-A')).toHaveCount(0);
  await expect(firstRow(page, 'A')).toHaveAttribute('data-frame', '1');
  // Sorting follows the filter.
  await page.locator('[data-testid="pane-A"] [data-testid="col-info"]').click();
  await page.getByTestId('filter-input').fill('wg');
  await expect(page.getByTestId('pane-count-A')).toHaveText('14 of 28 packets');
  await expect(firstRow(page, 'A')).toHaveAttribute('data-frame', '15');
  await expect(page.locator('[data-testid="trace-row"][data-host="A"]')).toHaveCount(14);
  // Resize: drag the Source header's edge 60 px to the right.
  const src = page.locator('[data-testid="pane-A"] [data-testid="col-src"]');
  const w0 = (await src.boundingBox())!.width;
  const grip = (await page.locator('[data-testid="pane-A"] [data-testid="resize-src"]').boundingBox())!;
  await page.mouse.move(grip.x + 3, grip.y + 5);
  await page.mouse.down();
  await page.mouse.move(grip.x + 63, grip.y + 5, { steps: 5 });
  await page.mouse.up();
  const w1 = (await src.boundingBox())!.width;
  expect(w1 - w0).toBeGreaterThan(50);
  // Rows follow the header.
  expect(Math.abs((await cell(page, 'A', 15, 'src').boundingBox())!.width - w1)).toBeLessThan(2);
});

test('go to packet (Ctrl+G), the row context menu, marks and the status bar', async ({ page, context }) => {
  await context.grantPermissions(['clipboard-read', 'clipboard-write']);
  await healthy(page);
  await page.getByTestId('trace-list-A').focus();
  await page.keyboard.press('Control+g');
  await page.getByTestId('goto-input').fill('B 30');
  await page.keyboard.press('Enter');
  await expect(row(page, 'B', 30)).toHaveAttribute('aria-selected', 'true');
  await expect(page.getByTestId('status-selection')).toContainText('B#30');
  await page.keyboard.press('Control+g');
  await page.getByTestId('goto-input').fill('999');
  await page.keyboard.press('Enter');
  await expect(page.getByTestId('goto-error')).toContainText('frames 1 to 42');
  await page.keyboard.press('Escape');
  await expect(page.getByTestId('goto-dialog')).toBeHidden();

  // Right click on a Protocol cell: filter on it.
  await cell(page, 'A', 15, 'proto').click({ button: 'right' });
  await expect(page.getByTestId('row-menu')).toBeVisible();
  await expect(page.getByTestId('row-menu-filter')).toContainText('proto == "wireguard"');
  await page.getByTestId('row-menu-filter').click();
  await expect(page.getByTestId('filter-input')).toHaveValue('proto == "wireguard"');
  await expect(page.getByTestId('pane-count-A')).toHaveText('14 of 28 packets');
  await expect(page.getByTestId('status-A')).toContainText('14 displayed of 28');
  await expect(page.getByTestId('status-filter-ms')).toContainText('ms');
  // "…and with the current filter": the box's text in brackets and the cell's expression, put in the box and applied.
  await cell(page, 'A', 16, 'len').click({ button: 'right' });
  const lenExpr = /frame\.len == \d+/.exec((await page.getByTestId('row-menu-filter').textContent()) ?? '')?.[0] ?? 'no frame.len expression in the menu';
  await expect(page.getByTestId('row-menu-filter-and')).toContainText(`(proto == "wireguard") && ${lenExpr}`);
  await page.getByTestId('row-menu-filter-and').click();
  await expect(page.getByTestId('filter-input')).toHaveValue(`(proto == "wireguard") && ${lenExpr}`);
  await expect(page.getByTestId('pane-count-A')).toHaveText(/^\d+ of 28 packets$/);
  await expect(page.getByTestId('pane-count-A')).not.toHaveText('14 of 28 packets');
  // Back to the wireguard filter, typed this time.
  await page.getByTestId('filter-input').fill('proto == "wireguard"');
  await page.getByTestId('filter-input').press('Enter');
  await expect(page.getByTestId('pane-count-A')).toHaveText('14 of 28 packets');
  // Copy row: the clipboard holds the cells as shown.
  await cell(page, 'A', 16, 'info').click({ button: 'right' });
  await page.getByTestId('row-menu-copy').click();
  await expect.poll(() => inPage<string>(page, 'navigator.clipboard.readText()')).toContain('Handshake Response, sender=0x48D09932');
  // Mark, from the menu and with Ctrl+M.
  await cell(page, 'A', 16, 'info').click({ button: 'right' });
  await page.getByTestId('row-menu-mark').click();
  await expect(row(page, 'A', 16)).toHaveAttribute('data-marked', 'true');
  await page.getByTestId('trace-list-A').focus();
  await page.keyboard.press('Control+m');
  await expect(row(page, 'A', 16)).not.toHaveAttribute('data-marked', 'true');
  // Go to twin, then a note on the packet.
  await cell(page, 'A', 15, 'info').click({ button: 'right' });
  await expect(page.getByTestId('row-menu-twin')).toBeEnabled();
  await page.getByTestId('row-menu-twin').click();
  await expect(page.getByTestId('selection-info')).toContainText('B#3');
  await cell(page, 'A', 15, 'info').click({ button: 'right' });
  await page.getByTestId('row-menu-note').click();
  await expect(page.getByTestId('note-target').locator('option:checked')).toHaveText('packet A#15');
  // The menu also closes on Escape.
  await cell(page, 'A', 15, 'info').click({ button: 'right' });
  await page.keyboard.press('Escape');
  await expect(page.getByTestId('row-menu')).toBeHidden();
  // ? shows the shortcuts.
  await page.getByTestId('trace-list-A').focus();
  await page.keyboard.press('?');
  await expect(page.getByTestId('shortcuts')).toContainText('Ctrl+G');
  await page.keyboard.press('Escape');
  await expect(page.getByTestId('shortcuts')).toBeHidden();
});

test('time display modes: since previous displayed, absolute UTC, time reference', async ({ page }) => {
  await healthy(page);
  await page.getByTestId('wb-time-mode').selectOption('delta');
  await expect(cell(page, 'A', 2, 'time')).toHaveText('0.002365');
  await expect(cell(page, 'A', 1, 'time')).toHaveText('0.000000');
  // "Displayed": with a filter the previous row is the previous shown one (frame 16 after 15).
  await page.getByTestId('filter-input').fill('wg');
  await expect(page.getByTestId('pane-count-A')).toHaveText('14 of 28 packets');
  await expect(cell(page, 'A', 16, 'time')).toHaveText('0.001507');
  await page.getByTestId('filter-input').fill('');
  await page.getByTestId('wb-time-mode').selectOption('utc');
  await expect(cell(page, 'A', 1, 'time')).toHaveText('02:37:59.059256');
  // Set frame 15 as reference: it reads *REF*, frame 16 the time since it.
  await cell(page, 'A', 15, 'info').click({ button: 'right' });
  await page.getByTestId('row-menu-time-ref').click();
  await expect(page.getByTestId('wb-time-mode')).toHaveValue('ref');
  await expect(cell(page, 'A', 15, 'time')).toHaveText('*REF*');
  await expect(cell(page, 'A', 16, 'time')).toHaveText('0.001507');
  await page.getByTestId('filter-input').fill('frame.number <= 2 || frame.number == 15');
  await expect(page.getByTestId('pane-count-A')).toHaveText('3 of 28 packets');
  await expect(cell(page, 'A', 1, 'time')).toHaveText('-0.000342');
  await expect(cell(page, 'A', 15, 'time')).toHaveText('*REF*');
});

test('filter, selection and time display are kept across a reload', async ({ page }) => {
  await healthy(page);
  await row(page, 'A', 17).click();
  await page.getByTestId('wb-time-mode').selectOption('delta');
  await page.getByTestId('filter-input').fill('udp');
  await expect(page.getByTestId('pane-count-A')).toHaveText('14 of 28 packets');
  await page.reload();
  await expect(page.getByTestId('filter-input')).toHaveValue('udp');
  await expect(page.getByTestId('pane-count-A')).toHaveText('14 of 28 packets', { timeout: 20_000 });
  await expect(row(page, 'A', 17)).toHaveAttribute('aria-selected', 'true');
  await expect(page.getByTestId('status-selection')).toContainText('A#17');
  await expect(page.getByTestId('wb-time-mode')).toHaveValue('delta');
});

test('conversations per host: filter on one with a click, trace it as the flow under test', async ({ page }) => {
  await healthy(page);
  await page.getByTestId('tab-conversations').click();
  const conv = page.getByTestId('conversation').filter({ hasText: '192.168.200.22:80' });
  await expect(conv).toHaveCount(1);
  await expect(conv).toContainText('10.0.0.1:39782');
  await expect(conv.locator('td').nth(3)).toHaveText('12');
  await conv.click();
  await expect(page.getByTestId('pane-count-A')).toHaveText('12 of 28 packets');
  await conv.getByTestId('conversation-trace').click();
  await expect(page.getByTestId('flow-input')).toHaveValue('tcp 10.0.0.1:39782 > 192.168.200.22:80');
  await page.getByTestId('conv-host-B').click();
  await expect(page.getByTestId('conversation').first()).toBeVisible();
});

test('role swap notice: captures given in each other\'s place, with an undo', async ({ page }) => {
  // B's capture given as A: the packets say the other host started the connection.
  await newSessionWith(page, [join(HEALTHY, 'B.pcapng'), join(HEALTHY, 'A.pcapng')]);
  await expect(page.getByTestId('verdict')).not.toHaveAttribute('data-status', 'pending', { timeout: 20_000 });
  const notice = page.getByTestId('role-swap-notice');
  const swapped = await notice.isVisible().catch(() => false);
  test.skip(!swapped, 'the engine did not report role_swapped for this pair (the swap check lands with the analysis issue)');
  await expect(notice).toContainText('B.pcapng');
  await page.screenshot({ path: join(SCREENS, 'role-swap-1280x800-light.png') });
  await page.getByTestId('role-swap-undo').click();
  await expect(page.getByTestId('role-kept-notice')).toBeVisible({ timeout: 20_000 });
  await page.getByTestId('role-swap-redo').click();
  await expect(notice).toBeVisible({ timeout: 20_000 });
});

test('item 14: a long file name does not wrap the import bar; the HTML report fills the evidence dir cell in the app\'s host colours', async ({ page }, testInfo) => {
  const long = testInfo.outputPath('customer-site-west-2026-12-03-wan-uplink-and-tunnel-capture-before-the-change-window.pcapng');
  copyFileSync(join(FIXTURES, 'lab-b-no-forward', 'A.pcapng'), long);
  await newSessionWith(page, [long, join(FIXTURES, 'lab-b-no-forward', 'B.pcapng')]);
  await expect(page.getByTestId('verdict')).toHaveAttribute('data-status', 'fail', { timeout: 20_000 });
  const bar = page.locator('.import-bar');
  const h = (await bar.boundingBox())!.height;
  expect(h).toBeLessThan(52);
  const open = (await page.getByRole('button', { name: /Open capture/ }).boundingBox())!;
  const select = (await page.locator('.host-choice select').first().boundingBox())!;
  expect(Math.abs(open.y + open.height / 2 - (select.y + select.height / 2))).toBeLessThan(6);
  await page.getByTestId('export').click();
  const download = page.waitForEvent('download');
  await page.getByTestId('export-html').click();
  const html = readFileSync((await (await download).path())!, 'utf8');
  // The first finding's evidence rows: packet, time, time on A, iface, dir, summary; dir never empty.
  const evidence = html.slice(html.indexOf('<h2>Findings</h2>'), html.indexOf('</table>', html.indexOf('<h2>Findings</h2>')));
  const dirs = [...evidence.matchAll(/<tr><td>[^]*?<\/td><td class="t">[^<]*<\/td><td class="t">[^<]*<\/td><td>[^<]*<\/td><td>([^<]*)<\/td>/g)].map((m) => m[1]);
  expect(dirs.length).toBeGreaterThan(0);
  for (const d of dirs) expect(d).not.toBe('');
  // Host B is the same orange as in the app (--host-b, light theme).
  const appB = await page.locator('.host-badge[data-host="B"]').first().evaluate((el) => el.ownerDocument.defaultView!.getComputedStyle(el).backgroundColor);
  expect(appB).toBe('rgb(180, 87, 27)');
  expect(html).toContain('--b:#b4571b');
});
