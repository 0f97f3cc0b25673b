// The dashboard's history (supervisor/telemetry/history.ts): samples from the change of running totals,
// percentiles from histogram buckets, a ring that keeps an hour and no more, scaling events kept
// for the same span.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { LATENCY_BOUNDS, latencyBucket } from '../../supervisor/balancer/traffic.ts';
import {
  HISTORY_SPAN_MS,
  History,
  SAMPLE_MS,
  quantileMs,
  type ServiceTotals,
} from '../../supervisor/telemetry/history.ts';

const empty = () => LATENCY_BOUNDS.map(() => 0).concat(0);

function totals(requests: number, latencies: number[], extra: Partial<ServiceTotals> = {}): ServiceTotals {
  const buckets = empty();
  for (const s of latencies) buckets[latencyBucket(s)]! += 1;
  return { requests, errors: 0, buckets, ready: 1, desired: 1, ...extra };
}

describe('history', () => {
  const quantiles: [string, number[], number, number | null][] = [
    ['no requests → null', [], 0.5, null],
    ['all in the 1–2.5 ms bucket, p50 → its middle', [0, 0, 10], 0.5, 1.75],
    ['p99 of 99 fast and 1 slow → inside the fast bucket', [99, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1], 0.99, 0.5],
    ['only beyond the last bound → the last bound', [...empty().slice(0, -1), 4], 0.5, 10_000],
  ];
  for (const [name, buckets, q, expected] of quantiles) {
    test(`quantile: ${name}`, () => {
      const padded = buckets.concat(empty()).slice(0, LATENCY_BOUNDS.length + 1);
      const got = quantileMs(padded, q);
      if (expected === null) assert.equal(got, null);
      else assert.ok(got !== null && Math.abs(got - expected) < 1e-9, `${got} ≠ ${expected}`);
    });
  }

  test('a sample is the change since the last tick: rps, percentiles, errors, replicas', () => {
    const h = new History();
    const t0 = 1_000_000;
    const first = h.record(t0, { acts: totals(100, [0.001, 0.001]) });
    assert.equal(first.acts!.rps, 0, 'the first tick has nothing to compare with');
    const second = h.record(t0 + 5000, {
      acts: totals(150, [0.001, 0.001, ...Array(50).fill(0.02)], { errors: 3, ready: 2, desired: 3 }),
    });
    assert.equal(second.acts!.rps, 10);
    assert.ok(second.acts!.p50! > 10 && second.acts!.p50! <= 25, String(second.acts!.p50));
    assert.equal(second.acts!.errors, 3);
    assert.deepEqual([second.acts!.ready, second.acts!.desired], [2, 3]);
    const body = h.body(t0 + 5000);
    assert.equal(body.sampleMs, SAMPLE_MS);
    assert.deepEqual(
      body.services.acts!.map((s) => s.t),
      [t0, t0 + 5000],
    );
  });

  test('the ring keeps an hour: older samples are dropped, order stays oldest first', () => {
    const h = new History();
    const n = HISTORY_SPAN_MS / SAMPLE_MS;
    for (let i = 0; i < n + 10; i++) h.record(i * SAMPLE_MS, { acts: totals(i, []) });
    const samples = h.body(0).services.acts!;
    assert.equal(samples.length, n);
    assert.equal(samples[0]!.t, 10 * SAMPLE_MS);
    assert.equal(samples.at(-1)!.t, (n + 9) * SAMPLE_MS);
  });

  test('scaling events are kept for the span, other events not at all', () => {
    const h = new History();
    const at = (ms: number) => new Date(ms).toISOString();
    h.noteEvent({ type: 'scaled', service: 'acts', reason: '1 → 2', from: 1, to: 2, seq: 1, time: at(0) });
    h.noteEvent({ type: 'replica.ready', service: 'acts', reason: 'ok', seq: 2, time: at(1000) });
    h.noteEvent({
      type: 'scaled',
      service: 'acts',
      reason: '2 → 1',
      from: 2,
      to: 1,
      seq: 3,
      time: at(HISTORY_SPAN_MS / 2),
    });
    assert.deepEqual(
      h.body(HISTORY_SPAN_MS - 1).scaled.map((e) => e.seq),
      [1, 3],
    );
    assert.deepEqual(
      h.body(HISTORY_SPAN_MS + 1).scaled.map((e) => e.seq),
      [3],
    );
  });
});
