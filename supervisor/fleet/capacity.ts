// What fits: the replica counts the scaler or the operator asks for, against the memory the
// replicas may use on this host (Kubernetes' scheduler leaves a pod Pending with a reason rather
// than overcommit a node; here a count is capped, with a reason code, like every other scaling
// decision). Pure: the fleet calls it with its counts after every change.
//
// Each replica counts at its service's resources.memoryRequestMb (by default its limit,
// memoryMb), or at what its running replicas use on average when that is more (replicaNeedMb):
// a request set below what the service really takes must not let the supervisor start replicas
// the machine cannot hold. Scaling down is never capped; scaling up takes what is free,
// services in config order; no running replica is stopped to make room for another service's,
// and no service goes below its minimum (the config promises that much; start-up says when the
// minimums alone do not fit).

export interface CapacityService {
  name: string;
  /** Memory one replica may use, MB. */
  needMb: number;
  min: number;
  /** The count now (what runs, or is being started). */
  desired: number;
  /** The count asked for. */
  wanted: number;
}

export interface Fit {
  /** The count each service gets. */
  desired: Map<string, number>;
  /** Services held below what they asked for, and why in words. */
  capped: Map<string, { wanted: number; allowed: number; reason: string }>;
}

/** `budgetMb` undefined: no limit known, every count is granted. */
export function fit(services: readonly CapacityService[], budgetMb: number | undefined): Fit {
  const desired = new Map(
    services.map((s) => [s.name, s.wanted <= s.desired || budgetMb === undefined ? s.wanted : s.desired]),
  );
  const capped: Fit['capped'] = new Map();
  if (budgetMb === undefined) return { desired, capped };
  const used = () => services.reduce((sum, s) => sum + desired.get(s.name)! * s.needMb, 0);
  for (const s of services) {
    const now = desired.get(s.name)!;
    if (s.wanted <= now) continue;
    const room = Math.max(0, Math.floor((budgetMb - used()) / s.needMb));
    const allowed = Math.max(s.min, Math.min(s.wanted, now + room));
    desired.set(s.name, allowed);
    if (allowed < s.wanted) {
      const others = services
        .filter((o) => o !== s && desired.get(o.name)! > 0)
        .map((o) => `${o.name} ${desired.get(o.name)} × ${o.needMb} MB`);
      capped.set(s.name, {
        wanted: s.wanted,
        allowed,
        reason: `${s.wanted} asked, ${allowed} fit: ${budgetMb} MB for replicas (capacity), ${s.needMb} MB each${others.length > 0 ? `, beside ${others.join(', ')}` : ''}`,
      });
    }
  }
  return { desired, capped };
}

/** Megabytes the minimums need beyond the budget (0 when they fit). */
export function minimumsOver(services: readonly Pick<CapacityService, 'needMb' | 'min'>[], budgetMb: number): number {
  return Math.max(0, services.reduce((sum, s) => sum + s.min * s.needMb, 0) - budgetMb);
}

/**
 * What one more replica of a service will take, MB: its request, or the mean of what its running
 * replicas use (their own memory, bytes) when that is more.
 */
export function replicaNeedMb(requestMb: number, usedBytes: readonly number[]): number {
  if (usedBytes.length === 0) return requestMb;
  const meanMb = usedBytes.reduce((sum, b) => sum + b, 0) / usedBytes.length / 2 ** 20;
  return Math.max(requestMb, Math.ceil(meanMb));
}
