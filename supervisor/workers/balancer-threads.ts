// The primary's side of the balancer: `balancer.threads` worker threads on the listen port,
// each restarted on its own if it dies, the shared memory they count into, and the questions
// that need every thread's answer (a replica drained, the listener closed).
import path from 'node:path';
import type { Config } from '../config/config.ts';
import type { Logger } from '../core/log.ts';
import type { HeapStatistics } from '../telemetry/memory-report.ts';
import type { FromBalancer, RoutesMessage, ToBalancer } from '../core/protocol.ts';
import { WorkerHost } from './host.ts';
import { BALANCER } from './spec.ts';
import { RATE_LIMITERS, rateLimitsOn } from '../balancer/rate-limit.ts';
import type { BalancerSettings, InheritedFds, SharedMemory, TlsMaterial } from '../balancer/settings.ts';
import { ServedCounters, SharedLayout, SuspectMarks, inFlightOf, type SharedSpec } from '../balancer/shared-state.ts';
import { TrafficReader, type ServiceTrafficView } from '../balancer/traffic.ts';

const CLIENT_BUCKETS = 16_384;
/** Client-address buckets per rate limiter: two addresses share one with odds 1 in 65,536. */
const RATE_BUCKETS = 65_536;

export interface BalancerThreadsOptions {
  config: Config;
  adminOrigin: string;
  logger: Logger;
  /** Messages other than the answers this class collects (drained, closed). */
  onMessage: (message: FromBalancer, thread: number) => void;
  /** After a thread (re)starts: send it the current routes. */
  onStart: (thread: number, restarted: boolean) => void;
  /** The certificate and key when TLS is on (read and checked by the primary). */
  tls: TlsMaterial | null;
  /** Sockets from systemd: threads listen on copies of them, once accept() is called. */
  inherited: InheritedFds | null;
}

export class BalancerThreads {
  readonly layout: SharedLayout;
  /** The memory the threads count into: the scaler reads the request counts from it too. */
  readonly shared: SharedMemory;
  readonly #o: BalancerThreadsOptions;
  readonly #hosts: WorkerHost<ToBalancer, FromBalancer, BalancerSettings>[] = [];
  readonly #served: ServedCounters;
  readonly #traffic: TrafficReader;
  readonly #view: Int32Array;
  readonly #suspects: SuspectMarks;
  /** Replica id by slot, from the last routes sent (to attribute served counts). */
  #slotIds = new Map<number, string>();
  /** Drains in progress: replica id → slot, the threads still to answer, and who waits. */
  readonly #drains = new Map<string, { slot: number; waiting: Set<number>; done: () => void }>();
  #closing: { waiting: Set<number>; done: () => void } | undefined;
  /** The certificate in use, replayed to a restarted thread (its settings hold the first one). */
  #tls: TlsMaterial | null;
  /** accept() was called: a restarted thread is told to accept at once. */
  #accepting = false;

  constructor(options: BalancerThreadsOptions) {
    this.#o = options;
    this.#tls = options.tls;
    const c = options.config;
    const spec: SharedSpec = {
      services: c.services.map((s) => ({ name: s.name, startPort: s.startPort, ports: s.replicas.max })),
      threads: c.balancer.threads,
      clientBuckets: CLIENT_BUCKETS,
      ...(rateLimitsOn(c.balancer.rateLimits) ? { rateLimiters: RATE_LIMITERS, rateBuckets: RATE_BUCKETS } : {}),
    };
    this.layout = new SharedLayout(spec);
    const buffer = this.layout.create();
    const epoch = Date.now();
    this.shared = { buffer, spec, epoch };
    this.#served = new ServedCounters(buffer, this.layout);
    this.#traffic = new TrafficReader(buffer, this.layout.traffic);
    this.#view = new Int32Array(buffer);
    this.#suspects = new SuspectMarks(buffer, this.layout, epoch);
    const {
      threads,
      adminOnListener,
      upstreamParser,
      tls,
      compression,
      rateLimits,
      trustedProxies,
      previews,
      ...limits
    } = c.balancer;
    for (let thread = 0; thread < threads; thread++) {
      const settings: BalancerSettings = {
        listen: c.listen,
        inherited: options.inherited,
        threads,
        thread,
        staticDir: c.staticDir,
        spoolDir: path.join(c.dataDir, 'spool'),
        adminOrigin: options.adminOrigin,
        adminOnListener,
        upstreamParser,
        blockedPaths: c.blockedPaths,
        uncountedPaths: c.uncountedPaths,
        suspectMs: c.heartbeat.intervalMs,
        strategies: Object.fromEntries(c.services.map((s) => [s.name, s.strategy])),
        limits,
        edge: { tls, compression, rateLimits, trustedProxies, previews },
        tls: options.tls,
        shared: this.shared,
      };
      const host = new WorkerHost(BALANCER, {
        name: threads === 1 ? 'balancer' : `balancer-${thread}`,
        config: settings,
        logger: options.logger,
        onMessage: (m) => this.#fromThread(m, thread),
        // A thread that dies while closing (one that could not bind, say) has nothing in flight.
        onExit: () => this.#closed(thread),
        onStart: (restarted) => {
          options.onStart(thread, restarted);
          if (restarted && this.#tls !== null) host.post({ type: 'tls', ...this.#tls });
          if (this.#accepting) host.post({ type: 'accept' });
          for (const [id, d] of this.#drains) if (d.waiting.has(thread)) host.post({ type: 'drain', id, slot: d.slot });
        },
      });
      this.#hosts.push(host);
    }
  }

  get threads(): number {
    return this.#hosts.length;
  }

  get restarts(): number {
    return this.#hosts.reduce((sum, h) => sum + h.restarts, 0);
  }

  start(): void {
    for (const host of this.#hosts) host.start();
  }

  /** To every thread. */
  post(message: ToBalancer): void {
    if (message.type === 'routes') this.#noteRoutes(message);
    for (const host of this.#hosts) host.post(message);
  }

  postTo(thread: number, message: ToBalancer): void {
    if (message.type === 'routes') this.#noteRoutes(message);
    this.#hosts[thread]?.post(message);
  }

  /** Whether the threads accept: always with a port of their own; on an inherited socket, after accept(). */
  get accepting(): boolean {
    return this.#o.inherited === null || this.#accepting;
  }

  /** Every thread (and every restarted one) starts accepting on the inherited socket. */
  accept(): void {
    if (this.#accepting) return;
    this.#accepting = true;
    this.post({ type: 'accept' });
  }

  /** A new certificate for every thread's new connections. */
  setCertificate(material: TlsMaterial): void {
    this.#tls = material;
    this.post({ type: 'tls', ...material });
  }

  /** Each running thread's name and V8 heap. */
  async heapStatistics(): Promise<Array<{ name: string; stats: HeapStatistics }>> {
    const all = await Promise.all(this.#hosts.map(async (h) => ({ name: h.name, stats: await h.heapStatistics() })));
    return all.flatMap((t) => (t.stats ? [{ name: t.name, stats: t.stats }] : []));
  }

  /** Every thread terminates as if it crashed, and is restarted. */
  kill(): void {
    for (const host of this.#hosts) host.kill();
  }

  /** The heartbeat saw a ready replica fail a check: every thread passes it over until `until`. */
  holdSuspect(service: string, port: number, until: number): void {
    this.#suspects.mark(this.layout.slotOf(service, port), until);
  }

  /** The heartbeat found the replica healthy: back in rotation at once, its run of 5xx forgotten. */
  clearSuspect(service: string, port: number): void {
    this.#suspects.clear(this.layout.slotOf(service, port));
  }

  /** Resolves once no thread has a request to the replica in flight. */
  drain(id: string, service: string, port: number): Promise<void> {
    const slot = this.layout.slotOf(service, port);
    return new Promise((resolve) => {
      this.#drains.get(id)?.done();
      this.#drains.set(id, { slot, waiting: new Set(this.#hosts.keys()), done: resolve });
      this.post({ type: 'drain', id, slot });
    });
  }

  /**
   * Stops accepting and lets requests in flight finish (bounded); resolves when all threads
   * closed. A thread that is not running (between a death and its restart) has nothing to close.
   */
  close(timeoutMs: number): Promise<void> {
    return new Promise((resolve) => {
      const running = [...this.#hosts.keys()].filter((t) => this.#hosts[t]!.alive);
      this.#closing = { waiting: new Set(running), done: resolve };
      if (running.length === 0) return resolve();
      this.post({ type: 'close', timeoutMs });
    });
  }

  #closed(thread: number): void {
    const closing = this.#closing;
    if (closing === undefined || !closing.waiting.delete(thread)) return;
    if (closing.waiting.size === 0) closing.done();
  }

  async stop(): Promise<void> {
    await Promise.all(this.#hosts.map((h) => h.stop()));
  }

  /** Requests answered per replica id since the last call, read from shared memory (no thread is asked). */
  takeServed(): Record<string, number> {
    const served: Record<string, number> = {};
    for (const [slot, n] of this.#served.take()) {
      const id = this.#slotIds.get(slot);
      if (id !== undefined) served[id] = (served[id] ?? 0) + n;
    }
    return served;
  }

  /** Folds the traffic counters into the running totals: at least every few seconds. */
  readTraffic(): void {
    this.#traffic.update();
  }

  /**
   * What the threads answered since the supervisor started, per service, read from shared memory
   * (no thread is asked). Call it often (every second): the counters wrap (traffic.ts).
   */
  traffic(): ServiceTrafficView[] {
    this.#traffic.update();
    return this.layout.spec.services.map((span, index) => {
      const slots = this.layout.slotsOf(index);
      const t = this.#traffic.service(index, slots);
      const replicas = slots.flatMap((slot) => {
        const byClass = t.bySlot.get(slot);
        const inFlight = inFlightOf(this.#view, this.layout, slot);
        if (byClass === undefined && inFlight === 0) return [];
        const port = this.layout.portOf(index, slot);
        return [
          {
            replica: port === undefined ? `${span.name}-other` : `${span.name}-${port}`,
            byClass: byClass ?? t.unrouted.map(() => 0),
            inFlight,
          },
        ];
      });
      return {
        service: span.name,
        replicas,
        unrouted: t.unrouted,
        buckets: t.buckets,
        sumSeconds: t.sumSeconds,
        count: t.count,
      };
    });
  }

  #noteRoutes(message: RoutesMessage): void {
    const ids = new Map(this.#slotIds);
    for (const [service, { replicas }] of Object.entries(message.services)) {
      for (const r of replicas) ids.set(this.layout.slotOf(service, r.port), r.id);
    }
    this.#slotIds = ids;
  }

  #fromThread(m: FromBalancer, thread: number): void {
    if (m.type === 'drained') {
      const d = this.#drains.get(m.id);
      d?.waiting.delete(thread);
      if (d && d.waiting.size === 0) {
        this.#drains.delete(m.id);
        d.done();
      }
      return;
    }
    if (m.type === 'closed') return this.#closed(thread);
    this.#o.onMessage(m, thread);
  }
}
