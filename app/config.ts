// Environment → typed configuration. Every problem names the variable, the value it had and
// what was expected, and start-up stops (main.ts exits 1); nothing falls back silently.
import { readFileSync } from 'node:fs';
import { logSettings, type LogSettings } from './log.ts';

export type ServiceName = 'users' | 'acts' | 'all';

/**
 * Who may write (docs/api-notes.md). `open`: the course contract, every write anonymous.
 * `owner`: writes need a session and touch only the writer's own content.
 */
export type ApiAccess = 'open' | 'owner';
export const API_ACCESS_MODES: readonly ApiAccess[] = ['open', 'owner'];

export interface AppConfig {
  service: ServiceName;
  port: number;
  host: string;
  /** Where the SQLite files live when no DATABASE_URL is given. */
  dataDir: string;
  /** mysql://user:password@host:port/database; undefined means SQLite under dataDir. */
  databaseUrl: string | undefined;
  /** Base URL of the users service, for the acts service; undefined in `all` mode means itself. */
  usersUrl: string | undefined;
  /** Origin header the acts service sends to the users service; undefined means its own URL. */
  actsOrigin: string | undefined;
  /** undefined: a random secret is made at start (sessions then die with the process). */
  sessionSecret: string | undefined;
  bodyLimit: number;
  /** Request-body bytes this process holds in memory at once; more waits (http/body-budget.ts). */
  bodyMemory: number;
  /** Photos waiting for the image worker: in all, and per user (acts/image-queue.ts); more get 503. */
  imageQueue: { maxWaiting: number; maxWaitingPerUser: number };
  publicDir: string;
  /** `owner` unless API_ACCESS says otherwise: the safe choice for anything on a network. */
  apiAccess: ApiAccess;
  /** LOG_LEVEL and LOG_FORMAT (logging/logger.ts). */
  log: LogSettings;
}

export class ConfigError extends Error {
  readonly code = 'CONFIG_INVALID';
  constructor(
    readonly variable: string,
    readonly value: string,
    readonly expected: string,
  ) {
    super(`${variable}=${JSON.stringify(value)} is invalid: expected ${expected}`);
    this.name = 'ConfigError';
  }
}

const DEFAULT_BODY_LIMIT = 16 * 1024 * 1024;
/**
 * One body of the default limit at a time: a 16 MiB body costs a replica about 100 MB while it
 * is decoded, parsed and stored (measured in a 256 MB container), so two at once left no room.
 */
const DEFAULT_BODY_MEMORY = 16 * 1024 * 1024;
const MIN_SECRET_LENGTH = 16;

type Env = Record<string, string | undefined>;

export function loadConfig(env: Env): AppConfig {
  const service = oneOf(env, 'SERVICE', ['users', 'acts', 'all'] as const, 'all');
  const usersUrl = optionalHttpUrlList(env, 'USERS_URL');
  if (service === 'acts' && usersUrl === undefined) {
    throw new ConfigError('USERS_URL', '', 'the http(s) URL of the users service when SERVICE=acts');
  }
  return {
    service,
    port: integer(env, 'PORT', 8080, 0, 65535, 'a port number from 0 to 65535'),
    host: nonEmpty(env, 'HOST', '0.0.0.0'),
    dataDir: nonEmpty(env, 'DATA_DIR', './data'),
    databaseUrl: optionalMysqlUrl(env, 'DATABASE_URL'),
    usersUrl,
    actsOrigin: optionalHttpUrl(env, 'ACTS_ORIGIN'),
    sessionSecret: optionalSecret(env, 'SESSION_SECRET'),
    bodyLimit: integer(
      env,
      'BODY_LIMIT',
      DEFAULT_BODY_LIMIT,
      1,
      Number.MAX_SAFE_INTEGER,
      'a positive whole number of bytes',
    ),
    bodyMemory: integer(
      env,
      'BODY_MEMORY',
      DEFAULT_BODY_MEMORY,
      1,
      Number.MAX_SAFE_INTEGER,
      'a positive whole number of bytes',
    ),
    imageQueue: {
      maxWaiting: integer(env, 'IMAGE_QUEUE', 48, 1, 100_000, 'a positive whole number of photos'),
      maxWaitingPerUser: integer(env, 'IMAGE_QUEUE_PER_USER', 24, 1, 100_000, 'a positive whole number of photos'),
    },
    publicDir: nonEmpty(env, 'PUBLIC_DIR', './public'),
    apiAccess: oneOf(env, 'API_ACCESS', API_ACCESS_MODES, 'owner'),
    log: logSettings(env, (variable, value, expected) => new ConfigError(variable, value, expected)),
  };
}

function raw(env: Env, name: string): string | undefined {
  const value = env[name];
  return value === undefined || value === '' ? undefined : value;
}

function nonEmpty(env: Env, name: string, fallback: string): string {
  return raw(env, name) ?? fallback;
}

function oneOf<T extends string>(env: Env, name: string, allowed: readonly T[], fallback: T): T {
  const value = raw(env, name);
  if (value === undefined) return fallback;
  if ((allowed as readonly string[]).includes(value)) return value as T;
  throw new ConfigError(name, value, `one of ${allowed.join(', ')}`);
}

function integer(env: Env, name: string, fallback: number, min: number, max: number, expected: string): number {
  const value = raw(env, name);
  if (value === undefined) return fallback;
  if (!/^[0-9]+$/.test(value)) throw new ConfigError(name, value, expected);
  const n = Number(value);
  if (n < min || n > max) throw new ConfigError(name, value, expected);
  return n;
}

function optionalHttpUrl(env: Env, name: string): string | undefined {
  const value = raw(env, name);
  if (value === undefined) return undefined;
  const url = URL.canParse(value) ? new URL(value) : undefined;
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
    throw new ConfigError(name, value, 'an http:// or https:// URL, e.g. http://127.0.0.1:8080');
  }
  return value.replace(/\/+$/, '');
}

/** One URL or several, comma-separated (every replica of a service): each checked, each trimmed. */
function optionalHttpUrlList(env: Env, name: string): string | undefined {
  const value = raw(env, name);
  if (value === undefined) return undefined;
  return value
    .split(',')
    .map((part) => optionalHttpUrl({ [name]: part.trim() }, name) ?? badList(name, value))
    .join(',');
}

function badList(name: string, value: string): never {
  throw new ConfigError(
    name,
    value,
    'one http(s) URL, or several separated by commas (every replica of the users service)',
  );
}

function optionalMysqlUrl(env: Env, name: string): string | undefined {
  const value = raw(env, name);
  if (value === undefined) return undefined;
  const url = URL.canParse(value) ? new URL(value) : undefined;
  if (url?.protocol !== 'mysql:' || url.hostname === '' || url.pathname.length < 2) {
    // Never echo a password back into a log line.
    const shown = url ? value.replace(/\/\/([^:@/]*):[^@/]*@/, '//$1:***@') : value;
    throw new ConfigError(name, shown, 'mysql://user:password@host:port/database');
  }
  return value;
}

/**
 * A secret from NAME, or from the file NAME_FILE names (how the orchestrator passes it: a file
 * readable by the replica's user only, not an environment every child process inherits and
 * `docker inspect` shows). Both set is a mistake worth stopping for.
 */
function optionalSecret(env: Env, name: string): string | undefined {
  const fileName = raw(env, `${name}_FILE`);
  let value = raw(env, name);
  if (fileName !== undefined) {
    if (value !== undefined)
      throw new ConfigError(`${name}_FILE`, fileName, `unset while ${name} is set (one or the other)`);
    try {
      value = readFileSync(fileName, 'utf8').replace(/\r?\n$/, '');
    } catch (err) {
      throw new ConfigError(
        `${name}_FILE`,
        fileName,
        `a file this user can read (${(err as NodeJS.ErrnoException).code ?? 'unreadable'})`,
      );
    }
  }
  if (value === undefined) return undefined;
  if (value.length < MIN_SECRET_LENGTH) {
    throw new ConfigError(name, '***', `at least ${MIN_SECRET_LENGTH} characters`);
  }
  return value;
}
