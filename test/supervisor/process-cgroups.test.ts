// The process runtime holds each replica to its service's resources through a cgroup of its own,
// as an engine holds a container (issue 23): on this machine's real cgroup hierarchies, a
// replica spinning on a core gets its `cpus` share of CPU time and no more, one allocating past
// `memoryMb` is OOM-killed by the kernel and the exit says so, and no group is left behind.
// Needs root (or a delegated cgroup): skipped elsewhere, required under CI=true.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { findReplicaCgroups } from '../../supervisor/runtime/cgroups.ts';
import { ProcessRuntime } from '../../supervisor/runtime/process.ts';
import type { ReplicaSpec } from '../../supervisor/runtime/runtime.ts';
import { eventually } from '../../testkit/eventually.ts';
import { skipUnless } from '../helpers/requirements.ts';

const INSTANCE = `cgroups-test-${process.pid}`;
const probe = findReplicaCgroups(`${INSTANCE}-probe`);
if ('cgroups' in probe) probe.cgroups.close();
const skip = skipUnless(
  { missing: 'unavailable' in probe ? `no cgroup this process may create (${probe.unavailable})` : undefined },
  'a writable cgroup hierarchy (root)',
);

/** CPU time of a process so far, seconds (utime + stime of /proc/PID/stat). */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

describe('process runtime: a cgroup per replica', { skip, timeout: 120_000 }, () => {
  let dir = '';
  let runtime: ProcessRuntime;
  const spec = (name: string, script: string, resources: ReplicaSpec['resources']): ReplicaSpec => ({
    service: name,
    port: 29520 + name.length,
    instance: `${name}-${process.pid}`,
    command: ['node', '-e', script],
    containerPort: 0,
    env: {},
    resources,
  });

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sa-process-cgroups-'));
    runtime = new ProcessRuntime({
      supervisor: INSTANCE,
      dataDir: dir,
      replicaDataDir: join(dir, 'replica'),
      publishHost: '127.0.0.1',
      inheritEnv: [],
    });
    await runtime.init();
  });

  after(async () => {
    for (const r of (await runtime?.list()) ?? []) await runtime.remove(r.id).catch(() => undefined);
    await runtime?.close({ removeResources: true });
    await rm(dir, { recursive: true, force: true });
  });

  test('the runtime says the kernel holds memory and CPU', () => {
    assert.equal(runtime.memoryEnforcement, 'cgroup');
    assert.equal(runtime.cpuEnforcement, 'cgroup');
    assert.match(runtime.limitsNote, new RegExp(`a cgroup \\(v[12]\\) per replica under .*${INSTANCE}-replicas`));
  });

  test('a replica spinning on a core gets its cpus (0.2) and no more; one with a quota of 2 beside it gets a core', async (t) => {
    const spin = 'for (;;) {}';
    const held = await runtime.start(spec('spinheld', spin, { memoryMb: 128, cpus: 0.2 }));
    const free = await runtime.start(spec('spinfree', spin, { memoryMb: 128, cpus: 2 }));
    const pids = [findPid(held.id), findPid(free.id)];
    assert.match(readFileSync(`/proc/${pids[0]}/cgroup`, 'utf8'), new RegExp(`${INSTANCE}-replicas/${held.id}`));
    await sleep(300); // past node's start-up
    const before = pids.map(cpuSeconds);
    const started = performance.now();
    await sleep(2000);
    const seconds = (performance.now() - started) / 1000;
    const [heldCores, freeCores] = pids.map((pid, i) => (cpuSeconds(pid) - before[i]!) / seconds) as [number, number];
    t.diagnostic(`cores used: held to 0.2 → ${heldCores.toFixed(2)}, held to 2 → ${freeCores.toFixed(2)}`);
    await runtime.remove(held.id);
    await runtime.remove(free.id);
    assert.ok(heldCores <= 0.2 * 1.5, `held: ${heldCores.toFixed(2)} cores`);
    assert.ok(heldCores >= 0.05, `held: ${heldCores.toFixed(2)} cores (it spun at all)`);
    // A spinning process takes a core where nothing holds it (0.5 or more even on a busy machine).
    assert.ok(freeCores >= 0.5, `beside it, held to 2: ${freeCores.toFixed(2)} cores`);
  });

  test('a replica allocating past memoryMb (64) is OOM-killed by the kernel, and its exit says so', async () => {
    // Buffers live outside V8's heap: its --max-old-space-size does not stop them, the cgroup must.
    const hog =
      'const keep = []; setInterval(() => { for (let i = 0; i < 8; i++) keep.push(Buffer.alloc(1 << 20, 1)); }, 10);';
    const info = await runtime.start(spec('hog', hog, { memoryMb: 64, cpus: 1 }));
    const gone = await eventually(
      async () => {
        const now = await runtime.inspect(info.id);
        return now && !now.running ? now : undefined;
      },
      'the hog stopped',
      20_000,
      100,
    );
    assert.match(
      gone.exitReason ?? '',
      /^killed by the kernel: out of memory at its cgroup limit \(resources\.memoryMb 64\)$/,
    );
    await runtime.remove(info.id);
  });

  test('removed replicas leave no group, and closing removes the parent', async () => {
    const found = findReplicaCgroups(INSTANCE);
    assert.ok('cgroups' in found);
    const where = found.cgroups.where.split(' ');
    const info = await runtime.start(spec('idle', 'setInterval(() => {}, 1000)', { memoryMb: 64, cpus: 0.5 }));
    assert.ok(
      where.every((base) => existsSync(join(base, info.id))),
      'a group per controller while it runs',
    );
    await runtime.remove(info.id);
    assert.ok(
      where.every((base) => !existsSync(join(base, info.id))),
      'gone with the replica',
    );
    await runtime.close({ removeResources: true });
    assert.ok(
      where.every((base) => !existsSync(base)),
      `the parent groups are gone: ${where.join(', ')}`,
    );
  });

  function findPid(id: string): number {
    const state = JSON.parse(readFileSync(join(dir, `process-replicas-${INSTANCE}.json`), 'utf8')) as {
      replicas: Array<{ id: string; pid: number }>;
    };
    return state.replicas.find((r) => r.id === id)!.pid;
  }
});

describe('process runtime: cgroups "off"', () => {
  test('memory by the heap flags and the watchdog, CPU not limited, and the note says why', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sa-process-cgroups-off-'));
    try {
      const runtime = new ProcessRuntime({
        supervisor: `${INSTANCE}-off`,
        dataDir: dir,
        replicaDataDir: join(dir, 'replica'),
        publishHost: '127.0.0.1',
        inheritEnv: [],
        cgroups: 'off',
      });
      assert.equal(runtime.memoryEnforcement, 'heap-and-watchdog');
      assert.equal(runtime.cpuEnforcement, 'none');
      assert.match(runtime.limitsNote, /no cgroup per replica \(runtimes\.process\.cgroups is "off"\)/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
