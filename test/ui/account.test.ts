// The account page (issue 25) in headless Chromium against the real app (owner mode): reached
// from the header's name; a bio that shows on the profile; a password change that needs the
// current password, checks the new one twice, and logs other browsers out; deleting the account
// after a confirmation. axe finds nothing serious on it, on a phone or a desktop.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { photoJpeg } from '../../testkit/photos.ts';
import { chromiumAvailable, skipUnless } from '../helpers/requirements.ts';
import { ApiClient } from './support/api-client.ts';
import { describeViolations, seriousViolations } from './support/axe.ts';
import { launchBrowser, screenshot, withWatchedPage } from './support/browser.ts';
import { PHONE } from './support/page-weight.ts';
import { startApp, type RunningApp } from './support/processes.ts';

const skip = skipUnless(await chromiumAvailable(), 'Chromium');
const sha1 = (text: string) => createHash('sha1').update(text).digest('hex');

describe('the account page', { skip }, () => {
  let app: RunningApp | undefined;
  let browser: Browser | undefined;

  before(async () => {
    app = await startApp({ API_ACCESS: 'owner' });
    await new ApiClient(app.baseUrl).signUp('dana', sha1('dana password'));
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    await app?.stop();
  });

  async function logIn(page: Page, password = 'dana password'): Promise<void> {
    await page.goto(`${app!.baseUrl}/#/login`);
    await page.getByLabel('Username').fill('dana');
    await page.getByLabel('Password').fill(password);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.locator('.account-user').waitFor();
  }

  test('from the header: a bio that shows on the profile; axe finds nothing serious at either size', async () => {
    for (const options of [{ bypassCSP: true }, { ...PHONE, bypassCSP: true }]) {
      await withWatchedPage(browser!, options, async ({ page }) => {
        await logIn(page);
        await page.getByRole('link', { name: 'dana', exact: true }).click();
        await page.waitForFunction(() => location.hash === '#/account');
        await page.getByRole('heading', { name: 'Your account' }).waitFor();
        const violations = await seriousViolations(page);
        assert.deepEqual(violations, [], describeViolations(violations));
        const width = await page.evaluate(() => document.documentElement.scrollWidth);
        assert.ok(width <= (options.viewport?.width ?? 1280), `fits: scrollWidth ${width}`);
      });
    }
    await withWatchedPage(browser!, {}, async ({ page }) => {
      await logIn(page);
      await page.goto(`${app!.baseUrl}/#/account`);
      await page.getByLabel('Bio').fill('I fix bikes on Saturdays.');
      await page.getByRole('button', { name: 'Save' }).click();
      await page.locator('.toast').getByText('Your bio is saved.').waitFor();
      const photo = await photoJpeg({ width: 1200, height: 900, seed: 1 });
      await page.locator('#avatar-file').setInputFiles({ name: 'me.jpg', mimeType: 'image/jpeg', buffer: photo });
      await page.locator('.toast').getByText('Your photo is saved.').waitFor();
      const src = await page.locator('.avatar-face img').getAttribute('src');
      assert.match(src ?? '', /^\/api\/v1\/users\/dana\/avatar\/[0-9a-f]{16}\.webp$/);
      await page.waitForFunction(
        () => (document.querySelector('.avatar-face img') as HTMLImageElement)?.naturalWidth === 256,
      );
      await screenshot(page, 'account-page');
      await page.goto(`${app!.baseUrl}/#/u/dana`);
      await page.locator('.profile-bio').getByText('I fix bikes on Saturdays.').waitFor();
      assert.equal(await page.locator('.profile-face img').getAttribute('src'), src, 'the profile shows the photo');
    });
  });

  test('a password change: the current one, the new one twice; other browsers are logged out', async () => {
    const elsewhere = new ApiClient(app!.baseUrl);
    await elsewhere.logIn('dana', 'dana password');
    await withWatchedPage(browser!, {}, async ({ page, watch }) => {
      await logIn(page);
      await page.goto(`${app!.baseUrl}/#/account`);
      const fill = async (current: string, next: string, again: string) => {
        await page.getByLabel('Current password').fill(current);
        await page.getByLabel('New password', { exact: true }).fill(next);
        await page.getByLabel('New password again').fill(again);
        await page.getByRole('button', { name: 'Change password' }).click();
      };
      await fill('dana password', 'a new password', 'another one');
      await page.getByRole('alert').getByText('The two new passwords differ.').waitFor();
      watch.expect('/api/v1/users/dana/password', 403);
      await fill('not it at all', 'a new password', 'a new password');
      await page.getByRole('alert').getByText('the current password is wrong').waitFor();
      await fill('dana password', 'a new password', 'a new password');
      await page.locator('.toast').getByText('Your password is changed.', { exact: false }).waitFor();
      // Still logged in here; not in the other browser.
      await page.goto(`${app!.baseUrl}/#/account`);
      await page.getByRole('heading', { name: 'Your account' }).waitFor();
    });
    const me = await fetch(`${app!.baseUrl}/api/v1/sessions/me`, {
      headers: { cookie: (elsewhere as unknown as { cookie: string }).cookie },
    });
    assert.equal(me.status, 401, 'the other browser is logged out');
    await assert.rejects(new ApiClient(app!.baseUrl).logIn('dana', 'dana password'), /401/);
    await new ApiClient(app!.baseUrl).logIn('dana', 'a new password');
  });

  test('deleting the account, after a confirmation', async () => {
    await withWatchedPage(browser!, {}, async ({ page }) => {
      await logIn(page, 'a new password');
      await page.goto(`${app!.baseUrl}/#/account`);
      await page.getByRole('button', { name: 'Delete my account' }).click();
      await page.locator('#confirm').getByRole('button', { name: 'Delete my account' }).click();
      await page.locator('.toast').getByText('Your account is deleted.').waitFor();
      await page.waitForFunction(() => location.hash === '#/');
      await page.getByRole('link', { name: 'Log in' }).waitFor();
    });
    const exists = await fetch(`${app!.baseUrl}/api/v1/users/dana/exists`);
    assert.equal(exists.status, 404);
  });
});
