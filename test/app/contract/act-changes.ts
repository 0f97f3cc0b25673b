// Acts service, rows 13 and 14: upvotes (exact under concurrency) and removing acts.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Backend } from '../support/backends.ts';
import { actBody, addAct, addCategory, addUser } from '../support/data.ts';
import { expectError, expectReply, freshServices } from '../support/fixture.ts';

export function actChangesContract(backend: Backend): void {
  describe('upvotes and removal (rows 13, 14)', () => {
    const f = freshServices(backend);
    const upvotesOf = async (actId: number | bigint) => {
      const list = (await f.acts.get('/api/v1/categories/votes/acts')).json as {
        actId: number | bigint;
        upvotes: number;
      }[];
      return list.find((act) => act.actId === actId)?.upvotes;
    };

    test('setup', async () => {
      await addUser(f.users, 'kim');
      await addCategory(f.acts, 'votes');
      await addAct(f.acts, actBody({ actId: 1, username: 'kim', categoryName: 'votes' }));
      await addAct(f.acts, actBody({ actId: 9007199254740993n, username: 'kim', categoryName: 'votes' }));
    });

    test('row 13: an upvote → 200 {} and +1', async () => {
      expectReply(await f.acts.post('/api/v1/acts/upvote', [1]), 200, {});
      assert.equal(await upvotesOf(1), 1);
    });

    test('row 13: a big actId is upvoted exactly (not its neighbour 9007199254740992)', async () => {
      expectReply(await f.acts.post('/api/v1/acts/upvote', '[9007199254740993]'), 200, {});
      expectError(await f.acts.post('/api/v1/acts/upvote', '[9007199254740992]'), 400);
      assert.equal(await upvotesOf(9007199254740993n), 1);
    });

    test('row 13: 100 upvotes at once → exactly +100', async () => {
      const replies = await Promise.all(Array.from({ length: 100 }, () => f.acts.post('/api/v1/acts/upvote', [1])));
      for (const reply of replies) expectReply(reply, 200, {});
      assert.equal(await upvotesOf(1), 101);
    });

    const invalid: [string, string][] = [
      ['no such act', '[404]'],
      ['actId as a string', '["1"]'],
      ['actId negative', '[-1]'],
      ['actId with a fraction', '[1.0]'],
      ['actId with an exponent', '[1e0]'],
      ['two actIds', '[1, 1]'],
      ['an empty array', '[]'],
      ['a bare number', '1'],
      ['an object', '{"actId": 1}'],
      ['a nested array', '[[1]]'],
      ['malformed JSON', '[1'],
      ['an empty body', ''],
    ];
    for (const [name, body] of invalid) {
      test(`row 13: ${name} → 400`, async () => {
        expectError(
          await f.acts.call('POST', '/api/v1/acts/upvote', { body, headers: { 'content-type': 'application/json' } }),
          400,
        );
      });
    }

    test('row 13: nothing above changed the count', async () => {
      assert.equal(await upvotesOf(1), 101);
    });

    test('row 14: remove → 200 {}; again → 400; the act is gone everywhere', async () => {
      expectReply(await f.acts.del('/api/v1/acts/9007199254740993'), 200, {});
      expectError(await f.acts.del('/api/v1/acts/9007199254740993'), 400);
      expectReply(await f.acts.get('/api/v1/categories/votes/acts/size'), 200, [1]);
      expectError(await f.acts.post('/api/v1/acts/upvote', '[9007199254740993]'), 400);
      expectError(await f.acts.get('/api/v1/acts/9007199254740993/image'), 404);
    });

    const badIds: [string, string][] = [
      ['negative', '-1'],
      ['a fraction', '1.5'],
      ['letters', 'abc'],
      ['hex', '0x1'],
      ['with a plus sign', '%2B1'],
      ['with a space', '%201'],
      ['an exponent', '1e3'],
    ];
    for (const [name, id] of badIds) {
      test(`row 14: actId ${decodeURIComponent(id)} (${name}) → 400`, async () => {
        expectError(await f.acts.del(`/api/v1/acts/${id}`), 400);
      });
    }

    test('row 14: no such act → 400', async () => {
      expectError(await f.acts.del('/api/v1/acts/123456789012345678901234567890'), 400);
    });
  });
}
