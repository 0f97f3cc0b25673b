// The docker runtime with DATABASE_URL on the host's loopback (mysql://...@127.0.0.1:3306/...,
// what the process runtime needs too): the supervisor hands it to the containers as
// host.docker.internal, and the real acts and users containers store in the host's MariaDB.
// Proven by reading the rows straight from MariaDB, and the act back through each acts replica.
// Ports 28000-28099.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, test } from 'node:test';
import { createConnection } from 'mysql2/promise';
import { DockerEngine } from '../../engine-client/index.ts';
import { ensureImages } from '../../scripts/images.ts';
import { createMysqlDatabase } from '../app/support/backends.ts';
import { dockerAvailable, mysqlAvailable, skipUnless } from '../helpers/requirements.ts';
import {
  TEST_ADMIN_TOKEN,
  containersByPort,
  http,
  repoRoot,
  suiteRuntimes,
  supervisorSuite,
} from '../../testkit/supervisor.ts';

const SUITE = 'docker-mysql';
const LISTEN = 28000;
const ADMIN = 28001;
const USERS = 28010;
const ACTS = 28020;
const base = `http://127.0.0.1:${LISTEN}`;
const skip = skipUnless(await dockerAvailable(), 'Docker Engine') || skipUnless(await mysqlAvailable(), 'MariaDB');

// A 1x1 PNG: valid base64 of a real image.
const PNG_B64 = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==';

const json = (value: unknown) => ({ body: JSON.stringify(value), headers: { 'content-type': 'application/json' } });

describe('docker runtime, DATABASE_URL on 127.0.0.1: the containers use the host MariaDB', {
  skip,
  timeout: 240_000,
}, () => {
  const engine = new DockerEngine();
  let database: Awaited<ReturnType<typeof createMysqlDatabase>> | undefined;
  const suite = supervisorSuite({
    suite: SUITE,
    adminPort: ADMIN,
    engine,
    config: async (dir) => {
      await ensureImages({ engine });
      database = await createMysqlDatabase();
      assert.match(new URL(database.url).hostname, /^(127\.0\.0\.1|localhost)$/, 'the test is about a loopback URL');
      const shipped = JSON.parse(await readFile(path.join(repoRoot, 'config/orchestrator.json'), 'utf8')) as {
        services: Record<string, Record<string, unknown>>;
        runtimes: Record<string, object>;
        env: Record<string, string>;
      };
      const file = path.join(dir, 'orchestrator.json');
      await writeFile(
        file,
        JSON.stringify({
          ...shipped,
          instance: 'test-docker-mysql',
          runtime: 'docker',
          listen: { host: '127.0.0.1', port: LISTEN },
          admin: { host: '127.0.0.1', port: ADMIN, token: TEST_ADMIN_TOKEN },
          dataDir: path.join(dir, 'data'),
          staticDir: path.join(repoRoot, 'public'),
          // The shipped docker settings (hostLoopbackEnv among them), on the suite's own network.
          runtimes: suiteRuntimes(SUITE, shipped.runtimes),
          // Open access: the course's anonymous writes (the contract's mode).
          env: { ...shipped.env, DATABASE_URL: database.url, API_ACCESS: 'open' },
          services: {
            users: { ...shipped.services.users, startPort: USERS },
            acts: {
              ...shipped.services.acts,
              startPort: ACTS,
              autoscale: false,
              replicas: { initial: 2, min: 2, max: 2 },
            },
          },
        }),
      );
      return file;
    },
    ready: { users: 1, acts: 2 },
    readyTimeoutMs: 180_000,
    stopGraceMs: 30_000,
    cleanup: async () => {
      await database?.drop();
    },
  });

  test('the containers get DATABASE_URL on host.docker.internal; the log says so once, password masked', async () => {
    const name = database!.name;
    const expected = new URL(database!.url);
    expected.hostname = 'host.docker.internal';
    const containers = [...(await containersByPort(engine, SUITE)).values()].flat();
    assert.equal(containers.length, 3);
    for (const c of containers) {
      const info = await engine.containers.inspect(c.id);
      assert.equal(info.env.DATABASE_URL, expected.href, info.name);
    }
    const lines = suite.sup.lines.filter((l) => l.msg === 'env URLs on the host loopback rewritten for containers');
    assert.equal(lines.length, 1, 'logged once for three replicas');
    assert.deepEqual(lines[0]!.rewritten, {
      DATABASE_URL: `mysql://${expected.username}:***@host.docker.internal:${expected.port}/${name}`,
    });
    assert.ok(!suite.sup.dump().includes(`:${expected.password}@`), 'the password is never logged');
  });

  test('sign up, category, act through the balancer: the rows are in MariaDB, each acts replica reads the act', async () => {
    const username = `u-${randomBytes(4).toString('hex')}`;
    const category = `c-${randomBytes(4).toString('hex')}`;
    const actId = 1_000_000 + Math.floor(Math.random() * 1_000_000);
    const password = randomBytes(20).toString('hex');
    const act = {
      actId,
      username,
      timestamp: '28-11-2026:05-04-13',
      caption: 'in MariaDB, from a container',
      categoryName: category,
      imgB64: PNG_B64,
    };

    const signUp = await http('POST', `${base}/api/v1/users`, json({ username, password }));
    assert.equal(signUp.status, 201, signUp.text);
    const made = await http('POST', `${base}/api/v1/categories`, json([category]));
    assert.equal(made.status, 201, made.text);
    const posted = await http('POST', `${base}/api/v1/acts`, json(act));
    assert.equal(posted.status, 201, posted.text);
    assert.equal(posted.text, '{}');

    // Straight from MariaDB: the containers wrote there.
    const conn = await createConnection(database!.url);
    try {
      const [users] = await conn.query('select username from users');
      assert.deepEqual(
        (users as { username: string }[]).map((u) => u.username),
        [username],
      );
      const [acts] = await conn.query('select act_id, username, caption, upvotes from acts');
      assert.deepEqual(
        (acts as Record<string, unknown>[]).map((a) => ({
          ...a,
          act_id: String(a.act_id),
          upvotes: Number(a.upvotes),
        })),
        [{ act_id: String(actId), username, caption: act.caption, upvotes: 0 }],
      );
    } finally {
      await conn.end();
    }

    // Each acts replica, asked directly, serves it from the shared database.
    for (const port of [ACTS, ACTS + 1]) {
      const listed = await http('GET', `http://127.0.0.1:${port}/api/v1/categories/${category}/acts`);
      assert.equal(listed.status, 200, `${port}: ${listed.text}`);
      assert.deepEqual(JSON.parse(listed.text), [{ ...act, upvotes: 0 }], String(port));
    }
    // Nothing went to SQLite under the bind-mounted data directory.
    for (const service of ['users', 'acts']) {
      const file = path.join(suite.dir, 'data', 'replicas', service, `${service}.sqlite`);
      assert.ok(existsSync(path.dirname(file)), `${service} has its data directory`);
      assert.ok(!existsSync(file), `${file} exists: a replica used SQLite`);
    }
  });
});
