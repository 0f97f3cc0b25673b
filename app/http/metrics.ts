// GET /metrics of a replica, in the supervisor's names (supervisor/telemetry/metrics.ts), for where no
// supervisor counts at the balancer: on Kubernetes, Prometheus scrapes each pod (the pod is the
// replica there) and the autoscaler's request rate comes from these (docs/operations.md).
// A counter and a histogram per answered request, by prom-client; scrapes are not counted.
import type { RequestHandler } from 'express';
import { Counter, Histogram, Registry } from 'prom-client';

/** The supervisor's latency buckets (balancer/traffic.ts), so the two histograms compare. */
const BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export function replicaMetrics(service: string): { count: RequestHandler; serve: RequestHandler } {
  const registry = new Registry();
  const requests = new Counter({
    name: 'selflessacts_requests_total',
    help: 'Requests this replica answered, by status class ("none": the client left first).',
    labelNames: ['service', 'status'],
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'selflessacts_request_duration_seconds',
    help: 'Time from a request reaching this replica to the end of its answer.',
    labelNames: ['service'],
    buckets: BUCKETS,
    registers: [registry],
  });
  const count: RequestHandler = (_req, res, next) => {
    const started = performance.now();
    res.once('close', () => {
      const status = res.writableFinished ? `${Math.floor(res.statusCode / 100)}xx` : 'none';
      requests.inc({ service, status });
      duration.observe({ service }, (performance.now() - started) / 1000);
    });
    next();
  };
  const serve: RequestHandler = (req, res, next) => {
    if (req.path !== '/metrics') return next();
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res
        .status(405)
        .set('allow', 'GET')
        .json({ error: `method ${req.method} not allowed` });
      return;
    }
    registry
      .metrics()
      .then((text) => res.status(200).type(registry.contentType).set('cache-control', 'no-store').send(text), next);
  };
  return { count, serve };
}
