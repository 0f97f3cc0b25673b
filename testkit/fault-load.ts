// Load for fault experiments: a few keep-alive clients reading and some writing through the
// balancer, each paced (a client does one request at a time, then a short pause), bounded in
// time and count. Every request is recorded: when it started, how long it took, its status (or
// the error), so a fault's window can be cut out afterwards: failed requests, the longest wait,
// and the writes the service acknowledged (to compare with what the database holds).
import { setTimeout as sleep } from 'node:timers/promises';
import { Client } from 'undici';

export interface LoadRequest {
  method: 'GET' | 'POST';
  path: string;
  body?: string;
  /** Kept with the record: what a write stored (an act id). */
  key?: string;
}

export interface LoadRecord {
  kind: 'read' | 'write';
  method: string;
  key?: string;
  /** Epoch ms. */
  at: number;
  ms: number;
  /** 0 when no response came (the error says why). */
  status: number;
  error?: string;
}

export interface LoadOptions {
  /** The balancer's origin, e.g. http://127.0.0.1:3000. */
  origin: string;
  readers: number;
  writers: number;
  read: (client: number, i: number) => LoadRequest;
  write: (client: number, i: number) => LoadRequest;
  /** Pause after each request, per client. */
  pauseMs: number;
  /** Whatever happens, each client stops after this long or this many requests. */
  maxMs?: number;
  maxRequests?: number;
  /** Statuses that count as success (default: 2xx). */
  ok?: (record: LoadRecord) => boolean;
}

export interface LoadFigures {
  reads: number;
  failedReads: number;
  writes: number;
  failedWrites: number;
  /** The longest a read waited for its answer, ms. */
  longestReadMs: number;
  longestWriteMs: number;
  /** Statuses or errors of the failed requests, with how many of each. */
  failures: Record<string, number>;
}

const isOk = (r: LoadRecord) => r.status >= 200 && r.status < 300;

export class FaultLoad {
  readonly records: LoadRecord[] = [];
  readonly #o: LoadOptions;
  readonly #clients: Client[] = [];
  #running: Promise<void>[] = [];
  #stopped = false;

  constructor(options: LoadOptions) {
    this.#o = options;
  }

  start(): void {
    const { readers, writers } = this.#o;
    for (let c = 0; c < readers + writers; c++) {
      // One connection per client, kept alive: the way a browser or an app talks to the site.
      const client = new Client(this.#o.origin, {
        pipelining: 1,
        headersTimeout: 120_000,
        bodyTimeout: 120_000,
        keepAliveTimeout: 10_000,
      });
      this.#clients.push(client);
      this.#running.push(this.#loop(client, c < readers ? 'read' : 'write', c));
    }
  }

  async #loop(client: Client, kind: 'read' | 'write', index: number): Promise<void> {
    const { maxMs = 180_000, maxRequests = 20_000, pauseMs } = this.#o;
    const until = Date.now() + maxMs;
    for (let i = 0; i < maxRequests && !this.#stopped && Date.now() < until; i++) {
      const req = kind === 'read' ? this.#o.read(index, i) : this.#o.write(index, i);
      const at = Date.now();
      const started = performance.now();
      const record: LoadRecord = {
        kind,
        method: req.method,
        at,
        ms: 0,
        status: 0,
        ...(req.key !== undefined ? { key: req.key } : {}),
      };
      try {
        const res = await client.request({
          method: req.method,
          path: req.path,
          headers: req.body !== undefined ? { 'content-type': 'application/json' } : {},
          ...(req.body !== undefined ? { body: req.body } : {}),
        });
        await res.body.dump();
        record.status = res.statusCode;
      } catch (err) {
        record.error = (err as { code?: string }).code ?? (err as Error).message;
      }
      record.ms = performance.now() - started;
      this.records.push(record);
      if (pauseMs > 0) await sleep(pauseMs);
    }
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    await Promise.all(this.#running);
    await Promise.all(this.#clients.map((c) => c.close().catch(() => c.destroy())));
  }

  /** Figures of the requests that started in [from, to) (epoch ms). */
  figures(from = 0, to = Infinity): LoadFigures {
    const ok = this.#o.ok ?? isOk;
    const within = this.records.filter((r) => r.at >= from && r.at < to);
    const reads = within.filter((r) => r.kind === 'read');
    const writes = within.filter((r) => r.kind === 'write');
    const failures: Record<string, number> = {};
    for (const r of within) {
      if (ok(r)) continue;
      const what = `${r.method} ${r.status === 0 ? r.error : r.status}`;
      failures[what] = (failures[what] ?? 0) + 1;
    }
    return {
      reads: reads.length,
      failedReads: reads.filter((r) => !ok(r)).length,
      writes: writes.length,
      failedWrites: writes.filter((r) => !ok(r)).length,
      longestReadMs: Math.round(Math.max(0, ...reads.map((r) => r.ms))),
      longestWriteMs: Math.round(Math.max(0, ...writes.map((r) => r.ms))),
      failures,
    };
  }

  /** Keys of the writes the service acknowledged (a 2xx came back). */
  acknowledged(): string[] {
    return this.records.filter((r) => r.kind === 'write' && r.key !== undefined && isOk(r)).map((r) => r.key!);
  }
}
