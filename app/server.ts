// startApp: the services a config names, migrated and listening, as one handle to close.
// main.ts uses it for the real thing; tests use it to run services in-process on port 0.
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { hostname } from 'node:os';
import { openActsService } from './acts/service.ts';
import { loadConfig, type AppConfig } from './config.ts';
import { httpApp } from './http-app.ts';
import { configureImageQueue } from './acts/variants.ts';
import { configureBodyMemory } from './http/body-budget.ts';
import type { ReplicaState } from './http/replica.ts';
import { createLogger, type Logger } from './log.ts';
import type { ServiceHandle } from './service-handle.ts';
import { openUsersService } from './users/service.ts';

export interface RunningApp {
  url: string;
  port: number;
  config: AppConfig;
  /** Stops accepting, lets in-flight requests finish (bounded), closes storage. Idempotent. */
  close(): Promise<void>;
}

export interface StartOptions extends Partial<AppConfig> {
  logger?: Logger;
}

const DRAIN_TIMEOUT_MS = 5000;

export async function startApp(options: StartOptions = {}): Promise<RunningApp> {
  const { logger = createLogger({ bindings: { component: 'app' } }), ...overrides } = options;
  const config: AppConfig = { ...loadConfig({}), ...overrides };
  if (config.service === 'acts' && config.usersUrl === undefined) {
    throw new Error('the acts service needs usersUrl (USERS_URL): the users service it asks about users');
  }
  const sessionSecret = sessionSecretFor(config, logger);
  configureBodyMemory(config.bodyMemory);
  configureImageQueue(config.imageQueue);

  // The acts service learns where this process listens only after listen().
  let selfUrl = '';
  let port = 0;
  const services = await openServices(config, () => ({ url: selfUrl, port }));

  const state: ReplicaState = { requests: 0, crashed: false };
  const app = httpApp({
    services,
    state,
    sessionSecret,
    publicDir: config.service === 'all' ? config.publicDir : undefined,
    logger,
  });
  const server = createServer(app);
  try {
    await listen(server, config.port, config.host);
  } catch (err) {
    await closeServices(services);
    throw err;
  }
  port = (server.address() as AddressInfo).port;
  selfUrl = `http://${loopbackFor(config.host)}:${port}`;

  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      await stopServer(server);
      await closeServices(services);
    })();
    return closing;
  };
  logger.info('started', {
    service: config.service,
    url: selfUrl,
    port,
    storage: services.map((s) => `${s.name}: ${s.storage}`),
    apiAccess: config.apiAccess,
    pid: process.pid,
  });
  return { url: selfUrl, port, config, close };
}

/** The configured secret, or a random one with a warning: enough for one process, no more. */
function sessionSecretFor(config: AppConfig, logger: Logger): string {
  if (config.sessionSecret !== undefined) return config.sessionSecret;
  logger.warn('session_secret_random', {
    message:
      'SESSION_SECRET is not set: using a random one; sessions end when this process does and are not shared with other replicas or services',
  });
  return randomBytes(32).toString('hex');
}

/** The services the config names, storage migrated; those already open are closed if one fails. */
async function openServices(config: AppConfig, self: () => { url: string; port: number }): Promise<ServiceHandle[]> {
  const storage = { dataDir: config.dataDir, databaseUrl: config.databaseUrl };
  const services: ServiceHandle[] = [];
  try {
    if (config.service !== 'acts') services.push(await openUsersService(storage, config.bodyLimit, config.apiAccess));
    if (config.service !== 'users') {
      services.push(
        await openActsService({
          storage,
          bodyLimit: config.bodyLimit,
          apiAccess: config.apiAccess,
          usersUrl: () => config.usersUrl ?? self().url,
          origin: () => config.actsOrigin ?? `http://${hostname()}:${self().port}`,
        }),
      );
    }
  } catch (err) {
    await closeServices(services);
    throw err;
  }
  return services;
}

/** In reverse order of opening; each closed once however often this is called. */
async function closeServices(services: ServiceHandle[]): Promise<void> {
  for (const service of services.splice(0).reverse()) await service.close();
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

async function stopServer(server: Server): Promise<void> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeIdleConnections();
  const timer = setTimeout(() => server.closeAllConnections(), DRAIN_TIMEOUT_MS);
  await closed;
  clearTimeout(timer);
}

/** Where this process can reach itself: a wildcard address means any local one. */
function loopbackFor(host: string): string {
  if (host === '0.0.0.0' || host === '') return '127.0.0.1';
  if (host === '::') return '[::1]';
  return host.includes(':') ? `[${host}]` : host;
}
