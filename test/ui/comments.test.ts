// Comments in the photo view (issue 25), in headless Chromium against the real app (owner
// mode): a visitor reads them and is asked to log in; a logged-in user posts one and sees it at
// once; Remove is offered to the comment's author and to the act's author, not to others, and
// works; axe finds nothing serious in the view with its comments.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { chromiumAvailable, skipUnless } from '../helpers/requirements.ts';
import { ApiClient } from './support/api-client.ts';
import { describeViolations, seriousViolations } from './support/axe.ts';
import { launchBrowser, screenshot, withWatchedPage } from './support/browser.ts';
import { PHONE } from './support/page-weight.ts';
import { heartPng, PALETTES } from './support/png.ts';
import { startApp, type RunningApp } from './support/processes.ts';

const skip = skipUnless(await chromiumAvailable(), 'Chromium');

describe('comments in the photo view', { skip }, () => {
  let app: RunningApp | undefined;
  let browser: Browser | undefined;
  let actId = '';

  before(async () => {
    app = await startApp({ API_ACCESS: 'owner' });
    const amal = new ApiClient(app.baseUrl);
    await amal.signUpAndLogIn('amal', 'amal password');
    await amal.addCategory('Street');
    const [from, to] = PALETTES[0]!;
    actId = await amal.upload(heartPng(from, to), 'Swept the snow from the steps', 'Street');
    for (const who of ['bea', 'cyd']) await new ApiClient(app.baseUrl).signUp(who, await sha1(`${who} password`));
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    await app?.stop();
  });

  async function logIn(page: Page, who: string): Promise<void> {
    await page.goto(`${app!.baseUrl}/#/login?next=${encodeURIComponent(`/a/${actId}`)}`);
    await page.getByLabel('Username').fill(who);
    await page.getByLabel('Password').fill(`${who} password`);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.locator('.photo-view .comments').waitFor();
  }

  const comments = (page: Page) => page.locator('.photo-view .comment .comment-text').allTextContents();

  test('a visitor reads them and is asked to log in', async () => {
    await withWatchedPage(browser!, {}, async ({ page }) => {
      await page.goto(`${app!.baseUrl}/#/a/${actId}`);
      await page.locator('.photo-view .comments-empty').getByText('No comments yet.').waitFor();
      await page.locator('.photo-view .comments-login').getByRole('link', { name: 'Log in' }).waitFor();
      assert.equal(await page.locator('.photo-view .comment-form').count(), 0);
    });
  });

  test('a logged-in user posts one and sees it at once, with Remove on their own', async () => {
    await withWatchedPage(browser!, {}, async ({ page }) => {
      await logIn(page, 'bea');
      await page.getByLabel('Add a comment').fill('Thank you!\nThe whole street noticed.');
      await page.getByRole('button', { name: 'Post' }).click();
      await page.locator('.photo-view .comments-title').getByText('Comments (1)').waitFor();
      assert.deepEqual(await comments(page), ['Thank you!\nThe whole street noticed.']);
      assert.equal(await page.getByLabel('Add a comment').inputValue(), '', 'the box is emptied');
      await page.getByRole('button', { name: 'Remove the comment by bea' }).waitFor();
      await screenshot(page, 'comments-posted');
    });
  });

  test("another user sees no Remove on it; the act's author does, and it works", async () => {
    await withWatchedPage(browser!, PHONE, async ({ page }) => {
      await logIn(page, 'cyd');
      await page.locator('.photo-view .comment').first().waitFor();
      assert.equal(await page.getByRole('button', { name: 'Remove the comment by bea' }).count(), 0);
    });
    await withWatchedPage(browser!, { bypassCSP: true }, async ({ page }) => {
      await logIn(page, 'amal');
      await page.locator('.photo-view .comment').first().waitFor();
      const violations = await seriousViolations(page);
      assert.deepEqual(violations, [], describeViolations(violations));
      await page.getByRole('button', { name: 'Remove the comment by bea' }).click();
      await page.locator('.photo-view .comments-empty').getByText('No comments yet.').waitFor();
      assert.deepEqual(await comments(page), []);
    });
  });
});

async function sha1(text: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-1', new TextEncoder().encode(text));
  return Buffer.from(digest).toString('hex');
}
