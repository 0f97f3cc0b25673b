// The one writer of replica state. Desired counts (config, then the scaler) against what the
// runtime lists (found by our labels), converged by a level-triggered loop: each pass reads the
// actual state, plans (reconcile.ts) and starts operations; an operation that fails is planned
// again on the next pass. Nothing here throws out of the loop.
import { randomBytes } from 'node:crypto';
import { recordFailure, restartAllowedAt, type FailureRecord } from './backoff.ts';
import { delay, systemClock, type Clock, type Timer } from '../core/clock.ts';
import type { Config, ServiceConfig } from '../config/config.ts';
import type { EventLog } from '../telemetry/events.ts';
import { errorFields, type Logger } from '../core/log.ts';
import type { HealthMessage, RouteReplica, Target } from '../core/protocol.ts';
import {
  plan,
  rollingServices,
  slotKey,
  surgePort,
  type Action,
  type PlanInput,
  type PlanService,
  type ReplicaState,
} from './reconcile.ts';
import type { ReplicaEnvironment } from './replica-env.ts';
import { lastLines } from '../runtime/log-tail.ts';
import { SpecTracker } from './rollout.ts';
import { PORT_TAKEN, type ReplicaInfo, type ReplicaSpec, type Runtime } from '../runtime/runtime.ts';
import { policySettings, scalingPolicy, type Decision, type DecisionCode } from '../scaler/policy.ts';
import { fit, minimumsOver, replicaNeedMb } from './capacity.ts';

/** unready: out of rotation, kept running (its health check fails, its liveness check passes). */
export type Health = 'unknown' | 'ok' | 'failing' | 'unready';

/** Why a live replica is held out of rotation. */
export interface OutOfRotation {
  /** Epoch ms. */
  since: number;
  cause: 'slow' | 'unready';
  reason: string;
}

export interface Replica {
  id: string;
  service: string;
  port: number;
  url: string;
  state: ReplicaState;
  health: Health;
  consecutiveFailures: number;
  startedAt: number;
  trackedSince: number;
  readyAt?: number;
  /** Found running at start-up rather than started by us: it has no boot time to forgive. */
  adopted?: boolean;
  /** Adopted at start-up: in rotation until its first check says otherwise (it was serving). */
  presumed?: boolean;
  requestsServed: number;
  lastReason?: string;
  latencyMs?: number;
  /** Epoch ms of its failure. */
  failedAt?: number;
  /** The spec label it was started with (spec-hash.ts); absent on an older supervisor's. */
  spec?: string | undefined;
  /** Alive but out of rotation (its health check fails); absent while it serves. */
  out?: OutOfRotation;
  /** Its liveness check went unanswered (epoch ms): replaced once the ejection limit allows. */
  stuckSince?: number;
  /** The ejection limit kept it in rotation although its checks go unanswered (said once). */
  kept?: boolean;
}

/** What is kept of a failed replica: why, and its last lines of output, captured before removal. */
export interface FailureReport {
  id: string;
  port: number;
  /** Epoch ms of the failure. */
  time: number;
  reason: string;
  output: string[];
  /** Why no output could be captured, when none could. */
  outputError?: string;
}

export interface FleetDeps {
  config: Config;
  runtime: Runtime;
  events: EventLog;
  logger: Logger;
  /** Renders each new replica's environment from the config's templates. */
  env: ReplicaEnvironment;
  /** Resolves once the balancer has no request in flight to the replica. */
  drain: (id: string) => Promise<void>;
  /** Called after any change the workers or the dashboard should see. */
  onChange: () => void;
  clock?: Clock;
  passIntervalMs?: number;
  /** A running replica's own memory, bytes, as last measured; undefined when not known. */
  memoryInUse?: (id: string) => number | undefined;
}

/** A desired count from the scaler's policy (or, later, an operator's override). */
export interface DesiredCount {
  replicas: number;
  code: DecisionCode | string;
  reason: string;
}

/** The memory the replicas may use, as the supervisor found it (Fleet.setCapacity). */
export interface Capacity {
  /** What the runtime's host (or this process's cgroup) has, MB, and where that figure came from. */
  memoryMb: number;
  source: string;
  /** Kept for the supervisor and the engine. */
  reserveMb: number;
  /** memoryMb - reserveMb: what replicas may take. */
  budgetMb: number;
}

/** A service held below the count asked for, as /status shows it. */
export interface Capped {
  wanted: number;
  allowed: number;
  reason: string;
}

/** A rolling replacement under way, as /status shows it. */
export interface Rollout {
  /** Replicas whose spec differs from the config, still to be replaced. */
  toReplace: number;
  /** The port of the surge replica that keeps capacity meanwhile; null when it goes in place (desired = max). */
  surgePort: number | null;
}

/**
 * Whether the replica takes traffic: ready and not held out, or adopted at start-up and not
 * checked yet (it was serving a moment ago; its first check comes at once).
 */
export function inRotation(r: Replica): boolean {
  if (r.state === 'ready') return r.out === undefined;
  return r.presumed === true && r.state === 'starting' && r.health === 'unknown';
}

/** A replica shutdown could not remove (id '' when the runtime could not even list them). */
export interface LeftBehind {
  id: string;
  service?: string;
  port?: number;
  reason: string;
}

/** Beyond a stop's grace, how long shutdown waits for the runtime to stop and remove a replica. */
const REMOVE_MARGIN_MS = 10_000;

/** `work`, or a rejection with `message` after `ms`. */
function withDeadline<T>(work: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms);
  });
  return Promise.race([work, deadline]).finally(() => clearTimeout(timer));
}

function sameKeys(
  a: ReadonlySet<string> | ReadonlyMap<string, unknown>,
  b: ReadonlySet<string> | ReadonlyMap<string, unknown>,
): boolean {
  return a.size === b.size && [...a.keys()].every((k) => b.has(k));
}

/** A failed replica has nothing worth waiting for: short grace. */
const FAILED_STOP_GRACE_SECONDS = 1;
/** Lines of a failed replica's output kept, failures kept per service, and the wait for them. */
const OUTPUT_LINES = 30;
const FAILURES_KEPT = 5;
const OUTPUT_TIMEOUT_MS = 3000;

export class Fleet {
  readonly replicas = new Map<string, Replica>();
  /** The count each service runs toward: what was asked for (`wanted`), capped by capacity. */
  readonly desired = new Map<string, number>();
  /** The count last asked for (config, scaler, operator), and by what decision. */
  readonly #wanted = new Map<string, DesiredCount>();
  /** Services capped below their wanted count, and why. */
  readonly capped = new Map<string, Capped>();
  #capacity: Capacity | undefined;
  /** The last FAILURES_KEPT failures per service, newest first, with their output. */
  readonly failures = new Map<string, FailureReport[]>();
  readonly #d: FleetDeps;
  readonly #clock: Clock;
  readonly #busy = new Set<string>();
  /** Replicas this fleet removed that the runtime's last list still showed (see #sync). */
  readonly #removed = new Set<string>();
  readonly #starting = new Set<string>();
  readonly #ops = new Set<Promise<void>>();
  readonly #failures = new Map<string, FailureRecord>();
  /** slot → id of the failed replica a start there replaces (for the replica.replaced event). */
  readonly #replacing = new Map<string, string>();
  /** slot → what changed, for a start there that is a rolling replacement. */
  readonly #replaceWhy = new Map<string, string>();
  readonly #specs: SpecTracker;
  /** Services whose rolling replacement was under way at the last pass (reconcile.ts isRolling). */
  #rolling = new Set<string>();
  /** Services whose surge port another process was found holding: their roll goes in place until it ends. */
  #surgePortTaken = new Set<string>();
  /** The drift the last pass saw: replica id → what changed. */
  #drifted = new Map<string, string>();
  #timer: Timer | undefined;
  #pass: Promise<void> | undefined;
  #again = false;
  #stopped = false;
  #lastListError = '';

  constructor(deps: FleetDeps) {
    this.#d = deps;
    this.#clock = deps.clock ?? systemClock;
    this.#specs = new SpecTracker({
      runtime: deps.runtime,
      clock: this.#clock,
      logger: deps.logger,
      envFor: (s, port, instance) => this.#envFor(s, port, instance),
    });
    for (const s of deps.config.services) {
      this.desired.set(s.name, s.replicas.initial);
      this.#wanted.set(s.name, {
        replicas: s.replicas.initial,
        code: 'initial',
        reason: `replicas.initial ${s.replicas.initial}`,
      });
    }
  }

  get capacity(): Capacity | undefined {
    return this.#capacity;
  }

  /**
   * What the replicas may use: from now on no count is raised beyond what fits (capacity.ts).
   * Counts already set (the initial ones) are fitted at once, and start-up says when even the
   * services' minimums do not fit.
   */
  setCapacity(capacity: Capacity): void {
    this.#capacity = capacity;
    const over = minimumsOver(
      this.#d.config.services.map((s) => ({ needMb: s.resources.memoryRequestMb, min: s.replicas.min })),
      capacity.budgetMb,
    );
    if (over > 0) {
      this.#d.events.emit({
        type: 'capacity.exceeded',
        reason: `the services' minimum replicas need ${over} MB more than the ${capacity.budgetMb} MB replicas may use (${capacity.memoryMb} MB from ${capacity.source}, less capacity.reserveMb ${capacity.reserveMb}); they run anyway: lower replicas.min or resources.memoryMb, or give the host more memory`,
      });
    }
    // Nothing runs yet: the initial counts are fitted from the minimums up, quietly unless capped.
    for (const s of this.#d.config.services)
      this.desired.set(s.name, Math.min(this.desired.get(s.name)!, s.replicas.min));
    this.#fit(true);
  }

  /**
   * First look at the runtime: adopt what runs (same ids, same ports) and set desired counts
   * so adopted replicas are kept. Returns the autoscaled services that adopted more replicas
   * than their initial count (a window should open for them, so they can come back down).
   */
  async adopt(): Promise<string[]> {
    const listedAt = this.#clock.now();
    const actual = await this.#d.runtime.list();
    const above: string[] = [];
    for (const s of this.#d.config.services) {
      const ports = new Set(actual.filter((a) => a.service === s.name && a.running).map((a) => a.port));
      if (s.autoscale) {
        const count = scalingPolicy(policySettings(s)).clamp(Math.max(s.replicas.initial, ports.size)).replicas;
        this.desired.set(s.name, count);
        this.#wanted.set(s.name, { replicas: count, code: 'adopted', reason: `${ports.size} replica(s) adopted` });
        if (ports.size > s.replicas.initial && count > s.replicas.min) above.push(s.name);
      }
    }
    this.#sync(actual, listedAt, true);
    // A replica on a service's surge port is taken for the leftover surge of a roll the previous
    // supervisor did not finish: kept until the service is whole again, then removed.
    for (const s of this.#planServices()) {
      const surge = surgePort(s);
      if (actual.some((a) => a.service === s.name && a.running && a.port === surge)) this.#rolling.add(s.name);
    }
    return above;
  }

  /** The rolling replacement under way for `service`, as of the last pass; null when none is. */
  rollout(service: string): Rollout | null {
    if (!this.#rolling.has(service)) return null;
    const s = this.#planServices().find((x) => x.name === service);
    const toReplace = [...this.replicas.values()].filter(
      (r) => r.service === service && this.#drifted.has(r.id) && r.state !== 'draining' && r.state !== 'stopping',
    ).length;
    return { toReplace, surgePort: (s && surgePort(s)) ?? null };
  }

  /** Passes every passIntervalMs (and on every event) until halt(). */
  start(): void {
    const tick = () => {
      if (this.#stopped) return;
      this.kick();
      this.#timer = this.#clock.after(this.#d.passIntervalMs ?? 1000, tick);
    };
    tick();
  }

  /**
   * The services' specs may have changed (a config reload, an image rebuilt): look the images
   * up again now; drifted replicas are then replaced one at a time.
   */
  specsChanged(): void {
    this.#specs.invalidate();
    this.kick();
  }

  /** Runs a pass soon; passes never overlap, and a kick during one runs another after it. */
  kick(): void {
    if (this.#stopped) return;
    if (this.#pass !== undefined) {
      this.#again = true;
      return;
    }
    this.#pass = this.#runPass()
      .catch((err: unknown) => this.#d.logger.error('reconcile pass failed', { error: errorFields(err) }))
      .finally(() => {
        this.#pass = undefined;
        if (this.#again) {
          this.#again = false;
          this.kick();
        }
      });
  }

  /**
   * A verdict of the heartbeat (health-tracker.ts): into rotation, out of it (kept running), or
   * replaced. Replicas out for missed answers, and stuck ones replaced, are held to the ejection
   * limit (heartbeat.maxEjectedPercent), so a busy host never empties a service by its own hand.
   */
  onHealth(msg: HealthMessage): void {
    const r = this.replicas.get(msg.id);
    if (!r || (r.state !== 'starting' && r.state !== 'ready')) return;
    r.consecutiveFailures = msg.consecutiveFailures;
    r.latencyMs = msg.latencyMs;
    // A stuck verdict's reason is its liveness check's timeout: the health check's is the one to keep.
    if (msg.cause !== 'stuck') r.lastReason = msg.reason;
    const now = this.#clock.now();
    if (msg.verdict !== 'failed') r.stuckSince = undefined; // a liveness check answered, or a health check did
    if (msg.verdict !== 'unready' && msg.verdict !== 'failed') r.kept = undefined;
    switch (msg.verdict) {
      case 'ok':
        r.health = 'ok';
        if (r.state === 'starting') {
          r.state = 'ready';
          r.readyAt = now;
          this.#d.events.emit({
            type: 'replica.ready',
            service: r.service,
            port: r.port,
            id: r.id,
            reason: `healthy ${now - r.trackedSince} ms after start`,
          });
        } else if (r.out) {
          this.#d.events.emit({
            type: 'replica.restored',
            service: r.service,
            port: r.port,
            id: r.id,
            reason: `back in rotation: its health check passed after ${now - r.out.since} ms out (${r.out.reason})`,
          });
          r.out = undefined;
        }
        break;
      case 'failing':
        r.health = r.out ? 'unready' : 'failing';
        break;
      case 'unready':
        r.health = r.out ? 'unready' : 'failing';
        if (r.state === 'ready')
          this.#holdOut(
            r,
            msg.cause === 'slow' ? 'slow' : 'unready',
            `${msg.consecutiveFailures} health checks failed in a row (last: ${msg.reason})`,
          );
        break;
      case 'failed':
        r.health = r.out ? 'unready' : 'failing';
        if (r.state !== 'ready' && !r.adopted) break;
        if (msg.cause === 'stuck') {
          r.stuckSince ??= now;
          this.#replaceStuck(r.service);
        } else {
          this.#fail(
            r,
            `${msg.consecutiveFailures} health checks failed in a row and its liveness check failed too (last: ${msg.reason})`,
          );
        }
        break;
    }
    this.#d.onChange();
  }

  /** Ready replicas of the service (in rotation or held out), and how many of them the limit lets go at once. */
  #ejectionRoom(service: string, counted: (r: Replica) => boolean): number {
    const ready = this.#sorted(service).filter((r) => r.state === 'ready');
    const limit = Math.floor((ready.length * this.#d.config.heartbeat.maxEjectedPercent) / 100);
    return limit - ready.filter(counted).length;
  }

  /** Out of rotation, kept running; for missed answers only within the ejection limit. */
  #holdOut(r: Replica, cause: OutOfRotation['cause'], reason: string): void {
    if (r.out) {
      r.out = { ...r.out, cause, reason };
      return;
    }
    if (cause === 'slow' && this.#ejectionRoom(r.service, (x) => x.out?.cause === 'slow') < 1) {
      if (!r.kept) {
        r.kept = true;
        this.#d.events.emit({
          type: 'replica.kept',
          service: r.service,
          port: r.port,
          id: r.id,
          reason: `kept in rotation although its health checks go unanswered in time (${reason}): taking it out would leave fewer than ${100 - this.#d.config.heartbeat.maxEjectedPercent}% of ${r.service} in rotation (heartbeat.maxEjectedPercent); it answers its liveness check, so the host is more likely busy than the replica broken`,
        });
      }
      return;
    }
    r.out = { since: this.#clock.now(), cause, reason };
    r.health = 'unready';
    const why =
      cause === 'slow'
        ? 'its health checks go unanswered in time, but it answers its liveness check'
        : 'it answers that it cannot serve (a dependency down?), and answers its liveness check';
    this.#d.events.emit({
      type: 'replica.unready',
      service: r.service,
      port: r.port,
      id: r.id,
      reason: `out of rotation, kept running: ${why} (${reason})`,
      cause,
    });
  }

  /**
   * Replicas whose liveness check went unanswered are replaced, oldest first, as many at once as
   * the ejection limit lets go (at least one: a replica that answers nothing serves nobody).
   */
  #replaceStuck(service: string): void {
    const s = this.#service(service);
    if (!s) return;
    const stuck = this.#sorted(service)
      .filter((r) => r.stuckSince !== undefined && (r.state === 'ready' || r.adopted))
      .sort((a, b) => a.stuckSince! - b.stuckSince!);
    if (stuck.length === 0) return;
    const desired = this.desired.get(service) ?? 1;
    const replacing = this.#sorted(service).filter(
      (r) => r.state === 'failed' || (r.state === 'starting' && !r.adopted),
    ).length;
    let room = Math.max(1, Math.floor((desired * this.#d.config.heartbeat.maxEjectedPercent) / 100)) - replacing;
    for (const r of stuck) {
      if (room-- <= 0) break;
      this.#fail(
        r,
        `stuck: no answer to its liveness check within ${this.#d.config.heartbeat.livenessTimeoutMs} ms, and ${r.consecutiveFailures} health checks failed in a row (last: ${r.lastReason ?? 'none'})`,
      );
    }
  }

  /** Fails a replica that is up (a watchdog's verdict): it is replaced like one that failed its checks. */
  fail(id: string, reason: string): void {
    const r = this.replicas.get(id);
    if (!r || (r.state !== 'starting' && r.state !== 'ready')) return;
    this.#fail(r, reason);
    this.#d.onChange();
  }

  /**
   * A new count asked for, as the policy (or the operator) decided it, within the service's
   * bounds already; granted as far as it fits (capacity.ts). A count capped earlier grows again
   * whenever another service's change frees room.
   */
  setDesired(service: string, desired: DesiredCount | Decision): void {
    if (!this.#service(service)) return;
    this.#wanted.set(service, desired);
    this.#fit(false);
  }

  #needMb(s: ServiceConfig): number {
    const used: number[] = [];
    for (const r of this.replicas.values()) {
      if (r.service !== s.name || r.state !== 'ready') continue;
      const bytes = this.#d.memoryInUse?.(r.id);
      if (bytes !== undefined) used.push(bytes);
    }
    return replicaNeedMb(s.resources.memoryRequestMb, used);
  }

  /** Every service's count from what was asked and what fits; `quiet`: no scaled event (start-up). */
  #fit(quiet: boolean): void {
    const services = this.#d.config.services;
    const result = fit(
      services.map((s) => ({
        name: s.name,
        needMb: this.#needMb(s),
        min: s.replicas.min,
        desired: this.desired.get(s.name)!,
        wanted: this.#wanted.get(s.name)!.replicas,
      })),
      this.#capacity?.budgetMb,
    );
    let changed = false;
    for (const s of services) {
      const before = this.desired.get(s.name)!;
      const after = result.desired.get(s.name)!;
      const asked = this.#wanted.get(s.name)!;
      const cap = result.capped.get(s.name);
      const was = this.capped.get(s.name);
      if (cap) this.capped.set(s.name, cap);
      else this.capped.delete(s.name);
      const code = cap ? 'capped-by-capacity' : asked.code;
      const reason = cap ? `${asked.reason}; capped by capacity: ${cap.reason}` : asked.reason;
      if (before !== after) {
        this.desired.set(s.name, after);
        changed = true;
        if (!quiet || cap)
          this.#d.events.emit({
            type: 'scaled',
            service: s.name,
            reason: `${before} → ${after}: ${reason}`,
            from: before,
            to: after,
            code,
          });
      } else if (cap && (was?.wanted !== cap.wanted || was.allowed !== cap.allowed)) {
        this.#d.events.emit({
          type: 'scaled',
          service: s.name,
          reason: `stays ${after}: ${reason}`,
          from: before,
          to: after,
          code,
        });
        changed = true;
      } else if (!cap && was) changed = true;
    }
    if (!changed) return;
    this.#d.onChange();
    this.kick();
  }

  addServed(served: Record<string, number>): void {
    for (const [id, n] of Object.entries(served)) {
      const r = this.replicas.get(id);
      if (r) r.requestsServed += n;
    }
  }

  /** Ready-or-starting replicas per service, for the balancer (ready = in rotation). */
  routes(): Record<string, { prefixes: string[]; replicas: RouteReplica[] }> {
    const out: Record<string, { prefixes: string[]; replicas: RouteReplica[] }> = {};
    for (const s of this.#d.config.services) {
      const replicas = this.#sorted(s.name)
        .filter((r) => r.state === 'ready' || r.state === 'starting')
        .map((r) => ({
          id: r.id,
          port: r.port,
          url: r.url,
          ready: inRotation(r),
          live: r.state === 'ready' || inRotation(r),
        }));
      out[s.name] = { prefixes: s.routes, replicas };
    }
    return out;
  }

  /** Replicas to health-check: starting or ready ones of configured services. */
  targets(): Target[] {
    return [...this.replicas.values()]
      .filter((r) => (r.state === 'starting' || r.state === 'ready') && this.#service(r.service))
      .map((r) => ({
        id: r.id,
        service: r.service,
        port: r.port,
        url: `${r.url}${this.#service(r.service)!.healthPath}`,
        liveUrl: `${r.url}${this.#service(r.service)!.livenessPath ?? this.#service(r.service)!.healthPath}`,
        phase: r.state === 'ready' ? 'ready' : 'starting',
        since: r.trackedSince,
      }));
  }

  /** Replicas currently up (starting or ready) per service. */
  current(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const s of this.#d.config.services) {
      out[s.name] = this.#sorted(s.name).filter((r) => r.state === 'ready' || r.state === 'starting').length;
    }
    return out;
  }

  /** Stops the loop and waits (bounded) for operations in progress: no more changes after this. */
  async halt(graceSeconds: number): Promise<void> {
    this.#stopped = true;
    this.#timer?.cancel();
    await Promise.race([this.idle(), delay(this.#clock, graceSeconds * 1000 + 15_000)]);
  }

  /** Resolves once no pass and no operation is running (the passes they kick included). */
  async idle(): Promise<void> {
    while (this.#pass || this.#ops.size > 0) {
      await this.#pass;
      await Promise.allSettled([...this.#ops]);
    }
  }

  /**
   * After halt(): stops and removes every replica of ours, concurrently, each within the grace
   * and a margin. Returns what could not be removed, and why: shutdown must say so (and exit
   * non-zero) rather than leave replicas running behind a clean exit.
   */
  async removeAll(graceSeconds: number): Promise<LeftBehind[]> {
    const left: LeftBehind[] = [];
    const limitMs = graceSeconds * 1000 + REMOVE_MARGIN_MS;
    const bounded = <T>(work: Promise<T>, what: string) =>
      withDeadline(work, limitMs, `${what}: no answer from the runtime within ${limitMs / 1000} s`);
    // Pick up replicas a start in flight created after our last look.
    let listed: ReplicaInfo[] = [];
    try {
      listed = await bounded(this.#d.runtime.list(), 'listing replicas');
    } catch (err) {
      left.push({ id: '', reason: `${errorFields(err).message}: replicas started since the last pass may be running` });
    }
    const byId = new Map<string, { service: string; port: number }>(
      [...this.replicas.values(), ...listed].map((r) => [r.id, { service: r.service, port: r.port }]),
    );
    const results = await Promise.allSettled(
      [...byId].map(async ([id, where]) => {
        const r = this.replicas.get(id);
        if (r) r.state = 'stopping';
        await bounded(
          this.#d.runtime.stop(id, graceSeconds).then(() => this.#d.runtime.remove(id)),
          'stopping and removing it',
        );
        this.replicas.delete(id);
        this.#d.events.emit({
          type: 'replica.stopped',
          service: where.service,
          port: where.port,
          id,
          reason: 'supervisor shutting down',
        });
      }),
    );
    [...byId].forEach(([id, where], i) => {
      const result = results[i]!;
      if (result.status === 'rejected') left.push({ id, ...where, reason: errorFields(result.reason).message });
    });
    return left;
  }

  // ---- the pass ------------------------------------------------------------------------------

  async #runPass(): Promise<void> {
    let actual: ReplicaInfo[];
    const listedAt = this.#clock.now();
    try {
      actual = await this.#d.runtime.list();
      this.#lastListError = '';
    } catch (err) {
      const { message } = errorFields(err);
      if (message !== this.#lastListError) {
        this.#d.events.emit({ type: 'runtime.error', reason: `listing replicas failed: ${message}` });
        this.#lastListError = message;
      }
      return;
    }
    if (this.#stopped) return;
    this.#sync(actual, listedAt);
    // Stuck replicas held back by the ejection limit go once the ones before them are replaced.
    for (const s of this.#d.config.services) this.#replaceStuck(s.name);
    await this.#specs.refresh(this.#d.config.services);
    if (this.#stopped) return;
    const now = this.#clock.now();
    const input: PlanInput = {
      now,
      services: this.#planServices(),
      replicas: [...this.replicas.values()],
      busy: this.#busy,
      starting: this.#starting,
      allowedAt: (service, port) =>
        restartAllowedAt(this.#failures.get(slotKey(service, port)), this.#d.config.backoff),
      startTimeoutMs: this.#d.config.startTimeoutMs,
      drifted: this.#specs.drift(this.replicas.values(), this.#d.config.services),
      rolling: this.#rolling,
      maxStarting: this.#d.config.capacity.maxStarting,
    };
    const actions = plan(input);
    const rolling = rollingServices(input);
    const changed = !sameKeys(rolling, this.#rolling) || !sameKeys(input.drifted!, this.#drifted);
    this.#rolling = rolling;
    // The next roll tries its surge port again: whoever held it may have let go.
    for (const name of this.#surgePortTaken) if (!rolling.has(name)) this.#surgePortTaken.delete(name);
    this.#drifted = new Map(input.drifted);
    for (const action of actions) this.#run(action);
    if (changed) this.#d.onChange();
  }

  /**
   * Folds the runtime's list into the table: adopt the unknown, fail the exited, forget the gone.
   * The list was asked for at `listedAt` and operations ran while it came: a replica removed
   * meanwhile may still be on it (not adopted again), and one started meanwhile may not be
   * (not taken for gone).
   */
  #sync(actual: ReplicaInfo[], listedAt: number, atStartUp = false): void {
    const now = this.#clock.now();
    const seen = new Set(actual.map((a) => a.id));
    for (const id of this.#removed) if (!seen.has(id)) this.#removed.delete(id); // the runtime agrees now
    let changed = false;
    for (const a of actual) {
      const known = this.replicas.get(a.id);
      if (!known) {
        if (this.#starting.has(slotKey(a.service, a.port))) continue; // ours, mid-start
        if (this.#removed.has(a.id)) continue; // ours, removed after the list was taken
        // At start-up a running replica was serving a moment ago (the previous supervisor's):
        // it takes traffic while the heartbeat checks it at once, rather than leave the site
        // without replicas (503) until that check is back. Found later, it was not.
        const presumed = a.running && atStartUp;
        this.replicas.set(a.id, {
          id: a.id,
          service: a.service,
          port: a.port,
          url: a.url,
          state: a.running ? 'starting' : 'failed',
          health: 'unknown',
          consecutiveFailures: 0,
          startedAt: a.startedAt,
          trackedSince: now,
          requestsServed: 0,
          adopted: true,
          spec: a.spec,
          ...(presumed ? { presumed } : {}),
        });
        this.#d.events.emit({
          type: 'replica.adopted',
          service: a.service,
          port: a.port,
          id: a.id,
          reason: !a.running
            ? `found not running (${a.exitReason ?? 'stopped'}): will be removed`
            : presumed
              ? 'found running with our labels: in rotation at once, checked now'
              : 'found running with our labels',
        });
        changed = true;
      } else if (!a.running && !this.#busy.has(a.id) && known.state !== 'failed' && known.state !== 'stopping') {
        this.#fail(known, a.exitReason ?? 'not running');
        changed = true;
      }
    }
    for (const r of [...this.replicas.values()]) {
      if (seen.has(r.id) || this.#busy.has(r.id) || r.trackedSince >= listedAt) continue;
      this.replicas.delete(r.id);
      if (r.state !== 'failed') this.#recordFailure(r);
      this.#replacing.set(slotKey(r.service, r.port), r.id);
      this.#d.events.emit({
        type: 'replica.failed',
        service: r.service,
        port: r.port,
        id: r.id,
        reason: 'disappeared from the runtime',
      });
      changed = true;
    }
    if (changed) this.#d.onChange();
  }

  #fail(r: Replica, reason: string): void {
    this.#recordFailure(r);
    r.state = 'failed';
    r.lastReason = reason;
    r.failedAt = this.#clock.now();
    this.#replacing.set(slotKey(r.service, r.port), r.id);
    this.#d.events.emit({ type: 'replica.failed', service: r.service, port: r.port, id: r.id, reason });
    this.kick();
  }

  #recordFailure(r: Replica): void {
    const key = slotKey(r.service, r.port);
    const now = this.#clock.now();
    const readyFor = r.state === 'ready' && r.readyAt !== undefined ? now - r.readyAt : 0;
    this.#failures.set(key, recordFailure(this.#failures.get(key), readyFor, now, this.#d.config.backoff));
  }

  #run(action: Action): void {
    const op = (
      action.kind === 'start'
        ? this.#startOp(action.service, action.port, action.surge === true)
        : this.#removeOp(action)
    )
      .catch((err) => this.#d.logger.error('fleet operation crashed', { action, error: errorFields(err) }))
      .finally(() => {
        this.#ops.delete(op);
        this.kick();
      });
    this.#ops.add(op);
  }

  async #startOp(service: string, port: number, surge: boolean): Promise<void> {
    const key = slotKey(service, port);
    this.#starting.add(key);
    try {
      const spec = this.#spec(this.#service(service)!, port);
      const info = await this.#d.runtime.start(spec);
      const now = this.#clock.now();
      this.replicas.set(info.id, {
        id: info.id,
        service,
        port,
        url: info.url,
        state: 'starting',
        health: 'unknown',
        consecutiveFailures: 0,
        startedAt: info.startedAt,
        trackedSince: now,
        requestsServed: 0,
        spec: info.spec ?? spec.spec,
      });
      const previous = this.#replacing.get(key);
      const why = this.#replaceWhy.get(key);
      this.#replacing.delete(key);
      this.#replaceWhy.delete(key);
      const desired = this.desired.get(service);
      const asSurge = surge ? { surge: true } : {};
      if (previous && why !== undefined) {
        this.#d.events.emit({
          type: 'replica.replaced',
          service,
          port,
          id: info.id,
          previousId: previous,
          reason: `rolling replacement of ${previous.slice(0, 12)}: spec changed (${why})`,
          rolling: true,
        });
      } else if (previous) {
        const role = surge ? ' (surge for rolling replacement)' : '';
        this.#d.events.emit({
          type: 'replica.replaced',
          service,
          port,
          id: info.id,
          previousId: previous,
          reason: `new replica on the same port replaces ${previous.slice(0, 12)}${role}`,
          ...asSurge,
        });
      } else if (surge) {
        this.#d.events.emit({
          type: 'replica.started',
          service,
          port,
          id: info.id,
          reason: `surge for rolling replacement: one beside the ${desired} wanted, so ${desired} stay ready while the replicas that differ are replaced one at a time`,
          ...asSurge,
        });
      } else {
        this.#d.events.emit({ type: 'replica.started', service, port, id: info.id, reason: `desired ${desired}` });
      }
      this.#d.onChange();
    } catch (err) {
      const { code, message } = errorFields(err);
      if (surge && code === PORT_TAKEN) {
        // Waiting for the port would stall the roll for as long as the other process holds it;
        // in place costs one replica of capacity per step but gets the new spec out.
        this.#surgePortTaken.add(service);
        this.#d.events.emit({
          type: 'runtime.error',
          service,
          port,
          reason: `surge port ${port} is taken by another process, so this rolling replacement goes in place, one replica at a time: ${message}`,
          code,
        });
        return;
      }
      this.#failures.set(key, recordFailure(this.#failures.get(key), 0, this.#clock.now(), this.#d.config.backoff));
      this.#d.events.emit({
        type: 'runtime.error',
        service,
        port,
        reason: `starting a replica failed: ${message}`,
        code,
      });
    } finally {
      this.#starting.delete(key);
    }
  }

  async #removeOp(action: Extract<Action, { kind: 'remove' }>): Promise<void> {
    const r = this.replicas.get(action.id);
    if (!r) return;
    this.#busy.add(r.id);
    if (action.replace !== undefined) {
      const slot = slotKey(r.service, r.port);
      this.#replacing.set(slot, r.id);
      this.#replaceWhy.set(slot, action.replace);
    }
    try {
      if (action.failure) this.#fail(r, action.reason);
      if (action.drain && (r.state === 'ready' || r.state === 'draining')) {
        r.state = 'draining';
        this.#d.onChange();
        await Promise.race([this.#d.drain(r.id), delay(this.#clock, this.#d.config.drainTimeoutMs)]);
      }
      const failed = r.state === 'failed';
      if (!failed) r.state = 'stopping';
      this.#d.onChange();
      // Once removed, its output is gone with it (`docker logs` says "No such container").
      if (failed) await this.#keepOutput(r);
      await this.#d.runtime.stop(r.id, failed ? FAILED_STOP_GRACE_SECONDS : this.#d.config.stopGraceSeconds);
      await this.#d.runtime.remove(r.id);
      this.replicas.delete(r.id);
      this.#removed.add(r.id);
      this.#d.events.emit({
        type: 'replica.stopped',
        service: r.service,
        port: r.port,
        id: r.id,
        reason: action.reason,
      });
      this.#d.onChange();
    } catch (err) {
      const { code, message } = errorFields(err);
      this.#d.events.emit({
        type: 'runtime.error',
        service: r.service,
        port: r.port,
        id: r.id,
        reason: `removing a replica failed: ${message}`,
        code,
      });
    } finally {
      this.#busy.delete(r.id);
    }
  }

  /** Captures the failed replica's last output (bounded in time) into an event and the service's failures. */
  async #keepOutput(r: Replica): Promise<void> {
    const report: FailureReport = {
      id: r.id,
      port: r.port,
      time: r.failedAt ?? this.#clock.now(),
      reason: r.lastReason ?? 'failed',
      output: [],
    };
    try {
      report.output = await this.#lastOutput(r.id);
    } catch (err) {
      report.outputError = errorFields(err).message;
    }
    const kept = [report, ...(this.failures.get(r.service) ?? [])].slice(0, FAILURES_KEPT);
    this.failures.set(r.service, kept);
    const what =
      report.outputError !== undefined
        ? `its output could not be read: ${report.outputError}`
        : `last ${report.output.length} line(s) of its output`;
    this.#d.events.emit({
      type: 'replica.output',
      service: r.service,
      port: r.port,
      id: r.id,
      reason: `failed (${report.reason}): ${what}`,
      output: report.output,
    });
    this.#d.onChange();
  }

  /** The replica's last OUTPUT_LINES lines, within OUTPUT_TIMEOUT_MS (an engine that hangs costs no more). */
  async #lastOutput(id: string): Promise<string[]> {
    const runtime = this.#d.runtime;
    if (!runtime.logs) throw new Error(`the ${runtime.kind} runtime keeps no output`);
    const signal = AbortSignal.timeout(OUTPUT_TIMEOUT_MS);
    const text: string[] = [];
    for await (const chunk of runtime.logs(id, { follow: false, tail: OUTPUT_LINES, signal }))
      text.push(chunk.data.toString('utf8'));
    if (signal.aborted) throw new Error(`no answer within ${OUTPUT_TIMEOUT_MS} ms`);
    return lastLines(text.join(''), OUTPUT_LINES);
  }

  #spec(s: ServiceConfig, port: number): ReplicaSpec {
    const instance = randomBytes(6).toString('hex');
    const env = this.#envFor(s, port, instance);
    const secrets: Record<string, string> = {};
    for (const key of this.#d.env.secretKeys(s.name)) {
      if (env[key] === undefined) continue;
      secrets[key] = env[key];
      delete env[key];
    }
    const spec: ReplicaSpec = {
      service: s.name,
      port,
      instance,
      containerPort: s.containerPort,
      env,
      resources: s.resources,
    };
    if (Object.keys(secrets).length > 0) spec.secrets = secrets;
    if (s.image) spec.image = s.image;
    if (s.command) spec.command = s.command;
    if (s.build) spec.build = s.build;
    const label = this.#specs.wanted(s, port);
    if (label !== undefined) spec.spec = label;
    return spec;
  }

  #envFor(s: ServiceConfig, port: number, instance: string): Record<string, string> {
    const { runtime } = this.#d;
    const where = runtime.placement(s.name, port, s.containerPort);
    return this.#d.env.render(
      s,
      { port: String(where.port), host: where.host, dataDir: where.dataDir, instance, service: s.name },
      (name) => {
        const target = this.#service(name)!;
        return runtime.serviceUrl(name, target.startPort, target.containerPort);
      },
      (name) => {
        const target = this.#service(name)!;
        return Array.from({ length: target.replicas.max }, (_, i) =>
          runtime.serviceUrl(name, target.startPort + i, target.containerPort),
        );
      },
    );
  }

  #planServices(): PlanService[] {
    return this.#d.config.services.map((s) => ({
      name: s.name,
      startPort: s.startPort,
      desired: this.desired.get(s.name)!,
      max: s.replicas.max,
      ...(this.#surgePortTaken.has(s.name) ? { surgePortTaken: true } : {}),
    }));
  }

  #service(name: string): ServiceConfig | undefined {
    return this.#d.config.services.find((s) => s.name === name);
  }

  #sorted(service: string): Replica[] {
    return [...this.replicas.values()].filter((r) => r.service === service).sort((a, b) => a.port - b.port);
  }
}
