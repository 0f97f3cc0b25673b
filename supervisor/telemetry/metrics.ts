// GET /metrics on the admin listener: the Prometheus text format, by prom-client. Nothing here is
// counted per request: the balancer threads count into shared memory (balancer/traffic.ts) and
// the values are read when Prometheus scrapes; the events (replacements, scaling) are counted as
// the event log emits them. The process's own CPU and memory are prom-client's default metrics.
// Names are docs/status-api.md's; deploy/kubernetes/ scales on the same ones.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { LATENCY_BOUNDS, STATUS_CLASSES, type ServiceTrafficView } from '../balancer/traffic.ts';
import type { EventLog } from './events.ts';

export const METRIC_PREFIX = 'selflessacts_';

export interface MetricsSources {
  traffic(): ServiceTrafficView[];
  replicas(): { service: string; desired: number; ready: number; running: number }[];
  /** CPU time and memory of each replica the runtime can tell about. */
  usage(): { service: string; replica: string; cpuSeconds: number; memoryBytes: number }[];
  /** The last health check's latency of each checked replica. */
  heartbeat(): { service: string; replica: string; seconds: number }[];
}

/** A histogram whose buckets are kept elsewhere (shared memory): prom-client only prints them. */
class CountedHistogram extends Histogram<'service'> {
  readonly #read: () => ServiceTrafficView[];
  readonly #name: string;
  readonly #help: string;

  constructor(name: string, help: string, registry: Registry, read: () => ServiceTrafficView[]) {
    super({ name, help, labelNames: ['service'], buckets: [...LATENCY_BOUNDS], registers: [registry] });
    this.#read = read;
    this.#name = name;
    this.#help = help;
  }

  override async get() {
    return this.getForPromString();
  }

  async getForPromString() {
    const values: { labels: Record<string, string | number>; value: number; metricName: string }[] = [];
    for (const t of this.#read()) {
      let cumulative = 0;
      t.buckets.forEach((n, i) => {
        cumulative += n;
        values.push({
          metricName: `${this.#name}_bucket`,
          labels: { service: t.service, le: i < LATENCY_BOUNDS.length ? LATENCY_BOUNDS[i]! : '+Inf' },
          value: cumulative,
        });
      });
      values.push({ metricName: `${this.#name}_sum`, labels: { service: t.service }, value: t.sumSeconds });
      values.push({ metricName: `${this.#name}_count`, labels: { service: t.service }, value: t.count });
    }
    return {
      name: this.#name,
      help: this.#help,
      type: 'histogram' as never,
      values,
      aggregator: 'sum' as const,
      collect: () => {},
    };
  }
}

export class Metrics {
  readonly registry = new Registry();
  readonly #unsubscribe: () => void;

  constructor(sources: MetricsSources, events: EventLog) {
    const r = this.registry;
    const p = METRIC_PREFIX;
    collectDefaultMetrics({ register: r });

    new Counter({
      name: `${p}requests_total`,
      help: 'Requests the balancer answered, by service, replica (<service>-<port>, or "none" when the balancer answered itself) and status class ("none": the client left first).',
      labelNames: ['service', 'replica', 'status'],
      registers: [r],
      collect() {
        this.reset();
        for (const t of sources.traffic()) {
          const add = (replica: string, byClass: number[]) =>
            byClass.forEach((n, i) => {
              if (n > 0) this.inc({ service: t.service, replica, status: STATUS_CLASSES[i]! }, n);
            });
          for (const rep of t.replicas) add(rep.replica, rep.byClass);
          add('none', t.unrouted);
        }
      },
    });
    new CountedHistogram(
      `${p}request_duration_seconds`,
      'Time from a request reaching the balancer to the end of its answer, by service.',
      r,
      () => sources.traffic(),
    );
    /** A metric of one value per replica, read from `rows` at scrape time. */
    const perReplica = <T extends { service: string; replica: string }>(
      kind: 'counter' | 'gauge',
      name: string,
      help: string,
      rows: () => T[],
      value: (row: T) => number,
    ) => {
      const collect = function (this: Counter<'service' | 'replica'> | Gauge<'service' | 'replica'>) {
        this.reset();
        for (const row of rows()) {
          const labels = { service: row.service, replica: row.replica };
          if (this instanceof Gauge) this.set(labels, value(row));
          else this.inc(labels, value(row));
        }
      };
      const config = {
        name: `${p}${name}`,
        help,
        labelNames: ['service', 'replica'] as const,
        registers: [r],
        collect,
      };
      return kind === 'gauge' ? new Gauge(config) : new Counter(config);
    };
    const inFlight = () => sources.traffic().flatMap((t) => t.replicas.map((rep) => ({ service: t.service, ...rep })));
    perReplica(
      'gauge',
      'requests_in_flight',
      'Requests sent to a replica and not yet answered, over all balancer threads.',
      inFlight,
      (row) => row.inFlight,
    );
    const replicas = (
      name: string,
      help: string,
      pick: (s: ReturnType<MetricsSources['replicas']>[number]) => number,
    ) =>
      new Gauge({
        name: `${p}${name}`,
        help,
        labelNames: ['service'],
        registers: [r],
        collect() {
          this.reset();
          for (const s of sources.replicas()) this.set({ service: s.service }, pick(s));
        },
      });
    replicas('replicas_desired', 'Replicas the supervisor wants of a service (config and scaler).', (s) => s.desired);
    replicas('replicas_ready', 'Replicas of a service that passed their health check and get traffic.', (s) => s.ready);
    replicas(
      'replicas_running',
      'Replicas of a service in any state (starting, ready, draining...).',
      (s) => s.running,
    );
    perReplica(
      'gauge',
      'heartbeat_latency_seconds',
      "The last health check's response time, per replica.",
      () => sources.heartbeat(),
      (h) => h.seconds,
    );
    perReplica(
      'counter',
      'replica_cpu_seconds_total',
      "CPU time a replica used (the engine's stats, /proc for the process runtime), as of the last 5 s sample.",
      () => sources.usage(),
      (u) => u.cpuSeconds,
    );
    perReplica(
      'gauge',
      'replica_memory_bytes',
      "Memory a replica uses (resident; a container's without its page cache), as of the last 5 s sample.",
      () => sources.usage(),
      (u) => u.memoryBytes,
    );

    const failures = new Counter({
      name: `${p}replica_failures_total`,
      help: 'Replicas declared failed (health checks, a crash, gone from the runtime).',
      labelNames: ['service'],
      registers: [r],
    });
    const replacements = new Counter({
      name: `${p}replica_replacements_total`,
      help: 'New replicas started on the port of a failed one.',
      labelNames: ['service'],
      registers: [r],
    });
    const workerRestarts = new Counter({
      name: `${p}worker_restarts_total`,
      help: 'Worker threads (balancer, heartbeat, scaler) restarted after dying.',
      labelNames: ['worker'],
      registers: [r],
    });
    const scaling = new Counter({
      name: `${p}scaling_decisions_total`,
      help: "Changes of a service's desired replica count, by direction.",
      labelNames: ['service', 'direction'],
      registers: [r],
    });
    this.#unsubscribe = events.subscribe((e) => {
      const service = e.service ?? 'none';
      if (e.type === 'replica.failed') failures.inc({ service });
      else if (e.type === 'replica.replaced') replacements.inc({ service });
      else if (e.type === 'worker.restarted') workerRestarts.inc({ worker: String(e.worker ?? 'unknown') });
      else if (e.type === 'scaled') scaling.inc({ service, direction: Number(e.to) > Number(e.from) ? 'up' : 'down' });
    });
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }

  close(): void {
    this.#unsubscribe();
  }
}
