// Memory as the footprint benchmark and its CI bounds read it: the supervisor's own report
// (GET /memory: the process's proportional set size, each thread's heap, helper processes) and
// a replica's memory, read where its runtime keeps it (the engine's stats for a container,
// without the page cache as `docker stats` shows it; /proc for a child process), sampled often
// enough to catch the peak of an upload.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Pool } from 'undici';
import { DockerEngine } from '../engine-client/index.ts';
import type { MemoryReport } from '../supervisor/telemetry/memory-report.ts';
import { shippedConfigFile } from './shipped-config.ts';
import { siteUser, uploadPhoto } from './site.ts';
import {
  ADMIN_POST,
  Admin,
  SupervisorProcess,
  getJson,
  http,
  instanceName,
  removeDir,
  removeSuiteObjects,
  tempDir,
  waitUp,
} from './supervisor.ts';

export const MB = 2 ** 20;

export async function supervisorMemory(admin: Admin): Promise<MemoryReport> {
  return (await getJson(`${admin.base}/memory`)) as MemoryReport;
}

/** The report in MB, thread by thread, for a table row. */
export function memoryFigures(report: MemoryReport): {
  totalPssMb: number;
  rssMb: number;
  anonMb: number;
  helpers: number;
  threads: Record<string, { heapMb: number; externalMb: number }>;
} {
  const mb = (n: number | null) => Math.round(((n ?? 0) / MB) * 10) / 10;
  return {
    totalPssMb: mb(report.totalPssBytes),
    rssMb: mb(report.process.rssBytes),
    anonMb: mb(report.process.anonBytes),
    helpers: report.helpers.length,
    threads: Object.fromEntries(
      report.threads.map((t) => [t.thread, { heapMb: mb(t.heapPhysicalBytes), externalMb: mb(t.externalBytes) }]),
    ),
  };
}

/** Reads a replica's memory now (bytes), or undefined once it is gone. */
export type MemoryRead = () => Promise<number | undefined>;

/** A container's memory, without the page cache (`docker stats`). */
export function containerMemory(engine: DockerEngine, id: string): MemoryRead {
  return async () => (await engine.containers.usage(id).catch(() => undefined))?.memoryBytes;
}

/**
 * A process replica's resident memory without its file pages (RssAnon + RssShmem), as
 * `docker stats` leaves out a container's page cache: the node binary and sharp's libraries
 * mapped from disk are held once in the page cache for every process that maps them. With
 * `withFiles`, the whole resident set (VmRSS). The pid comes from the process runtime's state file.
 */
export async function processMemory(
  dataDir: string,
  supervisorInstance: string,
  id: string,
  withFiles = false,
): Promise<MemoryRead> {
  const state = JSON.parse(
    await readFile(path.join(dataDir, `process-replicas-${supervisorInstance}.json`), 'utf8'),
  ) as { replicas: Array<{ id: string; pid: number }> };
  const pid = state.replicas.find((r) => r.id === id)?.pid;
  if (pid === undefined) throw new Error(`no process replica ${id} in the state file`);
  return async () => {
    const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => undefined);
    if (status === undefined) return undefined;
    const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? Number.NaN);
    const bytes = (withFiles ? kb('VmRSS') : kb('RssAnon') + kb('RssShmem')) * 1024;
    return Number.isNaN(bytes) ? undefined : bytes;
  };
}

/** The highest of `read` every `everyMs` while `work` runs. */
export async function peakDuring<T>(
  read: MemoryRead,
  everyMs: number,
  work: () => Promise<T>,
): Promise<{ peakBytes: number; result: T }> {
  let peak = 0;
  let running = true;
  const sampling = (async () => {
    while (running) {
      peak = Math.max(peak, (await read()) ?? 0);
      await sleep(everyMs);
    }
  })();
  try {
    const result = await work();
    return { peakBytes: Math.max(peak, (await read()) ?? 0), result };
  } finally {
    running = false;
    await sampling;
  }
}

export type Entry = 'bundle' | 'sources';

/** Memory settles (garbage of start-up collected, replicas idle) before the idle figures. */
const SETTLE_MS = 20_000;
const REQUESTS = 10_000;

export interface FootprintPorts {
  suite: string;
  listen: number;
  admin: number;
  acts: number;
  users: number;
}

export interface FootprintRun {
  runtime: 'docker' | 'process';
  entry: Entry;
  round: number;
  startMs: number;
  idle: ReturnType<typeof memoryFigures>;
  usersIdleMb: number;
  actsIdleMb: number;
  /** Process runtime: the whole resident sets, file pages shared with every node process included. */
  withFiles?: { usersIdleMb: number; actsIdleMb: number; actsUploadPeakMb?: number };
  /** Only from the bundle: the rest of the measures. */
  actsUploadPeakMb?: number;
  uploads?: string;
  tenReplicas?: ReturnType<typeof memoryFigures>;
}

const toMb = (bytes: number | undefined) => Math.round(((bytes ?? 0) / MB) * 10) / 10;

async function replicaReader(
  runtime: 'docker' | 'process',
  engine: DockerEngine | undefined,
  dataDir: string,
  suite: string,
  id: string,
): Promise<MemoryRead> {
  return runtime === 'docker' ? containerMemory(engine!, id) : processMemory(dataDir, instanceName(suite), id);
}

/**
 * One supervisor on the shipped config (the real app, rate limits off: the load comes from one
 * address), as production runs it (`bundle`) or from its sources under tsx: its memory idle
 * with 1 + 1 replicas; from the bundle also the acts replica's peak through 4 parallel 10 MB
 * uploads and the supervisor's memory with 10 acts replicas after 10,000 requests.
 */
export async function measureFootprint(
  runtime: 'docker' | 'process',
  entry: Entry,
  round: number,
  photos: Buffer[],
  ports: FootprintPorts,
): Promise<FootprintRun> {
  const SUITE = ports.suite;
  const engine = runtime === 'docker' ? new DockerEngine() : undefined;
  const dir = await tempDir(SUITE);
  const admin = new Admin(`http://127.0.0.1:${ports.admin}`);
  const base = `http://127.0.0.1:${ports.listen}`;
  let sup: SupervisorProcess | undefined;
  try {
    if (engine) await removeSuiteObjects(engine, SUITE);
    const file = await shippedConfigFile(engine, {
      suite: SUITE,
      dir,
      listenPort: ports.listen,
      adminPort: ports.admin,
      actsPort: ports.acts,
      usersPort: ports.users,
      overrides: {
        balancer: {
          rateLimits: {
            requests: { perMinute: 0, burst: 0 },
            auth: { perMinute: 0, burst: 0, paths: [], methods: ['POST'] },
          },
        },
      },
    });
    const started = performance.now();
    sup = SupervisorProcess.start(file, {}, { production: entry === 'bundle' });
    await waitUp(sup, admin, { users: 1, acts: 1 }, 120_000);
    const startMs = Math.round(performance.now() - started);
    await sleep(SETTLE_MS);
    const status = await admin.status();
    const dataDir = `${dir}/data`;
    const users = await replicaReader(runtime, engine, dataDir, SUITE, status.services.users!.replicas[0]!.id);
    const acts = await replicaReader(runtime, engine, dataDir, SUITE, status.services.acts!.replicas[0]!.id);
    const run: FootprintRun = {
      runtime,
      entry,
      round,
      startMs,
      idle: memoryFigures(await supervisorMemory(admin)),
      usersIdleMb: toMb(await users()),
      actsIdleMb: toMb(await acts()),
    };
    const actsId = status.services.acts!.replicas[0]!.id;
    const actsWithFiles =
      runtime === 'process' ? await processMemory(dataDir, instanceName(SUITE), actsId, true) : undefined;
    if (actsWithFiles !== undefined) {
      const usersWithFiles = await processMemory(
        dataDir,
        instanceName(SUITE),
        status.services.users!.replicas[0]!.id,
        true,
      );
      run.withFiles = { usersIdleMb: toMb(await usersWithFiles()), actsIdleMb: toMb(await actsWithFiles()) };
    }
    if (entry === 'bundle') {
      const user = await siteUser(base, 'footprint', 'weight');
      let peakWithFiles = 0;
      const actsBoth: MemoryRead = async () => {
        if (actsWithFiles !== undefined) peakWithFiles = Math.max(peakWithFiles, (await actsWithFiles()) ?? 0);
        return acts();
      };
      const { peakBytes, result } = await peakDuring(actsBoth, 100, () =>
        Promise.all([0, 1, 2, 3].map((i) => uploadPhoto(base, user, photos[i % photos.length]!, `weight ${i}`))),
      );
      run.actsUploadPeakMb = toMb(peakBytes);
      if (run.withFiles !== undefined) run.withFiles.actsUploadPeakMb = toMb(peakWithFiles);
      run.uploads = result.map((r) => r.status || r.error).join(' ');
      const scaled = await http('POST', `${admin.base}/services/acts/scale`, {
        headers: { ...ADMIN_POST.headers, 'content-type': 'application/json' },
        body: '{"replicas": 10}',
      });
      if (scaled.status !== 200) throw new Error(`scale: ${scaled.status} ${scaled.text}`);
      await admin.waitReady('acts', 10, 180_000);
      const pool = new Pool(base, { connections: 16 });
      try {
        const paths = [
          '/api/v1/categories',
          '/api/v1/acts/count',
          '/api/v1/users',
          `/api/v1/categories/${user.category}/acts/size`,
        ];
        let sent = 0;
        await Promise.all(
          Array.from({ length: 16 }, async () => {
            while (sent < REQUESTS) {
              const path = paths[sent++ % paths.length]!;
              const res = await pool.request({ method: 'GET', path });
              await res.body.dump();
            }
          }),
        );
      } finally {
        await pool.close();
      }
      await sleep(10_000);
      run.tenReplicas = memoryFigures(await supervisorMemory(admin));
    }
    return run;
  } finally {
    await sup?.stop(60_000);
    if (engine) {
      await removeSuiteObjects(engine, SUITE);
      await engine.close();
    }
    await removeDir(dir);
  }
}
