// One service's scaling policy, apart from the thread that feeds it (like Kubernetes' replica
// calculator): how long a window lasts, the formula from K (requests in a window) to replicas,
// the service's bounds, damping, and when to stop windowing. Every step returns the count, a
// code and the reason a person reads in the event log and on the dashboard. The only place the
// bounds (min, max) are applied; the threshold shown on the dashboard is found by searching the
// formula itself, so a new formula is a change to formula() alone.

import type { ServiceConfig } from '../schema/service.ts';
import type { DecisionCode } from '../core/protocol.ts';

export type { DecisionCode } from '../core/protocol.ts';

export interface PolicySettings {
  windowSeconds: number;
  requestsPerReplica: number;
  /** Before scaling down, keep the highest recommendation of this many previous windows (0: off). */
  dampingWindows: number;
  min: number;
  max: number;
}

export interface Decision {
  replicas: number;
  code: DecisionCode;
  reason: string;
}

export interface RequestWindow {
  startedAt: number;
  endsAt: number;
  /** K: counted requests routed to the service in the window. */
  requests: number;
}

/** A service's policy settings: its scaling keys and its replica bounds. */
export function policySettings(service: ServiceConfig): PolicySettings {
  return { ...service.scaling, min: service.replicas.min, max: service.replicas.max };
}

/**
 * The policy for a service's settings: the one place a policy is made (the scaler's windows, the
 * fleet's clamp at adoption), so a new formula (a subclass overriding formula()) is chosen here.
 */
export function scalingPolicy(settings: PolicySettings): ScalingPolicy {
  return new ScalingPolicy(settings);
}

/** Larger K than any window sees: the threshold search stops here. */
const SEARCH_LIMIT = 2 ** 40;

export class ScalingPolicy {
  readonly settings: Readonly<PolicySettings>;

  constructor(settings: PolicySettings) {
    this.settings = settings;
  }

  /** The seed's rule: floor(K / requestsPerReplica) + 1, before the bounds. */
  formula(requests: number): { replicas: number; reason: string } {
    const replicas = Math.floor(requests / this.settings.requestsPerReplica) + 1;
    return {
      replicas,
      reason: `${requests} requests / ${this.settings.requestsPerReplica} per replica + 1 = ${replicas}`,
    };
  }

  /** min <= replicas <= max: the one place the bounds apply. */
  clamp(replicas: number): { replicas: number; code: DecisionCode } {
    const { min, max } = this.settings;
    if (replicas < min) return { replicas: min, code: 'raised-to-min' };
    if (replicas > max) return { replicas: max, code: 'capped-at-max' };
    return { replicas, code: 'load' };
  }

  /** The formula within the bounds: what a window of `requests` recommends. */
  recommend(requests: number): Decision {
    const raw = this.formula(requests);
    const bounded = this.clamp(raw.replicas);
    const why =
      bounded.code === 'raised-to-min'
        ? `, raised to min ${bounded.replicas}`
        : bounded.code === 'capped-at-max'
          ? `, capped at max ${bounded.replicas}`
          : '';
    return { replicas: bounded.replicas, code: bounded.code, reason: raw.reason + why };
  }

  /**
   * A closed window's decision: the recommendation, then damping. Scaling up is immediate;
   * scaling down goes no lower than the highest recommendation of the previous `dampingWindows`
   * windows (`history`, newest last), and never above `current`.
   */
  decide(requests: number, history: readonly number[], current: number): Decision {
    const recommendation = this.recommend(requests);
    const { dampingWindows } = this.settings;
    if (dampingWindows === 0 || recommendation.replicas >= current) return recommendation;
    const recent = history.slice(-dampingWindows);
    const held = Math.min(current, Math.max(recommendation.replicas, ...recent));
    if (held === recommendation.replicas) return recommendation;
    return {
      replicas: held,
      code: 'held-by-damping',
      reason: `${recommendation.reason}; held at ${held} by damping (last ${recent.length} windows: ${recent.join(', ')})`,
    };
  }

  /**
   * The smallest K above `requests` for which the formula gives more replicas than for
   * `requests` (bounds aside): found by doubling, then halving, over the formula itself.
   */
  nextThreshold(requests: number): number {
    const now = this.formula(requests).replicas;
    const more = (k: number) => this.formula(k).replicas > now;
    let step = 1;
    while (!more(requests + step) && requests + step < SEARCH_LIMIT) step *= 2;
    let lo = requests + Math.floor(step / 2);
    let hi = requests + step;
    while (hi - lo > 1) {
      const mid = lo + Math.floor((hi - lo) / 2);
      if (more(mid)) hi = mid;
      else lo = mid;
    }
    return hi;
  }

  /** The window that opens at `at`. */
  openWindow(at: number): RequestWindow {
    return { startedAt: at, endsAt: at + this.settings.windowSeconds * 1000, requests: 0 };
  }

  /** Windows follow each other without gaps: the next starts where the last ended. */
  nextWindow(previous: RequestWindow): RequestWindow {
    return this.openWindow(previous.endsAt);
  }

  /**
   * After a window closes: go on while there is something to decide (an idle service at its minimum waits for a
   * request).
   */
  keepWindowing(closed: RequestWindow, replicasAfter: number): boolean {
    return closed.requests > 0 || replicasAfter > this.settings.min;
  }
}
