import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { toContainerCreateBody, toContainerInfo } from '../../engine-client/container-shapes.ts';
import { splitReference } from '../../engine-client/images.ts';

describe('container create body', () => {
  test('maps our spec to the engine’s JSON', () => {
    const body = toContainerCreateBody({
      image: 'acts:latest',
      cmd: ['node', 'app/main.ts'],
      env: { SERVICE: 'acts', PORT: '8000' },
      labels: { 'selflessacts.service': 'acts' },
      ports: [
        { containerPort: 8000, hostPort: 8001 },
        { containerPort: 9000, protocol: 'udp', hostIp: '0.0.0.0' },
      ],
      restartPolicy: { name: 'unless-stopped' },
      memoryBytes: 268435456,
      memorySwapBytes: 268435456,
      cpus: 0.5,
      extraHosts: ['host.docker.internal:host-gateway'],
      networkMode: 'selflessacts',
      networkAliases: ['acts-1'],
      binds: [
        { source: '/data', target: '/app/data' },
        { source: '/ro', target: '/ro', readOnly: true },
      ],
      user: '10001',
      stopTimeoutSeconds: 5,
    });
    assert.deepEqual(body, {
      Image: 'acts:latest',
      Cmd: ['node', 'app/main.ts'],
      Labels: { 'selflessacts.service': 'acts' },
      Env: ['SERVICE=acts', 'PORT=8000'],
      ExposedPorts: { '8000/tcp': {}, '9000/udp': {} },
      Tty: false,
      User: '10001',
      StopTimeout: 5,
      HostConfig: {
        PortBindings: {
          '8000/tcp': [{ HostIp: '127.0.0.1', HostPort: '8001' }], // 127.0.0.1 unless told otherwise
          '9000/udp': [{ HostIp: '0.0.0.0', HostPort: '' }], // "" = the engine picks
        },
        RestartPolicy: { Name: 'unless-stopped', MaximumRetryCount: 0 },
        Memory: 268435456,
        MemorySwap: 268435456,
        NanoCpus: 500000000,
        ExtraHosts: ['host.docker.internal:host-gateway'],
        NetworkMode: 'selflessacts',
        Binds: ['/data:/app/data', '/ro:/ro:ro'],
      },
      NetworkingConfig: { EndpointsConfig: { selflessacts: { Aliases: ['acts-1'] } } },
    });
  });

  test('inspect JSON with missing parts maps to safe defaults', () => {
    const info = toContainerInfo({ Id: 'abc', Name: '/x', State: { Status: 'exited', ExitCode: 1 } });
    assert.equal(info.name, 'x');
    assert.equal(info.state.exitCode, 1);
    assert.equal(info.state.running, false);
    assert.deepEqual(info.ports, []);
    assert.deepEqual(info.restartPolicy, { name: 'no', maximumRetryCount: 0 });
  });

  test('image references split into repo and tag', () => {
    assert.deepEqual(splitReference('acts'), { repo: 'acts', tag: 'latest' });
    assert.deepEqual(splitReference('acts:v2'), { repo: 'acts', tag: 'v2' });
    assert.deepEqual(splitReference('host:5000/team/acts'), { repo: 'host:5000/team/acts', tag: 'latest' });
    assert.deepEqual(splitReference('host:5000/acts:1'), { repo: 'host:5000/acts', tag: '1' });
  });
});
