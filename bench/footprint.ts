// The footprint (issue 23): the supervisor's memory (GET /memory: the proportional set size of
// its process and of any helper process it started, each thread's heap) idle with 1 + 1
// replicas and with 10 acts replicas after 10,000 requests; each replica's memory idle and at
// the peak of 4 parallel 10 MB photo uploads; the supervisor's start-up (spawn → balancer
// listening with both services ready). The shipped config, the real app, in both runtimes
// (Docker: the acts/users images; process: children from the app's bundle). The supervisor as
// production runs it (`node supervisor`: its bundle) against the baseline of the same run, the
// same supervisor from its sources under tsx (what production ran before), rounds interleaved.
//
//   npm run bench:footprint -- [--rounds 2] [--runtimes docker,process]
import { parseArgs } from 'node:util';
import { measureFootprint, type Entry, type FootprintRun, type memoryFigures } from '../testkit/footprint.ts';
import { photoJpeg } from '../testkit/photos.ts';
import { ensureSupervisorBundle } from '../testkit/supervisor.ts';
import { ResultRecorder, toolVersion } from './results.ts';
import { median } from './stats.ts';

const { values } = parseArgs({
  options: { rounds: { type: 'string', default: '2' }, runtimes: { type: 'string', default: 'docker,process' } },
});
const ROUNDS = Math.max(1, Math.min(5, Number(values.rounds)));
const RUNTIMES = values.runtimes!.split(',').filter((r) => r === 'docker' || r === 'process') as Array<
  'docker' | 'process'
>;
const PORTS = { suite: 'bench-footprint', listen: 28600, admin: 28601, acts: 28610, users: 28630 };
const REQUESTS = 10_000;

/** What a replica's figure is in each runtime: the same measure, as each runtime can read it. */
const MEASURE = {
  docker: "the container's usage without the page cache (docker stats)",
  process: 'resident without file pages (RssAnon + RssShmem, like docker stats)',
} as const;

/** The process runtime's whole resident sets (VmRSS), file pages shared with every node process included. */
function withFiles(runs: FootprintRun[], text: (w: NonNullable<FootprintRun['withFiles']>) => string): string {
  const w = runs.map((r) => r.withFiles).filter((x) => x !== undefined);
  if (w.length === 0) return '';
  const mid = w[Math.floor((w.length - 1) / 2)]!;
  return `; VmRSS with the shared file pages: ${text(mid)} MB`;
}

function threadsText(f: ReturnType<typeof memoryFigures>): string {
  return Object.entries(f.threads)
    .map(([name, t]) => `${name} ${t.heapMb}+${t.externalMb}`)
    .join(', ');
}

async function main(): Promise<void> {
  const recorder = new ResultRecorder(
    'footprint',
    'the supervisor and the replicas in memory, idle and under load (issue 23)',
    {
      dockerd: toolVersion('docker', ['version', '--format', '{{.Server.Version}}']),
    },
  );
  await ensureSupervisorBundle();
  const photos = await Promise.all([0, 1].map((seed) => photoJpeg({ width: 5600, height: 4200, quality: 92, seed })));
  const runs: FootprintRun[] = [];
  for (const runtime of RUNTIMES) {
    for (let round = 1; round <= ROUNDS; round++) {
      // Interleaved, the baseline first in odd rounds: both sides see the same machine.
      const order: Entry[] = round % 2 === 1 ? ['sources', 'bundle'] : ['bundle', 'sources'];
      for (const entry of order) {
        const run = await measureFootprint(runtime, entry, round, photos, PORTS);
        runs.push(run);
        console.log(JSON.stringify(run));
      }
    }
  }
  const pick = (runtime: string, entry: Entry) => runs.filter((r) => r.runtime === runtime && r.entry === entry);
  const med = (xs: number[]) => Math.round(median(xs) * 10) / 10;
  const summary = RUNTIMES.flatMap((runtime) => {
    const b = pick(runtime, 'bundle');
    const s = pick(runtime, 'sources');
    const idle = med(b.map((r) => r.idle.totalPssMb));
    const before = med(s.map((r) => r.idle.totalPssMb));
    return [
      {
        figure: `supervisor (${runtime} runtime) idle with 1 + 1 replicas: PSS of its process and helpers (target ≤ 100 MB)`,
        value: `${idle} MB, ${Math.round((idle / before) * 100) / 100}× the same from sources under tsx (${before} MB)`,
      },
      {
        figure: `supervisor (${runtime} runtime) with 10 acts replicas after ${REQUESTS.toLocaleString('en')} requests (target ≤ 120 MB)`,
        value: `${med(b.map((r) => r.tenReplicas!.totalPssMb))} MB`,
      },
      {
        figure: `replicas (${runtime} runtime) idle: users / acts, ${MEASURE[runtime]} (target ≤ 80 MB)`,
        value: `${med(b.map((r) => r.usersIdleMb))} / ${med(b.map((r) => r.actsIdleMb))} MB (from sources under tsx: ${med(s.map((r) => r.usersIdleMb))} / ${med(s.map((r) => r.actsIdleMb))} MB)${withFiles(b, (w) => `${w.usersIdleMb} / ${w.actsIdleMb}`)}`,
      },
      {
        figure: `acts replica (${runtime} runtime) at the peak of 4 parallel 10 MB uploads, ${MEASURE[runtime]} (target ≤ 160 MB)`,
        value: `${med(b.map((r) => r.actsUploadPeakMb!))} MB${withFiles(b, (w) => `${w.actsUploadPeakMb}`)}`,
      },
      {
        figure: `supervisor (${runtime} runtime) start: spawn → both services ready, balancer listening`,
        value: `${med(b.map((r) => r.startMs))} ms from the bundle, ${med(s.map((r) => r.startMs))} ms from sources under tsx`,
      },
    ];
  });
  for (const row of summary) console.log(`${row.figure}: ${row.value}`);
  await recorder.write({
    summary,
    tables: [
      {
        caption: "Per run (MB; a thread's figure is its V8 heap resident + the memory outside it its objects hold)",
        columns: [
          'runtime',
          'supervisor',
          'round',
          'start ms',
          'idle PSS',
          'idle threads',
          'helpers',
          'users idle',
          'acts idle',
          'acts upload peak',
          'uploads',
          '10 replicas PSS',
          '10 replicas threads',
        ],
        rows: runs.map((r) => [
          r.runtime,
          r.entry === 'bundle' ? 'bundle' : 'sources (tsx)',
          String(r.round),
          String(r.startMs),
          String(r.idle.totalPssMb),
          threadsText(r.idle),
          String(r.idle.helpers),
          String(r.usersIdleMb),
          String(r.actsIdleMb),
          r.actsUploadPeakMb === undefined ? '–' : String(r.actsUploadPeakMb),
          r.uploads ?? '–',
          r.tenReplicas ? String(r.tenReplicas.totalPssMb) : '–',
          r.tenReplicas ? threadsText(r.tenReplicas) : '–',
        ]),
      },
    ],
    figures: { runs },
  });
}

await main();
