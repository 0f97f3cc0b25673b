// Worker lifecycle: a worker thread that dies is restarted and given the current state. Runs
// the echo app under the process runtime (no Docker needed), which also covers that runtime's
// basic path. Ports 25000-25099.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { median } from '../../bench/stats.ts';
import { WORKER_RESTART_MEDIAN_MS } from '../../testkit/bounds.ts';
import {
  ADMIN_POST,
  echoService,
  eventually,
  http,
  replicaCount,
  resetCount,
  supervisorSuite,
  type Admin,
} from '../../testkit/supervisor.ts';

const SUITE = 'workers';
const LISTEN = 25000;
const ADMIN = 25001;
const ACTS = 25010;
const base = `http://127.0.0.1:${LISTEN}`;

describe('worker lifecycle (process runtime)', () => {
  const { admin } = supervisorSuite({
    suite: SUITE,
    adminPort: ADMIN,
    config: {
      runtime: 'process',
      listenPort: LISTEN,
      scaling: { windowSeconds: 8, requestsPerReplica: 20, dampingWindows: 0 },
      services: {
        acts: echoService({
          replicas: { initial: 2, min: 1, max: 3 },
          startPort: ACTS,
          routes: ['/api/v1'],
          autoscale: true,
        }),
      },
    },
    ready: { acts: 2 },
    readyTimeoutMs: 30_000,
  });

  /** Kill → `worker.restarted`, ms, for every kill below. */
  const restartDelays: number[] = [];

  /** Kills a worker through the admin API and waits for the supervisor's restart event. */
  async function killAndRestart(worker: string): Promise<void> {
    const since = Math.max(0, ...(await admin.events()).map((e) => e.seq));
    const killedAt = Date.now();
    assert.equal((await http('POST', `${admin.base}/workers/${worker}/kill`, ADMIN_POST)).status, 202);
    const event = await eventually(
      async () =>
        (await admin.events(since)).find(
          (e) => e.type === 'worker.restarted' && (e as unknown as { worker: string }).worker === worker,
        ),
      `${worker} restarted`,
      15_000,
    );
    restartDelays.push(Date.parse(event.time) - killedAt);
  }

  test('the process runtime runs the replicas as child processes on consecutive ports', async () => {
    const status = await admin.status();
    assert.equal(status.runtime, 'process');
    assert.deepEqual(
      status.services.acts!.replicas.map((r) => [r.port, r.url]),
      [
        [ACTS, `http://127.0.0.1:${ACTS}`],
        [ACTS + 1, `http://127.0.0.1:${ACTS + 1}`],
      ],
    );
    const env = (JSON.parse((await http('GET', `${base}/api/v1/env`)).text) as { env: Record<string, string> }).env;
    assert.equal(env.ECHO_HOST, '127.0.0.1');
    assert.equal(env.ECHO_SERVICE, 'acts');
    assert.equal(env.ECHO_PORT, String(ACTS));
  });

  test('a killed balancer is restarted with the current routes: round robin continues over both replicas', async () => {
    await killAndRestart('balancer');
    await eventually(
      async () => ((await http('GET', `${base}/api/v1/_health`)).status === 200 ? true : undefined),
      'the listener back',
      15_000,
    );
    await resetCount(ACTS);
    await resetCount(ACTS + 1);
    for (let i = 0; i < 6; i++) assert.equal((await http('GET', `${base}/api/v1/x`)).status, 200);
    assert.deepEqual([await replicaCount(ACTS), await replicaCount(ACTS + 1)], [3, 3]);
  });

  test('a killed scaler is given its open window back and still decides at its end', async (t) => {
    type W = { startedAt: string; endsAt: string; requests: number };
    const windowOf = (s: Awaited<ReturnType<Admin['status']>>) => s.services.acts!.window as unknown as W | null;
    // The kill must fall inside the window it is about: an attempt whose window ended before
    // the restarted scaler counted on (a slow machine) proves nothing either way, so it is
    // noticed from the window's own identity and made again, up to three times.
    for (let attempt = 1; ; attempt++) {
      await admin.waitFor(
        (s) => {
          const w = windowOf(s);
          return !w || Date.parse(w.endsAt) - Date.now() > 5000;
        },
        'a window with room left',
        30_000,
      );
      for (let i = 0; i < 40; i++) await http('GET', `${base}/api/v1/load/${i}`);
      const before = await admin.waitFor(
        (s) => {
          const w = windowOf(s);
          return w && w.requests >= 40 ? w : undefined;
        },
        'the requests counted',
        5000,
      );
      await killAndRestart('scaler');
      for (let i = 0; i < 5; i++) await http('GET', `${base}/api/v1/more/${i}`);
      const after = await admin.waitFor(
        (s) => {
          const w = windowOf(s);
          if (w && w.startedAt === before.startedAt && w.requests >= before.requests + 5) return w;
          return w && w.startedAt !== before.startedAt ? w : undefined; // the window moved on
        },
        'the restarted scaler to report the window',
        15_000,
      );
      if (after.startedAt === before.startedAt) break;
      t.diagnostic(`attempt ${attempt}: the window ended before the restarted scaler reported (slow machine); again`);
      assert.ok(
        attempt < 3,
        'three windows ended before a restarted scaler could report: the scaler restarts far too slowly',
      );
    }
    await admin.waitFor(
      (s) => s.services.acts!.desired === 3 && s.services.acts!.replicas.length === 3,
      '3 replicas after the window',
      20_000,
    );
  });

  test('a killed heartbeat is restarted with the targets: a crashed replica is still replaced', async () => {
    await killAndRestart('heartbeat');
    const old = (await admin.status()).services.acts!.replicas.find((r) => r.port === ACTS)!;
    assert.equal((await http('POST', `http://127.0.0.1:${ACTS}/api/v1/_crash`)).status, 200);
    const fresh = await admin.waitFor(
      (s) => {
        const r = s.services.acts!.replicas.find((x) => x.port === ACTS);
        return r && r.id !== old.id && r.state === 'ready' ? r : undefined;
      },
      'a new replica on the crashed port',
      20_000,
    );
    assert.notEqual(fresh.id, old.id);
  });

  test('restart delays', (t) => {
    t.diagnostic(`kill → worker.restarted: ${restartDelays.join(', ')} ms`);
    // One figure per kill above (balancer, scaler, heartbeat): their median is bounded.
    assert.ok(restartDelays.length >= 3, `${restartDelays.length} kills measured`);
    const ms = median(restartDelays);
    assert.ok(
      ms <= WORKER_RESTART_MEDIAN_MS,
      `kill → worker.restarted: median ${ms} ms > ${WORKER_RESTART_MEDIAN_MS} ms (${restartDelays.join(', ')})`,
    );
  });

  test("GET /memory: the process, each thread's heap, no helper process", async () => {
    const reply = await http('GET', `${admin.base}/memory`);
    assert.equal(reply.status, 200, reply.text);
    const report = JSON.parse(reply.text) as {
      process: { pid: number; rssBytes: number; pssBytes: number | null };
      threads: Array<{ thread: string; heapUsedBytes: number }>;
      helpers: unknown[];
      totalPssBytes: number;
    };
    assert.deepEqual(report.threads.map((t) => t.thread).sort(), ['balancer', 'heartbeat', 'main', 'scaler']);
    assert.ok(
      report.threads.every((t) => t.heapUsedBytes > 1_000_000),
      JSON.stringify(report.threads),
    );
    assert.ok(report.process.rssBytes > 20 * 2 ** 20 && report.totalPssBytes > 0, JSON.stringify(report.process));
    // From the sources, tsx's esbuild service is one (from the bundle there is none:
    // test/pressure/footprint.test.ts); the replicas, children too, are not helpers.
    const commands = (report.helpers as Array<{ command: string }>).map((h) => h.command);
    assert.ok(
      commands.every((c) => /esbuild --service/.test(c)),
      JSON.stringify(commands),
    );
  });

  test('the kill endpoint: unknown worker 404, wrong method 405', async () => {
    assert.equal((await http('POST', `${admin.base}/workers/nope/kill`, ADMIN_POST)).status, 404);
    assert.equal((await http('GET', `${admin.base}/workers/balancer/kill`)).status, 405);
  });
});
