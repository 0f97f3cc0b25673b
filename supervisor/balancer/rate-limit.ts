// Rate limits per client address, counted in shared memory so they hold over every balancer
// thread: one bucket for every request and one for log-in and sign-up (the configured paths
// and methods), each a token bucket (`perMinute` tokens a minute, `burst` saved up). A request
// over either is answered 429 with Retry-After by the caller; it never reaches a replica.
import { pathSet, type PrefixTable } from './routes.ts';
import type { RateLimitConfig } from './settings.ts';
import { RATE_UNITS_PER_MS, type SharedState } from './shared-state.ts';

export const RATE_LIMITERS = 2;
const REQUESTS = 0;
const AUTH = 1;

export interface Refusal {
  /** Which budget is spent, for the error text. */
  what: 'requests' | 'log-in and sign-up attempts';
  retryAfterSeconds: number;
}

interface Bucket {
  interval: number;
  tolerance: number;
}

function bucket(perMinute: number, burst: number): Bucket | undefined {
  if (perMinute <= 0) return undefined;
  const interval = Math.max(1, Math.round((60_000 / perMinute) * RATE_UNITS_PER_MS));
  return { interval, tolerance: interval * burst };
}

/** Whether a config turns any limit on (the shared memory then has room for them). */
export function rateLimitsOn(config: RateLimitConfig): boolean {
  return config.requests.perMinute > 0 || config.auth.perMinute > 0;
}

export class RateLimits {
  readonly #shared: SharedState;
  readonly #requests: Bucket | undefined;
  readonly #auth: Bucket | undefined;
  readonly #authPaths: PrefixTable<true>;
  readonly #authMethods: Set<string>;

  constructor(config: RateLimitConfig, shared: SharedState) {
    this.#shared = shared;
    this.#requests = bucket(config.requests.perMinute, config.requests.burst);
    this.#auth = bucket(config.auth.perMinute, config.auth.burst);
    this.#authPaths = pathSet(config.auth.paths);
    this.#authMethods = new Set(config.auth.methods);
  }

  /** Takes the request from the client's budgets; a refusal when one is spent. */
  take(address: string, method: string, path: string, now: number): Refusal | undefined {
    const auth =
      this.#auth !== undefined && this.#authMethods.has(method) && this.#authPaths.matches(path)
        ? this.#auth
        : undefined;
    // The log-in budget first: a refused guess must not also spend the general one.
    if (auth !== undefined) {
      const wait = this.#shared.rateTake(AUTH, address, now, auth.interval, auth.tolerance);
      if (wait > 0) return { what: 'log-in and sign-up attempts', retryAfterSeconds: seconds(wait) };
    }
    const all = this.#requests;
    if (all !== undefined) {
      const wait = this.#shared.rateTake(REQUESTS, address, now, all.interval, all.tolerance);
      if (wait > 0) return { what: 'requests', retryAfterSeconds: seconds(wait) };
    }
    return undefined;
  }
}

function seconds(units: number): number {
  return Math.max(1, Math.ceil(units / RATE_UNITS_PER_MS / 1000));
}
