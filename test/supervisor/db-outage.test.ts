// A database outage through the real supervisor (docs/operations.md, "_health answers 500, API
// requests 503 ... The replicas recover by themselves once the database is back"): the shipped
// config's real users and acts services (process runtime) on MariaDB behind a TCP proxy the test
// cuts and restores. During: every API request through the balancer is a 503 with a JSON error
// and the heartbeat fails the replicas; after: new replicas become ready by themselves, the data
// is intact and writes work. Ports 30400-30499.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { before, describe, test } from 'node:test';
import { createMysqlDatabase } from '../app/support/backends.ts';
import { tcpProxy, type TcpProxy } from '../app/support/tcp-proxy.ts';
import { mysqlAvailable, mysqlTestUrl, skipUnless } from '../helpers/requirements.ts';
import { shippedConfigFile } from '../../testkit/shipped-config.ts';
import { eventually, http, supervisorSuite } from '../../testkit/supervisor.ts';

const SUITE = 'db-outage';
const LISTEN = 30400;
const ADMIN = 30401;
const USERS = 30410;
const ACTS = 30420;
const base = `http://127.0.0.1:${LISTEN}`;
const json = { 'content-type': 'application/json' };
const password = createHash('sha1').update('outage password').digest('hex');
const skip = skipUnless(await mysqlAvailable(), 'MariaDB');

describe('database outage through the supervisor (real app, MariaDB behind a proxy)', { skip, timeout: 240_000 }, () => {
  const env: Record<string, string> = {};
  let database: Awaited<ReturnType<typeof createMysqlDatabase>> | undefined;
  let proxy: TcpProxy | undefined;
  let cookie = '';

  // Before the suite's own before(): the supervisor starts with DATABASE_URL through the proxy.
  before(async () => {
    database = await createMysqlDatabase();
    const target = new URL(mysqlTestUrl);
    proxy = await tcpProxy(target.hostname, Number(target.port || 3306));
    const viaProxy = new URL(database.url);
    viaProxy.host = `127.0.0.1:${proxy.port}`;
    env.DATABASE_URL = viaProxy.toString();
  });
  const { admin } = supervisorSuite({
    suite: SUITE,
    adminPort: ADMIN,
    env,
    config: (dir) => shippedConfigFile(undefined, { suite: SUITE, dir, listenPort: LISTEN, adminPort: ADMIN, actsPort: ACTS, usersPort: USERS }),
    ready: { users: 1, acts: 1 },
    readyTimeoutMs: 120_000,
    cleanup: async () => {
      await proxy?.stop();
      await database?.drop();
    },
  });

  test('before: data written through the balancer', async () => {
    assert.equal((await http('POST', `${base}/api/v1/users`, { headers: json, body: JSON.stringify({ username: 'rita', password }) })).status, 201);
    const login = await http('POST', `${base}/api/v1/sessions`, { headers: json, body: JSON.stringify({ username: 'rita', password }) });
    assert.equal(login.status, 200, login.text);
    cookie = String(login.headers['set-cookie']).split(';')[0]!;
    assert.equal((await http('POST', `${base}/api/v1/categories`, { headers: { ...json, cookie }, body: '["outage"]' })).status, 201);
  });

  test('during: 503 with a JSON error through the balancer, and the heartbeat fails the replicas', async () => {
    const before = await admin.status();
    const ids = [before.services.users!.replicas[0]!.id, before.services.acts!.replicas[0]!.id];
    await proxy!.stop();
    for (const path of ['/api/v1/categories', '/api/v1/users']) {
      const reply = await http('GET', `${base}${path}`);
      assert.equal(reply.status, 503, `${path}: ${reply.text}`);
      assert.ok((JSON.parse(reply.text) as { error?: string }).error, reply.text);
    }
    const failed = await eventually(async () => {
      const events = (await admin.events()).filter((e) => e.type === 'replica.failed' && ids.includes(e.id ?? ''));
      return events.length === 2 ? events : undefined;
    }, 'both replicas failed by the heartbeat', 30_000);
    for (const event of failed) assert.match(event.reason, /HTTP 500/);
    // Their replacements cannot start without the database either: a failure count grows and
    // the restarts back off, which recovery must get through on its own.
    await eventually(async () => {
      const acts = (await admin.events()).filter((e) => e.type === 'replica.failed' && e.port === ACTS);
      return acts.length >= 2 ? true : undefined;
    }, 'a replacement that failed too', 30_000);
    // Out of rotation, the balancer still answers with a clear 503, never a 500 or a hang.
    for (const path of ['/api/v1/categories', '/api/v1/users']) {
      const reply = await http('GET', `${base}${path}`);
      assert.equal(reply.status, 503, `${path}: ${reply.text}`);
      assert.ok((JSON.parse(reply.text) as { error?: string }).error, reply.text);
    }
  });

  test('after: the replicas recover by themselves, data intact, writes work', async (t) => {
    const back = Date.now();
    await proxy!.start();
    await admin.waitFor((s) => ['users', 'acts'].every((name) => s.services[name]!.replicas.some((r) => r.state === 'ready')), 'a ready replica of each service', 90_000);
    t.diagnostic(`database back → both services ready in ${Date.now() - back} ms`);
    await eventually(async () => ((await http('GET', `${base}/api/v1/categories`)).status === 200 ? true : undefined), 'acts answering through the balancer', 10_000);
    assert.deepEqual(JSON.parse((await http('GET', `${base}/api/v1/categories`)).text), { outage: 0 });
    assert.deepEqual(JSON.parse((await http('GET', `${base}/api/v1/users`)).text), ['rita']);
    const again = await http('POST', `${base}/api/v1/categories`, { headers: { ...json, cookie }, body: '["after"]' });
    assert.equal(again.status, 201, again.text);
  });
});
