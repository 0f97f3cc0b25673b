// Pressure row (a): the whole system in a 1 GiB memory budget (a small VM: the supervisor and its
// process-runtime replicas in one container with -m 1g and no swap) is asked for the shipped
// maximum, `selflessacts scale acts 10`. The supervisor knows its cgroup's limit, so it starts
// only what fits (resources.memoryMb each, capacity.reserveMb kept back), says why in /status and
// an event (capped-by-capacity), starts them a few at a time, and nothing is OOM-killed while
// reads and uploads go on; every request is answered. Before, 9 replicas started in the same
// millisecond and the whole system was OOM-killed within seconds. Ports 33300-33349.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { DockerEngine } from '../../engine-client/index.ts';
import { BudgetContainer } from '../../testkit/budget-container.ts';
import { FaultLoad } from '../../testkit/fault-load.ts';
import { photoJpeg } from '../../testkit/photos.ts';
import { shippedConfigFile } from '../../testkit/shipped-config.ts';
import { ADMIN_POST, Admin, eventually, http, removeDir, tempDir } from '../../testkit/supervisor.ts';
import { dockerAvailable, skipUnless } from '../helpers/requirements.ts';
import { eventsOf, recordRow, siteUser, uploadPhoto } from './support.ts';

const SUITE = 'pressure-memory';
const LISTEN = 33300;
const ADMIN = 33301;
const BUDGET_MB = 1024;
const skip = skipUnless(await dockerAvailable(), 'Docker Engine');

describe(`pressure: the whole system in a ${BUDGET_MB} MB budget, asked for the maximum`, { skip, timeout: 600_000 }, () => {
  const engine = new DockerEngine();
  const admin = new Admin(`http://127.0.0.1:${ADMIN}`);
  const base = `http://127.0.0.1:${LISTEN}`;
  let dir = '';
  let box: BudgetContainer | undefined;

  before(async () => {
    dir = await tempDir(SUITE);
    const configFile = await shippedConfigFile(undefined, { suite: SUITE, dir, listenPort: LISTEN, adminPort: ADMIN, actsPort: 33310, usersPort: 33330 });
    box = new BudgetContainer(engine, { suite: SUITE, memoryMb: BUDGET_MB, configFile, dir });
    await box.start();
    await eventually(async () => {
      if (!(await box!.state()).running) throw new Error(`the container exited: ${await box!.output()}`);
      const s = await admin.status().catch(() => undefined);
      return s && ['users', 'acts'].every((name) => s.services[name]!.replicas.some((r) => r.state === 'ready')) ? true : undefined;
    }, 'users and acts ready inside the budget', 180_000, 500, { giveUp: (err) => String(err).includes('the container exited') });
  });
  after(async () => {
    await box?.stop();
    await engine.close();
    await removeDir(dir);
  });

  test('scale acts 10: capped to what fits, with its reason; no OOM kill; every request answered', async (t) => {
    const status = await admin.status();
    t.diagnostic(`capacity: ${JSON.stringify(status.capacity)}`);
    const load = new FaultLoad({
      origin: base,
      readers: 2,
      writers: 0,
      read: (c, i) => ({ method: 'GET', path: ['/api/v1/categories', '/api/v1/acts/count', '/api/v1/users'][(c + i) % 3]! }),
      write: () => ({ method: 'GET', path: '/' }),
      pauseMs: 50,
      maxMs: 240_000,
    });
    load.start();
    const scaled = await http('POST', `${admin.base}/services/acts/scale`, { headers: { ...ADMIN_POST.headers, 'content-type': 'application/json' }, body: '{"replicas": 10}' });
    assert.equal(scaled.status, 200, scaled.text);
    // Until the cap is in place and what fits is ready, or the budget's container died.
    const fits = status.capacity ? Math.floor(status.capacity.budgetMb / 256) - 1 : 10; // users holds one
    let acts: Awaited<ReturnType<Admin['status']>>['services'][string] | undefined;
    for (const until = Date.now() + 120_000; Date.now() < until; await sleep(500)) {
      if (!(await box!.state()).running) break;
      acts = (await admin.status().catch(() => undefined))?.services.acts ?? acts;
      if (acts && acts.replicas.filter((r) => r.state === 'ready').length >= fits && (acts.capped || !status.capacity)) break;
    }
    t.diagnostic(`acts: desired ${acts?.desired}, capped ${JSON.stringify(acts?.capped)}`);

    // Photos through the balancer while at the cap: memory work for the replicas.
    let uploads: Array<{ status: number; error?: string; ms: number }> = [];
    if ((await box!.state()).running) {
      const user = await siteUser(base, 'budget', 'small-vm');
      const photos = await Promise.all([0, 1].map((seed) => photoJpeg({ width: 5600, height: 4200, quality: 92, seed })));
      uploads = await Promise.all([0, 1, 2, 3].map((i) => uploadPhoto(base, user, photos[i % 2]!, `vm ${i}`)));
      t.diagnostic(`uploads: ${uploads.map((u) => `${u.status || u.error} ${u.ms} ms`).join(', ')}`);
      await sleep(5000);
    }
    await load.stop();

    const state = await box!.state();
    const kills = await box!.oomKills();
    const figures = load.figures();
    const failed = state.running ? await eventsOf(admin, ['replica.failed']) : [];
    const cappedEvent = state.running && (await eventsOf(admin, ['scaled'])).some((e) => e.service === 'acts' && (e as { code?: string }).code === 'capped-by-capacity');
    t.diagnostic(`peak memory ${Math.round(box!.peakBytes / 2 ** 20)} MB of ${BUDGET_MB}; OOM kills in the cgroup: ${kills ?? 'unknown'}; ${figures.reads} reads, ${figures.failedReads} failed`);
    await recordRow('memory', {
      budgetMb: BUDGET_MB,
      asked: 10,
      actsReady: acts?.replicas.filter((r) => r.state === 'ready').length ?? 0,
      capped: acts?.capped ? `${acts.capped.allowed} of ${acts.capped.wanted}` : null,
      cappedEvent,
      supervisorRunning: state.running,
      supervisorOomKilled: state.oomKilled,
      oomKills: kills ?? null,
      peakMb: Math.round(box!.peakBytes / 2 ** 20),
      reads: figures.reads,
      failedReads: figures.failedReads,
      uploadsCreated: uploads.filter((u) => u.status === 201).length,
      uploads: uploads.length,
      replicasFailed: failed.length,
    });

    assert.equal(state.running, true, 'the supervisor still runs');
    assert.equal(state.oomKilled, false, 'not OOM-killed');
    if (kills !== undefined) assert.equal(kills, 0, 'no process in the budget OOM-killed');
    assert.ok(status.capacity, 'the capacity is known');
    assert.equal(status.capacity.memoryMb, BUDGET_MB, `found from the cgroup (${status.capacity.source})`);
    assert.match(status.capacity.source, /cgroup/);
    assert.equal(acts?.desired, fits);
    assert.deepEqual([acts?.capped?.wanted, acts?.capped?.allowed], [10, fits]);
    assert.match(acts?.capped?.reason ?? '', /10 asked, \d+ fit: \d+ MB for replicas \(capacity\), 256 MB each/);
    assert.ok(cappedEvent, 'a scaled event with code capped-by-capacity');
    assert.deepEqual(uploads.map((u) => u.status), [201, 201, 201, 201]);
    assert.equal(figures.failedReads, 0, JSON.stringify(figures.failures));
    assert.deepEqual(failed.map((e) => `${e.service}:${e.port} ${e.reason}`), [], 'no replica failed');
  });
});
