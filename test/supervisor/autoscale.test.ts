// Autoscaling against real containers, with a 6 s window: 20 requests → 2 replicas on the
// start port and the next; then a quiet window → back to 1, the highest port drained first
// so a slow request in flight to it completes. Ports 23000-23099.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { skipUnlessEngine } from '../helpers/requirements.ts';
import { TEST_ENGINE } from '../../testkit/engine.ts';
import {
  containersByPort,
  echoService,
  eventually,
  http,
  replicaCount,
  resetCount,
  supervisorSuite,
} from '../../testkit/supervisor.ts';

const SUITE = 'autoscale';
const LISTEN = 23000;
const ADMIN = 23001;
const START = 23010;
const WINDOW_SECONDS = 6;
const base = `http://127.0.0.1:${LISTEN}`;
const skip = await skipUnlessEngine();

describe('autoscaling (real containers, 6 s windows)', { skip }, () => {
  const engine = TEST_ENGINE.client();
  const { admin } = supervisorSuite({
    suite: SUITE,
    adminPort: ADMIN,
    engine,
    config: {
      runtime: TEST_ENGINE.name,
      listenPort: LISTEN,
      scaling: { windowSeconds: WINDOW_SECONDS, requestsPerReplica: 20, dampingWindows: 0 },
      // Room for the test to see the drain and release the request it waits for.
      extra: { drainTimeoutMs: 30_000 },
      services: {
        acts: echoService({
          replicas: { initial: 1, min: 1, max: 3 },
          startPort: START,
          routes: ['/api/v1'],
          autoscale: true,
        }),
      },
    },
    ready: { acts: 1 },
    readyTimeoutMs: 60_000,
  });

  test('no window before the first counted request; health and _count are not counted', async () => {
    const servedNow = async () => (await admin.status()).services.acts!.replicas[0]!.requestsServed;
    const served = await servedNow();
    await http('GET', `${base}/api/v1/_count`);
    await http('GET', `${base}/api/v1/_health`);
    await http('GET', `${base}/`);
    // The balancer's report of those two proxied requests has reached the supervisor (the
    // replica's served count): the scaler had it too.
    await eventually(
      async () => ((await servedNow()) >= served + 2 ? true : undefined),
      'the report of the two requests',
      5000,
    );
    // One report later (another uncounted request, reported a second after), a window the
    // scaler had opened for them would long be in the status.
    await http('GET', `${base}/api/v1/_health`);
    await eventually(async () => ((await servedNow()) >= served + 3 ? true : undefined), 'the next report', 5000);
    assert.equal((await admin.status()).services.acts!.window, null);
  });

  test('20 requests in a window → 2 replicas, on the start port and the next', async () => {
    for (let i = 0; i < 20; i++) assert.equal((await http('GET', `${base}/api/v1/item/${i}`)).status, 200);
    const window = await admin.waitFor(
      (s) => s.services.acts!.window?.requests === 20 && s.services.acts!.window,
      'K = 20 in the status',
      5000,
    );
    assert.equal(window.nextDesired, 2);
    assert.equal(window.nextThreshold, 40);
    const replicas = await admin.waitReady('acts', 2, WINDOW_SECONDS * 1000 + 20_000);
    assert.deepEqual(
      replicas.map((r) => r.port),
      [START, START + 1],
    );
    const scaled = (await admin.events()).find((e) => e.type === 'scaled' && e.service === 'acts');
    assert.ok(scaled, 'a scaled event');
    assert.match(scaled.reason, /1 → 2: 20 requests \/ 20 per replica \+ 1 = 2/);
    const onPorts = await containersByPort(engine, SUITE);
    assert.deepEqual([...onPorts.keys()].sort(), [START, START + 1]);

    await resetCount(START);
    await resetCount(START + 1);
    for (let i = 0; i < 6; i++) await http('GET', `${base}/api/v1/split/${i}`);
    assert.deepEqual([await replicaCount(START), await replicaCount(START + 1)], [3, 3]);
  });

  test('a quiet window → back to 1: the highest port is drained, a request in flight completes', async () => {
    const [, high] = await admin.waitReady('acts', 2);
    const highInstance = String(
      (await http('GET', `http://127.0.0.1:${START + 1}/api/v1/_health`)).headers['x-replica'],
    );
    // Two requests held by the replicas until the test releases them: round robin sends one to
    // each. They are in flight for as long as it takes, so no timing decides whether the
    // scale-down finds one in flight on the replica it removes.
    await resetCount(START);
    await resetCount(START + 1);
    const held = [0, 1].map((i) =>
      http('GET', `${base}/api/v1/hold?key=k${i}`).then((reply) => ({ reply, at: Date.now() })),
    );
    await eventually(
      async () => {
        const counts = [await replicaCount(START), await replicaCount(START + 1)];
        return counts.every((n) => n >= 1) ? true : undefined;
      },
      'both held requests at their replicas',
      5000,
    );
    const draining = await admin.waitFor(
      (s) => s.services.acts!.replicas.find((r) => r.id === high!.id && r.state === 'draining'),
      'the high replica draining',
      WINDOW_SECONDS * 2000 + 10_000,
    );
    assert.equal(draining.port, START + 1);
    // Draining waits for its request: the replica is still there, not stopped.
    const stoppedEarly = (await admin.events()).find((e) => e.type === 'replica.stopped' && e.id === high!.id);
    assert.equal(stoppedEarly, undefined, 'not stopped while a request is in flight');
    for (const port of [START, START + 1]) {
      for (const key of ['k0', 'k1']) await http('POST', `http://127.0.0.1:${port}/api/v1/_release?key=${key}`);
    }
    const done = await Promise.all(held);
    assert.deepEqual(
      done.map((d) => d.reply.status),
      [200, 200],
      'no request cut',
    );
    assert.ok(
      done.some((d) => d.reply.headers['x-replica'] === highInstance),
      'one held request was on the replica being removed',
    );
    const replicas = await admin.waitReady('acts', 1, 20_000);
    assert.equal(replicas[0]!.port, START);
    const events = await admin.events();
    const stopped = events.find((e) => e.type === 'replica.stopped' && e.id === high!.id)!;
    assert.match(stopped.reason, /scaled down to 1/);
    assert.ok(events.some((e) => e.type === 'scaled' && /2 → 1/.test(e.reason)));
    await eventually(
      async () => {
        const ports = [...(await containersByPort(engine, SUITE)).keys()];
        return ports.length === 1 && ports[0] === START ? true : undefined;
      },
      'one container left',
      10_000,
    );
  });
});
