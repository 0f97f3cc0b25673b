// What to do after an attempt failed: try another replica, or answer the client. Pure.
//
// A retry must never make a replica do a request twice: it is safe when nothing reached the
// replica ('refused', or no connection came free) and the body can be sent again, and for
// GET and HEAD whatever happened, as long as no response byte went to the client.
import type { AttemptOutcome } from './strategy.ts';
import type { UpstreamFailure } from './upstream.ts';

export interface AttemptContext {
  method: string;
  /** The body can be sent again from the start (none, or kept whole in memory). */
  replayable: boolean;
  /** Replicas tried so far, and how many are in rotation. */
  tried: number;
  members: number;
}

export type NextStep =
  | { action: 'retry' }
  | { action: 'answer'; status: 502 | 503 | 504; error: string; retryAfter: boolean }
  | { action: 'cut' };

export function outcomeOf(failure: UpstreamFailure): AttemptOutcome {
  return failure === 'cut' ? 'reset' : failure;
}

export function afterFailure(failure: UpstreamFailure, reason: string, service: string, c: AttemptContext): NextStep {
  if (failure === 'cut') return { action: 'cut' }; // the client has part of a response: only closing is honest
  const nothingReached = failure === 'refused' || failure === 'overloaded';
  const idempotent = c.method === 'GET' || c.method === 'HEAD';
  const safe = c.replayable && (nothingReached || idempotent);
  if (safe && c.tried < c.members) return { action: 'retry' };
  if (failure === 'overloaded') {
    return { action: 'answer', status: 503, error: `every replica of ${service} is busy (${reason}); try again shortly`, retryAfter: true };
  }
  if (failure === 'timeout') return { action: 'answer', status: 504, error: `the replica of ${service} did not answer in time`, retryAfter: false };
  if (!safe) {
    return { action: 'answer', status: 502, error: `the replica of ${service} failed before answering (${reason}); not retried, the request may have reached it`, retryAfter: false };
  }
  return { action: 'answer', status: 502, error: `no replica of ${service} could be reached (${reason})`, retryAfter: true };
}
