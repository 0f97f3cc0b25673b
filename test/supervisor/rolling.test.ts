// Rolling replacement with real containers: every replica carries its spec (<prefix>.spec);
// after a SIGHUP with a changed env, after the image is rebuilt under the same tag, and after a
// restart with a changed config, the 3 replicas are replaced one at a time (each new one ready
// before the next old one is drained), an event says why for each, and clients under load see
// no failure. The service may run 4 (max), so a surge replica starts on the 4th port first and
// leaves at the end: /status, sampled through each roll under load, never shows fewer than 3
// ready. A service of one replica with room for a second (as the shipped users) rolls the same
// way, through a surge, and its one route never goes unanswered. (desired = max, in place, is
// covered by the unit tests.) Ports 24400-24499.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { readFile, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { tarBuffer } from '../../engine-client/index.ts';
import { TEST_ENGINE } from '../../testkit/engine.ts';
import { RestartLoad } from '../../testkit/restart-load.ts';
import {
  Admin,
  ECHO_IMAGE,
  SupervisorRuns,
  TEST_LABEL,
  echoService,
  ensureEchoImage,
  eventually,
  removeDir,
  removeSuiteObjects,
  tempDir,
  waitUp,
  writeConfig,
  type EventRecord,
} from '../../testkit/supervisor.ts';
import { skipUnlessEngine } from '../helpers/requirements.ts';

const SUITE = 'rolling';
const LISTEN = 24400;
const ADMIN = 24401;
const ACTS = 24410;
const IMAGE = 'selflessacts-test/echo:rolling';
const CLIENTS = 4;
const DESIRED = 3;
/** A service of one replica that may run two, as the shipped users: its roll goes through a surge too. */
const ONE = 24430;

/** The service a roll replaces: its name, ports, wanted count and a route that reaches only it. */
interface RollTarget {
  service: string;
  startPort: number;
  desired: number;
  path: string;
}
const ACTS_ROLL: RollTarget = { service: 'acts', startPort: ACTS, desired: DESIRED, path: '/api/v1/x' };
const ONE_ROLL: RollTarget = { service: 'one', startPort: ONE, desired: 1, path: '/api/v2/one' };
const surgePortOf = (t: RollTarget) => t.startPort + t.desired;
const skip = await skipUnlessEngine();

describe('rolling replacement (real containers)', { skip, timeout: 300_000 }, () => {
  const engine = TEST_ENGINE.client();
  const admin = new Admin(`http://127.0.0.1:${ADMIN}`);
  let dir = '';
  let configFile = '';
  const runs = new SupervisorRuns(() => configFile);

  async function setEnv(value: string, service = 'acts'): Promise<void> {
    const config = JSON.parse(await readFile(configFile, 'utf8')) as {
      services: Record<string, { env: Record<string, string> }>;
    };
    config.services[service]!.env.ROLL = value;
    await writeFile(configFile, JSON.stringify(config, null, 2));
  }

  /**
   * Waits for `n` more rolling replacements of `target`, all its replicas ready again and the surge
   * replica gone; checks they went one at a time, the first only once the surge replica was ready.
   */
  async function rolled(since: number, n: number, why: RegExp, target = ACTS_ROLL): Promise<EventRecord[]> {
    const SURGE_PORT = surgePortOf(target);
    await eventually(
      async () => {
        const all = (await admin.events(since)).filter((e) => e.seq > since);
        return all.some((e) => e.type === 'replica.stopped' && e.port === SURGE_PORT) ? all : undefined;
      },
      `${n} rolling replacements, then the surge replica removed`,
      120_000,
      200,
    );
    await admin.waitReady(target.service, target.desired, 60_000);
    const events = (await admin.events(since)).filter((e) => e.seq > since && e.service === target.service);
    const replaced = events.filter((e) => e.type === 'replica.replaced' && e.rolling === true);
    assert.equal(replaced.length, n, JSON.stringify(replaced));
    for (const e of replaced) assert.match(e.reason, why);
    assert.deepEqual(
      replaced.map((e) => e.port).sort(),
      Array.from({ length: n }, (_, i) => target.startPort + i),
    );
    // The surge: started first, with its reason, ready before any old replica left, removed last.
    const surge = events.filter((e) => e.type === 'replica.started' && e.port === SURGE_PORT);
    assert.equal(surge.length, 1, JSON.stringify(surge));
    assert.equal(surge[0]!.surge, true);
    assert.match(surge[0]!.reason, /^surge for rolling replacement/);
    const surgeReady = events.find((e) => e.type === 'replica.ready' && e.id === surge[0]!.id);
    const stops = events.filter(
      (e) => e.type === 'replica.stopped' && /^rolling replacement: spec changed/.test(e.reason),
    );
    assert.equal(stops.length, n);
    assert.ok(surgeReady && surgeReady.seq < stops[0]!.seq, 'an old replica left before the surge replica was ready');
    // One at a time: each old replica leaves only after the previous new one is ready.
    for (let i = 1; i < stops.length; i++) {
      const previousNew = replaced[i - 1]!.id;
      const ready = events.find((e) => e.type === 'replica.ready' && e.id === previousNew);
      assert.ok(
        ready && ready.seq < stops[i]!.seq,
        `replica ${i + 1} stopped before replica ${i}'s replacement was ready`,
      );
    }
    const surgeGone = events.find((e) => e.type === 'replica.stopped' && e.id === surge[0]!.id)!;
    assert.equal(
      surgeGone.reason,
      `rolling replacement done: the surge replica on port ${SURGE_PORT} is no longer needed`,
    );
    const lastReady = events.find((e) => e.type === 'replica.ready' && e.id === replaced.at(-1)!.id);
    assert.ok(
      lastReady && lastReady.seq < surgeGone.seq,
      'the surge replica left before the last replacement was ready',
    );
    return replaced;
  }

  /**
   * Samples /status every 50 ms: the fewest of the service's replicas ready (in rotation) seen, and the most running.
   */
  function sampleReady(service: string): {
    stop: () => Promise<{ minReady: number; maxRunning: number; samples: number }>;
  } {
    let stopped = false;
    let minReady = Number.POSITIVE_INFINITY;
    let maxRunning = 0;
    let samples = 0;
    const loop = (async () => {
      for (let i = 0; i < 10_000 && !stopped; i++) {
        const replicas = (await admin.status()).services[service]!.replicas;
        minReady = Math.min(minReady, replicas.filter((r) => r.state === 'ready').length);
        maxRunning = Math.max(maxRunning, replicas.length);
        samples++;
        await sleep(50);
      }
    })();
    return {
      stop: async () => {
        stopped = true;
        await loop;
        return { minReady, maxRunning, samples };
      },
    };
  }

  /**
   * Runs `body` (a roll of `target`) under load on its route, sampling /status: no request fails, never fewer than
   * desired ready.
   */
  async function underLoad<T>(body: () => Promise<T>, target = ACTS_ROLL): Promise<T> {
    const load = new RestartLoad(`http://127.0.0.1:${LISTEN}${target.path}`, {
      clients: CLIENTS,
      timeoutMs: 30_000,
      maxRequests: 300_000,
    });
    let sampler: ReturnType<typeof sampleReady> | undefined;
    let started = Date.now();
    try {
      await sleep(500);
      started = Date.now();
      sampler = sampleReady(target.service);
      return await body();
    } finally {
      const seen = await sampler?.stop();
      const samples = await load.stop();
      const failed = samples.filter((s) => s.outcome !== 'ok');
      console.log(
        `# ${target.service}: ${samples.length} requests, ${failed.length} failed; roll ${((Date.now() - started) / 1000).toFixed(1)} s; ${seen?.samples} /status samples: at least ${seen?.minReady} ready, at most ${seen?.maxRunning} running`,
      );
      assert.deepEqual(failed, [], `no request fails through a rolling replacement (${samples.length} sent)`);
      assert.ok(samples.length > 100, `${samples.length} requests`);
      assert.ok(seen && seen.samples > 20, `${seen?.samples} samples of /status`);
      assert.ok(
        seen.minReady >= target.desired,
        `ready replicas fell to ${seen.minReady} during the roll (desired ${target.desired})`,
      );
      assert.equal(seen.maxRunning, target.desired + 1, `one surge replica beside the ${target.desired}, never more`);
    }
  }

  before(async () => {
    await removeSuiteObjects(engine, SUITE);
    await ensureEchoImage(engine);
    await engine.images.tag(ECHO_IMAGE, IMAGE);
    dir = await tempDir(SUITE);
    configFile = await writeConfig({
      suite: SUITE,
      dir,
      runtime: TEST_ENGINE.name,
      listenPort: LISTEN,
      adminPort: ADMIN,
      services: {
        acts: {
          ...echoService({
            replicas: { initial: DESIRED, min: DESIRED, max: DESIRED + 1 },
            startPort: ACTS,
            routes: ['/api/v1'],
            autoscale: false,
            env: { ROLL: '1' },
          }),
          image: IMAGE,
        },
        // Its own image (not rebuilt by the image test), so only acts rolls there.
        one: echoService({
          replicas: { initial: 1, min: 1, max: 2 },
          startPort: ONE,
          routes: ['/api/v2/one'],
          autoscale: false,
          env: { ROLL: '1' },
        }),
      },
    });
    await waitUp(runs.start(), admin, { acts: 3, one: 1 }, 90_000);
  });

  after(async () => {
    await runs.killAll();
    await removeSuiteObjects(engine, SUITE);
    await engine.images.remove(IMAGE).catch(() => undefined);
    for (const image of await engine.images.list({ labels: { [TEST_LABEL]: SUITE } }).catch(() => []))
      await engine.images.remove(image.id, { force: true }).catch(() => undefined);
    await engine.close();
    await removeDir(dir);
  });

  test('every replica carries its spec; an unchanged config replaces nothing', async () => {
    const containers = await engine.containers.list({ labels: { [TEST_LABEL]: SUITE } });
    assert.equal(containers.length, 4);
    for (const c of containers)
      assert.match(
        c.labels['selflessacts.spec'] ?? '',
        /^image=[0-9a-f]{12},env=[0-9a-f]{12},command=[0-9a-f]{12},resources=[0-9a-f]{12}$/,
      );
    const since = (await admin.events()).at(-1)!.seq;
    runs.current.child.kill('SIGHUP');
    await sleep(3000);
    assert.deepEqual(
      (await admin.events(since)).filter((e) => e.seq > since && e.type.startsWith('replica.')),
      [],
    );
  });

  test('SIGHUP with a changed env: 3 replicas replaced one at a time under load, none failed', async () => {
    const since = (await admin.events()).at(-1)!.seq;
    await underLoad(async () => {
      await setEnv('2');
      runs.current.child.kill('SIGHUP');
      await rolled(since, 3, /spec changed \(env\)/);
    });
    const reloaded = (await admin.events(since)).find((e) => e.type === 'config.reloaded');
    assert.match(reloaded?.reason ?? '', /applied services\.acts\.env/);
  });

  test('a service of one replica with room for two (as the shipped users): rolled through a surge, its route always answered', async () => {
    const since = (await admin.events()).at(-1)!.seq;
    await underLoad(async () => {
      await setEnv('2', 'one');
      runs.current.child.kill('SIGHUP');
      await rolled(since, 1, /spec changed \(env\)/, ONE_ROLL);
    }, ONE_ROLL);
    const acts = (await admin.events(since)).filter(
      (e) => e.seq > since && e.service === 'acts' && e.type.startsWith('replica.'),
    );
    assert.deepEqual(acts, [], 'the other service is left alone');
  });

  test('its surge port held by another process: the roll goes in place at once instead of waiting for the port', async () => {
    const holder = createServer().listen(ONE + 1, '127.0.0.1');
    await once(holder, 'listening');
    try {
      const since = (await admin.events()).at(-1)!.seq;
      await setEnv('3', 'one');
      runs.current.child.kill('SIGHUP');
      const events = await eventually(
        async () => {
          const all = (await admin.events(since)).filter((e) => e.seq > since && e.service === 'one');
          return all.some((e) => e.type === 'replica.replaced' && e.rolling === true) ? all : undefined;
        },
        'the one replica replaced in place',
        60_000,
        200,
      );
      await admin.waitReady('one', 1, 60_000);
      const refused = events.filter((e) => e.type === 'runtime.error');
      assert.equal(refused.length, 1, JSON.stringify(refused));
      assert.equal(refused[0]!.port, ONE + 1);
      assert.match(
        refused[0]!.reason,
        /^surge port \d+ is taken by another process, so this rolling replacement goes in place, one replica at a time: port \d+ is taken by another process: .*address already in use/,
      );
      const replaced = events.find((e) => e.type === 'replica.replaced' && e.rolling === true)!;
      assert.equal(replaced.port, ONE, 'replaced on its own port');
      assert.ok(refused[0]!.seq < replaced.seq);
      assert.deepEqual(
        events.filter((e) => e.type === 'replica.started'),
        [],
        'no surge replica started',
      );
      assert.deepEqual(
        (await admin.status()).services.one!.replicas.map((r) => r.port),
        [ONE],
      );
    } finally {
      holder.close();
    }
  });

  test('the image rebuilt under the same tag: rolled out without a signal, under load, none failed', async () => {
    const since = (await admin.events()).at(-1)!.seq;
    await underLoad(async () => {
      const context = await tarBuffer([
        { name: 'Dockerfile', content: `FROM ${ECHO_IMAGE}\nLABEL rebuilt=${Date.now()}\n` },
      ]);
      await engine.images.build(context, { tags: [IMAGE], labels: { [TEST_LABEL]: SUITE } });
      await rolled(since, 3, /spec changed \(image [0-9a-f]{12} → [0-9a-f]{12}\)/);
    });
  });

  test('a restart with a changed config: adopted replicas that differ are replaced', async () => {
    const old = runs.current;
    old.child.kill('SIGKILL');
    await old.exited;
    await setEnv('3');
    const sup = runs.start();
    // Not waitUp(.., {acts: 3}): the surge replica may join as soon as the adopted are ready.
    await waitUp(sup, admin, {}, 60_000);
    const replaced = await rolled(0, 3, /spec changed \(env\)/);
    const adopted = sup.events('replica.adopted').filter((l) => l.service === 'acts');
    assert.equal(adopted.length, 3);
    assert.deepEqual(replaced.map((e) => e.previousId).sort(), adopted.map((l) => l.id as string).sort());
  });
});
