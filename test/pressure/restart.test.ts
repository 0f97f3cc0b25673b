// Pressure row (f): the supervisor restarted without systemd's socket (kill -9, then a new one
// on the same config), under load through the balancer: while it is down connections are
// refused (nothing holds the port), but once the new one listens no request gets a 503: the
// replicas it adopts take traffic until their first check says otherwise. Before, adopted
// replicas waited for that check (~1.5 s) and 30 requests got "no ready replica". Real acts and
// users containers, shipped config. Ports 33250-33299.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { RestartLoad } from '../../testkit/restart-load.ts';
import { shippedConfigFile } from '../../testkit/shipped-config.ts';
import { TEST_ENGINE } from '../../testkit/engine.ts';
import {
  Admin,
  SupervisorRuns,
  removeDir,
  removeSuiteObjects,
  repoRoot,
  tempDir,
  waitUp,
} from '../../testkit/supervisor.ts';
import { skipUnlessEngine } from '../helpers/requirements.ts';
import { recordRow } from './support.ts';

const SUITE = 'pressure-restart';
const LISTEN = 33250;
const ADMIN = 33251;
const ROUNDS = 2;
const skip = await skipUnlessEngine();

describe('pressure: the supervisor restarted without the socket, under load', { skip, timeout: 300_000 }, () => {
  const engine = TEST_ENGINE.client();
  const admin = new Admin(`http://127.0.0.1:${ADMIN}`);
  let dir = '';
  const runs = new SupervisorRuns(() => file);
  let file = '';

  before(async () => {
    await removeSuiteObjects(engine, SUITE);
    dir = await tempDir(SUITE);
    // The load comes from one address, faster than the shipped per-client rate limit allows.
    const shipped = JSON.parse(await readFile(path.join(repoRoot, 'config/orchestrator.json'), 'utf8')) as {
      balancer: Record<string, unknown>;
    };
    const balancer = {
      ...shipped.balancer,
      rateLimits: {
        requests: { perMinute: 0, burst: 0 },
        auth: { perMinute: 0, burst: 0, paths: [], methods: ['POST'] },
      },
    };
    file = await shippedConfigFile(engine, {
      suite: SUITE,
      dir,
      listenPort: LISTEN,
      adminPort: ADMIN,
      actsPort: 33260,
      usersPort: 33280,
      overrides: { balancer },
    });
  });
  after(async () => {
    await runs.killAll();
    await removeSuiteObjects(engine, SUITE);
    await engine.close();
    await removeDir(dir);
  });

  test(`${ROUNDS} kill -9 and restarts: refused while down, never a 503 once it listens`, async (t) => {
    await waitUp(runs.start(), admin, { acts: 1, users: 1 }, 120_000);
    const all: Record<string, number> = {};
    const answers: string[] = [];
    for (let round = 1; round <= ROUNDS; round++) {
      const load = new RestartLoad(`http://127.0.0.1:${LISTEN}/api/v1/categories`, {
        clients: 4,
        timeoutMs: 10_000,
        maxRequests: 50_000,
      });
      await sleep(1000);
      await runs.current.kill();
      const killedAt = Date.now();
      const next = runs.start();
      await next.waitForLine((l) => l.msg === 'balancer listening', 'the new balancer listening', 60_000);
      await sleep(3000);
      const samples = await load.stop();
      const after = samples.filter((s) => s.at >= killedAt);
      const outcomes: Record<string, number> = {};
      for (const s of after) outcomes[s.outcome] = (outcomes[s.outcome] ?? 0) + 1;
      t.diagnostic(`round ${round}: from the kill on, ${JSON.stringify(outcomes)}`);
      for (const [k, n] of Object.entries(outcomes)) all[k] = (all[k] ?? 0) + n;
      answers.push(...after.filter((s) => s.outcome.startsWith('status')).map((s) => s.outcome));
    }
    await recordRow('restart', {
      rounds: ROUNDS,
      requests: Object.values(all).reduce((a, n) => a + n, 0),
      ok: all.ok ?? 0,
      refused: all.refused ?? 0,
      answered503: all['status 503'] ?? 0,
      otherFailures: Object.entries(all)
        .filter(([k]) => !['ok', 'refused', 'status 503'].includes(k))
        .reduce((a, [, n]) => a + n, 0),
    });
    assert.deepEqual(answers, [], 'every answer after a restart is a 2xx: no 503 while adopted replicas are checked');
    assert.ok((all.ok ?? 0) > 20 * ROUNDS, 'and it served');
  });
});
