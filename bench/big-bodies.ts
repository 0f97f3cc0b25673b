// Issue 11, item 2: how a replica fares while 4 clients send it 16 MiB JSON bodies. The app
// runs as a process (SERVICE=all, SQLite, API_ACCESS=open, so anonymous bodies are read and
// parsed as the course's clients' are); each client posts 16 MiB bodies of the shapes that
// are slowest for JSON.parse (and a plain 16 MiB string) to POST /api/v1/acts/upvote, one
// after another, while a worker thread asks GET /api/v1/_health every 25 ms. Reported: the
// worst and p99 health-check latency under load, checks over 200 ms, the app's peak RSS
// (VmHWM) and its CPU time. With --before DIR (a checkout of an earlier commit, with its
// node_modules), that app is measured too, interleaved: before, after, before, after.
//
//   npm run bench:bodies -- [--before /tmp/sla-before] [--rounds 2] [--bodies 5]
// (the earlier checkout: `git worktree add --detach /tmp/sla-before <commit> && (cd /tmp/sla-before && npm ci)`)
//   npm run bench:bodies -- --container [--bodies 5]
// the shipped image with the shipped limits instead (big-bodies-container.ts), photo uploads too.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { request } from 'undici';
import { measureContainer, startHealthPoller } from './big-bodies-container.ts';
import { startCpuMeter } from './cpu.ts';
import { ResultRecorder } from './results.ts';
import { freePort } from '../testkit/ports.ts';
import { median, percentile } from './stats.ts';

const { values } = parseArgs({
  options: {
    before: { type: 'string' },
    rounds: { type: 'string', default: '2' },
    bodies: { type: 'string', default: '5' },
    clients: { type: 'string', default: '4' },
    container: { type: 'boolean', default: false },
  },
});
const ROUNDS = Math.min(5, Number(values.rounds));
const BODIES_PER_CLIENT = Math.min(20, Number(values.bodies));
const CLIENTS = Math.min(8, Number(values.clients));
const ROOT = path.resolve(import.meta.dirname, '..');
const MIB = 1024 * 1024;
const SIZE = 16 * MIB - 1024;
const HEALTH_BOUND_MS = 200;
const REQUEST_TIMEOUT_MS = 120_000;

/** 16 MiB bodies: the shapes JSON.parse is slowest on, and one it reads fast. */
function bodies(): Record<string, Buffer> {
  const fill = (head: string, unit: string, tail: string) =>
    Buffer.from(head + unit.repeat(Math.floor((SIZE - head.length - tail.length) / unit.length)) + tail);
  const keys: string[] = [];
  for (let i = 0, length = 2; length < SIZE - 32; i++) {
    const member = `"k${i}":0`;
    keys.push(member);
    length += member.length + 1;
  }
  const depth = Math.floor(SIZE / 2);
  return {
    'empty arrays': fill('[[]', ',[]', ']'),
    'distinct keys': Buffer.from(`{${keys.join(',')}}`),
    'nested arrays': Buffer.from('['.repeat(depth) + ']'.repeat(depth)),
    numbers: fill('[1234567', ',1234567', ']'),
    'one string': fill('["', 'x', '"]'),
  };
}

interface Figures {
  side: string;
  healthChecks: number;
  healthWorstMs: number;
  healthP99Ms: number;
  healthP50Ms: number;
  healthOverBound: number;
  healthFailed: number;
  rssBeforeMb: number;
  rssPeakMb: number;
  cpuSeconds: number;
  wallSeconds: number;
  statuses: Record<string, number>;
}

function statusField(text: string, field: string): number {
  return Number(new RegExp(`^${field}:\\s+(\\d+)`, 'm').exec(text)?.[1] ?? 0);
}

async function startApp(appDir: string): Promise<{ child: ChildProcess; url: string; dataDir: string }> {
  const port = await freePort();
  const dataDir = await mkdtemp(path.join(tmpdir(), 'selflessacts-bench-bodies-'));
  const child = spawn(process.execPath, ['--import', 'tsx', 'app/main.ts'], {
    cwd: appDir,
    env: {
      PATH: process.env.PATH,
      SERVICE: 'all',
      HOST: '127.0.0.1',
      PORT: String(port),
      DATA_DIR: dataDir,
      API_ACCESS: 'open',
      SESSION_SECRET: 'bench-big-bodies-secret-0123456789',
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 300; i++) {
    if (child.exitCode !== null) throw new Error(`the app in ${appDir} exited with ${child.exitCode}`);
    const up = await request(`${url}/api/v1/_health`).then(
      async (res) => {
        await res.body.dump();
        return res.statusCode === 200;
      },
      () => false,
    );
    if (up) return { child, url, dataDir };
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill('SIGKILL');
  throw new Error(`the app in ${appDir} did not become healthy`);
}

async function measure(side: string, appDir: string, shapes: Record<string, Buffer>): Promise<Figures> {
  const { child, url, dataDir } = await startApp(appDir);
  const pid = child.pid!;
  try {
    const rssBefore = statusField(await readFile(`/proc/${pid}/status`, 'utf8'), 'VmRSS');
    const cpu = startCpuMeter({ app: [pid] });
    const poller = startHealthPoller(`${url}/api/v1/_health`, 25);
    await new Promise((r) => setTimeout(r, 500)); // a few checks at rest first
    const names = Object.keys(shapes);
    const statuses: Record<string, number> = {};
    const started = performance.now();
    await Promise.all(
      Array.from({ length: CLIENTS }, async (_, client) => {
        for (let i = 0; i < BODIES_PER_CLIENT; i++) {
          const body = shapes[names[(client + i) % names.length]!]!;
          const outcome = await request(`${url}/api/v1/acts/upvote`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body,
            headersTimeout: REQUEST_TIMEOUT_MS,
            bodyTimeout: REQUEST_TIMEOUT_MS,
          }).then(
            async (res) => {
              await res.body.dump();
              return String(res.statusCode);
            },
            (err: Error) => (err as { code?: string }).code ?? err.message,
          );
          statuses[outcome] = (statuses[outcome] ?? 0) + 1;
        }
      }),
    );
    const wallSeconds = (performance.now() - started) / 1000;
    const checks = await poller.stop();
    const latencies = checks.map((c) => c.ms).sort((a, b) => a - b);
    const status = await readFile(`/proc/${pid}/status`, 'utf8');
    return {
      side,
      healthChecks: checks.length,
      healthWorstMs: Math.round(latencies.at(-1) ?? 0),
      healthP99Ms: Math.round(percentile(latencies, 0.99)),
      healthP50Ms: Math.round(percentile(latencies, 0.5)),
      healthOverBound: checks.filter((c) => c.ms > HEALTH_BOUND_MS).length,
      healthFailed: checks.filter((c) => !c.ok).length,
      rssBeforeMb: Math.round(rssBefore / 1024),
      rssPeakMb: Math.round(statusField(status, 'VmHWM') / 1024),
      cpuSeconds: Math.round(cpu.stop().app! / 10_000) / 100,
      wallSeconds: Math.round(wallSeconds * 10) / 10,
      statuses,
    };
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    await rm(dataDir, { recursive: true, force: true });
  }
}

function line(f: Figures): string {
  return (
    `${f.side.padEnd(7)} health worst ${String(f.healthWorstMs).padStart(5)} ms, p99 ${String(f.healthP99Ms).padStart(5)} ms, ` +
    `p50 ${String(f.healthP50Ms).padStart(4)} ms, ${f.healthOverBound}/${f.healthChecks} over ${HEALTH_BOUND_MS} ms, ${f.healthFailed} failed; ` +
    `RSS ${f.rssBeforeMb} → peak ${f.rssPeakMb} MB; app CPU ${f.cpuSeconds} s in ${f.wallSeconds} s; answers ${JSON.stringify(f.statuses)}`
  );
}

const shapes = bodies();
if (values.container) {
  await containerBench();
  process.exit(0);
}
const sides: [string, string][] = [
  ...(values.before ? [['before', path.resolve(values.before)] as [string, string]] : []),
  ['after', ROOT],
];
const runs: Figures[] = [];
console.log(
  `${CLIENTS} clients × ${BODIES_PER_CLIENT} bodies of 16 MiB (${Object.keys(shapes).join(', ')}) to POST /api/v1/acts/upvote, ${ROUNDS} rounds`,
);
for (let round = 0; round < ROUNDS; round++) {
  for (const [side, dir] of sides) {
    const figures = await measure(side, dir, shapes);
    runs.push(figures);
    console.log(line(figures));
  }
}
const worst = (side: string) =>
  runs.filter((r) => r.side === side).reduce((a, b) => (b.healthWorstMs > a.healthWorstMs ? b : a));
for (const [side] of sides) console.log(`worst of ${side}: ${line(worst(side))}`);

const recorder = new ResultRecorder('big-bodies', 'A replica while 4 clients send 16 MiB JSON bodies');
const of = (side: string) => runs.filter((r) => r.side === side);
const worstOf = (side: string) => Math.max(...of(side).map((r) => r.healthWorstMs));
const peakOf = (side: string) => Math.max(...of(side).map((r) => r.rssPeakMb));
const label = (side: string) => (side === 'before' ? 'before (the commit before issue 11)' : 'after');
await recorder.write({
  summary: [
    {
      figure: `worst GET /api/v1/_health while ${CLIENTS} clients send 16 MiB JSON bodies (${ROUNDS} rounds each side)`,
      value: sides.map(([side]) => `${side} ${worstOf(side)} ms`).join(', '),
    },
    {
      figure: 'peak RSS of that replica (VmHWM)',
      value: sides.map(([side]) => `${side} ${peakOf(side)} MB`).join(', '),
    },
  ],
  tables: [
    {
      caption: `${CLIENTS} clients × ${BODIES_PER_CLIENT} bodies of 16 MiB (${Object.keys(shapes).join(', ')}), health checked every 25 ms; one row per round, interleaved`,
      columns: [
        'side',
        'worst health',
        'p99',
        'p50',
        `checks over ${HEALTH_BOUND_MS} ms`,
        'failed checks',
        'RSS before → peak',
        'app CPU',
        'wall',
        'answers',
      ],
      rows: runs.map((r) => [
        label(r.side),
        `${r.healthWorstMs} ms`,
        `${r.healthP99Ms} ms`,
        `${r.healthP50Ms} ms`,
        `${r.healthOverBound} of ${r.healthChecks}`,
        String(r.healthFailed),
        `${r.rssBeforeMb} → ${r.rssPeakMb} MB`,
        `${r.cpuSeconds} s`,
        `${r.wallSeconds} s`,
        Object.entries(r.statuses)
          .map(([status, n]) => `${n}× ${status}`)
          .join(', '),
      ]),
    },
  ],
  figures: {
    clients: CLIENTS,
    bodiesPerClient: BODIES_PER_CLIENT,
    healthBoundMs: HEALTH_BOUND_MS,
    medianWorstMs: Object.fromEntries(sides.map(([side]) => [side, median(of(side).map((r) => r.healthWorstMs))])),
    runs,
  },
});

/** --container: the shipped image, its limits, JSON bodies then photo uploads; one result file of its own. */
async function containerBench(): Promise<void> {
  const phases = await measureContainer(shapes, BODIES_PER_CLIENT, CLIENTS);
  const recorder = new ResultRecorder(
    'big-bodies-container',
    'The shipped image (256 MB, 0.5 CPU) under 16 MiB bodies and large photo uploads',
  );
  const survived = phases.every((p) => p.running && !p.oomKilled);
  await recorder.write({
    summary: [
      {
        figure:
          'acts:latest at 256 MB / 0.5 CPU: 4 × 16 MiB bodies at once, then 4 large photo uploads at once (row 17, row 15)',
        value: `${survived ? 'survived' : 'KILLED'}; cgroup peak ${Math.max(...phases.map((p) => p.cgroupPeakMb))} MiB; worst health ${Math.max(...phases.map((p) => p.healthWorstMs))} ms, ${phases.reduce((n, p) => n + p.healthFailed, 0)} failed`,
      },
    ],
    tables: [
      {
        caption: 'one container, the phases in order (the cgroup peak only grows); health checked every 50 ms',
        columns: ['phase', 'answers', 'wall', 'worst health', 'p99', 'failed checks', 'cgroup peak', 'OOM-killed'],
        rows: phases.map((p) => [
          p.phase,
          Object.entries(p.statuses)
            .map(([status, n]) => `${n}× ${status}`)
            .join(', '),
          `${p.wallSeconds} s`,
          `${p.healthWorstMs} ms`,
          `${p.healthP99Ms} ms`,
          `${p.healthFailed} of ${p.healthChecks}`,
          `${p.cgroupPeakMb} MiB`,
          p.oomKilled ? 'yes' : 'no',
        ]),
      },
    ],
    figures: { phases },
  });
  if (!survived) throw new Error('the replica did not survive');
}
