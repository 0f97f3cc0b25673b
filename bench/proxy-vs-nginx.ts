// Our balancer against nginx on the same replicas: two echo replicas (process runtime) behind
// the supervisor and behind a real nginx (round robin, keep-alive, one worker), the same load
// generator, all measured in one run and printed as ratios. 127.0.0.1 only, bounded.
//
//   npx tsx bench/proxy-vs-nginx.ts [--requests 4000] [--concurrency 16] [--seconds 20]
import { parseArgs } from 'node:util';
import { SupervisorSuite, echoService } from '../testkit/supervisor.ts';
import { load, ratios, row, type LoadOptions } from './load.ts';
import { NGINX, startNginx } from './nginx.ts';

const { values } = parseArgs({
  options: {
    requests: { type: 'string', default: '4000' },
    concurrency: { type: 'string', default: '16' },
    seconds: { type: 'string', default: '20' },
  },
});
const OPTIONS: LoadOptions = { total: Number(values.requests), concurrency: Number(values.concurrency), maxMs: Number(values.seconds) * 1000 };
const WARM: LoadOptions = { ...OPTIONS, total: 500 };
const LISTEN = 28200;
const ADMIN = 28201;
const NGINX_PORT = 28202;
const REPLICAS = [28210, 28211];
const PATH = '/api/v1/bench';

async function main(): Promise<void> {
  const suite = new SupervisorSuite({
    suite: 'bench-nginx',
    adminPort: ADMIN,
    config: {
      runtime: 'process',
      listenPort: LISTEN,
      heartbeat: { intervalMs: 1000, timeoutMs: 800, failureThreshold: 3 },
      services: { acts: echoService({ replicas: { initial: 2, min: 2, max: 2 }, startPort: REPLICAS[0]!, routes: ['/api/v1'] }) },
    },
    ready: { acts: 2 },
    readyTimeoutMs: 30_000,
  });
  await suite.run(async () => {
    const nginx = await startNginx(NGINX_PORT, REPLICAS, PATH);
    try {
      const targets = {
        direct: `http://127.0.0.1:${REPLICAS[0]}`,
        nginx: nginx.origin,
        ours: `http://127.0.0.1:${LISTEN}`,
      };
      // Warm every path (JIT, pools), then measure each in turn.
      for (const origin of Object.values(targets)) await load(origin, PATH, WARM);
      const direct = await load(targets.direct, PATH, OPTIONS);
      const viaNginx = await load(targets.nginx, PATH, OPTIONS);
      const ours = await load(targets.ours, PATH, OPTIONS);
      console.log(`balancer vs nginx: ${OPTIONS.total} GETs, concurrency ${OPTIONS.concurrency}, two echo replicas, same run (${NGINX}, 1 worker)`);
      console.log(`ratio ours/nginx:  ${ratios(ours, viaNginx)}`);
      console.log(`ratio ours/direct: ${ratios(ours, direct)}`);
      console.log(`ratio nginx/direct: ${ratios(viaNginx, direct)}`);
      console.log(row('direct (one replica)', direct));
      console.log(row('nginx round robin', viaNginx));
      console.log(row('our balancer', ours));
    } finally {
      await nginx.stop();
    }
  });
}

await main();
