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
  /** Found running at start-up: it is not booting, whatever its state. */
  adopted?: boolean;
}

export interface PlanService {
  name: string;
  startPort: number;
  desired: number;
  /** Its port range ends at startPort + max - 1: the surge port must fall inside it. */
  max: number;
  /** Another process holds the surge port (a start there said so): this roll goes in place. */
  surgePortTaken?: boolean;
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
  /** Replicas whose spec no longer matches the config, with what changed (rollout.ts), whatever their state. */
  drifted?: ReadonlyMap<string, string>;
  /** Services whose rolling replacement was under way at the last pass (rollingServices() of it). */
  rolling?: ReadonlySet<string>;
  /**
   * Replicas that may boot at once, over all services (capacity.maxStarting): a scale-up starts
   * them a few at a time, so memory and CPU do not spike together. Absent: no limit.
   */
  maxStarting?: number;
}

export type Action =
  /** `surge`: the extra replica beside the wanted ones that keeps capacity during a rolling replacement. */
  | { kind: 'start'; service: string; port: number; surge?: true }
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

/**
 * The port just above the wanted ones, when the service's range (max) has it: where a surge
 * replica runs while the service's replicas are replaced. At max there is none, nor while another
 * process holds that port, and a rolling replacement goes in place, one port at a time.
 */
export function surgePort(service: PlanService): number | undefined {
  return service.desired < service.max && service.surgePortTaken !== true
    ? service.startPort + service.desired
    : undefined;
}

/**
 * Whether a rolling replacement of the service is under way: a replica of it differs from the
 * config, or one did at the last pass and its wanted ports are not yet whole again (the last old
 * replica has left and its successor is not ready). The second part keeps the surge replica until
 * the last replacement is ready, and keeps one found at start-up (a leftover of a roll the
 * previous supervisor did not finish) until the service is whole.
 */
export function isRolling(service: PlanService, input: PlanInput): boolean {
  const mine = input.replicas.filter((r) => r.service === service.name);
  const drifted = input.drifted;
  if (drifted && mine.some((r) => drifted.has(r.id))) return true;
  return (input.rolling?.has(service.name) ?? false) && !isWhole(service.name, wantedPorts(service), mine, input);
}

/** The services isRolling() says are rolling: the fleet hands them to the next pass as `rolling`. */
export function rollingServices(input: PlanInput): Set<string> {
  return new Set(input.services.filter((s) => isRolling(s, input)).map((s) => s.name));
}

/** Every one of `ports` holds exactly one replica, ready and idle, and nothing is starting there. */
function isWhole(service: string, ports: readonly number[], mine: readonly PlanReplica[], input: PlanInput): boolean {
  return ports.every((port) => {
    const onPort = mine.filter((r) => r.port === port);
    return (
      onPort.length === 1 &&
      onPort[0]!.state === 'ready' &&
      !input.busy.has(onPort[0]!.id) &&
      !input.starting.has(slotKey(service, port))
    );
  });
}

const rank = (r: PlanReplica): number => (r.state === 'ready' ? 0 : 1);

export function plan(input: PlanInput): Action[] {
  const actions: Action[] = [];
  const byName = new Map(input.services.map((s) => [s.name, s]));
  const idle = input.replicas.filter((r) => !input.busy.has(r.id));

  for (const r of idle) {
    const service = byName.get(r.service);
    if (!service) {
      actions.push({
        kind: 'remove',
        id: r.id,
        drain: r.state === 'ready',
        failure: false,
        reason: `service ${r.service} is not in the config`,
      });
    } else if (r.state === 'failed' || r.state === 'stopping') {
      actions.push({
        kind: 'remove',
        id: r.id,
        drain: false,
        failure: false,
        reason: r.state === 'failed' ? 'replacing a failed replica' : 'finishing an interrupted stop',
      });
    } else if (r.state === 'draining') {
      actions.push({ kind: 'remove', id: r.id, drain: true, failure: false, reason: 'finishing an interrupted drain' });
    } else if (r.state === 'starting' && input.now - r.trackedSince > input.startTimeoutMs) {
      actions.push({
        kind: 'remove',
        id: r.id,
        drain: false,
        failure: true,
        reason: `not healthy within ${input.startTimeoutMs} ms of starting`,
      });
    }
  }
  const planned = new Set(actions.map((a) => (a.kind === 'remove' ? a.id : '')));

  for (const service of input.services) {
    const rolling = isRolling(service, input);
    const surge = rolling ? surgePort(service) : undefined;
    const ports = surge === undefined ? wantedPorts(service) : [...wantedPorts(service), surge];
    const wanted = new Set(ports);
    const mine = input.replicas.filter((r) => r.service === service.name);
    const live = idle.filter(
      (r) => r.service === service.name && !planned.has(r.id) && (r.state === 'starting' || r.state === 'ready'),
    );
    const rollDone = !rolling && (input.rolling?.has(service.name) ?? false);
    // Outside the wanted ports: scale-down, highest port first.
    for (const r of live.filter((x) => !wanted.has(x.port)).sort((a, b) => b.port - a.port)) {
      const reason =
        rollDone && r.port === surgePort(service)
          ? `rolling replacement done: the surge replica on port ${r.port} is no longer needed`
          : `scaled down to ${service.desired}: port ${r.port} is no longer wanted`;
      actions.push({ kind: 'remove', id: r.id, drain: r.state === 'ready', failure: false, reason });
      planned.add(r.id);
    }
    // Two on one port (a start raced an adoption): keep the ready one, else the oldest.
    for (const port of wanted) {
      const onPort = live.filter((r) => r.port === port).sort((a, b) => rank(a) - rank(b) || a.startedAt - b.startedAt);
      for (const extra of onPort.slice(1)) {
        actions.push({
          kind: 'remove',
          id: extra.id,
          drain: extra.state === 'ready',
          failure: false,
          reason: `duplicate on port ${port}`,
        });
      }
    }
    // Free wanted ports get a replica: a port is free only once every replica on it is removed.
    for (const port of wanted) {
      if (mine.some((r) => r.port === port)) continue;
      if (input.starting.has(slotKey(service.name, port))) continue;
      if (input.now < input.allowedAt(service.name, port)) continue;
      actions.push(
        port === surge
          ? { kind: 'start', service: service.name, port, surge: true }
          : { kind: 'start', service: service.name, port },
      );
    }
    const roll = rollingReplacement(service, ports, mine, input, actions);
    if (roll) actions.push(roll);
  }
  return staggered(actions, input);
}

/** At most maxStarting replicas booting at once: starts beyond that wait for a later pass. */
function staggered(actions: Action[], input: PlanInput): Action[] {
  if (input.maxStarting === undefined) return actions;
  const booting =
    input.replicas.filter((r) => r.state === 'starting' && r.adopted !== true).length + input.starting.size;
  let room = Math.max(0, input.maxStarting - booting);
  return actions.filter((a) => a.kind !== 'start' || room-- > 0);
}

/**
 * One drifted replica of `service` to replace, lowest port first, and only while the service is
 * whole and still: every wanted port (the surge port included, while there is one) has a ready
 * replica, nothing of it is starting, being removed or planned. So replacements go one at a time,
 * each new replica ready before the next old one leaves, none before the surge replica is ready,
 * and a new spec that never gets ready stops the rollout at the first replica of it (the surge
 * replica, when there is one: then no old replica has left).
 */
function rollingReplacement(
  service: PlanService,
  ports: readonly number[],
  mine: readonly PlanReplica[],
  input: PlanInput,
  planned: readonly Action[],
): Action | undefined {
  const drifted = input.drifted;
  if (!drifted || !mine.some((r) => drifted.has(r.id))) return undefined;
  if (mine.length !== ports.length || !mine.every((r) => r.state === 'ready' && !input.busy.has(r.id)))
    return undefined;
  if (ports.some((p) => input.starting.has(slotKey(service.name, p)))) return undefined;
  if (planned.some((a) => (a.kind === 'start' ? a.service === service.name : mine.some((r) => r.id === a.id))))
    return undefined;
  const next = [...mine].sort((a, b) => a.port - b.port).find((r) => drifted.has(r.id))!;
  const why = drifted.get(next.id)!;
  if (next.port === surgePort(service)) {
    // The last one to differ sits on the surge port (desired fell mid-roll): with it gone the
    // roll is over, so its port is not started again.
    return {
      kind: 'remove',
      id: next.id,
      drain: true,
      failure: false,
      reason: `rolling replacement done: the surge replica on port ${next.port} differs from the config (${why}) and is no longer needed`,
    };
  }
  return {
    kind: 'remove',
    id: next.id,
    drain: true,
    failure: false,
    reason: `rolling replacement: spec changed (${why})`,
    replace: why,
  };
}
