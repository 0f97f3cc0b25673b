// The replica side's seam: how an upstream connection reads responses off its socket. Two
// readers give the connection the same events: the fast one drives Node's own llhttp binding
// (llhttp.ts: an undocumented internal, which reads the socket in C++), the other our own
// parser (response-parser.ts) on the socket's public 'data' events. Which one a balancer uses is
// chosen at start (`chooseReader`): the fast one when a self-test of the binding gives exactly
// what our parser gives on the same bytes, else ours, with the reason (logged, and in /status),
// so a Node release that changes or drops the internal slows the proxy rather than breaks it.
import type net from 'node:net';
import { loadLlhttp, type LlhttpBinding, type LlhttpParser } from './llhttp.ts';
import { ResponseParser, type HeadVerdict, type ResponseSink } from './response-parser.ts';

/** What a reader tells its connection; `afterRead` follows every socket read, after its events. */
export interface ReaderEvents extends ResponseSink {
  afterRead(result: number | Error): void;
}

export interface UpstreamReader {
  /** The socket connected: start reading it. */
  start(socket: net.Socket): void;
  /** Flow control: stop and start reading (the client is slow, or caught up). */
  pause(): void;
  resume(): void;
  /** The socket ended: a body delimited by the end completes now; an error if one was cut. */
  finish(): Error | undefined;
  /** The socket is gone: stop reading and let go of the parser. */
  close(): void;
}

export type ReaderKind = 'llhttp' | 'own';
export type ReaderFactory = (events: ReaderEvents, maxHeaderBytes: number) => UpstreamReader;

/** Our parser on the socket's 'data' events: public APIs only. */
export function ownReader(events: ReaderEvents, maxHeaderBytes: number): UpstreamReader {
  const parser = new ResponseParser(events, maxHeaderBytes);
  let socket: net.Socket | undefined;
  const onData = (chunk: Buffer) => events.afterRead(parser.execute(chunk));
  return {
    start(s) {
      socket = s;
      s.on('data', onData);
    },
    pause: () => socket?.pause(),
    resume: () => socket?.resume(),
    finish: () => parser.finish(),
    close() {
      socket?.removeListener('data', onData);
      socket = undefined;
    },
  };
}

// ---- the fast reader: Node's llhttp binding, reading the socket's handle in C++ -------------

type StreamHandle = { readStop(): void; readStart(): void };

interface BoundParser extends LlhttpParser {
  events: ReaderEvents;
  partial: string[];
}

// llhttp callbacks, with `this` the parser: plain functions shared by every parser, so the
// binding's calls stay monomorphic.
function onHeaders(this: BoundParser, headers: string[]): void {
  // A head split over several reads, or very many headers: llhttp hands it over in parts.
  for (const h of headers) this.partial.push(h);
}

function onHeadersComplete(
  this: BoundParser,
  _major: number,
  _minor: number,
  headers: string[] | undefined,
  _method: number,
  _url: string,
  status: number,
  reason: string,
  upgrade: boolean,
  shouldKeepAlive: boolean,
): HeadVerdict {
  const all = headers ?? this.partial;
  this.partial = [];
  return this.events.onHeadersComplete(status, reason, all, shouldKeepAlive, upgrade);
}

function onBody(this: BoundParser, chunk: Buffer): void {
  this.events.onBody(chunk);
}

function onMessageComplete(this: BoundParser): void {
  // A chunked body's trailers arrive as headers: dropped here, or they would lead the next
  // response's head on this connection (as they did before the self-test caught it).
  this.partial = [];
  this.events.onMessageComplete();
}

function onExecute(this: BoundParser, result: number | Error): void {
  this.events.afterRead(result);
}

function boundParser(binding: LlhttpBinding, events: ReaderEvents, maxHeaderBytes: number): BoundParser {
  const parser = binding.newParser() as BoundParser;
  parser.initialize(binding.RESPONSE, {}, maxHeaderBytes, binding.STRICT);
  parser.events = events;
  parser.partial = [];
  parser[binding.ON_HEADERS] = onHeaders;
  parser[binding.ON_HEADERS_COMPLETE] = onHeadersComplete;
  parser[binding.ON_BODY] = onBody;
  parser[binding.ON_MESSAGE_COMPLETE] = onMessageComplete;
  parser[binding.ON_EXECUTE] = onExecute;
  return parser;
}

function llhttpReader(binding: LlhttpBinding): ReaderFactory {
  return (events, maxHeaderBytes) => {
    const parser = boundParser(binding, events, maxHeaderBytes);
    let handle: StreamHandle | undefined;
    /** Our parser, for a socket without the stream handle llhttp reads (the self-test cannot see sockets). */
    let fallback: UpstreamReader | undefined;
    return {
      start(socket) {
        const own = (socket as unknown as { _handle?: StreamHandle })._handle;
        if (typeof own?.readStop !== 'function' || typeof own.readStart !== 'function') {
          fallback = ownReader(events, maxHeaderBytes);
          return fallback.start(socket);
        }
        handle = own;
        // Reads go straight to llhttp; end-of-stream and errors still reach the socket's events.
        parser.consume(handle);
      },
      pause: () => (fallback ? fallback.pause() : handle?.readStop()),
      resume: () => (fallback ? fallback.resume() : handle?.readStart()),
      finish() {
        if (fallback) return fallback.finish();
        const result = parser.finish();
        return result instanceof Error ? result : undefined;
      },
      close() {
        fallback?.close();
        if (handle !== undefined) parser.unconsume();
        handle = undefined;
        setImmediate(() => parser.close()); // once llhttp's stack has unwound
      },
    };
  };
}

// ---- choosing, by a self-test ----------------------------------------------------------------

/**
 * Responses that exercise what the connection relies on: an informational head before the
 * final one, a length-framed body, a chunked one with trailers, split across reads, a response
 * that closes the connection, then bytes after it (the parser must refuse them).
 */
const SELF_TEST: readonly string[] = [
  'HTTP/1.1 103 Early Hints\r\nLink: </app.css>; rel=preload\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-A: 1\r\n\r\nhel',
  'loHTTP/1.1 404 Not Found\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\nT: 1\r\n\r\nHTTP/1.1 204 No',
  ' Content\r\nConnection: close\r\n\r\n',
  'HTTP/1.1 200 OK\r\n\r\n',
];

/** What a parser reported, as comparable text: heads, body bytes, ends and the error. */
function trace(feed: (events: ResponseSink) => { execute(d: Buffer): number | Error }): string[] {
  const seen: string[] = [];
  const sink: ResponseSink = {
    onHeadersComplete(status, reason, headers, keepAlive, upgrade) {
      seen.push(`head ${status} ${reason} ${headers.join('|')} keepAlive=${keepAlive} upgrade=${upgrade}`);
      return 0;
    },
    onBody: (chunk) => seen.push(`body ${chunk.toString('latin1')}`),
    onMessageComplete: () => seen.push('end'),
  };
  const parser = feed(sink);
  for (const piece of SELF_TEST) {
    const result = parser.execute(Buffer.from(piece, 'latin1'));
    if (result instanceof Error) {
      seen.push('error');
      break;
    }
  }
  return seen;
}

/** Adjacent body pieces joined: parsers may cut a body at different places. */
function joined(events: string[]): string[] {
  const out: string[] = [];
  for (const e of events) {
    const last = out.at(-1);
    if (e.startsWith('body ') && last?.startsWith('body ')) out[out.length - 1] = last + e.slice(5);
    else out.push(e);
  }
  return out;
}

export interface ReaderChoice {
  kind: ReaderKind;
  factory: ReaderFactory;
  /** Why our parser was chosen; undefined for the fast one. */
  reason?: string;
}

/**
 * The reader for this process: `wanted` "llhttp" or "own" as configured, or "auto": the fast
 * one when its self-test passes. The binding comes from `load` (a test gives a broken one).
 */
export function chooseReader(wanted: 'auto' | ReaderKind, load: () => LlhttpBinding = loadLlhttp): ReaderChoice {
  if (wanted === 'own') return { kind: 'own', factory: ownReader, reason: 'configured (balancer.upstreamParser)' };
  let problem: string;
  try {
    const binding = load();
    for (const key of [
      'RESPONSE',
      'ON_HEADERS',
      'ON_HEADERS_COMPLETE',
      'ON_BODY',
      'ON_MESSAGE_COMPLETE',
      'ON_EXECUTE',
      'STRICT',
    ] as const)
      if (typeof binding[key] !== 'number') throw new Error(`${key} is not a number`);
    const probe = binding.newParser();
    for (const method of ['initialize', 'consume', 'unconsume', 'execute', 'finish', 'close'] as const)
      if (typeof probe[method] !== 'function') throw new Error(`the parser has no ${method}()`);
    const ours = joined(trace((sink) => new ResponseParser(sink, 16_384)));
    const theirs = joined(
      trace((sink) => {
        const events: ReaderEvents = { ...sink, afterRead() {} };
        return boundParser(binding, events, 16_384);
      }),
    );
    if (JSON.stringify(ours) !== JSON.stringify(theirs))
      throw new Error(`it parsed the self-test otherwise: ${JSON.stringify(theirs)} for ${JSON.stringify(ours)}`);
    return { kind: 'llhttp', factory: llhttpReader(binding) };
  } catch (err) {
    problem = (err as Error).message;
  }
  if (wanted === 'llhttp')
    throw new Error(`balancer.upstreamParser is "llhttp", but Node's llhttp binding failed: ${problem}`);
  return { kind: 'own', factory: ownReader, reason: `Node's internal llhttp binding failed its self-test: ${problem}` };
}
