// Proxy overhead: requests per second and latency through the balancer against the same
// replica dialled directly, measured in the same run and printed as ratios. One echo replica
// under the process runtime, 127.0.0.1 only, bounded by request count and time.
//
//   npx tsx bench/proxy.ts [--requests 4000] [--concurrency 16] [--seconds 20]
import { parseArgs } from 'node:util';
import { SupervisorSuite, echoService } from '../testkit/supervisor.ts';
import { load as loadWith, ratios, row } from './load.ts';

const { values } = parseArgs({
  options: {
    requests: { type: 'string', default: '4000' },
    concurrency: { type: 'string', default: '16' },
    seconds: { type: 'string', default: '20' },
  },
});
const REQUESTS = Number(values.requests);
const CONCURRENCY = Number(values.concurrency);
const MAX_MS = Number(values.seconds) * 1000;
const LISTEN = 28000;
const ADMIN = 28001;
const REPLICA = 28010;
const load = (origin: string, path: string, total: number) => loadWith(origin, path, { total, concurrency: CONCURRENCY, maxMs: MAX_MS });

async function main(): Promise<void> {
  const suite = new SupervisorSuite({
    suite: 'bench-proxy',
    adminPort: ADMIN,
    config: {
      runtime: 'process',
      listenPort: LISTEN,
      heartbeat: { intervalMs: 1000, timeoutMs: 800, failureThreshold: 3 },
      services: { acts: echoService({ replicas: { initial: 1, min: 1, max: 1 }, startPort: REPLICA, routes: ['/api/v1'] }) },
    },
    ready: { acts: 1 },
    readyTimeoutMs: 30_000,
  });
  await suite.run(async () => {
    // Warm both paths (JIT, connection pools), then measure direct first, then proxied.
    await load(`http://127.0.0.1:${REPLICA}`, '/api/v1/bench', 500);
    await load(`http://127.0.0.1:${LISTEN}`, '/api/v1/bench', 500);
    const direct = await load(`http://127.0.0.1:${REPLICA}`, '/api/v1/bench', REQUESTS);
    const proxied = await load(`http://127.0.0.1:${LISTEN}`, '/api/v1/bench', REQUESTS);
    console.log(`proxy overhead: ${REQUESTS} GETs, concurrency ${CONCURRENCY}, one echo replica, same run`);
    console.log(row('direct to the replica', direct));
    console.log(row('through the balancer', proxied));
    console.log(`ratio balancer/direct: ${ratios(proxied, direct)}`);
  });
}

await main();
