// Rate limits at the balancer against the real app (process runtime, SQLite): a password
// guesser is cut to the configured log-in rate while another address logs in normally; a
// greedy client meets the overall request rate; a trusted proxy names its clients and nothing
// else can. Two balancer threads, so each budget is shown to hold across threads (shared
// memory). Clients use 127.0.0.2... as source addresses. Ports 31200-31299.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { Agent, request as httpRequest } from 'node:http';
import { describe, test } from 'node:test';
import { shippedConfigFile } from '../../testkit/shipped-config.ts';
import { supervisorSuite } from '../../testkit/supervisor.ts';
import { fnvCollisions } from '../../testkit/aimed-addresses.ts';

const LISTEN = 31200;
const ADMIN = 31201;
const ACTS = 31210;
const USERS = 31220;
const AUTH = { perMinute: 60, burst: 5 }; // one guess a second after five
const REQUESTS = { perMinute: 3000, burst: 100 }; // 50 a second after a hundred
const PROXY = '127.0.0.6';

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

const agents = new Map<string, Agent>();
/** A request from `from` (a 127/8 address), on up to 8 keep-alive connections per address. */
function call(
  from: string,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<Reply> {
  let agent = agents.get(from);
  if (!agent) agents.set(from, (agent = new Agent({ keepAlive: true, maxSockets: 8, localAddress: from })));
  const text = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      `http://127.0.0.1:${LISTEN}${path}`,
      {
        method,
        agent,
        timeout: 10_000,
        headers: {
          ...(text ? { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(text)) } : {}),
          ...headers,
        },
      },
      (res) => {
        let data = '';
        res.setEncoding('utf8').on('data', (c: string) => (data += c));
        res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: data }));
      },
    );
    req.on('timeout', () => req.destroy(new Error('no answer within 10 s')));
    req.on('error', reject);
    req.end(text);
  });
}

const sha1 = (s: string) => createHash('sha1').update(s).digest('hex');

/** Runs `count` calls, `parallel` at a time; returns them in order. */
async function many(count: number, parallel: number, one: (i: number) => Promise<Reply>): Promise<Reply[]> {
  const out: Reply[] = new Array(count);
  let next = 0;
  await Promise.all(
    Array.from({ length: parallel }, async () => {
      while (next < count) {
        const i = next++;
        out[i] = await one(i);
      }
    }),
  );
  return out;
}

function tally(replies: Reply[]): Record<number, number> {
  const t: Record<number, number> = {};
  for (const r of replies) t[r.status] = (t[r.status] ?? 0) + 1;
  return t;
}

describe('rate limits at the balancer (the real app)', () => {
  const suite = supervisorSuite({
    suite: 'rate-limits',
    adminPort: ADMIN,
    config: (dir) =>
      shippedConfigFile(undefined, {
        suite: 'rate-limits',
        dir,
        listenPort: LISTEN,
        adminPort: ADMIN,
        actsPort: ACTS,
        usersPort: USERS,
        overrides: {
          balancer: {
            threads: 2,
            maxConnectionsPerClient: 0,
            rateLimits: {
              requests: REQUESTS,
              auth: { ...AUTH, paths: ['/api/v1/sessions', '/api/v1/users'], methods: ['POST'] },
            },
            trustedProxies: [PROXY],
          },
        },
      }),
    ready: { acts: 1, users: 1 },
    readyTimeoutMs: 60_000,
  });

  test('1,000 wrong passwords from one address are cut to the log-in rate; the owner logs in meanwhile', async () => {
    assert.equal(
      (await call('127.0.0.3', 'POST', '/api/v1/users', { username: 'victim', password: sha1('right') })).status,
      201,
    );
    // The owner's browser has logged in before: it carries the account's device cookie.
    const before = await call('127.0.0.3', 'POST', '/api/v1/sessions', { username: 'victim', password: sha1('right') });
    assert.equal(before.status, 200);
    const device = ([before.headers['set-cookie']].flat() as string[])
      .map((c) => c.split(';')[0]!)
      .find((c) => c.startsWith('selflessacts_device='))!;
    assert.ok(device);
    const attacker = (i: number) =>
      call('127.0.0.2', 'POST', '/api/v1/sessions', { username: 'victim', password: sha1(`guess ${i}`) });
    const started = Date.now();
    const first = await many(500, 8, attacker);
    const during = await call(
      '127.0.0.3',
      'POST',
      '/api/v1/sessions',
      { username: 'victim', password: sha1('right') },
      { cookie: device },
    );
    const second = await many(500, 8, (i) => attacker(500 + i));
    const seconds = (Date.now() - started) / 1000;
    const replies = [...first, ...second];
    const counts = tally(replies);
    assert.equal(during.status, 200, `the owner logs in during the attack: ${during.body}`);
    assert.match(String(during.headers['set-cookie']), /selflessacts_session=/);
    // Guesses that reached the app were wrong passwords (401) until the account's own budget of
    // failures was spent (429 from the users service); the rest never left the balancer (429).
    assert.deepEqual(Object.keys(counts).sort(), ['401', '429'], JSON.stringify(counts));
    const allowed = AUTH.burst + Math.ceil((seconds * AUTH.perMinute) / 60) + 1;
    assert.ok(
      counts[401]! <= allowed,
      `${counts[401]} guesses checked in ${seconds.toFixed(1)} s; at most ${allowed} allowed`,
    );
    assert.ok(counts[401]! >= AUTH.burst, `the first ${AUTH.burst} were let through (${counts[401]})`);
    const refused = replies.find((r) => r.status === 429)!;
    assert.ok(Number(refused.headers['retry-after']) >= 1, 'Retry-After in seconds');
    assert.match(JSON.parse(refused.body).error, /too many log-in and sign-up attempts from 127\.0\.0\.2/);
    const after = await call(
      '127.0.0.3',
      'POST',
      '/api/v1/sessions',
      { username: 'victim', password: sha1('right') },
      { cookie: device },
    );
    assert.equal(after.status, 200, 'and after it');
    // The edge's refusals are in the supervisor's log, with the client, a line a minute at most.
    const line = await suite.sup.waitForLine(
      (l) => l.msg === 'security' && l.event === 'rate-limited' && l.client === '127.0.0.2',
      'the refusals logged',
      5000,
    );
    assert.equal(line.what, 'log-in and sign-up attempts');
    assert.ok(
      suite.sup.lines.filter((l) => l.msg === 'security' && l.client === '127.0.0.2').length <= 4,
      'not a line per refusal (one a minute per thread)',
    );
    // Reads are not log-ins: the attacker's other requests still pass.
    assert.ok([200, 204].includes((await call('127.0.0.2', 'GET', '/api/v1/categories')).status));
  });

  test('the overall request rate per address, over both threads; another address is unaffected', async () => {
    const started = Date.now();
    const greedy = await many(600, 16, () => call('127.0.0.4', 'GET', '/api/v1/_health'));
    const seconds = (Date.now() - started) / 1000;
    const counts = tally(greedy);
    const allowed = REQUESTS.burst + Math.ceil((seconds * REQUESTS.perMinute) / 60) + 1;
    assert.ok((counts[200] ?? 0) <= allowed, `${counts[200]} passed in ${seconds.toFixed(2)} s; at most ${allowed}`);
    assert.ok((counts[429] ?? 0) > 0, JSON.stringify(counts));
    const calm = await many(50, 4, () => call('127.0.0.5', 'GET', '/api/v1/_health'));
    assert.deepEqual(tally(calm), { 200: 50 });
  });

  test('buckets cannot be aimed: addresses computed to collide with a victim under an unkeyed hash spend only their own budgets', async () => {
    const victim = '127.0.0.9';
    assert.equal(
      (await call(victim, 'POST', '/api/v1/users', { username: 'aimed-at', password: sha1('right') })).status,
      201,
    );
    // 12 addresses in the victim's bucket of FNV-1a (the hash buckets were chosen by before),
    // each making one attempt through the trusted proxy: within every address's own budget.
    const aimed = fnvCollisions(victim, 65_536, 12);
    for (const [i, from] of aimed.entries()) {
      const r = await call(
        PROXY,
        'POST',
        '/api/v1/sessions',
        { username: `someone-else-${i}`, password: sha1('x') },
        { 'x-forwarded-for': from },
      );
      assert.equal(r.status, 401, `${from}: ${r.body}`);
    }
    for (let i = 0; i < AUTH.burst - 1; i++) {
      const r = await call(victim, 'POST', '/api/v1/sessions', { username: 'aimed-at', password: sha1('right') });
      assert.equal(r.status, 200, `the victim's log-in ${i + 1}: ${r.body}`);
    }
  });

  test('IPv6 clients count per /64: rotating addresses within one does not reset the budget', async () => {
    const from = (i: number) => `2001:db8:5:6:${(i + 1).toString(16)}:0:0:1`;
    const replies = await many(AUTH.burst + 4, 1, (i) =>
      call(
        PROXY,
        'POST',
        '/api/v1/sessions',
        { username: 'nobody-v6', password: sha1('x') },
        { 'x-forwarded-for': from(i) },
      ),
    );
    assert.deepEqual(
      replies.slice(0, AUTH.burst).map((r) => r.status),
      new Array(AUTH.burst).fill(401),
    );
    assert.equal(replies.at(-1)!.status, 429, 'the /64 has spent its budget');
    assert.match(JSON.parse(replies.at(-1)!.body).error, /from 2001:db8:5:6:/);
    const next = await call(
      PROXY,
      'POST',
      '/api/v1/sessions',
      { username: 'nobody-v6', password: sha1('x') },
      { 'x-forwarded-for': '2001:db8:5:7::1' },
    );
    assert.equal(next.status, 401, 'the next /64 is another client');
  });

  test('a trusted proxy names its clients (X-Forwarded-For, -Proto); an untrusted peer cannot', async () => {
    // Each client guesses at its own name: an account's own budget of failures (the users
    // service's) is not what this test is about.
    const guess = (from: string, forwardedFor: string, extra: Record<string, string> = {}) =>
      call(
        from,
        'POST',
        '/api/v1/sessions',
        { username: `guessed-by-${from}-${forwardedFor}`, password: sha1('wrong') },
        { 'x-forwarded-for': forwardedFor, ...extra },
      );
    // Through the proxy, 198.51.100.1 spends its own budget...
    const one = await many(AUTH.burst + 3, 1, () => guess(PROXY, '198.51.100.1'));
    assert.equal(one.at(-1)!.status, 429);
    assert.match(JSON.parse(one.at(-1)!.body).error, /from 198\.51\.100\.1;/);
    // ...and another client behind the same proxy has a full one.
    assert.equal((await guess(PROXY, '198.51.100.2')).status, 401);
    // A client cannot choose its name by writing X-Forwarded-For itself: the proxy appends the
    // address it saw, and the rightmost untrusted hop is the one counted.
    assert.equal((await guess(PROXY, '198.51.100.1, 198.51.100.3')).status, 401, 'counted as 198.51.100.3');
    // From a peer that is not a trusted proxy, X-Forwarded-For names nobody.
    const spoofer = await many(AUTH.burst + 3, 1, (i) => guess('127.0.0.7', `203.0.113.${i + 1}`));
    assert.equal(spoofer.at(-1)!.status, 429);
    assert.match(JSON.parse(spoofer.at(-1)!.body).error, /from 127\.0\.0\.7;/);
    // X-Forwarded-Proto from the proxy (it terminated TLS) reaches the app: the cookie is Secure.
    await call('127.0.0.8', 'POST', '/api/v1/users', { username: 'proxied', password: sha1('pw') });
    const viaProxy = await call(
      PROXY,
      'POST',
      '/api/v1/sessions',
      { username: 'proxied', password: sha1('pw') },
      { 'x-forwarded-for': '198.51.100.20', 'x-forwarded-proto': 'https' },
    );
    assert.equal(viaProxy.status, 200);
    assert.match(String(viaProxy.headers['set-cookie']), /; Secure/i);
    const forged = await call(
      '127.0.0.8',
      'POST',
      '/api/v1/sessions',
      { username: 'proxied', password: sha1('pw') },
      { 'x-forwarded-proto': 'https' },
    );
    assert.equal(forged.status, 200);
    assert.doesNotMatch(String(forged.headers['set-cookie']), /Secure/i, 'not from an untrusted peer');
    for (const agent of agents.values()) agent.destroy();
    assert.ok(suite.sup.running);
  });
});
