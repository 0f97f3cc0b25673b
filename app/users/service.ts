// The users service's parts: its storage (migrated), its routes and its health probe.
import type { ApiAccess } from '../config.ts';
import type { StorageOptions } from '../db/connect.ts';
import { openMigratedStorage } from '../db/migrate.ts';
import { usersMigrations } from '../db/migrations/users.ts';
import type { UsersSchema } from '../db/schema.ts';
import type { ServiceHandle } from '../service-handle.ts';
import { usersRouter } from './router.ts';
import { LoginThrottle } from './login-throttle.ts';
import { UsersStore } from './store.ts';

export async function openUsersService(
  storage: StorageOptions,
  bodyLimit: number,
  apiAccess: ApiAccess,
): Promise<ServiceHandle> {
  const { db, location, close } = await openMigratedStorage<UsersSchema>(storage, 'users', usersMigrations);
  const store = new UsersStore(db);
  const throttle = new LoginThrottle(db);
  return {
    name: 'users',
    router: usersRouter(store, { bodyLimit, apiAccess, throttle }),
    probe: () => store.probe(),
    storage: location,
    close,
  };
}
