// Time as the heartbeat, the scaler and the fleet see it: injected, so their logic runs under a
// fake clock in unit tests (test/helpers/fake-clock.ts) and under the real one in the threads.

export interface Timer {
  cancel(): void;
}

export interface Clock {
  /** Epoch milliseconds. */
  now(): number;
  /** Runs `fn` once after `ms` (at once when `ms` <= 0, on a later turn). */
  after(ms: number, fn: () => void): Timer;
}

export const systemClock: Clock = {
  now: Date.now,
  after(ms, fn) {
    const handle = setTimeout(fn, Math.max(0, ms));
    return { cancel: () => clearTimeout(handle) };
  },
};

/** Resolves after `ms` on `clock`. */
export function delay(clock: Clock, ms: number): Promise<void> {
  return new Promise((resolve) => clock.after(ms, resolve));
}
