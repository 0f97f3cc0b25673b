// The engine guard's decisions (supervisor/engine-guard/policy.ts): which API calls pass, and
// which container bodies are replicas. Each refused body is one an attacker holding the
// supervisor's socket would send to own the host.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { containerRefusal, insideRoots, networkRefusal, route } from '../../supervisor/engine-guard/policy.ts';

const policy = {
  bindRoots: ['/var/lib/selflessacts/replicas', '/var/lib/selflessacts/replica-secrets'],
  ownerLabel: 'selflessacts.supervisor',
};

/** What the runtime sends for a replica (engine-client's container-shapes.ts, engine-runtime.ts). */
function replica(
  change: (body: { HostConfig: Record<string, unknown> } & Record<string, unknown>) => void = () => {},
): Record<string, unknown> {
  const body = {
    Image: 'acts:latest',
    User: '10001:10001',
    Labels: { 'selflessacts.supervisor': 'selflessacts', 'selflessacts.service': 'acts' },
    Env: ['PORT=8080', 'SESSION_SECRET_FILE=/run/secrets/SESSION_SECRET'],
    HostConfig: {
      Binds: [
        '/var/lib/selflessacts/replicas/acts:/data',
        '/var/lib/selflessacts/replica-secrets/acts:/run/secrets:ro',
      ],
      Memory: 268435456,
      MemorySwap: 268435456,
      NanoCpus: 500000000,
      NetworkMode: 'selflessacts',
      CapDrop: ['ALL'],
      SecurityOpt: ['no-new-privileges'],
      ReadonlyRootfs: true,
      Tmpfs: { '/tmp': 'rw,noexec,nosuid,nodev,size=64m' },
      PidsLimit: 256,
      Init: true,
      RestartPolicy: { Name: 'no', MaximumRetryCount: 0 },
    },
  };
  change(body);
  return body;
}

describe('the engine guard: routes', () => {
  const rows: [string, string, string][] = [
    ['GET', '/_ping', 'allow'],
    ['HEAD', '/_ping', 'allow'],
    ['GET', '/v1.43/version', 'allow'],
    ['GET', '/v1.43/info', 'allow'],
    ['GET', '/v1.43/events?filters=%7B%7D', 'allow'],
    ['GET', '/v1.43/containers/json?all=1', 'allow'],
    ['POST', '/v1.43/containers/create?name=acts-8000', 'create-container'],
    ['POST', '/v1.43/containers/abc/start', 'owned-container'],
    ['POST', '/v1.43/containers/abc/stop?t=5', 'owned-container'],
    ['POST', '/v1.43/containers/abc/kill', 'owned-container'],
    ['DELETE', '/v1.43/containers/abc?force=1', 'owned-container'],
    ['GET', '/v1.43/containers/abc/json', 'owned-container'],
    ['GET', '/v1.43/containers/abc/logs?follow=1', 'owned-container'],
    ['GET', '/v1.43/containers/abc/stats?stream=false', 'owned-container'],
    ['GET', '/v1.43/networks', 'allow'],
    ['POST', '/v1.43/networks/create', 'create-network'],
    ['DELETE', '/v1.43/networks/selflessacts', 'owned-network'],
    ['GET', '/v1.43/images/json', 'allow'],
    ['GET', '/v1.43/images/acts%3Alatest/json', 'allow'],
    ['GET', '/v1.43/images/selflessacts-test%2Fecho%3Alatest/json', 'allow'],
    ['GET', '/v1.43/images/a%2F..%2Fb/json', 'deny'],
    // What the supervisor never asks, and an attacker would.
    ['POST', '/v1.43/build?t=x', 'deny'],
    ['POST', '/v1.43/images/create?fromImage=alpine', 'deny'],
    ['POST', '/v1.43/containers/abc/exec', 'deny'],
    ['POST', '/v1.43/containers/abc/attach?stream=1', 'deny'],
    ['PUT', '/v1.43/containers/abc/archive?path=/', 'deny'],
    ['GET', '/v1.43/containers/abc/archive?path=/etc', 'deny'],
    ['POST', '/v1.43/containers/abc/update', 'deny'],
    ['POST', '/v1.43/networks/x/connect', 'deny'],
    ['POST', '/v1.43/volumes/create', 'deny'],
    ['POST', '/v1.43/plugins/pull', 'deny'],
    ['POST', '/v1.43/swarm/init', 'deny'],
    ['DELETE', '/v1.43/images/acts', 'deny'],
    ['GET', '/v1.43/containers/../build', 'deny'],
    ['GET', '/v1.43/containers/a%2F..%2F..%2Fbuild/json', 'deny'],
    ['GET', '/v1.43/session', 'deny'],
  ];
  for (const [method, path, kind] of rows)
    test(`${method} ${path} → ${kind}`, () => assert.equal(route(method, path).kind, kind));
});

describe('the engine guard: a container is a replica, or is refused', () => {
  test("the runtime's replica passes, its bind sources handed over for checking", () => {
    const binds: string[] = [];
    assert.equal(containerRefusal(replica(), policy, binds), undefined);
    assert.deepEqual(binds, ['/var/lib/selflessacts/replicas/acts', '/var/lib/selflessacts/replica-secrets/acts']);
  });

  const refused: [string, (b: { HostConfig: Record<string, unknown> } & Record<string, unknown>) => void][] = [
    ['privileged', (b) => (b.HostConfig.Privileged = true)],
    ['a capability added back', (b) => (b.HostConfig.CapAdd = ['SYS_ADMIN'])],
    ['capabilities kept', (b) => (b.HostConfig.CapDrop = ['NET_RAW'])],
    ['no no-new-privileges', (b) => (b.HostConfig.SecurityOpt = [])],
    ['seccomp off', (b) => (b.HostConfig.SecurityOpt = ['no-new-privileges', 'seccomp=unconfined'])],
    ['apparmor off', (b) => (b.HostConfig.SecurityOpt = ['no-new-privileges', 'apparmor=unconfined'])],
    ['a writable root', (b) => (b.HostConfig.ReadonlyRootfs = false)],
    ['root', (b) => (b.User = '0:0')],
    ['root by name', (b) => (b.User = 'root')],
    ["no user (the image's: root)", (b) => delete b.User],
    ['the root group', (b) => (b.User = '10001:0')],
    ['a supplementary group', (b) => (b.HostConfig.GroupAdd = ['docker'])],
    ['the host network', (b) => (b.HostConfig.NetworkMode = 'host')],
    ["another container's network", (b) => (b.HostConfig.NetworkMode = 'container:abc')],
    ['the host pid namespace', (b) => (b.HostConfig.PidMode = 'host')],
    ['the host ipc namespace', (b) => (b.HostConfig.IpcMode = 'host')],
    ['the host user namespace', (b) => (b.HostConfig.UsernsMode = 'host')],
    [
      'a device',
      (b) =>
        (b.HostConfig.Devices = [{ PathOnHost: '/dev/sda', PathInContainer: '/dev/sda', CgroupPermissions: 'rwm' }]),
    ],
    ['a GPU', (b) => (b.HostConfig.DeviceRequests = [{ Count: -1 }])],
    ['sysctls', (b) => (b.HostConfig.Sysctls = { 'kernel.core_pattern': '|/x' })],
    ['a bind mount in Mounts', (b) => (b.HostConfig.Mounts = [{ Type: 'bind', Source: '/', Target: '/host' }])],
    ['a volume', (b) => (b.HostConfig.Mounts = [{ Type: 'volume', Source: 'x', Target: '/x' }])],
    ['shared mount propagation', (b) => (b.HostConfig.Binds = ['/var/lib/selflessacts/replicas/acts:/data:rshared'])],
    ['a relative bind', (b) => (b.HostConfig.Binds = ['replicas:/data'])],
    ['a named volume in Binds', (b) => (b.HostConfig.Binds = ['docker-data:/data'])],
    ['no pids limit', (b) => delete b.HostConfig.PidsLimit],
    ['no memory limit', (b) => delete b.HostConfig.Memory],
    ['the OOM killer off', (b) => (b.HostConfig.OomKillDisable = true)],
    ['another runtime', (b) => (b.HostConfig.Runtime = 'nvidia')],
    ['volumes from another container', (b) => (b.HostConfig.VolumesFrom = ['db'])],
    ['not ours (no owner label)', (b) => (b.Labels = {})],
    ['no HostConfig', (b) => delete (b as Record<string, unknown>).HostConfig],
  ];
  for (const [what, change] of refused) {
    test(`refused: ${what}`, () => assert.notEqual(containerRefusal(replica(change), policy), undefined));
  }

  test('bind sources are checked against the roots (links resolved by the caller)', () => {
    assert.ok(insideRoots('/var/lib/selflessacts/replicas/acts', policy.bindRoots));
    assert.ok(!insideRoots('/', policy.bindRoots));
    assert.ok(!insideRoots('/var/lib/selflessacts/replicas-evil', policy.bindRoots), 'a sibling with the same prefix');
    assert.ok(!insideRoots('/var/lib/selflessacts', policy.bindRoots));
  });
});

describe('the engine guard: networks', () => {
  test('a plain bridge of ours passes; a macvlan, options or one not ours do not', () => {
    const ours = { Name: 'selflessacts', Driver: 'bridge', Labels: { 'selflessacts.network': 'true' } };
    assert.equal(networkRefusal(ours, policy), undefined);
    assert.notEqual(networkRefusal({ ...ours, Driver: 'macvlan' }, policy), undefined);
    assert.notEqual(
      networkRefusal({ ...ours, Options: { 'com.docker.network.bridge.name': 'eth0' } }, policy),
      undefined,
    );
    assert.notEqual(networkRefusal({ Name: 'x', Driver: 'bridge' }, policy), undefined);
  });
});
