// The load generator of every throughput benchmark: wrk (C, Debian's /usr/bin/wrk, or WRK=...),
// not a Node client, which on these 2-core machines used more CPU than the proxy it measured.
// Runs are bounded (at most MAX_SECONDS, MAX_CONNECTIONS) and go to 127.0.0.1 only.
//
// wrk runs with `--latency` and bench/wrk-report.lua, whose done() prints the summary as one
// JSON line: requests, duration, latency percentiles (p50/p90/p99), socket errors (connect,
// read, write, timeout), replies with a status of 400 or more ("non-2xx or 3xx"), and wrk's
// own CPU time. Error replies are reported and excluded from throughput: `rps` counts only
// 2xx/3xx replies. Optional CPU meters (bench/cpu.ts) run around the load, giving CPU per
// request for the processes under test.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startCpuMeter, ticksToMicros } from './cpu.ts';

export const WRK = process.env.WRK ?? '/usr/bin/wrk';
const REPORT_SCRIPT = fileURLToPath(new URL('./wrk-report.lua', import.meta.url));
const MAX_SECONDS = 60;
const MAX_CONNECTIONS = 1024;

export interface WrkOptions {
  /** http://127.0.0.1:PORT/path */
  url: string;
  connections: number;
  seconds: number;
  /** wrk threads (default 1, so wrk takes at most one of the two cores). */
  threads?: number;
  /** Per-request timeout in seconds (wrk's default is 2). */
  timeoutSeconds?: number;
  /** Named groups of pids whose CPU time is measured over the run. */
  cpu?: Record<string, readonly number[]>;
  /** Request headers (wrk -H), e.g. Accept-Encoding. */
  headers?: Record<string, string>;
}

export interface WrkRun {
  /** The exact wrk command line. */
  command: string;
  seconds: number;
  /** Completed replies, errors included. */
  requests: number;
  /** Replies with status 2xx/3xx. */
  ok: number;
  /** Replies with status ≥ 400 (wrk's "Non-2xx or 3xx responses"). */
  non2xx3xx: number;
  socketErrors: { connect: number; read: number; write: number; timeout: number };
  /** ok replies per second: error replies are not throughput. */
  rps: number;
  latencyMs: { p50: number; p90: number; p99: number; max: number; mean: number };
  /** wrk's own CPU time over the run as a share of one core (1 = a full core: it limited). */
  generatorCores: number;
  /** CPU µs per ok reply for each group in `options.cpu`. */
  cpuPerRequestUs: Record<string, number>;
}

interface WrkReport {
  durationUs: number;
  requests: number;
  errors: { connect: number; read: number; write: number; status: number; timeout: number };
  latencyUs: { p50: number; p90: number; p99: number; max: number; mean: number };
  cpuTicks: number;
}

export function wrkArgs(o: WrkOptions): string[] {
  const url = new URL(o.url);
  if (url.hostname !== '127.0.0.1') throw new Error(`wrk: benchmarks only load 127.0.0.1, not ${url.hostname}`);
  if (!(o.seconds > 0 && o.seconds <= MAX_SECONDS))
    throw new Error(`wrk: seconds must be in (0, ${MAX_SECONDS}], got ${o.seconds}`);
  if (!(Number.isInteger(o.connections) && o.connections >= 1 && o.connections <= MAX_CONNECTIONS)) {
    throw new Error(`wrk: connections must be an integer in [1, ${MAX_CONNECTIONS}], got ${o.connections}`);
  }
  const threads = Math.min(o.threads ?? 1, o.connections);
  return [
    '-t',
    String(threads),
    '-c',
    String(o.connections),
    '-d',
    `${o.seconds}s`,
    '--timeout',
    `${o.timeoutSeconds ?? 2}s`,
    '--latency',
    ...Object.entries(o.headers ?? {}).flatMap(([name, value]) => ['-H', `${name}: ${value}`]),
    '-s',
    REPORT_SCRIPT,
    o.url,
  ];
}

/** Parses the WRK_REPORT line bench/wrk-report.lua prints; throws with wrk's output if absent. */
export function parseWrkOutput(stdout: string): WrkReport {
  const line = stdout.split('\n').find((l) => l.startsWith('WRK_REPORT '));
  if (!line) throw new Error(`wrk printed no report:\n${stdout}`);
  return JSON.parse(line.slice('WRK_REPORT '.length)) as WrkReport;
}

export function figuresOf(report: WrkReport, command: string, cpuUs: Record<string, number>): WrkRun {
  const seconds = report.durationUs / 1e6;
  const ok = report.requests - report.errors.status;
  const ms = (us: number) => us / 1000;
  const { status: non2xx3xx, ...socketErrors } = report.errors;
  return {
    command,
    seconds,
    requests: report.requests,
    ok,
    non2xx3xx,
    socketErrors,
    rps: ok / seconds,
    latencyMs: {
      p50: ms(report.latencyUs.p50),
      p90: ms(report.latencyUs.p90),
      p99: ms(report.latencyUs.p99),
      max: ms(report.latencyUs.max),
      mean: ms(report.latencyUs.mean),
    },
    generatorCores: report.cpuTicks < 0 ? Number.NaN : ticksToMicros(report.cpuTicks) / report.durationUs,
    cpuPerRequestUs: Object.fromEntries(
      Object.entries(cpuUs).map(([name, us]) => [name, ok > 0 ? us / ok : Number.NaN]),
    ),
  };
}

/** One bounded wrk run; rejects if wrk fails or outlives its duration by 15 s. */
export async function wrk(o: WrkOptions): Promise<WrkRun> {
  const args = wrkArgs(o);
  // Recorded with the script's path relative to the project, not this machine's.
  const command = [WRK, ...args.map((a) => (a === REPORT_SCRIPT ? path.relative(process.cwd(), a) : a))].join(' ');
  const child = spawn(WRK, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  // The meters start once wrk runs, and stop when it exits: its start-up is not the load.
  const spawned = new Promise<void>((resolve, reject) => {
    child.once('spawn', resolve);
    child.once('error', reject);
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  await spawned;
  const meter = startCpuMeter(o.cpu ?? {});
  const killer = setTimeout(() => child.kill('SIGKILL'), (o.seconds + 15) * 1000);
  const code = await exited;
  clearTimeout(killer);
  const cpuUs = meter.stop();
  if (code !== 0) throw new Error(`${command} exited with ${code}: ${stderr}${stdout}`);
  return figuresOf(parseWrkOutput(stdout), command, cpuUs);
}

/** "12345 req/s  p50 1.20 ms  p90 2.00 ms  p99 5.10 ms  0 non-2xx/3xx  0 socket errors" */
export function describeRun(run: WrkRun): string {
  const socket = Object.values(run.socketErrors).reduce((a, b) => a + b, 0);
  const cpu = Object.entries(run.cpuPerRequestUs)
    .map(([name, us]) => `  ${name} ${us.toFixed(0)} µs/req`)
    .join('');
  const l = run.latencyMs;
  return `${run.rps.toFixed(0).padStart(6)} req/s  p50 ${l.p50.toFixed(2)} ms  p90 ${l.p90.toFixed(2)} ms  p99 ${l.p99.toFixed(2)} ms  ${run.non2xx3xx} non-2xx/3xx  ${socket} socket errors  wrk ${(run.generatorCores * 100).toFixed(0)} % of a core${cpu}`;
}
