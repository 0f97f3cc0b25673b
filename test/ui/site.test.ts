// The web UI end to end in headless Chromium against the real app (SERVICE=all, SQLite in a
// temporary directory, API_ACCESS=open: anonymous, repeatable upvotes as the course has them):
// accounts, categories, upload, feed, upvote, removal, paging, My acts, phones. Owner mode's
// differences are test/ui/owner.test.ts's.
// Every page is watched: no console errors, no unexpected failed responses, no other hosts.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { chromiumAvailable, skipUnless } from '../helpers/requirements.ts';
import { ApiClient } from './support/api-client.ts';
import { launchBrowser, newWatchedPage, screenshot, withWatchedPage, type PageWatch } from './support/browser.ts';
import { heartPng, PALETTES } from './support/png.ts';
import { startApp, type RunningApp } from './support/processes.ts';

const skip = skipUnless(await chromiumAvailable(), 'Chromium');

const USER = 'alex';
const PASSWORD = 'kindness-matters';
const CATEGORY = 'Helping neighbours';

describe('web UI against the real app', { skip }, () => {
  let app: RunningApp | undefined;
  let browser: Browser | undefined;
  let context: BrowserContext;
  let page: Page;
  let watch: PageWatch;
  let api: ApiClient;
  let myActId = '';

  before(async () => {
    app = await startApp({ API_ACCESS: 'open' });
    browser = await launchBrowser();
    ({ context, page, watch } = await newWatchedPage(browser));
    // Failures the flow provokes on purpose; any other 4xx/5xx fails the test (the session
    // probe of a visitor is not one: it answers 200).
    watch.expect('/api/v1/users', 400);
    watch.expect('/api/v1/sessions', 401);
    api = new ApiClient(app.baseUrl);
  });

  after(async () => {
    await browser?.close();
    await app?.stop();
  });

  const url = (hash: string) => `${app!.baseUrl}/${hash}`;
  const account = () => page.locator('#account');

  test('home shows the empty state, and the favicon is served', async () => {
    await page.goto(url('#/'));
    await page.getByText('No categories yet').waitFor();
    await page.getByText('No acts shared yet').waitFor();
    const favicon = await fetch(`${app!.baseUrl}/favicon.svg`);
    assert.equal(favicon.status, 200);
    assert.match(favicon.headers.get('content-type') ?? '', /image\/svg\+xml/);
    await screenshot(page, '01-home-empty');
    watch.assertNoProblems();
  });

  test('sign up, taken name, wrong password, log in', async () => {
    // A one-character password is refused before it leaves the page, with the rule shown beforehand.
    await page.goto(url('#/signup'));
    await page.getByText('At least 8 characters.').waitFor();
    assert.equal(await page.getByLabel('Password').getAttribute('aria-describedby'), 'password-hint');
    await page.getByLabel('Username').fill(USER);
    await page.getByLabel('Password').fill('x');
    await page.getByRole('button', { name: 'Create account' }).click();
    await page.getByRole('alert').getByText('Choose a password of at least 8 characters.').waitFor();
    assert.equal((await fetch(`${app!.baseUrl}/api/v1/users`)).status, 204, 'no account was made');

    await page.goto(url('#/signup'));
    await page.getByLabel('Username').fill(USER);
    await page.getByLabel('Password').fill(PASSWORD);
    await screenshot(page, '02-signup');
    await page.getByRole('button', { name: 'Create account' }).click();
    await account().getByText(USER).waitFor();
    await page.waitForFunction(() => location.hash === '#/');

    await account().getByRole('button', { name: 'Log out' }).click();
    await account().getByRole('link', { name: 'Log in' }).waitFor();

    await page.goto(url('#/signup'));
    await page.getByLabel('Username').fill(USER);
    await page.getByLabel('Password').fill('another password');
    await page.getByRole('button', { name: 'Create account' }).click();
    await page.getByRole('alert').getByText(`The username “${USER}” is taken`).waitFor();

    await page.goto(url('#/login'));
    await page.getByLabel('Username').fill(USER);
    await page.getByLabel('Password').fill('not my password');
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByRole('alert').getByText('Wrong username or password').waitFor();
    await screenshot(page, '03-login-wrong-password');

    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Log in' }).click();
    await account().getByText(USER).waitFor();
    watch.assertNoProblems();
  });

  test('add a category from the home page', async () => {
    await page.goto(url('#/'));
    await page.getByLabel('New category name').fill(CATEGORY);
    await page.getByRole('button', { name: 'Add category' }).click();
    const card = page.getByRole('link', { name: `${CATEGORY} 0 acts` });
    await card.waitFor();

    // Adding it twice says so.
    watch.expect('/api/v1/categories', 400);
    await page.getByLabel('New category name').fill(CATEGORY);
    await page.getByRole('button', { name: 'Add category' }).click();
    await page.getByRole('alert').getByText(`There is already a category called “${CATEGORY}”`).waitFor();
    watch.assertNoProblems();
  });

  test('upload: clear errors first, then a photo with progress, landing in the feed', async () => {
    // Other people's acts, so the feed has company (and the README screenshot has colour).
    const sam = new ApiClient(app!.baseUrl);
    await sam.signUpAndLogIn('sam', 'sam password');
    await sam.addCategory('Environment');
    await sam.addCategory('Animals');
    const seeded = [
      ['Shovelled the snow off the whole street before anyone woke up.', 3, 'sun'],
      ['Fixed the wobbly bench by the bus stop. Bring a book and sit a while!', 5, 'heart'],
      ['Our building’s shared fridge, restocked for whoever needs it this week.', 8, 'house'],
    ] as const;
    for (const [i, [caption, votes, motif]] of seeded.entries()) {
      const id = await sam.upload(
        heartPng(...PALETTES[(i + 1) % PALETTES.length]!, 320, 240, motif),
        caption,
        CATEGORY,
      );
      for (let v = 0; v < votes; v++) await sam.upvote(id);
    }
    await sam.upload(
      heartPng(...PALETTES[3]!, 320, 240, 'sun'),
      'Planted twelve oak saplings along the river path.',
      'Environment',
    );

    await page.goto(url(`#/upload?c=${encodeURIComponent(CATEGORY)}`));
    const error = page.getByRole('alert');
    await page.getByRole('button', { name: 'Share this act' }).click();
    await error.getByText('Choose a photo to share first').waitFor();

    // Dropped onto the drop zone, as from a file manager.
    const dropped = await page.evaluateHandle(() => {
      const data = new DataTransfer();
      data.items.add(new File(['hello'], 'notes.txt', { type: 'text/plain' }));
      return data;
    });
    await page.locator('.dropzone').dispatchEvent('drop', { dataTransfer: dropped });
    await error.getByText('“notes.txt” is not an image').waitFor();

    const input = page.locator('input[type=file]');

    // Named and typed like a PNG, but not one: the browser cannot decode it.
    await input.setInputFiles({ name: 'fake.png', mimeType: 'image/png', buffer: Buffer.from('definitely not a png') });
    await error.getByText('“fake.png” is not an image this browser can read').waitFor();

    // Formats this browser shows but the site does not take: refused by their bytes, before any upload.
    const avif = Buffer.concat([Buffer.from([0, 0, 0, 0x1c]), Buffer.from('ftypavif\0\0\0\0avifmif1miaf', 'latin1')]);
    const bmp = Buffer.concat([Buffer.from('BM', 'latin1'), Buffer.alloc(60)]);
    const svg = Buffer.from('<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="8" height="8"/>');
    const posts: string[] = [];
    page.on('request', (req) => {
      if (req.method() === 'POST' && req.url().endsWith('/api/v1/acts')) posts.push(req.url());
    });
    for (const [name, mimeType, buffer, said] of [
      ['sunset.avif', 'image/avif', avif, 'an AVIF image'],
      ['scan.bmp', 'image/bmp', bmp, 'a BMP image'],
      ['logo.svg', 'image/svg+xml', svg, 'an SVG image'],
      ['sunset.jpg', 'image/jpeg', avif, 'an AVIF image'], // named .jpg: the bytes decide
    ] as const) {
      await input.setInputFiles({ name, mimeType, buffer });
      await error.getByText(`“${name}” is ${said}, which SelfLessActs does not take`).waitFor({ timeout: 5000 });
      assert.equal(await page.locator('.preview-img').isVisible(), false, `${name}: no preview, nothing to send`);
    }
    await page.getByRole('button', { name: 'Share this act' }).click();
    await error.getByText('Choose a photo to share first').waitFor();
    assert.deepEqual(posts, [], 'nothing was uploaded');

    await input.setInputFiles({ name: 'huge.png', mimeType: 'image/png', buffer: Buffer.alloc(17 * 1024 * 1024) });
    await error.getByText('“huge.png” is too large').waitFor();

    await input.setInputFiles({
      name: 'groceries.png',
      mimeType: 'image/png',
      buffer: heartPng(...PALETTES[0]!, 640, 480),
    });
    await page.locator('.preview-img').waitFor({ state: 'visible' });
    assert.ok(await page.locator('.preview-img').evaluate((img: HTMLImageElement) => img.naturalWidth === 640));
    assert.equal(await error.isHidden(), true, 'a good photo clears the error');

    await page.getByLabel('Category').selectOption('');
    await page.getByLabel('Caption').fill('Carried Mrs. Okafor’s groceries up four flights of stairs.');
    await page.getByRole('button', { name: 'Share this act' }).click();
    await error.getByText('Choose a category for your act').waitFor();
    await page.getByLabel('Category').selectOption(CATEGORY);
    await screenshot(page, '04-upload');

    // Record what the progress bar and its label show while the upload runs.
    await page.locator('form.upload-form').evaluate((form: HTMLFormElement) => {
      const seen: string[] = [];
      (window as unknown as { progressSeen: string[] }).progressSeen = seen;
      const bar = form.querySelector('progress')!;
      const label = form.querySelector('.progress-text')!;
      new MutationObserver(() => seen.push(`${bar.hidden ? 'hidden' : bar.value} ${label.textContent}`)).observe(form, {
        attributes: true,
        childList: true,
        characterData: true,
        subtree: true,
      });
    });
    await page.getByRole('button', { name: 'Share this act' }).click();
    await page.waitForFunction((hash) => location.hash === hash, `#/c/${encodeURIComponent(CATEGORY)}`);
    const progress = await page.evaluate(() => (window as unknown as { progressSeen: string[] }).progressSeen);
    // "Processing…" appears only once XMLHttpRequest reports the whole body sent.
    assert.ok(
      progress.some((p) => p.startsWith('100 Processing')),
      `upload progress was shown: ${progress.join(' | ')}`,
    );

    const acts = await api.acts(CATEGORY);
    assert.equal(acts.length, 4);
    assert.equal(acts[0]!.username, USER);
    assert.equal(acts[0]!.caption, 'Carried Mrs. Okafor’s groceries up four flights of stairs.');
    myActId = acts[0]!.actId;
    watch.assertNoProblems();
  });

  test('the feed shows the photo from the image route; upvotes count at once and on the server', async () => {
    const first = page.locator('.act-card').first();
    await first.waitFor();
    assert.equal(await first.getAttribute('data-act-id'), myActId, 'newest first');
    assert.equal(await page.locator('.act-card').count(), 4);
    const img = first.locator('img');
    // A thumbnail, not the photo: a sized copy (WebP for Chromium) of the act's current image.
    assert.match(
      String(await img.getAttribute('src')),
      new RegExp(`^/api/v1/acts/${myActId}/image/[0-9a-f]{16}/640\\.jpg$`),
    );
    // The feed's first photo is its largest paint: fetched at once and first, not lazily.
    assert.equal(await img.getAttribute('loading'), 'eager');
    assert.equal(await img.getAttribute('fetchpriority'), 'high');
    assert.equal(await page.locator('.act-card img').nth(1).getAttribute('loading'), 'lazy');
    assert.deepEqual(
      [await img.getAttribute('width'), await img.getAttribute('height')],
      ['640', '480'],
      'its own size, so its place is kept',
    );
    await page.waitForFunction(
      (id) => {
        const el = document.querySelector<HTMLImageElement>(`[data-act-id="${id}"] img`);
        return el?.complete && el.naturalWidth > 0 && el.currentSrc.endsWith('.webp');
      },
      myActId,
      { timeout: 10_000 },
    );
    assert.equal(await page.locator('img[src^="data:"]').count(), 0, 'no inline base64 images');
    await first.getByText(USER, { exact: true }).waitFor();
    await page.getByText('4 acts').waitFor();

    // Optimistic: the count moves while the request is still held back.
    const upvote = first.getByRole('button', { name: /: upvote act by alex$/ });
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    await page.route('**/api/v1/acts/upvote', async (route) => {
      await held;
      await route.continue();
    });
    await upvote.click();
    await first.locator('.upvote-count').getByText('1', { exact: true }).waitFor();
    const answered = page.waitForResponse((res) => res.url().endsWith('/api/v1/acts/upvote'));
    release();
    await answered;
    await page.unroute('**/api/v1/acts/upvote');
    assert.equal((await api.acts(CATEGORY))[0]!.upvotes, 1);

    // Reachable by keyboard: Tab to the first upvote button and press Enter.
    await page.locator('h1').focus();
    let focusedUpvote = false;
    for (let i = 0; i < 30 && !focusedUpvote; i++) {
      await page.keyboard.press('Tab');
      focusedUpvote = await page.evaluate(() => document.activeElement?.classList.contains('upvote') ?? false);
    }
    assert.ok(focusedUpvote, 'an upvote button is reachable with Tab');
    await page.keyboard.press('Enter');
    await first.locator('.upvote-count').getByText('2', { exact: true }).waitFor();
    await expectUpvotes(api, CATEGORY, myActId, 2);

    await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
    await page.mouse.move(0, 0);
    await page.waitForFunction(() => Array.from(document.images).every((i) => i.complete && i.naturalWidth > 0));
    await page.waitForFunction(() => document.querySelector('.toast') === null, undefined, { timeout: 8000 });
    await screenshot(page, '05-feed', 'feed.png');

    // Refused by the server: the vote is taken back and the reason shown.
    const forgive = watch.expect('/api/v1/acts/upvote', 400);
    await page.route('**/api/v1/acts/upvote', (route) =>
      route.fulfill({ status: 400, contentType: 'application/json', body: '{"error":"no such act"}' }),
    );
    await upvote.click();
    await page.getByText('Your upvote did not count: no such act').waitFor();
    await first.locator('.upvote-count').getByText('2', { exact: true }).waitFor();
    await page.unroute('**/api/v1/acts/upvote');
    forgive();

    watch.assertNoProblems();
  });

  test('remove your own act after confirming; other people’s acts have no remove button', async () => {
    const cards = page.locator('.act-card');
    assert.equal(await cards.locator('.remove').count(), 1, 'only my act can be removed');
    const mine = page.locator(`[data-act-id="${myActId}"]`);
    await mine.getByRole('button', { name: /^Remove your act/ }).click();
    const dialog = page.getByRole('dialog');
    await dialog.waitFor();
    await screenshot(page, '06-remove-confirm');
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    assert.equal(await mine.count(), 1, 'cancel keeps the act');

    await mine.getByRole('button', { name: /^Remove your act/ }).click();
    await dialog.getByRole('button', { name: 'Remove' }).click();
    await mine.waitFor({ state: 'detached' });
    await page.getByText('3 acts').waitFor();
    const left = await api.acts(CATEGORY);
    assert.equal(left.length, 3);
    assert.ok(!left.some((a) => a.actId === myActId));
    watch.assertNoProblems();
  });

  test('a category of more than one page loads older acts through the range route', async () => {
    const priya = new ApiClient(app!.baseUrl);
    await priya.signUpAndLogIn('priya', 'priya password');
    await priya.addCategory('Tidy streets');
    const photos = PALETTES.map((p, i) => heartPng(...p, 320, 240, (['heart', 'sun', 'house'] as const)[i % 3]));
    for (let i = 1; i <= 30; i++) await priya.upload(photos[i % photos.length]!, `Litter pick #${i}`, 'Tidy streets');

    const plainList: string[] = [];
    page.on('request', (req) => {
      const u = new URL(req.url());
      if (/\/acts$/.test(u.pathname) && u.pathname.startsWith('/api/v1/categories/') && !u.searchParams.has('start'))
        plainList.push(req.url());
    });
    await page.goto(url(`#/c/${encodeURIComponent('Tidy streets')}`));
    await page.getByText('30 acts').waitFor();
    await page.locator('.act-card').nth(23).waitFor();
    assert.equal(await page.locator('.act-card').count(), 24);
    assert.equal(await page.locator('.act-caption').first().textContent(), 'Litter pick #30');
    // Scrolling the button into view may load the next page by itself (the feed loads a screen
    // ahead), putting cards where the button was: press it only while it is still there.
    const older = page.getByRole('button', { name: 'Show older acts' });
    await older.scrollIntoViewIfNeeded();
    await older.evaluate((button: HTMLButtonElement) => {
      if (!button.hidden && !button.disabled) button.click();
    });
    await page.locator('.act-card').nth(29).waitFor();
    assert.equal(await page.locator('.act-card').count(), 30);
    assert.equal(await page.locator('.act-caption').last().textContent(), 'Litter pick #1');
    assert.equal(await page.getByRole('button', { name: 'Show older acts' }).isHidden(), true);
    assert.deepEqual(plainList, [], 'only the range route is used');
    watch.assertNoProblems();
  });

  test('home lists categories with counts and the latest acts', async () => {
    await page.goto(url('#/'));
    await page.getByRole('link', { name: `${CATEGORY} 3 acts` }).waitFor();
    await page.getByRole('link', { name: 'Tidy streets 30 acts' }).waitFor();
    await page.getByRole('link', { name: 'Animals 0 acts' }).waitFor();
    // The latest acts arrive independently of the categories.
    await page.locator('.act-grid .act-card').nth(5).waitFor();
    assert.equal(await page.locator('.act-grid .act-card').count(), 6);
    await screenshot(page, '07-home');
    watch.assertNoProblems();
  });

  test('an unknown category and an unknown page say so', async () => {
    const forgive = watch.expect('/api/v1/categories/No%20such%20thing/acts/size', 400);
    await page.goto(url(`#/c/${encodeURIComponent('No such thing')}`));
    await page.getByRole('heading', { name: 'No such category' }).waitFor();
    await page.goto(url('#/nowhere'));
    await page.getByRole('heading', { name: 'Page not found' }).waitFor();
    forgive();
    watch.assertNoProblems();
  });

  test('log out; uploading then asks to log in', async () => {
    await account().getByRole('button', { name: 'Log out' }).click();
    await account().getByRole('link', { name: 'Log in' }).waitFor();
    await page.goto(url('#/upload'));
    await page.getByText('Log in to share a photo').waitFor();
    assert.equal(await page.locator('input[type=file]').count(), 0);
    const probe = await page.evaluate(async () => (await fetch('/api/v1/sessions/current')).json());
    assert.deepEqual(probe, { username: null, apiAccess: 'open' });
    await screenshot(page, '08-upload-logged-out');
    watch.assertNoProblems();
  });

  test('My acts: logged out it asks to log in; then one user’s acts over categories, newest first; removal', async () => {
    const maria = new ApiClient(app!.baseUrl);
    await maria.signUpAndLogIn('maria', 'maria password');
    const mine = [
      ['Read bedtime stories at the children’s ward.', CATEGORY, 'heart'],
      ['Walked the shelter dogs in the rain.', 'Animals', 'sun'],
      ['Swept the leaves off the school steps.', 'Environment', 'house'],
    ] as const;
    const ids: string[] = [];
    for (const [i, [caption, category, motif]] of mine.entries()) {
      ids.push(
        await maria.upload(heartPng(...PALETTES[(i + 2) % PALETTES.length]!, 320, 240, motif), caption, category),
      );
    }
    const newestFirst = mine.map(([caption]) => caption).reverse();

    await withWatchedPage(browser!, {}, async ({ page }) => {
      // The profile knows its size (the count route for one user): no range is ever refused.
      const actRequests: string[] = [];
      page.on('request', (req) => {
        const u = new URL(req.url());
        if (u.pathname === '/api/v1/acts' && req.method() === 'GET') actRequests.push(u.search);
      });

      await page.goto(url('#/me'));
      await page.waitForFunction(() => location.hash === '#/login?next=%2Fme');
      await logIn(page, 'maria', 'maria password');
      await page.waitForFunction(() => location.hash === '#/me');
      await page.getByRole('heading', { name: 'My acts' }).waitFor();
      await page.getByText('3 acts shared').waitFor();
      assert.equal(
        await page.locator('#account').getByRole('link', { name: 'My acts' }).getAttribute('aria-current'),
        'page',
      );

      const cards = page.locator('.act-card');
      assert.deepEqual(
        await cards.locator('.act-caption').allTextContents(),
        newestFirst,
        'only maria’s acts, newest first',
      );
      assert.deepEqual(
        await cards.evaluateAll((els) => els.map((el) => (el as HTMLElement).dataset.actId)),
        [...ids].reverse(),
      );
      assert.deepEqual(await cards.locator('.act-when a').allTextContents(), ['Environment', 'Animals', CATEGORY]);
      assert.equal(await cards.locator('.act-author').filter({ hasNotText: 'maria' }).count(), 0, 'nobody else’s acts');
      assert.equal(await cards.locator('.remove').count(), 3, 'each can be removed');
      assert.ok(
        actRequests.length > 0 && actRequests.every((q) => new URLSearchParams(q).get('username') === 'maria'),
        actRequests.join(' '),
      );
      assert.deepEqual(
        actRequests.map((q) => new URLSearchParams(q).get('end')),
        ['3'],
        'one request, exactly as long as the profile',
      );
      await page.waitForFunction(() => Array.from(document.images).every((i) => i.complete && i.naturalWidth > 0));
      await page.waitForFunction(() => document.querySelector('.toast') === null, undefined, { timeout: 8000 });
      await screenshot(page, '12-my-acts');

      // The category link leads to that category's feed.
      await cards.first().getByRole('link', { name: 'Environment' }).click();
      await page.waitForFunction(() => location.hash === '#/c/Environment');
      await page.goBack();
      await page.getByText('3 acts shared').waitFor();

      const animals = page.locator(`[data-act-id="${ids[1]}"]`);
      await animals.getByRole('button', { name: /^Remove your act/ }).click();
      await page.getByRole('dialog').getByRole('button', { name: 'Remove' }).click();
      await animals.waitFor({ state: 'detached' });
      await page.getByText('2 acts shared').waitFor();
      assert.deepEqual(await cards.locator('.act-caption').allTextContents(), [newestFirst[0], newestFirst[2]]);
      assert.equal(await api.size('Animals'), 0, 'removed on the server');
      await page.waitForFunction(() => document.querySelector('.toast') === null, undefined, { timeout: 8000 });
    });
  });

  test('My acts pages through more than one page as it is scrolled, its size known from the start', async () => {
    await withWatchedPage(browser!, {}, async ({ page }) => {
      await page.goto(url('#/login?next=%2Fme'));
      await logIn(page, 'priya', 'priya password');
      await page.getByText('30 acts shared').waitFor();
      await page.locator('.act-card').nth(23).waitFor();
      assert.equal(await page.locator('.act-card').count(), 24);
      assert.equal(await page.locator('.act-caption').first().textContent(), 'Litter pick #30');
      // Bringing the "Show older acts" row into view loads the next page by itself (infinite
      // scroll), so a click could find the button already gone: a loaded run did.
      await page.getByRole('button', { name: 'Show older acts' }).scrollIntoViewIfNeeded();
      await page.locator('.act-card').nth(29).waitFor();
      assert.equal(await page.locator('.act-card').count(), 30);
      assert.equal(await page.locator('.act-caption').last().textContent(), 'Litter pick #1');
      assert.equal(await page.getByRole('button', { name: 'Show older acts' }).isHidden(), true);
    });
  });

  test('"Show older acts" loads the next page where nothing loads it by itself (keyboards, a failed automatic load)', async () => {
    await withWatchedPage(browser!, {}, async ({ page }) => {
      // A browser whose observer never reports: only the button can load the rest.
      await page.addInitScript(() => {
        window.IntersectionObserver = class {
          observe(): void {}
          unobserve(): void {}
          disconnect(): void {}
          takeRecords(): IntersectionObserverEntry[] {
            return [];
          }
        } as unknown as typeof IntersectionObserver;
      });
      await page.goto(url('#/login?next=%2Fme'));
      await logIn(page, 'priya', 'priya password');
      await page.locator('.act-card').nth(23).waitFor();
      const button = page.getByRole('button', { name: 'Show older acts' });
      await button.focus();
      await page.keyboard.press('Enter');
      await page.locator('.act-card').nth(29).waitFor();
      assert.equal(await page.locator('.act-card').count(), 30);
      assert.equal(await button.isHidden(), true);
    });
  });

  test('My acts says so when a new user has none, and fits a phone', async () => {
    await withWatchedPage(
      browser!,
      { viewport: { width: 375, height: 812 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true },
      async ({ page }) => {
        await page.goto(url('#/signup?next=%2Fme'));
        await page.getByLabel('Username').fill('newcomer');
        await page.getByLabel('Password').fill('newcomer password');
        await page.getByRole('button', { name: 'Create account' }).click();
        await page.waitForFunction(() => location.hash === '#/me');
        await page.getByText('You have not shared any acts yet').waitFor();
        await page.getByText('No acts yet').waitFor();
        assert.equal(await page.locator('.act-card').count(), 0);
        await page.getByRole('link', { name: 'Share your first act' }).waitFor();
        const width = await page.evaluate(() => document.documentElement.scrollWidth);
        assert.ok(width <= 375, `#/me fits 375 px (scrollWidth ${width})`);
        await page.waitForFunction(() => document.querySelector('.toast') === null, undefined, { timeout: 8000 });
        await screenshot(page, '13-phone-my-acts-empty');
      },
    );
  });

  test('phone-sized screen: no sideways scrolling, navigation reachable', async () => {
    await withWatchedPage(
      browser!,
      { viewport: { width: 375, height: 812 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true },
      async ({ page }) => {
        for (const [hash, name] of [
          ['#/', '09-phone-home'],
          [`#/c/${encodeURIComponent(CATEGORY)}`, '10-phone-feed'],
          ['#/login', '11-phone-login'],
        ] as const) {
          await page.goto(url(hash));
          await page.locator('h1').first().waitFor();
          await page.waitForLoadState('networkidle');
          const width = await page.evaluate(() => document.documentElement.scrollWidth);
          assert.ok(width <= 375, `${hash} fits 375 px (scrollWidth ${width})`);
          await page.getByRole('link', { name: 'Share an act' }).first().waitFor();
          await page.getByRole('link', { name: 'SelfLessActs home' }).waitFor();
          await screenshot(page, name);
        }
      },
    );
  });

  test('a 2,000-character caption: the card shows its start, the photo view all of it', async () => {
    const zoe = new ApiClient(app!.baseUrl);
    await zoe.signUpAndLogIn('zoe', 'zoe password');
    await zoe.addCategory('Long stories');
    const caption = 'Helped at the food bank all afternoon, then drove the leftovers to the shelter. '
      .repeat(30)
      .slice(0, 2000);
    const id = await zoe.upload(heartPng(...PALETTES[2]!, 320, 240), caption, 'Long stories');
    await withWatchedPage(browser!, {}, async ({ page }) => {
      await page.goto(url(`#/c/${encodeURIComponent('Long stories')}`));
      const card = page.locator(`[data-act-id="${id}"]`);
      await card.locator('img').waitFor();
      const box = (await card.boundingBox())!;
      assert.ok(box.height < 700, `the card is ${Math.round(box.height)} px tall (was 1,852 px)`);
      await card.locator('.act-photo').click();
      const full = page.locator('.photo-view .pv-caption');
      await full.waitFor();
      assert.equal(await full.textContent(), caption, 'the photo view shows the whole caption');
    });
  });

  test('no request left 127.0.0.1 and nothing went wrong in the main page', async () => {
    await context.close();
    watch.assertNoProblems();
  });
});

async function logIn(page: Page, username: string, password: string): Promise<void> {
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.locator('#account').getByText(username).waitFor();
}

async function expectUpvotes(api: ApiClient, category: string, actId: string, n: number): Promise<void> {
  // The page's request may still be in flight when the count has moved on screen.
  const deadline = Date.now() + 5000;
  let upvotes = -1;
  while (Date.now() < deadline) {
    upvotes = (await api.acts(category)).find((a) => a.actId === actId)?.upvotes ?? -1;
    if (upvotes === n) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.equal(upvotes, n);
}
