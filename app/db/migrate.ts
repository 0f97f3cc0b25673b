// Runs a service's migrations at start, safely when several replicas start at the same moment.
// MySQL: Kysely's Migrator holds GET_LOCK for the run. SQLite: the run is one BEGIN IMMEDIATE
// transaction (see sqlite-dialect.ts), so a second replica waits for the first one's write
// lock and then finds the migrations done. If it waited longer than busy_timeout it gets
// SQLITE_BUSY; its transaction rolled back whole, so it simply tries again.
import { setTimeout as sleep } from 'node:timers/promises';
import type { Kysely } from 'kysely';
import { Migrator, type Migration } from 'kysely/migration';
import { openStorage, type DialectName, type Storage, type StorageOptions } from './connect.ts';

export interface MigrationSet {
  /** Per-service bookkeeping tables, so two services can share one MySQL database. */
  tablePrefix: string;
  migrations: Record<string, Migration>;
}

const MAX_ATTEMPTS = 10;

async function migrate(db: Kysely<any>, dialect: DialectName, set: MigrationSet): Promise<void> {
  const migrator = new Migrator({
    db,
    provider: { getMigrations: async () => set.migrations },
    migrationTableName: `${set.tablePrefix}_migrations`,
    migrationLockTableName: `${set.tablePrefix}_migrations_lock`,
  });
  for (let attempt = 1; ; attempt++) {
    const { error } = await migrator.migrateToLatest();
    if (error === undefined) return;
    if (dialect !== 'sqlite' || !isBusy(error) || attempt >= MAX_ATTEMPTS) throw error;
    await sleep(20 + Math.random() * 80);
  }
}

function isBusy(err: unknown): boolean {
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' && (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED'));
}

/** Applies a service's migrations to an open database. */
export function migrateStorage(
  db: Kysely<any>,
  dialect: DialectName,
  service: 'users' | 'acts',
  migrations: (dialect: DialectName) => Record<string, Migration>,
): Promise<void> {
  return migrate(db, dialect, { tablePrefix: service, migrations: migrations(dialect) });
}

/** A service's storage with its migrations applied; closed again if they fail. */
export async function openMigratedStorage<Schema>(
  options: StorageOptions,
  service: 'users' | 'acts',
  migrations: (dialect: DialectName) => Record<string, Migration>,
): Promise<Storage<Schema>> {
  const storage = await openStorage<Schema>(options, service);
  try {
    await migrateStorage(storage.db, storage.dialect, service, migrations);
  } catch (err) {
    await storage.close();
    throw err;
  }
  return storage;
}
