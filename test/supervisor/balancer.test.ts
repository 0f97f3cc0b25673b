// The balancer against real containers: round robin, path routing, static files, streaming,
// header hygiene, the _crash block, retry on a refused connection, the admin API and a second,
// trivial image running as its own service. The supervisor here is told another label prefix
// (org.example), and the echo app reads names of its own: nothing of SelfLessActs is assumed.
// Ports 21000-21099.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, test } from 'node:test';
import { skipUnlessEngine } from '../helpers/requirements.ts';
import { TEST_ENGINE } from '../../testkit/engine.ts';
import { rawTarget } from '../../testkit/raw-http.ts';
import {
  echoService,
  ensureEchoImage,
  eventually,
  http,
  replicaCount,
  resetCount,
  supervisorSuite,
  writeConfig,
} from '../../testkit/supervisor.ts';

const SUITE = 'balancer';
const PREFIX = 'org.example';
const LISTEN = 21000;
const ADMIN = 21001;
const base = `http://127.0.0.1:${LISTEN}`;
const skip = await skipUnlessEngine();

/** A raw request, for headers undici refuses to send (Connection: x, Keep-Alive, TE). */
function rawGet(
  url: string,
  headers: Record<string, string>,
): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { headers, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('balancer (real containers)', { skip }, () => {
  const engine = TEST_ENGINE.client();
  const suite = supervisorSuite({
    suite: SUITE,
    adminPort: ADMIN,
    engine,
    config: async (dir) => {
      await ensureEchoImage(engine);
      await mkdir(path.join(dir, 'public', 'css'), { recursive: true });
      await mkdir(path.join(dir, 'public', 'dashboard'), { recursive: true });
      await writeFile(path.join(dir, 'public', 'index.html'), '<!doctype html><title>static home</title>');
      await writeFile(path.join(dir, 'public', 'css', 'site.css'), 'body { color: teal }');
      await writeFile(path.join(dir, 'public', 'dashboard', 'index.html'), '<title>dashboard</title>');
      return writeConfig({
        suite: SUITE,
        dir,
        runtime: TEST_ENGINE.name,
        listenPort: LISTEN,
        adminPort: ADMIN,
        // A slow steady heartbeat: the refusing-replica test must see the balancer, not a routine
        // check, notice the dead replica first. Readiness still uses the fast interval.
        heartbeat: { intervalMs: 10_000, timeoutMs: 500, failureThreshold: 3 },
        // The dashboard through the listen port is off unless configured (it is, below).
        extra: { balancer: { adminOnListener: true }, labelPrefix: PREFIX },
        services: {
          users: echoService({
            replicas: { initial: 1, min: 1, max: 1 },
            startPort: 21010,
            routes: ['/api/v1/users', '/api/v1/sessions'],
          }),
          acts: echoService({
            replicas: { initial: 2, min: 1, max: 4 },
            startPort: 21020,
            routes: ['/api/v1'],
            env: { USERS_URL: '{{service:users}}' },
          }),
          whoami: echoService({
            replicas: { initial: 1, min: 1, max: 1 },
            startPort: 21030,
            routes: ['/whoami'],
            env: { WHOAMI_TOKEN: '{{secret:WHOAMI_TOKEN}}', WHOAMI_MODE: '{{env:WHOAMI_MODE:-plain}}' },
          }),
        },
      });
    },
    ready: { acts: 2, users: 1, whoami: 1 },
    readyTimeoutMs: 120_000,
  });
  const { admin } = suite;

  test('round robin in strict order: 6 requests over two replicas reach each exactly 3 times', async () => {
    await resetCount(21020);
    await resetCount(21021);
    const order: string[] = [];
    for (let i = 0; i < 6; i++) {
      const reply = await http('GET', `${base}/api/v1/things`);
      assert.equal(reply.status, 200);
      order.push(String(reply.headers['x-replica']));
    }
    assert.equal(await replicaCount(21020), 3);
    assert.equal(await replicaCount(21021), 3);
    for (let i = 2; i < 6; i++) assert.equal(order[i], order[i - 2], `strict alternation: ${order.join(',')}`);
    assert.notEqual(order[0], order[1]);
  });

  test('path routing: users and sessions to users, other /api/v1 paths to acts, /whoami to its own service', async () => {
    const rows: Array<[string, string]> = [
      ['/api/v1/users', 'users'],
      ['/api/v1/users/bob/exists', 'users'],
      ['/api/v1/sessions/me', 'users'],
      ['/api/v1/categories', 'acts'],
      ['/api/v1/acts/count', 'acts'],
      ['/whoami/hello', 'whoami'],
    ];
    for (const [target, service] of rows) {
      const reply = await http('GET', `${base}${target}`);
      assert.equal(reply.status, 200, target);
      assert.equal((JSON.parse(reply.text) as { service: string }).service, service, target);
    }
  });

  test('a service that is not SelfLessActs: own container name, labels of the configured prefix, exactly its env templates', async () => {
    const [whoami] = await engine.containers.list({
      labels: { [`${PREFIX}.service`]: 'whoami', [`${PREFIX}.supervisor`]: 'test-balancer' },
    });
    assert.ok(whoami, 'the whoami container');
    assert.equal(whoami.name, 'whoami-21030');
    assert.equal(whoami.labels[`${PREFIX}.port`], '21030');
    assert.match(whoami.labels[`${PREFIX}.instance`] ?? '', /^[0-9a-f]{12}$/);
    for (const name of ['service', 'port', 'instance', 'supervisor'])
      assert.equal(whoami.labels[`selflessacts.${name}`], undefined, `no selflessacts.${name}`);
    const info = await engine.containers.inspect(whoami.id);
    assert.equal(info.user, '10001:10001');
    assert.equal(info.memoryBytes, 128 * 1024 * 1024);
    assert.deepEqual(
      info.ports.map((p) => `${p.hostIp}:${p.hostPort}->${p.containerPort}`),
      ['127.0.0.1:21030->8080'],
    );
    assert.ok(!/docker\.sock|podman\.sock/.test(JSON.stringify(info.raw)), 'no engine socket inside');
    const env = (JSON.parse((await http('GET', `${base}/api/v1/env`)).text) as { env: Record<string, string> }).env;
    assert.equal(env.USERS_URL, 'http://users-21010:8080');
    assert.deepEqual([env.ECHO_SERVICE, env.ECHO_PORT, env.ECHO_HOST], ['acts', '8080', '0.0.0.0']);
    const mine = (
      JSON.parse((await http('GET', 'http://127.0.0.1:21030/api/v1/env')).text) as { env: Record<string, string> }
    ).env;
    // A generated secret: a file only the replica's user reads, named by <VARIABLE>_FILE, not the variable itself.
    assert.equal(mine.WHOAMI_TOKEN, undefined);
    assert.equal(mine.WHOAMI_TOKEN_FILE, '/run/secrets/WHOAMI_TOKEN');
    assert.ok(
      (await readFile(path.join(suite.dir, 'data', 'replica-secrets', 'whoami', 'WHOAMI_TOKEN'), 'utf8')).length >= 32,
      'a generated secret',
    );
    assert.equal(mine.WHOAMI_MODE, 'plain', 'a default for a variable the supervisor lacks');
    for (const name of [
      'PORT',
      'HOST',
      'SERVICE',
      'DATA_DIR',
      'SELFLESSACTS_INSTANCE',
      'DATABASE_URL',
      'SESSION_SECRET',
      'API_ACCESS',
      'USERS_URL',
    ]) {
      assert.equal(mine[name], undefined, `${name} is not the supervisor's to set`);
    }
    const usersEnv = (JSON.parse((await http('GET', `${base}/api/v1/users/env`)).text) as { service: string }).service;
    assert.equal(usersEnv, 'users');
  });

  test('replicas reach each other by container name on the shared network', async () => {
    const [acts] = await engine.containers.list({
      labels: { [`${PREFIX}.service`]: 'acts', [`${PREFIX}.port`]: '21020' },
    });
    const info = await engine.containers.inspect(acts!.id);
    assert.ok(info.networks['sa-test-balancer'], 'on the suite network');
    assert.ok(info.networks['sa-test-balancer']!.aliases.includes('acts-21020'));
  });

  test('the supervisor serves / and static files itself, without touching a replica', async () => {
    await resetCount(21020);
    await resetCount(21021);
    const home = await http('GET', `${base}/`);
    assert.equal(home.status, 200);
    assert.match(home.text, /static home/);
    assert.match(String(home.headers['content-type']), /text\/html/);
    const css = await http('GET', `${base}/css/site.css`);
    assert.equal(css.status, 200);
    assert.match(String(css.headers['content-type']), /text\/css/);
    const again = await http('GET', `${base}/css/site.css`, { headers: { 'if-none-match': String(css.headers.etag) } });
    assert.equal(again.status, 304);
    const missing = await http('GET', `${base}/no/such/page`);
    assert.equal(missing.status, 404);
    assert.ok((JSON.parse(missing.text) as { error: string }).error);
    // Raw targets over `net` (a client library would resolve the dot segments before sending):
    // literal, percent-encoded dots, and encoded slashes that only decoding turns into "../".
    const up = '/..'.repeat(12);
    for (const target of [
      `${up}/etc/passwd`,
      `${'/%2e%2e'.repeat(12)}/etc/passwd`,
      `/${'..%2f'.repeat(12)}etc%2fpasswd`,
    ]) {
      const reply = await rawTarget(LISTEN, target);
      assert.ok([400, 403, 404].includes(reply.status), `${target} → ${reply.status}`);
      assert.doesNotMatch(reply.body, /root:/, `${target} served /etc/passwd`);
    }
    assert.equal(await replicaCount(21020), 0);
    assert.equal(await replicaCount(21021), 0);
  });

  test('a 10 MiB upload streams through to the replica intact', async () => {
    const body = randomBytes(10 * 1024 * 1024);
    const reply = await http('POST', `${base}/api/v1/upload`, {
      body,
      headers: { 'content-type': 'application/octet-stream' },
    });
    assert.equal(reply.status, 200);
    const got = JSON.parse(reply.text) as { bytes: number; sha256: string };
    assert.equal(got.bytes, body.length);
    assert.equal(got.sha256, createHash('sha256').update(body).digest('hex'));
  });

  test('hop-by-hop headers are dropped both ways; X-Forwarded-For, -Proto and -Host are set', async () => {
    const reply = await rawGet(`${base}/api/v1/headers`, {
      connection: 'keep-alive, x-drop-me',
      'x-drop-me': 'secret',
      'keep-alive': 'timeout=5',
      te: 'trailers',
      'proxy-authorization': 'Basic Zm9vOmJhcg==',
      'x-forwarded-for': '203.0.113.9',
      'x-forwarded-proto': 'https',
      'x-forwarded-host': 'attacker.example',
      'x-custom': 'kept',
    });
    assert.equal(reply.status, 200);
    const seen = (JSON.parse(reply.body) as { headers: Record<string, string> }).headers;
    for (const gone of ['x-drop-me', 'keep-alive', 'te', 'proxy-authorization'])
      assert.equal(seen[gone], undefined, gone);
    assert.equal(seen['x-custom'], 'kept');
    assert.equal(seen['x-forwarded-for'], '127.0.0.1', "the client's own X-Forwarded-For is dropped, not appended to");
    assert.equal(seen['x-forwarded-proto'], 'http');
    assert.equal(seen['x-forwarded-host'], `127.0.0.1:${LISTEN}`);

    const direct = await rawGet('http://127.0.0.1:21020/api/v1/hop', {});
    assert.equal(direct.headers['x-hop'], 'must-not-pass', 'the replica does send it');
    const proxied = await rawGet(`${base}/api/v1/hop`, {});
    assert.equal(proxied.headers['x-hop'], undefined);
    assert.equal(proxied.headers['x-kept'], 'yes');
  });

  test('/api/v1/_crash from outside is 403 in every spelling, and no replica crashed', async () => {
    for (const target of [
      '/api/v1/_crash',
      '/API/v1/_CRASH',
      '/api/v1/_crash/',
      '/api/v1//_crash',
      '/api/v1/%5Fcrash',
    ]) {
      const reply = await http('POST', `${base}${target}`);
      assert.equal(reply.status, 403, target);
      assert.ok((JSON.parse(reply.text) as { error: string }).error);
    }
    for (const port of [21010, 21020, 21021])
      assert.equal((await http('GET', `http://127.0.0.1:${port}/api/v1/_health`)).status, 200);
  });

  test("per-replica CPU and memory from the engine's stats API, in /status and /metrics", async () => {
    // Asked every 5 s; the CPU figure needs two answers.
    const status = await admin.waitFor(
      (s) => s.services.acts!.replicas.every((r) => r.cpuPercent !== undefined) && s,
      'usage figures',
      15_000,
    );
    for (const r of status.services.acts!.replicas) {
      assert.ok(
        r.memoryBytes! > 5e6 && r.memoryBytes! < 128 * 1024 * 1024,
        `memory ${r.memoryBytes} within the container's 128 MB limit`,
      );
      assert.ok(r.cpuPercent! >= 0 && r.cpuPercent! <= 100, `cpu ${r.cpuPercent} % (0.5 CPU limit, some slack)`);
    }
    const metrics = await http('GET', `http://127.0.0.1:${ADMIN}/metrics`);
    assert.match(metrics.text, /^selflessacts_replica_memory_bytes\{service="acts",replica="acts-21020"\} \d+/m);
  });

  test('status, events.json and the event stream', async () => {
    // Served counts arrive with the balancer's once-a-second report.
    const status = await admin.waitFor(
      (s) => s.services.acts!.replicas.every((r) => r.requestsServed > 0) && s,
      'served counts',
      5000,
    );
    assert.equal(status.runtime, TEST_ENGINE.name);
    assert.deepEqual(status.listen, { host: '127.0.0.1', port: LISTEN });
    const acts = status.services.acts!;
    assert.equal(acts.desired, 2);
    assert.deepEqual(
      acts.replicas.map((r) => [r.port, r.state, r.health]),
      [
        [21020, 'ready', 'ok'],
        [21021, 'ready', 'ok'],
      ],
    );
    for (const r of acts.replicas) assert.match(r.id, /^[0-9a-f]{64}$/);
    const events = await admin.events();
    for (const port of [21010, 21020, 21021, 21030]) {
      assert.ok(
        events.some((e) => e.type === 'replica.started' && e.port === port),
        `started ${port}`,
      );
      assert.ok(
        events.some((e) => e.type === 'replica.ready' && e.port === port),
        `ready ${port}`,
      );
    }
    const later = await admin.events(events.at(-1)!.seq);
    assert.ok(later.every((e) => e.seq > events.at(-1)!.seq));
    assert.equal((await http('GET', `${admin.base}/events.json?since=abc`)).status, 400);
    assert.equal((await http('POST', `${admin.base}/status`)).status, 405);

    // SSE: a snapshot first, then the logged events.
    const abort = new AbortController();
    const res = await fetch(`${admin.base}/events`, { signal: abort.signal });
    assert.match(res.headers.get('content-type') ?? '', /text\/event-stream/);
    const reader = res.body!.getReader();
    let text = '';
    while (!text.includes('event: event')) {
      const { value, done } = await reader.read();
      if (done) break;
      text += Buffer.from(value).toString('utf8');
    }
    abort.abort();
    assert.ok(text.startsWith('event: snapshot\ndata: {'), text.slice(0, 80));
    const snapshot = JSON.parse(text.split('\n')[1]!.slice('data: '.length)) as { services: object };
    assert.ok('acts' in snapshot.services);
  });

  test('the dashboard and /admin/* through the listen port, for local clients', async () => {
    const status = await http('GET', `${base}/admin/status`);
    assert.equal(status.status, 200);
    assert.ok('services' in (JSON.parse(status.text) as object));
    const dashboard = await http('GET', `${base}/dashboard/`);
    assert.equal(dashboard.status, 200);
    assert.match(dashboard.text, /dashboard/);
  });

  test('a replica refusing connections: requests go to the next replica and it is reported suspect', async () => {
    const before = await admin.status();
    const victim = before.services.acts!.replicas.find((r) => r.port === 21021)!;
    const [container] = await engine.containers.list({
      labels: { [`${PREFIX}.port`]: '21021', [`${PREFIX}.supervisor`]: 'test-balancer' },
    });
    assert.equal(container!.id, victim.id);
    const survivor = (await http('GET', 'http://127.0.0.1:21020/api/v1/_health')).headers['x-replica'];
    await engine.containers.kill(victim.id);
    const replies = [];
    for (let i = 0; i < 6; i++) replies.push(await http('GET', `${base}/api/v1/after-kill-${i}`));
    const post = await http('POST', `${base}/api/v1/upload`, { body: 'small body' });
    assert.deepEqual(
      replies.map((r) => r.status),
      [200, 200, 200, 200, 200, 200],
    );
    assert.ok(replies.every((r) => r.headers['x-replica'] === survivor));
    assert.equal(post.status, 200);
    // Out of rotation by whichever came first: the balancer's own suspect report (a request
    // tried it), or the runtime telling the supervisor the container died (on a loaded machine
    // that can come before any of the requests above reached the balancer).
    const outOfRotation = (l: { msg?: unknown; type?: unknown; id?: unknown }) =>
      l.id === victim.id && (l.msg === 'replica refused a connection' || l.type === 'replica.failed');
    await eventually(
      async () => (suite.sup.lines.some(outOfRotation) ? true : undefined),
      'the suspect report or the failure event',
      5000,
    );
    // ... and it is replaced on the same port.
    const replaced = await admin.waitFor(
      (s) => {
        const r = s.services.acts!.replicas.find((x) => x.port === 21021);
        return r && r.id !== victim.id && r.state === 'ready' ? r : undefined;
      },
      'a new replica on 21021',
      30_000,
    );
    assert.notEqual(replaced.id, victim.id);
  });
});
