// The account page's routes (issue 25, docs/api-notes.md): a profile's bio, read by anyone,
// changed by its user alone; a password change from a session of the account with the current
// password, which ends every other session and gives this one a new cookie. Both modes: a
// change of one's own account needs a session in either. Every bad input is a 4xx with a reason.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import sharp from 'sharp';
import { photoJpeg } from '../../../testkit/photos.ts';
import type { ApiAccess } from '../../../app/config.ts';
import type { Backend } from '../support/backends.ts';
import { sessionCookie, sha1 } from '../support/client.ts';
import { addUser, PASSWORD } from '../support/data.ts';
import { expectError, expectReply, freshServices } from '../support/fixture.ts';

export function profile(backend: Backend): void {
  for (const mode of ['owner', 'open'] as const satisfies readonly ApiAccess[]) {
    describe(`profile and password (${mode} mode)`, () => {
      const f = freshServices(backend, { apiAccess: mode });
      const cookies: Record<string, string> = {};
      const logIn = async (who: string, password = PASSWORD) =>
        sessionCookie(await f.users.post('/api/v1/sessions', { username: who, password }));

      test('setup: two users, logged in', async () => {
        for (const who of ['ann', 'bob']) {
          await addUser(f.users, who);
          cookies[who] = await logIn(who);
        }
      });

      test('a bio: anyone reads it; its user alone changes it; bad input is a 400', async () => {
        expectReply(await f.users.get('/api/v1/users/ann/profile'), 200, { username: 'ann', bio: '', avatar: null });
        expectError(await f.users.get('/api/v1/users/nobody/profile'), 404);
        const put = (who: string | undefined, body: unknown, name = 'ann') =>
          f.users.call('PUT', `/api/v1/users/${name}/profile`, {
            json: body,
            ...(who === undefined ? {} : { cookie: cookies[who] }),
          });
        expectReply(await put('ann', { bio: '  Gardener.\nBaker of bread.  ' }), 200, {
          username: 'ann',
          bio: 'Gardener.\nBaker of bread.',
          avatar: null,
        });
        expectReply(await f.users.get('/api/v1/users/ann/profile'), 200, {
          username: 'ann',
          bio: 'Gardener.\nBaker of bread.',
          avatar: null,
        });
        expectError(await put(undefined, { bio: 'anonymous' }), 401);
        expectError(await put('bob', { bio: 'not mine' }), 403);
        for (const [body, reason] of [
          [{ bio: 'x'.repeat(161) }, /at most 160 characters/],
          [{ bio: 'bell\u0007' }, /control characters/],
          [{ bio: 'a', extra: 1 }, /unexpected field: extra/],
          [{ bio: 5 }, /bio/],
        ] as const) {
          const reply = await put('ann', body);
          expectError(reply, 400);
          assert.match((reply.json as { error: string }).error, reason);
        }
        expectError(
          await f.users.call('PUT', '/api/v1/users/ann/profile', {
            body: 'bio=x',
            cookie: cookies.ann,
            headers: { 'content-type': 'application/x-www-form-urlencoded' },
          }),
          415,
        );
        expectError(
          await f.users.call('PUT', '/api/v1/users/ann/profile', {
            json: { bio: 'from elsewhere' },
            cookie: cookies.ann,
            headers: { origin: 'http://evil.example' },
          }),
          403,
        );
        expectReply(await put('ann', { bio: '' }), 200, { username: 'ann', bio: '', avatar: null });
      });

      test('an avatar: made a 256 px square in WebP and JPEG, at URLs that name its version; its user alone sets it', async () => {
        const photo = await photoJpeg({ width: 800, height: 600, seed: 2 });
        const put = (who: string | undefined, body: Buffer, name = 'ann') =>
          f.users.call('PUT', `/api/v1/users/${name}/avatar`, {
            body,
            headers: { 'content-type': 'image/jpeg' },
            ...(who === undefined ? {} : { cookie: cookies[who] }),
          });
        const set = await put('ann', photo);
        expectReply(set, 200);
        const { avatar } = set.json as { avatar: string };
        assert.match(avatar, /^[0-9a-f]{16}$/);
        assert.equal(((await f.users.get('/api/v1/users/ann/profile')).json as { avatar: string }).avatar, avatar);
        for (const [ext, type, format] of [
          ['webp', 'image/webp', 'webp'],
          ['jpg', 'image/jpeg', 'jpeg'],
        ] as const) {
          const copy = await f.users.get(`/api/v1/users/ann/avatar/${avatar}.${ext}`);
          expectReply(copy, 200);
          assert.equal(copy.headers['content-type'], type);
          assert.match(String(copy.headers['cache-control']), /immutable/);
          const meta = await sharp(copy.raw).metadata();
          assert.deepEqual([meta.format, meta.width, meta.height, meta.exif], [format, 256, 256, undefined]);
        }
        expectError(await f.users.get(`/api/v1/users/ann/avatar/${'0'.repeat(16)}.webp`), 404);
        expectError(await f.users.get('/api/v1/users/ann/avatar/x.webp'), 404);
        expectError(await put(undefined, photo), 401);
        expectError(await put('bob', photo), 403);
        const notImage = await put('ann', Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"/>'));
        expectError(notImage, 400);
        assert.match((notImage.json as { error: string }).error, /PNG, JPEG, GIF or WebP/);
        expectReply(await f.users.call('DELETE', '/api/v1/users/ann/avatar', { cookie: cookies.ann }), 200, {});
        assert.equal(((await f.users.get('/api/v1/users/ann/profile')).json as { avatar: null }).avatar, null);
        expectError(await f.users.get(`/api/v1/users/ann/avatar/${avatar}.webp`), 404);
      });

      test('a password change: the current password, from a session of the account; other sessions end', async () => {
        const other = await logIn('ann'); // another browser
        const change = (who: string | undefined, body: unknown, name = 'ann') =>
          f.users.call('PUT', `/api/v1/users/${name}/password`, {
            json: body,
            ...(who === undefined ? {} : { cookie: cookies[who] }),
          });
        const next = sha1('a new horse, a new battery');
        expectError(await change(undefined, { current: PASSWORD, password: next }), 401);
        expectError(await change('bob', { current: PASSWORD, password: next }), 403);
        expectError(await change('ann', { current: 'abc', password: next }), 400);
        expectError(await change('ann', { current: PASSWORD }), 400);
        const wrong = await change('ann', { current: sha1('not it'), password: next });
        expectError(wrong, 403);
        assert.match((wrong.json as { error: string }).error, /the current password is wrong/);

        const changed = await change('ann', { current: PASSWORD, password: next });
        expectReply(changed, 200, {});
        const renewed = sessionCookie(changed);
        expectReply(await f.users.get('/api/v1/sessions/me', { cookie: renewed }), 200, { username: 'ann' });
        expectError(await f.users.get('/api/v1/sessions/me', { cookie: other }), 401);
        expectError(await f.users.get('/api/v1/sessions/me', { cookie: cookies.ann }), 401);
        expectError(await f.users.post('/api/v1/sessions', { username: 'ann', password: PASSWORD }), 401);
        expectReply(await f.users.post('/api/v1/sessions', { username: 'ann', password: next }), 200, {
          username: 'ann',
        });
        expectReply(await f.users.get('/api/v1/sessions/me', { cookie: cookies.bob }), 200, { username: 'bob' });
      });
    });
  }
}
