// Boot time of an app image alone, no supervisor: from the engine's container start to the
// first 200 from /api/v1/_health, with the shipped limits (0.5 CPU, 256 MB) on SQLite. This is
// the part of crash → replacement that the image itself decides.
//
//   npx tsx bench/boot.ts [--rounds 5] [--image users:latest]
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { request } from 'undici';
import { DockerEngine } from '../engine-client/index.ts';
import { ensureImages } from '../scripts/images.ts';
import { TEST_LABEL, removeSuiteObjects } from '../testkit/supervisor.ts';
import { summary } from './stats.ts';

const { values } = parseArgs({
  options: { rounds: { type: 'string', default: '5' }, image: { type: 'string', default: 'users:latest' } },
});
const ROUNDS = Math.min(20, Number(values.rounds));
const SUITE = 'bench-boot';
const TIMEOUT_MS = 30_000;

async function healthy(url: string): Promise<boolean> {
  try {
    const res = await request(url, { headersTimeout: 1000, bodyTimeout: 1000 });
    await res.body.dump();
    return res.statusCode === 200;
  } catch {
    return false;
  }
}

async function bootOnce(engine: DockerEngine, round: number): Promise<number> {
  const { id } = await engine.containers.create({
    name: `sa-${SUITE}-${round}`,
    image: values.image,
    // acts needs a users URL to start; its health check does not call it.
    env: { PORT: '8080', HOST: '0.0.0.0', USERS_URL: 'http://127.0.0.1:9' },
    labels: { [TEST_LABEL]: SUITE },
    user: '10001:10001',
    ports: [{ containerPort: 8080, hostIp: '127.0.0.1', hostPort: 0 }],
    memoryBytes: 256 * 1024 * 1024,
    cpus: 0.5,
    init: true,
  });
  try {
    const t0 = performance.now();
    await engine.containers.start(id);
    const port = (await engine.containers.inspect(id)).ports.find((p) => p.containerPort === 8080)?.hostPort;
    if (port === undefined) throw new Error('the engine published no port');
    const url = `http://127.0.0.1:${port}/api/v1/_health`;
    while (performance.now() - t0 < TIMEOUT_MS) {
      if (await healthy(url)) return performance.now() - t0;
      await sleep(10);
    }
    const logs = await engine.containers.logsText(id);
    throw new Error(`no 200 from ${url} within ${TIMEOUT_MS} ms\n${logs.stdout}${logs.stderr}`);
  } finally {
    await engine.containers.remove(id, { force: true });
  }
}

async function main(): Promise<void> {
  const engine = new DockerEngine();
  await removeSuiteObjects(engine, SUITE);
  try {
    await ensureImages({ engine });
    await bootOnce(engine, 0); // warm the page cache; not counted
    const times: number[] = [];
    for (let round = 1; round <= ROUNDS; round++) {
      times.push(await bootOnce(engine, round));
      console.log(`round ${round}: ${Math.round(times.at(-1)!)} ms`);
    }
    console.log(`container start → _health 200 (${values.image}, 0.5 CPU, ${ROUNDS} rounds): ${summary(times)}`);
  } finally {
    await removeSuiteObjects(engine, SUITE);
    await engine.close();
  }
}

await main();
