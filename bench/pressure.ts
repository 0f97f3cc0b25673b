// The pressure table (issue 22): the suites of test/pressure/ (the same files CI runs, each
// asserting its bounds) with PRESSURE_ROWS set, so each records what the system did: a 1 GiB
// memory budget asked for the maximum, CPU hogs, health checks late on a busy host, the database
// away for 20 s, users rolled and crashed under writes, 16 uploads of 10 MB, a supervisor
// restart without the socket. Writes bench/results/pressure.json; with `--before DIR`, runs the
// same files in DIR (a worktree of older code with this tree's test/pressure/ and testkit/
// copied in) with PRESSURE_BEFORE=1 into pressure-before.json: the suites' assertions fail there,
// the figures are what that code did. Prints both side by side when both exist.
//
//   npm run bench:pressure [-- --rows memory,cpu,...] [--before DIR]
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { ResultRecorder, readResults, type BenchResult } from './results.ts';

type Figures = Record<string, number | string | boolean | null>;

interface RowSpec {
  file: string;
  pressure: string;
  /** The figures in words. */
  describe(f: Figures): string;
}

const ROWS: Record<string, RowSpec> = {
  memory: {
    file: 'memory-budget.test.ts',
    pressure:
      'users 2 and acts 10 asked (the shipped max), the whole system (process runtime) in a 1 GiB budget without swap, reads and writes and 8 uploads of 10 MB at once',
    describe: (f) =>
      `${f.usersReady !== undefined ? `${f.usersReady} users and ` : ''}${f.actsReady} acts ready of ${f.asked} asked (capped: ${f.capped ?? 'no'}); supervisor ${f.supervisorRunning ? 'running' : f.supervisorOomKilled ? 'OOM-killed, the whole system down' : 'gone'}${f.oomKills !== null ? `, ${f.oomKills} OOM kills` : ''}, peak ${f.peakMb} MB; ${f.failedReads} of ${f.reads} reads${f.writes !== undefined ? ` and ${f.failedWrites} of ${f.writes} writes` : ''} failed, ${f.uploadsCreated} of ${f.uploads} uploads 201`,
  },
  cpu: {
    file: 'cpu-hogs.test.ts',
    pressure: 'CPU hogs on both cores (busy processes) for 60 s, reads through the balancer, acts at 3',
    describe: (f) =>
      `${f.replicasKilled} replicas killed, ${f.failedReads} of ${f.reads} reads failed (slowest ${f.slowestMs} ms); ${f.outOfRotation} out of rotation, ${f.keptByLimit} kept by the limit`,
  },
  'slow-host': {
    file: 'slow-host.test.ts',
    pressure: 'every health check 1.5 s late for 15 s on 3 live replicas (a busy host, the shipped 800 ms heartbeat)',
    describe: (f) =>
      `${f.replicasKilled} replicas killed, at most ${f.mostOutOfRotation} of 3 out of rotation, ${f.keptByLimit} kept by the limit; ${f.failedRequests} of ${f.requests} requests failed`,
  },
  database: {
    file: 'db-outage.test.ts',
    pressure: 'MariaDB unreachable for 20 s (process runtime)',
    describe: (f) =>
      `${f.replicasKilled} replicas killed, ${f.replicasStarted} started; ${f.answered503WithRetryAfter} of ${f.requests} answers 503 with Retry-After (${f.fromReplicas} from the replicas); serving again ${f.servingAgainMs} ms after it returned`,
  },
  users: {
    file: 'users-roll.test.ts',
    pressure: 'users rolled (SIGHUP) and its replica crashed while acts takes writes',
    describe: (f) =>
      `${f.failedWrites} of ${f.writes} writes failed${Number(f.failedWrites) > 0 ? ` ${f.failures}` : ''}; the longest write ${f.longestWriteMs} ms`,
  },
  uploads: {
    file: 'uploads.test.ts',
    pressure: '16 photo uploads of 10 MB at once through the balancer (acts at 2)',
    describe: (f) =>
      `${f.created} of ${f.uploads} answered 201${f.others !== '{}' ? ` (others: ${f.others})` : ''} in ${f.seconds} s; ${f.replicasKilled} replicas killed`,
  },
  restart: {
    file: 'restart.test.ts',
    pressure: 'supervisor `kill -9` and restart without the socket, under load',
    describe: (f) =>
      `${f.answered503} × 503 of ${f.requests} requests over ${f.rounds} restarts (${f.refused} refused while it was down)`,
  },
};

const { values } = parseArgs({
  options: { rows: { type: 'string', default: Object.keys(ROWS).join(',') }, before: { type: 'string' } },
});
const names = values.rows!.split(',').filter((n) => n in ROWS);
const root = values.before ? path.resolve(values.before) : process.cwd();
const resultName = values.before ? 'pressure-before' : 'pressure';

function run(): { rows: Map<string, Figures>; failed: string[] } {
  const spool = mkdtempSync(path.join(tmpdir(), 'sa-pressure-'));
  const rowsFile = path.join(spool, 'rows.jsonl');
  const failed: string[] = [];
  try {
    for (const name of names) {
      const spec = ROWS[name]!;
      console.log(`== ${name}: ${spec.pressure}`);
      const result = spawnSync('bash', ['scripts/test.sh', `test/pressure/${spec.file}`], {
        cwd: root,
        stdio: 'inherit',
        env: { ...process.env, PRESSURE_ROWS: rowsFile, ...(values.before ? { PRESSURE_BEFORE: '1' } : {}) },
      });
      if (result.status !== 0) failed.push(name);
    }
    const rows = new Map<string, Figures>();
    let text = '';
    try {
      text = readFileSync(rowsFile, 'utf8');
    } catch {
      text = '';
    }
    for (const line of text.split('\n').filter(Boolean)) {
      const { row, figures } = JSON.parse(line) as { row: string; figures: Figures };
      rows.set(row, figures);
    }
    return { rows, failed };
  } finally {
    rmSync(spool, { recursive: true, force: true });
  }
}

function words(name: string, figures: Figures | undefined): string {
  return figures ? ROWS[name]!.describe(figures) : 'not measured';
}

async function main(): Promise<void> {
  const recorder = new ResultRecorder(
    resultName,
    values.before ? 'the pressure suite on the code before issue 22' : 'the pressure suite (test/pressure/)',
  );
  const { rows, failed } = run();
  const results = (await readResults()) as Map<string, BenchResult & { figures: { rows: Record<string, Figures> } }>;
  const other = results.get(values.before ? 'pressure' : 'pressure-before');
  // Rows not run this time (--rows) keep what the last run of the same side measured.
  const ours = { ...results.get(resultName)?.figures.rows, ...Object.fromEntries(rows) };
  const before = values.before ? ours : other?.figures.rows;
  const after = values.before ? other?.figures.rows : ours;
  const table = {
    caption: 'Each pressure, what the code before issue 22 did (`pressure-before`) and what it does now (`pressure`)',
    columns: ['pressure', 'before', 'now'],
    rows: Object.keys(ROWS).map((name) => [
      ROWS[name]!.pressure,
      words(name, before?.[name]),
      words(name, after?.[name]),
    ]),
  };
  for (const [pressure, was, now] of table.rows) console.log(`${pressure}\n  before: ${was}\n  now:    ${now}`);
  if (failed.length > 0) console.log(`suites whose assertions failed: ${failed.join(', ')}`);
  await recorder.write({
    summary: values.before
      ? []
      : Object.keys(ROWS).map((name) => ({
          figure: `pressure: ${ROWS[name]!.pressure}`,
          value: words(name, ours[name]),
        })),
    tables: [table],
    figures: { rows: ours, failedSuites: failed },
  });
  if (!values.before && failed.length > 0) process.exitCode = 1;
}

await main();
