// Revocable sessions, in both access modes: log-out ends every cookie of the user on both
// services at once, deleting the user ends them too, a re-registered name never inherits
// them, and the acts service says 503 (not 401, not a guess) when it cannot ask.
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { describe, test } from 'node:test';
import type { ApiAccess } from '../../../app/config.ts';
import type { Backend } from '../support/backends.ts';
import { actBody, addUser, PASSWORD } from '../support/data.ts';
import { expectError, expectReply, freshServices } from '../support/fixture.ts';
import { PNG } from '../support/images.ts';
import { image, upload } from '../support/multipart.ts';
import { TEST_SECRET } from '../support/services.ts';
import { logIn } from './owner-rules.ts';

/** A cookie signed with the services' secret, as cookie-parser signs (cookie-signature). */
export function signedCookie(value: object, secret = TEST_SECRET): string {
  const text = JSON.stringify(value);
  const mac = createHmac('sha256', secret).update(text).digest('base64').replace(/=+$/, '');
  return `selflessacts_session=${encodeURIComponent(`s:${text}.${mac}`)}`;
}

export function sessionRevocation(backend: Backend): void {
  for (const mode of ['open', 'owner'] as ApiAccess[]) {
    describe(`sessions are revocable (${mode} mode)`, () => {
      const f = freshServices(backend, { apiAccess: mode });
      const cookieFor = (cookie: string) => ({ cookie });
      /** A write on the acts service that uses the session in this mode. */
      const actsWrite = (cookie: string, caption: string) =>
        mode === 'owner'
          ? f.acts.post(
              '/api/v1/acts',
              actBody({ actId: 1000 + caption.length, username: 'sam', categoryName: 'cat', caption }),
              cookieFor(cookie),
            )
          : upload(f.acts, cookie, [
              { name: 'caption', value: caption },
              { name: 'categoryName', value: 'cat' },
              image(PNG),
            ]);

      let first = '';
      let second = '';

      test('setup: two cookies of one user (two devices), both live on both services', async () => {
        await addUser(f.users, 'sam');
        first = await logIn(f.users, 'sam');
        second = await logIn(f.users, 'sam');
        expectReply(await f.acts.post('/api/v1/categories', ['cat'], cookieFor(first)), 201, {});
        for (const cookie of [first, second]) {
          expectReply(await f.users.get('/api/v1/sessions/me', cookieFor(cookie)), 200, { username: 'sam' });
          expectReply(await actsWrite(cookie, `from ${cookie.length}${cookie === first ? 'a' : 'bb'}`), 201);
        }
      });

      test('log-out with one cookie ends both, on the users and the acts service, at once', async () => {
        expectReply(await f.users.del('/api/v1/sessions', cookieFor(first)), 200, {});
        for (const cookie of [first, second]) {
          expectError(await f.users.get('/api/v1/sessions/me', cookieFor(cookie)), 401);
          expectError(await actsWrite(cookie, 'after log-out'), 401);
        }
        // A new log-in works again.
        second = await logIn(f.users, 'sam');
        expectReply(await f.users.get('/api/v1/sessions/me', cookieFor(second)), 200, { username: 'sam' });
      });

      test('a correctly signed cookie without the live key is no session: old format, wrong key', async () => {
        const e = Date.now() + 86_400_000;
        for (const value of [
          { u: 'sam', e },
          { u: 'sam', k: 'not-the-key', e },
        ]) {
          expectError(await f.users.get('/api/v1/sessions/me', { cookie: signedCookie(value) }), 401);
          expectError(await actsWrite(signedCookie(value), 'forged'), 401);
        }
      });

      test('deleting the user ends their cookies; the name re-registered never inherits them', async () => {
        const deleted = await f.users.del('/api/v1/users/sam', mode === 'owner' ? cookieFor(second) : {});
        expectReply(deleted, 200, {});
        expectError(await f.users.get('/api/v1/sessions/me', cookieFor(second)), 401);
        await addUser(f.users, 'sam', PASSWORD);
        expectError(await f.users.get('/api/v1/sessions/me', cookieFor(second)), 401);
        expectError(await actsWrite(second, 'inherited?'), 401);
        const fresh = await logIn(f.users, 'sam');
        expectReply(await f.users.get('/api/v1/sessions/me', cookieFor(fresh)), 200, { username: 'sam' });
        expectReply(await actsWrite(fresh, 'new sam'), 201);
      });
    });
  }

  describe('the acts service cannot reach the users service', () => {
    const f = freshServices(backend, { apiAccess: 'owner' });

    test('a write with a cookie → 503 and nothing changed; reads still answer, without upvotedByMe', async () => {
      await addUser(f.users, 'una');
      const cookie = await logIn(f.users, 'una');
      expectReply(await f.acts.post('/api/v1/categories', ['before'], { cookie }), 201, {});
      expectReply(
        await f.acts.post('/api/v1/acts', actBody({ actId: 1, username: 'una', categoryName: 'before' }), { cookie }),
        201,
        {},
      );
      await f.pair.usersApp.close();
      expectError(await f.acts.post('/api/v1/categories', ['during'], { cookie }), 503);
      expectError(await f.acts.post('/api/v1/categories', ['during']), 401);
      const listed = await f.acts.get('/api/v1/categories/before/acts', { cookie });
      expectReply(listed, 200);
      assert.ok(!('upvotedByMe' in (listed.json as object[])[0]!));
      expectReply(await f.acts.get('/api/v1/categories'), 200, { before: 1 });
    });
  });
}
