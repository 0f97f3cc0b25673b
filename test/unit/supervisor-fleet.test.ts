// The Fleet against a fake runtime and a fake clock: adoption of what runs (and removal of what
// does not), replacement on the same port, scale-down drained highest port first, crash-loop
// backoff, and the environment each replica is started with. No engine, no process.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseConfig } from '../../supervisor/config.ts';
import { EventLog } from '../../supervisor/events.ts';
import { Fleet } from '../../supervisor/fleet.ts';
import { silentLogger } from '../../supervisor/log.ts';
import { ReplicaEnvironment } from '../../supervisor/replica-env.ts';
import { FakeClock } from '../helpers/fake-clock.ts';
import { FakeRuntime } from '../helpers/fake-runtime.ts';

const quiet = silentLogger;

function rig(options: { replicas?: { initial: number; min: number; max: number }; autoscale?: boolean } = {}) {
  const config = parseConfig(
    {
      backoff: { initialMs: 1000, maxMs: 8000, resetAfterMs: 5000 },
      drainTimeoutMs: 5000,
      startTimeoutMs: 20_000,
      stopGraceSeconds: 2,
      env: { PORT: '{{replica:port}}', ID: '{{replica:instance}}' },
      services: {
        acts: {
          image: 'acts:latest',
          env: { USERS: '{{service:users}}' },
          replicas: options.replicas ?? { initial: 1, min: 1, max: 3 },
          startPort: 8000,
          healthPath: '/h',
          autoscale: options.autoscale ?? true,
        },
        users: { image: 'users:latest', replicas: { initial: 1, min: 1, max: 1 }, startPort: 9000, healthPath: '/h' },
      },
    },
    { env: {} },
  );
  const clock = new FakeClock(1_000_000);
  const runtime = new FakeRuntime(() => clock.now());
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
  const ids = (service = 'acts') => [...fleet.replicas.values()].filter((r) => r.service === service).sort((a, b) => a.port - b.port).map((r) => r.id);
  const ready = (id: string) => fleet.onHealth({ type: 'health', id, verdict: 'ok', consecutiveFailures: 0, reason: 'HTTP 200', latencyMs: 1 });
  const failed = (id: string) => fleet.onHealth({ type: 'health', id, verdict: 'failed', consecutiveFailures: 3, reason: 'HTTP 500', latencyMs: 1 });
  const eventTypes = () => events.since(0).map((e) => `${e.type} ${e.service ?? ''}:${e.port ?? ''}`);
  return { config, clock, runtime, events, env, fleet, drains, order, pass, ids, ready, failed, eventTypes };
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
    assert.deepEqual(r.runtime.calls.filter((c) => c.startsWith('start')), [], 'every wanted port is taken');
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
    assert.deepEqual([...r.runtime.replicas.values()].filter((x) => x.service === 'acts').map((x) => x.port).sort(), [8000, 8001]);
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

  test('a replica whose process exits is failed and replaced; the env it starts with is the config\'s templates', async () => {
    const r = rig();
    await r.pass();
    const [id] = r.ids();
    assert.deepEqual(r.runtime.replicas.get(id!)!.started!.env, { PORT: '8000', ID: r.runtime.replicas.get(id!)!.instance, USERS: 'http://users-9000' });
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
    const scaled = r.events.since(0).filter((e) => e.type === 'scaled').map((e) => [e.from, e.to, e.code]);
    assert.deepEqual(scaled, [[1, 3, 'load'], [3, 1, 'load']]);
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

describe('fleet: rolling replacement', () => {
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
    assert.deepEqual(replaced.map((e) => [e.port, e.previousId, e.rolling, e.reason]), [
      [8000, a, true, `rolling replacement of ${a!.slice(0, 12)}: spec changed (env)`],
      [8001, b, true, `rolling replacement of ${b!.slice(0, 12)}: spec changed (env)`],
    ]);
    assert.equal([...r.order].filter((x: string) => x.startsWith('drain ')).length, 2, 'converged: nothing more to replace');
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
