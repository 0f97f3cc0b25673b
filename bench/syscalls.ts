// What a proxy asks of the kernel per request: system calls counted by name on the kernel's own
// tracepoints (`perf stat -e syscalls:sys_enter_<name>` attached to every thread of the
// processes), and its CPU split into user and kernel time (/proc/PID/stat utime and stime). For
// `npm run bench:nginx -- --syscalls`: whether our balancer makes more system calls per request
// than nginx, or spends more around the same ones.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { statFieldsOf } from '../supervisor/runtime/proc-usage.ts';
import { ticksToMicros } from './cpu.ts';

export const PERF = process.env.PERF ?? '/usr/bin/perf';
const TRACEPOINTS = '/sys/kernel/tracing/available_events';

/** The system calls a proxy's request path makes; the rest is summed as "other". */
export const SYSCALLS = [
  'read',
  'readv',
  'recvfrom',
  'recvmsg',
  'write',
  'writev',
  'sendto',
  'sendmsg',
  'epoll_wait',
  'epoll_pwait',
  'epoll_pwait2',
  'epoll_ctl',
  'accept4',
  'connect',
  'close',
  'setsockopt',
  'futex',
] as const;

export interface KernelCounts {
  /** Calls by name, plus `total` (every system call) and `other` (total less the named). */
  calls: Record<string, number>;
  userUs: number;
  kernelUs: number;
}

export interface KernelMeter {
  stop(): Promise<KernelCounts>;
}

function userAndKernelUs(pids: readonly number[]): { user: number; kernel: number } {
  let user = 0;
  let kernel = 0;
  for (const pid of pids) {
    // utime and stime: fields 14 and 15 of the man page, 11 and 12 after `(comm)`.
    const fields = statFieldsOf(readFileSync(`/proc/${pid}/stat`, 'utf8'));
    user += ticksToMicros(Number(fields[11]));
    kernel += ticksToMicros(Number(fields[12]));
  }
  return { user, kernel };
}

/** `perf stat -x,` output: one `count,unit,event,...` line per event. */
export function parsePerfCsv(stderr: string): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const line of stderr.split('\n')) {
    const [count, , event] = line.split(',');
    if (!event || count === undefined) continue;
    const name = event.replace(/^syscalls:sys_enter_/, '').replace(/^raw_syscalls:sys_enter$/, 'total');
    // "<not counted>": no thread of the processes ran while attached, so none made a call.
    counts[name] = /^\d+$/.test(count) ? Number(count) : 0;
  }
  return counts;
}

/**
 * The tracepoints to count, the total first; throws, naming what to install, when perf or the
 * kernel's tracepoints are missing.
 */
export function kernelEvents(): string[] {
  if (!existsSync(PERF)) throw new Error(`--syscalls needs perf at ${PERF}: apt-get install linux-perf, or PERF=...`);
  if (!existsSync(TRACEPOINTS))
    throw new Error(
      `--syscalls needs the kernel's tracepoints at ${TRACEPOINTS} (mount -t tracefs nodev /sys/kernel/tracing)`,
    );
  const available = readFileSync(TRACEPOINTS, 'utf8');
  return [
    'raw_syscalls:sys_enter',
    ...SYSCALLS.filter((name) => available.includes(`syscalls:sys_enter_${name}\n`)).map(
      (name) => `syscalls:sys_enter_${name}`,
    ),
  ];
}

/**
 * Starts counting `events` (kernelEvents()) for `pids`, each with all its threads at the time
 * (the balancer's worker threads exist before the load starts). Resolves once perf is attached.
 */
export async function startKernelMeter(pids: readonly number[], events: readonly string[]): Promise<KernelMeter> {
  const perf = spawn(PERF, ['stat', '-x,', '-e', events.join(','), '-p', pids.join(',')], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  perf.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<number | null>((resolve) => perf.once('exit', (code) => resolve(code)));
  perf.once('error', (err) => (stderr += err.message));
  // perf attaches to each thread before it counts; it says nothing when it has.
  await sleep(500);
  const before = userAndKernelUs(pids);
  return {
    async stop() {
      const after = userAndKernelUs(pids);
      perf.kill('SIGINT');
      const code = await Promise.race([exited, sleep(10_000).then(() => 'timeout' as const)]);
      if (code === 'timeout') {
        perf.kill('SIGKILL');
        throw new Error('perf stat did not stop within 10 s');
      }
      const calls = parsePerfCsv(stderr);
      if (calls.total === undefined) throw new Error(`perf stat counted nothing (exit ${code}): ${stderr}`);
      const named = SYSCALLS.reduce((sum, name) => sum + (calls[name] ?? 0), 0);
      calls.other = calls.total - named;
      return { calls, userUs: after.user - before.user, kernelUs: after.kernel - before.kernel };
    },
  };
}
