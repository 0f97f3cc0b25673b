// Crash-loop backoff per port slot, as pure functions: a replica that keeps failing gets
// restarted later and later, so a broken image cannot spin the engine. The first restart is
// immediate (a healthy replica that crashed once should be back at once); a replica that had
// stayed ready for `resetAfterMs` starts a fresh count.

export interface BackoffPolicy {
  initialMs: number;
  maxMs: number;
  resetAfterMs: number;
}

export interface FailureRecord {
  /** Failures in a row on this slot. */
  count: number;
  /** Epoch ms of the last failure. */
  lastAt: number;
}

/** Delay before the restart that follows `count` failures in a row: 0, initial, 2x, 4x... max. */
export function backoffDelay(count: number, policy: BackoffPolicy): number {
  if (count <= 1) return 0;
  return Math.min(policy.maxMs, policy.initialMs * 2 ** (count - 2));
}

/** The record after one more failure; `readyForMs` is how long the replica had been ready (0 if never). */
export function recordFailure(
  previous: FailureRecord | undefined,
  readyForMs: number,
  now: number,
  policy: BackoffPolicy,
): FailureRecord {
  const fresh = !previous || readyForMs >= policy.resetAfterMs;
  return { count: fresh ? 1 : previous.count + 1, lastAt: now };
}

/** Epoch ms before which no new replica may start on the slot. */
export function restartAllowedAt(record: FailureRecord | undefined, policy: BackoffPolicy): number {
  if (!record) return 0;
  return record.lastAt + backoffDelay(record.count, policy);
}
