// Sessions: a cookie signed by cookie-parser (HMAC with SESSION_SECRET, checked in constant
// time by cookie-signature) carrying the username, the user's session key and an expiry. The
// signature proves who issued it; the key makes it revocable: the users service keeps one
// random key per user, changes it at log-out (every cookie of that user dies at once) and
// loses it with the user (a re-registered name gets a new key, so old cookies never work for
// it). The users service checks the key in its own table; the acts service asks the users
// service (GET /api/v1/sessions/me with the cookie), so a revoked cookie fails everywhere at once.
import type { Request, Response } from 'express';

export const SESSION_COOKIE = 'selflessacts_session';
export const SESSION_TTL_MS = 7 * 24 * 60 * 60 * 1000;

export interface Session {
  username: string;
  /** The user's session key when the cookie was issued (see UsersStore.sessionKey). */
  key: string;
  /** Milliseconds since the epoch. */
  expires: number;
}

export function encodeSession(session: Session): string {
  return JSON.stringify({ u: session.username, k: session.key, e: session.expires });
}

/** The session in a (verified) cookie value, or undefined if malformed or expired at `now`. */
export function decodeSession(value: unknown, now: number): Session | undefined {
  if (typeof value !== 'string') return undefined;
  let data: unknown;
  try {
    data = JSON.parse(value);
  } catch {
    return undefined;
  }
  const { u, k, e } = (data ?? {}) as { u?: unknown; k?: unknown; e?: unknown };
  if (typeof u !== 'string' || u === '' || typeof k !== 'string' || k === '' || typeof e !== 'number' || !(e > now)) return undefined;
  return { username: u, key: k, expires: e };
}

/**
 * `Secure` when the request came over TLS (req.secure: the balancer's X-Forwarded-Proto, which
 * Express believes only from the proxies http-app.ts trusts), so the browser never sends the
 * cookie over plain HTTP where anyone on the path could read it. Over plain HTTP (trying the
 * site out without a certificate) it cannot be: the browser would drop it.
 */
export function setSession(res: Response, username: string, key: string, now = Date.now()): void {
  const expires = now + SESSION_TTL_MS;
  res.cookie(SESSION_COOKIE, encodeSession({ username, key, expires }), {
    signed: true,
    httpOnly: true,
    secure: res.req.secure,
    sameSite: 'lax',
    path: '/',
    expires: new Date(expires),
  });
}

export function clearSession(res: Response): void {
  res.clearCookie(SESSION_COOKIE, { httpOnly: true, secure: res.req.secure, sameSite: 'lax', path: '/' });
}

/**
 * The session a validly signed, unexpired cookie names, or undefined. Not yet proof that it
 * was not revoked: that is the users service's to say (see the module comment).
 */
export function signedSession(req: Request, now = Date.now()): Session | undefined {
  const signed = req.signedCookies as Record<string, unknown> | undefined;
  return decodeSession(signed?.[SESSION_COOKIE], now);
}

/** The session cookie exactly as the client sent it, as a Cookie header, to pass on. */
export function sessionCookieHeader(req: Request): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const at = part.indexOf('=');
    if (at !== -1 && part.slice(0, at).trim() === SESSION_COOKIE) return `${SESSION_COOKIE}=${part.slice(at + 1).trim()}`;
  }
  return undefined;
}
