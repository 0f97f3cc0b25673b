// The link-preview routes (docs/api-notes.md, "Shareable addresses"): what a shared link to an
// act, a category or a profile shows, as the JSON the balancer writes into the page's tags.
// Public facts only; a missing thing is a 404, a malformed name a 400, never a 500.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import sharp from 'sharp';
import { photoJpeg } from '../../../testkit/photos.ts';
import type { Backend } from '../support/backends.ts';
import { sessionCookie } from '../support/client.ts';
import { actBody, addUser, PASSWORD, seg } from '../support/data.ts';
import { expectError, expectReply, freshServices } from '../support/fixture.ts';

export function previews(backend: Backend): void {
  describe('link previews of acts, categories and profiles', () => {
    const f = freshServices(backend, { apiAccess: 'owner' });
    let cookie = '';
    const CATEGORY = 'Porch & Garden';

    test('setup: a user with a bio and a photo, a category with two acts, an empty one', async () => {
      await addUser(f.users, 'nia');
      cookie = sessionCookie(await f.users.post('/api/v1/sessions', { username: 'nia', password: PASSWORD }));
      for (const name of [CATEGORY, 'Empty'])
        expectReply(await f.acts.post('/api/v1/categories', [name], { cookie }), 201);
      const photo = await photoJpeg({ width: 1600, height: 1200, seed: 4 });
      const caption = `Fixed the "porch" <light> for $& my neighbour ${'and then swept it all, '.repeat(12)}`;
      for (const [actId, imgB64, text] of [
        [70, photo.toString('base64'), caption],
        [71, photo.toString('base64'), 'Watered the tomatoes.'],
      ] as const) {
        const body = actBody({ actId, username: 'nia', categoryName: CATEGORY, imgB64, caption: text });
        expectReply(await f.acts.post('/api/v1/acts', body, { cookie }), 201);
      }
      expectReply(
        await f.users.call('PUT', '/api/v1/users/nia/profile', { json: { bio: 'Neighbour, gardener.' }, cookie }),
        200,
      );
    });

    test('an act: its author, category and caption (shortened), and its copy that fills a large card (1280 px) as JPEG', async () => {
      const reply = await f.acts.get('/api/v1/previews/a/70');
      assert.equal(reply.status, 200);
      const preview = reply.json as {
        title: string;
        description: string;
        type: string;
        card: string;
        image: { url: string; type: string; width: number; height: number; alt: string };
      };
      assert.equal(preview.title, `A kind act by nia · ${CATEGORY}`);
      assert.equal(preview.type, 'article');
      assert.equal(preview.card, 'summary_large_image');
      assert.ok(preview.description.length <= 200, `${preview.description.length} characters`);
      assert.ok(preview.description.startsWith('Fixed the "porch" <light> for $& my neighbour'));
      assert.ok(preview.description.endsWith('…'));
      assert.equal(preview.image.type, 'image/jpeg');
      assert.deepEqual([preview.image.width, preview.image.height], [1280, 960]);
      // The image named is there, as the type and size the tags will claim.
      const copy = await f.acts.get(preview.image.url);
      assert.equal(copy.status, 200);
      assert.equal(copy.headers['content-type'], 'image/jpeg');
      const meta = await sharp(copy.raw).metadata();
      assert.deepEqual([meta.width, meta.height], [preview.image.width, preview.image.height]);
    });

    test('a category: how many acts, the newest by whom, and its photo; an empty one says so', async () => {
      const reply = await f.acts.get(`/api/v1/previews/c/${seg(CATEGORY)}`);
      assert.equal(reply.status, 200);
      const preview = reply.json as { title: string; description: string; image: { url: string } };
      assert.equal(preview.title, `${CATEGORY} · SelfLessActs`);
      assert.match(preview.description, /^2 kind acts in Porch & Garden\. The newest, by nia: /);
      assert.match(preview.image.url, /^\/api\/v1\/acts\/7[01]\/image\/[0-9a-f]{16}\/\d+\.jpg$/);
      const empty = (await f.acts.get('/api/v1/previews/c/Empty')).json as { description: string; card: string };
      assert.equal(empty.description, 'No acts in Empty yet: be the first to share one.');
      assert.equal(empty.card, 'summary');
      assert.equal('image' in empty, false);
    });

    test("a profile: the bio, and the avatar as a small card's image once there is one", async () => {
      expectReply(await f.users.get('/api/v1/previews/u/nia'), 200, {
        title: 'nia · SelfLessActs',
        description: 'Neighbour, gardener.',
        type: 'profile',
        card: 'summary',
      });
      const set = await f.users.call('PUT', '/api/v1/users/nia/avatar', {
        body: await photoJpeg({ width: 400, height: 400, seed: 5 }),
        headers: { 'content-type': 'image/jpeg' },
        cookie,
      });
      assert.equal(set.status, 200);
      const { avatar } = set.json as { avatar: string };
      const preview = (await f.users.get('/api/v1/previews/u/nia')).json as { image: Record<string, unknown> };
      assert.deepEqual(preview.image, {
        url: `/api/v1/users/nia/avatar/${avatar}.jpg`,
        type: 'image/jpeg',
        width: 256,
        height: 256,
        alt: "nia's photo",
      });
      assert.equal((await f.users.get(preview.image.url as string)).status, 200);
    });

    test('nothing there is a 404, an actId that is no number a 400; other methods 405', async () => {
      for (const path of ['/api/v1/previews/a/999', '/api/v1/previews/c/Nowhere'])
        expectError(await f.acts.get(path), 404);
      expectError(await f.users.get('/api/v1/previews/u/nobody'), 404);
      expectError(await f.acts.get('/api/v1/previews/a/x'), 400);
      expectError(await f.acts.get(`/api/v1/previews/a/${'9'.repeat(40)}`), 404);
      expectError(await f.acts.call('POST', '/api/v1/previews/a/70'), 405);
      expectError(await f.users.get(`/api/v1/previews/u/${'x'.repeat(300)}`), 404);
    });
  });
}
