// GET /metrics and GET /history against a real supervisor (process runtime, two echo replicas),
// after real traffic through its balancer: the Prometheus text parses, and its counts are the
// requests sent (by replica and status class), the latency histogram holds the slow ones where
// they belong, a held request is in flight, replicas desired and ready, heartbeat latency per
// replica, the process's CPU and memory; the history has a sample with that traffic.
// Ports 33120-33149.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { request } from 'undici';
import { SAMPLE_MS } from '../../supervisor/telemetry/history.ts';
import { parseExposition } from '../../testkit/prometheus.ts';
import {
  Admin,
  SupervisorProcess,
  echoService,
  eventually,
  http,
  removeDir,
  tempDir,
  waitUp,
  writeConfig,
} from '../../testkit/supervisor.ts';

const SUITE = 'metrics';
const LISTEN = 33120;
const ADMIN = 33121;
const ECHO = 33130;
const base = `http://127.0.0.1:${LISTEN}`;
const adminBase = `http://127.0.0.1:${ADMIN}`;

async function scrape() {
  const res = await request(`${adminBase}/metrics`);
  assert.equal(res.statusCode, 200);
  assert.match(String(res.headers['content-type']), /^text\/plain; version=0\.0\.4/);
  return parseExposition(await res.body.text());
}

describe('/metrics and /history after real traffic', { timeout: 120_000 }, () => {
  const admin = new Admin(adminBase);
  let sup: SupervisorProcess | undefined;
  let dir = '';

  before(async () => {
    dir = await tempDir(SUITE);
    const file = await writeConfig({
      suite: SUITE,
      dir,
      runtime: 'process',
      listenPort: LISTEN,
      adminPort: ADMIN,
      services: {
        echo: echoService({ replicas: { initial: 2, min: 1, max: 2 }, startPort: ECHO, routes: ['/api/v1'] }),
      },
    });
    sup = SupervisorProcess.start(file);
    await waitUp(sup, admin, { echo: 2 }, 30_000);
    await eventually(
      async () => ((await http('GET', `${base}/api/v1/_health`)).status === 200 ? true : undefined),
      'both replicas in rotation',
    );
  });

  after(async () => {
    await sup?.stop();
    await removeDir(dir);
  });

  test('requests by replica and status class, latency, in flight, replicas, heartbeat, process', async () => {
    const before = await scrape();
    const sent = { ok: 40, notFound: 6, slow: 2 };
    for (let i = 0; i < sent.ok; i++) assert.equal((await http('GET', `${base}/api/v1/things/${i}`)).status, 200);
    for (let i = 0; i < sent.notFound; i++)
      assert.equal((await http('POST', `${base}/api/v1/_release?key=none-${i}`)).status, 404);
    await Promise.all(Array.from({ length: sent.slow }, () => http('GET', `${base}/api/v1/slow?ms=300`)));
    const held = http('GET', `${base}/api/v1/hold?key=metrics`);
    await sleep(200);

    // Latency reports ride on health checks: one per interval (400 ms here).
    const x = await eventually(
      async () => {
        const now = await scrape();
        return now.find('selflessacts_heartbeat_latency_seconds').length === 2 ? now : undefined;
      },
      'heartbeat latency for both replicas',
      10_000,
    );
    const delta = (name: string, labels: Record<string, string> = {}) => x.sum(name, labels) - before.sum(name, labels);

    assert.equal(x.types.get('selflessacts_requests_total'), 'counter');
    // The health checks through the balancer above count too; what this test sent is exact.
    assert.equal(delta('selflessacts_requests_total', { service: 'echo', status: '2xx' }), sent.ok + sent.slow);
    assert.equal(delta('selflessacts_requests_total', { service: 'echo', status: '4xx' }), sent.notFound);
    const replicas = new Set(x.find('selflessacts_requests_total', { service: 'echo' }).map((s) => s.labels.replica));
    assert.deepEqual(
      [...replicas].sort(),
      [`echo-${ECHO}`, `echo-${ECHO + 1}`],
      'both replicas, named <service>-<port>',
    );
    const perReplica = [`echo-${ECHO}`, `echo-${ECHO + 1}`].map((replica) =>
      delta('selflessacts_requests_total', { replica, status: '2xx' }),
    );
    assert.ok(Math.abs(perReplica[0]! - perReplica[1]!) <= 2, `round robin shows: ${perReplica}`);

    assert.equal(x.types.get('selflessacts_request_duration_seconds'), 'histogram');
    const bucket = (le: string) => delta('selflessacts_request_duration_seconds_bucket', { service: 'echo', le });
    assert.equal(
      delta('selflessacts_request_duration_seconds_count', { service: 'echo' }),
      sent.ok + sent.notFound + sent.slow,
    );
    assert.equal(bucket('+Inf'), sent.ok + sent.notFound + sent.slow);
    assert.equal(
      bucket('0.5') - bucket('0.25'),
      sent.slow,
      'the 300 ms requests, and only they, between 0.25 and 0.5 s',
    );
    assert.ok(
      delta('selflessacts_request_duration_seconds_sum', { service: 'echo' }) >= 0.6,
      'the sum holds the slow ones',
    );

    assert.equal(x.sum('selflessacts_requests_in_flight', { service: 'echo' }), 1, 'the held request');
    assert.equal(x.sum('selflessacts_replicas_desired', { service: 'echo' }), 2);
    assert.equal(x.sum('selflessacts_replicas_ready', { service: 'echo' }), 2);
    for (const s of x.find('selflessacts_heartbeat_latency_seconds'))
      assert.ok(s.value > 0 && s.value < 0.3, JSON.stringify(s));
    assert.ok(x.sum('process_cpu_seconds_total') > 0);
    assert.ok(x.sum('process_resident_memory_bytes') > 20e6);

    // Held by whichever replica round robin chose: released on both, straight to their ports.
    for (const port of [ECHO, ECHO + 1]) await http('POST', `http://127.0.0.1:${port}/api/v1/_release?key=metrics`);
    assert.equal((await held).status, 200);
    assert.equal((await scrape()).sum('selflessacts_requests_in_flight'), 0, 'nothing in flight once answered');
  });

  test('/history: a sample per service with the traffic, the replicas and latency percentiles', async () => {
    const from = Date.now();
    for (let i = 0; i < 30; i++) await http('GET', `${base}/api/v1/things/${i}`);
    const body = await eventually(
      async () => {
        const res = await request(`${adminBase}/history?since=${from}`);
        const b = (await res.body.json()) as {
          sampleMs: number;
          services: Record<string, { t: number; rps: number; p50: number | null; p99: number | null; ready: number }[]>;
        };
        return b.services.echo?.some((s) => s.rps > 0) ? b : undefined;
      },
      'a sample with requests',
      SAMPLE_MS * 3,
    );
    assert.equal(body.sampleMs, SAMPLE_MS);
    const busy = body.services.echo!.find((s) => s.rps > 0)!;
    assert.ok(busy.t > from);
    assert.ok(busy.rps >= 30 / (SAMPLE_MS / 1000) / 2, `rps ${busy.rps}`);
    assert.ok(busy.p50 !== null && busy.p50 > 0 && busy.p50 < 100, `p50 ${busy.p50} ms`);
    assert.ok(busy.p99 !== null && busy.p99 >= busy.p50, `p99 ${busy.p99} ms`);
    assert.equal(busy.ready, 2);
  });

  test('per-replica CPU and memory from /proc (process runtime), in /status and /metrics', async () => {
    const status = await admin.waitFor(
      (s) => s.services.echo!.replicas.every((r) => r.cpuPercent !== undefined) && s,
      'usage figures',
      15_000,
    );
    for (const r of status.services.echo!.replicas) {
      assert.ok(r.memoryBytes! > 10e6 && r.memoryBytes! < 1e9, `memory ${r.memoryBytes}`);
      assert.ok(r.cpuPercent! >= 0 && r.cpuPercent! < 200, `cpu ${r.cpuPercent} %`);
    }
    const x = await scrape();
    assert.equal(x.find('selflessacts_replica_memory_bytes', { service: 'echo' }).length, 2);
    assert.ok(x.sum('selflessacts_replica_cpu_seconds_total', { replica: `echo-${ECHO}` }) > 0);
  });

  test('bad input: a POST is 405, a malformed since is 400, never a 500', async () => {
    assert.equal((await http('POST', `${adminBase}/metrics`)).status, 405);
    const bad = await http('GET', `${adminBase}/history?since=yesterday`);
    assert.equal(bad.status, 400);
    assert.match(bad.text, /"error"/);
  });
});
