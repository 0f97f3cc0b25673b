// Proxy overhead: one echo replica (process runtime), loaded with wrk directly and through the
// supervisor's balancer, the same replica either way (equal baselines). Rounds interleave the
// two targets (ABBA), after an unmeasured warm-up of each; error replies are excluded from
// throughput; CPU per request of the supervisor (its balancer thread included) and of the
// replica comes from /proc/PID/stat. 127.0.0.1 only, bounded by duration and connections.
//
//   npm run bench:proxy -- [--rounds 2] [--connections 50] [--seconds 5]
import { parseArgs } from 'node:util';
import { SupervisorSuite, echoService } from '../testkit/supervisor.ts';
import { childPids } from './cpu.ts';
import { ResultRecorder, toolVersion } from './results.ts';
import { median } from './stats.ts';
import { WRK, describeRun, wrk, type WrkRun } from './wrk.ts';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '2' },
    connections: { type: 'string', default: '50' },
    seconds: { type: 'string', default: '5' },
  },
});
const ROUNDS = Math.max(2, Math.min(10, Number(values.rounds)));
const CONNECTIONS = Number(values.connections);
const SECONDS = Number(values.seconds);
const LISTEN = 28000;
const ADMIN = 28001;
const REPLICA = 28010;
const PATH = '/api/v1/bench';

type Target = 'direct' | 'balancer';

async function main(): Promise<void> {
  const recorder = new ResultRecorder('proxy', 'Balancer against the replica dialled directly', {
    wrk: toolVersion(WRK, ['-v']),
  });
  const suite = new SupervisorSuite({
    suite: 'bench-proxy',
    adminPort: ADMIN,
    config: {
      runtime: 'process',
      listenPort: LISTEN,
      heartbeat: { intervalMs: 1000, timeoutMs: 800, failureThreshold: 3 },
      services: {
        acts: echoService({ replicas: { initial: 1, min: 1, max: 1 }, startPort: REPLICA, routes: ['/api/v1'] }),
      },
    },
    ready: { acts: 1 },
    readyTimeoutMs: 30_000,
  });
  await suite.run(async () => {
    const supervisor = suite.sup.child.pid!;
    const replicas = childPids(supervisor);
    if (replicas.length !== 1)
      throw new Error(`expected one replica process under the supervisor, found ${replicas.length}`);
    const urls: Record<Target, string> = {
      direct: `http://127.0.0.1:${REPLICA}${PATH}`,
      balancer: `http://127.0.0.1:${LISTEN}${PATH}`,
    };
    const cpu: Record<Target, Record<string, number[]>> = {
      direct: { replica: replicas },
      balancer: { supervisor: [supervisor], replica: replicas },
    };
    const run = (target: Target, seconds = SECONDS) =>
      wrk({ url: urls[target], connections: CONNECTIONS, seconds, cpu: cpu[target] });
    await run('direct', 2); // warm-up: JIT, connection pools
    await run('balancer', 2);
    const runs: Record<Target, WrkRun[]> = { direct: [], balancer: [] };
    for (let round = 0; round < ROUNDS; round++) {
      const order: Target[] = round % 2 === 0 ? ['direct', 'balancer'] : ['balancer', 'direct'];
      for (const target of order) {
        const result = await run(target);
        runs[target].push(result);
        console.log(`round ${round + 1} ${target.padEnd(8)} ${describeRun(result)}`);
      }
    }
    const med = (target: Target, pick: (r: WrkRun) => number) => median(runs[target].map(pick));
    const rps = (t: Target) => med(t, (r) => r.rps);
    const p99 = (t: Target) => med(t, (r) => r.latencyMs.p99);
    const balancerCpu = med('balancer', (r) => r.cpuPerRequestUs.supervisor!);
    const errors = (t: Target) =>
      runs[t].reduce((sum, r) => sum + r.non2xx3xx + Object.values(r.socketErrors).reduce((a, b) => a + b, 0), 0);
    const load = `wrk -c${CONNECTIONS}, ${SECONDS} s, median of ${ROUNDS} interleaved rounds`;
    const tables = [
      {
        caption: `${load}; CPU from /proc/PID/stat per 2xx/3xx reply; "wrk" is the load generator's share of one core`,
        columns: [
          'target',
          'round',
          'req/s',
          'p50 ms',
          'p90 ms',
          'p99 ms',
          'errors',
          'supervisor µs/req',
          'replica µs/req',
          'wrk',
        ],
        rows: (['direct', 'balancer'] as const).flatMap((t) =>
          runs[t].map((r, i) => [
            t,
            String(i + 1),
            r.rps.toFixed(0),
            r.latencyMs.p50.toFixed(2),
            r.latencyMs.p90.toFixed(2),
            r.latencyMs.p99.toFixed(2),
            String(r.non2xx3xx + Object.values(r.socketErrors).reduce((a, b) => a + b, 0)),
            r.cpuPerRequestUs.supervisor?.toFixed(0) ?? '–',
            r.cpuPerRequestUs.replica!.toFixed(0),
            `${(r.generatorCores * 100).toFixed(0)} %`,
          ]),
        ),
      },
    ];
    const summary = [
      {
        figure: 'balancer throughput against the same replica dialled directly',
        value: `${(rps('balancer') / rps('direct')).toFixed(2)}× (${rps('balancer').toFixed(0)} vs ${rps('direct').toFixed(0)} req/s; ${load})`,
      },
      {
        figure: 'balancer p99 latency against direct',
        value: `${(p99('balancer') / p99('direct')).toFixed(2)}× (${p99('balancer').toFixed(1)} vs ${p99('direct').toFixed(1)} ms)`,
      },
      {
        figure: 'supervisor CPU per proxied request (balancer thread included)',
        value: `${balancerCpu.toFixed(0)} µs`,
      },
    ];
    for (const row of summary) console.log(`${row.figure}: ${row.value}`);
    await recorder.write({
      summary,
      tables,
      figures: {
        connections: CONNECTIONS,
        seconds: SECONDS,
        rounds: ROUNDS,
        errors: { direct: errors('direct'), balancer: errors('balancer') },
        runs,
      },
    });
  });
}

await main();
