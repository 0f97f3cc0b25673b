// Keep-alive HTTP/1.1 connections to one replica, over raw sockets, one request at a time per
// connection (no pipelining). Responses are read by the pool's reader (upstream-reader.ts:
// Node's llhttp reading the socket in C++, or our own parser) and handed to the exchange as
// head, body pieces and end; after each read the exchange is told to flush, so one upstream read
// becomes one write to the client.
//
// Bounded: at most `maxConnections` sockets, at most `maxQueued` requests waiting for one (the
// caller answers 503 beyond that), and every wait has a deadline, checked by sweep(): connect,
// first response byte, and gaps in the response (not counting time paused for a slow client).
import net from 'node:net';
import type { HeadVerdict } from './response-parser.ts';
import { ownReader, type ReaderEvents, type ReaderFactory, type UpstreamReader } from './upstream-reader.ts';

/**
 * 'refused': the connection was never made, nothing reached the replica. 'reset': it broke (or
 * the replica sent garbage) before a response head. 'timeout': no response in time. 'cut': the
 * response had begun and did not finish. 'overloaded': no connection came free in time.
 */
export type UpstreamFailure = 'refused' | 'reset' | 'timeout' | 'cut' | 'overloaded';

export interface RequestBody {
  /** Writes the body into the connection as it arrives; calls `conn.bodyDone()` at its end. */
  pipeTo(conn: UpstreamConnection): void;
  /** The connection is gone or answered early: write nothing more to it. */
  detach(): void;
}

export interface UpstreamExchange {
  readonly method: string;
  /** The whole request head, latin1, ending in an empty line. */
  readonly head: string;
  readonly body: RequestBody | null;
  /** Set by the pool while on a connection. */
  conn: UpstreamConnection | null;
  /** The client left while this waited for a connection: it is skipped. */
  cancelled: boolean;
  /** This attempt's own deadline for the response head (a safe request's); 0: the pool's. */
  readonly headTimeoutMs: number;
  onHead(status: number, reason: string, headers: string[]): void;
  onBody(chunk: Buffer): void;
  onEnd(): void;
  /** Called after every upstream read that fed this exchange. */
  flush(): void;
  onError(failure: UpstreamFailure, reason: string): void;
}

export interface PoolOptions {
  maxConnections: number;
  maxQueued: number;
  /** Idle keep-alive sockets close after this: below the replicas' own keep-alive timeout. */
  idleTimeoutMs: number;
  connectTimeoutMs: number;
  /** Longest wait for the response head, and longest silence within a response; 0: none. */
  responseTimeoutMs: number;
  maxHeaderBytes: number;
  /** How responses are read (upstream-reader.ts's chooseReader); our own parser when not given. */
  reader?: ReaderFactory;
}

interface Waiting {
  ex: UpstreamExchange;
  since: number;
}

/**
 * The pools' notion of now, shared by a balancer's pools and refreshed by each dispatch and
 * sweep, so that a read costs no clock call. One per balancer: no state at module level.
 */
export class PoolClock {
  now = Date.now();

  tick(now: number): number {
    this.now = now;
    return now;
  }
}

export class UpstreamPool {
  readonly host: string;
  readonly port: number;
  readonly options: PoolOptions;
  readonly clock: PoolClock;
  readonly #idle: UpstreamConnection[] = [];
  readonly #all = new Set<UpstreamConnection>();
  #waiting: Waiting[] = [];
  #waitingHead = 0;
  #closed = false;

  /** `clock`: shared by the balancer's pools (one is made when the pool stands alone). */
  constructor(host: string, port: number, options: PoolOptions, clock = new PoolClock()) {
    this.host = host;
    this.port = port;
    this.options = options;
    this.clock = clock;
  }

  get connections(): number {
    return this.#all.size;
  }

  get queued(): number {
    return this.#waiting.length - this.#waitingHead;
  }

  /** Starts or queues the exchange; false when the queue is full (nothing was done). */
  dispatch(ex: UpstreamExchange, now: number): boolean {
    this.clock.tick(now); // a connection opened below dates its connect deadline from now, not the last sweep
    if (this.#closed) {
      ex.onError('refused', 'the replica left the rotation');
      return true;
    }
    const idle = this.#idle.pop();
    if (idle !== undefined) {
      idle.start(ex, now);
      return true;
    }
    if (this.#all.size < this.options.maxConnections) {
      this.#open().start(ex, now);
      return true;
    }
    if (this.queued >= this.options.maxQueued) return false;
    this.#waiting.push({ ex, since: now });
    return true;
  }

  #open(): UpstreamConnection {
    const conn = new UpstreamConnection(this);
    this.#all.add(conn);
    return conn;
  }

  #nextWaiting(): UpstreamExchange | undefined {
    while (this.#waitingHead < this.#waiting.length) {
      const { ex } = this.#waiting[this.#waitingHead]!;
      this.#waitingHead++;
      if (this.#waitingHead === this.#waiting.length) {
        this.#waiting = [];
        this.#waitingHead = 0;
      }
      if (!ex.cancelled) return ex;
    }
    return undefined;
  }

  /** A connection finished a response and can take another request. */
  release(conn: UpstreamConnection, now: number): void {
    const ex = this.#nextWaiting();
    if (ex !== undefined) return conn.start(ex, now);
    if (this.#closed) return conn.destroy();
    conn.idleSince = now;
    this.#idle.push(conn);
  }

  /** A connection closed: forget it, and open another for a waiting request. */
  forget(conn: UpstreamConnection, now: number): void {
    this.#all.delete(conn);
    const at = this.#idle.indexOf(conn);
    if (at !== -1) this.#idle.splice(at, 1);
    if (this.#closed || this.#all.size >= this.options.maxConnections) return;
    const ex = this.#nextWaiting();
    if (ex !== undefined) this.#open().start(ex, now);
  }

  /** Deadlines: idle sockets, stuck connects and responses, requests queued too long. */
  sweep(now: number): void {
    const { idleTimeoutMs, connectTimeoutMs, responseTimeoutMs } = this.options;
    while (this.#idle.length > 0 && now - this.#idle[0]!.idleSince > idleTimeoutMs) this.#idle.shift()!.destroy();
    for (const conn of this.#all) conn.checkDeadlines(now, connectTimeoutMs, responseTimeoutMs);
    const limit = responseTimeoutMs || connectTimeoutMs * 4;
    while (this.#waitingHead < this.#waiting.length && now - this.#waiting[this.#waitingHead]!.since > limit) {
      const { ex } = this.#waiting[this.#waitingHead]!;
      this.#waitingHead++;
      if (!ex.cancelled) ex.onError('overloaded', `no connection to the replica came free within ${limit} ms`);
    }
  }

  /** No new connections; idle ones close now, busy ones after their response. */
  close(): void {
    this.#closed = true;
    for (const conn of this.#idle.splice(0)) conn.destroy();
    for (let ex = this.#nextWaiting(); ex !== undefined; ex = this.#nextWaiting())
      ex.onError('refused', 'the replica left the rotation');
  }

  /** Everything closes now; exchanges in progress fail. */
  destroy(): void {
    this.close();
    for (const conn of [...this.#all]) conn.destroy();
  }
}

/**
 * Where a connection is. `connecting`: the socket is not connected yet (the request may already
 * be written into it); `awaiting-head`: a request is out, no final head yet (1xx heads pass);
 * `reading-body`: the final head came; `finished`: the response is complete, the connection not
 * yet given back or closed; `idle`: in the pool, free; `closed`: gone for good.
 */
export type ConnectionState = 'connecting' | 'awaiting-head' | 'reading-body' | 'finished' | 'idle' | 'closed';

/** Every move a connection makes, in one place; any other is a bug, and throws. */
export const CONNECTION_MOVES: Readonly<Record<ConnectionState, readonly ConnectionState[]>> = {
  connecting: ['awaiting-head', 'closed'],
  'awaiting-head': ['reading-body', 'closed'],
  'reading-body': ['finished', 'closed'],
  finished: ['idle', 'awaiting-head', 'closed'],
  idle: ['awaiting-head', 'closed'],
  closed: [],
};

export class UpstreamConnection implements ReaderEvents {
  readonly pool: UpstreamPool;
  readonly socket: net.Socket;
  readonly #reader: UpstreamReader;
  state: ConnectionState = 'connecting';
  ex: UpstreamExchange | null = null;
  /** The exchange the current read fed (flushed after the read even if it ended in it). */
  fed: UpstreamExchange | null = null;
  keepAlive = false;
  /** A 1xx head came: its end is not the response's. */
  informational = false;
  /** The request body has been written whole. */
  bodyComplete = true;
  /** The replica sent what nobody asked for: the read fails. */
  broken = false;
  paused = false;
  completed = 0;
  createdAt: number;
  startedAt = 0;
  lastReadAt = 0;
  idleSince = 0;

  constructor(pool: UpstreamPool) {
    this.pool = pool;
    this.createdAt = pool.clock.now;
    const socket = net.connect({ host: pool.host, port: pool.port, noDelay: true });
    this.socket = socket;
    const reader = (pool.options.reader ?? ownReader)(this, pool.options.maxHeaderBytes);
    this.#reader = reader;
    socket.once('connect', () => {
      if (this.ex === null) return this.destroy(); // its request was taken back meanwhile
      this.#to('awaiting-head');
      reader.start(socket);
      this.ex.body?.pipeTo(this);
    });
    socket.on('error', (err: NodeJS.ErrnoException) => this.#gone(err.code ?? err.message));
    // Closed by the replica before its response: a reset, whether by FIN or RST.
    socket.on('end', () => this.#gone('ECONNRESET'));
    socket.on('close', () => this.#gone('ECONNRESET'));
  }

  #to(next: ConnectionState): void {
    if (!CONNECTION_MOVES[this.state].includes(next))
      throw new Error(`upstream connection: ${this.state} → ${next} is not a move it makes`);
    this.state = next;
  }

  get now(): number {
    return this.pool.clock.now;
  }

  // ---- the reader's events ------------------------------------------------------------------

  onHeadersComplete(status: number, reason: string, headers: string[], keepAlive: boolean): HeadVerdict {
    const ex = this.ex;
    if (ex === null || status === 101 || this.state !== 'awaiting-head') {
      this.broken = true; // a response nobody asked for, or a protocol switch we never offered
      return -1;
    }
    if (status < 200) {
      this.informational = true; // 100 Continue, 103 Early Hints: the final response follows
      return 0;
    }
    this.#to('reading-body');
    this.keepAlive = keepAlive;
    this.fed = ex;
    ex.onHead(status, reason, headers);
    return ex.method === 'HEAD' ? 1 : 0; // 1: this response has no body
  }

  onBody(chunk: Buffer): void {
    this.lastReadAt = this.pool.clock.now;
    this.ex?.onBody(chunk);
  }

  onMessageComplete(): void {
    if (this.informational) {
      this.informational = false;
      return;
    }
    const ex = this.ex;
    if (ex === null) return;
    this.#to('finished');
    this.ex = null;
    ex.conn = null;
    this.completed++;
    if (!this.bodyComplete) ex.body?.detach(); // answered before the body was all sent
    ex.onEnd();
  }

  start(ex: UpstreamExchange, now: number): void {
    this.ex = ex;
    this.fed = null;
    ex.conn = this;
    this.startedAt = this.pool.clock.tick(now);
    this.lastReadAt = now;
    this.bodyComplete = ex.body === null;
    this.socket.write(ex.head, 'latin1');
    // The body only once connected: if the connection is refused, the exchange still holds
    // every byte of it and can send it to another replica.
    if (this.state === 'connecting') return;
    this.#to('awaiting-head');
    ex.body?.pipeTo(this);
  }

  write(chunk: Buffer | string): boolean {
    return this.state === 'closed' ? true : this.socket.write(chunk, 'latin1');
  }

  /** The request body has been written completely. */
  bodyDone(): void {
    this.bodyComplete = true;
    this.lastReadAt = this.pool.clock.now; // the replica's time to answer starts now
  }

  /** Flow control from the client side: stop reading the replica while the client is full. */
  pause(): void {
    this.paused = true;
    this.#reader.pause();
  }

  resume(): void {
    this.paused = false;
    this.lastReadAt = this.pool.clock.now;
    this.#reader.resume();
  }

  afterRead(result: number | Error): void {
    const fed = this.fed;
    if (fed !== null) {
      if (this.ex === null) this.fed = null;
      fed.flush();
    }
    if (result instanceof Error || this.broken) {
      this.#fail(
        this.state === 'reading-body' ? 'cut' : 'reset',
        result instanceof Error
          ? `malformed response from the replica (${(result as { code?: string }).code ?? result.message})`
          : 'unexpected data from the replica',
      );
      return;
    }
    if (this.state !== 'finished') return;
    // Given back only when the reply allows it and the replica had the whole request.
    if (this.keepAlive && this.bodyComplete) {
      this.#to('idle');
      this.pool.release(this, this.pool.clock.now);
    } else this.destroy();
  }

  checkDeadlines(now: number, connectTimeoutMs: number, responseTimeoutMs: number): void {
    this.pool.clock.tick(now);
    if (this.ex === null) return;
    if (this.state === 'connecting') {
      if (now - this.createdAt > connectTimeoutMs) this.#fail('refused', `no connection within ${connectTimeoutMs} ms`);
      return;
    }
    // A slow client's body or a slow reader is the client side's business (its own timeouts).
    if (responseTimeoutMs === 0 || this.paused || !this.bodyComplete) return;
    const waiting = this.state === 'awaiting-head';
    const own = this.ex.headTimeoutMs;
    const limit = waiting && own > 0 && own < responseTimeoutMs ? own : responseTimeoutMs;
    if (now - this.lastReadAt > limit) {
      this.#fail(waiting ? 'timeout' : 'cut', `the replica sent nothing for ${limit} ms`);
    }
  }

  /** Drops the connection; an exchange on it hears nothing more (the caller took care of it). */
  abort(): void {
    const ex = this.ex;
    this.ex = null;
    this.fed = null;
    if (ex !== null) ex.conn = null;
    this.destroy();
  }

  destroy(): void {
    this.socket.destroy();
    this.#gone('closed by the balancer');
  }

  #fail(failure: UpstreamFailure, reason: string): void {
    const ex = this.ex;
    this.ex = null;
    this.fed = null;
    this.destroy();
    if (ex !== null) {
      ex.conn = null;
      ex.body?.detach();
      ex.onError(failure, reason);
    }
  }

  #gone(reason: string): void {
    if (this.state === 'closed') return;
    const was = this.state;
    this.socket.destroy();
    const ex = this.ex;
    // A response delimited by the end of the connection is complete now (the reader decides):
    // it moves to finished, then on to closed below.
    if (ex !== null && was === 'reading-body') {
      const finished = this.#reader.finish();
      if (finished === undefined && this.ex === null) ex.flush();
    }
    this.#to('closed');
    this.#reader.close();
    this.pool.forget(this, this.pool.clock.now);
    if (this.ex !== null) {
      const failed = this.ex;
      this.ex = null;
      this.fed = null;
      failed.conn = null;
      failed.body?.detach();
      failed.onError(was === 'connecting' ? 'refused' : was === 'reading-body' ? 'cut' : 'reset', reason);
    }
  }
}
