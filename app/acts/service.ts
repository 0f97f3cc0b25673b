// The acts service's parts: its storage (migrated), its routes, its health probe, and its
// client of the users service (user lookups, and whether a session cookie is still live).
import { Router, type Request } from 'express';
import type { ApiAccess } from '../config.ts';
import type { StorageOptions } from '../db/connect.ts';
import { openMigratedStorage } from '../db/migrate.ts';
import { actsMigrations } from '../db/migrations/acts.ts';
import type { ActsSchema } from '../db/schema.ts';
import { accountKey } from '../db/keys.ts';
import { access, type Account } from '../http/access.ts';
import { HttpError } from '../http/errors.ts';
import { sessionCookieHeader, signedSession } from '../http/session.ts';
import type { ServiceHandle } from '../service-handle.ts';
import { actsRouter } from './acts-router.ts';
import { ActsStore } from './acts-store.ts';
import { CategoriesStore } from './categories-store.ts';
import { categoriesRouter } from './categories-router.ts';
import { UpvotesStore } from './upvotes-store.ts';
import { commentsRouter } from './comments-router.ts';
import { previewsRouter } from './previews-router.ts';
import { CommentsStore } from './comments-store.ts';
import { usersClient, type UsersClient } from './users-client.ts';

export interface ActsServiceOptions {
  storage: StorageOptions;
  bodyLimit: number;
  apiAccess: ApiAccess;
  /** Functions: in SERVICE=all mode the users service is this process, known after listen. */
  usersUrl: () => string;
  origin: () => string;
}

/**
 * The user a request's session names. The signature is checked here (a forged or expired
 * cookie costs no call); whether the session was revoked only the users service knows, so it
 * is asked every time: revocation then holds at once, for the price of one loopback request
 * per write (a cache would let a logged-out cookie work on until it expired).
 */
function sessionLookup(users: UsersClient) {
  return async (req: Request): Promise<Account | undefined> => {
    const cookie = sessionCookieHeader(req);
    if (signedSession(req) === undefined || cookie === undefined) return undefined;
    const answer = await users.session(cookie);
    if (answer === 'unavailable')
      throw new HttpError(503, 'users service unavailable, nothing was changed; try again shortly');
    return answer === 'none'
      ? undefined
      : { username: answer.username, key: accountKey(answer.username, answer.generation) };
  };
}

export async function openActsService(options: ActsServiceOptions): Promise<ServiceHandle> {
  const { db, location, close } = await openMigratedStorage<ActsSchema>(options.storage, 'acts', actsMigrations);
  const acts = new ActsStore(db);
  const categories = new CategoriesStore(db);
  const upvotes = new UpvotesStore(db);
  const comments = new CommentsStore(db);
  const users = usersClient(options.usersUrl, options.origin);
  const guard = access(options.apiAccess, sessionLookup(users));
  const router = Router();
  router.use(categoriesRouter({ categories, acts, upvotes, bodyLimit: options.bodyLimit, access: guard }));
  router.use(actsRouter({ acts, categories, upvotes, users, bodyLimit: options.bodyLimit, access: guard }));
  router.use(commentsRouter({ acts, comments, access: guard, bodyLimit: options.bodyLimit }));
  router.use(previewsRouter({ acts, categories }));
  return {
    name: 'acts',
    router,
    probe: () => acts.probe(),
    storage: location,
    close: async () => {
      await users.close();
      await close();
    },
  };
}
