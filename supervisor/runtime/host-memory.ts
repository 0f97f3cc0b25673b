// How much memory this process and the children it starts may use: the host's (/proc/meminfo),
// or less when a cgroup limits it (`docker run -m 1g`, a systemd unit's MemoryMax=). cgroup v2
// (memory.max) and v1 (memory.limit_in_bytes) are both read, at the mount's root (what a
// container sees of its own cgroup) and along this process's own cgroup path, up to the root;
// the smallest limit wins. Reads a few small files once, at start-up.
import { readFileSync } from 'node:fs';
import path from 'node:path';

export interface MemoryLimit {
  bytes: number;
  /** Where the figure comes from, in words (for the status and the capacity events). */
  source: string;
}

/** v1 writes "no limit" as the largest page-aligned signed 64-bit value; anything near it is none. */
const NO_LIMIT = 2 ** 60;

export interface HostMemoryOptions {
  /** Where the cgroup file systems and /proc are (tests point them at a fake tree). */
  cgroupRoot?: string;
  proc?: string;
}

export function hostMemory(options: HostMemoryOptions = {}): MemoryLimit {
  const proc = options.proc ?? '/proc';
  const root = options.cgroupRoot ?? '/sys/fs/cgroup';
  const total = memTotal(proc);
  let best: MemoryLimit = { bytes: total, source: `${proc}/meminfo MemTotal` };
  for (const limit of cgroupLimits(root, readText(`${proc}/self/cgroup`) ?? '')) {
    if (limit.bytes < best.bytes) best = limit;
  }
  return best;
}

function memTotal(proc: string): number {
  const match = /^MemTotal:\s+(\d+)\s+kB/m.exec(readText(`${proc}/meminfo`) ?? '');
  return match ? Number(match[1]) * 1024 : Number.POSITIVE_INFINITY;
}

/** Every limit found for this process: v2 (0::/path) and v1's memory controller (N:memory:/path). */
function cgroupLimits(root: string, selfCgroup: string): MemoryLimit[] {
  const found: MemoryLimit[] = [];
  for (const line of selfCgroup.split('\n')) {
    const [, controllers, where] = /^\d+:([^:]*):(.*)$/.exec(line.trim()) ?? [];
    if (where === undefined) continue;
    if (controllers === '')
      found.push(...along(root, where, 'memory.max'), ...along(path.join(root, 'unified'), where, 'memory.max'));
    else if (controllers!.split(',').includes('memory'))
      found.push(...along(path.join(root, 'memory'), where, 'memory.limit_in_bytes'));
  }
  return found;
}

/** The limit file at the mount's root and in each directory from the process's cgroup up. */
function along(mount: string, cgroupPath: string, file: string): MemoryLimit[] {
  const dirs = new Set([mount]);
  for (let dir = path.join(mount, cgroupPath); dir.startsWith(mount) && dir !== mount; dir = path.dirname(dir))
    dirs.add(dir);
  const out: MemoryLimit[] = [];
  for (const dir of dirs) {
    const text = readText(path.join(dir, file))?.trim();
    if (text === undefined || text === 'max' || !/^\d+$/.test(text)) continue;
    const bytes = Number(text);
    if (bytes < NO_LIMIT) out.push({ bytes, source: `the cgroup limit ${path.join(dir, file)}` });
  }
  return out;
}

function readText(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}
