// Where the supervisor's megabytes go (GET /memory, bench:footprint): the process as the kernel
// counts it (resident, proportional: pages shared with other processes, such as the node binary
// the replicas map too, count in part), each thread's V8 heap, and the helper processes it
// started that are not replicas (an esbuild service left running would show here).
import { readdir, readFile } from 'node:fs/promises';
import { getHeapStatistics } from 'node:v8';
import { REPLICA_MARKER } from '../runtime/process.ts';

export interface ThreadMemory {
  thread: string;
  /** V8 heap: what is allocated, what the heap holds, what is resident of it. */
  heapUsedBytes: number;
  heapTotalBytes: number;
  heapPhysicalBytes: number;
  /** Memory outside the heap that V8 objects own (Buffers, ArrayBuffers). */
  externalBytes: number;
}

export interface ProcessMemory {
  pid: number;
  command: string;
  rssBytes: number;
  /** Proportional set size (smaps_rollup): shared pages divided among their sharers. */
  pssBytes: number | null;
  /** Anonymous resident memory: the process's own. */
  anonBytes: number | null;
}

export interface MemoryReport {
  process: ProcessMemory;
  threads: ThreadMemory[];
  /** Children of the supervisor that are not replicas. */
  helpers: ProcessMemory[];
  /** The process and its helpers, PSS where the kernel tells it (else RSS). */
  totalPssBytes: number;
}

/** A thread's heap statistics as v8.getHeapStatistics() (and Worker.getHeapStatistics()) give them. */
export interface HeapStatistics {
  used_heap_size: number;
  total_heap_size: number;
  total_physical_size: number;
  external_memory?: number;
}

export function threadMemory(thread: string, stats: HeapStatistics): ThreadMemory {
  return {
    thread,
    heapUsedBytes: stats.used_heap_size,
    heapTotalBytes: stats.total_heap_size,
    heapPhysicalBytes: stats.total_physical_size,
    externalBytes: stats.external_memory ?? 0,
  };
}

/** This thread's figures (the primary's). */
export function mainThreadMemory(): ThreadMemory {
  return { ...threadMemory('main', getHeapStatistics()), externalBytes: process.memoryUsage().external };
}

const kb = (text: string, field: string): number | null => {
  const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(text);
  return match ? Number(match[1]) * 1024 : null;
};

export async function processMemory(pid: number): Promise<ProcessMemory | undefined> {
  try {
    const [status, cmdline] = await Promise.all([
      readFile(`/proc/${pid}/status`, 'utf8'),
      readFile(`/proc/${pid}/cmdline`, 'utf8'),
    ]);
    const rollup = await readFile(`/proc/${pid}/smaps_rollup`, 'utf8').catch(() => '');
    return {
      pid,
      command: cmdline.split('\0').filter(Boolean).join(' ').slice(0, 200),
      rssBytes: kb(status, 'VmRSS') ?? 0,
      pssBytes: kb(rollup, 'Pss'),
      anonBytes: kb(status, 'RssAnon'),
    };
  } catch {
    return undefined; // gone meanwhile
  }
}

/** Children of `pid` that are not replicas of the process runtime (their environment carries the marker). */
export async function helperProcesses(pid: number): Promise<ProcessMemory[]> {
  const out: ProcessMemory[] = [];
  for (const name of await readdir('/proc').catch(() => [] as string[])) {
    if (!/^\d+$/.test(name)) continue;
    const stat = await readFile(`/proc/${name}/stat`, 'utf8').catch(() => '');
    const parent = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    if (parent !== pid) continue;
    // A zombie (exited, not yet reaped) holds no memory.
    if (/^\S+ \(.*\) Z /.test(stat)) continue;
    const environ = await readFile(`/proc/${name}/environ`, 'utf8').catch(() => '');
    if (environ.includes(`${REPLICA_MARKER}=`)) continue;
    const memory = await processMemory(Number(name));
    if (memory) out.push(memory);
  }
  return out;
}

export async function memoryReport(threads: ThreadMemory[]): Promise<MemoryReport> {
  const self = (await processMemory(process.pid))!;
  const helpers = await helperProcesses(process.pid);
  const pss = (p: ProcessMemory) => p.pssBytes ?? p.rssBytes;
  return { process: self, threads, helpers, totalPssBytes: pss(self) + helpers.reduce((sum, h) => sum + pss(h), 0) };
}
