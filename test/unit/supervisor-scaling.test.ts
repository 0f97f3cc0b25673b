// The scaling policy (supervisor/scaler/policy.ts) as table tests: the formula within the
// bounds, the threshold found by searching the formula, damping, windows; and the backoff.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ScalingPolicy, type PolicySettings } from '../../supervisor/scaler/policy.ts';
import { backoffDelay, recordFailure, restartAllowedAt } from '../../supervisor/fleet/backoff.ts';

const settings: PolicySettings = { windowSeconds: 120, requestsPerReplica: 20, min: 1, max: 10, dampingWindows: 0 };
const policy = (over: Partial<PolicySettings> = {}) => new ScalingPolicy({ ...settings, ...over });

describe('recommend: clamp(floor(K / requestsPerReplica) + 1, min, max), with a code and a reason', () => {
  const rows: Array<{
    name: string;
    requests: number;
    over?: Partial<PolicySettings>;
    replicas: number;
    code: string;
    reason?: RegExp;
  }> = [
    { name: '0 requests → 1 replica', requests: 0, replicas: 1, code: 'load' },
    { name: '19 requests → 1 replica', requests: 19, replicas: 1, code: 'load' },
    {
      name: '20 requests in the window → 2 replicas',
      requests: 20,
      replicas: 2,
      code: 'load',
      reason: /^20 requests \/ 20 per replica \+ 1 = 2$/,
    },
    { name: '39 requests → 2 replicas', requests: 39, replicas: 2, code: 'load' },
    { name: '40 requests → 3 replicas', requests: 40, replicas: 3, code: 'load' },
    {
      name: '1000 requests → capped at max 10',
      requests: 1000,
      replicas: 10,
      code: 'capped-at-max',
      reason: /capped at max 10/,
    },
    {
      name: 'min 3 raises a quiet window to 3',
      requests: 5,
      over: { min: 3 },
      replicas: 3,
      code: 'raised-to-min',
      reason: /raised to min 3/,
    },
    {
      name: 'requestsPerReplica 5: 12 requests → 3',
      requests: 12,
      over: { requestsPerReplica: 5 },
      replicas: 3,
      code: 'load',
    },
    { name: 'max 1 pins the service at 1', requests: 500, over: { max: 1 }, replicas: 1, code: 'capped-at-max' },
  ];
  for (const row of rows) {
    test(row.name, () => {
      const got = policy(row.over).recommend(row.requests);
      assert.equal(got.replicas, row.replicas);
      assert.equal(got.code, row.code);
      if (row.reason) assert.match(got.reason, row.reason);
    });
  }
});

describe('nextThreshold: the K that adds one more replica, searched on the formula', () => {
  const rows: Array<[number, number, Partial<PolicySettings>?]> = [
    [0, 20],
    [19, 20],
    [20, 40],
    [45, 60],
    [1000, 1020],
    [0, 1, { requestsPerReplica: 1 }],
    [6, 7, { requestsPerReplica: 7 }],
    [2_000_000_000, 2_000_000_001, { requestsPerReplica: 1 }],
  ];
  for (const [k, threshold, over] of rows) {
    test(`K=${k}${over ? ` (${JSON.stringify(over)})` : ''} → next threshold ${threshold}`, () =>
      assert.equal(policy(over).nextThreshold(k), threshold));
  }

  test('another formula: its threshold follows without a line of its own', () => {
    class Squares extends ScalingPolicy {
      override formula(requests: number) {
        const replicas = Math.floor(Math.sqrt(requests)) + 1;
        return { replicas, reason: `sqrt(${requests}) + 1 = ${replicas}` };
      }
    }
    const squares = new Squares(settings);
    assert.deepEqual(
      [0, 1, 3, 4, 8, 9, 99].map((k) => squares.nextThreshold(k)),
      [1, 4, 4, 9, 9, 16, 100],
    );
    assert.equal(squares.recommend(16).replicas, 5);
  });
});

describe('decide: damping before scaling down keeps the highest of the last N windows', () => {
  const rows: Array<{
    name: string;
    over?: Partial<PolicySettings>;
    requests: number;
    history: number[];
    current: number;
    want: number;
    code: string;
  }> = [
    { name: 'off: scales straight down', requests: 0, history: [4, 4], current: 4, want: 1, code: 'load' },
    {
      name: 'on: held at the highest recent recommendation',
      over: { dampingWindows: 2 },
      requests: 0,
      history: [1, 3, 2],
      current: 4,
      want: 3,
      code: 'held-by-damping',
    },
    {
      name: 'on: never above the current count',
      over: { dampingWindows: 2 },
      requests: 0,
      history: [6],
      current: 2,
      want: 2,
      code: 'held-by-damping',
    },
    {
      name: 'on: scaling up is immediate',
      over: { dampingWindows: 2 },
      requests: 80,
      history: [1, 1],
      current: 2,
      want: 5,
      code: 'load',
    },
    {
      name: 'on: no history, straight down',
      over: { dampingWindows: 2 },
      requests: 0,
      history: [],
      current: 3,
      want: 1,
      code: 'load',
    },
  ];
  for (const row of rows) {
    test(row.name, () => {
      const got = policy(row.over).decide(row.requests, row.history, row.current);
      assert.equal(got.replicas, row.want);
      assert.equal(got.code, row.code);
      if (row.code === 'held-by-damping') assert.match(got.reason, /held at \d+ by damping/);
    });
  }
});

describe('windows', () => {
  test('a window opens at the given time and lasts windowSeconds', () => {
    assert.deepEqual(policy().openWindow(5000), { startedAt: 5000, endsAt: 125_000, requests: 0 });
  });
  test('the next window starts where the last one ended', () => {
    assert.deepEqual(policy({ windowSeconds: 4 }).nextWindow({ startedAt: 0, endsAt: 4000, requests: 9 }), {
      startedAt: 4000,
      endsAt: 8000,
      requests: 0,
    });
  });
  const rows: Array<[string, number, number, boolean]> = [
    ['requests in the closed window → keep windowing', 5, 1, true],
    ['idle but above the minimum → keep windowing (it must come down)', 0, 2, true],
    ['idle at the minimum → stop until the next request', 0, 1, false],
  ];
  for (const [name, requests, after, keep] of rows) {
    test(name, () => assert.equal(policy().keepWindowing({ startedAt: 0, endsAt: 1, requests }, after), keep));
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
