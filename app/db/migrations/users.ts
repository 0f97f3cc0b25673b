// The users service's tables. Append new migrations; never edit one that has shipped.
import type { Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';
import type { DialectName } from '../connect.ts';
import { columnsFor } from './columns.ts';

export function usersMigrations(dialect: DialectName): Record<string, Migration> {
  const c = columnsFor(dialect);
  return {
    '0001_users': {
      async up(db: Kysely<any>) {
        await c
          .table(db.schema.createTable('users'))
          .addColumn('seq', 'integer', (col) => col.primaryKey().autoIncrement())
          .addColumn('username', c.text, (col) => col.notNull())
          .addColumn('username_hash', 'char(64)', (col) => col.notNull().unique())
          .addColumn('password_hash', 'varchar(255)', (col) => col.notNull())
          .execute();
        await c
          .table(db.schema.createTable('users_health'))
          .addColumn('id', 'integer', (col) => col.primaryKey())
          .addColumn('checked_at', 'bigint', (col) => col.notNull())
          .execute();
        await db.insertInto('users_health').values({ id: 1, checked_at: 0 }).execute();
      },
    },
    // Revocable sessions (http/session.ts): '' until the user first logs in.
    '0002_session_keys': {
      async up(db: Kysely<any>) {
        await db.schema
          .alterTable('users')
          .addColumn('session_key', 'varchar(64)', (col) => col.notNull().defaultTo(''))
          .execute();
      },
    },
    // Accounts, not names, own acts and upvotes (db/keys.ts accountKey): a name registered again
    // after its holder was deleted is the next generation. name_generations remembers, per
    // name ever deleted, the last generation that held it.
    '0003_name_generations': {
      async up(db: Kysely<any>) {
        await db.schema
          .alterTable('users')
          .addColumn('generation', 'integer', (col) => col.notNull().defaultTo(0))
          .execute();
        await c
          .table(db.schema.createTable('name_generations'))
          .addColumn('name_hash', 'char(64)', (col) => col.primaryKey())
          .addColumn('generation', 'integer', (col) => col.notNull())
          .execute();
      },
    },
    // Failed log-ins per name (users/login-throttle.ts): the budget's theoretical arrival time
    // (GCRA), in ms since the epoch. Names that are not accounts count too, so a refusal says
    // nothing about whether one exists.
    '0004_login_failures': {
      async up(db: Kysely<any>) {
        await c
          .table(db.schema.createTable('login_failures'))
          .addColumn('name_hash', 'char(64)', (col) => col.primaryKey())
          .addColumn('tat', 'bigint', (col) => col.notNull())
          .execute();
      },
    },
    // A short bio on each profile (users/router.ts, PUT /api/v1/users/{name}/profile).
    '0005_bio': {
      async up(db: Kysely<any>) {
        await db.schema
          .alterTable('users')
          .addColumn('bio', 'varchar(1000)', (col) => col.notNull().defaultTo(''))
          .execute();
      },
    },
    // Avatars (users/avatar.ts): 256 px square copies, WebP and JPEG, by account name.
    '0006_avatars': {
      async up(db: Kysely<any>) {
        await c
          .table(db.schema.createTable('user_avatars'))
          .addColumn('username_hash', 'char(64)', (col) => col.primaryKey())
          .addColumn('version', 'char(16)', (col) => col.notNull())
          .addColumn('webp', c.bytes, (col) => col.notNull())
          .addColumn('jpeg', c.bytes, (col) => col.notNull())
          .execute();
      },
    },
  };
}
