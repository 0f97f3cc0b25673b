// What the supervisor tells about itself besides status and events: /metrics (metrics.ts) and
// the dashboard's hour of history (history.ts), both fed from the balancer's shared counters,
// the fleet and the heartbeat's latency reports. A tick every SAMPLE_MS takes a history sample
// and hands it to the live dashboards; the primary's one-second tick keeps the counters read
// often enough for their wrap. The same tick asks the runtime for each replica's CPU time and
// memory (the engine's stats, /proc for processes), where it can tell.
import { STATUS_CLASSES, type ServiceTrafficView } from '../balancer/traffic.ts';
import type { EventLog } from './events.ts';
import { History, SAMPLE_MS, type HistoryBody, type HistorySample } from './history.ts';
import { Metrics } from './metrics.ts';
import type { ReplicaUsage } from '../runtime/runtime.ts';

/** A replica's CPU over the last tick (100 = one core) and its memory now. */
export interface UsageFigures {
  cpuPercent: number | null;
  memoryBytes: number;
  cpuSeconds: number;
}

export interface TelemetryDeps {
  events: EventLog;
  /** The balancer's counts; empty before the balancer started. */
  traffic: () => ServiceTrafficView[];
  /** Per service: desired, ready and running replicas. */
  replicas: () => { service: string; desired: number; ready: number; running: number }[];
  /** Service and port of a replica id, while it is known. */
  replicaOf: (id: string) => { service: string; port: number } | undefined;
  /** Ids of the replicas whose usage to ask for, and how (absent: the runtime cannot tell). */
  replicaIds: () => string[];
  usage?: ((id: string) => Promise<ReplicaUsage | undefined>) | undefined;
  /** A new sample per service, for the dashboards connected now. */
  onSample: (tick: { t: number; services: Record<string, HistorySample> }) => void;
  /** Each replica's figures as they come (the memory watchdog of runtimes without a cgroup limit). */
  onUsage?: (id: string, usage: ReplicaUsage) => void;
}

const SERVER_ERRORS = STATUS_CLASSES.indexOf('5xx');

export class Telemetry {
  readonly metrics: Metrics;
  readonly #d: TelemetryDeps;
  readonly #history = new History();
  /** The latest check latency (ms) per replica id, from the heartbeat's reports. */
  readonly #latencies = new Map<string, number>();
  readonly #usage = new Map<string, UsageFigures & { at: number; ownBytes?: number }>();
  #asking = false;
  readonly #unsubscribe: () => void;
  #timer: NodeJS.Timeout | undefined;

  constructor(deps: TelemetryDeps) {
    this.#d = deps;
    this.metrics = new Metrics(
      {
        traffic: () => deps.traffic(),
        replicas: () => deps.replicas(),
        usage: () =>
          [...this.#usage].flatMap(([id, u]) => {
            const r = deps.replicaOf(id);
            return r
              ? [
                  {
                    service: r.service,
                    replica: `${r.service}-${r.port}`,
                    cpuSeconds: u.cpuSeconds,
                    memoryBytes: u.memoryBytes,
                  },
                ]
              : [];
          }),
        heartbeat: () =>
          [...this.#latencies].flatMap(([id, ms]) => {
            const r = deps.replicaOf(id);
            return r ? [{ service: r.service, replica: `${r.service}-${r.port}`, seconds: ms / 1000 }] : [];
          }),
      },
      deps.events,
    );
    this.#unsubscribe = deps.events.subscribe((e) => this.#history.noteEvent(e));
  }

  start(): void {
    this.#sample();
    this.#timer = setInterval(() => this.#sample(), SAMPLE_MS);
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#unsubscribe();
    this.metrics.close();
  }

  /** The heartbeat's report; replicas gone from the fleet are forgotten here. */
  noteLatencies(latencyMs: Record<string, number>): void {
    for (const [id, ms] of Object.entries(latencyMs)) this.#latencies.set(id, ms);
    for (const id of this.#latencies.keys()) if (!this.#d.replicaOf(id)) this.#latencies.delete(id);
  }

  /** Samples after `since` (epoch ms), and the scaling events of the span. */
  history(since = 0): HistoryBody {
    const body = this.#history.body(Date.now());
    if (since <= 0) return body;
    return {
      ...body,
      services: Object.fromEntries(
        Object.entries(body.services).map(([name, samples]) => [name, samples.filter((s) => s.t > since)]),
      ),
    };
  }

  /** The last figures of a replica; undefined before the first answer, or where the runtime cannot tell. */
  usageOf(id: string): UsageFigures | undefined {
    const u = this.#usage.get(id);
    return u && { cpuPercent: u.cpuPercent, memoryBytes: u.memoryBytes, cpuSeconds: u.cpuSeconds };
  }

  /** A replica's own memory (what a limit holds), bytes, as last measured. */
  memoryOf(id: string): number | undefined {
    const u = this.#usage.get(id);
    return u && (u.ownBytes ?? u.memoryBytes);
  }

  /** One round of usage questions at a time: a slow engine makes rounds rarer, never pile up. */
  async #askUsage(): Promise<void> {
    const usage = this.#d.usage;
    if (!usage || this.#asking) return;
    this.#asking = true;
    try {
      const ids = this.#d.replicaIds();
      for (const id of this.#usage.keys()) if (!ids.includes(id)) this.#usage.delete(id);
      await Promise.all(
        ids.map(async (id) => {
          const now = await usage(id).catch(() => undefined);
          if (!now) return;
          const at = Date.now();
          const before = this.#usage.get(id);
          const cpuPercent =
            before && at > before.at
              ? Math.max(0, Math.round(((now.cpuSeconds - before.cpuSeconds) / ((at - before.at) / 1000)) * 1000) / 10)
              : null;
          this.#usage.set(id, { ...now, cpuPercent, at });
          this.#d.onUsage?.(id, now);
        }),
      );
    } finally {
      this.#asking = false;
    }
  }

  #sample(): void {
    void this.#askUsage();
    const t = Date.now();
    const replicas = new Map(this.#d.replicas().map((r) => [r.service, r]));
    const totals = Object.fromEntries(
      this.#d.traffic().map((v) => {
        const all = [...v.replicas.map((r) => r.byClass), v.unrouted];
        const r = replicas.get(v.service);
        return [
          v.service,
          {
            requests: all.reduce((sum, byClass) => sum + byClass.reduce((a, n) => a + n, 0), 0),
            errors: all.reduce((sum, byClass) => sum + byClass[SERVER_ERRORS]!, 0),
            buckets: v.buckets,
            ready: r?.ready ?? 0,
            desired: r?.desired ?? 0,
          },
        ];
      }),
    );
    this.#d.onSample({ t, services: this.#history.record(t, totals) });
  }
}
