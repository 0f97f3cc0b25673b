// Socket activation without systemd: this test holds the listening socket as systemd holds a
// .socket unit's (testkit/held-socket.ts) and starts the supervisor with it as fd 3
// (LISTEN_FDS=1, LISTEN_PID). A request sent before any replica is ready waits and is answered;
// a SIGKILLed supervisor restarted at once under load refuses nothing, while the same restart
// on a port of its own does (the control: the measurement can fail). Real containers; ports
// 24200-24299. The systemd version, with the shipped units: test/deploy/socket-activation-systemd.test.ts.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { skipUnlessEngine } from '../helpers/requirements.ts';
import { TEST_ENGINE } from '../../testkit/engine.ts';
import { holdListeningSocket, type HeldSocket } from '../../testkit/held-socket.ts';
import { RestartLoad, restartFigures } from '../../testkit/restart-load.ts';
import {
  Admin,
  SupervisorRuns,
  echoService,
  ensureEchoImage,
  eventually,
  http,
  removeDir,
  removeSuiteObjects,
  tempDir,
  waitUp,
  writeConfig,
} from '../../testkit/supervisor.ts';

const SUITE = 'socket-activation';
const LISTEN = 24200;
const ADMIN = 24201;
const ACTS = 24210;
const CLIENTS = 4;
const skip = await skipUnlessEngine();

describe('socket activation: restarts queue connections instead of refusing them (real containers)', {
  skip,
  timeout: 240_000,
}, () => {
  const engine = TEST_ENGINE.client();
  const admin = new Admin(`http://127.0.0.1:${ADMIN}`);
  let held: HeldSocket | undefined;
  let dir = '';
  let configFile = '';
  const runs = new SupervisorRuns(() => configFile);
  const url = `http://127.0.0.1:${LISTEN}/api/v1/x`;
  const launch = (activated: boolean) => runs.start({}, activated ? { listenFd: held!.fd } : {});

  before(async () => {
    await removeSuiteObjects(engine, SUITE);
    await ensureEchoImage(engine);
    dir = await tempDir(SUITE);
    configFile = await writeConfig({
      suite: SUITE,
      dir,
      runtime: TEST_ENGINE.name,
      listenPort: LISTEN,
      adminPort: ADMIN,
      services: {
        acts: echoService({
          replicas: { initial: 2, min: 2, max: 2 },
          startPort: ACTS,
          routes: ['/api/v1'],
          autoscale: false,
        }),
      },
      extra: { onShutdown: 'leave', balancer: { threads: 2 } },
    });
  });

  after(async () => {
    await runs.killAll();
    held?.close();
    await removeSuiteObjects(engine, SUITE);
    await engine.close();
    await removeDir(dir);
  });

  test('a request sent before any replica is ready waits in the backlog and is answered', async () => {
    held = await holdListeningSocket('127.0.0.1', LISTEN);
    const first = http('GET', url);
    const sup = launch(true);
    const reply = await first;
    assert.equal(reply.status, 200, `${reply.text}\n${sup.dump().slice(-3000)}`);
    const accepting = sup.events('balancer.accepting');
    assert.equal(accepting.length, 1, sup.dump().slice(-3000));
    assert.match(String(accepting[0]!.reason), /every service has a ready replica/);
    assert.ok(
      sup.lines.some(
        (l) => l.msg === 'listening on sockets from systemd; accepting once every service has a ready replica',
      ),
    );
    await waitUp(sup, admin, { acts: 2 }, 60_000);
    assert.equal((await admin.status()).listen?.port, LISTEN);
  });

  test('SIGKILL and an immediate restart under load: no connection refused, no error answered', async () => {
    const load = new RestartLoad(url, { clients: CLIENTS, timeoutMs: 60_000, maxRequests: 200_000 });
    await sleep(1500);
    const killedAt = Date.now();
    runs.current.child.kill('SIGKILL');
    await runs.current.exited;
    const next = launch(true);
    await eventually(
      async () => (next.events('balancer.accepting').length > 0 ? true : undefined),
      'the new supervisor accepting',
      60_000,
    );
    await sleep(1500);
    const figures = restartFigures(await load.stop(), killedAt);
    console.log(`# socket activation, SIGKILL + restart: ${JSON.stringify(figures)}`);
    assert.equal(figures.refused, 0, JSON.stringify(figures));
    // Only a request the killed process had already accepted can be lost: at most one per client.
    const lost = Object.entries(figures.failed)
      .filter(([k]) => k !== 'reset')
      .reduce((n, [, v]) => n + v, 0);
    assert.equal(lost, 0, `only resets of requests in flight in the killed process: ${JSON.stringify(figures)}`);
    assert.ok((figures.failed.reset ?? 0) <= CLIENTS, JSON.stringify(figures));
    assert.ok(figures.ok > 100, JSON.stringify(figures));
    assert.ok(figures.firstAnswerAfterKillMs >= 0 && figures.worstAfterKillMs < 30_000, JSON.stringify(figures));
    assert.deepEqual(next.events('replica.started'), [], 'the replicas were adopted, not started again');
  });

  test('control: the same restart on a port of its own refuses connections', async () => {
    held?.close();
    held = undefined;
    await runs.current.kill();
    const own = launch(false);
    await waitUp(own, admin, { acts: 2 }, 60_000);
    const load = new RestartLoad(url, { clients: CLIENTS, timeoutMs: 60_000, maxRequests: 200_000 });
    await sleep(1000);
    const killedAt = Date.now();
    own.child.kill('SIGKILL');
    await own.exited;
    const next = launch(false);
    await waitUp(next, admin, { acts: 2 }, 60_000);
    await sleep(500);
    const figures = restartFigures(await load.stop(), killedAt);
    console.log(`# own port, SIGKILL + restart: ${JSON.stringify(figures)}`);
    assert.ok(figures.refused > 0, JSON.stringify(figures));
  });
});
