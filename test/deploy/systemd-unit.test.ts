// deploy/selflessacts.service: systemd's own verifier and exposure analysis, and the
// directives the deployment depends on, checked against the config and the setup script.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { skipUnless } from '../helpers/requirements.ts';
import { repoRoot, run, toolAvailable } from './exec.ts';
import { parseUnit } from './unit-file.ts';

const UNIT = path.join(repoRoot, 'deploy/selflessacts.service');
const skip = skipUnless(await toolAvailable('systemd-analyze', 'apt-get install systemd'), 'systemd-analyze');

async function withUnitCopy<T>(text: string, fn: (file: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(path.join(tmpdir(), 'selflessacts-unit-'));
  try {
    const file = path.join(dir, 'selflessacts.service');
    await writeFile(file, text);
    return await fn(file);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

describe('deploy/selflessacts.service', () => {
  test('passes systemd-analyze verify with no warning', { skip }, async () => {
    const r = await run('systemd-analyze', ['verify', UNIT]);
    assert.equal(r.code, 0, r.output);
    assert.equal(r.stderr.trim(), '', r.stderr);
  });

  test('the verifier does fail a broken unit (the check can fail)', { skip }, async () => {
    const broken = (await readFile(UNIT, 'utf8')).replace(
      'ExecStart=/usr/bin/env',
      'ExecStart=/usr/bin/no-such-binary',
    );
    const r = await withUnitCopy(broken, (file) => run('systemd-analyze', ['verify', file]));
    assert.notEqual(r.code, 0, r.output);
    assert.match(r.stderr, /no-such-binary is not executable/);
  });

  test("systemd's exposure analysis rates it OK (at most 2.5 of 10)", { skip }, async () => {
    const r = await run('systemd-analyze', ['security', '--offline=yes', '--no-pager', UNIT]);
    const level = /Overall exposure level for selflessacts\.service: ([\d.]+)/.exec(r.stdout);
    assert.ok(level, r.output);
    assert.ok(Number(level[1]) <= 2.5, `exposure ${level[1]}`);
  });

  test('runs the supervisor as a non-root user with the files aws-setup.sh installs', async () => {
    const unit = parseUnit(await readFile(UNIT, 'utf8'));
    const setup = await readFile(path.join(repoRoot, 'scripts/aws-setup.sh'), 'utf8');
    const one = (key: string) => {
      const values = unit.get(key);
      assert.equal(values?.length, 1, `${key}: ${JSON.stringify(values)}`);
      return values[0]!;
    };
    assert.equal(one('Service.User'), 'selflessacts');
    assert.match(setup, /readonly SERVICE_USER=selflessacts$/m);
    assert.equal(one('Service.EnvironmentFile'), '/etc/selflessacts/selflessacts.env');
    assert.match(setup, /readonly CONF_DIR=\/etc\/selflessacts$/m);
    assert.match(setup, /readonly ENV_FILE=\$CONF_DIR\/selflessacts\.env$/m);
    assert.match(setup, /readonly CONFIG_FILE=\$CONF_DIR\/orchestrator\.json$/m);
    assert.equal(one('Service.WorkingDirectory'), '/opt/selflessacts');
    assert.match(setup, /readonly APP_DIR=\/opt\/selflessacts$/m);

    // Plain node, no TypeScript loader: the supervisor's bundle, and images.ts by Node's own type stripping.
    const start = one('Service.ExecStart').split(' ');
    assert.deepEqual(start.slice(0, 4), ['/usr/bin/env', 'node', 'supervisor', 'start']);
    assert.ok(existsSync(path.join(repoRoot, start[2]!, 'index.js')), `${start[2]}/index.js does not exist`);
    assert.deepEqual(start.slice(4), ['--config', '/etc/selflessacts/orchestrator.json']);
    // Images are built as root ("+") on the engine's own socket: the guard passes no build.
    const pre = one('Service.ExecStartPre').split(' ');
    assert.deepEqual(pre.slice(0, 3), ['+/usr/bin/env', 'DOCKER_HOST=unix:///var/run/docker.sock', 'node']);
    assert.ok(existsSync(path.join(repoRoot, pre[3]!)), `${pre[3]} does not exist`);
    assert.match(await readFile(path.join(repoRoot, pre[3]!), 'utf8'), /--if-missing/);
    // The service itself reaches the engine through the guard only.
    assert.ok(unit.get('Service.Environment')?.includes('DOCKER_HOST=unix:///run/selflessacts-engine/engine.sock'));
    assert.ok(unit.get('Unit.Wants')?.some((w) => w.split(' ').includes('selflessacts-engine-guard.service')));

    // The data directory the supervisor writes is the one systemd makes writable.
    assert.ok(unit.get('Service.Environment')?.includes('DATA_DIR=/var/lib/selflessacts'));
    assert.equal(one('Service.StateDirectory'), 'selflessacts');
    assert.equal(one('Service.ReadWritePaths'), '/var/lib/selflessacts');
    assert.equal(one('Service.ProtectSystem'), 'strict');
  });

  test('stops with SIGTERM to the supervisor alone, with time to drain its replicas', async () => {
    const unit = parseUnit(await readFile(UNIT, 'utf8'));
    const config = JSON.parse(await readFile(path.join(repoRoot, 'config/orchestrator.json'), 'utf8')) as {
      drainTimeoutMs: number;
      stopGraceSeconds: number;
    };
    assert.deepEqual(unit.get('Service.KillSignal'), ['SIGTERM']);
    assert.deepEqual(unit.get('Service.KillMode'), ['mixed']);
    assert.deepEqual(unit.get('Service.Restart'), ['on-failure']);
    const stopSeconds = Number(unit.get('Service.TimeoutStopSec')?.[0]);
    const needed = config.drainTimeoutMs / 1000 + config.stopGraceSeconds;
    assert.ok(stopSeconds >= 2 * needed, `TimeoutStopSec=${stopSeconds} < 2 × (drain + grace) = ${2 * needed}`);
  });

  test('hardening that the supervisor is compatible with', async () => {
    const unit = parseUnit(await readFile(UNIT, 'utf8'));
    const expected: Record<string, string> = {
      NoNewPrivileges: 'yes',
      CapabilityBoundingSet: 'CAP_NET_BIND_SERVICE',
      AmbientCapabilities: 'CAP_NET_BIND_SERVICE',
      ProtectHome: 'yes',
      PrivateTmp: 'yes',
      PrivateDevices: 'yes',
      RestrictSUIDSGID: 'yes',
    };
    for (const [key, value] of Object.entries(expected)) assert.deepEqual(unit.get(`Service.${key}`), [value], key);
    // V8 compiles code at run time: W^X memory would kill node at start.
    assert.equal(unit.get('Service.MemoryDenyWriteExecute'), undefined);
    // PrivateUsers would hide the service's own uid, which its replicas run as, from the engine.
    assert.equal(unit.get('Service.PrivateUsers'), undefined);
    assert.ok(unit.get('Service.RestrictAddressFamilies')?.[0]?.includes('AF_UNIX'), 'the Docker socket is AF_UNIX');
  });
});

const GUARD = path.join(repoRoot, 'deploy/selflessacts-engine-guard.service');

describe('deploy/selflessacts-engine-guard.service', () => {
  test('passes systemd-analyze verify, and its exposure is rated OK (at most 2.5 of 10) though it runs as root', {
    skip,
  }, async () => {
    const r = await run('systemd-analyze', ['verify', GUARD]);
    assert.equal(r.code, 0, r.output);
    assert.equal(r.stderr.trim(), '', r.stderr);
    const security = await run('systemd-analyze', ['security', '--offline=yes', '--no-pager', GUARD]);
    const level = /Overall exposure level for selflessacts-engine-guard\.service: ([\d.]+)/.exec(security.stdout);
    assert.ok(level, security.output);
    assert.ok(Number(level[1]) <= 2.5, `exposure ${level[1]}`);
  });

  test("listens where the service looks, for the service's group only; binds only from the service's replica directories", async () => {
    const guard = parseUnit(await readFile(GUARD, 'utf8'));
    const service = parseUnit(await readFile(UNIT, 'utf8'));
    assert.deepEqual(guard.get('Service.User'), ['root']);
    assert.deepEqual(guard.get('Service.Group'), service.get('Service.User'));
    assert.deepEqual(guard.get('Service.RuntimeDirectoryMode'), ['0750']);
    assert.deepEqual(guard.get('Service.CapabilityBoundingSet'), ['CAP_DAC_READ_SEARCH CAP_DAC_OVERRIDE']);
    assert.deepEqual(guard.get('Service.ReadWritePaths'), undefined, 'nothing writable but its runtime directory');
    assert.deepEqual(guard.get('Service.RestrictAddressFamilies'), ['AF_UNIX']);
    const start = guard.get('Service.ExecStart')![0]!.split(' ');
    assert.deepEqual(start.slice(0, 4), ['/usr/bin/env', 'node', 'supervisor', 'engine-guard']);
    const arg = (name: string) => start.flatMap((a, i) => (a === name ? [start[i + 1]!] : []));
    const dockerHost = service.get('Service.Environment')!.find((e) => e.startsWith('DOCKER_HOST='))!;
    assert.equal(`DOCKER_HOST=unix://${arg('--listen')[0]}`, dockerHost);
    assert.equal(path.dirname(arg('--listen')[0]!), `/run/${guard.get('Service.RuntimeDirectory')![0]}`);
    const dataDir = service
      .get('Service.Environment')!
      .find((e) => e.startsWith('DATA_DIR='))!
      .slice('DATA_DIR='.length);
    assert.deepEqual(arg('--bind-root'), [`${dataDir}/replicas`, `${dataDir}/replica-secrets`]);
  });
});
