// Header rules between client and replica, on Node's raw header lists ([name, value, ...], as
// received: names in their original case, values as latin1 strings, duplicates kept).
// Connection-specific headers (RFC 9110 §7.6.1) and those a Connection header names stay on
// their hop; message framing is never copied, each side gets its own; X-Forwarded-* are ours.

/** Dropped both ways (lower case), besides those named in Connection. */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'http2-settings',
  'expect',
  'content-length',
]);
/**
 * Set by us on the way in; a client's own values are dropped, never passed on or appended to:
 * the replicas believe these headers (the session cookie's Secure flag, the cross-site check),
 * so only the balancer may write them. A trusted proxy's are read before (client-address.ts).
 */
const FORWARDED = new Set(['x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host']);
/**
 * Transport policy is the edge's (balancer.tls.hstsMaxAgeSeconds, sent over TLS only): a
 * replica's own HSTS never reaches a client, so a plain-HTTP answer never pins a host to HTTPS.
 */
const EDGE_OWNED = 'strict-transport-security';
/** Lengths of every name above: most names skip toLowerCase() and the Set lookups. */
const WATCHED_LENGTHS = new Set([...HOP_BY_HOP, ...FORWARDED, 'host', EDGE_OWNED].map((n) => n.length));

/** Names listed in Connection headers, lower-cased; undefined when there is none. */
function connectionNamed(raw: readonly string[]): Set<string> | undefined {
  let named: Set<string> | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    if (name.length !== 10 || name.toLowerCase() !== 'connection') continue;
    for (const token of raw[i + 1]!.split(',')) {
      const t = token.trim().toLowerCase();
      if (t) (named ??= new Set()).add(t);
    }
  }
  return named;
}

/**
 * The head of the request a replica gets: `method target HTTP/1.1`, the client's end-to-end
 * headers, X-Forwarded-For/-Proto/-Host (the client's address and scheme as the balancer knows
 * them, and the Host it addressed), and the framing we send the body with: its length (the
 * balancer has the whole body before it sends anything). The caller has refused a duplicated Host.
 */
export function upstreamHead(
  method: string,
  target: string,
  raw: readonly string[],
  client: { address: string; proto: 'http' | 'https'; defaultHost: () => string },
  body: { length: number } | null,
): string {
  const named = connectionNamed(raw);
  let head = `${method} ${target} HTTP/1.1\r\n`;
  let host: string | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    const value = raw[i + 1]!;
    if (WATCHED_LENGTHS.has(name.length) || named !== undefined) {
      const lower = name.toLowerCase();
      if (lower === 'host') {
        host = value;
        continue;
      }
      if (HOP_BY_HOP.has(lower) || named?.has(lower)) continue;
      if (FORWARDED.has(lower)) continue;
    }
    head += `${name}: ${value}\r\n`;
  }
  head += `host: ${host ?? client.defaultHost()}\r\nx-forwarded-for: ${client.address}\r\nx-forwarded-proto: ${client.proto}\r\n`;
  if (host !== undefined) head += `x-forwarded-host: ${host}\r\n`;
  if (body !== null) head += `content-length: ${body.length}\r\n`;
  return `${head}\r\n`;
}

/**
 * The response headers a client gets, as a flat list for `res.writeHead`: hop-by-hop ones and
 * the replica's Strict-Transport-Security dropped, Content-Length kept (so Node frames the body
 * as the replica did when it can).
 */
export function downstreamHeaders(raw: string[]): string[] {
  const named = connectionNamed(raw);
  let out: string[] | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    let drop = false;
    if (WATCHED_LENGTHS.has(name.length) || named !== undefined) {
      const lower = name.toLowerCase();
      drop =
        (HOP_BY_HOP.has(lower) && lower !== 'content-length') || lower === EDGE_OWNED || named?.has(lower) === true;
    }
    if (drop) out ??= raw.slice(0, i);
    else out?.push(name, raw[i + 1]!);
  }
  return out ?? raw;
}

/** The request's Host header, once; null when there are several. */
export function hostOf(raw: readonly string[]): string | undefined | null {
  let host: string | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    if (name.length !== 4 || name.toLowerCase() !== 'host') continue;
    if (host !== undefined) return null;
    host = raw[i + 1]!;
  }
  return host;
}

/** Values of every header named `lower` (compared case-insensitively), in order. */
export function headerValues(raw: readonly string[], lower: string): string[] {
  const out: string[] = [];
  const n = lower.length;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    if (name.length === n && name.toLowerCase() === lower) out.push(raw[i + 1]!);
  }
  return out;
}

/**
 * An HTTP/2 request's headers as an HTTP/1.1 replica needs them: pseudo-headers dropped,
 * `:authority` as Host (a Host header that names another authority makes it malformed,
 * RFC 9113 §8.3.1), and the size of the list as HPACK counts it (32 octets a field), which
 * Node does not hold to the advertised limit on a connection's first requests.
 */
export function h2RequestHeaders(
  raw: readonly string[],
  maxBytes: number,
): { raw: string[]; host: string } | { status: 400 | 431; error: string } {
  let authority: string | undefined;
  let host: string | undefined;
  let bytes = 0;
  const out: string[] = ['host', ''];
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    const value = raw[i + 1]!;
    bytes += name.length + value.length + 32;
    if (name.charCodeAt(0) === 58) {
      if (name === ':authority') authority = value;
      continue;
    }
    if (name === 'host') {
      if (host !== undefined) return { status: 400, error: 'more than one Host header' };
      host = value;
      continue;
    }
    out.push(name, value);
  }
  if (bytes > maxBytes) return { status: 431, error: `the request's header list is larger than ${maxBytes} bytes` };
  if (authority !== undefined && host !== undefined && authority !== host)
    return { status: 400, error: 'Host and :authority name different hosts' };
  const chosen = authority ?? host;
  if (chosen === undefined || chosen === '') return { status: 400, error: 'an HTTP/2 request needs :authority' };
  out[1] = chosen;
  return { raw: out, host: chosen };
}
