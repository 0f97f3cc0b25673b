// The course scenario end to end (issue 4), with the real acts:latest and users:latest
// containers, the shipped config's heartbeat (1 s, 3 failures) and a 20 s window:
// one acts replica; 20 requests → two after the window, the new one on start port + 1; 6
// requests split 3/3; _crash on the first → a new container id on the same port, healthy,
// still two, split evenly again; a quiet window → one. Ports 27000-27099.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { skipUnlessEngine } from '../helpers/requirements.ts';
import { TEST_ENGINE } from '../../testkit/engine.ts';
import { CRASH_TO_ROTATION_ROUND_MS } from '../../testkit/bounds.ts';
import { shippedSetup } from '../../testkit/shipped-config.ts';
import {
  containersByPort,
  eventually,
  http,
  replicaCount,
  resetCount,
  supervisorSuite,
} from '../../testkit/supervisor.ts';

const SUITE = 'course';
const LISTEN = 27000;
const ADMIN = 27001;
const USERS = 27010;
const ACTS = 27020;
const WINDOW_SECONDS = 20;
const base = `http://127.0.0.1:${LISTEN}`;
const skip = await skipUnlessEngine();

describe('the course scenario (real acts and users containers)', { skip, timeout: 240_000 }, () => {
  const engine = TEST_ENGINE.client();
  const { admin } = supervisorSuite(
    shippedSetup(engine, {
      suite: SUITE,
      listenPort: LISTEN,
      adminPort: ADMIN,
      actsPort: ACTS,
      usersPort: USERS,
      overrides: { scaling: { windowSeconds: WINDOW_SECONDS, requestsPerReplica: 20, dampingWindows: 0 } },
    }),
  );

  const actsContainers = async () =>
    [...(await containersByPort(engine, SUITE)).entries()]
      .filter(([port]) => port >= ACTS && port < ACTS + 10)
      .sort(([a], [b]) => a - b);

  async function splitEvenly(): Promise<void> {
    await resetCount(ACTS);
    await resetCount(ACTS + 1);
    for (let i = 0; i < 6; i++) assert.ok([200, 204].includes((await http('GET', `${base}/api/v1/categories`)).status));
    assert.deepEqual([await replicaCount(ACTS), await replicaCount(ACTS + 1)], [3, 3]);
  }

  test('1 → 2 after 20 requests, even split, _crash replaced on the same port, even split, quiet window → 1', async (t) => {
    // One acts replica on the start port, healthy.
    assert.deepEqual(
      (await actsContainers()).map(([port, list]) => [port, list.length]),
      [[ACTS, 1]],
    );
    assert.equal((await http('GET', `http://127.0.0.1:${ACTS}/api/v1/_health`)).status, 200);

    // 20 API requests through the listen port; after the window, exactly two acts containers.
    for (let i = 0; i < 20; i++)
      assert.ok([200, 204].includes((await http('GET', `${base}/api/v1/categories`)).status));
    const windowEnd = Date.parse(
      ((await admin.waitFor((s) => s.services.acts!.window, 'the window', 5000)) as unknown as { endsAt: string })
        .endsAt,
    );
    const two = await admin.waitReady('acts', 2, WINDOW_SECONDS * 1000 + 60_000);
    assert.deepEqual(
      two.map((r) => r.port),
      [ACTS, ACTS + 1],
    );
    t.diagnostic(`window end → second replica ready: ${Date.now() - windowEnd} ms`);
    assert.deepEqual(
      (await actsContainers()).map(([port, list]) => [port, list.length]),
      [
        [ACTS, 1],
        [ACTS + 1, 1],
      ],
    );

    // 6 requests split 3 and 3.
    await splitEvenly();

    // _crash on the start port → a new container id there, healthy, still two.
    const old = two[0]!;
    const crashedAt = performance.now();
    assert.equal((await http('POST', `http://127.0.0.1:${ACTS}/api/v1/_crash`)).status, 200);
    const fresh = await admin.waitFor(
      (s) => {
        const r = s.services.acts!.replicas.find((x) => x.port === ACTS);
        return r && r.id !== old.id && r.state === 'ready' ? r : undefined;
      },
      'a new healthy replica on the start port',
      30_000,
    );
    const ms = Math.round(performance.now() - crashedAt);
    t.diagnostic(`_crash → new healthy replica in rotation (real app, heartbeat 1 s x 3): ${ms} ms`);
    // One round here; timings.test.ts bounds the median of several (testkit/bounds.ts).
    assert.ok(
      ms <= CRASH_TO_ROTATION_ROUND_MS,
      `_crash → new replica ready took ${ms} ms, bound ${CRASH_TO_ROTATION_ROUND_MS} ms`,
    );
    const events = await admin.events();
    const at = (type: string, id: string) => Date.parse(events.find((e) => e.type === type && e.id === id)!.time);
    const crashEpoch = Date.now() - ms;
    t.diagnostic(
      `timeline from _crash: failed +${at('replica.failed', old.id) - crashEpoch} ms, removed +${at('replica.stopped', old.id) - crashEpoch} ms, ` +
        `new container +${at('replica.replaced', fresh.id) - crashEpoch} ms, ready +${at('replica.ready', fresh.id) - crashEpoch} ms`,
    );
    assert.notEqual(fresh.id, old.id);
    const containers = await actsContainers();
    assert.deepEqual(
      containers.map(([port, list]) => [port, list.length]),
      [
        [ACTS, 1],
        [ACTS + 1, 1],
      ],
      'still two',
    );
    assert.equal(containers[0]![1][0]!.id, fresh.id);
    assert.ok(Date.now() < windowEnd + WINDOW_SECONDS * 1000, 'still inside the second window (test timing)');

    // Requests split evenly again.
    await splitEvenly();

    // The second window holds only the 12 check requests: after it, one container.
    const one = await admin.waitReady('acts', 1, WINDOW_SECONDS * 1000 + 30_000);
    assert.equal(one[0]!.port, ACTS);
    await eventually(
      async () => ((await actsContainers()).length === 1 ? true : undefined),
      'one acts container',
      15_000,
    );
  });
});
