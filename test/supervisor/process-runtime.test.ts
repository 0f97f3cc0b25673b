// `npm start` without Docker: the shipped config with runtime "process" brings up the real
// users and acts services from app/ as child processes on SQLite in dataDir, sharing a
// generated session secret; a SIGKILLed supervisor's successor adopts them through the state
// file; SIGTERM stops them. Ports 26000-26099.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  Admin,
  SupervisorProcess,
  TEST_ADMIN_TOKEN,
  eventually,
  http,
  removeDir,
  repoRoot,
  tempDir,
  waitUp,
} from '../../testkit/supervisor.ts';

const SUITE = 'process';
const LISTEN = 26000;
const ADMIN = 26001;
const USERS = 26010;
const ACTS = 26020;
const base = `http://127.0.0.1:${LISTEN}`;
/** A 1x1 PNG: the acts service checks uploads by content. */
const PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==',
  'base64',
);

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('process runtime with the real app (npm start without Docker)', () => {
  const admin = new Admin(`http://127.0.0.1:${ADMIN}`);
  const running: SupervisorProcess[] = [];
  let dir = '';
  let configFile = '';
  let dataDir = '';

  const stateFile = () => path.join(dataDir, 'process-replicas-test-process.json');
  const pids = async () =>
    (JSON.parse(await readFile(stateFile(), 'utf8')) as { replicas: Array<{ id: string; port: number; pid: number }> })
      .replicas;

  async function launch(): Promise<SupervisorProcess> {
    // Open access (the course's anonymous writes, the contract's mode) from the supervisor's own
    // environment, as the systemd env file gives it: the shipped {{env:API_ACCESS:-owner}}.
    const sup = SupervisorProcess.start(configFile, { API_ACCESS: 'open' });
    running.push(sup);
    await waitUp(sup, admin, { users: 1, acts: 1 }, 120_000);
    return sup;
  }

  before(async () => {
    dir = await tempDir(SUITE);
    dataDir = path.join(dir, 'data');
    const shipped = JSON.parse(await readFile(path.join(repoRoot, 'config/orchestrator.json'), 'utf8')) as {
      services: Record<string, { startPort: number }>;
    };
    shipped.services.users!.startPort = USERS;
    shipped.services.acts!.startPort = ACTS;
    configFile = path.join(dir, 'orchestrator.json');
    await writeFile(
      configFile,
      JSON.stringify({
        ...shipped,
        instance: 'test-process',
        runtime: 'process',
        listen: { host: '127.0.0.1', port: LISTEN },
        admin: { host: '127.0.0.1', port: ADMIN, token: TEST_ADMIN_TOKEN },
        dataDir,
        staticDir: path.join(repoRoot, 'public'),
      }),
    );
  });

  after(async () => {
    for (const sup of running) await sup.stop();
    // Belt and braces: no child process may outlive the suite.
    const left = await pids().catch(() => []);
    for (const r of left) if (alive(r.pid)) process.kill(r.pid, 'SIGKILL');
    await removeDir(dir);
  });

  test('users and acts come up from app/ on SQLite; a session made by users works on acts', async () => {
    await launch();
    const status = await admin.status();
    assert.equal(status.runtime, 'process');
    const password = createHash('sha1').update('correct horse').digest('hex');
    const json = { 'content-type': 'application/json' };
    assert.equal(
      (
        await http('POST', `${base}/api/v1/users`, {
          headers: json,
          body: JSON.stringify({ username: 'ana', password }),
        })
      ).status,
      201,
    );
    const login = await http('POST', `${base}/api/v1/sessions`, {
      headers: json,
      body: JSON.stringify({ username: 'ana', password }),
    });
    assert.equal(login.status, 200);
    const cookie = String(login.headers['set-cookie']).split(';')[0]!;
    assert.equal((await http('GET', `${base}/api/v1/sessions/me`, { headers: { cookie } })).status, 200);
    assert.equal((await http('POST', `${base}/api/v1/categories`, { headers: json, body: '["cats"]' })).status, 201);
    // Row 15: the acts replica asks the users replica (USERS_URL from {{service:users}}).
    const act = {
      actId: 1,
      username: 'ana',
      timestamp: '01-02-2024:00-00-12',
      caption: 'hi',
      categoryName: 'cats',
      imgB64: PNG.toString('base64'),
    };
    assert.equal((await http('POST', `${base}/api/v1/acts`, { headers: json, body: JSON.stringify(act) })).status, 201);
    // Row 17: the session cookie signed by users is accepted by acts (one shared secret).
    const form = new FormData();
    form.append('image', new Blob([PNG], { type: 'image/png' }), 'dot.png');
    form.append('caption', 'from the form');
    form.append('categoryName', 'cats');
    const upload = await fetch(`${base}/api/v1/acts`, { method: 'POST', body: form, headers: { cookie } });
    assert.equal(upload.status, 201, await upload.text());
    const listed = await http('GET', `${base}/api/v1/categories/cats/acts`);
    assert.equal(listed.status, 200);
    assert.equal((JSON.parse(listed.text) as unknown[]).length, 2);
    const home = await http('GET', `${base}/`);
    assert.equal(home.status, 200);
    assert.match(String(home.headers['content-type']), /text\/html/);
    for (const file of ['replicas/users/users.sqlite', 'replicas/acts/acts.sqlite'])
      assert.ok((await stat(path.join(dataDir, file))).size > 0, file);
    assert.equal((await stat(path.join(dataDir, 'secrets.json'))).mode & 0o777, 0o600);
  });

  test('SIGKILL: the next supervisor adopts the live processes and replaces the one that died meanwhile', async () => {
    const first = running.at(-1)!;
    const before = await pids();
    first.child.kill('SIGKILL');
    await first.exited;
    const users = before.find((r) => r.port === USERS)!;
    const acts = before.find((r) => r.port === ACTS)!;
    assert.ok(alive(users.pid) && alive(acts.pid), 'replicas outlive a SIGKILLed supervisor');
    process.kill(acts.pid, 'SIGKILL'); // dies while nobody watches
    await eventually(async () => (alive(acts.pid) ? undefined : true), 'the acts process gone', 5000);

    const second = await launch();
    const status = await admin.status();
    assert.equal(status.services.users!.replicas[0]!.id, users.id, 'users adopted, same id');
    assert.notEqual(status.services.acts!.replicas[0]!.id, acts.id, 'acts replaced');
    assert.equal(status.services.acts!.replicas[0]!.port, ACTS, 'on the same port');
    const adopted = second.events('replica.adopted');
    assert.ok(adopted.some((e) => e.id === users.id && /found running/.test(String(e.reason))));
    assert.ok(adopted.some((e) => e.id === acts.id && /not running/.test(String(e.reason))));
    assert.ok(!second.events('replica.started').some((e) => e.port === USERS), 'users not started twice');
    assert.deepEqual(JSON.parse((await http('GET', `${base}/api/v1/users`)).text), ['ana'], 'data kept in dataDir');
  });

  test('SIGTERM: exits 0 and its child processes are gone', async () => {
    const sup = running.at(-1)!;
    const children = await pids();
    sup.child.kill('SIGTERM');
    assert.equal((await sup.exited).code, 0);
    await sleep(200);
    for (const r of children) assert.equal(alive(r.pid), false, `pid ${r.pid} (${r.port})`);
    assert.deepEqual(await pids(), []);
  });
});
