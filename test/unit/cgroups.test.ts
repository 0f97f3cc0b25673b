// Finding where the replicas' cgroups go and what is written there, on made-up /proc and cgroup
// trees (a directory per test): the cgroup v2 layout this machine cannot show (its controllers
// are on v1), and v1's. The kernel's side, on this machine's real v1 hierarchies, is
// test/supervisor/process-cgroups.test.ts.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { findReplicaCgroups } from '../../supervisor/runtime/cgroups.ts';

const roots: string[] = [];
after(() => {
  for (const root of roots) rmSync(root, { recursive: true, force: true });
});

function tree(files: Record<string, string>): string {
  const root = mkdtempSync(path.join(tmpdir(), 'sa-cgroups-'));
  roots.push(root);
  for (const [file, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
    writeFileSync(path.join(root, file), text);
  }
  return root;
}

const read = (root: string, file: string) => readFileSync(path.join(root, file), 'utf8');

const V2_MOUNT =
  '30 25 0:26 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 rw,nsdelegate\n';
const UNIT = 'sys/fs/cgroup/system.slice/selflessacts.service';

describe('cgroup v2 (a systemd unit with Delegate=yes)', () => {
  test('the supervisor moves to a leaf of its own, delegates memory and cpu, and each replica gets memory.max and cpu.max', () => {
    const root = tree({
      'proc/self/mountinfo': V2_MOUNT,
      'proc/self/cgroup': '0::/system.slice/selflessacts.service\n',
      [`${UNIT}/cgroup.controllers`]: 'cpuset cpu io memory pids\n',
      [`${UNIT}/cgroup.subtree_control`]: '\n',
    });
    const found = findReplicaCgroups('main', { fsRoot: root, probe: false });
    assert.ok('cgroups' in found, JSON.stringify(found));
    const { cgroups } = found;
    assert.equal(cgroups.version, 2);
    assert.equal(read(root, `${UNIT}/supervisor/cgroup.procs`), String(process.pid));
    assert.equal(read(root, `${UNIT}/cgroup.subtree_control`), '+memory +cpu');
    assert.equal(read(root, `${UNIT}/main-replicas/cgroup.subtree_control`), '+memory +cpu');

    cgroups.create('r1', { memoryMb: 256, cpus: 0.5 });
    assert.equal(read(root, `${UNIT}/main-replicas/r1/memory.max`), String(256 * 2 ** 20));
    assert.equal(read(root, `${UNIT}/main-replicas/r1/cpu.max`), '50000 100000');
    cgroups.enter('r1', 4242);
    assert.equal(read(root, `${UNIT}/main-replicas/r1/cgroup.procs`), '4242');
    writeFileSync(
      path.join(root, UNIT, 'main-replicas', 'r1', 'memory.events'),
      'low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\n',
    );
    assert.equal(cgroups.oomKills('r1'), 1);
  });

  test('already delegated (the supervisor alone at the top of a delegated tree): nothing moves', () => {
    const root = tree({
      'proc/self/mountinfo': V2_MOUNT,
      'proc/self/cgroup': '0::/system.slice/selflessacts.service\n',
      [`${UNIT}/cgroup.controllers`]: 'cpu memory\n',
      [`${UNIT}/cgroup.subtree_control`]: 'cpu memory\n',
    });
    const found = findReplicaCgroups('main', { fsRoot: root, probe: false });
    assert.ok('cgroups' in found);
    assert.equal(existsSync(path.join(root, UNIT, 'supervisor')), false);
  });

  test('controllers missing and no v1 hierarchies: unavailable, saying why', () => {
    const root = tree({
      'proc/self/mountinfo': V2_MOUNT,
      'proc/self/cgroup': '0::/user.slice\n',
      'sys/fs/cgroup/user.slice/cgroup.controllers': 'pids\n',
      'sys/fs/cgroup/user.slice/cgroup.subtree_control': '\n',
    });
    const found = findReplicaCgroups('main', { fsRoot: root, probe: false });
    assert.ok('unavailable' in found);
    assert.match(found.unavailable, /v2: the controllers memory, cpu are not on .*user\.slice/);
    assert.match(found.unavailable, /v1: no memory and cpu hierarchies/);
  });
});

describe('cgroup v1 (this machine)', () => {
  const mounts = [
    '40 30 0:40 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct',
    '41 30 0:41 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory',
    '42 30 0:42 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw',
  ].join('\n');

  test('a group per replica in the memory and cpu hierarchies, under this process own groups', () => {
    const root = tree({
      'proc/self/mountinfo': `${mounts}\n`,
      'proc/self/cgroup': '4:memory:/job/7\n2:cpu,cpuacct:/\n0::/\n',
      'sys/fs/cgroup/unified/cgroup.controllers': '\n',
      'sys/fs/cgroup/unified/cgroup.subtree_control': '\n',
      'sys/fs/cgroup/memory/job/7/memory.limit_in_bytes': '9223372036854771712\n',
    });
    const found = findReplicaCgroups('main', { fsRoot: root, probe: false });
    assert.ok('cgroups' in found, JSON.stringify(found));
    const { cgroups } = found;
    assert.equal(cgroups.version, 1);
    cgroups.create('r1', { memoryMb: 64, cpus: 0.25 });
    assert.equal(read(root, 'sys/fs/cgroup/memory/job/7/main-replicas/r1/memory.limit_in_bytes'), String(64 * 2 ** 20));
    assert.equal(read(root, 'sys/fs/cgroup/cpu,cpuacct/main-replicas/r1/cpu.cfs_quota_us'), '25000');
    assert.equal(read(root, 'sys/fs/cgroup/cpu,cpuacct/main-replicas/r1/cpu.cfs_period_us'), '100000');
    assert.equal(cgroups.oomKills('r1'), undefined, 'no oom_control file: cannot tell');
  });

  test('a hierarchy that lets a group be made but refuses its limits: unavailable, saying so', () => {
    const root = tree({
      'proc/self/mountinfo': `${mounts}\n`,
      'proc/self/cgroup': '4:memory:/\n2:cpu,cpuacct:/\n',
    });
    // The limit file is a directory: writing it fails, as a read-only view of cgroupfs does.
    mkdirSync(path.join(root, `sys/fs/cgroup/memory/main-replicas/probe-${process.pid}/memory.limit_in_bytes`), {
      recursive: true,
    });
    const found = findReplicaCgroups('main', { fsRoot: root });
    assert.ok('unavailable' in found, JSON.stringify(found));
    assert.match(found.unavailable, /^v1: a group with limits could not be made: EISDIR/);
  });

  test('a cgroup path outside the mounted part of its hierarchy: unavailable', () => {
    const root = tree({
      'proc/self/mountinfo': `${mounts.replace('0:41 / /sys/fs/cgroup/memory', '0:41 /other /sys/fs/cgroup/memory')}\n`,
      'proc/self/cgroup': '4:memory:/job/7\n2:cpu,cpuacct:/\n',
    });
    const found = findReplicaCgroups('main', { fsRoot: root, probe: false });
    assert.ok('unavailable' in found);
    assert.match(found.unavailable, /v1: cgroup \/job\/7 is outside the mount of \/other/);
  });
});
