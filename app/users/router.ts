// Users service: spec rows 1-6b, in either access mode (http/access.ts).
import { Router, type Request } from 'express';
import type { ApiAccess } from '../config.ts';
import { access, sessionUserIfAny } from '../http/access.ts';
import { sameOriginOnly } from '../http/csrf.ts';
import { badRequest, HttpError } from '../http/errors.ts';
import { jsonBody } from '../http/json.ts';
import { sendEmpty, sendError, sendJson } from '../http/respond.ts';
import { route } from '../http/routes.ts';
import { clearSession, setSession, signedSession } from '../http/session.ts';
import { objectWithKeys, text } from '../http/validate.ts';
import { DECOY_HASH, hashPassword, isSha1Hex, verifyPassword } from './passwords.ts';
import type { UsersStore } from './store.ts';
import { NO_SUCH_USER } from './lookup-contract.ts';

const WRONG_LOGIN = 'wrong username or password';

function credentials(body: unknown): { username: string; password: string } {
  const fields = objectWithKeys(body, ['username', 'password']);
  const username = text(fields.username, 'username');
  if (!isSha1Hex(fields.password)) throw badRequest('password must be a SHA1 hash: 40 hexadecimal digits');
  return { username, password: fields.password };
}

export interface UsersRouterOptions {
  bodyLimit: number;
  apiAccess: ApiAccess;
}

export function usersRouter(store: UsersStore, { bodyLimit, apiAccess }: UsersRouterOptions): Router {
  const router = Router();
  /** The user a live session cookie names (signed, unexpired, key not revoked). */
  const liveUser = async (req: Request): Promise<string | undefined> => {
    const session = signedSession(req);
    return session !== undefined && (await store.sessionLive(session.username, session.key)) ? session.username : undefined;
  };
  const guard = access(apiAccess, liveUser);

  route(router, '/api/v1/users', {
    // Row 1: sign-up needs no session in either mode.
    post: [
      ...jsonBody(bodyLimit),
      async (req, res) => {
        const { username, password } = credentials(req.body);
        if (!(await store.create(username, await hashPassword(password)))) throw badRequest('username is taken');
        sendJson(res, 201, {});
      },
    ],
    // Row 3
    get: async (_req, res) => {
      const users = await store.list();
      if (users.length === 0) return sendEmpty(res, 204);
      sendJson(res, 200, users);
    },
  });

  // Row 2. In owner mode only the user themself; their cookies die with their session key.
  route(router, '/api/v1/users/:username', {
    delete: [
      ...guard.write,
      async (req, res) => {
        const username = req.params.username as string;
        const self = sessionUserIfAny(res);
        if (self !== undefined && self !== username) throw new HttpError(403, 'you can delete only your own account');
        if (!(await store.remove(username))) throw badRequest('no such user');
        if (self !== undefined) clearSession(res);
        sendJson(res, 200, {});
      },
    ],
  });

  // Row 6b: the acts service's cheap lookup.
  route(router, '/api/v1/users/:username/exists', {
    get: async (req, res) => {
      if (!(await store.exists(req.params.username as string))) return sendError(res, 404, NO_SUCH_USER);
      sendJson(res, 200, {});
    },
  });

  route(router, '/api/v1/sessions', {
    // Row 4. It sets the cookie: same-origin and application/json only, in either mode.
    post: [
      sameOriginOnly,
      ...jsonBody(bodyLimit, { jsonTypeOnly: true }),
      async (req, res) => {
        const { username, password } = credentials(req.body);
        const stored = await store.passwordHash(username);
        const ok = await verifyPassword(password, stored ?? (await DECOY_HASH));
        const key = ok && stored !== undefined ? await store.sessionKey(username) : undefined;
        if (key === undefined) throw new HttpError(401, WRONG_LOGIN);
        setSession(res, username, key);
        sendJson(res, 200, { username });
      },
    ],
    // Row 5: every cookie of the user stops working, not only this one.
    delete: [
      sameOriginOnly,
      async (req, res) => {
        const username = await liveUser(req);
        clearSession(res);
        if (username === undefined && apiAccess === 'owner') throw new HttpError(401, 'not logged in');
        if (username !== undefined) await store.revokeSessions(username);
        sendJson(res, 200, {});
      },
    ],
  });

  // Row 6: a deleted user's or a logged-out session's cookie stops working at once.
  route(router, '/api/v1/sessions/me', {
    get: async (req, res) => {
      const username = await liveUser(req);
      if (username === undefined) throw new HttpError(401, 'not logged in');
      sendJson(res, 200, { username });
    },
  });

  // Extension: the site's session probe. Always 200, so a page loaded by a visitor logs no
  // failed request (row 6 keeps its 401); it also tells the page the access mode, which decides
  // whether an upvote is one per user (owner) or a plain counter (open).
  route(router, '/api/v1/sessions/current', {
    get: async (req, res) => {
      res.setHeader('Cache-Control', 'no-store');
      sendJson(res, 200, { username: (await liveUser(req)) ?? null, apiAccess });
    },
  });

  return router;
}
