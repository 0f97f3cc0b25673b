// Cross-site request forgery in a real Chromium: a victim logged in to the app visits pages on
// other origins that try what the issue found working: log the victim into the attacker's
// account (a text/plain form), and, with the victim's cookie, upload, delete and upvote. A page
// on the same host and another port is "same site" (the cookie goes with it); localhost is
// another site. Every attempt must leave the server as it was (http/csrf.ts, JSON-only bodies).
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { chromiumAvailable, skipUnless } from '../helpers/requirements.ts';
import { ApiClient } from './support/api-client.ts';
import { attackerSite, type AttackerSite } from './support/attacker.ts';
import { launchBrowser } from './support/browser.ts';
import { heartPng, PALETTES } from './support/png.ts';
import { startApp, type RunningApp } from './support/processes.ts';

const skip = skipUnless(await chromiumAvailable(), 'Chromium');
const MALLORY = 'mallory=';
const MALLORY_PASSWORD = createHash('sha1').update('mallory').digest('hex');

/**
 * A page that runs `script` on load, then sets its title to "done" (or to the error). `sent`
 * waits for a fetch whatever its outcome: the browser itself refuses to hand an opaque answer
 * marked Cross-Origin-Resource-Policy: same-origin (helmet) to the page, after the request
 * went out; what counts is what the server did with it.
 */
function scripted(script: string): string {
  return `<!doctype html><title>attacking</title><script type="module">
    const sent = (request) => request.then(() => {}, () => {});
    try { ${script} document.title = 'done'; } catch (err) { document.title = 'error: ' + err; }
  </script>`;
}

/** The login CSRF: a form whose text/plain body is the attacker's credentials as JSON. */
function loginForm(app: string): string {
  // text/plain encodes name=value: the "=" lands inside the username.
  const name = `{"password":"${MALLORY_PASSWORD}","username":"mallory`;
  return `<!doctype html><form method="POST" action="${app}/api/v1/sessions" enctype="text/plain">
    <input type="hidden" name='${name}' value='"}'></form>
    <script>document.forms[0].submit();</script>`;
}

const PNG_B64 = heartPng(...PALETTES[0]!, 32, 32).toString('base64');

for (const mode of ['owner', 'open'] as const) {
  describe(`cross-site requests from a real browser are refused (API_ACCESS=${mode})`, { skip }, () => {
    let app: RunningApp | undefined;
    let attacker: AttackerSite | undefined;
    let browser: Browser | undefined;
    let context: BrowserContext;
    let victim: ApiClient;
    let actId = '';

    before(async () => {
      app = await startApp({ API_ACCESS: mode });
      attacker = await attackerSite();
      browser = await launchBrowser();
      victim = new ApiClient(app.baseUrl);
      await victim.signUpAndLogIn('vic', 'vic password');
      await victim.addCategory('Garden');
      actId = await victim.upload(heartPng(...PALETTES[1]!, 64, 48), 'Weeded the shared garden.', 'Garden');
      // The attacker's account exists: logging the victim into it is the point of login CSRF.
      const mallory = new ApiClient(app.baseUrl);
      await mallory.signUp(MALLORY, MALLORY_PASSWORD);

      context = await browser.newContext();
      context.setDefaultTimeout(10_000);
      const page = await context.newPage();
      await page.goto(`${app.baseUrl}/#/login`);
      await page.getByLabel('Username').fill('vic');
      await page.getByLabel('Password').fill('vic password');
      await page.getByRole('button', { name: 'Log in' }).click();
      await page.locator('#account').getByText('vic').waitFor();
      await page.close();
    });

    after(async () => {
      await browser?.close();
      await attacker?.close();
      await app?.stop();
    });

    const origins = () => ({
      'a page on the same host, another port (same site)': `http://127.0.0.1:${attacker!.port}`,
      'a page on another site (localhost)': `http://localhost:${attacker!.port}`,
    });

    /** Who the browser's cookie names now, asked from the app's own page. */
    async function whoAmI(): Promise<string | null> {
      const page = await context.newPage();
      try {
        await page.goto(`${app!.baseUrl}/favicon.svg`);
        return await page.evaluate(async () => {
          const res = await fetch('/api/v1/sessions/me');
          return res.ok ? ((await res.json()) as { username: string }).username : null;
        });
      } finally {
        await page.close();
      }
    }

    async function visit(origin: string, path: string, html: string): Promise<Page> {
      attacker!.page(path, html);
      const page = await context.newPage();
      await page.goto(`${origin}${path}`);
      return page;
    }

    test('log-in CSRF: the text/plain form does not log the victim into the attacker’s account', async () => {
      for (const [name, origin] of Object.entries(origins())) {
        const page = await visit(origin, '/login.html', loginForm(app!.baseUrl));
        await page.waitForURL(`${app!.baseUrl}/api/v1/sessions`);
        const status = await page.evaluate(() => document.body.textContent);
        assert.match(status, /"error"/, `${name}: the form's answer`);
        await page.close();
        assert.equal(await whoAmI(), 'vic', `${name}: still logged in as the victim`);
      }
    });

    test('upload: a multipart POST carrying the victim’s cookie creates no act', async () => {
      for (const [name, origin] of Object.entries(origins())) {
        const page = await visit(
          origin,
          '/upload.html',
          scripted(`
          const bytes = Uint8Array.from(atob('${PNG_B64}'), (c) => c.charCodeAt(0));
          const form = new FormData();
          form.append('caption', 'posted by the attacker');
          form.append('categoryName', 'Garden');
          form.append('image', new Blob([bytes], { type: 'image/png' }), 'x.png');
          await sent(fetch('${app!.baseUrl}/api/v1/acts', { method: 'POST', mode: 'no-cors', credentials: 'include', body: form }));
        `),
        );
        await page.waitForFunction(() => document.title !== 'attacking');
        assert.equal(await page.title(), 'done', name);
        await page.close();
        assert.deepEqual(
          (await victim.acts('Garden')).map((a) => a.caption),
          ['Weeded the shared garden.'],
          name,
        );
      }
    });

    // Owner mode only: in open mode upvotes and removals are anonymous by contract.
    if (mode === 'owner')
      test('delete and upvote with the victim’s cookie change nothing', async () => {
        for (const [name, origin] of Object.entries(origins())) {
          const page = await visit(
            origin,
            '/votes.html',
            scripted(`
          await sent(fetch('${app!.baseUrl}/api/v1/acts/upvote', { method: 'POST', mode: 'no-cors', credentials: 'include', headers: { 'Content-Type': 'text/plain' }, body: '[${actId}]' }));
          await sent(fetch('${app!.baseUrl}/api/v1/acts/upvote', { method: 'POST', mode: 'no-cors', credentials: 'include', body: new URLSearchParams({ '[${actId}]': '' }) }));
          await sent(fetch('${app!.baseUrl}/api/v1/acts/${actId}', { method: 'DELETE', credentials: 'include' }));
          await sent(fetch('${app!.baseUrl}/api/v1/categories/Garden', { method: 'DELETE', credentials: 'include' }));
        `),
          );
          await page.waitForFunction(() => document.title !== 'attacking');
          assert.equal(await page.title(), 'done', name);
          await page.close();
          const acts = await victim.acts('Garden');
          assert.deepEqual(
            acts.map((a) => [a.actId, a.upvotes]),
            [[actId, 0]],
            name,
          );
        }
      });
  });
}
