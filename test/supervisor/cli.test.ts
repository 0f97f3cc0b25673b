// The entry point as a user meets it: a bad config stops start-up with exit 1, naming the key,
// the value and what was expected; a missing file likewise; `runtime: auto` says which runtime
// it picked and why. Ports 20990-20999. Then the `selflessacts` command's others (help,
// version, validate, status, events, logs, scale), each against a real supervisor: ports 32000-32029.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { CliProcess, selflessacts } from '../helpers/cli.ts';
import { skipUnlessEngine } from '../helpers/requirements.ts';
import { TEST_ENGINE } from '../../testkit/engine.ts';
import {
  ADMIN_POST,
  SupervisorProcess,
  echoService,
  http,
  removeDir,
  repoRoot,
  suiteRuntimes,
  supervisorSuite,
  tempDir,
  type Status,
} from '../../testkit/supervisor.ts';

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
      services: {
        acts: {
          command: ['node', 'x.js'],
          replicas: { initial: 1, min: 1, max: 1 },
          startPort: 99999,
          healthPath: '/h',
        },
      },
    });
    assert.equal(exit.code, 1);
    assert.match(sup.stderr, /config: heartbeat\.intervalMs = -5; expected an integer from 1 to 2147483647/);
    assert.match(sup.stderr, /config: services\.acts\.startPort = 99999; expected an integer from 1 to 65535/);
    const logged = sup.lines.filter((l) => l.msg === 'invalid config');
    assert.deepEqual(logged.map((l) => l.key).sort(), ['heartbeat.intervalMs', 'services.acts.startPort']);
  });

  test('a bad environment override names the variable', async () => {
    const { exit, sup } = await run(
      {
        runtime: 'process',
        services: {
          acts: {
            command: ['node', 'x.js'],
            replicas: { initial: 1, min: 1, max: 1 },
            startPort: 20990,
            healthPath: '/h',
          },
        },
      },
      { ADMIN_PORT: 'zero' },
    );
    assert.equal(exit.code, 1);
    assert.match(sup.stderr, /admin\.port \(from env ADMIN_PORT\) = "zero"/);
  });

  test('a service without what its runtime needs', async () => {
    const { exit, sup } = await run({
      runtime: 'process',
      services: {
        acts: { image: 'acts:latest', replicas: { initial: 1, min: 1, max: 1 }, startPort: 20991, healthPath: '/h' },
      },
    });
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
    services: {
      echo: {
        ...echoService({ replicas: { initial: 1, min: 1, max: 1 }, startPort: listen + 2 }),
        image: 'selflessacts-test/none:latest',
      },
    },
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
    const sup = SupervisorProcess.start(
      file,
      TEST_ENGINE.name === 'podman' ? { DOCKER_HOST: `unix://${path.join(dir, 'no-such.sock')}` } : {},
    );
    try {
      const line = await sup.waitForLine((l) => l.msg === 'runtime selected', 'the runtime choice');
      assert.equal(line.runtime, TEST_ENGINE.name);
      assert.match(
        String(line.why),
        new RegExp(
          `auto picked ${TEST_ENGINE.name}: (Docker|Podman) [0-9][^ ]* \\(API [0-9.]+\\) answers at ${TEST_ENGINE.socketPath}`,
        ),
      );
    } finally {
      // The image does not exist: start-up stops at once, naming it, and leaves nothing behind.
      const exit = await sup.exited;
      assert.equal(exit.code, 1, sup.stderr);
      assert.match(sup.stderr, /services\.echo\.image = "selflessacts-test\/none:latest"; expected an image the/);
    }
  });
});

describe('the selflessacts command itself', () => {
  test('--help lists the commands, --version names the package; every entry point gives the same', async () => {
    const help = await selflessacts(['--help']);
    assert.equal(help.code, 0, help.stderr);
    for (const command of ['start', 'status', 'events', 'logs', 'scale', 'validate'])
      assert.match(help.stdout, new RegExp(`^  ${command}\\b`, 'm'), command);
    const version = JSON.parse(await readFile(path.join(repoRoot, 'package.json'), 'utf8')).version as string;
    // `node supervisor` (the directory's index.js), `tsx supervisor`, `tsx supervisor/main.ts` and the package's bin.
    const entries = [
      ['supervisor'],
      [path.join(repoRoot, 'node_modules/tsx/dist/cli.mjs'), 'supervisor'],
      ['--import', 'tsx', 'supervisor/main.ts'],
    ];
    for (const entry of entries) {
      const run = await selflessacts(['--version'], { entry });
      assert.equal(run.code, 0, `${entry.join(' ')}: ${run.stderr}`);
      assert.equal(run.stdout.trim(), `selflessacts ${version} (Node ${process.version})`, entry.join(' '));
    }
  });

  test('npx selflessacts: the package bin, on the Node that npm ci installed', async () => {
    const npx = await new Promise<{ code: number | null; out: string }>((resolve) => {
      // npm exec puts node_modules/.bin first on PATH, so `node` there is the project's Node 24.
      const child = spawn('npx', ['--no-install', 'selflessacts', '--version'], {
        cwd: repoRoot,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      child.stdout.on('data', (b: Buffer) => (out += b));
      child.stderr.on('data', (b: Buffer) => (out += b));
      child.once('close', (code) => resolve({ code, out }));
    });
    assert.equal(npx.code, 0, npx.out);
    assert.match(npx.out, /^selflessacts \d+\.\d+\.\d+ \(Node v24\./);
  });

  test('a mistyped command or option: exit 2, and what was meant', async () => {
    const typo = await selflessacts(['stauts']);
    assert.equal(typo.code, 2);
    assert.match(typo.stderr, /unknown command 'stauts' \(did you mean "status"\?\)/);
    const option = await selflessacts(['status', '--jsno']);
    assert.equal(option.code, 2);
    assert.match(option.stderr, /unknown option '--jsno'\s+\(Did you mean --json\?\)/);
    const tail = await selflessacts(['logs', 'acts', '--tail', 'ten']);
    assert.equal(tail.code, 2);
    assert.match(tail.stderr, /--tail.*expected a whole number of lines/);
  });

  test('validate: exit 0 for the shipped config, 1 with every problem listed and what a misspelled key meant', async () => {
    const good = await selflessacts(['validate', '--config', 'config/orchestrator.json']);
    assert.equal(good.code, 0, good.stderr);
    assert.match(good.stdout, /config\/orchestrator\.json: valid; runtime auto; services users .*, acts /);
    const dir = await tempDir('cli-validate');
    try {
      const file = path.join(dir, 'bad.json');
      await writeFile(
        file,
        JSON.stringify({
          runtime: 'process',
          heartbaet: { intervalMs: 100 },
          listen: { prot: 3000 },
          scaling: { requestsPerReplica: 0 },
          services: {
            acts: {
              comand: ['node', 'x.js'],
              replicas: { initial: 1, min: 1, max: 1 },
              startPort: 21990,
              healthPath: '/h',
            },
          },
        }),
      );
      const bad = await selflessacts(['validate', '-c', file]);
      assert.equal(bad.code, 1);
      assert.match(bad.stderr, /config: heartbaet\.intervalMs = "\(unknown key\)"; .*\(did you mean "heartbeat"\?\)/);
      assert.match(bad.stderr, /config: listen\.prot = .*\(did you mean "port"\?\)/);
      assert.match(bad.stderr, /config: scaling\.requestsPerReplica = 0; expected/);
      assert.match(bad.stderr, /config: services\.acts\.comand = \["node","x\.js"\]; .*\(did you mean "command"\?\)/);
      assert.match(bad.stderr, /bad\.json: 4 problems$/m);
      assert.equal(bad.stdout, '');
    } finally {
      await removeDir(dir);
    }
  });

  test('an image the engine does not have: validate names it, and start-up stops naming it, before anything runs', {
    skip: engineSkip,
  }, async () => {
    const dir = await tempDir('cli-image');
    try {
      const file = path.join(dir, 'missing-image.json');
      await writeFile(
        file,
        JSON.stringify({
          runtime: TEST_ENGINE.name,
          instance: 'test-cli-image',
          listen: { host: '127.0.0.1', port: 20991 },
          admin: { host: '127.0.0.1', port: 20992 },
          dataDir: path.join(dir, 'data'),
          runtimes: suiteRuntimes('cli'),
          services: {
            acts: {
              image: 'selflessacts-test/no-such-image:latest',
              replicas: { initial: 1, min: 1, max: 1 },
              startPort: 20993,
              healthPath: '/h',
            },
          },
        }),
      );
      const checked = await selflessacts(['validate', '-c', file]);
      assert.equal(checked.code, 1, checked.stdout);
      assert.match(
        checked.stderr,
        /config: services\.acts\.image = "selflessacts-test\/no-such-image:latest"; expected an image the (Docker|Podman) engine at .* has/,
      );
      const sup = SupervisorProcess.start(file);
      const exit = await sup.exited;
      assert.equal(exit.code, 1, sup.stderr);
      assert.match(sup.stderr, /services\.acts\.image = "selflessacts-test\/no-such-image:latest"/);
      assert.ok(!sup.lines.some((l) => l.type === 'replica.started' || l.msg === 'admin listening'), 'nothing started');
    } finally {
      await removeDir(dir);
    }
  });

  test('a command for a supervisor that is not running: exit 1, saying where it looked', async () => {
    const run = await selflessacts(['status', '--admin', 'http://127.0.0.1:20999']);
    assert.equal(run.code, 1);
    assert.match(run.stderr, /no supervisor answers at http:\/\/127\.0\.0\.1:20999 \(from --admin\)/);
  });
});

// Ports 32000-32029: a supervisor of the echo app under the process runtime (32000-32009) and,
// with an engine, under Docker (32010-32019).
describe('selflessacts status, events and logs against a running supervisor (process runtime)', () => {
  const LISTEN = 32000;
  const ADMIN = 32001;
  const ECHO = 32002;
  const suite = supervisorSuite({
    suite: 'cli-commands',
    adminPort: ADMIN,
    config: {
      runtime: 'process',
      listenPort: LISTEN,
      services: {
        echo: echoService({ replicas: { initial: 2, min: 2, max: 2 }, startPort: ECHO, routes: ['/api/v1'] }),
        quiet: echoService({ replicas: { initial: 1, min: 1, max: 1 }, startPort: ECHO + 5, routes: ['/quiet'] }),
      },
    },
    ready: { echo: 2, quiet: 1 },
    readyTimeoutMs: 30_000,
  });
  const config = () => path.join(suite.dir, 'orchestrator.json');

  test('status: one row per replica, with state, health, age and requests served; --json is GET /status', async () => {
    for (let i = 0; i < 6; i++)
      assert.equal((await http('GET', `http://127.0.0.1:${LISTEN}/api/v1/things`)).status, 200);
    // requestsServed is taken from the balancer once a second.
    await suite.admin.waitFor(
      (s) => s.services.echo!.replicas.every((r) => r.requestsServed === 3),
      'the counts',
      5000,
    );
    const run = await selflessacts(['status', '--config', config()]);
    assert.equal(run.code, 0, run.stderr);
    const lines = run.stdout.trimEnd().split('\n');
    assert.match(
      lines[0]!,
      /^runtime process, up \d+[smh]\S*, balancer on 127\.0\.0\.1:32000, replicas use 384 of \d+ MB \(capacity\)$/,
    );
    assert.match(lines[1]!, /^SERVICE +REPLICA +PORT +STATE +HEALTH +AGE +REQUESTS$/);
    const rows = lines.slice(2, 5).map((l) => l.split(/ +/));
    const status = await suite.admin.status();
    assert.deepEqual(
      rows.map((r) => [r[0], r[1], r[2], r[3], r[4], r[6]]),
      [
        ...status.services.echo!.replicas.map((r) => ['echo', r.id, String(r.port), 'ready', 'ok', '3']),
        ['quiet', status.services.quiet!.replicas[0]!.id, String(ECHO + 5), 'ready', 'ok', '0'],
      ],
    );
    for (const row of rows) assert.match(row[5]!, /^\d+s$|^\d+m$/);
    assert.match(run.stdout, /^echo: 2\/2 ready, fixed \(2-2\)$/m);
    const json = await selflessacts(['status', '--json', '--admin', `http://127.0.0.1:${ADMIN}`]);
    assert.equal(json.code, 0, json.stderr);
    const body = JSON.parse(json.stdout) as Status;
    assert.deepEqual(Object.keys(body.services), ['echo', 'quiet']);
    assert.equal(body.services.echo!.replicas.length, 2);
  });

  test('events: the log so far; -f then what happens next, until Ctrl-C', async () => {
    const run = await selflessacts(['events', '-c', config()]);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /^\S+Z {2}supervisor\.started +runtime process/m);
    assert.equal(run.stdout.match(/ replica\.ready +echo:/g)?.length, 2);
    const follow = new CliProcess(['events', '--follow', '--config', config()]);
    try {
      await follow.waitFor(/supervisor\.started/, 'the log so far');
      assert.equal((await http('POST', `http://127.0.0.1:${ADMIN}/workers/heartbeat/kill`, ADMIN_POST)).status, 202);
      await follow.waitFor(/worker\.restarted +heartbeat worker died/, 'the live event');
    } finally {
      const end = await follow.interrupt();
      assert.equal(end.code, 0, end.stderr);
    }
    assert.equal(follow.stdout.match(/supervisor\.started/g)?.length, 1, 'no event printed twice');
  });

  test("logs: each replica's output prefixed with service-port; --tail; -f follows a replacement too", async () => {
    const ports = (await suite.admin.status()).services.echo!.replicas.map((r) => r.port);
    const all = await selflessacts(['logs', 'echo', '-c', config()]);
    assert.equal(all.code, 0, all.stderr);
    for (const port of ports)
      assert.match(
        all.stdout,
        new RegExp(`^echo-${port} \\| \\{"msg":"echo-app listening","service":"echo","port":${port}`, 'm'),
      );
    const none = await selflessacts(['logs', 'echo', '--tail', '0', '-c', config()]);
    assert.equal(none.stdout, '');
    const json = await selflessacts(['logs', 'quiet', '-n', '1', '--json', '-c', config()]);
    const line = JSON.parse(json.stdout) as { service: string; port: number; line: string };
    assert.deepEqual([line.service, line.port, JSON.parse(line.line).msg], ['quiet', ECHO + 5, 'echo-app listening']);

    const follow = new CliProcess(['logs', 'echo', '-f', '--tail', '0', '-c', config()]);
    try {
      await sleep(1500); // attached to both replicas
      const old = (await suite.admin.status()).services.echo!.replicas[0]!;
      await http('POST', `http://127.0.0.1:${old.port}/api/v1/_crash`);
      // The replacement, on the same port, says it is listening: followed without asking.
      await follow.waitFor(
        new RegExp(`echo-${old.port} \\| .*echo-app listening`),
        "the replacement's first line",
        30_000,
      );
    } finally {
      assert.equal((await follow.interrupt()).code, 0);
    }
    await suite.admin.waitReady('echo', 2);
  });

  test('logs of a service that does not exist, or bad query values: exit 1 / 4xx, never a 500', async () => {
    const run = await selflessacts(['logs', 'nope', '-c', config()]);
    assert.equal(run.code, 1);
    assert.match(run.stderr, /404 no service named "nope"/);
    const base = `http://127.0.0.1:${ADMIN}`;
    assert.equal((await http('GET', `${base}/logs/echo?tail=-1`)).status, 400);
    assert.equal((await http('GET', `${base}/logs/echo?follow=maybe`)).status, 400);
    assert.equal((await http('POST', `${base}/logs/echo`, ADMIN_POST)).status, 405);
    assert.equal((await http('GET', `${base}/logs/%E0%A4%A`)).status, 404);
    // A page using DNS rebinding names its own host: refused like every admin route.
    assert.equal((await http('GET', `${base}/logs/echo`, { headers: { host: 'evil.example:32001' } })).status, 403);
  });
});

describe('selflessacts logs through the engine API (docker runtime)', { skip: engineSkip }, () => {
  const ECHO = 32012;
  const suite = supervisorSuite({
    suite: 'cli-engine',
    adminPort: 32011,
    engine: engineSkip ? undefined : TEST_ENGINE.client(),
    config: {
      runtime: TEST_ENGINE.name,
      listenPort: 32010,
      services: {
        echo: echoService({ replicas: { initial: 1, min: 1, max: 1 }, startPort: ECHO, routes: ['/api/v1'] }),
      },
    },
    ready: { echo: 1 },
    readyTimeoutMs: 60_000,
  });

  test("the container's output, demultiplexed, with --tail", async () => {
    const run = await selflessacts(['logs', 'echo', '--tail', '5', '-c', path.join(suite.dir, 'orchestrator.json')]);
    assert.equal(run.code, 0, run.stderr);
    assert.match(
      run.stdout,
      new RegExp(`^echo-${ECHO} \\| \\{"msg":"echo-app listening","service":"echo","port":8080`, 'm'),
    );
  });
});

// No admin.token here: the supervisor generates one into its data directory, and the CLI,
// given the config, reads it from there.
describe('selflessacts scale: an override the scaler respects until `scale SERVICE auto` (process runtime)', () => {
  const LISTEN = 32020;
  const ADMIN = 32021;
  const admin = `http://127.0.0.1:${ADMIN}`;
  const suite = supervisorSuite({
    suite: 'cli-scale',
    adminPort: ADMIN,
    config: {
      runtime: 'process',
      listenPort: LISTEN,
      scaling: { windowSeconds: 3, requestsPerReplica: 20, dampingWindows: 0 },
      services: {
        echo: echoService({
          replicas: { initial: 1, min: 1, max: 3 },
          startPort: 32022,
          routes: ['/api/v1'],
          autoscale: true,
        }),
      },
      extra: { admin: { host: '127.0.0.1', port: ADMIN } },
    },
    ready: { echo: 1 },
    readyTimeoutMs: 30_000,
  });
  const config = () => path.join(suite.dir, 'orchestrator.json');
  const tokenFile = () => path.join(suite.dir, 'data', 'admin-token');
  const post = async () => ({ headers: { 'x-admin-token': (await readFile(tokenFile(), 'utf8')).trim() } });

  test('scale echo 3: three replicas, held through a window that would decide one; scale echo auto: back to one', async () => {
    const held = await selflessacts(['scale', 'echo', '3', '--config', config()]);
    assert.equal(held.code, 0, held.stderr);
    assert.match(held.stdout, /^echo: held at 3 replica\(s\) until `selflessacts scale echo auto`$/m);
    await suite.admin.waitReady('echo', 3, 30_000);
    const status = await selflessacts(['status', '--config', config()]);
    assert.match(status.stdout, /^echo: 3\/3 ready, held at 3 by `selflessacts scale`/m);

    // One request opens a window; at its end the scaler would say 1 (1 request / 20 + 1).
    const since = (await suite.admin.events()).at(-1)!.seq;
    assert.equal((await http('GET', `http://127.0.0.1:${LISTEN}/api/v1/once`)).status, 200);
    await suite.sup.waitForLine(
      (l) => l.msg === 'scaler decision held by the operator' && l.scaler === 1 && l.held === 3,
      'the decision held',
      10_000,
    );
    assert.equal((await suite.admin.status()).services.echo!.replicas.length, 3);
    assert.deepEqual(
      (await suite.admin.events(since)).filter((e) => e.type === 'scaled'),
      [],
      'no scaling while held',
    );

    const auto = await selflessacts(['scale', 'echo', 'auto', '--admin', admin, '--config', config()]);
    assert.equal(auto.code, 0, auto.stderr);
    assert.match(auto.stdout, /^echo: no override; 3 replica\(s\) wanted now/m);
    // With no traffic at all, the window opened on release decides: back to the minimum.
    await suite.admin.waitReady('echo', 1, 30_000);
    const events = await suite.admin.events(since);
    assert.deepEqual(
      events.filter((e) => e.type === 'scale.override').map((e) => e.reason),
      ['operator: auto; the scaler decides again from the next window'],
    );
    assert.ok(
      events.some((e) => e.type === 'scaled' && (e as { to?: number }).to === 1),
      'the scaler scaled it down',
    );
  });

  test("refused with a 4xx and exit 1: out of bounds, no such service; the admin API's rules for a POST hold", async () => {
    const big = await selflessacts(['scale', 'echo', '4', '-c', config()]);
    assert.equal(big.code, 1);
    assert.match(big.stderr, /400 replicas must be "auto" or an integer from 1 to 3/);
    const nope = await selflessacts(['scale', 'nope', '2', '-c', config()]);
    assert.equal(nope.code, 1);
    assert.match(nope.stderr, /404 no service named "nope"/);
    const url = `${admin}/services/echo/scale`;
    const body = JSON.stringify({ replicas: 2 });
    const ok = await post();
    assert.equal(
      (await http('POST', url, { body })).status,
      403,
      'no X-Admin-Token: a web page cannot send it cross-site',
    );
    assert.equal(
      (await http('POST', url, { body, headers: { ...ok.headers, host: 'evil.example' } })).status,
      403,
      'DNS rebinding',
    );
    assert.equal((await http('GET', url)).status, 405);
    assert.equal((await http('POST', url, { body: '{"replicas":', ...ok })).status, 400);
    assert.equal(
      (await http('POST', url, { body: JSON.stringify({ replicas: 2, pad: 'x'.repeat(5000) }), ...ok })).status,
      400,
    );
    assert.equal((await http('POST', url, { body: '{"replicas": 1.5}', ...ok })).status, 400);
    assert.equal((await suite.admin.status()).services.echo!.replicas.length, 1, 'nothing changed');
  });

  test('no admin.token: a generated one, 0600 in the data directory, and no other value acts', async () => {
    const file = tokenFile();
    assert.equal((await stat(file)).mode & 0o777, 0o600);
    assert.equal(
      (await stat(path.dirname(file))).mode & 0o777,
      0o700,
      "the data directory is the service user's alone",
    );
    const token = (await readFile(file, 'utf8')).trim();
    assert.match(token, /^[A-Za-z0-9_-]{43}$/);
    const url = `${admin}/services/echo/scale`;
    const body = JSON.stringify({ replicas: 1 });
    for (const guess of ['anything', 'x', ' ', token.slice(0, -1)]) {
      const refused = await http('POST', url, { body, headers: { 'x-admin-token': guess } });
      assert.equal(refused.status, 403, `X-Admin-Token: ${JSON.stringify(guess)}`);
      assert.match(JSON.parse(refused.text).error, /does not match the admin token|needs the x-admin-token header/);
    }
    assert.equal(
      (await http('POST', `${admin}/workers/nope/kill`, { headers: { 'x-admin-token': 'anything' } })).status,
      403,
    );
    // Without the config, the CLI cannot know where the token is, and says how to give it.
    const blind = await selflessacts([
      'scale',
      'echo',
      '1',
      '--admin',
      admin,
      '--config',
      path.join(suite.dir, 'nowhere.json'),
    ]);
    assert.equal(blind.code, 1);
    assert.match(blind.stderr, /no admin token: set ADMIN_TOKEN/);
    const viaEnv = await selflessacts(
      ['scale', 'echo', 'auto', '--admin', admin, '--config', path.join(suite.dir, 'nowhere.json')],
      { env: { ADMIN_TOKEN: token } },
    );
    assert.equal(viaEnv.code, 0, viaEnv.stderr);
  });
});
