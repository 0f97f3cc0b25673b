// The shipped selflessacts.socket and selflessacts.service under a real systemd (a container
// booted with /sbin/init: testkit/systemd-rig.ts): the hardened service starts as its
// user, a first connection to the socket starts it and is answered, and a `kill -9` of the
// supervisor under load, which systemd answers with a restart, refuses no connection: they wait
// in the socket's backlog. Replicas are containers on the host's Docker Engine (Docker cannot
// run inside this unprivileged container). Ports 24300-24399.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { TEST_ENGINE } from '../../testkit/engine.ts';
import { http } from '../../testkit/supervisor.ts';
import { dockerAvailable, skipUnless } from '../helpers/requirements.ts';
import { SystemdRig } from '../../testkit/systemd-rig.ts';

const CLIENTS = 4;
let skip: string | false = skipUnless(await dockerAvailable(), 'Docker Engine');
skip ||= skipUnless(
  { missing: process.getuid?.() === 0 ? undefined : 'the base is built with debootstrap as root' },
  'root',
);

describe('selflessacts.socket under systemd: restarts without refusals', { skip, timeout: 600_000 }, () => {
  const engine = TEST_ENGINE.client();
  const rig = new SystemdRig(engine, {
    suite: 'socket-systemd',
    port: 24300,
    adminPort: 24301,
    startPort: 24310,
    replicas: 2,
    log: (l) => console.log(`# ${l}`),
  });

  before(() => rig.up());
  after(async () => {
    await rig.down();
    await engine.close();
  });

  test('the first connection to the socket starts the hardened service, and is answered', async () => {
    assert.equal(await rig.systemctl('start', 'selflessacts.socket'), '');
    assert.equal(
      (await rig.inside(['systemctl', 'is-active', 'selflessacts.service'])).stdout.trim(),
      'inactive',
      'nothing started it yet',
    );
    const reply = await http('GET', rig.url).catch(async (err: unknown) =>
      assert.fail(`${String(err)}\n${await rig.diagnosis()}`),
    );
    assert.equal(reply.status, 200, `${reply.text}\n${await rig.diagnosis()}`);
    assert.equal((await rig.inside(['systemctl', 'is-active', 'selflessacts.service'])).stdout.trim(), 'active');
    const pid = String(await rig.mainPid());
    // The unit's hardening, as the kernel applies it to the running supervisor.
    const status = (await rig.inside(['cat', `/proc/${pid}/status`])).stdout;
    const uid = (await rig.inside(['id', '-u', 'selflessacts'])).stdout.trim();
    assert.match(status, new RegExp(`^Uid:\\s+${uid}\\s`, 'm'), 'runs as the selflessacts user');
    assert.match(status, /^NoNewPrivs:\s+1$/m);
    assert.match(status, /^CapEff:\s+0000000000000400$/m, 'only CAP_NET_BIND_SERVICE');
    const root = (await rig.inside(['awk', '$5 == "/" { print $6 }', `/proc/${pid}/mountinfo`])).stdout;
    assert.match(root, /^ro\b/m, 'ProtectSystem=strict: / read-only');
    const state = (await rig.inside(['awk', '$5 == "/var/lib/selflessacts" { print $6 }', `/proc/${pid}/mountinfo`]))
      .stdout;
    assert.match(state, /^rw\b/m, 'StateDirectory: the one writable place');
    const accepting = await rig.events('balancer.accepting');
    assert.equal(accepting.length, 1);
    assert.match(String(accepting[0]!.reason), /every service has a ready replica/);
  });

  test('kill -9 of the supervisor under load: systemd restarts it, no connection is refused, no error answered', async () => {
    const figures = await rig.killUnderLoad(CLIENTS);
    console.log(`# systemd, kill -9 + Restart=on-failure: ${JSON.stringify(figures)}`);
    assert.equal(figures.refused, 0, JSON.stringify(figures));
    const others = Object.entries(figures.failed).filter(([k]) => k !== 'reset');
    assert.deepEqual(
      others,
      [],
      `only requests in flight in the killed process may be lost: ${JSON.stringify(figures)}`,
    );
    assert.ok((figures.failed.reset ?? 0) <= CLIENTS, JSON.stringify(figures));
    assert.ok(figures.ok > 100, JSON.stringify(figures));
    // Start time is downtime: RestartSec (100 ms), the image check, the supervisor from its
    // bundle, adoption (adopted replicas take traffic at once). Measured 1.1-1.6 s in CI and
    // 2.5 s with a CPU hog on one of the two cores (ci:loaded); it was 5.6 s from the sources,
    // which this bound still fails, as it fails anything near tenfold.
    assert.ok(
      figures.firstAnswerAfterKillMs >= 0 && figures.firstAnswerAfterKillMs <= 4000,
      `first answer ${figures.firstAnswerAfterKillMs} ms after the kill: ${JSON.stringify(figures)}`,
    );
    assert.equal(await rig.systemctl('show', '-p', 'NRestarts', '--value', 'selflessacts.service'), '1');
    assert.deepEqual(
      await rig.events('replica.started').then((e) => e.length),
      2,
      'the replicas of the first start, adopted by the second',
    );
  });
});
