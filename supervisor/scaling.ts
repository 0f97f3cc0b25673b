// The scaling arithmetic, apart from the worker that feeds it (like Kubernetes' replica
// calculator): plain functions of a window and a policy, `now` passed in, each returning the
// count and the reason a person can read in the event log and on the dashboard.

export interface ScalingPolicy {
  requestsPerReplica: number;
  min: number;
  max: number;
  /** Before scaling down, keep the highest recommendation of this many previous windows (0: off). */
  dampingWindows: number;
}

export interface RequestWindow {
  startedAt: number;
  endsAt: number;
  /** K: counted requests routed to the service in the window. */
  requests: number;
}

export interface Recommendation {
  replicas: number;
  reason: string;
  /** False while the window is open: `replicas` is then what it would say if it ended now. */
  decided: boolean;
}

/** desired = clamp(floor(K / requestsPerReplica) + 1, min, max), once the window has ended. */
export function desiredReplicas(window: RequestWindow, policy: ScalingPolicy, now: number): Recommendation {
  const k = window.requests;
  const raw = Math.floor(k / policy.requestsPerReplica) + 1;
  const replicas = Math.min(policy.max, Math.max(policy.min, raw));
  let reason = `${k} requests / ${policy.requestsPerReplica} per replica + 1 = ${raw}`;
  if (replicas > raw) reason += `, raised to min ${policy.min}`;
  if (replicas < raw) reason += `, capped at max ${policy.max}`;
  return { replicas, reason, decided: now >= window.endsAt };
}

/** The K at which a window's decision would add one more replica than K gives now. */
export function nextThreshold(requests: number, policy: ScalingPolicy): number {
  return (Math.floor(requests / policy.requestsPerReplica) + 1) * policy.requestsPerReplica;
}

/**
 * Damping: scaling up is immediate; scaling down goes no lower than the highest
 * recommendation of the previous `dampingWindows` windows (and never above `current`).
 */
export function dampedReplicas(
  recommendation: Recommendation,
  history: readonly number[],
  current: number,
  policy: ScalingPolicy,
): Recommendation {
  if (policy.dampingWindows === 0 || recommendation.replicas >= current) return recommendation;
  const recent = history.slice(-policy.dampingWindows);
  const held = Math.min(current, Math.max(recommendation.replicas, ...recent));
  if (held === recommendation.replicas) return recommendation;
  return {
    ...recommendation,
    replicas: held,
    reason: `${recommendation.reason}; held at ${held} by damping (last ${recent.length} windows: ${recent.join(', ')})`,
  };
}

/** Windows follow each other without gaps once started: the next starts where this one ended. */
export function nextWindow(previous: RequestWindow, windowSeconds: number): RequestWindow {
  return { startedAt: previous.endsAt, endsAt: previous.endsAt + windowSeconds * 1000, requests: 0 };
}

export function openWindow(at: number, windowSeconds: number): RequestWindow {
  return { startedAt: at, endsAt: at + windowSeconds * 1000, requests: 0 };
}

/**
 * After a window closes, keep windowing only while there is something left to decide: an
 * idle service already at its minimum waits for its next request to open a window.
 */
export function keepWindowing(closed: RequestWindow, replicasAfter: number, policy: ScalingPolicy): boolean {
  return closed.requests > 0 || replicasAfter > policy.min;
}
