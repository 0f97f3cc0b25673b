// The two storage backends the contract runs on. Each `fresh()` is an empty store of its own:
// a temp directory for SQLite, a new `selfless_<random>` database on MariaDB, removed by
// dispose(). `peek` reads a table directly, for the few facts the API cannot show (e.g. that
// a password is not stored as sent).
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { createConnection } from 'mysql2/promise';
import type { StorageOptions } from '../../../app/db/connect.ts';
import { mysqlAvailable, mysqlTestUrl, skipUnless } from '../../helpers/requirements.ts';
import { tcpProxy, type TcpProxy } from './tcp-proxy.ts';

export interface FreshStorage {
  storage: StorageOptions;
  /** Rows of `select * from <table>` in the given service's store. */
  peek(service: 'users' | 'acts', table: string): Promise<Record<string, unknown>[]>;
  /** One statement with `?` parameters, for a state the API cannot make (a hash from before). */
  write(service: 'users' | 'acts', statement: string, params: (string | number)[]): Promise<void>;
  dispose(): Promise<void>;
}

export interface Backend {
  name: 'SQLite' | 'MariaDB';
  /** node:test `skip` value: false when available (throws under CI when missing). */
  skip: string | false;
  fresh(): Promise<FreshStorage>;
}

export function sqliteBackend(): Backend {
  return {
    name: 'SQLite',
    skip: false,
    async fresh() {
      const dataDir = await mkdtemp(join(tmpdir(), 'selfless-app-'));
      return {
        storage: { dataDir, databaseUrl: undefined },
        async peek(service, table) {
          const db = new DatabaseSync(join(dataDir, `${service}.sqlite`), { readOnly: true });
          try {
            return db.prepare(`select * from ${table}`).all() as Record<string, unknown>[];
          } finally {
            db.close();
          }
        },
        async write(service, statement, params) {
          const db = new DatabaseSync(join(dataDir, `${service}.sqlite`));
          try {
            db.prepare(statement).run(...params);
          } finally {
            db.close();
          }
        },
        dispose: () => rm(dataDir, { recursive: true, force: true }),
      };
    },
  };
}

/** A new database on the test server; its URL and a way to drop it. */
export async function createMysqlDatabase(): Promise<{ name: string; url: string; drop(): Promise<void> }> {
  const name = `selfless_${randomBytes(6).toString('hex')}`;
  const admin = await createConnection(mysqlTestUrl);
  try {
    await admin.query(`create database \`${name}\` character set utf8mb4 collate utf8mb4_bin`);
  } finally {
    await admin.end();
  }
  return {
    name,
    url: `${mysqlTestUrl.replace(/\/+$/, '')}/${name}`,
    async drop() {
      const conn = await createConnection(mysqlTestUrl);
      try {
        await conn.query(`drop database if exists \`${name}\``);
      } finally {
        await conn.end();
      }
    },
  };
}

export async function mariadbBackend(): Promise<Backend> {
  return {
    name: 'MariaDB',
    skip: skipUnless(await mysqlAvailable(), 'MariaDB'),
    async fresh() {
      const database = await createMysqlDatabase();
      return {
        storage: { dataDir: tmpdir(), databaseUrl: database.url },
        async peek(_service, table) {
          const conn = await createConnection(database.url);
          try {
            const [rows] = await conn.query(`select * from \`${table}\``);
            return rows as Record<string, unknown>[];
          } finally {
            await conn.end();
          }
        },
        async write(_service, statement, params) {
          const conn = await createConnection(database.url);
          try {
            await conn.execute(statement, params);
          } finally {
            await conn.end();
          }
        },
        dispose: () => database.drop(),
      };
    },
  };
}

/** A fresh database reached through a TCP proxy the test can cut and restore (an outage). */
export async function mysqlBehindProxy(): Promise<{ url: string; proxy: TcpProxy; dispose(): Promise<void> }> {
  const database = await createMysqlDatabase();
  const target = new URL(mysqlTestUrl);
  const proxy = await tcpProxy(target.hostname, Number(target.port || 3306));
  const viaProxy = new URL(database.url);
  viaProxy.host = `127.0.0.1:${proxy.port}`;
  return {
    url: viaProxy.toString(),
    proxy,
    async dispose() {
      await proxy.stop();
      await database.drop();
    },
  };
}
