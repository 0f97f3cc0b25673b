// The heartbeat's logic, with no thread, socket or timer of its own (the worker shell gives it
// a clock, a probe and a way to send): check the health path of every target each interval,
// and speak only when a verdict changes (health-tracker.ts). Starting replicas, and replicas in
// a run of failures, are checked at the fast interval (HAProxy's `fastinter`): the first to
// enter rotation sooner, the second to confirm a failure sooner. A `check` (the balancer saw a
// replica fail) runs one at once, folded into the one running if any, and its result is
// reported even when the verdict stays "ok" (the primary then clears the balancer's suspect
// mark). After a failed check, the replica's liveness check runs too (one at a time, with the
// longer livenessTimeoutMs), so that a replica whose dependency is down, or that answers slowly,
// is told apart from one that is dead or stuck (health-tracker.ts). It never routes nor replaces:
// the primary does, from its verdicts.
import type { Clock, Timer } from '../core/clock.ts';
import {
  SnapshotGate,
  type HealthMessage,
  type LatencyReport,
  type Target,
  type TargetsMessage,
} from '../core/protocol.ts';
import { HealthTracker } from './health-tracker.ts';
import type { Probe } from './probe.ts';

export interface HeartbeatConfig {
  intervalMs: number;
  /** For starting replicas and failing ones. */
  fastIntervalMs: number;
  timeoutMs: number;
  failureThreshold: number;
  /** How long a liveness check waits for an answer: none in that time means stuck. */
  livenessTimeoutMs: number;
}

export interface HeartbeatDeps {
  config: HeartbeatConfig;
  clock: Clock;
  probe: Probe;
  send: (message: HealthMessage | LatencyReport) => void;
}

interface Poll {
  target: Target;
  timer?: Timer;
  running: boolean;
  /** A check was asked for while one ran: run another right after. */
  again: boolean;
  /** A check was asked for (the balancer suspects the replica): its result is reported even if unchanged. */
  asked: boolean;
  lastOk: boolean;
  /** When the last check started: the next one is due an interval after it. */
  startedAt: number;
  /** A liveness check is in flight. */
  probingLife: boolean;
}

export class Heartbeat {
  readonly #d: HeartbeatDeps;
  readonly #tracker: HealthTracker;
  readonly #gate = new SnapshotGate();
  readonly #polls = new Map<string, Poll>();
  /** Latencies since the last report, and when that was: reports ride on checks, no timer of their own. */
  #latencies: Record<string, number> = {};
  #reportedAt = Number.NEGATIVE_INFINITY;

  constructor(deps: HeartbeatDeps) {
    this.#d = deps;
    this.#tracker = new HealthTracker(deps.config.failureThreshold);
  }

  /** The replicas to check, as a versioned snapshot: older versions are ignored. */
  applyTargets(message: TargetsMessage): void {
    if (!this.#gate.accept(message.version)) return;
    const ids = new Set(message.targets.map((t) => t.id));
    for (const [id, poll] of this.#polls) {
      if (ids.has(id)) continue;
      poll.timer?.cancel();
      this.#polls.delete(id);
      this.#tracker.forget(id);
    }
    for (const target of message.targets) {
      const poll = this.#polls.get(target.id);
      if (poll) {
        const faster = target.phase === 'starting' && poll.target.phase !== 'starting';
        const slower = target.phase !== 'starting' && poll.target.phase === 'starting';
        poll.target = target;
        if (faster) this.#checkNow(poll);
        // Ready now: the fast check already scheduled would probe it again within
        // fastIntervalMs of the check that made it ready; the interval counts from that check.
        else if (slower && !poll.running) this.#schedule(poll);
      } else {
        const fresh: Poll = {
          target,
          running: false,
          again: false,
          asked: false,
          lastOk: true,
          startedAt: 0,
          probingLife: false,
        };
        this.#polls.set(target.id, fresh);
        this.#checkNow(fresh);
      }
    }
  }

  /** Checks a replica now (the balancer saw it fail); unknown ids are ignored. */
  check(id: string): void {
    const poll = this.#polls.get(id);
    if (!poll) return;
    poll.asked = true;
    this.#checkNow(poll);
  }

  /** Cancels every scheduled check; checks in flight report nothing. */
  stop(): void {
    for (const poll of this.#polls.values()) poll.timer?.cancel();
    this.#polls.clear();
  }

  #checkNow(poll: Poll): void {
    if (poll.running) {
      poll.again = true;
      return;
    }
    poll.timer?.cancel();
    void this.#run(poll);
  }

  async #run(poll: Poll): Promise<void> {
    const { config, clock } = this.#d;
    poll.running = true;
    poll.startedAt = clock.now();
    const result = await this.#d.probe(poll.target.url, config.timeoutMs);
    poll.running = false;
    poll.lastOk = result.ok;
    if (this.#polls.get(poll.target.id) !== poll) return; // removed meanwhile
    const message = this.#tracker.observe(poll.target.id, result);
    if (message) this.#d.send(message);
    else if (poll.asked && !poll.again && result.ok) {
      // A suspect that passes: the primary clears the balancer's mark at once.
      this.#d.send({
        type: 'health',
        id: poll.target.id,
        verdict: 'ok',
        consecutiveFailures: 0,
        reason: result.reason,
        latencyMs: result.latencyMs,
      });
    }
    if (!poll.again) poll.asked = false;
    // A starting replica has its start timeout; one in rotation must show it is still alive.
    if (!result.ok && poll.target.phase === 'ready') void this.#checkLiveness(poll);
    this.#latencies[poll.target.id] = result.latencyMs;
    if (clock.now() - this.#reportedAt >= config.intervalMs) {
      this.#d.send({ type: 'latencies', latencyMs: this.#latencies });
      this.#latencies = {};
      this.#reportedAt = clock.now();
    }
    if (poll.again) {
      poll.again = false;
      this.#checkNow(poll);
      return;
    }
    this.#schedule(poll);
  }

  /** Is the replica alive at all? One liveness check at a time, after failed health checks. */
  async #checkLiveness(poll: Poll): Promise<void> {
    if (poll.probingLife) return;
    poll.probingLife = true;
    const result = await this.#d.probe(poll.target.liveUrl, this.#d.config.livenessTimeoutMs);
    poll.probingLife = false;
    if (this.#polls.get(poll.target.id) !== poll) return; // removed meanwhile
    const message = this.#tracker.observeLiveness(poll.target.id, result);
    if (message) this.#d.send(message);
  }

  /** The next check: fast while starting or failing, else at the interval, from the last one's start. */
  #schedule(poll: Poll): void {
    const { config, clock } = this.#d;
    const fast = poll.target.phase === 'starting' || !poll.lastOk;
    const interval = fast ? Math.min(config.fastIntervalMs, config.intervalMs) : config.intervalMs;
    poll.timer?.cancel();
    poll.timer = clock.after(interval - (clock.now() - poll.startedAt), () => void this.#run(poll));
  }
}
