// The acts table and their images. An act and its image parts land in one transaction, and
// the act row is inserted with INSERT ... SELECT from its category, so an upload racing a
// category delete either lands before it (and is deleted with it) or finds no category.
import { sql, type Kysely } from 'kysely';
import { isDeadlock, isUniqueViolation } from '../db/errors.ts';
import { keyOf } from '../db/keys.ts';
import type { ActsSchema } from '../db/schema.ts';
import { contentTypeOf, etagOf } from './images.ts';
import { nextActId } from './values.ts';

export interface NewAct {
  actId: string;
  username: string;
  timestamp: string;
  sortKey: string;
  caption: string;
  categoryName: string;
  image: Buffer;
}

export interface StoredAct {
  actId: string;
  username: string;
  timestamp: string;
  caption: string;
  upvotes: number;
  categoryName: string;
  image: Buffer;
}

/** Which acts a listing covers. */
export type ActsFilter = { categoryId: number } | { username: string } | 'all';

export type InsertOutcome = 'inserted' | 'act-id-taken' | 'no-category';

export interface ImageMeta {
  type: string;
  etag: string;
}

const IMAGE_PART_BYTES = 1024 * 1024;
const MAX_ID_ATTEMPTS = 20;
const MAX_DEADLOCK_RETRIES = 5;

export class ActsStore {
  constructor(private readonly db: Kysely<ActsSchema>) {}

  private filtered(filter: ActsFilter) {
    const query = this.db.selectFrom('acts');
    if (filter === 'all') return query;
    if ('categoryId' in filter) return query.where('acts.category_id', '=', filter.categoryId);
    return query.where('acts.username_hash', '=', keyOf(filter.username));
  }

  async count(filter: ActsFilter): Promise<number> {
    const row = await this.filtered(filter).select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow();
    return Number(row.n);
  }

  /** Newest first by timestamp, then latest upload first. */
  async list(filter: ActsFilter, offset: number, limit: number): Promise<StoredAct[]> {
    const rows = await this.filtered(filter)
      .innerJoin('categories', 'categories.id', 'acts.category_id')
      .select(['acts.seq', 'acts.act_id', 'acts.username', 'acts.timestamp', 'acts.caption', 'acts.upvotes', 'categories.name'])
      .orderBy('acts.sort_key', 'desc')
      .orderBy('acts.seq', 'desc')
      .limit(limit)
      .offset(offset)
      .execute();
    const images = await this.imagesOf(rows.map((row) => row.seq));
    return rows.map((row) => ({
      actId: row.act_id,
      username: row.username,
      timestamp: row.timestamp,
      caption: row.caption,
      upvotes: Number(row.upvotes),
      categoryName: row.name,
      image: images.get(row.seq) ?? Buffer.alloc(0),
    }));
  }

  private async imagesOf(seqs: number[]): Promise<Map<number, Buffer>> {
    const images = new Map<number, Buffer>();
    if (seqs.length === 0) return images;
    const parts = await this.db
      .selectFrom('act_images')
      .select(['act_seq', 'bytes'])
      .where('act_seq', 'in', seqs)
      .orderBy('act_seq')
      .orderBy('part')
      .execute();
    const grouped = new Map<number, Buffer[]>();
    for (const part of parts) {
      const list = grouped.get(part.act_seq) ?? [];
      list.push(Buffer.from(part.bytes));
      grouped.set(part.act_seq, list);
    }
    for (const [seq, list] of grouped) images.set(seq, Buffer.concat(list));
    return images;
  }

  async insert(act: NewAct): Promise<InsertOutcome> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.insertOnce(act);
      } catch (err) {
        if (isUniqueViolation(err)) return 'act-id-taken';
        // InnoDB rolls back one of two inserts racing for the same key; nothing of it
        // remains, so it can simply go again (and will then see the key taken).
        if (isDeadlock(err) && attempt < MAX_DEADLOCK_RETRIES) continue;
        throw err;
      }
    }
  }

  private insertOnce(act: NewAct): Promise<InsertOutcome> {
    return this.db.transaction().execute(async (trx) => {
      const inserted = await trx
        .insertInto('acts')
        .columns(['act_id', 'act_id_hash', 'username', 'username_hash', 'timestamp', 'sort_key', 'caption', 'image_type', 'image_etag', 'category_id'])
        .expression(
          trx
            .selectFrom('categories')
            .select([
              sql<string>`${act.actId}`.as('act_id'),
              sql<string>`${keyOf(act.actId)}`.as('act_id_hash'),
              sql<string>`${act.username}`.as('username'),
              sql<string>`${keyOf(act.username)}`.as('username_hash'),
              sql<string>`${act.timestamp}`.as('timestamp'),
              sql<string>`${act.sortKey}`.as('sort_key'),
              sql<string>`${act.caption}`.as('caption'),
              sql<string>`${contentTypeOf(act.image)}`.as('image_type'),
              sql<string>`${etagOf(act.image)}`.as('image_etag'),
              'categories.id',
            ])
            .where('categories.name_hash', '=', keyOf(act.categoryName)),
        )
        .executeTakeFirst();
      if (Number(inserted.numInsertedOrUpdatedRows ?? 0) === 0) return 'no-category';
      const seq = Number(inserted.insertId);
      for (let offset = 0, part = 0; offset < act.image.length || part === 0; offset += IMAGE_PART_BYTES, part++) {
        const bytes = act.image.subarray(offset, offset + IMAGE_PART_BYTES);
        await trx.insertInto('act_images').values({ act_seq: seq, part, bytes }).execute();
      }
      return 'inserted';
    });
  }

  /**
   * Inserts with the next free actId (largest + 1). Concurrent uploads race for it; a loser
   * tries again a random few ids further on, so a crowd spreads out instead of colliding
   * on the same id round after round.
   */
  async insertWithNextId(act: Omit<NewAct, 'actId'>): Promise<{ result: Exclude<InsertOutcome, 'act-id-taken'>; actId: string }> {
    for (let attempt = 0; attempt < MAX_ID_ATTEMPTS; attempt++) {
      const last = await this.db
        .selectFrom('acts')
        .select('act_id')
        .orderBy(sql`length(act_id)`, 'desc')
        .orderBy('act_id', 'desc')
        .limit(1)
        .executeTakeFirst();
      const actId = nextActId(last?.act_id, Math.floor(Math.random() * attempt * 2));
      const result = await this.insert({ ...act, actId });
      if (result !== 'act-id-taken') return { result, actId };
    }
    throw new Error(`no free actId after ${MAX_ID_ATTEMPTS} attempts`);
  }

  async exists(actId: string): Promise<boolean> {
    return (await this.seqOf(actId)) !== undefined;
  }

  private async seqOf(actId: string): Promise<number | undefined> {
    const row = await this.db.selectFrom('acts').select('seq').where('act_id_hash', '=', keyOf(actId)).executeTakeFirst();
    return row?.seq;
  }

  /** One atomic increment in the database: concurrent upvotes all count. */
  async upvote(actId: string): Promise<boolean> {
    const result = await this.db
      .updateTable('acts')
      .set({ upvotes: sql<number>`upvotes + 1` })
      .where('act_id_hash', '=', keyOf(actId))
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  async remove(actId: string): Promise<boolean> {
    const seq = await this.seqOf(actId);
    if (seq === undefined) return false;
    return this.db.transaction().execute(async (trx) => {
      const deleted = await trx.deleteFrom('acts').where('seq', '=', seq).executeTakeFirst();
      await trx.deleteFrom('act_images').where('act_seq', '=', seq).execute();
      return Number(deleted.numDeletedRows) > 0;
    });
  }

  async imageMeta(actId: string): Promise<(ImageMeta & { seq: number }) | undefined> {
    const row = await this.db
      .selectFrom('acts')
      .select(['seq', 'image_type', 'image_etag'])
      .where('act_id_hash', '=', keyOf(actId))
      .executeTakeFirst();
    return row && { seq: row.seq, type: row.image_type, etag: row.image_etag };
  }

  async imageBytes(seq: number): Promise<Buffer> {
    return (await this.imagesOf([seq])).get(seq) ?? Buffer.alloc(0);
  }

  async probe(): Promise<void> {
    await this.db.updateTable('acts_health').set({ checked_at: Date.now() }).where('id', '=', 1).execute();
    const row = await this.db.selectFrom('acts_health').select('checked_at').where('id', '=', 1).executeTakeFirst();
    if (row === undefined) throw new Error('health row missing');
  }
}
