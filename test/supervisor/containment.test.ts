// Replicas held in by default (hostile-clients finding 5): a started replica is inspected and
// each item checked — every capability dropped, no privilege gain, a read-only root with a
// tmpfs on /tmp, a pids limit, no swap beyond memory, one data directory per service (acts cannot
// reach users.sqlite), the session secret as a file only the replica's user can read, not an
// environment variable. The same app then signs up, logs in and uploads a photo through the
// balancer: the containment costs it nothing. Then the process runtime: its own data directory
// per service, the secret as a file. And the supervisor through the engine guard. Real acts and
// users images, shipped config. Ports 34100-34199.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { realpathSync, symlinkSync } from 'node:fs';
import { mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { silentLogger } from '../../supervisor/core/log.ts';
import { EngineGuard } from '../../supervisor/engine-guard/server.ts';
import { TEST_ENGINE } from '../../testkit/engine.ts';
import { photoJpeg } from '../../testkit/photos.ts';
import { shippedConfigFile, shippedSetup } from '../../testkit/shipped-config.ts';
import { http, instanceName, supervisorSuite, type SupervisorSuite } from '../../testkit/supervisor.ts';
import { skipUnlessEngine } from '../helpers/requirements.ts';

const sha1 = (s: string) => createHash('sha1').update(s).digest('hex');

/** Sign-up, log-in and a photo upload through the balancer: the app works as contained. */
async function theAppWorks(base: string): Promise<void> {
  const origin = { origin: base, 'content-type': 'application/json' };
  assert.equal(
    (
      await http('POST', `${base}/api/v1/users`, {
        headers: origin,
        body: JSON.stringify({ username: 'cora', password: sha1('pw') }),
      })
    ).status,
    201,
  );
  const login = await http('POST', `${base}/api/v1/sessions`, {
    headers: origin,
    body: JSON.stringify({ username: 'cora', password: sha1('pw') }),
  });
  assert.equal(login.status, 200);
  const cookie = ([login.headers['set-cookie']].flat() as string[]).map((c) => c.split(';')[0]).join('; ');
  assert.equal(
    (await http('POST', `${base}/api/v1/categories`, { headers: { ...origin, cookie }, body: '["contained"]' })).status,
    201,
  );
  const photo = await photoJpeg({ width: 1600, height: 1200, seed: 3 });
  const boundary = 'containment-boundary';
  const body = Buffer.concat([
    Buffer.from(
      `--${boundary}\r\nContent-Disposition: form-data; name="caption"\r\n\r\ninside\r\n--${boundary}\r\nContent-Disposition: form-data; name="categoryName"\r\n\r\ncontained\r\n`,
    ),
    Buffer.from(
      `--${boundary}\r\nContent-Disposition: form-data; name="image"; filename="p.jpg"\r\nContent-Type: image/jpeg\r\n\r\n`,
    ),
    photo,
    Buffer.from(`\r\n--${boundary}--\r\n`),
  ]);
  const upload = await http('POST', `${base}/api/v1/acts`, {
    headers: { origin: base, cookie, 'content-type': `multipart/form-data; boundary=${boundary}` },
    body,
  });
  assert.equal(upload.status, 201, upload.text);
}

describe(`containment of ${TEST_ENGINE.title} replicas`, { skip: await skipUnlessEngine(), timeout: 300_000 }, () => {
  const engine = TEST_ENGINE.client();
  const suite: SupervisorSuite = supervisorSuite(
    shippedSetup(engine, {
      suite: 'containment',
      listenPort: 34100,
      adminPort: 34101,
      actsPort: 34110,
      usersPort: 34130,
    }),
  );

  test('each replica: no capabilities, no privilege gain, read-only root, tmpfs /tmp, a pids limit, swap = memory', async () => {
    const containers = await engine.containers.list({
      labels: { 'selflessacts.supervisor': instanceName('containment') },
    });
    assert.equal(containers.length, 2);
    for (const c of containers) {
      const info = await engine.containers.inspect(c.id);
      const service = info.labels['selflessacts.service']!;
      // Docker keeps ["ALL"]; Podman lists every capability a container would otherwise get.
      const dropped = info.capDrop.map((x) => x.toUpperCase().replace(/^CAP_/, ''));
      const defaults = [
        'AUDIT_WRITE',
        'CHOWN',
        'DAC_OVERRIDE',
        'FOWNER',
        'FSETID',
        'KILL',
        'MKNOD',
        'NET_BIND_SERVICE',
        'NET_RAW',
        'SETFCAP',
        'SETGID',
        'SETPCAP',
        'SETUID',
        'SYS_CHROOT',
      ];
      assert.ok(
        dropped.includes('ALL') || defaults.every((c) => dropped.includes(c)),
        `${service}: CapDrop ${dropped.join(' ')}`,
      );
      assert.deepEqual(
        ((info.raw as { HostConfig?: { CapAdd?: unknown } }).HostConfig?.CapAdd ?? []) as unknown[],
        [],
        `${service}: none added`,
      );
      assert.ok(
        info.securityOpt.some((o) => /^no-new-privileges(:true|=true)?$/.test(o)),
        `${service}: SecurityOpt ${info.securityOpt.join(' ')}`,
      );
      assert.equal(info.readonlyRootfs, true, `${service}: ReadonlyRootfs`);
      assert.match(info.tmpfs['/tmp'] ?? '', /noexec/, `${service}: a tmpfs on /tmp`);
      assert.equal(info.pidsLimit, 256, `${service}: PidsLimit`);
      assert.ok(
        info.memoryBytes > 0 && info.memorySwapBytes === info.memoryBytes,
        `${service}: MemorySwap ${info.memorySwapBytes} = Memory ${info.memoryBytes}`,
      );
      assert.notEqual(info.user, '', `${service}: a user of its own`);
      assert.ok(!/^(0|root)(:|$)/.test(info.user), `${service}: not root`);
    }
  });

  test('one data directory per service: acts cannot reach users.sqlite; the secret is a file, not an environment variable', async () => {
    const containers = await engine.containers.list({
      labels: { 'selflessacts.supervisor': instanceName('containment') },
    });
    const dataDir = path.join(suite.dir, 'data');
    for (const c of containers) {
      const info = await engine.containers.inspect(c.id);
      const service = info.labels['selflessacts.service']!;
      const data = info.binds.find((b) => b.split(':')[1] === '/data')!;
      assert.equal(data.split(':')[0], path.join(dataDir, 'replicas', service), `${service}: its own data directory`);
      const secrets = info.binds.find((b) => b.split(':')[1] === '/run/secrets')!;
      assert.ok(secrets, `${service}: its secrets mounted`);
      assert.match(secrets, /:ro(,|$)/, `${service}: read-only`);
      assert.equal(info.env.SESSION_SECRET, undefined, `${service}: no SESSION_SECRET in its environment`);
      assert.equal(info.env.SESSION_SECRET_FILE, '/run/secrets/SESSION_SECRET');
      const file = path.join(dataDir, 'replica-secrets', service, 'SESSION_SECRET');
      const mode = await stat(file);
      assert.equal(mode.mode & 0o777, 0o400, `${service}: the secret file is its user's alone`);
      assert.equal(`${mode.uid}:${mode.gid}`, info.user, `${service}: owned by the replica's user`);
    }
    assert.deepEqual(
      (await readdir(path.join(dataDir, 'replicas', 'acts'))).filter((f) => f.startsWith('users')),
      [],
    );
    assert.ok((await readdir(path.join(dataDir, 'replicas', 'users'))).includes('users.sqlite'));
    assert.equal((await stat(path.join(dataDir, 'replicas', 'users'))).mode & 0o777, 0o700);
  });

  test('the app works as contained: sign-up, log-in, a photo with its variants', async () => {
    await theAppWorks('http://127.0.0.1:34100');
  });
});

describe('the process runtime: a data directory per service, the secret as a file', { timeout: 300_000 }, () => {
  const suite = supervisorSuite({
    suite: 'containment-process',
    adminPort: 34151,
    config: (dir) =>
      shippedConfigFile(undefined, {
        suite: 'containment-process',
        dir,
        listenPort: 34150,
        adminPort: 34151,
        actsPort: 34160,
        usersPort: 34180,
      }),
    ready: { acts: 1, users: 1 },
    readyTimeoutMs: 120_000,
  });

  test('users.sqlite only in users/, the secret 0400 and named by SESSION_SECRET_FILE; the app works', async () => {
    await theAppWorks('http://127.0.0.1:34150');
    const dataDir = path.join(suite.dir, 'data');
    assert.ok((await readdir(path.join(dataDir, 'replicas', 'users'))).includes('users.sqlite'));
    assert.ok((await readdir(path.join(dataDir, 'replicas', 'acts'))).includes('acts.sqlite'));
    assert.deepEqual((await readdir(path.join(dataDir, 'replicas'))).sort(), ['acts', 'users']);
    const status = await suite.admin.status();
    for (const service of ['users', 'acts']) {
      assert.equal((await stat(path.join(dataDir, 'replica-secrets', service, 'SESSION_SECRET'))).mode & 0o777, 0o400);
      const replica = status.services[service]!.replicas[0]!;
      const pid = (
        JSON.parse(
          await readFile(path.join(dataDir, `process-replicas-${instanceName('containment-process')}.json`), 'utf8'),
        ) as { replicas: { id: string; pid: number }[] }
      ).replicas.find((r) => r.id === replica.id)!.pid;
      const environ = (await readFile(`/proc/${pid}/environ`, 'utf8')).split('\0');
      assert.ok(
        !environ.some((e) => e.startsWith('SESSION_SECRET=')),
        `${service}: no SESSION_SECRET in its environment`,
      );
      assert.ok(
        environ.includes(`SESSION_SECRET_FILE=${path.join(dataDir, 'replica-secrets', service, 'SESSION_SECRET')}`),
      );
    }
  });
});

/** A request on a unix socket: the status and the body. */
function onSocket(
  socketPath: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const req = httpRequest(
      {
        socketPath,
        method,
        path,
        headers: payload ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } : {},
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8').on('data', (c: string) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

// The engine guard (supervisor/engine-guard) in front of the engine: the supervisor runs its
// replicas through it, and what an attacker holding the supervisor's socket would ask to own
// the host is refused (hostile-clients finding 6). The production layout (the guard as root, the
// service user outside the docker group) is tested under systemd in test/deploy.
describe(`the supervisor through the engine guard (${TEST_ENGINE.title})`, {
  skip: await skipUnlessEngine(),
  timeout: 300_000,
}, () => {
  const engine = TEST_ENGINE.client();
  let guard: EngineGuard;
  let guardDir = '';
  let socket = '';
  before(async () => {
    guardDir = await mkdtemp(path.join(tmpdir(), 'sa-guard-'));
    socket = path.join(guardDir, 'engine.sock');
    guard = new EngineGuard({
      listen: socket,
      engine: TEST_ENGINE.socketPath,
      policy: { bindRoots: [realpathSync(tmpdir())], ownerLabel: 'selflessacts.supervisor' },
      logger: silentLogger,
    });
    await guard.listen();
  });
  const suite = supervisorSuite({
    ...shippedSetup(engine, {
      suite: 'containment-guard',
      listenPort: 34170,
      adminPort: 34171,
      actsPort: 34175,
      usersPort: 34190,
    }),
    config: async (dir) => {
      const file = await shippedConfigFile(engine, {
        suite: 'containment-guard',
        dir,
        listenPort: 34170,
        adminPort: 34171,
        actsPort: 34175,
        usersPort: 34190,
      });
      const config = JSON.parse(await readFile(file, 'utf8')) as { runtimes: Record<string, Record<string, unknown>> };
      config.runtimes[TEST_ENGINE.name]!.socket = socket;
      await writeFile(file, JSON.stringify(config));
      return file;
    },
  });
  // After the supervisor has stopped (and removed its replicas through the guard).
  after(async () => {
    await guard?.close();
    await rm(guardDir, { recursive: true, force: true });
  });

  test('replicas start, serve and are held in, all through the guard', async () => {
    assert.equal((await suite.admin.status()).runtime, TEST_ENGINE.name);
    await theAppWorks('http://127.0.0.1:34170');
    const mine = await engine.containers.list({
      labels: { 'selflessacts.supervisor': instanceName('containment-guard') },
    });
    assert.equal(mine.length, 2);
    for (const c of mine) assert.equal((await engine.containers.inspect(c.id)).readonlyRootfs, true);
  });

  test('refused: a privileged container, / mounted, a link out of the roots, a build, an exec, a container not ours', async () => {
    const base = {
      Image: 'users:latest',
      User: '10001:10001',
      Labels: { 'selflessacts.supervisor': 'attacker' },
      HostConfig: {
        CapDrop: ['ALL'],
        SecurityOpt: ['no-new-privileges'],
        ReadonlyRootfs: true,
        PidsLimit: 64,
        Memory: 64 * 2 ** 20,
      },
    };
    const link = path.join(suite.dir, 'data', 'replicas', 'escape');
    symlinkSync('/', link);
    const attempts: [string, string, string, unknown][] = [
      [
        'privileged',
        'POST',
        '/v1.43/containers/create',
        { ...base, HostConfig: { ...base.HostConfig, Privileged: true } },
      ],
      ['root', 'POST', '/v1.43/containers/create', { ...base, User: '0:0' }],
      [
        '/ mounted',
        'POST',
        '/v1.43/containers/create',
        { ...base, HostConfig: { ...base.HostConfig, Binds: ['/:/host'] } },
      ],
      [
        'the engine socket mounted',
        'POST',
        '/v1.43/containers/create',
        { ...base, HostConfig: { ...base.HostConfig, Binds: [`${TEST_ENGINE.socketPath}:/var/run/docker.sock`] } },
      ],
      [
        'a link to / inside the roots',
        'POST',
        '/v1.43/containers/create',
        { ...base, HostConfig: { ...base.HostConfig, Binds: [`${link}:/host`] } },
      ],
      [
        'a capability back',
        'POST',
        '/v1.43/containers/create',
        { ...base, HostConfig: { ...base.HostConfig, CapAdd: ['SYS_ADMIN'] } },
      ],
      [
        'the host pid namespace',
        'POST',
        '/v1.43/containers/create',
        { ...base, HostConfig: { ...base.HostConfig, PidMode: 'host' } },
      ],
      ['a build', 'POST', '/v1.43/build', undefined],
      ['a pull', 'POST', '/v1.43/images/create?fromImage=alpine', undefined],
    ];
    for (const [what, method, url, body] of attempts) {
      const reply = await onSocket(socket, method, url, body);
      assert.equal(reply.status, 403, `${what}: ${reply.status} ${reply.text}`);
      assert.match(JSON.parse(reply.text).message, /^engine guard: /);
    }
    // A container of someone else on the same engine: the guard will not stop, remove or read it.
    const other = await engine.containers.create({
      image: 'users:latest',
      labels: { 'selflessacts.test': 'containment-guard' },
    });
    try {
      for (const [method, url] of [
        ['POST', `/v1.43/containers/${other.id}/stop`],
        ['DELETE', `/v1.43/containers/${other.id}?force=1`],
        ['GET', `/v1.43/containers/${other.id}/logs?stdout=1`],
        ['POST', `/v1.43/containers/${other.id}/exec`],
      ] as const) {
        assert.equal((await onSocket(socket, method, url)).status, 403, `${method} ${url}`);
      }
      assert.ok(await engine.containers.inspect(other.id), 'still there');
    } finally {
      await engine.containers.remove(other.id, { force: true });
    }
    // And what the supervisor does ask still passes.
    assert.equal((await onSocket(socket, 'GET', '/_ping')).status, 200);
  });
});
