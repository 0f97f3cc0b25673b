import assert from 'node:assert/strict';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { ConflictError, NotFoundError, isConflict, isNotFound } from '../../engine-client/index.ts';
import { eventually } from '../../testkit/eventually.ts';
import { freePort } from '../../testkit/ports.ts';
import { TEST_LABEL, TEST_LABELS, engineSuite, httpServerScript, skipEngine, uniqueName } from './support.ts';

describe('engine-client containers (real dockerd)', { skip: skipEngine }, () => {
  const suite = engineSuite();
  const { engine } = suite;

  test('full lifecycle with our labels and every create option', async (t) => {
    const name = uniqueName('life');
    const dir = await mkdtemp(path.join(tmpdir(), 'sa-engine-bind-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    await chmod(dir, 0o755); // the container runs as uid 10001
    await writeFile(path.join(dir, 'hello.txt'), 'from the host', { mode: 0o644 });
    const labels = {
      ...TEST_LABELS,
      'selflessacts.service': 'acts',
      'selflessacts.port': '8000',
      'selflessacts.instance': name,
    };

    const { id } = await engine.containers.create({
      name,
      image: suite.image,
      cmd: [
        'node',
        '-e',
        "console.log(require('fs').readFileSync('/host/hello.txt', 'utf8')); setInterval(() => {}, 1000)",
      ],
      env: { SERVICE: 'acts', WITH_EQUALS: 'a=b' },
      labels,
      workingDir: '/tmp',
      user: '10001:10001',
      restartPolicy: { name: 'on-failure', maximumRetryCount: 2 },
      memoryBytes: 64 * 1024 * 1024,
      cpus: 0.5,
      extraHosts: ['host.docker.internal:host-gateway'],
      networkMode: 'bridge',
      binds: [{ source: dir, target: '/host', readOnly: true }],
      init: true,
    });
    assert.match(id, /^[0-9a-f]{64}$/);

    const created = await engine.containers.inspect(name);
    assert.equal(created.id, id);
    assert.equal(created.name, name);
    assert.equal(created.state.status, 'created');
    // The container's labels are ours plus those it inherits from its image.
    for (const [key, value] of Object.entries(labels)) assert.equal(created.labels[key], value, key);
    assert.equal(created.labels['selflessacts.image'], 'base');
    assert.equal(created.env.SERVICE, 'acts');
    assert.equal(created.env.WITH_EQUALS, 'a=b');
    assert.equal(created.user, '10001:10001');
    assert.equal(created.workingDir, '/tmp');
    assert.deepEqual(created.restartPolicy, { name: 'on-failure', maximumRetryCount: 2 });
    assert.equal(created.memoryBytes, 64 * 1024 * 1024);
    assert.equal(created.cpus, 0.5);
    assert.deepEqual(created.extraHosts, ['host.docker.internal:host-gateway']);
    assert.equal(created.networkMode, 'bridge');

    await engine.containers.start(id);
    await engine.containers.start(id); // 304: already running is success
    const running = await engine.containers.inspect(id);
    assert.equal(running.state.running, true);
    assert.ok(running.networks.bridge?.ipAddress, 'has an address on the bridge');
    const logs = await eventually(async () => {
      const text = await engine.containers.logsText(id);
      return text.stdout.includes('from the host') ? text : undefined;
    }, 'the bind-mounted file in the logs');
    assert.equal(logs.stderr, '');

    const listed = await engine.containers.list({ labels: { [TEST_LABEL]: 'engine', 'selflessacts.instance': name } });
    assert.deepEqual(
      listed.map((c) => [c.id, c.name, c.state, c.labels['selflessacts.service']]),
      [[id, name, 'running', 'acts']],
    );
    const byKey = await engine.containers.list({ labels: { 'selflessacts.instance': true, [TEST_LABEL]: 'engine' } });
    assert.ok(
      byKey.some((c) => c.id === id),
      'a key-only label filter matches',
    );
    const other = await engine.containers.list({ labels: { 'selflessacts.instance': `${name}-other` } });
    assert.deepEqual(other, []);

    await engine.containers.stop(id, { graceSeconds: 5 });
    await engine.containers.stop(id, { graceSeconds: 5 }); // 304: already stopped is success
    const stopped = await engine.containers.inspect(id);
    assert.equal(stopped.state.running, false);
    assert.equal(stopped.state.status, 'exited');
    assert.deepEqual(await engine.containers.list({ labels: { 'selflessacts.instance': name } }), [], 'not running');
    const all = await engine.containers.list({ all: true, labels: { 'selflessacts.instance': name } });
    assert.equal(all[0]?.state, 'exited');

    await engine.containers.remove(id);
    await assert.rejects(engine.containers.inspect(id), NotFoundError);
  });

  test('a container publishing 127.0.0.1:<free port> answers HTTP; port 0 lets the engine choose', async (t) => {
    const fixed = await freePort();
    const name = uniqueName('http');
    const { id } = await engine.containers.create({
      name,
      image: suite.image,
      cmd: httpServerScript(8080, 'hello from'),
      labels: TEST_LABELS,
      ports: [
        { containerPort: 8080, hostIp: '127.0.0.1', hostPort: fixed },
        { containerPort: 8081, hostIp: '127.0.0.1' },
      ],
      init: true,
    });
    t.after(() => engine.containers.remove(id, { force: true }).catch(() => {}));
    await engine.containers.start(id);

    const body = await eventually(
      async () => (await fetch(`http://127.0.0.1:${fixed}/ping`)).text(),
      'the container to answer HTTP',
    );
    assert.equal(body, 'hello from /ping');

    const info = await engine.containers.inspect(id);
    const bound = info.ports.find((p) => p.containerPort === 8080);
    assert.deepEqual(bound, { containerPort: 8080, protocol: 'tcp', hostIp: '127.0.0.1', hostPort: fixed });
    const chosen = info.ports.find((p) => p.containerPort === 8081);
    assert.equal(chosen?.hostIp, '127.0.0.1');
    assert.ok((chosen?.hostPort ?? 0) > 0, 'the engine picked a host port');
    const [summary] = await engine.containers.list({ name });
    assert.ok(summary?.ports.some((p) => p.containerPort === 8080 && p.hostPort === fixed));
  });

  test('stop of a stopped container is success; kill of a stopped one is CONFLICT', async () => {
    const { id } = await engine.containers.create({
      image: suite.image,
      cmd: ['node', '-e', '0'],
      labels: TEST_LABELS,
    });
    await engine.containers.stop(id, { graceSeconds: 1 }); // never started
    await engine.containers.start(id);
    assert.deepEqual(await engine.containers.wait(id), { statusCode: 0 });
    await engine.containers.stop(id, { graceSeconds: 1 });
    const error = await engine.containers.kill(id).then(
      () => undefined,
      (e: unknown) => e,
    );
    assert.ok(isConflict(error), `expected CONFLICT, got ${String(error)}`);
    assert.ok(error instanceof ConflictError);
    assert.match(error.message, /is not running/);
    await engine.containers.remove(id);
  });

  test('wait reports the exit code; kill ends a running container', async () => {
    const exits = await engine.containers.create({
      image: suite.image,
      cmd: ['node', '-e', 'process.exit(7)'],
      labels: TEST_LABELS,
    });
    await engine.containers.start(exits.id);
    assert.deepEqual(await engine.containers.wait(exits.id), { statusCode: 7 });
    assert.equal((await engine.containers.inspect(exits.id)).state.exitCode, 7);

    const sleeper = await engine.containers.create({
      image: suite.image,
      cmd: ['node', '-e', 'setInterval(() => {}, 1000)'],
      labels: TEST_LABELS,
    });
    await engine.containers.start(sleeper.id);
    const waiting = engine.containers.wait(sleeper.id);
    await engine.containers.kill(sleeper.id, { signal: 'SIGKILL' });
    assert.equal((await waiting).statusCode, 137);

    await engine.containers.remove(exits.id, { volumes: true });
    await engine.containers.remove(sleeper.id, { force: true });
  });

  test('remove of a missing container is NotFoundError with the engine message', async () => {
    const missing = uniqueName('missing');
    const error = await engine.containers.remove(missing).then(
      () => undefined,
      (e: unknown) => e,
    );
    assert.ok(error instanceof NotFoundError, `expected NotFoundError, got ${String(error)}`);
    assert.equal(error.code, 'NOT_FOUND');
    assert.equal(error.status, 404);
    assert.equal(error.method, 'DELETE');
    assert.equal(error.path, `/containers/${missing}`);
    assert.match(error.engineMessage ?? '', new RegExp(`No such container: ${missing}`));
    await assert.rejects(engine.containers.stop(missing), (e: unknown) => isNotFound(e));
    await assert.rejects(engine.containers.start(missing), (e: unknown) => isNotFound(e));
  });

  test('creating a duplicate name is ConflictError; an unknown image is NotFoundError', async () => {
    const name = uniqueName('dup');
    const first = await engine.containers.create({
      name,
      image: suite.image,
      cmd: ['node', '-e', '0'],
      labels: TEST_LABELS,
    });
    const error = await engine.containers
      .create({ name, image: suite.image, cmd: ['node', '-e', '0'], labels: TEST_LABELS })
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    assert.ok(error instanceof ConflictError, `expected ConflictError, got ${String(error)}`);
    assert.equal(error.code, 'CONFLICT');
    assert.match(error.engineMessage ?? '', /already in use/);
    await engine.containers.remove(first.id);

    const noImage = await engine.containers
      .create({ image: `${uniqueName('no-image')}:latest`, labels: TEST_LABELS })
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    assert.ok(isNotFound(noImage), `expected NOT_FOUND, got ${String(noImage)}`);
    assert.match((noImage as Error).message, /No such image/);
  });
});
