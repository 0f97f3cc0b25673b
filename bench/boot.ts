// Boot time of the app images alone, no supervisor: from the engine's container start to the
// first 200 from /api/v1/_health, with the shipped limits (0.5 CPU, 256 MB) on SQLite. This is
// the part of crash → replacement that the image itself decides. One unmeasured warm-up per
// image, then rounds alternating the images so both see the same machine.
//
//   npm run bench:boot -- [--rounds 5] [--image users:latest]
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { request } from 'undici';
import { DockerEngine } from '../engine-client/index.ts';
import { ensureImages } from '../scripts/images.ts';
import { TEST_LABEL, removeSuiteObjects } from '../testkit/supervisor.ts';
import { ResultRecorder, toolVersion } from './results.ts';
import { median, secondsSpread } from './stats.ts';

const { values } = parseArgs({
  options: { rounds: { type: 'string', default: '5' }, image: { type: 'string' } },
});
const ROUNDS = Math.max(2, Math.min(20, Number(values.rounds)));
const IMAGES = values.image ? [values.image] : ['users:latest', 'acts:latest'];
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

async function bootOnce(engine: DockerEngine, image: string, round: number): Promise<number> {
  const { id } = await engine.containers.create({
    name: `sa-${SUITE}-${round}`,
    image,
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
  const recorder = new ResultRecorder(
    values.image ? `boot-${values.image.replace(/\W+/g, '-')}` : 'boot',
    'Container start → first healthy _health',
    {
      dockerd: toolVersion('docker', ['version', '--format', '{{.Server.Version}}']),
    },
  );
  const engine = new DockerEngine();
  await removeSuiteObjects(engine, SUITE);
  const times: Record<string, number[]> = Object.fromEntries(IMAGES.map((image) => [image, []]));
  try {
    await ensureImages({ engine });
    for (const image of IMAGES) await bootOnce(engine, image, 0); // warm the page cache; not counted
    for (let round = 1; round <= ROUNDS; round++) {
      const order = round % 2 ? IMAGES : [...IMAGES].reverse();
      for (const image of order) {
        times[image]!.push(await bootOnce(engine, image, round));
        console.log(`round ${round} ${image}: ${Math.round(times[image]!.at(-1)!)} ms`);
      }
    }
  } finally {
    await removeSuiteObjects(engine, SUITE);
    await engine.close();
  }
  const summary = IMAGES.map((image) => ({
    figure: `container start → first \`_health\` 200 (\`${image}\`, 0.5 CPU, 256 MB, SQLite)`,
    value: secondsSpread(times[image]!),
  }));
  for (const row of summary) console.log(`${row.figure}: ${row.value}`);
  await recorder.write({
    summary,
    tables: [
      {
        caption: 'Milliseconds from the container start to the first 200, rounds alternating the images',
        columns: ['round', ...IMAGES],
        rows: [
          ...Array.from({ length: ROUNDS }, (_, i) => [
            String(i + 1),
            ...IMAGES.map((image) => String(Math.round(times[image]![i]!))),
          ]),
          ['median', ...IMAGES.map((image) => String(Math.round(median(times[image]!))))],
        ],
      },
    ],
    figures: { limits: { cpus: 0.5, memoryMb: 256 }, pollMs: 10, times },
  });
}

await main();
