// The balancer's retry rules answered in full: the status, the {"error"} text and whether a
// Retry-After goes with it, for each way an attempt can fail; what counts as safe to repeat.
// balancer-logic.test.ts covers when a retry happens; this file what the client gets otherwise.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  afterFailure,
  isSafeMethod,
  outcomeOf,
  retryOnStatus,
  type AttemptContext,
} from '../../supervisor/balancer/retry.ts';

/** Every replica already tried: no retry is left, so each failure is answered. */
const spent = (method: string): AttemptContext => ({
  method,
  replayable: true,
  tried: 2,
  members: 2,
  retriedAfterReaching: 0,
});

test('each failure, once no retry is left, is answered with what happened and whether to come back', () => {
  assert.deepEqual(afterFailure('overloaded', 'queue full', 'acts', spent('POST')), {
    action: 'answer',
    status: 503,
    error: 'every replica of acts is busy (queue full); try again shortly',
    retryAfter: true,
  });
  assert.deepEqual(afterFailure('timeout', '3000 ms', 'acts', spent('GET')), {
    action: 'answer',
    status: 504,
    error: 'the replica of acts did not answer in time (3000 ms)',
    retryAfter: false,
  });
  assert.deepEqual(afterFailure('reset', 'socket hang up', 'acts', spent('POST')), {
    action: 'answer',
    status: 502,
    error: 'the replica of acts failed before answering (socket hang up); not retried, the request may have reached it',
    retryAfter: false,
  });
  assert.deepEqual(afterFailure('refused', 'ECONNREFUSED', 'users', spent('POST')), {
    action: 'answer',
    status: 502,
    error: 'no replica of users could be reached (ECONNREFUSED)',
    retryAfter: true,
  });
  assert.deepEqual(afterFailure('reset', 'socket hang up', 'acts', spent('GET')), {
    action: 'answer',
    status: 502,
    error: 'no replica of acts could be reached (socket hang up)',
    retryAfter: true,
  });
  assert.deepEqual(afterFailure('cut', 'mid-body', 'acts', spent('GET')), { action: 'cut' });
});

test('a request that reached no replica goes to the next one, whatever its method', () => {
  const fresh: AttemptContext = { method: 'POST', replayable: true, tried: 1, members: 2, retriedAfterReaching: 0 };
  assert.deepEqual(afterFailure('refused', 'x', 'acts', fresh), { action: 'retry' });
  assert.deepEqual(
    afterFailure('reset', 'x', 'acts', fresh).action,
    'answer',
    'a POST that may have arrived: never twice',
  );
});

test('safe methods are GET, HEAD, OPTIONS and TRACE', () => {
  for (const method of ['GET', 'HEAD', 'OPTIONS', 'TRACE']) assert.equal(isSafeMethod(method), true, method);
  for (const method of ['POST', 'PUT', 'DELETE', 'PATCH', 'get', '']) assert.equal(isSafeMethod(method), false, method);
});

test('a cut connection counts against the replica as a reset; other failures as themselves', () => {
  assert.equal(outcomeOf('cut'), 'reset');
  assert.equal(outcomeOf('timeout'), 'timeout');
  assert.equal(outcomeOf('refused'), 'refused');
});

test('only a listed 5xx is retried, and only for a safe request with a retry left', () => {
  const ctx: AttemptContext = { method: 'GET', replayable: true, tried: 1, members: 2, retriedAfterReaching: 0 };
  assert.equal(retryOnStatus(502, [502, 503, 504], ctx), true);
  assert.equal(retryOnStatus(500, [502, 503, 504], ctx), false, 'not listed');
  assert.equal(retryOnStatus(404, [404, 502], ctx), false, 'a 4xx is the answer, listed or not');
  assert.equal(retryOnStatus(502, [502], { ...ctx, method: 'POST' }), false);
  assert.equal(retryOnStatus(502, [502], { ...ctx, retriedAfterReaching: 1 }), false);
  assert.equal(retryOnStatus(502, [502], { ...ctx, tried: 2 }), false);
  assert.equal(retryOnStatus(502, [502], { ...ctx, replayable: false }), false);
});
