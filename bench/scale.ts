// Time from a scaling window's end to the new replica count being ready (every replica of the
// service ready, the balancer routing to them), with real acts:latest containers, the shipped
// config and a short window. Each round: `requests` counted GETs through the balancer in a
// fresh window → floor(K / requestsPerReplica) + 1 replicas, then back down to one.
//
//   npm run bench:scale -- [--rounds 3] [--window 4] [--requests 45]
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { DockerEngine } from '../engine-client/index.ts';
import { http } from '../testkit/supervisor.ts';
import { shippedSuite } from '../testkit/shipped-config.ts';
import { ResultRecorder, toolVersion } from './results.ts';
import { median, secondsSpread } from './stats.ts';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '3' },
    window: { type: 'string', default: '4' },
    requests: { type: 'string', default: '45' },
  },
});
const ROUNDS = Math.max(2, Math.min(10, Number(values.rounds)));
const WINDOW_SECONDS = Number(values.window);
const REQUESTS = Math.min(500, Number(values.requests));
const PER_REPLICA = 20;
const SUITE = 'bench-scale';
const LISTEN = 28300;
const ADMIN = 28301;
const ACTS = 28320;
const TARGET = Math.min(10, Math.floor(REQUESTS / PER_REPLICA) + 1);

interface WindowStatus {
  endsAt: string;
}

async function main(): Promise<void> {
  const recorder = new ResultRecorder('scale', 'Window end → the new replica count ready', {
    dockerd: toolVersion('docker', ['version', '--format', '{{.Server.Version}}']),
  });
  const engine = new DockerEngine();
  const suite = shippedSuite(engine, {
    suite: SUITE,
    listenPort: LISTEN,
    adminPort: ADMIN,
    actsPort: ACTS,
    usersPort: 28310,
    overrides: { scaling: { windowSeconds: WINDOW_SECONDS, requestsPerReplica: PER_REPLICA, dampingWindows: 0 } },
  });
  const times: number[] = [];
  await suite.run(async (admin) => {
    for (let round = 1; round <= ROUNDS; round++) {
      // Counted requests open a window; all of them land in it.
      for (let i = 0; i < REQUESTS; i++) await http('GET', `http://127.0.0.1:${LISTEN}/api/v1/categories`);
      // The balancer reports its counts each second; the window shows once the scaler has them.
      const window = await admin.waitFor(
        (s) => s.services.acts!.window as unknown as WindowStatus | null,
        'a scaling window',
        5000,
      );
      const endsAt = Date.parse(window.endsAt);
      const replicas = await admin.waitReady('acts', TARGET, WINDOW_SECONDS * 1000 + 60_000);
      // The events' times, not this poll's: the last of the replicas to become ready.
      const events = await admin.events();
      const ready = Math.max(
        ...replicas.map((r) => Date.parse(events.findLast((e) => e.type === 'replica.ready' && e.id === r.id)!.time)),
      );
      times.push(ready - endsAt);
      console.log(`round ${round}: window end → ${TARGET} ready replicas in ${Math.round(times.at(-1)!)} ms`);
      // An idle window brings it back to one; the next round starts from there.
      await admin.waitReady('acts', 1, WINDOW_SECONDS * 3000 + 60_000);
      await sleep(500);
    }
  });
  const figure = `window end → ${TARGET} ready \`acts:latest\` replicas (window ${WINDOW_SECONDS} s, ${REQUESTS} requests)`;
  const summary = [{ figure, value: secondsSpread(times) }];
  console.log(`${figure}: ${summary[0]!.value}`);
  await recorder.write({
    summary,
    tables: [
      {
        caption: `Milliseconds from the window's end to the last of ${TARGET} replicas ready`,
        columns: ['round', 'window end → ready'],
        rows: [
          ...times.map((t, i) => [String(i + 1), String(Math.round(t))]),
          ['median', String(Math.round(median(times)))],
        ],
      },
    ],
    figures: {
      windowSeconds: WINDOW_SECONDS,
      requests: REQUESTS,
      requestsPerReplica: PER_REPLICA,
      target: TARGET,
      times,
    },
  });
}

await main();
