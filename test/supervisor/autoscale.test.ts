// Autoscaling against real containers, with a 6 s window: 20 requests → 2 replicas on the
// start port and the next; then a quiet window → back to 1, the highest port drained first
// so a slow request in flight to it completes. Ports 23000-23099.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { DockerEngine } from '../../engine-client/index.ts';
import { dockerAvailable, skipUnless } from '../helpers/requirements.ts';
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
const skip = skipUnless(await dockerAvailable(), 'Docker Engine');

describe('autoscaling (real containers, 6 s windows)', { skip }, () => {
  const engine = new DockerEngine();
  const { admin } = supervisorSuite({
    suite: SUITE,
    adminPort: ADMIN,
    engine,
    config: {
      runtime: 'docker',
      listenPort: LISTEN,
      scaling: { windowSeconds: WINDOW_SECONDS, requestsPerReplica: 20, dampingWindows: 0 },
      services: { acts: echoService({ replicas: { initial: 1, min: 1, max: 3 }, startPort: START, routes: ['/api/v1'], autoscale: true }) },
    },
    ready: { acts: 1 },
    readyTimeoutMs: 60_000,
  });

  test('no window before the first counted request; health and _count are not counted', async () => {
    await http('GET', `${base}/api/v1/_count`);
    await http('GET', `${base}/api/v1/_health`);
    await http('GET', `${base}/`);
    await sleep(1200); // one report interval
    assert.equal((await admin.status()).services.acts!.window, null);
  });

  test('20 requests in a window → 2 replicas, on the start port and the next', async () => {
    for (let i = 0; i < 20; i++) assert.equal((await http('GET', `${base}/api/v1/item/${i}`)).status, 200);
    const window = await admin.waitFor((s) => s.services.acts!.window?.requests === 20 && s.services.acts!.window, 'K = 20 in the status', 5000);
    assert.equal(window.nextDesired, 2);
    assert.equal(window.nextThreshold, 40);
    const replicas = await admin.waitReady('acts', 2, WINDOW_SECONDS * 1000 + 20_000);
    assert.deepEqual(replicas.map((r) => r.port), [START, START + 1]);
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

  test('a quiet window → back to 1: the highest port is drained, a slow request in flight completes', async () => {
    const status = await admin.status();
    const endsAt = Date.parse((status.services.acts!.window as unknown as { endsAt: string }).endsAt);
    const high = status.services.acts!.replicas.find((r) => r.port === START + 1)!;
    const highInstance = String((await http('GET', `http://127.0.0.1:${START + 1}/api/v1/_health`)).headers['x-replica']);
    // Two slow requests 1.5 s before the window ends: round robin sends one to each replica,
    // and they are still running when the scale-down begins.
    await sleep(Math.max(0, endsAt - Date.now() - 1500));
    const slow = [0, 1].map(() =>
      http('GET', `${base}/api/v1/slow?ms=3500`).then((reply) => ({ reply, at: Date.now() })),
    );
    const draining = await admin.waitFor(
      (s) => s.services.acts!.replicas.find((r) => r.id === high.id && r.state === 'draining'),
      'the high replica draining',
      8000,
    );
    assert.equal(draining.port, START + 1);
    const done = await Promise.all(slow);
    assert.deepEqual(done.map((d) => d.reply.status), [200, 200], 'no request cut');
    const fromHigh = done.find((d) => d.reply.headers['x-replica'] === highInstance);
    assert.ok(fromHigh, 'one slow request went to the replica being removed');
    const replicas = await admin.waitReady('acts', 1, 20_000);
    assert.equal(replicas[0]!.port, START);
    const events = await admin.events();
    const stopped = events.find((e) => e.type === 'replica.stopped' && e.id === high.id)!;
    assert.match(stopped.reason, /scaled down to 1/);
    assert.ok(Date.parse(stopped.time) >= fromHigh.at - 50, 'stopped only after its request finished');
    assert.ok(events.some((e) => e.type === 'scaled' && /2 → 1/.test(e.reason)));
    await eventually(async () => {
      const ports = [...(await containersByPort(engine, SUITE)).keys()];
      return ports.length === 1 && ports[0] === START ? true : undefined;
    }, 'one container left', 10_000);
  });
});
