// The process runtime refuses to start a replica on a port another process holds, with the code
// the fleet acts on (PORT_TAKEN: a rolling replacement then goes in place instead of waiting for
// its surge port), and spawns nothing; on a free port it starts as before. Real processes on
// loopback, port 29510. (The engine runtimes' side is rolling.test.ts, through the supervisor.)
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { once } from 'node:events';
import { ProcessRuntime } from '../../supervisor/runtime/process.ts';
import { PORT_TAKEN, type ReplicaSpec } from '../../supervisor/runtime/runtime.ts';

const PORT = 29510;

describe('process runtime: a port another process holds', () => {
  let dir = '';
  let runtime: ProcessRuntime;
  let holder: Server | undefined;
  const started: string[] = [];
  const spec = (port: number): ReplicaSpec => ({
    service: 'probe',
    port,
    instance: `probe-${port}-${process.pid}`,
    command: ['node', '-e', 'setTimeout(() => {}, 60_000)'],
    containerPort: port,
    env: {},
    resources: { memoryMb: 64, cpus: 0.5 },
  });

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'selfless-port-taken-'));
    runtime = new ProcessRuntime({
      supervisor: `port-taken-${process.pid}`,
      dataDir: dir,
      replicaDataDir: join(dir, 'replica'),
      publishHost: '127.0.0.1',
      inheritEnv: [],
    });
    await runtime.init();
  });

  after(async () => {
    holder?.close();
    for (const id of started) {
      await runtime.stop(id, 1).catch(() => undefined);
      await runtime.remove(id).catch(() => undefined);
    }
    // The replicas' cgroups' parent too (runtime/cgroups.ts), where this machine gave one.
    await runtime.close({ removeResources: true });
    await rm(dir, { recursive: true, force: true });
  });

  test('held: start rejects with PORT_TAKEN naming the port, and no process is spawned', async () => {
    holder = createServer().listen(PORT, '127.0.0.1');
    await once(holder, 'listening');
    await assert.rejects(runtime.start(spec(PORT)), (err: Error & { code?: string }) => {
      assert.equal(err.code, PORT_TAKEN);
      assert.match(
        err.message,
        new RegExp(`^port ${PORT} is taken by another process: listen 127\\.0\\.0\\.1:${PORT}: address already in use`),
      );
      return true;
    });
    assert.deepEqual(await runtime.list(), [], 'nothing started, nothing recorded');
  });

  test('free again: it starts, and the probe left the port free for the replica', async () => {
    holder!.close();
    await once(holder!, 'close');
    holder = undefined;
    const info = await runtime.start(spec(PORT));
    started.push(info.id);
    assert.equal(info.port, PORT);
    assert.equal(info.running, true);
    // The probe is closed: the port can be listened on again (here by us, as the replica would).
    const again = createServer().listen(PORT, '127.0.0.1');
    await once(again, 'listening');
    again.close();
  });
});
