// Load across a restart: `clients` closed loops of GETs, each on a new connection (so a request
// fails only if the balancer refused or dropped it, never because a keep-alive connection of the
// old process was reused), every outcome timed. Shared by the socket-activation suites and
// bench/restart.ts.
import http from 'node:http';

export type Outcome = 'ok' | 'refused' | 'reset' | 'timeout' | `status ${number}` | `error ${string}`;

export interface Sample {
  /** Epoch ms when the request was sent. */
  at: number;
  ms: number;
  outcome: Outcome;
}

export interface LoadOptions {
  clients: number;
  /** Per request: a restart must fit in it. */
  timeoutMs: number;
  /** Stops by itself after this many requests, whatever happens (a bound on the loop). */
  maxRequests?: number;
}

function once(url: URL, timeoutMs: number): Promise<Outcome> {
  return new Promise((resolve) => {
    const req = http.get(url, { agent: false, headers: { connection: 'close' }, timeout: timeoutMs }, (res) => {
      res.resume();
      res.on('end', () =>
        resolve(res.statusCode !== undefined && res.statusCode < 300 ? 'ok' : `status ${res.statusCode ?? 0}`),
      );
      res.on('error', () => resolve('reset'));
    });
    req.on('timeout', () => {
      req.destroy();
      resolve('timeout');
    });
    req.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'ECONNREFUSED') resolve('refused');
      else if (err.code === 'ECONNRESET' || err.code === 'EPIPE' || err.message === 'socket hang up') resolve('reset');
      else resolve(`error ${err.code ?? err.message}`);
    });
  });
}

export class RestartLoad {
  readonly samples: Sample[] = [];
  readonly #loops: Promise<void>[];
  #stopped = false;

  constructor(url: string, options: LoadOptions) {
    const target = new URL(url);
    const max = options.maxRequests ?? 1_000_000;
    this.#loops = Array.from({ length: options.clients }, async () => {
      while (!this.#stopped && this.samples.length < max) {
        const at = Date.now();
        const outcome = await once(target, options.timeoutMs);
        this.samples.push({ at, ms: Date.now() - at, outcome });
        // A client that cannot connect at all must not spin.
        if (outcome !== 'ok') await new Promise((r) => setTimeout(r, 10));
      }
    });
  }

  async stop(): Promise<Sample[]> {
    this.#stopped = true;
    await Promise.all(this.#loops);
    return this.samples;
  }
}

export interface RestartFigures {
  requests: number;
  ok: number;
  /** Outcome → count, for every outcome other than ok. */
  failed: Record<string, number>;
  refused: number;
  /** Median and 99th percentile latency of the requests sent before the kill (ms). */
  beforeP50Ms: number;
  beforeP99Ms: number;
  /** The slowest request open at the kill or sent after it: how long a client waited in the backlog (ms). */
  worstAfterKillMs: number;
  /** worstAfterKillMs less the median before: what the restart added to the unluckiest request. */
  addedMs: number;
  /** From the kill until the next answer (ms): how long the site answered nothing. */
  firstAnswerAfterKillMs: number;
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

export function restartFigures(samples: Sample[], killedAt: number): RestartFigures {
  const failed: Record<string, number> = {};
  for (const s of samples) if (s.outcome !== 'ok') failed[s.outcome] = (failed[s.outcome] ?? 0) + 1;
  const before = samples
    .filter((s) => s.at + s.ms < killedAt && s.outcome === 'ok')
    .map((s) => s.ms)
    .sort((a, b) => a - b);
  // Every request still open at the kill, or sent after it: the ones the restart could delay.
  const spanning = samples.filter((s) => s.at + s.ms >= killedAt);
  const p50 = percentile(before, 50);
  const worst = Math.max(0, ...spanning.map((s) => s.ms));
  const firstOk = Math.min(...spanning.filter((s) => s.outcome === 'ok').map((s) => s.at + s.ms));
  return {
    requests: samples.length,
    ok: samples.filter((s) => s.outcome === 'ok').length,
    failed,
    refused: failed.refused ?? 0,
    beforeP50Ms: p50,
    beforeP99Ms: percentile(before, 99),
    worstAfterKillMs: worst,
    addedMs: Math.max(0, worst - p50),
    firstAnswerAfterKillMs: Number.isFinite(firstOk) ? firstOk - killedAt : -1,
  };
}
