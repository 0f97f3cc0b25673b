// Issue 12 in a real Chromium against the real app (owner mode, the default): what a photo page
// weighs with real phone-sized photos, that nothing moves as they load, and the whole path of a
// new user on a phone and on a desktop: sign up, upload a portrait and a landscape photo, view
// one full size (arrows, swipe, its own address, reload), upvote it once (and take it back),
// their profile, removal. Every page is watched for console errors, logged in or not.
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser, BrowserContextOptions, Page } from 'playwright-core';
import { photoJpeg } from '../../testkit/photos.ts';
import { chromiumAvailable, skipUnless } from '../helpers/requirements.ts';
import { ApiClient, type Act } from './support/api-client.ts';
import { artifactsDir, launchBrowser, screenshot, withWatchedPage } from './support/browser.ts';
import { DESKTOP, PHONE, pageWeight } from './support/page-weight.ts';
import { startApp, type RunningApp } from './support/processes.ts';

const skip = skipUnless(await chromiumAvailable(), 'Chromium');
const GALLERY = 'Sunsets';
const TRIPS = 'Weekend trips';
const MB = 1024 * 1024;
/** The issue's budgets for a 24-act category page, scrolled to its end. */
const BUDGET = { phone: 1.5 * MB, desktop: 3 * MB };
/** "No layout shift": Web Vitals call 0.1 good; a reserved box for every photo gives 0. */
const CLS_BOUND = 0.01;

const DEVICES: [name: 'phone' | 'desktop', options: BrowserContextOptions][] = [
  ['phone', PHONE],
  ['desktop', DESKTOP],
];

describe('photos as a photo site serves them (owner mode)', { skip }, () => {
  let app: RunningApp | undefined;
  let browser: Browser | undefined;
  let sam: ApiClient;
  let landscape: Buffer;
  let portrait: Buffer;

  before(async () => {
    app = await startApp({ API_ACCESS: 'owner' });
    browser = await launchBrowser();
    sam = new ApiClient(app.baseUrl);
    await sam.signUpAndLogIn('sam', 'sam password');
    await sam.addCategory(GALLERY);
    await sam.addCategory(TRIPS);
    // Real photos' sizes: 4000×3000 and 3000×4000 JPEGs of 3 MB or more, a few different ones.
    const photos: Buffer[] = [];
    for (let seed = 0; seed < 4; seed++)
      photos.push(
        await photoJpeg(seed % 2 === 0 ? { width: 4000, height: 3000, seed } : { width: 3000, height: 4000, seed }),
      );
    for (const photo of photos) assert.ok(photo.length >= 3 * MB, `a test photo weighs ${photo.length} bytes`);
    [landscape, portrait] = [photos[0]!, photos[1]!];
    for (let i = 0; i < 24; i++)
      await sam.upload(photos[i % photos.length]!, `Sunset #${i + 1} from the hill`, GALLERY, 'image/jpeg');
  });

  after(async () => {
    await browser?.close();
    await app?.stop();
  });

  const url = (hash: string) => `${app!.baseUrl}/${hash}`;

  for (const [device, options] of DEVICES) {
    test(`a 24-photo category page on a ${device} weighs at most ${BUDGET[device] / MB} MB and nothing moves as photos load`, async () => {
      const weight = await pageWeight(browser!, url(`#/c/${encodeURIComponent(GALLERY)}`), '.act-card img', options);
      await mkdir(artifactsDir, { recursive: true });
      await writeFile(join(artifactsDir, `page-weight-${device}.json`), `${JSON.stringify(weight, null, 2)}\n`);
      console.log(
        `${device}: ${(weight.bytes / MB).toFixed(2)} MB in ${weight.requests} requests, CLS ${weight.cls.toFixed(4)} (${weight.shifts.length} shifts${weight.shifts.length > 0 ? `: ${JSON.stringify(weight.shifts)}` : ''}), ${weight.loaded}/${weight.images} images`,
      );
      assert.equal(weight.images, 24, 'every act has its photo');
      assert.equal(weight.loaded, 24, `every photo loaded: ${weight.sources.join(' ')}`);
      assert.ok(
        weight.sources.every((src) => /\/image\/[0-9a-f]{16}\/\d+\.webp$/.test(src)),
        `thumbnails, not originals: ${weight.sources.join(' ')}`,
      );
      // Each card gets a copy near the pixels it shows, not the next size up from far below.
      const dpr = options.deviceScaleFactor ?? 1;
      const oversized = weight.sources
        .map((src, i) => ({
          src,
          chosen: Number(/\/(\d+)\.webp$/.exec(src)?.[1]),
          needed: weight.shownWidths[i]! * dpr,
        }))
        .filter(({ chosen, needed }) => chosen > Math.max(320, needed * 1.5));
      assert.deepEqual(
        oversized.map((o) => `${o.src} for ${Math.round(o.needed)} px`),
        [],
        'a copy more than 1.5 times the pixels shown',
      );
      assert.ok(
        weight.bytes <= BUDGET[device],
        `${device}: ${weight.bytes} bytes transferred, budget ${BUDGET[device]}`,
      );
      assert.ok(
        weight.cls <= CLS_BOUND,
        `${device}: cumulative layout shift ${weight.cls}: ${JSON.stringify(weight.shifts)}`,
      );
    });
  }

  for (const [device, options] of DEVICES) {
    test(`a new user's whole path on a ${device}: sign up, upload, view full size, upvote once, profile, remove`, async () => {
      const user = `dana-${device}`;
      const shot = (page: Page, step: string, docsName?: string, fullPage = true) =>
        screenshot(page, `photo-${device}-${step}`, docsName, { fullPage });
      await withWatchedPage(browser!, options, async ({ page }) => {
        // A visitor's pages: no failed request, no console error.
        for (const hash of ['#/', `#/c/${encodeURIComponent(GALLERY)}`, '#/latest', '#/u/sam']) {
          await page.goto(url(hash));
          await page.locator('.act-card').first().waitFor();
        }
        await page.getByText('24 acts shared').waitFor();
        await page.locator('.act-card button.upvote').first().click();
        await page.locator('.toast').getByText('Log in to upvote').waitFor();
        await shot(page, '01-visitor-profile');

        await page.goto(url(`#/signup?next=${encodeURIComponent(`/upload?c=${TRIPS}`)}`));
        await page.getByLabel('Username').fill(user);
        await page.getByLabel('Password').fill('dana password');
        await page.getByRole('button', { name: 'Create account' }).click();
        await page.getByLabel('Category').waitFor();

        const ids: string[] = [];
        for (const [name, photo, caption] of [
          ['portrait.jpg', portrait, 'Walked Mrs. Lee’s dog up to the lookout.'],
          ['landscape.jpg', landscape, 'Cleared the path to the beach for everyone.'],
        ] as const) {
          await page.goto(url(`#/upload?c=${encodeURIComponent(TRIPS)}`));
          await page.locator('input[type=file]').setInputFiles({ name, mimeType: 'image/jpeg', buffer: photo });
          await page.locator('.preview-img').waitFor({ state: 'visible' });
          await page.getByLabel('Caption').fill(caption);
          const created = page.waitForResponse(
            (res) => res.url().endsWith('/api/v1/acts') && res.request().method() === 'POST',
            { timeout: 60_000 },
          );
          await page.getByRole('button', { name: 'Share this act' }).click();
          const reply = await created;
          assert.equal(reply.status(), 201);
          ids.push(String((/"actId":(\d+)/.exec(await reply.text()) ?? [])[1]));
          await page.waitForFunction((hash) => location.hash === hash, `#/c/${encodeURIComponent(TRIPS)}`);
        }
        const [portraitId, landscapeId] = ids as [string, string];
        const landscapeCard = page.locator(`[data-act-id="${landscapeId}"]`);
        await landscapeCard.waitFor();
        await waitForImages(page);
        await shot(page, '02-feed-after-upload');

        // Full size: the photo view at its own address, the whole photo, sharp enough for the screen.
        await landscapeCard.locator('.act-photo').click();
        await page.waitForFunction((hash) => location.hash === hash, `#/a/${landscapeId}`);
        const big = page.locator('.photo-view .pv-img');
        await waitForImages(page);
        const shown = await big.evaluate((img: HTMLImageElement) => ({
          src: img.currentSrc,
          width: img.getBoundingClientRect().width,
        }));
        // naturalWidth is in CSS pixels for a srcset choice: the copy's own width is in its name.
        const chosen = Number(/\/image\/[0-9a-f]{16}\/(\d+)\.webp$/.exec(shown.src)?.[1]);
        const dpr = options.deviceScaleFactor ?? 1;
        assert.ok(
          chosen >= Math.min(1920, shown.width * dpr * 0.9),
          `sharp enough: ${shown.src} for ${shown.width} css px at ${dpr}x`,
        );
        await shot(page, '03-photo-view', device === 'desktop' ? 'photo-view.png' : 'phone-photo-view.png', false);

        // To the next (older) photo and back: arrows on a desktop, a swipe on a phone.
        if (device === 'phone') await swipe(page, -160);
        else await page.keyboard.press('ArrowRight');
        await page.waitForFunction((hash) => location.hash === hash, `#/a/${portraitId}`);
        // The way back is offered once the view has found the photo's neighbours (a person
        // presses the arrow they see): pressing before that raced the view's drawing under load.
        await page.locator('.photo-view .pv-caption').getByText('Walked Mrs. Lee’s dog up to the lookout.').waitFor();
        await page.locator('.photo-view .pv-prev').waitFor({ state: 'visible' });
        if (device === 'phone') await swipe(page, 160);
        else await page.keyboard.press('ArrowLeft');
        await page.waitForFunction((hash) => location.hash === hash, `#/a/${landscapeId}`);

        // Upvote once, in the photo view; the address can be reloaded and shows the same.
        const viewButton = page.locator('.photo-view button.upvote');
        await viewButton.click();
        await page.locator('.photo-view .upvote-count').getByText('1', { exact: true }).waitFor();
        assert.equal(await viewButton.getAttribute('aria-pressed'), 'true');
        await page.reload();
        await page.locator('.photo-view .pv-img').waitFor();
        assert.equal(
          await page.locator('.photo-view button.upvote').getAttribute('aria-pressed'),
          'true',
          'still upvoted after a reload',
        );
        await page.keyboard.press('Escape');
        await page.waitForFunction((hash) => location.hash === hash, `#/c/${encodeURIComponent(TRIPS)}`);
        assert.equal(await page.locator('dialog.photo-view').count(), 0, 'closed');

        // In the feed, after a reload: the heart is filled; a click takes it back, another gives it again.
        await page.reload();
        const heart = landscapeCard.locator('button.upvote');
        await heart.waitFor();
        assert.equal(await heart.getAttribute('aria-pressed'), 'true');
        await heart.click();
        await landscapeCard.locator('.upvote-count').getByText('0', { exact: true }).waitFor();
        await expectUpvotes(sam, TRIPS, landscapeId, 0);
        await heart.click();
        await landscapeCard.locator('.upvote-count').getByText('1', { exact: true }).waitFor();
        await expectUpvotes(sam, TRIPS, landscapeId, 1);
        assert.equal(
          (await landscapeCard.locator('time').getAttribute('title')) !== null,
          true,
          'the exact local time on hover',
        );
        await page.waitForFunction(() => document.querySelector('.toast') === null, undefined, { timeout: 10_000 });

        // The author's name leads to their profile: both photos, its size known.
        await landscapeCard.getByRole('link', { name: user }).click();
        await page.waitForFunction((hash) => location.hash === hash, `#/u/${user}`);
        await page.getByText('2 acts shared').waitFor();
        await page.locator('.act-card').nth(1).waitFor(); // the count can be drawn before the cards
        await waitForImages(page);
        assert.equal(await page.locator('.act-card').count(), 2);
        await shot(page, '04-profile');

        // Remove one, after confirming, from "My acts" (the same page, for yourself).
        await page.locator('#account').getByRole('link', { name: 'My acts' }).click();
        await page.getByRole('heading', { name: 'My acts' }).waitFor();
        await page
          .locator(`[data-act-id="${portraitId}"]`)
          .getByRole('button', { name: /^Remove your act/ })
          .click();
        await page.getByRole('dialog').getByRole('button', { name: 'Remove' }).click();
        await page.locator(`[data-act-id="${portraitId}"]`).waitFor({ state: 'detached' });
        await page.getByText('1 act shared').waitFor();
        await page.waitForFunction(() => document.querySelector('.toast') === null, undefined, { timeout: 10_000 });
        await shot(page, '05-my-acts-after-remove');
        assert.ok(!(await sam.acts(TRIPS)).some((a) => a.actId === portraitId), 'removed on the server');

        // Logged out again: the pages still log nothing.
        await page.locator('#account').getByRole('button', { name: 'Log out' }).click();
        await page.locator('#account').getByRole('link', { name: 'Log in' }).waitFor();
        await page.goto(url(`#/a/${landscapeId}`));
        await page.locator('.photo-view .pv-img').waitFor();
        const width = await page.evaluate(() => document.documentElement.scrollWidth);
        assert.ok(width <= (options.viewport?.width ?? 1280), `nothing overflows sideways (${width})`);
      });
    });
  }

  test('the home page leads to everyone’s acts ("See all"); a removed photo’s address says it is gone', async () => {
    await withWatchedPage(browser!, DESKTOP, async ({ page, watch }) => {
      await page.goto(url('#/'));
      await page.getByRole('link', { name: 'See all' }).click();
      await page.getByRole('heading', { name: 'Latest acts' }).waitFor();
      await page.locator('.act-card').nth(23).waitFor();
      await shot(page);
      watch.expect('/api/v1/acts/999999/card', 404);
      await page.goto(url('#/a/999999'));
      await page.getByRole('heading', { name: 'This photo is gone' }).waitFor();
    });
    async function shot(page: Page) {
      await waitForImages(page);
      await screenshot(page, 'photo-desktop-06-latest');
    }
  });
});

/** Until every image on screen has loaded (those further down load lazily, when scrolled to). */
async function waitForImages(page: Page): Promise<void> {
  await page.waitForFunction(
    () =>
      Array.from(document.images)
        .filter((img) => img.getBoundingClientRect().top < window.innerHeight && img.getBoundingClientRect().bottom > 0)
        .every((img) => img.complete && img.naturalWidth > 0),
    undefined,
    { timeout: 30_000 },
  );
}

/** A one-finger horizontal swipe across the photo (negative: to the left, that is the next photo). */
async function swipe(page: Page, dx: number): Promise<void> {
  await page.locator('.pv-stage').evaluate((stage, distance) => {
    const box = stage.getBoundingClientRect();
    const y = box.top + box.height / 2;
    const from = box.left + box.width / 2 - distance / 2;
    // No named functions in here: the test's compiler would wrap them in a helper the page lacks.
    const start = new Touch({ identifier: 1, target: stage, clientX: from, clientY: y });
    const end = new Touch({ identifier: 1, target: stage, clientX: from + distance, clientY: y });
    stage.dispatchEvent(new TouchEvent('touchstart', { touches: [start], changedTouches: [start], bubbles: true }));
    stage.dispatchEvent(new TouchEvent('touchend', { touches: [], changedTouches: [end], bubbles: true }));
  }, dx);
}

async function expectUpvotes(api: ApiClient, category: string, actId: string, n: number): Promise<void> {
  const deadline = Date.now() + 5000;
  let upvotes = -1;
  while (Date.now() < deadline) {
    upvotes = ((await api.acts(category)) as Act[]).find((a) => a.actId === actId)?.upvotes ?? -1;
    if (upvotes === n) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.equal(upvotes, n);
}
