// Accounts, not names (hostile-clients finding 3): a name deleted and registered again is
// another account, owning nothing of the one before. Failed log-ins counted per account
// (finding 4), passwords re-hashed to argon2id, sessions that end when idle, a recent log-in to
// delete an account, and the security events in the log (finding 10). Owner mode.
import assert from 'node:assert/strict';
import { createHmac, scryptSync } from 'node:crypto';
import { describe, test } from 'node:test';
import { createLogger } from '../../../app/log.ts';
import type { Backend } from '../support/backends.ts';
import { namedCookie, sessionCookie, sha1, type Api } from '../support/client.ts';
import { actBody, addUser, PASSWORD } from '../support/data.ts';
import { expectError, expectReply, freshServices } from '../support/fixture.ts';
import { TEST_SECRET } from '../support/services.ts';

const as = (cookie: string) => ({ cookie });

async function logIn(
  users: Api,
  username: string,
  cookie?: string,
): Promise<{ session: string; device: string | undefined }> {
  const reply = await users.post(
    '/api/v1/sessions',
    { username, password: PASSWORD },
    cookie === undefined ? {} : as(cookie),
  );
  expectReply(reply, 200, { username });
  return { session: sessionCookie(reply), device: namedCookie(reply, 'selflessacts_device') };
}

/** The session a cookie carries, and the same cookie with fields changed, signed as the app signs. */
function resign(cookie: string, change: Record<string, number>): string {
  const value = decodeURIComponent(cookie.slice(cookie.indexOf('=') + 1));
  assert.ok(value.startsWith('s:'));
  const json = value.slice(2, value.lastIndexOf('.'));
  const next = JSON.stringify({ ...(JSON.parse(json) as object), ...change });
  const signature = createHmac('sha256', TEST_SECRET).update(next).digest('base64').replace(/=+$/, '');
  return `selflessacts_session=${encodeURIComponent(`s:${next}.${signature}`)}`;
}

interface Listed {
  actId: number;
  username: string;
  upvotes: number;
  upvotedByMe?: boolean;
}

export function accounts(backend: Backend): void {
  describe('owner mode: a name registered again is another account, owning nothing of the one before', () => {
    const f = freshServices(backend, { apiAccess: 'owner' });

    test('carol deleted and registered again cannot remove her acts or category, nor take back her upvotes', async () => {
      await addUser(f.users, 'dave');
      const dave = (await logIn(f.users, 'dave')).session;
      expectReply(await f.acts.post('/api/v1/categories', ['daves'], as(dave)), 201, {});
      expectReply(
        await f.acts.post('/api/v1/acts', actBody({ actId: 13, username: 'dave', categoryName: 'daves' }), as(dave)),
        201,
        {},
      );

      await addUser(f.users, 'carol');
      const first = (await logIn(f.users, 'carol')).session;
      expectReply(await f.acts.post('/api/v1/categories', ['carols'], as(first)), 201, {});
      expectReply(
        await f.acts.post('/api/v1/acts', actBody({ actId: 11, username: 'carol', categoryName: 'carols' }), as(first)),
        201,
        {},
      );
      expectReply(
        await f.acts.post('/api/v1/acts', actBody({ actId: 12, username: 'carol', categoryName: 'daves' }), as(first)),
        201,
        {},
      );
      expectReply(await f.acts.post('/api/v1/acts/upvote', [13], as(first)), 200, {});
      expectReply(await f.users.del('/api/v1/users/carol', as(first)), 200, {});

      await addUser(f.users, 'carol');
      const second = (await logIn(f.users, 'carol')).session;
      expectError(await f.acts.del('/api/v1/acts/11', as(second)), 403);
      expectError(await f.acts.del('/api/v1/acts/12', as(second)), 403);
      expectError(await f.acts.del('/api/v1/categories/carols', as(second)), 403);
      expectError(await f.acts.del('/api/v1/acts/13/upvote', as(second)), 409);
      const listed = (await f.acts.get('/api/v1/acts?start=1&end=3', as(second))).json as Listed[];
      assert.deepEqual(
        listed.map((a) => [a.actId, a.upvotes, a.upvotedByMe]),
        [
          [12, 0, false],
          [11, 0, false],
          [13, 1, false],
        ],
      );
      // Her own vote is new and counts.
      expectReply(await f.acts.post('/api/v1/acts/upvote', [13], as(second)), 200, {});
      const after = ((await f.acts.get('/api/v1/acts?start=1&end=3', as(second))).json as Listed[]).find(
        (a) => a.actId === 13,
      )!;
      assert.deepEqual([after.upvotes, after.upvotedByMe], [2, true]);
      // What she stores is hers: she removes it; the listing by name shows every carol's acts.
      expectReply(
        await f.acts.post(
          '/api/v1/acts',
          actBody({ actId: 14, username: 'carol', categoryName: 'carols' }),
          as(second),
        ),
        201,
        {},
      );
      expectReply(await f.acts.get('/api/v1/acts/count?username=carol'), 200, [3]);
      expectReply(await f.acts.del('/api/v1/acts/14', as(second)), 200, {});
      // A cookie of the first carol is dead for the second.
      expectError(await f.acts.post('/api/v1/acts/upvote', [12], as(first)), 401);
    });

    test("a third carol is yet another account: the second one's acts are not hers either", async () => {
      await addUser(f.users, 'erin');
      const erin = (await logIn(f.users, 'erin')).session;
      expectReply(await f.acts.post('/api/v1/categories', ['erins'], as(erin)), 201, {});
      await addUser(f.users, 'gen');
      const g1 = (await logIn(f.users, 'gen')).session;
      expectReply(
        await f.acts.post('/api/v1/acts', actBody({ actId: 21, username: 'gen', categoryName: 'erins' }), as(g1)),
        201,
        {},
      );
      expectReply(await f.users.del('/api/v1/users/gen', as(g1)), 200, {});
      await addUser(f.users, 'gen');
      const g2 = (await logIn(f.users, 'gen')).session;
      expectReply(
        await f.acts.post('/api/v1/acts', actBody({ actId: 22, username: 'gen', categoryName: 'erins' }), as(g2)),
        201,
        {},
      );
      expectReply(await f.users.del('/api/v1/users/gen', as(g2)), 200, {});
      await addUser(f.users, 'gen');
      const g3 = (await logIn(f.users, 'gen')).session;
      expectError(await f.acts.del('/api/v1/acts/21', as(g3)), 403);
      expectError(await f.acts.del('/api/v1/acts/22', as(g3)), 403);
    });
  });

  describe("failed log-ins counted per account, from any address; the owner's own browser is exempt", () => {
    const f = freshServices(backend, { apiAccess: 'owner' });
    const wrong = (username: string, cookie?: string) =>
      f.users.post('/api/v1/sessions', { username, password: sha1('guess') }, cookie === undefined ? {} : as(cookie));

    test('10 wrong passwords, then 429 with Retry-After: the password is no longer checked, even a right one', async () => {
      await addUser(f.users, 'eve');
      const { device } = await logIn(f.users, 'eve');
      assert.ok(device, 'a log-in marks the browser as one that knows the account');
      for (let i = 0; i < 10; i++) expectError(await wrong('eve'), 401);
      const refused = await wrong('eve');
      expectError(refused, 429);
      assert.ok(Number(refused.headers['retry-after']) >= 300, `Retry-After ${refused.headers['retry-after']}`);
      assert.match((refused.json as { error: string }).error, /too many failed log-ins for this account/);
      expectError(await f.users.post('/api/v1/sessions', { username: 'eve', password: PASSWORD }), 429);
      // The browser eve logged in from before still gets in, and its mistakes are not held against her.
      expectError(await wrong('eve', device), 401);
      await logIn(f.users, 'eve', device);
    });

    test('a name that is no account is counted the same: a 429 does not tell whether it exists', async () => {
      for (let i = 0; i < 10; i++) expectError(await wrong('nobody-here'), 401);
      expectError(await wrong('nobody-here'), 429);
    });

    test("another account's device cookie exempts nothing; a success clears the count", async () => {
      await addUser(f.users, 'fay');
      await addUser(f.users, 'gus');
      const fays = (await logIn(f.users, 'fay')).device!;
      for (let i = 0; i < 10; i++) expectError(await wrong('gus', fays), 401);
      expectError(await wrong('gus', fays), 429);
      for (let i = 0; i < 9; i++) expectError(await wrong('fay'), 401);
      await logIn(f.users, 'fay', fays);
      for (let i = 0; i < 10; i++) expectError(await wrong('fay'), 401);
    });
  });

  describe('passwords and sessions', () => {
    const lines: Record<string, unknown>[] = [];
    const logger = createLogger({
      level: 'info',
      destination: { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) },
    });
    const f = freshServices(backend, { apiAccess: 'owner', logger });

    test('a hash from before (scrypt) still logs in, and is replaced by argon2id then', async () => {
      await addUser(f.users, 'hal');
      const salt = Buffer.alloc(16, 3);
      const key = scryptSync(PASSWORD, salt, 32, { N: 16384, r: 8, p: 1 });
      await f.store.write('users', 'update users set password_hash = ? where username = ?', [
        ['scrypt', 16384, 8, 1, salt.toString('base64'), key.toString('base64')].join('$'),
        'hal',
      ]);
      await logIn(f.users, 'hal');
      const row = (await f.store.peek('users', 'users')).find((r) => r.username === 'hal')!;
      assert.match(String(row.password_hash), /^\$argon2id\$v=19\$m=12288,t=3,p=1\$/);
      await logIn(f.users, 'hal');
    });

    test('a session unused for more than a day is over; one in use gets a fresh cookie', async () => {
      await addUser(f.users, 'ida');
      const { session } = await logIn(f.users, 'ida');
      const now = Date.now();
      expectError(await f.users.get('/api/v1/sessions/me', as(resign(session, { s: now - 25 * 3600_000 }))), 401);
      const used = await f.users.get('/api/v1/sessions/me', as(resign(session, { s: now - 11 * 60_000 })));
      expectReply(used, 200, { username: 'ida' });
      const fresh = namedCookie(used, 'selflessacts_session');
      assert.ok(fresh, 'a session seen again after 10 minutes gets a new cookie');
      const seen = (
        JSON.parse(
          decodeURIComponent(fresh.slice(fresh.indexOf('=') + 1))
            .slice(2)
            .replace(/\.[^.]*$/, ''),
        ) as { s: number }
      ).s;
      assert.ok(Math.abs(seen - Date.now()) < 10_000);
      assert.equal(
        namedCookie(await f.users.get('/api/v1/sessions/me', as(session)), 'selflessacts_session'),
        undefined,
        'not on every request',
      );
      // The acts service refreshes it too, on a write.
      const write = await f.acts.post('/api/v1/categories', ['idas'], as(resign(session, { s: now - 11 * 60_000 })));
      expectReply(write, 201, {});
      assert.ok(namedCookie(write, 'selflessacts_session'));
    });

    test("deleting one's account takes a log-in within the last 10 minutes", async () => {
      await addUser(f.users, 'jo');
      const { session } = await logIn(f.users, 'jo');
      const stale = resign(session, { i: Date.now() - 11 * 60_000 });
      const refused = await f.users.del('/api/v1/users/jo', as(stale));
      expectError(refused, 401);
      assert.match((refused.json as { error: string }).error, /log in again/);
      expectReply(await f.users.get('/api/v1/users/jo/exists'), 200, {});
      const again = (await logIn(f.users, 'jo')).session;
      expectReply(await f.users.del('/api/v1/users/jo', as(again)), 200, {});
    });

    test('security events reach the log with the client address, never a password or a cookie', async () => {
      lines.length = 0;
      await addUser(f.users, 'kim');
      expectError(await f.users.post('/api/v1/sessions', { username: 'kim', password: sha1('nope') }), 401);
      const { session } = await logIn(f.users, 'kim');
      expectError(await f.users.del('/api/v1/users/ida', as(session)), 403);
      const events = lines.filter((l) => l.msg === 'security');
      assert.deepEqual(
        events.map((e) => [e.event, e.username ?? null]),
        [
          ['login.failed', 'kim'],
          ['login.ok', 'kim'],
          ['forbidden', null],
        ],
      );
      for (const e of events) assert.match(String(e.client), /^(::ffff:)?127\.0\.0\.1$/);
      const text = JSON.stringify(lines);
      assert.ok(!text.includes(PASSWORD) && !text.includes(sha1('nope')) && !text.includes('selflessacts_session'));
    });
  });
}
