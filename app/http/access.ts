// The two access modes (API_ACCESS, docs/api-notes.md) as route guards. In `open` mode, the
// course contract: writes are anonymous. In `owner` mode every write but sign-up and log-in
// comes from the site itself (csrf.ts) with a live session (401 otherwise), and the handler
// then checks ownership (403) with the account the guard found: its name, and the key acts and
// upvotes are owned by (db/keys.ts accountKey), so a name registered again owns nothing of its
// earlier holder's. A session seen in use has its idle clock started again (session.ts).
import type { Request, RequestHandler, Response } from 'express';
import type { ApiAccess } from '../config.ts';
import { sameOriginOnly } from './csrf.ts';
import { HttpError } from './errors.ts';
import { touchSession } from './session.ts';

/** Who a session names: the account's name, and the key its content is owned by. */
export interface Account {
  username: string;
  key: string;
}

/**
 * The account a request's session cookie names, once the users service agrees that the session
 * is live; undefined without one. Throws a 503 HttpError when that cannot be told right now.
 */
export type SessionLookup = (req: Request) => Promise<Account | undefined>;

export interface Access {
  mode: ApiAccess;
  lookup: SessionLookup;
  /** Guards for a write: none in `open` mode; same-origin and a live session in `owner` mode. */
  write: RequestHandler[];
  /** Guards for a write that needs an author in either mode (a comment): same-origin and a live session. */
  identified: RequestHandler[];
  /** The logged-in account, for a read that shows them more (owner mode only); else undefined. */
  viewer(req: Request): Promise<Account | undefined>;
}

const ACCOUNT = 'sessionAccount';

export function access(mode: ApiAccess, lookup: SessionLookup): Access {
  const requireSession: RequestHandler = async (req, res, next) => {
    const account = await lookup(req);
    if (account === undefined) throw new HttpError(401, 'log in first: this needs a session (POST /api/v1/sessions)');
    touchSession(req, res);
    setSessionAccount(res, account);
    next();
  };
  return {
    mode,
    lookup,
    write: mode === 'owner' ? [sameOriginOnly, requireSession] : [],
    identified: [sameOriginOnly, requireSession],
    // A read never fails for want of the users service: it is then answered as to anyone.
    viewer: async (req) => {
      if (mode !== 'owner') return undefined;
      const account = await lookup(req).catch(() => undefined);
      if (account !== undefined && req.res !== undefined) touchSession(req, req.res);
      return account;
    },
  };
}

/** Records the account a guard found, for sessionAccount() in the handlers after it. */
export function setSessionAccount(res: Response, account: Account): void {
  res.locals[ACCOUNT] = account;
}

/** The account a session guard found for this request. */
export function sessionAccount(res: Response): Account {
  const account = sessionAccountIfAny(res);
  if (account === undefined) throw new Error('no session guard ran before this handler');
  return account;
}

/** The account a session guard found, or undefined when none ran (`open` mode). */
export function sessionAccountIfAny(res: Response): Account | undefined {
  const account: unknown = res.locals[ACCOUNT];
  return typeof account === 'object' && account !== null ? (account as Account) : undefined;
}
