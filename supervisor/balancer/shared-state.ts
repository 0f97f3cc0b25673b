// The memory every balancer thread and the primary share: one SharedArrayBuffer, laid out once
// from the config (services and their port ranges, the thread count), so no message is needed
// to keep round robin strict across threads or to count requests.
//
// Regions (all Int32, read and written with Atomics):
//   header       a layout tag, a reserved word, and the client-hash key (client-key.ts): 16
//                random bytes written once by create(), so every thread buckets alike
//   per service  cursor (port of the last pick, 0 = none), counted (API requests since the
//                scaler last took them), firstAt (ms since `epoch` + 1 of the first of those;
//                0 = none)
//   per replica  served (wrapping), suspectUntil (ms since `epoch`, compared wrap-safe),
//                5xx in a row (answers of 500 and above since its last good one, all threads)
//   per thread   inFlight per replica, open connections per client-address bucket. A thread
//                writes only its own rows, and a restarted thread zeroes them: a thread that
//                died cannot leave counts behind that would block a drain or a client.
//   per limiter  (only when rate limits are configured) one Int32 per client-address bucket:
//                the bucket's theoretical arrival time (GCRA, the token bucket as one number,
//                so every thread updates it with one compare-and-swap), in 1/8 ms since
//                `epoch`, wrapping; shared by all threads, so the rate holds over all of them.
//   traffic      answers by status class per replica, latency histograms per service
//                (traffic.ts), wrapping counters shared by all threads.
// A replica's slot is fixed by its port (startPort + i), which a replacement reuses; a port
// outside the configured range shares the service's spare slot.

import { getRandomValues } from 'node:crypto';
import { ClientHasher } from './client-key.ts';
import { TrafficLayout } from './traffic.ts';

export interface ServiceSpan {
  name: string;
  startPort: number;
  /** Ports startPort .. startPort + ports - 1 get a slot each. */
  ports: number;
}

export interface SharedSpec {
  services: ServiceSpan[];
  threads: number;
  /** Power of two. */
  clientBuckets: number;
  /** Rate limiters (0 without rate limits) and client-address buckets each (a power of two). */
  rateLimiters?: number;
  rateBuckets?: number;
}

/** Rate-limit clock units per millisecond: 1/8 ms resolution, Int32 wrapping after 6 days. */
export const RATE_UNITS_PER_MS = 8;

const SERVICE_FIELDS = 3;
const REPLICA_FIELDS = 3;
const KEY_WORDS = 4;
const KEY_AT = 2;
const HEADER = KEY_AT + KEY_WORDS; // [0] layout tag, [1] reserved, [2..6) the client-hash key

export class SharedLayout {
  readonly spec: SharedSpec;
  readonly replicaSlots: number;
  readonly #serviceIndex = new Map<string, number>();
  readonly #slotBase: number[] = [];
  readonly servicesAt: number;
  readonly replicasAt: number;
  readonly inFlightAt: number;
  readonly clientsAt: number;
  readonly rateAt: number;
  readonly traffic: TrafficLayout;
  readonly length: number;

  constructor(spec: SharedSpec) {
    if (spec.clientBuckets & (spec.clientBuckets - 1)) throw new Error('clientBuckets must be a power of two');
    if ((spec.rateBuckets ?? 0) & ((spec.rateBuckets ?? 0) - 1)) throw new Error('rateBuckets must be a power of two');
    this.spec = spec;
    let slots = 0;
    spec.services.forEach((s, i) => {
      this.#serviceIndex.set(s.name, i);
      this.#slotBase.push(slots);
      slots += s.ports + 1; // + the spare slot
    });
    this.replicaSlots = slots;
    this.servicesAt = HEADER;
    this.replicasAt = this.servicesAt + spec.services.length * SERVICE_FIELDS;
    this.inFlightAt = this.replicasAt + slots * REPLICA_FIELDS;
    this.clientsAt = this.inFlightAt + spec.threads * slots;
    this.rateAt = this.clientsAt + spec.threads * spec.clientBuckets;
    this.traffic = new TrafficLayout(
      this.rateAt + (spec.rateLimiters ?? 0) * (spec.rateBuckets ?? 0),
      slots,
      spec.services.length,
    );
    this.length = this.traffic.at + this.traffic.length;
  }

  serviceIndex(name: string): number {
    const i = this.#serviceIndex.get(name);
    if (i === undefined) throw new Error(`no shared slot for service ${name}`);
    return i;
  }

  /** The slots of a service: one per port from startPort, then its spare one. */
  slotsOf(service: number): number[] {
    const span = this.spec.services[service]!;
    return Array.from({ length: span.ports + 1 }, (_, i) => this.#slotBase[service]! + i);
  }

  /** The port a slot stands for; undefined for a service's spare slot. */
  portOf(service: number, slot: number): number | undefined {
    const span = this.spec.services[service]!;
    const offset = slot - this.#slotBase[service]!;
    return offset >= 0 && offset < span.ports ? span.startPort + offset : undefined;
  }

  slotOf(service: string, port: number): number {
    const i = this.serviceIndex(service);
    const span = this.spec.services[i]!;
    const offset = port - span.startPort;
    return this.#slotBase[i]! + (offset >= 0 && offset < span.ports ? offset : span.ports);
  }

  /** The memory for a start: zeroed, with a fresh client-hash key (`key`: a given one, for tests). */
  create(key?: Int32Array): SharedArrayBuffer {
    const buffer = new SharedArrayBuffer(this.length * 4);
    const words = new Int32Array(KEY_WORDS);
    if (key !== undefined) words.set(key.subarray(0, KEY_WORDS));
    else getRandomValues(words);
    new Int32Array(buffer).set(words, KEY_AT);
    return buffer;
  }
}

/** Wall-clock milliseconds as Int32 offsets from an epoch; differences stay right across the wrap. */
export function relMs(now: number, epoch: number): number {
  return (now - epoch) | 0;
}

/** A balancer thread's view: its own rows plus the shared ones. */
export class SharedState {
  readonly layout: SharedLayout;
  readonly #a: Int32Array;
  readonly #epoch: number;
  readonly #inFlightRow: number;
  readonly #clientsRow: number;
  readonly #bucketMask: number;
  readonly #clients: ClientHasher;

  constructor(buffer: SharedArrayBuffer, layout: SharedLayout, thread: number, epoch: number) {
    if (thread < 0 || thread >= layout.spec.threads)
      throw new Error(`thread ${thread} outside 0..${layout.spec.threads - 1}`);
    this.layout = layout;
    this.#a = new Int32Array(buffer);
    this.#epoch = epoch;
    this.#inFlightRow = layout.inFlightAt + thread * layout.replicaSlots;
    this.#clientsRow = layout.clientsAt + thread * layout.spec.clientBuckets;
    this.#bucketMask = layout.spec.clientBuckets - 1;
    const key = new Int32Array(KEY_WORDS);
    for (let i = 0; i < KEY_WORDS; i++) key[i] = Atomics.load(this.#a, KEY_AT + i);
    this.#clients = new ClientHasher(Buffer.from(key.buffer));
  }

  /** A (re)started thread owns nothing in flight and no connections yet. */
  resetOwnRows(): void {
    for (let i = 0; i < this.layout.replicaSlots; i++) Atomics.store(this.#a, this.#inFlightRow + i, 0);
    for (let i = 0; i <= this.#bucketMask; i++) Atomics.store(this.#a, this.#clientsRow + i, 0);
  }

  // ---- round robin -------------------------------------------------------------------------

  cursor(service: number): number {
    return Atomics.load(this.#a, this.layout.servicesAt + service * SERVICE_FIELDS);
  }

  /** Moves the cursor from `seen` to `port`; false if another thread moved it first. */
  advance(service: number, seen: number, port: number): boolean {
    return Atomics.compareExchange(this.#a, this.layout.servicesAt + service * SERVICE_FIELDS, seen, port) === seen;
  }

  // ---- counts ------------------------------------------------------------------------------

  countRequest(service: number, now: number): void {
    const at = this.layout.servicesAt + service * SERVICE_FIELDS;
    if (Atomics.load(this.#a, at + 2) === 0)
      Atomics.compareExchange(this.#a, at + 2, 0, relMs(now, this.#epoch) + 1 || 1);
    Atomics.add(this.#a, at + 1, 1);
  }

  served(slot: number): void {
    Atomics.add(this.#a, this.layout.replicasAt + slot * REPLICA_FIELDS, 1);
  }

  // ---- suspects ----------------------------------------------------------------------------

  suspect(slot: number, until: number): void {
    Atomics.store(this.#a, this.layout.replicasAt + slot * REPLICA_FIELDS + 1, relMs(until, this.#epoch));
  }

  isSuspect(slot: number, now: number): boolean {
    const until = Atomics.load(this.#a, this.layout.replicasAt + slot * REPLICA_FIELDS + 1);
    return until !== 0 && ((until - relMs(now, this.#epoch)) | 0) > 0;
  }

  /** One more 5xx answer in a row from the replica (any thread); returns the run's length. */
  serverErrorInARow(slot: number): number {
    return Atomics.add(this.#a, this.layout.replicasAt + slot * REPLICA_FIELDS + 2, 1) + 1;
  }

  /** A good answer ends the run (read first: most answers find it at 0 and write nothing). */
  answeredWell(slot: number): void {
    const at = this.layout.replicasAt + slot * REPLICA_FIELDS + 2;
    if (Atomics.load(this.#a, at) !== 0) Atomics.store(this.#a, at, 0);
  }

  // ---- in flight ---------------------------------------------------------------------------

  begin(slot: number): void {
    Atomics.add(this.#a, this.#inFlightRow + slot, 1);
  }

  end(slot: number): void {
    Atomics.sub(this.#a, this.#inFlightRow + slot, 1);
  }

  /** This thread's requests in flight to the replica. */
  ownInFlight(slot: number): number {
    return Atomics.load(this.#a, this.#inFlightRow + slot);
  }

  /** Every thread's requests in flight to the replica. */
  inFlight(slot: number): number {
    return inFlightOf(this.#a, this.layout, slot);
  }

  // ---- connections per client address ------------------------------------------------------

  /**
   * Counts a new connection from `address` unless that would exceed `cap` (over all threads);
   * returns the handle to pass to `disconnect`, or -1 when refused. A count-min sketch: each
   * address counts in two buckets chosen by independent keyed hashes, and its count is the
   * smaller of the two, so another client shares its count only if it collides in both (one
   * chance in millions for a few hundred clients, where one bucket alone made it one in a few
   * dozen); a collision still errs on the side of refusing. An IPv6 client counts per /64.
   */
  connect(address: string, cap: number): number {
    const [h1, h2] = this.#clients.pair(address);
    const b1 = h1 & this.#bucketMask;
    // Two different buckets, so a connection is never counted twice in one.
    const b2 = (h2 & this.#bucketMask) === b1 ? b1 ^ 1 : h2 & this.#bucketMask;
    if (cap > 0 && Math.min(this.#connections(b1), this.#connections(b2)) >= cap) return -1;
    Atomics.add(this.#a, this.#clientsRow + b1, 1);
    Atomics.add(this.#a, this.#clientsRow + b2, 1);
    return b1 * (this.#bucketMask + 1) + b2;
  }

  disconnect(handle: number): void {
    const buckets = this.#bucketMask + 1;
    Atomics.sub(this.#a, this.#clientsRow + Math.floor(handle / buckets), 1);
    Atomics.sub(this.#a, this.#clientsRow + (handle % buckets), 1);
  }

  /** Connections counted in one bucket, over every thread. */
  #connections(bucket: number): number {
    const { clientsAt, spec } = this.layout;
    let sum = 0;
    for (let t = 0; t < spec.threads; t++) sum += Atomics.load(this.#a, clientsAt + t * spec.clientBuckets + bucket);
    return sum;
  }

  // ---- rate limits -------------------------------------------------------------------------

  /**
   * One request of `address` against `limiter` (GCRA: `interval` units per request, up to
   * `tolerance` = burst × interval ahead of now). Returns 0 when it may pass, else the units
   * to wait. Addresses whose keyed hashes collide share a budget, erring on the side of
   * limiting; an IPv6 client counts per /64.
   */
  rateTake(limiter: number, address: string, now: number, interval: number, tolerance: number): number {
    const at =
      this.layout.rateAt +
      limiter * this.layout.spec.rateBuckets! +
      (this.#clients.hash(address) & (this.layout.spec.rateBuckets! - 1));
    const t = relUnits(now, this.#epoch);
    for (;;) {
      const tat = Atomics.load(this.#a, at);
      const ahead = (tat - t) | 0;
      // A legitimate TAT is never further ahead than tolerance + interval: anything else is
      // an untouched (0) or long-stale bucket seen through the wrap, i.e. a fresh one.
      const fresh = tat === 0 || ahead <= 0 || ahead > tolerance + interval;
      const next = fresh ? interval : ahead + interval;
      if (next > tolerance) return next - tolerance;
      if (Atomics.compareExchange(this.#a, at, tat, (t + next) | 0 || 1) === tat) return 0;
    }
  }
}

/** Every thread's requests in flight to the replica in `slot`. */
export function inFlightOf(a: Int32Array, layout: SharedLayout, slot: number): number {
  let sum = 0;
  for (let t = 0; t < layout.spec.threads; t++)
    sum += Atomics.load(a, layout.inFlightAt + t * layout.replicaSlots + slot);
  return sum;
}

/**
 * The primary's hand on the suspect marks: the heartbeat's verdicts confirm a suspect (kept out
 * of rotation until the replica is failed and removed) or clear it (back in rotation at once).
 */
export class SuspectMarks {
  readonly layout: SharedLayout;
  readonly #a: Int32Array;
  readonly #epoch: number;

  constructor(buffer: SharedArrayBuffer, layout: SharedLayout, epoch: number) {
    this.layout = layout;
    this.#a = new Int32Array(buffer);
    this.#epoch = epoch;
  }

  mark(slot: number, until: number): void {
    Atomics.store(this.#a, this.layout.replicasAt + slot * REPLICA_FIELDS + 1, relMs(until, this.#epoch));
  }

  clear(slot: number): void {
    const at = this.layout.replicasAt + slot * REPLICA_FIELDS;
    Atomics.store(this.#a, at + 1, 0);
    Atomics.store(this.#a, at + 2, 0);
  }
}

/** Milliseconds as rate-limit units since the epoch, wrapping in Int32. */
function relUnits(now: number, epoch: number): number {
  return ((now - epoch) * RATE_UNITS_PER_MS) | 0;
}

export interface ServiceCount {
  count: number;
  /** Epoch ms of the first request counted in this take. */
  firstAt: number;
}

/**
 * The scaler's view: counted API requests per service since its last take, with the first one's
 * time, taken out of the buffer (exchanged for zero), so no other reader is needed in between
 * and a restarted scaler counts nothing twice.
 */
export class RequestCounters {
  readonly layout: SharedLayout;
  readonly #a: Int32Array;
  readonly #epoch: number;
  readonly #pendingFirst: number[];

  constructor(buffer: SharedArrayBuffer, layout: SharedLayout, epoch: number) {
    this.layout = layout;
    this.#a = new Int32Array(buffer);
    this.#epoch = epoch;
    this.#pendingFirst = layout.spec.services.map(() => 0);
  }

  take(now: number): Record<string, ServiceCount> {
    const services: Record<string, ServiceCount> = {};
    this.layout.spec.services.forEach((span, i) => {
      const at = this.layout.servicesAt + i * SERVICE_FIELDS;
      // firstAt is set before the count is added: read it first, so a count seen here either
      // comes with its firstAt now or left it for the next take (kept in pendingFirst).
      const first = Atomics.exchange(this.#a, at + 2, 0);
      const count = Atomics.exchange(this.#a, at + 1, 0) >>> 0;
      const firstAt = first === 0 ? 0 : now - ((relMs(now, this.#epoch) - (first - 1)) | 0);
      if (count === 0) {
        if (firstAt) this.#pendingFirst[i] ||= firstAt;
        return;
      }
      services[span.name] = { count, firstAt: Math.min(this.#pendingFirst[i] || Infinity, firstAt || now) };
      this.#pendingFirst[i] = 0;
    });
    return services;
  }
}

/** The primary's view: requests answered per replica slot since its last take. */
export class ServedCounters {
  readonly layout: SharedLayout;
  readonly #a: Int32Array;
  readonly #lastServed: Int32Array;

  constructor(buffer: SharedArrayBuffer, layout: SharedLayout) {
    this.layout = layout;
    this.#a = new Int32Array(buffer);
    this.#lastServed = new Int32Array(layout.replicaSlots);
  }

  take(): Map<number, number> {
    const served = new Map<number, number>();
    for (let slot = 0; slot < this.layout.replicaSlots; slot++) {
      const total = Atomics.load(this.#a, this.layout.replicasAt + slot * REPLICA_FIELDS);
      const n = (total - this.#lastServed[slot]!) >>> 0;
      this.#lastServed[slot] = total;
      if (n > 0) served.set(slot, n);
    }
    return served;
  }
}
