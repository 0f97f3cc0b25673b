// The Fleet against a fake runtime and a fake clock: adoption of what runs (and removal of what
// does not), replacement on the same port, scale-down drained highest port first, crash-loop
// backoff, and the environment each replica is started with. No engine, no process.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseConfig } from '../../supervisor/config/config.ts';
import { EventLog } from '../../supervisor/telemetry/events.ts';
import { Fleet } from '../../supervisor/fleet/fleet.ts';
import type { HealthCause } from '../../supervisor/core/protocol.ts';
import { silentLogger } from '../../supervisor/core/log.ts';
import { ReplicaEnvironment } from '../../supervisor/fleet/replica-env.ts';
import { FakeClock } from '../helpers/fake-clock.ts';
import { FakeRuntime } from '../helpers/fake-runtime.ts';
import { eventually } from '../../testkit/eventually.ts';

const quiet = silentLogger;

interface RigOptions {
  replicas?: { initial: number; min: number; max: number };
  autoscale?: boolean;
  /** The acts service's own env (a restart with a changed config). */
  actsEnv?: Record<string, string>;
  /** Another rig's runtime: this fleet is that supervisor's successor. */
  runtime?: FakeRuntime;
  /** capacity.maxStarting (default here 10: most tests want every start at once). */
  maxStarting?: number;
  users?: { initial: number; min: number; max: number };
  actsResources?: { memoryMb: number; cpus: number; memoryRequestMb?: number };
  /** What each replica's memory measures, bytes (the supervisor's telemetry). */
  memoryInUse?: (id: string) => number | undefined;
}

function rig(options: RigOptions = {}) {
  const config = parseConfig(
    {
      backoff: { initialMs: 1000, maxMs: 8000, resetAfterMs: 5000 },
      drainTimeoutMs: 5000,
      startTimeoutMs: 20_000,
      stopGraceSeconds: 2,
      capacity: { maxStarting: options.maxStarting ?? 10 },
      env: { PORT: '{{replica:port}}', ID: '{{replica:instance}}' },
      services: {
        acts: {
          image: 'acts:latest',
          env: options.actsEnv ?? { USERS: '{{service:users}}' },
          replicas: options.replicas ?? { initial: 1, min: 1, max: 3 },
          startPort: 8000,
          healthPath: '/h',
          autoscale: options.autoscale ?? true,
          ...(options.actsResources ? { resources: options.actsResources } : {}),
        },
        users: {
          image: 'users:latest',
          replicas: options.users ?? { initial: 1, min: 1, max: 1 },
          startPort: 9000,
          healthPath: '/h',
        },
      },
    },
    { env: {} },
  );
  const clock = new FakeClock(1_000_000);
  const runtime = options.runtime ?? new FakeRuntime(() => clock.now());
  const events = new EventLog();
  /** Drains the test answers itself: replica id → resolve. */
  const drains = new Map<string, () => void>();
  const order: string[] = [];
  const env = new ReplicaEnvironment(config, {}, {});
  const fleet = new Fleet({
    config,
    runtime,
    events,
    logger: quiet,
    env,
    clock,
    passIntervalMs: 100,
    onChange: () => {},
    ...(options.memoryInUse ? { memoryInUse: options.memoryInUse } : {}),
    drain: (id) =>
      new Promise((resolve) => {
        order.push(`drain ${id}`);
        drains.set(id, () => {
          order.push(`drained ${id}`);
          resolve();
        });
      }),
  });
  const pass = async () => {
    fleet.kick();
    await fleet.idle();
  };
  const ids = (service = 'acts') =>
    [...fleet.replicas.values()]
      .filter((r) => r.service === service)
      .sort((a, b) => a.port - b.port)
      .map((r) => r.id);
  const ready = (id: string) =>
    fleet.onHealth({ type: 'health', id, verdict: 'ok', consecutiveFailures: 0, reason: 'HTTP 200', latencyMs: 1 });
  const failed = (id: string, cause: HealthCause = 'dead') =>
    fleet.onHealth({
      type: 'health',
      id,
      verdict: 'failed',
      consecutiveFailures: 3,
      cause,
      reason: 'HTTP 500',
      latencyMs: 1,
    });
  const unready = (id: string, cause: HealthCause) =>
    fleet.onHealth({
      type: 'health',
      id,
      verdict: 'unready',
      consecutiveFailures: 3,
      cause,
      reason: cause === 'slow' ? 'no answer within 800 ms' : 'HTTP 500',
      latencyMs: 800,
    });
  const routed = (service = 'acts') =>
    fleet.routes()[service]!.replicas.map((x) => `${x.port}${x.ready ? '' : x.live ? ' out' : ' starting'}`);
  const eventTypes = () => events.since(0).map((e) => `${e.type} ${e.service ?? ''}:${e.port ?? ''}`);
  /** Ready acts replicas, i.e. in rotation. */
  const inRotation = () =>
    [...fleet.replicas.values()].filter((x) => x.service === 'acts' && x.state === 'ready').length;
  /** A pass, then the drain it asked for, answered. */
  const drained = async (id: string) => {
    fleet.kick();
    await clock.advance(0);
    const done = drains.get(id);
    assert.ok(done, `a drain of ${id} was asked for (order: ${order.join(', ')})`);
    done();
    await fleet.idle();
  };
  /** The config's acts env changed (as a SIGHUP applies it). */
  const changeEnv = (extra: Record<string, string>) => {
    config.services[0]!.env = { ...config.services[0]!.env, ...extra };
    env.update(config, {});
    fleet.specsChanged();
  };
  return {
    config,
    clock,
    runtime,
    events,
    env,
    fleet,
    drains,
    order,
    pass,
    ids,
    ready,
    failed,
    unready,
    routed,
    eventTypes,
    inRotation,
    drained,
    changeEnv,
  };
}

describe('fleet: adoption', () => {
  test('running replicas are adopted (same ids, same ports), stopped ones and unknown services removed, nothing started twice', async () => {
    const r = rig();
    const a = r.runtime.plant('acts', 8000);
    const b = r.runtime.plant('acts', 8001);
    const dead = r.runtime.plant('acts', 8002, false);
    const users = r.runtime.plant('users', 9000);
    const stray = r.runtime.plant('gone', 7000);
    const above = await r.fleet.adopt();
    assert.deepEqual(above, ['acts'], 'two adopted, initial 1: a window should open');
    assert.equal(r.fleet.desired.get('acts'), 2, 'clamp(max(initial 1, 2 ports), 1, 3)');
    assert.deepEqual(r.ids(), [a, b, dead]);
    assert.ok(r.fleet.replicas.get(a)!.adopted);
    await r.pass();
    assert.deepEqual(
      r.runtime.calls.filter((c) => c.startsWith('start')),
      [],
      'every wanted port is taken',
    );
    assert.deepEqual(r.ids(), [a, b]);
    assert.deepEqual(r.ids('users'), [users]);
    assert.ok(!r.runtime.replicas.has(dead) && !r.runtime.replicas.has(stray));
    assert.equal(r.eventTypes().filter((e) => e.startsWith('replica.adopted')).length, 5);
  });

  test('more running than max: desired is capped at max; the extra port is scaled away', async () => {
    const r = rig({ replicas: { initial: 1, min: 1, max: 2 } });
    for (const port of [8000, 8001, 8002]) r.runtime.plant('acts', port);
    await r.fleet.adopt();
    assert.equal(r.fleet.desired.get('acts'), 2);
    for (const id of r.ids()) r.ready(id);
    r.fleet.kick();
    await r.clock.advance(0);
    r.drains.get(r.runtime.byPort('acts', 8002)!.id)!();
    await r.fleet.idle();
    assert.deepEqual(
      [...r.runtime.replicas.values()]
        .filter((x) => x.service === 'acts')
        .map((x) => x.port)
        .sort(),
      [8000, 8001],
    );
  });
});

describe('fleet: replacement', () => {
  test('a failed replica is stopped, removed and replaced on the same port by a new one, at once the first time', async () => {
    const r = rig({ replicas: { initial: 2, min: 2, max: 2 } });
    await r.pass();
    const [first, second] = r.ids();
    r.ready(first!);
    r.ready(second!);
    r.failed(first!);
    await r.pass();
    await r.pass();
    const now = r.ids();
    assert.equal(now.length, 2);
    assert.ok(!now.includes(first!), 'a new id');
    assert.equal(r.fleet.replicas.get(now[0]!)!.port, 8000, 'on the same port');
    assert.deepEqual(r.runtime.calls.slice(-3), [`stop ${first}`, `remove ${first}`, 'start acts:8000']);
    const replaced = r.events.since(0).find((e) => e.type === 'replica.replaced')!;
    assert.equal(replaced.previousId, first);
  });

  test('a list the runtime answers after a removal it was asked before: the removed replica is not adopted again', async () => {
    const r = rig({ replicas: { initial: 1, min: 1, max: 1 }, autoscale: false });
    await r.pass();
    const [old] = r.ids();
    r.ready(old!);
    const { list, remove } = { list: r.runtime.list.bind(r.runtime), remove: r.runtime.remove.bind(r.runtime) };
    let letRemove!: () => void;
    const removing = new Promise<void>((resolve) => (letRemove = resolve));
    r.runtime.remove = async (id) => {
      await removing;
      return remove(id);
    };
    r.failed(old!);
    r.fleet.kick();
    await eventually(
      async () => (r.runtime.calls.includes(`stop ${old}`) ? true : undefined),
      'the removal under way',
      2000,
      1,
    );
    // The next pass's list is taken now, with the old replica on it, and answered later.
    let answer!: () => void;
    const answered = new Promise<void>((resolve) => (answer = resolve));
    let asked = false;
    r.runtime.list = async () => {
      asked = true;
      const snapshot = await list();
      await answered;
      r.runtime.list = list;
      return snapshot;
    };
    r.fleet.kick();
    await eventually(async () => (asked ? true : undefined), 'the next pass listing', 2000, 1);
    letRemove();
    await eventually(async () => (r.fleet.replicas.has(old!) ? undefined : true), 'the old replica removed', 2000, 1);
    answer();
    await r.fleet.idle();
    await r.pass();
    assert.deepEqual(
      r.events.since(0).filter((e) => e.id === old && e.type === 'replica.adopted'),
      [],
      'not adopted again',
    );
    assert.equal(
      r.events.since(0).filter((e) => e.id === old && e.type === 'replica.stopped').length,
      1,
      'stopped once',
    );
    assert.equal(r.fleet.replicas.has(old!), false);
  });

  test("a replica whose process exits is failed and replaced; the env it starts with is the config's templates", async () => {
    const r = rig();
    await r.pass();
    const [id] = r.ids();
    assert.deepEqual(r.runtime.replicas.get(id!)!.started!.env, {
      PORT: '8000',
      ID: r.runtime.replicas.get(id!)!.instance,
      USERS: 'http://users-9000',
    });
    r.runtime.exit(id!);
    await r.pass();
    await r.pass();
    assert.ok(r.eventTypes().includes('replica.failed acts:8000'));
    assert.notEqual(r.ids()[0], id);
  });
});

describe('fleet: scale-down', () => {
  test('highest port first, each drained before it is stopped, then removed', async () => {
    const r = rig();
    r.fleet.setDesired('acts', { replicas: 3, code: 'load', reason: 'test' });
    await r.pass();
    const [a, b, c] = r.ids();
    for (const id of [a, b, c]) r.ready(id!);
    r.fleet.setDesired('acts', { replicas: 1, code: 'load', reason: 'quiet window' });
    await r.clock.advance(0);
    assert.deepEqual(r.order, [`drain ${c}`, `drain ${b}`], 'the highest port is drained first');
    assert.ok(!r.runtime.calls.includes(`stop ${c}`), 'no stop before its drain ends');
    r.drains.get(c!)!();
    r.drains.get(b!)!();
    await r.fleet.idle();
    const stops = r.runtime.calls.filter((x) => x.startsWith('stop'));
    assert.deepEqual(stops, [`stop ${c}`, `stop ${b}`]);
    assert.deepEqual(r.ids(), [a]);
    const scaled = r.events
      .since(0)
      .filter((e) => e.type === 'scaled')
      .map((e) => [e.from, e.to, e.code]);
    assert.deepEqual(scaled, [
      [1, 3, 'load'],
      [3, 1, 'load'],
    ]);
  });

  test('a drain that never ends is cut at drainTimeoutMs', async () => {
    const r = rig();
    r.fleet.setDesired('acts', { replicas: 2, code: 'load', reason: 'test' });
    await r.pass();
    for (const id of r.ids()) r.ready(id);
    const [, b] = r.ids();
    r.fleet.setDesired('acts', { replicas: 1, code: 'load', reason: 'test' });
    await r.clock.advance(4999);
    assert.ok(!r.runtime.calls.includes(`stop ${b}`));
    await r.clock.advance(1);
    await r.fleet.idle();
    assert.ok(r.runtime.calls.includes(`stop ${b}`));
  });
});

describe('fleet: rolling replacement at max replicas (desired 2 of max 2): in place', () => {
  test('a changed env: one replica at a time, drained, the next only once the new one is ready', async () => {
    const r = rig({ replicas: { initial: 2, min: 2, max: 2 }, autoscale: false });
    await r.pass();
    const [a, b] = r.ids();
    for (const id of [a!, b!, ...r.ids('users')]) r.ready(id);
    await r.pass();
    assert.deepEqual(r.order, [], 'nothing drifted');
    r.config.services[0]!.env = { ...r.config.services[0]!.env, NEW: 'x' };
    r.env.update(r.config, {});
    r.fleet.specsChanged();
    await r.clock.advance(0);
    assert.deepEqual(r.order, [`drain ${a}`], 'the lowest port first, one only; users unchanged');
    r.drains.get(a!)!();
    await r.fleet.idle();
    await r.pass();
    const [a2] = r.ids();
    assert.notEqual(a2, a);
    assert.equal(r.runtime.replicas.get(a2!)!.started!.env.NEW, 'x');
    await r.pass();
    assert.deepEqual(r.order, [`drain ${a}`, `drained ${a}`], 'b waits while its predecessor is not ready');
    r.ready(a2!);
    r.fleet.kick();
    await r.clock.advance(0);
    assert.deepEqual(r.order.at(-1), `drain ${b}`);
    r.drains.get(b!)!();
    await r.fleet.idle();
    await r.pass();
    r.ready(r.ids()[1]!);
    await r.pass();
    const replaced = r.events.since(0).filter((e) => e.type === 'replica.replaced');
    assert.deepEqual(
      replaced.map((e) => [e.port, e.previousId, e.rolling, e.reason]),
      [
        [8000, a, true, `rolling replacement of ${a!.slice(0, 12)}: spec changed (env)`],
        [8001, b, true, `rolling replacement of ${b!.slice(0, 12)}: spec changed (env)`],
      ],
    );
    assert.equal(
      [...r.order].filter((x: string) => x.startsWith('drain ')).length,
      2,
      'converged: nothing more to replace',
    );
  });
});

describe('fleet: rolling replacement with a surge replica (desired 2 of max 3)', () => {
  const fixed = { replicas: { initial: 2, min: 2, max: 3 }, autoscale: false };
  /** acts replicas by port. */
  const at = (r: ReturnType<typeof rig>, port: number) =>
    [...r.fleet.replicas.values()].find(
      (x) => x.service === 'acts' && x.port === port && x.state !== 'draining' && x.state !== 'stopping',
    )?.id;

  test('the surge starts first, old ones leave one at a time only once it is ready, 2 stay in rotation throughout, the surge goes at the end', async () => {
    const r = rig(fixed);
    await r.pass();
    const [a, b] = r.ids();
    for (const id of [a!, b!, ...r.ids('users')]) r.ready(id);
    await r.pass();
    r.changeEnv({ NEW: 'x' });
    await r.fleet.idle();
    const s = at(r, 8002)!;
    const started = r.events.since(0).find((e) => e.id === s)!;
    assert.equal(started.type, 'replica.started');
    assert.equal(started.surge, true);
    assert.match(started.reason, /^surge for rolling replacement: one beside the 2 wanted, so 2 stay ready/);
    assert.equal(r.runtime.replicas.get(s)!.started!.env.NEW, 'x', 'the surge replica has the new spec');
    assert.deepEqual(r.fleet.rollout('acts'), { toReplace: 2, surgePort: 8002 });
    await r.pass();
    assert.deepEqual(r.order, [], 'no old replica leaves before the surge is ready');
    const lows: number[] = [];
    r.ready(s);
    lows.push(r.inRotation());
    await r.drained(a!);
    lows.push(r.inRotation());
    await r.pass();
    const a2 = at(r, 8000)!;
    assert.notEqual(a2, a);
    await r.pass();
    assert.deepEqual(r.order, [`drain ${a}`, `drained ${a}`], 'b waits while its predecessor is not ready');
    lows.push(r.inRotation());
    r.ready(a2);
    await r.drained(b!);
    lows.push(r.inRotation());
    await r.pass();
    const b2 = at(r, 8001)!;
    assert.ok(r.fleet.replicas.has(s), 'the surge stays while the last successor is not ready');
    r.ready(b2);
    await r.drained(s);
    lows.push(r.inRotation());
    assert.deepEqual(r.ids(), [a2, b2]);
    assert.ok(
      lows.every((n) => n >= 2),
      `in rotation at each step: ${lows.join(', ')}`,
    );
    const stopped = r.events
      .since(0)
      .filter((e) => e.type === 'replica.stopped')
      .map((e) => [e.id, e.reason]);
    assert.deepEqual(stopped, [
      [a, 'rolling replacement: spec changed (env)'],
      [b, 'rolling replacement: spec changed (env)'],
      [s, 'rolling replacement done: the surge replica on port 8002 is no longer needed'],
    ]);
    assert.deepEqual(
      r.events
        .since(0)
        .filter((e) => e.type === 'replica.replaced')
        .map((e) => [e.port, e.previousId, e.rolling]),
      [
        [8000, a, true],
        [8001, b, true],
      ],
    );
    await r.pass();
    assert.equal(r.fleet.rollout('acts'), null);
    assert.deepEqual(
      r.runtime.calls.filter((c) => c.startsWith('start acts')),
      ['start acts:8000', 'start acts:8001', 'start acts:8002', 'start acts:8000', 'start acts:8001'],
      'converged: nothing more started',
    );
  });

  test('a surge port another process holds: the roll goes in place at once instead of waiting for it, and the next roll tries the surge port again', async () => {
    const r = rig(fixed);
    await r.pass();
    const [a, b] = r.ids();
    for (const id of [a!, b!, ...r.ids('users')]) r.ready(id);
    await r.pass();
    r.runtime.takenPorts.add(8002);
    r.changeEnv({ NEW: 'x' });
    // The surge start fails, and the pass it prompts drains a at once (in place).
    await r.clock.advance(0);
    const refused = r.events.since(0).find((e) => e.type === 'runtime.error')!;
    assert.equal(refused.port, 8002);
    assert.match(
      refused.reason,
      /^surge port 8002 is taken by another process, so this rolling replacement goes in place, one replica at a time: port 8002 is taken/,
    );
    assert.deepEqual(
      r.fleet.rollout('acts'),
      { toReplace: 1, surgePort: null },
      'a is leaving already: b is left to replace, and no surge',
    );
    // In place: a, then b, each drained and replaced on its own port, the next once that one is ready.
    await r.drained(a!);
    await r.pass();
    const a2 = at(r, 8000)!;
    assert.notEqual(a2, a);
    await r.pass();
    assert.deepEqual(r.order, [`drain ${a}`, `drained ${a}`], 'b waits while its predecessor is not ready');
    r.ready(a2);
    await r.drained(b!);
    await r.pass();
    const b2 = at(r, 8001)!;
    r.ready(b2);
    await r.pass();
    assert.deepEqual(r.ids(), [a2, b2]);
    assert.equal(r.fleet.rollout('acts'), null);
    assert.deepEqual(
      r.runtime.calls.filter((c) => c.startsWith('start acts')),
      ['start acts:8000', 'start acts:8001', 'start acts:8002', 'start acts:8000', 'start acts:8001'],
      'the surge port tried once, not under the backoff',
    );
    // The port is free again: the next roll has its surge.
    r.runtime.takenPorts.delete(8002);
    r.changeEnv({ NEW: 'y' });
    await r.fleet.idle();
    assert.ok(at(r, 8002), 'the next roll starts a surge replica');
    assert.deepEqual(r.fleet.rollout('acts'), { toReplace: 2, surgePort: 8002 });
    assert.deepEqual(
      r.order.filter((x) => x.startsWith('drain ')).length,
      2,
      'no old replica left before this surge is ready',
    );
  });

  test('a surge replica that fails is replaced on its port; no old replica leaves meanwhile', async () => {
    const r = rig(fixed);
    await r.pass();
    for (const id of [...r.ids(), ...r.ids('users')]) r.ready(id);
    r.changeEnv({ NEW: 'x' });
    await r.fleet.idle();
    const s = at(r, 8002)!;
    r.ready(s);
    r.failed(s);
    await r.fleet.idle();
    await r.pass();
    const s2 = at(r, 8002)!;
    assert.notEqual(s2, s);
    const replaced = r.events.since(0).find((e) => e.type === 'replica.replaced' && e.id === s2)!;
    assert.match(replaced.reason, /\(surge for rolling replacement\)$/);
    assert.deepEqual(r.order, [], 'the old replicas stay until a surge is ready');
    assert.equal(r.inRotation(), 2);
  });

  test('a restart mid-roll: the adopted old replicas are still replaced, beside the adopted surge, which goes once none differs', async () => {
    const first = rig(fixed);
    await first.pass();
    for (const id of [...first.ids(), ...first.ids('users')]) first.ready(id);
    first.changeEnv({ NEW: 'x' });
    await first.fleet.idle();
    const [a, b, s] = first.ids();
    // The first supervisor dies here (SIGKILL); its successor reads the changed config.
    const r = rig({ ...fixed, runtime: first.runtime, actsEnv: { ...first.config.services[0]!.env } });
    await r.fleet.adopt();
    assert.deepEqual(r.ids(), [a, b, s]);
    await r.pass();
    assert.deepEqual(r.order, [], 'the adopted are not ready yet');
    assert.deepEqual(r.fleet.rollout('acts'), { toReplace: 2, surgePort: 8002 });
    for (const id of [...r.ids(), ...r.ids('users')]) r.ready(id);
    await r.drained(a!);
    await r.pass();
    r.ready(at(r, 8000)!);
    await r.drained(b!);
    await r.pass();
    r.ready(at(r, 8001)!);
    await r.drained(s!);
    assert.deepEqual(
      r.events
        .since(0)
        .filter((e) => e.type === 'replica.stopped')
        .map((e) => e.reason),
      [
        'rolling replacement: spec changed (env)',
        'rolling replacement: spec changed (env)',
        'rolling replacement done: the surge replica on port 8002 is no longer needed',
      ],
    );
    assert.equal(r.runtime.calls.filter((c) => c === 'start acts:8002').length, 1, 'no second surge');
  });

  test('a restart after the last replacement: the leftover surge stays until the adopted are ready, then goes', async () => {
    const first = rig({ ...fixed, replicas: { initial: 3, min: 3, max: 3 } });
    await first.pass();
    const [, , s] = first.ids();
    const r = rig({ ...fixed, runtime: first.runtime });
    await r.fleet.adopt();
    await r.pass();
    assert.deepEqual(r.order, []);
    assert.ok(r.fleet.replicas.has(s!), 'kept while the wanted ports are not ready');
    const [a, b] = r.ids();
    r.ready(a!);
    r.ready(s!);
    await r.pass();
    assert.deepEqual(r.order, [], 'kept while one wanted port is not ready');
    r.ready(b!);
    await r.drained(s!);
    assert.deepEqual(r.ids(), [a, b]);
    assert.equal(
      r.events.since(0).find((e) => e.type === 'replica.stopped')!.reason,
      'rolling replacement done: the surge replica on port 8002 is no longer needed',
    );
  });
});

describe('fleet: crash-loop backoff', () => {
  const startsIn10s = async (r: ReturnType<typeof rig>) => {
    const t0 = r.clock.now();
    r.fleet.start();
    await r.clock.advance(10_000);
    await r.fleet.halt(1);
    return (r.runtime.startedAt.get('acts') ?? []).map((t) => t - t0);
  };

  test('replicas that die at start: restarted at once, then 1 s, 2 s, 4 s after each failure is seen', async () => {
    const r = rig();
    r.runtime.crashing.add('acts');
    // Each death is seen by the pass that follows the start (the runtime lists it exited).
    assert.deepEqual(await startsIn10s(r), [0, 0, 1000, 3000, 7000]);
  });

  test('starts that fail (no image) back off the same way, and each is a runtime.error event', async () => {
    const r = rig();
    r.runtime.refusing.add('acts');
    assert.deepEqual(await startsIn10s(r), [0, 0, 1000, 3000, 7000]);
    assert.equal(r.events.since(0).filter((e) => e.type === 'runtime.error' && e.service === 'acts').length, 5);
  });

  test('a replica that stayed ready for resetAfterMs starts a fresh count: its next restart is immediate', async () => {
    const r = rig();
    r.fleet.start();
    await r.clock.advance(0);
    const [first] = r.ids();
    r.ready(first!);
    r.failed(first!); // one failure: the count is 1
    await r.clock.advance(100);
    const [second] = r.ids();
    r.ready(second!);
    await r.clock.advance(6000); // ready longer than resetAfterMs (5 s)
    const before = r.runtime.startedAt.get('acts')!.length;
    r.failed(second!);
    await r.clock.advance(0);
    await r.fleet.idle();
    assert.equal(r.runtime.startedAt.get('acts')!.length, before + 1, 'replaced at once, not after 1 s');
    await r.fleet.halt(1);
  });
});

describe('fleet: under pressure', () => {
  test('starts are staggered: with maxStarting 1 a scale-up boots one replica at a time', async () => {
    const r = rig({ maxStarting: 1 });
    await r.pass();
    r.ready(r.ids()[0]!);
    r.fleet.setDesired('acts', { replicas: 3, code: 'load', reason: 'test' });
    await r.pass();
    await r.pass();
    assert.deepEqual(
      r.runtime.calls.filter((c) => c.startsWith('start acts')),
      ['start acts:8000', 'start acts:8001'],
      'the third waits while the second boots',
    );
    r.ready(r.ids()[1]!);
    await r.pass();
    assert.deepEqual(
      r.runtime.calls.filter((c) => c.startsWith('start acts')),
      ['start acts:8000', 'start acts:8001', 'start acts:8002'],
    );
  });

  const capacity = { memoryMb: 1024, reserveMb: 256, budgetMb: 768, source: 'test' };

  test('capacity: a scale-up that does not fit is capped, with its code and reason; room freed by another service lets it grow', async () => {
    const r = rig({ users: { initial: 1, min: 1, max: 2 } });
    r.fleet.setCapacity(capacity); // 768 MB: three replicas of 256 MB
    r.fleet.setDesired('users', { replicas: 2, code: 'operator', reason: 'test' });
    r.fleet.setDesired('acts', { replicas: 3, code: 'load', reason: 'busy window' });
    assert.equal(r.fleet.desired.get('acts'), 1, 'users 2 + acts 1 fill 768 MB');
    assert.deepEqual(r.fleet.capped.get('acts'), {
      wanted: 3,
      allowed: 1,
      reason: '3 asked, 1 fit: 768 MB for replicas (capacity), 256 MB each, beside users 2 × 256 MB',
    });
    const stays = r.events
      .since(0)
      .filter((e) => e.type === 'scaled')
      .at(-1)!;
    assert.equal(stays.code, 'capped-by-capacity');
    assert.match(stays.reason, /^stays 1: busy window; capped by capacity: 3 asked, 1 fit/);
    r.fleet.setDesired('users', { replicas: 1, code: 'operator', reason: 'test' });
    assert.equal(r.fleet.desired.get('acts'), 2, 'the room users left goes to acts');
    assert.deepEqual(r.fleet.capped.get('acts')?.allowed, 2);
    r.fleet.setDesired('acts', { replicas: 1, code: 'load', reason: 'quiet' });
    assert.equal(r.fleet.desired.get('acts'), 1);
    assert.equal(r.fleet.capped.size, 0, 'a count that fits is not capped');
    await r.pass();
    assert.deepEqual(r.runtime.calls.filter((c) => c.startsWith('start')).length, 2, 'never more started than fit');
  });

  test('capacity: replicas count at their memory request, or at what they use when that is more', async () => {
    const used = new Map<string, number>();
    const r = rig({
      replicas: { initial: 1, min: 1, max: 10 },
      actsResources: { memoryMb: 256, cpus: 0.5, memoryRequestMb: 64 },
      memoryInUse: (id) => used.get(id),
    });
    r.fleet.setCapacity(capacity);
    r.fleet.setDesired('acts', { replicas: 10, code: 'load', reason: 'busy window' });
    assert.equal(r.fleet.desired.get('acts'), 8, '768 MB less users 1 × 256 MB holds acts 8 × 64 MB');
    assert.match(
      r.fleet.capped.get('acts')?.reason ?? '',
      /^10 asked, 8 fit: 768 MB for replicas \(capacity\), 64 MB each/,
    );
    await r.pass();
    for (const id of r.ids()) {
      r.ready(id);
      used.set(id, 100 * 2 ** 20);
    }
    r.fleet.setDesired('acts', { replicas: 9, code: 'load', reason: 'busier' });
    assert.equal(r.fleet.desired.get('acts'), 8, 'no more: at 100 MB each, 8 already take more than is free');
    assert.match(r.fleet.capped.get('acts')?.reason ?? '', /9 asked, 8 fit: .*, 100 MB each/);
    for (const id of r.ids()) used.set(id, 40 * 2 ** 20);
    r.fleet.setDesired('acts', { replicas: 3, code: 'load', reason: 'quiet' });
    assert.equal(r.fleet.desired.get('acts'), 3, 'down is never capped');
    r.fleet.setDesired('acts', { replicas: 10, code: 'load', reason: 'busy again' });
    assert.equal(r.fleet.desired.get('acts'), 8, 'using less than the request still counts the request');
  });

  test('capacity: the initial counts are fitted, and minimums that do not fit run anyway, said in an event', async () => {
    const r = rig({ replicas: { initial: 3, min: 2, max: 3 } });
    r.fleet.setCapacity({ memoryMb: 512, reserveMb: 256, budgetMb: 256, source: 'test' });
    assert.equal(r.fleet.desired.get('acts'), 2, 'the minimum, though it does not fit');
    assert.equal(r.fleet.desired.get('users'), 1);
    const exceeded = r.events.since(0).find((e) => e.type === 'capacity.exceeded');
    assert.match(exceeded?.reason ?? '', /need 512 MB more than the 256 MB replicas may use/);
  });

  test('unready (it says it cannot serve): out of rotation at once, kept running; back in rotation when its check passes', async () => {
    const r = rig({ replicas: { initial: 2, min: 2, max: 2 } });
    await r.pass();
    const [a, b] = r.ids();
    r.ready(a!);
    r.ready(b!);
    r.unready(a!, 'unready');
    r.unready(b!, 'unready');
    assert.deepEqual(r.routed(), ['8000 out', '8001 out'], 'both out (the balancer panics, not the fleet)');
    await r.pass();
    assert.ok(!r.runtime.calls.some((c) => c.startsWith('stop') || c.startsWith('remove')), 'nothing stopped');
    r.ready(a!);
    assert.deepEqual(r.routed(), ['8000', '8001 out']);
    assert.deepEqual(
      r.eventTypes().filter((e) => /unready|restored/.test(e)),
      ['replica.unready acts:8000', 'replica.unready acts:8001', 'replica.restored acts:8000'],
    );
  });

  test('slow: at most maxEjectedPercent (50) of the ready replicas out at once; the others stay in rotation, said once', async () => {
    const r = rig({ replicas: { initial: 3, min: 3, max: 3 } });
    await r.pass();
    const ids = r.ids();
    for (const id of ids) r.ready(id);
    for (const id of ids) r.unready(id, 'slow');
    for (const id of ids) r.unready(id, 'slow'); // the next failure in the run
    assert.deepEqual(r.routed(), ['8000 out', '8001', '8002'], 'floor(3 × 50 %) = 1 out');
    assert.equal(r.eventTypes().filter((e) => e.startsWith('replica.kept')).length, 2, 'once per replica kept');
    r.ready(ids[0]!);
    r.unready(ids[1]!, 'slow');
    assert.deepEqual(r.routed(), ['8000', '8001 out', '8002'], 'the room it left goes to the next');
  });

  test('stuck: replaced, as many at once as the limit lets go (at least one), the next once the first is replaced', async () => {
    const r = rig({ replicas: { initial: 2, min: 2, max: 2 } });
    await r.pass();
    const [a, b] = r.ids();
    r.ready(a!);
    r.ready(b!);
    r.failed(a!, 'stuck');
    r.failed(b!, 'stuck');
    assert.equal(r.fleet.replicas.get(a!)!.state, 'failed');
    assert.equal(r.fleet.replicas.get(b!)!.state, 'ready', 'held: max(1, floor(2 × 50 %)) = 1 at once');
    assert.match(
      r.events.since(0).find((e) => e.type === 'replica.failed')!.reason,
      /^stuck: no answer to its liveness check within 5000 ms/,
    );
    await r.pass();
    await r.pass();
    const fresh = r.ids().find((id) => id !== a && id !== b)!;
    assert.equal(r.fleet.replicas.get(b!)!.state, 'ready', "still held while the first one's successor starts");
    r.ready(fresh);
    await r.pass();
    const left = r.fleet.replicas.get(b!);
    assert.ok(left === undefined || left.state === 'failed', `then the second one goes (${left?.state})`);
  });

  test('dead: replaced at once, whatever the limit', async () => {
    const r = rig({ replicas: { initial: 2, min: 2, max: 2 } });
    await r.pass();
    const [a, b] = r.ids();
    r.ready(a!);
    r.ready(b!);
    r.failed(a!);
    r.failed(b!);
    assert.deepEqual(
      [a, b].map((id) => r.fleet.replicas.get(id!)!.state),
      ['failed', 'failed'],
    );
  });
});

describe('fleet: adoption without a gap', () => {
  test('replicas adopted at start-up take traffic until their first check says otherwise; one found later waits for its check', async () => {
    const r = rig();
    const a = r.runtime.plant('acts', 8000);
    await r.fleet.adopt();
    assert.deepEqual(r.routed(), ['8000'], 'in rotation before any check (it was serving)');
    r.fleet.onHealth({
      type: 'health',
      id: a,
      verdict: 'failing',
      consecutiveFailures: 1,
      reason: 'ECONNREFUSED',
      latencyMs: 1,
    });
    assert.deepEqual(r.routed(), ['8000 starting'], 'out once a check failed');
    r.ready(a);
    assert.deepEqual(r.routed(), ['8000']);
    const b = r.runtime.plant('acts', 8001);
    r.fleet.setDesired('acts', { replicas: 2, code: 'load', reason: 'test' });
    await r.pass();
    assert.ok(r.fleet.replicas.has(b), 'adopted in a pass');
    assert.deepEqual(
      r.routed().filter((x) => x.startsWith('8001')),
      ['8001 starting'],
      'found later: no traffic before its check',
    );
  });
});
