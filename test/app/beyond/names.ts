// Input hygiene (hostile-clients finding 8): in owner mode names are normalised (NFC, trimmed)
// wherever they come in, and new ones are routable, free of control and invisible characters and
// bounded; captions are bounded and clean. Open mode keeps the contract's "any string"
// (test/app/contract). In both modes a page elsewhere cannot sign its visitors up.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Backend } from '../support/backends.ts';
import { sessionCookie } from '../support/client.ts';
import { actBody, addUser, PASSWORD, seg } from '../support/data.ts';
import { expectError, expectReply, freshServices } from '../support/fixture.ts';

export function names(backend: Backend): void {
  describe('owner mode: names as people type them, and names that can be reached', () => {
    const f = freshServices(backend, { apiAccess: 'owner' });
    const logIn = async (username: string) => {
      const reply = await f.users.post('/api/v1/sessions', { username, password: PASSWORD });
      expectReply(reply, 200);
      return sessionCookie(reply);
    };

    test('"carol " from a phone keyboard is carol: signed up, logged in and found as carol', async () => {
      await addUser(f.users, 'carol ');
      expectReply(await f.users.get('/api/v1/users'), 200, ['carol']);
      expectReply(await f.users.post('/api/v1/sessions', { username: 'carol', password: PASSWORD }), 200, {
        username: 'carol',
      });
      expectReply(await f.users.post('/api/v1/sessions', { username: ' carol\t', password: PASSWORD }), 200, {
        username: 'carol',
      });
      expectError(await f.users.post('/api/v1/users', { username: 'carol', password: PASSWORD }), 400);
      expectReply(await f.users.get(`/api/v1/users/${seg(' carol ')}/exists`), 200, {});
    });

    test('a decomposed é and a composed one are the same name (NFC)', async () => {
      await addUser(f.users, 'Ame\u0301lie');
      expectReply(await f.users.post('/api/v1/sessions', { username: 'Am\u00e9lie', password: PASSWORD }), 200, {
        username: 'Am\u00e9lie',
      });
      expectError(await f.users.post('/api/v1/users', { username: 'Am\u00e9lie', password: PASSWORD }), 400);
    });

    const badNames: [string, string][] = [
      ['an 8 MiB name', 'u'.repeat(8 * 1024 * 1024)],
      ['65 characters', 'n'.repeat(65)],
      ['NUL', 'nu\u0000l'],
      ['a line break', 'two\nlines'],
      ['a zero-width space (a look-alike of another name)', 'ca\u200brol'],
      ['a right-to-left override', 'evil\u202etxt.exe'],
      ['a slash: never reachable through the balancer', 'Kids/Family?'],
      ['a backslash', 'a\\b'],
      ['a dot segment', '..'],
      ['only spaces', '   '],
    ];
    for (const [what, name] of badNames) {
      test(`sign-up and a new category refuse ${what} → 400, nothing stored`, async () => {
        expectError(await f.users.post('/api/v1/users', { username: name, password: PASSWORD }), 400);
        const cookie = await logIn('carol');
        expectError(await f.acts.post('/api/v1/categories', [name], { cookie }), 400);
      });
    }

    test('64 characters, any script, and "?", "#", "%", "&" are fine, and reachable by their escaped address', async () => {
      const cookie = await logIn('carol');
      for (const name of ['Kids & Family?', '#tags 100%', 'π'.repeat(64), 'ünïcödé 猫']) {
        expectReply(await f.acts.post('/api/v1/categories', [name], { cookie }), 201, {});
        expectReply(await f.acts.get(`/api/v1/categories/${seg(name)}/acts/size`), 200, [0]);
      }
      expectReply(await f.acts.del(`/api/v1/categories/${seg('Kids & Family?')}`, { cookie }), 200, {});
      await addUser(f.users, 'x'.repeat(64));
    });

    test('"Animals" when "animals" exists → 400 naming "animals", in any case; one category stays', async () => {
      const cookie = await logIn('carol');
      expectReply(await f.acts.post('/api/v1/categories', ['animals'], { cookie }), 201, {});
      for (const name of ['Animals', 'ANIMALS', ' AnImAlS ']) {
        const reply = await f.acts.post('/api/v1/categories', [name], { cookie });
        expectError(reply, 400);
        assert.match((reply.json as { error: string }).error, /already exists as "animals"/);
      }
      expectError(await f.acts.post('/api/v1/categories', ['animals'], { cookie }), 400);
      // Case folding is not a looser match: other names stay apart.
      expectReply(await f.acts.post('/api/v1/categories', ['animal'], { cookie }), 201, {});
      expectReply(await f.acts.post('/api/v1/categories', ['STRASSE'], { cookie }), 201, {});
      expectReply(await f.acts.post('/api/v1/categories', ['Straße'], { cookie }), 201, {});
      const names = Object.keys((await f.acts.get('/api/v1/categories')).json as object);
      assert.deepEqual(
        names.filter((n) => n.toLowerCase() === 'animals'),
        ['animals'],
      );
    });

    test('captions: NFC and trimmed, line breaks kept, up to 2,000 characters, no other control characters', async () => {
      const cookie = await logIn('carol');
      expectReply(await f.acts.post('/api/v1/categories', ['captions'], { cookie }), 201, {});
      const post = (actId: number, caption: string) =>
        f.acts.post('/api/v1/acts', actBody({ actId, username: 'carol', categoryName: 'captions', caption }), {
          cookie,
        });
      expectError(await post(1, 'c'.repeat(2001)), 400);
      expectError(await post(2, 'bell\u0007'), 400);
      expectReply(await post(3, `  line one\nline two ${'c'.repeat(1900)}  `), 201, {});
      const [act] = (await f.acts.get('/api/v1/categories/captions/acts')).json as { caption: string }[];
      assert.equal(act!.caption, `line one\nline two ${'c'.repeat(1900)}`);
      expectReply(await f.acts.get('/api/v1/categories/captions/acts/size'), 200, [1]);
    });
  });

  describe('both modes: a page elsewhere cannot sign its visitors up', () => {
    for (const apiAccess of ['open', 'owner'] as const) {
      describe(`${apiAccess} mode`, () => {
        const f = freshServices(backend, { apiAccess });
        test('a cross-site text/plain sign-up (what a form can send) → 403, no account', async () => {
          const reply = await f.users.call('POST', '/api/v1/users', {
            body: JSON.stringify({ username: 'planted', password: PASSWORD }),
            headers: { 'content-type': 'text/plain', origin: 'http://evil.example', 'sec-fetch-site': 'cross-site' },
          });
          expectError(reply, 403);
          expectReply(await f.users.get('/api/v1/users/planted/exists'), 404);
          // The site itself, and a client that is not a browser, still sign up.
          expectReply(
            await f.users.call('POST', '/api/v1/users', {
              json: { username: 'ok', password: PASSWORD },
              headers: { 'sec-fetch-site': 'same-origin' },
            }),
            201,
            {},
          );
        });
      });
    }
  });
}
