// The acts service's lookups against several users replicas (USERS_URL as the orchestrator gives
// it: every port of the users service's range): real users services on loopback, one stopped,
// crashed or not started yet, and the lookups still answer; with none, they wait a bounded time
// and then say "cannot tell" (the request gets a 503).
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { usersClient } from '../../app/acts/users-client.ts';
import { freePort } from '../../testkit/ports.ts';
import type { RunningApp } from '../../app/server.ts';
import { sqliteBackend, type FreshStorage } from './support/backends.ts';
import { api } from './support/client.ts';
import { startUsers } from './support/services.ts';

describe('acts → users over every users replica', () => {
  let store: FreshStorage;
  const apps: RunningApp[] = [];
  const origin = () => 'http://acts.test';
  const password = createHash('sha1').update('failover').digest('hex');

  before(async () => {
    store = await sqliteBackend().fresh();
    for (let i = 0; i < 2; i++) apps.push(await startUsers(store.storage));
    assert.equal((await api(apps[0]!.url).post('/api/v1/users', { username: 'ines', password })).status, 201);
  });
  after(async () => {
    for (const app of apps) await app.close();
    await store.dispose();
  });

  test('a replica that is not running is passed over: every lookup answers, at once', async () => {
    const down = `http://127.0.0.1:${await freePort()}`;
    const client = usersClient(() => `${down},${apps[0]!.url}`, origin, { waitMs: 2000 });
    try {
      const started = performance.now();
      for (let i = 0; i < 6; i++) assert.deepEqual(await client.check('ines'), { generation: 0 });
      assert.equal(await client.check('nobody'), 'unknown');
      assert.ok(performance.now() - started < 1500, `${Math.round(performance.now() - started)} ms for 7 lookups`);
    } finally {
      await client.close();
    }
  });

  test('a replica that answers 5xx (crashed) is passed over for one that answers', async () => {
    const crashed = await startUsers(store.storage);
    apps.push(crashed);
    assert.equal((await api(crashed.url).post('/api/v1/_crash')).status, 200);
    const client = usersClient(() => `${crashed.url},${apps[1]!.url}`, origin, { waitMs: 2000 });
    try {
      for (let i = 0; i < 4; i++) assert.deepEqual(await client.check('ines'), { generation: 0 });
    } finally {
      await client.close();
    }
  });

  test('the only replica down for a moment (replaced on its port): the lookup waits for it, then answers', async () => {
    const port = await freePort();
    const client = usersClient(() => `http://127.0.0.1:${port}`, origin, { waitMs: 5000 });
    try {
      const asked = client.check('ines');
      await new Promise((resolve) => setTimeout(resolve, 700));
      apps.push(await startUsers(store.storage, { port }));
      assert.deepEqual(await asked, { generation: 0 });
    } finally {
      await client.close();
    }
  });

  test('no replica answers: "unavailable" once the wait is over, not before', async () => {
    const port = await freePort();
    const client = usersClient(() => `http://127.0.0.1:${port}`, origin, { waitMs: 600 });
    try {
      const started = performance.now();
      assert.equal(await client.check('ines'), 'unavailable');
      const took = performance.now() - started;
      assert.ok(took >= 550 && took < 2000, `gave up after ${Math.round(took)} ms`);
    } finally {
      await client.close();
    }
  });
});
