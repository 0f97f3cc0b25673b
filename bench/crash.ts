// Time from POST /api/v1/_crash on a replica to a new healthy replica on the same port in
// rotation, repeated, and the steps in between from the supervisor's events. Default: the real
// acts:latest/users:latest images under Docker and the shipped heartbeat (1 s, 3 failures,
// 200 ms fast checks); --echo uses the trivial test image instead. --process: the shipped config
// under the process runtime, the app run from its prebuilt bundle (runtimes.process.bundle, the
// default) against the app compiled by tsx at each start (bundle false, as before), with tsx's
// transform cache (a machine that ran these sources before) and without it (TSX_DISABLE_CACHE:
// the first start after a change, or on a fresh machine), the sides alternating, each with its
// own supervisor, `--passes` times.
//
//   npm run bench:crash -- [--rounds 5] [--echo]
//   npm run bench:crash -- --process [--rounds 3] [--passes 2]
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { DockerEngine } from '../engine-client/index.ts';
import {
  SupervisorSuite,
  echoService,
  eventually,
  http,
  repoRoot,
  type Admin,
  type EventRecord,
} from '../testkit/supervisor.ts';
import { ResultRecorder, toolVersion } from './results.ts';
import { shippedSetup, shippedSuite } from '../testkit/shipped-config.ts';
import { median, secondsSpread } from './stats.ts';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string' },
    echo: { type: 'boolean', default: false },
    process: { type: 'boolean', default: false },
    passes: { type: 'string', default: '2' },
  },
});
const ROUNDS = Math.max(2, Math.min(20, Number(values.rounds ?? (values.process ? 3 : 5))));
const PASSES = Math.max(1, Math.min(5, Number(values.passes)));
const SUITE = 'bench-crash';
const LISTEN = 28100;
const ADMIN = 28101;
const ACTS = 28120;
const PORTS = { suite: SUITE, listenPort: LISTEN, adminPort: ADMIN, actsPort: ACTS, usersPort: 28110 };
const IMAGE = values.echo ? 'the echo test image' : 'acts:latest';

/** Milliseconds from the crash to each step, and to the first 200 through the balancer. */
interface Round {
  failed: number;
  stopped: number;
  started: number;
  ready: number;
  inRotation: number;
}

function stepsOf(events: EventRecord[], oldId: string, newId: string, crashedAt: number): Omit<Round, 'inRotation'> {
  const at = (type: string, id: string) => {
    const event = events.find((e) => e.type === type && e.id === id);
    if (!event) throw new Error(`no ${type} event for ${id}`);
    return Date.parse(event.time) - crashedAt;
  };
  return {
    failed: at('replica.failed', oldId),
    stopped: at('replica.stopped', oldId),
    started: at('replica.replaced', newId),
    ready: at('replica.ready', newId),
  };
}

async function crashRounds(admin: Admin, count: number, label: string): Promise<Round[]> {
  const rounds: Round[] = [];
  for (let round = 0; round < count; round++) {
    const old = (await admin.status()).services.acts!.replicas[0]!;
    await sleep(Math.random() * 1000); // crash at a random point of the heartbeat interval
    const crashedAt = Date.now();
    const t0 = performance.now();
    await http('POST', `http://127.0.0.1:${ACTS}/api/v1/_crash`);
    const fresh = await admin.waitFor(
      (s) => s.services.acts!.replicas.find((r) => r.id !== old.id && r.state === 'ready'),
      'the replacement',
      60_000,
    );
    // In rotation: the balancer answers from it.
    await eventually(
      async () => ((await http('GET', `http://127.0.0.1:${LISTEN}/api/v1/_health`)).status === 200 ? true : undefined),
      'a 200 through the balancer',
      10_000,
      20,
    );
    const inRotation = performance.now() - t0;
    rounds.push({ ...stepsOf(await admin.events(), old.id, fresh.id, crashedAt), inRotation });
    const r = rounds.at(-1)!;
    console.log(
      `${label}round ${round + 1}: in rotation after ${Math.round(r.inRotation)} ms (failed +${r.failed}, stopped +${r.stopped}, new replica +${r.started}, ready +${r.ready} ms)`,
    );
    // A replica ready for less than backoff.resetAfterMs (10 s) that fails again is a crash
    // loop and is restarted later and later, by design: let each round start fresh.
    await sleep(10_500);
  }
  return rounds;
}

const ms = (n: number) => String(Math.round(n));
const STEPS = ['failed', 'stopped', 'started', 'ready', 'inRotation'] as const;

async function containers(): Promise<void> {
  const recorder = new ResultRecorder(
    values.echo ? 'crash-echo' : 'crash',
    `_crash → a healthy replacement in rotation (${IMAGE})`,
    {
      dockerd: toolVersion('docker', ['version', '--format', '{{.Server.Version}}']),
    },
  );
  const engine = new DockerEngine();
  const echo = {
    runtime: 'docker' as const,
    listenPort: LISTEN,
    heartbeat: { intervalMs: 1000, timeoutMs: 800, failureThreshold: 3, fastIntervalMs: 200 },
    services: { acts: echoService({ replicas: { initial: 1, min: 1, max: 1 }, startPort: ACTS, routes: ['/api/v1'] }) },
  };
  const rounds = await shippedSuite(engine, PORTS, values.echo ? echo : undefined).run((admin) =>
    crashRounds(admin, ROUNDS, ''),
  );
  const all = (pick: (r: Round) => number) => rounds.map(pick);
  const summary = [
    {
      figure: `\`_crash\` → new healthy ${IMAGE} replica in rotation, shipped heartbeat`,
      value: secondsSpread(all((r) => r.inRotation)),
    },
    {
      figure: `\`_crash\` → failure confirmed (${IMAGE}, heartbeat 1 s, fast checks 200 ms, 3 failures)`,
      value: secondsSpread(all((r) => r.failed)),
    },
  ];
  for (const row of summary) console.log(`${row.figure}: ${row.value}`);
  await recorder.write({
    summary,
    tables: [
      {
        caption: `Milliseconds from \`_crash\` to each step (the supervisor's events), medians last`,
        columns: [
          'round',
          'failure confirmed',
          'old stopped',
          'new container',
          'new ready',
          '200 through the balancer',
        ],
        rows: [
          ...rounds.map((r, i) => [
            String(i + 1),
            ms(r.failed),
            ms(r.stopped),
            ms(r.started),
            ms(r.ready),
            ms(r.inRotation),
          ]),
          ['median', ...STEPS.map((k) => ms(median(all((r) => r[k]))))],
        ],
      },
    ],
    figures: { image: IMAGE, heartbeat: { intervalMs: 1000, fastIntervalMs: 200, failureThreshold: 3 }, rounds },
  });
}

type Side = 'bundle' | 'tsx' | 'tsx-cold';
const SIDES: readonly Side[] = ['tsx-cold', 'tsx', 'bundle'];
const SIDE_NAME: Record<Side, string> = {
  'tsx-cold': 'tsx, no transform cache (before)',
  tsx: 'tsx, its cache warm (before)',
  bundle: 'prebuilt bundle',
};

async function processes(): Promise<void> {
  const recorder = new ResultRecorder(
    'crash-process',
    '_crash → a healthy replacement in rotation, process runtime: prebuilt bundle against tsx',
    {
      tsx: toolVersion(path.join(repoRoot, 'node_modules/.bin/tsx'), ['--version']),
    },
  );
  const shipped = JSON.parse(await readFile(path.join(repoRoot, 'config/orchestrator.json'), 'utf8')) as {
    runtimes: { process: { inheritEnv: string[] } };
  };
  const rounds: Record<Side, Round[]> = { bundle: [], tsx: [], 'tsx-cold': [] };
  const boots: Record<Side, number[]> = { bundle: [], tsx: [], 'tsx-cold': [] };
  for (let pass = 0; pass < PASSES; pass++) {
    for (const side of SIDES) {
      const settings = { ...shipped.runtimes.process, bundle: side === 'bundle' };
      if (side === 'tsx-cold') settings.inheritEnv = [...settings.inheritEnv, 'TSX_DISABLE_CACHE'];
      const setup = shippedSetup(undefined, {
        ...PORTS,
        overrides: { runtimes: { ...shipped.runtimes, process: settings } },
      });
      const suite = new SupervisorSuite(side === 'tsx-cold' ? { ...setup, env: { TSX_DISABLE_CACHE: '1' } } : setup);
      const t0 = Date.now();
      rounds[side].push(
        ...(await suite.run(async (admin) => {
          boots[side].push(Date.now() - t0);
          return crashRounds(admin, ROUNDS, `pass ${pass + 1}, ${side}: `);
        })),
      );
    }
  }
  const sideRow = (side: Side) => {
    const of = (k: (typeof STEPS)[number]) => ms(median(rounds[side].map((r) => r[k])));
    return [
      SIDE_NAME[side],
      String(rounds[side].length),
      ms(median(boots[side])),
      of('failed'),
      ms(median(rounds[side].map((r) => r.ready - r.started))),
      of('inRotation'),
    ];
  };
  const summary = SIDES.flatMap((side) => [
    {
      figure: `process runtime, ${SIDE_NAME[side]}: new acts process → ready`,
      value: secondsSpread(rounds[side].map((r) => r.ready - r.started)),
    },
    {
      figure: `process runtime, ${SIDE_NAME[side]}: \`_crash\` → replacement in rotation`,
      value: secondsSpread(rounds[side].map((r) => r.inRotation)),
    },
  ]);
  for (const row of summary) console.log(`${row.figure}: ${row.value}`);
  await recorder.write({
    summary,
    tables: [
      {
        caption: `Medians in milliseconds, the two sides alternating (${PASSES} passes of ${ROUNDS} rounds each, each pass its own supervisor on the shipped config, SQLite)`,
        columns: [
          'acts replica runs',
          'rounds',
          'supervisor start → users and acts ready',
          '`_crash` → failure confirmed',
          'new process → ready',
          '`_crash` → 200 through the balancer',
        ],
        rows: SIDES.map(sideRow),
      },
    ],
    figures: {
      passes: PASSES,
      roundsPerPass: ROUNDS,
      heartbeat: { intervalMs: 1000, fastIntervalMs: 200, failureThreshold: 3 },
      boots,
      rounds,
    },
  });
}

await (values.process ? processes() : containers());
