// The categories table, and removing a category together with its acts.
import type { Kysely } from 'kysely';
import { isUniqueViolation } from '../db/errors.ts';
import { keyOf } from '../db/keys.ts';
import type { ActsSchema } from '../db/schema.ts';

export class CategoriesStore {
  constructor(private readonly db: Kysely<ActsSchema>) {}

  /** [name, number of acts], oldest category first. */
  async listWithCounts(): Promise<[string, number][]> {
    const rows = await this.db
      .selectFrom('categories')
      .select((eb) => [
        'categories.name',
        eb
          .selectFrom('acts')
          .select(eb.fn.countAll().as('n'))
          .whereRef('acts.category_id', '=', 'categories.id')
          .as('act_count'),
      ])
      .orderBy('categories.id')
      .execute();
    return rows.map((row) => [row.name, Number(row.act_count)]);
  }

  /**
   * An existing category whose name differs from `name` only in case ("Animals" beside
   * "animals"), or undefined. Categories are few and created rarely: read them all rather than
   * keep a folded column every backend would have to agree on.
   */
  async sameButCase(name: string): Promise<string | undefined> {
    const folded = foldCase(name);
    const rows = await this.db.selectFrom('categories').select('name').execute();
    return rows.find((row) => foldCase(row.name) === folded)?.name;
  }

  /** false when the name is taken. */
  async create(name: string): Promise<boolean> {
    try {
      await this.db
        .insertInto('categories')
        .values({ name, name_hash: keyOf(name) })
        .execute();
      return true;
    } catch (err) {
      if (isUniqueViolation(err)) return false;
      throw err;
    }
  }

  async idOf(name: string): Promise<number | undefined> {
    const row = await this.db
      .selectFrom('categories')
      .select('id')
      .where('name_hash', '=', keyOf(name))
      .executeTakeFirst();
    return row?.id;
  }

  /**
   * Removes the category with its acts (their images and upvotes too) in one transaction.
   * With `byAccount` (owner mode: an account key), only while it holds no acts of any other
   * account (a later holder of a name is another account): checked after the
   * category's row is deleted, that is locked, so no upload into it can land in between (an
   * upload inserts with INSERT ... SELECT on that row: it waits, then finds no category, or
   * finds it again if this transaction rolls back).
   */
  async remove(name: string, byAccount?: string): Promise<'removed' | 'no-category' | 'not-yours'> {
    const id = await this.idOf(name);
    if (id === undefined) return 'no-category';
    try {
      return await this.db.transaction().execute(async (trx) => {
        const deleted = await trx.deleteFrom('categories').where('id', '=', id).executeTakeFirst();
        if (Number(deleted.numDeletedRows) === 0) return 'no-category';
        if (byAccount !== undefined) {
          const others = await trx
            .selectFrom('acts')
            .select('seq')
            .where('category_id', '=', id)
            .where('owner_key', '<>', byAccount)
            .limit(1)
            .executeTakeFirst();
          if (others !== undefined) throw new CategoryNotYours();
        }
        const seqs = trx.selectFrom('acts').select('seq').where('category_id', '=', id);
        await trx.deleteFrom('act_images').where('act_seq', 'in', seqs).execute();
        await trx.deleteFrom('act_variants').where('act_seq', 'in', seqs).execute();
        await trx.deleteFrom('act_upvotes').where('act_seq', 'in', seqs).execute();
        await trx.deleteFrom('acts').where('category_id', '=', id).execute();
        return 'removed';
      });
    } catch (err) {
      if (err instanceof CategoryNotYours) return 'not-yours';
      throw err;
    }
  }
}

/** Rolls the removal back: the category holds someone else's acts. */
class CategoryNotYours extends Error {}

/** Case folded as people read names: full Unicode lower case of the NFC form ("Straße", "STRASSE" stay apart). */
export function foldCase(name: string): string {
  return name.normalize('NFC').toLowerCase();
}
