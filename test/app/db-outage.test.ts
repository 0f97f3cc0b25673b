// The database goes away and comes back (MariaDB behind a TCP proxy the test controls):
// _health answers 500 and requests 503 {"error"} meanwhile, and both services recover by
// themselves, with their data, once it returns.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { eventually } from '../../testkit/eventually.ts';
import { mysqlAvailable, skipUnless } from '../helpers/requirements.ts';
import { mysqlBehindProxy } from './support/backends.ts';
import type { Api } from './support/client.ts';
import { actBody, addAct, addCategory, addUser, PASSWORD } from './support/data.ts';
import { expectError, expectReply } from './support/fixture.ts';
import { startPair, type Pair } from './support/services.ts';

const skip = skipUnless(await mysqlAvailable(), 'MariaDB');

function untilHealthy(api: Api): Promise<true> {
  return eventually(
    async () => (await api.get('/api/v1/_health')).status === 200 || undefined,
    `${api.url} healthy`,
    15_000,
  );
}

describe('database outage on MariaDB', { skip }, () => {
  let database: Awaited<ReturnType<typeof mysqlBehindProxy>>;
  let proxy: Awaited<ReturnType<typeof mysqlBehindProxy>>['proxy'];
  let pair: Pair;

  before(async () => {
    database = await mysqlBehindProxy();
    proxy = database.proxy;
    pair = await startPair({ dataDir: '/nonexistent', databaseUrl: database.url });
  });
  after(async () => {
    await pair?.close();
    await database?.dispose();
  });

  test('before: both services healthy, data written', async () => {
    await addUser(pair.users, 'rita');
    await addCategory(pair.acts, 'outage');
    await addAct(pair.acts, actBody({ actId: 1, username: 'rita', categoryName: 'outage' }));
    expectReply(await pair.users.get('/api/v1/_health'), 200);
    expectReply(await pair.acts.get('/api/v1/_health'), 200);
  });

  test('during: _health → 500 and every storage request → 503 {"error"}, on both services', async () => {
    await proxy.stop();
    expectError(await pair.users.get('/api/v1/_health'), 500);
    expectError(await pair.acts.get('/api/v1/_health'), 500);
    const requests: [Api, 'GET' | 'POST' | 'DELETE', string, unknown][] = [
      [pair.users, 'GET', '/api/v1/users', undefined],
      [pair.users, 'POST', '/api/v1/users', { username: 'sam', password: PASSWORD }],
      [pair.users, 'POST', '/api/v1/sessions', { username: 'rita', password: PASSWORD }],
      [pair.acts, 'GET', '/api/v1/categories', undefined],
      [pair.acts, 'GET', '/api/v1/acts/count', undefined],
      [pair.acts, 'POST', '/api/v1/acts/upvote', [1]],
      [pair.acts, 'POST', '/api/v1/acts', actBody({ actId: 2, username: 'rita', categoryName: 'outage' })],
      [pair.acts, 'GET', '/api/v1/acts/1/image', undefined],
    ];
    for (const [api, method, path, json] of requests) {
      const reply = await api.call(method, path, json === undefined ? {} : { json });
      expectError(reply, 503);
      assert.match((reply.json as { error: string }).error, /database/);
      assert.equal(reply.headers['retry-after'], '1', `${method} ${path}: a 503 says when to try again`);
    }
    // Alive, though it cannot serve: the orchestrator keeps it (out of rotation) rather than replace it.
    for (const api of [pair.users, pair.acts]) expectReply(await api.get('/api/v1/_live'), 200);
    // Bad input is still a 400 without the database: validation comes first.
    expectError(await pair.acts.post('/api/v1/acts/upvote', '["1"]'), 400);
    // Per-replica routes that need no storage still answer.
    expectReply(await pair.acts.get('/api/v1/_count'), 200);
  });

  test('after: both recover by themselves, data intact, writes work again', async () => {
    await proxy.start();
    await untilHealthy(pair.users);
    await untilHealthy(pair.acts);
    expectReply(await pair.users.get('/api/v1/users'), 200, ['rita']);
    expectReply(await pair.acts.get('/api/v1/categories'), 200, { outage: 1 });
    await addAct(pair.acts, actBody({ actId: 2, username: 'rita', categoryName: 'outage' }));
    expectReply(await pair.acts.get('/api/v1/acts/count'), 200, [2]);
  });
});
