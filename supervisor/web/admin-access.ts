// Who may use the admin API and the dashboard. They are for the operator on the server itself
// (or through an ssh tunnel), never for a web page: a page in a browser on that host can send
// requests to 127.0.0.1, and with DNS rebinding its own host name can point there too. So:
//   - the Host header must name a loopback address (or the admin listener's own address), which
//     a rebinding page cannot fake: its requests carry its own host name;
//   - every POST that acts carries X-Admin-Token, a header a page cannot send cross-site without
//     a CORS preflight, which the admin API never grants, and its value must be the token
//     (admin.token, or the one generated into the data directory: admin/token.ts), so another
//     local user's process cannot act either.

import { createHash, timingSafeEqual } from 'node:crypto';

export const ADMIN_TOKEN_HEADER = 'x-admin-token';

export function isLoopback(address: string): boolean {
  const a = address.startsWith('::ffff:') ? address.slice(7) : address;
  return a === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(a);
}

/** The host part of a Host header value ("[::1]:3001" → "::1"); undefined if malformed. */
export function hostName(host: string): string | undefined {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^\s:[\]]+))(?::\d{1,5})?$/.exec(host.trim());
  return m ? (m[1] ?? m[2]!).toLowerCase() : undefined;
}

/** localhost, 127.0.0.0/8 or ::1, with any port. */
export function isLoopbackHost(host: string | undefined, alsoAllowed: readonly string[] = []): boolean {
  if (host === undefined) return false;
  const name = hostName(host);
  if (name === undefined) return false;
  return name === 'localhost' || isLoopback(name) || alsoAllowed.includes(name);
}

export type AdminVerdict = { ok: true } | { ok: false; status: 403; error: string };

/**
 * The admin listener's own check on every request. `listenerHost` is admin.host: when it is a
 * specific address (not a wildcard), operators reaching it by that address pass too. A POST
 * that would act (`acts`) also needs the token header; one that would not is answered 405.
 */
export function checkAdminRequest(
  request: { method: string; host: string | undefined; token: string | undefined; acts: boolean },
  options: { listenerHost: string; token: string },
): AdminVerdict {
  const extra = ['0.0.0.0', '::', ''].includes(options.listenerHost) ? [] : [options.listenerHost.toLowerCase()];
  if (!isLoopbackHost(request.host, extra)) {
    return {
      ok: false,
      status: 403,
      error: `the admin API answers only requests addressed to a loopback host name, not ${JSON.stringify(request.host ?? '')}`,
    };
  }
  if (request.method === 'POST' && request.acts) {
    if (request.token === undefined || request.token === '') {
      return { ok: false, status: 403, error: `a POST to the admin API needs the ${ADMIN_TOKEN_HEADER} header` };
    }
    if (options.token === '' || !sameSecret(request.token, options.token)) {
      return {
        ok: false,
        status: 403,
        error: `the ${ADMIN_TOKEN_HEADER} header does not match the admin token (admin.token, or the data directory's admin-token file)`,
      };
    }
  }
  return { ok: true };
}

function sameSecret(a: string, b: string): boolean {
  const digest = (s: string) => createHash('sha256').update(s).digest();
  return timingSafeEqual(digest(a), digest(b));
}
