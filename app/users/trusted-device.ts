// A browser that has logged into an account carries a signed cookie naming that account (its
// key: db/keys.ts, so a later holder of the same name is not trusted by it). A log-in from such
// a browser is not held back by the account's failed-log-in budget (login-throttle.ts): OWASP's
// "device cookie", which keeps an attacker's guessing from locking the owner out. Sent only to
// the log-in route, HttpOnly, SameSite=Strict; signed with SESSION_SECRET like the session.
import type { Request, Response } from 'express';

export const DEVICE_COOKIE = 'selflessacts_device';
const DEVICE_PATH = '/api/v1/sessions';
const DEVICE_TTL_MS = 365 * 24 * 60 * 60 * 1000;

export function trustsAccount(req: Request, accountKey: string): boolean {
  const signed = req.signedCookies as Record<string, unknown> | undefined;
  return signed?.[DEVICE_COOKIE] === accountKey;
}

export function trustDevice(res: Response, accountKey: string): void {
  res.cookie(DEVICE_COOKIE, accountKey, {
    signed: true,
    httpOnly: true,
    secure: res.req.secure,
    sameSite: 'strict',
    path: DEVICE_PATH,
    maxAge: DEVICE_TTL_MS,
  });
}
