// Bounded polling for suites that wait on a real component (a container, a process, a server):
// a probe that throws counts as "not yet", and the last error goes into the timeout message.
import { setTimeout as sleep } from 'node:timers/promises';

export interface EventuallyOptions {
  /** An error from the probe that will not go away (the process under test exited): stop waiting. */
  giveUp?: (error: unknown) => boolean;
}

/** Polls until `probe` returns a value other than undefined, at most `timeoutMs`. */
export async function eventually<T>(
  probe: () => Promise<T | undefined>,
  what: string,
  timeoutMs = 10_000,
  intervalMs = 100,
  options: EventuallyOptions = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
      if (options.giveUp?.(error)) break;
    }
    await sleep(intervalMs);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ''}`);
}
