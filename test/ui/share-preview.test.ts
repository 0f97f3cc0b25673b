// Shareable addresses behind the real balancer (the shipped config's balancer.previews, process
// runtime): /a/ID, /c/NAME and /u/NAME answer with the site's page carrying that act's,
// category's or person's Open Graph and Twitter tags, which name an image that is there at the
// size they claim; a link unfurler's card is drawn from the tags alone; the page boots into the
// same view in Chromium and its Share button hands out that address. A missing thing is a 404
// page, a hostile Host header cannot reach the HTML, and a replica that does not answer costs
// the page its preview, never the page.
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, describe, test } from 'node:test';
import type { Browser } from 'playwright-core';
import sharp from 'sharp';
import { eventually } from '../../testkit/eventually.ts';
import { chromiumAvailable, skipUnless } from '../helpers/requirements.ts';
import { ApiClient } from './support/api-client.ts';
import { launchBrowser, screenshot, withWatchedPage } from './support/browser.ts';
import { PHONE } from './support/page-weight.ts';
import { heartPng, PALETTES } from './support/png.ts';
import { startSupervisor, waitForStatus, type RunningSupervisor } from './support/supervisor.ts';

const skip = skipUnless(await chromiumAvailable(), 'Chromium');
const CATEGORY = 'Porch & Garden';
const CAPTION = 'Fixed the "porch" light for my neighbour <3, then swept the steps.';

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', '#39': "'" };

/** Every meta tag's content, by property or name, as text (entities decoded). */
function tags(html: string): Record<string, string> {
  const found: Record<string, string> = {};
  for (const m of html.matchAll(/<meta (?:property|name)="([^"]+)" content="([^"]*)">/g))
    found[m[1]!] = m[2]!.replace(/&(amp|lt|gt|quot|#39);/g, (_, e: string) => ENTITIES[e]!);
  return found;
}

/** A GET (or HEAD) with the Host header the test chooses, which fetch() does not allow. */
function rawGet(
  url: string,
  headers: Record<string, string> = {},
  method = 'GET',
): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers, timeout: 10_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }),
      );
    });
    req.once('timeout', () => req.destroy(new Error('no answer in 10 s')));
    req.once('error', reject);
    req.end();
  });
}

describe('shareable addresses: the page with its preview tags, from the balancer', { skip }, () => {
  let sup: RunningSupervisor | undefined;
  let browser: Browser | undefined;
  let actId = '';
  const page = (path: string) => `${sup!.listenUrl}${path}`;

  before(async () => {
    sup = await startSupervisor({ windowSeconds: 60, requestsPerReplica: 1000, maxActs: 1 });
    await waitForStatus(
      sup,
      'both services ready',
      (s) => ['users', 'acts'].every((name) => s.services[name]?.replicas.some((r) => r.state === 'ready')),
      40_000,
    );
    await eventually(
      async () => (await fetch(sup!.listenUrl).catch(() => undefined))?.ok || undefined,
      'the balancer answers',
      10_000,
      100,
    );
    browser = await launchBrowser();
    const nia = new ApiClient(sup.listenUrl);
    await nia.signUpAndLogIn('nia', 'nia password');
    await nia.addCategory(CATEGORY);
    actId = await nia.upload(heartPng(...PALETTES[1]!, 1600, 1200), CAPTION, CATEGORY);
    await nia.setBio('nia', 'Neighbour, gardener, fixer of lights.');
    await nia.setAvatar('nia', heartPng(...PALETTES[2]!, 400, 400));
  });

  after(async () => {
    await browser?.close();
    await sup?.stop();
  });

  test("an act's address: its title, caption and a 1280 px JPEG that is there at the size the tags claim", async () => {
    const res = await rawGet(page(`/a/${actId}`));
    assert.equal(res.status, 200);
    assert.equal(res.headers['content-type'], 'text/html; charset=utf-8');
    assert.match(String(res.headers['content-security-policy']), /default-src 'self'/);
    const t = tags(res.body);
    assert.equal(t['og:title'], `A kind act by nia · ${CATEGORY}`);
    assert.equal(t['og:description'], CAPTION);
    assert.equal(t['og:type'], 'article');
    assert.equal(t['og:url'], page(`/a/${actId}`));
    assert.equal(t['twitter:card'], 'summary_large_image');
    assert.match(res.body, /<title>A kind act by nia · Porch &amp; Garden<\/title>/);
    assert.match(t['og:image']!, new RegExp(`^${page(`/api/v1/acts/${actId}/image/[0-9a-f]{16}/1280\\.jpg`)}$`));
    const image = await fetch(t['og:image']!);
    assert.equal(image.status, 200);
    assert.equal(image.headers.get('content-type'), 'image/jpeg');
    const meta = await sharp(Buffer.from(await image.arrayBuffer())).metadata();
    assert.deepEqual([meta.width, meta.height], [Number(t['og:image:width']), Number(t['og:image:height'])]);
    assert.deepEqual([meta.width, meta.height], [1280, 960]);
    const head = await rawGet(page(`/a/${actId}`), {}, 'HEAD');
    assert.equal(head.status, 200);
    assert.equal(head.body, '');
  });

  test('a category and a profile have theirs; a missing one is a 404 page that says so', async () => {
    const category = tags((await rawGet(page(`/c/${encodeURIComponent(CATEGORY)}`))).body);
    assert.equal(category['og:title'], `${CATEGORY} · SelfLessActs`);
    assert.match(category['og:description']!, /^One kind act in Porch & Garden\. The newest, by nia: Fixed the/);
    assert.match(category['og:image']!, /\/1280\.jpg$/);
    const profile = tags((await rawGet(page('/u/nia'))).body);
    assert.equal(profile['og:title'], 'nia · SelfLessActs');
    assert.equal(profile['og:description'], 'Neighbour, gardener, fixer of lights.');
    assert.equal(profile['twitter:card'], 'summary');
    assert.deepEqual([profile['og:image:width'], profile['og:image:height']], ['256', '256']);
    assert.equal((await fetch(profile['og:image']!)).status, 200);
    for (const path of ['/a/99999', '/u/nobody', '/c/Nowhere', `/a/${actId}/extra`]) {
      const missing = await rawGet(page(path));
      assert.equal(missing.status, 404, path);
      assert.match(missing.body, /<title>Not found · SelfLessActs<\/title>/, path);
      assert.match(missing.body, /src="\/js\/main\.js"/, 'the page still boots and says so');
    }
  });

  test('a hostile Host or X-Forwarded-Proto reaches no URL in the page', async () => {
    for (const host of ['evil.example"><script>alert(1)</script>', 'evil.example/x']) {
      const res = await rawGet(page(`/a/${actId}`), { host });
      assert.equal(res.status, 200);
      assert.doesNotMatch(res.body, /evil\.example/);
      assert.equal(tags(res.body)['og:url'], `/a/${actId}`, 'relative when the host is not a plain name');
    }
    // The balancer trusts no proxy here: the scheme is the connection's.
    const res = await rawGet(page(`/a/${actId}`), { 'x-forwarded-proto': 'https' });
    assert.match(tags(res.body)['og:url']!, /^http:\/\/127\.0\.0\.1:/);
  });

  test('in Chromium the address opens the photo view, and Share hands out that address', async () => {
    await withWatchedPage(browser!, { permissions: ['clipboard-read', 'clipboard-write'] }, async ({ page: tab }) => {
      await tab.goto(page(`/a/${actId}`));
      await tab.locator('.photo-view').getByText(CAPTION).waitFor();
      assert.equal(new URL(tab.url()).hash, `#/a/${actId}`);
      await tab.locator('.photo-view').getByRole('button', { name: 'Share this act' }).click();
      await tab.locator('.toast').getByText('Link copied').waitFor();
      assert.equal(await tab.evaluate(() => navigator.clipboard.readText()), page(`/a/${actId}`));
    });
    await withWatchedPage(browser!, PHONE, async ({ page: tab }) => {
      await tab.goto(page('/u/nia'));
      await tab.getByRole('heading', { name: 'nia' }).waitFor();
      assert.equal(new URL(tab.url()).hash, '#/u/nia');
    });
  });

  test("a link unfurler's card, drawn from the tags alone", async () => {
    const t = tags((await rawGet(page(`/a/${actId}`))).body);
    const esc = (s: string) => s.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);
    await withWatchedPage(browser!, { viewport: { width: 560, height: 520 } }, async ({ page: tab }) => {
      // Drawn at the site's origin: the images carry Cross-Origin-Resource-Policy: same-origin
      // (no hotlinking), and an unfurler fetches them from its server, not from a page.
      const card = `<!doctype html><meta charset="utf-8">
        <body style="margin:0;padding:24px;background:#e9ebee;font:15px system-ui,sans-serif">
        <p style="margin:0 0 8px;color:#333">carol: look what nia did ${esc(t['og:url']!)}</p>
        <article style="width:500px;background:#fff;border:1px solid #ccd;border-radius:10px;overflow:hidden">
          <img src="${esc(t['og:image']!)}" alt="${esc(t['og:image:alt']!)}" width="500"
            style="display:block;width:500px;aspect-ratio:${t['og:image:width']}/${t['og:image:height']};object-fit:cover">
          <div style="padding:10px 14px">
            <div style="color:#667;font-size:12px;text-transform:uppercase">${esc(t['og:site_name']!)}</div>
            <div style="font-weight:600;margin:2px 0">${esc(t['og:title']!)}</div>
            <div style="color:#445">${esc(t['og:description']!)}</div>
          </div>
        </article>`;
      await tab.route(page('/unfurled-card'), (route) => route.fulfill({ contentType: 'text/html', body: card }));
      await tab.goto(page('/unfurled-card'));
      const loaded = await tab
        .locator('img')
        .evaluate((img: HTMLImageElement) => img.decode().then(() => img.naturalWidth));
      assert.equal(loaded, 1280);
      await screenshot(tab, 'share-preview', 'share-preview.png', { fullPage: false });
    });
  });

  test('a replica that does not answer costs the page its preview, not the page', async () => {
    const [acts] = (await sup!.replicaPids()).acts ?? [];
    assert.ok(acts, 'an acts replica runs');
    process.kill(acts, 'SIGSTOP');
    try {
      const started = performance.now();
      const res = await rawGet(page(`/a/${actId}`));
      const ms = performance.now() - started;
      assert.equal(res.status, 200);
      assert.equal(tags(res.body)['og:title'], undefined, 'no preview without an answer');
      assert.match(res.body, /<title>SelfLessActs<\/title>/);
      assert.ok(ms < 3000, `answered in ${Math.round(ms)} ms (the preview waits 1.5 s at most)`);
    } finally {
      process.kill(acts, 'SIGCONT');
    }
    // Once it answers again, so does the preview.
    const deadline = Date.now() + 15_000;
    for (;;) {
      const t = tags((await rawGet(page(`/a/${actId}`))).body);
      if (t['og:title'] !== undefined) break;
      assert.ok(Date.now() < deadline, 'the preview came back');
      await new Promise((r) => setTimeout(r, 250));
    }
  });
});
