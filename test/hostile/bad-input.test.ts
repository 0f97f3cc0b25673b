// Issue 11, item 5: over 500 malformed, oversized, mistyped and hostile requests on every route
// of both services, run as real processes, in both access modes (on SQLite; on MariaDB too),
// eight at a time, while valid writes go on and a worker thread checks both services' health
// every 20 ms. Afterwards: no answer was a 5xx, every hostile write was refused, neither
// process crashed (both stop cleanly), no health check failed or took a second, hardly any
// took 200 ms (issue 11's bound; a loaded machine stalls a process now and then), and the data is
// exactly what the accepted requests wrote (API, tables, the database's own integrity check).
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { createConnection } from 'mysql2/promise';
import type { ApiAccess } from '../../app/config.ts';
import { mariadbBackend, sqliteBackend, type Backend, type FreshStorage } from '../app/support/backends.ts';
import { actBody } from '../app/support/data.ts';
import { PNG, pngWithoutText } from '../app/support/images.ts';
import { multipart } from '../app/support/multipart.ts';
import { hostileCases, ownerCases, type HostileCase } from './cases.ts';
import { healthWatch, rawExchange, send, startServices, type HealthReport, type Services } from './harness.ts';
import { Model } from './model.ts';

const MIN_CASES = 500;
const LANES = 8;
const HEALTH_BOUND_MS = 200;
/**
 * Checks allowed at HEALTH_BOUND_MS or over: 1 % (at least 2). A scheduler's stall on two
 * loaded cores costs one or two checks of ~200 ms; an event loop blocked by a hostile body
 * cost a quarter of them, each seconds long, before issue 11 (docs/figures.md, bench:bodies).
 */
const SLOW_CHECKS_ALLOWED = (checks: number) => Math.max(2, Math.floor(checks / 100));
/** No check may take this long: the shipped heartbeat (800 ms timeout) would count a failure. */
const HEALTH_CEILING_MS = 800;
const sha1 = (text: string) => createHash('sha1').update(text).digest('hex');
/** eve's password is the SHA1 the cases use: correct credentials, refused for other reasons. */
const PASSWORDS: Record<string, string> = { ann: sha1('ann'), bob: sha1('bob'), cy: sha1('cy'), eve: 'a'.repeat(40) };

/** Socket-level abuse: cut bodies, contradictory framing, dribbled headers. */
function socketCases(): {
  name: string;
  service: 'users' | 'acts';
  chunks: string[];
  abort: boolean;
  gapMs?: number;
}[] {
  const post = (path: string, headers: string) => `POST ${path} HTTP/1.1\r\nHost: h\r\n${headers}\r\n`;
  const cases: { name: string; service: 'users' | 'acts'; chunks: string[]; abort: boolean; gapMs?: number }[] = [];
  const routes: ['users' | 'acts', string][] = [
    ['users', '/api/v1/users'],
    ['users', '/api/v1/sessions'],
    ['acts', '/api/v1/categories'],
    ['acts', '/api/v1/acts/upvote'],
    ['acts', '/api/v1/acts'],
  ];
  for (const [service, path] of routes) {
    cases.push({
      name: `${path}: half a body, then gone`,
      service,
      chunks: [post(path, 'Content-Type: application/json\r\nContent-Length: 100000\r\n'), '{"username":'],
      abort: true,
    });
    cases.push({
      name: `${path}: headers, then gone`,
      service,
      chunks: [post(path, 'Content-Type: application/json\r\nContent-Length: 10\r\n')],
      abort: true,
    });
    cases.push({
      name: `${path}: chunked, cut mid-chunk`,
      service,
      chunks: [post(path, 'Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n'), '1000\r\n["abc'],
      abort: true,
    });
    cases.push({
      name: `${path}: Content-Length and chunked at once`,
      service,
      chunks: [
        post(path, 'Content-Type: application/json\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n'),
        '0\r\n\r\n',
      ],
      abort: false,
    });
    cases.push({
      name: `${path}: a bad chunk size`,
      service,
      chunks: [post(path, 'Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n'), 'zz\r\n[]\r\n0\r\n\r\n'],
      abort: false,
    });
    cases.push({
      name: `${path}: dribbled headers, then gone`,
      service,
      chunks: [...'POST /api/v1/acts HTTP/1.1\r\nHo'].map(String),
      abort: true,
      gapMs: 40,
    });
  }
  const form = multipart([
    { name: 'caption', value: 'c' },
    { name: 'image', value: PNG, filename: 'a.png', type: 'image/png' },
  ]);
  cases.push({
    name: 'row 17: half a form, then gone',
    service: 'acts',
    chunks: [
      post('/api/v1/acts', `Content-Type: ${form.headers['content-type']}\r\nContent-Length: ${form.body.length}\r\n`),
      form.body.subarray(0, 200).toString('latin1'),
    ],
    abort: true,
  });
  cases.push({
    name: 'a request line of garbage',
    service: 'acts',
    chunks: ['\x00\x01\x02 / HTTP/9.9\r\n\r\n'],
    abort: false,
  });
  cases.push({
    name: 'a header without a colon',
    service: 'users',
    chunks: ['GET /api/v1/users HTTP/1.1\r\nHost h\r\n\r\n'],
    abort: false,
  });
  return cases;
}

async function integrityProblems(backend: Backend, store: FreshStorage): Promise<string[]> {
  if (backend.name === 'SQLite') {
    const problems: string[] = [];
    for (const service of ['users', 'acts'] as const) {
      const rows = await store.peek(service, 'pragma_integrity_check');
      for (const row of rows) if (Object.values(row)[0] !== 'ok') problems.push(`${service}: ${JSON.stringify(row)}`);
    }
    return problems;
  }
  const conn = await createConnection(store.storage.databaseUrl!);
  try {
    const [rows] = await conn.query(
      'check table users, categories, acts, act_images, act_upvotes, users_health, acts_health',
    );
    return (rows as { Table: string; Msg_type: string; Msg_text: string }[])
      .filter((r) => r.Msg_type === 'status' && r.Msg_text !== 'OK')
      .map((r) => `${r.Table}: ${r.Msg_text}`);
  } finally {
    await conn.end();
  }
}

function suite(backend: Backend, mode: ApiAccess): void {
  describe(`bad input on ${backend.name}, API_ACCESS=${mode}`, { skip: backend.skip, timeout: 300_000 }, () => {
    let store: FreshStorage;
    let services: Services;
    const model = new Model();
    const cookies: Record<string, string> = {};
    const owner = mode === 'owner';
    const answers: { name: string; status: number | string; expect: HostileCase['expect'] | 'cut' | 'framing' }[] = [];
    let health: HealthReport;

    const json = (cookie?: string) => ({ 'content-type': 'application/json', ...(cookie ? { cookie } : {}) });
    const as = (user: string) => (owner ? cookies[user] : undefined);
    async function ok(status: number, sent: Promise<{ status: number; body: string }>): Promise<string> {
      const reply = await sent;
      assert.equal(reply.status, status, reply.body.slice(0, 300));
      return reply.body;
    }

    /** Valid writes, each recorded in the model once answered. */
    const write = {
      user: async (name: string) => {
        await ok(
          201,
          send(
            services.usersUrl,
            'POST',
            '/api/v1/users',
            json(),
            JSON.stringify({ username: name, password: PASSWORDS[name] }),
          ),
        );
        model.users.push(name);
        cookies[name] = await logIn(services.usersUrl, name);
      },
      category: async (name: string, by: string) => {
        await ok(201, send(services.actsUrl, 'POST', '/api/v1/categories', json(as(by)), JSON.stringify([name])));
        model.categories.push(name);
      },
      act: async (actId: number, username: string, category: string, imageBytes = 64) => {
        const imgB64 = Buffer.alloc(imageBytes, actId).toString('base64');
        await ok(
          201,
          send(
            services.actsUrl,
            'POST',
            '/api/v1/acts',
            json(as(username)),
            JSON.stringify(actBody({ actId, username, categoryName: category, imgB64 })),
          ),
        );
        model.addAct(String(actId), username, category, imageBytes);
      },
      form: async (username: string, category: string) => {
        const { body, headers } = multipart([
          { name: 'caption', value: 'by form' },
          { name: 'categoryName', value: category },
          { name: 'image', value: PNG, filename: 'a.png', type: 'image/png' },
        ]);
        const reply = await ok(
          201,
          send(services.actsUrl, 'POST', '/api/v1/acts', { ...headers, cookie: cookies[username]! }, body),
        );
        // Row 17 keeps the photo without its metadata (the PNG's text chunks).
        model.addAct(/"actId":(\d+)/.exec(reply)![1]!, username, category, pngWithoutText(PNG).length);
      },
      upvote: async (actId: number, by: string) => {
        await ok(200, send(services.actsUrl, 'POST', '/api/v1/acts/upvote', json(as(by)), `[${actId}]`));
        model.upvote(String(actId), owner ? by : undefined);
      },
      unvote: async (actId: number, by: string) => {
        await ok(200, send(services.actsUrl, 'DELETE', `/api/v1/acts/${actId}/upvote`, { cookie: cookies[by]! }));
        model.unvote(String(actId), by);
      },
      removeAct: async (actId: number, by: string) => {
        await ok(200, send(services.actsUrl, 'DELETE', `/api/v1/acts/${actId}`, as(by) ? { cookie: as(by)! } : {}));
        model.removeAct(String(actId));
      },
      removeCategory: async (name: string, by: string) => {
        await ok(
          200,
          send(services.actsUrl, 'DELETE', `/api/v1/categories/${name}`, as(by) ? { cookie: as(by)! } : {}),
        );
        model.removeCategory(name);
      },
      removeUser: async (name: string) => {
        await ok(
          200,
          send(services.usersUrl, 'DELETE', `/api/v1/users/${name}`, as(name) ? { cookie: as(name)! } : {}),
        );
        model.removeUser(name);
      },
    };

    before(async () => {
      store = await backend.fresh();
      services = await startServices(store, mode);
    });
    after(async () => {
      await services?.stop();
      await store?.dispose();
    });

    test('setup: users logged in, categories, acts (JSON and form), upvotes', async () => {
      for (const name of ['ann', 'bob', 'cy', 'eve']) await write.user(name);
      await write.category('garden', 'ann');
      await write.category('street', 'bob');
      await write.category('empty', 'cy');
      await write.act(1, 'ann', 'garden');
      await write.act(2, 'bob', 'street');
      await write.act(3, 'ann', 'garden', 3 * 1024 * 1024 + 5);
      await write.act(4, 'cy', 'street');
      await write.form('cy', 'garden');
      await write.form('bob', 'street');
      await write.upvote(1, 'bob');
      await write.upvote(1, 'cy');
      await write.upvote(2, 'ann');
    });

    test(`at least ${MIN_CASES} hostile requests, ${LANES} at a time, while valid writes go on and health is watched`, async (t) => {
      const cases = [...hostileCases(), ...(owner ? ownerCases() : [])];
      const sockets = socketCases();
      t.diagnostic(`${cases.length} requests and ${sockets.length} raw connections`);
      assert.ok(cases.length + sockets.length >= MIN_CASES, `${cases.length + sockets.length} cases`);
      const watch = await healthWatch([services.usersUrl, services.actsUrl]);
      // Spread out: the big bodies of one route would otherwise all arrive in the same moment.
      const queue = spread(cases);
      const lanes = Array.from({ length: LANES }, async () => {
        for (let next = queue.shift(); next !== undefined; next = queue.shift()) {
          const c = next;
          const base = c.service === 'users' ? services.usersUrl : services.actsUrl;
          const headers = { ...c.headers, ...(c.asEve ? { cookie: cookies.eve! } : {}) };
          const status = await send(base, c.method, c.path, headers, c.body).then(
            (r) => r.status,
            (err: Error & { code?: string }) => err.code ?? err.message,
          );
          answers.push({ name: c.name, status, expect: c.expect });
        }
      });
      const socketLane = (async () => {
        for (const c of sockets) {
          const status = await rawExchange(c.service === 'users' ? services.usersUrl : services.actsUrl, c.chunks, {
            abort: c.abort,
            gapMs: c.gapMs ?? 0,
          });
          answers.push({ name: c.name, status, expect: c.abort ? 'cut' : 'framing' });
        }
      })();
      const validLane = (async () => {
        await write.act(11, 'bob', 'garden');
        await write.act(12, 'eve', 'empty');
        if (owner) {
          await write.upvote(11, 'eve');
          await write.upvote(11, 'ann');
          await write.unvote(11, 'ann');
          // A second upvote by the same user is refused and changes nothing.
          assert.equal(
            (await send(services.actsUrl, 'POST', '/api/v1/acts/upvote', json(cookies.eve), '[11]')).status,
            409,
          );
        } else {
          await write.upvote(11, 'eve');
          await write.upvote(11, 'eve');
        }
        await write.removeAct(4, 'cy');
        await write.removeCategory('empty', 'eve');
        await write.removeUser('cy');
        await write.form('ann', 'street');
      })();
      try {
        await Promise.all([...lanes, socketLane, validLane]);
      } finally {
        queue.length = 0;
        health = await watch.stop();
      }
    });

    test('no answer was a 5xx, and every hostile write was refused with a 4xx', () => {
      const serverErrors = answers.filter((a) => typeof a.status === 'number' && a.status >= 500);
      assert.deepEqual(serverErrors, []);
      const accepted = answers.filter(
        (a) => a.expect === 'refused' && !(typeof a.status === 'number' && a.status >= 400 && a.status < 500),
      );
      assert.deepEqual(accepted, [], 'hostile writes must be answered 4xx');
      // The HTTP parser's 400, or the route's refusal (owner mode's 401) before the body is read.
      const framing = answers.filter((a) => a.expect === 'framing' && !/^4\d\d$/.test(String(a.status)));
      assert.deepEqual(framing, [], 'broken HTTP framing is refused');
      const unanswered = answers.filter(
        (a) => typeof a.status === 'string' && a.expect !== 'cut' && a.expect !== 'framing',
      );
      assert.deepEqual(unanswered, [], 'every request that waited got an answer');
    });

    test(`health checks all answered 200 on both services, hardly any in ${HEALTH_BOUND_MS} ms or more, none in ${HEALTH_CEILING_MS} ms`, (t) => {
      t.diagnostic(`${health.checks} health checks, slowest: ${health.slowest.join(', ')}`);
      assert.deepEqual(health.failures, []);
      assert.ok(health.checks > 20, `${health.checks} checks`);
      const slow = health.latenciesMs.filter((ms) => ms >= HEALTH_BOUND_MS).length;
      assert.ok(
        slow <= SLOW_CHECKS_ALLOWED(health.checks),
        `${slow} of ${health.checks} health checks took ${HEALTH_BOUND_MS} ms or more (${SLOW_CHECKS_ALLOWED(health.checks)} allowed): ${health.slowest.join(', ')}`,
      );
      assert.ok(
        health.worstMs < HEALTH_CEILING_MS,
        `worst health check ${Math.round(health.worstMs)} ms of ${health.checks}: ${health.slowest.join(', ')}`,
      );
    });

    test('the data is exactly what the accepted requests wrote', async () => {
      await model.checkApi(services.usersUrl, services.actsUrl);
      await model.checkTables(store, () => integrityProblems(backend, store));
    });

    test('neither process crashed: both still healthy, both stop cleanly (exit 0)', async () => {
      for (const base of [services.usersUrl, services.actsUrl])
        assert.equal((await send(base, 'GET', '/api/v1/_health', {})).status, 200);
      assert.deepEqual(await services.stop(), { users: 0, acts: 0 });
    });
  });
}

/** A fixed shuffle (the same order every run): every k-th case, k prime to the count. */
function spread<T>(items: T[]): T[] {
  let step = 97;
  while (items.length % step === 0) step += 1;
  return items.map((_, i) => items[(i * step) % items.length]!);
}

/** Logs in; the session cookie, as a Cookie header value. */
async function logIn(usersUrl: string, name: string): Promise<string> {
  const res = await fetch(`${usersUrl}/api/v1/sessions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: name, password: PASSWORDS[name] }),
  });
  await res.arrayBuffer();
  const cookie = /selflessacts_session=[^;]+/.exec(res.headers.getSetCookie().join('; '))?.[0];
  assert.ok(res.status === 200 && cookie, `log in ${name}: ${res.status}`);
  return cookie;
}

const mariadb = await mariadbBackend();
for (const backend of [sqliteBackend(), mariadb]) {
  for (const mode of ['open', 'owner'] as const) suite(backend, mode);
}
