// What the balancer threads answered, for the metrics and the dashboard's history: requests by
// status class per replica slot, and a latency histogram per service. Each proxied exchange adds
// to a few Int32 of the shared buffer (shared-state.ts: the traffic region) as it ends, with
// Atomics.add and no message; the primary reads the region when it samples (every second) and
// when it is scraped.
// Counters wrap at 2^32. The reader keeps the last value it saw of each and adds the unsigned
// difference, so totals stay exact while it reads more often than one wrap: the latency sum,
// kept in microseconds, wraps after 4,295 s of summed latency, far more than a second holds.

/** Index 0: no status (the client left before any answer). */
export const STATUS_CLASSES = ['none', '1xx', '2xx', '3xx', '4xx', '5xx'] as const;
export type StatusClass = (typeof STATUS_CLASSES)[number];
/** Upper bounds in seconds of the latency buckets, +Inf after the last. */
export const LATENCY_BOUNDS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] as const;

const CLASSES = STATUS_CLASSES.length;
const BUCKETS = LATENCY_BOUNDS.length + 1;
/** Per service: the buckets, then the sum in microseconds. */
const LATENCY_FIELDS = BUCKETS + 1;

/**
 * Where the traffic region's counters sit, from the offset the shared layout gives it. Status
 * rows: one per replica slot, then one per service for answers no replica gave (no replica
 * ready, none reachable, a request too slow).
 */
export class TrafficLayout {
  readonly at: number;
  readonly replicaSlots: number;
  readonly services: number;
  readonly length: number;

  constructor(at: number, replicaSlots: number, services: number) {
    this.at = at;
    this.replicaSlots = replicaSlots;
    this.services = services;
    this.length = (replicaSlots + services) * CLASSES + services * LATENCY_FIELDS;
  }

  statusRow(service: number, slot: number): number {
    return this.at + (slot >= 0 ? slot : this.replicaSlots + service) * CLASSES;
  }

  latencyRow(service: number): number {
    return this.at + (this.replicaSlots + this.services) * CLASSES + service * LATENCY_FIELDS;
  }
}

export function statusClass(status: number): number {
  return status >= 100 && status < 600 ? Math.floor(status / 100) : 0;
}

export function latencyBucket(seconds: number): number {
  let i = 0;
  while (i < LATENCY_BOUNDS.length && seconds > LATENCY_BOUNDS[i]!) i++;
  return i;
}

/** A balancer thread's side: one call per exchange that ended. */
export class TrafficRecorder {
  readonly #a: Int32Array;
  readonly #layout: TrafficLayout;

  constructor(buffer: SharedArrayBuffer, layout: TrafficLayout) {
    this.#a = new Int32Array(buffer);
    this.#layout = layout;
  }

  /** `slot` -1: answered by the balancer itself; `status` 0: not answered. */
  record(service: number, slot: number, status: number, seconds: number): void {
    const a = this.#a;
    Atomics.add(a, this.#layout.statusRow(service, slot) + statusClass(status), 1);
    const row = this.#layout.latencyRow(service);
    Atomics.add(a, row + latencyBucket(seconds), 1);
    Atomics.add(a, row + BUCKETS, Math.round(seconds * 1e6) | 0);
  }
}

export interface ServiceTraffic {
  /** Requests by status class (STATUS_CLASSES order), per replica slot of the service that has any. */
  bySlot: Map<number, number[]>;
  /** Requests no replica answered, by status class. */
  unrouted: number[];
  /** Requests per latency bucket (not cumulative), +Inf last. */
  buckets: number[];
  sumSeconds: number;
  count: number;
}

/** One service's traffic as the balancer counted it: totals since the supervisor started. */
export interface ServiceTrafficView {
  service: string;
  /** `replica`: `<service>-<port>`, the name a container of it has. */
  replicas: { replica: string; byClass: number[]; inFlight: number }[];
  /** Answers the balancer gave itself (no replica ready or reachable), by status class. */
  unrouted: number[];
  /** Per latency bucket (LATENCY_BOUNDS, then +Inf), not cumulative. */
  buckets: number[];
  sumSeconds: number;
  count: number;
}

/** The primary's side: totals since the supervisor started, per service index. */
export class TrafficReader {
  readonly #a: Int32Array;
  readonly #layout: TrafficLayout;
  readonly #last: Int32Array;
  readonly #totals: Float64Array;

  constructor(buffer: SharedArrayBuffer, layout: TrafficLayout) {
    this.#a = new Int32Array(buffer);
    this.#layout = layout;
    this.#last = new Int32Array(layout.length);
    this.#totals = new Float64Array(layout.length);
  }

  /** Folds in what the threads added since the last call; cheap enough to call every second. */
  update(): void {
    const { at, length } = this.#layout;
    for (let i = 0; i < length; i++) {
      const now = Atomics.load(this.#a, at + i);
      const delta = (now - this.#last[i]!) >>> 0;
      if (delta === 0) continue;
      this.#last[i] = now;
      this.#totals[i]! += delta;
    }
  }

  /** The totals of one service; `slots` are its replica slots (SharedLayout). */
  service(index: number, slots: readonly number[]): ServiceTraffic {
    const layout = this.#layout;
    const row = (start: number, n: number) =>
      Array.from(this.#totals.subarray(start - layout.at, start - layout.at + n));
    const bySlot = new Map<number, number[]>();
    for (const slot of slots) {
      const counts = row(layout.statusRow(index, slot), CLASSES);
      if (counts.some((n) => n > 0)) bySlot.set(slot, counts);
    }
    const latency = row(layout.latencyRow(index), LATENCY_FIELDS);
    const buckets = latency.slice(0, BUCKETS);
    return {
      bySlot,
      unrouted: row(layout.statusRow(index, -1), CLASSES),
      buckets,
      sumSeconds: latency[BUCKETS]! / 1e6,
      count: buckets.reduce((sum, n) => sum + n, 0),
    };
  }
}
