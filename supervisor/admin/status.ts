// The body of GET /status (docs/status-api.md), built from the fleet's table and the scaler's
// last window reports. Pure: the admin server and the SSE feed both call it.
import type { Config } from '../config/config.ts';
import {
  inRotation,
  type Capacity,
  type Capped,
  type FailureReport,
  type Replica,
  type Rollout,
} from '../fleet/fleet.ts';
import type { WindowStatus } from '../core/protocol.ts';
import type { CpuEnforcement, MemoryEnforcement } from '../runtime/runtime.ts';

export interface StatusReplica {
  id: string;
  port: number;
  url: string;
  state: Replica['state'];
  health: Replica['health'];
  requestsServed: number;
  startedAt: string;
  consecutiveFailures: number;
  reason?: string;
  latencyMs?: number;
  /** CPU over the last 5 s (100 = one core) and memory, where the runtime tells (telemetry.ts). */
  cpuPercent?: number;
  memoryBytes?: number;
  /** On the surge port of a rolling replacement: the replica beyond `desired` that keeps capacity. */
  surge?: true;
  /** Takes traffic: ready, and not held out of rotation (`out` says why). */
  inRotation: boolean;
  /** Alive but held out of rotation: since when (ISO), why, and whether for slowness or an unready answer. */
  out?: { since: string; cause: 'slow' | 'unready'; reason: string };
  /** Its liveness check went unanswered (ISO): replaced as soon as the ejection limit allows. */
  stuckSince?: string;
}

export interface StatusWindow {
  startedAt: string;
  endsAt: string;
  windowSeconds: number;
  requests: number;
  requestsPerReplica: number;
  nextDesired: number;
  nextThreshold: number;
  reason: string;
}

/** A recent failure of a replica of the service, with its last output (newest first). */
export interface StatusFailure {
  id: string;
  port: number;
  time: string;
  reason: string;
  output: string[];
  outputError?: string;
}

export interface StatusBody {
  runtime: string;
  /**
   * How resources.memoryMb is held: a cgroup (the engine's, or the process runtime's own), or V8's heap flags and the
   * supervisor's watchdog.
   */
  memoryEnforcement: MemoryEnforcement;
  /** How resources.cpus is held: a cgroup's CFS quota, or not at all (the process runtime without cgroups). */
  cpuEnforcement: CpuEnforcement;
  /** The same in a sentence, with why there are no cgroups where there are none. */
  limits: string;
  startedAt: string;
  /**
   * How the balancer reads the replicas' responses: Node's internal llhttp (fast), or our own
   * parser, with why (the binding failed its self-test, or it was configured).
   */
  upstreamParser: { parser: 'llhttp' | 'own'; reason: string | null };
  /** Where the balancer listens; null until it does. */
  listen: { host: string; port: number } | null;
  /** Why the balancer cannot listen (it keeps trying); null while it listens. */
  listenError: ListenError | null;
  /** The memory replicas may use (capacity.ts), and what the desired counts take of it; null when unknown. */
  capacity: (Capacity & { usedMb: number }) | null;
  services: Record<
    string,
    {
      desired: number;
      min: number;
      max: number;
      autoscale: boolean;
      /** The operator's count (`selflessacts scale`), held against the scaler; null when none. */
      override: number | null;
      replicas: StatusReplica[];
      window: StatusWindow | null;
      /** The last failures of its replicas, newest first, with their output. */
      failures: StatusFailure[];
      /** The rolling replacement under way, or null. */
      rollout: Rollout | null;
      /** Memory one replica may use (resources.memoryMb): the limit it is held to. */
      memoryMb: number;
      /** What capacity counts per replica at least (resources.memoryRequestMb; memoryMb unless set). */
      memoryRequestMb: number;
      /** Held below the count asked for because it does not fit (code capped-by-capacity), or null. */
      capped: Capped | null;
    }
  >;
}

export interface ListenError {
  host: string;
  port: number;
  code: string;
  message: string;
  /** When it was first seen (ISO). */
  since: string;
}

export interface StatusInput {
  runtime: string;
  memoryEnforcement: MemoryEnforcement;
  cpuEnforcement: CpuEnforcement;
  limits: string;
  startedAt: number;
  upstreamParser: { parser: 'llhttp' | 'own'; reason: string | null };
  listen: { host: string; port: number } | null;
  listenError: ListenError | null;
  config: Config;
  replicas: Iterable<Replica>;
  desired: ReadonlyMap<string, number>;
  windows: ReadonlyMap<string, WindowStatus>;
  overrides: ReadonlyMap<string, number>;
  failures: ReadonlyMap<string, readonly FailureReport[]>;
  rollout: (service: string) => Rollout | null;
  capacity?: Capacity | undefined;
  capped?: ReadonlyMap<string, Capped>;
  usage?: (id: string) => { cpuPercent: number | null; memoryBytes: number } | undefined;
}

export function buildStatus(input: StatusInput): StatusBody {
  const all = [...input.replicas];
  const services: StatusBody['services'] = {};
  for (const s of input.config.services) {
    const w = s.autoscale ? input.windows.get(s.name) : undefined;
    const rollout = input.rollout(s.name);
    services[s.name] = {
      desired: input.desired.get(s.name) ?? s.replicas.initial,
      min: s.replicas.min,
      max: s.replicas.max,
      autoscale: s.autoscale,
      override: input.overrides.get(s.name) ?? null,
      replicas: all
        .filter((r) => r.service === s.name)
        .sort((a, b) => a.port - b.port || a.startedAt - b.startedAt)
        .map((r) => statusReplica(r, input.usage?.(r.id), r.port === rollout?.surgePort)),
      window: w
        ? {
            startedAt: new Date(w.startedAt).toISOString(),
            endsAt: new Date(w.endsAt).toISOString(),
            windowSeconds: w.windowSeconds,
            requests: w.requests,
            requestsPerReplica: w.requestsPerReplica,
            nextDesired: w.nextDesired,
            nextThreshold: w.nextThreshold,
            reason: w.reason,
          }
        : null,
      failures: (input.failures.get(s.name) ?? []).map((f) => ({ ...f, time: new Date(f.time).toISOString() })),
      rollout,
      memoryMb: s.resources.memoryMb,
      memoryRequestMb: s.resources.memoryRequestMb,
      capped: input.capped?.get(s.name) ?? null,
    };
  }
  const usedMb = input.config.services.reduce(
    (sum, s) => sum + (input.desired.get(s.name) ?? s.replicas.initial) * s.resources.memoryRequestMb,
    0,
  );
  const capacity = input.capacity ? { ...input.capacity, usedMb } : null;
  return {
    runtime: input.runtime,
    memoryEnforcement: input.memoryEnforcement,
    cpuEnforcement: input.cpuEnforcement,
    limits: input.limits,
    startedAt: new Date(input.startedAt).toISOString(),
    upstreamParser: input.upstreamParser,
    listen: input.listen,
    listenError: input.listenError,
    capacity,
    services,
  };
}

/** GET /health: ready when the balancer listens (the replicas' own health is in /status). */
export function readiness(status: StatusBody): { ready: boolean; reason: string } {
  if (status.listenError)
    return {
      ready: false,
      reason: `the balancer cannot listen on ${status.listenError.host}:${status.listenError.port}: ${status.listenError.code} (${status.listenError.message})`,
    };
  if (!status.listen) return { ready: false, reason: 'the balancer is not listening yet' };
  return { ready: true, reason: `listening on ${status.listen.host}:${status.listen.port}` };
}

function statusReplica(
  r: Replica,
  usage: { cpuPercent: number | null; memoryBytes: number } | undefined,
  surge: boolean,
): StatusReplica {
  const out: StatusReplica = {
    id: r.id,
    port: r.port,
    url: r.url,
    state: r.state,
    health: r.health,
    requestsServed: r.requestsServed,
    startedAt: new Date(r.startedAt).toISOString(),
    consecutiveFailures: r.consecutiveFailures,
    inRotation: inRotation(r),
  };
  if (r.out) out.out = { ...r.out, since: new Date(r.out.since).toISOString() };
  if (r.stuckSince !== undefined) out.stuckSince = new Date(r.stuckSince).toISOString();
  if (r.lastReason !== undefined) out.reason = r.lastReason;
  if (r.latencyMs !== undefined) out.latencyMs = r.latencyMs;
  if (usage?.cpuPercent != null) out.cpuPercent = usage.cpuPercent;
  if (usage) out.memoryBytes = usage.memoryBytes;
  if (surge) out.surge = true;
  return out;
}
