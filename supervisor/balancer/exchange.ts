// One proxied request, from the client's request to the end of the replica's response: the
// body (kept whole in memory when small, so a slow client holds no replica connection;
// streamed otherwise), the attempts (a strategy picks, a pool sends, a failure may retry), and
// the response written to the client as it arrives, paced by the client (backpressure).
// Deadlines are checked by the balancer's sweep, not by a timer per request.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { sendJson } from '../static.ts';
import { downstreamHeaders, upstreamHead } from './headers.ts';
import { afterFailure, outcomeOf } from './retry.ts';
import type { Backend, ReplicaMember } from './service-route.ts';
import type { BalancerLimits } from './settings.ts';
import type { AttemptOutcome } from './strategy.ts';
import type { Linked } from './tracked.ts';
import type { RequestBody, UpstreamConnection, UpstreamExchange, UpstreamFailure } from './upstream.ts';

/** What an exchange needs from the balancer thread that runs it. */
export interface ExchangeHost {
  readonly limits: BalancerLimits;
  now(): number;
  /** Takes bytes from the thread's budget for kept request bodies; false when it is spent. */
  reserveBody(bytes: number): boolean;
  releaseBody(bytes: number): void;
  /** The exchange is in progress (its deadlines are checked) / is over. */
  track(ex: ProxyExchange): void;
  untrack(ex: ProxyExchange): void;
  /** An attempt on `member` ended: the strategy hears the outcome first. */
  attemptEnded(backend: Backend, member: ReplicaMember, outcome: AttemptOutcome, reason: string): void;
}

export interface ClientInfo {
  address: string;
  proto: 'http' | 'https';
}

type BodyMode = 'none' | 'keep' | 'stream';

/** Content-Length as a number, -1 for chunked, 0 for none (Node's parser already refused conflicts). */
function declaredLength(raw: readonly string[]): number {
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    if (name.length === 14 && name.toLowerCase() === 'content-length') return Number(raw[i + 1]);
    if (name.length === 17 && name.toLowerCase() === 'transfer-encoding') return -1;
  }
  return 0;
}

const noop = () => {};

export class ProxyExchange implements UpstreamExchange, RequestBody, Linked<ProxyExchange> {
  readonly method: string;
  prevTracked: ProxyExchange | null = null;
  nextTracked: ProxyExchange | null = null;
  head = '';
  body: RequestBody | null = null;
  conn: UpstreamConnection | null = null;
  cancelled = false;

  readonly #host: ExchangeHost;
  readonly #route: Backend;
  readonly #req: IncomingMessage;
  readonly #res: ServerResponse;
  readonly #target: string;
  readonly client: ClientInfo;
  #member: ReplicaMember | null = null;
  #tried: ReplicaMember[] | undefined;
  #done = false;

  // request body
  #mode: BodyMode = 'none';
  #chunked = false;
  #declared = 0;
  #receiving = false;
  #lastBodyAt = 0;
  #kept: Buffer[] = [];
  #keptBytes = 0;
  #reserved = 0;
  #bodyConn: UpstreamConnection | null = null;
  #sentBody = false;

  // response
  #pieces: Buffer[] = [];
  #ended = false;
  #broken = false;
  #pausedSince = 0;

  readonly #onClose = () => this.#clientGone();
  // Made when first needed: most requests have no body and are never paced.
  #onData: ((chunk: Buffer) => void) | undefined;
  #onUpstreamDrain: (() => void) | undefined;
  #onClientDrain: (() => void) | undefined;

  constructor(host: ExchangeHost, route: Backend, req: IncomingMessage, res: ServerResponse, target: string, client: ClientInfo) {
    this.#host = host;
    this.#route = route;
    this.#req = req;
    this.#res = res;
    this.#target = target;
    this.client = client;
    this.method = req.method!;
  }

  get socket(): IncomingMessage['socket'] {
    return this.#req.socket;
  }

  start(): void {
    if (this.#res.destroyed || this.#res.writableEnded) return this.#host.untrack(this); // left while waiting its turn
    this.#res.on('close', this.#onClose);
    this.#host.track(this);
    const length = declaredLength(this.#req.rawHeaders);
    if (length === 0) return this.#ready(null);
    // A body error (bad chunking, the client gone) also closes the response: handled there.
    this.#req.on('error', noop);
    this.#receiving = true;
    this.#lastBodyAt = this.#host.now();
    this.#chunked = length === -1;
    this.#declared = length;
    this.#mode = length > this.#host.limits.bufferBodyBytes ? 'stream' : 'keep';
    this.#onData = (chunk: Buffer) => this.#bodyChunk(chunk);
    this.#req.on('data', this.#onData);
    this.#req.on('end', () => this.#bodyEnd());
    if (this.#mode === 'stream') this.#ready(this.#chunked ? 'chunked' : { length });
  }

  // ---- request body ------------------------------------------------------------------------

  #bodyChunk(chunk: Buffer): void {
    this.#lastBodyAt = this.#host.now();
    if (this.#mode === 'keep') {
      if (this.#keptBytes + chunk.length <= this.#host.limits.bufferBodyBytes && this.#host.reserveBody(chunk.length)) {
        this.#reserved += chunk.length;
        this.#kept.push(chunk);
        this.#keptBytes += chunk.length;
        return;
      }
      // Larger than we keep (or the thread's budget is spent): send what we have and stream on.
      this.#mode = 'stream';
      this.#keep(chunk);
      this.#ready(this.#chunked ? 'chunked' : { length: this.#declared });
      return;
    }
    const conn = this.#bodyConn;
    if (conn === null) {
      if (!this.#done) this.#keep(chunk);
      return;
    }
    if (!this.#writeBody(conn, chunk)) this.#waitForUpstream(conn);
  }

  /** Holds a streamed body's bytes until a connection takes the exchange, pausing the client past the limit. */
  #keep(chunk: Buffer): void {
    this.#kept.push(chunk);
    this.#keptBytes += chunk.length;
    if (this.#keptBytes > this.#host.limits.bufferBodyBytes) this.#req.pause();
  }

  #bodyEnd(): void {
    this.#receiving = false;
    if (this.#mode === 'keep') return this.#ready({ length: this.#keptBytes });
    const conn = this.#bodyConn;
    if (conn !== null) this.#endBody(conn);
  }

  #writeBody(conn: UpstreamConnection, chunk: Buffer): boolean {
    this.#sentBody = true;
    if (!this.#chunked || this.#mode === 'keep') return conn.write(chunk);
    conn.write(`${chunk.length.toString(16)}\r\n`);
    conn.write(chunk);
    return conn.write('\r\n');
  }

  #endBody(conn: UpstreamConnection): void {
    if (this.#chunked && this.#mode === 'stream') conn.write('0\r\n\r\n');
    this.#bodyConn = null;
    conn.bodyDone();
  }

  /** RequestBody: a connection took the exchange. */
  pipeTo(conn: UpstreamConnection): void {
    if (this.#mode === 'keep') {
      for (const chunk of this.#kept) this.#writeBody(conn, chunk);
      conn.bodyDone();
      return;
    }
    this.#bodyConn = conn;
    const pending = this.#kept;
    this.#kept = [];
    this.#keptBytes = 0;
    let ok = true;
    for (const chunk of pending) ok = this.#writeBody(conn, chunk);
    if (!this.#receiving) this.#endBody(conn);
    else if (ok) this.#req.resume();
    else this.#waitForUpstream(conn);
  }

  /** The replica reads slower than the client sends: stop reading the client until it drains. */
  #waitForUpstream(conn: UpstreamConnection): void {
    this.#req.pause();
    conn.socket.once('drain', (this.#onUpstreamDrain ??= () => this.#req.resume()));
  }

  /** RequestBody: stop writing to the connection (it broke, or answered early). */
  detach(): void {
    this.#bodyConn = null;
    if (this.#receiving) this.#req.resume(); // the rest of the body is read and dropped
  }

  // ---- attempts ----------------------------------------------------------------------------

  #ready(framing: { length: number } | 'chunked' | null): void {
    if (this.#done) return;
    if (framing !== null) this.body = this;
    const socket = this.#req.socket;
    const head = upstreamHead(this.method, this.#target, this.#req.rawHeaders, {
      address: this.client.address,
      proto: this.client.proto,
      // Only HTTP/1.0 requests may come without a Host: asking the socket costs a system call.
      defaultHost: () => `${socket.localAddress ?? 'localhost'}:${socket.localPort ?? 80}`,
    }, framing);
    this.head = head;
    this.#dispatch();
  }

  #dispatch(): void {
    const route = this.#route;
    const member = route.acquire(this.#tried);
    if (member === undefined) {
      if (this.#tried === undefined) return this.#answer(503, `no ready replica of ${route.name}`, true);
      return this.#answer(502, `no replica of ${route.name} could be reached`, true);
    }
    this.#member = member;
    (this.#tried ??= []).push(member);
    if (!member.pool.dispatch(this, this.#host.now())) this.onError('overloaded', `${this.#host.limits.maxQueuedPerReplica} requests already wait for the replica`);
  }

  /** Whether the body could be sent again from its start. */
  get #replayable(): boolean {
    return this.#mode !== 'stream' || !this.#sentBody;
  }

  onError(failure: UpstreamFailure, reason: string): void {
    const member = this.#member;
    this.#member = null;
    if (member !== null) this.#host.attemptEnded(this.#route, member, outcomeOf(failure), reason);
    if (this.#done) return;
    this.#pieces = [];
    this.#ended = false;
    const step = afterFailure(failure, reason, this.#route.name, {
      method: this.method,
      replayable: this.#replayable && !this.#res.headersSent,
      tried: this.#tried?.length ?? 0,
      members: this.#route.readyCount,
    });
    if (step.action === 'retry') return this.#dispatch();
    if (step.action === 'cut' || this.#res.headersSent) return this.#cut();
    this.#answer(step.status, step.error, step.retryAfter);
  }

  // ---- response ----------------------------------------------------------------------------

  onHead(status: number, reason: string, headers: string[]): void {
    if (this.#done) return;
    try {
      this.#res.writeHead(status, reason, downstreamHeaders(headers));
    } catch {
      this.#broken = true; // a head Node will not send: answered at flush, after llhttp returns
    }
  }

  onBody(chunk: Buffer): void {
    if (!this.#done && !this.#broken) this.#pieces.push(chunk);
  }

  onEnd(): void {
    this.#ended = true;
  }

  flush(): void {
    if (this.#done) return;
    const res = this.#res;
    if (this.#broken) {
      this.conn?.abort();
      this.onError('reset', 'the replica sent a response head that cannot be forwarded');
      return;
    }
    const pieces = this.#pieces;
    if (this.#ended) {
      this.#pieces = [];
      this.#finish('ok', 'answered'); // first: ending the response may report its close at once
      if (pieces.length === 0) res.end();
      else if (pieces.length === 1) res.end(pieces[0]);
      else {
        for (let i = 0; i < pieces.length - 1; i++) res.write(pieces[i]);
        res.end(pieces[pieces.length - 1]);
      }
      return;
    }
    if (pieces.length === 0) return;
    this.#pieces = [];
    let ok = true;
    if (pieces.length > 1) res.cork();
    for (const piece of pieces) ok = res.write(piece);
    if (pieces.length > 1) res.uncork();
    const conn = this.conn;
    if (!ok && conn !== null) {
      conn.pause();
      this.#pausedSince = this.#host.now();
      res.once('drain', (this.#onClientDrain ??= () => {
        this.#pausedSince = 0;
        this.conn?.resume();
      }));
    }
  }

  // ---- endings -----------------------------------------------------------------------------

  /** Deadlines, from the balancer's sweep. */
  checkDeadlines(now: number): void {
    const limits = this.#host.limits;
    if (this.#receiving && now - this.#lastBodyAt > limits.bodyIdleTimeoutMs) {
      this.conn?.abort();
      const member = this.#member;
      this.#member = null;
      if (member !== null) this.#host.attemptEnded(this.#route, member, 'cancelled', 'the client stalled its body');
      if (this.#res.headersSent) return this.#cut();
      return this.#answer(408, `no byte of the request body for ${limits.bodyIdleTimeoutMs} ms`, false, true);
    }
    if (this.#pausedSince !== 0 && now - this.#pausedSince > limits.sendTimeoutMs) this.#cut();
  }

  #answer(status: number, error: string, retryAfter = false, close = false): void {
    const res = this.#res;
    this.#finish(null, error);
    if (!res.headersSent && !res.destroyed) {
      const headers: Record<string, string> = {};
      if (retryAfter) headers['retry-after'] = '1';
      if (close) headers.connection = 'close';
      sendJson(res, status, { error }, headers);
    }
  }

  /** The client has part of a response, or will not read it: closing is the only honest end. */
  #cut(): void {
    this.#finish(null, 'cut');
    this.#res.destroy();
  }

  #clientGone(): void {
    if (this.#done) return;
    const conn = this.conn;
    if (conn !== null) conn.abort();
    else this.cancelled = true; // if queued in a pool, it is skipped there
    this.#finish('cancelled', 'the client left');
  }

  #finish(outcome: AttemptOutcome | null, reason: string): void {
    if (this.#done) return;
    this.#done = true;
    const member = this.#member;
    this.#member = null;
    if (member !== null && outcome !== null) this.#host.attemptEnded(this.#route, member, outcome, reason);
    else if (member !== null) this.#host.attemptEnded(this.#route, member, 'cancelled', reason);
    this.#res.off('close', this.#onClose);
    if (this.#receiving && this.#onData) {
      this.#req.off('data', this.#onData);
      this.#req.resume();
    }
    this.#kept = [];
    if (this.#reserved > 0) this.#host.releaseBody(this.#reserved);
    this.#reserved = 0;
    this.#host.untrack(this);
  }
}
