// The supervisor's log lines and its stop, as an operator meets them: readable lines on a
// terminal (a real pty from script(1)), JSON lines when piped, LOG_LEVEL obeyed and a bad one
// refused, and a second SIGTERM that cuts a drain short. Echo replicas on the process runtime
// (no Docker needed). Ports 33100-33119.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  Admin,
  SupervisorProcess,
  echoService,
  eventually,
  http,
  removeDir,
  repoRoot,
  tempDir,
  waitUp,
  writeConfig,
} from '../../testkit/supervisor.ts';

const SUITE = 'logs';
const LISTEN = 33100;
const ADMIN = 33101;
const ECHO = 33110;

/** Runs `command` with its stdout on a pseudo-terminal; resolves with what the terminal showed. */
function onTerminal(command: string[], env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  const quoted = command.map((word) => `'${word.replaceAll("'", "'\\''")}'`).join(' ');
  const child = spawn('script', ['-qec', quoted, '/dev/null'], {
    cwd: repoRoot,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  return new Promise((resolve) => child.once('exit', (code) => resolve({ code, output })));
}

describe('supervisor logs and signals', { timeout: 120_000 }, () => {
  const admin = new Admin(`http://127.0.0.1:${ADMIN}`);
  const running: SupervisorProcess[] = [];
  let dir = '';
  let configFile = '';
  let badFile = '';

  before(async () => {
    dir = await tempDir(SUITE);
    configFile = await writeConfig({
      suite: SUITE,
      dir,
      runtime: 'process',
      listenPort: LISTEN,
      adminPort: ADMIN,
      services: {
        echo: echoService({ replicas: { initial: 1, min: 1, max: 1 }, startPort: ECHO, routes: ['/api/v1'] }),
      },
      // A drain that would hold a stop for half a minute: only a forced stop ends sooner.
      extra: { drainTimeoutMs: 30_000 },
    });
    badFile = path.join(dir, 'bad.json');
    await writeFile(badFile, JSON.stringify({ runtime: 'process', heartbeat: { intervalMs: -5 }, services: {} }));
  });

  after(async () => {
    // SIGTERM, not SIGKILL: process replicas outlive a killed supervisor (by design).
    for (const sup of running) await sup.stop();
    await removeDir(dir);
  });

  const launch = (env: Record<string, string> = {}) => {
    const sup = SupervisorProcess.start(configFile, env);
    running.push(sup);
    return sup;
  };

  test('on a terminal: readable lines (time, level, component, message), no JSON', async () => {
    const { code, output } = await onTerminal(
      [process.execPath, '--import', 'tsx', 'supervisor/main.ts', '--config', badFile],
      {},
    );
    assert.equal(code, 1, output);
    // eslint-disable-next-line no-control-regex
    const plain = output.replace(/\u001b\[[0-9;]*m/g, '');
    assert.match(
      plain,
      /^\[\d\d:\d\d:\d\d\.\d{3}\] ERROR: supervisor: invalid config \{.*"key":"heartbeat\.intervalMs".*\}\r?$/m,
      output,
    );
    assert.doesNotMatch(plain, /\{"level"/, 'no JSON line on a terminal');
    assert.notEqual(plain, output, 'coloured on a terminal');
  });

  test('LOG_LEVEL=warn: no info lines from a whole start; a bad LOG_LEVEL stops start-up naming it', async () => {
    const bad = SupervisorProcess.start(configFile, { LOG_LEVEL: 'loud' });
    assert.equal((await bad.exited).code, 1);
    assert.match(
      bad.stderr,
      /config: LOG_LEVEL \(environment\) = "loud"; expected one of fatal, error, warn, info, debug, trace, silent/,
    );

    const sup = launch({ LOG_LEVEL: 'warn' });
    await waitUp(sup, admin, { echo: 1 }, 30_000);
    // At info this start logs "admin listening", "balancer listening" and the replica events.
    assert.deepEqual(
      sup.lines.filter((l) => l.level !== 'warn' && l.level !== 'error'),
      [],
    );
    assert.equal((await sup.stop()).code, 0);
    assert.deepEqual(
      sup.lines.filter((l) => l.level !== 'warn' && l.level !== 'error'),
      [],
    );
  });

  test('piped: JSON lines of one schema; a second SIGTERM cuts a drain short and kills the replicas', async () => {
    const sup = launch();
    await waitUp(sup, admin, { echo: 1 }, 30_000);
    for (const line of sup.lines) {
      assert.equal(typeof line.time, 'string', JSON.stringify(line));
      assert.ok(['debug', 'info', 'warn', 'error'].includes(String(line.level)), JSON.stringify(line));
      assert.equal(typeof line.msg, 'string', JSON.stringify(line));
      assert.equal(typeof line.component, 'string', JSON.stringify(line));
    }
    assert.ok(
      sup.lines.some((l) => l.component === 'fleet' || l.component === 'events'),
      'components name their part',
    );

    // A request the replica holds until released: the drain waits for it (up to 30 s).
    await eventually(
      async () => ((await http('GET', `http://127.0.0.1:${LISTEN}/api/v1/_health`)).status === 200 ? true : undefined),
      'the replica in rotation',
    );
    let settled = false;
    const held = http('GET', `http://127.0.0.1:${LISTEN}/api/v1/hold?key=stop`)
      .then(
        (reply) => reply,
        (err: unknown) => err,
      )
      .finally(() => (settled = true));
    await sleep(300);
    assert.equal(settled, false, 'the replica holds the request');
    sup.child.kill('SIGTERM');
    await sup.waitForLine((l) => l.msg === 'stopping', 'the first signal taken');
    await sleep(2000);
    assert.ok(sup.running, `one signal: still draining the held request\n${sup.dump().slice(-3000)}`);

    const forcedAt = Date.now();
    sup.child.kill('SIGTERM');
    const exit = await Promise.race([sup.exited, sleep(10_000).then(() => undefined)]);
    const took = Date.now() - forcedAt;
    assert.ok(exit, `still running 10 s after the second signal\n${sup.dump().slice(-3000)}`);
    assert.equal(exit.code, 0, sup.dump().slice(-3000));
    assert.ok(took < 5000, `the forced stop took ${took} ms`);
    assert.ok(sup.lines.some((l) => l.msg === 'forcing the stop: no drain, replicas killed' && l.level === 'warn'));
    assert.ok(sup.lines.some((l) => l.msg === 'stopped' && l.forced === true));
    // The replica is gone: nothing answers on its port.
    await assert.rejects(http('GET', `http://127.0.0.1:${ECHO}/api/v1/_count`), /ECONNREFUSED/, 'the replica is gone');
    await held;
  });
});
