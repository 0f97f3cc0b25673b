// Comments on acts (issue 25, docs/api-notes.md): anyone reads an act's comments, oldest first;
// a logged-in user writes one from the site itself, in either access mode; in owner mode only
// the comment's author or the act's author removes it, in open mode any logged-in user. Every
// bad input is a 4xx with a JSON reason, a removed act takes its comments with it.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ApiAccess } from '../../../app/config.ts';
import type { Backend } from '../support/backends.ts';
import { sessionCookie } from '../support/client.ts';
import { actBody, addUser, PASSWORD } from '../support/data.ts';
import { expectError, expectReply, freshServices } from '../support/fixture.ts';

interface Comment {
  id: number;
  username: string;
  text: string;
  time: string;
}

export function comments(backend: Backend): void {
  for (const mode of ['owner', 'open'] as const satisfies readonly ApiAccess[]) {
    describe(`comments on acts (${mode} mode)`, () => {
      const f = freshServices(backend, { apiAccess: mode });
      const cookies: Record<string, string> = {};
      const path = '/api/v1/acts/700/comments';
      const say = (who: string, text: unknown, on = path) => f.acts.post(on, { text }, { cookie: cookies[who] });
      const list = async () => (await f.acts.get(path)).json as Comment[];

      test('setup: three users; ann shares an act', async () => {
        for (const who of ['ann', 'bob', 'cal']) {
          await addUser(f.users, who);
          cookies[who] = sessionCookie(await f.users.post('/api/v1/sessions', { username: who, password: PASSWORD }));
        }
        expectReply(await f.acts.post('/api/v1/categories', ['street'], { cookie: cookies.ann }), 201);
        const act = actBody({ actId: 700, username: 'ann', categoryName: 'street' });
        expectReply(await f.acts.post('/api/v1/acts', act, { cookie: cookies.ann }), 201);
      });

      test('none yet: an empty list; a logged-in user comments, anyone reads it, oldest first', async () => {
        assert.deepEqual((await f.acts.get(path)).json, []);
        const before = Date.now();
        const first = await say('bob', '  Lovely!\nThank you.  ');
        expectReply(first, 201);
        expectReply(await say('cal', 'Me too.'), 201);
        const shown = await list();
        assert.deepEqual(
          shown.map((c) => [c.username, c.text]),
          [
            ['bob', 'Lovely!\nThank you.'],
            ['cal', 'Me too.'],
          ],
        );
        assert.equal(shown[0]!.id, (first.json as { id: number }).id);
        assert.ok(Date.parse(shown[0]!.time) >= before - 1000, shown[0]!.time);
        assert.deepEqual(Object.keys(shown[0]!), ['id', 'username', 'text', 'time'], 'no account key');
      });

      test('only a logged-in user, from the site itself, comments', async () => {
        expectError(await f.acts.post(path, { text: 'anonymous' }), 401);
        expectError(
          await f.acts.post(
            path,
            { text: 'from elsewhere' },
            { cookie: cookies.bob, headers: { origin: 'http://evil.example' } },
          ),
          403,
        );
        assert.equal((await list()).length, 2, 'nothing was added');
      });

      test('bad input: a 4xx with a reason, nothing stored', async () => {
        for (const [body, status, reason] of [
          [{ text: '   ' }, 400, /text must not be empty/],
          [{ text: 'x'.repeat(1001) }, 400, /at most 1000 characters/],
          [{ text: 'bell\u0007' }, 400, /control characters/],
          [{ text: 7 }, 400, /text/],
          [{ text: 'hi', extra: 1 }, 400, /one key, text/],
          [['hi'], 400, /one key, text/],
        ] as const) {
          const reply = await f.acts.post(path, body, { cookie: cookies.bob });
          expectError(reply, status);
          assert.match((reply.json as { error: string }).error, reason, JSON.stringify(body));
        }
        const form = await f.acts.call('POST', path, {
          body: 'text=hi',
          cookie: cookies.bob,
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
        });
        expectError(form, 415);
        expectError(
          await f.acts.call('POST', path, {
            body: '{"text":',
            cookie: cookies.bob,
            headers: { 'content-type': 'application/json' },
          }),
          400,
        );
        expectError(await say('bob', 'hello', '/api/v1/acts/701/comments'), 404);
        expectError(await say('bob', 'hello', '/api/v1/acts/x1/comments'), 400);
        expectError(await f.acts.get('/api/v1/acts/701/comments'), 404);
        expectReply(await say('bob', 'x'.repeat(1000)), 201);
        assert.equal((await list()).length, 3);
      });

      test(
        mode === 'owner'
          ? "removing: the comment's author or the act's author, no one else"
          : 'removing: any logged-in user (open mode protects nothing)',
        async () => {
          const [bobs, cals, long] = await list();
          const remove = (who: string | undefined, id: number) =>
            f.acts.del(`${path}/${id}`, who === undefined ? {} : { cookie: cookies[who] });
          expectError(await remove(undefined, bobs!.id), 401);
          if (mode === 'owner') {
            expectError(await remove('cal', bobs!.id), 403);
            expectReply(await remove('bob', bobs!.id), 200);
            expectReply(await remove('ann', cals!.id), 200, {});
          } else {
            expectReply(await remove('cal', bobs!.id), 200);
            expectReply(await remove('bob', cals!.id), 200, {});
          }
          expectError(await remove('bob', bobs!.id), 404);
          expectError(await remove('bob', 0), 400);
          expectError(await f.acts.del(`${path}/abc`, { cookie: cookies.bob }), 400);
          assert.deepEqual(
            (await list()).map((c) => c.id),
            [long!.id],
          );
        },
      );

      test('a removed act takes its comments with it', async () => {
        expectReply(await f.acts.del('/api/v1/acts/700', { cookie: cookies.ann }), 200);
        expectError(await f.acts.get(path), 404);
        assert.deepEqual(await f.store.peek('acts', 'act_comments'), []);
      });
    });
  }
}
