// Turns raw check results into verdicts, and speaks only when one changes (Traefik's narrow
// door). Two questions, as Kubernetes keeps them apart: the health check asks whether a replica
// may take traffic (readiness), the liveness check, asked only after a health check failed,
// whether it is alive at all. A replica that fails its health check failureThreshold times in a
// row while it still answers its liveness check is `unready` (out of rotation, kept); only one
// whose liveness check is refused or answers an error failureThreshold times in a row (`dead`),
// or gets no answer within the liveness timeout (`stuck`), is `failed` (replaced). Pure: no
// timers.
import type { HealthCause, HealthMessage, Verdict } from '../core/protocol.ts';

export interface CheckResult {
  ok: boolean;
  reason: string;
  latencyMs: number;
  /** No answer came within the check's timeout (as opposed to a refusal or an error answer). */
  timedOut?: boolean;
}

interface State {
  verdict: Verdict;
  /** Health checks failed in a row. */
  failures: number;
  cause: HealthCause | undefined;
  /** Liveness checks refused or answered with an error, in a row. */
  deaths: number;
  /** The last health check got no answer in time (rather than a refusal or an error answer). */
  slow: boolean;
}

export class HealthTracker {
  readonly #threshold: number;
  readonly #state = new Map<string, State>();
  /** Replicas whose first result was reported: the first one always is. */
  readonly #seen = new Set<string>();

  constructor(failureThreshold: number) {
    this.#threshold = failureThreshold;
  }

  /** A health (readiness) check's result. */
  observe(id: string, result: CheckResult): HealthMessage | undefined {
    const state = this.#get(id);
    const before = { ...state };
    if (result.ok) {
      Object.assign(state, { verdict: 'ok', failures: 0, cause: undefined, deaths: 0, slow: false });
    } else {
      state.failures += 1;
      state.slow = result.timedOut === true;
      // A failed verdict stands until a check passes or the liveness check says it is alive.
      if (state.verdict !== 'failed') this.#settle(state);
    }
    return this.#changed(id, before, state, result);
  }

  /** A liveness check's result (asked after a failed health check). */
  observeLiveness(id: string, result: CheckResult): HealthMessage | undefined {
    const state = this.#state.get(id);
    if (state === undefined || state.verdict === 'ok') return undefined; // passed meanwhile
    const before = { ...state };
    if (result.ok) {
      state.deaths = 0;
      this.#settle(state);
    } else if (result.timedOut) {
      state.verdict = 'failed';
      state.cause = 'stuck';
    } else {
      state.deaths += 1;
      if (state.deaths >= this.#threshold) {
        state.verdict = 'failed';
        state.cause = 'dead';
      }
    }
    return this.#changed(id, before, state, result);
  }

  forget(id: string): void {
    this.#state.delete(id);
    this.#seen.delete(id);
  }

  #get(id: string): State {
    let state = this.#state.get(id);
    if (state === undefined) {
      state = { verdict: 'ok', failures: 0, cause: undefined, deaths: 0, slow: false };
      this.#state.set(id, state);
    }
    return state;
  }

  /**
   * The verdict from its health checks of a replica not (yet) known dead: unready at the
   * threshold only while its last liveness check passed (or has not answered yet); one on its
   * way to dead stays failing until the liveness checks decide.
   */
  #settle(state: State): void {
    if (state.failures >= this.#threshold && state.deaths === 0) {
      state.verdict = 'unready';
      state.cause = state.slow ? 'slow' : 'unready';
    } else {
      // Settled only after a failed health check: failures is at least 1 here.
      state.verdict = 'failing';
      state.cause = undefined;
    }
  }

  #changed(id: string, before: State, after: State, result: CheckResult): HealthMessage | undefined {
    const fresh = !this.#seen.has(id);
    this.#seen.add(id);
    if (
      !fresh &&
      before.verdict === after.verdict &&
      before.failures === after.failures &&
      before.cause === after.cause
    )
      return undefined;
    const message: HealthMessage = {
      type: 'health',
      id,
      verdict: after.verdict,
      consecutiveFailures: after.failures,
      reason: result.reason,
      latencyMs: result.latencyMs,
    };
    if (after.cause !== undefined) message.cause = after.cause;
    return message;
  }
}
