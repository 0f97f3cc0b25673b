// Rolling replacement, pure parts: the spec label and what drifted, the plan's one-at-a-time
// rule, and what a config reload may apply.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { applySpecChanges } from '../../supervisor/config-reload.ts';
import type { Config } from '../../supervisor/config.ts';
import { plan, slotKey, type Action, type PlanInput, type PlanReplica } from '../../supervisor/reconcile.ts';
import { formatSpec, parseSpec, specDrift, specParts, type SpecInput } from '../../supervisor/spec-hash.ts';

const NOW = 100_000;
const r = (id: string, port: number, state: PlanReplica['state'] = 'ready'): PlanReplica => ({ id, service: 'acts', port, state, trackedSince: NOW - 1000, startedAt: NOW - 1000 });

function planFor(replicas: PlanReplica[], drifted: Record<string, string>, extra: Partial<PlanInput> = {}): string[] {
  return plan({
    now: NOW,
    services: [{ name: 'acts', startPort: 8000, desired: 3 }],
    replicas,
    busy: new Set(),
    starting: new Set(),
    allowedAt: () => 0,
    startTimeoutMs: 30_000,
    drifted: new Map(Object.entries(drifted)),
    ...extra,
  }).map((a: Action) => (a.kind === 'start' ? `start ${a.port}` : `remove ${a.id}${a.drain ? ' drained' : ''}${a.replace ? ` (${a.replace})` : ''}`));
}

describe('rolling replacement in the plan: one at a time, only while the service is whole', () => {
  const whole = [r('a', 8000), r('b', 8001), r('c', 8002)];
  const rows: Array<{ name: string; replicas: PlanReplica[]; drifted: Record<string, string>; extra?: Partial<PlanInput>; want: string[] }> = [
    { name: 'nothing drifted → nothing to do', replicas: whole, drifted: {}, want: [] },
    { name: 'all three drifted → the lowest port first, drained', replicas: whole, drifted: { a: 'env', b: 'env', c: 'env' }, want: ['remove a drained (env)'] },
    { name: 'one drifted → that one', replicas: whole, drifted: { c: 'image x → y' }, want: ['remove c drained (image x → y)'] },
    { name: 'its replacement still starting → wait', replicas: [r('a2', 8000, 'starting'), r('b', 8001), r('c', 8002)], drifted: { b: 'env', c: 'env' }, want: [] },
    { name: 'the port being freed (start in progress) → wait', replicas: [r('b', 8001), r('c', 8002)], drifted: { b: 'env' }, extra: { starting: new Set([slotKey('acts', 8000)]) }, want: [] },
    { name: 'a replica being removed → wait', replicas: whole, drifted: { b: 'env' }, extra: { busy: new Set(['a']) }, want: [] },
    { name: 'a port empty → start it first, replace nothing this pass', replicas: [r('b', 8001), r('c', 8002)], drifted: { b: 'env' }, want: ['start 8000'] },
    { name: 'a failed replica → its removal only', replicas: [r('a', 8000, 'failed'), r('b', 8001), r('c', 8002)], drifted: { b: 'env' }, want: ['remove a'] },
  ];
  for (const row of rows) test(row.name, () => assert.deepEqual(planFor(row.replicas, row.drifted, row.extra), row.want));
});

describe('spec labels', () => {
  const base: SpecInput = { imageId: 'sha256:0123456789abcdef', env: { B: '2', A: '1' }, command: ['node', 'app.js'], resources: { memoryMb: 256, cpus: 0.5 }, containerPort: 8080 };
  const label = formatSpec(specParts(base));

  test('a label parses back, and the same spec in another key order matches', () => {
    assert.match(label, /^image=0123456789ab,env=[0-9a-f]{12},command=[0-9a-f]{12},resources=[0-9a-f]{12}$/);
    assert.deepEqual(parseSpec(label), specParts(base));
    assert.deepEqual(specDrift(label, specParts({ ...base, env: { A: '1', B: '2' } })), []);
  });
  const changes: Array<[string, Partial<SpecInput>, string[]]> = [
    ['a rebuilt image (same tag, new id)', { imageId: 'sha256:fedcba9876543210' }, ['image 0123456789ab → fedcba987654']],
    ['an env value', { env: { A: '1', B: '3' } }, ['env']],
    ['a command', { command: ['node', 'other.js'] }, ['command']],
    ['a memory limit', { resources: { memoryMb: 512, cpus: 0.5 } }, ['resources']],
    ['the container port', { containerPort: 9090 }, ['resources']],
    ['env and image together', { env: {}, imageId: 'sha256:aaaaaaaaaaaa' }, ['image 0123456789ab → aaaaaaaaaaaa', 'env']],
  ];
  for (const [name, change, want] of changes) {
    test(`drift names what changed: ${name}`, () => assert.deepEqual(specDrift(label, specParts({ ...base, ...change })), want));
  }
  test('a replica without a label (an older supervisor) or with a mangled one is left alone', () => {
    assert.deepEqual(specDrift(undefined, specParts(base)), []);
    assert.deepEqual(specDrift('image=x', specParts(base)), []);
  });
});

describe('config reload: specs applied in place, everything else named', () => {
  const config = (over: { env?: Record<string, string>; image?: string; port?: number; startPort?: number; names?: string[] } = {}): Config =>
    ({
      listen: { host: '0.0.0.0', port: over.port ?? 3000 },
      env: over.env ?? { SHARED: '1' },
      services: (over.names ?? ['acts', 'users']).map((name) => ({ name, image: over.image ?? `${name}:latest`, env: { X: '1' }, resources: { memoryMb: 256, cpus: 0.5 }, startPort: over.startPort ?? 8000, routes: ['/api/v1'] })),
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
    assert.deepEqual(applySpecChanges(current, config({ port: 80, startPort: 9000 })), { applied: [], needRestart: ['listen', 'services.acts.startPort', 'services.users.startPort'] });
    assert.equal(current.listen.port, 3000);
    assert.equal(current.services[0]!.startPort, 8000);
  });
  test('a service added: needs a restart, and nothing of the services is applied', () => {
    const current = config();
    assert.deepEqual(applySpecChanges(current, config({ names: ['acts', 'users', 'extra'], image: 'new:1' })), { applied: [], needRestart: ['services (acts,users → acts,users,extra)'] });
    assert.equal(current.services[0]!.image, 'acts:latest');
  });
  test('the same config: nothing', () => assert.deepEqual(applySpecChanges(config(), config()), { applied: [], needRestart: [] }));
});
