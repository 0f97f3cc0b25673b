// What the fleet needs from whatever runs replicas (after Nomad's driver interface): list what
// is ours (adoption after a restart falls out of it), start one, stop with a grace period,
// remove, inspect. Stop and remove treat "already gone" as success. How a runtime is chosen and
// made: plugin.ts and registry.ts.
import type { ServiceBuild } from '../schema/service.ts';

/**
 * Keys of the labels every replica carries (`<prefix>.service` ...), so the supervisor finds its own and nobody else's.
 */
export interface ReplicaLabels {
  service: string;
  port: string;
  instance: string;
  supervisor: string;
  /** On the network a container runtime makes. */
  network: string;
  /** What the replica was started from (spec-hash.ts): a replica that differs is replaced. */
  spec: string;
}

export function replicaLabels(prefix: string): ReplicaLabels {
  return {
    service: `${prefix}.service`,
    port: `${prefix}.port`,
    instance: `${prefix}.instance`,
    supervisor: `${prefix}.supervisor`,
    network: `${prefix}.network`,
    spec: `${prefix}.spec`,
  };
}

export interface ReplicaSpec {
  service: string;
  /** Host port: the replica is reachable at publishHost:port. */
  port: number;
  /** Unique per replica ever started, chosen by the fleet (label <prefix>.instance). */
  instance: string;
  image?: string;
  command?: string[];
  /** The process runtime's build step (services.<name>.build); the engine runtimes run images. */
  build?: ServiceBuild;
  containerPort: number;
  /** Rendered from the config's templates (replica-env.ts): the runtime adds nothing the app would read. */
  env: Record<string, string>;
  /**
   * Variables whose value is a secret, kept out of `env`: the runtime hands each over as a file
   * only the replica's user can read, named by <VARIABLE>_FILE (runtime/replica-files.ts).
   */
  secrets?: Record<string, string>;
  resources: { memoryMb: number; cpus: number };
  /** The label value of its effective spec (spec-hash.ts formatSpec). */
  spec?: string;
}

export interface ReplicaInfo {
  /** Container id, or the instance id of a process. */
  id: string;
  service: string;
  port: number;
  /** Unique per replica ever started (label <prefix>.instance). */
  instance: string;
  /** Where the supervisor reaches it: http://127.0.0.1:<port>. */
  url: string;
  running: boolean;
  /** Epoch ms, when known. */
  startedAt: number;
  /** Why it is not running, when it is not ("exited with code 1"). */
  exitReason?: string;
  /** The spec label it was started with; absent on replicas of an older supervisor. */
  spec?: string;
}

export interface ReplicaUsage {
  /** CPU time since the replica started, all cores. */
  cpuSeconds: number;
  memoryBytes: number;
  /**
   * Of that, what is the replica's own (anonymous and shared-memory pages; a process's files and libraries not): what a
   * memory limit holds.
   */
  ownBytes?: number;
}

/**
 * How a replica's resources.memoryMb is held: by the kernel (the engine's cgroup limit, an OOM
 * kill past it), or by the supervisor (V8's heap sized to it, and a watchdog that replaces a
 * replica whose memory goes past it).
 */
export type MemoryEnforcement = 'cgroup' | 'heap-and-watchdog';

/** How a replica's resources.cpus is held: by the kernel's CFS quota in its cgroup, or not at all. */
export type CpuEnforcement = 'cgroup' | 'none';

export interface Runtime {
  /** The registry's name for it: docker, podman, process. */
  readonly kind: string;
  readonly memoryEnforcement: MemoryEnforcement;
  readonly cpuEnforcement: CpuEnforcement;
  /** How the replicas' resources are held, in a sentence for the log and /status. */
  readonly limitsNote: string;
  /** Prepares shared resources (the network, the state file); idempotent. */
  init(): Promise<void>;
  /** Every replica of this supervisor, running or not. */
  list(): Promise<ReplicaInfo[]>;
  /** Rejects with code PORT_TAKEN when another process holds the replica's host port. */
  start(spec: ReplicaSpec): Promise<ReplicaInfo>;
  /**
   * The id an image name resolves to now (a rebuild under the same tag changes it), or
   * undefined when it cannot be told (no such image); absent for runtimes without images.
   */
  imageId?(image: string): Promise<string | undefined>;
  stop(id: string, graceSeconds: number): Promise<void>;
  remove(id: string): Promise<void>;
  inspect(id: string): Promise<ReplicaInfo | undefined>;
  /** A URL of `service`'s replica on `port` that another replica can reach. */
  serviceUrl(service: string, port: number, containerPort: number): string;
  /**
   * How `service`'s replica on `port` sees itself: the values of {{replica:port}}, {{replica:host}},
   * {{replica:dataDir}}.
   */
  placement(service: string, port: number, containerPort: number): Placement;
  /**
   * The replica's output so far (the last `tail` lines with `tail`), then, with `follow`, what
   * it writes until it stops or `signal` aborts. Absent when the runtime keeps no output.
   */
  logs?(id: string, options: ReplicaLogOptions): AsyncIterable<ReplicaOutput>;
  /** CPU time used so far and memory now, where the runtime can tell (the engine's stats, /proc). */
  usage?(id: string): Promise<ReplicaUsage | undefined>;
  /** The memory its replicas share (the engine's host, or this process's cgroup), where it can tell. */
  memory?(): Promise<{ bytes: number; source: string } | undefined>;
  /**
   * Lets go of the runtime. With `removeResources` (onShutdown "remove", after every replica is
   * gone) it also removes what init() made for the replicas; a resource still in use by someone
   * else is logged and left.
   */
  close(options?: CloseOptions): Promise<void>;
}

export interface ReplicaLogOptions {
  follow: boolean;
  /** Lines from the end; all when undefined. */
  tail?: number | undefined;
  signal: AbortSignal;
}

/** Bytes a replica wrote, in order; `tty` when stdout and stderr are one terminal stream. */
export interface ReplicaOutput {
  stream: 'stdout' | 'stderr' | 'tty';
  data: Buffer;
}

export interface Placement {
  /** The port to listen on (inside a container: the container port). */
  port: number;
  /** The address to listen on. */
  host: string;
  /** Where it may write (shared by the service's replicas; the fleet's dataDir/replicas). */
  dataDir: string;
}

export interface CloseOptions {
  removeResources?: boolean;
}

export function parsePortLabel(value: string | undefined): number | undefined {
  if (value === undefined || !/^\d{1,5}$/.test(value)) return undefined;
  const port = Number(value);
  return port >= 1 && port <= 65535 ? port : undefined;
}

/**
 * The code of start()'s error when the replica's host port is held by something else: the fleet
 * can then choose another port (a rolling replacement goes in place rather than wait for its
 * surge port), where any other start failure is retried under the backoff.
 */
export const PORT_TAKEN = 'PORT_TAKEN';

/** An error with code PORT_TAKEN that names the port and what the runtime said. */
export function portTaken(port: number, detail: string, cause?: unknown): Error {
  return Object.assign(
    new Error(`port ${port} is taken by another process: ${detail}`, cause === undefined ? undefined : { cause }),
    { code: PORT_TAKEN },
  );
}

/** The host the supervisor itself dials: a wildcard publish address is reached via loopback. */
export function dialHost(publishHost: string): string {
  return publishHost === '0.0.0.0' || publishHost === '::' || publishHost === '' ? '127.0.0.1' : publishHost;
}
