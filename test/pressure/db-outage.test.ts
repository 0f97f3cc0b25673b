// Pressure row (c): MariaDB unreachable for 20 s under the real supervisor: the shipped config's
// users and acts services (process runtime) on MariaDB behind a TCP proxy the test cuts and
// restores. During: every API request through the balancer is a 503 with Retry-After and a JSON
// error (the replicas, out of rotation but alive, answer it: the balancer's panic mode), and no
// replica is killed: _health fails, _live does not. After: serving again within 2 s, the same
// replicas, the data intact, writes work. Before liveness was apart from readiness, every
// replica of both services was killed and their replacements crash-looped. Ports 30400-30499.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { mysqlBehindProxy } from '../app/support/backends.ts';
import type { TcpProxy } from '../app/support/tcp-proxy.ts';
import { mysqlAvailable, skipUnless } from '../helpers/requirements.ts';
import { shippedConfigFile } from '../../testkit/shipped-config.ts';
import { eventually, http, supervisorSuite } from '../../testkit/supervisor.ts';
import { eventsOf, lastSeq, recordRow } from './support.ts';

const SUITE = 'db-outage';
const OUTAGE_MS = 20_000;
const LISTEN = 30400;
const ADMIN = 30401;
const USERS = 30410;
const ACTS = 30420;
const base = `http://127.0.0.1:${LISTEN}`;
const json = { 'content-type': 'application/json' };
const password = createHash('sha1').update('outage password').digest('hex');
const skip = skipUnless(await mysqlAvailable(), 'MariaDB');

describe('database outage through the supervisor (real app, MariaDB behind a proxy)', {
  skip,
  timeout: 240_000,
}, () => {
  const env: Record<string, string> = {};
  let database: Awaited<ReturnType<typeof mysqlBehindProxy>> | undefined;
  let proxy: TcpProxy | undefined;
  let cookie = '';

  // Before the suite's own before(): the supervisor starts with DATABASE_URL through the proxy.
  before(async () => {
    database = await mysqlBehindProxy();
    proxy = database.proxy;
    env.DATABASE_URL = database.url;
  });
  const { admin } = supervisorSuite({
    suite: SUITE,
    adminPort: ADMIN,
    env,
    config: (dir) =>
      shippedConfigFile(undefined, {
        suite: SUITE,
        dir,
        listenPort: LISTEN,
        adminPort: ADMIN,
        actsPort: ACTS,
        usersPort: USERS,
      }),
    ready: { users: 1, acts: 1 },
    readyTimeoutMs: 120_000,
    cleanup: async () => {
      await database?.dispose();
    },
  });

  test('before: data written through the balancer', async () => {
    assert.equal(
      (
        await http('POST', `${base}/api/v1/users`, {
          headers: json,
          body: JSON.stringify({ username: 'rita', password }),
        })
      ).status,
      201,
    );
    const login = await http('POST', `${base}/api/v1/sessions`, {
      headers: json,
      body: JSON.stringify({ username: 'rita', password }),
    });
    assert.equal(login.status, 200, login.text);
    cookie = String(login.headers['set-cookie']).split(';')[0]!;
    assert.equal(
      (await http('POST', `${base}/api/v1/categories`, { headers: { ...json, cookie }, body: '["outage"]' })).status,
      201,
    );
  });

  /** What the outage did, recorded with the recovery once it is over. */
  const during = { requests: 0, answered503WithRetryAfter: 0, fromReplicas: 0, replicasKilled: 0, replicasStarted: 0 };

  test('during 20 s: every request answered 503 with Retry-After, no replica killed, none started', async (t) => {
    const before = await admin.status();
    const ids = ['users', 'acts'].flatMap((name) => before.services[name]!.replicas.map((r) => r.id));
    const seq = await lastSeq(admin);
    await proxy!.stop();
    const answers = new Map<string, number>();
    const until = Date.now() + OUTAGE_MS;
    while (Date.now() < until) {
      for (const path of ['/api/v1/categories', '/api/v1/users']) {
        const reply = await http('GET', `${base}${path}`);
        // From the replica itself (the balancer in panic mode), not the balancer's "no ready replica".
        const error = (JSON.parse(reply.text) as { error?: string }).error ?? '';
        const key = `${reply.status} retry-after=${String(reply.headers['retry-after'] ?? '-')} ${/database unavailable/.test(error) ? 'the replica: database unavailable' : error}`;
        answers.set(key, (answers.get(key) ?? 0) + 1);
      }
      await sleep(100);
    }
    t.diagnostic(`answers during the outage: ${JSON.stringify(Object.fromEntries(answers))}`);
    const died = await eventsOf(admin, ['replica.failed', 'replica.started', 'replica.replaced'], seq);
    Object.assign(during, {
      requests: [...answers.values()].reduce((a, n) => a + n, 0),
      answered503WithRetryAfter: [...answers]
        .filter(([k]) => k.startsWith('503 retry-after=1'))
        .reduce((a, [, n]) => a + n, 0),
      fromReplicas: answers.get('503 retry-after=1 the replica: database unavailable') ?? 0,
      replicasKilled: died.filter((e) => e.type === 'replica.failed').length,
      replicasStarted: died.filter((e) => e.type !== 'replica.failed').length,
    });
    assert.deepEqual(
      [...answers.keys()],
      ['503 retry-after=1 the replica: database unavailable'],
      'every answer a 503 with Retry-After, from a replica',
    );
    const status = await admin.status();
    t.diagnostic(
      (await admin.events(seq)).map((e) => `${e.time} ${e.type} ${e.service}:${e.port} ${e.reason}`).join('\n'),
    );
    assert.deepEqual(
      ['users', 'acts'].flatMap((name) => status.services[name]!.replicas.map((r) => r.id)),
      ids,
      'the same replicas, none replaced',
    );
    for (const name of ['users', 'acts']) {
      const r = status.services[name]!.replicas[0]!;
      assert.equal(r.state, 'ready', `${name}: alive`);
      assert.equal(r.inRotation, false, `${name}: out of rotation while its database is away`);
      assert.equal(r.out?.cause, 'unready', `${name}: it said it cannot serve`);
    }
    assert.deepEqual(
      died.map((e) => `${e.type} ${e.service}:${e.port} ${e.reason}`),
      [],
      'no replica killed or started',
    );
    assert.equal((await eventsOf(admin, ['replica.unready'], seq)).length, 2, 'each taken out of rotation, once');
  });

  test("after: serving again within 2 s of the database's return, the same replicas, data intact, writes work", async (t) => {
    const back = Date.now();
    await proxy!.start();
    await eventually(
      async () => {
        const codes = await Promise.all(
          ['/api/v1/categories', '/api/v1/users'].map(async (path) => (await http('GET', `${base}${path}`)).status),
        );
        return codes.every((c) => c === 200) ? true : undefined;
      },
      'both services answering through the balancer',
      90_000,
      50,
    );
    const servingMs = Date.now() - back;
    await admin.waitFor(
      (s) =>
        ['users', 'acts'].every(
          (name) =>
            s.services[name]!.replicas.length > 0 &&
            s.services[name]!.replicas.every((r) => r.state === 'ready' && r.inRotation !== false),
        ),
      'both back in rotation',
      90_000,
    );
    const rotationMs = Date.now() - back;
    t.diagnostic(`database back → both services serving in ${servingMs} ms, back in rotation in ${rotationMs} ms`);
    await recordRow('database', {
      outageS: OUTAGE_MS / 1000,
      ...during,
      servingAgainMs: servingMs,
      backInRotationMs: rotationMs,
    });
    assert.ok(servingMs <= 2000, `serving again ${servingMs} ms after the database came back`);
    assert.deepEqual(JSON.parse((await http('GET', `${base}/api/v1/categories`)).text), { outage: 0 });
    assert.deepEqual(JSON.parse((await http('GET', `${base}/api/v1/users`)).text), ['rita']);
    const again = await http('POST', `${base}/api/v1/categories`, { headers: { ...json, cookie }, body: '["after"]' });
    assert.equal(again.status, 201, again.text);
    assert.equal((await eventsOf(admin, ['replica.failed'])).length, 0, 'no replica failed, start to end');
  });
});
