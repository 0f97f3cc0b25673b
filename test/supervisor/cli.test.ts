// The entry point as a user meets it: a bad config stops start-up with exit 1, naming the key,
// the value and what was expected; a missing file likewise; `runtime: auto` says which runtime
// it picked and why. Ports 20990-20999.
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { skipUnlessEngine } from '../helpers/requirements.ts';
import { TEST_ENGINE } from '../../testkit/engine.ts';
import { SupervisorProcess, echoService, removeDir, suiteRuntimes, tempDir } from '../../testkit/supervisor.ts';

const engineSkip = await skipUnlessEngine();

describe('supervisor/main.ts start-up errors', () => {
  let dir = '';
  before(async () => {
    dir = await tempDir('cli');
  });
  after(async () => {
    await removeDir(dir);
    if (engineSkip) return;
    const engine = TEST_ENGINE.client();
    await engine.networks.remove('sa-test-cli').catch(() => undefined);
    await engine.close();
  });

  const run = async (config: unknown, env: Record<string, string> = {}) => {
    const file = path.join(dir, `c-${Math.random().toString(16).slice(2)}.json`);
    await writeFile(file, typeof config === 'string' ? config : JSON.stringify(config));
    const sup = SupervisorProcess.start(file, env);
    const exit = await sup.exited;
    return { exit, sup };
  };

  test('an invalid value: exit 1, key, value and expectation on stderr and as a JSON log line', async () => {
    const { exit, sup } = await run({
      runtime: 'process',
      heartbeat: { intervalMs: -5 },
      services: { acts: { command: ['node', 'x.js'], replicas: { initial: 1, min: 1, max: 1 }, startPort: 99999, healthPath: '/h' } },
    });
    assert.equal(exit.code, 1);
    assert.match(sup.stderr, /config: heartbeat\.intervalMs = -5; expected an integer from 1 to 2147483647/);
    assert.match(sup.stderr, /config: services\.acts\.startPort = 99999; expected an integer from 1 to 65535/);
    const logged = sup.lines.filter((l) => l.msg === 'invalid config');
    assert.deepEqual(logged.map((l) => l.key).sort(), ['heartbeat.intervalMs', 'services.acts.startPort']);
  });

  test('a bad environment override names the variable', async () => {
    const { exit, sup } = await run(
      { runtime: 'process', services: { acts: { command: ['node', 'x.js'], replicas: { initial: 1, min: 1, max: 1 }, startPort: 20990, healthPath: '/h' } } },
      { ADMIN_PORT: 'zero' },
    );
    assert.equal(exit.code, 1);
    assert.match(sup.stderr, /admin\.port \(from env ADMIN_PORT\) = "zero"/);
  });

  test('a service without what its runtime needs', async () => {
    const { exit, sup } = await run({ runtime: 'process', services: { acts: { image: 'acts:latest', replicas: { initial: 1, min: 1, max: 1 }, startPort: 20991, healthPath: '/h' } } });
    assert.equal(exit.code, 1);
    assert.match(sup.stderr, /services\.acts\.command = \(missing\); expected a command array \(runtime is process\)/);
  });

  test('a file that is not JSON, and one that does not exist', async () => {
    const bad = await run('{"services":');
    assert.equal(bad.exit.code, 1);
    assert.match(bad.sup.stderr, /expected valid JSON/);
    const missing = SupervisorProcess.start(path.join(dir, 'nope.json'));
    assert.equal((await missing.exited).code, 1);
    assert.match(missing.stderr, /expected a readable config file/);
  });

  test('every stdout line is one JSON object', async () => {
    const { sup } = await run({ runtime: 'k8s', services: {} });
    assert.ok(sup.lines.length > 0);
    for (const line of sup.lines) {
      assert.equal(typeof line.time, 'string', JSON.stringify(line));
      assert.equal(typeof line.level, 'string');
    }
  });

  const autoConfig = (listen: number) => ({
    runtime: 'auto',
    listen: { host: '127.0.0.1', port: listen },
    admin: { host: '127.0.0.1', port: listen + 1 },
    dataDir: path.join(dir, `data-${listen}`),
    labelPrefix: 'selflessacts',
    runtimes: suiteRuntimes('cli'),
    instance: 'test-cli',
    services: { echo: { ...echoService({ replicas: { initial: 1, min: 1, max: 1 }, startPort: listen + 2 }), image: 'selflessacts-test/none:latest' } },
  });

  test('runtime auto without an engine: child processes, and it says why for each runtime passed over', async () => {
    const file = path.join(dir, 'auto-process.json');
    await writeFile(file, JSON.stringify(autoConfig(20994)));
    const nowhere = `unix://${path.join(dir, 'no-such.sock')}`;
    const sup = SupervisorProcess.start(file, { DOCKER_HOST: nowhere, CONTAINER_HOST: nowhere });
    try {
      const line = await sup.waitForLine((l) => l.msg === 'runtime selected', 'the runtime choice');
      assert.equal(line.runtime, 'process');
      assert.match(String(line.why), /auto picked process/);
      assert.match(String(line.why), /docker: no Docker engine answers at .*no-such\.sock/);
      assert.match(String(line.why), /podman: no Podman engine answers at .*no-such\.sock/);
      const started = await sup.waitForLine((l) => l.type === 'supervisor.started', 'started');
      assert.match(String(started.reason), /runtime process/);
    } finally {
      assert.equal((await sup.stop()).code, 0);
    }
  });

  test('runtime auto with an engine: the first that answers, and it says why', { skip: engineSkip }, async () => {
    const file = path.join(dir, 'auto-engine.json');
    await writeFile(file, JSON.stringify(autoConfig(20990)));
    // Docker passed over when the suites run on Podman: its socket points nowhere.
    const sup = SupervisorProcess.start(file, TEST_ENGINE.name === 'podman' ? { DOCKER_HOST: `unix://${path.join(dir, 'no-such.sock')}` } : {});
    try {
      const line = await sup.waitForLine((l) => l.msg === 'runtime selected', 'the runtime choice');
      assert.equal(line.runtime, TEST_ENGINE.name);
      assert.match(String(line.why), new RegExp(`auto picked ${TEST_ENGINE.name}: (Docker|Podman) [0-9][^ ]* \\(API [0-9.]+\\) answers at ${TEST_ENGINE.socketPath}`));
    } finally {
      // The image does not exist: the start fails, is reported, and nothing is left behind.
      await sup.waitForLine((l) => l.type === 'runtime.error', 'the failed start reported');
      assert.equal((await sup.stop()).code, 0);
    }
  });
});
