// Stateless sessions: a cookie signed by cookie-parser (HMAC with SESSION_SECRET, checked in
// constant time by cookie-signature) carrying the username and an expiry. Both services read
// it with the same secret, so the acts service knows who uploads without asking anyone.
import type { Request, Response } from 'express';

export const SESSION_COOKIE = 'selflessacts_session';
export const SESSION_TTL_MS = 7 * 24 * 60 * 60 * 1000;

export interface Session {
  username: string;
  /** Milliseconds since the epoch. */
  expires: number;
}

export function encodeSession(session: Session): string {
  return JSON.stringify({ u: session.username, e: session.expires });
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
  const { u, e } = (data ?? {}) as { u?: unknown; e?: unknown };
  if (typeof u !== 'string' || u === '' || typeof e !== 'number' || !(e > now)) return undefined;
  return { username: u, expires: e };
}

export function setSession(res: Response, username: string, now = Date.now()): void {
  const expires = now + SESSION_TTL_MS;
  res.cookie(SESSION_COOKIE, encodeSession({ username, expires }), {
    signed: true,
    httpOnly: true,
    sameSite: 'lax',
    path: '/',
    expires: new Date(expires),
  });
}

export function clearSession(res: Response): void {
  res.clearCookie(SESSION_COOKIE, { httpOnly: true, sameSite: 'lax', path: '/' });
}

/** The signed-in user, or undefined. cookie-parser has already rejected bad signatures. */
export function currentSession(req: Request, now = Date.now()): Session | undefined {
  const signed = req.signedCookies as Record<string, unknown> | undefined;
  return decodeSession(signed?.[SESSION_COOKIE], now);
}
