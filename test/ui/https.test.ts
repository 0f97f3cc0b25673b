// The site over HTTPS in headless Chromium: the shipped config with TLS on (a certificate the
// test makes), the real app under the process runtime. The page arrives over HTTP/2; signing up
// and logging in from the page sets a Secure session cookie; a write with it passes the
// cross-site check (Origin against :authority, which the balancer hands on as Host); the same
// write with a foreign Origin is refused; the plain port sends the browser to HTTPS. Ports 31300-31399.
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { connect as http2Connect } from 'node:http2';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser, BrowserContext } from 'playwright-core';
import { shippedConfigFile } from '../../testkit/shipped-config.ts';
import { supervisorSuite } from '../../testkit/supervisor.ts';
import { makeCa, makeLeaf } from '../../testkit/tls.ts';
import { chromiumAvailable, skipUnless } from '../helpers/requirements.ts';
import { launchBrowser } from './support/browser.ts';

const skip = skipUnless(await chromiumAvailable(), 'Chromium');
const LISTEN = 31300;
const ADMIN = 31301;
const REDIRECT = 31302;
const base = `https://127.0.0.1:${LISTEN}`;

describe('the site over HTTPS in Chromium', { skip }, () => {
  supervisorSuite({
    suite: 'ui-https',
    adminPort: ADMIN,
    config: async (dir) => {
      const tlsDir = path.join(dir, 'tls');
      await mkdir(tlsDir);
      const leaf = await makeLeaf(await makeCa(tlsDir), 'site');
      return shippedConfigFile(undefined, {
        suite: 'ui-https',
        dir,
        listenPort: LISTEN,
        adminPort: ADMIN,
        actsPort: 31310,
        usersPort: 31320,
        overrides: { balancer: { tls: { certFile: leaf.certFile, keyFile: leaf.keyFile, redirectPort: REDIRECT } } },
      });
    },
    ready: { acts: 1, users: 1 },
    readyTimeoutMs: 60_000,
  });
  let browser: Browser;
  let context: BrowserContext;
  before(async () => {
    browser = await launchBrowser();
    context = await browser.newContext({ ignoreHTTPSErrors: true });
  });
  after(async () => {
    await context?.close();
    await browser?.close();
  });

  test('HTTP/2, a Secure session cookie, a same-origin write accepted and a foreign Origin refused', async () => {
    const page = await context.newPage();
    const response = await page.goto(`${base}/`);
    assert.equal(response?.status(), 200);
    assert.match(response!.headers()['strict-transport-security'] ?? '', /^max-age=\d+/);
    assert.equal(
      await page.evaluate(
        () => (performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming).nextHopProtocol,
      ),
      'h2',
    );
    // As source text: tsx would wrap named functions in a helper the page does not have.
    const results = await page.evaluate(`(async () => {
      const post = async (url, body) => (await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })).status;
      const digest = new Uint8Array(await crypto.subtle.digest('SHA-1', new TextEncoder().encode('pw of ana')));
      const password = Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join('');
      return {
        signUp: await post('/api/v1/users', { username: 'ana', password }),
        logIn: await post('/api/v1/sessions', { username: 'ana', password }),
        write: await post('/api/v1/categories', ['sunsets']),
      };
    })()`);
    assert.deepEqual(results, { signUp: 201, logIn: 200, write: 201 });
    const cookie = (await context.cookies(base)).find((c) => c.name === 'selflessacts_session');
    assert.ok(cookie, 'the session cookie is set');
    assert.equal(cookie.secure, true, 'Secure: the request came over TLS');
    assert.equal(cookie.httpOnly, true);

    // The same cookie on a write from another origin (HTTP/2 too): refused by the app's check.
    const session = http2Connect(base, { rejectUnauthorized: false });
    try {
      const status = await new Promise<number>((resolve, reject) => {
        const req = session.request({
          ':method': 'POST',
          ':path': '/api/v1/categories',
          origin: 'https://evil.example',
          'content-type': 'application/json',
          cookie: `${cookie.name}=${cookie.value}`,
        });
        req.on('response', (h) => resolve(Number(h[':status'])));
        req.on('error', reject);
        req.resume();
        req.end('["evil"]');
      });
      assert.equal(status, 403);
    } finally {
      session.close();
    }
    await page.close();
  });

  test('the plain port sends the browser to HTTPS', async () => {
    const page = await context.newPage();
    const response = await page.goto(`http://127.0.0.1:${REDIRECT}/`);
    assert.equal(page.url(), `${base}/`);
    assert.equal(response?.status(), 200);
    await page.close();
  });
});
