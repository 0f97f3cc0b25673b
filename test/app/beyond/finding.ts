// Finding acts (issue 25, docs/api-notes.md): card listings take `order=popular` (the most
// upvoted first, newest among equals) and `q` (words each act listed has in its caption, its
// author's name or its category's name), on every listing route, counted and ranged as the
// contract's listings are; the contract's routes without `view=card` ignore them. Bad values
// are a 400 with a JSON reason; LIKE's own characters in a search are plain characters.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Backend } from '../support/backends.ts';
import { actBody, addAct, addUser } from '../support/data.ts';
import { expectError, expectReply, freshServices } from '../support/fixture.ts';

interface Card {
  actId: number;
  caption: string;
  username: string;
  upvotes: number;
  categoryName: string;
}

export function finding(backend: Backend): void {
  describe('finding acts: search and popular order on card listings', () => {
    const f = freshServices(backend, { apiAccess: 'open' });
    const ids = (reply: { json: unknown; status: number }) => {
      if (reply.status === 204) return [];
      assert.ok(Array.isArray(reply.json), `a listing, not ${JSON.stringify(reply.json)}`);
      return (reply.json as Card[]).map((c) => c.actId);
    };

    test('seeded: two users, two categories, acts with upvotes', async () => {
      await addUser(f.users, 'maria');
      await addUser(f.users, 'tom_b');
      expectReply(await f.acts.post('/api/v1/categories', ['garden']), 201);
      expectReply(await f.acts.post('/api/v1/categories', ['Kitchen']), 201);
      const acts: Array<[number, string, string, string, number]> = [
        // actId, user, category, caption, upvotes
        [1, 'maria', 'garden', 'Planted tomatoes with the kids', 2],
        [2, 'tom_b', 'garden', 'Weeded the shared beds', 5],
        [3, 'maria', 'Kitchen', 'Cooked soup for the shelter', 5],
        [4, 'tom_b', 'Kitchen', 'Baked bread: 100% rye', 0],
        [5, 'maria', 'garden', 'Watered a neighbour_s plants', 1],
      ];
      for (const [actId, username, categoryName, caption, upvotes] of acts) {
        await addAct(
          f.acts,
          actBody({ actId, username, categoryName, caption, timestamp: `0${actId}-01-2026:10-00-00` }),
        );
        for (let i = 0; i < upvotes; i++) expectReply(await f.acts.post('/api/v1/acts/upvote', [actId]), 200);
      }
    });

    test('popular: the most upvoted first, newest among equals, on every listing route', async () => {
      assert.deepEqual(ids(await f.acts.get('/api/v1/acts?start=1&end=5&view=card&order=popular')), [3, 2, 1, 5, 4]);
      assert.deepEqual(ids(await f.acts.get('/api/v1/acts?start=1&end=5&view=card')), [5, 4, 3, 2, 1], 'newest');
      assert.deepEqual(
        ids(await f.acts.get('/api/v1/categories/garden/acts?start=1&end=3&view=card&order=popular')),
        [2, 1, 5],
      );
      assert.deepEqual(
        ids(await f.acts.get('/api/v1/acts?username=maria&start=1&end=3&view=card&order=popular')),
        [3, 1, 5],
      );
      assert.deepEqual(
        ids(await f.acts.get('/api/v1/acts?start=2&end=3&view=card&order=popular')),
        [2, 1],
        'ranges count in that order',
      );
    });

    test('search: each word in the caption, the author or the category, case aside; ranges over what matches', async () => {
      // A search's results as the site reads them: their count, then that range (none: nothing asked).
      const search = async (q: string, more = '') => {
        const query = `q=${encodeURIComponent(q)}`;
        const [n] = (await f.acts.get(`/api/v1/acts/count?${query}`)).json as number[];
        if (n === 0) return { status: 204, json: undefined };
        const reply = await f.acts.get(`/api/v1/acts?start=1&end=${n}&view=card&${query}${more}`);
        expectReply(reply, 200);
        return reply;
      };
      assert.deepEqual(ids(await search('SOUP')), [3], 'caption, any case');
      assert.deepEqual(ids(await search('tom_b')), [4, 2], 'author');
      assert.deepEqual(ids(await search('kitchen')), [4, 3], 'category');
      assert.deepEqual(ids(await search('garden maria')), [5, 1], 'every word, each anywhere');
      assert.deepEqual(ids(await search('  garden   maria ')), [5, 1], 'spaces are not words');
      assert.deepEqual(ids(await search('garden', '&order=popular')), [2, 1, 5], 'with an order');
      assert.deepEqual(ids(await search('100%')), [4], "% is a character, not LIKE's wildcard");
      assert.deepEqual(ids(await search('r_e')), [], "_ is a character, not LIKE's one-character wildcard");
      assert.deepEqual(ids(await search('neighbour_s')), [5]);
      assert.deepEqual(ids(await search('!')), [], 'the escape character itself');
      assert.deepEqual((await f.acts.get('/api/v1/acts/count?q=nobody%20here')).json, [0]);
      expectReply(await f.acts.get('/api/v1/categories/garden/acts?view=card&q=nobody'), 204, undefined);
      assert.deepEqual(
        ids(await f.acts.get('/api/v1/acts?start=2&end=2&view=card&q=garden')),
        [2],
        'the range is over the matches',
      );
      assert.deepEqual(ids(await f.acts.get('/api/v1/categories/garden/acts?start=1&end=2&view=card&q=maria')), [5, 1]);
      expectError(await f.acts.get('/api/v1/acts?start=1&end=5&view=card&q=garden&start=1'), 400);
      // Their number, for a page of results to ask for its ranges.
      assert.deepEqual((await f.acts.get('/api/v1/acts/count?q=garden')).json, [3]);
      assert.deepEqual((await f.acts.get('/api/v1/acts/count?q=garden%20maria')).json, [2]);
      assert.deepEqual((await f.acts.get('/api/v1/acts/count?q=')).json, [5], 'an empty search counts all');
      assert.deepEqual((await f.acts.get('/api/v1/acts/count?username=maria&q=soup')).json, [1]);
      expectError(await f.acts.get(`/api/v1/acts/count?q=${'x'.repeat(101)}`), 400);
    });

    test("the contract's listings (no view=card) answer as specified, order and q aside", async () => {
      const plain = await f.acts.get('/api/v1/acts?start=1&end=2&order=popular&q=soup');
      expectReply(plain, 200);
      assert.deepEqual(
        (plain.json as Card[]).map((c) => c.actId),
        [5, 4],
      );
    });

    test('bad values: 400 with a reason, never a 500', async () => {
      for (const [query, reason] of [
        ['order=best', /order must be "newest" or "popular"/],
        ['order=', /order must be/],
        [`q=${'x'.repeat(101)}`, /q must be at most 100 characters/],
        ['q=a&q=b', /q must be given once/],
      ] as const) {
        const reply = await f.acts.get(`/api/v1/acts?start=1&end=5&view=card&${query}`);
        expectError(reply, 400);
        assert.match((reply.json as { error: string }).error, reason, query);
      }
      assert.deepEqual((await f.acts.get(`/api/v1/acts/count?q=${'x'.repeat(100)}`)).json, [0], '100 characters');
    });
  });
}
