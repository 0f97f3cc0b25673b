// The scaling policy at its edges: the bounds themselves, damping's reason, the threshold the
// dashboard shows against the formula counted out, and the settings a service's config gives.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ServiceConfig } from '../../supervisor/schema/service.ts';
import { policySettings, scalingPolicy } from '../../supervisor/scaler/policy.ts';

const settings = { windowSeconds: 120, requestsPerReplica: 20, dampingWindows: 2, min: 1, max: 10 };

test('exactly at min or max is the load, not a bound', () => {
  const policy = scalingPolicy(settings);
  assert.deepEqual(policy.clamp(10), { replicas: 10, code: 'load' });
  assert.deepEqual(policy.clamp(1), { replicas: 1, code: 'load' });
  assert.deepEqual(policy.clamp(11), { replicas: 10, code: 'capped-at-max' });
  assert.deepEqual(policy.clamp(0), { replicas: 1, code: 'raised-to-min' });
});

test('damping says what it held and why', () => {
  const decision = scalingPolicy(settings).decide(0, [4, 3], 5);
  assert.deepEqual(decision, {
    replicas: 4,
    code: 'held-by-damping',
    reason: '0 requests / 20 per replica + 1 = 1; held at 4 by damping (last 2 windows: 4, 3)',
  });
});

test('the next threshold is the first K the formula gives one more replica for', () => {
  for (const requestsPerReplica of [1, 3, 20, 1000]) {
    const policy = scalingPolicy({ ...settings, requestsPerReplica, max: 1_000_000 });
    for (const requests of [0, 1, 2, requestsPerReplica - 1, requestsPerReplica, 5 * requestsPerReplica + 1, 12_345]) {
      const now = policy.formula(requests).replicas;
      let k = requests + 1;
      while (policy.formula(k).replicas <= now) k += 1;
      assert.equal(policy.nextThreshold(requests), k, `${requests} at ${requestsPerReplica} per replica`);
    }
  }
});

test("a service's settings: its scaling keys and its replica bounds", () => {
  const service = {
    scaling: { windowSeconds: 60, requestsPerReplica: 5, dampingWindows: 0 },
    replicas: { min: 2, max: 7, initial: 3 },
  } as unknown as ServiceConfig;
  assert.deepEqual(policySettings(service), {
    windowSeconds: 60,
    requestsPerReplica: 5,
    dampingWindows: 0,
    min: 2,
    max: 7,
  });
});
