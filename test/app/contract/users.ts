// Users service, rows 1, 2, 3 and 6b.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Backend } from '../support/backends.ts';
import { sha1 } from '../support/client.ts';
import { addUser, PASSWORD, seg } from '../support/data.ts';
import { expectError, expectReply, freshServices } from '../support/fixture.ts';

export function usersContract(backend: Backend): void {
  describe('users (rows 1, 2, 3, 6b)', () => {
    const f = freshServices(backend);

    test('row 3: no users → 204 with an empty body', async () => {
      const reply = await f.users.get('/api/v1/users');
      expectReply(reply, 204);
      assert.equal(reply.text, '');
    });

    test('row 1: a new user → 201 {}; row 3 lists it', async () => {
      expectReply(await f.users.post('/api/v1/users', { username: 'alice', password: PASSWORD }), 201, {});
      expectReply(await f.users.get('/api/v1/users'), 200, ['alice']);
    });

    test('row 1: a password in upper-case hex is accepted', async () => {
      expectReply(await f.users.post('/api/v1/users', { username: 'bob', password: sha1('x').toUpperCase() }), 201, {});
    });

    test('row 1: names are case-sensitive: Alice is not alice', async () => {
      expectReply(await f.users.post('/api/v1/users', { username: 'Alice', password: PASSWORD }), 201, {});
    });

    const invalid: [string, unknown][] = [
      ['username taken', { username: 'alice', password: PASSWORD }],
      ['password of 39 hex digits', { username: 'carol', password: PASSWORD.slice(1) }],
      ['password of 41 hex digits', { username: 'carol', password: `${PASSWORD}a` }],
      ['password with a non-hex digit', { username: 'carol', password: `g${PASSWORD.slice(1)}` }],
      ['password in plain text', { username: 'carol', password: 'hunter2' }],
      ['password as a number', { username: 'carol', password: 1234567890 }],
      ['username missing', { password: PASSWORD }],
      ['password missing', { username: 'carol' }],
      ['an extra field', { username: 'carol', password: PASSWORD, admin: true }],
      ['username empty', { username: '', password: PASSWORD }],
      ['username a number', { username: 42, password: PASSWORD }],
      ['username null', { username: null, password: PASSWORD }],
      ['body an array', [{ username: 'carol', password: PASSWORD }]],
      ['body a JSON string', '"carol"'],
      ['body null', 'null'],
    ];
    for (const [name, body] of invalid) {
      test(`row 1: ${name} → 400`, async () => {
        expectError(await f.users.post('/api/v1/users', body), 400);
      });
    }

    test('row 1: malformed JSON, or no body at all → 400', async () => {
      expectError(await f.users.post('/api/v1/users', '{"username": "carol", '), 400);
      expectError(await f.users.call('POST', '/api/v1/users'), 400);
    });

    test('row 1: nothing invalid was stored', async () => {
      expectReply(await f.users.get('/api/v1/users'), 200, ['alice', 'bob', 'Alice']);
    });

    test('row 1: the password is stored as a salted slow hash, never as sent', async () => {
      const rows = await f.store.peek('users', 'users');
      assert.equal(rows.length, 3);
      for (const row of rows) {
        const stored = String(row.password_hash);
        assert.match(stored, /^\$argon2id\$/);
        assert.ok(!stored.toLowerCase().includes(PASSWORD) && !stored.toLowerCase().includes(sha1('x')));
      }
      const [a, b] = [rows[0], rows[2]].map((row) => String(row?.password_hash));
      assert.notEqual(a, b, 'same password, different salt, different hash');
    });

    test('row 1: a 10,000-character username works end to end', async () => {
      const long = `${'u'.repeat(9_999)}Z`;
      await addUser(f.users, long);
      expectError(await f.users.post('/api/v1/users', { username: long, password: PASSWORD }), 400);
      expectReply(await f.users.get(`/api/v1/users/${seg(long)}/exists`), 200, {});
      const list = (await f.users.get('/api/v1/users')).json as string[];
      assert.ok(list.includes(long));
      expectReply(await f.users.del(`/api/v1/users/${seg(long)}`), 200, {});
    });

    test('route parameters are URL-decoded: slash, space, unicode', async () => {
      for (const name of ['a/b', 'with space', 'ünïcødé ✓ 😀', '%41', '..', '.', '?x=1#y']) {
        await addUser(f.users, name);
        expectReply(await f.users.get(`/api/v1/users/${seg(name)}/exists`), 200, {});
        expectReply(await f.users.del(`/api/v1/users/${seg(name)}`), 200, {});
        expectError(await f.users.get(`/api/v1/users/${seg(name)}/exists`), 404);
      }
    });

    test('row 6b: a user that exists → 200 {}; one that does not → 404', async () => {
      expectReply(await f.users.get('/api/v1/users/alice/exists'), 200, {});
      expectError(await f.users.get('/api/v1/users/ALICE/exists'), 404);
      expectError(await f.users.get('/api/v1/users/nobody/exists'), 404);
    });

    test('row 2: deleting a user → 200 {}; deleting again → 400', async () => {
      expectReply(await f.users.del('/api/v1/users/bob'), 200, {});
      expectError(await f.users.del('/api/v1/users/bob'), 400);
      expectReply(await f.users.get('/api/v1/users'), 200, ['alice', 'Alice']);
    });

    test('row 2: no such user → 400', async () => {
      expectError(await f.users.del('/api/v1/users/nobody'), 400);
    });

    test('row 3: back to 204 once every user is deleted', async () => {
      for (const name of ['alice', 'Alice']) expectReply(await f.users.del(`/api/v1/users/${name}`), 200, {});
      expectReply(await f.users.get('/api/v1/users'), 204);
    });
  });
}
