// One Kysely instance per service over either dialect: mysql2 when a DATABASE_URL is given,
// Node's built-in SQLite on `<dataDir>/<service>.sqlite` otherwise. Callers see the same interface.
// mysql2 is loaded only when it is used: a replica on SQLite never parses it (in the bundle it is
// a chunk of its own, about a quarter of the app's code).
import { chmodSync, closeSync, existsSync, mkdirSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { Kysely, MysqlDialect } from 'kysely';
import { NodeSqliteDatabase } from './node-sqlite.ts';
import { SharedFileSqliteDialect } from './sqlite-dialect.ts';

export type DialectName = 'sqlite' | 'mysql';

export interface Storage<Schema> {
  db: Kysely<Schema>;
  dialect: DialectName;
  /** Where the data lives, for the start log line (never includes a password). */
  location: string;
  close(): Promise<void>;
}

export interface StorageOptions {
  dataDir: string;
  databaseUrl: string | undefined;
}

/** How long a writer waits for another replica's write lock on the shared SQLite file. */
const SQLITE_BUSY_TIMEOUT_MS = 5000;
/** Fail fast when MySQL is unreachable: requests answer 503 instead of hanging. */
const MYSQL_CONNECT_TIMEOUT_MS = 3000;

export async function openStorage<Schema>(options: StorageOptions, name: 'users' | 'acts'): Promise<Storage<Schema>> {
  return options.databaseUrl ? openMysql<Schema>(options.databaseUrl) : openSqlite<Schema>(options.dataDir, name);
}

function openSqlite<Schema>(dataDir: string, name: string): Storage<Schema> {
  // Password hashes and session keys live here: readable by the service's user only, however
  // loose the umask (SQLite gives its -wal and -shm files the database file's mode).
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  chmodSync(dataDir, 0o700);
  const file = join(dataDir, `${name}.sqlite`);
  closeSync(openSync(file, 'a', 0o600));
  for (const own of [file, `${file}-wal`, `${file}-shm`]) if (existsSync(own)) chmodSync(own, 0o600);
  // The busy timeout is set at open: switching to WAL itself needs a lock another replica may hold.
  const database = new NodeSqliteDatabase(file, { busyTimeoutMs: SQLITE_BUSY_TIMEOUT_MS });
  database.exec('PRAGMA journal_mode = WAL');
  database.exec('PRAGMA synchronous = NORMAL');
  const db = new Kysely<Schema>({ dialect: new SharedFileSqliteDialect({ database }) });
  return { db, dialect: 'sqlite', location: file, close: () => db.destroy() };
}

async function openMysql<Schema>(databaseUrl: string): Promise<Storage<Schema>> {
  // A CommonJS package: Node's loader names its exports, a bundle's chunk only gives `default`.
  const mysql2 = await import('mysql2');
  const createPool = (mysql2 as unknown as { default?: typeof mysql2 }).default?.createPool ?? mysql2.createPool;
  const url = new URL(databaseUrl);
  const pool = createPool({
    host: url.hostname,
    port: Number(url.port || 3306),
    user: decodeURIComponent(url.username),
    password: decodeURIComponent(url.password),
    database: decodeURIComponent(url.pathname.slice(1)),
    charset: 'utf8mb4_bin',
    connectionLimit: 10,
    connectTimeout: MYSQL_CONNECT_TIMEOUT_MS,
    supportBigNumbers: true,
    bigNumberStrings: true,
    enableKeepAlive: true,
  });
  const db = new Kysely<Schema>({ dialect: new MysqlDialect({ pool }) });
  return {
    db,
    dialect: 'mysql',
    location: `mysql://${url.host}${url.pathname}`,
    close: () => db.destroy(),
  };
}
