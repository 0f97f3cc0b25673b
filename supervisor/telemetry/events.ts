// What the supervisor did, with reasons: a bounded, numbered log that feeds the admin API
// (/events, /events.json) and the structured log at once.
import type { Logger } from '../core/log.ts';

export type EventType =
  | 'replica.started'
  | 'replica.ready'
  | 'replica.failed'
  | 'replica.output'
  | 'replica.replaced'
  | 'replica.stopped'
  | 'replica.adopted'
  | 'replica.unready'
  | 'replica.restored'
  | 'replica.kept'
  | 'capacity.exceeded'
  | 'scaled'
  | 'scale.override'
  | 'runtime.error'
  | 'balancer.listen-failed'
  | 'balancer.listening'
  | 'worker.restarted'
  | 'certificate.reloaded'
  | 'certificate.rejected'
  | 'config.reloaded'
  | 'config.rejected'
  | 'supervisor.started'
  | 'balancer.accepting'
  | 'supervisor.stopping';

const WARNINGS: ReadonlySet<EventType> = new Set([
  'runtime.error',
  'replica.failed',
  'balancer.listen-failed',
  'replica.unready',
  'replica.kept',
  'capacity.exceeded',
]);

export interface EventInput {
  type: EventType;
  service?: string | undefined;
  port?: number | undefined;
  id?: string | undefined;
  reason: string;
  /** Event-specific details (previousId, from, to, code...). */
  [extra: string]: unknown;
}

export interface SupervisorEvent extends EventInput {
  seq: number;
  time: string;
}

export class EventLog {
  readonly #capacity: number;
  readonly #events: SupervisorEvent[] = [];
  readonly #listeners = new Set<(event: SupervisorEvent) => void>();
  readonly #logger: Logger | undefined;
  #seq = 0;

  constructor(options: { capacity?: number; logger?: Logger } = {}) {
    this.#capacity = options.capacity ?? 1000;
    this.#logger = options.logger;
  }

  emit(input: EventInput): SupervisorEvent {
    this.#seq += 1;
    const event: SupervisorEvent = { ...input, seq: this.#seq, time: new Date().toISOString() };
    this.#events.push(event);
    if (this.#events.length > this.#capacity) this.#events.shift();
    const level = WARNINGS.has(input.type) ? 'warn' : 'info';
    this.#logger?.log(level, input.type, { ...input, seq: event.seq });
    for (const listener of this.#listeners) listener(event);
    return event;
  }

  /** Events with seq greater than `since`, oldest first. */
  since(since: number): SupervisorEvent[] {
    return this.#events.filter((e) => e.seq > since);
  }

  last(n: number): SupervisorEvent[] {
    return this.#events.slice(-n);
  }

  subscribe(listener: (event: SupervisorEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
}
