// Turns raw check results into verdicts, and speaks only when one changes (Traefik's narrow
// door): a run of successful checks says nothing after the first; each failure in a run says
// how many in a row, and the one reaching the threshold says "failed". Pure: no timers.
import type { HealthMessage, Verdict } from '../protocol.ts';

export interface CheckResult {
  ok: boolean;
  reason: string;
  latencyMs: number;
}

export class HealthTracker {
  readonly #threshold: number;
  readonly #state = new Map<string, { verdict: Verdict; failures: number }>();

  constructor(failureThreshold: number) {
    this.#threshold = failureThreshold;
  }

  observe(id: string, result: CheckResult): HealthMessage | undefined {
    const before = this.#state.get(id);
    const failures = result.ok ? 0 : (before?.failures ?? 0) + 1;
    const verdict: Verdict = result.ok ? 'ok' : failures >= this.#threshold ? 'failed' : 'failing';
    this.#state.set(id, { verdict, failures });
    if (before && before.verdict === verdict && before.failures === failures) return undefined;
    return { type: 'health', id, verdict, consecutiveFailures: failures, reason: result.reason, latencyMs: result.latencyMs };
  }

  forget(id: string): void {
    this.#state.delete(id);
  }
}
