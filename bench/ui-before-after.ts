// Before and after pictures of issue 25's defects, from any commit's work tree: the site (owner
// mode, SQLite) of that tree, in headless Chromium, a person's own act on a phone (390×844: is
// there a Remove?), and a 4-5 MB phone photo posted over a 250 kbit/s uplink (what the page
// shows 10 s in and at the end, how many bytes went, how long it took). Run it on a work tree
// of the commit before the issue and on this one; the pictures go to --out (docs/screenshots/
// issue-25 by default), named after --label, with a JSON of the figures.
//
//   git worktree add /tmp/before f42301d && ln -s "$PWD/node_modules" /tmp/before/node_modules
//   npm run bench:before-after -- --tree /tmp/before --label before
//   npm run bench:before-after -- --label after
import { execFileSync } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { chromium, type Page } from 'playwright-core';
import { ownerWithCategory, postPhoto, startAppProcess, type AppProcess } from '../testkit/app-process.ts';
import { photoJpeg } from '../testkit/photos.ts';
import { slowNetwork } from '../testkit/slow-network.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const { values } = parseArgs({
  options: {
    tree: { type: 'string', default: ROOT },
    label: { type: 'string', default: 'after' },
    out: { type: 'string', default: path.join(ROOT, 'docs', 'screenshots', 'issue-25') },
  },
});
const TREE = path.resolve(values.tree);
const OUT = path.resolve(values.out);
const LABEL = values.label.replace(/[^a-z0-9-]/gi, '');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const CATEGORY = 'Porch';
/** How long a person would wait at most before giving up. */
const UPLOAD_WAIT_MS = 180_000;

/** The tree's app on SQLite in a fresh directory, with a user, a category and one photo. */
async function startSite(): Promise<AppProcess> {
  const site = await startAppProcess(TREE, 'before-after');
  try {
    const cookie = await ownerWithCategory(site.base, 'noor', CATEGORY);
    const photo = await photoJpeg({ width: 1600, height: 1200, seed: 2 });
    await postPhoto(site.base, cookie, photo, 'Fixed the porch light for Mrs. Lee.', CATEGORY);
    return site;
  } catch (err) {
    await site.stop();
    throw err;
  }
}

async function logIn(page: Page, base: string, next: string): Promise<void> {
  await page.goto(`${base}/#/login?next=${encodeURIComponent(next)}`);
  await page.getByLabel('Username').fill('noor');
  await page.getByLabel('Password').fill('noor password');
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.locator('#account').getByText('noor').first().waitFor({ state: 'attached' });
}

const site = await startSite();
const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu'] });
const commit = execFileSync('git', ['-C', TREE, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
const figures: Record<string, unknown> = { label: LABEL, commit };
try {
  await mkdir(OUT, { recursive: true });
  const shot = (page: Page, name: string) => page.screenshot({ path: path.join(OUT, `${name}-${LABEL}.png`) });

  // A phone: one's own act, on its card and in the photo view. Is there a way to remove it?
  const phone = await browser.newContext({
    viewport: { width: 390, height: 844 },
    deviceScaleFactor: 2,
    isMobile: true,
    hasTouch: true,
  });
  const page = await phone.newPage();
  await logIn(page, site.base, `/c/${CATEGORY}`);
  await page.locator('.act-card').first().waitFor();
  await page.waitForFunction(() => [...document.images].every((i) => i.complete));
  const remove = page.locator('.act-card .remove').first();
  figures.phoneCardRemove = {
    present: (await remove.count()) > 0,
    widthPx: (await remove.count()) > 0 ? Math.round((await remove.boundingBox())?.width ?? 0) : 0,
  };
  await shot(page, 'phone-card');
  await page.locator('.act-card .act-photo').first().click();
  await page.locator('.photo-view .pv-img').waitFor();
  await page.waitForFunction(() => [...document.images].every((i) => i.complete));
  const viewRemove = page.locator('.photo-view .remove');
  figures.phoneViewRemove = {
    present: (await viewRemove.count()) > 0,
    accessibleName: (await viewRemove.count()) > 0 ? await viewRemove.getAttribute('aria-label') : null,
    widthPx: (await viewRemove.count()) > 0 ? Math.round((await viewRemove.boundingBox())?.width ?? 0) : 0,
  };
  await shot(page, 'phone-photo-view');
  await phone.close();

  // A 4-5 MB phone photo over a 250 kbit/s uplink.
  const desk = await browser.newContext({ viewport: { width: 1280, height: 860 } });
  const up = await desk.newPage();
  await logIn(up, site.base, `/upload?c=${CATEGORY}`);
  const photo = await photoJpeg({ width: 4000, height: 3000, orientation: 6, seed: 3, quality: 90 });
  await up.getByLabel('Caption').waitFor();
  await up.locator('input[type=file]').setInputFiles({ name: 'IMG_2041.jpg', mimeType: 'image/jpeg', buffer: photo });
  await up.locator('.preview-img').waitFor({ state: 'visible' });
  await up.getByLabel('Caption').fill('Fixed the fence for Mr. Okafor.');
  await slowNetwork(up);
  const started = Date.now();
  const answered = up
    .waitForResponse((res) => res.url().endsWith('/api/v1/acts') && res.request().method() === 'POST', {
      timeout: UPLOAD_WAIT_MS,
    })
    .then(
      async (res) => ({
        status: res.status(),
        sentBytes: Number((await res.request().allHeaders())['content-length']),
      }),
      () => ({ status: 0, sentBytes: 0 }),
    );
  await up.getByRole('button', { name: 'Share this act' }).click();
  // What a person sees while it goes: 10 s in.
  await Promise.race([answered, sleep(10_000)]);
  await shot(up, 'slow-upload-10s');
  const answer = await answered;
  figures.slowUpload = { pickedBytes: photo.length, ...answer, seconds: (Date.now() - started) / 1000 };
  await sleep(1500); // what the page says once the answer arrived
  await shot(up, 'slow-upload');
  await desk.close();
  console.log(JSON.stringify(figures, null, 2));
  await writeFile(path.join(OUT, `figures-${LABEL}.json`), `${JSON.stringify(figures, null, 2)}\n`);
} finally {
  await browser.close();
  await site.stop();
}
