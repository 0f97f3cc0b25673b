// Finding photos (issue 25) in headless Chromium against the real app: the header's Search
// leads to a search page that finds acts by caption, author and category, whose address keeps
// the search (reload, share); a feed reads newest first or most upvoted first, from links that
// keep the choice in the address, on a category, on everyone's acts and in search results; on a
// phone the search is an icon that still has a name.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { chromiumAvailable, skipUnless } from '../helpers/requirements.ts';
import { ApiClient } from './support/api-client.ts';
import { launchBrowser, screenshot, withWatchedPage } from './support/browser.ts';
import { PHONE } from './support/page-weight.ts';
import { heartPng, PALETTES } from './support/png.ts';
import { startApp, type RunningApp } from './support/processes.ts';

const skip = skipUnless(await chromiumAvailable(), 'Chromium');

const captions = async (page: Page) =>
  (await page.locator('.act-card .act-caption').allTextContents()).map((c) => c.trim());

describe('finding acts: search, and newest or most upvoted first', { skip }, () => {
  let app: RunningApp | undefined;
  let browser: Browser | undefined;

  before(async () => {
    // Open mode: anyone upvotes as often as they like, so the seeding sets any count.
    app = await startApp({ API_ACCESS: 'open' });
    const amal = new ApiClient(app.baseUrl);
    await amal.signUpAndLogIn('amal', 'amal password');
    await amal.addCategory('Garden');
    await amal.addCategory('Kitchen');
    const seeds: Array<[string, string, number]> = [
      ['Garden', 'Planted tomatoes with the kids', 2],
      ['Garden', 'Weeded the shared beds', 6],
      ['Kitchen', 'Cooked soup for the shelter', 4],
      ['Kitchen', 'Baked bread for the garden volunteers', 0],
    ];
    for (const [i, [category, caption, votes]] of seeds.entries()) {
      const [from, to] = PALETTES[i % PALETTES.length]!;
      const id = await amal.upload(heartPng(from, to), caption, category);
      for (let v = 0; v < votes; v++) await amal.upvote(id);
    }
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    await app?.stop();
  });

  test('search from the header: caption, category and author words; the address keeps it; nothing found says so', async () => {
    await withWatchedPage(browser!, {}, async ({ page }) => {
      await page.goto(`${app!.baseUrl}/#/`);
      await page.getByRole('link', { name: 'Search' }).click();
      await page.getByRole('searchbox', { name: 'Search acts' }).fill('garden');
      await page.getByRole('searchbox', { name: 'Search acts' }).press('Enter');
      await page.waitForFunction(() => location.hash === '#/search?q=garden');
      await page.locator('.feed-count').getByText('3 acts found').waitFor();
      await page.locator('.act-card').nth(2).waitFor();
      assert.deepEqual(await captions(page), [
        'Baked bread for the garden volunteers',
        'Weeded the shared beds',
        'Planted tomatoes with the kids',
      ]);
      await screenshot(page, 'search-garden');

      await page.getByRole('link', { name: 'Most upvoted' }).click();
      await page.waitForFunction(() => location.hash === '#/search?q=garden&order=popular');
      // The page is drawn again for the new address: wait for its cards, not the old ones.
      await page.waitForFunction(
        () => document.querySelector('.act-card .act-caption')?.textContent?.trim() === 'Weeded the shared beds',
      );
      await page.locator('.act-card').nth(2).waitFor();
      assert.deepEqual(await captions(page), [
        'Weeded the shared beds',
        'Planted tomatoes with the kids',
        'Baked bread for the garden volunteers',
      ]);
      assert.equal(await page.getByRole('link', { name: 'Most upvoted' }).getAttribute('aria-current'), 'true');

      await page.reload();
      await page.locator('.feed-count').getByText('3 acts found').waitFor();
      assert.equal(await page.getByRole('searchbox', { name: 'Search acts' }).inputValue(), 'garden');

      await page.goto(`${app!.baseUrl}/#/search?q=amal%20soup`);
      await page.locator('.feed-count').getByText('1 act found').waitFor();
      await page.waitForFunction(() => document.querySelectorAll('.act-card').length === 1);
      assert.deepEqual(await captions(page), ['Cooked soup for the shelter']);

      await page.goto(`${app!.baseUrl}/#/search?q=${encodeURIComponent('100% nothing')}`);
      await page.getByText('No act matches “100% nothing”.', { exact: false }).waitFor();
    });
  });

  test("a category and everyone's acts, newest or most upvoted first", async () => {
    await withWatchedPage(browser!, {}, async ({ page }) => {
      await page.goto(`${app!.baseUrl}/#/c/Kitchen`);
      await page.locator('.act-card').nth(1).waitFor();
      assert.deepEqual(await captions(page), ['Baked bread for the garden volunteers', 'Cooked soup for the shelter']);
      await page.getByRole('link', { name: 'Most upvoted' }).click();
      await page.waitForFunction(() => location.hash === '#/c/Kitchen?order=popular');
      await page.waitForFunction(
        () => document.querySelector('.act-card .act-caption')?.textContent?.trim() === 'Cooked soup for the shelter',
      );
      await page.goto(`${app!.baseUrl}/#/latest?order=popular`);
      await page.locator('.act-card').nth(3).waitFor();
      assert.equal((await captions(page))[0], 'Weeded the shared beds');
      await page.locator('h1').getByText('Most upvoted acts').waitFor();
    });
  });

  test('on a phone the header search is an icon with a name, and the page fits', async () => {
    await withWatchedPage(browser!, PHONE, async ({ page }) => {
      await page.goto(`${app!.baseUrl}/#/search?q=garden`);
      await page.locator('.feed-count').getByText('3 acts found').waitFor();
      const link = page.getByRole('link', { name: 'Search' });
      assert.equal(await link.isVisible(), true);
      const width = await page.evaluate(() => document.documentElement.scrollWidth);
      assert.ok(width <= 390, `fits 390 px (scrollWidth ${width})`);
      await screenshot(page, 'search-phone');
    });
  });
});
