import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { SnapshotGate } from '../../supervisor/core/protocol.ts';
import { plan, slotKey, type Action, type PlanInput, type PlanReplica } from '../../supervisor/fleet/reconcile.ts';
import { HealthTracker } from '../../supervisor/heartbeat/health-tracker.ts';

const NOW = 100_000;
const r = (
  id: string,
  port: number,
  state: PlanReplica['state'] = 'ready',
  extra: Partial<PlanReplica> = {},
): PlanReplica => ({
  id,
  service: 'acts',
  port,
  state,
  trackedSince: NOW - 1000,
  startedAt: NOW - 1000,
  ...extra,
});

function planFor(desired: number, replicas: PlanReplica[], extra: Partial<PlanInput> = {}): string[] {
  const actions = plan({
    now: NOW,
    services: [{ name: 'acts', startPort: 8000, desired, max: 5 }],
    replicas,
    busy: new Set(),
    starting: new Set(),
    allowedAt: () => 0,
    startTimeoutMs: 30_000,
    ...extra,
  });
  return actions.map(describeAction);
}

function describeAction(a: Action): string {
  return a.kind === 'start'
    ? `start ${a.port}`
    : `remove ${a.id}${a.drain ? ' drained' : ''}${a.failure ? ' failure' : ''}`;
}

describe('reconcile plan: desired against known replicas → fewest actions', () => {
  const rows: Array<{
    name: string;
    desired: number;
    replicas: PlanReplica[];
    extra?: Partial<PlanInput>;
    want: string[];
  }> = [
    { name: 'nothing running, desired 1 → start on startPort', desired: 1, replicas: [], want: ['start 8000'] },
    { name: 'scale up 1 → 2: start on startPort + 1', desired: 2, replicas: [r('a', 8000)], want: ['start 8001'] },
    { name: 'converged → nothing to do', desired: 2, replicas: [r('a', 8000), r('b', 8001)], want: [] },
    {
      name: 'scale down 3 → 1: the highest ports go, drained first',
      desired: 1,
      replicas: [r('a', 8000), r('b', 8001), r('c', 8002)],
      want: ['remove c drained', 'remove b drained'],
    },
    {
      name: 'a starting replica going away needs no drain',
      desired: 1,
      replicas: [r('a', 8000), r('b', 8001, 'starting')],
      want: ['remove b'],
    },
    {
      name: 'failed replica: removed, and its port is not reused until it is gone',
      desired: 1,
      replicas: [r('a', 8000, 'failed')],
      want: ['remove a'],
    },
    {
      name: 'port free again after removal → a new replica on the same port',
      desired: 2,
      replicas: [r('a', 8000)],
      want: ['start 8001'],
    },
    {
      name: 'start timeout → removed as a failure',
      desired: 1,
      replicas: [r('a', 8000, 'starting', { trackedSince: NOW - 31_000 })],
      want: ['remove a failure'],
    },
    {
      name: 'two on one port: the ready one stays',
      desired: 1,
      replicas: [r('new', 8000, 'starting', { startedAt: NOW }), r('old', 8000)],
      want: ['remove new'],
    },
    {
      name: 'busy replicas are left alone',
      desired: 1,
      replicas: [r('a', 8000), r('b', 8001)],
      extra: { busy: new Set(['b']) },
      want: [],
    },
    {
      name: 'a start in progress is not started twice',
      desired: 1,
      replicas: [],
      extra: { starting: new Set([slotKey('acts', 8000)]) },
      want: [],
    },
    {
      name: 'backoff holds a crash-looping slot',
      desired: 1,
      replicas: [],
      extra: { allowedAt: () => NOW + 1 },
      want: [],
    },
    {
      name: 'an interrupted drain is finished',
      desired: 1,
      replicas: [r('a', 8000), r('b', 8001, 'draining')],
      want: ['remove b drained'],
    },
    {
      name: 'an interrupted stop is finished',
      desired: 1,
      replicas: [r('a', 8000), r('b', 8001, 'stopping')],
      want: ['remove b'],
    },
    {
      name: 'maxStarting 2: a scale-up from 1 to 5 starts two now, the rest on later passes',
      desired: 5,
      replicas: [r('a', 8000)],
      extra: { maxStarting: 2 },
      want: ['start 8001', 'start 8002'],
    },
    {
      name: 'maxStarting 2: one booting and one start in flight leave no room',
      desired: 5,
      replicas: [r('a', 8000), r('b', 8001, 'starting')],
      extra: { maxStarting: 2, starting: new Set([slotKey('acts', 8002)]) },
      want: [],
    },
    {
      name: 'maxStarting: a replica adopted at start-up is not booting',
      desired: 3,
      replicas: [r('a', 8000, 'starting', { adopted: true })],
      extra: { maxStarting: 1 },
      want: ['start 8001'],
    },
    {
      name: 'a replica of a service no longer configured is removed',
      desired: 1,
      replicas: [r('a', 8000), { ...r('x', 9000), service: 'gone' }],
      want: ['remove x drained'],
    },
  ];
  for (const row of rows) {
    test(row.name, () => assert.deepEqual(planFor(row.desired, row.replicas, row.extra), row.want));
  }
});

describe('health verdicts: only changes are reported', () => {
  const ok = { ok: true, reason: 'HTTP 200', latencyMs: 1 };
  const bad = { ok: false, reason: 'HTTP 500', latencyMs: 1 };
  const late = { ok: false, reason: 'no answer within 800 ms', latencyMs: 800, timedOut: true };
  type Step = ['h' | 'l', typeof ok];
  const H = (res: typeof ok): Step => ['h', res];
  const L = (res: typeof ok): Step => ['l', res];
  const rows: Array<{ name: string; steps: Step[]; said: string[] }> = [
    {
      name: 'ok once, silence while ok, each failure counted, unready at the threshold (nothing says it is dead), ok again',
      steps: [H(ok), H(ok), H(ok), H(bad), H(bad), H(bad), H(bad), H(ok), H(ok)],
      said: ['ok:0', '-', '-', 'failing:1', 'failing:2', 'unready:3:unready', 'unready:4:unready', 'ok:0', '-'],
    },
    {
      name: 'health checks unanswered while the liveness check answers: unready, slow (a busy host)',
      steps: [H(ok), H(late), L(ok), H(late), L(ok), H(late), L(ok)],
      said: ['ok:0', 'failing:1', '-', 'failing:2', '-', 'unready:3:slow', '-'],
    },
    {
      name: 'the liveness check refused or failing failureThreshold times in a row: failed, dead',
      steps: [H(ok), H(bad), L(bad), H(bad), L(bad), H(bad), L(bad)],
      said: ['ok:0', 'failing:1', '-', 'failing:2', '-', 'failing:3', 'failed:3:dead'],
    },
    {
      name: 'a liveness check that passes in between starts the count of deaths again',
      steps: [H(ok), H(bad), L(bad), H(bad), L(bad), H(bad), L(ok), H(bad), L(bad), L(bad), L(bad)],
      said: [
        'ok:0',
        'failing:1',
        '-',
        'failing:2',
        '-',
        'failing:3',
        'unready:3:unready',
        'unready:4:unready',
        '-',
        '-',
        'failed:4:dead',
      ],
    },
    {
      name: 'the liveness check unanswered within its timeout: failed, stuck, at once',
      steps: [H(ok), H(late), L(late)],
      said: ['ok:0', 'failing:1', 'failed:1:stuck'],
    },
    {
      name: 'stuck, then its liveness check answers: alive again (failing, by its health checks)',
      steps: [H(ok), H(late), L(late), H(late), L(ok)],
      said: ['ok:0', 'failing:1', 'failed:1:stuck', 'failed:2:stuck', 'failing:2'],
    },
    {
      name: 'a liveness result that comes after a health check passed again changes nothing',
      steps: [H(ok), H(bad), H(ok), L(late)],
      said: ['ok:0', 'failing:1', 'ok:0', '-'],
    },
  ];
  for (const row of rows) {
    test(row.name, () => {
      const tracker = new HealthTracker(3);
      const said = row.steps.map(([kind, res]) =>
        kind === 'h' ? tracker.observe('a', res) : tracker.observeLiveness('a', res),
      );
      assert.deepEqual(
        said.map((m) =>
          m ? [m.verdict, m.consecutiveFailures, m.cause].filter((x) => x !== undefined).join(':') : '-',
        ),
        row.said,
      );
    });
  }
  test('a forgotten target starts fresh', () => {
    const tracker = new HealthTracker(1);
    tracker.observe('a', { ok: true, reason: '', latencyMs: 0 });
    tracker.forget('a');
    assert.equal(tracker.observe('a', { ok: true, reason: '', latencyMs: 0 })?.verdict, 'ok');
  });
});

describe('snapshots: a version already seen is dropped', () => {
  test('newer accepted, same or older dropped', () => {
    const gate = new SnapshotGate();
    assert.deepEqual(
      [1, 1, 3, 2, 4].map((v) => gate.accept(v)),
      [true, false, true, false, true],
    );
  });
});
