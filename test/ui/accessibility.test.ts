// Accessibility (issue 25): axe-core, the engine behind Lighthouse's and most browsers' audits,
// run in headless Chromium on every page of the site and on the dashboard, at a phone's size
// and a desktop's, through the real supervisor (process runtime, owner mode): no critical and
// no serious violation. axe is injected into the page (its context bypasses the pages' CSP,
// which allows no script but the site's own).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser, BrowserContextOptions } from 'playwright-core';
import { chromiumAvailable, skipUnless } from '../helpers/requirements.ts';
import { ApiClient } from './support/api-client.ts';
import { describeViolations, seriousViolations } from './support/axe.ts';
import { launchBrowser } from './support/browser.ts';
import { DESKTOP, PHONE } from './support/page-weight.ts';
import { heartPng, PALETTES } from './support/png.ts';
import { startSupervisor, waitForStatus, type RunningSupervisor } from './support/supervisor.ts';

const skip = skipUnless(await chromiumAvailable(), 'Chromium');
const CATEGORY = 'Neighbours';

describe('accessibility: axe-core finds nothing serious on any page, phone or desktop', { skip }, () => {
  let sup: RunningSupervisor | undefined;
  let browser: Browser | undefined;
  let actId = '';

  before(async () => {
    sup = await startSupervisor({ windowSeconds: 30, requestsPerReplica: 1000, maxActs: 1 });
    await waitForStatus(
      sup,
      'both services ready',
      (s) =>
        s.services.acts?.replicas.some((r) => r.state === 'ready') === true &&
        s.services.users?.replicas.some((r) => r.state === 'ready') === true,
      40_000,
    );
    const ana = new ApiClient(sup.listenUrl);
    await ana.signUpAndLogIn('ana', 'ana password');
    await ana.addCategory(CATEGORY);
    for (let i = 0; i < 3; i++) {
      actId = await ana.upload(heartPng(...PALETTES[i]!, 640, 480), `Fixed the fence, day ${i + 1}.`, CATEGORY);
    }
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    await sup?.stop();
  });

  /** A visitor's pages first, then a logged-in user's. */
  const pages: Array<[name: string, hash: string, loggedIn: boolean, ready: string]> = [
    ['home', '#/', false, '.category-card, .act-card'],
    ['category', `#/c/${encodeURIComponent(CATEGORY)}`, false, '.act-card img'],
    ['photo view', '', false, '.photo-view .pv-img'],
    ['profile', '#/u/ana', false, '.act-card'],
    ['log in', '#/login', false, 'form.auth-form'],
    ['sign up', '#/signup', false, 'form.auth-form'],
    ['upload', '#/upload', true, 'form.upload-form'],
    ['my acts', '#/me', true, '.act-card'],
  ];
  const devices: Array<[string, BrowserContextOptions]> = [
    ['phone', PHONE],
    ['desktop', DESKTOP],
  ];

  for (const [device, options] of devices) {
    test(`the site on a ${device}: every page`, async () => {
      const context = await browser!.newContext({ ...options, bypassCSP: true });
      try {
        const page = await context.newPage();
        const found: string[] = [];
        let loggedInYet = false;
        for (const [name, hash, loggedIn, ready] of pages) {
          if (loggedIn && !loggedInYet) {
            loggedInYet = true;
            await page.goto(`${sup!.listenUrl}/#/login`);
            await page.getByLabel('Username').fill('ana');
            await page.getByLabel('Password').fill('ana password');
            await page.getByRole('button', { name: 'Log in' }).click();
            await page.waitForFunction(() => location.hash === '#/');
          }
          await page.goto(`${sup!.listenUrl}/${hash || `#/a/${actId}`}`);
          await page.locator(ready).first().waitFor();
          const violations = await seriousViolations(page);
          if (violations.length > 0) found.push(`${name}:\n${describeViolations(violations)}`);
        }
        assert.deepEqual(found, [], found.join('\n\n'));
      } finally {
        await context.close();
      }
    });
  }

  for (const [device, options] of devices) {
    test(`the dashboard on a ${device}`, async () => {
      const context = await browser!.newContext({ ...options, bypassCSP: true });
      try {
        const page = await context.newPage();
        await page.goto(`${sup!.adminUrl}/dashboard/`);
        await page.locator('[data-service="acts"] tbody tr').first().waitFor();
        const violations = await seriousViolations(page);
        assert.deepEqual(violations, [], describeViolations(violations));
      } finally {
        await context.close();
      }
    });
  }
});
