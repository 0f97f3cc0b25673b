// Replicas as child processes, for machines without a container engine. Each runs detached in
// its own process group with its output in dataDir/logs, so it survives a SIGKILL of the
// supervisor; a state file in dataDir lets the next supervisor adopt it, after checking that the
// pid is alive and really ours (its environment carries REPLICA_MARKER=<instance>, so a reused
// pid is not).
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { existsSync, mkdirSync, openSync, closeSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { field, type ValuesOf } from '../schema/formats.ts';
import { parseTemplate, refsOf } from '../schema/templates.ts';
import type { Deployment, RuntimePlugin } from './plugin.ts';
import { serviceDataDir, serviceSecretsDir, writeSecretFiles } from './replica-files.ts';
import type { Logger } from '../core/log.ts';
import { readLogFile } from './log-file.ts';
import { ServiceBuilds } from './service-build.ts';
import type {
  CloseOptions,
  CpuEnforcement,
  MemoryEnforcement,
  Placement,
  ReplicaInfo,
  ReplicaLogOptions,
  ReplicaOutput,
  ReplicaSpec,
  ReplicaUsage,
  Runtime,
} from './runtime.ts';
import { dialHost, portTaken } from './runtime.ts';
import { hostMemory } from './host-memory.ts';
import { procUsage } from './proc-usage.ts';
import { findReplicaCgroups, type CgroupsFound } from './cgroups.ts';

/** Set on every child to its instance id: how a pid is known to be ours after a restart. */
export const REPLICA_MARKER = 'SUPERVISOR_REPLICA_ID';

/** runtimes.process: declared once, the settings' type derived. */
const PROCESS_SCHEMA = {
  /** Variables a child takes from the supervisor's environment: enough to run, nothing of its config. */
  inheritEnv: field('sa-env-names', [
    'PATH',
    'HOME',
    'LANG',
    'LC_ALL',
    'TZ',
    'TMPDIR',
    'NODE_ENV',
    'NODE_EXTRA_CA_CERTS',
  ]),
  /**
   * Run each service's build step (services.<name>.build: service-build.ts) and its replicas from
   * what it made, as the images do; false: every service's `command` as written.
   */
  bundle: field('sa-boolean', true),
  /** "auto": a cgroup per replica where the supervisor may create them (cgroups.ts); "off": never. */
  cgroups: field('sa-process-cgroups', 'auto'),
};
export type ProcessSettings = ValuesOf<typeof PROCESS_SCHEMA>;

export interface ProcessRuntimeOptions {
  /** Supervisor instance name: part of the state file name. */
  supervisor: string;
  dataDir: string;
  /** DATA_DIR given to replicas. */
  replicaDataDir: string;
  publishHost: string;
  inheritEnv: readonly string[];
  cwd?: string;
  /** Runs the services' build steps; absent: every service's `command` as written. */
  builds?: ServiceBuilds | undefined;
  logger?: Logger | undefined;
  /** Whether to hold replicas in cgroups of their own; absent: "auto". */
  cgroups?: 'auto' | 'off';
}

interface ProcessRecord {
  id: string;
  service: string;
  port: number;
  pid: number;
  startedAt: number;
  /** The spec label (spec-hash.ts) it was started with. */
  spec?: string;
}

/** Of a replica's memory, what V8's old space may take: as the images' --max-old-space-size-percentage=30. */
const HEAP_SHARE = 0.3;

/**
 * The node flags and allocator settings that hold a child near its memory limit, as the images
 * do inside their cgroup (here V8 would size its heap from the host's memory), with their
 * young generation of 1 MB semi-spaces. A flag the command gives itself wins.
 */
export function memoryBounds(
  args: readonly string[],
  memoryMb: number,
): { args: string[]; env: Record<string, string> } {
  const has = (flag: string) => args.some((a) => a.startsWith(flag));
  const heap = has('--max-old-space-size')
    ? []
    : [`--max-old-space-size=${Math.max(16, Math.round(memoryMb * HEAP_SHARE))}`];
  const young = has('--max-semi-space-size') ? [] : ['--max-semi-space-size=1'];
  return {
    args: [...heap, ...young, ...args],
    env: { MALLOC_ARENA_MAX: '2', MALLOC_MMAP_THRESHOLD_: '131072' },
  };
}

export class ProcessRuntime implements Runtime {
  readonly kind = 'process' as const;
  readonly memoryEnforcement: MemoryEnforcement;
  readonly cpuEnforcement: CpuEnforcement;
  /** Why the replicas have no cgroups of their own, when they have none. */
  readonly limitsNote: string;
  readonly #cgroups: CgroupsFound;
  readonly #options: ProcessRuntimeOptions;
  readonly #records = new Map<string, ProcessRecord>();
  /** Children this supervisor spawned: their exit is an event, not a poll. */
  readonly #children = new Map<string, { child: ChildProcess; exit?: string }>();
  readonly #stateFile: string;

  constructor(options: ProcessRuntimeOptions) {
    this.#options = options;
    this.#stateFile = path.join(options.dataDir, `process-replicas-${options.supervisor}.json`);
    this.#cgroups =
      options.cgroups === 'off'
        ? { unavailable: 'runtimes.process.cgroups is "off"' }
        : findReplicaCgroups(options.supervisor);
    const held = 'cgroups' in this.#cgroups;
    this.memoryEnforcement = held ? 'cgroup' : 'heap-and-watchdog';
    this.cpuEnforcement = held ? 'cgroup' : 'none';
    this.limitsNote =
      'cgroups' in this.#cgroups
        ? `a cgroup (v${this.#cgroups.cgroups.version}) per replica under ${this.#cgroups.cgroups.where}`
        : `no cgroup per replica (${this.#cgroups.unavailable}): memory is held by V8's heap flags and the supervisor's watchdog, CPU is not limited`;
  }

  async init(): Promise<void> {
    mkdirSync(path.join(this.#options.dataDir, 'logs'), { recursive: true });
    mkdirSync(this.#options.replicaDataDir, { recursive: true });
    let saved: ProcessRecord[] = [];
    try {
      saved = (JSON.parse(readFileSync(this.#stateFile, 'utf8')) as { replicas: ProcessRecord[] }).replicas;
    } catch {
      saved = []; // no state yet, or unreadable: nothing to adopt
    }
    for (const record of saved) this.#records.set(record.id, record);
    // Groups of replicas no state file names (a supervisor killed between start and save): gone.
    if ('cgroups' in this.#cgroups) this.#cgroups.cgroups.removeOthers(new Set(this.#records.keys()));
  }

  async list(): Promise<ReplicaInfo[]> {
    return [...this.#records.values()].map((r) => this.#info(r));
  }

  async inspect(id: string): Promise<ReplicaInfo | undefined> {
    const record = this.#records.get(id);
    return record ? this.#info(record) : undefined;
  }

  async start(spec: ReplicaSpec): Promise<ReplicaInfo> {
    if (!spec.command?.length)
      throw Object.assign(new Error(`service ${spec.service} has no command for the process runtime`), {
        code: 'NO_COMMAND',
      });
    // A replica on a taken port would only fail its health checks; say so before spawning it.
    await assertPortFree(this.#options.publishHost, spec.port);
    const id = spec.instance;
    const command = await this.#command(spec);
    const [program, ...given] = command;
    const isNode = program === 'node';
    const bin = isNode ? process.execPath : program!;
    const bounds = isNode ? memoryBounds(given, spec.resources.memoryMb) : { args: given, env: {} };
    const args = bounds.args;
    const env: Record<string, string> = { ...bounds.env, ...inheritedEnv(this.#options.inheritEnv) };
    Object.assign(env, spec.env, { [REPLICA_MARKER]: id });
    // Secrets as files only this user reads, as containers get them.
    if (spec.secrets !== undefined) {
      const dir = serviceSecretsDir(this.#options.dataDir, spec.service);
      Object.assign(env, writeSecretFiles(dir, spec.secrets, dir));
    }
    mkdirSync(serviceDataDir(this.#options.replicaDataDir, spec.service), { recursive: true, mode: 0o700 });
    const cgroups = 'cgroups' in this.#cgroups ? this.#cgroups.cgroups : undefined;
    cgroups?.create(id, spec.resources);
    const logFile = this.#logFile(spec.service, spec.port);
    const fd = openSync(logFile, 'a');
    let child: ChildProcess;
    try {
      child = spawn(bin, args, {
        cwd: this.#options.cwd ?? process.cwd(),
        env,
        detached: true,
        stdio: ['ignore', fd, fd],
      });
      await new Promise<void>((resolve, reject) => {
        child.once('spawn', resolve);
        child.once('error', reject);
      });
    } finally {
      closeSync(fd);
    }
    child.unref();
    const entry: { child: ChildProcess; exit?: string } = { child };
    child.once('exit', (code, signal) => {
      entry.exit = signal ? `killed by ${signal}` : `exited with code ${code}`;
      const kills = signal === 'SIGKILL' ? cgroups?.oomKills(id) : undefined;
      if (kills) {
        entry.exit = `killed by the kernel: out of memory at its cgroup limit (resources.memoryMb ${spec.resources.memoryMb})`;
      }
    });
    try {
      // Node cannot spawn into a cgroup: the child moves in as it starts, before it has read its code.
      cgroups?.enter(id, child.pid!);
    } catch (err) {
      this.#signal({ id, pid: child.pid!, service: spec.service, port: spec.port, startedAt: 0 }, 'SIGKILL');
      throw new Error(`the replica's cgroup could not take it: ${(err as Error).message}`, { cause: err });
    }
    this.#children.set(id, entry);
    const record: ProcessRecord = {
      id,
      service: spec.service,
      port: spec.port,
      pid: child.pid!,
      startedAt: Date.now(),
      ...(spec.spec === undefined ? {} : { spec: spec.spec }),
    };
    this.#records.set(id, record);
    this.#save();
    return this.#info(record);
  }

  #command(spec: ReplicaSpec): Promise<string[]> | string[] {
    if (!this.#options.builds || !spec.build) return spec.command!;
    return this.#options.builds.command(spec.service, spec.build);
  }

  async stop(id: string, graceSeconds: number): Promise<void> {
    const record = this.#records.get(id);
    if (!record || !this.#alive(record)) return;
    this.#signal(record, 'SIGTERM');
    const deadline = Date.now() + graceSeconds * 1000;
    while (this.#alive(record) && Date.now() < deadline) await sleep(50);
    if (this.#alive(record)) {
      this.#signal(record, 'SIGKILL');
      await this.#waitGone(record, 5000);
    }
  }

  async remove(id: string): Promise<void> {
    const record = this.#records.get(id);
    if (!record) return;
    if (this.#alive(record)) {
      this.#signal(record, 'SIGKILL');
      await this.#waitGone(record, 5000);
    }
    this.#records.delete(id);
    this.#children.delete(id);
    this.#save();
    if ('cgroups' in this.#cgroups) this.#cgroups.cgroups.remove(id);
  }

  logs(id: string, options: ReplicaLogOptions): AsyncIterable<ReplicaOutput> {
    const record = this.#records.get(id);
    if (!record) return (async function* () {})();
    return readLogFile(this.#logFile(record.service, record.port), { ...options, writing: () => this.#alive(record) });
  }

  /** Each service its own data directory, as containers have (runtime/replica-files.ts). */
  placement(service: string, port: number): Placement {
    return {
      port,
      host: dialHost(this.#options.publishHost),
      dataDir: serviceDataDir(this.#options.replicaDataDir, service),
    };
  }

  serviceUrl(_service: string, port: number): string {
    return `http://${dialHost(this.#options.publishHost)}:${port}`;
  }

  async close(options?: CloseOptions): Promise<void> {
    // Children run on by design (onShutdown "leave", or a restart adopting them): the state
    // file is how the next supervisor adopts them. Their cgroups' parent goes once empty.
    if (options?.removeResources && 'cgroups' in this.#cgroups) this.#cgroups.cgroups.close();
  }

  /** One file per service and port: a replacement on the same port appends to it. */
  #logFile(service: string, port: number): string {
    return path.join(this.#options.dataDir, 'logs', `${service}-${port}.log`);
  }

  #info(record: ProcessRecord): ReplicaInfo {
    const running = this.#alive(record);
    const info: ReplicaInfo = {
      id: record.id,
      service: record.service,
      port: record.port,
      instance: record.id,
      url: `http://${dialHost(this.#options.publishHost)}:${record.port}`,
      running,
      startedAt: record.startedAt,
    };
    if (!running) info.exitReason = this.#children.get(record.id)?.exit ?? 'process is gone';
    if (record.spec !== undefined) info.spec = record.spec;
    return info;
  }

  /** The children live in this process's cgroup: its limit, or the host's memory. */
  async memory(): Promise<{ bytes: number; source: string }> {
    return hostMemory();
  }

  async usage(id: string): Promise<ReplicaUsage | undefined> {
    const record = this.#records.get(id);
    return record && this.#alive(record) ? procUsage(record.pid) : undefined;
  }

  #alive(record: ProcessRecord): boolean {
    const own = this.#children.get(record.id);
    if (own) return own.exit === undefined;
    try {
      process.kill(record.pid, 0);
    } catch {
      return false;
    }
    return isOurs(record.pid, record.id);
  }

  #signal(record: ProcessRecord, signal: NodeJS.Signals): void {
    try {
      process.kill(-record.pid, signal); // the whole group: a command may be a wrapper (npm, sh)
    } catch {
      try {
        process.kill(record.pid, signal);
      } catch {
        // already gone
      }
    }
  }

  async #waitGone(record: ProcessRecord, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.#alive(record) && Date.now() < deadline) await sleep(25);
  }

  #save(): void {
    const tmp = `${this.#stateFile}.tmp`;
    writeFileSync(tmp, JSON.stringify({ replicas: [...this.#records.values()] }, null, 2));
    renameSync(tmp, this.#stateFile);
  }
}

/** A live pid is ours if its environment names our instance id; unreadable → trust the pid. */
function isOurs(pid: number, id: string): boolean {
  let environ: string;
  try {
    environ = readFileSync(`/proc/${pid}/environ`, 'latin1');
  } catch (err) {
    // No /proc (not Linux) or not readable: the pid is all we have. Gone: not ours.
    return (err as NodeJS.ErrnoException).code !== 'ENOENT' || !existsSync('/proc/self');
  }
  return environ.split('\0').includes(`${REPLICA_MARKER}=${id}`);
}

/** What a child takes of the supervisor's environment (runtimes.process.inheritEnv). */
function inheritedEnv(names: readonly string[]): Record<string, string> {
  const env: Record<string, string> = {};
  for (const key of names) if (process.env[key] !== undefined) env[key] = process.env[key]!;
  return env;
}

/** Always available: the fallback of `runtime: auto`. */
export const processRuntime: RuntimePlugin<'process', ProcessSettings> = {
  name: 'process',
  capabilities: { artifact: 'command' },
  schema: PROCESS_SCHEMA,
  detect: async () => ({ available: true, why: 'child processes need no engine' }),
  check: portlessServices,
  create: (context) =>
    new ProcessRuntime({
      supervisor: context.supervisor,
      dataDir: context.dataDir,
      replicaDataDir: context.replicaDataDir,
      publishHost: context.publishHost,
      inheritEnv: context.settings.inheritEnv,
      builds: context.settings.bundle
        ? new ServiceBuilds({
            cacheDir: path.join(context.dataDir, 'builds'),
            cwd: process.cwd(),
            env: inheritedEnv(context.settings.inheritEnv),
            logger: context.logger,
          })
        : undefined,
      logger: context.logger,
      cgroups: context.settings.cgroups,
    }),
};

/**
 * Replicas of a service share the host, so each must be told its own port: a service whose env
 * (with the global one) never names {{replica:port}} would start them all on one.
 */
function portlessServices(deployment: Deployment): ReturnType<NonNullable<RuntimePlugin['check']>> {
  const tellsPort = (text: string) => {
    const parsed = parseTemplate(text);
    return 'parts' in parsed && refsOf(parsed.parts).some((r) => r.kind === 'replica' && r.field === 'port');
  };
  return deployment.services
    .filter((s) => !Object.values({ ...deployment.env, ...s.env }).some(tellsPort))
    .map((s) => ({
      key: `services.${s.name}.env`,
      value: s.env,
      expected:
        'a variable carrying {{replica:port}} (runtime is process: every replica listens on its own host port), e.g. "PORT": "{{replica:port}}"',
    }));
}

/** Rejects with PORT_TAKEN when `port` on `host` cannot be listened on because someone holds it. */
async function assertPortFree(host: string, port: number): Promise<void> {
  const probe = createServer();
  try {
    await new Promise<void>((resolve, reject) => {
      probe.once('error', reject);
      probe.listen({ host: host === '' ? undefined : host, port, exclusive: true }, resolve);
    });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE')
      throw portTaken(port, `listen ${host}:${port}: address already in use`, err);
    // Any other refusal (no such address, no permission) is the replica's to report.
  } finally {
    await new Promise<void>((resolve) => probe.close(() => resolve()));
  }
}
