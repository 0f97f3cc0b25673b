// One health check over HTTP: GET the URL within the timeout; 2xx is healthy, anything else
// (another status, a refusal, a reset, no answer in time) is not, with the reason in words.
import { Agent, request } from 'undici';
import type { CheckResult } from './health-tracker.ts';

export type Probe = (url: string, timeoutMs: number) => Promise<CheckResult>;

export function httpProbe(): Probe {
  // Fresh connections would also catch a stuck accept loop, but cost a handshake per check;
  // keep-alive with a short idle time is the cheaper middle.
  const agent = new Agent({ keepAliveTimeout: 2000, connections: 2 });
  return async (url, timeoutMs) => {
    const started = performance.now();
    const latency = () => Math.round(performance.now() - started);
    try {
      const res = await request(url, {
        dispatcher: agent,
        signal: AbortSignal.timeout(timeoutMs),
        headers: { 'user-agent': 'supervisor-heartbeat' },
      });
      await res.body.dump();
      const ok = res.statusCode >= 200 && res.statusCode < 300;
      return { ok, reason: `HTTP ${res.statusCode}`, latencyMs: latency() };
    } catch (err) {
      const e = err as { name?: string; code?: string; message?: string };
      const timedOut = e.name === 'TimeoutError' || e.name === 'AbortError';
      const reason = timedOut ? `no answer within ${timeoutMs} ms` : (e.code ?? e.message ?? String(err));
      return { ok: false, reason, latencyMs: latency(), ...(timedOut ? { timedOut } : {}) };
    }
  };
}
