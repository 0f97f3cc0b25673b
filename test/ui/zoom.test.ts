// Zoom in the photo view (issue 25), in headless Chromium against the real app: a double-click
// (desktop) or a double tap (phone) zooms the photo around that point and the next one zooms
// out; zoomed, a drag moves the photo and a swipe no longer steps to the next photo; another
// photo is shown whole. And stepping: keys pressed faster than the view draws all count.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { photoJpeg } from '../../testkit/photos.ts';
import { chromiumAvailable, skipUnless } from '../helpers/requirements.ts';
import { ApiClient } from './support/api-client.ts';
import { launchBrowser, withWatchedPage } from './support/browser.ts';
import { PHONE } from './support/page-weight.ts';
import { startApp, type RunningApp } from './support/processes.ts';

const skip = skipUnless(await chromiumAvailable(), 'Chromium');

/** The photo's scale and translation now, from its computed transform. */
const transform = (page: Page) =>
  page.locator('.photo-view .pv-img').evaluate((img) => {
    const m = new DOMMatrixReadOnly(getComputedStyle(img).transform === 'none' ? '' : getComputedStyle(img).transform);
    return { scale: Math.round(m.a * 100) / 100, x: Math.round(m.e), y: Math.round(m.f) };
  });

describe('zoom in the photo view', { skip }, () => {
  let app: RunningApp | undefined;
  let browser: Browser | undefined;
  const ids: string[] = [];

  before(async () => {
    app = await startApp({ API_ACCESS: 'owner' });
    const zoe = new ApiClient(app.baseUrl);
    await zoe.signUpAndLogIn('zoe', 'zoe password');
    await zoe.addCategory('Parks');
    for (const seed of [0, 1, 2]) {
      const photo = await photoJpeg({ width: 1600, height: 1200, seed });
      ids.push(await zoe.upload(photo, `Park ${seed + 1}`, 'Parks', 'image/jpeg'));
    }
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    await app?.stop();
  });

  async function open(page: Page): Promise<void> {
    await page.goto(`${app!.baseUrl}/#/c/Parks`);
    await page.locator('.act-card').nth(1).waitFor();
    await page.locator(`[data-act-id="${ids[1]}"] .act-photo`).click();
    await page.locator('.photo-view .pv-img').waitFor();
    await page.waitForFunction(() => (document.querySelector('.photo-view .pv-img') as HTMLImageElement)?.complete);
  }

  test('desktop: a double-click zooms around its point, a drag moves the photo, another double-click zooms out', async () => {
    await withWatchedPage(browser!, {}, async ({ page }) => {
      await open(page);
      assert.deepEqual(await transform(page), { scale: 1, x: 0, y: 0 });
      const box = (await page.locator('.photo-view .pv-img').boundingBox())!;
      // Left of the centre: the photo moves right so that point stays under the pointer.
      await page.mouse.dblclick(box.x + box.width * 0.3, box.y + box.height / 2);
      await page.waitForTimeout(300);
      const zoomed = await transform(page);
      assert.equal(zoomed.scale, 2.5);
      assert.ok(zoomed.x > 0, `moved right: ${JSON.stringify(zoomed)}`);
      await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
      await page.mouse.down();
      await page.mouse.move(box.x + box.width / 2 - 80, box.y + box.height / 2, { steps: 5 });
      await page.mouse.up();
      const dragged = await transform(page);
      assert.equal(dragged.x, zoomed.x - 80, 'dragged 80 px left');
      await page.mouse.dblclick(box.x + box.width / 2, box.y + box.height / 2);
      await page.waitForTimeout(300);
      assert.deepEqual(await transform(page), { scale: 1, x: 0, y: 0 });
      // Zoomed, then to the next photo: shown whole.
      await page.mouse.dblclick(box.x + box.width / 2, box.y + box.height / 2);
      await page.keyboard.press('ArrowRight');
      await page.waitForFunction((id) => location.hash === `#/a/${id}`, ids[0]);
      await page.locator('.photo-view .pv-img').waitFor();
      assert.equal((await transform(page)).scale, 1);
    });
  });

  test('keys pressed faster than the view draws each step from the photo they lead to', async () => {
    await withWatchedPage(browser!, {}, async ({ page }) => {
      await page.goto(`${app!.baseUrl}/#/c/Parks`);
      await page.locator('.act-card').nth(2).waitFor();
      await page.locator(`[data-act-id="${ids[2]}"] .act-photo`).click();
      await page.locator('.photo-view .pv-caption').getByText('Park 3').waitFor();
      // Two presses in one task: the second comes before the first photo's neighbour is drawn.
      const press = (key: string) =>
        page.evaluate((k) => {
          for (let i = 0; i < 2; i++) document.dispatchEvent(new KeyboardEvent('keydown', { key: k, bubbles: true }));
        }, key);
      await press('ArrowRight');
      await page.waitForFunction((id) => location.hash === `#/a/${id}`, ids[0]);
      await page.locator('.photo-view .pv-caption').getByText('Park 1').waitFor();
      await press('ArrowLeft');
      await page.waitForFunction((id) => location.hash === `#/a/${id}`, ids[2]);
      await page.locator('.photo-view .pv-caption').getByText('Park 3').waitFor();
    });
  });

  test('phone: a double tap zooms; zoomed, a swipe does not step to the next photo', async () => {
    await withWatchedPage(browser!, PHONE, async ({ page }) => {
      await open(page);
      const box = (await page.locator('.photo-view .pv-img').boundingBox())!;
      const [x, y] = [box.x + box.width / 2, box.y + box.height / 2];
      await page.touchscreen.tap(x, y);
      await page.touchscreen.tap(x, y);
      await page.waitForFunction(() => document.querySelector('.photo-view .pv-stage')?.classList.contains('zoomed'));
      assert.equal((await transform(page)).scale, 2.5);
      const cdp = await page.context().newCDPSession(page);
      const touch = (type: 'touchStart' | 'touchMove' | 'touchEnd', points: Array<{ x: number; y: number }>) =>
        cdp.send('Input.dispatchTouchEvent', { type, touchPoints: points });
      await touch('touchStart', [{ x, y }]);
      for (let i = 1; i <= 5; i++) await touch('touchMove', [{ x: x - i * 30, y }]);
      await touch('touchEnd', []);
      await page.waitForTimeout(400);
      assert.equal(await page.evaluate(() => location.hash), `#/a/${ids[1]}`, 'still the same photo');
    });
  });
});
