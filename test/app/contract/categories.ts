// Acts service, rows 7, 8, 9, 11 (and row 10's simple cases).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Backend } from '../support/backends.ts';
import { actBody, addAct, addCategory, addUser, seg } from '../support/data.ts';
import { expectError, expectReply, freshServices } from '../support/fixture.ts';

export function categoriesContract(backend: Backend): void {
  describe('categories (rows 7, 8, 9, 10, 11)', () => {
    const f = freshServices(backend);
    const longName = `${'c'.repeat(999)}!`;

    test('row 7: no categories → 204 with an empty body', async () => {
      const reply = await f.acts.get('/api/v1/categories');
      expectReply(reply, 204);
      assert.equal(reply.text, '');
    });

    test('row 8: a new category → 201 {}', async () => {
      expectReply(await f.acts.post('/api/v1/categories', ['kindness']), 201, {});
    });

    test('row 8: names are case-sensitive; unicode, slashes, 1,000 characters and "__proto__" work', async () => {
      for (const name of ['Kindness', 'a/b c', 'ünïcødé 😀', longName, '__proto__', 'toJSON'])
        await addCategory(f.acts, name);
    });

    const invalid: [string, unknown][] = [
      ['a name that exists', ['kindness']],
      ['an empty name', ['']],
      ['two names', ['x', 'y']],
      ['an empty array', []],
      ['a number', [7]],
      ['null inside', [null]],
      ['a nested array', [['x']]],
      ['an object', { name: 'x' }],
      ['a bare JSON string', '"x"'],
      ['malformed JSON', '["x"'],
    ];
    for (const [name, body] of invalid) {
      test(`row 8: ${name} → 400`, async () => {
        expectError(await f.acts.post('/api/v1/categories', body), 400);
      });
    }

    test('row 7: {"name": actCount} for every category', async () => {
      await addUser(f.users, 'ann');
      await addAct(f.acts, actBody({ actId: 1, username: 'ann', categoryName: 'kindness' }));
      await addAct(f.acts, actBody({ actId: 2, username: 'ann', categoryName: 'kindness' }));
      await addAct(f.acts, actBody({ actId: 3, username: 'ann', categoryName: longName }));
      const reply = await f.acts.get('/api/v1/categories');
      expectReply(reply, 200);
      const expected = Object.assign(Object.create(null), {
        kindness: 2,
        Kindness: 0,
        'a/b c': 0,
        'ünïcødé 😀': 0,
        [longName]: 1,
        toJSON: 0,
      });
      // A category named "__proto__" is an own key of the listing, like any other name.
      Object.defineProperty(expected, '__proto__', { value: 0, enumerable: true, writable: true, configurable: true });
      assert.deepEqual({ ...(reply.json as object) }, { ...expected });
      assert.ok(reply.text.includes('"__proto__":0'));
    });

    test('row 11: size → [n], [0] when empty; 400 for no such category', async () => {
      expectReply(await f.acts.get('/api/v1/categories/kindness/acts/size'), 200, [2]);
      expectReply(await f.acts.get(`/api/v1/categories/${seg(longName)}/acts/size`), 200, [1]);
      expectReply(await f.acts.get('/api/v1/categories/Kindness/acts/size'), 200, [0]);
      expectError(await f.acts.get('/api/v1/categories/nothing/acts/size'), 400);
    });

    test('row 10: a category with acts → 200 [act, ...]; empty → 204; unknown → 400', async () => {
      const reply = await f.acts.get('/api/v1/categories/kindness/acts');
      expectReply(reply, 200);
      assert.equal((reply.json as unknown[]).length, 2);
      const empty = await f.acts.get(`/api/v1/categories/${seg('a/b c')}/acts`);
      expectReply(empty, 204);
      assert.equal(empty.text, '');
      expectError(await f.acts.get('/api/v1/categories/nothing/acts'), 400);
    });

    test('row 9: delete → 200 {}; again → 400; unknown → 400', async () => {
      expectReply(await f.acts.del(`/api/v1/categories/${seg('ünïcødé 😀')}`), 200, {});
      expectError(await f.acts.del(`/api/v1/categories/${seg('ünïcødé 😀')}`), 400);
      expectError(await f.acts.del('/api/v1/categories/nothing'), 400);
      expectError(await f.acts.del('/api/v1/categories/KINDNESS'), 400);
    });

    test('row 9: deleting a category removes its acts with it, and only its acts', async () => {
      expectReply(await f.acts.get('/api/v1/acts/count'), 200, [3]);
      expectReply(await f.acts.del('/api/v1/categories/kindness'), 200, {});
      expectReply(await f.acts.get('/api/v1/acts/count'), 200, [1]);
      expectError(await f.acts.del('/api/v1/acts/1'), 400);
      expectError(await f.acts.get('/api/v1/acts/2/image'), 404);
      expectReply(await f.acts.get('/api/v1/acts/3/image'), 200);
      assert.deepEqual(await f.store.peek('acts', 'act_images').then((rows) => rows.length), 1, 'image parts went too');
      // A category of the same name later starts empty.
      await addCategory(f.acts, 'kindness');
      expectReply(await f.acts.get('/api/v1/categories/kindness/acts/size'), 200, [0]);
    });
  });
}
