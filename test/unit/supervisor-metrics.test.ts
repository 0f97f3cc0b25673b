// /metrics from given sources (supervisor/telemetry/metrics.ts): the names, types and labels Prometheus
// sees, histogram buckets made cumulative, and counters fed by the event log.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { LATENCY_BOUNDS } from '../../supervisor/balancer/traffic.ts';
import { EventLog } from '../../supervisor/telemetry/events.ts';
import { Metrics, type MetricsSources } from '../../supervisor/telemetry/metrics.ts';
import { parseExposition } from '../../testkit/prometheus.ts';

const buckets = LATENCY_BOUNDS.map(() => 0).concat(0);
buckets[1] = 3; // three answers within 1 ms
buckets[LATENCY_BOUNDS.length] = 1; // one beyond 10 s

const sources: MetricsSources = {
  traffic: () => [
    {
      service: 'acts',
      replicas: [
        { replica: 'acts-8000', byClass: [0, 0, 2, 0, 1, 0], inFlight: 1 },
        { replica: 'acts-8001', byClass: [1, 0, 0, 0, 0, 0], inFlight: 0 },
      ],
      unrouted: [0, 0, 0, 0, 0, 1],
      buckets,
      sumSeconds: 12.5,
      count: 4,
    },
  ],
  replicas: () => [{ service: 'acts', desired: 3, ready: 2, running: 3 }],
  heartbeat: () => [{ service: 'acts', replica: 'acts-8000', seconds: 0.004 }],
  usage: () => [{ service: 'acts', replica: 'acts-8000', cpuSeconds: 1.5, memoryBytes: 64e6 }],
};

describe('metrics exposition', () => {
  test('traffic, replicas and heartbeat from the sources; process metrics; events counted', async () => {
    const events = new EventLog();
    const metrics = new Metrics(sources, events);
    events.emit({ type: 'scaled', service: 'acts', reason: '1 → 3', from: 1, to: 3 });
    events.emit({ type: 'scaled', service: 'acts', reason: '3 → 2', from: 3, to: 2 });
    events.emit({ type: 'replica.failed', service: 'acts', port: 8001, reason: 'x' });
    events.emit({ type: 'replica.replaced', service: 'acts', port: 8001, reason: 'y' });
    events.emit({ type: 'worker.restarted', worker: 'heartbeat', reason: 'z' });
    const x = parseExposition(await metrics.text());
    metrics.close();

    assert.equal(x.types.get('selflessacts_requests_total'), 'counter');
    assert.equal(x.sum('selflessacts_requests_total', { service: 'acts', replica: 'acts-8000', status: '2xx' }), 2);
    assert.equal(x.sum('selflessacts_requests_total', { replica: 'acts-8000', status: '4xx' }), 1);
    assert.equal(x.sum('selflessacts_requests_total', { replica: 'acts-8001', status: 'none' }), 1);
    assert.equal(x.sum('selflessacts_requests_total', { replica: 'none', status: '5xx' }), 1);
    assert.equal(x.find('selflessacts_requests_total').length, 4, 'zero counts are left out');

    assert.equal(x.types.get('selflessacts_request_duration_seconds'), 'histogram');
    const le = (bound: string) => x.sum('selflessacts_request_duration_seconds_bucket', { service: 'acts', le: bound });
    assert.equal(le('0.0005'), 0);
    assert.equal(le('0.001'), 3);
    assert.equal(le('10'), 3, 'cumulative');
    assert.equal(le('+Inf'), 4);
    assert.equal(x.sum('selflessacts_request_duration_seconds_sum', { service: 'acts' }), 12.5);
    assert.equal(x.sum('selflessacts_request_duration_seconds_count', { service: 'acts' }), 4);

    assert.equal(x.sum('selflessacts_requests_in_flight', { replica: 'acts-8000' }), 1);
    assert.equal(x.sum('selflessacts_replicas_desired', { service: 'acts' }), 3);
    assert.equal(x.sum('selflessacts_replicas_ready', { service: 'acts' }), 2);
    assert.equal(x.sum('selflessacts_replicas_running', { service: 'acts' }), 3);
    assert.equal(x.sum('selflessacts_heartbeat_latency_seconds', { replica: 'acts-8000' }), 0.004);
    assert.equal(x.sum('selflessacts_replica_cpu_seconds_total', { service: 'acts', replica: 'acts-8000' }), 1.5);
    assert.equal(x.sum('selflessacts_replica_memory_bytes', { replica: 'acts-8000' }), 64e6);
    assert.equal(x.sum('selflessacts_scaling_decisions_total', { service: 'acts', direction: 'up' }), 1);
    assert.equal(x.sum('selflessacts_scaling_decisions_total', { service: 'acts', direction: 'down' }), 1);
    assert.equal(x.sum('selflessacts_replica_failures_total', { service: 'acts' }), 1);
    assert.equal(x.sum('selflessacts_replica_replacements_total', { service: 'acts' }), 1);
    assert.equal(x.sum('selflessacts_worker_restarts_total', { worker: 'heartbeat' }), 1);

    assert.ok(x.sum('process_cpu_seconds_total') > 0, 'the process CPU');
    assert.ok(x.sum('process_resident_memory_bytes') > 10e6, 'the process memory');
  });

  test('a second scrape reads the sources again: nothing accumulates twice', async () => {
    const metrics = new Metrics(sources, new EventLog());
    await metrics.text();
    const x = parseExposition(await metrics.text());
    metrics.close();
    assert.equal(x.sum('selflessacts_requests_total', { replica: 'acts-8000', status: '2xx' }), 2);
    assert.equal(x.sum('selflessacts_request_duration_seconds_count'), 4);
  });
});
