// Users service: spec rows 1-6b.
import { Router } from 'express';
import { badRequest, HttpError } from '../http/errors.ts';
import { jsonBody, sendEmpty, sendError, sendJson } from '../http/json.ts';
import { route } from '../http/routes.ts';
import { clearSession, currentSession, setSession } from '../http/session.ts';
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

export function usersRouter(store: UsersStore, bodyLimit: number): Router {
  const router = Router();
  const json = jsonBody(bodyLimit);

  route(router, '/api/v1/users', {
    // Row 1
    post: [
      ...json,
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

  // Row 2
  route(router, '/api/v1/users/:username', {
    delete: async (req, res) => {
      if (!(await store.remove(req.params.username as string))) throw badRequest('no such user');
      sendJson(res, 200, {});
    },
  });

  // Row 6b: the acts service's cheap lookup.
  route(router, '/api/v1/users/:username/exists', {
    get: async (req, res) => {
      if (!(await store.exists(req.params.username as string))) return sendError(res, 404, NO_SUCH_USER);
      sendJson(res, 200, {});
    },
  });

  route(router, '/api/v1/sessions', {
    // Row 4
    post: [
      ...json,
      async (req, res) => {
        const { username, password } = credentials(req.body);
        const stored = await store.passwordHash(username);
        const ok = await verifyPassword(password, stored ?? (await DECOY_HASH));
        if (!ok || stored === undefined) throw new HttpError(401, WRONG_LOGIN);
        setSession(res, username);
        sendJson(res, 200, { username });
      },
    ],
    // Row 5
    delete: (_req, res) => {
      clearSession(res);
      sendJson(res, 200, {});
    },
  });

  // Row 6. A deleted user's cookie stops working at once, signature or not.
  route(router, '/api/v1/sessions/me', {
    get: async (req, res) => {
      const session = currentSession(req);
      if (session === undefined || !(await store.exists(session.username))) throw new HttpError(401, 'not logged in');
      sendJson(res, 200, { username: session.username });
    },
  });

  return router;
}
