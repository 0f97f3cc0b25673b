// The acts service's tables. Append new migrations; never edit one that has shipped.
// No foreign key to users: that table belongs to another service (maybe another database).
import type { Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';
import type { DialectName } from '../connect.ts';
import { columnsFor } from './columns.ts';

export function actsMigrations(dialect: DialectName): Record<string, Migration> {
  const c = columnsFor(dialect);
  return {
    '0001_categories_and_acts': {
      async up(db: Kysely<any>) {
        await c
          .table(db.schema.createTable('categories'))
          .addColumn('id', 'integer', (col) => col.primaryKey().autoIncrement())
          .addColumn('name', c.text, (col) => col.notNull())
          .addColumn('name_hash', 'char(64)', (col) => col.notNull().unique())
          .execute();
        await c
          .table(db.schema.createTable('acts'))
          .addColumn('seq', 'integer', (col) => col.primaryKey().autoIncrement())
          .addColumn('act_id', c.text, (col) => col.notNull())
          .addColumn('act_id_hash', 'char(64)', (col) => col.notNull().unique())
          .addColumn('username', c.text, (col) => col.notNull())
          .addColumn('username_hash', 'char(64)', (col) => col.notNull())
          .addColumn('timestamp', 'char(19)', (col) => col.notNull())
          .addColumn('sort_key', 'char(14)', (col) => col.notNull())
          .addColumn('caption', c.text, (col) => col.notNull())
          .addColumn('upvotes', 'bigint', (col) => col.notNull().defaultTo(0))
          .addColumn('category_id', 'integer', (col) => col.notNull())
          .addColumn('image_type', 'varchar(64)', (col) => col.notNull())
          .addColumn('image_etag', 'char(64)', (col) => col.notNull())
          .execute();
        // Image bytes in parts: MySQL refuses any statement over max_allowed_packet (16 MiB
        // by default), and a query's bytes are sent hex-escaped, so one big image in one
        // INSERT would not fit. Parts of 1 MiB fit any sensible server setting.
        await c
          .table(db.schema.createTable('act_images'))
          .addColumn('act_seq', 'integer', (col) => col.notNull())
          .addColumn('part', 'integer', (col) => col.notNull())
          .addColumn('bytes', c.bytes, (col) => col.notNull())
          .addPrimaryKeyConstraint('act_images_pk', ['act_seq', 'part'])
          .execute();
        // Each listing reads one of these in order: a category's, everyone's, one user's.
        await db.schema
          .createIndex('acts_by_category')
          .on('acts')
          .columns(['category_id', 'sort_key', 'seq'])
          .execute();
        await db.schema.createIndex('acts_by_time').on('acts').columns(['sort_key', 'seq']).execute();
        await db.schema.createIndex('acts_by_user').on('acts').columns(['username_hash', 'sort_key', 'seq']).execute();
        await c
          .table(db.schema.createTable('acts_health'))
          .addColumn('id', 'integer', (col) => col.primaryKey())
          .addColumn('checked_at', 'bigint', (col) => col.notNull())
          .execute();
        await db.insertInto('acts_health').values({ id: 1, checked_at: 0 }).execute();
      },
    },
    // Owner mode counts an upvote once per user (docs/api-notes.md): who upvoted what. acts.upvotes
    // stays the count every listing reads; open mode's anonymous upvotes add no rows here.
    '0002_upvotes_by_user': {
      async up(db: Kysely<any>) {
        await c
          .table(db.schema.createTable('act_upvotes'))
          .addColumn('act_seq', 'integer', (col) => col.notNull())
          .addColumn('username_hash', 'char(64)', (col) => col.notNull())
          .addPrimaryKeyConstraint('act_upvotes_pk', ['act_seq', 'username_hash'])
          .execute();
        // "Which of these acts did I upvote?" for a page of a listing.
        await db.schema
          .createIndex('act_upvotes_by_user')
          .on('act_upvotes')
          .columns(['username_hash', 'act_seq'])
          .execute();
      },
    },
    // Sized copies of each photo for listings (acts/variants.ts), in parts like the originals
    // (MariaDB's max_allowed_packet); the upright size lets the page reserve each photo's place.
    // Acts stored before this have none (nulls) and are shown from their original.
    '0003_image_variants': {
      async up(db: Kysely<any>) {
        await db.schema.alterTable('acts').addColumn('image_width', 'integer').execute();
        await db.schema.alterTable('acts').addColumn('image_height', 'integer').execute();
        await db.schema.alterTable('acts').addColumn('variant_widths', 'varchar(128)').execute();
        await c
          .table(db.schema.createTable('act_variants'))
          .addColumn('act_seq', 'integer', (col) => col.notNull())
          .addColumn('name', 'varchar(16)', (col) => col.notNull())
          .addColumn('part', 'integer', (col) => col.notNull())
          .addColumn('bytes', c.bytes, (col) => col.notNull())
          .addPrimaryKeyConstraint('act_variants_pk', ['act_seq', 'name', 'part'])
          .execute();
      },
    },
    // The account that owns each act (db/keys.ts accountKey), besides its name: a name
    // registered again is another account and owns nothing here. Acts stored before were
    // stored by generation 0 of their name, whose key is the name's: username_hash.
    // act_upvotes.username_hash holds the voter's account key from here on (the same value for
    // generation 0).
    '0004_owner_keys': {
      async up(db: Kysely<any>) {
        await db.schema
          .alterTable('acts')
          .addColumn('owner_key', 'char(64)', (col) => col.notNull().defaultTo(''))
          .execute();
        await db
          .updateTable('acts')
          .set((eb) => ({ owner_key: eb.ref('username_hash') }))
          .execute();
      },
    },
    // A description of each photo for people who cannot see it (row 17's optional `alt`); ''
    // when none was given, and the page then describes it from its caption.
    '0005_alt_text': {
      async up(db: Kysely<any>) {
        await db.schema
          .alterTable('acts')
          .addColumn('alt_text', 'varchar(1000)', (col) => col.notNull().defaultTo(''))
          .execute();
      },
    },
    // Comments on acts (acts/comments-store.ts), read per act, oldest first.
    '0006_comments': {
      async up(db: Kysely<any>) {
        await c
          .table(db.schema.createTable('act_comments'))
          .addColumn('seq', 'integer', (col) => col.primaryKey().autoIncrement())
          .addColumn('act_seq', 'integer', (col) => col.notNull())
          .addColumn('username', c.text, (col) => col.notNull())
          .addColumn('author_key', 'char(64)', (col) => col.notNull())
          .addColumn('text', c.text, (col) => col.notNull())
          .addColumn('created_at', 'bigint', (col) => col.notNull())
          .execute();
        await db.schema.createIndex('act_comments_by_act').on('act_comments').columns(['act_seq', 'seq']).execute();
      },
    },
  };
}
