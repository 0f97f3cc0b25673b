// The acts table and their images. An act and its image parts land in one transaction, and
// the act row is inserted with INSERT ... SELECT from its category, so an upload racing a
// category delete either lands before it (and is deleted with it) or finds no category.
import { sql, type Kysely } from 'kysely';
import { isDeadlock, isUniqueViolation } from '../db/errors.ts';
import { keyOf } from '../db/keys.ts';
import type { ActsSchema } from '../db/schema.ts';
import { contentTypeOf, etagOf } from './images.ts';
import { nextActId } from './values.ts';
import { variantName, type Rendition } from './variants.ts';

export interface NewAct {
  actId: string;
  username: string;
  /** The account storing it (db/keys.ts accountKey): who may remove it. */
  ownerKey: string;
  timestamp: string;
  sortKey: string;
  caption: string;
  categoryName: string;
  image: Buffer;
  /** The image's sized copies, when it is an image sharp reads. */
  rendition?: Rendition;
  /** What the photo shows, for people who cannot see it (row 17's `alt`); '' or absent: none. */
  altText?: string;
}

/** What a page needs to show an act's photo without its bytes (the card view of a listing). */
export interface ImageInfo {
  type: string;
  /**
   * The image's content hash, first 16 hex digits: part of every variant's URL, so a new image under a reused actId is
   * a new URL.
   */
  version: string;
  width: number | null;
  height: number | null;
  /** Variant widths, ascending; empty when the page must show the original. */
  widths: number[];
  /** What the photo shows, as its uploader described it; '' when they did not. */
  alt: string;
}

/** An act in a listing; its image is read part by part as it is written out (act-json.ts). */
export interface ListedAct {
  seq: number;
  actId: string;
  username: string;
  timestamp: string;
  caption: string;
  upvotes: number;
  categoryName: string;
  image: ImageInfo;
}

/** Which acts a listing covers. */
export type ActsFilter = { categoryId: number } | { username: string } | 'all';

/**
 * How a card listing is ordered and narrowed (extension): newest first (the contract's order) or
 * the most upvoted first; `search`, words every act listed has in its caption, its author's name
 * or its category's name (each word somewhere, case aside for ASCII).
 */
export interface ListingOptions {
  order: 'newest' | 'popular';
  search: string[];
}

export const NEWEST: ListingOptions = { order: 'newest', search: [] };

/** A word as a LIKE pattern matching it anywhere, with `!` escaping LIKE's own characters. */
function containing(word: string): string {
  return `%${word.toLowerCase().replace(/[!%_]/g, (c) => `!${c}`)}%`;
}

export type InsertOutcome = 'inserted' | 'act-id-taken' | 'no-category';

export type RemoveOutcome = 'removed' | 'no-act' | 'not-yours';

export interface ImageMeta {
  type: string;
  etag: string;
}

const IMAGE_PART_BYTES = 1024 * 1024;

const LISTED_COLUMNS = [
  'acts.seq',
  'acts.act_id',
  'acts.username',
  'acts.timestamp',
  'acts.caption',
  'acts.upvotes',
  'acts.image_type',
  'acts.image_etag',
  'acts.image_width',
  'acts.image_height',
  'acts.variant_widths',
  'acts.alt_text',
  'categories.name',
] as const;

interface ListedRow {
  seq: number;
  act_id: string;
  username: string;
  timestamp: string;
  caption: string;
  upvotes: number | string;
  image_type: string;
  image_etag: string;
  image_width: number | null;
  image_height: number | null;
  variant_widths: string | null;
  alt_text: string;
  name: string;
}

function listedAct(row: ListedRow): ListedAct {
  return {
    seq: row.seq,
    actId: row.act_id,
    username: row.username,
    timestamp: row.timestamp,
    caption: row.caption,
    upvotes: Number(row.upvotes),
    categoryName: row.name,
    image: {
      type: row.image_type,
      version: row.image_etag.slice(0, 16),
      width: row.image_width === null ? null : Number(row.image_width),
      height: row.image_height === null ? null : Number(row.image_height),
      widths: row.variant_widths ? row.variant_widths.split(',').map(Number) : [],
      alt: row.alt_text,
    },
  };
}
const MAX_ID_ATTEMPTS = 20;
const MAX_DEADLOCK_RETRIES = 5;

export class ActsStore {
  constructor(private readonly db: Kysely<ActsSchema>) {}

  private filtered(filter: ActsFilter, search: readonly string[]) {
    let query = this.db.selectFrom('acts').innerJoin('categories', 'categories.id', 'acts.category_id');
    if (filter !== 'all') {
      query =
        'categoryId' in filter
          ? query.where('acts.category_id', '=', filter.categoryId)
          : query.where('acts.username_hash', '=', keyOf(filter.username));
    }
    for (const word of search) {
      const pattern = containing(word);
      query = query.where(
        sql<boolean>`(lower(acts.caption) like ${pattern} escape '!' or lower(acts.username) like ${pattern} escape '!' or lower(categories.name) like ${pattern} escape '!')`,
      );
    }
    return query;
  }

  async count(filter: ActsFilter, options: ListingOptions = NEWEST): Promise<number> {
    const row = await this.filtered(filter, options.search)
      .select((eb) => eb.fn.countAll().as('n'))
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  /**
   * Newest first by timestamp, then latest upload first; or, `popular`, the most upvoted first,
   * newest among equals. Images not included.
   */
  async list(
    filter: ActsFilter,
    offset: number,
    limit: number,
    options: ListingOptions = NEWEST,
  ): Promise<ListedAct[]> {
    let query = this.filtered(filter, options.search).select(LISTED_COLUMNS);
    if (options.order === 'popular') query = query.orderBy('acts.upvotes', 'desc');
    const rows = await query
      .orderBy('acts.sort_key', 'desc')
      .orderBy('acts.seq', 'desc')
      .limit(limit)
      .offset(offset)
      .execute();
    return rows.map(listedAct);
  }

  /** One act as a listing shows it, or undefined. */
  async one(actId: string): Promise<ListedAct | undefined> {
    const row = await this.db
      .selectFrom('acts')
      .innerJoin('categories', 'categories.id', 'acts.category_id')
      .select(LISTED_COLUMNS)
      .where('acts.act_id_hash', '=', keyOf(actId))
      .executeTakeFirst();
    return row && listedAct(row);
  }

  /** A variant's size and parts (parts 0: no such variant, or the act is gone). */
  async variantSize(seq: number, name: string): Promise<{ bytes: number; parts: number }> {
    const row = await this.db
      .selectFrom('act_variants')
      .select((eb) => [eb.fn.countAll().as('parts'), eb.fn.sum<number | string | null>(sql`length(bytes)`).as('bytes')])
      .where('act_seq', '=', seq)
      .where('name', '=', name)
      .executeTakeFirstOrThrow();
    return { bytes: Number(row.bytes ?? 0), parts: Number(row.parts) };
  }

  async variantPart(seq: number, name: string, part: number): Promise<Buffer | undefined> {
    const row = await this.db
      .selectFrom('act_variants')
      .select('bytes')
      .where('act_seq', '=', seq)
      .where('name', '=', name)
      .where('part', '=', part)
      .executeTakeFirst();
    return row && Buffer.from(row.bytes);
  }

  /**
   * One stored part of an act's image (parts are IMAGE_PART_BYTES, the last one shorter), or
   * undefined past the last part or when the act is gone. Read one at a time, so a listing
   * or an image holds one part in memory, whatever the images' sizes.
   */
  async imagePart(seq: number, part: number): Promise<Buffer | undefined> {
    const row = await this.db
      .selectFrom('act_images')
      .select('bytes')
      .where('act_seq', '=', seq)
      .where('part', '=', part)
      .executeTakeFirst();
    return row && Buffer.from(row.bytes);
  }

  /** The image's size in bytes and number of parts; parts 0 when the act is gone. */
  async imageSize(seq: number): Promise<{ bytes: number; parts: number }> {
    const row = await this.db
      .selectFrom('act_images')
      .select((eb) => [eb.fn.countAll().as('parts'), eb.fn.sum<number | string | null>(sql`length(bytes)`).as('bytes')])
      .where('act_seq', '=', seq)
      .executeTakeFirstOrThrow();
    return { bytes: Number(row.bytes ?? 0), parts: Number(row.parts) };
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
    const rendition = act.rendition;
    const widths = rendition
      ? [...new Set(rendition.variants.map((v) => v.width))].sort((a, b) => a - b).join(',')
      : null;
    return this.db.transaction().execute(async (trx) => {
      const inserted = await trx
        .insertInto('acts')
        .columns([
          'act_id',
          'act_id_hash',
          'username',
          'username_hash',
          'owner_key',
          'timestamp',
          'sort_key',
          'caption',
          'image_type',
          'image_etag',
          'image_width',
          'image_height',
          'variant_widths',
          'alt_text',
          'category_id',
        ])
        .expression(
          trx
            .selectFrom('categories')
            .select([
              sql<string>`${act.actId}`.as('act_id'),
              sql<string>`${keyOf(act.actId)}`.as('act_id_hash'),
              sql<string>`${act.username}`.as('username'),
              sql<string>`${keyOf(act.username)}`.as('username_hash'),
              sql<string>`${act.ownerKey}`.as('owner_key'),
              sql<string>`${act.timestamp}`.as('timestamp'),
              sql<string>`${act.sortKey}`.as('sort_key'),
              sql<string>`${act.caption}`.as('caption'),
              sql<string>`${contentTypeOf(act.image)}`.as('image_type'),
              sql<string>`${etagOf(act.image)}`.as('image_etag'),
              sql<number | null>`${rendition?.width ?? null}`.as('image_width'),
              sql<number | null>`${rendition?.height ?? null}`.as('image_height'),
              sql<string | null>`${widths}`.as('variant_widths'),
              sql<string>`${act.altText ?? ''}`.as('alt_text'),
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
      for (const variant of rendition?.variants ?? []) {
        const name = variantName(variant.width, variant.format);
        for (let offset = 0, part = 0; offset < variant.bytes.length; offset += IMAGE_PART_BYTES, part++) {
          const bytes = variant.bytes.subarray(offset, offset + IMAGE_PART_BYTES);
          await trx.insertInto('act_variants').values({ act_seq: seq, name, part, bytes }).execute();
        }
      }
      return 'inserted';
    });
  }

  /**
   * Inserts with the next free actId (largest + 1). Concurrent uploads race for it; a loser
   * tries again a random few ids further on, so a crowd spreads out instead of colliding
   * on the same id round after round.
   */
  async insertWithNextId(
    act: Omit<NewAct, 'actId'>,
  ): Promise<{ result: Exclude<InsertOutcome, 'act-id-taken'>; actId: string }> {
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

  /** An act's row and the account that stored it, or undefined. */
  async ownerOf(actId: string): Promise<{ seq: number; ownerKey: string } | undefined> {
    const row = await this.db
      .selectFrom('acts')
      .select(['seq', 'owner_key'])
      .where('act_id_hash', '=', keyOf(actId))
      .executeTakeFirst();
    return row && { seq: row.seq, ownerKey: row.owner_key };
  }

  async seqOf(actId: string): Promise<number | undefined> {
    return (await this.ownerOf(actId))?.seq;
  }

  /**
   * Removes the act, its image and its upvotes in one transaction. With `byAccount` (an
   * account key), only an act that account stored (owner mode); the check and the delete see
   * the same row.
   */
  async remove(actId: string, byAccount?: string): Promise<RemoveOutcome> {
    return this.db.transaction().execute(async (trx) => {
      const act = await trx
        .selectFrom('acts')
        .select(['seq', 'owner_key'])
        .where('act_id_hash', '=', keyOf(actId))
        .executeTakeFirst();
      if (act === undefined) return 'no-act';
      if (byAccount !== undefined && act.owner_key !== byAccount) return 'not-yours';
      const deleted = await trx.deleteFrom('acts').where('seq', '=', act.seq).executeTakeFirst();
      // A concurrent removal got there first (MySQL's plain read above does not lock the row).
      if (Number(deleted.numDeletedRows) === 0) return 'no-act';
      await trx.deleteFrom('act_images').where('act_seq', '=', act.seq).execute();
      await trx.deleteFrom('act_variants').where('act_seq', '=', act.seq).execute();
      await trx.deleteFrom('act_upvotes').where('act_seq', '=', act.seq).execute();
      await trx.deleteFrom('act_comments').where('act_seq', '=', act.seq).execute();
      return 'removed';
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

  async probe(): Promise<void> {
    await this.db.updateTable('acts_health').set({ checked_at: Date.now() }).where('id', '=', 1).execute();
    const row = await this.db.selectFrom('acts_health').select('checked_at').where('id', '=', 1).executeTakeFirst();
    if (row === undefined) throw new Error('health row missing');
  }
}
