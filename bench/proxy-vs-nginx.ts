// Our balancer against nginx and against a plain Node proxy, on the same two echo replicas
// (process runtime), loaded by wrk at several concurrencies (issue 10's benchmark). Two phases:
//   1. one balancer thread   vs nginx `worker_processes 1` vs the plain proxy (one thread)
//   2. `threads` balancer threads (default: the cores) vs nginx `worker_processes auto`
// Rounds interleave the targets (the order rotates each round) after an unmeasured warm-up of
// each. CPU per 2xx reply of each proxy from /proc/PID/stat (ours: the supervisor process, all
// its threads; nginx: master and workers; plain: its process), throughput, p99 latency, and
// the ratios. wrk's own share of a core is recorded, to show the load generator did not limit.
// 127.0.0.1 only, bounded by duration and connections.
//
//   npm run bench:nginx -- [--rounds 2] [--seconds 5] [--connections 16,64,256] [--threads N] [--profile]
//     [--parser auto|llhttp|own] [--syscalls]
//
// --parser: how our balancer reads the replicas' replies (balancer.upstreamParser); `own` (the
// parser on public APIs only) records into bench/results/nginx-own-parser.json beside the default.
//
// --profile: instead, one extra run of ours (one thread, -c64) under --cpu-prof; the balancer
// thread's profile is summarised into bench/results/nginx-profile.json (bench/profile-summary.ts).
//
// --syscalls: instead, rounds of one thread each (ours, nginx, the plain proxy) under `perf stat`
// on the system-call tracepoints: calls per request by name, and CPU per request split into user
// and kernel time (bench/syscalls.ts; bench/results/nginx-syscalls.json).
import { spawn } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { request } from 'undici';
import { SupervisorSuite, echoService, repoRoot } from '../testkit/supervisor.ts';
import { childPids } from './cpu.ts';
import { NGINX, startNginx } from './nginx.ts';
import { balancerProfile, writeProfileResult } from './profile-summary.ts';
import { PERF, SYSCALLS, kernelEvents, startKernelMeter, type KernelCounts } from './syscalls.ts';
import { ResultRecorder, toolVersion, type ResultTable, type SummaryRow } from './results.ts';
import { median } from './stats.ts';
import { WRK, describeRun, wrk, type WrkRun } from './wrk.ts';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '2' },
    seconds: { type: 'string', default: '5' },
    connections: { type: 'string', default: '16,64,256' },
    threads: { type: 'string', default: String(availableParallelism()) },
    profile: { type: 'boolean', default: false },
    syscalls: { type: 'boolean', default: false },
    parser: { type: 'string', default: 'auto' },
  },
});
const ROUNDS = Math.max(2, Math.min(10, Number(values.rounds)));
const SECONDS = Number(values.seconds);
const CONNECTIONS = values.connections.split(',').map(Number);
const THREADS = Math.max(1, Math.min(64, Number(values.threads)));
if (!['auto', 'llhttp', 'own'].includes(values.parser)) throw new Error('--parser must be auto, llhttp or own');
const PARSER = values.parser as 'auto' | 'llhttp' | 'own';
const LISTEN = 30200;
const ADMIN = 30201;
const NGINX_PORT = 30202;
const PLAIN_PORT = 30203;
const REPLICAS = [30210, 30211];
const PATH = '/api/v1/bench';

interface Target {
  name: string;
  url: string;
  pids: () => number[];
}

interface Cell<R = WrkRun> {
  target: string;
  connections: number;
  runs: R[];
}

function suiteFor(threads: number, env?: Record<string, string>): SupervisorSuite {
  return new SupervisorSuite({
    suite: 'bench-nginx',
    adminPort: ADMIN,
    config: {
      runtime: 'process',
      listenPort: LISTEN,
      heartbeat: { intervalMs: 1000, timeoutMs: 800, failureThreshold: 3 },
      services: {
        acts: echoService({ replicas: { initial: 2, min: 2, max: 2 }, startPort: REPLICAS[0]!, routes: ['/api/v1'] }),
      },
      extra: { balancer: { threads, upstreamParser: PARSER } },
    },
    ready: { acts: 2 },
    readyTimeoutMs: 30_000,
    ...(env ? { env } : {}),
  });
}

/** The plain proxy as a child process; resolves once it answers. */
async function startPlain(): Promise<{ pid: number; stop(): Promise<void> }> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'bench/plain-proxy.ts', String(PLAIN_PORT), ...REPLICAS.map(String)],
    { cwd: repoRoot, stdio: 'ignore' },
  );
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    child.kill('SIGTERM');
    await Promise.race([exited, sleep(5000)]);
  };
  for (let i = 0; i < 100; i++) {
    try {
      const res = await request(`http://127.0.0.1:${PLAIN_PORT}${PATH}`);
      await res.body.dump();
      if (res.statusCode === 200) return { pid: child.pid!, stop };
    } catch {
      // not yet
    }
    await sleep(100);
  }
  await stop();
  throw new Error('the plain proxy did not answer within 10 s');
}

/** Warm-up, then rounds over every concurrency with the targets' order rotating; `runOne` measures one run. */
async function interleaved<R>(
  targets: Target[],
  runOne: (target: Target, connections: number, round: number) => Promise<R>,
): Promise<Array<Cell<R>>> {
  for (const t of targets) await wrk({ url: t.url, connections: 64, seconds: 2 });
  const cells: Array<Cell<R>> = [];
  for (const connections of CONNECTIONS) for (const t of targets) cells.push({ target: t.name, connections, runs: [] });
  for (let round = 0; round < ROUNDS; round++) {
    for (const connections of CONNECTIONS) {
      const order = targets.map((_, i) => targets[(i + round) % targets.length]!);
      for (const t of order) {
        const run = await runOne(t, connections, round);
        cells.find((c) => c.target === t.name && c.connections === connections)!.runs.push(run);
      }
    }
  }
  return cells;
}

function measure(phase: string, targets: Target[]): Promise<Cell[]> {
  return interleaved(targets, async (t, connections, round) => {
    const run = await wrk({ url: t.url, connections, seconds: SECONDS, cpu: { proxy: t.pids() } });
    console.log(
      `${phase} round ${round + 1} c${String(connections).padEnd(4)} ${t.name.padEnd(14)} ${describeRun(run)}`,
    );
    return run;
  });
}

const med = (cell: Cell, pick: (r: WrkRun) => number) => median(cell.runs.map(pick));
const rps = (c: Cell) => med(c, (r) => r.rps);
const p99 = (c: Cell) => med(c, (r) => r.latencyMs.p99);
const cpu = (c: Cell) => med(c, (r) => r.cpuPerRequestUs.proxy!);
const wrkShare = (c: Cell) => Math.max(...c.runs.map((r) => r.generatorCores));
const errors = (c: Cell) =>
  c.runs.reduce((sum, r) => sum + r.non2xx3xx + Object.values(r.socketErrors).reduce((a, b) => a + b, 0), 0);
const x = (n: number) => `${n.toFixed(2)}×`;

function cellTable(caption: string, cells: Cell[]): ResultTable {
  return {
    caption,
    columns: ['connections', 'proxy', 'req/s', 'p50 ms', 'p99 ms', 'CPU µs/req', 'errors', 'wrk (max share of a core)'],
    rows: cells.map((c) => [
      String(c.connections),
      c.target,
      rps(c).toFixed(0),
      med(c, (r) => r.latencyMs.p50).toFixed(2),
      p99(c).toFixed(2),
      cpu(c).toFixed(1),
      String(errors(c)),
      `${(wrkShare(c) * 100).toFixed(0)} %`,
    ]),
  };
}

function ratioRows(
  cells: Cell[],
  ours: string,
  other: string,
): Array<{ c: number; rps: number; cpu: number; p99: number }> {
  return CONNECTIONS.map((c) => {
    const a = cells.find((x) => x.target === ours && x.connections === c)!;
    const b = cells.find((x) => x.target === other && x.connections === c)!;
    return { c, rps: rps(a) / rps(b), cpu: cpu(a) / cpu(b), p99: p99(a) / p99(b) };
  });
}

/** Ours, nginx and (with `withPlain`) the plain proxy, on the same two replicas, for as long as `use` runs. */
async function withTargets<T>(threads: number, withPlain: boolean, use: (targets: Target[]) => Promise<T>): Promise<T> {
  const suite = suiteFor(threads);
  return suite.run(async () => {
    const nginx = await startNginx(
      { listenPort: NGINX_PORT, upstreamPorts: REPLICAS, workers: threads === 1 ? 1 : 'auto', keepalive: 64 },
      PATH,
    );
    const plain = withPlain ? await startPlain() : undefined;
    try {
      const supervisor = suite.sup.child.pid!;
      const targets: Target[] = [
        {
          name: threads === 1 ? 'ours (1 thread)' : `ours (${threads} threads)`,
          url: `http://127.0.0.1:${LISTEN}${PATH}`,
          pids: () => [supervisor],
        },
        {
          name: threads === 1 ? 'nginx (1 worker)' : 'nginx (auto)',
          url: `http://127.0.0.1:${NGINX_PORT}${PATH}`,
          pids: () => [nginx.pid, ...childPids(nginx.pid)],
        },
      ];
      if (plain)
        targets.push({
          name: 'plain Node proxy',
          url: `http://127.0.0.1:${PLAIN_PORT}${PATH}`,
          pids: () => [plain.pid],
        });
      return await use(targets);
    } finally {
      await plain?.stop();
      await nginx.stop();
    }
  });
}

function phase(threads: number, withPlain: boolean): Promise<Cell[]> {
  return withTargets(threads, withPlain, (targets) =>
    measure(threads === 1 ? 'one thread' : `${threads} threads`, targets),
  );
}

async function profile(): Promise<void> {
  const dir = await mkdtemp(path.join(tmpdir(), 'sa-bench-prof-'));
  try {
    const suite = suiteFor(1, { NODE_OPTIONS: `--cpu-prof --cpu-prof-dir=${dir}` });
    let run: WrkRun | undefined;
    await suite.run(async () => {
      await wrk({ url: `http://127.0.0.1:${LISTEN}${PATH}`, connections: 64, seconds: 2 });
      run = await wrk({
        url: `http://127.0.0.1:${LISTEN}${PATH}`,
        connections: 64,
        seconds: SECONDS,
        cpu: { proxy: [suite.sup.child.pid!] },
      });
      console.log(`profiled run: ${describeRun(run)}`);
    });
    const summary = await balancerProfile(dir);
    await writeProfileResult(summary, run!);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

type KernelCell = Cell<{ run: WrkRun; kernel: KernelCounts }>;

/** Rounds of each target under perf stat. */
function countKernel(targets: Target[], events: readonly string[]): Promise<KernelCell[]> {
  return interleaved(targets, async (t, connections, round) => {
    const meter = await startKernelMeter(t.pids(), events);
    const run = await wrk({ url: t.url, connections, seconds: SECONDS });
    const kernel = await meter.stop();
    const per = (n: number) => (n / run.ok).toFixed(2);
    console.log(
      `round ${round + 1} c${String(connections).padEnd(4)} ${t.name.padEnd(16)} ${run.rps.toFixed(0)} req/s  ` +
        `${per(kernel.calls.total!)} calls/req  user ${per(kernel.userUs)} µs/req  kernel ${per(kernel.kernelUs)} µs/req`,
    );
    return { run, kernel };
  });
}

async function syscalls(): Promise<void> {
  const events = kernelEvents();
  const recorder = new ResultRecorder(
    'nginx-syscalls',
    'System calls and kernel time per request: ours, nginx, the plain proxy',
    {
      wrk: toolVersion(WRK, ['-v']),
      nginx: toolVersion(NGINX, ['-v']),
      perf: toolVersion(PERF, ['--version']),
    },
  );
  const cells = await withTargets(1, true, (targets) => countKernel(targets, events));
  const perRequest = (cell: KernelCell, pick: (k: KernelCounts) => number) =>
    median(cell.runs.map(({ run, kernel }) => pick(kernel) / run.ok));
  const at = (target: string, connections: number) =>
    cells.find((c) => c.target === target && c.connections === connections)!;
  const names = ['total', ...SYSCALLS, 'other'].filter((name) =>
    cells.some((c) => perRequest(c, (k) => k.calls[name] ?? 0) >= 0.005),
  );
  const targets = [...new Set(cells.map((c) => c.target))];
  const [ours, nginx] = targets as [string, string];
  const summary: SummaryRow[] = CONNECTIONS.map((c) => {
    const [a, b] = [at(ours, c), at(nginx, c)];
    const calls = (cell: KernelCell) => perRequest(cell, (k) => k.calls.total!).toFixed(2);
    const us = (cell: KernelCell, pick: (k: KernelCounts) => number) => perRequest(cell, pick).toFixed(1);
    return {
      figure: `ours (1 thread) and nginx (1 worker) at c${c}: system calls, user and kernel CPU per request`,
      value:
        `calls ${calls(a)} vs ${calls(b)}, user ${us(a, (k) => k.userUs)} vs ${us(b, (k) => k.userUs)} µs, ` +
        `kernel ${us(a, (k) => k.kernelUs)} vs ${us(b, (k) => k.kernelUs)} µs`,
    };
  });
  for (const row of summary) console.log(`${row.figure}: ${row.value}`);
  await recorder.write({
    summary,
    tables: [
      {
        caption: `CPU per request by where it is spent, medians of ${ROUNDS} interleaved rounds of ${SECONDS} s (one thread each; perf attached)`,
        columns: ['connections', 'proxy', 'req/s', 'system calls/req', 'user µs/req', 'kernel µs/req'],
        rows: cells.map((c) => [
          String(c.connections),
          c.target,
          median(c.runs.map(({ run }) => run.rps)).toFixed(0),
          perRequest(c, (k) => k.calls.total!).toFixed(2),
          perRequest(c, (k) => k.userUs).toFixed(1),
          perRequest(c, (k) => k.kernelUs).toFixed(1),
        ]),
      },
      ...CONNECTIONS.map((c) => ({
        caption: `System calls per request by name at c${c} (medians)`,
        columns: ['system call', ...targets],
        rows: names.map((name) => [
          name,
          ...targets.map((t) => perRequest(at(t, c), (k) => k.calls[name] ?? 0).toFixed(2)),
        ]),
      })),
    ],
    figures: { rounds: ROUNDS, seconds: SECONDS, connections: CONNECTIONS, cells },
  });
}

async function main(): Promise<void> {
  if (values.profile) return profile();
  if (values.syscalls) return syscalls();
  const own = PARSER === 'own';
  const recorder = new ResultRecorder(
    own ? 'nginx-own-parser' : 'nginx',
    own
      ? 'Our balancer, reading replies with its own parser (public APIs only), against nginx and a plain Node proxy'
      : 'Our balancer against nginx and a plain Node proxy',
    {
      wrk: toolVersion(WRK, ['-v']),
      nginx: toolVersion(NGINX, ['-v']),
    },
  );
  const one = await phase(1, true);
  const many = THREADS > 1 ? await phase(THREADS, false) : [];
  const ours1 = 'ours (1 thread)';
  const vsNginx = ratioRows(one, ours1, 'nginx (1 worker)');
  const vsPlain = ratioRows(one, ours1, 'plain Node proxy');
  const vsAuto = THREADS > 1 ? ratioRows(many, `ours (${THREADS} threads)`, 'nginx (auto)') : [];
  const ratioTable: ResultTable = {
    caption: `Ratios, medians of ${ROUNDS} interleaved rounds of ${SECONDS} s each (throughput: higher is better for ours; CPU per request and p99: lower is)`,
    columns: [
      'connections',
      'ours/nginx throughput',
      'ours/nginx CPU per request',
      'ours/nginx p99',
      'ours/plain throughput',
      'ours/plain CPU per request',
      'ours/plain p99',
      ...(THREADS > 1 ? [`${THREADS} threads/nginx auto throughput`, `… CPU per request`, '… p99'] : []),
    ],
    rows: CONNECTIONS.map((c, i) => [
      String(c),
      x(vsNginx[i]!.rps),
      x(vsNginx[i]!.cpu),
      x(vsNginx[i]!.p99),
      x(vsPlain[i]!.rps),
      x(vsPlain[i]!.cpu),
      x(vsPlain[i]!.p99),
      ...(THREADS > 1 ? [x(vsAuto[i]!.rps), x(vsAuto[i]!.cpu), x(vsAuto[i]!.p99)] : []),
    ]),
  };
  for (const row of ratioTable.rows) console.log(ratioTable.columns.map((col, i) => `${col}: ${row[i]}`).join('  '));
  const range = (rows: typeof vsNginx, pick: (r: (typeof vsNginx)[number]) => number) => {
    const v = rows.map(pick);
    return `${x(Math.min(...v))}–${x(Math.max(...v))}`;
  };
  const load = `c${CONNECTIONS.join('/')}`;
  const ownLabel = own ? ', own parser' : '';
  const summary: SummaryRow[] = [
    {
      figure: `ours${ownLabel} (1 thread) / nginx (1 worker), same two replicas`,
      value: `throughput ${range(vsNginx, (r) => r.rps)}, CPU per request ${range(vsNginx, (r) => r.cpu)}, p99 ${range(vsNginx, (r) => r.p99)} (${load})`,
    },
    {
      figure: `ours${ownLabel} (1 thread) / the plain Node proxy (node:http + undici)`,
      value: `throughput ${range(vsPlain, (r) => r.rps)}, CPU per request ${range(vsPlain, (r) => r.cpu)}, p99 ${range(vsPlain, (r) => r.p99)} (${load})`,
    },
    ...(THREADS > 1
      ? [
          {
            figure: `ours${ownLabel} (${THREADS} threads) / nginx (worker_processes auto)`,
            value: `throughput ${range(vsAuto, (r) => r.rps)}, CPU per request ${range(vsAuto, (r) => r.cpu)}, p99 ${range(vsAuto, (r) => r.p99)} (${load})`,
          },
        ]
      : []),
  ];
  for (const row of summary) console.log(`${row.figure}: ${row.value}`);
  await recorder.write({
    summary,
    tables: [
      ratioTable,
      cellTable(`One thread each: medians of ${ROUNDS} rounds`, one),
      ...(THREADS > 1
        ? [cellTable(`${THREADS} balancer threads against nginx auto: medians of ${ROUNDS} rounds`, many)]
        : []),
    ],
    figures: {
      rounds: ROUNDS,
      seconds: SECONDS,
      connections: CONNECTIONS,
      threads: THREADS,
      oneThread: one,
      manyThreads: many,
    },
  });
}

await main();
