// One health check over HTTP: GET the URL within the timeout; 2xx is healthy, anything else
// (another status, a refusal, a reset, no answer in time) is not, with the reason in words.
// On node:http, not undici: the heartbeat thread then loads no HTTP client of its own (undici
// cost its isolate about 6 MB for a request a second).
import { Agent, request } from 'node:http';
import type { CheckResult } from './health-tracker.ts';

export type Probe = (url: string, timeoutMs: number) => Promise<CheckResult>;

export function httpProbe(): Probe {
  // Fresh connections would also catch a stuck accept loop, but cost a handshake per check;
  // keep-alive with a short idle time is the cheaper middle.
  const agent = new Agent({ keepAlive: true, keepAliveMsecs: 1000, maxSockets: 2, timeout: 2000 });
  return (url, timeoutMs) =>
    new Promise((resolve) => {
      const started = performance.now();
      const latency = () => Math.round(performance.now() - started);
      let settled = false;
      const done = (result: CheckResult) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(result);
      };
      const req = request(url, { agent, headers: { 'user-agent': 'supervisor-heartbeat' } }, (res) => {
        const status = res.statusCode ?? 0;
        res.on('error', () => undefined);
        res.resume(); // the body is not wanted: read it, so the connection can be reused
        res.once('end', () =>
          done({ ok: status >= 200 && status < 300, reason: `HTTP ${status}`, latencyMs: latency() }),
        );
      });
      const timer = setTimeout(() => {
        done({ ok: false, reason: `no answer within ${timeoutMs} ms`, latencyMs: latency(), timedOut: true });
        req.destroy();
      }, timeoutMs);
      req.once('error', (err: NodeJS.ErrnoException) =>
        done({ ok: false, reason: err.code ?? err.message, latencyMs: latency() }),
      );
      req.end();
    });
}
