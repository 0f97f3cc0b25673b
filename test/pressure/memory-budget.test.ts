// Pressure row (a), and issue 23's budget: the whole system in a 1 GiB memory budget (a small VM:
// the supervisor, from its bundle as production runs it, and its process-runtime replicas in one
// container with -m 1g and no swap) is asked for the shipped maximum, users 2 and acts 10
// (`selflessacts scale`), under the course's kind of load (reads and writes, open mode) and a
// storm of 8 photo uploads of 10 MB. The supervisor knows its cgroup's limit and counts each
// replica at its memory request (resources.memoryRequestMb, or what its service's replicas use
// when that is more; capacity.reserveMb kept back), so the whole maximum runs, started a few at
// a time, and nothing is OOM-killed; every request is answered. Before, 9 replicas started in
// the same millisecond and the whole system was OOM-killed within seconds; then, counted at their
// 256 MB limits, only users 2 and acts 1 fit. Capping itself: test/unit/supervisor-fleet.test.ts.
// Ports 33300-33349.
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
/** A 1×1 PNG: the writes are about the load, the uploads about memory. */
const PNG_B64 = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==';
const skip = skipUnless(await dockerAvailable(), 'Docker Engine');

describe(`pressure: the whole system in a ${BUDGET_MB} MB budget, asked for the maximum`, {
  skip,
  timeout: 600_000,
}, () => {
  const engine = new DockerEngine();
  const admin = new Admin(`http://127.0.0.1:${ADMIN}`);
  const base = `http://127.0.0.1:${LISTEN}`;
  let dir = '';
  let box: BudgetContainer | undefined;

  before(async () => {
    dir = await tempDir(SUITE);
    const configFile = await shippedConfigFile(undefined, {
      suite: SUITE,
      dir,
      listenPort: LISTEN,
      adminPort: ADMIN,
      actsPort: 33310,
      usersPort: 33330,
    });
    box = new BudgetContainer(engine, {
      suite: SUITE,
      memoryMb: BUDGET_MB,
      configFile,
      dir,
      env: { API_ACCESS: 'open' },
    });
    await box.start();
    await eventually(
      async () => {
        if (!(await box!.state()).running) throw new Error(`the container exited: ${await box!.output()}`);
        const s = await admin.status().catch(() => undefined);
        return s && ['users', 'acts'].every((name) => s.services[name]!.replicas.some((r) => r.state === 'ready'))
          ? true
          : undefined;
      },
      'users and acts ready inside the budget',
      180_000,
      500,
      { giveUp: (err) => String(err).includes('the container exited') },
    );
  });
  after(async () => {
    await box?.stop();
    await engine.close();
    await removeDir(dir);
  });

  test('users 2 and acts 10 asked: all run; no OOM kill; every request answered', async (t) => {
    const status = await admin.status();
    t.diagnostic(`capacity: ${JSON.stringify(status.capacity)}`);
    const user = await siteUser(base, 'budget', 'small-vm');
    const load = new FaultLoad({
      origin: base,
      readers: 2,
      writers: 1,
      read: (c, i) => ({
        method: 'GET',
        path: [
          '/api/v1/categories',
          '/api/v1/acts/count',
          '/api/v1/users',
          `/api/v1/categories/${user.category}/acts/size`,
        ][(c + i) % 4]!,
      }),
      // actIds counting down from far above: the uploads get the highest one + 1, so the two never meet.
      write: (_c, i) => ({
        method: 'POST',
        path: '/api/v1/acts',
        key: String(1e12 - i),
        body: JSON.stringify({
          actId: 1e12 - i,
          username: user.username,
          timestamp: '07-12-2026:00-00-12',
          caption: `load ${i}`,
          categoryName: user.category,
          imgB64: PNG_B64,
        }),
      }),
      pauseMs: 50,
      maxMs: 300_000,
    });
    load.start();
    for (const [service, replicas] of [
      ['users', 2],
      ['acts', 10],
    ] as const) {
      const scaled = await http('POST', `${admin.base}/services/${service}/scale`, {
        headers: { ...ADMIN_POST.headers, 'content-type': 'application/json' },
        body: JSON.stringify({ replicas }),
      });
      assert.equal(scaled.status, 200, scaled.text);
    }
    // Each replica counts at its memory request (64 MB, the shipped config), or at what its
    // service's replicas use when that is more: 768 MB for replicas hold users 2 and acts 10.
    const actsFit = 10;
    let services: Awaited<ReturnType<Admin['status']>>['services'] | undefined;
    for (const until = Date.now() + 120_000; Date.now() < until; await sleep(500)) {
      if (!(await box!.state()).running) break;
      services = (await admin.status().catch(() => undefined))?.services ?? services;
      const ready = (name: string) => services?.[name]?.replicas.filter((r) => r.state === 'ready').length ?? 0;
      if (ready('users') >= 2 && ready('acts') >= actsFit) break;
    }
    const acts = services?.acts;
    t.diagnostic(
      `users ${services?.users?.replicas.length} running; acts: desired ${acts?.desired}, capped ${JSON.stringify(acts?.capped)}`,
    );

    // The storm: 8 photos of 10 MB at once through the balancer, while the load goes on.
    let uploads: Array<{ status: number; error?: string; ms: number }> = [];
    if ((await box!.state()).running) {
      const photos = await Promise.all(
        [0, 1].map((seed) => photoJpeg({ width: 5600, height: 4200, quality: 92, seed })),
      );
      uploads = await Promise.all(
        Array.from({ length: 8 }, (_, i) => uploadPhoto(base, user, photos[i % 2]!, `storm ${i}`)),
      );
      t.diagnostic(`uploads: ${uploads.map((u) => `${u.status || u.error} ${u.ms} ms`).join(', ')}`);
      await sleep(5000);
    }
    await load.stop();

    const state = await box!.state();
    const kills = await box!.oomKills();
    const figures = load.figures();
    const failed = state.running ? await eventsOf(admin, ['replica.failed']) : [];
    t.diagnostic(
      `peak memory ${Math.round(box!.peakBytes / 2 ** 20)} MB of ${BUDGET_MB}; OOM kills in the cgroup: ${kills ?? 'unknown'}; ${figures.reads} reads (${figures.failedReads} failed), ${figures.writes} writes (${figures.failedWrites} failed) ${JSON.stringify(figures.failures)}`,
    );
    await recordRow('memory', {
      budgetMb: BUDGET_MB,
      asked: 10,
      usersReady: services?.users?.replicas.filter((r) => r.state === 'ready').length ?? 0,
      actsReady: acts?.replicas.filter((r) => r.state === 'ready').length ?? 0,
      capped: acts?.capped ? `${acts.capped.allowed} of ${acts.capped.wanted}` : null,
      supervisorRunning: state.running,
      supervisorOomKilled: state.oomKilled,
      oomKills: kills ?? null,
      peakMb: Math.round(box!.peakBytes / 2 ** 20),
      reads: figures.reads,
      failedReads: figures.failedReads,
      writes: figures.writes,
      failedWrites: figures.failedWrites,
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
    assert.equal(services?.users?.desired, 2);
    assert.equal(acts?.desired, actsFit);
    assert.equal(acts?.capped, null, 'nothing capped: every replica asked for fits');
    assert.equal(acts?.replicas.filter((r) => r.state === 'ready').length, actsFit, 'acts 10 ready');
    assert.deepEqual(
      uploads.map((u) => u.status),
      Array(8).fill(201),
    );
    assert.equal(figures.failedReads + figures.failedWrites, 0, JSON.stringify(figures.failures));
    assert.deepEqual(
      failed.map((e) => `${e.service}:${e.port} ${e.reason}`),
      [],
      'no replica failed',
    );
  });
});
