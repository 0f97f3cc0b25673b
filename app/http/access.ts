// The two access modes (API_ACCESS, docs/api-notes.md) as route guards. In `open` mode, the
// course contract: writes are anonymous. In `owner` mode every write but sign-up and log-in
// comes from the site itself (csrf.ts) with a live session (401 otherwise), and the handler
// then checks ownership (403) with the username the guard found.
import type { Request, RequestHandler, Response } from 'express';
import type { ApiAccess } from '../config.ts';
import { sameOriginOnly } from './csrf.ts';
import { HttpError } from './errors.ts';

/**
 * Who a request's session cookie names, once the users service agrees that the session is
 * live; undefined without one. Throws a 503 HttpError when that cannot be told right now.
 */
export type SessionLookup = (req: Request) => Promise<string | undefined>;

export interface Access {
  mode: ApiAccess;
  lookup: SessionLookup;
  /** Guards for a write: none in `open` mode; same-origin and a live session in `owner` mode. */
  write: RequestHandler[];
  /** The logged-in user, for a read that shows them more (owner mode only); else undefined. */
  viewer(req: Request): Promise<string | undefined>;
}

const USERNAME = 'sessionUsername';

export function access(mode: ApiAccess, lookup: SessionLookup): Access {
  const requireSession: RequestHandler = async (req, res, next) => {
    const username = await lookup(req);
    if (username === undefined) throw new HttpError(401, 'log in first: this needs a session (POST /api/v1/sessions)');
    setSessionUser(res, username);
    next();
  };
  return {
    mode,
    lookup,
    write: mode === 'owner' ? [sameOriginOnly, requireSession] : [],
    // A read never fails for want of the users service: it is then answered as to anyone.
    viewer: async (req) => (mode === 'owner' ? lookup(req).catch(() => undefined) : undefined),
  };
}

/** Records the user a guard found, for sessionUser() in the handlers after it. */
export function setSessionUser(res: Response, username: string): void {
  res.locals[USERNAME] = username;
}

/** The username a session guard found for this request. */
export function sessionUser(res: Response): string {
  const username: unknown = res.locals[USERNAME];
  if (typeof username !== 'string') throw new Error('no session guard ran before this handler');
  return username;
}

/** The username a session guard found, or undefined when none ran (`open` mode). */
export function sessionUserIfAny(res: Response): string | undefined {
  const username: unknown = res.locals[USERNAME];
  return typeof username === 'string' ? username : undefined;
}
