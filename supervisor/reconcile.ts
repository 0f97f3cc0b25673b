// The reconcile decision, pure: desired replica counts against the replicas the fleet knows,
// to the fewest actions that converge. The fleet runs it on every pass (level-triggered), so
// an action that failed is simply planned again next time.

export type ReplicaState = 'starting' | 'ready' | 'draining' | 'stopping' | 'failed';

export interface PlanReplica {
  id: string;
  service: string;
  port: number;
  state: ReplicaState;
  /** When the fleet started or adopted it: the start timeout counts from here. */
  trackedSince: number;
  startedAt: number;
}

export interface PlanService {
  name: string;
  startPort: number;
  desired: number;
}

export interface PlanInput {
  now: number;
  services: readonly PlanService[];
  replicas: readonly PlanReplica[];
  /** Replica ids with an operation in progress: left alone this pass. */
  busy: ReadonlySet<string>;
  /** "service:port" slots with a start in progress. */
  starting: ReadonlySet<string>;
  /** Epoch ms before which a slot may not start again (crash-loop backoff). */
  allowedAt: (service: string, port: number) => number;
  startTimeoutMs: number;
  /** Replicas whose spec no longer matches the config, with what changed (rollout.ts). */
  drifted?: ReadonlyMap<string, string>;
}

export type Action =
  | { kind: 'start'; service: string; port: number }
  /**
   * Out of rotation (drained first when `drain`), stopped, removed. `failure` feeds the backoff;
   * `replace` (what changed) marks a rolling replacement: a new replica takes the same port.
   */
  | { kind: 'remove'; id: string; drain: boolean; failure: boolean; reason: string; replace?: string };

export const slotKey = (service: string, port: number): string => `${service}:${port}`;

/** Ports a service should occupy: startPort, startPort + 1, ... (desired of them). */
export function wantedPorts(service: PlanService): number[] {
  return Array.from({ length: service.desired }, (_, i) => service.startPort + i);
}

const rank = (r: PlanReplica): number => (r.state === 'ready' ? 0 : 1);

export function plan(input: PlanInput): Action[] {
  const actions: Action[] = [];
  const byName = new Map(input.services.map((s) => [s.name, s]));
  const idle = input.replicas.filter((r) => !input.busy.has(r.id));

  for (const r of idle) {
    const service = byName.get(r.service);
    if (!service) {
      actions.push({ kind: 'remove', id: r.id, drain: r.state === 'ready', failure: false, reason: `service ${r.service} is not in the config` });
    } else if (r.state === 'failed' || r.state === 'stopping') {
      actions.push({ kind: 'remove', id: r.id, drain: false, failure: false, reason: r.state === 'failed' ? 'replacing a failed replica' : 'finishing an interrupted stop' });
    } else if (r.state === 'draining') {
      actions.push({ kind: 'remove', id: r.id, drain: true, failure: false, reason: 'finishing an interrupted drain' });
    } else if (r.state === 'starting' && input.now - r.trackedSince > input.startTimeoutMs) {
      actions.push({ kind: 'remove', id: r.id, drain: false, failure: true, reason: `not healthy within ${input.startTimeoutMs} ms of starting` });
    }
  }
  const planned = new Set(actions.map((a) => (a.kind === 'remove' ? a.id : '')));

  for (const service of input.services) {
    const wanted = new Set(wantedPorts(service));
    const mine = input.replicas.filter((r) => r.service === service.name);
    const live = idle.filter((r) => r.service === service.name && !planned.has(r.id) && (r.state === 'starting' || r.state === 'ready'));
    // Outside the wanted ports: scale-down, highest port first.
    for (const r of live.filter((x) => !wanted.has(x.port)).sort((a, b) => b.port - a.port)) {
      actions.push({ kind: 'remove', id: r.id, drain: r.state === 'ready', failure: false, reason: `scaled down to ${service.desired}: port ${r.port} is no longer wanted` });
      planned.add(r.id);
    }
    // Two on one port (a start raced an adoption): keep the ready one, else the oldest.
    for (const port of wanted) {
      const onPort = live.filter((r) => r.port === port).sort((a, b) => rank(a) - rank(b) || a.startedAt - b.startedAt);
      for (const extra of onPort.slice(1)) {
        actions.push({ kind: 'remove', id: extra.id, drain: extra.state === 'ready', failure: false, reason: `duplicate on port ${port}` });
      }
    }
    // Free wanted ports get a replica: a port is free only once every replica on it is removed.
    for (const port of wanted) {
      if (mine.some((r) => r.port === port)) continue;
      if (input.starting.has(slotKey(service.name, port))) continue;
      if (input.now < input.allowedAt(service.name, port)) continue;
      actions.push({ kind: 'start', service: service.name, port });
    }
    const roll = rollingReplacement(service, mine, input, actions);
    if (roll) actions.push(roll);
  }
  return actions;
}

/**
 * One drifted replica of `service` to replace, lowest port first, and only while the service is
 * whole and still: every wanted port has a ready replica, nothing of it is starting, being
 * removed or planned. So replacements go one at a time, each new replica ready before the next
 * old one leaves, and a new spec that never gets ready stops the rollout after one replica.
 */
function rollingReplacement(service: PlanService, mine: readonly PlanReplica[], input: PlanInput, planned: readonly Action[]): Action | undefined {
  const drifted = input.drifted;
  if (!drifted || !mine.some((r) => drifted.has(r.id))) return undefined;
  const ports = wantedPorts(service);
  if (mine.length !== ports.length || !mine.every((r) => r.state === 'ready' && !input.busy.has(r.id))) return undefined;
  if (ports.some((p) => input.starting.has(slotKey(service.name, p)))) return undefined;
  if (planned.some((a) => (a.kind === 'start' ? a.service === service.name : mine.some((r) => r.id === a.id)))) return undefined;
  const next = [...mine].sort((a, b) => a.port - b.port).find((r) => drifted.has(r.id))!;
  const why = drifted.get(next.id)!;
  return { kind: 'remove', id: next.id, drain: true, failure: false, reason: `rolling replacement: spec changed (${why})`, replace: why };
}
