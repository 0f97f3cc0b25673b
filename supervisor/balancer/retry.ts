// What to do after an attempt failed: try another replica, or answer the client. Pure.
//
// A retry must never make a replica do a request twice when that could matter. Two kinds:
// - nothing reached the replica ('refused', or no connection came free): any method whose
//   body can be sent again goes to the next replica, as many times as there are replicas;
// - the replica may have seen the request (the connection broke, no answer within the
//   per-attempt deadline, a 502/503/504 answer, or another status the config lists): only
//   safe methods are retried, once, on another replica (nginx's proxy_next_upstream for
//   "error timeout http_502 ..."; Envoy's retry_on "5xx,reset" with num_retries 1). Once,
//   so a hung replica costs a client at most the per-attempt deadline plus one more attempt,
//   and a failure every replica shares does not multiply the load on all of them.
// PUT and DELETE are idempotent in effect but not in their answer (a DELETE repeated after a
// timeout answers 404 for a removal that worked), so they are not retried after reaching one.
import type { AttemptOutcome } from './strategy.ts';
import type { UpstreamFailure } from './upstream.ts';

const SAFE_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE']);

/** Methods that change nothing: a retry after the replica saw the request is harmless. */
export function isSafeMethod(method: string): boolean {
  return SAFE_METHODS.has(method);
}

/** Retries of a request after an attempt that may have reached its replica. */
export const RETRIES_AFTER_REACHING = 1;

export interface AttemptContext {
  method: string;
  /** The body can be sent again from the start (none, or kept whole in memory). */
  replayable: boolean;
  /** Replicas tried so far, and how many are in rotation. */
  tried: number;
  members: number;
  /** Retries already made after attempts that may have reached a replica. */
  retriedAfterReaching: number;
}

export type NextStep =
  | { action: 'retry' }
  | { action: 'answer'; status: 502 | 503 | 504; error: string; retryAfter: boolean }
  | { action: 'cut' };

export function outcomeOf(failure: UpstreamFailure): AttemptOutcome {
  return failure === 'cut' ? 'reset' : failure;
}

/** A safe request that may go to another replica after one that may have seen it. */
function mayRetryAfterReaching(c: AttemptContext): boolean {
  return (
    c.replayable && isSafeMethod(c.method) && c.retriedAfterReaching < RETRIES_AFTER_REACHING && c.tried < c.members
  );
}

export function afterFailure(failure: UpstreamFailure, reason: string, service: string, c: AttemptContext): NextStep {
  if (failure === 'cut') return { action: 'cut' }; // the client has part of a response: only closing is honest
  const nothingReached = failure === 'refused' || failure === 'overloaded';
  if (nothingReached ? c.replayable && c.tried < c.members : mayRetryAfterReaching(c)) return { action: 'retry' };
  if (failure === 'overloaded') {
    return {
      action: 'answer',
      status: 503,
      error: `every replica of ${service} is busy (${reason}); try again shortly`,
      retryAfter: true,
    };
  }
  if (failure === 'timeout')
    return {
      action: 'answer',
      status: 504,
      error: `the replica of ${service} did not answer in time (${reason})`,
      retryAfter: false,
    };
  if (!nothingReached && !isSafeMethod(c.method)) {
    return {
      action: 'answer',
      status: 502,
      error: `the replica of ${service} failed before answering (${reason}); not retried, the request may have reached it`,
      retryAfter: false,
    };
  }
  return {
    action: 'answer',
    status: 502,
    error: `no replica of ${service} could be reached (${reason})`,
    retryAfter: true,
  };
}

/**
 * A response head with `status` arrived: whether to drop it and try another replica instead
 * (`retryStatuses` from the config: 502, 503, 504 by default, 500 where configured).
 */
export function retryOnStatus(status: number, retryStatuses: readonly number[], c: AttemptContext): boolean {
  return status >= 500 && retryStatuses.includes(status) && mayRetryAfterReaching(c);
}
