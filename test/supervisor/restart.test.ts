// Restart safety with real containers: a SIGKILLed supervisor's successor adopts the running
// replicas (same ids, same ports), starts none twice and removes stale ones, leaving other
// supervisors' containers alone; SIGTERM drains, removes them and their network and exits 0;
// onShutdown "leave" leaves both for the next one. Ports 24000-24099.
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { skipUnlessEngine } from '../helpers/requirements.ts';
import { TEST_ENGINE } from '../../testkit/engine.ts';
import {
  Admin,
  ECHO_IMAGE,
  SupervisorProcess,
  TEST_LABEL,
  echoService,
  ensureEchoImage,
  eventually,
  http,
  instanceName,
  removeDir,
  removeSuiteObjects,
  tempDir,
  waitUp,
  writeConfig,
} from '../../testkit/supervisor.ts';

const SUITE = 'restart';
const LISTEN = 24000;
const ADMIN = 24001;
const ACTS = 24010;
const USERS = 24020;
const NETWORK = `sa-test-${SUITE}`;
const base = `http://127.0.0.1:${LISTEN}`;
const skip = await skipUnlessEngine();

describe('restart safety (real containers)', { skip }, () => {
  const engine = TEST_ENGINE.client();
  const admin = new Admin(`http://127.0.0.1:${ADMIN}`);
  const running: SupervisorProcess[] = [];
  let dir = '';
  let configFile = '';

  const ours = async () =>
    (await engine.containers.list({ all: true, labels: { 'selflessacts.supervisor': instanceName(SUITE) } }))
      .map((c) => ({
        id: c.id,
        port: Number(c.labels['selflessacts.port']),
        service: c.labels['selflessacts.service'],
        state: c.state,
      }))
      .sort((a, b) => a.port - b.port);
  const networkExists = async () => (await engine.networks.list({ name: NETWORK })).some((n) => n.name === NETWORK);

  function launch(file = configFile): SupervisorProcess {
    const sup = SupervisorProcess.start(file);
    running.push(sup);
    return sup;
  }

  const waitAllReady = (sup: SupervisorProcess) => waitUp(sup, admin, { acts: 2, users: 1 }, 90_000);

  before(async () => {
    await removeSuiteObjects(engine, SUITE);
    await removeSuiteObjects(engine, `${SUITE}-other`);
    await ensureEchoImage(engine);
    dir = await tempDir(SUITE);
    configFile = await writeConfig({
      suite: SUITE,
      dir,
      runtime: TEST_ENGINE.name,
      listenPort: LISTEN,
      adminPort: ADMIN,
      services: {
        acts: echoService({ replicas: { initial: 2, min: 1, max: 3 }, startPort: ACTS, routes: ['/api/v1'] }),
        users: echoService({ replicas: { initial: 1, min: 1, max: 1 }, startPort: USERS, routes: ['/api/v1/users'] }),
      },
    });
  });

  after(async () => {
    for (const sup of running) await sup.kill();
    await removeSuiteObjects(engine, SUITE);
    await removeSuiteObjects(engine, `${SUITE}-other`);
    await engine.close();
    await removeDir(dir);
  });

  /** A container with a supervisor's labels, made behind its back. */
  async function plant(
    name: string,
    supervisor: string,
    service: string,
    port: number,
    start: boolean,
  ): Promise<string> {
    const { id } = await engine.containers.create({
      name,
      image: ECHO_IMAGE,
      labels: {
        [TEST_LABEL]: supervisor === instanceName(SUITE) ? SUITE : `${SUITE}-other`,
        'selflessacts.supervisor': supervisor,
        'selflessacts.service': service,
        'selflessacts.port': String(port),
        'selflessacts.instance': 'planted',
      },
      user: '10001:10001',
    });
    if (start) await engine.containers.start(id);
    return id;
  }

  test('SIGKILL then restart: same ids adopted on the same ports, none started twice, stale ones removed', async () => {
    const first = launch();
    await waitAllReady(first);
    const before = await ours();
    assert.deepEqual(
      before.map((c) => [c.service, c.port, c.state]),
      [
        ['acts', ACTS, 'running'],
        ['acts', ACTS + 1, 'running'],
        ['users', USERS, 'running'],
      ],
    );

    const stale = await plant(`acts-${ACTS + 2}`, instanceName(SUITE), 'acts', ACTS + 2, false);
    const ghost = await plant('ghost-24030', instanceName(SUITE), 'ghost', 24030, true);
    const foreign = await plant('acts-24040', instanceName(`${SUITE}-other`), 'acts', 24040, true);

    first.child.kill('SIGKILL');
    const exit = await first.exited;
    assert.equal(exit.signal, 'SIGKILL');
    assert.deepEqual(
      (await ours())
        .filter((c) => c.state === 'running')
        .map((c) => c.id)
        .slice(0, 3)
        .sort(),
      before.map((c) => c.id).sort(),
    );

    const second = launch();
    await waitAllReady(second);
    const adopted = second.events('replica.adopted').map((l) => l.id as string);
    for (const c of before) assert.ok(adopted.includes(c.id), `adopted ${c.port}`);
    assert.deepEqual(second.events('replica.started'), [], 'nothing started');
    assert.deepEqual(second.events('replica.replaced'), [], 'nothing replaced');
    const status = await admin.status();
    assert.deepEqual(
      status.services.acts!.replicas.map((r) => [r.port, r.id]),
      before.filter((c) => c.service === 'acts').map((c) => [c.port, c.id]),
    );
    await eventually(
      async () => {
        const now = await ours();
        return now.length === 3 ? now : undefined;
      },
      'the stale and the ghost removed',
      15_000,
    );
    assert.deepEqual(
      (await ours()).map((c) => c.id),
      before.map((c) => c.id),
    );
    assert.ok(!(await ours()).some((c) => c.id === stale || c.id === ghost));
    const other = await engine.containers.inspect(foreign);
    assert.equal(other.state.running, true, "another supervisor's replica is left alone");
    assert.equal((await http('GET', `${base}/api/v1/x`)).status, 200);
  });

  test('SIGTERM: stops accepting, lets the request in flight finish, removes its replicas and network, exits 0', async () => {
    const sup = running.at(-1)!;
    assert.ok(sup.running);
    const slow = http('GET', `${base}/api/v1/slow?ms=2000`);
    await sleep(300);
    sup.child.kill('SIGTERM');
    const reply = await slow;
    assert.equal(reply.status, 200, 'the request in flight completed');
    const exit = await sup.exited;
    assert.equal(exit.code, 0, sup.dump().slice(-2000));
    assert.deepEqual(await ours(), [], 'every replica removed');
    assert.equal(await networkExists(), false, `network ${NETWORK} removed`);
    await assert.rejects(http('GET', `${base}/api/v1/x`), /ECONNREFUSED/);
    assert.ok(sup.events('supervisor.stopping').length === 1);
  });

  test('onShutdown "leave": SIGTERM leaves the replicas running and the network, the next supervisor adopts them', async () => {
    const config = JSON.parse(await readFile(configFile, 'utf8')) as Record<string, unknown>;
    const leaveFile = configFile.replace(/\.json$/, '.leave.json');
    await writeFile(leaveFile, JSON.stringify({ ...config, onShutdown: 'leave' }));
    const leaving = launch(leaveFile);
    await waitAllReady(leaving);
    const before = await ours();
    leaving.child.kill('SIGTERM');
    assert.equal((await leaving.exited).code, 0);
    const after = await ours();
    assert.deepEqual(
      after.map((c) => [c.id, c.state]),
      before.map((c) => [c.id, 'running']),
    );
    assert.equal(await networkExists(), true, `network ${NETWORK} left`);

    const next = launch();
    await waitAllReady(next);
    assert.deepEqual(next.events('replica.started'), []);
    assert.deepEqual(
      (await ours()).map((c) => c.id),
      before.map((c) => c.id),
    );
    next.child.kill('SIGTERM');
    assert.equal((await next.exited).code, 0);
    assert.deepEqual(await ours(), []);
  });
});
