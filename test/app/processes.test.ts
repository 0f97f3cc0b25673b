// app/main.ts as real processes: three replicas starting at the same moment on one SQLite
// file and on one MariaDB database (migrations must not trip over each other), clean exit on
// SIGTERM, and exit 1 with a clear message for a bad environment.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { actsMigrations } from '../../app/db/migrations/acts.ts';
import { usersMigrations } from '../../app/db/migrations/users.ts';
import { mysqlAvailable, skipUnless } from '../helpers/requirements.ts';
import { mariadbBackend, sqliteBackend } from './support/backends.ts';
import { spawnApp, type AppProcess } from './support/app-process.ts';
import { api } from './support/client.ts';
import { expectReply } from './support/fixture.ts';

const SECRET = 'processes-test-secret-0123456789abcdef';
const mysqlSkip = skipUnless(await mysqlAvailable(), 'MariaDB');

async function threeAtOnce(
  t: { after: (fn: () => Promise<void>) => void },
  env: Record<string, string>,
  peek: (service: 'users' | 'acts', table: string) => Promise<Record<string, unknown>[]>,
) {
  const replicas: AppProcess[] = [0, 1, 2].map(() =>
    spawnApp({ SERVICE: 'all', PORT: '0', HOST: '127.0.0.1', SESSION_SECRET: SECRET, API_ACCESS: 'open', ...env }),
  );
  t.after(async () => {
    await Promise.all(replicas.map((r) => r.stop()));
  });
  const urls = await Promise.all(replicas.map((r) => r.started));
  const clients = urls.map(api);
  for (const client of clients) expectReply(await client.get('/api/v1/_health'), 200);

  // One store: what one replica writes, the others read.
  expectReply(await clients[0]!.post('/api/v1/categories', ['shared']), 201, {});
  expectReply(await clients[1]!.post('/api/v1/categories', ['shared']), 400);
  expectReply(await clients[2]!.get('/api/v1/categories'), 200, { shared: 0 });

  // Each migration ran exactly once.
  assert.equal((await peek('users', 'users_migrations')).length, Object.keys(usersMigrations('sqlite')).length);
  assert.equal((await peek('acts', 'acts_migrations')).length, Object.keys(actsMigrations('sqlite')).length);

  // SIGTERM: a clean stop, exit 0, and a "stopped" line.
  for (const replica of replicas) {
    assert.deepEqual(await replica.stop(), { code: 0, signal: null });
    assert.ok(replica.logs.some((line) => line.msg === 'stopped'));
  }
}

describe('three replicas started at the same moment', () => {
  test('on one SQLite file', async (t) => {
    const store = await sqliteBackend().fresh();
    t.after(() => store.dispose());
    await threeAtOnce(t, { DATA_DIR: store.storage.dataDir }, store.peek);
  });

  test('on one MariaDB database', { skip: mysqlSkip }, async (t) => {
    const store = await (await mariadbBackend()).fresh();
    t.after(() => store.dispose());
    await threeAtOnce(t, { DATABASE_URL: store.storage.databaseUrl as string }, store.peek);
  });
});

describe('start-up failures: exit 1 with one clear JSON line', () => {
  test('an invalid SERVICE names the variable, the value and what is expected', async () => {
    const app = spawnApp({ SERVICE: 'everything', PORT: '0' });
    assert.deepEqual(await app.exited, { code: 1, signal: null });
    const line = app.logs.find((entry) => entry.msg === 'config_invalid');
    assert.ok(line, JSON.stringify(app.logs));
    assert.equal(line.variable, 'SERVICE');
    assert.equal(line.value, 'everything');
    assert.match(String(line.expected), /users, acts, all/);
  });

  test('an invalid API_ACCESS names the variable and the two modes', async () => {
    const app = spawnApp({ SERVICE: 'all', PORT: '0', API_ACCESS: 'public' });
    assert.deepEqual(await app.exited, { code: 1, signal: null });
    const line = app.logs.find((entry) => entry.msg === 'config_invalid');
    assert.ok(line, JSON.stringify(app.logs));
    assert.equal(line.variable, 'API_ACCESS');
    assert.equal(line.value, 'public');
    assert.equal(line.expected, 'one of open, owner');
  });

  test('an unreachable database: exit 1 with start_failed', async () => {
    // Port 9 (discard) on loopback: nothing listens there.
    const app = spawnApp({ SERVICE: 'users', PORT: '0', DATABASE_URL: 'mysql://u:p@127.0.0.1:9/selfless_none' });
    assert.deepEqual(await app.exited, { code: 1, signal: null });
    const line = app.logs.find((entry) => entry.msg === 'start_failed');
    assert.ok(line, JSON.stringify(app.logs));
    assert.doesNotMatch(JSON.stringify(app.logs), /u:p@/, 'no password in the logs');
  });
});
