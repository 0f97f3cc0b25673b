// A small HTTP client for the contract tests: real requests over 127.0.0.1 with undici, bodies
// parsed without losing digits (safe integers as numbers, larger ones as bigint).
import { createHash } from 'node:crypto';
import { getGlobalDispatcher } from 'undici';

export type HttpMethod = 'GET' | 'POST' | 'DELETE' | 'PUT' | 'PATCH' | 'HEAD' | 'OPTIONS';

export interface CallOptions {
  /** Sent as JSON (with Content-Type). A string is sent as-is, for hand-written JSON. */
  json?: unknown;
  body?: string | Buffer;
  headers?: Record<string, string>;
  cookie?: string;
}

export interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  raw: Buffer;
  text: string;
  /** The parsed JSON body, or undefined when the body is empty or not JSON. */
  json: unknown;
}

export interface Api {
  url: string;
  call(method: HttpMethod, path: string, options?: CallOptions): Promise<Reply>;
  get(path: string, options?: CallOptions): Promise<Reply>;
  post(path: string, json?: unknown, options?: CallOptions): Promise<Reply>;
  del(path: string, options?: CallOptions): Promise<Reply>;
}

const JSONX = JSON as unknown as {
  parse(text: string, reviver: (key: string, value: unknown, context: { source?: string }) => unknown): unknown;
  rawJSON(text: string): unknown;
};

/** Integers a double cannot hold exactly become bigint; every other number stays a number. */
export function parseExact(text: string): unknown {
  return JSONX.parse(text, (_key, value, { source }) =>
    typeof value === 'number' && source !== undefined && /^-?[0-9]+$/.test(source) && !Number.isSafeInteger(value)
      ? BigInt(source)
      : value,
  );
}

/** JSON with every bigint written as a number with all its digits. */
export function stringifyExact(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => (typeof v === 'bigint' ? JSONX.rawJSON(v.toString()) : v));
}

export function api(url: string): Api {
  const call = async (method: HttpMethod, path: string, options: CallOptions = {}): Promise<Reply> => {
    const headers: Record<string, string> = { ...options.headers };
    let body = options.body;
    if (options.json !== undefined) {
      body = typeof options.json === 'string' ? options.json : stringifyExact(options.json);
      headers['content-type'] ??= 'application/json';
    }
    if (options.cookie) headers.cookie = options.cookie;
    // The dispatcher API sends the path as written (request(url) would resolve dot segments).
    const res = await getGlobalDispatcher().request({ origin: url, path, method, headers, body: body ?? null });
    const raw = Buffer.from(await res.body.arrayBuffer());
    const text = raw.toString('utf8');
    let json: unknown;
    try {
      json = text === '' ? undefined : parseExact(text);
    } catch {
      json = undefined;
    }
    return { status: res.statusCode, headers: res.headers, raw, text, json };
  };
  return {
    url,
    call,
    get: (path, options) => call('GET', path, options),
    post: (path, json, options) => call('POST', path, { ...options, json }),
    del: (path, options) => call('DELETE', path, options),
  };
}

export const sha1 = (text: string) => createHash('sha1').update(text).digest('hex');

/** The session cookie from a login reply, as a Cookie header value. */
/** `name=value` of the Set-Cookie naming `name`, or undefined. */
export function namedCookie(reply: Reply, name: string): string | undefined {
  const setCookie = reply.headers['set-cookie'];
  const all = Array.isArray(setCookie) ? setCookie : setCookie === undefined ? [] : [setCookie];
  return all.map((c) => c.split(';')[0]!).find((c) => c.startsWith(`${name}=`));
}

export function sessionCookie(reply: Reply): string {
  const setCookie = reply.headers['set-cookie'];
  const first = Array.isArray(setCookie) ? setCookie[0] : setCookie;
  if (!first) throw new Error(`no Set-Cookie in reply ${reply.status} ${reply.text}`);
  return first.split(';')[0] as string;
}
