// The transport against local unix-socket servers we control: what happens when nothing
// listens, when the server never answers, and how queries and DOCKER_HOST are read.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { DockerEngine, defaultSocketPath, isEngineError } from '../../engine-client/index.ts';
import { encodeQuery } from '../../engine-client/transport.ts';
import { encodeFilters, labelFilterValues } from '../../engine-client/filters.ts';

describe('engine-client transport', () => {
  let dir = '';
  let server: Server;
  const seen: string[] = [];

  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'sa-engine-transport-'));
    server = createServer((req, res) => {
      seen.push(`${req.method} ${req.url}`);
      if (req.url === '/_ping') {
        res.setHeader('Api-Version', '1.43');
        res.end('OK');
      } else if (req.url?.includes('/containers/json')) {
        res.setHeader('content-type', 'application/json');
        res.end('[]');
      } else if (req.url?.includes('/broken')) {
        res.statusCode = 500;
        res.end('plain text failure');
      }
      // anything else: never answered (the TIMEOUT case)
    });
    await new Promise<void>((resolve) => server.listen(path.join(dir, 'engine.sock'), resolve));
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await rm(dir, { recursive: true, force: true });
  });

  test('nothing listening on the socket is ENGINE_UNAVAILABLE, naming the socket', async () => {
    const engine = new DockerEngine({ socketPath: path.join(dir, 'nobody.sock') });
    try {
      const error = await engine.system.ping().then(
        () => undefined,
        (e: unknown) => e,
      );
      assert.ok(isEngineError(error), String(error));
      assert.equal(error.code, 'ENGINE_UNAVAILABLE');
      assert.match(error.message, /nobody\.sock/);
      // Negotiation failed too, and is retried on the next call rather than cached.
      await assert.rejects(engine.apiVersion(), (e: unknown) => isEngineError(e) && e.code === 'ENGINE_UNAVAILABLE');
    } finally {
      await engine.close();
      await engine.close(); // twice is fine
    }
  });

  test('the version comes from /_ping once; calls use /v<version>/ and encoded queries', async () => {
    const engine = new DockerEngine({ socketPath: path.join(dir, 'engine.sock') });
    try {
      seen.length = 0;
      await engine.containers.list({
        all: true,
        labels: { 'selflessacts.service': 'acts', 'selflessacts.test': true },
      });
      await engine.containers.list();
      const filters = encodeURIComponent(JSON.stringify({ label: ['selflessacts.service=acts', 'selflessacts.test'] }));
      assert.deepEqual(seen, [
        'GET /_ping',
        `GET /v1.43/containers/json?all=1&filters=${filters}`,
        'GET /v1.43/containers/json',
      ]);
    } finally {
      await engine.close();
    }
  });

  test('an ordinary call that gets no answer fails with TIMEOUT after timeoutMs', async () => {
    const engine = new DockerEngine({ socketPath: path.join(dir, 'engine.sock'), timeoutMs: 300 });
    try {
      const started = Date.now();
      const error = await engine.containers.inspect('hangs').then(
        () => undefined,
        (e: unknown) => e,
      );
      assert.ok(isEngineError(error), String(error));
      assert.equal(error.code, 'TIMEOUT');
      assert.equal(error.path, '/containers/hangs/json');
      assert.ok(Date.now() - started < 3000);
    } finally {
      await engine.close();
    }
  });

  test('a non-JSON error body becomes the message; an abort is ABORTED', async () => {
    const engine = new DockerEngine({ socketPath: path.join(dir, 'engine.sock'), apiVersion: '1.41' });
    try {
      const error = await engine.images.inspect('broken').then(
        () => undefined,
        (e: unknown) => e,
      );
      assert.ok(isEngineError(error));
      assert.deepEqual([error.code, error.status, error.engineMessage], ['SERVER_ERROR', 500, 'plain text failure']);

      const controller = new AbortController();
      const waiting = engine.containers.wait('hangs', { signal: controller.signal });
      setTimeout(() => controller.abort(), 50);
      await assert.rejects(waiting, (e: unknown) => isEngineError(e) && e.code === 'ABORTED');
    } finally {
      await engine.close();
    }
  });

  test('DOCKER_HOST: unix:// is honoured, anything else is refused with the expected form', () => {
    assert.equal(defaultSocketPath({}), '/var/run/docker.sock');
    assert.equal(defaultSocketPath({ DOCKER_HOST: 'unix:///run/user/1000/docker.sock' }), '/run/user/1000/docker.sock');
    assert.throws(() => defaultSocketPath({ DOCKER_HOST: 'tcp://10.0.0.1:2375' }), /expected unix:\/\/\/path/);
  });

  test('queries and filters', () => {
    const cases: Array<[string, Parameters<typeof encodeQuery>[0], string]> = [
      ['nothing', undefined, ''],
      ['undefined values are left out', { a: undefined }, ''],
      ['booleans as 1/0', { force: true, v: false }, '?force=1&v=0'],
      ['arrays repeat the key', { t: ['a:1', 'b:2'] }, '?t=a%3A1&t=b%3A2'],
      ['numbers', { t: 10 }, '?t=10'],
    ];
    for (const [name, query, expected] of cases) assert.equal(encodeQuery(query), expected, name);
    assert.deepEqual(labelFilterValues({ a: 'b', c: true }), ['a=b', 'c']);
    assert.equal(encodeFilters({ label: [], type: undefined }), undefined);
    assert.equal(encodeFilters({ label: ['a=b'], type: ['container'] }), '{"label":["a=b"],"type":["container"]}');
  });
});
