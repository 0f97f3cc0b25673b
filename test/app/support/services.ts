// Services started in-process on ephemeral ports, as production runs them: users and acts
// as separate servers (acts asks users over HTTP), sharing one session secret. In `open`
// access mode unless a suite asks for `owner`: the contract is open mode's.
import { startApp, type RunningApp, type StartOptions } from '../../../app/server.ts';
import { silentLogger } from '../../../app/log.ts';
import type { StorageOptions } from '../../../app/db/connect.ts';
import { api, type Api } from './client.ts';

export const TEST_SECRET = 'contract-test-session-secret-0123456789';

export interface Pair {
  users: Api;
  acts: Api;
  usersApp: RunningApp;
  actsApp: RunningApp;
  close(): Promise<void>;
}

const common = (storage: StorageOptions, extra: StartOptions): StartOptions => ({
  host: '127.0.0.1',
  port: 0,
  sessionSecret: TEST_SECRET,
  logger: silentLogger,
  apiAccess: 'open',
  ...storage,
  ...extra,
});

export async function startUsers(storage: StorageOptions, extra: StartOptions = {}): Promise<RunningApp> {
  return startApp(common(storage, { service: 'users', ...extra }));
}

export async function startActs(
  storage: StorageOptions,
  usersUrl: string,
  extra: StartOptions = {},
): Promise<RunningApp> {
  return startApp(common(storage, { service: 'acts', usersUrl, ...extra }));
}

export async function startAll(storage: StorageOptions, extra: StartOptions = {}): Promise<RunningApp> {
  return startApp(common(storage, { service: 'all', ...extra }));
}

export async function startPair(storage: StorageOptions, extra: StartOptions = {}): Promise<Pair> {
  const usersApp = await startUsers(storage, extra);
  const actsApp = await startActs(storage, usersApp.url, extra);
  return {
    users: api(usersApp.url),
    acts: api(actsApp.url),
    usersApp,
    actsApp,
    async close() {
      await actsApp.close();
      await usersApp.close();
    },
  };
}
