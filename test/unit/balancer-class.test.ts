// The Balancer class without threads, sockets or timers: fake listener, requests, responses,
// pools and clock. Covers routing and counting, retries, suspects, the queue cap, drains,
// clients leaving, deadlines, the admin gate and strict round robin over two "threads".
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { Balancer } from '../../supervisor/balancer/balancer.ts';
import type { PoolLike } from '../../supervisor/balancer/service-route.ts';
import { DEFAULT_EDGE, DEFAULT_LIMITS, type BalancerSettings } from '../../supervisor/balancer/settings.ts';
import {
  RequestCounters,
  ServedCounters,
  SharedLayout,
  type SharedSpec,
} from '../../supervisor/balancer/shared-state.ts';
import type { StrategyName } from '../../supervisor/balancer/strategy.ts';
import type { UpstreamConnection, UpstreamExchange } from '../../supervisor/balancer/upstream.ts';
import type { FromBalancer, RoutesMessage } from '../../supervisor/core/protocol.ts';

const EPOCH = 1_700_000_000_000;

class FakePool implements PoolLike {
  readonly sent: UpstreamExchange[] = [];
  bodies: Buffer[] = [];
  full = false;
  closed = false;
  connections = 0;
  constructor(readonly port: number) {}
  dispatch(ex: UpstreamExchange): boolean {
    if (this.full) return false;
    this.sent.push(ex);
    const written: Buffer[] = [];
    const conn = {
      write: (c: Buffer | string) => {
        written.push(Buffer.from(c));
        return true;
      },
      bodyDone: () => this.bodies.push(Buffer.concat(written)),
      socket: new EventEmitter(),
      abort: () => (ex.conn = null),
      pause() {},
      resume() {},
    };
    ex.conn = conn as unknown as UpstreamConnection;
    ex.body?.pipeTo(ex.conn);
    return true;
  }
  sweep(): void {}
  close(): void {
    this.closed = true;
  }
  destroy(): void {}
  /** The replica answers the oldest request sent to it. */
  answer(status = 200, body = 'ok'): void {
    const ex = this.sent.shift()!;
    ex.onHead(status, 'OK', ['content-length', String(body.length)]);
    ex.onBody(Buffer.from(body));
    ex.onEnd();
    ex.conn = null;
    ex.flush();
  }
  fail(failure: Parameters<UpstreamExchange['onError']>[0], reason = 'ECONNREFUSED'): void {
    const ex = this.sent.shift()!;
    ex.conn = null;
    ex.onError(failure, reason);
  }
}

class FakeRes extends EventEmitter {
  status = 0;
  headers: unknown;
  body = '';
  headersSent = false;
  destroyed = false;
  writableEnded = false;
  writeHead(status: number, reason?: unknown, headers?: unknown): this {
    this.status = status;
    this.headers = headers ?? reason;
    this.headersSent = true;
    return this;
  }
  write(chunk: Buffer | string): boolean {
    this.body += chunk.toString();
    return true;
  }
  end(chunk?: Buffer | string): this {
    if (chunk) this.body += chunk.toString();
    this.writableEnded = true;
    this.emit('close');
    return this;
  }
  destroy(): this {
    this.destroyed = true;
    this.emit('close');
    return this;
  }
  cork(): void {}
  uncork(): void {}
  json(): { error?: string } {
    return JSON.parse(this.body) as { error?: string };
  }
}

class FakeReq extends EventEmitter {
  readonly rawHeaders: string[];
  constructor(
    readonly method: string,
    readonly url: string,
    readonly socket: object,
    headers: string[] = [],
    host = '127.0.0.1:3000',
  ) {
    super();
    this.rawHeaders = ['Host', host, ...headers];
  }
  resume(): this {
    return this;
  }
  pause(): this {
    return this;
  }
}

/**
 * Request bodies too large for memory go here (none do in these tests); removed at the end,
 * and at exit too: a runner that ends the process at the first failure (StrykerJS's bail)
 * skips the after hooks, and left one directory per mutant.
 */
const SPOOL_DIR = mkdtempSync(path.join(tmpdir(), 'sa-balancer-class-'));
const removeSpool = () => rmSync(SPOOL_DIR, { recursive: true, force: true });
after(removeSpool);
process.once('exit', removeSpool);

function spec(threads = 1): SharedSpec {
  return {
    services: [
      { name: 'acts', startPort: 8000, ports: 4 },
      { name: 'users', startPort: 8080, ports: 2 },
    ],
    threads,
    clientBuckets: 64,
  };
}

interface Rig {
  balancer: Balancer;
  pools: Map<number, FakePool>;
  sent: FromBalancer[];
  clock: { t: number; now(): number };
  server: EventEmitter;
  request(
    method: string,
    url: string,
    options?: { headers?: string[]; from?: string; body?: string; host?: string },
  ): FakeRes;
}

function rig(
  options: {
    thread?: number;
    buffer?: SharedArrayBuffer;
    threads?: number;
    strategies?: Record<string, StrategyName>;
    settings?: Partial<BalancerSettings>;
  } = {},
): Rig {
  const threads = options.threads ?? 1;
  const layout = new SharedLayout(spec(threads));
  const buffer = options.buffer ?? layout.create();
  const settings: BalancerSettings = {
    listen: { host: '127.0.0.1', port: 3000 },
    upstreamParser: 'auto',
    inherited: null,
    threads,
    thread: options.thread ?? 0,
    staticDir: '/nonexistent',
    spoolDir: SPOOL_DIR,
    adminOrigin: 'http://127.0.0.1:3001',
    adminOnListener: false,
    blockedPaths: ['/api/v1/_crash'],
    uncountedPaths: ['/api/v1/_health'],
    suspectMs: 1000,
    strategies: options.strategies ?? {},
    limits: { ...DEFAULT_LIMITS, maxConnectionsPerClient: 2 },
    edge: { ...DEFAULT_EDGE, compression: { ...DEFAULT_EDGE.compression, enabled: false } },
    tls: null,
    shared: { buffer, spec: spec(threads), epoch: EPOCH },
    ...options.settings,
  };
  const pools = new Map<number, FakePool>();
  const sent: FromBalancer[] = [];
  const clock = { t: EPOCH + 10_000, now: () => clock.t };
  const balancer = new Balancer({
    settings,
    clock,
    send: (m) => sent.push(m),
    pools: ({ port }) => {
      const pool = new FakePool(port);
      pools.set(port, pool);
      return pool;
    },
  });
  const server = new EventEmitter();
  balancer.attach(server as unknown as Server);
  const sockets = new Map<string, object>();
  const socketFor = (address: string) => {
    let socket = sockets.get(address);
    if (!socket) {
      socket = Object.assign(new EventEmitter(), {
        remoteAddress: address,
        localAddress: '127.0.0.1',
        localPort: 3000,
        end() {},
        destroy() {},
        setTimeout() {},
      });
      server.emit('connection', socket);
      sockets.set(address, socket);
    }
    return socket;
  };
  return {
    balancer,
    pools,
    sent,
    clock,
    server,
    request(method, url, o = {}) {
      const headers =
        o.body === undefined ? (o.headers ?? []) : [...(o.headers ?? []), 'Content-Length', String(o.body.length)];
      const req = new FakeReq(method, url, socketFor(o.from ?? '127.0.0.1'), headers, o.host);
      const res = new FakeRes();
      server.emit('request', req, res);
      if (o.body !== undefined) {
        req.emit('data', Buffer.from(o.body));
        req.emit('end');
      }
      return res;
    },
  };
}

function routes(version: number, acts: Array<[number, boolean?]>, users: number[] = []): RoutesMessage {
  const replica = (port: number, ready = true) => ({
    id: `r${port}`,
    port,
    url: `http://127.0.0.1:${port}`,
    ready,
    live: ready,
  });
  return {
    type: 'routes',
    version,
    services: {
      users: { prefixes: ['/api/v1/users'], replicas: users.map((p) => replica(p)) },
      acts: { prefixes: ['/api/v1'], replicas: acts.map(([p, ready]) => replica(p, ready)) },
    },
  };
}

describe('the balancer class, with fakes', () => {
  test('routes by longest prefix, forwards the canonical target, answers, counts for scaling', () => {
    const r = rig();
    r.balancer.applyRoutes(routes(1, [[8000]], [8080]));
    const res = r.request('GET', '/api/v1/users/%62ob?x=1');
    const ex = r.pools.get(8080)!.sent[0]!;
    assert.match(ex.head, /^GET \/api\/v1\/users\/bob\?x=1 HTTP\/1\.1\r\n/);
    assert.match(ex.head, /\r\nx-forwarded-for: 127\.0\.0\.1\r\n/);
    r.pools.get(8080)!.answer(200, 'hello');
    assert.deepEqual([res.status, res.body], [200, 'hello']);
  });

  test('request counts reach the scaler and served counts the primary through shared memory', () => {
    const layout = new SharedLayout(spec());
    const buffer = layout.create();
    const r = rig({ buffer });
    r.balancer.applyRoutes(routes(1, [[8000]]));
    r.request('GET', '/api/v1/things');
    r.request('GET', '/api/v1/_health'); // uncounted
    r.pools.get(8000)!.answer();
    r.pools.get(8000)!.answer();
    assert.deepEqual(new RequestCounters(buffer, layout, EPOCH).take(r.clock.t), {
      acts: { count: 1, firstAt: r.clock.t },
    });
    assert.equal(new ServedCounters(buffer, layout).take().get(layout.slotOf('acts', 8000)), 2);
  });

  test('a refused connection: retried on the next replica, reported suspect, then passed over', () => {
    const r = rig();
    r.balancer.applyRoutes(routes(1, [[8000], [8001]]));
    const res = r.request('GET', '/api/v1/a');
    r.pools.get(8000)!.fail('refused');
    r.pools.get(8001)!.answer(200, 'from 8001');
    assert.equal(res.body, 'from 8001');
    assert.deepEqual(r.sent, [{ type: 'suspect', id: 'r8000', outcome: 'refused', reason: 'ECONNREFUSED' }]);
    for (let i = 0; i < 3; i++) r.request('GET', '/api/v1/b');
    assert.equal(r.pools.get(8000)!.sent.length, 0, 'suspect: passed over');
    assert.equal(r.pools.get(8001)!.sent.length, 3);
    r.clock.t += 1001;
    r.request('GET', '/api/v1/c');
    r.request('GET', '/api/v1/c');
    assert.equal(r.pools.get(8000)!.sent.length, 1, 'back in rotation after suspectMs');
  });

  test('a POST whose body was kept is retried with the same body after a refusal', () => {
    const r = rig();
    r.balancer.applyRoutes(routes(1, [[8000], [8001]]));
    const res = r.request('POST', '/api/v1/acts', { body: '{"a":1}' });
    assert.match(r.pools.get(8000)!.sent[0]!.head, /\r\ncontent-length: 7\r\n/);
    r.pools.get(8000)!.fail('refused');
    r.pools.get(8001)!.answer(201, 'made');
    assert.equal(res.status, 201);
    assert.deepEqual(r.pools.get(8001)!.bodies.map(String), ['{"a":1}']);
  });

  test('a POST whose connection broke is not retried: 502, it may have reached the replica', () => {
    const r = rig();
    r.balancer.applyRoutes(routes(1, [[8000], [8001]]));
    const res = r.request('POST', '/api/v1/acts', { body: 'x' });
    r.pools.get(8000)!.fail('reset', 'ECONNRESET');
    assert.equal(res.status, 502);
    assert.match(res.json().error!, /not retried/);
    assert.equal(r.pools.get(8001)!.sent.length, 0);
  });

  test('a timed-out GET goes to the next replica; a timed-out POST gets 504', () => {
    const r = rig();
    r.balancer.applyRoutes(routes(1, [[8000], [8001]]));
    const get = r.request('GET', '/api/v1/a');
    r.pools.get(8000)!.fail('timeout', 'silent');
    r.pools.get(8001)!.answer();
    assert.equal(get.status, 200);
    const post = r.request('POST', '/api/v1/a', { body: 'x' });
    const pool = [...r.pools.values()].find((p) => p.sent.length > 0)!;
    pool.fail('timeout', 'silent');
    assert.equal(post.status, 504);
  });

  test('a GET answered 502 is answered by another replica; a POST gets the 502 as it is', () => {
    const r = rig();
    r.balancer.applyRoutes(routes(1, [[8000], [8001]]));
    const get = r.request('GET', '/api/v1/a');
    r.pools.get(8000)!.answer(502, 'bad gateway');
    r.pools.get(8001)!.answer(200, 'from 8001');
    assert.deepEqual([get.status, get.body], [200, 'from 8001']);
    const post = r.request('POST', '/api/v1/a', { body: 'x' });
    const pool = [...r.pools.values()].find((p) => p.sent.length > 0)!;
    pool.answer(502, 'bad gateway');
    assert.deepEqual([post.status, post.body], [502, 'bad gateway']);
  });

  test('500 is retried only where configured; two 5xx in a row make the replica suspect', () => {
    const plain = rig();
    plain.balancer.applyRoutes(routes(1, [[8000], [8001]]));
    const first = plain.request('GET', '/api/v1/a');
    plain.pools.get(8000)!.answer(500, 'crashed');
    assert.deepEqual([first.status, first.body], [500, 'crashed'], 'not configured: the 500 as it is');

    const r = rig({ settings: { limits: { ...DEFAULT_LIMITS, retryStatuses: [500, 502, 503, 504] } } });
    r.balancer.applyRoutes(routes(1, [[8000], [8001]]));
    for (let i = 0; i < 2; i++) {
      const res = r.request('GET', '/api/v1/a');
      r.pools.get(8000)!.answer(500, 'crashed');
      r.pools.get(8001)!.answer(200, 'fine');
      assert.deepEqual([res.status, res.body], [200, 'fine']);
    }
    assert.deepEqual(r.sent, [{ type: 'suspect', id: 'r8000', outcome: 'server-error', reason: 'answered 500' }]);
    for (let i = 0; i < 3; i++) r.request('GET', '/api/v1/c');
    assert.equal(r.pools.get(8000)!.sent.length, 0, 'suspect: passed over');
  });

  test('a GET retried once at most after its replica saw it: the second 503 reaches the client', () => {
    const r = rig();
    r.balancer.applyRoutes(routes(1, [[8000], [8001], [8002]]));
    const res = r.request('GET', '/api/v1/a');
    r.pools.get(8000)!.fail('timeout', 'silent');
    r.pools.get(8001)!.answer(503, 'busy');
    assert.deepEqual([res.status, res.body], [503, 'busy']);
    assert.equal(r.pools.get(8002)!.sent.length, 0, 'no third replica');
  });

  test("a safe request carries the per-attempt head deadline; others the pool's", () => {
    const r = rig({ settings: { limits: { ...DEFAULT_LIMITS, upstreamHeaderTimeoutMs: 1234 } } });
    r.balancer.applyRoutes(routes(1, [[8000]]));
    r.request('GET', '/api/v1/a');
    r.request('POST', '/api/v1/a', { body: 'x' });
    assert.deepEqual(
      r.pools.get(8000)!.sent.map((ex) => ex.headTimeoutMs),
      [1234, 0],
    );
  });

  test("every replica's queue full: 503 with Retry-After, and no replica is made suspect", () => {
    const r = rig();
    r.balancer.applyRoutes(routes(1, [[8000], [8001]]));
    for (const pool of r.pools.values()) pool.full = true;
    const res = r.request('GET', '/api/v1/a');
    assert.equal(res.status, 503);
    assert.deepEqual(res.headers, {
      'content-type': 'application/json; charset=utf-8',
      'content-length': Buffer.byteLength(res.body),
      'retry-after': '1',
    });
    assert.deepEqual(r.sent, []);
  });

  test('no ready replica: 503 with Retry-After', () => {
    const r = rig();
    r.balancer.applyRoutes(routes(1, [[8000, false]]));
    const res = r.request('GET', '/api/v1/a');
    assert.equal(res.status, 503);
    assert.match(res.json().error!, /no ready replica of acts/);
  });

  test('a client that leaves while its request waits: nothing is written, the request is released', () => {
    const r = rig();
    r.balancer.applyRoutes(routes(1, [[8000]]));
    const res = r.request('GET', '/api/v1/slow');
    const ex = r.pools.get(8000)!.sent[0]!;
    res.emit('close'); // the client went away
    assert.equal(ex.conn, null, 'its upstream connection was dropped');
    assert.equal(r.balancer.inFlight, 0);
    assert.equal(r.balancer.shared.ownInFlight(r.balancer.shared.layout.slotOf('acts', 8000)), 0);
    assert.doesNotThrow(() => ex.onError('reset', 'late')); // a late upstream event is ignored
    assert.equal(res.status, 0);
  });

  test('drain: answered at once when idle, or when the last request in flight ends', () => {
    const r = rig();
    r.balancer.applyRoutes(routes(1, [[8000], [8001]]));
    const layout = r.balancer.shared.layout;
    r.request('GET', '/api/v1/a'); // on 8000
    r.balancer.applyRoutes(routes(2, [[8001]])); // 8000 leaves the rotation
    r.balancer.drain('r8001-not-busy', layout.slotOf('acts', 8002));
    assert.deepEqual(r.sent, [{ type: 'drained', id: 'r8001-not-busy' }]);
    r.balancer.drain('r8000', layout.slotOf('acts', 8000));
    assert.equal(r.sent.length, 1, 'still in flight');
    r.pools.get(8000)!.answer();
    assert.deepEqual(r.sent.at(-1), { type: 'drained', id: 'r8000' });
    assert.ok(r.pools.get(8000)!.closed, 'its pool was closed when it left the routes');
  });

  test('two threads sharing one buffer keep strict round robin: 6 requests → 3 and 3', () => {
    const layout = new SharedLayout(spec(2));
    const buffer = layout.create();
    const threads = [rig({ buffer, threads: 2, thread: 0 }), rig({ buffer, threads: 2, thread: 1 })];
    for (const t of threads) t.balancer.applyRoutes(routes(1, [[8000], [8001]]));
    for (const t of [0, 1, 1, 0, 0, 1]) threads[t]!.request('GET', '/api/v1/x');
    const per = (port: number) => threads.reduce((n, t) => n + t.pools.get(port)!.sent.length, 0);
    assert.deepEqual([per(8000), per(8001)], [3, 3]);
  });

  test('least-outstanding, chosen per service: a busy replica is passed over', () => {
    const r = rig({ strategies: { acts: 'least-outstanding' } });
    r.balancer.applyRoutes(routes(1, [[8000], [8001]]));
    r.request('GET', '/api/v1/slow'); // 8000, stays in flight
    r.request('GET', '/api/v1/quick'); // 8001
    r.pools.get(8001)!.answer();
    r.request('GET', '/api/v1/next'); // 8001 again: 8000 is still busy
    assert.deepEqual([r.pools.get(8000)!.sent.length, r.pools.get(8001)!.sent.length], [1, 1]);
  });

  test('local answers: bad target 400, blocked 403, admin off the listener 404, unknown path 404', async () => {
    const r = rig();
    r.balancer.applyRoutes(routes(1, [[8000]]));
    const rows: Array<[string, number, RegExp]> = [
      ['/api/v1/%2e%2e%2fx', 400, /encoded slash/],
      ['/API/v1/_CRASH', 403, /not available/],
      ['/admin/status', 404, /admin listener/],
      ['/dashboard/', 404, /admin listener/],
      ['/no/such/file', 404, /no such path/],
    ];
    for (const [url, status, error] of rows) {
      const res = r.request('GET', url);
      for (let i = 0; i < 100 && res.status === 0; i++) await new Promise((resolve) => setTimeout(resolve, 5)); // static files: fs
      assert.equal(res.status, status, url);
      assert.match(res.json().error ?? '', error, url);
    }
    assert.equal(r.pools.get(8000)!.sent.length, 0);
  });

  test('admin on the listener when configured: loopback clients naming a loopback host only', () => {
    const r = rig({ settings: { adminOnListener: true } });
    assert.equal(r.request('GET', '/admin/status', { from: '198.51.100.7' }).status, 403);
    const rebound = r.request('POST', '/admin/workers/balancer/kill', { host: 'evil.example' });
    assert.equal(rebound.status, 403, 'DNS rebinding: a loopback client, a foreign host name');
    assert.match(rebound.json().error!, /loopback host name/);
    r.request('GET', '/admin/status', { host: 'localhost:3000' });
    r.request('GET', '/dashboard/', { host: '[::1]:3000' });
    const admin = r.pools.get(3001)!;
    assert.deepEqual(
      admin.sent.map((ex) => ex.head.split('\r\n')[0]),
      ['GET /admin/status HTTP/1.1', 'GET /dashboard/ HTTP/1.1'],
    );
  });

  test('a client over its connection cap is answered 503 without reading a request', () => {
    const r = rig();
    const written: string[] = [];
    const open = () => {
      const socket = Object.assign(new EventEmitter(), {
        remoteAddress: '::ffff:203.0.113.5',
        end: (text: string) => written.push(text),
        destroy() {},
        setTimeout() {},
      });
      r.server.emit('connection', socket);
      return socket;
    };
    open();
    const second = open();
    open();
    assert.equal(written.length, 1);
    assert.match(written[0]!, /^HTTP\/1\.1 503 [\s\S]*retry-after: 1[\s\S]*too many connections from 203\.0\.113\.5/);
    second.emit('close');
    open();
    assert.equal(written.length, 1, 'a closed connection frees its place');
  });

  test('a request body that stalls: 408 and the connection closes, no replica held', () => {
    const r = rig();
    r.balancer.applyRoutes(routes(1, [[8000]]));
    const req = new FakeReq('POST', '/api/v1/acts', { remoteAddress: '127.0.0.1' }, ['Content-Length', '100']);
    const socket = Object.assign(new EventEmitter(), {
      remoteAddress: '127.0.0.9',
      localAddress: '127.0.0.1',
      localPort: 3000,
      end() {},
      destroy() {},
      setTimeout() {},
    });
    r.server.emit('connection', socket);
    Object.assign(req, { socket });
    const res = new FakeRes();
    r.server.emit('request', req, res);
    req.emit('data', Buffer.from('only a little'));
    assert.equal(r.pools.get(8000)!.sent.length, 0, 'a small body is kept whole before a replica is picked');
    r.clock.t += DEFAULT_LIMITS.bodyIdleTimeoutMs + 1;
    r.balancer.sweep();
    assert.equal(res.status, 408);
    assert.deepEqual((res.headers as Record<string, string>).connection, 'close');
    assert.equal(r.balancer.inFlight, 0);
  });
});
