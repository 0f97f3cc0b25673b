// `selflessacts scale SERVICE N`: the operator's replica count for a service, held against the
// scaler (its windows go on and the dashboard still shows what they would decide, but their
// decisions are not applied) until `scale SERVICE auto` hands the service back. Kept in memory:
// a restarted supervisor starts from the config and the scaler again.
import type { ServiceConfig } from '../schema/service.ts';
import type { EventLog } from '../telemetry/events.ts';

export interface ScaleResult {
  service: string;
  /** The replica count wanted now. */
  desired: number;
  /** The operator's count while held, null when the scaler (or the config) decides. */
  override: number | null;
}

export type ScaleAnswer = { status: 200; body: ScaleResult } | { status: 400 | 404; body: { error: string } };

export interface ScaleOverrideDeps {
  services: readonly ServiceConfig[];
  events: EventLog;
  desired(service: string): number;
  setDesired(service: string, replicas: number, reason: string): void;
  /** Opens a scaling window now, so a released service that sees no traffic still comes back down. */
  openWindow(service: string): void;
}

export class ScaleOverrides {
  readonly #d: ScaleOverrideDeps;
  readonly #held = new Map<string, number>();

  constructor(deps: ScaleOverrideDeps) {
    this.#d = deps;
  }

  /** The operator's count for `service`, if one is held. */
  held(service: string): number | undefined {
    return this.#held.get(service);
  }

  get all(): ReadonlyMap<string, number> {
    return this.#held;
  }

  /** POST /services/{service}/scale with `{"replicas": N | "auto"}`. */
  apply(name: string, body: unknown): ScaleAnswer {
    const service = this.#d.services.find((s) => s.name === name);
    if (!service) return { status: 404, body: { error: `no service named ${JSON.stringify(name)}` } };
    const value =
      typeof body === 'object' && body !== null && !Array.isArray(body)
        ? (body as { replicas?: unknown }).replicas
        : undefined;
    const { min, max } = service.replicas;
    if (value === 'auto') return { status: 200, body: this.#release(service) };
    if (!Number.isSafeInteger(value) || (value as number) < min || (value as number) > max) {
      return {
        status: 400,
        body: {
          error: `replicas must be "auto" or an integer from ${min} to ${max} (services.${name}.replicas.min and .max: the ports reserved for it); got ${JSON.stringify(value) ?? 'nothing'}`,
        },
      };
    }
    return { status: 200, body: this.#hold(service, value as number) };
  }

  #hold(service: ServiceConfig, replicas: number): ScaleResult {
    const name = service.name;
    this.#held.set(name, replicas);
    const until = service.autoscale ? 'the scaler is overruled' : 'instead of replicas.initial';
    this.#d.events.emit({
      type: 'scale.override',
      service: name,
      reason: `operator: ${replicas} replicas (${until}) until \`scale ${name} auto\``,
      replicas,
    });
    this.#d.setDesired(name, replicas, 'operator override');
    return { service: name, desired: this.#d.desired(name), override: replicas };
  }

  #release(service: ServiceConfig): ScaleResult {
    const name = service.name;
    const had = this.#held.delete(name);
    if (had) {
      const next = service.autoscale
        ? 'the scaler decides again from the next window'
        : `back to replicas.initial (${service.replicas.initial})`;
      this.#d.events.emit({ type: 'scale.override', service: name, reason: `operator: auto; ${next}`, replicas: null });
    }
    if (!service.autoscale) this.#d.setDesired(name, service.replicas.initial, 'operator override released');
    else if (had) this.#d.openWindow(name);
    return { service: name, desired: this.#d.desired(name), override: null };
  }
}
