// A replica's own GET /metrics (app/http/metrics.ts), as Prometheus scrapes a pod on Kubernetes:
// the real app as a process on SQLite, real requests, the text parsed back; scrapes are not
// counted; other methods are 405.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parseExposition } from '../../testkit/prometheus.ts';
import { spawnApp, type AppProcess } from './support/app-process.ts';

describe("a replica's /metrics", () => {
  let app: AppProcess | undefined;
  let url = '';
  let dir = '';

  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'sa-app-metrics-'));
    app = spawnApp({
      SERVICE: 'acts',
      USERS_URL: 'http://127.0.0.1:9',
      PORT: '0',
      HOST: '127.0.0.1',
      DATA_DIR: dir,
      SESSION_SECRET: 'metrics-test-secret-0123456789',
    });
    url = await app.started;
  });

  after(async () => {
    await app?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  const scrape = async () => {
    const res = await fetch(`${url}/metrics`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    return parseExposition(await res.text());
  };

  test("answers counted by status class, latency observed, in the supervisor's names", async () => {
    const before = await scrape();
    for (let i = 0; i < 5; i++) assert.ok((await fetch(`${url}/api/v1/categories`)).ok); // 204 while there are none
    for (let i = 0; i < 3; i++) assert.equal((await fetch(`${url}/api/v1/nothing-here`)).status, 404);
    const x = await scrape();
    const delta = (name: string, labels: Record<string, string>) => x.sum(name, labels) - before.sum(name, labels);
    assert.equal(x.types.get('selflessacts_requests_total'), 'counter');
    assert.equal(
      delta('selflessacts_requests_total', { service: 'acts', status: '2xx' }),
      5,
      'scrapes are not counted',
    );
    assert.equal(delta('selflessacts_requests_total', { service: 'acts', status: '4xx' }), 3);
    assert.equal(delta('selflessacts_request_duration_seconds_count', { service: 'acts' }), 8);
    assert.equal(x.types.get('selflessacts_request_duration_seconds'), 'histogram');
  });

  test('a POST to /metrics is 405 with a JSON error', async () => {
    const res = await fetch(`${url}/metrics`, { method: 'POST' });
    assert.equal(res.status, 405);
    assert.match(await res.text(), /"error"/);
  });
});
