// CPU time of processes from /proc/PID/stat, for "CPU per request" beside throughput: on a
// shared 2-core machine throughput swings with whatever else runs, while the CPU a process
// spends per request moves much less. A process's utime+stime in /proc/PID/stat already sums
// all its threads (the balancer is a worker thread of the supervisor, so the supervisor's pid
// covers it). Clock ticks are CLK_TCK (100 on Linux) per second: 10 ms resolution, which is why
// a measurement should span seconds and thousands of requests.
import { readFileSync, readdirSync } from 'node:fs';
import { CLOCK_TICKS, cpuTicksOf, statFieldsOf } from '../supervisor/runtime/proc-usage.ts';

/** Fields of /proc/PID/stat after the `(comm)` field, which may itself hold spaces. */
function statFields(pid: number): string[] | undefined {
  let line: string;
  try {
    line = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined; // gone
  }
  return statFieldsOf(line);
}

/** Converts clock ticks (as in /proc/PID/stat) to microseconds. */
export function ticksToMicros(ticks: number): number {
  return (ticks * 1e6) / CLOCK_TICKS;
}

/** utime+stime of `pid` and all its threads, in µs; undefined once the process is gone. */
export function cpuMicros(pid: number): number | undefined {
  const fields = statFields(pid);
  if (!fields) return undefined;
  return ticksToMicros(cpuTicksOf(fields));
}

/** Pids whose parent is `pid` (the process runtime's replicas are the supervisor's children). */
export function childPids(pid: number): number[] {
  const children: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const fields = statFields(Number(entry));
    if (fields && Number(fields[1]) === pid) children.push(Number(entry));
  }
  return children;
}

/** CPU spent by each group of pids between start() and stop(), in µs. */
export interface CpuMeter {
  stop(): Record<string, number>;
}

/**
 * Starts counting CPU for named groups of pids (`{ balancer: [supervisorPid], replicas: [...] }`).
 * A process that exits during the measurement makes its group's figure unreliable, so that is
 * an error rather than a silently low number.
 */
export function startCpuMeter(groups: Record<string, readonly number[]>): CpuMeter {
  const read = (pid: number): number => {
    const us = cpuMicros(pid);
    if (us === undefined) throw new Error(`process ${pid} is gone: its CPU time cannot be measured`);
    return us;
  };
  const before = Object.fromEntries(Object.entries(groups).map(([name, pids]) => [name, pids.map(read)]));
  return {
    stop: () =>
      Object.fromEntries(
        Object.entries(groups).map(([name, pids]) => [
          name,
          pids.reduce((sum, pid, i) => sum + read(pid) - before[name]![i]!, 0),
        ]),
      ),
  };
}
