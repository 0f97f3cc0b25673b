// The acts service's parts: its storage (migrated), its routes, its health probe, and its
// client of the users service.
import { Router } from 'express';
import type { StorageOptions } from '../db/connect.ts';
import { openMigratedStorage } from '../db/migrate.ts';
import { actsMigrations } from '../db/migrations/acts.ts';
import type { ActsSchema } from '../db/schema.ts';
import type { ServiceHandle } from '../service-handle.ts';
import { actsRouter } from './acts-router.ts';
import { ActsStore } from './acts-store.ts';
import { CategoriesStore } from './categories-store.ts';
import { categoriesRouter } from './categories-router.ts';
import { usersClient } from './users-client.ts';

export interface ActsServiceOptions {
  storage: StorageOptions;
  bodyLimit: number;
  /** Functions: in SERVICE=all mode the users service is this process, known after listen. */
  usersUrl: () => string;
  origin: () => string;
}

export async function openActsService(options: ActsServiceOptions): Promise<ServiceHandle> {
  const { db, location, close } = await openMigratedStorage<ActsSchema>(options.storage, 'acts', actsMigrations);
  const acts = new ActsStore(db);
  const categories = new CategoriesStore(db);
  const users = usersClient(options.usersUrl, options.origin);
  const router = Router();
  router.use(categoriesRouter(categories, acts, options.bodyLimit));
  router.use(actsRouter({ acts, categories, users, bodyLimit: options.bodyLimit }));
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
