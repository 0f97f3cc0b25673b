// One proxied request, from the client's request to the end of the replica's response: the
// body (received whole before a replica is picked: in memory when small, in a file otherwise
// (body-spool.ts), so a slow client holds no replica connection and a replica sees only complete
// bodies), the attempts (a strategy picks, a pool sends, a failure may retry), and the response
// written to the client as it arrives, paced by the client (backpressure). Deadlines are checked
// by the balancer's sweep, not by a timer per request.
import type { ReadStream } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { BrotliCompress, Gzip } from 'node:zlib';
import { sendJson } from '../web/static.ts';
import { encodeWhole, encoderInto, planCompression, type Encoding } from '../web/compression.ts';
import { downstreamHeaders, upstreamHead } from './headers.ts';
import { afterFailure, isSafeMethod, outcomeOf, retryOnStatus, type AttemptContext } from './retry.ts';
import type { SpoolFile } from './body-spool.ts';
import type { Backend, ReplicaMember } from './service-route.ts';
import type { CompressionConfig } from '../web/compression.ts';
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
  /** Takes bytes of the thread's spool (request bodies in files); false when it is full. */
  reserveSpool(bytes: number): boolean;
  releaseSpool(bytes: number): void;
  /** A new file for a request body (throws when it cannot be created). */
  openSpool(): SpoolFile;
  /** An error the balancer survived but the operator should see (a spool file that failed). */
  report(code: string, message: string): void;
  /** The exchange is in progress (its deadlines are checked) / is over. */
  track(ex: ProxyExchange): void;
  untrack(ex: ProxyExchange): void;
  /** An attempt on `member` ended: the strategy hears the outcome first. */
  attemptEnded(backend: Backend, member: ReplicaMember, outcome: AttemptOutcome, reason: string): void;
  /**
   * The exchange is over, for the traffic counts: who answered (a slot, -1 the balancer itself),
   * with what status (0: none, the client left first), `seconds` after the request arrived.
   */
  exchangeEnded(backend: Backend, slot: number, status: number, seconds: number): void;
  /** Response compression, when on. */
  readonly compression: CompressionConfig | undefined;
  /** The Strict-Transport-Security value for responses over TLS, when on. */
  readonly hsts: string | undefined;
}

/** The client's connection: the peer's address, and whether it came over TLS. */
export interface ClientInfo {
  address: string;
  proto: 'http' | 'https';
  /**
   * Responses of this connection whose head is sent and which are not done: while there is one,
   * nothing else may be written into the stream (a malformed next request is not answered).
   */
  responding?: number;
}

/** What the balancer found out about a request before it became an exchange. */
export interface RequestFacts {
  /** Headers to send on, when not the request's own (HTTP/2: pseudo-headers turned into Host). */
  raw?: readonly string[];
  /** Body length: -1 unknown (chunked), 0 none; found from the headers when absent. */
  declared?: number;
  /** The client as a trusted proxy named it, when not the connection's peer. */
  forwarded?: ClientInfo;
  /** The encoding the client accepts, when compression is on. */
  accepted?: Encoding;
}

/** Bodies that arrived in one read up to this size are compressed in one call, with a length. */
const WHOLE_BYTES = 256 * 1024;

/** none: no body; keep: in memory (small); spool: in a file. */
type BodyMode = 'none' | 'keep' | 'spool';

/** A body of unknown length (chunked) takes room in the spool in steps of this. */
const SPOOL_STEP = 1 << 20;

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

/** `headers` with `lower` set to `value`: the replica's own (helmet's, say) replaced, ours being the operator's. */
function withHeader(headers: readonly string[], lower: string, value: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < headers.length; i += 2) {
    const name = headers[i]!;
    if (name.length !== lower.length || name.toLowerCase() !== lower) out.push(name, headers[i + 1]!);
  }
  out.push(lower, value);
  return out;
}

/**
 * Where an exchange is. `waiting`: behind its connection's requests in progress; `receiving`:
 * its body arrives; `stored`: the body is all here, its file being flushed; `attempting`: at a
 * replica (one attempt or several), nothing sent to the client yet; `responding`: the client has
 * the head; `done`: answered, cut, or the client left.
 */
export type ExchangePhase = 'waiting' | 'receiving' | 'stored' | 'attempting' | 'responding' | 'done';

/** Every move an exchange makes, in one place; any other is a bug, and throws. */
export const EXCHANGE_MOVES: Readonly<Record<ExchangePhase, readonly ExchangePhase[]>> = {
  waiting: ['receiving', 'attempting', 'done'],
  receiving: ['stored', 'attempting', 'done'],
  stored: ['attempting', 'done'],
  attempting: ['responding', 'done'],
  responding: ['done'],
  done: [],
};

export class ProxyExchange implements UpstreamExchange, RequestBody, Linked<ProxyExchange> {
  readonly method: string;
  readonly headTimeoutMs: number;
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
  readonly #facts: RequestFacts;
  readonly #h2: boolean;
  #member: ReplicaMember | null = null;
  #tried: ReplicaMember[] | undefined;
  #retriedAfterReaching = 0;
  #phase: ExchangePhase = 'waiting';
  /**
   * For the traffic counts: when the request arrived (performance.now()), the status sent and by
   * whom. The status is also the current attempt's, once its head came (a 5xx counts against it).
   */
  readonly #arrivedAt = performance.now();
  #status = 0;
  #answeredBy = -1;

  // request body
  #mode: BodyMode = 'none';
  #declared = 0;
  #lastBodyAt = 0;
  #startedAt = 0;
  /** Bytes of the body received so far, and where the current rate window began (time, bytes). */
  #received = 0;
  #rateFrom = 0;
  #rateBytes = 0;
  #kept: Buffer[] = [];
  #keptBytes = 0;
  #reserved = 0;
  #spool: SpoolFile | null = null;
  #spoolReserved = 0;
  /** The client is paused while the spool file's buffer drains (our wait, not the client's silence). */
  #diskPaused = false;
  /** The spool file read into the current attempt's connection. */
  #reader: ReadStream | null = null;

  // response
  /** A 5xx head to drop for another replica (acted on at flush, once llhttp has returned). */
  #dropped = 0;
  #pieces: Buffer[] = [];
  #ended = false;
  #broken = false;
  #pausedSince = 0;
  // compressed response: its head waits for the first flush (a length if the body is all there)
  #encoding: Encoding | undefined;
  #head: { status: number; reason: string; headers: string[] } | null = null;
  #whole: Buffer | undefined;
  #encoder: BrotliCompress | Gzip | undefined;

  readonly #onClose = () => this.#clientGone();
  // Made when first needed: most requests have no body and are never paced.
  #onData: ((chunk: Buffer) => void) | undefined;
  #onDrained: (() => void) | undefined;

  constructor(
    host: ExchangeHost,
    route: Backend,
    req: IncomingMessage,
    res: ServerResponse,
    target: string,
    client: ClientInfo,
    facts: RequestFacts = {},
  ) {
    this.#host = host;
    this.#route = route;
    this.#req = req;
    this.#res = res;
    this.#target = target;
    this.client = client;
    this.#facts = facts;
    this.#h2 = req.httpVersionMajor === 2;
    this.method = req.method!;
    // Safe requests can go elsewhere, so their attempts get the short per-attempt deadline.
    this.headTimeoutMs = isSafeMethod(this.method) ? host.limits.upstreamHeaderTimeoutMs : 0;
  }

  get phase(): ExchangePhase {
    return this.#phase;
  }

  #to(next: ExchangePhase): void {
    if (!EXCHANGE_MOVES[this.#phase].includes(next))
      throw new Error(`proxy exchange: ${this.#phase} → ${next} is not a move it makes`);
    this.#phase = next;
  }

  get socket(): IncomingMessage['socket'] {
    return this.#req.socket;
  }

  start(): void {
    if (this.#res.destroyed || this.#res.writableEnded) {
      this.#to('done'); // left while waiting its turn
      return this.#host.untrack(this);
    }
    this.#res.on('close', this.#onClose);
    this.#host.track(this);
    const length = this.#facts.declared ?? declaredLength(this.#req.rawHeaders);
    if (length === 0) return this.#ready(null);
    const limits = this.#host.limits;
    if (length > limits.maxBodyBytes) return this.#tooLarge();
    // A body error (bad chunking, the client gone) also closes the response: handled there.
    this.#req.on('error', noop);
    this.#to('receiving');
    this.#lastBodyAt = this.#startedAt = this.#rateFrom = this.#host.now();
    this.#declared = length;
    this.#mode = length > limits.bufferBodyBytes ? 'spool' : 'keep';
    if (this.#mode === 'spool' && !this.#openSpool(length)) return;
    this.#onData = (chunk: Buffer) => this.#bodyChunk(chunk);
    this.#req.on('data', this.#onData);
    this.#req.on('end', () => this.#bodyEnd());
  }

  // ---- request body ------------------------------------------------------------------------

  #bodyChunk(chunk: Buffer): void {
    if (this.#phase === 'done') return;
    const limits = this.#host.limits;
    this.#lastBodyAt = this.#host.now();
    this.#received += chunk.length;
    if (this.#received > limits.maxBodyBytes) return this.#tooLarge();
    if (this.#mode === 'keep') {
      if (this.#keptBytes + chunk.length <= limits.bufferBodyBytes && this.#host.reserveBody(chunk.length)) {
        this.#reserved += chunk.length;
        this.#kept.push(chunk);
        this.#keptBytes += chunk.length;
        return;
      }
      // Larger than memory keeps (or the thread's budget is spent): on into a file, from its start.
      if (!this.#openSpool(this.#declared > 0 ? this.#declared : this.#received)) return;
      this.#mode = 'spool';
      for (const kept of this.#kept) this.#spool!.write(kept);
      this.#kept = [];
      this.#keptBytes = 0;
      this.#host.releaseBody(this.#reserved);
      this.#reserved = 0;
    } else if (this.#received > this.#spoolReserved) {
      // Chunked: room is taken as the body grows.
      const more = Math.max(SPOOL_STEP, this.#received - this.#spoolReserved);
      if (!this.#host.reserveSpool(more)) return this.#noRoom();
      this.#spoolReserved += more;
    }
    if (!this.#spool!.write(chunk)) {
      this.#diskPaused = true;
      this.#req.pause();
      this.#spool!.drained(() => {
        this.#diskPaused = false;
        // The wait was ours: the client's deadlines start again from now.
        this.#lastBodyAt = this.#rateFrom = this.#host.now();
        this.#rateBytes = this.#received;
        if (this.#phase !== 'done') this.#req.resume();
      });
    }
  }

  /** A file for the body, with room for `bytes` of it; false when answered instead (503). */
  #openSpool(bytes: number): boolean {
    if (!this.#host.reserveSpool(bytes)) {
      this.#noRoom();
      return false;
    }
    this.#spoolReserved = bytes;
    try {
      this.#spool = this.#host.openSpool();
    } catch (err) {
      this.#spoolFailed(err as Error);
      return false;
    }
    this.#spool.onError((err) => this.#spoolFailed(err));
    return true;
  }

  #bodyEnd(): void {
    if (this.#phase !== 'receiving') return;
    if (this.#mode === 'keep') return this.#ready({ length: this.#keptBytes });
    this.#to('stored');
    this.#spool!.finish().then(
      () => this.#ready({ length: this.#received }),
      (err: Error) => this.#spoolFailed(err),
    );
  }

  /** RequestBody: a connection took the exchange; the body is complete, in memory or in its file. */
  pipeTo(conn: UpstreamConnection): void {
    if (this.#mode === 'keep') {
      for (const chunk of this.#kept) conn.write(chunk);
      conn.bodyDone();
      return;
    }
    this.#reader?.destroy();
    const reader = this.#spool!.reader();
    this.#reader = reader;
    reader.on('data', (chunk) => {
      if (conn.write(chunk as Buffer)) return;
      reader.pause();
      conn.socket.once('drain', () => reader.resume());
    });
    reader.once('end', () => {
      if (this.#reader !== reader) return;
      this.#reader = null;
      conn.bodyDone();
    });
    reader.once('error', (err) => {
      if (this.#reader !== reader) return;
      this.conn?.abort();
      this.#spoolFailed(err);
    });
  }

  /** RequestBody: stop writing to the connection (it broke, or answered early). */
  detach(): void {
    this.#reader?.destroy();
    this.#reader = null;
  }

  /** Over maxBodyBytes: 413 at the edge, the rest unread (so the connection closes). */
  #tooLarge(): void {
    this.#answer(413, `the request body is larger than ${this.#host.limits.maxBodyBytes} bytes`, false, true);
  }

  #noRoom(): void {
    this.#answer(503, 'the balancer has no room to buffer this request body right now; try again shortly', true, true);
  }

  #spoolFailed(err: Error): void {
    this.#host.report('BALANCER_SPOOL', `buffering a request body failed: ${err.message}`);
    if (this.#phase === 'done') return;
    if (this.#res.headersSent) return this.#cut();
    this.#answer(503, 'the balancer could not buffer this request body; try again shortly', true, true);
  }

  // ---- attempts ----------------------------------------------------------------------------

  #ready(framing: { length: number } | null): void {
    if (this.#phase === 'done') return;
    this.#to('attempting');
    if (framing !== null) this.body = this;
    const socket = this.#req.socket;
    const from = this.#facts.forwarded ?? this.client;
    const head = upstreamHead(
      this.method,
      this.#target,
      this.#facts.raw ?? this.#req.rawHeaders,
      {
        address: from.address,
        proto: from.proto,
        // Only HTTP/1.0 requests may come without a Host: asking the socket costs a system call.
        defaultHost: () => `${socket.localAddress ?? 'localhost'}:${socket.localPort ?? 80}`,
      },
      framing,
    );
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
    if (!member.pool.dispatch(this, this.#host.now()))
      this.onError('overloaded', `${this.#host.limits.maxQueuedPerReplica} requests already wait for the replica`);
  }

  #attemptContext(): AttemptContext {
    return {
      method: this.method,
      // Every body is whole in memory or in its file: it can always be sent again.
      replayable: !this.#res.headersSent,
      tried: this.#tried?.length ?? 0,
      members: this.#route.readyCount,
      retriedAfterReaching: this.#retriedAfterReaching,
    };
  }

  /** Forgets what the failed attempt sent back. */
  #resetResponse(): void {
    this.#pieces = [];
    this.#ended = false;
    this.#head = null;
    this.#encoding = undefined;
    this.#status = 0;
    this.#dropped = 0;
  }

  onError(failure: UpstreamFailure, reason: string): void {
    const member = this.#member;
    this.#member = null;
    if (member !== null) this.#host.attemptEnded(this.#route, member, outcomeOf(failure), reason);
    if (this.#phase === 'done') return;
    this.#resetResponse();
    const step = afterFailure(failure, reason, this.#route.name, this.#attemptContext());
    if (step.action === 'retry') {
      if (failure !== 'refused' && failure !== 'overloaded') this.#retriedAfterReaching++;
      return this.#dispatch();
    }
    if (step.action === 'cut' || this.#res.headersSent) return this.#cut();
    this.#answer(step.status, step.error, step.retryAfter);
  }

  /** The replica answered a status worth another replica's try: drop its answer and try one. */
  #retryElsewhere(): void {
    const status = this.#dropped;
    this.conn?.abort(); // the rest of that answer is not wanted (none left if it ended: then the connection is reused)
    const member = this.#member;
    this.#member = null;
    if (member !== null) this.#host.attemptEnded(this.#route, member, 'server-error', `answered ${status}`);
    this.#resetResponse();
    this.#retriedAfterReaching++;
    this.#dispatch();
  }

  /** How the attempt that answered ended, for the strategy: a 5xx counts against the replica. */
  get #answered(): AttemptOutcome {
    return this.#status >= 500 ? 'server-error' : 'ok';
  }

  // ---- response ----------------------------------------------------------------------------

  onHead(status: number, reason: string, headers: string[]): void {
    if (this.#phase === 'done') return;
    this.#status = status;
    this.#answeredBy = this.#member?.slot ?? -1;
    if (status >= 500 && retryOnStatus(status, this.#host.limits.retryStatuses, this.#attemptContext())) {
      this.#dropped = status;
      return;
    }
    let list = downstreamHeaders(headers);
    const compression = this.#host.compression;
    if (compression !== undefined) {
      const plan = planCompression(status, this.method, list, this.#facts.accepted, compression);
      if (plan !== undefined) {
        list = plan.headers;
        this.#encoding = plan.encoding;
      }
    }
    const hsts = this.#host.hsts;
    if (hsts !== undefined && this.client.proto === 'https') list = withHeader(list, 'strict-transport-security', hsts);
    if (this.#encoding !== undefined) {
      this.#head = { status, reason, headers: list };
      return;
    }
    this.#writeHead(status, reason, list);
  }

  #writeHead(status: number, reason: string, headers: string[]): void {
    try {
      // HTTP/2 has no reason phrase (Node warns when given one).
      if (this.#h2) this.#res.writeHead(status, headers);
      else this.#res.writeHead(status, reason, headers);
      this.#to('responding');
      this.client.responding = (this.client.responding ?? 0) + 1;
    } catch {
      this.#broken = true; // a head Node will not send: answered at flush, after llhttp returns
    }
  }

  /** The deferred head of a response to compress: with its length when the body is all here. */
  #openEncoded(): void {
    const head = this.#head!;
    this.#head = null;
    let headers = head.headers;
    if (this.#ended) {
      const pieces = this.#pieces;
      const body = pieces.length === 1 ? pieces[0]! : Buffer.concat(pieces);
      if (body.length <= WHOLE_BYTES) {
        this.#pieces = [];
        const whole = encodeWhole(this.#encoding!, body, headers, this.#host.compression!);
        this.#whole = whole.body;
        headers = whole.headers;
      }
    }
    this.#writeHead(head.status, head.reason, headers);
    if (this.#whole === undefined && !this.#broken)
      this.#encoder = encoderInto(this.#res, this.#encoding!, this.#host.compression!);
  }

  /** Upstream pieces into the encoder, paced by it (and so by the client it writes to). */
  #flushEncoded(): void {
    const res = this.#res;
    if (this.#whole !== undefined) {
      const body = this.#whole;
      this.#whole = undefined;
      this.#finish(this.#answered, 'answered');
      res.end(body);
      return;
    }
    const encoder = this.#encoder!;
    const pieces = this.#pieces;
    this.#pieces = [];
    let ok = true;
    for (const piece of pieces) ok = encoder.write(piece);
    if (this.#ended) {
      this.#finish(this.#answered, 'answered');
      encoder.end();
      return;
    }
    if (!ok) this.#pauseUntilDrained(encoder);
  }

  /** The client (or the encoder writing to it) is full: stop reading the replica until it drains. */
  #pauseUntilDrained(sink: NodeJS.EventEmitter): void {
    const conn = this.conn;
    if (conn === null) return;
    conn.pause();
    this.#pausedSince = this.#host.now();
    sink.once(
      'drain',
      (this.#onDrained ??= () => {
        this.#pausedSince = 0;
        this.conn?.resume();
      }),
    );
  }

  onBody(chunk: Buffer): void {
    if (this.#phase !== 'done' && !this.#broken && this.#dropped === 0) this.#pieces.push(chunk);
  }

  onEnd(): void {
    this.#ended = true;
  }

  flush(): void {
    if (this.#phase === 'done') return;
    if (this.#dropped !== 0) return this.#retryElsewhere();
    const res = this.#res;
    if (this.#head !== null) this.#openEncoded();
    if (this.#broken) {
      this.conn?.abort();
      this.onError('reset', 'the replica sent a response head that cannot be forwarded');
      return;
    }
    if (this.#encoding !== undefined) return this.#flushEncoded();
    const pieces = this.#pieces;
    if (this.#ended) {
      this.#pieces = [];
      this.#finish(this.#answered, 'answered'); // first: ending the response may report its close at once
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
    if (!ok) this.#pauseUntilDrained(res);
  }

  // ---- endings -----------------------------------------------------------------------------

  /** Deadlines, from the balancer's sweep. */
  checkDeadlines(now: number): void {
    const limits = this.#host.limits;
    const receiving = this.#phase === 'receiving';
    if (receiving && !this.#diskPaused) {
      if (now - this.#lastBodyAt > limits.bodyIdleTimeoutMs) {
        return this.#tooSlow(
          'the client stalled its body',
          `no byte of the request body for ${limits.bodyIdleTimeoutMs} ms`,
          true,
        );
      }
      const window = now - this.#rateFrom;
      if (window >= limits.bodyRateWindowMs) {
        const rate = ((this.#received - this.#rateBytes) * 1000) / window;
        if (rate < limits.bodyMinBytesPerSecond) {
          return this.#tooSlow(
            'the client sent its body too slowly',
            `the request body came at ${Math.round(rate)} bytes/s over ${Math.round(window / 1000)} s, under the ${limits.bodyMinBytesPerSecond} bytes/s a request must keep up`,
            true,
          );
        }
        this.#rateFrom = now;
        this.#rateBytes = this.#received;
      }
    }
    // Node holds HTTP/1.1 requests to requestTimeoutMs; HTTP/2 streams are held to it here.
    if (this.#h2 && receiving && now - this.#startedAt > limits.requestTimeoutMs) {
      return this.#tooSlow(
        'the client took too long to send its request',
        `the request was not received within ${limits.requestTimeoutMs} ms`,
        false,
      );
    }
    if (this.#pausedSince !== 0 && now - this.#pausedSince > limits.sendTimeoutMs) this.#cut();
  }

  /** The client's request came too slowly: the attempt is dropped, 408 (or a cut, if answering). */
  #tooSlow(reason: string, error: string, close: boolean): void {
    this.conn?.abort();
    const member = this.#member;
    this.#member = null;
    if (member !== null) this.#host.attemptEnded(this.#route, member, 'cancelled', reason);
    if (this.#res.headersSent) return this.#cut();
    this.#answer(408, error, false, close);
  }

  #answer(status: number, error: string, retryAfter = false, close = false): void {
    const res = this.#res;
    if (!res.headersSent) {
      this.#status = status;
      this.#answeredBy = -1;
    }
    this.#finish(null, error);
    if (!res.headersSent && !res.destroyed) {
      const headers: Record<string, string> = {};
      if (retryAfter) headers['retry-after'] = '1';
      if (close && !this.#h2) headers.connection = 'close';
      if (this.#host.hsts !== undefined && this.client.proto === 'https')
        headers['strict-transport-security'] = this.#host.hsts;
      sendJson(res, status, { error }, headers);
    }
  }

  /** The client has part of a response, or will not read it: closing is the only honest end. */
  #cut(): void {
    this.#finish(null, 'cut');
    this.#encoder?.destroy();
    this.#res.destroy();
  }

  #clientGone(): void {
    if (this.#phase === 'done') return;
    const conn = this.conn;
    if (conn !== null) conn.abort();
    else this.cancelled = true; // if queued in a pool, it is skipped there
    this.#finish('cancelled', 'the client left');
  }

  #finish(outcome: AttemptOutcome | null, reason: string): void {
    if (this.#phase === 'done') return;
    const receiving = this.#phase === 'receiving';
    if (this.#phase === 'responding') this.client.responding = (this.client.responding ?? 1) - 1;
    this.#to('done');
    const member = this.#member;
    this.#member = null;
    if (member !== null && outcome !== null) this.#host.attemptEnded(this.#route, member, outcome, reason);
    else if (member !== null) this.#host.attemptEnded(this.#route, member, 'cancelled', reason);
    this.#res.off('close', this.#onClose);
    if (receiving && this.#onData) {
      this.#req.off('data', this.#onData);
      this.#req.resume();
    }
    this.#kept = [];
    if (this.#reserved > 0) this.#host.releaseBody(this.#reserved);
    this.#reserved = 0;
    this.#reader?.destroy();
    this.#reader = null;
    this.#spool?.dispose();
    this.#spool = null;
    if (this.#spoolReserved > 0) this.#host.releaseSpool(this.#spoolReserved);
    this.#spoolReserved = 0;
    this.#host.untrack(this);
    this.#host.exchangeEnded(this.#route, this.#answeredBy, this.#status, (performance.now() - this.#arrivedAt) / 1000);
  }
}
