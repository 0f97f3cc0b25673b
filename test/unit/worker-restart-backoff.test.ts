// The wait before a dead worker thread runs again, as docs/architecture.md states it: 100 ms,
// doubling while the thread keeps dying young, at most 5 s, quick again after a good run.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RestartBackoff } from '../../supervisor/workers/host.ts';

test('a worker that dies is started again after 100 ms', () => {
  assert.equal(new RestartBackoff().delayAfter(50), 100);
  assert.equal(new RestartBackoff().delayAfter(60_000), 100);
});

test('a worker that keeps dying young waits twice as long each time, at most 5 s', () => {
  const backoff = new RestartBackoff();
  const delays = Array.from({ length: 9 }, () => backoff.delayAfter(200));
  assert.deepEqual(delays, [100, 200, 400, 800, 1600, 3200, 5000, 5000, 5000]);
});

test('after a run of more than 10 s the next restart is quick again', () => {
  const backoff = new RestartBackoff();
  for (let i = 0; i < 5; i++) backoff.delayAfter(100);
  assert.equal(backoff.delayAfter(10_000), 3200, 'exactly 10 s is not yet a good run');
  assert.equal(backoff.delayAfter(10_001), 100);
  assert.equal(backoff.delayAfter(100), 200);
});
