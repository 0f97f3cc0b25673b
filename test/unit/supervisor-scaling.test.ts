import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  dampedReplicas,
  desiredReplicas,
  keepWindowing,
  nextThreshold,
  nextWindow,
  openWindow,
  type ScalingPolicy,
} from '../../supervisor/scaling.ts';
import { backoffDelay, recordFailure, restartAllowedAt } from '../../supervisor/backoff.ts';

const policy: ScalingPolicy = { requestsPerReplica: 20, min: 1, max: 10, dampingWindows: 0 };
const ended = { startedAt: 0, endsAt: 120_000 };
const after = 120_000;

describe('desiredReplicas: clamp(floor(K / requestsPerReplica) + 1, min, max)', () => {
  const rows: Array<{ name: string; requests: number; policy?: Partial<ScalingPolicy>; replicas: number; reason?: RegExp }> = [
    { name: '0 requests → 1 replica', requests: 0, replicas: 1 },
    { name: '19 requests → 1 replica', requests: 19, replicas: 1 },
    { name: '20 requests in the window → 2 replicas', requests: 20, replicas: 2, reason: /^20 requests \/ 20 per replica \+ 1 = 2$/ },
    { name: '39 requests → 2 replicas', requests: 39, replicas: 2 },
    { name: '40 requests → 3 replicas', requests: 40, replicas: 3 },
    { name: '1000 requests → capped at max 10', requests: 1000, replicas: 10, reason: /capped at max 10/ },
    { name: 'min 3 raises a quiet window to 3', requests: 5, policy: { min: 3 }, replicas: 3, reason: /raised to min 3/ },
    { name: 'requestsPerReplica 5: 12 requests → 3', requests: 12, policy: { requestsPerReplica: 5 }, replicas: 3 },
    { name: 'max 1 pins the service at 1', requests: 500, policy: { max: 1 }, replicas: 1 },
  ];
  for (const row of rows) {
    test(row.name, () => {
      const got = desiredReplicas({ ...ended, requests: row.requests }, { ...policy, ...row.policy }, after);
      assert.equal(got.replicas, row.replicas);
      assert.equal(got.decided, true);
      if (row.reason) assert.match(got.reason, row.reason);
    });
  }

  test('an empty window is not a decision before it really ended', () => {
    const open = desiredReplicas({ ...ended, requests: 0 }, { ...policy, min: 1 }, ended.endsAt - 1);
    assert.equal(open.decided, false);
    assert.equal(desiredReplicas({ ...ended, requests: 0 }, policy, ended.endsAt).decided, true);
  });
});

describe('nextThreshold: the K that adds one more replica', () => {
  const rows: Array<[number, number]> = [
    [0, 20],
    [19, 20],
    [20, 40],
    [45, 60],
  ];
  for (const [k, threshold] of rows) {
    test(`K=${k} → next threshold ${threshold}`, () => assert.equal(nextThreshold(k, policy), threshold));
  }
});

describe('damping: before scaling down keep the highest of the last N windows', () => {
  const damped = { ...policy, dampingWindows: 2 };
  const rec = (replicas: number) => ({ replicas, reason: `r${replicas}`, decided: true });
  const rows: Array<{ name: string; p: ScalingPolicy; rec: number; history: number[]; current: number; want: number }> = [
    { name: 'off: scales straight down', p: policy, rec: 1, history: [4, 4], current: 4, want: 1 },
    { name: 'on: held at the highest recent recommendation', p: damped, rec: 1, history: [1, 3, 2], current: 4, want: 3 },
    { name: 'on: never above the current count', p: damped, rec: 1, history: [6], current: 2, want: 2 },
    { name: 'on: scaling up is immediate', p: damped, rec: 5, history: [1, 1], current: 2, want: 5 },
    { name: 'on: no history, straight down', p: damped, rec: 1, history: [], current: 3, want: 1 },
  ];
  for (const row of rows) {
    test(row.name, () => {
      const got = dampedReplicas(rec(row.rec), row.history, row.current, row.p);
      assert.equal(got.replicas, row.want);
      if (got.replicas !== row.rec) assert.match(got.reason, /held at \d+ by damping/);
    });
  }
});

describe('windows', () => {
  test('the first window opens at the first counted request and lasts windowSeconds', () => {
    assert.deepEqual(openWindow(5000, 120), { startedAt: 5000, endsAt: 125_000, requests: 0 });
  });
  test('the next window starts where the last one ended', () => {
    assert.deepEqual(nextWindow({ startedAt: 0, endsAt: 4000, requests: 9 }, 4), { startedAt: 4000, endsAt: 8000, requests: 0 });
  });
  const rows: Array<[string, number, number, boolean]> = [
    ['requests in the closed window → keep windowing', 5, 1, true],
    ['idle but above the minimum → keep windowing (it must come down)', 0, 2, true],
    ['idle at the minimum → stop until the next request', 0, 1, false],
  ];
  for (const [name, requests, after, keep] of rows) {
    test(name, () => assert.equal(keepWindowing({ startedAt: 0, endsAt: 1, requests }, after, policy), keep));
  }
});

describe('crash-loop backoff', () => {
  const p = { initialMs: 1000, maxMs: 8000, resetAfterMs: 10_000 };
  const rows: Array<[number, number]> = [
    [1, 0],
    [2, 1000],
    [3, 2000],
    [4, 4000],
    [5, 8000],
    [9, 8000],
  ];
  for (const [count, delay] of rows) {
    test(`${count} failure(s) in a row → restart after ${delay} ms`, () => assert.equal(backoffDelay(count, p), delay));
  }
  test('failures accumulate while the replica never stays ready', () => {
    let r = recordFailure(undefined, 0, 100, p);
    r = recordFailure(r, 0, 200, p);
    r = recordFailure(r, 2000, 300, p);
    assert.deepEqual(r, { count: 3, lastAt: 300 });
    assert.equal(restartAllowedAt(r, p), 2300);
  });
  test('a replica that was ready for resetAfterMs starts a fresh count (first restart immediate)', () => {
    const r = recordFailure({ count: 6, lastAt: 0 }, 10_000, 50_000, p);
    assert.deepEqual(r, { count: 1, lastAt: 50_000 });
    assert.equal(restartAllowedAt(r, p), 50_000);
  });
});
