// Time from POST /api/v1/_crash on a replica to a new healthy replica on the same port in
// rotation, repeated, with real containers. Default: the real acts:latest/users:latest images
// and the shipped heartbeat (1 s, 3 failures); --echo uses the trivial test image instead.
//
//   npx tsx bench/crash.ts [--rounds 5] [--echo]
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { DockerEngine } from '../engine-client/index.ts';
import { echoService, eventually, http } from '../testkit/supervisor.ts';
import { shippedSuite } from './shipped-config.ts';
import { summary } from './stats.ts';

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '5' }, echo: { type: 'boolean', default: false } } });
const ROUNDS = Math.min(20, Number(values.rounds));
const SUITE = 'bench-crash';
const LISTEN = 28100;
const ADMIN = 28101;
const ACTS = 28120;

async function main(): Promise<void> {
  const engine = new DockerEngine();
  const echo = {
    runtime: 'docker' as const,
    listenPort: LISTEN,
    heartbeat: { intervalMs: 1000, timeoutMs: 800, failureThreshold: 3, fastIntervalMs: 200 },
    services: { acts: echoService({ replicas: { initial: 1, min: 1, max: 1 }, startPort: ACTS, routes: ['/api/v1'] }) },
  };
  const suite = shippedSuite(engine, { suite: SUITE, listenPort: LISTEN, adminPort: ADMIN, actsPort: ACTS, usersPort: 28110 }, values.echo ? echo : undefined);
  const times: number[] = [];
  await suite.run(async (admin) => {
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
    console.log(`_crash → new healthy replica in rotation (${values.echo ? 'echo image' : 'acts:latest'}, ${ROUNDS} rounds): ${summary(times)}`);
  });
}

await main();
