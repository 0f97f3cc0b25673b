// Proxy overhead: requests per second and latency through the balancer against the same
// replica dialled directly, measured in the same run and printed as ratios. One echo replica
// under the process runtime, 127.0.0.1 only, bounded by request count and time.
//
//   npx tsx bench/proxy.ts [--requests 4000] [--concurrency 16] [--seconds 20]
import { parseArgs } from 'node:util';
import { Pool } from 'undici';
import { Admin, SupervisorProcess, echoService, eventually, removeDir, tempDir, writeConfig } from '../test/supervisor/support.ts';

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

interface Figures {
  rps: number;
  p50: number;
  p99: number;
  done: number;
  errors: number;
}

/** `total` GETs over `concurrency` keep-alive connections, stopping early after MAX_MS. */
async function load(origin: string, path: string, total: number): Promise<Figures> {
  const pool = new Pool(origin, { connections: CONCURRENCY });
  const latencies: number[] = [];
  let issued = 0;
  let errors = 0;
  const started = performance.now();
  const worker = async () => {
    while (issued < total && performance.now() - started < MAX_MS) {
      issued += 1;
      const t0 = performance.now();
      try {
        const res = await pool.request({ method: 'GET', path });
        await res.body.dump();
        if (res.statusCode !== 200) errors += 1;
      } catch {
        errors += 1;
      }
      latencies.push(performance.now() - t0);
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  const elapsed = (performance.now() - started) / 1000;
  await pool.close();
  latencies.sort((a, b) => a - b);
  const pct = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * p))] ?? 0;
  return { rps: latencies.length / elapsed, p50: pct(0.5), p99: pct(0.99), done: latencies.length, errors };
}

async function main(): Promise<void> {
  const dir = await tempDir('bench-proxy');
  const file = await writeConfig({
    suite: 'bench-proxy',
    dir,
    runtime: 'process',
    listenPort: LISTEN,
    adminPort: ADMIN,
    heartbeat: { intervalMs: 1000, timeoutMs: 800, failureThreshold: 3 },
    services: { acts: echoService({ replicas: { initial: 1, min: 1, max: 1 }, startPort: REPLICA, routes: ['/api/v1'] }) },
  });
  const sup = SupervisorProcess.start(file);
  try {
    const admin = new Admin(`http://127.0.0.1:${ADMIN}`);
    await admin.waitReady('acts', 1, 30_000);
    await eventually(async () => ((await admin.status()).listen ? true : undefined), 'the balancer');
    // Warm both paths (JIT, connection pools), then measure direct first, then proxied.
    await load(`http://127.0.0.1:${REPLICA}`, '/api/v1/bench', 500);
    await load(`http://127.0.0.1:${LISTEN}`, '/api/v1/bench', 500);
    const direct = await load(`http://127.0.0.1:${REPLICA}`, '/api/v1/bench', REQUESTS);
    const proxied = await load(`http://127.0.0.1:${LISTEN}`, '/api/v1/bench', REQUESTS);
    const row = (name: string, f: Figures) =>
      `${name.padEnd(22)} ${f.rps.toFixed(0).padStart(7)} req/s   p50 ${f.p50.toFixed(2).padStart(6)} ms   p99 ${f.p99.toFixed(2).padStart(6)} ms   (${f.done} requests, ${f.errors} errors)`;
    console.log(`proxy overhead: ${REQUESTS} GETs, concurrency ${CONCURRENCY}, one echo replica, same run`);
    console.log(row('direct to the replica', direct));
    console.log(row('through the balancer', proxied));
    console.log(`ratio balancer/direct: throughput ${(proxied.rps / direct.rps).toFixed(2)}x, p50 latency ${(proxied.p50 / direct.p50).toFixed(2)}x, p99 latency ${(proxied.p99 / direct.p99).toFixed(2)}x`);
  } finally {
    await sup.stop();
    await removeDir(dir);
  }
}

await main();
