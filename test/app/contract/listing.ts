// Acts service, rows 10, 12, 16, 19, 20: newest first, ranges, and the 100-act limit.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Backend } from '../support/backends.ts';
import { actBody, addAct, addCategory, addUser } from '../support/data.ts';
import { expectError, expectReply, freshServices } from '../support/fixture.ts';

const ids = (json: unknown) => (json as { actId: number }[]).map((act) => act.actId);

/** Act n of the 105 in 'many': uploaded in id order, timestamps a day apart but shuffled. */
const TOTAL = 105;
const dayOf = (n: number) => ((n * 37) % TOTAL) + 1; // a permutation of 1..105
const stampOf = (n: number) => {
  const date = new Date(Date.UTC(2020, 0, dayOf(n)));
  const two = (v: number) => String(v).padStart(2, '0');
  return `${two(date.getUTCDate())}-${two(date.getUTCMonth() + 1)}-2020:00-00-12`;
};
/** Newest first: by day, descending. */
const newestFirst = Array.from({ length: TOTAL }, (_, i) => i + 1).sort((a, b) => dayOf(b) - dayOf(a));

export function listingContract(backend: Backend): void {
  describe('listing and ranges (rows 10, 12, 16, 19, 20)', () => {
    const f = freshServices(backend);

    test('setup: 105 acts in "many" (101 by ivy, 4 by jon), uploaded out of time order', async () => {
      await addUser(f.users, 'ivy');
      await addUser(f.users, 'jon');
      await addCategory(f.acts, 'many');
      await addCategory(f.acts, 'few');
      for (let n = 1; n <= TOTAL; n++) {
        await addAct(
          f.acts,
          actBody({ actId: n, username: n % 25 === 0 ? 'jon' : 'ivy', categoryName: 'many', timestamp: stampOf(n) }),
        );
      }
    });

    test('row 16: count → [105]; row 11: size → [105]', async () => {
      expectReply(await f.acts.get('/api/v1/acts/count'), 200, [TOTAL]);
      expectReply(await f.acts.get('/api/v1/categories/many/acts/size'), 200, [TOTAL]);
    });

    test('row 10: more than 100 acts without a range → 413', async () => {
      expectError(await f.acts.get('/api/v1/categories/many/acts'), 413);
    });

    const ranges: [string, string, number, number[] | undefined][] = [
      ['first 100 → 200, newest first', 'start=1&end=100', 200, newestFirst.slice(0, 100)],
      ['one act', 'start=5&end=5', 200, newestFirst.slice(4, 5)],
      ['the last six', 'start=100&end=105', 200, newestFirst.slice(99, 105)],
      ['leading zeros in positions', 'start=01&end=003', 200, newestFirst.slice(0, 3)],
      ['101 acts → 413', 'start=1&end=101', 413, undefined],
      ['105 acts → 413', 'start=1&end=105', 413, undefined],
      ['end beyond the count → 400 (before the 413)', 'start=1&end=106', 400, undefined],
      ['end beyond the count by far → 400', 'start=1&end=99999999999999999999999', 400, undefined],
      ['start 0 → 400', 'start=0&end=5', 400, undefined],
      ['start negative → 400', 'start=-1&end=5', 400, undefined],
      ['start > end → 400', 'start=6&end=5', 400, undefined],
      ['start > end over 100 apart → 400, not 413', 'start=105&end=1', 400, undefined],
      ['only start → 400', 'start=1', 400, undefined],
      ['only end → 400', 'end=5', 400, undefined],
      ['start not a number → 400', 'start=one&end=5', 400, undefined],
      ['end a fraction → 400', 'start=1&end=5.0', 400, undefined],
      ['end with a plus sign → 400', 'start=1&end=%2B5', 400, undefined],
      ['start empty → 400', 'start=&end=5', 400, undefined],
      ['start given twice → 400', 'start=1&start=2&end=5', 400, undefined],
    ];
    for (const [name, query, status, expected] of ranges) {
      test(`row 12: ${name}`, async () => {
        const reply = await f.acts.get(`/api/v1/categories/many/acts?${query}`);
        if (status === 200) {
          expectReply(reply, 200);
          assert.deepEqual(ids(reply.json), expected);
        } else {
          expectError(reply, status);
        }
      });
      test(`row 19: ${name}`, async () => {
        const reply = await f.acts.get(`/api/v1/acts?${query}`);
        if (status === 200) {
          expectReply(reply, 200);
          assert.deepEqual(ids(reply.json), expected);
        } else {
          expectError(reply, status);
        }
      });
    }

    test('row 12: no such category → 400, whatever the range', async () => {
      expectError(await f.acts.get('/api/v1/categories/nothing/acts?start=1&end=1'), 400);
      expectError(await f.acts.get('/api/v1/categories/nothing/acts?start=1&end=500'), 400);
    });

    test('row 12: an empty category has no valid range → 400', async () => {
      expectError(await f.acts.get('/api/v1/categories/few/acts?start=1&end=1'), 400);
    });

    test('row 19: GET /api/v1/acts without start and end → 405', async () => {
      expectError(await f.acts.get('/api/v1/acts'), 405);
      expectError(await f.acts.get('/api/v1/acts?username=ivy'), 405);
    });

    test('row 20: one user’s acts, newest first, with the same range rules', async () => {
      const jons = newestFirst.filter((n) => n % 25 === 0);
      const reply = await f.acts.get(`/api/v1/acts?username=jon&start=1&end=${jons.length}`);
      expectReply(reply, 200);
      assert.deepEqual(ids(reply.json), jons);
      const page = await f.acts.get('/api/v1/acts?username=jon&start=2&end=3');
      assert.deepEqual(ids(page.json), jons.slice(1, 3));
      const ivys = await f.acts.get('/api/v1/acts?username=ivy&start=2&end=101');
      assert.deepEqual(ids(ivys.json), newestFirst.filter((n) => n % 25 !== 0).slice(1, 101));
      expectError(await f.acts.get(`/api/v1/acts?username=jon&start=1&end=${jons.length + 1}`), 400);
      expectError(await f.acts.get('/api/v1/acts?username=ivy&start=1&end=101'), 413);
      expectError(await f.acts.get('/api/v1/acts?username=ivy&start=1&end=102'), 400);
      expectError(await f.acts.get('/api/v1/acts?username=nobody&start=1&end=1'), 400);
      expectError(await f.acts.get('/api/v1/acts?username=&start=1&end=1'), 400);
      expectError(await f.acts.get('/api/v1/acts?username=jon&start=1'), 400);
    });

    test('equal timestamps: the latest upload comes first, across categories', async () => {
      const stamp = '31-12-2099:59-59-23';
      for (const [actId, category] of [
        [1001, 'few'],
        [1002, 'many'],
        [1003, 'few'],
      ] as const) {
        await addAct(f.acts, actBody({ actId, username: 'ivy', categoryName: category, timestamp: stamp }));
      }
      assert.deepEqual(ids((await f.acts.get('/api/v1/acts?start=1&end=3')).json), [1003, 1002, 1001]);
      assert.deepEqual(ids((await f.acts.get('/api/v1/categories/few/acts')).json), [1003, 1001]);
    });

    test('ordering is by the parsed time, not the text: year, then month, then day, then h:m:s', async () => {
      const stamps: [number, string][] = [
        [2001, '01-01-0999:00-00-00'],
        [2002, '31-12-0998:59-59-23'],
        [2003, '01-02-0999:00-00-00'],
        [2004, '02-01-0999:00-00-00'],
        [2005, '01-01-0999:01-00-00'],
        [2006, '01-01-0999:00-01-00'],
        [2007, '01-01-0999:00-00-01'],
      ];
      await addCategory(f.acts, 'old');
      for (const [actId, timestamp] of stamps)
        await addAct(f.acts, actBody({ actId, username: 'ivy', categoryName: 'old', timestamp }));
      assert.deepEqual(
        ids((await f.acts.get('/api/v1/categories/old/acts')).json),
        [2003, 2004, 2007, 2006, 2005, 2001, 2002],
      );
    });
  });
}
