// Users service, rows 4, 5, 6: stateless signed session cookies.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Backend } from '../support/backends.ts';
import { sessionCookie, sha1 } from '../support/client.ts';
import { addUser, PASSWORD } from '../support/data.ts';
import { expectError, expectReply, freshServices } from '../support/fixture.ts';

export function sessionsContract(backend: Backend): void {
  describe('sessions (rows 4, 5, 6)', () => {
    const f = freshServices(backend);
    let cookie = '';

    test('row 4: log in → 200 {"username"} and a signed, HttpOnly, SameSite=Lax cookie', async () => {
      await addUser(f.users, 'dora');
      const reply = await f.users.post('/api/v1/sessions', { username: 'dora', password: PASSWORD.toUpperCase() });
      expectReply(reply, 200, { username: 'dora' });
      const setCookie = String(reply.headers['set-cookie']);
      assert.match(setCookie, /HttpOnly/);
      assert.match(setCookie, /SameSite=Lax/i);
      assert.match(setCookie, /Path=\//);
      assert.match(setCookie, /=s%3A/, 'value signed by cookie-parser (s:...)');
      cookie = sessionCookie(reply);
    });

    test('row 6: the cookie names the user → 200 {"username"}', async () => {
      expectReply(await f.users.get('/api/v1/sessions/me', { cookie }), 200, { username: 'dora' });
    });

    test('row 6: no cookie, a tampered cookie, a forged unsigned cookie → 401', async () => {
      expectError(await f.users.get('/api/v1/sessions/me'), 401);
      const [name, value] = cookie.split('=') as [string, string];
      const tampered = `${name}=${value.replace('dora', 'eve')}`;
      expectError(await f.users.get('/api/v1/sessions/me', { cookie: tampered }), 401);
      const forged = `${name}=${encodeURIComponent(JSON.stringify({ u: 'dora', e: Date.now() + 1e9 }))}`;
      expectError(await f.users.get('/api/v1/sessions/me', { cookie: forged }), 401);
    });

    test('row 4: a wrong password and an unknown user get the same 401', async () => {
      const wrong = await f.users.post('/api/v1/sessions', { username: 'dora', password: sha1('wrong') });
      const unknown = await f.users.post('/api/v1/sessions', { username: 'nobody', password: PASSWORD });
      expectError(wrong, 401);
      expectError(unknown, 401);
      assert.deepEqual(wrong.json, unknown.json);
      assert.equal(wrong.headers['set-cookie'], undefined);
    });

    const malformed: [string, unknown][] = [
      ['password not 40 hex digits', { username: 'dora', password: 'secret' }],
      ['password missing', { username: 'dora' }],
      ['an extra field', { username: 'dora', password: PASSWORD, remember: true }],
      ['body an array', ['dora', PASSWORD]],
      ['malformed JSON', '{"username":'],
    ];
    for (const [name, body] of malformed) {
      test(`row 4: ${name} → 400`, async () => {
        expectError(await f.users.post('/api/v1/sessions', body), 400);
      });
    }

    test('row 5: log out → 200 {} and the cookie is cleared', async () => {
      const reply = await f.users.del('/api/v1/sessions', { cookie });
      expectReply(reply, 200, {});
      assert.match(String(reply.headers['set-cookie']), /Expires=Thu, 01 Jan 1970/);
      expectReply(await f.users.del('/api/v1/sessions'), 200, {});
    });

    test('row 6: a deleted user’s cookie stops working at once', async () => {
      await addUser(f.users, 'gone');
      const login = await f.users.post('/api/v1/sessions', { username: 'gone', password: PASSWORD });
      const goneCookie = sessionCookie(login);
      expectReply(await f.users.get('/api/v1/sessions/me', { cookie: goneCookie }), 200, { username: 'gone' });
      expectReply(await f.users.del('/api/v1/users/gone'), 200, {});
      expectError(await f.users.get('/api/v1/sessions/me', { cookie: goneCookie }), 401);
    });
  });
}
