// scripts/aws-setup.sh under a real systemd: a Debian 12 container (the chroot test's
// debootstrap base) booted with /sbin/init, where the script takes the two paths the chroot
// cannot: Node.js from NodeSource's repository (a stand-in on file://, signed, built by
// nodesource-repo.ts: Debian 12 ships Node 18) and start-and-wait (it starts
// selflessacts.service and waits until the balancer answers on port 80; with a broken config it
// gives up with the unit's status and journal). Docker cannot run in an unprivileged container:
// a drop-in turns docker.service into a no-op and gives docker.socket no socket. The host's
// engine socket is mounted at /run/host-engine.sock for the engine guard alone (a drop-in points
// it there; at /var/run/docker.sock the service's image build would build on the host), which
// then shows what the service's user can and cannot do (the replicas run as processes,
// RUNTIME=process in the env file: containers on the host's engine would not see this root).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { eventually } from '../../testkit/eventually.ts';
import { dockerAvailable, dockerSocketPath, skipUnless } from '../helpers/requirements.ts';
import { baseTarball, checkoutFiles, registryTrust } from './chroot.ts';
import { repoRoot, run, type RunResult } from './exec.ts';
import { buildNodesourceRepo, type NodesourceRepo } from './nodesource-repo.ts';

const LABEL = 'selflessacts.test=aws-setup-systemd';
const NAME = 'sa-test-aws-setup-systemd';
const IMAGE = 'selflessacts-test/debian12-systemd:v1';
const SOURCE = '/root/selflessacts';
const REPO = 'file:///root/nodesource/node_24.x';
const DROP_INS: Record<string, string> = {
  '/etc/systemd/system/docker.service.d/test-no-docker.conf':
    '[Service]\nType=simple\nExecStart=\nExecStart=/bin/sleep infinity\n',
  '/etc/systemd/system/docker.socket.d/test-no-docker.conf':
    '[Socket]\nListenStream=\nListenStream=/run/test-no-docker/unused.sock\n',
  '/etc/systemd/system/selflessacts-engine-guard.service.d/test-host-engine.conf':
    '[Service]\nExecStart=\nExecStart=/usr/bin/env node supervisor engine-guard --listen /run/selflessacts-engine/engine.sock --engine /run/host-engine.sock --bind-root /var/lib/selflessacts/replicas --bind-root /var/lib/selflessacts/replica-secrets\n',
};

let skip: string | false = skipUnless(await dockerAvailable(), 'Docker Engine');
skip ||= skipUnless(
  { missing: process.getuid?.() === 0 ? undefined : 'the base is built with debootstrap as root' },
  'root',
);

async function docker(args: string[], options: { input?: string; timeoutMs?: number } = {}): Promise<RunResult> {
  return run('docker', args, {
    timeoutMs: options.timeoutMs ?? 120_000,
    ...(options.input === undefined ? {} : { input: options.input }),
  });
}

async function must(result: Promise<RunResult>, what: string): Promise<RunResult> {
  const r = await result;
  assert.equal(r.code, 0, `${what}:\n${r.output.slice(-4000)}`);
  return r;
}

/** A command inside the container, as root, with `env`. */
function inside(argv: string[], env: Record<string, string> = {}, timeoutMs = 120_000): Promise<RunResult> {
  return docker(['exec', ...Object.entries(env).flatMap(([k, v]) => ['-e', `${k}=${v}`]), NAME, ...argv], {
    timeoutMs,
  });
}

describe('aws-setup.sh under systemd: NodeSource path, start and wait', { skip, timeout: 900_000 }, () => {
  let repo: NodesourceRepo | undefined;
  const env: Record<string, string> = {};

  before(async () => {
    await docker(['rm', '-f', NAME]);
    const tarball = await baseTarball((line) => console.log(`# ${line}`));
    if ((await docker(['image', 'inspect', IMAGE])).code !== 0) {
      await must(
        docker(['import', '--change', `LABEL ${LABEL}`, tarball, IMAGE], { timeoutMs: 300_000 }),
        'docker import',
      );
    }
    await must(
      docker([
        'run',
        '-d',
        '--name',
        NAME,
        '--label',
        LABEL,
        '--hostname',
        'fresh-vm',
        '--cap-add',
        'SYS_ADMIN',
        '--security-opt',
        'seccomp=unconfined',
        '-v',
        '/sys/fs/cgroup:/sys/fs/cgroup:ro',
        '--tmpfs',
        '/run',
        '--tmpfs',
        '/run/lock',
        '-v',
        `${dockerSocketPath()}:/run/host-engine.sock`,
        '-e',
        'container=docker',
        IMAGE,
        '/sbin/init',
      ]),
      'docker run',
    );
    // Until systemd's bus exists, systemctl cannot even ask; then it waits for the boot to end.
    await eventually(
      async () => {
        const r = await docker(['exec', NAME, 'systemctl', 'is-system-running', '--wait'], { timeoutMs: 120_000 });
        return /^(running|degraded)$/m.test(r.stdout) ? true : undefined;
      },
      'systemd booted in the container',
      120_000,
      500,
    );
    for (const [file, text] of Object.entries(DROP_INS)) {
      await must(
        docker(['exec', '-i', NAME, 'bash', '-c', 'mkdir -p "$(dirname "$1")" && cat > "$1"', '-', file], {
          input: text,
        }),
        `writing ${file}`,
      );
    }
    // The administrator's own line, kept by the script: replicas as processes (see above).
    await must(
      inside([
        'bash',
        '-c',
        'mkdir -p /etc/selflessacts && printf "RUNTIME=process\\n" > /etc/selflessacts/selflessacts.env',
      ]),
      'the env file',
    );
    // The admin's clone, and the repository the script is pointed at.
    const files = await checkoutFiles();
    await must(inside(['mkdir', '-p', SOURCE]), 'mkdir');
    await must(
      run(
        'bash',
        ['-c', `tar -C "$1" --null -T - -cf - | docker exec -i ${NAME} tar -C ${SOURCE} -xf -`, '-', repoRoot],
        { input: files.join('\0'), timeoutMs: 120_000 },
      ),
      'copying the checkout',
    );
    repo = await buildNodesourceRepo();
    await must(docker(['cp', repo.dir, `${NAME}:/root/nodesource`], { timeoutMs: 300_000 }), 'copying the repository');
    for (const { file, name, variable } of await registryTrust()) {
      await must(docker(['cp', file, `${NAME}:/root/${name}`]), `copying ${variable}`);
      env[variable] = `/root/${name}`;
    }
  });

  after(async () => {
    await docker(['rm', '-f', NAME]);
    await repo?.dispose();
  });

  test('a fresh VM: Node.js from the NodeSource repository, the service started and answering on port 80', async () => {
    assert.notEqual((await inside(['bash', '-c', 'command -v node'])).code, 0, 'no node before the script');
    const result = await inside(['bash', `${SOURCE}/scripts/aws-setup.sh`, '--node-repo', REPO], env, 840_000);
    assert.equal(result.code, 0, result.output.slice(-6000));
    const out = result.stdout;
    assert.match(out, /the distribution offers nodejs 18\.[\d.]+; adding file:\/\/\/root\/nodesource\/node_24\.x/);
    assert.match(
      out,
      /change {2}add the Node\.js apt repository file:\/\/\/root\/nodesource\/node_24\.x and install nodejs/,
    );
    assert.match(out, /waiting for http:\/\/127\.0\.0\.1:80\/api\/v1\/_health/);
    assert.match(out, /ok {6}http:\/\/127\.0\.0\.1:80\/api\/v1\/_health answers/);
    assert.match(out, /Done: \d+ change\(s\)\. SelfLessActs answers on port 80\./);
    // Node came from that repository, signed by its key, and is the one the service runs.
    assert.equal((await inside(['dpkg-query', '-W', '-f=${Version}', 'nodejs'])).stdout, repo!.version);
    assert.equal((await inside(['node', '--version'])).stdout.trim(), `v${process.versions.node}`);
    assert.match(
      (await inside(['cat', '/etc/apt/sources.list.d/nodesource.list'])).stdout,
      /^deb \[signed-by=\/etc\/apt\/keyrings\/nodesource\.gpg\] file:\/\/\/root\/nodesource\/node_24\.x nodistro main$/m,
    );
    // The service under systemd: active, as its user, answering through the balancer.
    assert.equal((await inside(['systemctl', 'is-active', 'selflessacts.service'])).stdout.trim(), 'active');
    const health = await inside([
      'curl',
      '-fsS',
      '-o',
      '/dev/null',
      '-w',
      '%{http_code}',
      'http://127.0.0.1:80/api/v1/_health',
    ]);
    assert.equal(health.stdout, '200', health.output);
    const pid = (await inside(['systemctl', 'show', '-p', 'MainPID', '--value', 'selflessacts.service'])).stdout.trim();
    assert.equal((await inside(['ps', '-o', 'user=', '-p', pid])).stdout.trim(), 'selflessacts');
  });

  test('the service holds no keys to the host: no docker group, no engine socket; through the guard, no privileged container and no / mounted', async () => {
    assert.doesNotMatch((await inside(['id', '-nG', 'selflessacts'])).stdout, /\bdocker\b/);
    assert.equal(
      (await inside(['systemctl', 'is-active', 'selflessacts-engine-guard.service'])).stdout.trim(),
      'active',
    );
    /** curl as `user`: its exit code, the status (000 when it could not connect), the body and curl's complaint. */
    const as = async (user: string, ...curl: string[]) => {
      const r = await inside(['runuser', '-u', user, '--', 'curl', '-sS', '-w', '\\n%{http_code}', ...curl]);
      const at = r.stdout.lastIndexOf('\n');
      return {
        code: r.code,
        status: r.stdout.slice(at + 1),
        body: r.stdout.slice(0, Math.max(0, at)),
        output: r.output,
      };
    };
    // The engine's own socket: not the service's to open.
    const direct = await as('selflessacts', '--unix-socket', '/run/host-engine.sock', 'http://engine/_ping');
    assert.notEqual(direct.code, 0, `the service user reached the engine directly: ${direct.output}`);
    assert.match(direct.output, /Permission denied|Couldn't connect/);
    // The guard's socket: the service's, and nobody else's.
    const guard = '/run/selflessacts-engine/engine.sock';
    assert.equal((await as('selflessacts', '--unix-socket', guard, 'http://engine/_ping')).status, '200');
    assert.notEqual(
      (await as('nobody', '--unix-socket', guard, 'http://engine/_ping')).code,
      0,
      'another user reached the guard',
    );
    const replica = {
      Image: 'users:latest',
      User: '999:999',
      Labels: { 'selflessacts.supervisor': 'attacker' },
      HostConfig: {
        CapDrop: ['ALL'],
        SecurityOpt: ['no-new-privileges'],
        ReadonlyRootfs: true,
        PidsLimit: 64,
        Memory: 67108864,
      },
    };
    const attempts: [string, unknown][] = [
      ['privileged', { ...replica, HostConfig: { ...replica.HostConfig, Privileged: true } }],
      ['/ mounted', { ...replica, HostConfig: { ...replica.HostConfig, Binds: ['/:/host'] } }],
      ['root', { ...replica, User: '0:0' }],
      [
        'the engine socket mounted',
        { ...replica, HostConfig: { ...replica.HostConfig, Binds: ['/run/host-engine.sock:/var/run/docker.sock'] } },
      ],
    ];
    for (const [what, body] of attempts) {
      const r = await as(
        'selflessacts',
        '--unix-socket',
        guard,
        '-X',
        'POST',
        '-H',
        'Content-Type: application/json',
        '-d',
        JSON.stringify(body),
        'http://engine/v1.43/containers/create',
      );
      assert.equal(r.status, '403', `${what}: ${r.output}`);
      assert.match(r.body, /engine guard: /);
    }
    assert.equal(
      (await as('selflessacts', '--unix-socket', guard, '-X', 'POST', 'http://engine/v1.43/build')).status,
      '403',
    );
  });

  test('a service that cannot start: the script gives up within --wait with the unit status and journal', async () => {
    await must(inside(['systemctl', 'stop', 'selflessacts.service']), 'stop');
    const config = '/etc/selflessacts/orchestrator.json';
    await must(
      inside([
        'bash',
        '-c',
        `sed -i 's/"intervalMs": 1000/"intervalMs": -5/' ${config} && grep -q '"intervalMs": -5' ${config}`,
      ]),
      'breaking the config',
    );
    const started = Date.now();
    const result = await inside(
      ['bash', `${SOURCE}/scripts/aws-setup.sh`, '--node-repo', REPO, '--wait', '30'],
      env,
      300_000,
    );
    assert.equal(result.code, 1, result.output.slice(-4000));
    assert.ok(Date.now() - started < 240_000);
    assert.match(
      result.stderr,
      /selflessacts\.service did not answer on http:\/\/127\.0\.0\.1:80\/api\/v1\/_health within 30s/,
    );
    assert.match(result.output, /heartbeat\.intervalMs/, 'the journal lines name the bad key');
  });
});
