// Users service: spec rows 1-6b, in either access mode (http/access.ts).
import { Router, type Request, type Response } from 'express';
import type { ApiAccess } from '../config.ts';
import { access, sessionAccount, sessionAccountIfAny } from '../http/access.ts';
import { sameOriginOnly } from '../http/csrf.ts';
import { badRequest, HttpError } from '../http/errors.ts';
import { jsonBody } from '../http/json.ts';
import { sendEmpty, sendError, sendJson } from '../http/respond.ts';
import { route } from '../http/routes.ts';
import { securityEvent } from '../http/security-log.ts';
import { clearSession, loggedInRecently, REAUTH_MS, setSession, signedSession, touchSession } from '../http/session.ts';
import { bioText, givenName, nameField, newName } from '../http/names.ts';
import { objectWithKeys } from '../http/validate.ts';
import { readBody } from '../http/read-body.ts';
import { pagePreview } from '../http/page-preview.ts';
import { AVATAR_SIZE, makeAvatar } from './avatar.ts';
import { ACCOUNT_GENERATION_HEADER, NO_SUCH_USER } from './lookup-contract.ts';
import type { LoginThrottle } from './login-throttle.ts';
import { DECOY_HASH, hashPassword, isSha1Hex, needsRehash, verifyPassword } from './passwords.ts';
import type { StoredAccount, UsersStore } from './store.ts';
import { trustDevice, trustsAccount } from './trusted-device.ts';

const WRONG_LOGIN = 'wrong username or password';

function credentials(body: unknown, mode: ApiAccess, signUp: boolean): { username: string; password: string } {
  const fields = objectWithKeys(body, ['username', 'password']);
  const username = signUp ? newName(fields.username, 'username', mode) : nameField(fields.username, 'username', mode);
  if (!isSha1Hex(fields.password)) throw badRequest('password must be a SHA1 hash: 40 hexadecimal digits');
  return { username, password: fields.password };
}

export interface UsersRouterOptions {
  bodyLimit: number;
  apiAccess: ApiAccess;
  throttle: LoginThrottle;
}

/** The account's generation, for the acts service (rows 6 and 6b): it owns content by account. */
function sendAccount(res: Response, generation: number, body: object): void {
  res.setHeader(ACCOUNT_GENERATION_HEADER, String(generation));
  sendJson(res, 200, body);
}

export function usersRouter(store: UsersStore, { bodyLimit, apiAccess, throttle }: UsersRouterOptions): Router {
  const router = Router();
  /** The account a live session cookie names (signed, unexpired, not idle, key not revoked). */
  const liveAccount = async (req: Request): Promise<StoredAccount | undefined> => {
    const session = signedSession(req);
    return session === undefined ? undefined : store.sessionAccount(session.username, session.key);
  };
  const guard = access(apiAccess, liveAccount);

  route(router, '/api/v1/users', {
    // Row 1: sign-up needs no session in either mode, but comes from the site itself or from no
    // site at all (a page elsewhere must not create accounts in its visitors' names); owner mode
    // also wants it as JSON, as the log-in does.
    post: [
      sameOriginOnly,
      ...jsonBody(bodyLimit, { jsonTypeOnly: apiAccess === 'owner' }),
      async (req, res) => {
        const { username, password } = credentials(req.body, apiAccess, true);
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

  // Row 2. In owner mode only the user themself, from a recent log-in (a cookie left in an
  // unattended browser cannot delete the account); their cookies die with their session key.
  route(router, '/api/v1/users/:username', {
    delete: [
      ...guard.write,
      async (req, res) => {
        const username = givenName(req.params.username as string, apiAccess);
        const self = sessionAccountIfAny(res);
        if (self !== undefined && self.username !== username)
          throw new HttpError(403, 'you can delete only your own account');
        if (self !== undefined) {
          const session = signedSession(req);
          if (session === undefined || !loggedInRecently(session)) {
            throw new HttpError(
              401,
              `log in again to delete your account: it takes a log-in within the last ${REAUTH_MS / 60_000} minutes`,
            );
          }
        }
        if (!(await store.remove(username))) throw badRequest('no such user');
        if (self !== undefined) clearSession(res);
        securityEvent(req, 'account.deleted', { username });
        sendJson(res, 200, {});
      },
    ],
  });

  /** The session's own account, named in the path: anyone else's is 403. */
  const selfOnly = (req: Request, res: Response, what: string) => {
    const self = sessionAccount(res);
    if (self.username !== givenName(req.params.username as string, apiAccess))
      throw new HttpError(403, `you can change only your own ${what}`);
    return self;
  };

  // Extension: a password change, from a session of the account, with the current password
  // (re-authentication: a cookie left in a browser is not enough). Every other session ends;
  // this one gets a new cookie. Wrong current passwords count as failed log-ins (throttled).
  route(router, '/api/v1/users/:username/password', {
    put: [
      ...guard.identified,
      ...jsonBody(bodyLimit, { jsonTypeOnly: true }),
      async (req, res) => {
        const self = selfOnly(req, res, 'password');
        const fields = objectWithKeys(req.body, ['current', 'password']);
        if (!isSha1Hex(fields.current) || !isSha1Hex(fields.password))
          throw badRequest('current and password must be SHA1 hashes: 40 hexadecimal digits');
        const waitMs = await throttle.waitMs(self.username);
        if (waitMs > 0) {
          res.setHeader('Retry-After', String(Math.ceil(waitMs / 1000)));
          throw new HttpError(429, `too many wrong passwords: try again in ${Math.ceil(waitMs / 1000)} s`);
        }
        const stored = await store.credentials(self.username);
        if (stored === undefined || !(await verifyPassword(fields.current, stored.passwordHash))) {
          await throttle.failed(self.username);
          securityEvent(req, 'password.change-refused', { username: self.username });
          throw new HttpError(403, 'the current password is wrong');
        }
        const key = await store.changePassword(self.username, stored.passwordHash, await hashPassword(fields.password));
        if (key === undefined) throw new HttpError(409, 'the password was changed meanwhile: log in again');
        setSession(res, self.username, key);
        securityEvent(req, 'password.changed', { username: self.username });
        sendJson(res, 200, {});
      },
    ],
  });

  // Extension: a profile's public part (its bio), and the user's own change of it.
  route(router, '/api/v1/users/:username/profile', {
    get: async (req, res) => {
      const username = givenName(req.params.username as string, apiAccess);
      const [bio, avatar] = await Promise.all([store.bio(username), store.avatarVersion(username)]);
      if (bio === undefined || avatar === undefined) throw new HttpError(404, NO_SUCH_USER);
      sendJson(res, 200, { username, bio, avatar });
    },
    put: [
      ...guard.identified,
      ...jsonBody(bodyLimit, { jsonTypeOnly: true }),
      async (req, res) => {
        const self = selfOnly(req, res, 'profile');
        const bio = bioText(objectWithKeys(req.body, ['bio']).bio);
        if (!(await store.setBio(self.username, bio))) throw new HttpError(404, NO_SUCH_USER);
        sendJson(res, 200, {
          username: self.username,
          bio,
          avatar: (await store.avatarVersion(self.username)) ?? null,
        });
      },
    ],
  });

  // Extension: what a shared link to a profile (/u/carol) shows as its preview card (the
  // balancer's balancer.previews); public facts only, as the profile itself.
  route(router, '/api/v1/previews/u/:username', {
    get: async (req, res) => {
      const username = givenName(req.params.username as string, apiAccess);
      const [bio, avatar] = await Promise.all([store.bio(username), store.avatarVersion(username)]);
      if (bio === undefined || avatar === undefined) throw new HttpError(404, NO_SUCH_USER);
      sendJson(
        res,
        200,
        pagePreview({
          title: `${username} · SelfLessActs`,
          description: bio.trim() !== '' ? bio : `The kind acts ${username} shared on SelfLessActs.`,
          type: 'profile',
          image:
            avatar === null
              ? undefined
              : {
                  url: `/api/v1/users/${encodeURIComponent(username)}/avatar/${avatar}.jpg`,
                  type: 'image/jpeg',
                  width: AVATAR_SIZE,
                  height: AVATAR_SIZE,
                  alt: `${username}'s photo`,
                },
        }),
      );
    },
  });

  // Extension: an avatar, the image itself as the body (PNG, JPEG, GIF or WebP), made a 256 px
  // square (users/avatar.ts); its copies at URLs that name their version, cached for good.
  route(router, '/api/v1/users/:username/avatar', {
    put: [
      ...guard.identified,
      async (req, res) => {
        const self = selfOnly(req, res, 'avatar');
        const avatar = await makeAvatar(await readBody(req, bodyLimit));
        if (!(await store.setAvatar(self.username, avatar))) throw new HttpError(404, NO_SUCH_USER);
        sendJson(res, 200, { avatar: avatar.version });
      },
    ],
    delete: [
      ...guard.identified,
      async (req, res) => {
        await store.removeAvatar(selfOnly(req, res, 'avatar').username);
        sendJson(res, 200, {});
      },
    ],
  });
  route(router, '/api/v1/users/:username/avatar/:file', {
    get: async (req, res) => {
      const match = /^([0-9a-f]{16})\.(webp|jpg)$/.exec(req.params.file as string);
      if (!match) throw new HttpError(404, 'no such avatar');
      const [, version, ext] = match as unknown as [string, string, 'webp' | 'jpg'];
      const bytes = await store.avatar(
        givenName(req.params.username as string, apiAccess),
        version,
        ext === 'jpg' ? 'jpeg' : 'webp',
      );
      if (bytes === undefined) throw new HttpError(404, 'no such avatar');
      res.setHeader('Cache-Control', 'public, max-age=31536000, immutable');
      res
        .status(200)
        .type(ext === 'jpg' ? 'image/jpeg' : 'image/webp')
        .send(bytes);
    },
  });

  // Row 6b: the acts service's cheap lookup.
  route(router, '/api/v1/users/:username/exists', {
    get: async (req, res) => {
      const account = await store.account(givenName(req.params.username as string, apiAccess));
      if (account === undefined) return sendError(res, 404, NO_SUCH_USER);
      sendAccount(res, account.generation, {});
    },
  });

  route(router, '/api/v1/sessions', {
    // Row 4. It sets the cookie: same-origin and application/json only, in either mode.
    post: [
      sameOriginOnly,
      ...jsonBody(bodyLimit, { jsonTypeOnly: true }),
      async (req, res) => {
        const { username, password } = credentials(req.body, apiAccess, false);
        const stored = await store.credentials(username);
        const trusted = stored !== undefined && trustsAccount(req, stored.account.key);
        if (!trusted) {
          const waitMs = await throttle.waitMs(username);
          if (waitMs > 0) {
            const seconds = Math.ceil(waitMs / 1000);
            res.setHeader('Retry-After', String(seconds));
            securityEvent(req, 'login.throttled', { username });
            throw new HttpError(
              429,
              `too many failed log-ins for this account: try again in ${seconds} s, or from a browser that has logged into it before`,
            );
          }
        }
        const ok = await verifyPassword(password, stored?.passwordHash ?? (await DECOY_HASH));
        const key = ok && stored !== undefined ? await store.sessionKey(username) : undefined;
        if (key === undefined || stored === undefined) {
          if (!trusted) await throttle.failed(username);
          securityEvent(req, 'login.failed', { username });
          throw new HttpError(401, WRONG_LOGIN);
        }
        await throttle.succeeded(username);
        if (needsRehash(stored.passwordHash))
          await store.rehashPassword(username, stored.passwordHash, await hashPassword(password));
        setSession(res, username, key);
        trustDevice(res, stored.account.key);
        securityEvent(req, 'login.ok', { username });
        sendJson(res, 200, { username });
      },
    ],
    // Row 5: every cookie of the user stops working, not only this one.
    delete: [
      sameOriginOnly,
      async (req, res) => {
        const account = await liveAccount(req);
        clearSession(res);
        if (account === undefined && apiAccess === 'owner') throw new HttpError(401, 'not logged in');
        if (account !== undefined) await store.revokeSessions(account.username);
        sendJson(res, 200, {});
      },
    ],
  });

  // Row 6: a deleted user's or a logged-out session's cookie stops working at once.
  route(router, '/api/v1/sessions/me', {
    get: async (req, res) => {
      const account = await liveAccount(req);
      if (account === undefined) throw new HttpError(401, 'not logged in');
      touchSession(req, res);
      sendAccount(res, account.generation, { username: account.username });
    },
  });

  // Extension: the site's session probe. Always 200, so a page loaded by a visitor logs no
  // failed request (row 6 keeps its 401); it also tells the page the access mode, which decides
  // whether an upvote is one per user (owner) or a plain counter (open).
  route(router, '/api/v1/sessions/current', {
    get: async (req, res) => {
      res.setHeader('Cache-Control', 'no-store');
      const account = await liveAccount(req);
      if (account !== undefined) touchSession(req, res);
      sendJson(res, 200, { username: account?.username ?? null, apiAccess });
    },
  });

  return router;
}
