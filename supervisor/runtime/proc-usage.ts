// A process's CPU time and memory from /proc (Linux): what the process runtime can say about a
// replica, as the engine's stats API does for a container. utime+stime in /proc/PID/stat sum all
// the process's threads, in clock ticks (CLK_TCK, 100 on Linux); VmRSS in /proc/PID/status is
// its resident memory. bench/cpu.ts reads the same fields.
import { execFileSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import type { ReplicaUsage } from './runtime.ts';

export const CLOCK_TICKS = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** Fields of a /proc/PID/stat line after the `(comm)` field, which may itself hold spaces. */
export function statFieldsOf(line: string): string[] {
  return line
    .slice(line.lastIndexOf(')') + 2)
    .trim()
    .split(/\s+/);
}

/** utime + stime in clock ticks: fields 14 and 15 of the man page, 11 and 12 after `(comm)`. */
export function cpuTicksOf(fields: readonly string[]): number {
  return Number(fields[11]) + Number(fields[12]);
}

/** VmRSS of a /proc/PID/status text, in bytes; undefined when absent (a zombie). */
export function rssBytesOf(status: string): number | undefined {
  const kb = /^VmRSS:\s+(\d+)\s+kB$/m.exec(status)?.[1];
  return kb === undefined ? undefined : Number(kb) * 1024;
}

/**
 * RssAnon + RssShmem of a /proc/PID/status text, in bytes: the resident memory that is the
 * process's own (file-backed pages, the node binary and shared libraries, are shared and
 * reclaimable), what a cgroup's limit would come down to. Undefined when absent.
 */
export function ownBytesOf(status: string): number | undefined {
  const anon = /^RssAnon:\s+(\d+)\s+kB$/m.exec(status)?.[1];
  const shmem = /^RssShmem:\s+(\d+)\s+kB$/m.exec(status)?.[1];
  return anon === undefined ? undefined : (Number(anon) + Number(shmem ?? 0)) * 1024;
}

/** undefined once the process is gone. */
export async function procUsage(pid: number): Promise<ReplicaUsage | undefined> {
  try {
    const [stat, status] = await Promise.all([
      readFile(`/proc/${pid}/stat`, 'utf8'),
      readFile(`/proc/${pid}/status`, 'utf8'),
    ]);
    const memoryBytes = rssBytesOf(status);
    if (memoryBytes === undefined) return undefined;
    const ownBytes = ownBytesOf(status);
    return {
      cpuSeconds: cpuTicksOf(statFieldsOf(stat)) / CLOCK_TICKS,
      memoryBytes,
      ...(ownBytes === undefined ? {} : { ownBytes }),
    };
  } catch {
    return undefined;
  }
}
