// Honest start-up and shutdown (issue 15, item 5), each against the real thing:
// - the listen port taken by another process at start-up: one event, a few tries, then exit 1
//   naming listen.port, and a signal meanwhile answered within 2 s; taken while running (a
//   balancer thread restarted meanwhile): an event, /status.listenError with the cause, GET
//   /health 503, SIGTERM within 2 s, and once the port is free the balancer listens again;
// - a start that fails (the admin port taken) exits 1 and removes the Docker network it made;
// - SIGTERM while the engine does not answer (a proxy in front of the real dockerd that stops
//   replying): the supervisor exits 1 naming the replica it could not remove, within bounds;
// - runtime "auto" remembers the runtime of the last run in dataDir and will not switch to
//   another while replicas of the last one may be alive.
// Ports 32600-32699.
import assert from 'node:assert/strict';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { DockerEngine } from '../../engine-client/index.ts';
import { EngineProxy } from '../../testkit/engine-proxy.ts';
import {
  ADMIN_POST,
  Admin,
  echoService,
  ensureEchoImage,
  eventually,
  http,
  instanceName,
  removeDir,
  removeSuiteObjects,
  SupervisorProcess,
  tempDir,
  writeConfig,
  type TestConfigOptions,
} from '../../testkit/supervisor.ts';
import { dockerAvailable, dockerSocketPath, skipUnless } from '../helpers/requirements.ts';

const LISTEN = 32600;
const ADMIN = 32601;
const ECHO = 32610;
const skipDocker = skipUnless(await dockerAvailable(), 'Docker Engine');

/** Listens on 127.0.0.1:`port` until closed: another program holding the port. */
async function holdPort(port: number): Promise<net.Server> {
  const server = net.createServer((s) => s.destroy());
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  });
  return server;
}

const closeServer = (server: net.Server) => new Promise<void>((resolve) => server.close(() => resolve()));

/** A supervisor of one echo replica in a temp dir; `config` adds to writeConfig's options. */
async function startSupervisor(
  suite: string,
  config: Partial<TestConfigOptions> = {},
  adminPort = ADMIN,
): Promise<{ sup: SupervisorProcess; dir: string; admin: Admin }> {
  const dir = await tempDir(suite);
  const file = await writeConfig({
    suite,
    dir,
    runtime: 'process',
    listenPort: LISTEN,
    adminPort,
    services: { echo: echoService({ replicas: { initial: 1, min: 1, max: 1 }, startPort: ECHO, routes: ['/api/v1'] }) },
    ...config,
  });
  return { sup: SupervisorProcess.start(file), dir, admin: new Admin(`http://127.0.0.1:${adminPort}`) };
}

describe('the listen port taken by another process', () => {
  let blocker: net.Server | undefined;
  const runs: Array<Awaited<ReturnType<typeof startSupervisor>>> = [];
  after(async () => {
    if (blocker?.listening) await closeServer(blocker);
    for (const run of runs) {
      await run.sup.stop();
      await removeDir(run.dir);
    }
  });

  test('at start-up: one event, a few tries, then exit 1 naming listen.port; nothing started', async () => {
    blocker = await holdPort(LISTEN);
    const run = await startSupervisor('lifecycle-listen');
    runs.push(run);
    const started = Date.now();
    const { code } = await run.sup.exited;
    assert.equal(code, 1, run.sup.stderr);
    assert.ok(Date.now() - started < 15_000, `exited after ${Date.now() - started} ms`);
    assert.match(run.sup.stderr, /listen\.port.*32600.*EADDRINUSE.*another process holds it/);
    assert.equal(run.sup.events('balancer.listen-failed').length, 1, 'said once, not at every try');
    assert.ok(!run.sup.lines.some((l) => l.type === 'replica.started'), 'no replica was started');
  });

  test('at start-up, a SIGTERM during the tries is answered within 2 s', async () => {
    const run = await startSupervisor('lifecycle-listen-term');
    runs.push(run);
    await run.sup.waitForLine((l) => l.type === 'balancer.listen-failed', 'the listen-failed event', 20_000);
    const sent = Date.now();
    run.sup.child.kill('SIGTERM');
    await run.sup.exited;
    assert.ok(Date.now() - sent <= 2000, `exited ${Date.now() - sent} ms after SIGTERM`);
    await closeServer(blocker!);
  });

  test('while running (a balancer thread restarted and another process took the port meanwhile): an event, /status.listenError, /health 503, SIGTERM within 2 s', async () => {
    const run = await startSupervisor('lifecycle-listen-run');
    runs.push(run);
    const { admin, sup } = run;
    await eventually(
      async () =>
        (await http('GET', `${admin.base}/health`).catch(() => undefined))?.status === 200 ? true : undefined,
      'the balancer listening',
      30_000,
    );
    // The balancer thread dies and is restarted 100 ms later: take the port in between.
    blocker = await eventually(
      async () => {
        await http('POST', `${admin.base}/workers/balancer/kill`, ADMIN_POST);
        for (const until = Date.now() + 1000; Date.now() < until; ) {
          const held = await holdPort(LISTEN).catch(() => undefined);
          if (held) return held;
          await new Promise((resolve) => setTimeout(resolve, 2));
        }
        return undefined;
      },
      'the port taken while the balancer thread restarts',
      20_000,
    );
    const status = await eventually(
      async () => {
        const s = (await admin.status().catch(() => undefined)) as
          | { listenError?: { code: string; port: number } | null }
          | undefined;
        return s?.listenError ? s : undefined;
      },
      'listenError in /status',
      30_000,
    );
    assert.deepEqual([status.listenError!.code, status.listenError!.port], ['EADDRINUSE', LISTEN]);
    const health = await http('GET', `${admin.base}/health`);
    assert.equal(health.status, 503, health.text);
    assert.match(JSON.parse(health.text).reason, /cannot listen on 127\.0\.0\.1:32600: EADDRINUSE/);
    const failed = (await admin.events()).filter((e) => e.type === 'balancer.listen-failed');
    assert.equal(failed.length, 1, 'said once, not at every retry');
    assert.match(failed[0]!.reason, /EADDRINUSE/);
    await closeServer(blocker);
    await eventually(
      async () => ((await http('GET', `${admin.base}/health`)).status === 200 ? true : undefined),
      '/health 200 once the port is free',
      30_000,
    );
    assert.equal(((await admin.status()) as unknown as { listenError: unknown }).listenError, null);
    assert.ok((await admin.events()).some((e) => e.type === 'balancer.listening'));
    assert.equal((await http('GET', `http://127.0.0.1:${LISTEN}/api/v1/x`)).status, 200, 'the balancer serves');
    // Taken again, and SIGTERM while the thread cannot bind: answered at once, not after the drain timeout.
    await http('POST', `${admin.base}/workers/balancer/kill`, ADMIN_POST);
    blocker = await eventually(async () => holdPort(LISTEN).catch(() => undefined), 'the port taken again', 5000, 2);
    await eventually(
      async () => ((await http('GET', `${admin.base}/health`)).status === 503 ? true : undefined),
      '/health 503 again',
      30_000,
    );
    const sent = Date.now();
    assert.equal((await sup.stop()).code, 0);
    assert.ok(Date.now() - sent <= 2000, `stopped ${Date.now() - sent} ms after SIGTERM`);
  });
});

describe('runtime "auto" does not switch while replicas of the last runtime may be alive', () => {
  test('the last run used docker, whose engine does not answer now: start-up refuses, naming both', async () => {
    const dir = await tempDir('lifecycle-auto');
    try {
      const file = await writeConfig({
        suite: 'lifecycle-auto',
        dir,
        runtime: 'process',
        listenPort: LISTEN,
        adminPort: ADMIN,
        services: {
          echo: echoService({ replicas: { initial: 1, min: 1, max: 1 }, startPort: ECHO, routes: ['/api/v1'] }),
        },
      });
      const config = JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown> & {
        runtimes: Record<string, Record<string, unknown>>;
        dataDir: string;
      };
      config.runtime = 'auto';
      // No engine answers here: auto alone would pick the process runtime.
      for (const name of ['docker', 'podman'])
        config.runtimes[name] = { ...config.runtimes[name], socket: path.join(dir, `no-${name}.sock`) };
      await writeFile(file, JSON.stringify(config));
      await mkdir(config.dataDir, { recursive: true });
      await writeFile(
        path.join(config.dataDir, `runtime-${instanceName('lifecycle-auto')}.json`),
        JSON.stringify({ runtime: 'docker', since: new Date().toISOString() }),
      );
      const sup = SupervisorProcess.start(file);
      const { code } = await sup.exited;
      assert.equal(code, 1, sup.stderr);
      assert.match(sup.stderr, /runtime.*docker.*may still be running/s);
      assert.ok(!sup.lines.some((l) => l.msg === 'runtime selected'), 'no runtime was started');
    } finally {
      await removeDir(dir);
    }
  });
});

describe('start-up and shutdown against the real engine', { skip: skipDocker }, () => {
  const engine = new DockerEngine();
  const suites = ['lifecycle-start', 'lifecycle-stop'];
  before(async () => {
    await ensureEchoImage(engine);
    for (const suite of suites) await removeSuiteObjects(engine, suite);
  });
  after(async () => {
    for (const suite of suites) await removeSuiteObjects(engine, suite);
    await engine.close();
  });

  test('a start that fails (the admin port taken) exits 1 and removes the network it made', async () => {
    const suite = 'lifecycle-start';
    const blocker = await holdPort(ADMIN);
    const run = await startSupervisor(suite, { runtime: 'docker' });
    try {
      const { code } = await run.sup.exited;
      assert.equal(code, 1, run.sup.stderr);
      assert.match(run.sup.stderr, /EADDRINUSE/);
      assert.ok(
        run.sup.lines.some((l) => l.msg === 'network created'),
        'the start made its network',
      );
      const networks = await engine.networks.list({ name: `sa-test-${suite}` });
      assert.deepEqual(
        networks.filter((n) => n.name === `sa-test-${suite}`),
        [],
        'and removed it',
      );
    } finally {
      await closeServer(blocker);
      await removeDir(run.dir);
    }
  });

  test('SIGTERM while the engine does not answer: exit 1 naming the replica left running, in bounded time', async () => {
    const suite = 'lifecycle-stop';
    const proxy = await EngineProxy.start(dockerSocketPath());
    const dir = await tempDir(suite);
    let sup: SupervisorProcess | undefined;
    try {
      const file = await writeConfig({
        suite,
        dir,
        runtime: 'docker',
        listenPort: LISTEN,
        adminPort: ADMIN,
        services: {
          echo: echoService({ replicas: { initial: 1, min: 1, max: 1 }, startPort: ECHO, routes: ['/api/v1'] }),
        },
      });
      const config = JSON.parse(await readFile(file, 'utf8')) as { runtimes: Record<string, Record<string, unknown>> };
      config.runtimes.docker = { ...config.runtimes.docker, socket: proxy.path };
      await writeFile(file, JSON.stringify(config));
      sup = SupervisorProcess.start(file);
      const admin = new Admin(`http://127.0.0.1:${ADMIN}`);
      const [replica] = await admin.waitReady('echo', 1, 60_000);
      proxy.hang();
      const started = performance.now();
      const { code } = await sup.stop(120_000);
      const seconds = (performance.now() - started) / 1000;
      assert.equal(code, 1, `exit code ${code}: a shutdown that left a replica must not exit 0\n${sup.stderr}`);
      assert.match(sup.stderr, new RegExp(`not removed: echo-${ECHO} \\(${replica!.id.slice(0, 12)}\\)`));
      // halt (grace 2 s + 15 s) and removal (grace + 10 s) are each bounded.
      assert.ok(seconds < 60, `shutdown took ${seconds.toFixed(1)} s`);
      proxy.resume();
      const running = await engine.containers.list({ labels: { 'selflessacts.supervisor': instanceName(suite) } });
      assert.equal(running.length, 1, 'the replica it named is indeed still there');
    } finally {
      await sup?.kill();
      await proxy.close();
      await removeSuiteObjects(engine, suite);
      await removeDir(dir);
    }
  });
});
