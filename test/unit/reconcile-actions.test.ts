// The reconcile plan's actions in full (kind, drain, failure, the reason the operator reads in
// events), its boundaries (the start timeout, the backoff's instant), two services side by side,
// staggered starts, and the rolling replacement's order: what supervisor-reconcile.test.ts's
// summaries do not show. Written from the mutants StrykerJS found unchecked (npm run mutate).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  plan,
  rollingServices,
  slotKey,
  surgePort,
  type Action,
  type PlanInput,
  type PlanReplica,
  type PlanService,
} from '../../supervisor/fleet/reconcile.ts';

const NOW = 100_000;
const TIMEOUT = 30_000;

const replica = (
  id: string,
  port: number,
  state: PlanReplica['state'] = 'ready',
  extra: Partial<PlanReplica> = {},
): PlanReplica => ({ id, service: 'acts', port, state, trackedSince: NOW - 1000, startedAt: NOW - 1000, ...extra });

const acts = (desired: number, extra: Partial<PlanService> = {}): PlanService => ({
  name: 'acts',
  startPort: 8000,
  desired,
  max: 5,
  ...extra,
});

function input(services: PlanService[], replicas: PlanReplica[], extra: Partial<PlanInput> = {}): PlanInput {
  return {
    now: NOW,
    services,
    replicas,
    busy: new Set(),
    starting: new Set(),
    allowedAt: () => 0,
    startTimeoutMs: TIMEOUT,
    ...extra,
  };
}

const removal = (id: string, drain: boolean, reason: string, failure = false): Action => ({
  kind: 'remove',
  id,
  drain,
  failure,
  reason,
});

describe('reconcile: each removal in full, with the reason the events show', () => {
  test('a replica of a service no longer in the config: drained if it was serving', () => {
    const actions = plan(
      input(
        [acts(0)],
        [
          replica('gone-ready', 9000, 'ready', { service: 'old' }),
          replica('gone-starting', 9001, 'starting', { service: 'old' }),
        ],
      ),
    );
    assert.deepEqual(actions, [
      removal('gone-ready', true, 'service old is not in the config'),
      removal('gone-starting', false, 'service old is not in the config'),
    ]);
  });

  test('failed, stopping and draining replicas: each finished with its own reason', () => {
    const actions = plan(
      input([acts(3)], [replica('f', 8000, 'failed'), replica('s', 8001, 'stopping'), replica('d', 8002, 'draining')]),
    );
    assert.deepEqual(actions, [
      removal('f', false, 'replacing a failed replica'),
      removal('s', false, 'finishing an interrupted stop'),
      removal('d', true, 'finishing an interrupted drain'),
    ]);
  });

  test('the start timeout: not at it, only past it, and then as a failure', () => {
    const at = plan(input([acts(1)], [replica('a', 8000, 'starting', { trackedSince: NOW - TIMEOUT })]));
    assert.deepEqual(at, []);
    const past = plan(input([acts(1)], [replica('a', 8000, 'starting', { trackedSince: NOW - TIMEOUT - 1 })]));
    assert.deepEqual(past, [removal('a', false, `not healthy within ${TIMEOUT} ms of starting`, true)]);
  });

  test('scaled down: the reason names the desired count and the port', () => {
    const actions = plan(input([acts(1)], [replica('a', 8000), replica('b', 8001, 'starting')]));
    assert.deepEqual(actions, [removal('b', false, 'scaled down to 1: port 8001 is no longer wanted')]);
  });

  test('two on one port: the ready one stays even when it is the younger; of two starting, the older', () => {
    const readyYounger = plan(
      input(
        [acts(1)],
        [
          replica('old-starting', 8000, 'starting', { startedAt: NOW - 2000 }),
          replica('new-ready', 8000, 'ready', { startedAt: NOW }),
        ],
      ),
    );
    assert.deepEqual(readyYounger, [removal('old-starting', false, 'duplicate on port 8000')]);
    const bothStarting = plan(
      input(
        [acts(1)],
        [
          replica('young', 8000, 'starting', { startedAt: NOW }),
          replica('old', 8000, 'starting', { startedAt: NOW - 500 }),
        ],
      ),
    );
    assert.deepEqual(bothStarting, [removal('young', false, 'duplicate on port 8000')]);
    const bothReady = plan(
      input(
        [acts(1)],
        [replica('young', 8000, 'ready', { startedAt: NOW }), replica('old', 8000, 'ready', { startedAt: NOW - 500 })],
      ),
    );
    assert.deepEqual(bothReady, [removal('young', true, 'duplicate on port 8000')], 'a serving duplicate is drained');
  });
});

describe('reconcile: services side by side, slots and instants', () => {
  const users = (desired: number): PlanService => ({ name: 'users', startPort: 9000, desired, max: 3 });

  test('each service counts only its own replicas', () => {
    const replicas = [replica('a', 8000), replica('u', 9000, 'ready', { service: 'users' })];
    assert.deepEqual(plan(input([acts(1), users(1)], replicas)), []);
    assert.deepEqual(plan(input([acts(1), users(0)], replicas)), [
      removal('u', true, 'scaled down to 0: port 9000 is no longer wanted'),
    ]);
    assert.deepEqual(plan(input([acts(2), users(1)], replicas)), [{ kind: 'start', service: 'acts', port: 8001 }]);
  });

  test('a start in progress holds its own slot only', () => {
    assert.equal(slotKey('acts', 8000), 'acts:8000');
    const actions = plan(input([acts(1), users(1)], [], { starting: new Set([slotKey('users', 9000)]) }));
    assert.deepEqual(actions, [{ kind: 'start', service: 'acts', port: 8000 }]);
  });

  test('the backoff holds a slot until its instant, not at it', () => {
    const at = plan(input([acts(1)], [], { allowedAt: () => NOW }));
    assert.deepEqual(at, [{ kind: 'start', service: 'acts', port: 8000 }]);
    const before = plan(input([acts(1)], [], { allowedAt: () => NOW + 1 }));
    assert.deepEqual(before, []);
  });

  test('staggered starts: at most maxStarting booting, counting those already booting; removals are never held', () => {
    const fresh = plan(input([acts(3)], [], { maxStarting: 1 }));
    assert.deepEqual(fresh, [{ kind: 'start', service: 'acts', port: 8000 }]);
    const oneBooting = plan(input([acts(3)], [replica('a', 8000, 'starting')], { maxStarting: 2 }));
    assert.deepEqual(oneBooting, [{ kind: 'start', service: 'acts', port: 8001 }]);
    const adoptedIsNotBooting = plan(
      input([acts(2)], [replica('a', 8000, 'starting', { adopted: true })], { maxStarting: 1 }),
    );
    assert.deepEqual(adoptedIsNotBooting, [{ kind: 'start', service: 'acts', port: 8001 }]);
    const full = plan(input([acts(1), users(1)], [replica('x', 8005, 'failed')], { maxStarting: 0 }));
    assert.deepEqual(full, [removal('x', false, 'replacing a failed replica')]);
  });

  test('the surge port: just above the wanted ones, none at max or while another process holds it', () => {
    assert.equal(surgePort(acts(2)), 8002);
    assert.equal(surgePort(acts(5)), undefined);
    assert.equal(surgePort(acts(2, { surgePortTaken: true })), undefined);
    assert.equal(surgePort(acts(2, { surgePortTaken: false })), 8002);
  });
});

describe('reconcile: the rolling replacement', () => {
  const drifted = (...ids: string[]) => new Map(ids.map((id) => [id, 'image']));

  test('lowest port first, whatever order the replicas are listed in; a roll names what changed', () => {
    const replicas = [replica('b', 8001), replica('a', 8000), replica('s', 8002)];
    const actions = plan(input([acts(2)], replicas, { drifted: drifted('b', 'a'), rolling: new Set(['acts']) }));
    assert.deepEqual(actions, [
      { ...removal('a', true, 'rolling replacement: spec changed (image)'), replace: 'image' },
    ]);
  });

  test("another service's start or removal does not hold this service's roll", () => {
    const replicas = [replica('a', 8000), replica('s', 8001), replica('x', 9005, 'failed', { service: 'users' })];
    const users: PlanService = { name: 'users', startPort: 9000, desired: 1, max: 3 };
    // users is planned first: its start and its removal are in the plan when acts' roll is decided.
    const actions = plan(input([users, acts(1)], replicas, { drifted: drifted('a'), rolling: new Set(['acts']) }));
    assert.deepEqual(actions, [
      removal('x', false, 'replacing a failed replica'),
      { kind: 'start', service: 'users', port: 9000 },
      { ...removal('a', true, 'rolling replacement: spec changed (image)'), replace: 'image' },
    ]);
  });

  test('no replacement while a start of the same service is planned or in progress', () => {
    const planned = plan(input([acts(2)], [replica('a', 8000)], { drifted: drifted('a') }));
    assert.deepEqual(planned, [
      { kind: 'start', service: 'acts', port: 8001 },
      { kind: 'start', service: 'acts', port: 8002, surge: true },
    ]);
    const inProgress = plan(
      input([acts(1)], [replica('a', 8000), replica('s', 8001)], {
        drifted: drifted('a'),
        starting: new Set([slotKey('acts', 8001)]),
      }),
    );
    assert.deepEqual(inProgress, []);
  });

  test('the services rolling: only those with a drifted replica, or a roll not yet whole', () => {
    const replicas = [replica('a', 8000), replica('u', 9000, 'ready', { service: 'users' })];
    const users: PlanService = { name: 'users', startPort: 9000, desired: 1, max: 3 };
    assert.deepEqual([...rollingServices(input([acts(1), users], replicas, { drifted: drifted('u') }))], ['users']);
    assert.deepEqual([...rollingServices(input([acts(1), users], replicas, { rolling: new Set(['acts']) }))], []);
  });
});
