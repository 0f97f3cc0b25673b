// API_ACCESS=owner (docs/api-notes.md): the same routes as the contract, but every write except
// sign-up and log-in needs a live session (401), touches only the writer's own content (403),
// counts an upvote once per user (409 after; un-vote route), and listings tell a logged-in
// user what they upvoted. Reads and the per-replica routes are those of open mode.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Backend } from '../support/backends.ts';
import { sessionCookie, type Api, type HttpMethod } from '../support/client.ts';
import { actBody, addUser, PASSWORD, seg } from '../support/data.ts';
import { expectError, expectReply, freshServices } from '../support/fixture.ts';
import { PNG } from '../support/images.ts';
import { image, upload } from '../support/multipart.ts';

export async function logIn(users: Api, username: string): Promise<string> {
  const reply = await users.post('/api/v1/sessions', { username, password: PASSWORD });
  expectReply(reply, 200, { username });
  return sessionCookie(reply);
}

interface ListedAct {
  actId: number | bigint;
  username: string;
  upvotes: number;
  upvotedByMe?: boolean;
}

export function ownerRules(backend: Backend): void {
  describe('owner mode: who may write what', () => {
    const f = freshServices(backend, { apiAccess: 'owner' });
    let ann = '';
    let bob = '';
    const as = (cookie: string) => ({ cookie });

    test('setup: sign-up and log-in need no session; two users, a category each, an act each', async () => {
      await addUser(f.users, 'ann');
      await addUser(f.users, 'bob');
      ann = await logIn(f.users, 'ann');
      bob = await logIn(f.users, 'bob');
      expectReply(await f.acts.post('/api/v1/categories', ['ann-only'], as(ann)), 201, {});
      expectReply(await f.acts.post('/api/v1/categories', ['shared'], as(ann)), 201, {});
      expectReply(
        await f.acts.post('/api/v1/acts', actBody({ actId: 1, username: 'ann', categoryName: 'ann-only' }), as(ann)),
        201,
        {},
      );
      expectReply(
        await f.acts.post('/api/v1/acts', actBody({ actId: 2, username: 'ann', categoryName: 'shared' }), as(ann)),
        201,
        {},
      );
      expectReply(
        await f.acts.post('/api/v1/acts', actBody({ actId: 3, username: 'bob', categoryName: 'shared' }), as(bob)),
        201,
        {},
      );
    });

    const anonymousWrites: [string, HttpMethod, string, 'users' | 'acts', unknown][] = [
      ['row 2: delete a user', 'DELETE', '/api/v1/users/ann', 'users', undefined],
      ['row 5: log out', 'DELETE', '/api/v1/sessions', 'users', undefined],
      ['row 8: create a category', 'POST', '/api/v1/categories', 'acts', ['new']],
      ['row 9: delete a category', 'DELETE', '/api/v1/categories/ann-only', 'acts', undefined],
      ['row 13: upvote', 'POST', '/api/v1/acts/upvote', 'acts', [1]],
      ['row 14: remove an act', 'DELETE', '/api/v1/acts/1', 'acts', undefined],
      [
        'row 15: upload as JSON',
        'POST',
        '/api/v1/acts',
        'acts',
        actBody({ actId: 9, username: 'ann', categoryName: 'shared' }),
      ],
      ['extension: un-vote', 'DELETE', '/api/v1/acts/1/upvote', 'acts', undefined],
    ];
    for (const [name, method, path, service, json] of anonymousWrites) {
      test(`${name} without a session → 401 {"error"}, nothing changed`, async () => {
        const api = service === 'users' ? f.users : f.acts;
        expectError(await api.call(method, path, json === undefined ? {} : { json }), 401);
        // A forged, unsigned cookie is no session either.
        const forged = `selflessacts_session=${encodeURIComponent(JSON.stringify({ u: 'ann', k: 'x', e: Date.now() + 1e9 }))}`;
        expectError(await api.call(method, path, { ...(json === undefined ? {} : { json }), cookie: forged }), 401);
      });
    }

    test('row 17 without a session → 401; a 16 MiB body is refused before it is read', async () => {
      expectError(
        await upload(f.acts, undefined, [
          { name: 'caption', value: 'x' },
          { name: 'categoryName', value: 'shared' },
          image(PNG),
        ]),
        401,
      );
      expectError(await f.acts.post('/api/v1/categories', `["${'x'.repeat(16 * 1024 * 1024 - 10)}"]`), 401);
    });

    test('nothing above was written', async () => {
      expectReply(await f.users.get('/api/v1/users'), 200, ['ann', 'bob']);
      expectReply(await f.acts.get('/api/v1/categories'), 200, { 'ann-only': 1, shared: 2 });
      const listed = (await f.acts.get('/api/v1/acts?start=1&end=3')).json as ListedAct[];
      assert.deepEqual(
        listed.map((a) => a.upvotes),
        [0, 0, 0],
      );
    });

    test('row 15: the username must be the session’s → 403; as oneself → 201', async () => {
      expectError(
        await f.acts.post('/api/v1/acts', actBody({ actId: 4, username: 'ann', categoryName: 'shared' }), as(bob)),
        403,
      );
      expectReply(
        await f.acts.post('/api/v1/acts', actBody({ actId: 4, username: 'bob', categoryName: 'shared' }), as(bob)),
        201,
        {},
      );
    });

    test('row 17: the session’s user is the author', async () => {
      const reply = await upload(f.acts, bob, [
        { name: 'caption', value: 'by form' },
        { name: 'categoryName', value: 'ann-only' },
        image(PNG),
      ]);
      expectReply(reply, 201);
      const actId = (reply.json as { actId: number }).actId;
      const listed = (await f.acts.get('/api/v1/categories/ann-only/acts')).json as ListedAct[];
      assert.deepEqual(listed.find((a) => a.actId === actId)?.username, 'bob');
      expectReply(await f.acts.del(`/api/v1/acts/${actId}`, as(bob)), 200, {});
    });

    test('row 14: only the author removes an act (403 for anyone else), 400 for no such act', async () => {
      expectError(await f.acts.del('/api/v1/acts/3', as(ann)), 403);
      expectError(await f.acts.del('/api/v1/acts/999', as(ann)), 400);
      expectError(await f.acts.del('/api/v1/acts/x', as(ann)), 400);
      expectReply(await f.acts.del('/api/v1/acts/4', as(bob)), 200, {});
      expectReply(await f.acts.get('/api/v1/acts/count'), 200, [3]);
    });

    test('row 8: any logged-in user creates a category; row 9: removed only while it holds no acts of others', async () => {
      expectReply(await f.acts.post('/api/v1/categories', ['bobs'], as(bob)), 201, {});
      expectError(await f.acts.del('/api/v1/categories/shared', as(ann)), 403);
      expectError(await f.acts.del('/api/v1/categories/shared', as(bob)), 403);
      expectError(await f.acts.del('/api/v1/categories/nowhere', as(bob)), 400);
      // Empty, or holding only the remover's acts: removed, with those acts.
      expectReply(await f.acts.del('/api/v1/categories/bobs', as(ann)), 200, {});
      expectReply(await f.acts.del('/api/v1/categories/ann-only', as(ann)), 200, {});
      expectReply(await f.acts.get('/api/v1/categories'), 200, { shared: 2 });
      expectReply(await f.acts.get('/api/v1/acts/count'), 200, [2]);
    });

    test('row 13: an upvote needs a session and counts once per user; a second is 409', async () => {
      expectReply(await f.acts.post('/api/v1/acts/upvote', [3], as(ann)), 200, {});
      expectError(await f.acts.post('/api/v1/acts/upvote', [3], as(ann)), 409);
      expectReply(await f.acts.post('/api/v1/acts/upvote', [3], as(bob)), 200, {});
      expectError(await f.acts.post('/api/v1/acts/upvote', [404], as(bob)), 400);
      expectError(await f.acts.post('/api/v1/acts/upvote', ['3'], as(bob)), 400);
      const listed = (await f.acts.get('/api/v1/categories/shared/acts')).json as ListedAct[];
      assert.equal(listed.find((a) => a.actId === 3)?.upvotes, 2);
    });

    test('20 concurrent upvotes by one user count once', async () => {
      const replies = await Promise.all(
        Array.from({ length: 20 }, () => f.acts.post('/api/v1/acts/upvote', [2], as(bob))),
      );
      assert.deepEqual(replies.map((r) => r.status).sort(), [200, ...Array<number>(19).fill(409)]);
      const listed = (await f.acts.get('/api/v1/categories/shared/acts')).json as ListedAct[];
      assert.equal(listed.find((a) => a.actId === 2)?.upvotes, 1);
    });

    test('listings tell a logged-in user what they upvoted (upvotedByMe); anonymous listings do not', async () => {
      const mine = (await f.acts.get('/api/v1/categories/shared/acts', as(ann))).json as ListedAct[];
      assert.deepEqual(
        mine.map((a) => [a.actId, a.upvotedByMe]),
        [
          [3, true],
          [2, false],
        ],
      );
      for (const path of [
        '/api/v1/acts?start=1&end=2',
        '/api/v1/categories/shared/acts?start=1&end=2',
        '/api/v1/acts?username=ann&start=1&end=1',
      ]) {
        const seen = (await f.acts.get(path, as(bob))).json as ListedAct[];
        assert.ok(
          seen.every((a) => typeof a.upvotedByMe === 'boolean'),
          path,
        );
        const anonymous = (await f.acts.get(path)).json as ListedAct[];
        assert.ok(
          anonymous.every((a) => !('upvotedByMe' in a)),
          path,
        );
        assert.deepEqual(Object.keys(anonymous[0]!), [
          'actId',
          'username',
          'timestamp',
          'caption',
          'upvotes',
          'categoryName',
          'imgB64',
        ]);
      }
    });

    test('un-vote (DELETE /api/v1/acts/{actId}/upvote): takes one’s own vote back once; 409 after', async () => {
      expectReply(await f.acts.del('/api/v1/acts/3/upvote', as(ann)), 200, {});
      expectError(await f.acts.del('/api/v1/acts/3/upvote', as(ann)), 409);
      expectError(await f.acts.del('/api/v1/acts/999/upvote', as(ann)), 400);
      expectError(await f.acts.call('GET', '/api/v1/acts/3/upvote', as(ann)), 405);
      const listed = (await f.acts.get('/api/v1/categories/shared/acts', as(ann))).json as ListedAct[];
      assert.deepEqual(
        listed.map((a) => [a.actId, a.upvotes, a.upvotedByMe]),
        [
          [3, 1, false],
          [2, 1, false],
        ],
      );
      // And once more, after taking it back.
      expectReply(await f.acts.post('/api/v1/acts/upvote', [3], as(ann)), 200, {});
    });

    test('removing an act takes its upvotes with it: a new act with the same actId starts at 0', async () => {
      expectReply(await f.acts.del('/api/v1/acts/3', as(bob)), 200, {});
      expectReply(
        await f.acts.post('/api/v1/acts', actBody({ actId: 3, username: 'bob', categoryName: 'shared' }), as(bob)),
        201,
        {},
      );
      const listed = (await f.acts.get('/api/v1/categories/shared/acts', as(ann))).json as ListedAct[];
      assert.deepEqual(
        listed.find((a) => a.actId === 3),
        { ...listed.find((a) => a.actId === 3), upvotes: 0, upvotedByMe: false },
      );
      const rows = await f.store.peek('acts', 'act_upvotes');
      assert.equal(rows.length, 1, 'only bob’s vote on act 2 is left');
    });

    test('JSON writes that use the session accept only application/json → 415', async () => {
      const plain = { headers: { 'content-type': 'text/plain' }, cookie: ann };
      expectError(await f.acts.call('POST', '/api/v1/categories', { body: '["typed"]', ...plain }), 415);
      expectError(await f.acts.call('POST', '/api/v1/acts/upvote', { body: '[2]', ...plain }), 415);
      expectError(
        await f.acts.call('POST', '/api/v1/acts', {
          body: JSON.stringify(actBody({ actId: 7, username: 'ann', categoryName: 'shared' })),
          ...plain,
        }),
        415,
      );
      expectError(
        await f.users.call('POST', '/api/v1/sessions', {
          body: JSON.stringify({ username: 'ann', password: PASSWORD }),
          headers: { 'content-type': 'text/plain' },
        }),
        415,
      );
      expectReply(
        await f.acts.call('POST', '/api/v1/categories', {
          body: '["typed"]',
          headers: { 'content-type': 'application/json; charset=utf-8' },
          cookie: ann,
        }),
        201,
        {},
      );
    });

    test('anonymous reads and the per-replica routes are as in open mode', async () => {
      expectReply(await f.users.get('/api/v1/users'), 200, ['ann', 'bob']);
      expectReply(await f.users.get('/api/v1/users/ann/exists'), 200, {});
      expectReply(await f.acts.get('/api/v1/categories/shared/acts/size'), 200, [2]);
      expectReply(await f.acts.get('/api/v1/acts/2/image'), 200);
      expectReply(await f.acts.get('/api/v1/acts/count'), 200, [2]);
      expectError(await f.acts.get('/api/v1/acts'), 405);
      expectError(await f.acts.del('/api/v1/acts/upvote'), 405);
      for (const api of [f.users, f.acts]) {
        expectReply(await api.get('/api/v1/_count'), 200);
        expectReply(await api.del('/api/v1/_count'), 200, {});
        expectReply(await api.get('/api/v1/_health'), 200);
      }
    });

    test('row 2: a user deletes only themself (403 for another); their cookies die with them', async () => {
      expectError(await f.users.del('/api/v1/users/bob', as(ann)), 403);
      const reply = await f.users.del('/api/v1/users/ann', as(ann));
      expectReply(reply, 200, {});
      assert.match(String(reply.headers['set-cookie']), /Expires=Thu, 01 Jan 1970/);
      expectError(await f.users.get('/api/v1/sessions/me', as(ann)), 401);
      expectError(await f.acts.post('/api/v1/categories', ['after'], as(ann)), 401);
      expectReply(await f.users.get('/api/v1/users'), 200, ['bob']);
      // Their acts stay (row 2), and nobody else may remove them.
      expectError(await f.acts.del('/api/v1/acts/2', as(bob)), 403);
    });

    test('per-replica routes need no session: _crash works anonymously', async () => {
      expectReply(await f.acts.post('/api/v1/_crash'), 200);
      expectError(await f.acts.get('/api/v1/_health'), 500);
    });
  });

  describe('open mode never sends the owner-mode extensions', () => {
    const f = freshServices(backend, { apiAccess: 'open' });

    test('no upvotedByMe for a logged-in user; no un-vote route (404)', async () => {
      await addUser(f.users, 'cy');
      const cookie = await logIn(f.users, 'cy');
      expectReply(await f.acts.post('/api/v1/categories', ['c']), 201, {});
      expectReply(await f.acts.post('/api/v1/acts', actBody({ actId: 5, username: 'cy', categoryName: 'c' })), 201, {});
      expectReply(await f.acts.post('/api/v1/acts/upvote', [5], { cookie }), 200, {});
      expectReply(await f.acts.post('/api/v1/acts/upvote', [5], { cookie }), 200, {});
      const listed = (await f.acts.get('/api/v1/categories/c/acts', { cookie })).json as ListedAct[];
      assert.deepEqual(Object.keys(listed[0]!), [
        'actId',
        'username',
        'timestamp',
        'caption',
        'upvotes',
        'categoryName',
        'imgB64',
      ]);
      assert.equal(listed[0]!.upvotes, 2);
      expectError(await f.acts.del('/api/v1/acts/5/upvote', { cookie }), 404);
      assert.equal((await f.store.peek('acts', 'act_upvotes')).length, 0);
      expectReply(await f.acts.del(`/api/v1/categories/${seg('c')}`), 200, {});
    });
  });
}
