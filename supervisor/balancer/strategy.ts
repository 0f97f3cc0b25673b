// Which replica of a service gets the next attempt. A strategy owns the state that choice
// depends on, in the shared memory so every balancer thread sees the same: requests in flight
// per replica, which replicas are suspect, the round-robin cursor. The request path only
// acquires a member for an attempt and releases it with the attempt's outcome.
//
// Both strategies prefer replicas that are not suspect and fall back to suspect ones when no
// other is left, skip members the request already tried, and keep members in port order.
// Below the panic threshold (fewer than that share of the live members in rotation) they pick
// among every live member instead: a health signal that fails most replicas at once is more
// likely wrong (a busy host, a shared dependency) than all of them broken, and an answer from
// a replica beats a 503 from the balancer (Envoy's panic mode).
import { STRATEGY_NAMES, type StrategyName } from '../schema/service-values.ts';
import type { SharedState } from './shared-state.ts';

// The names are the config's (services.<name>.strategy); createStrategy has a class for each.
export type { StrategyName };
export const STRATEGIES = STRATEGY_NAMES;

export interface Member {
  id: string;
  /** The order key: members rotate by ascending port. */
  port: number;
  /** Shared-memory slot (SharedLayout.slotOf). */
  slot: number;
  /** In rotation. */
  ready: boolean;
  /** Alive, in rotation or held out of it (not starting, not leaving). */
  live: boolean;
}

/**
 * How an attempt ended. 'refused': nothing reached the replica. 'reset': the connection broke
 * before a response. 'timeout': no response in time. 'server-error': it answered 500 or above.
 * 'overloaded': the replica's queue was full here (not its fault: not suspect). 'cancelled':
 * the client left.
 */
export type AttemptOutcome = 'ok' | 'refused' | 'reset' | 'timeout' | 'server-error' | 'overloaded' | 'cancelled';

/** Failures that make a replica suspect at once; 5xx answers do after `suspectAfter5xx` in a row. */
const FAILURES: ReadonlySet<AttemptOutcome> = new Set(['refused', 'reset', 'timeout']);

export interface StrategyOptions {
  shared: SharedState;
  service: number;
  clock: Clock;
  /** How long a failing replica is passed over (unless the heartbeat clears it sooner). */
  suspectMs: number;
  /** 5xx answers in a row (over all threads) that make a replica suspect. */
  suspectAfter5xx: number;
  /** Below this share (%) of live members in rotation, every live member is eligible; 0: never. */
  panicThresholdPercent?: number;
}

export interface Clock {
  now(): number;
}

export abstract class Strategy<M extends Member = Member> {
  abstract readonly name: StrategyName;
  protected members: readonly M[] = [];
  protected readonly shared: SharedState;
  protected readonly service: number;
  readonly #clock: Clock;
  readonly #suspectMs: number;
  readonly #suspectAfter5xx: number;
  readonly #panicThresholdPercent: number;
  /** Too few live members are in rotation: pick among all live ones. */
  #panic = false;

  constructor(options: StrategyOptions) {
    this.shared = options.shared;
    this.service = options.service;
    this.#clock = options.clock;
    this.#suspectMs = options.suspectMs;
    this.#suspectAfter5xx = options.suspectAfter5xx;
    this.#panicThresholdPercent = options.panicThresholdPercent ?? 0;
  }

  /** The service's replicas from a routes snapshot (any order). */
  setMembers(members: readonly M[]): void {
    this.members = [...members].sort((a, b) => a.port - b.port);
    let ready = 0;
    let live = 0;
    for (const m of this.members) {
      if (m.ready) ready++;
      if (m.live || m.ready) live++;
    }
    this.#panic = ready * 100 < this.#panicThresholdPercent * live;
  }

  get size(): number {
    return this.members.length;
  }

  /** Below the panic threshold: requests go to every live member, in rotation or not. */
  get panic(): boolean {
    return this.#panic;
  }

  /** Members a request may go to: those in rotation, or in panic every live one. */
  get eligibleCount(): number {
    let n = 0;
    for (const m of this.members) if (this.#inPlay(m)) n++;
    return n;
  }

  #inPlay(m: M): boolean {
    return m.ready || (this.#panic && m.live);
  }

  /**
   * A member for the next attempt, counted in flight until `release`; undefined when every
   * ready member was tried already (or none is ready).
   */
  acquire(tried?: readonly M[]): M | undefined {
    const now = this.#clock.now();
    const member = this.choose(tried, now) ?? this.choose(tried, -1);
    if (member) this.shared.begin(member.slot);
    return member;
  }

  /** In play (ready, or live in panic), not tried, and (unless `now` is -1) not suspect at `now`. */
  protected eligible(m: M, tried: readonly M[] | undefined, now: number): boolean {
    return (
      this.#inPlay(m) &&
      (tried === undefined || !tried.includes(m)) &&
      (now === -1 || !this.shared.isSuspect(m.slot, now))
    );
  }

  /**
   * Ends an attempt. A failed connection or a timeout makes the member suspect at once, 5xx
   * answers once `suspectAfter5xx` came in a row (Envoy's consecutive_5xx), and a good answer
   * ends such a run. Returns true when the member is suspect now: the heartbeat should look at
   * it (it folds repeated asks into one check) and confirm or clear it.
   */
  release(member: M, outcome: AttemptOutcome): boolean {
    const slot = member.slot;
    this.shared.end(slot);
    if (outcome === 'ok') {
      this.shared.answeredWell(slot);
      return false;
    }
    if (outcome === 'server-error') {
      if (this.shared.serverErrorInARow(slot) < this.#suspectAfter5xx) return false;
    } else if (!FAILURES.has(outcome)) return false;
    this.shared.suspect(slot, this.#clock.now() + this.#suspectMs);
    return true;
  }

  /** An eligible member by this strategy's rule (see `eligible`); moves the shared cursor. */
  protected abstract choose(tried: readonly M[] | undefined, now: number): M | undefined;

  /**
   * Strict rotation shared by all threads: the first eligible member after the cursor's port
   * (wrapping), published with compare-and-swap so two threads never take the same turn. The
   * cursor is a port, not an index, so adding or removing members never restarts the order.
   * With `byLoad`, the eligible member with the fewest requests in flight, ties in that order.
   */
  protected nextAfterCursor(tried: readonly M[] | undefined, now: number, byLoad: boolean): M | undefined {
    const list = this.members;
    const n = list.length;
    for (;;) {
      const last = this.shared.cursor(this.service);
      let start = 0;
      while (start < n && list[start]!.port <= last) start++;
      let chosen: M | undefined;
      let least = Infinity;
      for (let step = 0; step < n; step++) {
        const m = list[(start + step) % n]!;
        if (!this.eligible(m, tried, now)) continue;
        if (!byLoad) {
          chosen = m;
          break;
        }
        const load = this.shared.inFlight(m.slot);
        if (load < least) {
          least = load;
          chosen = m;
        }
      }
      if (!chosen) return undefined;
      if (this.shared.advance(this.service, last, chosen.port)) return chosen;
    }
  }
}

/** Ready members in turn, by port; the default, and strict across threads. */
export class RoundRobin<M extends Member = Member> extends Strategy<M> {
  readonly name = 'round-robin';

  protected choose(tried: readonly M[] | undefined, now: number): M | undefined {
    return this.nextAfterCursor(tried, now, false);
  }
}

/** The member with the fewest requests in flight (all threads); ties go round robin. */
export class LeastOutstanding<M extends Member = Member> extends Strategy<M> {
  readonly name = 'least-outstanding';

  protected choose(tried: readonly M[] | undefined, now: number): M | undefined {
    return this.nextAfterCursor(tried, now, true);
  }
}

export function createStrategy<M extends Member>(name: StrategyName, options: StrategyOptions): Strategy<M> {
  return name === 'least-outstanding' ? new LeastOutstanding<M>(options) : new RoundRobin<M>(options);
}
