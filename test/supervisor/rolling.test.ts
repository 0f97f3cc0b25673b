// Rolling replacement with real containers: every replica carries its spec (<prefix>.spec);
// after a SIGHUP with a changed env, after the image is rebuilt under the same tag, and after a
// restart with a changed config, the 3 replicas are replaced one at a time (each new one ready
// before the next old one is drained), an event says why for each, and clients under load see
// no failure. Ports 24400-24499.
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
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
const skip = await skipUnlessEngine();

describe('rolling replacement (real containers)', { skip, timeout: 300_000 }, () => {
  const engine = TEST_ENGINE.client();
  const admin = new Admin(`http://127.0.0.1:${ADMIN}`);
  let dir = '';
  let configFile = '';
  const runs = new SupervisorRuns(() => configFile);
  const url = `http://127.0.0.1:${LISTEN}/api/v1/x`;

  async function setEnv(value: string): Promise<void> {
    const config = JSON.parse(await readFile(configFile, 'utf8')) as { services: { acts: { env: Record<string, string> } } };
    config.services.acts.env.ROLL = value;
    await writeFile(configFile, JSON.stringify(config, null, 2));
  }

  /** Waits for `n` more rolling replacements, and all 3 ready again; checks they went one at a time. */
  async function rolled(since: number, n: number, why: RegExp): Promise<EventRecord[]> {
    const events = await eventually(async () => {
      const all = (await admin.events(since)).filter((e) => e.seq > since);
      return all.filter((e) => e.type === 'replica.replaced' && e.rolling === true).length >= n ? all : undefined;
    }, `${n} rolling replacements`, 120_000, 200);
    await admin.waitReady('acts', 3, 60_000);
    const replaced = events.filter((e) => e.type === 'replica.replaced' && e.rolling === true);
    assert.equal(replaced.length, n, JSON.stringify(replaced));
    for (const e of replaced) assert.match(e.reason, why);
    assert.deepEqual(replaced.map((e) => e.port).sort(), [ACTS, ACTS + 1, ACTS + 2].slice(0, n));
    // One at a time: each old replica leaves only after the previous new one is ready.
    const stops = events.filter((e) => e.type === 'replica.stopped' && /rolling replacement/.test(e.reason));
    for (let i = 1; i < stops.length; i++) {
      const previousNew = replaced[i - 1]!.id;
      const ready = events.find((e) => e.type === 'replica.ready' && e.id === previousNew);
      assert.ok(ready && ready.seq < stops[i]!.seq, `replica ${i + 1} stopped before replica ${i}'s replacement was ready`);
    }
    return replaced;
  }

  async function underLoad<T>(body: () => Promise<T>): Promise<T> {
    const load = new RestartLoad(url, { clients: CLIENTS, timeoutMs: 30_000, maxRequests: 300_000 });
    try {
      await sleep(500);
      return await body();
    } finally {
      const samples = await load.stop();
      const failed = samples.filter((s) => s.outcome !== 'ok');
      console.log(`# ${samples.length} requests, ${failed.length} failed`);
      assert.deepEqual(failed, [], `no request fails through a rolling replacement (${samples.length} sent)`);
      assert.ok(samples.length > 100, `${samples.length} requests`);
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
      services: { acts: { ...echoService({ replicas: { initial: 3, min: 3, max: 3 }, startPort: ACTS, routes: ['/api/v1'], autoscale: false, env: { ROLL: '1' } }), image: IMAGE } },
    });
    await waitUp(runs.start(), admin, { acts: 3 }, 90_000);
  });

  after(async () => {
    await runs.killAll();
    await removeSuiteObjects(engine, SUITE);
    await engine.images.remove(IMAGE).catch(() => undefined);
    for (const image of await engine.images.list({ labels: { [TEST_LABEL]: SUITE } }).catch(() => [])) await engine.images.remove(image.id, { force: true }).catch(() => undefined);
    await engine.close();
    await removeDir(dir);
  });

  test('every replica carries its spec; an unchanged config replaces nothing', async () => {
    const containers = await engine.containers.list({ labels: { [TEST_LABEL]: SUITE } });
    assert.equal(containers.length, 3);
    for (const c of containers) assert.match(c.labels['selflessacts.spec'] ?? '', /^image=[0-9a-f]{12},env=[0-9a-f]{12},command=[0-9a-f]{12},resources=[0-9a-f]{12}$/);
    const since = (await admin.events()).at(-1)!.seq;
    runs.current.child.kill('SIGHUP');
    await sleep(3000);
    assert.deepEqual((await admin.events(since)).filter((e) => e.seq > since && e.type.startsWith('replica.')), []);
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

  test('the image rebuilt under the same tag: rolled out without a signal, under load, none failed', async () => {
    const since = (await admin.events()).at(-1)!.seq;
    await underLoad(async () => {
      const context = await tarBuffer([{ name: 'Dockerfile', content: `FROM ${ECHO_IMAGE}\nLABEL rebuilt=${Date.now()}\n` }]);
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
    await waitUp(sup, admin, { acts: 3 }, 60_000);
    const replaced = await rolled(0, 3, /spec changed \(env\)/);
    assert.equal(sup.events('replica.adopted').length, 3);
    assert.deepEqual(replaced.map((e) => e.previousId).sort(), sup.events('replica.adopted').map((l) => l.id as string).sort());
  });
});
