// Forwarding one request to one upstream over a keep-alive undici Pool, bodies streamed both
// ways. The request body is pulled lazily (LazyBody), so when the connection is refused
// before a byte was read the same request can go to the next replica.
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Pool, type Dispatcher } from 'undici';
import { sendJson } from '../static.ts';

/** RFC 9110 §7.6.1 connection-specific headers, plus Expect (answered here, by Node). */
const HOP_BY_HOP = new Set([
  'connection', 'keep-alive', 'proxy-authenticate', 'proxy-authorization', 'proxy-connection',
  'te', 'trailer', 'transfer-encoding', 'upgrade', 'expect',
]);

export type Headers = Record<string, string | string[]>;

export function stripHopByHop(headers: IncomingHttpHeaders | Record<string, string | string[] | undefined>): Headers {
  const named = String(headers.connection ?? '')
    .split(',')
    .map((h) => h.trim().toLowerCase())
    .filter(Boolean);
  const out: Headers = {};
  for (const [key, value] of Object.entries(headers)) {
    const name = key.toLowerCase();
    if (value === undefined || HOP_BY_HOP.has(name) || named.includes(name)) continue;
    out[name] = value;
  }
  return out;
}

export function clientAddress(req: IncomingMessage): string {
  return (req.socket.remoteAddress ?? '').replace(/^::ffff:/, '');
}

export function isLoopback(address: string): boolean {
  return address === '::1' || address.startsWith('127.');
}

/** The request headers an upstream gets: hop-by-hop removed, X-Forwarded-* set. */
export function upstreamHeaders(req: IncomingMessage): Headers {
  const headers = stripHopByHop(req.headers);
  const client = clientAddress(req);
  const prior = req.headers['x-forwarded-for'];
  headers['x-forwarded-for'] = prior ? `${String(prior)}, ${client}` : client;
  headers['x-forwarded-proto'] = 'encrypted' in req.socket && req.socket.encrypted ? 'https' : 'http';
  if (req.headers.host) headers['x-forwarded-host'] = req.headers.host;
  return headers;
}

export function hasBody(req: IncomingMessage): boolean {
  const length = req.headers['content-length'];
  if (req.headers['transfer-encoding'] !== undefined) return true;
  return length !== undefined && length !== '0';
}

/**
 * A view of the client's request body that reads from it only when the upstream pulls, and
 * never destroys it: undici may destroy this wrapper after a refused connect, and `pulled`
 * then says whether anything was consumed (if not, a retry elsewhere is safe).
 */
export class LazyBody extends Readable {
  pulled = false;
  readonly #src: IncomingMessage;
  #srcEnded = false;
  #waiting = false;
  readonly #onEnd = () => {
    this.#srcEnded = true;
  };
  readonly #onError = (err: Error) => this.destroy(err);
  readonly #wake = () => {
    this.#src.off('readable', this.#wake);
    this.#src.off('end', this.#wake);
    this.#waiting = false;
    this._read();
  };

  constructor(src: IncomingMessage) {
    super();
    this.#src = src;
    this.#srcEnded = src.readableEnded;
    src.once('end', this.#onEnd);
    src.once('error', this.#onError);
  }

  override _read(): void {
    for (;;) {
      const chunk: Buffer | null = this.#src.read();
      if (chunk === null) break;
      this.pulled = true;
      if (!this.push(chunk)) return;
    }
    if (this.#srcEnded) {
      this.push(null);
      return;
    }
    if (this.#waiting) return;
    this.#waiting = true;
    this.#src.on('readable', this.#wake);
    this.#src.on('end', this.#wake);
  }

  override _destroy(err: Error | null, callback: (error?: Error | null) => void): void {
    this.#src.off('readable', this.#wake);
    this.#src.off('end', this.#wake);
    this.#src.off('end', this.#onEnd);
    this.#src.off('error', this.#onError);
    callback(err);
  }
}

export function createPool(origin: string, options: { bodyTimeoutMs?: number } = {}): Pool {
  return new Pool(origin, {
    connections: 128,
    keepAliveTimeout: 4000, // below Node's 5 s server default, so we close idle sockets first
    headersTimeout: 120_000,
    bodyTimeout: options.bodyTimeoutMs ?? 120_000,
  });
}

/**
 * 'refused': the connection was refused, so nothing reached the replica. 'reset': the
 * connection broke before any answer (with Docker's userland proxy a dead app looks like
 * this): the replica may have seen the request. In both cases `res` is untouched.
 */
export type ForwardOutcome = { kind: 'done' } | { kind: 'refused' | 'reset'; reason: string };

const RESET_CODES = new Set(['ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET', 'UND_ERR_CLOSED']);

/**
 * Sends `req` to `pool` and streams the answer into `res`. On 'refused' or 'reset' nothing was
 * written to `res` and the caller may try elsewhere. Any other failure is answered here (502
 * before the headers, a cut connection after).
 */
export async function forward(
  req: IncomingMessage,
  res: ServerResponse,
  pool: Dispatcher,
  headers: Headers,
  body: LazyBody | undefined,
): Promise<ForwardOutcome> {
  const abort = new AbortController();
  const onClose = () => {
    if (!res.writableFinished) abort.abort();
  };
  res.on('close', onClose);
  try {
    const upstream = await pool.request({
      method: req.method as Dispatcher.HttpMethod,
      path: req.url ?? '/',
      headers,
      body: body ?? null,
      signal: abort.signal,
    });
    res.writeHead(upstream.statusCode, stripHopByHop(upstream.headers));
    await pipeline(upstream.body, res);
    return { kind: 'done' };
  } catch (err) {
    const code = (err as { code?: string }).code ?? '';
    const clientGone = res.destroyed || res.writableEnded;
    if (!res.headersSent && !clientGone && code === 'ECONNREFUSED') return { kind: 'refused', reason: code };
    if (!res.headersSent && !clientGone && RESET_CODES.has(code)) return { kind: 'reset', reason: code };
    if (!res.headersSent && !res.destroyed) {
      sendJson(res, 502, { error: `upstream failed: ${code || (err as Error).message}` });
    } else {
      res.destroy();
    }
    return { kind: 'done' };
  } finally {
    res.off('close', onClose);
  }
}
