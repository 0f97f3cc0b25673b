// Sessions: a cookie signed by cookie-parser (HMAC with SESSION_SECRET, checked in constant
// time by cookie-signature) carrying the username, the user's session key and an expiry. The
// signature proves who issued it; the key makes it revocable: the users service keeps one
// random key per user, changes it at log-out (every cookie of that user dies at once) and
// loses it with the user (a re-registered name gets a new key, so old cookies never work for
// it). The users service checks the key in its own table; the acts service asks the users
// service (GET /api/v1/sessions/me with the cookie), so a revoked cookie fails everywhere at once.
// Besides its absolute lifetime (SESSION_TTL_MS from the log-in), a session ends after
// SESSION_IDLE_MS without use: the cookie carries when it was last seen, and a live session
// seen again more than SESSION_REFRESH_MS later gets a fresh cookie (same key and expiry). It
// also carries when the user logged in, for the routes that want a recent log-in (deleting the
// account: REAUTH_MS).
import type { Request, Response } from 'express';

export const SESSION_COOKIE = 'selflessacts_session';
export const SESSION_TTL_MS = 7 * 24 * 60 * 60 * 1000;
export const SESSION_IDLE_MS = 24 * 60 * 60 * 1000;
export const SESSION_REFRESH_MS = 10 * 60 * 1000;
export const REAUTH_MS = 10 * 60 * 1000;

export interface Session {
  username: string;
  /** The user's session key when the cookie was issued (see UsersStore.sessionKey). */
  key: string;
  /** Milliseconds since the epoch. */
  expires: number;
  /** When the user logged in (ms). */
  issued: number;
  /** When the session was last seen in use (ms), as of the cookie's last refresh. */
  seen: number;
}

export function encodeSession(session: Session): string {
  return JSON.stringify({
    u: session.username,
    k: session.key,
    e: session.expires,
    i: session.issued,
    s: session.seen,
  });
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
  const { u, k, e, i, s } = (data ?? {}) as { u?: unknown; k?: unknown; e?: unknown; i?: unknown; s?: unknown };
  if (typeof u !== 'string' || u === '' || typeof k !== 'string' || k === '' || typeof e !== 'number' || !(e > now))
    return undefined;
  // Cookies from before these fields were carried: issued (and last seen) at log-in.
  const issued = typeof i === 'number' ? i : e - SESSION_TTL_MS;
  const seen = typeof s === 'number' ? s : issued;
  if (now - seen > SESSION_IDLE_MS) return undefined;
  return { username: u, key: k, expires: e, issued, seen };
}

/**
 * `Secure` when the request came over TLS (req.secure: the balancer's X-Forwarded-Proto, which
 * Express believes only from the proxies http-app.ts trusts), so the browser never sends the
 * cookie over plain HTTP where anyone on the path could read it. Over plain HTTP (trying the
 * site out without a certificate) it cannot be: the browser would drop it.
 */
export function setSession(res: Response, username: string, key: string, now = Date.now()): void {
  writeSession(res, { username, key, expires: now + SESSION_TTL_MS, issued: now, seen: now });
}

function writeSession(res: Response, session: Session): void {
  res.cookie(SESSION_COOKIE, encodeSession(session), {
    signed: true,
    httpOnly: true,
    secure: res.req.secure,
    sameSite: 'lax',
    path: '/',
    expires: new Date(session.expires),
  });
}

/** A live session in use: its idle clock starts again (a new cookie at most every SESSION_REFRESH_MS). */
export function touchSession(req: Request, res: Response, now = Date.now()): void {
  const session = signedSession(req, now);
  if (session === undefined || now - session.seen < SESSION_REFRESH_MS || res.headersSent) return;
  writeSession(res, { ...session, seen: now });
}

/** Whether the session's log-in was recent enough for a route that asks for one. */
export function loggedInRecently(session: Session, now = Date.now()): boolean {
  return now - session.issued <= REAUTH_MS;
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
    if (at !== -1 && part.slice(0, at).trim() === SESSION_COOKIE)
      return `${SESSION_COOKIE}=${part.slice(at + 1).trim()}`;
  }
  return undefined;
}
