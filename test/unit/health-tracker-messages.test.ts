// The health tracker's messages in full, and the edges supervisor-heartbeat.test.ts's rows do
// not reach: a replica whose very first check fails, a liveness answer for a replica that is
// healthy or unknown, and a replica forgotten and seen again.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { HealthTracker } from '../../supervisor/heartbeat/health-tracker.ts';

const OK = { ok: true, reason: '200', latencyMs: 3 };
const FAIL = { ok: false, reason: '500', latencyMs: 4 };

test('a first check that fails: reported as failing, once, with no cause', () => {
  const tracker = new HealthTracker(3);
  assert.deepEqual(tracker.observe('a', FAIL), {
    type: 'health',
    id: 'a',
    verdict: 'failing',
    consecutiveFailures: 1,
    reason: '500',
    latencyMs: 4,
  });
  assert.deepEqual(tracker.observe('a', OK), {
    type: 'health',
    id: 'a',
    verdict: 'ok',
    consecutiveFailures: 0,
    reason: '200',
    latencyMs: 3,
  });
});

test('liveness answers for a replica that is healthy, or unknown, change nothing', () => {
  const tracker = new HealthTracker(2);
  assert.equal(tracker.observeLiveness('nobody', FAIL), undefined);
  tracker.observe('a', OK);
  for (let i = 0; i < 3; i++)
    assert.equal(tracker.observeLiveness('a', FAIL), undefined, `late liveness failure ${i + 1}`);
  assert.equal(tracker.observe('a', OK), undefined, 'still ok: nothing to say');
});

test('a forgotten replica starts over: its failures are not carried', () => {
  const tracker = new HealthTracker(3);
  tracker.observe('a', FAIL);
  tracker.observe('a', FAIL);
  tracker.forget('a');
  assert.equal(tracker.observe('a', FAIL)?.consecutiveFailures, 1);
});

test('at the threshold while alive: unready with its cause, slow when the checks timed out', () => {
  const tracker = new HealthTracker(2);
  tracker.observe('a', FAIL);
  assert.deepEqual(tracker.observe('a', { ...FAIL, timedOut: true }), {
    type: 'health',
    id: 'a',
    verdict: 'unready',
    consecutiveFailures: 2,
    reason: '500',
    latencyMs: 4,
    cause: 'slow',
  });
});
