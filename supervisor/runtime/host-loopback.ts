// A URL on the host's loopback (mysql://u:p@127.0.0.1:3306/db) is right for a child process
// and wrong inside a container, where 127.0.0.1 is the container itself. For the env keys the
// config names, the docker runtime swaps such a host for the name containers have for the host
// (host.docker.internal, mapped to the host gateway). Only the host changes: the text around it
// (user info, port, path, query) is kept byte for byte, so nothing is re-encoded.

export const HOST_ALIAS = 'host.docker.internal';

export interface LoopbackRewrite {
  key: string;
  /** The new value with any password masked: safe to log. */
  masked: string;
}

interface UrlParts {
  /** "scheme://" and user info ("user:pw@"), as written. */
  head: string;
  host: string;
  /** ":port", path, query and fragment, as written. */
  tail: string;
}

// scheme://[userinfo@]host[:port][/path][?query][#fragment]; the user info runs to the last "@"
// of the authority, as WHATWG URL reads it, so an unencoded "@" in a password stays in it.
const URL_SHAPE = /^([A-Za-z][A-Za-z0-9+.-]*:\/\/)([^/?#]*)(.*)$/s;

function split(value: string): UrlParts | undefined {
  const m = URL_SHAPE.exec(value);
  if (!m) return undefined;
  const [, scheme, authority, rest] = m as unknown as [string, string, string, string];
  const at = authority.lastIndexOf('@');
  const userinfo = at >= 0 ? authority.slice(0, at + 1) : '';
  const hostPort = authority.slice(at + 1);
  const hp = /^(\[[^\]]*\]|[^:]*)(:\d*)?$/.exec(hostPort);
  if (!hp) return undefined;
  return { head: scheme + userinfo, host: hp[1]!, tail: (hp[2] ?? '') + rest };
}

/** 127.0.0.0/8, localhost, and ::1 in any spelling ([::1], [0:0:0:0:0:0:0:1]). */
export function isLoopbackHost(host: string): boolean {
  const h = host.toLowerCase();
  if (h === 'localhost') return true;
  if (/^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h)) return h.split('.').every((n) => Number(n) <= 255);
  if (h.startsWith('[') && h.endsWith(']')) {
    try {
      return new URL(`http://${h}/`).hostname === '[::1]';
    } catch {
      return false;
    }
  }
  return false;
}

/** The value with a loopback host replaced by `alias`; undefined when it is not such a URL. */
export function rewriteLoopbackUrl(value: string, alias = HOST_ALIAS): string | undefined {
  const parts = split(value);
  if (!parts || !isLoopbackHost(parts.host)) return undefined;
  return parts.head + alias + parts.tail;
}

/** "scheme://user:***@host..." : the password of a URL's user info hidden, the rest kept. */
export function maskPassword(value: string): string {
  const parts = split(value);
  if (!parts) return value;
  const masked = parts.head.replace(/^([^:]+:\/\/[^:@]*):.*@$/s, '$1:***@');
  return masked + parts.host + parts.tail;
}

/** `env` with the named keys' loopback URLs rewritten, and what was rewritten (masked). */
export function rewriteLoopbackEnv(
  env: Readonly<Record<string, string>>,
  keys: readonly string[],
  alias = HOST_ALIAS,
): { env: Record<string, string>; rewritten: LoopbackRewrite[] } {
  const out = { ...env };
  const rewritten: LoopbackRewrite[] = [];
  for (const key of keys) {
    const value = env[key];
    if (value === undefined) continue;
    const next = rewriteLoopbackUrl(value, alias);
    if (next === undefined) continue;
    out[key] = next;
    rewritten.push({ key, masked: maskPassword(next) });
  }
  return { env: out, rewritten };
}
