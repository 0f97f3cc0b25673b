// A supervisor restart under load, as a host with the shipped units has it: systemd (in a
// Debian container, testkit/systemd-rig.ts) holds selflessacts.socket, 4 clients send
// GETs (each on a new connection) through it, the supervisor gets `kill -9`, systemd restarts it
// (RestartSec, ExecStartPre, start-up, adoption, a health check), and the clients' requests
// wait in the socket's backlog meanwhile. Per round: refused connections, other failures (only
// requests the killed process had already accepted can be lost), the longest wait, the time
// without an answer. Replicas: 2 echo containers on the host's Docker Engine.
//
//   npm run bench:restart -- [--rounds 3]   (2 to 4)
import { parseArgs } from 'node:util';
import { DockerEngine } from '../engine-client/index.ts';
import { SystemdRig } from '../testkit/systemd-rig.ts';
import { ResultRecorder, toolVersion } from './results.ts';
import { secondsSpread } from './stats.ts';

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '3' } } });
// systemd's start limit (5 starts in 10 min: the unit's crash-loop guard) allows 4 restarts.
const ROUNDS = Math.max(2, Math.min(4, Number(values.rounds)));
const CLIENTS = 4;

async function main(): Promise<void> {
  const recorder = new ResultRecorder(
    'restart',
    'kill -9 of the supervisor under load, restarted by systemd on selflessacts.socket',
    {
      dockerd: toolVersion('docker', ['version', '--format', '{{.Server.Version}}']),
    },
  );
  const engine = new DockerEngine();
  const rig = new SystemdRig(engine, {
    suite: 'bench-restart',
    port: 28300,
    adminPort: 28301,
    startPort: 28310,
    replicas: 2,
    log: (l) => console.log(l),
  });
  const rounds: Awaited<ReturnType<SystemdRig['killUnderLoad']>>[] = [];
  try {
    await rig.up();
    await rig.systemctl('start', 'selflessacts.socket', 'selflessacts.service');
    for (let round = 0; round < ROUNDS; round++) {
      const r = await rig.killUnderLoad(CLIENTS, 2000);
      rounds.push(r);
      console.log(`round ${round + 1}: ${JSON.stringify(r)}`);
    }
  } finally {
    await rig.down();
    await engine.close();
  }
  const sum = (pick: (r: (typeof rounds)[number]) => number) => rounds.reduce((n, r) => n + pick(r), 0);
  const lost = (r: (typeof rounds)[number]) => Object.values(r.failed).reduce((n, v) => n + v, 0);
  const summary = [
    {
      figure: `supervisor \`kill -9\` under load (${CLIENTS} clients), restarted by systemd on selflessacts.socket: refused connections`,
      value: `${sum((r) => r.refused)} of ${sum((r) => r.requests)} requests (${rounds.length} rounds)`,
    },
    {
      figure: 'the same: requests lost (only those the killed process had accepted)',
      value: `${sum(lost)} (at most ${CLIENTS} per kill)`,
    },
    {
      figure: 'the same: time without an answer (kill → next answer)',
      value: secondsSpread(rounds.map((r) => r.firstAnswerAfterKillMs)),
    },
    {
      figure: 'the same: latency the restart added to the unluckiest request',
      value: secondsSpread(rounds.map((r) => r.addedMs)),
    },
  ];
  for (const row of summary) console.log(`${row.figure}: ${row.value}`);
  const ms = (n: number) => String(Math.round(n));
  await recorder.write({
    summary,
    tables: [
      {
        caption:
          'Per round: requests, refused, lost in flight, median and p99 latency before the kill, the longest wait across it, kill → next answer, kill → new supervisor accepting (ms)',
        columns: [
          'round',
          'requests',
          'refused',
          'lost',
          'p50 before',
          'p99 before',
          'longest wait',
          'no answer for',
          'accepting after',
        ],
        rows: rounds.map((r, i) => [
          String(i + 1),
          String(r.requests),
          String(r.refused),
          String(lost(r)),
          ms(r.beforeP50Ms),
          ms(r.beforeP99Ms),
          ms(r.worstAfterKillMs),
          ms(r.firstAnswerAfterKillMs),
          ms(r.restartedInMs),
        ]),
      },
    ],
    figures: { clients: CLIENTS, rounds },
  });
}

await main();
