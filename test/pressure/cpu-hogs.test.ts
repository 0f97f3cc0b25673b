// Pressure row (b): CPU hogs on both cores for a minute, under a steady load of reads through
// the balancer, the real acts and users containers (shipped config, acts held at 3): replicas
// get slow, none is killed, and no read fails. Health checks that go unanswered in time take a
// replica out of rotation only while at least half of its service stays in, and only a replica
// that does not answer its liveness check at all (5 s) is replaced; before that split, the 800 ms
// heartbeat killed 2 of 3 healthy acts replicas at once on a busy host. Ports 33150-33199.
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { FaultLoad } from '../../testkit/fault-load.ts';
import { shippedSetup } from '../../testkit/shipped-config.ts';
import { TEST_ENGINE } from '../../testkit/engine.ts';
import { ADMIN_POST, http, supervisorSuite } from '../../testkit/supervisor.ts';
import { skipUnlessEngine } from '../helpers/requirements.ts';
import { cpuHogs, eventsOf, lastSeq, recordRow, siteUser } from './support.ts';

const LISTEN = 33150;
const ADMIN = 33151;
const HOGS = Number(process.env.PRESSURE_HOGS ?? 4);
const SECONDS = Number(process.env.PRESSURE_SECONDS ?? 60);
const skip = await skipUnlessEngine();

describe(`pressure: ${HOGS} CPU hogs on 2 cores for ${SECONDS} s under load`, {
  skip,
  timeout: 300_000 + SECONDS * 1000,
}, () => {
  const engine = skip ? undefined : TEST_ENGINE.client();
  const base = `http://127.0.0.1:${LISTEN}`;
  const { admin } = supervisorSuite(
    shippedSetup(engine, {
      suite: 'pressure-cpu',
      listenPort: LISTEN,
      adminPort: ADMIN,
      actsPort: 33160,
      usersPort: 33180,
    }),
  );
  let hogs: ReturnType<typeof cpuHogs> | undefined;
  after(() => hogs?.stop());

  test('no replica killed, no read failed; what the heartbeat did is said in events', async (t) => {
    const held = await http('POST', `${admin.base}/services/acts/scale`, {
      headers: { ...ADMIN_POST.headers, 'content-type': 'application/json' },
      body: '{"replicas": 3}',
    });
    assert.equal(held.status, 200, held.text);
    await admin.waitReady('acts', 3, 60_000);
    const user = await siteUser(base, 'reader', 'busy');
    const seq = await lastSeq(admin);
    const paths = [
      '/api/v1/categories',
      '/api/v1/acts/count',
      `/api/v1/categories/${user.category}/acts/size`,
      '/api/v1/users',
    ];
    const load = new FaultLoad({
      origin: base,
      readers: 4,
      writers: 0,
      read: (client, i) => ({ method: 'GET', path: paths[(client + i) % paths.length]! }),
      write: () => ({ method: 'GET', path: '/' }),
      pauseMs: 50,
      maxMs: (SECONDS + 30) * 1000,
    });
    load.start();
    await sleep(2000);
    hogs = cpuHogs(HOGS);
    const from = Date.now();
    await sleep(SECONDS * 1000);
    await hogs.stop();
    await sleep(3000);
    await load.stop();

    const figures = load.figures(from);
    const events = await eventsOf(
      admin,
      ['replica.failed', 'replica.unready', 'replica.restored', 'replica.kept'],
      seq,
    );
    const count = (type: string) => events.filter((e) => e.type === type).length;
    const slowest = Math.max(...load.records.filter((r) => r.at >= from).map((r) => r.ms));
    t.diagnostic(
      `${figures.reads} reads under the hogs, ${figures.failedReads} failed ${JSON.stringify(figures.failures)}, the slowest ${Math.round(slowest)} ms; events: ${count('replica.unready')} out of rotation, ${count('replica.restored')} back, ${count('replica.kept')} kept by the ejection limit, ${count('replica.failed')} failed`,
    );
    await recordRow('cpu', {
      hogs: HOGS,
      seconds: SECONDS,
      reads: figures.reads,
      failedReads: figures.failedReads,
      slowestMs: Math.round(slowest),
      replicasKilled: count('replica.failed'),
      outOfRotation: count('replica.unready'),
      keptByLimit: count('replica.kept'),
    });
    assert.deepEqual(
      events.filter((e) => e.type === 'replica.failed').map((e) => `${e.service}:${e.port} ${e.reason}`),
      [],
      'no replica killed',
    );
    assert.equal(figures.failedReads, 0, `failed reads: ${JSON.stringify(figures.failures)}`);
    assert.ok(figures.reads >= SECONDS, `${figures.reads} reads in ${SECONDS} s: the load ran`);
    const status = await admin.status();
    assert.equal(
      status.services.acts!.replicas.filter((r) => r.state === 'ready' && r.inRotation !== false).length,
      3,
      'all back in rotation once the hogs are gone',
    );
  });
});
