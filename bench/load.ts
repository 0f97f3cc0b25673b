// The load generator every throughput benchmark uses: `total` GETs over `concurrency` keep-alive
// connections to one origin on 127.0.0.1, stopping early at `maxMs`. Superseded by bench/wrk.ts
// (a C load generator: this one used more CPU than the proxy it measured); kept until
// bench/proxy-vs-nginx.ts moves onto wrk.
import { Pool } from 'undici';
import { percentile } from './stats.ts';

export interface LoadFigures {
  rps: number;
  p50: number;
  p99: number;
  done: number;
  errors: number;
}

export interface LoadOptions {
  total: number;
  concurrency: number;
  maxMs: number;
}

export async function load(origin: string, path: string, o: LoadOptions): Promise<LoadFigures> {
  const pool = new Pool(origin, { connections: o.concurrency });
  const latencies: number[] = [];
  let issued = 0;
  let errors = 0;
  const started = performance.now();
  const worker = async () => {
    while (issued < o.total && performance.now() - started < o.maxMs) {
      issued += 1;
      const t0 = performance.now();
      try {
        const res = await pool.request({ method: 'GET', path });
        await res.body.dump();
        if (res.statusCode !== 200) errors += 1;
      } catch {
        errors += 1;
      }
      latencies.push(performance.now() - t0);
    }
  };
  await Promise.all(Array.from({ length: o.concurrency }, worker));
  const elapsed = (performance.now() - started) / 1000;
  await pool.close();
  latencies.sort((a, b) => a - b);
  // Error replies are not throughput.
  return { rps: (latencies.length - errors) / elapsed, p50: percentile(latencies, 0.5), p99: percentile(latencies, 0.99), done: latencies.length, errors };
}

/** One aligned line of figures. */
export function row(name: string, f: LoadFigures): string {
  return `${name.padEnd(24)} ${f.rps.toFixed(0).padStart(7)} req/s   p50 ${f.p50.toFixed(2).padStart(6)} ms   p99 ${f.p99.toFixed(2).padStart(6)} ms   (${f.done} requests, ${f.errors} errors)`;
}

/** "throughput 0.85x, p50 latency 1.20x, p99 latency 1.10x" of `a` against `b`. */
export function ratios(a: LoadFigures, b: LoadFigures): string {
  return `throughput ${(a.rps / b.rps).toFixed(2)}x, p50 latency ${(a.p50 / b.p50).toFixed(2)}x, p99 latency ${(a.p99 / b.p99).toFixed(2)}x`;
}
