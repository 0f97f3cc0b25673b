// Time from POST /api/v1/_crash on a replica to a new healthy replica on the same port in
// rotation, repeated, with real containers. Default: the real acts:latest/users:latest images
// and the shipped heartbeat (1 s, 3 failures); --echo uses the trivial test image instead.
//
//   npx tsx bench/crash.ts [--rounds 5] [--echo]
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { DockerEngine } from '../engine-client/index.ts';
import { ensureImages } from '../scripts/images.ts';
import {
  Admin,
  SupervisorProcess,
  TEST_LABEL,
  echoService,
  ensureEchoImage,
  eventually,
  http,
  removeDir,
  removeSuiteObjects,
  repoRoot,
  tempDir,
  writeConfig,
} from '../test/supervisor/support.ts';

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '5' }, echo: { type: 'boolean', default: false } } });
const ROUNDS = Math.min(20, Number(values.rounds));
const SUITE = 'bench-crash';
const LISTEN = 28100;
const ADMIN = 28101;
const ACTS = 28120;

async function configFile(dir: string, engine: DockerEngine): Promise<string> {
  if (values.echo) {
    await ensureEchoImage(engine);
    return writeConfig({
      suite: SUITE,
      dir,
      runtime: 'docker',
      listenPort: LISTEN,
      adminPort: ADMIN,
      heartbeat: { intervalMs: 1000, timeoutMs: 800, failureThreshold: 3, fastIntervalMs: 200 },
      services: { acts: echoService({ replicas: { initial: 1, min: 1, max: 1 }, startPort: ACTS, routes: ['/api/v1'] }) },
    });
  }
  await ensureImages({ engine });
  const shipped = JSON.parse(await readFile(path.join(repoRoot, 'config/orchestrator.json'), 'utf8')) as { services: Record<string, { startPort: number }> };
  shipped.services.users!.startPort = 28110;
  shipped.services.acts!.startPort = ACTS;
  const file = path.join(dir, 'orchestrator.json');
  await writeFile(file, JSON.stringify({
    ...shipped,
    instance: `test-${SUITE}`,
    runtime: 'docker',
    listen: { host: '127.0.0.1', port: LISTEN },
    admin: { host: '127.0.0.1', port: ADMIN },
    dataDir: path.join(dir, 'data'),
    docker: { network: `sa-test-${SUITE}`, user: '10001:10001', labels: [`${TEST_LABEL}=${SUITE}`] },
  }));
  return file;
}

async function main(): Promise<void> {
  const engine = new DockerEngine();
  const dir = await tempDir(SUITE);
  await removeSuiteObjects(engine, SUITE);
  const sup = SupervisorProcess.start(await configFile(dir, engine));
  const admin = new Admin(`http://127.0.0.1:${ADMIN}`);
  const times: number[] = [];
  try {
    await admin.waitReady('acts', 1, 90_000);
    await eventually(async () => ((await admin.status()).listen ? true : undefined), 'the balancer');
    for (let round = 0; round < ROUNDS; round++) {
      const old = (await admin.status()).services.acts!.replicas[0]!;
      await sleep(Math.random() * 1000); // crash at a random point of the heartbeat interval
      const t0 = performance.now();
      await http('POST', `http://127.0.0.1:${ACTS}/api/v1/_crash`);
      await admin.waitFor((s) => s.services.acts!.replicas.find((r) => r.id !== old.id && r.state === 'ready'), 'the replacement', 30_000);
      // In rotation: the balancer answers from it.
      await eventually(async () => ((await http('GET', `http://127.0.0.1:${LISTEN}/api/v1/_health`)).status === 200 ? true : undefined), 'a 200 through the balancer', 10_000, 20);
      times.push(performance.now() - t0);
      console.log(`round ${round + 1}: ${Math.round(times.at(-1)!)} ms`);
      // A replica ready for less than backoff.resetAfterMs (10 s) that fails again is a crash
      // loop and is restarted later and later, by design: let each round start fresh.
      await sleep(10_500);
    }
    const sorted = [...times].sort((a, b) => a - b);
    const median = sorted[Math.floor(sorted.length / 2)]!;
    console.log(`_crash → new healthy replica in rotation (${values.echo ? 'echo image' : 'acts:latest'}, ${ROUNDS} rounds): min ${Math.round(sorted[0]!)} ms, median ${Math.round(median)} ms, max ${Math.round(sorted.at(-1)!)} ms`);
  } finally {
    await sup.stop(30_000);
    await removeSuiteObjects(engine, SUITE);
    await engine.close();
    await removeDir(dir);
  }
}

await main();
