// Cross-site request refusal for the routes that set or use the session cookie. A browser
// sends the session cookie with a cross-site form POST (SameSite=Lax only stops it for
// subresources and for non-top-level requests), and even a same-site page on another port
// counts as "same site"; what it cannot hide is where the request comes from. Fetch metadata
// (Sec-Fetch-Site) says so where the browser sends it (secure contexts, 127.0.0.1 and
// localhost); Origin, which every browser sends on a POST or DELETE, says so everywhere else.
// A client that sends neither is not a browser, and cannot be made to carry a victim's cookie.
import type { IncomingHttpHeaders } from 'node:http';
import type { RequestHandler } from 'express';
import { sendError } from './respond.ts';

/** Sec-Fetch-Site values of a request the site itself made (or the user typed). */
const OWN_SITE = new Set(['same-origin', 'none']);

function hostOf(value: string, scheme: string): string | undefined {
  return URL.canParse(`${scheme}${value}`) ? new URL(`${scheme}${value}`).host : undefined;
}

/**
 * Why the request is cross-site, or undefined when it is not (or says nothing either way).
 * `scheme`: how the browser reached the site ("https" behind the balancer's TLS), so a Host
 * with the scheme's default port ("example.org:443") matches an Origin without it.
 */
export function crossSiteReason(headers: IncomingHttpHeaders, scheme: 'http' | 'https' = 'http'): string | undefined {
  const site = headers['sec-fetch-site'];
  if (site !== undefined && !OWN_SITE.has(site)) return `cross-site request refused (Sec-Fetch-Site: ${site})`;
  const origin = headers.origin;
  if (origin === undefined) return undefined;
  const originHost = origin === 'null' ? undefined : hostOf(origin, '');
  // The Host the browser addressed; a proxy in front may have put it in X-Forwarded-Host.
  const own = [headers.host, headers['x-forwarded-host']]
    .flatMap((h) => (typeof h === 'string' ? h.split(',') : []))
    .map((h) => hostOf(h.trim(), `${scheme}://`));
  if (originHost !== undefined && own.includes(originHost)) return undefined;
  return `cross-site request refused (Origin ${origin} is not this site)`;
}

export const sameOriginOnly: RequestHandler = (req, res, next) => {
  const reason = crossSiteReason(req.headers, req.secure ? 'https' : 'http');
  if (reason !== undefined) return sendError(res, 403, reason);
  next();
};
