// A clock for unit tests of the heartbeat, the scaler and the fleet: time stands still until
// advance() moves it, running each timer that falls due in order, and letting the promises a
// timer starts settle before the next one runs.
import { setImmediate as turn } from 'node:timers/promises';
import type { Clock, Timer } from '../../supervisor/core/clock.ts';

interface Pending {
  at: number;
  seq: number;
  fn: () => void;
}

export class FakeClock implements Clock {
  #now: number;
  #seq = 0;
  readonly #timers = new Set<Pending>();

  constructor(start = 1_700_000_000_000) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  after(ms: number, fn: () => void): Timer {
    const pending: Pending = { at: this.#now + Math.max(0, ms), seq: this.#seq++, fn };
    this.#timers.add(pending);
    return { cancel: () => this.#timers.delete(pending) };
  }

  /** Timers waiting, for assertions ("nothing scheduled"). */
  get pending(): number {
    return this.#timers.size;
  }

  /** Moves time forward by `ms`, firing every timer due on the way, each at its own time. */
  async advance(ms: number): Promise<void> {
    const until = this.#now + ms;
    await settle();
    for (;;) {
      const next = [...this.#timers].filter((t) => t.at <= until).sort((a, b) => a.at - b.at || a.seq - b.seq)[0];
      if (!next) break;
      this.#timers.delete(next);
      this.#now = next.at;
      next.fn();
      await settle();
    }
    this.#now = until;
  }
}

/** Lets promise chains started so far run to their next real wait. */
export async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await turn();
}
