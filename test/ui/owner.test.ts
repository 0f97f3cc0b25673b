// The web UI with API_ACCESS=owner (the default of npm start and the shipped config) in
// headless Chromium: a visitor's writes are refused with a plain "log in" message, a logged-in
// user's upvote shows as theirs (upvotedByMe), counts once and is taken back by a second click,
// other people's acts offer no removal, and a session ended elsewhere logs the page out.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { chromiumAvailable, skipUnless } from '../helpers/requirements.ts';
import { ApiClient, type Act } from './support/api-client.ts';
import { launchBrowser, withWatchedPage } from './support/browser.ts';
import { PHONE } from './support/page-weight.ts';
import { heartPng, PALETTES } from './support/png.ts';
import { startApp, type RunningApp } from './support/processes.ts';

const skip = skipUnless(await chromiumAvailable(), 'Chromium');
const CATEGORY = 'Parks';

describe('web UI in owner mode', { skip }, () => {
  let app: RunningApp | undefined;
  let browser: Browser | undefined;
  let sam: ApiClient;
  const ids: string[] = [];

  before(async () => {
    app = await startApp({ API_ACCESS: 'owner' });
    browser = await launchBrowser();
    sam = new ApiClient(app.baseUrl);
    await sam.signUpAndLogIn('sam', 'sam password');
    await sam.addCategory(CATEGORY);
    for (const [i, caption] of ['Picked up litter by the pond.', 'Repainted the park bench.'].entries()) {
      ids.push(await sam.upload(heartPng(...PALETTES[i]!, 320, 240), caption, CATEGORY));
    }
  });

  after(async () => {
    await browser?.close();
    await app?.stop();
  });

  const url = (hash: string) => `${app!.baseUrl}/${hash}`;
  /** lee logs in through the page and lands on the category's feed. */
  const logInToFeed = async (page: Page) => {
    await page.goto(url(`#/login?next=${encodeURIComponent(`/c/${CATEGORY}`)}`));
    await page.getByLabel('Username').fill('lee');
    await page.getByLabel('Password').fill('lee password');
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.locator('#account').getByText('lee').waitFor();
  };
  const upvotesOf = async (actId: string) =>
    ((await sam.acts(CATEGORY)) as Act[]).find((a) => a.actId === actId)?.upvotes;

  test('a visitor: upvoting asks to log in (no request), adding a category says to; nothing changes', async () => {
    await withWatchedPage(browser!, {}, async ({ page, watch }) => {
      watch.expect('/api/v1/categories', 401);
      const votes: string[] = [];
      page.on('request', (req) => {
        if (req.url().includes('/upvote')) votes.push(req.url());
      });
      await page.goto(url(`#/c/${CATEGORY}`));
      const card = page.locator(`[data-act-id="${ids[0]}"]`);
      await card.getByRole('button', { name: /: upvote act by sam$/ }).click();
      const toast = page.locator('.toast').filter({ hasText: 'Log in to upvote' });
      await toast.waitFor();
      assert.equal(
        await toast.getByRole('link', { name: 'Log in' }).getAttribute('href'),
        `#/login?next=${encodeURIComponent(`/c/${CATEGORY}`)}`,
      );
      await card.locator('.upvote-count').getByText('0', { exact: true }).waitFor();
      assert.equal(
        await card.locator('button.upvote').getAttribute('aria-pressed'),
        null,
        'a visitor’s button claims nothing',
      );
      assert.deepEqual(votes, [], 'nothing was sent');
      assert.equal(await card.locator('.remove').count(), 0);

      await page.goto(url('#/'));
      await page.getByLabel('New category name').fill('Vandalism');
      await page.getByRole('button', { name: 'Add category' }).click();
      await page.getByRole('alert').getByText('You need to log in to do that.').waitFor();
      assert.equal(await upvotesOf(ids[0]!), 0);
    });
  });

  test('a logged-in user: the upvote is theirs, shown after a reload, once; a second click takes it back', async () => {
    await withWatchedPage(browser!, {}, async ({ page }) => {
      await page.goto(url(`#/signup?next=${encodeURIComponent(`/c/${CATEGORY}`)}`));
      await page.getByLabel('Username').fill('lee');
      await page.getByLabel('Password').fill('lee password');
      await page.getByRole('button', { name: 'Create account' }).click();
      await page.waitForFunction((hash) => location.hash === hash, `#/c/${CATEGORY}`);

      const card = page.locator(`[data-act-id="${ids[0]}"]`);
      const button = card.locator('button.upvote');
      assert.equal(await button.getAttribute('aria-pressed'), 'false');
      assert.equal(await card.locator('.remove').count(), 0, 'sam’s act cannot be removed by lee');
      const answered = page.waitForResponse((res) => res.url().endsWith('/api/v1/acts/upvote'));
      await button.click();
      assert.equal((await answered).status(), 200);
      await card.locator('.upvote-count').getByText('1', { exact: true }).waitFor();
      assert.equal(await button.getAttribute('aria-pressed'), 'true');
      assert.equal(await upvotesOf(ids[0]!), 1);

      await page.reload();
      await card.locator('.upvote-count').getByText('1', { exact: true }).waitFor();
      assert.equal(await button.getAttribute('aria-pressed'), 'true', 'the listing says lee upvoted it');
      await card.getByRole('button', { name: /: take back your upvote of act by sam$/ }).waitFor();

      const takenBack = page.waitForResponse((res) => res.url().endsWith(`/api/v1/acts/${ids[0]}/upvote`));
      await button.click();
      assert.equal((await takenBack).status(), 200);
      await card.locator('.upvote-count').getByText('0', { exact: true }).waitFor();
      assert.equal(await button.getAttribute('aria-pressed'), 'false');
      assert.equal(await upvotesOf(ids[0]!), 0);
    });
  });

  test('another tab upvoted meanwhile: the stale button learns it (409), the count stays right', async () => {
    await withWatchedPage(browser!, {}, async ({ page, watch }) => {
      watch.expect('/api/v1/acts/upvote', 409);
      await logInToFeed(page);
      const card = page.locator(`[data-act-id="${ids[1]}"]`);
      await card.waitFor();
      await page.evaluate(
        (id) =>
          fetch('/api/v1/acts/upvote', {
            method: 'POST',
            headers: { 'Content-Type': 'application/json' },
            body: `[${id}]`,
          }),
        ids[1]!,
      );
      await card.locator('button.upvote').click();
      await page.waitForFunction(
        (id) => document.querySelector(`[data-act-id="${id}"] button.upvote`)?.getAttribute('aria-pressed') === 'true',
        ids[1]!,
      );
      await card.locator('.upvote-count').getByText('1', { exact: true }).waitFor();
      assert.equal(await upvotesOf(ids[1]!), 1);
    });
  });

  test('log-out on another device ends this page’s session: the next write says so and the header logs out', async () => {
    await withWatchedPage(browser!, {}, async ({ page, watch }) => {
      watch.expect('/api/v1/acts/upvote', 401);
      await logInToFeed(page);

      const elsewhere = new ApiClient(app!.baseUrl);
      await elsewhere.logIn('lee', 'lee password');
      await elsewhere.logOut();

      await page.locator(`[data-act-id="${ids[0]}"]`).locator('button.upvote').click();
      await page.getByText('Your upvote did not count: You need to log in to do that.').waitFor();
      await page.locator('#account').getByRole('link', { name: 'Log in' }).waitFor();
      assert.equal(await upvotesOf(ids[0]!), 0);
    });
  });

  test('on a phone the author sees Remove, as an icon with a name, on a card and in the photo view', async () => {
    await withWatchedPage(browser!, PHONE, async ({ page }) => {
      await page.goto(url(`#/login?next=${encodeURIComponent(`/c/${CATEGORY}`)}`));
      await page.getByLabel('Username').fill('sam');
      await page.getByLabel('Password').fill('sam password');
      await page.getByRole('button', { name: 'Log in' }).click();
      // On a phone the header shows an avatar, not the name: the feed it moves on to says it worked.
      await page.waitForFunction((hash) => location.hash === hash, `#/c/${CATEGORY}`);
      /** The button can be found by its name, and its trash icon takes room on the screen. */
      const expectVisibleRemove = async (where: string, scope: ReturnType<Page['locator']>) => {
        const button = scope.getByRole('button', { name: /^Remove your act/ });
        await button.waitFor({ timeout: 5000 });
        const icon = await button.locator('.icon svg').boundingBox();
        assert.ok(
          icon !== null && icon.width >= 16 && icon.height >= 16,
          `${where}: the icon shows (${JSON.stringify(icon)})`,
        );
        const box = (await button.boundingBox())!;
        assert.ok(box.width >= 32 && box.height >= 32, `${where}: a target a thumb can hit (${JSON.stringify(box)})`);
      };
      const card = page.locator(`[data-act-id="${ids[1]}"]`);
      await expectVisibleRemove('card', card);
      await card.locator('.act-photo').click();
      await page.waitForFunction((hash) => location.hash === hash, `#/a/${ids[1]}`);
      await expectVisibleRemove('photo view', page.locator('.photo-view'));
    });
  });

  test('names as a phone types them: "carol " logs in as carol; a category with "/" or only another case is refused with a sentence', async () => {
    await withWatchedPage(browser!, {}, async ({ page, watch }) => {
      watch.expect('/api/v1/categories', 400);
      await page.goto(url('#/signup'));
      await page.getByLabel('Username').fill('carol ');
      await page.getByLabel('Password').fill('carol password');
      await page.getByRole('button', { name: 'Create account' }).click();
      await page.locator('#account').getByText('carol', { exact: true }).waitFor();
      await page.locator('#account').getByRole('button', { name: 'Log out' }).click();
      // The page re-renders once the log-out is done: go on only then, or the form is replaced mid-fill.
      await page.locator('#account').getByRole('link', { name: 'Log in' }).waitFor();
      await page.goto(url('#/login'));
      await page.getByLabel('Username').fill('carol');
      await page.getByLabel('Password').fill('carol password');
      await page.getByRole('button', { name: 'Log in' }).click();
      await page.locator('#account').getByText('carol', { exact: true }).waitFor();

      await page.goto(url('#/'));
      const add = async (name: string) => {
        await page.getByLabel('New category name').fill(name);
        await page.getByRole('button', { name: 'Add category' }).click();
      };
      await add('Kids/Family?');
      await page.getByRole('alert').getByText('cannot contain "/"').waitFor();
      await add(CATEGORY.toLowerCase());
      await page.getByRole('alert').getByText(`There is already a category called “${CATEGORY}”.`).waitFor();
      const names = Object.keys((await (await fetch(`${app!.baseUrl}/api/v1/categories`)).json()) as object);
      assert.deepEqual(names, [CATEGORY], 'nothing was added');
    });
  });

  test("share: the act's own address, through the share sheet where there is one, else copied", async () => {
    const actUrl = `${app!.baseUrl}/a/${ids[0]}`;
    // Headless Chromium has a clipboard but no share sheet: the copy path, for real.
    await withWatchedPage(browser!, { permissions: ['clipboard-read', 'clipboard-write'] }, async ({ page }) => {
      await page.goto(url(`#/a/${ids[0]}`));
      await page.locator('.photo-view').getByRole('button', { name: 'Share this act' }).click();
      await page.locator('.toast').getByText('Link copied').waitFor();
      assert.equal(await page.evaluate(() => navigator.clipboard.readText()), actUrl);
    });
    // A phone's share sheet: what the page hands it (the sheet itself is the system's).
    await withWatchedPage(browser!, PHONE, async ({ page }) => {
      // As text: tsx would wrap a function's inner names in a helper the page does not have.
      await page.addInitScript({
        content:
          "window.shared = []; Object.defineProperty(Navigator.prototype, 'share', { configurable: true, value: async (data) => { window.shared.push(data); } });",
      });
      await page.goto(url(`#/a/${ids[0]}`));
      await page.locator('.photo-view').getByRole('button', { name: 'Share this act' }).click();
      await page.waitForFunction(() => (window as unknown as { shared: unknown[] }).shared.length === 1);
      const [data] = await page.evaluate(() => (window as unknown as { shared: unknown[] }).shared);
      assert.deepEqual(data, { title: 'A kind act by sam', text: 'Picked up litter by the pond.', url: actUrl });
    });
  });

  test('the first photo of a feed is fetched at once and first; the others wait until they are near', async () => {
    await withWatchedPage(browser!, PHONE, async ({ page }) => {
      await page.goto(url(`#/c/${CATEGORY}`));
      const images = page.locator('.act-card img');
      await images.nth(1).waitFor({ state: 'attached' });
      const attrs = await images.evaluateAll((imgs) =>
        imgs.map((img) => [img.getAttribute('loading'), img.getAttribute('fetchpriority')]),
      );
      assert.deepEqual(attrs[0], ['eager', 'high']);
      for (const later of attrs.slice(1)) assert.deepEqual(later, ['lazy', null]);
    });
  });
});
