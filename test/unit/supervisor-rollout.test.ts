// Rolling replacement, pure parts: the spec label and what drifted, the plan's one-at-a-time
// rule, and what a config reload may apply.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { applySpecChanges } from '../../supervisor/config/reload.ts';
import type { Config } from '../../supervisor/config/config.ts';
import {
  isRolling,
  plan,
  rollingServices,
  slotKey,
  type Action,
  type PlanInput,
  type PlanReplica,
  type PlanService,
} from '../../supervisor/fleet/reconcile.ts';
import { formatSpec, parseSpec, specDrift, specParts, type SpecInput } from '../../supervisor/fleet/spec-hash.ts';

const NOW = 100_000;
const r = (id: string, port: number, state: PlanReplica['state'] = 'ready'): PlanReplica => ({
  id,
  service: 'acts',
  port,
  state,
  trackedSince: NOW - 1000,
  startedAt: NOW - 1000,
});

interface Row {
  name: string;
  replicas: PlanReplica[];
  drifted: Record<string, string>;
  extra?: Partial<PlanInput>;
  /** Defaults: desired 3, max 3 (no room for a surge). */
  service?: Partial<PlanService>;
  want: string[];
}

function inputFor(row: Omit<Row, 'name' | 'want'>): PlanInput {
  return {
    now: NOW,
    services: [{ name: 'acts', startPort: 8000, desired: 3, max: 3, ...row.service }],
    replicas: row.replicas,
    busy: new Set(),
    starting: new Set(),
    allowedAt: () => 0,
    startTimeoutMs: 30_000,
    drifted: new Map(Object.entries(row.drifted)),
    ...row.extra,
  };
}

const describeAction = (a: Action): string =>
  a.kind === 'start'
    ? `start ${a.port}${a.surge ? ' surge' : ''}`
    : `remove ${a.id}${a.drain ? ' drained' : ''}${a.replace ? ` (${a.replace})` : ''}`;

describe('rolling replacement in the plan, desired = max: in place, one at a time, only while the service is whole', () => {
  const whole = [r('a', 8000), r('b', 8001), r('c', 8002)];
  const rows: Row[] = [
    { name: 'nothing drifted → nothing to do', replicas: whole, drifted: {}, want: [] },
    {
      name: 'all three drifted → the lowest port first, drained',
      replicas: whole,
      drifted: { a: 'env', b: 'env', c: 'env' },
      want: ['remove a drained (env)'],
    },
    {
      name: 'one drifted → that one',
      replicas: whole,
      drifted: { c: 'image x → y' },
      want: ['remove c drained (image x → y)'],
    },
    {
      name: 'its replacement still starting → wait',
      replicas: [r('a2', 8000, 'starting'), r('b', 8001), r('c', 8002)],
      drifted: { b: 'env', c: 'env' },
      want: [],
    },
    {
      name: 'the port being freed (start in progress) → wait',
      replicas: [r('b', 8001), r('c', 8002)],
      drifted: { b: 'env' },
      extra: { starting: new Set([slotKey('acts', 8000)]) },
      want: [],
    },
    {
      name: 'a replica being removed → wait',
      replicas: whole,
      drifted: { b: 'env' },
      extra: { busy: new Set(['a']) },
      want: [],
    },
    {
      name: 'a port empty → start it first, replace nothing this pass',
      replicas: [r('b', 8001), r('c', 8002)],
      drifted: { b: 'env' },
      want: ['start 8000'],
    },
    {
      name: 'a failed replica → its removal only',
      replicas: [r('a', 8000, 'failed'), r('b', 8001), r('c', 8002)],
      drifted: { b: 'env' },
      want: ['remove a'],
    },
    {
      name: 'a drifted replica still starting (adopted) → nothing yet, and no surge',
      replicas: [r('a', 8000, 'starting'), r('b', 8001), r('c', 8002)],
      drifted: { a: 'env' },
      want: [],
    },
  ];
  for (const row of rows) test(row.name, () => assert.deepEqual(plan(inputFor(row)).map(describeAction), row.want));
});

describe('rolling replacement with room in the range (desired 3, max 4): a surge replica keeps 3 ready', () => {
  const service = { desired: 3, max: 4 };
  const old = [r('a', 8000), r('b', 8001), r('c', 8002)];
  const all = { a: 'env', b: 'env', c: 'env' };
  const rolling = { rolling: new Set(['acts']) };
  const rows: Row[] = [
    {
      name: 'all three drifted → the surge replica first, on the port after the wanted ones; nothing replaced yet',
      replicas: old,
      drifted: all,
      want: ['start 8003 surge'],
    },
    { name: 'the surge replica starting → wait', replicas: [...old, r('s', 8003, 'starting')], drifted: all, want: [] },
    {
      name: 'the surge start in progress → wait',
      replicas: old,
      drifted: all,
      extra: { starting: new Set([slotKey('acts', 8003)]) },
      want: [],
    },
    {
      name: 'the surge replica ready → the lowest drifted one replaced, drained',
      replicas: [...old, r('s', 8003)],
      drifted: all,
      want: ['remove a drained (env)'],
    },
    {
      name: 'a replaced port free → started again as a wanted port, not a surge',
      replicas: [r('b', 8001), r('c', 8002), r('s', 8003)],
      drifted: { b: 'env', c: 'env' },
      extra: rolling,
      want: ['start 8000'],
    },
    {
      name: 'its successor starting → wait (b, c and the surge carry the load)',
      replicas: [r('a2', 8000, 'starting'), r('b', 8001), r('c', 8002), r('s', 8003)],
      drifted: { b: 'env', c: 'env' },
      extra: rolling,
      want: [],
    },
    {
      name: 'the last old replica draining → the surge stays',
      replicas: [r('a2', 8000), r('b2', 8001), r('c', 8002, 'draining'), r('s', 8003)],
      drifted: { c: 'env' },
      extra: { ...rolling, busy: new Set(['c']) },
      want: [],
    },
    {
      name: 'the last old replica gone, nothing differs → its port started, the surge stays',
      replicas: [r('a2', 8000), r('b2', 8001), r('s', 8003)],
      drifted: {},
      extra: rolling,
      want: ['start 8002'],
    },
    {
      name: 'the last successor starting → the surge stays until it is ready',
      replicas: [r('a2', 8000), r('b2', 8001), r('c2', 8002, 'starting'), r('s', 8003)],
      drifted: {},
      extra: rolling,
      want: [],
    },
    {
      name: 'all replaced and ready → the surge drained and removed (rolling replacement done)',
      replicas: [r('a2', 8000), r('b2', 8001), r('c2', 8002), r('s', 8003)],
      drifted: {},
      extra: rolling,
      want: ['remove s drained'],
    },
    {
      name: 'the surge replica failed → removed; no replacement meanwhile',
      replicas: [...old, r('s', 8003, 'failed')],
      drifted: all,
      want: ['remove s'],
    },
    {
      name: 'the surge port in backoff (a new spec that never gets ready) → no start, no old replica leaves',
      replicas: old,
      drifted: all,
      extra: { allowedAt: (_, port) => (port === 8003 ? NOW + 1 : 0) },
      want: [],
    },
    {
      name: 'desired raised mid-roll (3 → 4 of 5): the surge is a wanted replica now, a new surge after it',
      replicas: [...old, r('s', 8003)],
      drifted: all,
      extra: rolling,
      service: { desired: 4, max: 5 },
      want: ['start 8004 surge'],
    },
    {
      name: 'desired raised to max mid-roll (3 → 4 of 4): no surge port left, in place from here',
      replicas: [...old, r('s', 8003)],
      drifted: all,
      extra: rolling,
      service: { desired: 4, max: 4 },
      want: ['remove a drained (env)'],
    },
    {
      name: 'desired lowered mid-roll (3 → 2): the old surge scaled down; 8002 is the surge port now',
      replicas: [r('a2', 8000), r('b', 8001), r('c', 8002), r('s', 8003)],
      drifted: { b: 'env', c: 'env' },
      extra: rolling,
      service: { desired: 2, max: 4 },
      want: ['remove s drained'],
    },
    {
      name: 'the last one to differ on the surge port (desired fell) → removed, not replaced',
      replicas: [r('a2', 8000), r('b2', 8001), r('c', 8002)],
      drifted: { c: 'env' },
      extra: rolling,
      service: { desired: 2, max: 4 },
      want: ['remove c drained'],
    },
    {
      name: 'after a restart: the adopted, still starting, with a leftover surge → nothing removed',
      replicas: [
        r('a2', 8000, 'starting'),
        r('b2', 8001, 'starting'),
        r('c2', 8002, 'starting'),
        r('s', 8003, 'starting'),
      ],
      drifted: {},
      extra: rolling,
      want: [],
    },
    {
      name: 'no roll under way: a replica on the port above the wanted ones is scaled down as ever',
      replicas: [r('a', 8000), r('b', 8001), r('c', 8002, 'starting'), r('x', 8003)],
      drifted: {},
      want: ['remove x drained'],
    },
  ];
  for (const row of rows)
    test(row.name, () =>
      assert.deepEqual(plan(inputFor({ ...row, service: row.service ?? service })).map(describeAction), row.want),
    );

  test('reasons an operator reads: the surge removed when the roll is done, a plain scale-down otherwise', () => {
    const done = [r('a2', 8000), r('b2', 8001), r('c2', 8002), r('s', 8003)];
    const reason = (extra: Partial<PlanInput>) =>
      plan(inputFor({ replicas: done, drifted: {}, extra, service })).map((a) => (a.kind === 'remove' ? a.reason : ''));
    assert.deepEqual(reason(rolling), ['rolling replacement done: the surge replica on port 8003 is no longer needed']);
    assert.deepEqual(reason({}), ['scaled down to 3: port 8003 is no longer wanted']);
    const last = plan(
      inputFor({
        replicas: [r('a2', 8000), r('b2', 8001), r('c', 8002)],
        drifted: { c: 'env' },
        extra: rolling,
        service: { desired: 2, max: 4 },
      }),
    );
    assert.match(
      last[0]!.kind === 'remove' ? last[0]!.reason : '',
      /^rolling replacement done: the surge replica on port 8002 differs from the config \(env\)/,
    );
  });

  test('rolling: while anything differs, then until the wanted ports are whole again', () => {
    const rollingNow = (replicas: PlanReplica[], drifted: Record<string, string>, before: boolean) =>
      isRolling(
        { name: 'acts', startPort: 8000, ...service },
        inputFor({ replicas, drifted, extra: before ? rolling : {}, service }),
      );
    assert.equal(rollingNow(old, { b: 'env' }, false), true, 'a replica differs');
    assert.equal(rollingNow(old, {}, false), false, 'nothing differs, no roll before');
    assert.equal(
      rollingNow([r('a2', 8000), r('b2', 8001), r('c2', 8002, 'starting')], {}, true),
      true,
      'was rolling, a successor not ready',
    );
    assert.equal(rollingNow([r('a2', 8000), r('b2', 8001)], {}, true), true, 'was rolling, a port empty');
    assert.equal(
      rollingNow([r('a2', 8000), r('b2', 8001), r('c2', 8002), r('s', 8003)], {}, true),
      false,
      'was rolling, whole again',
    );
    assert.deepEqual(rollingServices(inputFor({ replicas: old, drifted: { a: 'env' }, service })), new Set(['acts']));
  });
});

describe('spec labels', () => {
  const base: SpecInput = {
    imageId: 'sha256:0123456789abcdef',
    env: { B: '2', A: '1' },
    command: ['node', 'app.js'],
    resources: { memoryMb: 256, cpus: 0.5 },
    containerPort: 8080,
  };
  const label = formatSpec(specParts(base));

  test('a label parses back, and the same spec in another key order matches', () => {
    assert.match(label, /^image=0123456789ab,env=[0-9a-f]{12},command=[0-9a-f]{12},resources=[0-9a-f]{12}$/);
    assert.deepEqual(parseSpec(label), specParts(base));
    assert.deepEqual(specDrift(label, specParts({ ...base, env: { A: '1', B: '2' } })), []);
  });
  const changes: Array<[string, Partial<SpecInput>, string[]]> = [
    [
      'a rebuilt image (same tag, new id)',
      { imageId: 'sha256:fedcba9876543210' },
      ['image 0123456789ab → fedcba987654'],
    ],
    ['an env value', { env: { A: '1', B: '3' } }, ['env']],
    ['a command', { command: ['node', 'other.js'] }, ['command']],
    ['a memory limit', { resources: { memoryMb: 512, cpus: 0.5 } }, ['resources']],
    ['the container port', { containerPort: 9090 }, ['resources']],
    [
      'env and image together',
      { env: {}, imageId: 'sha256:aaaaaaaaaaaa' },
      ['image 0123456789ab → aaaaaaaaaaaa', 'env'],
    ],
  ];
  for (const [name, change, want] of changes) {
    test(`drift names what changed: ${name}`, () =>
      assert.deepEqual(specDrift(label, specParts({ ...base, ...change })), want));
  }
  test('a replica without a label (an older supervisor) or with a mangled one is left alone', () => {
    assert.deepEqual(specDrift(undefined, specParts(base)), []);
    assert.deepEqual(specDrift('image=x', specParts(base)), []);
  });
});

describe('config reload: specs applied in place, everything else named', () => {
  const config = (
    over: { env?: Record<string, string>; image?: string; port?: number; startPort?: number; names?: string[] } = {},
  ): Config =>
    ({
      listen: { host: '0.0.0.0', port: over.port ?? 3000 },
      env: over.env ?? { SHARED: '1' },
      services: (over.names ?? ['acts', 'users']).map((name) => ({
        name,
        image: over.image ?? `${name}:latest`,
        env: { X: '1' },
        resources: { memoryMb: 256, cpus: 0.5 },
        startPort: over.startPort ?? 8000,
        routes: ['/api/v1'],
      })),
    }) as unknown as Config;

  test('image and shared env: applied to the running config', () => {
    const current = config();
    const plan = applySpecChanges(current, config({ image: 'new:1', env: { SHARED: '2' } }));
    assert.deepEqual(plan, { applied: ['env', 'services.acts.image', 'services.users.image'], needRestart: [] });
    assert.equal(current.services[0]!.image, 'new:1');
    assert.deepEqual(current.env, { SHARED: '2' });
  });
  test('a listen port and a start port: named, not applied', () => {
    const current = config();
    assert.deepEqual(applySpecChanges(current, config({ port: 80, startPort: 9000 })), {
      applied: [],
      needRestart: ['listen', 'services.acts.startPort', 'services.users.startPort'],
    });
    assert.equal(current.listen.port, 3000);
    assert.equal(current.services[0]!.startPort, 8000);
  });
  test('a service added: needs a restart, and nothing of the services is applied', () => {
    const current = config();
    assert.deepEqual(applySpecChanges(current, config({ names: ['acts', 'users', 'extra'], image: 'new:1' })), {
      applied: [],
      needRestart: ['services (acts,users → acts,users,extra)'],
    });
    assert.equal(current.services[0]!.image, 'acts:latest');
  });
  test('the same config: nothing', () =>
    assert.deepEqual(applySpecChanges(config(), config()), { applied: [], needRestart: [] }));
});
