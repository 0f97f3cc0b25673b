// The last hour per service, kept by the supervisor so the dashboard draws it on load (a reload
// loses nothing): every SAMPLE_MS, requests per second, p50/p99 latency, errors and replicas,
// from the differences between the balancer's running totals (balancer/traffic.ts) at each tick.
// Fixed-size rings: memory does not grow with uptime. Scaling events are kept beside them for
// the same span, so the dashboard can mark every step even after the event log moved on.
// Pure: the caller passes the time and the totals.
import { LATENCY_BOUNDS } from '../balancer/traffic.ts';
import type { SupervisorEvent } from './events.ts';

export const SAMPLE_MS = 5000;
export const HISTORY_SPAN_MS = 60 * 60_000;

export interface HistorySample {
  /** End of the interval, epoch ms. */
  t: number;
  /** Answers per second over the interval. */
  rps: number;
  /** Latency percentiles over the interval in ms, from the histogram; null without requests. */
  p50: number | null;
  p99: number | null;
  /** Answers with a 5xx status in the interval (the replicas' and the balancer's own). */
  errors: number;
  ready: number;
  desired: number;
}

/** A service's running totals at one tick. */
export interface ServiceTotals {
  requests: number;
  errors: number;
  /** Per latency bucket (LATENCY_BOUNDS, then +Inf), not cumulative. */
  buckets: number[];
  ready: number;
  desired: number;
}

export interface HistoryBody {
  sampleMs: number;
  spanMs: number;
  services: Record<string, HistorySample[]>;
  /** `scaled` events of the span, oldest first. */
  scaled: SupervisorEvent[];
}

class Ring<T> {
  readonly #items: (T | undefined)[];
  #next = 0;
  #size = 0;

  constructor(capacity: number) {
    this.#items = new Array<T | undefined>(capacity);
  }

  push(item: T): void {
    this.#items[this.#next] = item;
    this.#next = (this.#next + 1) % this.#items.length;
    this.#size = Math.min(this.#size + 1, this.#items.length);
  }

  /** Oldest first. */
  toArray(): T[] {
    const n = this.#items.length;
    const start = (this.#next - this.#size + n) % n;
    return Array.from({ length: this.#size }, (_, i) => this.#items[(start + i) % n]!);
  }
}

/** The latency at quantile q (0..1) in ms, interpolated in its bucket as Prometheus does. */
export function quantileMs(buckets: readonly number[], q: number): number | null {
  const total = buckets.reduce((a, n) => a + n, 0);
  if (total === 0) return null;
  const rank = q * total;
  let below = 0;
  for (let i = 0; i < buckets.length; i++) {
    const n = buckets[i]!;
    if (n > 0 && below + n >= rank) {
      // The +Inf bucket has no upper bound: the last finite one is the best that can be said.
      if (i >= LATENCY_BOUNDS.length) return LATENCY_BOUNDS[LATENCY_BOUNDS.length - 1]! * 1000;
      const lower = i === 0 ? 0 : LATENCY_BOUNDS[i - 1]!;
      const upper = LATENCY_BOUNDS[i]!;
      return (lower + ((upper - lower) * (rank - below)) / n) * 1000;
    }
    below += n;
  }
  return null;
}

export class History {
  readonly #capacity = Math.ceil(HISTORY_SPAN_MS / SAMPLE_MS);
  readonly #rings = new Map<string, Ring<HistorySample>>();
  readonly #previous = new Map<string, { t: number; totals: ServiceTotals }>();
  #scaled: SupervisorEvent[] = [];

  /** One tick: a sample per service from the totals' change since the last tick. */
  record(t: number, totals: Record<string, ServiceTotals>): Record<string, HistorySample> {
    const added: Record<string, HistorySample> = {};
    for (const [service, now] of Object.entries(totals)) {
      const before = this.#previous.get(service);
      this.#previous.set(service, { t, totals: now });
      let ring = this.#rings.get(service);
      if (!ring) this.#rings.set(service, (ring = new Ring(this.#capacity)));
      const seconds = before ? Math.max(0.001, (t - before.t) / 1000) : SAMPLE_MS / 1000;
      // The first tick has nothing to compare with: requests before it are not in the chart.
      const base = before?.totals ?? now;
      const delta = now.buckets.map((n, i) => Math.max(0, n - (base.buckets[i] ?? 0)));
      const sample: HistorySample = {
        t,
        rps: round(Math.max(0, now.requests - base.requests) / seconds),
        p50: roundOrNull(quantileMs(delta, 0.5)),
        p99: roundOrNull(quantileMs(delta, 0.99)),
        errors: Math.max(0, now.errors - base.errors),
        ready: now.ready,
        desired: now.desired,
      };
      ring.push(sample);
      added[service] = sample;
    }
    this.#forgetOldScaling(t);
    return added;
  }

  noteEvent(event: SupervisorEvent): void {
    if (event.type === 'scaled') this.#scaled.push(event);
  }

  body(now: number): HistoryBody {
    this.#forgetOldScaling(now);
    return {
      sampleMs: SAMPLE_MS,
      spanMs: HISTORY_SPAN_MS,
      services: Object.fromEntries([...this.#rings].map(([service, ring]) => [service, ring.toArray()])),
      scaled: [...this.#scaled],
    };
  }

  #forgetOldScaling(now: number): void {
    const from = now - HISTORY_SPAN_MS;
    if (this.#scaled.length > 0 && Date.parse(this.#scaled[0]!.time) < from)
      this.#scaled = this.#scaled.filter((e) => Date.parse(e.time) >= from);
  }
}

function round(n: number): number {
  return Math.round(n * 100) / 100;
}

function roundOrNull(n: number | null): number | null {
  return n === null ? null : round(n);
}
