// Adopting an autoscaled service (docs/architecture.md, "Adoption"): a supervisor running 3
// acts replicas is SIGKILLed; its successor, configured for initial 1 (min 1, max 3), adopts the
// 3 live replicas (same ids), wants clamp(max(initial, adopted ports), min, max) = 3 of them, and
// opens a scaling window at once, so the idle service comes back down to 1 without a request.
// The first supervisor runs 3 because its minimum is 3, so nothing can scale it down before the
// kill. Echo replicas under the process runtime (they outlive a SIGKILLed supervisor).
// Ports 30300-30399.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  Admin,
  SupervisorProcess,
  echoService,
  http,
  removeDir,
  tempDir,
  waitUp,
  writeConfig,
} from '../../testkit/supervisor.ts';

const SUITE = 'adopt-autoscaled';
const LISTEN = 30300;
const ADMIN = 30301;
const START = 30310;
const WINDOW_SECONDS = 4;
const base = `http://127.0.0.1:${LISTEN}`;

describe('adopting an autoscaled service (process runtime)', () => {
  const admin = new Admin(`http://127.0.0.1:${ADMIN}`);
  const running: SupervisorProcess[] = [];
  let dir = '';

  /** The suite's config with these replica counts (same instance, data dir and ports). */
  const configWith = (replicas: { initial: number; min: number; max: number }) =>
    writeConfig({
      suite: SUITE,
      dir,
      runtime: 'process',
      listenPort: LISTEN,
      adminPort: ADMIN,
      scaling: { windowSeconds: WINDOW_SECONDS, requestsPerReplica: 20, dampingWindows: 0 },
      services: { acts: echoService({ replicas, startPort: START, routes: ['/api/v1'], autoscale: true }) },
    });

  before(async () => {
    dir = await tempDir(SUITE);
  });

  after(async () => {
    for (const sup of running) await sup.stop();
    await removeDir(dir);
  });

  async function launch(configFile: string, ready: number): Promise<SupervisorProcess> {
    const sup = SupervisorProcess.start(configFile);
    running.push(sup);
    await waitUp(sup, admin, { acts: ready }, 60_000);
    return sup;
  }

  test('3 running, SIGKILLed: the successor adopts 3, opens a window at once and comes back to 1', async (t) => {
    const first = await launch(await configWith({ initial: 3, min: 3, max: 3 }), 3);
    const three = await admin.waitReady('acts', 3);
    assert.equal((await http('GET', `${base}/api/v1/before`)).status, 200);
    first.child.kill('SIGKILL');
    await first.exited;
    const killedAt = Date.now();

    const second = await launch(await configWith({ initial: 1, min: 1, max: 3 }), 3);
    const status = await admin.status();
    assert.deepEqual(
      status.services.acts!.replicas.map((r) => r.id),
      three.map((r) => r.id),
      'the same three replicas, adopted',
    );
    assert.equal(second.events('replica.adopted').length, 3);
    assert.equal(second.events('replica.started').length, 0, 'nothing started anew');
    // desired = clamp(max(initial 1, 3 adopted ports), 1, 3), and a window is open without a request.
    const window = await admin.waitFor(
      (s) => (s.services.acts!.desired === 3 ? s.services.acts!.window : undefined),
      'desired 3 and an open window',
      5000,
    );
    assert.equal(window.requests, 0);
    t.diagnostic(
      `window opened ${Date.parse((window as unknown as { startedAt: string }).startedAt) - killedAt} ms after the kill`,
    );
    const one = await admin.waitReady('acts', 1, WINDOW_SECONDS * 1000 + 30_000);
    assert.equal(one[0]!.port, START, 'the lowest port stays');
    const scaled = second.events('scaled');
    assert.ok(
      scaled.some((e) => /3 → 1/.test(String(e.reason))),
      JSON.stringify(scaled),
    );
  });
});
