// HTTP to the engine over its unix socket, with the API version negotiated once.
// A Pool rather than a single Client: one Client is one connection, and a long-lived events or
// logs stream on it would hold up every other call behind it.
import { Readable } from 'node:stream';
import { Pool, type Dispatcher } from 'undici';
import type { IncomingHttpHeaders } from 'undici/types/header.js';
import { EngineError, errorForStatus } from './errors.ts';

const DEFAULT_TIMEOUT_MS = 30_000;
/** Oldest API with everything we use (host-gateway, NanoCpus, wait conditions, build labels). */
const MIN_API_VERSION = '1.40';

export type QueryValue = string | number | boolean | string[] | undefined;
export type Query = Record<string, QueryValue>;

export interface RequestSpec {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE' | 'HEAD';
  /** Path without the version prefix: "/containers/json". */
  path: string;
  query?: Query;
  /** Sent as application/json. */
  json?: unknown;
  /** Sent as is, with `contentType`. */
  body?: Uint8Array | Readable | AsyncIterable<Uint8Array>;
  contentType?: string;
  /** Statuses besides 2xx that mean success (304 on start/stop). */
  okStatuses?: number[];
  /** Ordinary calls: overall deadline (default: the client's). null: none (streams). */
  timeoutMs?: number | null;
  signal?: AbortSignal;
  /** false for /_ping and /version, which must work before negotiation. */
  versioned?: boolean;
}

export interface EngineResponse {
  status: number;
  headers: IncomingHttpHeaders;
  /** Parsed JSON body; undefined for an empty body. */
  json: unknown;
}

export interface EngineStream {
  status: number;
  headers: IncomingHttpHeaders;
  /** Must be consumed or destroyed by the caller. */
  body: AsyncIterable<Uint8Array> & { destroy(error?: Error): void; destroyed: boolean };
  /** Maps an error thrown while reading the body (abort, lost socket) to an EngineError. */
  mapError(error: unknown): EngineError;
}

export function defaultSocketPath(env: NodeJS.ProcessEnv = process.env): string {
  const host = env.DOCKER_HOST;
  if (host === undefined || host === '') return '/var/run/docker.sock';
  if (host.startsWith('unix://')) return host.slice('unix://'.length);
  throw new EngineError(
    'ENGINE_UNAVAILABLE',
    `DOCKER_HOST=${host} is not supported: expected unix:///path/to/docker.sock`,
  );
}

export function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name.toLowerCase()];
  return Array.isArray(value) ? value[0] : value;
}

export function encodeQuery(query: Query | undefined): string {
  if (!query) return '';
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value === undefined) continue;
    if (Array.isArray(value)) for (const item of value) params.append(key, item);
    else if (typeof value === 'boolean') params.append(key, value ? '1' : '0');
    else params.append(key, String(value));
  }
  const text = params.toString();
  return text === '' ? '' : `?${text}`;
}

function compareVersions(a: string, b: string): number {
  const [aMajor = 0, aMinor = 0] = a.split('.').map(Number);
  const [bMajor = 0, bMinor = 0] = b.split('.').map(Number);
  return aMajor - bMajor || aMinor - bMinor;
}

export function versionAtLeast(version: string, wanted: string): boolean {
  return compareVersions(version, wanted) >= 0;
}

const UNAVAILABLE_CODES = new Set([
  'ECONNREFUSED',
  'ENOENT',
  'EACCES',
  'ECONNRESET',
  'EPIPE',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
  'UND_ERR_DESTROYED',
]);

/** Errors of the file system that also name a socket failure when the syscall is connect. */
const FILE_CODES = new Set(['ENOENT', 'EACCES']);

export class Transport {
  readonly socketPath: string;
  readonly timeoutMs: number;
  readonly #pool: Pool;
  #version: Promise<string> | undefined;
  #closed = false;

  constructor(options: { socketPath?: string; timeoutMs?: number; apiVersion?: string } = {}) {
    this.socketPath = options.socketPath ?? defaultSocketPath();
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    // Deadlines come from AbortSignals per call; undici's own timers are off so that quiet
    // streams (events, logs follow, a slow build step) are not cut.
    this.#pool = new Pool('http://docker', {
      socketPath: this.socketPath,
      headersTimeout: 0,
      bodyTimeout: 0,
    });
    if (options.apiVersion !== undefined) this.#version = Promise.resolve(options.apiVersion);
  }

  /** The API version to speak: the engine's, from `GET /_ping`'s Api-Version header. */
  apiVersion(): Promise<string> {
    this.#version ??= this.#negotiate().catch((error: unknown) => {
      this.#version = undefined; // the engine may come up later: try again next call
      throw error;
    });
    return this.#version;
  }

  async #negotiate(): Promise<string> {
    const ping = await this.request({ method: 'GET', path: '/_ping', versioned: false });
    let version = header(ping.headers, 'api-version');
    if (version === undefined) {
      const info = await this.request({ method: 'GET', path: '/version', versioned: false });
      version = (info.json as { ApiVersion?: string } | undefined)?.ApiVersion;
    }
    if (version === undefined || !/^\d+\.\d+$/.test(version)) {
      throw new EngineError('PROTOCOL_ERROR', `the engine did not say its API version (got ${version})`);
    }
    if (!versionAtLeast(version, MIN_API_VERSION)) {
      throw new EngineError(
        'UNSUPPORTED_API',
        `the engine speaks API ${version}; engine-client needs ${MIN_API_VERSION} or later`,
      );
    }
    return version;
  }

  /** An ordinary call: the body is read whole and parsed, errors become EngineError. */
  async request(spec: RequestSpec): Promise<EngineResponse> {
    const stream = await this.stream(spec, true);
    let text: string;
    try {
      const chunks: Buffer[] = [];
      for await (const chunk of stream.body) chunks.push(Buffer.from(chunk));
      text = Buffer.concat(chunks).toString('utf8');
    } catch (error) {
      throw stream.mapError(error);
    }
    return { status: stream.status, headers: stream.headers, json: parseBody(text) };
  }

  /**
   * A call whose body the caller reads as a stream. Non-success statuses are read and thrown
   * here. `bounded` applies the deadline to the whole exchange (used by request()).
   */
  async stream(spec: RequestSpec, bounded = false): Promise<EngineStream> {
    if (this.#closed) throw new EngineError('ENGINE_UNAVAILABLE', 'the engine client is closed');
    const prefix = spec.versioned === false ? '' : `/v${await this.apiVersion()}`;
    const timeoutMs = spec.timeoutMs === undefined ? (bounded ? this.timeoutMs : null) : spec.timeoutMs;
    const deadline = timeoutMs === null || timeoutMs === 0 ? undefined : AbortSignal.timeout(timeoutMs);
    const signals = [spec.signal, deadline].filter((s): s is AbortSignal => s !== undefined);
    const signal = signals.length === 0 ? undefined : signals.length === 1 ? signals[0] : AbortSignal.any(signals);
    const mapError = (error: unknown) => this.#mapFailure(error, spec, deadline, timeoutMs);

    let body: string | Uint8Array | Readable | undefined =
      spec.body === undefined || spec.body instanceof Uint8Array || spec.body instanceof Readable
        ? spec.body
        : Readable.from(spec.body);
    const headers: Record<string, string> = {};
    if (spec.json !== undefined) {
      body = JSON.stringify(spec.json);
      headers['content-type'] = 'application/json';
    } else if (spec.body !== undefined) {
      headers['content-type'] = spec.contentType ?? 'application/octet-stream';
    }

    let response: Dispatcher.ResponseData;
    try {
      response = await this.#pool.request({
        method: spec.method,
        path: `${prefix}${spec.path}${encodeQuery(spec.query)}`,
        headers,
        body: body ?? null,
        signal: signal ?? null,
      });
    } catch (error) {
      throw mapError(error);
    }

    const ok =
      (response.statusCode >= 200 && response.statusCode < 300) ||
      (spec.okStatuses ?? []).includes(response.statusCode);
    if (!ok) {
      let text = '';
      try {
        text = await response.body.text();
      } catch {
        response.body.destroy();
      }
      throw errorForStatus(response.statusCode, spec.method, spec.path, engineMessage(text));
    }
    return {
      status: response.statusCode,
      headers: response.headers,
      body: response.body,
      mapError,
    };
  }

  #mapFailure(
    error: unknown,
    spec: RequestSpec,
    deadline: AbortSignal | undefined,
    timeoutMs: number | null,
  ): EngineError {
    if (error instanceof EngineError) return error;
    const where = { method: spec.method, path: spec.path, cause: error };
    const text = error instanceof Error ? error.message : String(error);
    if (deadline?.aborted) {
      return new EngineError('TIMEOUT', `${spec.method} ${spec.path} took longer than ${timeoutMs} ms`, where);
    }
    if (spec.signal?.aborted) {
      return new EngineError('ABORTED', `${spec.method} ${spec.path} was aborted`, where);
    }
    const { code, syscall } = (error ?? {}) as { code?: unknown; syscall?: unknown };
    if (typeof code === 'string' && UNAVAILABLE_CODES.has(code) && !(syscall !== 'connect' && FILE_CODES.has(code))) {
      return new EngineError(
        'ENGINE_UNAVAILABLE',
        `no engine answering at ${this.socketPath} (${code}: ${text})`,
        where,
      );
    }
    // Not the engine: a request body that failed (a context file that cannot be read), or a
    // client-side fault. The call failed midway; the engine is not known to be down.
    return new EngineError('STREAM_ERROR', `${spec.method} ${spec.path} failed: ${text}`, where);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#pool.destroy();
  }
}

function engineMessage(text: string): string | undefined {
  if (text.trim() === '') return undefined;
  try {
    const parsed = JSON.parse(text) as { message?: unknown };
    if (typeof parsed.message === 'string') return parsed.message;
  } catch {
    // not JSON: the text itself is the message
  }
  return text.trim();
}

function parseBody(text: string): unknown {
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    // /_ping answers "OK"; a few endpoints answer plain text.
    return text;
  }
}
