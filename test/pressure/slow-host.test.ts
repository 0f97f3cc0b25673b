// Health checks that come back late from replicas that are alive (a host so busy that every
// check waits, or a dependency that answers slowly): the shipped heartbeat (800 ms timeout,
// 3 in a row, liveness 5 s), three echo replicas whose checks all take 1.5 s for 15 s. They
// leave the rotation only while at least half stay in (heartbeat.maxEjectedPercent), none is
// killed, and no request through the balancer fails; once their checks are quick again, all are
// back in rotation. With the health check deciding life and death alone, all three were
// killed. Real containers. Ports 33200-33249.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { FaultLoad } from '../../testkit/fault-load.ts';
import { TEST_ENGINE } from '../../testkit/engine.ts';
import { echoService, http, supervisorSuite } from '../../testkit/supervisor.ts';
import { skipUnlessEngine } from '../helpers/requirements.ts';
import { BEFORE, eventsOf, lastSeq, recordRow } from './support.ts';

const LISTEN = 33200;
const ADMIN = 33201;
const ECHO = 33210;
const SLOW_MS = 1500;
const skip = await skipUnlessEngine();

describe('pressure: every health check late by 1.5 s, the replicas alive', { skip, timeout: 240_000 }, () => {
  const engine = skip ? undefined : TEST_ENGINE.client();
  const base = `http://127.0.0.1:${LISTEN}`;
  const { admin } = supervisorSuite({
    suite: 'pressure-slow',
    adminPort: ADMIN,
    ...(engine ? { engine } : {}),
    config: {
      runtime: TEST_ENGINE.name,
      listenPort: LISTEN,
      heartbeat: { intervalMs: 1000, timeoutMs: 800, failureThreshold: 3, fastIntervalMs: 200 },
      services: {
        echo: {
          ...echoService({ replicas: { initial: 3, min: 3, max: 3 }, startPort: ECHO, routes: ['/api/v1'] }),
          ...(BEFORE ? {} : { livenessPath: '/api/v1/_live' }),
        },
      },
    },
    ready: { echo: 3 },
    readyTimeoutMs: 60_000,
  });

  test('at most half out of rotation at once, none killed, no request failed, all back after', async (t) => {
    const seq = await lastSeq(admin);
    const load = new FaultLoad({
      origin: base,
      readers: 3,
      writers: 1,
      read: (_c, i) => ({ method: 'GET', path: `/api/v1/read/${i}` }),
      write: (_c, i) => ({ method: 'POST', path: '/api/v1/write', body: JSON.stringify({ i }) }),
      pauseMs: 20,
      maxMs: 60_000,
    });
    load.start();
    const ports = [ECHO, ECHO + 1, ECHO + 2];
    for (const port of ports)
      assert.equal((await http('POST', `http://127.0.0.1:${port}/api/v1/_slow?ms=${SLOW_MS}`)).status, 200);
    let mostOut = 0;
    for (const until = Date.now() + 15_000; Date.now() < until; await sleep(200)) {
      const replicas = (await admin.status()).services.echo!.replicas;
      mostOut = Math.max(mostOut, replicas.filter((r) => r.state === 'ready' && r.inRotation === false).length);
    }
    const quick = await Promise.all(ports.map((port) => http('POST', `http://127.0.0.1:${port}/api/v1/_slow?ms=0`)));
    assert.deepEqual(
      quick.map((r) => r.status),
      [200, 200, 200],
    );
    const back = Date.now();
    await admin.waitFor(
      (s) =>
        (s.services.echo!.replicas.length === 3 &&
          s.services.echo!.replicas.every((r) => r.state === 'ready' && r.inRotation !== false)) ||
        undefined,
      'all back in rotation',
      30_000,
    );
    const backMs = Date.now() - back;
    await load.stop();
    const figures = load.figures();
    const events = await eventsOf(
      admin,
      ['replica.failed', 'replica.unready', 'replica.restored', 'replica.kept'],
      seq,
    );
    const count = (type: string) => events.filter((e) => e.type === type).length;
    t.diagnostic(
      `${figures.reads + figures.writes} requests, ${figures.failedReads + figures.failedWrites} failed; at most ${mostOut} of 3 out of rotation at once; events: ${count('replica.unready')} out, ${count('replica.kept')} kept by the limit, ${count('replica.restored')} back (all within ${backMs} ms of the checks being quick again), ${count('replica.failed')} failed`,
    );
    await recordRow('slow-host', {
      slowMs: SLOW_MS,
      requests: figures.reads + figures.writes,
      failedRequests: figures.failedReads + figures.failedWrites,
      mostOutOfRotation: mostOut,
      keptByLimit: count('replica.kept'),
      replicasKilled: count('replica.failed'),
      backInRotationMs: backMs,
    });
    assert.deepEqual(
      events.filter((e) => e.type === 'replica.failed').map((e) => e.reason),
      [],
      'none killed',
    );
    assert.ok(mostOut <= 1, `${mostOut} of 3 out at once: at most floor(3 × 50 %)`);
    // One goes out, the limit keeps the others; as the checks turn quick again one by one, the
    // room the first leaves may take another out for a moment: never more than one at a time.
    assert.ok(count('replica.unready') >= 1, 'one taken out (the limit lets one go)');
    assert.ok(count('replica.kept') >= 2, 'the others kept, and said so');
    assert.equal(figures.failedReads + figures.failedWrites, 0, JSON.stringify(figures.failures));
  });
});
